//! Refusals that wait for a read-only look at the daemon. Whether a service is built depends on
//! whether its image is there; whether `service_healthy` can be met by a dependency without a
//! `healthcheck:` depends on its image's own HEALTHCHECK. The loader writes each refusal here,
//! positioned in the files; `up` raises those that apply after inspecting images and before the
//! first call that changes anything.

use std::collections::BTreeMap;

use super::diag::{Diagnostic, Diagnostics};
use super::model::{Condition, Project};
use super::source::Locator;
use super::spans::FieldPath;

#[derive(Debug, Clone, Default)]
pub struct DeferredRefusals {
    /// Per built service, what is missing to build it (context folder, Dockerfile).
    pub unbuildable: BTreeMap<String, Diagnostics>,
    /// Per (service, dependency) that waits with `service_healthy` on a dependency whose manifest
    /// has no healthcheck: the refusal, should the dependency's image have none either.
    pub healthy_without_check: BTreeMap<(String, String), Diagnostic>,
}

impl DeferredRefusals {
    /// The refusal of waiting on `dependency` to be healthy, positioned where `service` asks it.
    pub fn no_healthcheck(&self, service: &str, dependency: &str) -> Option<&Diagnostic> {
        self.healthy_without_check
            .get(&(service.to_owned(), dependency.to_owned()))
    }
}

/// Every `service_healthy` wait on a service whose manifest defines no healthcheck (or switches
/// it off): refused unless the image has one.
pub fn healthy_without_check(p: &Project, loc: &Locator) -> BTreeMap<(String, String), Diagnostic> {
    let mut out = BTreeMap::new();
    for (name, svc) in &p.services {
        for (dep, d) in &svc.depends_on {
            if d.condition != Condition::ServiceHealthy {
                continue;
            }
            let Some(target) = p.services.get(dep) else {
                continue;
            };
            let disabled = match &target.healthcheck {
                Some(h) if h.is_disabled() => true,
                Some(h) if !h.test.is_empty() => continue,
                _ => false,
            };
            let path = FieldPath::root()
                .key("services")
                .key(name)
                .key("depends_on")
                .key(dep);
            let message = if disabled {
                format!(
                    "service `{name}` waits for `{dep}` to be healthy, but `{dep}` switches its healthcheck off"
                )
            } else {
                format!(
                    "service `{name}` waits for `{dep}` to be healthy, but neither the manifest nor the image of `{dep}` defines a healthcheck"
                )
            };
            let diag = loc.diag(&path, true, message).hint(format!(
                "add a `healthcheck:` to `{dep}`, or wait with `condition: service_started`"
            ));
            out.insert((name.clone(), dep.clone()), diag);
        }
    }
    out
}
