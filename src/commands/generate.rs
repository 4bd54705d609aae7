//! `alpha generate`: a Compose file for containers that exist already (made by `docker run`, say),
//! as compose writes it: a service per container (or per compose service, its replicas counted),
//! with the image, the environment the container adds to its image's, labels, health check,
//! published ports, volumes and bind mounts (files under /run/secrets as secrets) and networks.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde_yaml::{Mapping, Value};

use super::Ctx;
use crate::cli::GenerateArgs;
use crate::engine::generate::{self, Described};
use crate::exit::UsageError;

pub fn run(ctx: &Ctx, args: GenerateArgs) -> Result<()> {
    crate::ui::note("generate command is EXPERIMENTAL");
    if args.containers.is_empty() {
        return Err(UsageError::new("at least one container must be specified")
            .hint("name containers (or give their IDs): stackctl alpha generate web-1 db-1")
            .into());
    }
    let json = match args.format.as_str() {
        "yaml" => false,
        "json" => true,
        other => {
            return Err(UsageError::new(format!("unsupported format \"{other}\""))
                .hint("use --format yaml or --format json")
                .into());
        }
    };
    let found =
        ctx.block_on(async { generate::describe(&ctx.connect().await?, &args.containers).await })?;
    if found.is_empty() {
        anyhow::bail!(
            "no container(s) found with the following name(s): {}",
            args.containers.join(",")
        );
    }
    let doc = project(&found, args.name.as_deref(), json);
    let text = if json {
        serde_json::to_string_pretty(&doc)?
    } else {
        serde_yaml::to_string(&doc)?
    };
    // compose prints the document and then an empty line.
    crate::ui::out(format!("{text}\n"))?;
    Ok(())
}

/// The Compose file of `containers`; `json` adds the null `command`/`entrypoint` and the empty
/// `ipam` compose's JSON carries.
fn project(containers: &[Described], name: Option<&str>, json: bool) -> Value {
    let mut services: BTreeMap<String, Mapping> = BTreeMap::new();
    let mut networks: BTreeMap<String, Mapping> = BTreeMap::new();
    let mut volumes: BTreeMap<String, Mapping> = BTreeMap::new();
    let mut secrets: BTreeMap<String, Mapping> = BTreeMap::new();
    for c in containers {
        let labels = c.summary.labels.clone().unwrap_or_default();
        let service = labels
            .get("com.docker.compose.service")
            .cloned()
            .unwrap_or_else(|| container_name(c));
        let svc = services.entry(service).or_insert_with(|| {
            let mut m = Mapping::new();
            m.insert(
                "image".into(),
                c.summary.image.clone().unwrap_or_default().into(),
            );
            let own: BTreeMap<&String, &String> = labels
                .iter()
                .filter(|(k, _)| {
                    !k.starts_with("com.docker.compose.") && !k.starts_with("desktop.docker.io")
                })
                .collect();
            if !own.is_empty() {
                m.insert(
                    "labels".into(),
                    serde_yaml::to_value(own).unwrap_or_default(),
                );
            }
            if json {
                m.insert("command".into(), Value::Null);
                m.insert("entrypoint".into(), Value::Null);
            }
            m
        });
        let scale = svc.get("scale").and_then(Value::as_u64).unwrap_or(0) + 1;
        svc.insert("scale".into(), scale.into());
        let Some(inspect) = &c.inspect else { continue };
        let env = added_environment(
            inspect
                .config
                .as_ref()
                .and_then(|c| c.env.as_deref())
                .unwrap_or_default(),
            &c.image_env,
        );
        if !env.is_empty() {
            svc.insert("environment".into(), env.into());
        }
        if let Some(check) = inspect.config.as_ref().and_then(|c| c.healthcheck.as_ref()) {
            svc.insert("healthcheck".into(), healthcheck(check).into());
        }
        let mounts = inspect.mounts.as_deref().unwrap_or_default();
        let mut svc_volumes = Vec::new();
        let mut svc_secrets = Vec::new();
        for m in mounts {
            let kind = m.typ.clone().unwrap_or_default();
            let target = m.destination.clone().unwrap_or_default();
            let mut v = Mapping::new();
            v.insert("type".into(), kind.clone().into());
            match kind.as_str() {
                "volume" => {
                    let name = m.name.clone().unwrap_or_default();
                    let mut def = Mapping::new();
                    let driver = m.driver.clone().unwrap_or_default();
                    if driver != "local" && !driver.is_empty() {
                        def.insert("name".into(), name.clone().into());
                        def.insert("driver".into(), driver.into());
                    }
                    volumes.insert(name.clone(), def);
                    v.insert("source".into(), name.into());
                }
                "bind" if target.starts_with("/run/secrets") => {
                    let name = target.rsplit('/').next().unwrap_or_default().to_owned();
                    let source = m.source.clone().unwrap_or_default();
                    let file = source.strip_prefix("/host_mnt").unwrap_or(&source);
                    let mut def = Mapping::new();
                    def.insert("name".into(), name.clone().into());
                    def.insert("file".into(), file.into());
                    secrets.insert(name.clone(), def);
                    let mut r = Mapping::new();
                    r.insert("source".into(), name.into());
                    r.insert("target".into(), target.into());
                    svc_secrets.push(Value::Mapping(r));
                    continue;
                }
                "bind" => {
                    v.insert("source".into(), m.source.clone().unwrap_or_default().into());
                }
                _ => continue,
            }
            v.insert("target".into(), target.into());
            if m.rw == Some(false) {
                v.insert("read_only".into(), true.into());
            }
            svc_volumes.push(Value::Mapping(v));
        }
        if !svc_volumes.is_empty() {
            svc.insert("volumes".into(), Value::Sequence(svc_volumes));
        }
        if !svc_secrets.is_empty() {
            svc.insert("secrets".into(), Value::Sequence(svc_secrets));
        }
        let attached = inspect
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.as_ref());
        let mut svc_networks = Mapping::new();
        for (net, endpoint) in attached.into_iter().flatten() {
            let mut e = Mapping::new();
            if let Some(aliases) = endpoint.aliases.as_ref().filter(|a| !a.is_empty()) {
                e.insert(
                    "aliases".into(),
                    serde_yaml::to_value(aliases).unwrap_or_default(),
                );
            }
            svc_networks.insert(net.clone().into(), Value::Mapping(e));
            let mut def = Mapping::new();
            if c.internal.get(net).copied().unwrap_or(false) {
                def.insert("internal".into(), true.into());
            }
            if json {
                def.insert("ipam".into(), Value::Mapping(Mapping::new()));
            }
            networks.insert(net.clone(), def);
        }
        if !svc_networks.is_empty() {
            svc.insert("networks".into(), Value::Mapping(svc_networks));
        }
        let bindings = inspect
            .host_config
            .as_ref()
            .and_then(|h| h.port_bindings.as_ref());
        let mut ports: Vec<(u16, String, Value)> = Vec::new();
        for (key, list) in bindings.into_iter().flatten() {
            let (number, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
            let target: u16 = number.parse().unwrap_or(0);
            for b in list.iter().flatten() {
                let mut p = Mapping::new();
                if let Some(ip) = b.host_ip.as_ref().filter(|ip| !ip.is_empty()) {
                    p.insert("host_ip".into(), ip.clone().into());
                }
                p.insert("target".into(), target.into());
                let published = b.host_port.clone().unwrap_or_default();
                p.insert("published".into(), published.clone().into());
                p.insert("protocol".into(), protocol.into());
                ports.push((target, published, Value::Mapping(p)));
            }
        }
        if !ports.is_empty() {
            ports.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            let list = ports.into_iter().map(|(_, _, p)| p).collect();
            svc.insert("ports".into(), Value::Sequence(list));
        }
    }
    let mut doc = Mapping::new();
    if name.is_some() || json {
        doc.insert("name".into(), name.unwrap_or_default().into());
    }
    let section = |all: BTreeMap<String, Mapping>| -> Value {
        Value::Mapping(
            all.into_iter()
                .map(|(k, v)| (Value::from(k), Value::Mapping(v)))
                .collect(),
        )
    };
    doc.insert("services".into(), section(services));
    for (key, all) in [
        ("networks", networks),
        ("volumes", volumes),
        ("secrets", secrets),
    ] {
        if !all.is_empty() {
            doc.insert(key.into(), section(all));
        }
    }
    Value::Mapping(doc)
}

/// The container's name without the daemon's leading slash.
fn container_name(c: &Described) -> String {
    let names = c.summary.names.as_deref().unwrap_or_default();
    names
        .first()
        .map(|n| n.trim_start_matches('/').to_owned())
        .unwrap_or_else(|| c.summary.id.clone().unwrap_or_default())
}

/// The variables the container sets beyond what its image sets (`KEY=VALUE` the image has are
/// left out), by name.
fn added_environment(container: &[String], image: &[String]) -> Mapping {
    let inherited: BTreeSet<&String> = image.iter().collect();
    let mut added: BTreeMap<&str, Value> = BTreeMap::new();
    for entry in container.iter().filter(|e| !inherited.contains(e)) {
        match entry.split_once('=') {
            Some((k, v)) => added.insert(k, v.into()),
            None => added.insert(entry, Value::Null),
        };
    }
    added.into_iter().map(|(k, v)| (k.into(), v)).collect()
}

/// A health check as the Compose file writes it: the test, and each duration and count set.
fn healthcheck(check: &bollard::models::HealthConfig) -> Mapping {
    let mut m = Mapping::new();
    if let Some(test) = &check.test {
        m.insert(
            "test".into(),
            serde_yaml::to_value(test).unwrap_or_default(),
        );
    }
    let durations = [
        ("timeout", check.timeout),
        ("interval", check.interval),
        ("start_period", check.start_period),
        ("start_interval", check.start_interval),
    ];
    for (key, nanos) in durations {
        if let Some(n) = nanos.filter(|n| *n > 0) {
            let d = std::time::Duration::from_nanos(n as u64);
            m.insert(
                key.into(),
                crate::manifest::units::format_duration(d).into(),
            );
        }
    }
    if let Some(r) = check.retries.filter(|r| *r > 0) {
        m.insert("retries".into(), r.into());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_container_adds_to_its_image_is_its_environment() {
        let image = ["PATH=/usr/bin".to_owned(), "LANG=C".to_owned()];
        let container = [
            "PATH=/x".to_owned(),
            "LANG=C".to_owned(),
            "A=1".to_owned(),
            "B=".to_owned(),
        ];
        let env = added_environment(&container, &image);
        let text = serde_yaml::to_string(&env).unwrap();
        assert_eq!(text, "A: '1'\nB: ''\nPATH: /x\n");
    }

    #[test]
    fn a_health_check_keeps_what_is_set() {
        let check = bollard::models::HealthConfig {
            test: Some(vec!["CMD-SHELL".into(), "true".into()]),
            interval: Some(90_000_000_000),
            retries: Some(3),
            timeout: Some(0),
            ..Default::default()
        };
        let m = healthcheck(&check);
        assert_eq!(m["interval"], Value::from("1m30s"));
        assert_eq!(m["retries"], Value::from(3));
        assert!(m.get("timeout").is_none());
    }
}
