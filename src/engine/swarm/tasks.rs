//! What `ps` and `logs` read of a swarm project: its tasks, on which node, in which state, and
//! its services.

use std::collections::HashMap;

use anyhow::Result;
use bollard::query_parameters::ListTasksOptions;

use super::project_services;
use crate::engine::{ApiContext, Engine};

/// One task of the project's services, as `ps` shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SwarmTask {
    /// The service's key in the manifest (`flaskapp`).
    pub service: String,
    /// `<project>_<service>.<slot>` (global services: the node's ID instead of a slot).
    pub name: String,
    pub id: String,
    /// The node's hostname (its ID when the node is gone).
    pub node: String,
    pub state: String,
    pub desired: String,
    pub error: String,
}

/// Tasks of the project; with `all`, also those Swarm has shut down or replaced.
pub async fn tasks(engine: &Engine, project: &str, all: bool) -> Result<Vec<SwarmTask>> {
    let services = project_services(engine, project).await?;
    let hostnames: HashMap<String, String> = engine
        .docker
        .list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
        .await
        .api(|| "listing the swarm's nodes".into())?
        .into_iter()
        .filter_map(|n| Some((n.id?, n.description?.hostname?)))
        .collect();
    let prefix = format!("{project}_");
    let mut out = Vec::new();
    for s in services {
        let (Some(id), Some(name)) = (s.id.clone(), s.spec.and_then(|sp| sp.name)) else {
            continue;
        };
        let mut filters = HashMap::from([("service".to_owned(), vec![id])]);
        if !all {
            filters.insert("desired-state".to_owned(), vec!["running".to_owned()]);
        }
        let tasks = engine
            .docker
            .list_tasks(Some(ListTasksOptions {
                filters: Some(filters),
            }))
            .await
            .api(|| "listing tasks".into())?;
        for t in tasks {
            let status = t.status.clone().unwrap_or_default();
            let node_id = t.node_id.clone().unwrap_or_default();
            let slot = t
                .slot
                .map(|s| s.to_string())
                .unwrap_or_else(|| node_id.chars().take(8).collect());
            out.push(SwarmTask {
                service: name.strip_prefix(&prefix).unwrap_or(&name).to_owned(),
                name: format!("{name}.{slot}"),
                id: t.id.clone().unwrap_or_default(),
                node: hostnames.get(&node_id).cloned().unwrap_or(node_id),
                state: status.state.map(|s| s.to_string()).unwrap_or_default(),
                desired: t.desired_state.map(|s| s.to_string()).unwrap_or_default(),
                error: status.err.unwrap_or_default(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Service IDs and names of the project, for logs.
pub async fn services(engine: &Engine, project: &str) -> Result<Vec<(String, String)>> {
    let list = project_services(engine, project).await?;
    Ok(list
        .into_iter()
        .filter_map(|s| Some((s.id?, s.spec?.name?)))
        .collect())
}
