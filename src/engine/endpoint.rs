//! Which daemon to talk to, resolved as the docker CLI resolves it: `--host`, then `--context`,
//! then `DOCKER_HOST`, then `DOCKER_CONTEXT`, then the current context in
//! `$DOCKER_CONFIG/config.json`, else the local socket. A context's endpoint and TLS files are read
//! from `$DOCKER_CONFIG/contexts/`, where the docker CLI keeps them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};

pub const LOCAL_SOCKET: &str = "unix:///var/run/docker.sock";

/// Client certificate, key and the CA to check the daemon with.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// `default`, or the name of the context the address came from.
    pub context: String,
    /// `unix://…`, `tcp://…`, `ssh://…`.
    pub host: String,
    pub tls: Option<TlsFiles>,
    /// `DOCKER_API_VERSION`: every request names this API version, as the docker CLI's do, and
    /// the daemon answers in it (or refuses a version it does not speak).
    pub api_version: Option<(u32, u32)>,
}

/// What the command line and the environment say; separate so that tests can pass their own.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub host_flag: Option<String>,
    pub context_flag: Option<String>,
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    pub tls_verify: bool,
    pub cert_path: Option<PathBuf>,
    pub config_dir: PathBuf,
    pub api_version: Option<String>,
}

impl Selection {
    /// The flags given plus this process's environment.
    pub fn from_env(host_flag: Option<String>, context_flag: Option<String>) -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let config_dir = var("DOCKER_CONFIG").map_or_else(
            || {
                std::env::var_os("HOME").map_or_else(
                    || PathBuf::from(".docker"),
                    |h| Path::new(&h).join(".docker"),
                )
            },
            PathBuf::from,
        );
        Selection {
            host_flag,
            context_flag,
            docker_host: var("DOCKER_HOST"),
            docker_context: var("DOCKER_CONTEXT"),
            tls_verify: var("DOCKER_TLS_VERIFY").is_some_and(|v| v != "0"),
            cert_path: var("DOCKER_CERT_PATH").map(PathBuf::from),
            config_dir,
            api_version: var("DOCKER_API_VERSION"),
        }
    }
}

pub fn resolve(sel: &Selection) -> Result<Endpoint> {
    let mut ep = resolve_address(sel)?;
    ep.api_version = sel
        .api_version
        .as_deref()
        .map(parse_api_version)
        .transpose()?;
    Ok(ep)
}

/// `1.41` as (1, 41).
pub fn parse_api_version(v: &str) -> Result<(u32, u32)> {
    v.trim()
        .trim_start_matches('v')
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| {
            crate::exit::UsageError::new(format!("DOCKER_API_VERSION=`{v}` is not an API version"))
                .hint("write it as MAJOR.MINOR, such as 1.41, or unset it to use the daemon's own")
                .into()
        })
}

fn resolve_address(sel: &Selection) -> Result<Endpoint> {
    if sel.host_flag.is_some() && sel.context_flag.is_some() {
        bail!(
            "both --host and --context name a daemon\n  = help: give one of them (a context already holds its host)"
        );
    }
    let default = |host: String| default_context(sel, host);
    if let Some(h) = &sel.host_flag {
        return default(h.clone());
    }
    if let Some(c) = &sel.context_flag {
        return context(sel, c);
    }
    if let Some(h) = &sel.docker_host {
        return default(h.clone());
    }
    if let Some(c) = &sel.docker_context {
        return context(sel, c);
    }
    if let Some(c) = current_context(&sel.config_dir)? {
        return context(sel, &c);
    }
    default(LOCAL_SOCKET.into())
}

/// `currentContext` of config.json, if set.
fn current_context(config_dir: &Path) -> Result<Option<String>> {
    let path = config_dir.join("config.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("reading {} (the docker CLI's settings)", path.display()))?;
    Ok(json
        .get("currentContext")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned))
}

fn context_dir(config_dir: &Path, kind: &str, name: &str) -> PathBuf {
    let id = hex::encode(Sha256::digest(name.as_bytes()));
    config_dir.join("contexts").join(kind).join(id)
}

/// The `default` context: `host` with the TLS files DOCKER_TLS_VERIFY asks for.
fn default_context(sel: &Selection, host: String) -> Result<Endpoint> {
    let tls = if sel.tls_verify && host.starts_with("tcp://") {
        let dir = sel
            .cert_path
            .clone()
            .unwrap_or_else(|| sel.config_dir.clone());
        Some(tls_in(&dir)?)
    } else {
        None
    };
    Ok(Endpoint {
        api_version: None,
        context: "default".into(),
        host,
        tls,
    })
}

fn context(sel: &Selection, name: &str) -> Result<Endpoint> {
    if name == "default" {
        let host = sel
            .docker_host
            .clone()
            .unwrap_or_else(|| LOCAL_SOCKET.into());
        return default_context(sel, host);
    }
    let meta = context_dir(&sel.config_dir, "meta", name).join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|_| {
        let known = known_contexts(&sel.config_dir);
        anyhow!(
            "context `{name}` does not exist\n  = help: known contexts: {}; create one with `docker context create {name} --docker host=…`",
            if known.is_empty() {
                "default".to_owned()
            } else {
                format!("default, {}", known.join(", "))
            }
        )
    })?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("reading context `{name}` ({})", meta.display()))?;
    let docker = &json["Endpoints"]["docker"];
    let host = docker["Host"]
        .as_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            anyhow!(
                "context `{name}` has no Docker endpoint ({})",
                meta.display()
            )
        })?
        .to_owned();
    let tls_dir = context_dir(&sel.config_dir, "tls", name).join("docker");
    let tls = if tls_dir.join("cert.pem").is_file() || tls_dir.join("ca.pem").is_file() {
        Some(TlsFiles {
            ca: tls_dir.join("ca.pem"),
            cert: tls_dir.join("cert.pem"),
            key: tls_dir.join("key.pem"),
        })
    } else {
        None
    };
    Ok(Endpoint {
        api_version: None,
        context: name.to_owned(),
        host,
        tls,
    })
}

/// The names of the contexts in `config_dir`, sorted.
fn known_contexts(config_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(config_dir.join("contexts/meta"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("meta.json")).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .filter_map(|j| j["Name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

fn tls_in(dir: &Path) -> Result<TlsFiles> {
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    for f in [&files.ca, &files.cert, &files.key] {
        if !f.is_file() {
            bail!(
                "DOCKER_TLS_VERIFY is set but {} is missing\n  = help: point DOCKER_CERT_PATH at the folder holding ca.pem, cert.pem and key.pem",
                f.display()
            );
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_versions_read_as_the_docker_cli_writes_them() {
        assert_eq!(parse_api_version("1.41").unwrap(), (1, 41));
        assert_eq!(parse_api_version(" v1.51 ").unwrap(), (1, 51));
        for bad in ["1", "latest", "1.x", ""] {
            assert!(parse_api_version(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    fn sel(dir: &Path) -> Selection {
        Selection {
            config_dir: dir.to_path_buf(),
            ..Default::default()
        }
    }

    fn make_context(dir: &Path, name: &str, host: &str) {
        let meta = context_dir(dir, "meta", name);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#),
        )
        .unwrap();
    }

    #[test]
    fn the_order_is_the_docker_clis() {
        let dir = tempfile::tempdir().unwrap();
        make_context(dir.path(), "remote", "tcp://10.0.0.9:2375");
        make_context(dir.path(), "other", "tcp://10.0.0.8:2375");
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"other"}"#,
        )
        .unwrap();
        let mut s = sel(dir.path());
        assert_eq!(
            resolve(&s).unwrap().host,
            "tcp://10.0.0.8:2375",
            "current context"
        );
        s.docker_context = Some("remote".into());
        assert_eq!(
            resolve(&s).unwrap().context,
            "remote",
            "DOCKER_CONTEXT over config"
        );
        s.docker_host = Some("tcp://1.2.3.4:2375".into());
        assert_eq!(
            resolve(&s).unwrap().host,
            "tcp://1.2.3.4:2375",
            "DOCKER_HOST over DOCKER_CONTEXT"
        );
        s.context_flag = Some("other".into());
        assert_eq!(
            resolve(&s).unwrap().context,
            "other",
            "--context over DOCKER_HOST"
        );
        s.context_flag = None;
        s.host_flag = Some("unix:///tmp/d.sock".into());
        assert_eq!(
            resolve(&s).unwrap().host,
            "unix:///tmp/d.sock",
            "--host first"
        );
        s.context_flag = Some("other".into());
        assert!(resolve(&s).is_err(), "--host with --context");
    }

    #[test]
    fn an_unknown_context_names_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        make_context(dir.path(), "remote", "tcp://10.0.0.9:2375");
        let mut s = sel(dir.path());
        s.docker_context = Some("foo".into());
        let e = format!("{:#}", resolve(&s).unwrap_err());
        assert!(e.contains("context `foo` does not exist"), "{e}");
        assert!(e.contains("known contexts: default, remote"), "{e}");
    }

    #[test]
    fn nothing_set_is_the_local_socket_and_tls_files_are_required() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sel(dir.path());
        assert_eq!(resolve(&s).unwrap().host, LOCAL_SOCKET);
        s.docker_host = Some("tcp://1.2.3.4:2376".into());
        s.tls_verify = true;
        s.cert_path = Some(dir.path().to_path_buf());
        let e = format!("{:#}", resolve(&s).unwrap_err());
        assert!(e.contains("ca.pem is missing"), "{e}");
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        assert_eq!(
            resolve(&s).unwrap().tls.unwrap().key,
            dir.path().join("key.pem")
        );
    }
}
