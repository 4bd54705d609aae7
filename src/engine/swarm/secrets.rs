//! A stack's secrets as Swarm secrets. Swarm cannot change a secret, so each is named after its
//! value (`<project>_<key>-<8 hex of its sha256>`): an edited file makes a new secret, and the
//! services that use it roll to it. External secrets are found by name.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use bollard::models::{Driver, SecretSpec};
use bollard::query_parameters::ListSecretsOptions;
use sha2::{Digest, Sha256};

use super::{NAMESPACE, ns_filter};
use crate::engine::{ApiContext, Engine};
use crate::plan::{Plan, SecretValue};

/// A secret a service can reference: its ID and its name.
pub type SecretRef = (String, String);

pub fn secret_name(project: &str, key: &str, data: &[u8]) -> String {
    let hash = hex::encode(Sha256::digest(data));
    format!("{project}_{key}-{}", &hash[..8])
}

/// Creates the secrets of `plan` not there yet; by key, the one each service is to reference.
pub async fn ensure_secrets(engine: &Engine, plan: &Plan) -> Result<HashMap<String, SecretRef>> {
    let ours = engine
        .docker
        .list_secrets(Some(ListSecretsOptions {
            filters: Some(ns_filter(&plan.project)),
        }))
        .await
        .api(|| "listing secrets".into())?;
    let mut out = HashMap::new();
    for (key, value) in &plan.swarm_secrets {
        let data = match value {
            SecretValue::External(name) => {
                out.insert(key.clone(), external(engine, key, name).await?);
                continue;
            }
            SecretValue::File(file) => std::fs::read(file)
                .with_context(|| format!("reading secret file {}", file.display()))?,
            SecretValue::Text(text) => text.clone().into_bytes(),
        };
        let drivers = plan.secret_drivers.get(key);
        let name = secret_name(&plan.project, key, &data);
        let found = ours
            .iter()
            .find(|s| s.spec.as_ref().and_then(|sp| sp.name.as_deref()) == Some(name.as_str()));
        let id = match found {
            Some(s) => s.id.clone().unwrap_or_default(),
            None => {
                engine
                    .docker
                    .create_secret(SecretSpec {
                        name: Some(name.clone()),
                        labels: Some(
                            plan.secret_labels
                                .get(key)
                                .cloned()
                                .unwrap_or_default()
                                .into_iter()
                                .chain([(NAMESPACE.to_owned(), plan.project.clone())])
                                .collect(),
                        ),
                        data: Some(base64::engine::general_purpose::STANDARD.encode(data)),
                        driver: drivers.and_then(|d| {
                            Some(Driver {
                                name: d.driver.clone()?,
                                options: Some(d.driver_opts.clone().into_iter().collect()),
                            })
                        }),
                        templating: drivers.and_then(|d| {
                            Some(Driver {
                                name: d.template_driver.clone()?,
                                options: None,
                            })
                        }),
                    })
                    .await
                    .api(|| format!("creating secret {name}"))?
                    .id
            }
        };
        out.insert(key.clone(), (id, name));
    }
    Ok(out)
}

async fn external(engine: &Engine, key: &str, name: &str) -> Result<SecretRef> {
    let found = engine
        .docker
        .list_secrets(Some(ListSecretsOptions {
            filters: Some(HashMap::from([("name".to_owned(), vec![name.to_owned()])])),
        }))
        .await
        .api(|| format!("looking for secret {name}"))?;
    // The name filter matches prefixes; the secret is the one named exactly so.
    match found
        .into_iter()
        .find(|s| s.spec.as_ref().and_then(|sp| sp.name.as_deref()) == Some(name))
    {
        Some(s) => Ok((s.id.unwrap_or_default(), name.to_owned())),
        None => bail!(
            "secret `{key}` is external, but the swarm has no secret named `{name}`\n  = help: create it first: `docker secret create {name} FILE`"
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_secret_is_named_after_its_value() {
        let a = super::secret_name("shop", "db", b"one");
        assert!(
            a.starts_with("shop_db-") && a.len() == "shop_db-".len() + 8,
            "{a}"
        );
        assert_eq!(a, super::secret_name("shop", "db", b"one"));
        assert_ne!(a, super::secret_name("shop", "db", b"two"));
    }
}
