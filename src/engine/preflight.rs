//! What `up` refuses before the first call that makes a network, volume or container: what the
//! engine's API version cannot do, and once read-only inspection has told it (the images are
//! inspected, built or pulled) the loader's deferred refusals that turn out to apply, positioned
//! in the files.

use std::collections::HashMap;

use anyhow::{Result, bail};

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

/// Refuses a service that needs a newer engine than this one, naming the release that has it.
pub(super) fn refuse_what_the_engine_cannot_do(
    engine: &Engine,
    services: &[&ServicePlan],
) -> Result<()> {
    for svc in services {
        if let Some((what, api, engine_release)) = needs_newer_api(svc)
            && super::api_below(&engine.api_version, api)
        {
            bail!(
                "service {} {what}, which Docker Engine {} (API {}) cannot do\n  = help: use Docker Engine {engine_release} or newer (API {}.{}), or leave it out",
                svc.name,
                engine.server_version,
                engine.api_version,
                api.0,
                api.1
            );
        }
    }
    Ok(())
}

/// What of `svc` an older engine cannot do: the feature, the API version that has it, and the
/// first Docker Engine release with that API.
fn needs_newer_api(svc: &ServicePlan) -> Option<(&'static str, (u32, u32), &'static str)> {
    use crate::manifest::MountKind;
    if svc.mounts.iter().any(|m| m.kind == MountKind::Image) {
        return Some(("mounts an image (`type: image`)", (1, 48), "28"));
    }
    if svc.mounts.iter().any(|m| {
        m.volume.as_ref().is_some_and(|v| v.subpath.is_some())
            || m.image.as_ref().is_some_and(|i| i.subpath.is_some())
    }) {
        return Some(("mounts a volume's `subpath`", (1, 45), "26"));
    }
    if !svc.host.annotations.is_empty() {
        return Some(("sets annotations", (1, 43), "24"));
    }
    // Older engines took it only through a field this client no longer sends.
    if svc.host.mac_address.is_some() {
        return Some(("sets mac_address", (1, 44), "25"));
    }
    None
}
