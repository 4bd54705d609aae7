//! What `config` leaves out, as compose does: the networks, volumes, secrets and configs no
//! service uses (`--all-resources` keeps them).

use super::model::{MountKind, Project};

/// `project` without the top-level resources none of its services refers to.
pub fn without_unused_resources(project: &Project) -> Project {
    let mut p = project.clone();
    let services = || project.services.values();
    let networks: Vec<&String> = services().flat_map(|s| s.networks.keys()).collect();
    let volumes: Vec<&String> = services()
        .flat_map(|s| &s.volumes)
        .filter(|m| m.kind == MountKind::Volume)
        .filter_map(|m| m.source.as_ref())
        .collect();
    let secrets: Vec<&String> = services()
        .flat_map(|s| {
            s.secrets
                .iter()
                .chain(s.build.iter().flat_map(|b| &b.secrets))
        })
        .map(|s| &s.source)
        .collect();
    let configs: Vec<&String> = services()
        .flat_map(|s| &s.configs)
        .map(|c| &c.source)
        .collect();
    // A service that names no network is on `default`.
    let on_default = services().any(|s| s.networks.is_empty() && s.network_mode.is_none());
    p.networks
        .retain(|k, _| networks.contains(&k) || (k == "default" && on_default));
    p.volumes.retain(|k, _| volumes.contains(&k));
    p.secrets.retain(|k, _| secrets.contains(&k));
    p.configs.retain(|k, _| configs.contains(&k));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_a_service_uses_is_kept() {
        let opts = crate::manifest::LoadOptions {
            cwd: "/nonexistent-unit-test".into(),
            project_name: Some("p".into()),
            inline: Some(b"services:\n  a:\n    image: x\n    secrets: [used]\n    volumes: [\"vol1:/v\"]\n    networks: [front]\n    build:\n      context: .\n      secrets: [built]\nsecrets:\n  used: {environment: HOME}\n  built: {environment: HOME}\n  unused: {environment: HOME}\nconfigs:\n  c1: {content: x}\nvolumes:\n  vol1: {}\n  vol2: {}\nnetworks:\n  front: {}\n  back: {}\n".to_vec()),
            ..Default::default()
        };
        let p = crate::manifest::load(&opts).expect("loads").project;
        let kept = without_unused_resources(&p);
        let keys = |m: Vec<&String>| m.into_iter().cloned().collect::<Vec<_>>();
        assert_eq!(keys(kept.secrets.keys().collect()), ["built", "used"]);
        assert!(kept.configs.is_empty());
        assert_eq!(keys(kept.volumes.keys().collect()), ["vol1"]);
        assert_eq!(keys(kept.networks.keys().collect()), ["front"]);
    }
}
