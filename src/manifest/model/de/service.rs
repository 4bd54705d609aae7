//! Service keys with union forms of their own: network_mode, extra_hosts, devices, ulimits,
//! env_file, build, restart, deploy, networks, depends_on, secrets and configs.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_yaml::Value;

use super::*;
use crate::manifest::model::*;

/// `network_mode`: `host`, `none`, `bridge`, `service:NAME` (that service's first container) or
/// `container:NAME`.
pub(crate) fn network_mode_opt<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<NetworkMode>, D::Error> {
    string_opt(d)?
        .map(|m| NetworkMode::parse(&m).map_err(fail))
        .transpose()
}

/// `isolation` (Windows daemons): `default`, `process` or `hyperv`.
pub(crate) fn isolation_opt<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Isolation>, D::Error> {
    string_opt(d)?
        .map(|i| match i.as_str() {
            "default" => Ok(Isolation::Default),
            "process" => Ok(Isolation::Process),
            "hyperv" => Ok(Isolation::Hyperv),
            _ => Err(fail(format!(
                "expected default, process or hyperv, found `{i}`"
            ))),
        })
        .transpose()
}

/// `cgroup`: the container's cgroup namespace, `host` or `private`.
pub(crate) fn cgroup_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cgroup>, D::Error> {
    string_opt(d)?
        .map(|c| match c.as_str() {
            "host" => Ok(Cgroup::Host),
            "private" => Ok(Cgroup::Private),
            _ => Err(fail(format!("expected host or private, found `{c}`"))),
        })
        .transpose()
}

/// `memswap_limit`: a size, or -1 for unlimited swap.
pub(crate) fn swap_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Value::deserialize(d)?;
    let unlimited = match &v {
        Value::Number(n) => n.as_i64() == Some(-1),
        Value::String(s) => s.trim() == "-1",
        _ => false,
    };
    if unlimited {
        return Ok(Some(-1));
    }
    size(&v)
        .map(|b| b.map(|b| b.min(i64::MAX as u64) as i64))
        .map_err(|e| fail(format!("{e}, or -1 for unlimited")))
}

/// `extra_hosts`: `host:ip` or `host=ip` items, or a mapping of host to address (or addresses); the
/// engine wants `host:ip`.
pub(crate) fn extra_hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let mut out = Vec::new();
    match Value::deserialize(d)? {
        Value::Null => {}
        Value::Sequence(items) => {
            for s in string_items::<D::Error>(&items)? {
                // `=` first: an IPv6 address is full of colons.
                let (host, ip) = s
                    .split_once('=')
                    .or_else(|| s.split_once(':'))
                    .ok_or_else(|| fail(format!("`{s}` should be HOST:IP or HOST=IP")))?;
                out.push(format!("{host}:{ip}"));
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map {
                let host = scalar_text(&k).ok_or_else(|| fail("host names must be strings"))?;
                let ips = match &v {
                    Value::Sequence(items) => string_items::<D::Error>(items)?,
                    other => vec![scalar_text(other).ok_or_else(|| {
                        fail(format!("the address of `{host}` should be a string"))
                    })?],
                };
                out.extend(ips.into_iter().map(|ip| format!("{host}:{ip}")));
            }
        }
        other => {
            return Err(fail(format!(
                "expected a list of HOST:IP or a mapping, found {}",
                kind_of(&other)
            )));
        }
    }
    Ok(out)
}

/// `devices`: `HOST[:CONTAINER[:PERMISSIONS]]` items, or `{source, target, permissions}`.
pub(crate) fn devices<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Mapping(m) => {
                    let get = |k: &str| m.get(k).and_then(scalar_text);
                    let source = get("source")
                        .ok_or_else(|| fail(format!("device {i}: `source` is missing")))?;
                    let target = get("target").unwrap_or_else(|| source.clone());
                    let perms = get("permissions").unwrap_or_else(|| "rwm".into());
                    Ok(format!("{source}:{target}:{perms}"))
                }
                other => scalar_text(other).ok_or_else(|| {
                    fail(format!(
                        "device {i} should be HOST:CONTAINER, found {}",
                        kind_of(other)
                    ))
                }),
            })
            .collect(),
        other => Err(fail(format!("expected a list, found {}", kind_of(&other)))),
    }
}

/// `ulimits`: `nofile: 1024` or `nofile: {soft: 1024, hard: 4096}`.
pub(crate) fn ulimits<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Ulimit>, D::Error> {
    let number = |name: &str, v: &Value| -> Result<i64, D::Error> {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| fail(format!("ulimit `{name}` should be a whole number")))
    };
    let mut out = BTreeMap::new();
    match Value::deserialize(d)? {
        Value::Null => {}
        Value::Mapping(map) => {
            for (k, v) in map {
                let name = scalar_text(&k).ok_or_else(|| fail("ulimit names must be strings"))?;
                let limit = match &v {
                    Value::Mapping(m) => {
                        if let Some(bad) = m
                            .keys()
                            .filter_map(scalar_text)
                            .find(|k| k != "soft" && k != "hard")
                        {
                            return Err(fail(format!(
                                "ulimit `{name}`: unknown key `{bad}`; expected soft and hard"
                            )));
                        }
                        let part = |key: &str| {
                            m.get(key)
                                .ok_or_else(|| fail(format!("ulimit `{name}` needs `{key}`")))
                                .and_then(|v| number(&name, v))
                        };
                        Ulimit {
                            soft: part("soft")?,
                            hard: part("hard")?,
                        }
                    }
                    other => {
                        let n = number(&name, other)?;
                        Ulimit { soft: n, hard: n }
                    }
                };
                out.insert(name, limit);
            }
        }
        other => {
            return Err(fail(format!(
                "expected a mapping of limits, found {}",
                kind_of(&other)
            )));
        }
    }
    Ok(out)
}

pub(crate) fn env_files<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<EnvFile>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Mapping(m) => {
                for k in m.keys() {
                    let k = scalar_text(k).unwrap_or_default();
                    if !["path", "required", "format"].contains(&k.as_str()) {
                        return Err(fail(format!(
                            "unknown key `{k}` in an env_file entry; valid: path, required, format"
                        )));
                    }
                }
                let path = m
                    .get("path")
                    .and_then(scalar_text)
                    .ok_or_else(|| fail("an env_file entry in long form needs `path`"))?;
                let required = m.get("required").and_then(Value::as_bool).unwrap_or(true);
                let raw = match m.get("format").and_then(scalar_text).as_deref() {
                    None => false,
                    Some("raw") => true,
                    Some(other) => {
                        return Err(fail(format!(
                            "env_file format `{other}` is not known; use `raw`, or leave it out for the dotenv format"
                        )));
                    }
                };
                Ok(EnvFile { path, required, raw })
            }
            other => scalar_text(&other)
                .map(|path| EnvFile {
                    path,
                    required: true,
                    raw: false,
                })
                .ok_or_else(|| fail(format!("expected a path, found {}", kind_of(&other)))),
        })
        .collect()
}

/// `build.ssh`: `ID` or `ID=PATH` items, or a mapping of ID to path (empty for the agent).
pub(crate) fn ssh_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => string_items(&items),
        Value::Mapping(map) => map
            .into_iter()
            .map(|(k, v)| {
                let id = scalar_text(&k).ok_or_else(|| fail("ssh ids must be strings"))?;
                Ok(match scalar_text(&v).filter(|p| !p.is_empty()) {
                    Some(path) => format!("{id}={path}"),
                    None => id,
                })
            })
            .collect(),
        other => Err(fail(format!(
            "expected a list of ID or ID=PATH, found {}",
            kind_of(&other)
        ))),
    }
}

pub(crate) fn build_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Build>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(context) => Ok(Some(Build {
            context,
            ..Build::default()
        })),
        v @ Value::Mapping(_) => {
            let mut map = v;
            if let Value::Mapping(m) = &mut map
                && !m.contains_key("context")
            {
                m.insert("context".into(), ".".into());
            }
            Build::deserialize(map).map(Some).map_err(fail)
        }
        other => Err(fail(format!(
            "expected a path or a mapping with `context`, found {}",
            kind_of(&other)
        ))),
    }
}

pub(crate) fn restart_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Restart>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Bool(false) => Ok(Some(Restart::No)),
        Value::String(s) => Restart::parse(&s).map(Some).map_err(fail),
        other => Err(fail(format!(
            "expected one of no, always, on-failure[:N], unless-stopped; found {}",
            kind_of(&other)
        ))),
    }
}

pub(crate) fn deploy_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DeployMode>, D::Error> {
    match string_opt(d)?.as_deref() {
        None => Ok(None),
        Some("replicated") => Ok(Some(DeployMode::Replicated)),
        Some("global") => Ok(Some(DeployMode::Global)),
        Some(m) => Err(fail(format!(
            "`{m}` is not a deploy mode; use replicated or global"
        ))),
    }
}

pub(crate) fn pull_policy_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let policy = string_opt(d)?;
    if let Some(p) = &policy {
        // The policy alone: `pull_refresh_after` is checked by its own decoder.
        crate::manifest::units::PullPolicy::read(Some(p), None).map_err(|e| {
            fail(if e.contains("not a pull policy") {
                e
            } else {
                format!("pull policy `{p}`: {e}; write every_12h, every_2d or every_1w")
            })
        })?;
    }
    Ok(policy)
}

pub(crate) fn pull_refresh_after_opt<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let after = string_opt(d)?;
    if let Some(a) = &after {
        crate::manifest::units::refresh_after_interval(a)
            .map_err(|e| fail(format!("{e}; write a duration such as 12h, 2d or 1w")))?;
    }
    Ok(after)
}

pub(crate) fn service_networks<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, ServiceNetwork>, D::Error> {
    let mut out = BTreeMap::new();
    match Value::deserialize(d)? {
        Value::Null => {}
        Value::Sequence(items) => {
            for name in string_items::<D::Error>(&items)? {
                out.insert(
                    name,
                    ServiceNetwork {
                        bare: true,
                        ..Default::default()
                    },
                );
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map {
                let name = scalar_text(&k).ok_or_else(|| fail("network names must be strings"))?;
                let net = match v {
                    Value::Null => ServiceNetwork {
                        bare: true,
                        ..Default::default()
                    },
                    v @ Value::Mapping(_) => ServiceNetwork::deserialize(v)
                        .map_err(|e| fail(format!("under network `{name}`: {e}")))?,
                    other => {
                        return Err(fail(format!(
                            "network `{name}` should map to settings, found {}",
                            kind_of(&other)
                        )));
                    }
                };
                out.insert(name, net);
            }
        }
        other => {
            return Err(fail(format!(
                "expected a list or a mapping of networks, found {}",
                kind_of(&other)
            )));
        }
    }
    Ok(out)
}

pub(crate) fn depends_on<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Dependency>, D::Error> {
    let mut out = BTreeMap::new();
    match Value::deserialize(d)? {
        Value::Null => {}
        Value::Sequence(items) => {
            for name in string_items::<D::Error>(&items)? {
                out.insert(
                    name,
                    Dependency {
                        condition: Condition::ServiceStarted,
                        required: true,
                        restart: false,
                    },
                );
            }
        }
        Value::Mapping(map) => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Long {
                #[serde(default)]
                condition: Option<Condition>,
                #[serde(default, deserialize_with = "bool_opt")]
                required: Option<bool>,
                #[serde(default, deserialize_with = "bool_opt")]
                restart: Option<bool>,
            }
            for (k, v) in map {
                let name = scalar_text(&k).ok_or_else(|| fail("service names must be strings"))?;
                let long = match v {
                    Value::Null => Long { condition: None, required: None, restart: None },
                    other => Long::deserialize(other).map_err(|e| {
                        fail(format!(
                            "dependency `{name}`: {e} (condition is one of service_started, service_healthy, service_completed_successfully)"
                        ))
                    })?,
                };
                out.insert(
                    name,
                    Dependency {
                        condition: long.condition.unwrap_or(Condition::ServiceStarted),
                        required: long.required.unwrap_or(true),
                        restart: long.restart.unwrap_or(false),
                    },
                );
            }
        }
        other => {
            return Err(fail(format!(
                "expected a list or a mapping of services, found {}",
                kind_of(&other)
            )));
        }
    }
    Ok(out)
}

pub(crate) fn service_secrets<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<ServiceSecret>, D::Error> {
    service_refs(Value::deserialize(d)?, RefKind::Secret)
}

/// `configs` of a service: as `secrets`; a config's default target is `/<name>`.
pub(crate) fn service_configs<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<ServiceSecret>, D::Error> {
    service_refs(Value::deserialize(d)?, RefKind::Config)
}

/// `secrets` of a build: lent to `RUN --mount=type=secret,id=TARGET`, TARGET the name by default.
pub(crate) fn build_secrets<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<ServiceSecret>, D::Error> {
    service_refs(Value::deserialize(d)?, RefKind::BuildSecret)
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum RefKind {
    Secret,
    Config,
    BuildSecret,
}

/// A service's list of secrets or configs: names, or `{source, target, uid, gid, mode}`.
pub(crate) fn service_refs<E: de::Error>(v: Value, kind: RefKind) -> Result<Vec<ServiceSecret>, E> {
    let noun = if kind == RefKind::Config {
        "config"
    } else {
        "secret"
    };
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        other => {
            return Err(fail(format!(
                "expected a list of {noun}s, found {}",
                kind_of(&other)
            )));
        }
    };
    let with_default = |source: String, target: Option<String>| {
        let (target, target_implicit) = match (target, kind) {
            (Some(t), _) => (t, false),
            (None, RefKind::Secret) => (format!("/run/secrets/{source}"), false),
            (None, RefKind::Config) => (format!("/{source}"), true),
            (None, RefKind::BuildSecret) => (source.clone(), true),
        };
        ServiceSecret {
            source,
            target,
            target_implicit,
            uid: None,
            gid: None,
            mode: None,
        }
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Mapping(m) => {
                for key in m.keys().filter_map(|k| k.as_str()) {
                    if !["source", "target", "uid", "gid", "mode"].contains(&key) {
                        return Err(fail(format!(
                            "unknown key `{key}` in a {noun}; expected source, target, uid, gid or mode"
                        )));
                    }
                }
                let source = m
                    .get("source")
                    .and_then(scalar_text)
                    .ok_or_else(|| fail(format!("a {noun} in long form needs `source`")))?;
                let mut r = with_default(source, m.get("target").and_then(scalar_text));
                r.uid = m.get("uid").and_then(scalar_text);
                r.gid = m.get("gid").and_then(scalar_text);
                r.mode = match m.get("mode") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(file_mode(v).map_err(fail)?),
                };
                Ok(r)
            }
            other => scalar_text(&other)
                .map(|s| with_default(s, None))
                .ok_or_else(|| fail(format!("expected a {noun} name, found {}", kind_of(&other)))),
        })
        .collect()
}

/// A file mode: `0440` and `0o440` are octal (as compose reads them), a plain number is taken as
/// it is.
fn file_mode(v: &Value) -> Result<u32, String> {
    let bad = || {
        let found = match v {
            Value::String(s) => format!("`{s}`"),
            other => kind_of(other).to_owned(),
        };
        format!("`mode` should be an octal file mode such as 0440, found {found}")
    };
    match v {
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(bad),
        Value::String(s) => {
            let digits = s
                .strip_prefix("0o")
                .or_else(|| s.strip_prefix('0'))
                .unwrap_or(s);
            let radix = if digits.len() < s.len() { 8 } else { 10 };
            if digits.is_empty() {
                return Ok(0);
            }
            u32::from_str_radix(digits, radix).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// A device request's `count`: a number, or `all` (-1, as the engine wants it).
pub(crate) fn device_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s == "all" => Ok(Some(-1)),
        v => whole_number(&v)
            .map_err(fail)?
            .map(Some)
            .ok_or_else(|| fail("expected a number of devices or `all`")),
    }
}

/// `gpus`: `all`, or a list of device requests (the GPU capability is implied).
pub(crate) fn gpus<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DeviceRequest>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s == "all" => Ok(vec![DeviceRequest {
            count: Some(-1),
            ..DeviceRequest::default()
        }]),
        Value::Sequence(items) => items
            .into_iter()
            .map(|i| DeviceRequest::deserialize(i).map_err(fail))
            .collect(),
        other => Err(fail(format!(
            "expected `all` or a list of device requests, found {}",
            kind_of(&other)
        ))),
    }
}
