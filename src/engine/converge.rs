//! Convergence: compare the plan with what the daemon holds and make them equal with as little work
//! and waiting as possible. Every service creates its fresh containers at once (creation needs no
//! running dependency); each service then starts as soon as its own dependencies meet their condition.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use futures::future::join_all;
use tokio::sync::{Semaphore, watch};

use super::decide::{self, ServiceActions};
use super::health::{Want, Watcher};
use super::images::{self, ImageOptions};
use super::observe::{self, ObservedContainer};
use super::{Engine, Event, Reporter, containers, resources, step};
use crate::manifest::{Condition, DeferredRefusals};
use crate::plan::{HookPlan, Plan, ServicePlan};

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub force_recreate: bool,
    pub no_recreate: bool,
    pub remove_orphans: bool,
    /// Say nothing of orphans (COMPOSE_IGNORE_ORPHANS).
    pub ignore_orphans: bool,
    pub parallel: usize,
    pub wait: bool,
    pub wait_timeout: Option<Duration>,
    pub images: ImageOptions,
    /// Start the selection's dependencies too and wait for them (false for `--no-deps`).
    pub with_deps: bool,
    /// Start the containers (false for `--no-start`: create them only).
    pub start: bool,
    /// The loader's refusals that wait on inspecting images (see `manifest::DeferredRefusals`).
    pub refusals: Arc<DeferredRefusals>,
    /// A recreated container gets new anonymous volumes instead of its predecessor's (`-V`); the
    /// selected services are recreated.
    pub renew_anon_volumes: bool,
    /// The selected services' dependencies are recreated even when unchanged.
    pub always_recreate_deps: bool,
}

impl UpOptions {
    /// Bring services up without touching what already runs: `scale`, and `run`'s dependencies.
    pub fn recreate_rule(&self, selected: &[String]) -> decide::RecreateRule {
        let force = if self.force_recreate {
            Some("--force-recreate")
        } else {
            self.renew_anon_volumes.then_some("--renew-anon-volumes")
        };
        decide::RecreateRule {
            force,
            force_dependencies: self.always_recreate_deps,
            never: self.no_recreate,
            selected: selected.to_vec(),
        }
    }

    pub fn keep_existing(with_deps: bool) -> Self {
        UpOptions {
            force_recreate: false,
            no_recreate: true,
            remove_orphans: false,
            ignore_orphans: false,
            parallel: 16,
            wait: false,
            wait_timeout: None,
            images: ImageOptions::default(),
            with_deps,
            start: true,
            refusals: Arc::default(),
            renew_anon_volumes: false,
            always_recreate_deps: false,
        }
    }
}

/// A service that did not start because one of its dependencies failed: a consequence, never
/// the cause to report.
#[derive(Debug)]
struct DependencyFailed {
    service: String,
    dependency: String,
}

impl std::fmt::Display for DependencyFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "service {} did not start: its dependency {} failed",
            self.service, self.dependency
        )
    }
}

impl std::error::Error for DependencyFailed {}

/// A container the stack now runs, for attaching logs.
#[derive(Debug, Clone)]
pub struct Running {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
}

/// The services an `up` of `selected` runs: all when none are named, else the named ones and,
/// unless `--no-deps`, what they depend on.
pub fn selection(plan: &Plan, selected: &[String], with_deps: bool) -> Vec<String> {
    if with_deps || selected.is_empty() {
        with_dependencies(plan, selected)
    } else {
        selected.to_vec()
    }
}

/// The selected services plus everything they depend on, transitively.
pub fn with_dependencies(plan: &Plan, selected: &[String]) -> Vec<String> {
    if selected.is_empty() {
        return plan.services.keys().cloned().collect();
    }
    let mut out: Vec<String> = Vec::new();
    let mut todo: Vec<String> = selected.to_vec();
    while let Some(s) = todo.pop() {
        if out.contains(&s) {
            continue;
        }
        if let Some(svc) = plan.services.get(&s) {
            todo.extend(svc.depends_on.keys().cloned());
        }
        out.push(s);
    }
    out.sort();
    out
}

pub async fn up(
    engine: &Engine,
    plan: &Plan,
    selected: &[String],
    opts: &UpOptions,
    report: &Reporter,
) -> Result<Vec<Running>> {
    let selection = selection(plan, selected, opts.with_deps);
    let services: Vec<&ServicePlan> = selection
        .iter()
        .filter_map(|s| plan.services.get(s))
        .collect();
    // What this engine cannot do is refused before anything is created.
    super::preflight::refuse_what_the_engine_cannot_do(engine, &services)?;
    resources::check_networks(engine, plan).await?;
    // Events from before this `up` (a stop just now of a container it starts again) are not news.
    let watcher = Watcher::spawn(engine, &plan.project, super::health::now_nanos());

    // Images first: what can only be refused once they are inspected (a build whose inputs are
    // missing, a wait for health no healthcheck can meet) is refused before anything is made.
    let (image_ids, observed) = tokio::join!(
        images::ensure_refusing(
            engine,
            &plan.project,
            &services,
            opts.images,
            &opts.refusals,
            report
        ),
        observe::containers(engine, &plan.project, true),
    );
    let (image_ids, observed) = (image_ids?, observed?);
    super::preflight::refuse_waits_without_healthcheck(
        engine,
        plan,
        &services,
        &image_ids,
        &opts.refusals,
    )
    .await?;
    // Both run to their end, even when one fails: see `settle_all`.
    let (networks, volumes) = tokio::join!(
        resources::ensure_networks(engine, plan, report),
        resources::ensure_volumes(engine, plan, report),
    );
    let ((), ()) = (networks?, volumes?);
    // One-off containers that have ended go with `--remove-orphans` too, as in compose.
    let (oneoffs, observed): (Vec<ObservedContainer>, Vec<ObservedContainer>) =
        observed.into_iter().partition(|c| c.oneoff);
    let ended_oneoffs = oneoffs.iter().filter(|c| c.state.ended());

    let orphans: Vec<&ObservedContainer> = observed
        .iter()
        .filter(|c| !plan.defines(&c.service))
        .collect();
    let sem_owned = Semaphore::new(opts.parallel.max(1));
    let sem: &Semaphore = &sem_owned;
    if opts.remove_orphans {
        super::settle_all(
            orphans
                .iter()
                .copied()
                .chain(ended_oneoffs)
                .map(|c| stop_and_remove(engine, c, Duration::from_secs(10), &[], sem, report)),
        )
        .await?;
    }
    if !orphans.is_empty() && !opts.remove_orphans && !opts.ignore_orphans {
        let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
        report(Event::Warning(format!(
            "found containers of services no longer in the manifest ({}); run `stackctl up --remove-orphans` to remove them",
            names.join(", ")
        )));
    }

    let actions = decide::all(
        &plan.project,
        &services,
        &image_ids,
        &observed,
        &opts.recreate_rule(selected),
    );

    // Phase 1: scale-downs and every fresh container, all levels at once.
    // A service with `update_config` loses replicas `parallelism` at a time, `delay` apart.
    let removals = actions.iter().map(|(name, (a, _))| async move {
        let svc = &plan.services[name];
        let policy = svc.rolling.as_ref().map(|r| &r.update);
        let batch = policy.map_or(a.remove.len(), |p| p.batch(a.remove.len()));
        for (i, chunk) in a.remove.chunks(batch.max(1)).enumerate() {
            if let Some(p) = policy.filter(|p| i > 0 && !p.delay.is_zero()) {
                tokio::time::sleep(p.delay).await;
            }
            super::settle_all(chunk.iter().map(|c| {
                stop_and_remove(engine, c, svc.stop_timeout(), &svc.pre_stop, sem, report)
            }))
            .await?;
        }
        Ok(())
    });
    super::settle_all(removals).await?;

    // Phase 2, every service at once: create its fresh containers (creation needs no running
    // dependency, so a later level's containers are ready when its turn comes), wait for its
    // dependencies, recreate what changed, start.
    let mut started_tx: HashMap<&str, watch::Sender<Option<bool>>> = HashMap::new();
    let mut started_rx: HashMap<&str, watch::Receiver<Option<bool>>> = HashMap::new();
    for s in &services {
        let (tx, rx) = watch::channel(None);
        started_tx.insert(&s.name, tx);
        started_rx.insert(&s.name, rx);
    }
    let all_running: Vec<Result<Vec<Running>>> = join_all(services.iter().map(|svc| {
        let (a, h) = &actions[&svc.name];
        let tx = started_tx.remove(svc.name.as_str());
        let deps_rx = started_rx.clone();
        let watcher = &watcher;
        async move {
            let result = run_service(
                engine, plan, svc, a, h, &deps_rx, watcher, sem, opts, report,
            )
            .await;
            if let Some(tx) = tx {
                let _ = tx.send(Some(result.is_ok()));
            }
            result
        }
    }))
    .await;
    let mut running = Vec::new();
    let mut errors = Vec::new();
    for r in all_running {
        match r {
            Ok(v) => running.extend(v),
            Err(e) => errors.push(e),
        }
    }
    // Report the root cause, not the dependents that gave up because of it; as it is, so that
    // what decides the exit code (Ctrl-C, a usage error) still does.
    if !errors.is_empty() {
        let root = errors
            .iter()
            .position(|e| !e.is::<DependencyFailed>())
            .unwrap_or(0);
        return Err(errors.swap_remove(root));
    }

    super::lifecycle::restart_dependents_of_recreated(engine, &services, &actions, report).await?;

    if opts.wait {
        // A one-shot service that others wait on with `service_completed_successfully` is done
        // when it exits 0: waiting for it to be running would fail on its success.
        let (one_shots, long_running): (Vec<_>, Vec<_>) = running
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    r.name.clone(),
                    plan.services[&r.service].has_healthcheck(),
                )
            })
            .zip(running.iter())
            .partition(|(_, r)| plan.is_awaited_to_complete(&r.service));
        let one_shots: Vec<_> = one_shots.into_iter().map(|(t, _)| t).collect();
        let long_running: Vec<_> = long_running.into_iter().map(|(t, _)| t).collect();
        for (_, name, _) in one_shots.iter().chain(&long_running) {
            step(report, format!("Container {name}"), "Waiting", false);
        }
        // A service without a restart policy may be a one-shot: exiting 0 is done, not a failure
        // (compose fails it, its issue #10596); exiting otherwise fails with its code.
        let (one_shot_like, restarting): (Vec<_>, Vec<_>) =
            long_running.iter().cloned().partition(|(id, _, _)| {
                running
                    .iter()
                    .find(|r| &r.id == id)
                    .and_then(|r| plan.services.get(&r.service))
                    .is_some_and(|s| matches!(s.restart, None | Some(crate::manifest::Restart::No)))
            });
        tokio::try_join!(
            watcher.wait(engine, &restarting, Want::Up, opts.wait_timeout),
            watcher.wait(engine, &one_shot_like, Want::UpOrDone, opts.wait_timeout),
            watcher.wait(engine, &one_shots, Want::Completed, opts.wait_timeout),
        )?;
        for (_, name, _) in &one_shots {
            step(report, format!("Container {name}"), "Exited", true);
        }
        for (_, name, hc) in &long_running {
            step(
                report,
                format!("Container {name}"),
                if *hc { "Healthy" } else { "Running" },
                true,
            );
        }
    }
    Ok(running)
}

/// The project's networks and volumes, made where missing: what a one-off container of a service
/// needs when none of its dependencies is started (`run --no-deps`, or a service without any).
pub async fn ensure_resources(engine: &Engine, plan: &Plan, report: &Reporter) -> Result<()> {
    resources::check_networks(engine, plan).await?;
    let (networks, volumes) = tokio::join!(
        resources::ensure_networks(engine, plan, report),
        resources::ensure_volumes(engine, plan, report),
    );
    networks.and(volumes)
}

#[allow(clippy::too_many_arguments)]
async fn run_service(
    engine: &Engine,
    plan: &Plan,
    svc: &ServicePlan,
    actions: &ServiceActions,
    hash: &str,
    deps: &HashMap<&str, watch::Receiver<Option<bool>>>,
    watcher: &Watcher,
    sem: &Semaphore,
    opts: &UpOptions,
    report: &Reporter,
) -> Result<Vec<Running>> {
    // A container that joins another service's network namespace or takes its volumes names that
    // service's container at creation: it must exist (be up) first. A failed one is reported below.
    for other in &svc.created_after {
        if let Some(rx) = deps.get(other.as_str()) {
            let _ = rx.clone().wait_for(|v| v.is_some()).await;
        }
    }
    let fresh = super::settle_all(actions.create.iter().map(|n| async move {
        let _permit = sem.acquire().await?;
        let name = svc.container_name(&plan.project, *n);
        let id = containers::create(engine, plan, svc, *n, hash, None).await?;
        step(report, format!("Container {name}"), "Created", false);
        Ok::<_, anyhow::Error>((id, name, *n))
    }))
    .await?;
    let needs_start = opts.start
        && (!fresh.is_empty()
            || !actions.recreate.is_empty()
            || actions.keep.iter().any(|c| !c.running()));
    for (dep, d) in &svc.depends_on {
        let Some(rx) = deps.get(dep.as_str()) else {
            if opts.with_deps && d.required {
                bail!(
                    "service {} depends on {dep}, which is not part of this run",
                    svc.name
                );
            }
            continue;
        };
        let mut rx = rx.clone();
        let ok = *rx
            .wait_for(|v| v.is_some())
            .await
            .map_err(|_| anyhow!("dependency {dep} vanished"))?;
        if ok != Some(true) {
            return Err(DependencyFailed {
                service: svc.name.clone(),
                dependency: dep.clone(),
            }
            .into());
        }
        if !needs_start {
            continue;
        }
        let want = match d.condition {
            Condition::ServiceStarted => continue,
            Condition::ServiceHealthy => Want::Healthy,
            Condition::ServiceCompletedSuccessfully => Want::Completed,
        };
        let dep_plan = &plan.services[dep];
        let mut targets: Vec<(String, String, bool)> =
            observe::containers(engine, &plan.project, true)
                .await?
                .into_iter()
                .filter(|c| c.service == *dep && !c.oneoff)
                .map(|c| (c.id, c.name, dep_plan.has_healthcheck()))
                .collect();
        // No healthcheck in the manifest: the image's own HEALTHCHECK, if it has one, serves.
        if want == Want::Healthy && !dep_plan.has_healthcheck() {
            for (id, name, has_hc) in &mut targets {
                *has_hc = containers::has_own_healthcheck(engine, id).await?;
                if !*has_hc {
                    bail!(
                        "service {} waits for {dep} to be healthy, but neither the manifest nor the image of {name} defines a healthcheck\n  = help: add a `healthcheck:` to {dep}, or use `condition: service_started`",
                        svc.name
                    );
                }
            }
        }
        for (_, name, _) in &targets {
            step(report, format!("Container {name}"), "Waiting", false);
        }
        watcher
            .wait(engine, &targets, want, None)
            .await
            .map_err(|e| {
                anyhow!(
                    "service {} cannot start: dependency {dep} failed: {e:#}",
                    svc.name
                )
            })?;
        for (_, name, _) in &targets {
            step(
                report,
                format!("Container {name}"),
                if want == Want::Healthy {
                    "Healthy"
                } else {
                    "Exited"
                },
                true,
            );
        }
    }

    let mut to_start = fresh;
    // With `update_config`, changed replicas are replaced a batch at a time once the rest have
    // started (see `rolling`); without it, together, as docker compose does.
    let rolling = svc.rolling.as_ref().filter(|_| opts.start);
    let together: &[ObservedContainer] = if rolling.is_some() {
        &[]
    } else {
        &actions.recreate
    };
    let recreated = super::settle_all(together.iter().map(|old| async move {
        stop_and_remove(engine, old, svc.stop_timeout(), &svc.pre_stop, sem, report).await?;
        let _permit = sem.acquire().await?;
        let keep = (!opts.renew_anon_volumes).then_some(old);
        let id = containers::create(engine, plan, svc, old.number, hash, keep).await?;
        step(
            report,
            format!("Container {}", old.name),
            "Recreated",
            false,
        );
        Ok::<_, anyhow::Error>((
            id,
            svc.container_name(&plan.project, old.number),
            old.number,
        ))
    }))
    .await?;
    to_start.extend(recreated);
    let mut running: Vec<Running> = Vec::new();
    for c in &actions.keep {
        if c.running() {
            step(report, format!("Container {}", c.name), "Running", true);
        } else {
            to_start.push((c.id.clone(), c.name.clone(), c.number));
        }
        running.push(Running {
            id: c.id.clone(),
            name: c.name.clone(),
            service: svc.name.clone(),
            number: c.number,
        });
    }
    // pre_start hooks run once, before the first replica starts: not when one already runs.
    if opts.start
        && !svc.pre_start.is_empty()
        && !actions.keep.iter().any(|c| c.running())
        && let Some((first, _, _)) = to_start.iter().min_by_key(|(_, _, n)| *n)
    {
        super::hooks::pre_start(engine, plan, svc, first, report).await?;
    }
    if opts.start {
        super::settle_all(to_start.iter().map(|(id, name, _)| async move {
            let _permit = sem.acquire().await?;
            step(report, format!("Container {name}"), "Starting", false);
            containers::start(engine, id, name).await?;
            if !svc.post_start.is_empty() {
                super::hooks::run(engine, id, name, &svc.post_start, "post_start", report).await?;
            }
            step(report, format!("Container {name}"), "Started", true);
            Ok::<_, anyhow::Error>(())
        }))
        .await?;
    }
    if let Some(policy) = rolling
        && !actions.recreate.is_empty()
    {
        let roll = super::rolling::Roll {
            engine,
            plan,
            svc,
            hash,
            renew_anon_volumes: opts.renew_anon_volumes,
            watcher,
            report,
        };
        let serving =
            super::rolling::update(&roll, &policy.update, &policy.rollback, &actions.recreate)
                .await?;
        to_start.extend(serving);
    }
    let known: Vec<String> = running.iter().map(|r| r.id.clone()).collect();
    running.extend(
        to_start
            .into_iter()
            .filter(|(id, _, _)| !known.contains(id))
            .map(|(id, name, number)| Running {
                id,
                name,
                service: svc.name.clone(),
                number,
            }),
    );
    running.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(running)
}

pub async fn stop_and_remove(
    engine: &Engine,
    c: &ObservedContainer,
    timeout: Duration,
    pre_stop: &[HookPlan],
    sem: &Semaphore,
    report: &Reporter,
) -> Result<()> {
    let _permit = sem.acquire().await?;
    engine.check_cancelled()?;
    let object = format!("Container {}", c.name);
    super::hooks::before_stop(engine, c, pre_stop, report).await;
    if c.state.needs_stopping() {
        step(report, &object, "Stopping", false);
        containers::stop(engine, &c.id, &c.name, timeout).await?;
    }
    engine.check_cancelled()?;
    step(report, &object, "Removing", false);
    containers::remove(engine, &c.id, &c.name, false).await?;
    step(report, &object, "Removed", true);
    Ok(())
}
