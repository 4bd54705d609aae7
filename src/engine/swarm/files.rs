//! This machine's files that a stack's tasks read, made available on every node: a bind mount of
//! a single file (a `configs:` entry, `./init.sql:/docker-entrypoint-initdb.d/init.sql`) becomes a
//! Swarm config, named after the file and its content hash so that an edit rolls the service. A
//! bind mount of a folder exists on this machine only: on a swarm of several nodes it is refused
//! before anything is created.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine as _;
use bollard::models::ConfigSpec;
use bollard::query_parameters::ListConfigsOptions;
use sha2::{Digest, Sha256};

use super::{NAMESPACE, ns_filter};
use crate::engine::{ApiContext, Engine};
use crate::manifest::MountKind;
use crate::plan::{MountPlan, Plan};

/// A bind-mounted file's Swarm config: its ID and name.
#[derive(Debug, Clone, PartialEq)]
pub struct FileConfig {
    pub id: String,
    pub name: String,
}

/// Host path → the config made from it.
pub type FileConfigs = HashMap<String, FileConfig>;

/// Whether `m` is a bind mount of a file on this machine (the only kind a config can carry).
pub fn is_file_bind(m: &MountPlan) -> bool {
    m.kind == MountKind::Bind && m.source.as_deref().is_some_and(|s| Path::new(s).is_file())
}

/// The config name for `path` with `data`: `<project>_<file name>-<8 hex of its sha256>`.
pub fn config_name(project: &str, path: &str, data: &[u8]) -> String {
    let file: String = Path::new(path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let hash = hex::encode(Sha256::digest(data));
    format!("{project}_{file}-{}", &hash[..8])
}

/// Creates the configs the plan's file bind mounts need (those not there already).
pub async fn ensure_configs(engine: &Engine, plan: &Plan) -> Result<FileConfigs> {
    let existing = engine
        .docker
        .list_configs(Some(ListConfigsOptions {
            filters: Some(ns_filter(&plan.project)),
        }))
        .await
        .api(|| "listing configs".into())?;
    let mut out = FileConfigs::new();
    for m in plan.services.values().flat_map(|s| &s.mounts) {
        let Some(src) = m.source.as_deref().filter(|_| is_file_bind(m)) else {
            continue;
        };
        if out.contains_key(src) {
            continue;
        }
        let data = std::fs::read(src).with_context(|| format!("reading {src}"))?;
        let name = config_name(&plan.project, src, &data);
        let found = existing
            .iter()
            .find(|c| c.spec.as_ref().and_then(|s| s.name.as_deref()) == Some(name.as_str()));
        let id = match found {
            Some(c) => c.id.clone().unwrap_or_default(),
            None => {
                engine
                    .docker
                    .create_config(ConfigSpec {
                        name: Some(name.clone()),
                        labels: Some(HashMap::from([(
                            NAMESPACE.to_owned(),
                            plan.project.clone(),
                        )])),
                        data: Some(base64::engine::general_purpose::STANDARD.encode(&data)),
                        ..Default::default()
                    })
                    .await
                    .api(|| format!("creating config {name} from {src}"))?
                    .id
            }
        };
        out.insert(src.to_owned(), FileConfig { id, name });
    }
    Ok(out)
}

/// The folders a stack bind-mounts, as `service: path` lines: on several nodes these cannot work.
pub fn folder_binds(plan: &Plan) -> Vec<String> {
    plan.services
        .values()
        .flat_map(|s| {
            s.mounts
                .iter()
                .filter(|m| m.kind == MountKind::Bind && !is_file_bind(m))
                .filter_map(move |m| {
                    Some(format!(
                        "{}: {} → {}",
                        s.name,
                        m.source.as_deref()?,
                        m.target
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::config_name;

    #[test]
    fn a_config_is_named_by_file_and_content() {
        let a = config_name("p", "/x/init.sql", b"one");
        assert!(
            a.starts_with("p_init.sql-") && a.len() == "p_init.sql-".len() + 8,
            "{a}"
        );
        assert_eq!(
            a,
            config_name("p", "/y/init.sql", b"one"),
            "the folder does not matter"
        );
        assert_ne!(
            a,
            config_name("p", "/x/init.sql", b"two"),
            "an edit is a new config"
        );
        assert!(config_name("p", "/x/my file?.txt", b"").starts_with("p_my-file-.txt-"));
    }
}
