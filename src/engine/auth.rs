//! Registry credentials where `docker login` leaves them, so that private images pull and push:
//! `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), its `auths` entries, and the
//! credential helpers it names (`credHelpers` per registry, `credsStore` for all), which speak the
//! docker-credential-helpers protocol: the registry on stdin, `{"Username","Secret"}` on stdout.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use bollard::auth::DockerCredentials;
use serde::Deserialize;

/// Docker Hub's key in `auths`, for images without a registry host.
const DOCKER_HUB: &str = "https://index.docker.io/v1/";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// The registry an image reference lives on: its first component when that looks like a host
/// (has a `.` or `:`, or is `localhost`), else Docker Hub.
pub fn registry_of(reference: &str) -> String {
    match reference.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_owned()
        }
        _ => DOCKER_HUB.to_owned(),
    }
}

/// `https://host/v1/`, `http://host` and `host` all name the same registry in `auths`.
fn normalise(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

fn config_path() -> Option<PathBuf> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".docker"),
    };
    Some(dir.join("config.json"))
}

/// Credentials for the registry of `reference`, if this user has logged in to it. Unreadable
/// config and failing helpers mean no credentials: the registry then says what it misses.
pub fn credentials_for(reference: &str) -> Option<DockerCredentials> {
    let text = std::fs::read_to_string(config_path()?).ok()?;
    lookup(&text, &registry_of(reference), &run_helper)
}

/// Credentials for every registry the config names, for a build: the daemon picks the ones its
/// `FROM` lines need. `None` when there are none.
pub fn all_credentials() -> Option<HashMap<String, DockerCredentials>> {
    let text = std::fs::read_to_string(config_path()?).ok()?;
    let all = every_registry(&text, &run_helper);
    (!all.is_empty()).then_some(all)
}

fn every_registry(
    config_json: &str,
    helper: &dyn Fn(&str, &str) -> Option<HelperAnswer>,
) -> HashMap<String, DockerCredentials> {
    let Ok(config) = serde_json::from_str::<ConfigFile>(config_json) else {
        return HashMap::new();
    };
    config
        .auths
        .keys()
        .chain(config.cred_helpers.keys())
        .filter_map(|key| {
            let registry = normalise(key).to_owned();
            // The daemon looks Docker Hub up under its historical key.
            let registry = if registry == "index.docker.io" {
                DOCKER_HUB.to_owned()
            } else {
                registry
            };
            let creds = lookup(config_json, &registry, helper)?;
            Some((registry, creds))
        })
        .collect()
}

fn lookup(
    config_json: &str,
    registry: &str,
    helper: &dyn Fn(&str, &str) -> Option<HelperAnswer>,
) -> Option<DockerCredentials> {
    let config: ConfigFile = serde_json::from_str(config_json).ok()?;
    let wanted = normalise(registry);
    let helper_name = config
        .cred_helpers
        .iter()
        .find(|(k, _)| normalise(k) == wanted)
        .map(|(_, v)| v)
        .or(config.creds_store.as_ref());
    if let Some(name) = helper_name
        && let Some(answer) = helper(name, registry)
    {
        let mut creds = DockerCredentials {
            serveraddress: Some(registry.to_owned()),
            ..Default::default()
        };
        // The protocol's way of handing over an identity token instead of a password.
        if answer.username == "<token>" {
            creds.identitytoken = Some(answer.secret);
        } else {
            creds.username = Some(answer.username);
            creds.password = Some(answer.secret);
        }
        return Some(creds);
    }
    let entry = config
        .auths
        .iter()
        .find(|(k, _)| normalise(k) == wanted)
        .map(|(_, v)| v)?;
    let (username, password) = match &entry.auth {
        Some(auth) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (u, p) = text.split_once(':')?;
            (Some(u.to_owned()), Some(p.to_owned()))
        }
        None => (entry.username.clone(), entry.password.clone()),
    };
    if username.is_none() && entry.identitytoken.is_none() {
        return None;
    }
    Some(DockerCredentials {
        username,
        password,
        identitytoken: entry.identitytoken.clone(),
        serveraddress: Some(registry.to_owned()),
        ..Default::default()
    })
}

/// `docker-credential-NAME get`, the registry on stdin.
fn run_helper(name: &str, registry: &str) -> Option<HelperAnswer> {
    let mut child = Command::new(format!("docker-credential-{name}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(registry.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_helper(_: &str, _: &str) -> Option<HelperAnswer> {
        None
    }

    #[test]
    fn the_registry_is_the_first_component_when_it_looks_like_a_host() {
        assert_eq!(registry_of("127.0.0.1:5000/app:1"), "127.0.0.1:5000");
        assert_eq!(registry_of("ghcr.io/org/app"), "ghcr.io");
        assert_eq!(registry_of("localhost/app"), "localhost");
        assert_eq!(registry_of("library/redis:7"), DOCKER_HUB);
        assert_eq!(registry_of("redis"), DOCKER_HUB);
    }

    #[test]
    fn auths_entries_are_found_whatever_form_their_key_has() {
        let config = r#"{"auths": {
            "https://ghcr.io/v1/": {"auth": "dXNlcjpwYXNzOndpdGg6Y29sb25z"},
            "https://index.docker.io/v1/": {"username": "hub", "password": "secret"}
        }}"#;
        let ghcr = lookup(config, "ghcr.io", &no_helper).unwrap();
        assert_eq!(ghcr.username.as_deref(), Some("user"));
        assert_eq!(ghcr.password.as_deref(), Some("pass:with:colons"));
        let hub = lookup(config, DOCKER_HUB, &no_helper).unwrap();
        assert_eq!(hub.username.as_deref(), Some("hub"));
        assert!(lookup(config, "quay.io", &no_helper).is_none());
        assert!(lookup("not json", "ghcr.io", &no_helper).is_none());
    }

    #[test]
    fn a_build_gets_every_registry_the_config_names() {
        let config = r#"{"credHelpers": {"gcr.io": "gcloud"},
            "auths": {"https://index.docker.io/v1/": {"auth": "dTpw"}, "127.0.0.1:5001": {"auth": "dTpw"}}}"#;
        let helper = |_: &str, _: &str| {
            Some(HelperAnswer {
                username: "h".into(),
                secret: "s".into(),
            })
        };
        let all = every_registry(config, &helper);
        let mut keys: Vec<&str> = all.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["127.0.0.1:5001", "gcr.io", DOCKER_HUB]);
        assert_eq!(all["gcr.io"].username.as_deref(), Some("h"));
        assert_eq!(all["127.0.0.1:5001"].username.as_deref(), Some("u"));
    }

    #[test]
    fn a_credential_helper_answers_before_auths() {
        let config = r#"{"credsStore": "desktop", "credHelpers": {"gcr.io": "gcloud"},
            "auths": {"gcr.io": {"auth": "dTpw"}}}"#;
        let helper = |name: &str, registry: &str| {
            Some(HelperAnswer {
                username: if name == "gcloud" {
                    "<token>".into()
                } else {
                    "me".into()
                },
                secret: format!("{name}-{registry}"),
            })
        };
        let gcr = lookup(config, "gcr.io", &helper).unwrap();
        assert_eq!(gcr.identitytoken.as_deref(), Some("gcloud-gcr.io"));
        assert_eq!(gcr.username, None);
        let other = lookup(config, "quay.io", &helper).unwrap();
        assert_eq!(other.username.as_deref(), Some("me"));
        assert_eq!(other.password.as_deref(), Some("desktop-quay.io"));
        // A helper that has nothing falls back to auths.
        let fallback = lookup(config, "gcr.io", &no_helper).unwrap();
        assert_eq!(fallback.username.as_deref(), Some("u"));
    }
}
