//! The configuration hash that decides whether a container can be kept. Like compose's, it leaves out
//! what does not change a container (replicas, depends_on, build, pull_policy and
//! pull_refresh_after, profiles); the engine
//! adds the image ID so that a rebuilt image recreates.

use sha2::{Digest, Sha256};

use crate::manifest::{Project, Service};

pub fn config_hash(svc: &Service, project: &Project) -> String {
    let mut h = Sha256::new();
    h.update(config_snapshot(svc).as_bytes());
    // The project's working dir decides where bind mounts point.
    h.update(project.working_dir.to_string_lossy().as_bytes());
    hex::encode(h.finalize())
}

/// What the hash is made of, as compact JSON: kept on each container (its `CONFIG` label), so that
/// a later run can say which fields changed, not only that something did.
pub fn config_snapshot(svc: &Service) -> String {
    let mut s = svc.clone();
    s.build = None;
    s.depends_on.clear();
    s.scale = None;
    s.pull_policy = None;
    s.pull_refresh_after = None;
    s.profiles.clear();
    // A variable without a value reaches no container.
    s.environment.retain(|_, v| v.is_some());
    // Only `watch` reads `develop`; the container does not change with it.
    s.develop = None;
    // `front:` and `front: {}` make the same container, and hashes were first made with `{}`.
    for net in s.networks.values_mut() {
        net.bare = false;
    }
    if let Some(d) = &mut s.deploy {
        d.replicas = None;
        d.update_config = None;
        d.rollback_config = None;
    }
    // serde_json over BTreeMaps is deterministic. Durations are written as the hashes were first
    // made of them (`1m`, not `config`'s Go-style `1m0s`), so that no container is recreated for
    // a change of spelling.
    crate::manifest::units::with_compact_durations(|| serde_json::to_string(&s).unwrap_or_default())
}

/// The fields that differ between two snapshots, as `environment.DEBUG: "0" → "1"`, in field
/// order; empty when either cannot be read.
pub fn config_changes(old: &str, new: &str) -> Vec<String> {
    let (Ok(old), Ok(new)) = (
        serde_json::from_str::<serde_json::Value>(old),
        serde_json::from_str::<serde_json::Value>(new),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    changes("", &old, &new, &mut out);
    out
}

fn changes(path: &str, old: &serde_json::Value, new: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    if old == new {
        return;
    }
    let absent = |v: &Value| {
        v.is_null()
            || v.as_array().is_some_and(Vec::is_empty)
            || v.as_object().is_some_and(|o| o.is_empty())
    };
    // A map on one side and nothing on the other compares key by key, as two maps.
    let none = serde_json::Map::new();
    let as_map = |v: &'_ Value| match v {
        Value::Object(o) => Some(o.clone()),
        Value::Null => Some(none.clone()),
        _ => None,
    };
    match (as_map(old), as_map(new)) {
        (Some(a), Some(b)) if old.is_object() || new.is_object() => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                changes(
                    &child,
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if absent(old) && absent(new) => {}
        _ if absent(old) => out.push(format!("{path}: set to {}", shown(new))),
        _ if absent(new) => out.push(format!("{path}: {} removed", shown(old))),
        _ => out.push(format!("{path}: {} → {}", shown(old), shown(new))),
    }
}

/// A value short enough for one line.
fn shown(v: &serde_json::Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

/// Adds the files copied into the container to the service hash (unchanged when there are none,
/// so containers made before are not recreated).
pub fn with_injected(service_hash: &str, files: &[crate::plan::InjectedFile]) -> String {
    if files.is_empty() {
        return service_hash.to_owned();
    }
    let mut h = Sha256::new();
    h.update(service_hash.as_bytes());
    for f in files {
        h.update(f.target.as_bytes());
        h.update([0]);
        h.update(f.content.as_bytes());
        h.update(f.mode.to_be_bytes());
        // Only when given, so that files hashed before owners existed keep their hash.
        for (tag, id) in [(b'u', f.uid), (b'g', f.gid)] {
            if let Some(id) = id {
                h.update([tag]);
                h.update(id.to_be_bytes());
            }
        }
    }
    hex::encode(h.finalize())
}

/// Combines the service hash with the image ID the container will run.
pub fn with_image(service_hash: &str, image_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(service_hash.as_bytes());
    h.update(image_id.as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Deploy;

    fn svc() -> Service {
        Service {
            image: Some("redis".into()),
            ..Service::default()
        }
    }

    #[test]
    fn durations_are_hashed_as_containers_were_first_labelled_with_them() {
        let s = Service {
            stop_grace_period: Some(std::time::Duration::from_secs(60)),
            ..svc()
        };
        // `config` prints Go's `1m0s`; the hash keeps `1m`, so no container is recreated for it.
        let printed = serde_json::to_string(&s).unwrap();
        assert!(
            printed.contains(r#""stop_grace_period":"1m0s""#),
            "{printed}"
        );
        assert_eq!(
            config_snapshot(&s),
            printed.replace(r#""1m0s""#, r#""1m""#),
            "the same snapshot as before, field order included"
        );
    }

    #[test]
    fn replicas_and_depends_on_do_not_change_the_hash() {
        let p = Project::default();
        let base = config_hash(&svc(), &p);
        let mut s = svc();
        s.deploy = Some(Deploy {
            replicas: Some(5),
            ..Deploy::default()
        });
        s.scale = Some(3);
        assert_eq!(
            config_hash(&s, &p),
            config_hash(
                &Service {
                    deploy: Some(Deploy::default()),
                    ..svc()
                },
                &p
            )
        );
        s = svc();
        s.depends_on.insert(
            "db".into(),
            crate::manifest::Dependency {
                condition: crate::manifest::Condition::ServiceStarted,
                required: true,
                restart: false,
            },
        );
        assert_eq!(config_hash(&s, &p), base);
    }

    #[test]
    fn a_change_is_named_by_its_field() {
        let mut a = svc();
        a.environment.insert("DEBUG".into(), Some("0".into()));
        let mut b = a.clone();
        b.environment.insert("DEBUG".into(), Some("1".into()));
        b.image = Some("redis:7".into());
        b.command = Some(vec!["redis-server".into()]);
        let changes = config_changes(&config_snapshot(&a), &config_snapshot(&b));
        assert_eq!(
            changes,
            vec![
                "command: set to [\"redis-server\"]".to_owned(),
                "environment.DEBUG: \"0\" → \"1\"".to_owned(),
                "image: \"redis\" → \"redis:7\"".to_owned(),
            ]
        );
        assert!(config_changes(&config_snapshot(&a), &config_snapshot(&a)).is_empty());
        assert!(config_changes("not json", &config_snapshot(&a)).is_empty());
        let mut c = a.clone();
        c.environment.clear();
        assert_eq!(
            config_changes(&config_snapshot(&a), &config_snapshot(&c)),
            vec!["environment.DEBUG: \"0\" removed".to_owned()]
        );
    }

    #[test]
    fn environment_and_image_change_the_hash() {
        let p = Project::default();
        let base = config_hash(&svc(), &p);
        let mut s = svc();
        s.environment.insert("A".into(), Some("1".into()));
        assert_ne!(config_hash(&s, &p), base);
        assert_ne!(with_image(&base, "sha256:a"), with_image(&base, "sha256:b"));
    }
}
