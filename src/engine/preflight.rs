//! What `up` refuses once read-only inspection has told it (the images are inspected, built or
//! pulled), before the first call that makes a network, volume or container: the loader's
//! deferred refusals that turn out to apply, positioned in the files.

use std::collections::HashMap;

use anyhow::Result;

use super::{Engine, images};
use crate::manifest::{Condition, DeferredRefusals};
use crate::plan::{Plan, ServicePlan};

/// Refuses a `service_healthy` wait on a dependency that has no healthcheck in the manifest and
/// none in its image either: it could never be met.
pub(super) async fn refuse_waits_without_healthcheck(
    engine: &Engine,
    plan: &Plan,
    services: &[&ServicePlan],
    image_ids: &HashMap<String, String>,
    refusals: &DeferredRefusals,
) -> Result<()> {
    let mut problems = crate::manifest::Diagnostics::default();
    for svc in services {
        for (dep, d) in &svc.depends_on {
            let Some(target) = plan.services.get(dep) else {
                continue;
            };
            if d.condition != Condition::ServiceHealthy || target.has_healthcheck() {
                continue;
            }
            let image_has_one = match (&target.health, image_ids.get(&target.image)) {
                (crate::plan::Health::Disabled, _) => false,
                (_, Some(id)) => images::has_healthcheck(engine, id).await?,
                // Not part of this `up`: its containers are looked at when the wait comes.
                (_, None) => continue,
            };
            if image_has_one {
                continue;
            }
            match refusals.no_healthcheck(&svc.name, dep) {
                Some(diag) => problems.push(diag.clone()),
                None => {
                    return Err(crate::exit::UsageError::new(format!(
                        "service {} waits for {dep} to be healthy, but neither the manifest nor the image of {dep} defines a healthcheck",
                        svc.name
                    ))
                    .hint(format!(
                        "add a `healthcheck:` to {dep}, or use `condition: service_started`"
                    ))
                    .into());
                }
            }
        }
    }
    problems.into_result(()).map_err(Into::into)
}
