//! What `up` does to each service's containers — create, recreate, keep, remove — and why, decided
//! from the plan and what the daemon holds. `up` carries the decisions out; `up --dry-run` shows
//! them; both call `all`, so the preview cannot differ from the run.

use std::collections::{BTreeMap, HashMap};

use super::observe::ObservedContainer;
use crate::plan::{ServicePlan, hash};

/// What `up` was asked about existing containers: `--force-recreate` (and `-V`) for the services
/// it names, `--always-recreate-deps` for their dependencies, `--no-recreate` for all.
#[derive(Debug, Clone, Default)]
pub struct RecreateRule {
    /// The flag that forces the named services, if one does.
    pub force: Option<&'static str>,
    pub force_dependencies: bool,
    pub never: bool,
    /// The services `up` names; none names them all.
    pub selected: Vec<String>,
}

impl RecreateRule {
    /// The flag that has `service`'s containers made anew even when nothing changed, if any.
    pub fn forces(&self, service: &str) -> Option<&'static str> {
        if self.selected.is_empty() || self.selected.iter().any(|s| s == service) {
            self.force
        } else {
            self.force_dependencies.then_some("--always-recreate-deps")
        }
    }
}

/// What happens to one service's containers.
#[derive(Default)]
pub struct ServiceActions {
    pub create: Vec<u32>,
    pub recreate: Vec<ObservedContainer>,
    pub keep: Vec<ObservedContainer>,
    pub remove: Vec<ObservedContainer>,
    /// Why each recreated container (by ID) is made anew.
    pub why: HashMap<String, Vec<String>>,
}

/// The actions for every service of `services`, with the hash its containers carry.
pub fn all(
    project: &str,
    services: &[&ServicePlan],
    image_ids: &HashMap<String, String>,
    observed: &[ObservedContainer],
    rule: &RecreateRule,
) -> HashMap<String, (ServiceActions, String)> {
    let mut actions: HashMap<String, (ServiceActions, String)> = HashMap::new();
    for svc in services {
        let image_id = image_ids.get(&svc.image).cloned().unwrap_or_default();
        let h = hash::with_image(&svc.config_hash, &image_id);
        let mine: Vec<&ObservedContainer> =
            observed.iter().filter(|c| c.service == svc.name).collect();
        let forced = rule.forces(&svc.name);
        let mut a = decide(svc, &h, &mine, forced.is_some(), rule.never);
        for c in &a.recreate {
            a.why
                .insert(c.id.clone(), reasons(svc, c, &image_id, forced));
        }
        // A replica under a name not its own was left by an interrupted rolling update (see
        // `rolling`): it may lack its aliases, so it is made anew under its name.
        if !rule.never {
            let (odd, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut a.keep)
                .into_iter()
                .partition(|c| c.name != svc.container_name(project, c.number));
            a.keep = keep;
            for c in odd {
                a.why.insert(
                    c.id.clone(),
                    vec!["an interrupted update left it under another name".to_owned()],
                );
                a.recreate.push(c);
            }
        }
        actions.insert(svc.name.clone(), (a, h));
    }
    // A service that shares another's network namespace or volumes is bound to that service's
    // first container: when it is made anew, the sharers are too, or they keep the old one's.
    let renewed: Vec<String> = actions
        .iter()
        .filter(|(_, (a, _))| !a.recreate.is_empty() || a.create.contains(&1))
        .map(|(name, _)| name.clone())
        .collect();
    if !rule.never {
        for svc in services {
            let Some(owner) = svc.created_after.iter().find(|o| renewed.contains(o)) else {
                continue;
            };
            if let Some((a, _)) = actions.get_mut(&svc.name) {
                let kept = std::mem::take(&mut a.keep);
                for c in &kept {
                    a.why.insert(
                        c.id.clone(),
                        vec![format!("it shares {owner}'s container, which is made anew")],
                    );
                }
                a.recreate.extend(kept);
            }
        }
    }
    actions
}

fn decide(
    svc: &ServicePlan,
    hash: &str,
    observed: &[&ObservedContainer],
    forced: bool,
    never: bool,
) -> ServiceActions {
    let mut a = ServiceActions::default();
    let mut by_number: BTreeMap<u32, &ObservedContainer> = BTreeMap::new();
    for c in observed {
        // Two containers with one number (a crash mid-recreate): keep the newest.
        match by_number.get(&c.number) {
            Some(prev) if prev.created >= c.created => a.remove.push((*c).clone()),
            Some(prev) => {
                a.remove.push((*prev).clone());
                by_number.insert(c.number, c);
            }
            None => {
                by_number.insert(c.number, c);
            }
        }
    }
    for (n, c) in &by_number {
        if *n == 0 || *n > svc.replicas {
            a.remove.push((*c).clone());
        }
    }
    // Highest numbers go first, as documented for scale-down.
    a.remove.sort_by_key(|c| std::cmp::Reverse(c.number));
    for n in 1..=svc.replicas {
        match by_number.get(&n) {
            None => a.create.push(n),
            Some(c) if forced || (c.config_hash != hash && !never) => a.recreate.push((*c).clone()),
            Some(c) => a.keep.push((*c).clone()),
        }
    }
    a
}

/// Why `c` does not match its service any more: the fields that changed (from the configuration
/// the container keeps in its labels), a new image, or the flag that asked.
fn reasons(
    svc: &ServicePlan,
    c: &ObservedContainer,
    image_id: &str,
    forced: Option<&str>,
) -> Vec<String> {
    if let Some(flag) = forced {
        return vec![flag.to_owned()];
    }
    let mut why = match &c.config {
        Some(old) => hash::config_changes(old, &svc.config_snapshot),
        None => Vec::new(),
    };
    if !image_id.is_empty() && !c.image_id.is_empty() && c.image_id != image_id {
        why.push(format!(
            "image {}: {} → {}",
            svc.image,
            short(&c.image_id),
            short(image_id)
        ));
    }
    if why.is_empty() {
        why.push(if c.config.is_none() {
            "its configuration differs (it was made by another tool or an older stackctl, which did not record the fields)".to_owned()
        } else {
            "the project's folder moved (bind mounts point elsewhere)".to_owned()
        });
    }
    why
}

fn short(image_id: &str) -> &str {
    let id = image_id.strip_prefix("sha256:").unwrap_or(image_id);
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::RecreateRule;

    #[test]
    fn force_falls_on_the_named_services_and_on_dependencies_only_when_asked() {
        let mut rule = RecreateRule {
            force: Some("--force-recreate"),
            selected: vec!["web".into()],
            ..Default::default()
        };
        assert_eq!(rule.forces("web"), Some("--force-recreate"));
        assert_eq!(
            rule.forces("db"),
            None,
            "a dependency changes only if it diverged"
        );
        rule.force_dependencies = true;
        assert_eq!(rule.forces("db"), Some("--always-recreate-deps"));
        rule.selected.clear();
        assert_eq!(
            rule.forces("db"),
            Some("--force-recreate"),
            "none named: all are"
        );
    }
}
