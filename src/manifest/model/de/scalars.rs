//! Scalars in every form Compose writes them: text, whole numbers, sizes, durations, lists and
//! `KEY=VALUE` maps.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serializer};
use serde_yaml::Value;

use crate::manifest::units;

pub(crate) fn fail<E: de::Error>(msg: impl std::fmt::Display) -> E {
    E::custom(msg)
}

/// A scalar as text; numbers and booleans written unquoted are accepted where Compose accepts them.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

pub(crate) fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(None),
        other => scalar_text(&other)
            .map(Some)
            .ok_or_else(|| fail(format!("expected a string, found {}", kind_of(&other)))),
    }
}

/// A whole number written as a number or as a string; `None` for null.
pub(crate) fn whole_number(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("expected a whole number, found {n}")),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("expected a whole number, found `{s}`")),
        other => Err(format!("expected a whole number, found {}", kind_of(other))),
    }
}

pub(crate) fn u32_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let n = whole_number(&Value::deserialize(d)?).map_err(fail)?;
    n.map(|n| {
        u32::try_from(n).map_err(|_| {
            fail(format!(
                "expected a whole number from 0 to {}, found {n}",
                u32::MAX
            ))
        })
    })
    .transpose()
}

pub(crate) fn bool_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = Value::deserialize(d)?;
    match &v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Ok(Some(true)),
            "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(fail(format!("expected true or false, found `{s}`"))),
        },
        other => Err(fail(format!(
            "expected true or false, found {}",
            kind_of(other)
        ))),
    }
}

pub(crate) fn cpus_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Value::deserialize(d)?;
    let n = match &v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    match n {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        _ => Err(fail("expected a number of CPUs such as 0.5 or \"2\"")),
    }
}

/// A size written as bytes or as `512m`; `None` for null.
pub(crate) fn size(v: &Value) -> Result<Option<u64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| "expected a size such as 512m".to_owned()),
        Value::String(s) => units::parse_bytes(s).map(Some),
        other => Err(format!(
            "expected a size such as 512m, found {}",
            kind_of(other)
        )),
    }
}

pub(crate) fn bytes_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    size(&Value::deserialize(d)?).map_err(fail)
}

pub(crate) fn i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    whole_number(&Value::deserialize(d)?).map_err(fail)
}

pub(crate) fn duration_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let v = Value::deserialize(d)?;
    match &v {
        Value::Null => Ok(None),
        Value::String(s) => units::parse_duration(s)
            .map(Some)
            .map_err(|e| fail(format!("{e}; write a duration such as 10s, 1m30s or 500ms"))),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(Some(Duration::ZERO)),
        other => Err(fail(format!(
            "expected a duration such as \"10s\" or \"1m30s\", found {}",
            kind_of(other)
        ))),
    }
}

pub(crate) fn ser_duration_opt<S: Serializer>(
    d: &Option<Duration>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&units::serialised_duration(*d)),
        None => s.serialize_none(),
    }
}

pub(crate) fn string_items<E: de::Error>(items: &[Value]) -> Result<Vec<String>, E> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            scalar_text(v)
                .ok_or_else(|| fail(format!("item {i} should be a string, found {}", kind_of(v))))
        })
        .collect()
}

pub(crate) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => string_items(&items),
        other => Err(fail(format!("expected a list, found {}", kind_of(&other)))),
    }
}

pub(crate) fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => string_items(&items),
        other => scalar_text(&other).map(|s| vec![s]).ok_or_else(|| {
            fail(format!(
                "expected a string or a list, found {}",
                kind_of(&other)
            ))
        }),
    }
}

/// `command` / `entrypoint`: a list as is, or a string split as a POSIX shell would.
pub(crate) fn command_opt<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Sequence(items) => string_items(&items).map(Some),
        Value::String(s) => shlex::split(&s)
            .map(Some)
            .ok_or_else(|| fail(format!("cannot split `{s}` into words: check its quotes"))),
        other => Err(fail(format!(
            "expected a string or a list, found {}",
            kind_of(&other)
        ))),
    }
}

pub(crate) fn health_test<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec!["CMD-SHELL".into(), s]),
        Value::Sequence(items) => {
            let items: Vec<String> = string_items(&items)?;
            match items.first().map(String::as_str) {
                Some("CMD") | Some("CMD-SHELL") | Some("NONE") => Ok(items),
                Some(other) => Err(fail(format!(
                    "a healthcheck test list starts with CMD, CMD-SHELL or NONE, not `{other}`"
                ))),
                None => Err(fail("the healthcheck test list is empty")),
            }
        }
        other => Err(fail(format!(
            "expected a string or a list, found {}",
            kind_of(&other)
        ))),
    }
}

/// `KEY=VALUE` lists or mappings. Mapping values may be null (environment: take it from the shell).
pub(crate) fn key_values<E: de::Error>(
    v: Value,
    allow_unset: bool,
) -> Result<BTreeMap<String, Option<String>>, E> {
    let mut out = BTreeMap::new();
    match v {
        Value::Null => {}
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                let s = scalar_text(item).ok_or_else(|| {
                    fail(format!(
                        "item {i} should be KEY=VALUE, found {}",
                        kind_of(item)
                    ))
                })?;
                match s.split_once('=') {
                    Some((k, v)) => out.insert(k.to_owned(), Some(v.to_owned())),
                    None if allow_unset => out.insert(s, None),
                    None => return Err(fail(format!("item `{s}` should be KEY=VALUE"))),
                };
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map {
                let key = scalar_text(&k).ok_or_else(|| fail("keys must be strings"))?;
                let val = match &v {
                    Value::Null => None,
                    other => Some(scalar_text(other).ok_or_else(|| {
                        fail(format!(
                            "the value of `{key}` should be a string, found {}",
                            kind_of(other)
                        ))
                    })?),
                };
                out.insert(key, val);
            }
        }
        other => {
            return Err(fail(format!(
                "expected a mapping or a list of KEY=VALUE, found {}",
                kind_of(&other)
            )));
        }
    }
    Ok(out)
}

pub(crate) fn env_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Option<String>>, D::Error> {
    key_values(Value::deserialize(d)?, true)
}

pub(crate) fn label_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(key_values(Value::deserialize(d)?, false)?
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}
