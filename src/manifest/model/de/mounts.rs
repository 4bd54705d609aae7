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
            Value::Mapping(m) => long_form(i, m).map_err(fail),
            other => {
                let s = scalar_text(&other).ok_or_else(|| {
                    fail(format!(
                        "volume {i} should be a string like \"data:/var/lib/data\", found {}",
                        kind_of(&other)
                    ))
                })?;
                parse_mount_short(&s).map_err(|e| fail(format!("volume {i} `{s}`: {e}")))
            }
        })
        .collect()
}

const LONG_FORM_KEYS: &[&str] = &[
    "type",
    "source",
    "target",
    "read_only",
    "volume",
    "bind",
    "tmpfs",
    "image",
    "consistency",
];

/// `{type, source, target, read_only, volume: {...}, bind: {...}, tmpfs: {...}, image: {...}}`.
fn long_form(i: usize, m: serde_yaml::Mapping) -> Result<Mount, String> {
    for key in m.keys() {
        let key = scalar_text(key).unwrap_or_default();
        if !LONG_FORM_KEYS.contains(&key.as_str()) {
            return Err(format!(
                "volume {i}: unknown key `{key}`; expected one of {}",
                LONG_FORM_KEYS.join(", ")
            ));
        }
    }
    let kind = match m.get("type").and_then(scalar_text).as_deref() {
        Some("volume") | None => MountKind::Volume,
        Some("bind") => MountKind::Bind,
        Some("tmpfs") => MountKind::Tmpfs,
        Some("image") => MountKind::Image,
        Some("npipe") | Some("cluster") => {
            return Err(format!(
                "volume {i}: type `{}` is part of the Compose format; stackctl does not support it yet (it runs Linux engines)",
                m.get("type").and_then(scalar_text).unwrap_or_default()
            ));
        }
        Some(other) => {
            return Err(format!(
                "volume {i}: type `{other}` is not volume, bind, tmpfs or image"
            ));
        }
    };
    let target = m
        .get("target")
        .and_then(scalar_text)
        .ok_or_else(|| format!("volume {i}: the long form needs `target`"))?;
    let source = m.get("source").and_then(scalar_text);
    if matches!(kind, MountKind::Bind | MountKind::Image) && source.is_none() {
        return Err(format!(
            "volume {i}: a {} mount needs `source`",
            if kind == MountKind::Bind {
                "bind"
            } else {
                "image"
            }
        ));
    }
    fn options<T: serde::de::DeserializeOwned>(
        i: usize,
        m: &serde_yaml::Mapping,
        key: &str,
    ) -> Result<Option<T>, String> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_yaml::from_value(v.clone())
                .map(Some)
                .map_err(|e| format!("volume {i}: `{key}`: {e}")),
        }
    }
    let mount = Mount {
        kind,
        source,
        target: container_path(&target),
        read_only: m.get("read_only").and_then(Value::as_bool).unwrap_or(false),
        volume: options(i, &m, "volume")?,
        bind: options(i, &m, "bind")?,
        tmpfs: options(i, &m, "tmpfs")?,
        image: options(i, &m, "image")?,
        consistency: m.get("consistency").and_then(scalar_text),
    };
    // Options of another kind than the mount's are a mistake the engine would refuse.
    let stray = [
        ("volume", mount.volume.is_some(), MountKind::Volume),
        ("bind", mount.bind.is_some(), MountKind::Bind),
        ("tmpfs", mount.tmpfs.is_some(), MountKind::Tmpfs),
        ("image", mount.image.is_some(), MountKind::Image),
    ]
    .into_iter()
    .find(|(_, set, k)| *set && *k != kind);
    if let Some((key, _, _)) = stray {
        return Err(format!(
            "volume {i}: `{key}` options on a mount of another type; set `type: {key}` or remove them"
        ));
    }
    Ok(mount)
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
    let kind = match source {
        None => MountKind::Volume,
        Some(src) if src.starts_with(['.', '/', '~']) => MountKind::Bind,
        Some("") => return Err("the source before `:` is empty".into()),
        Some(_) => MountKind::Volume,
    };
    let mut mount = Mount {
        kind,
        source: source.map(str::to_owned),
        target: container_path(target),
        // The short form creates a missing host folder, as `docker run -v` does.
        bind: (kind == MountKind::Bind).then(|| BindOptions {
            create_host_path: Some(true),
            ..BindOptions::default()
        }),
        ..Mount::default()
    };
    for opt in mode.into_iter().flat_map(|m| m.split(',')) {
        match (opt, mount.bind.as_mut()) {
            ("ro", _) => mount.read_only = true,
            ("rw", _) => {}
            ("z" | "Z", Some(bind)) => bind.selinux = Some(opt.to_owned()),
            ("shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate", Some(bind)) => {
                bind.propagation = Some(opt.to_owned())
            }
            ("nocopy", None) if kind == MountKind::Volume => {
                mount.volume.get_or_insert_with(Default::default).nocopy = true
            }
            ("cached" | "delegated" | "consistent", _) => mount.consistency = Some(opt.to_owned()),
            (other, _) => {
                return Err(format!(
                    "unknown mode `{other}` for a {} mount; use ro or rw",
                    if kind == MountKind::Bind {
                        "bind"
                    } else {
                        "volume"
                    }
                ));
            }
        }
    }
    Ok(mount)
}

/// A container path without a trailing `/` (`/data/` and `/data` are one mount point), as compose
/// writes it.
fn container_path(target: &str) -> String {
    match target.trim_end_matches('/') {
        "" => "/".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}
