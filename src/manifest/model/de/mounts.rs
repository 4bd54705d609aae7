//! `volumes` of a service: the short `SOURCE:TARGET[:MODE]` form and the long form.

use serde::Deserialize;
use serde::de::Deserializer;
use serde_yaml::Value;

use super::*;
use crate::manifest::model::*;

pub(crate) fn mounts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Mount>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        other => {
            return Err(fail(format!(
                "expected a list of volumes, found {}",
                kind_of(&other)
            )));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Mapping(m) => {
                for key in m.keys() {
                    let key = scalar_text(key).unwrap_or_default();
                    if !["type", "source", "target", "read_only", "volume", "bind", "tmpfs", "consistency"].contains(&key.as_str()) {
                        return Err(fail(format!("volume {i}: unknown key `{key}`; expected type, source, target or read_only")));
                    }
                }
                let kind = match m.get("type").and_then(scalar_text).as_deref() {
                    Some("volume") | None => MountKind::Volume,
                    Some("bind") => MountKind::Bind,
                    Some("tmpfs") => MountKind::Tmpfs,
                    Some(other) => return Err(fail(format!("volume {i}: type `{other}` is not volume, bind or tmpfs"))),
                };
                let target = m
                    .get("target")
                    .and_then(scalar_text)
                    .ok_or_else(|| fail(format!("volume {i}: the long form needs `target`")))?;
                let source = m.get("source").and_then(scalar_text);
                if kind == MountKind::Bind && source.is_none() {
                    return Err(fail(format!("volume {i}: a bind mount needs `source`")));
                }
                let read_only = m.get("read_only").and_then(Value::as_bool).unwrap_or(false);
                Ok(Mount {
                    kind,
                    source,
                    target: container_path(&target),
                    read_only,
                })
            }
            other => {
                let s = scalar_text(&other)
                    .ok_or_else(|| fail(format!("volume {i} should be a string like \"data:/var/lib/data\", found {}", kind_of(&other))))?;
                parse_mount_short(&s).map_err(|e| fail(format!("volume {i} `{s}`: {e}")))
            }
        })
        .collect()
}

/// `SOURCE:TARGET[:MODE]` or a bare `TARGET` (an anonymous volume).
pub fn parse_mount_short(s: &str) -> Result<Mount, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [src, t] => (Some(*src), *t, None),
        [src, t, m] => (Some(*src), *t, Some(*m)),
        _ => return Err("too many `:`; the form is SOURCE:TARGET[:ro]".into()),
    };
    if !target.starts_with('/') {
        return Err(format!("the container path `{target}` must be absolute"));
    }
    let mut read_only = false;
    if let Some(mode) = mode {
        for opt in mode.split(',') {
            match opt {
                "ro" => read_only = true,
                "rw" | "z" | "Z" | "nocopy" | "cached" | "delegated" | "consistent" => {}
                other => return Err(format!("unknown mode `{other}`; use ro or rw")),
            }
        }
    }
    let kind = match source {
        None => MountKind::Volume,
        Some(src) if src.starts_with(['.', '/', '~']) => MountKind::Bind,
        Some("") => return Err("the source before `:` is empty".into()),
        Some(_) => MountKind::Volume,
    };
    Ok(Mount {
        kind,
        source: source.map(str::to_owned),
        target: container_path(target),
        read_only,
    })
}

/// A container path without a trailing `/` (`/data/` and `/data` are one mount point), as compose
/// writes it.
fn container_path(target: &str) -> String {
    match target.trim_end_matches('/') {
        "" => "/".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}
