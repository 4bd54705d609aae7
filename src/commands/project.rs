//! What most commands start with: the project loaded, its services checked, planned, the daemon
//! connected; and the containers of some of its services.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::engine::Engine;
use crate::engine::observe::{self, ObservedContainer};
use crate::plan::Plan;

use super::{Ctx, check_services};

/// Loads the manifest, checks the service names, plans, connects, and hands all of it to `f`.
pub(super) fn with_project<T>(
    ctx: &Ctx,
    services: &[String],
    f: impl AsyncFnOnce(&Engine, &Plan) -> Result<T>,
) -> Result<T> {
    with_project_checked(ctx, services, false, f)
}

/// As `with_project`, for a command that changes the stack: `f` runs under the project lock, and
/// Ctrl-C lets the steps in flight finish (a second one abandons them) before exiting 130.
pub(super) fn with_project_locked<T>(
    ctx: &Ctx,
    services: &[String],
    verb: &str,
    f: impl AsyncFnOnce(&Engine, &Plan) -> Result<T>,
) -> Result<T> {
    with_project(ctx, services, async |engine, plan| {
        super::engine_cmds::locked(engine, &plan.project, verb, f(engine, plan)).await
    })
}

/// As `with_project`, for a command that creates containers of `services` and their
/// dependencies: one whose secret or config has no value is refused first.
pub(super) fn with_project_checked<T>(
    ctx: &Ctx,
    services: &[String],
    creates: bool,
    f: impl AsyncFnOnce(&Engine, &Plan) -> Result<T>,
) -> Result<T> {
    let loaded = ctx.load()?;
    check_services(&loaded.project, services)?;
    if creates {
        if let Some(s) = services
            .iter()
            .find(|s| loaded.project.services[*s].provider.is_some())
        {
            return Err(crate::exit::UsageError::new(format!(
                "service `{s}` is a provider service: its program makes it, there is no container to run"
            ))
            .hint("run a service that depends on it; `up` runs the provider first")
            .into());
        }
        let mut needed: Vec<&str> = services.iter().map(String::as_str).collect();
        for s in services {
            needed.extend(
                loaded.project.services[s]
                    .depends_on
                    .keys()
                    .map(String::as_str),
            );
        }
        loaded.refuse_missing_values(needed)?;
    }
    let plan = ctx.plan_to_create(&loaded.project, &BTreeMap::new())?;
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        f(&engine, &plan).await
    })
}

pub(super) async fn service_containers(
    engine: &Engine,
    plan: &Plan,
    services: &[String],
    all: bool,
) -> Result<Vec<ObservedContainer>> {
    Ok(observe::containers(engine, &plan.project, all)
        .await?
        .into_iter()
        .filter(|c| !c.oneoff && (services.is_empty() || services.contains(&c.service)))
        .collect())
}
