//! `use_api_socket: true`, as compose does it (the engine has no such option; it is the client's
//! doing): the daemon's socket bound at `/var/run/docker.sock`, and this user's registry
//! credentials as a config at `/run/secrets/docker/config.json` with `DOCKER_CONFIG` pointing
//! there (unless the service sets `DOCKER_CONFIG` itself). It needs the daemon's socket on this
//! machine: a daemon reached over TCP or ssh is refused, before anything is created.

use anyhow::Result;
use base64::Engine as _;

use crate::exit::NotOnTarget;
use crate::manifest::{ConfigDef, Mount, MountKind, Project, ServiceSecret};

const CONFIG_NAME: &str = "#apisocket";

/// Gives the services that ask for it the socket of the daemon at `host` (`unix:///…`).
pub fn apply(project: &mut Project, host: &str) -> Result<()> {
    let users: Vec<String> = project
        .services
        .iter()
        .filter(|(_, s)| s.use_api_socket == Some(true))
        .map(|(n, _)| n.clone())
        .collect();
    let Some(first) = users.first() else {
        return Ok(());
    };
    let Some(socket) = host.strip_prefix("unix://") else {
        return Err(NotOnTarget {
            message: format!(
                "service {first} asks for use_api_socket, but the daemon is reached at {host}: its socket is not on this machine"
            ),
            hint: "run it against a local daemon (unix://), or drop use_api_socket".into(),
        }
        .into());
    };
    project.configs.insert(
        CONFIG_NAME.to_owned(),
        ConfigDef {
            content: Some(credentials_json()),
            ..ConfigDef::default()
        },
    );
    for name in users {
        let Some(svc) = project.services.get_mut(&name) else {
            continue;
        };
        svc.volumes.push(Mount {
            kind: MountKind::Bind,
            source: Some(socket.to_owned()),
            target: "/var/run/docker.sock".to_owned(),
            ..Mount::default()
        });
        svc.environment
            .entry("DOCKER_CONFIG".to_owned())
            .or_insert_with(|| Some("/run/secrets/docker".to_owned()));
        svc.configs.push(ServiceSecret {
            source: CONFIG_NAME.to_owned(),
            target: "/run/secrets/docker/config.json".to_owned(),
            target_implicit: false,
            uid: None,
            gid: None,
            mode: None,
        });
    }
    Ok(())
}

/// This user's registry credentials as a docker CLI config file.
fn credentials_json() -> String {
    let mut auths = serde_json::Map::new();
    for (registry, c) in super::auth::all_credentials().unwrap_or_default() {
        let mut entry = serde_json::Map::new();
        if let (Some(user), Some(pass)) = (&c.username, &c.password) {
            let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            entry.insert("auth".into(), auth.into());
        }
        if let Some(token) = &c.identitytoken {
            entry.insert("identitytoken".into(), token.clone().into());
        }
        auths.insert(registry, entry.into());
    }
    serde_json::json!({ "auths": auths }).to_string()
}
