//! The parts of a service and of a project: ports, mounts, dependencies, restart and deploy
//! settings, healthchecks, and the top-level networks, volumes, secrets and configs.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use super::de::*;
use super::{Resources, Service};

/// A resource limit (`ulimits:`): a number for both, or `{soft, hard}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ulimit {
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvFile {
    pub path: String,
    pub required: bool,
    /// `format: raw`: each line is KEY=VALUE taken as written, without quotes or interpolation.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub raw: bool,
}

/// A container's cgroup namespace (`cgroup:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cgroup {
    Host,
    Private,
}

/// How a (Windows) container is isolated (`isolation:`); kept and passed on as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    Default,
    Process,
    Hyperv,
}

/// How Swarm runs a service: a number of replicas, or one task on every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeployMode {
    Replicated,
    Global,
}

/// How a Swarm service is reached by name: a virtual IP (Swarm's default), or DNS round-robin
/// over its tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointMode {
    #[default]
    Vip,
    Dnsrr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dependency {
    pub condition: Condition,
    pub required: bool,
    /// Printed only when set, as compose prints it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub restart: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restart {
    No,
    Always,
    OnFailure(Option<u32>),
    UnlessStopped,
}

impl Restart {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "no" | "\"no\"" => Ok(Restart::No),
            "always" => Ok(Restart::Always),
            "unless-stopped" => Ok(Restart::UnlessStopped),
            "on-failure" => Ok(Restart::OnFailure(None)),
            other => match other.strip_prefix("on-failure:") {
                Some(n) => n.parse().map(|n| Restart::OnFailure(Some(n))).map_err(|_| {
                    format!("`{other}`: the retry count after `on-failure:` must be a whole number")
                }),
                None => Err(format!(
                    "`{other}` is not a restart policy; use no, always, on-failure[:N] or unless-stopped"
                )),
            },
        }
    }
}

impl std::fmt::Display for Restart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Restart::No => write!(f, "no"),
            Restart::Always => write!(f, "always"),
            Restart::UnlessStopped => write!(f, "unless-stopped"),
            Restart::OnFailure(None) => write!(f, "on-failure"),
            Restart::OnFailure(Some(n)) => write!(f, "on-failure:{n}"),
        }
    }
}

impl Serialize for Restart {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    #[serde(
        default,
        deserialize_with = "deploy_mode",
        skip_serializing_if = "Option::is_none"
    )]
    pub mode: Option<DeployMode>,
    #[serde(
        default,
        deserialize_with = "u32_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub replicas: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_mode: Option<EndpointMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_config: Option<UpdateConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<UpdateConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
}

/// Where Swarm may put a service's tasks (`deploy.placement`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub constraints: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferences: Vec<PlacementPreference>,
    #[serde(
        default,
        deserialize_with = "u32_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_replicas_per_node: Option<u32>,
}

/// `{spread: node.labels.zone}`: tasks spread evenly over the label's values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementPreference {
    pub spread: String,
}

/// When Swarm restarts a task (`deploy.restart_policy.condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartCondition {
    None,
    OnFailure,
    Any,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<RestartCondition>,
    #[serde(
        default,
        deserialize_with = "duration_opt",
        serialize_with = "ser_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub delay: Option<Duration>,
    #[serde(
        default,
        deserialize_with = "u32_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_attempts: Option<u32>,
    #[serde(
        default,
        deserialize_with = "duration_opt",
        serialize_with = "ser_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub window: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateConfig {
    #[serde(
        default,
        deserialize_with = "u32_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub parallelism: Option<u32>,
    #[serde(
        default,
        deserialize_with = "duration_opt",
        serialize_with = "ser_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub delay: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_action: Option<FailureAction>,
    #[serde(
        default,
        deserialize_with = "duration_opt",
        serialize_with = "ser_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub monitor: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failure_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<UpdateOrder>,
}

/// `update_config.order`: whether a replica's replacement starts before or after it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateOrder {
    StopFirst,
    StartFirst,
}

/// `update_config.failure_action`: what a failed update does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureAction {
    Continue,
    Rollback,
    Pause,
}

/// `logging:` — the container's log driver and its options (`max-size: 10m`, `max-file: 3`...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Healthcheck {
    #[serde(
        default,
        deserialize_with = "health_test",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub test: Vec<String>,
    #[serde(
        default,
        deserialize_with = "duration_opt",
        serialize_with = "ser_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub interval: Option<Duration>,
    #[serde(
        default,
        deserialize_with = "duration_opt",
        serialize_with = "ser_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    #[serde(
        default,
        deserialize_with = "u32_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub retries: Option<u32>,
    #[serde(
        default,
        deserialize_with = "duration_opt",
        serialize_with = "ser_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_period: Option<Duration>,
    #[serde(
        default,
        deserialize_with = "duration_opt",
        serialize_with = "ser_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_interval: Option<Duration>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable: Option<bool>,
}

impl Healthcheck {
    /// True when the check is switched off (`disable: true` or `test: ["NONE"]`).
    pub fn is_disabled(&self) -> bool {
        self.disable == Some(true) || self.test.first().is_some_and(|t| t == "NONE")
    }
}

/// A secret or config a service (or a build) is given, and where it lands.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSecret {
    pub source: String,
    /// Where it lands; when the file did not say, the default of its kind (`/run/secrets/NAME`
    /// for a service's secret, `/NAME` for a config, `NAME` as a build secret's id).
    pub target: String,
    /// The target is a default compose leaves out of its output (a config's, a build secret's).
    pub target_implicit: bool,
    pub uid: Option<String>,
    pub gid: Option<String>,
    /// File mode (printed in octal, as compose prints it).
    pub mode: Option<u32>,
}

impl Serialize for ServiceSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("source", &self.source)?;
        if !self.target_implicit {
            m.serialize_entry("target", &self.target)?;
        }
        if let Some(uid) = &self.uid {
            m.serialize_entry("uid", uid)?;
        }
        if let Some(gid) = &self.gid {
            m.serialize_entry("gid", gid)?;
        }
        if let Some(mode) = self.mode {
            m.serialize_entry("mode", &format!("{mode:04o}"))?;
        }
        m.end()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub external: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub driver_opts: BTreeMap<String, String>,
}

/// A top-level config has a secret's shape (plus `content`): a file mounted read-only into the
/// services that name it.
pub type ConfigDef = SecretDef;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Configs only: the file's text written inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub external: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Labels of the Swarm secret or config made from it.
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Swarm only: the secret store plugin that holds it, and its options.
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub driver: Option<String>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub driver_opts: BTreeMap<String, String>,
    /// Swarm only: the templating the secret's or config's text goes through (`golang`).
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub template_driver: Option<String>,
    /// The value of `environment:`, read when loading (never written out: it may be a secret).
    #[serde(skip)]
    pub resolved: Option<String>,
}

/// Where a secret's or config's value comes from, decided once from the keys as written (which
/// `config` prints back as they were).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretOrigin<'a> {
    /// Made outside the project, under this name.
    External(&'a str),
    /// A file on this machine, as written (relative to the project folder).
    File(&'a str),
    /// Text: a config's `content`, or the value `environment` named, read at load.
    Text(&'a str),
    /// `environment` named a variable that was not set, or nothing says where it is.
    Missing,
}

impl SecretDef {
    /// Where the value comes from; `key` is its name in the file (the external name's default).
    pub fn origin<'a>(&'a self, key: &'a str) -> SecretOrigin<'a> {
        if self.external == Some(true) {
            SecretOrigin::External(self.name.as_deref().unwrap_or(key))
        } else if let Some(f) = &self.file {
            SecretOrigin::File(f)
        } else if let Some(t) = self.content.as_ref().or(self.resolved.as_ref()) {
            SecretOrigin::Text(t)
        } else {
            SecretOrigin::Missing
        }
    }
}

impl Service {
    /// Replicas asked for: `deploy.replicas`, else `scale`, else 1.
    pub fn replicas(&self) -> u32 {
        self.deploy
            .as_ref()
            .and_then(|d| d.replicas)
            .or(self.scale)
            .unwrap_or(1)
    }

    pub fn has_healthcheck(&self) -> bool {
        self.healthcheck
            .as_ref()
            .is_some_and(|h| !h.is_disabled() && !h.test.is_empty())
    }

    /// The most replicas this service can run on one host, and why: a fixed host port or a fixed
    /// container name allows one; a published range allows one per port in it.
    pub fn replica_limit(&self) -> Option<(u32, String)> {
        let mut limit: Option<(u32, String)> = None;
        let mut tighten = |n: u32, why: String| {
            if limit.as_ref().is_none_or(|(m, _)| n < *m) {
                limit = Some((n, why));
            }
        };
        for p in &self.ports {
            if let Some((a, b)) = p.published_range() {
                let n = u32::from(b.saturating_sub(a)) + 1;
                let why = if a == b {
                    format!("it publishes fixed host port {a}")
                } else {
                    format!("its host port range {a}-{b} has {n} ports")
                };
                tighten(n, why);
            }
        }
        if let Some(name) = &self.container_name {
            tighten(1, format!("it has the fixed container_name `{name}`"));
        }
        limit
    }
}
