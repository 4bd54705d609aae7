//! The one stop sequence: dependents before what they depend on, a level's containers at once,
//! each given its service's `pre_stop` hooks and then its grace period before the kill. `down`,
//! `stop` and attached `up` all stop this way; every container of a level is tried even when one
//! fails, and the first failure is reported. And the restarts `up` owes the dependents of what it
//! recreated.

use std::time::Duration;

use anyhow::Result;

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

/// Stops `targets` level by level, dependents first; `after_level` receives each level's
/// containers once they have all stopped (`down` removes them while the next level stops).
/// Containers of services the plan does not know stop in the first level.
pub async fn stop_in_order<'c>(
    engine: &Engine,
    plan: &Plan,
    targets: &[&'c ObservedContainer],
    opts: StopOptions,
    report: &Reporter,
    mut after_level: impl FnMut(Vec<&'c ObservedContainer>),
) -> Result<()> {
    let unknown: Vec<&ObservedContainer> = targets
        .iter()
        .copied()
        .filter(|c| !plan.services.contains_key(&c.service))
        .collect();
    let levels = std::iter::once(unknown).chain(plan.levels.iter().rev().map(|level| {
        targets
            .iter()
            .copied()
            .filter(|c| level.contains(&c.service))
            .collect()
    }));
    for wave in levels {
        if wave.is_empty() {
            continue;
        }
        super::settle_all(wave.iter().map(|c| stop_one(engine, plan, c, opts, report))).await?;
        after_level(wave);
    }
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
