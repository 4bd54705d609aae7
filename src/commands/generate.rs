//! `alpha generate`: a Compose file for containers that exist already (made by `docker run`, say),
//! as compose writes it: a service per container (or per compose service, its replicas counted),
//! with the image, the environment the container adds to its image's, labels, health check,
//! published ports, volumes and bind mounts (files under /run/secrets as secrets) and networks.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde_yaml::{Mapping, Value};

use super::Ctx;
use crate::cli::GenerateArgs;
use crate::engine::generate::{self, Container, Health};
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
fn project(containers: &[Container], name: Option<&str>, json: bool) -> Value {
    let mut services: BTreeMap<String, Mapping> = BTreeMap::new();
    let mut networks: BTreeMap<String, Mapping> = BTreeMap::new();
    let mut volumes: BTreeMap<String, Mapping> = BTreeMap::new();
    let mut secrets: BTreeMap<String, Mapping> = BTreeMap::new();
    let map = |pairs: Vec<(&str, Value)>| -> Mapping {
        pairs.into_iter().map(|(k, v)| (k.into(), v)).collect()
    };
    for c in containers {
        let service = c.service.clone().unwrap_or_else(|| c.name.clone());
        let svc = services.entry(service).or_insert_with(|| {
            let mut m = map(vec![("image", c.image.clone().into())]);
            if !c.labels.is_empty() {
                m.insert(
                    "labels".into(),
                    serde_yaml::to_value(&c.labels).unwrap_or_default(),
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
        if !c.inspected {
            continue;
        }
        let env = added_environment(&c.env, &c.image_env);
        if !env.is_empty() {
            svc.insert("environment".into(), env.into());
        }
        if let Some(h) = &c.health {
            svc.insert("healthcheck".into(), healthcheck(h).into());
        }
        let mut svc_volumes = Vec::new();
        let mut svc_secrets = Vec::new();
        for m in &c.mounts {
            let mut v = map(vec![("type", m.kind.clone().into())]);
            match m.kind.as_str() {
                "volume" => {
                    let mut def = Mapping::new();
                    if m.driver != "local" && !m.driver.is_empty() {
                        def.insert("name".into(), m.name.clone().into());
                        def.insert("driver".into(), m.driver.clone().into());
                    }
                    volumes.insert(m.name.clone(), def);
                    v.insert("source".into(), m.name.clone().into());
                }
                "bind" if m.destination.starts_with("/run/secrets") => {
                    let name = m.destination.rsplit('/').next().unwrap_or_default();
                    let file = m.source.strip_prefix("/host_mnt").unwrap_or(&m.source);
                    let def = map(vec![("name", name.into()), ("file", file.into())]);
                    secrets.insert(name.to_owned(), def);
                    let target = m.destination.clone().into();
                    let r = map(vec![("source", name.into()), ("target", target)]);
                    svc_secrets.push(Value::Mapping(r));
                    continue;
                }
                "bind" => {
                    v.insert("source".into(), m.source.clone().into());
                }
                _ => continue,
            }
            v.insert("target".into(), m.destination.clone().into());
            if m.read_only {
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
        let mut svc_networks = Mapping::new();
        for (net, aliases, internal) in &c.networks {
            let mut e = Mapping::new();
            if !aliases.is_empty() {
                e.insert(
                    "aliases".into(),
                    serde_yaml::to_value(aliases).unwrap_or_default(),
                );
            }
            svc_networks.insert(net.clone().into(), Value::Mapping(e));
            let mut def = Mapping::new();
            if *internal {
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
        let mut ports: Vec<(u16, &str, Value)> = c
            .ports
            .iter()
            .map(|(key, ip, published)| {
                let (number, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
                let target: u16 = number.parse().unwrap_or(0);
                let mut p = Mapping::new();
                if !ip.is_empty() {
                    p.insert("host_ip".into(), ip.clone().into());
                }
                p.insert("target".into(), target.into());
                p.insert("published".into(), published.clone().into());
                p.insert("protocol".into(), protocol.into());
                (target, published.as_str(), Value::Mapping(p))
            })
            .collect();
        if !ports.is_empty() {
            ports.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
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
fn healthcheck(h: &Health) -> Mapping {
    let mut m = Mapping::new();
    if !h.test.is_empty() {
        m.insert(
            "test".into(),
            serde_yaml::to_value(&h.test).unwrap_or_default(),
        );
    }
    let durations = [
        ("timeout", h.timeout),
        ("interval", h.interval),
        ("start_period", h.start_period),
        ("start_interval", h.start_interval),
    ];
    for (key, nanos) in durations.into_iter().filter(|(_, n)| *n > 0) {
        let d = std::time::Duration::from_nanos(nanos as u64);
        m.insert(
            key.into(),
            crate::manifest::units::format_duration(d).into(),
        );
    }
    if h.retries > 0 {
        m.insert("retries".into(), h.retries.into());
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
        let check = Health {
            test: vec!["CMD-SHELL".into(), "true".into()],
            interval: 90_000_000_000,
            retries: 3,
            ..Default::default()
        };
        let m = healthcheck(&check);
        assert_eq!(m["interval"], Value::from("1m30s"));
        assert_eq!(m["retries"], Value::from(3));
        assert!(m.get("timeout").is_none());
    }

    #[test]
    fn replicas_of_one_service_are_its_scale_and_secrets_come_from_run_secrets() {
        let replica = |n: &str| Container {
            service: Some("web".into()),
            name: n.into(),
            image: "nginx".into(),
            inspected: true,
            mounts: vec![generate::Mount {
                kind: "bind".into(),
                source: "/host_mnt/srv/token".into(),
                destination: "/run/secrets/token".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let doc = project(&[replica("p-web-1"), replica("p-web-2")], None, false);
        assert_eq!(doc["services"]["web"]["scale"], Value::from(2));
        assert_eq!(doc["secrets"]["token"]["file"], Value::from("/srv/token"));
        assert_eq!(
            doc["services"]["web"]["secrets"][0]["target"],
            Value::from("/run/secrets/token")
        );
        assert!(doc.get("name").is_none());
    }
}
