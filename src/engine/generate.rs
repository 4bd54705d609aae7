//! What `alpha generate` reads of existing containers: the ones named (a name filter, as docker
//! matches names) or given by ID, each inspected with its image and its networks, and described in
//! plain terms for the command to shape into a Compose file. It only reads.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use bollard::models::{ContainerInspectResponse, ContainerSummary, HealthConfig};
use bollard::query_parameters::{InspectNetworkOptions, ListContainersOptions};

use super::{ApiContext, Engine};

/// A container as `generate` needs it.
#[derive(Debug, Default)]
pub struct Container {
    /// The compose service it belongs to, when compose (or stackctl) made it.
    pub service: Option<String>,
    /// Its name without the daemon's leading slash (its ID when it has none).
    pub name: String,
    pub image: String,
    /// Its labels but compose's own and Docker Desktop's.
    pub labels: BTreeMap<String, String>,
    /// Whether an inspect answered; without one only the above is known.
    pub inspected: bool,
    /// `KEY=VALUE` items, the container's and its image's.
    pub env: Vec<String>,
    pub image_env: Vec<String>,
    pub health: Option<Health>,
    pub mounts: Vec<Mount>,
    /// Each network: its name, the container's aliases on it, whether the network is internal.
    pub networks: Vec<(String, Vec<String>, bool)>,
    /// Published ports: (`80/tcp`, host IP, host port).
    pub ports: Vec<(String, String, String)>,
}

#[derive(Debug, Default)]
pub struct Health {
    pub test: Vec<String>,
    /// Nanoseconds; 0 is unset.
    pub timeout: i64,
    pub interval: i64,
    pub start_period: i64,
    pub start_interval: i64,
    pub retries: i64,
}

#[derive(Debug, Default)]
pub struct Mount {
    /// `volume`, `bind`, `tmpfs`…
    pub kind: String,
    /// A volume's name.
    pub name: String,
    pub source: String,
    pub destination: String,
    pub driver: String,
    pub read_only: bool,
}

/// The containers `wanted` names (by name, or by ID), each once, as the daemon lists them.
pub async fn describe(engine: &Engine, wanted: &[String]) -> Result<Vec<Container>> {
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
        out.push(container(summary, inspect, image_env, &internal));
    }
    Ok(out)
}

fn container(
    summary: ContainerSummary,
    inspect: Option<ContainerInspectResponse>,
    image_env: Vec<String>,
    internal: &HashMap<String, bool>,
) -> Container {
    let labels = summary.labels.unwrap_or_default();
    let mut c = Container {
        service: labels.get(crate::plan::labels::SERVICE).cloned(),
        name: summary
            .names
            .as_deref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_else(|| summary.id.clone().unwrap_or_default()),
        image: summary.image.unwrap_or_default(),
        labels: labels
            .into_iter()
            .filter(|(k, _)| {
                !k.starts_with("com.docker.compose.") && !k.starts_with("desktop.docker.io")
            })
            .collect(),
        image_env,
        ..Default::default()
    };
    let Some(inspect) = inspect else {
        return c;
    };
    c.inspected = true;
    c.env = inspect
        .config
        .as_ref()
        .and_then(|c| c.env.clone())
        .unwrap_or_default();
    c.health = inspect
        .config
        .as_ref()
        .and_then(|c| c.healthcheck.as_ref())
        .map(health);
    c.mounts = inspect
        .mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| Mount {
            kind: m.typ.unwrap_or_default(),
            name: m.name.unwrap_or_default(),
            source: m.source.unwrap_or_default(),
            destination: m.destination.unwrap_or_default(),
            driver: m.driver.unwrap_or_default(),
            read_only: m.rw == Some(false),
        })
        .collect();
    // The daemon lists mounts from a map, in no steady order.
    c.mounts.sort_by(|a, b| a.destination.cmp(&b.destination));
    let attached = inspect.network_settings.and_then(|n| n.networks);
    c.networks = attached
        .into_iter()
        .flatten()
        .map(|(name, e)| {
            let is_internal = internal.get(&name).copied().unwrap_or(false);
            (name, e.aliases.unwrap_or_default(), is_internal)
        })
        .collect();
    let bindings = inspect.host_config.and_then(|h| h.port_bindings);
    for (key, list) in bindings.into_iter().flatten() {
        for b in list.into_iter().flatten() {
            let ip = b.host_ip.unwrap_or_default();
            c.ports
                .push((key.clone(), ip, b.host_port.unwrap_or_default()));
        }
    }
    c
}

fn health(h: &HealthConfig) -> Health {
    Health {
        test: h.test.clone().unwrap_or_default(),
        timeout: h.timeout.unwrap_or(0),
        interval: h.interval.unwrap_or(0),
        start_period: h.start_period.unwrap_or(0),
        start_interval: h.start_interval.unwrap_or(0),
        retries: h.retries.unwrap_or(0),
    }
}
