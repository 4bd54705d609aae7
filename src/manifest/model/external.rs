//! Services that are not containers: a `provider` service, whose resource an external program
//! makes and removes, and the AI `models` a service uses (Docker Model Runner's).

use std::collections::BTreeMap;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use super::de::*;

/// `provider:`: the program (`type`, a Docker CLI plugin `docker-TYPE` or `TYPE` on PATH) that
/// manages the service, and the options it is given as `--KEY=VALUE` flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(
        default,
        deserialize_with = "provider_options",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub options: BTreeMap<String, Vec<String>>,
}

/// Each option is a scalar or a list of scalars (one flag per item).
fn provider_options<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    let m = match Value::deserialize(d)? {
        Value::Null => return Ok(BTreeMap::new()),
        Value::Mapping(m) => m,
        other => {
            return Err(fail(format!(
                "expected a mapping of options, found {}",
                kind_of(&other)
            )));
        }
    };
    m.into_iter()
        .map(|(k, v)| {
            let key = scalar_text(&k).ok_or_else(|| fail("an option's name should be a string"))?;
            let values = match &v {
                Value::Sequence(items) => string_items(items)?,
                other => vec![scalar_text(other).ok_or_else(|| {
                    fail(format!(
                        "option `{key}` should be a value or a list of values, found {}",
                        kind_of(other)
                    ))
                })?],
            };
            Ok((key, values))
        })
        .collect()
}

/// A top-level `models:` entry: the model to serve and how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_flags: Vec<String>,
}

/// How a service is told where a model is served: the variables named here, or by default
/// `<MODEL>_URL` and `<MODEL>_MODEL`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceModel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_var: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_var: Option<String>,
}

/// A service's `models:`: a list of names or a mapping of name to variables.
pub(crate) fn service_models<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, ServiceModel>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Sequence(items) => Ok(string_items(&items)?
            .into_iter()
            .map(|n| (n, ServiceModel::default()))
            .collect()),
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, v)| {
                let name =
                    scalar_text(&k).ok_or_else(|| fail("a model's name should be a string"))?;
                let vars = if v.is_null() {
                    ServiceModel::default()
                } else {
                    serde_yaml::from_value(v).map_err(|e| fail(format!("model `{name}`: {e}")))?
                };
                Ok((name, vars))
            })
            .collect(),
        other => Err(fail(format!(
            "expected a list of model names, found {}",
            kind_of(&other)
        ))),
    }
}

impl super::Project {
    /// The project as the engine sees it: provider services are no containers, and waiting for
    /// one is done before any container is made.
    pub fn containers_only(&self) -> std::borrow::Cow<'_, super::Project> {
        if self.services.values().all(|s| s.provider.is_none()) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut p = self.clone();
        let providers: Vec<String> = p
            .services
            .iter()
            .filter(|(_, s)| s.provider.is_some())
            .map(|(n, _)| n.clone())
            .collect();
        for name in &providers {
            p.services.remove(name);
        }
        for svc in p.services.values_mut() {
            svc.depends_on.retain(|d, _| !providers.contains(d));
        }
        std::borrow::Cow::Owned(p)
    }
}
