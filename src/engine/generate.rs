//! What `alpha generate` reads of existing containers: the ones named (a name filter, as docker
//! matches names) or given by ID, each inspected with its image and its networks. It only reads.

use std::collections::HashMap;

use anyhow::Result;
use bollard::models::{ContainerInspectResponse, ContainerSummary};
use bollard::query_parameters::{InspectNetworkOptions, ListContainersOptions};

use super::{ApiContext, Engine};

/// A container as the daemon describes it, with its image's environment and, by network name,
/// whether each of its networks is internal.
pub struct Described {
    pub summary: ContainerSummary,
    pub inspect: Option<ContainerInspectResponse>,
    pub image_env: Vec<String>,
    pub internal: HashMap<String, bool>,
}

/// The containers `wanted` names (by name, or by ID), each once, as the daemon lists them.
pub async fn describe(engine: &Engine, wanted: &[String]) -> Result<Vec<Described>> {
    let list = |key: &str| {
        let filters = [(key.to_owned(), wanted.to_vec())].into_iter().collect();
        engine.docker.list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
    };
    let mut found = list("name").await.api(|| "listing containers".into())?;
    for c in list("id").await.api(|| "listing containers".into())? {
        if !found.iter().any(|f| f.id == c.id) {
            found.push(c);
        }
    }
    let mut out = Vec::new();
    for summary in found {
        let id = summary.id.clone().unwrap_or_default();
        let inspect = engine.docker.inspect_container(&id, None).await.ok();
        let image = inspect.as_ref().and_then(|i| i.image.clone());
        let image_env = match image {
            Some(image) => engine
                .docker
                .inspect_image(&image)
                .await
                .ok()
                .and_then(|i| i.config)
                .and_then(|c| c.env)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let mut internal = HashMap::new();
        let networks = inspect
            .as_ref()
            .and_then(|i| i.network_settings.as_ref())
            .and_then(|n| n.networks.as_ref());
        for name in networks.into_iter().flat_map(|n| n.keys()) {
            let net = engine
                .docker
                .inspect_network(name, None::<InspectNetworkOptions>)
                .await;
            let is_internal = net.ok().and_then(|n| n.internal).unwrap_or(false);
            internal.insert(name.clone(), is_internal);
        }
        out.push(Described {
            summary,
            inspect,
            image_env,
            internal,
        });
    }
    Ok(out)
}
