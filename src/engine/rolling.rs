//! Rolling updates and restarts on one daemon, as `deploy.update_config` asks: a service's replicas
//! are replaced a batch at a time, each new one serving only once it is up, so a proxy in front of
//! the service never runs out of replicas to send requests to.
//!
//! How the service's name follows the replicas. Docker's embedded DNS answers a service's name
//! with every running container that has it as a network alias, healthy or not, and an alias
//! cannot be added to or removed from a running container's endpoint, only with the endpoint.
//! So a new replica is created *without* its aliases: it is reachable by its own name only, and
//! a proxy resolving the service's name (nginx re-resolves every second) does not find it while it
//! starts. Once it is up (healthy, or running steadily without a healthcheck) it leaves the network
//! and joins it again with its aliases — it has served nobody yet, so nothing is cut — and from
//! then on the name leads to it. An old replica keeps its aliases until it stops: leaving the
//! network would cut the requests it is serving. Its stop signal is the moment it stops taking
//! new work: a server that honours it closes its listening socket at once and finishes what it
//! is serving within the grace period, while a proxy that retries a refused connection on another
//! replica (the shipped nginx does) sends newcomers elsewhere; its address leaves the DNS answer
//! when it has exited. Old replicas are kept, stopped and renamed, until the update succeeds, so
//! that a rollback starts them again rather than rebuilding them.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use bollard::models::{ContainerInspectResponse, NetworkConnectRequest, NetworkDisconnectRequest};
use bollard::query_parameters::{InspectContainerOptions, RenameContainerOptions};
use futures::future::join_all;

use super::health::{Want, Watcher};
use super::observe::ObservedContainer;
use super::{ApiContext, Engine, Reporter, containers, hooks, step};
use crate::manifest::{FailureAction, UpdateOrder};
use crate::plan::rolling::RollPolicy;
use crate::plan::{Plan, ServicePlan};

/// What a rolling change works with.
pub struct Roll<'a> {
    pub engine: &'a Engine,
    pub plan: &'a Plan,
    pub svc: &'a ServicePlan,
    /// The configuration hash new replicas carry.
    pub hash: &'a str,
    /// New replicas get new anonymous volumes instead of sharing the old ones' (`up -V`).
    pub renew_anon_volumes: bool,
    pub watcher: &'a Watcher,
    pub report: &'a Reporter,
}

/// A replica whose replacement is serving; its old container waits, stopped, under `parked`.
struct Swapped {
    old: ObservedContainer,
    parked: String,
    new_id: String,
}

/// Replaces `olds` by new replicas as `policy` says; returns the containers that serve afterwards
/// (id, name, number). On a failure beyond the policy's tolerance the update pauses or rolls
/// back, and the error names the service and the reason.
pub async fn update(
    r: &Roll<'_>,
    policy: &RollPolicy,
    rollback: &RollPolicy,
    olds: &[ObservedContainer],
) -> Result<Vec<(String, String, u32)>> {
    let mut swapped: Vec<Swapped> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut untouched: Vec<&ObservedContainer> = Vec::new();
    let batches: Vec<&[ObservedContainer]> = olds.chunks(policy.batch(olds.len())).collect();
    for (i, batch) in batches.iter().enumerate() {
        if i > 0 && !policy.delay.is_zero() {
            tokio::time::sleep(policy.delay).await;
        }
        let results = join_all(batch.iter().map(|old| replace(r, old, policy))).await;
        for (old, result) in batch.iter().zip(results) {
            match result {
                Ok(s) => swapped.push(s),
                Err(e) if r.engine.check_cancelled().is_err() => return Err(e),
                Err(e) => {
                    failures.push(format!("{}: {e:#}", old.name));
                    untouched.push(old);
                }
            }
        }
        if policy.too_many_failures(failures.len(), olds.len())
            && policy.failure_action != FailureAction::Continue
        {
            let rest = batches[i + 1..].iter().map(|b| b.len()).sum::<usize>();
            let what = match policy.failure_action {
                FailureAction::Rollback => {
                    roll_back(r, rollback, &swapped).await?;
                    format!(
                        "rolled back: all {} replicas run the previous configuration",
                        olds.len()
                    )
                }
                _ => {
                    let updated = swapped.len();
                    finish(r, swapped).await?;
                    format!(
                        "paused: {updated} replica(s) run the new configuration, {} the previous one; `stackctl up` resumes it",
                        rest + untouched.len()
                    )
                }
            };
            bail!(
                "service {}: update failed and was {what}\n  {}",
                r.svc.name,
                failures.join("\n  ")
            );
        }
    }
    let mut serving: Vec<(String, String, u32)> = swapped
        .iter()
        .map(|s| (s.new_id.clone(), s.old.name.clone(), s.old.number))
        .chain(
            untouched
                .iter()
                .map(|c| (c.id.clone(), c.name.clone(), c.number)),
        )
        .collect();
    serving.sort_by_key(|s| s.2);
    finish(r, swapped).await?;
    if !failures.is_empty() {
        bail!(
            "service {}: {} of {} replicas could not be updated and run the previous configuration\n  {}",
            r.svc.name,
            failures.len(),
            olds.len(),
            failures.join("\n  ")
        );
    }
    Ok(serving)
}

/// `restart`: the containers of a service with `update_config` a batch at a time, each up again
/// before the next batch; the others all at once. `grace` gives each service's stop timeout.
pub async fn restart(
    engine: &Engine,
    plan: &Plan,
    cs: &[ObservedContainer],
    grace: impl Fn(&str) -> Duration,
    report: &Reporter,
) -> Result<()> {
    let one = async |c: &ObservedContainer, wait: bool| -> Result<()> {
        let object = format!("Container {}", c.name);
        engine.check_cancelled()?;
        step(report, &object, "Restarting", false);
        super::ops::restart(engine, &c.id, grace(&c.service)).await?;
        if wait && let Some(svc) = plan.services.get(&c.service) {
            // Watched from now: the stop that was part of the restart is not a failure.
            let watcher = Watcher::spawn(engine, &plan.project, super::health::now_nanos());
            let target = [(c.id.clone(), c.name.clone(), svc.has_healthcheck())];
            watcher.wait(engine, &target, Want::Up, None).await?;
        }
        step(report, &object, "Restarted", true);
        Ok(())
    };
    let (rolled, together): (Vec<&ObservedContainer>, Vec<&ObservedContainer>) =
        cs.iter().partition(|c| {
            plan.services
                .get(&c.service)
                .is_some_and(|s| s.rolling.is_some())
        });
    let rolled_services: std::collections::BTreeSet<&str> =
        rolled.iter().map(|c| c.service.as_str()).collect();
    let in_batches = super::settle_all(rolled_services.into_iter().map(|name| {
        let policy = &plan.services[name]
            .rolling
            .as_ref()
            .expect("partitioned")
            .update;
        let mine: Vec<&ObservedContainer> = rolled
            .iter()
            .copied()
            .filter(|c| c.service == name)
            .collect();
        async move {
            for (i, batch) in mine.chunks(policy.batch(mine.len())).enumerate() {
                if i > 0 && !policy.delay.is_zero() {
                    tokio::time::sleep(policy.delay).await;
                }
                // A batch goes down only when the rest are up (a replica `scale` just started
                // may not be yet): otherwise nothing would be left to serve.
                let rest: Vec<(String, String, bool)> = mine
                    .iter()
                    .filter(|c| c.running() && !batch.iter().any(|b| b.id == c.id))
                    .map(|c| {
                        (
                            c.id.clone(),
                            c.name.clone(),
                            plan.services[name].has_healthcheck(),
                        )
                    })
                    .collect();
                if !rest.is_empty() {
                    let watcher = Watcher::spawn(engine, &plan.project, super::health::now_nanos());
                    watcher.wait(engine, &rest, Want::Healthy, None).await?;
                }
                super::settle_all(batch.iter().map(|c| one(c, true))).await?;
            }
            Ok(())
        }
    }));
    // As `up` does (and compose v5's restart): a service with a healthcheck is back when healthy.
    let at_once = super::settle_all(together.iter().map(|c| {
        let checked = plan
            .services
            .get(&c.service)
            .is_some_and(|s| s.has_healthcheck());
        one(c, checked)
    }));
    let (a, b) = tokio::join!(in_batches, at_once);
    a.and(b).map(|_| ())
}

/// One replica replaced in the policy's order. On failure the old one is serving again and the
/// new one is gone.
async fn replace(r: &Roll<'_>, old: &ObservedContainer, policy: &RollPolicy) -> Result<Swapped> {
    r.engine.check_cancelled()?;
    let name = r.svc.container_name(&r.plan.project, old.number);
    let parked = format!("{name}-old");
    let object = format!("Container {name}");
    step(r.report, &object, "Updating", false);
    let mut body = containers::create_body(r.plan, r.svc, old.number, r.hash);
    if !r.renew_anon_volumes {
        containers::inherit_anonymous(r.engine, &mut body, old).await?;
    }
    let new_id = match policy.order {
        UpdateOrder::StartFirst => {
            // Not the name of a replacement an interrupted update left behind (`old` may be one).
            let fresh = if old.name == format!("{name}-new") {
                format!("{name}-next")
            } else {
                format!("{name}-new")
            };
            let id = containers::create_named(r.engine, r.svc, &fresh, body, false).await?;
            if let Err(e) = bring_in(r, &id, &fresh, policy.monitor).await {
                discard(r, &id, &fresh).await;
                return Err(e);
            }
            park(r, old, &parked).await?;
            rename(r.engine, &id, &name).await?;
            id
        }
        UpdateOrder::StopFirst => {
            park(r, old, &parked).await?;
            let id = match containers::create_named(r.engine, r.svc, &name, body, false).await {
                Ok(id) => id,
                Err(e) => {
                    unpark(r, &old.id, &parked, &name).await?;
                    return Err(e);
                }
            };
            if let Err(e) = bring_in(r, &id, &name, policy.monitor).await {
                discard(r, &id, &name).await;
                unpark(r, &old.id, &parked, &name).await?;
                return Err(e);
            }
            id
        }
    };
    step(r.report, &object, "Updated", true);
    Ok(Swapped {
        old: old.clone(),
        parked,
        new_id,
    })
}

/// Starts an unannounced replica, waits until it is up, gives it its aliases, then watches it
/// for `monitor`.
async fn bring_in(r: &Roll<'_>, id: &str, name: &str, monitor: Duration) -> Result<()> {
    containers::start(r.engine, id, name).await?;
    up(r, id, name).await?;
    announce(r, id, name).await?;
    if !monitor.is_zero() {
        let before = inspect(r.engine, id).await?;
        tokio::time::sleep(monitor).await;
        let after = inspect(r.engine, id).await?;
        let restarted = after.restart_count.unwrap_or(0) > before.restart_count.unwrap_or(0);
        let state = after.state.unwrap_or_default();
        if state.running != Some(true) || restarted {
            bail!("it stopped within the {monitor:?} it was monitored for");
        }
        if state.health.and_then(|h| h.status).map(|s| s.to_string()) == Some("unhealthy".into()) {
            bail!("it turned unhealthy within the {monitor:?} it was monitored for");
        }
    }
    Ok(())
}

/// Waits until the container is healthy (running steadily, without a healthcheck).
async fn up(r: &Roll<'_>, id: &str, name: &str) -> Result<()> {
    let target = [(id.to_owned(), name.to_owned(), r.svc.has_healthcheck())];
    r.watcher.wait(r.engine, &target, Want::Up, None).await
}

/// Leaves and rejoins each of the service's networks, now with the aliases that lead to it.
async fn announce(r: &Roll<'_>, id: &str, name: &str) -> Result<()> {
    for (i, (net, aliases)) in containers::network_order(r.svc).into_iter().enumerate() {
        let endpoint = if i == 0 {
            containers::first_endpoint(r.svc, net, aliases)
        } else {
            bollard::models::EndpointSettings {
                aliases: Some(aliases.clone()),
                ..containers::endpoint(r.svc, net)
            }
        };
        let docker = &r.engine.docker;
        docker
            .disconnect_network(
                net,
                NetworkDisconnectRequest {
                    container: id.to_owned(),
                    force: Some(false),
                },
            )
            .await
            .api(|| format!("detaching {name} from network {net} to give it its aliases"))?;
        docker
            .connect_network(
                net,
                NetworkConnectRequest {
                    container: id.to_owned(),
                    endpoint_config: Some(endpoint),
                },
            )
            .await
            .api(|| format!("attaching {name} to network {net} with its aliases"))?;
    }
    Ok(())
}

/// Stops an old replica (its pre-stop hooks first) and keeps it under another name.
async fn park(r: &Roll<'_>, old: &ObservedContainer, parked: &str) -> Result<()> {
    hooks::before_stop(r.engine, old, &r.svc.pre_stop, r.report).await;
    if old.state.needs_stopping() {
        containers::stop(r.engine, &old.id, &old.name, r.svc.stop_timeout()).await?;
    }
    if old.name == parked {
        return Ok(());
    }
    rename(r.engine, &old.id, parked).await
}

/// Gives a parked replica its name back and starts it.
async fn unpark(r: &Roll<'_>, id: &str, parked: &str, name: &str) -> Result<()> {
    rename(r.engine, id, name).await?;
    containers::start(r.engine, id, name)
        .await
        .map_err(|e| anyhow!("could not restart the previous {parked}: {e:#}"))
}

/// Removes a replacement that failed; a failure to do so is reported, not fatal.
async fn discard(r: &Roll<'_>, id: &str, name: &str) {
    if let Err(e) = containers::remove(r.engine, id, name, false).await {
        (r.report)(super::Event::Warning(format!(
            "could not remove the failed replacement {name}: {e:#}"
        )));
    }
}

/// The update stands: the parked replicas are removed.
async fn finish(r: &Roll<'_>, swapped: Vec<Swapped>) -> Result<()> {
    super::settle_all(
        swapped
            .iter()
            .map(|s| containers::remove(r.engine, &s.old.id, &s.parked, false)),
    )
    .await
    .map(|_| ())
}

/// Puts the previous replicas back in `policy`'s batches and order.
async fn roll_back(r: &Roll<'_>, policy: &RollPolicy, swapped: &[Swapped]) -> Result<()> {
    for batch in swapped.chunks(policy.batch(swapped.len())) {
        super::settle_all(batch.iter().map(|s| async move {
            let name = &s.old.name;
            step(r.report, format!("Container {name}"), "Rolling back", false);
            let temp = format!("{name}-new");
            if policy.order == UpdateOrder::StartFirst {
                rename(r.engine, &s.new_id, &temp).await?;
                unpark(r, &s.old.id, &s.parked, name).await?;
                up(r, &s.old.id, name).await?;
                containers::stop(r.engine, &s.new_id, &temp, r.svc.stop_timeout()).await?;
                containers::remove(r.engine, &s.new_id, &temp, false).await?;
            } else {
                containers::stop(r.engine, &s.new_id, name, r.svc.stop_timeout()).await?;
                containers::remove(r.engine, &s.new_id, name, false).await?;
                unpark(r, &s.old.id, &s.parked, name).await?;
                up(r, &s.old.id, name).await?;
            }
            step(r.report, format!("Container {name}"), "Rolled back", true);
            Ok(())
        }))
        .await?;
    }
    Ok(())
}

async fn rename(engine: &Engine, id: &str, name: &str) -> Result<()> {
    engine
        .docker
        .rename_container(
            id,
            RenameContainerOptions {
                name: name.to_owned(),
            },
        )
        .await
        .api(|| format!("renaming container {id} to {name}"))
}

async fn inspect(engine: &Engine, id: &str) -> Result<ContainerInspectResponse> {
    engine
        .docker
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
        .api(|| format!("inspecting container {id}"))
}
