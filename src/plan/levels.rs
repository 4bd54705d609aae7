//! Dependency levels: level 0 depends on nothing, level n only on levels below n.

use std::collections::{BTreeMap, BTreeSet};

use crate::manifest::Project;

pub fn dependency_levels(project: &Project) -> Vec<Vec<String>> {
    let mut level_of: BTreeMap<&str, usize> = BTreeMap::new();
    let mut remaining: BTreeSet<&str> = project.services.keys().map(String::as_str).collect();
    // Validation has rejected cycles; the bound keeps this finite even if it had not.
    for _ in 0..=project.services.len() {
        if remaining.is_empty() {
            break;
        }
        let ready: Vec<&str> = remaining
            .iter()
            .copied()
            .filter(|s| {
                project.services[*s]
                    .depends_on
                    .keys()
                    .filter(|d| project.services.contains_key(*d))
                    .all(|d| level_of.contains_key(d.as_str()))
            })
            .collect();
        for s in &ready {
            let lvl = project.services[*s]
                .depends_on
                .keys()
                .filter_map(|d| level_of.get(d.as_str()))
                .map(|l| l + 1)
                .max()
                .unwrap_or(0);
            level_of.insert(s, lvl);
            remaining.remove(s);
        }
    }
    let depth = level_of.values().max().map_or(0, |m| m + 1);
    let mut levels = vec![Vec::new(); depth];
    for (s, l) in level_of {
        levels[l].push(s.to_owned());
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Condition, Dependency, Service};

    fn with_deps(deps: &[&str]) -> Service {
        let mut s = Service::default();
        for d in deps {
            s.depends_on.insert(
                (*d).into(),
                Dependency {
                    condition: Condition::ServiceStarted,
                    required: true,
                    restart: false,
                },
            );
        }
        s
    }

    #[test]
    fn levels_follow_dependencies() {
        let mut p = Project::default();
        p.services.insert("nginx".into(), with_deps(&["app"]));
        p.services.insert("app".into(), with_deps(&["redis", "db"]));
        p.services.insert("redis".into(), with_deps(&[]));
        p.services.insert("db".into(), with_deps(&[]));
        assert_eq!(
            dependency_levels(&p),
            vec![vec!["db", "redis"], vec!["app"], vec!["nginx"]]
        );
    }
}
