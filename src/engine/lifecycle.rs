//! The one stop sequence: dependents before what they depend on, a service's containers at once,
//! each given its service's `pre_stop` hooks and then its grace period before the kill. `down`,
//! `stop` and attached `up` all stop this way; every service whose dependents are done is tried
//! even when another fails, and the first failure is reported. And the restarts `up` owes the
//! dependents of what it recreated.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Result;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use super::observe::ObservedContainer;
use super::{Engine, Reporter, containers, hooks, step};
use crate::plan::Plan;

/// How a stop goes and what it says.
#[derive(Debug, Clone, Copy, Default)]
pub struct StopOptions {
    /// Every container's grace period, instead of its service's `stop_grace_period`.
    pub timeout: Option<Duration>,
    /// Say "Stopped" as the container's last step (false when a removal follows).
    pub last_step: bool,
}

/// Stops `targets`, dependents first, as compose does: a service's containers stop (all at once)
/// as soon as every service that depends on it is done, not when a whole level is, and
/// `after_each` runs for each container once it has stopped (`down` removes it there); a service
/// is done when that has finished for all its containers. A service one of whose dependents
/// failed is left as it is; the first failure is the error. Containers of services the plan does
/// not know go first.
pub async fn stop_in_order<'c, F, Fut>(
    engine: &Engine,
    plan: &Plan,
    targets: &[&'c ObservedContainer],
    opts: StopOptions,
    report: &Reporter,
    after_each: F,
) -> Result<()>
where
    F: Fn(&'c ObservedContainer) -> Fut + Sync,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let failures = std::sync::Mutex::new(Vec::new());
    // Stops (and follows up) `list` at once; true when every one went through.
    let stop_all = |list: Vec<&'c ObservedContainer>| {
        let (failures, after_each) = (&failures, &after_each);
        async move {
            let each = list.into_iter().map(|c| async move {
                stop_one(engine, plan, c, opts, report).await?;
                after_each(c).await
            });
            let mut all = true;
            for result in futures::future::join_all(each).await {
                if let Err(e) = result {
                    failures.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                    all = false;
                }
            }
            all
        }
    };
    let unknown: Vec<&ObservedContainer> = targets
        .iter()
        .copied()
        .filter(|c| !plan.services.contains_key(&c.service))
        .collect();
    if stop_all(unknown).await {
        let mut containers: HashMap<&str, Vec<&'c ObservedContainer>> = HashMap::new();
        for c in targets {
            containers.entry(c.service.as_str()).or_default().push(c);
        }
        let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
        for s in plan.services.values() {
            for dep in s.depends_on.keys() {
                dependents
                    .entry(dep.as_str())
                    .or_default()
                    .push(s.name.as_str());
            }
        }
        // From the top level down, each service's dependents have their futures already.
        let mut done: HashMap<&str, Shared<BoxFuture<'_, bool>>> = HashMap::new();
        for service in plan.levels.iter().rev().flatten() {
            let first: Vec<_> = dependents
                .get(service.as_str())
                .into_iter()
                .flatten()
                .filter_map(|d| done.get(d).cloned())
                .collect();
            let mine = containers.remove(service.as_str()).unwrap_or_default();
            let stop = stop_all(mine);
            let service_done = async move {
                let ready = futures::future::join_all(first).await;
                ready.into_iter().all(|ok| ok) && stop.await
            };
            done.insert(service.as_str(), service_done.boxed().shared());
        }
        futures::future::join_all(done.into_values()).await;
    }
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    super::first_failure(failures).map_or(Ok(()), Err)
}

/// For `stop_in_order` when nothing follows a container's stop.
pub async fn nothing_after(_: &ObservedContainer) -> Result<()> {
    Ok(())
}

/// Stops one container: its service's `pre_stop` hooks, then a stop with its grace period.
/// After a Ctrl-C no new stop begins.
pub async fn stop_one(
    engine: &Engine,
    plan: &Plan,
    c: &ObservedContainer,
    opts: StopOptions,
    report: &Reporter,
) -> Result<()> {
    engine.check_cancelled()?;
    let object = format!("Container {}", c.name);
    let service = plan.services.get(&c.service);
    if let Some(s) = service {
        hooks::before_stop(engine, c, &s.pre_stop, report).await;
    }
    if c.state.needs_stopping() {
        let grace = opts
            .timeout
            .unwrap_or_else(|| service.map_or(Duration::from_secs(10), |s| s.stop_timeout()));
        step(report, &object, "Stopping", false);
        containers::stop(engine, &c.id, &c.name, grace).await?;
    }
    step(report, &object, "Stopped", opts.last_step);
    Ok(())
}

/// Waits until `targets` run (and are healthy, where their service has a healthcheck), as
/// `up --wait` does; `timeout` bounds the wait.
pub async fn wait_up(
    engine: &Engine,
    plan: &Plan,
    targets: &[&ObservedContainer],
    since_nanos: i64,
    timeout: Option<Duration>,
) -> Result<()> {
    let watcher = super::health::Watcher::spawn(engine, &plan.project, since_nanos);
    let list: Vec<(String, String, bool)> = targets
        .iter()
        .map(|c| {
            let checked = plan
                .services
                .get(&c.service)
                .is_some_and(|s| s.has_healthcheck());
            (c.id.clone(), c.name.clone(), checked)
        })
        .collect();
    watcher
        .wait(engine, &list, super::health::Want::Up, timeout)
        .await
}

/// Now, on the clock the health watcher compares the daemon's event times with.
pub fn now_nanos() -> i64 {
    super::health::now_nanos()
}

/// The containers this `up` kept of a service that depends with `restart: true` on one whose
/// containers it recreated are restarted, as compose does (they may hold connections to what
/// went away).
pub async fn restart_dependents_of_recreated(
    engine: &Engine,
    services: &[&crate::plan::ServicePlan],
    actions: &std::collections::HashMap<String, (super::decide::ServiceActions, String)>,
    report: &Reporter,
) -> Result<()> {
    let recreated = |name: &str| {
        actions
            .get(name)
            .is_some_and(|(a, _)| !a.recreate.is_empty())
    };
    let kept = services
        .iter()
        .filter(|s| {
            s.depends_on
                .iter()
                .any(|(dep, d)| d.restart && recreated(dep))
        })
        .flat_map(|s| {
            let grace = s.stop_timeout();
            actions[&s.name].0.keep.iter().map(move |c| (c, grace))
        });
    super::settle_all(kept.map(|(c, grace)| async move {
        step(report, format!("Container {}", c.name), "Restarting", false);
        super::ops::restart(engine, &c.id, grace).await?;
        step(report, format!("Container {}", c.name), "Restarted", true);
        Ok(())
    }))
    .await
    .map(|_| ())
}
