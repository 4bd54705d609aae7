//! What the daemon holds for a project now, found by the project's labels only: an object without them
//! is never listed, so it can never be changed or removed.

use std::collections::HashMap;

use anyhow::Result;
use bollard::query_parameters::{ListContainersOptions, ListNetworksOptions, ListVolumesOptions};

use super::{ApiContext, Engine};
use crate::plan::labels;

/// A mount of a container, as the daemon lists it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeenMount {
    /// The volume's name, or a bind's source path.
    pub name: String,
    /// The volume driver (empty for a bind).
    pub driver: String,
    /// Where it is mounted inside the container.
    pub destination: String,
    pub volume: bool,
}

impl SeenMount {
    /// A volume the engine named itself (64 hex digits): one the manifest or the image asked for
    /// without a name.
    pub fn anonymous(&self) -> bool {
        self.volume && self.name.len() == 64 && self.name.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

#[derive(Debug, Clone, Default)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
    pub oneoff: bool,
    pub config_hash: String,
    /// The configuration it was made from (see `plan::hash::config_snapshot`), when stackctl made it.
    pub config: Option<String>,
    pub image: String,
    pub image_id: String,
    pub state: ContainerState,
    /// Human status from the daemon, e.g. "Up 3 seconds (healthy)".
    pub status: String,
    pub ports: Vec<(Option<String>, Option<u16>, u16, String)>,
    pub created: i64,
    /// The exit code of a container that has stopped, from the status text (`Exited (137) …`).
    pub exit_code: Option<i64>,
    /// Filled by `with_exit_details` (the list does not have them): restarts by its policy, and
    /// whether the kernel's OOM killer ended its last run.
    pub restarts: i64,
    pub oom_killed: bool,
    /// The command as the daemon lists it (`sh -c 'exec sleep infinity'`).
    pub command: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub mounts: Vec<SeenMount>,
    /// The networks it is attached to, by name.
    pub networks: Vec<String>,
}

/// A container's state as the daemon lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContainerState {
    #[default]
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl ContainerState {
    /// The daemon's word; one this engine does not know yet reads as `dead` (nothing to stop).
    pub fn parse(word: &str) -> Self {
        match word {
            "created" => Self::Created,
            "running" => Self::Running,
            "paused" => Self::Paused,
            "restarting" => Self::Restarting,
            "removing" => Self::Removing,
            "exited" => Self::Exited,
            _ => Self::Dead,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Removing => "removing",
            Self::Exited => "exited",
            Self::Dead => "dead",
        }
    }

    /// Running, paused, or between runs of its restart policy: a stop has something to do (the
    /// engine stops a paused container too, as compose's `stop` does).
    pub fn needs_stopping(self) -> bool {
        matches!(self, Self::Running | Self::Paused | Self::Restarting)
    }

    /// It ran and ended.
    pub fn ended(self) -> bool {
        matches!(self, Self::Exited | Self::Dead)
    }
}

impl std::fmt::Display for ContainerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ObservedContainer {
    pub fn running(&self) -> bool {
        self.state == ContainerState::Running
    }

    /// The state as `ps` says it: `exited (137, OOM-killed)`, `running (3 restarts)`.
    pub fn state_text(&self) -> String {
        let mut why = Vec::new();
        if !self.running()
            && let Some(code) = self.exit_code
        {
            why.push(code.to_string());
        }
        if self.oom_killed {
            why.push("OOM-killed".to_owned());
        }
        match self.restarts {
            0 => {}
            1 => why.push("1 restart".to_owned()),
            n => why.push(format!("{n} restarts")),
        }
        if why.is_empty() {
            self.state.to_string()
        } else {
            format!("{} ({})", self.state, why.join(", "))
        }
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
    listed(engine, project, all, project_filter(project)).await
}

/// The project's container `id` as `containers` lists it, with its restart count and OOM kill;
/// None once it is gone.
pub async fn container(
    engine: &Engine,
    project: &str,
    id: &str,
) -> Result<Option<ObservedContainer>> {
    let mut filters = project_filter(project);
    filters.insert("id".to_owned(), vec![id.to_owned()]);
    let mut list = listed(engine, project, true, filters).await?;
    with_exit_details(engine, &mut list, &|_| true).await;
    Ok(list.into_iter().find(|c| c.id == id))
}

/// The output of the last health check of `id` that failed, when one did and the daemon keeps it.
pub async fn last_failed_check(engine: &Engine, id: &str) -> Result<Option<String>> {
    let inspected = engine
        .docker
        .inspect_container(id, None)
        .await
        .api(|| format!("inspecting container {id}"))?;
    let log = inspected
        .state
        .and_then(|s| s.health)
        .and_then(|h| h.log)
        .unwrap_or_default();
    Ok(log
        .into_iter()
        .rev()
        .find(|l| l.exit_code.unwrap_or(0) != 0)
        .map(|l| {
            format!(
                "exit {}: {}",
                l.exit_code.unwrap_or(0),
                l.output.unwrap_or_default().trim()
            )
        }))
}

async fn listed(
    engine: &Engine,
    project: &str,
    all: bool,
    filters: HashMap<String, Vec<String>>,
) -> Result<Vec<ObservedContainer>> {
    let list = engine
        .docker
        .list_containers(Some(ListContainersOptions {
            all,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .api(|| format!("listing the containers of project {project}"))?;
    let mut out: Vec<ObservedContainer> = list
        .into_iter()
        .filter_map(|c| {
            let labels: std::collections::BTreeMap<String, String> =
                c.labels.unwrap_or_default().into_iter().collect();
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
                config: labels.get(labels::CONFIG).cloned(),
                image: c.image.unwrap_or_default(),
                image_id: c.image_id.unwrap_or_default(),
                state: ContainerState::parse(&c.state.map(|s| s.to_string()).unwrap_or_default()),
                status: c.status.clone().unwrap_or_default(),
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
                exit_code: c.status.as_deref().and_then(exit_code_in_status),
                restarts: 0,
                oom_killed: false,
                command: c.command.unwrap_or_default(),
                mounts: c
                    .mounts
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| SeenMount {
                        volume: m.typ.as_deref() == Some("volume"),
                        name: m.name.or(m.source).unwrap_or_default(),
                        driver: m.driver.unwrap_or_default(),
                        destination: m.destination.unwrap_or_default(),
                    })
                    .collect(),
                networks: c
                    .network_settings
                    .and_then(|n| n.networks)
                    .map(|n| n.into_keys().collect())
                    .unwrap_or_default(),
                labels,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.service, a.number, &a.name).cmp(&(&b.service, b.number, &b.name)));
    Ok(out)
}

/// `Exited (137) 5 seconds ago` → 137.
fn exit_code_in_status(status: &str) -> Option<i64> {
    let rest = status.strip_prefix("Exited (")?;
    rest[..rest.find(')')?].parse().ok()
}

/// Adds what only an inspect tells, restart counts and OOM kills, to the containers `wanted`
/// picks (one inspect each, all at once).
pub async fn with_exit_details(
    engine: &Engine,
    list: &mut [ObservedContainer],
    wanted: &(dyn Fn(&ObservedContainer) -> bool + Sync),
) {
    let details = futures::future::join_all(list.iter().map(|c| async {
        if !wanted(c) {
            return None;
        }
        let state = engine.docker.inspect_container(&c.id, None).await.ok();
        state.map(|i| {
            (
                i.restart_count.unwrap_or(0),
                i.state.and_then(|s| s.oom_killed).unwrap_or(false),
            )
        })
    }))
    .await;
    for (c, d) in list.iter_mut().zip(details) {
        if let Some((restarts, oom)) = d {
            c.restarts = restarts;
            c.oom_killed = oom;
        }
    }
}

/// A network of the project. Two runs racing on an engine that allows duplicate names (Engine
/// 20.10 does) can leave two with one name, so a network is handled by its ID, never by its name.
#[derive(Debug, Clone)]
pub struct ObservedNetwork {
    pub id: String,
    pub name: String,
    /// The manifest's key for it.
    pub key: String,
    /// Nanoseconds since the epoch; 0 when the daemon did not say.
    pub created: i128,
}

/// Networks of the project, oldest first.
pub async fn networks(engine: &Engine, project: &str) -> Result<Vec<ObservedNetwork>> {
    let list = engine
        .docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(project_filter(project)),
        }))
        .await
        .api(|| format!("listing the networks of project {project}"))?;
    let mut out: Vec<ObservedNetwork> = list
        .into_iter()
        .filter_map(|n| {
            let labels = n.labels.unwrap_or_default();
            if labels.get(labels::PROJECT).map(String::as_str) != Some(project) {
                return None;
            }
            Some(ObservedNetwork {
                id: n.id?,
                name: n.name?,
                key: labels.get(labels::NETWORK).cloned().unwrap_or_default(),
                created: n.created.map_or(0, |t| t.unix_timestamp_nanos()),
            })
        })
        .collect();
    out.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    Ok(out)
}

/// Every network with exactly this name, whoever made it: (ID, project label if any).
pub async fn networks_named(engine: &Engine, name: &str) -> Result<Vec<(String, Option<String>)>> {
    let list = engine
        .docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(HashMap::from([("name".to_owned(), vec![name.to_owned()])])),
        }))
        .await
        .api(|| format!("looking for networks named {name}"))?;
    // The name filter matches parts of names too.
    Ok(list
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(name))
        .map(|n| {
            let project = n.labels.unwrap_or_default().remove(labels::PROJECT);
            (n.id.unwrap_or_default(), project)
        })
        .collect())
}

/// A volume of the project as `volumes` lists it.
#[derive(Debug, Clone)]
pub struct VolumeInfo {
    pub name: String,
    /// The manifest's key for it.
    pub key: String,
    pub driver: String,
    pub mountpoint: String,
}

/// Volumes of the project with their driver and mount point, by name.
pub async fn volume_details(engine: &Engine, project: &str) -> Result<Vec<VolumeInfo>> {
    let list = engine
        .docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(project_filter(project)),
        }))
        .await
        .api(|| format!("listing the volumes of project {project}"))?;
    let mut out: Vec<VolumeInfo> = list
        .volumes
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.labels.get(labels::PROJECT).map(String::as_str) == Some(project))
        .map(|v| VolumeInfo {
            key: v.labels.get(labels::VOLUME).cloned().unwrap_or_default(),
            name: v.name,
            driver: v.driver,
            mountpoint: v.mountpoint,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Volumes of the project: daemon name → manifest key.
pub async fn volumes(engine: &Engine, project: &str) -> Result<HashMap<String, String>> {
    Ok(volume_details(engine, project)
        .await?
        .into_iter()
        .map(|v| (v.name, v.key))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(state: &str, status: &str) -> ObservedContainer {
        ObservedContainer {
            id: "id".into(),
            name: "p-a-1".into(),
            service: "a".into(),
            number: 1,
            oneoff: false,
            config_hash: String::new(),
            config: None,
            image: "img".into(),
            image_id: String::new(),
            state: ContainerState::parse(state),
            status: status.into(),
            ports: Vec::new(),
            created: 0,
            exit_code: exit_code_in_status(status),
            restarts: 0,
            oom_killed: false,
            ..Default::default()
        }
    }

    #[test]
    fn the_state_says_how_a_container_ended_and_how_often_it_restarted() {
        assert_eq!(container("running", "Up 3 seconds").state_text(), "running");
        let mut c = container("exited", "Exited (137) 2 seconds ago");
        assert_eq!(c.state_text(), "exited (137)");
        c.oom_killed = true;
        assert_eq!(c.state_text(), "exited (137, OOM-killed)");
        let mut r = container("running", "Up 1 second");
        r.restarts = 3;
        assert_eq!(r.state_text(), "running (3 restarts)");
        assert_eq!(
            container("restarting", "Restarting (1) 1 second ago").state_text(),
            "restarting"
        );
        assert_eq!(exit_code_in_status("Exited (-1) now"), Some(-1));
        assert_eq!(exit_code_in_status("Up 2 hours"), None);
    }
}
