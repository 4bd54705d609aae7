//! YAML values to the typed model, with serde's messages turned into positioned advice.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml::Value;

use crate::manifest::diag::{Diagnostic, Diagnostics, nearest};
use crate::manifest::model::FileTop;
use crate::manifest::source::Locator;
use crate::manifest::spans::FieldPath;

/// Keys that the Compose specification defines for a service but stackctl does not implement yet.
pub(super) const SERVICE_KEYS_UNSUPPORTED: &[&str] = &["driver_opts"];

/// Compose-format keys stackctl does not implement yet, by where they stand (the path's keys with
/// names of services, networks and so on left out): a key found here is "not supported yet", not
/// a typo to correct.
fn not_yet_supported(path: &FieldPath) -> &'static [&'static str] {
    use crate::manifest::spans::Seg;
    let keys: Vec<&str> = path
        .0
        .iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(&**k),
            Seg::Index(_) => None,
        })
        .collect();
    match keys.as_slice() {
        [] => &[],
        ["services", _] => SERVICE_KEYS_UNSUPPORTED,
        ["services", _, "volumes"] => &["image"],
        _ => &[],
    }
}

/// A file's top level, and its `x-` extension entries (which only `config` prints).
pub(super) fn decode_top(
    mut v: Value,
    loc: &Locator,
) -> Result<(FileTop, BTreeMap<String, Value>), Diagnostic> {
    let mut extensions = BTreeMap::new();
    if let Value::Mapping(m) = &mut v {
        let keys: Vec<Value> = m
            .keys()
            .filter(|k| k.as_str().is_some_and(|k| k.starts_with("x-")))
            .cloned()
            .collect();
        for k in keys {
            if let (Some(name), Some(value)) = (k.as_str().map(str::to_owned), m.remove(&k)) {
                extensions.insert(name, value);
            }
        }
    }
    let top = decode::<FileTop>(v, &FieldPath::root(), loc, &[])?;
    Ok((top, extensions))
}

pub(super) fn decode_defs<T: for<'de> Deserialize<'de> + Default>(
    defs: Option<BTreeMap<String, Value>>,
    section: &str,
    loc: &Locator,
    into: &mut BTreeMap<String, T>,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) {
    for (name, mut raw) in defs.unwrap_or_default() {
        let path = FieldPath::root().key(section).key(&name);
        if legacy_external_name(&mut raw) {
            warnings.push(format!(
                "{section}.{name}: `external: {{name: …}}` is deprecated; write `name: …` and `external: true`"
            ));
        }
        // A definition replaces the earlier file's whole, so `!override` changes nothing here.
        if let Value::Tagged(t) = &mut raw {
            match super::tags::merge_tag(t) {
                Ok(super::tags::MergeTag::Reset) => {
                    into.remove(&name);
                    continue;
                }
                Ok(super::tags::MergeTag::Override) => raw = std::mem::take(&mut t.value),
                Err(e) => {
                    diags.push(loc.diag(&path, true, e));
                    continue;
                }
            }
        }
        if raw.is_null() {
            into.entry(name).or_default();
            continue;
        }
        match decode::<T>(raw, &path, loc, &[]) {
            Ok(def) => {
                into.insert(name, def);
            }
            Err(d) => diags.push(d),
        }
    }
}

/// Rewrites the old form `external: {name: NAME}` as `external: true` and `name: NAME` (a `name:`
/// beside it wins, as in compose); true when it did.
fn legacy_external_name(def: &mut Value) -> bool {
    let Value::Mapping(m) = def else {
        return false;
    };
    let Some(Value::Mapping(ext)) = m.get("external") else {
        return false;
    };
    let name = ext.get("name").cloned();
    m.insert("external".into(), Value::Bool(true));
    if let Some(name) = name
        && !m.contains_key("name")
    {
        m.insert("name".into(), name);
    }
    true
}

/// Decodes `v` (found at `base`) into `T`, turning serde's message into a positioned diagnostic.
pub(super) fn decode<T: for<'de> Deserialize<'de>>(
    v: Value,
    base: &FieldPath,
    loc: &Locator,
    unsupported: &[&str],
) -> Result<T, Diagnostic> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let mut path = base.clone();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Map { key } => path = path.key(key),
                serde_path_to_error::Segment::Seq { index } => path = path.index(*index),
                _ => {}
            }
        }
        let msg = e.inner().to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        unknown_field(&msg, &path, base, loc, unsupported).unwrap_or_else(|| {
            let what = match path.last_key() {
                Some(k) => format!("`{k}`: {msg}"),
                None => msg.clone(),
            };
            let hint = if msg.starts_with("missing field") {
                "add the field, or check its spelling"
            } else {
                "see the Compose specification for the forms this field accepts"
            };
            let mut d = loc.diag(&path, false, format!("invalid {what}"));
            if d.hint.is_none() {
                d = d.hint(hint);
            }
            d
        })
    })
}

/// serde says "unknown field `x`, expected one of `a`, `b`": turn that into advice.
pub(super) fn unknown_field(
    msg: &str,
    path: &FieldPath,
    base: &FieldPath,
    loc: &Locator,
    unsupported: &[&str],
) -> Option<Diagnostic> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (key, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    // serde_path_to_error stops at the struct, so the key itself is the last step.
    let key_path = if path.last_key() == Some(key) {
        path.clone()
    } else {
        path.key(key)
    };
    let place = match base.0.as_slice() {
        [] => "at the top level".to_owned(),
        _ => format!("in {}", key_path.parent().unwrap_or_default()),
    };
    if unsupported.contains(&key)
        || not_yet_supported(&key_path.parent().unwrap_or_default()).contains(&key)
    {
        return Some(
            loc.diag(
                &key_path,
                true,
                format!("`{key}` {place} is part of the Compose format; stackctl does not support it yet"),
            )
            .hint("remove it to continue, or use docker compose for this file"),
        );
    }
    let d = loc.diag(&key_path, true, format!("unknown key `{key}` {place}"));
    Some(
        if let Some(near) = nearest(key, candidates.iter().copied()) {
            d.hint(format!("did you mean `{near}`?"))
        } else if let Some(near) = nearest(key, candidates.iter().copied()) {
            d.hint(format!("did you mean `{near}`?"))
        } else {
            d.hint(format!("valid keys here: {}", candidates.join(", ")))
        },
    )
}
