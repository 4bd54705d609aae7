//! What `up` does to each service's containers — create, recreate, keep, remove — and why, decided
//! from the plan and what the daemon holds. `up` carries the decisions out; `up --dry-run` shows
//! them; both call `all`, so the preview cannot differ from the run.

use std::collections::{BTreeMap, HashMap};

use super::observe::ObservedContainer;
use crate::plan::{ServicePlan, hash};

/// What `up` was asked about existing containers: `--force-recreate`, `--no-recreate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecreateRule {
    pub force: bool,
    pub never: bool,
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
    rule: RecreateRule,
) -> HashMap<String, (ServiceActions, String)> {
    let mut actions: HashMap<String, (ServiceActions, String)> = HashMap::new();
    for svc in services {
        let image_id = image_ids.get(&svc.image).cloned().unwrap_or_default();
        let h = hash::with_image(&svc.config_hash, &image_id);
        let mine: Vec<&ObservedContainer> =
            observed.iter().filter(|c| c.service == svc.name).collect();
        let mut a = decide(svc, &h, &mine, rule);
        for c in &a.recreate {
            a.why
                .insert(c.id.clone(), reasons(svc, c, &image_id, rule.force));
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
    rule: RecreateRule,
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
            Some(c) if rule.force || (c.config_hash != hash && !rule.never) => {
                a.recreate.push((*c).clone())
            }
            Some(c) => a.keep.push((*c).clone()),
        }
    }
    a
}

/// Why `c` does not match its service any more: the fields that changed (from the configuration
/// the container keeps in its labels), a new image, or the flag that asked.
fn reasons(svc: &ServicePlan, c: &ObservedContainer, image_id: &str, forced: bool) -> Vec<String> {
    if forced {
        return vec!["--force-recreate".to_owned()];
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
