//! The configuration hash that decides whether a container can be kept. Like compose's, it leaves out
//! what does not change a container (replicas, depends_on, build, pull_policy, profiles); the engine
//! adds the image ID so that a rebuilt image recreates.

use sha2::{Digest, Sha256};

use crate::manifest::{Project, Service};

pub fn config_hash(svc: &Service, project: &Project) -> String {
    let mut s = svc.clone();
    s.build = None;
    s.depends_on.clear();
    s.scale = None;
    s.pull_policy = None;
    s.profiles.clear();
    // Only `watch` reads `develop`; the container does not change with it.
    s.develop = None;
    if let Some(d) = &mut s.deploy {
        d.replicas = None;
        d.update_config = None;
    }
    let mut h = Sha256::new();
    // serde_json over BTreeMaps is deterministic.
    h.update(serde_json::to_vec(&s).unwrap_or_default());
    // The project's working dir decides where bind mounts point.
    h.update(project.working_dir.to_string_lossy().as_bytes());
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
    fn environment_and_image_change_the_hash() {
        let p = Project::default();
        let base = config_hash(&svc(), &p);
        let mut s = svc();
        s.environment.insert("A".into(), Some("1".into()));
        assert_ne!(config_hash(&s, &p), base);
        assert_ne!(with_image(&base, "sha256:a"), with_image(&base, "sha256:b"));
    }
}
