//! What the daemon holds for a project now, found by the project's labels only: an object without them
//! is never listed, so it can never be changed or removed.

use std::collections::HashMap;

use anyhow::Result;
use bollard::query_parameters::{ListContainersOptions, ListNetworksOptions, ListVolumesOptions};

use super::{ApiContext, Engine};
use crate::plan::labels;

#[derive(Debug, Clone)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
    pub oneoff: bool,
    pub config_hash: String,
    pub image: String,
    /// created, running, exited, restarting, paused, dead
    pub state: String,
    /// Human status from the daemon, e.g. "Up 3 seconds (healthy)".
    pub status: String,
    pub ports: Vec<(Option<String>, Option<u16>, u16, String)>,
    pub created: i64,
}

impl ObservedContainer {
    pub fn running(&self) -> bool {
        self.state == "running"
    }

    /// healthy / unhealthy / starting, from the status text (API 1.41 has no health field in lists).
    pub fn health(&self) -> Option<&'static str> {
        let s = &self.status;
        if s.contains("(healthy)") {
            Some("healthy")
        } else if s.contains("(unhealthy)") {
            Some("unhealthy")
        } else if s.contains("(health: starting)") {
            Some("starting")
        } else {
            None
        }
    }
}

pub fn project_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_owned(),
        vec![format!("{}={project}", labels::PROJECT)],
    )])
}

pub async fn containers(
    engine: &Engine,
    project: &str,
    all: bool,
) -> Result<Vec<ObservedContainer>> {
    let list = engine
        .docker
        .list_containers(Some(ListContainersOptions {
            all,
            filters: Some(project_filter(project)),
            ..Default::default()
        }))
        .await
        .api(|| format!("listing the containers of project {project}"))?;
    let mut out: Vec<ObservedContainer> = list
        .into_iter()
        .filter_map(|c| {
            let labels = c.labels.unwrap_or_default();
            // The filter already asked for this; checking again costs nothing and guards the promise.
            if labels.get(labels::PROJECT).map(String::as_str) != Some(project) {
                return None;
            }
            Some(ObservedContainer {
                id: c.id?,
                name: c
                    .names
                    .and_then(|n| n.into_iter().next())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_owned(),
                service: labels.get(labels::SERVICE).cloned().unwrap_or_default(),
                number: labels
                    .get(labels::NUMBER)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
                oneoff: labels
                    .get(labels::ONEOFF)
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
                config_hash: labels.get(labels::CONFIG_HASH).cloned().unwrap_or_default(),
                image: c.image.unwrap_or_default(),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                status: c.status.unwrap_or_default(),
                ports: c
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| {
                        (
                            p.ip,
                            p.public_port,
                            p.private_port,
                            p.typ.map(|t| t.to_string()).unwrap_or_default(),
                        )
                    })
                    .collect(),
                created: c.created.unwrap_or(0),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.service, a.number, &a.name).cmp(&(&b.service, b.number, &b.name)));
    Ok(out)
}

/// Networks of the project: daemon name → manifest key.
pub async fn networks(engine: &Engine, project: &str) -> Result<HashMap<String, String>> {
    let list = engine
        .docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(project_filter(project)),
        }))
        .await
        .api(|| format!("listing the networks of project {project}"))?;
    Ok(list
        .into_iter()
        .filter_map(|n| {
            let labels = n.labels.unwrap_or_default();
            if labels.get(labels::PROJECT).map(String::as_str) != Some(project) {
                return None;
            }
            Some((
                n.name?,
                labels.get(labels::NETWORK).cloned().unwrap_or_default(),
            ))
        })
        .collect())
}

/// Volumes of the project: daemon name → manifest key.
pub async fn volumes(engine: &Engine, project: &str) -> Result<HashMap<String, String>> {
    let list = engine
        .docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(project_filter(project)),
        }))
        .await
        .api(|| format!("listing the volumes of project {project}"))?;
    Ok(list
        .volumes
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.labels.get(labels::PROJECT).map(String::as_str) == Some(project))
        .map(|v| {
            let key = v.labels.get(labels::VOLUME).cloned().unwrap_or_default();
            (v.name, key)
        })
        .collect())
}
