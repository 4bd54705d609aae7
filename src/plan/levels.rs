//! Dependency levels: level 0 depends on nothing, level n only on levels below n.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::manifest::Project;

/// Kahn's algorithm, so a chain of thousands of services takes linear time. Services in a cycle
/// (which validation refuses) get no level.
pub fn dependency_levels(project: &Project) -> Vec<Vec<String>> {
    let deps_of = |s: &str| {
        project.services[s]
            .depends_on
            .keys()
            .map(String::as_str)
            .filter(|d| project.services.contains_key(*d))
    };
    let mut waiting_on: HashMap<&str, usize> = HashMap::new();
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut ready: VecDeque<&str> = VecDeque::new();
    for name in project.services.keys().map(String::as_str) {
        let mut n = 0;
        for d in deps_of(name) {
            dependents.entry(d).or_default().push(name);
            n += 1;
        }
        waiting_on.insert(name, n);
        if n == 0 {
            ready.push_back(name);
        }
    }
    let mut level_of: BTreeMap<&str, usize> = BTreeMap::new();
    while let Some(s) = ready.pop_front() {
        let lvl = deps_of(s)
            .filter_map(|d| level_of.get(d))
            .map(|l| l + 1)
            .max()
            .unwrap_or(0);
        level_of.insert(s, lvl);
        for t in dependents.get(s).into_iter().flatten() {
            if let Some(n) = waiting_on.get_mut(t) {
                *n -= 1;
                if *n == 0 {
                    ready.push_back(t);
                }
            }
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

    #[test]
    fn a_long_chain_is_levelled_in_linear_time() {
        let mut p = Project::default();
        let n = 20_000;
        for i in 0..n {
            let dep = format!("s{}", i + 1);
            let deps: Vec<&str> = if i + 1 < n { vec![&dep] } else { vec![] };
            p.services.insert(format!("s{i}"), with_deps(&deps));
        }
        let t = std::time::Instant::now();
        let levels = dependency_levels(&p);
        assert_eq!(levels.len(), n);
        assert_eq!(levels[0], vec![format!("s{}", n - 1)]);
        assert_eq!(levels[n - 1], vec!["s0".to_owned()]);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn services_in_a_cycle_get_no_level() {
        let mut p = Project::default();
        p.services.insert("a".into(), with_deps(&["b"]));
        p.services.insert("b".into(), with_deps(&["a"]));
        p.services.insert("c".into(), with_deps(&[]));
        assert_eq!(dependency_levels(&p), vec![vec!["c"]]);
    }
}
