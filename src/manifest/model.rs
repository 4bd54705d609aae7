//! The typed Compose model. Deserialisation accepts every short and long form the format allows;
//! serialisation writes the normalised long form that `stackctl config` prints.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_yaml::Value;

use super::units;

/// A whole project: every file merged, interpolated and normalised.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Project {
    pub name: String,
    #[serde(skip)]
    pub working_dir: PathBuf,
    #[serde(skip)]
    pub config_files: Vec<PathBuf>,
    pub services: BTreeMap<String, Service>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, NetworkDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, VolumeDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, ConfigDef>,
}

/// What one file holds at top level, before merging.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTop {
    #[serde(default)]
    pub version: Option<Value>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub services: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub networks: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub secrets: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub configs: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(
        default,
        deserialize_with = "build_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub build: Option<Build>,
    #[serde(
        default,
        deserialize_with = "command_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub command: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "command_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub entrypoint: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "env_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub environment: BTreeMap<String, Option<String>>,
    #[serde(
        default,
        deserialize_with = "env_files",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env_file: Vec<EnvFile>,
    #[serde(
        default,
        deserialize_with = "ports",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ports: Vec<Port>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub expose: Vec<String>,
    #[serde(
        default,
        deserialize_with = "mounts",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes: Vec<Mount>,
    #[serde(
        default,
        deserialize_with = "string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tmpfs: Vec<String>,
    #[serde(
        default,
        deserialize_with = "service_networks",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub networks: BTreeMap<String, ServiceNetwork>,
    #[serde(
        default,
        deserialize_with = "depends_on",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub depends_on: BTreeMap<String, Dependency>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub links: Vec<String>,
    #[serde(
        default,
        deserialize_with = "restart_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub restart: Option<Restart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    #[serde(
        default,
        deserialize_with = "u32_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub scale: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(
        default,
        deserialize_with = "duration_opt",
        serialize_with = "ser_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_grace_period: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub init: Option<bool>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub read_only: Option<bool>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cap_add: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cap_drop: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub profiles: Vec<String>,
    #[serde(
        default,
        deserialize_with = "pull_policy_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pull_policy: Option<String>,
    #[serde(
        default,
        deserialize_with = "service_secrets",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub secrets: Vec<ServiceSecret>,
    #[serde(
        default,
        deserialize_with = "service_configs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub configs: Vec<ServiceSecret>,
    // Settings handed to the container as written: the engine's HostConfig and Config.
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tty: Option<bool>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub stdin_open: Option<bool>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub privileged: Option<bool>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub oom_kill_disable: Option<bool>,
    #[serde(
        default,
        deserialize_with = "extra_hosts",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extra_hosts: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dns: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dns_search: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dns_opt: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub security_opt: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub group_add: Vec<String>,
    #[serde(
        default,
        deserialize_with = "devices",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub devices: Vec<String>,
    #[serde(
        default,
        deserialize_with = "bytes_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub mem_limit: Option<u64>,
    #[serde(
        default,
        deserialize_with = "bytes_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub mem_reservation: Option<u64>,
    #[serde(
        default,
        deserialize_with = "bytes_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub shm_size: Option<u64>,
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pids_limit: Option<i64>,
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub oom_score_adj: Option<i64>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub sysctls: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "ulimits",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub ulimits: BTreeMap<String, Ulimit>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub domainname: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipc: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pid: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub uts: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub userns_mode: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub runtime: Option<String>,
    #[serde(
        default,
        deserialize_with = "cpus_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpus: Option<f64>,
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_shares: Option<i64>,
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_period: Option<i64>,
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_quota: Option<i64>,
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_rt_period: Option<i64>,
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_rt_runtime: Option<i64>,
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub mem_swappiness: Option<i64>,
    #[serde(
        default,
        deserialize_with = "swap_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub memswap_limit: Option<i64>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpuset: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cgroup_parent: Option<String>,
    #[serde(
        default,
        deserialize_with = "cgroup_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cgroup: Option<String>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub storage_opt: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub device_cgroup_rules: Vec<String>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub attach: Option<bool>,
    #[serde(
        default,
        deserialize_with = "network_mode_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub network_mode: Option<String>,
    /// `develop` (for `watch`): kept for `config`, not acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub develop: Option<Value>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub platform: Option<String>,
    /// Files of `KEY=VALUE` labels; `labels:` wins over them. Folded into `labels` on load.
    #[serde(
        default,
        deserialize_with = "string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub label_file: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub external_links: Vec<String>,
    #[serde(
        default,
        deserialize_with = "isolation_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub isolation: Option<String>,
    /// `SERVICE[:ro|rw]` or `container:NAME[:ro|rw]`: mount every volume of that container.
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes_from: Vec<String>,
}

/// A resource limit (`ulimits:`): a number for both, or `{soft, hard}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ulimit {
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub context: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub args: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvFile {
    pub path: String,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    pub target: u16,
    /// A single port or a range `8000-8010`; a range hands one port to each replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

impl Port {
    /// The published range as (first, last), if the port is published.
    pub fn published_range(&self) -> Option<(u16, u16)> {
        let p = self.published.as_deref()?;
        match p.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => p.parse().ok().map(|n| (n, n)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Volume,
    Bind,
    Tmpfs,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mount {
    #[serde(rename = "type")]
    pub kind: MountKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub target: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceNetwork {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
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
    pub mode: Option<String>,
    #[serde(
        default,
        deserialize_with = "u32_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub replicas: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_mode: Option<String>,
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
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceSet>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSet {
    #[serde(
        default,
        deserialize_with = "cpus_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpus: Option<f64>,
    #[serde(
        default,
        deserialize_with = "bytes_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub memory: Option<u64>,
    #[serde(
        default,
        deserialize_with = "u32_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pids: Option<u32>,
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
    pub failure_action: Option<String>,
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
    pub order: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSecret {
    pub source: String,
    pub target: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkDef {
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
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub internal: Option<bool>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub attachable: Option<bool>,
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

// ---- deserialisation helpers: every union form the Compose format allows ----

fn fail<E: de::Error>(msg: impl std::fmt::Display) -> E {
    E::custom(msg)
}

/// A scalar as text; numbers and booleans written unquoted are accepted where Compose accepts them.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn kind_of(v: &Value) -> &'static str {
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

fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(None),
        other => scalar_text(&other)
            .map(Some)
            .ok_or_else(|| fail(format!("expected a string, found {}", kind_of(&other)))),
    }
}

/// A whole number written as a number or as a string; `None` for null.
fn whole_number(v: &Value) -> Result<Option<i64>, String> {
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

fn u32_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
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

fn bool_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
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

fn cpus_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
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
fn size(v: &Value) -> Result<Option<u64>, String> {
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

fn bytes_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    size(&Value::deserialize(d)?).map_err(fail)
}

fn i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    whole_number(&Value::deserialize(d)?).map_err(fail)
}

/// `network_mode`: `host`, `none`, `bridge`, `service:NAME` (that service's first container) or
/// `container:NAME`.
fn network_mode_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match string_opt(d)? {
        Some(m)
            if !["host", "none", "bridge"].contains(&m.as_str())
                && m.strip_prefix("container:")
                    .or_else(|| m.strip_prefix("service:"))
                    .is_none_or(|c| c.is_empty()) =>
        {
            Err(fail(format!(
                "expected host, none, bridge, service:NAME or container:NAME, found `{m}`"
            )))
        }
        other => Ok(other),
    }
}

/// `isolation` (Windows daemons): `default`, `process` or `hyperv`.
fn isolation_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match string_opt(d)? {
        Some(i) if !["default", "process", "hyperv"].contains(&i.as_str()) => Err(fail(format!(
            "expected default, process or hyperv, found `{i}`"
        ))),
        other => Ok(other),
    }
}

/// `cgroup`: the container's cgroup namespace, `host` or `private`.
fn cgroup_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match string_opt(d)? {
        Some(c) if c != "host" && c != "private" => {
            Err(fail(format!("expected host or private, found `{c}`")))
        }
        other => Ok(other),
    }
}

/// `memswap_limit`: a size, or -1 for unlimited swap.
fn swap_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Value::deserialize(d)?;
    let unlimited = match &v {
        Value::Number(n) => n.as_i64() == Some(-1),
        Value::String(s) => s.trim() == "-1",
        _ => false,
    };
    if unlimited {
        return Ok(Some(-1));
    }
    size(&v)
        .map(|b| b.map(|b| b.min(i64::MAX as u64) as i64))
        .map_err(|e| fail(format!("{e}, or -1 for unlimited")))
}

/// `extra_hosts`: `host:ip` or `host=ip` items, or a mapping of host to address (or addresses); the
/// engine wants `host:ip`.
fn extra_hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let mut out = Vec::new();
    match Value::deserialize(d)? {
        Value::Null => {}
        Value::Sequence(items) => {
            for s in string_items::<D::Error>(&items)? {
                // `=` first: an IPv6 address is full of colons.
                let (host, ip) = s
                    .split_once('=')
                    .or_else(|| s.split_once(':'))
                    .ok_or_else(|| fail(format!("`{s}` should be HOST:IP or HOST=IP")))?;
                out.push(format!("{host}:{ip}"));
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map {
                let host = scalar_text(&k).ok_or_else(|| fail("host names must be strings"))?;
                let ips = match &v {
                    Value::Sequence(items) => string_items::<D::Error>(items)?,
                    other => vec![scalar_text(other).ok_or_else(|| {
                        fail(format!("the address of `{host}` should be a string"))
                    })?],
                };
                out.extend(ips.into_iter().map(|ip| format!("{host}:{ip}")));
            }
        }
        other => {
            return Err(fail(format!(
                "expected a list of HOST:IP or a mapping, found {}",
                kind_of(&other)
            )));
        }
    }
    Ok(out)
}

/// `devices`: `HOST[:CONTAINER[:PERMISSIONS]]` items, or `{source, target, permissions}`.
fn devices<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Mapping(m) => {
                    let get = |k: &str| m.get(k).and_then(scalar_text);
                    let source = get("source")
                        .ok_or_else(|| fail(format!("device {i}: `source` is missing")))?;
                    let target = get("target").unwrap_or_else(|| source.clone());
                    let perms = get("permissions").unwrap_or_else(|| "rwm".into());
                    Ok(format!("{source}:{target}:{perms}"))
                }
                other => scalar_text(other).ok_or_else(|| {
                    fail(format!(
                        "device {i} should be HOST:CONTAINER, found {}",
                        kind_of(other)
                    ))
                }),
            })
            .collect(),
        other => Err(fail(format!("expected a list, found {}", kind_of(&other)))),
    }
}

/// `ulimits`: `nofile: 1024` or `nofile: {soft: 1024, hard: 4096}`.
fn ulimits<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Ulimit>, D::Error> {
    let number = |name: &str, v: &Value| -> Result<i64, D::Error> {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| fail(format!("ulimit `{name}` should be a whole number")))
    };
    let mut out = BTreeMap::new();
    match Value::deserialize(d)? {
        Value::Null => {}
        Value::Mapping(map) => {
            for (k, v) in map {
                let name = scalar_text(&k).ok_or_else(|| fail("ulimit names must be strings"))?;
                let limit = match &v {
                    Value::Mapping(m) => {
                        if let Some(bad) = m
                            .keys()
                            .filter_map(scalar_text)
                            .find(|k| k != "soft" && k != "hard")
                        {
                            return Err(fail(format!(
                                "ulimit `{name}`: unknown key `{bad}`; expected soft and hard"
                            )));
                        }
                        let part = |key: &str| {
                            m.get(key)
                                .ok_or_else(|| fail(format!("ulimit `{name}` needs `{key}`")))
                                .and_then(|v| number(&name, v))
                        };
                        Ulimit {
                            soft: part("soft")?,
                            hard: part("hard")?,
                        }
                    }
                    other => {
                        let n = number(&name, other)?;
                        Ulimit { soft: n, hard: n }
                    }
                };
                out.insert(name, limit);
            }
        }
        other => {
            return Err(fail(format!(
                "expected a mapping of limits, found {}",
                kind_of(&other)
            )));
        }
    }
    Ok(out)
}

fn duration_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
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

fn ser_duration_opt<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&units::format_duration(*d)),
        None => s.serialize_none(),
    }
}

fn string_items<E: de::Error>(items: &[Value]) -> Result<Vec<String>, E> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            scalar_text(v)
                .ok_or_else(|| fail(format!("item {i} should be a string, found {}", kind_of(v))))
        })
        .collect()
}

fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => string_items(&items),
        other => Err(fail(format!("expected a list, found {}", kind_of(&other)))),
    }
}

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
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
fn command_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
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

fn health_test<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
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
fn key_values<E: de::Error>(
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

fn env_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Option<String>>, D::Error> {
    key_values(Value::deserialize(d)?, true)
}

fn label_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(key_values(Value::deserialize(d)?, false)?
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

fn env_files<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<EnvFile>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Mapping(m) => {
                let path = m
                    .get("path")
                    .and_then(scalar_text)
                    .ok_or_else(|| fail("an env_file entry in long form needs `path`"))?;
                let required = m.get("required").and_then(Value::as_bool).unwrap_or(true);
                Ok(EnvFile { path, required })
            }
            other => scalar_text(&other)
                .map(|path| EnvFile {
                    path,
                    required: true,
                })
                .ok_or_else(|| fail(format!("expected a path, found {}", kind_of(&other)))),
        })
        .collect()
}

fn build_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Build>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(context) => Ok(Some(Build {
            context,
            ..Build::default()
        })),
        v @ Value::Mapping(_) => {
            let mut map = v;
            if let Value::Mapping(m) = &mut map
                && !m.contains_key("context")
            {
                m.insert("context".into(), ".".into());
            }
            Build::deserialize(map).map(Some).map_err(fail)
        }
        other => Err(fail(format!(
            "expected a path or a mapping with `context`, found {}",
            kind_of(&other)
        ))),
    }
}

fn restart_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Restart>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Bool(false) => Ok(Some(Restart::No)),
        Value::String(s) => Restart::parse(&s).map(Some).map_err(fail),
        other => Err(fail(format!(
            "expected one of no, always, on-failure[:N], unless-stopped; found {}",
            kind_of(&other)
        ))),
    }
}

fn deploy_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match string_opt(d)? {
        None => Ok(None),
        Some(m) if m == "replicated" || m == "global" => Ok(Some(m)),
        Some(m) => Err(fail(format!(
            "`{m}` is not a deploy mode; use replicated or global"
        ))),
    }
}

fn pull_policy_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match string_opt(d)? {
        None => Ok(None),
        Some(p)
            if ["always", "never", "missing", "if_not_present", "build"].contains(&p.as_str()) =>
        {
            Ok(Some(p))
        }
        Some(p) => Err(fail(format!(
            "`{p}` is not a pull policy; use always, never, missing or build"
        ))),
    }
}

fn service_networks<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, ServiceNetwork>, D::Error> {
    let mut out = BTreeMap::new();
    match Value::deserialize(d)? {
        Value::Null => {}
        Value::Sequence(items) => {
            for name in string_items::<D::Error>(&items)? {
                out.insert(name, ServiceNetwork::default());
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map {
                let name = scalar_text(&k).ok_or_else(|| fail("network names must be strings"))?;
                let net = match v {
                    Value::Null => ServiceNetwork::default(),
                    Value::Mapping(m) => {
                        for key in m.keys() {
                            let key = scalar_text(key).unwrap_or_default();
                            if !["aliases", "ipv4_address", "ipv6_address", "priority"]
                                .contains(&key.as_str())
                            {
                                return Err(fail(format!(
                                    "unknown key `{key}` under network `{name}`; expected aliases"
                                )));
                            }
                        }
                        let aliases = match m.get("aliases") {
                            Some(Value::Sequence(a)) => string_items(a)?,
                            None | Some(Value::Null) => Vec::new(),
                            Some(other) => {
                                return Err(fail(format!(
                                    "aliases should be a list, found {}",
                                    kind_of(other)
                                )));
                            }
                        };
                        ServiceNetwork { aliases }
                    }
                    other => {
                        return Err(fail(format!(
                            "network `{name}` should map to settings, found {}",
                            kind_of(&other)
                        )));
                    }
                };
                out.insert(name, net);
            }
        }
        other => {
            return Err(fail(format!(
                "expected a list or a mapping of networks, found {}",
                kind_of(&other)
            )));
        }
    }
    Ok(out)
}

fn depends_on<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Dependency>, D::Error> {
    let mut out = BTreeMap::new();
    match Value::deserialize(d)? {
        Value::Null => {}
        Value::Sequence(items) => {
            for name in string_items::<D::Error>(&items)? {
                out.insert(
                    name,
                    Dependency {
                        condition: Condition::ServiceStarted,
                        required: true,
                        restart: false,
                    },
                );
            }
        }
        Value::Mapping(map) => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Long {
                #[serde(default)]
                condition: Option<Condition>,
                #[serde(default, deserialize_with = "bool_opt")]
                required: Option<bool>,
                #[serde(default, deserialize_with = "bool_opt")]
                restart: Option<bool>,
            }
            for (k, v) in map {
                let name = scalar_text(&k).ok_or_else(|| fail("service names must be strings"))?;
                let long = match v {
                    Value::Null => Long { condition: None, required: None, restart: None },
                    other => Long::deserialize(other).map_err(|e| {
                        fail(format!(
                            "dependency `{name}`: {e} (condition is one of service_started, service_healthy, service_completed_successfully)"
                        ))
                    })?,
                };
                out.insert(
                    name,
                    Dependency {
                        condition: long.condition.unwrap_or(Condition::ServiceStarted),
                        required: long.required.unwrap_or(true),
                        restart: long.restart.unwrap_or(false),
                    },
                );
            }
        }
        other => {
            return Err(fail(format!(
                "expected a list or a mapping of services, found {}",
                kind_of(&other)
            )));
        }
    }
    Ok(out)
}

fn service_secrets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ServiceSecret>, D::Error> {
    service_refs(Value::deserialize(d)?, "secret")
}

/// `configs` of a service: as `secrets`; a config's default target is `/<name>`.
fn service_configs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ServiceSecret>, D::Error> {
    service_refs(Value::deserialize(d)?, "config")
}

/// A service's list of secrets or configs: names, or `{source, target}`.
fn service_refs<E: de::Error>(v: Value, noun: &str) -> Result<Vec<ServiceSecret>, E> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        other => {
            return Err(fail(format!(
                "expected a list of {noun}s, found {}",
                kind_of(&other)
            )));
        }
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Mapping(m) => {
                let source = m
                    .get("source")
                    .and_then(scalar_text)
                    .ok_or_else(|| fail(format!("a {noun} in long form needs `source`")))?;
                let target = m
                    .get("target")
                    .and_then(scalar_text)
                    .unwrap_or_else(|| source.clone());
                Ok(ServiceSecret { source, target })
            }
            other => scalar_text(&other)
                .map(|s| ServiceSecret {
                    target: s.clone(),
                    source: s,
                })
                .ok_or_else(|| fail(format!("expected a {noun} name, found {}", kind_of(&other)))),
        })
        .collect()
}

fn ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Port>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        other => {
            return Err(fail(format!(
                "expected a list of ports, found {}",
                kind_of(&other)
            )));
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::Mapping(m) => {
                let target = m
                    .get("target")
                    .and_then(scalar_text)
                    .ok_or_else(|| fail(format!("port {i}: the long form needs `target`")))?;
                for key in m.keys() {
                    let key = scalar_text(key).unwrap_or_default();
                    if ![
                        "target",
                        "published",
                        "host_ip",
                        "protocol",
                        "mode",
                        "name",
                        "app_protocol",
                    ]
                    .contains(&key.as_str())
                    {
                        return Err(fail(format!(
                            "port {i}: unknown key `{key}`; expected target, published, host_ip, protocol or mode"
                        )));
                    }
                }
                let target =
                    parse_port_number(&target).map_err(|e| fail(format!("port {i}: {e}")))?;
                let published = match m.get("published").and_then(scalar_text) {
                    Some(p) => {
                        parse_port_range(&p).map_err(|e| fail(format!("port {i}: {e}")))?;
                        Some(p)
                    }
                    None => None,
                };
                let mode = m.get("mode").and_then(scalar_text);
                if let Some(mode) = &mode
                    && mode != "host"
                    && mode != "ingress"
                {
                    return Err(fail(format!(
                        "port {i}: mode `{mode}` is not host or ingress"
                    )));
                }
                out.push(Port {
                    target,
                    published,
                    host_ip: m.get("host_ip").and_then(scalar_text),
                    protocol: m
                        .get("protocol")
                        .and_then(scalar_text)
                        .unwrap_or_else(|| "tcp".into()),
                    mode,
                });
            }
            other => {
                let s = scalar_text(&other).ok_or_else(|| {
                    fail(format!(
                        "port {i} should be a string like \"8080:80\", found {}",
                        kind_of(&other)
                    ))
                })?;
                out.extend(parse_port_short(&s).map_err(|e| fail(format!("port {i} `{s}`: {e}")))?);
            }
        }
    }
    Ok(out)
}

fn parse_port_number(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        Ok(n) => Err(format!("{n} is outside 1-65535")),
        Err(_) => Err(format!("`{s}` is not a port number")),
    }
}

fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse_port_number(a)?, parse_port_number(b)?);
            if a > b {
                return Err(format!("the range {a}-{b} runs backwards"));
            }
            Ok((a, b))
        }
        None => parse_port_number(s).map(|p| (p, p)),
    }
}

/// `[HOST_IP:][PUBLISHED[-END]:]TARGET[-END][/PROTOCOL]`
pub fn parse_port_short(s: &str) -> Result<Vec<Port>, String> {
    let (spec, protocol) = match s.rsplit_once('/') {
        Some((spec, proto)) => {
            if !["tcp", "udp", "sctp"].contains(&proto) {
                return Err(format!("protocol `{proto}` is not tcp, udp or sctp"));
            }
            (spec, proto.to_owned())
        }
        None => (s, "tcp".to_owned()),
    };
    // An IPv6 host address is written in brackets: [::1]:8080:80
    let (host_ip, rest) = if let Some(stripped) = spec.strip_prefix('[') {
        let (ip, rest) = stripped
            .split_once("]:")
            .ok_or("an IPv6 host address needs `]:` after it")?;
        (Some(ip.to_owned()), rest)
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.len() {
            1 | 2 => (None, spec),
            3 => (Some(parts[0].to_owned()), &spec[parts[0].len() + 1..]),
            _ => {
                return Err(
                    "too many `:`; the form is [HOST_IP:][HOST_PORT:]CONTAINER_PORT".into(),
                );
            }
        }
    };
    if let Some(ip) = &host_ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        return Err(format!("`{ip}` is not an IP address"));
    }
    let (published, target) = match rest.split_once(':') {
        Some((p, t)) => (if p.is_empty() { None } else { Some(p) }, t),
        None => (None, rest),
    };
    let (t0, t1) = parse_port_range(target)?;
    let count = (t1 - t0) as usize + 1;
    let mut out = Vec::with_capacity(count);
    match published.map(parse_port_range).transpose()? {
        // One container port, a host range: each replica takes one port of the range.
        Some((p0, p1)) if count == 1 => out.push(Port {
            target: t0,
            published: Some(if p0 == p1 {
                p0.to_string()
            } else {
                format!("{p0}-{p1}")
            }),
            host_ip,
            protocol,
            mode: None,
        }),
        Some((p0, p1)) => {
            if (p1 - p0) as usize + 1 != count {
                return Err(format!(
                    "the host range {p0}-{p1} and the container range {t0}-{t1} differ in length"
                ));
            }
            for i in 0..count as u16 {
                out.push(Port {
                    target: t0 + i,
                    published: Some((p0 + i).to_string()),
                    host_ip: host_ip.clone(),
                    protocol: protocol.clone(),
                    mode: None,
                });
            }
        }
        None => {
            for i in 0..count as u16 {
                out.push(Port {
                    target: t0 + i,
                    published: None,
                    host_ip: host_ip.clone(),
                    protocol: protocol.clone(),
                    mode: None,
                });
            }
        }
    }
    Ok(out)
}

fn mounts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Mount>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        other => {
            return Err(fail(format!(
                "expected a list of volumes, found {}",
                kind_of(&other)
            )));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Mapping(m) => {
                for key in m.keys() {
                    let key = scalar_text(key).unwrap_or_default();
                    if !["type", "source", "target", "read_only", "volume", "bind", "tmpfs", "consistency"].contains(&key.as_str()) {
                        return Err(fail(format!("volume {i}: unknown key `{key}`; expected type, source, target or read_only")));
                    }
                }
                let kind = match m.get("type").and_then(scalar_text).as_deref() {
                    Some("volume") | None => MountKind::Volume,
                    Some("bind") => MountKind::Bind,
                    Some("tmpfs") => MountKind::Tmpfs,
                    Some(other) => return Err(fail(format!("volume {i}: type `{other}` is not volume, bind or tmpfs"))),
                };
                let target = m
                    .get("target")
                    .and_then(scalar_text)
                    .ok_or_else(|| fail(format!("volume {i}: the long form needs `target`")))?;
                let source = m.get("source").and_then(scalar_text);
                if kind == MountKind::Bind && source.is_none() {
                    return Err(fail(format!("volume {i}: a bind mount needs `source`")));
                }
                let read_only = m.get("read_only").and_then(Value::as_bool).unwrap_or(false);
                Ok(Mount { kind, source, target, read_only })
            }
            other => {
                let s = scalar_text(&other)
                    .ok_or_else(|| fail(format!("volume {i} should be a string like \"data:/var/lib/data\", found {}", kind_of(&other))))?;
                parse_mount_short(&s).map_err(|e| fail(format!("volume {i} `{s}`: {e}")))
            }
        })
        .collect()
}

/// `SOURCE:TARGET[:MODE]` or a bare `TARGET` (an anonymous volume).
pub fn parse_mount_short(s: &str) -> Result<Mount, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [src, t] => (Some(*src), *t, None),
        [src, t, m] => (Some(*src), *t, Some(*m)),
        _ => return Err("too many `:`; the form is SOURCE:TARGET[:ro]".into()),
    };
    if !target.starts_with('/') {
        return Err(format!("the container path `{target}` must be absolute"));
    }
    let mut read_only = false;
    if let Some(mode) = mode {
        for opt in mode.split(',') {
            match opt {
                "ro" => read_only = true,
                "rw" | "z" | "Z" | "nocopy" | "cached" | "delegated" | "consistent" => {}
                other => return Err(format!("unknown mode `{other}`; use ro or rw")),
            }
        }
    }
    let kind = match source {
        None => MountKind::Volume,
        Some(src) if src.starts_with(['.', '/', '~']) => MountKind::Bind,
        Some("") => return Err("the source before `:` is empty".into()),
        Some(_) => MountKind::Volume,
    };
    Ok(Mount {
        kind,
        source: source.map(str::to_owned),
        target: target.to_owned(),
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(yaml: &str) -> Result<Service, String> {
        let v: Value = serde_yaml::from_str(yaml).unwrap();
        Service::deserialize(v).map_err(|e| e.to_string())
    }

    #[test]
    fn extra_hosts_come_as_a_list_or_a_mapping_and_leave_as_host_colon_ip() {
        let s = service("extra_hosts: [\"a:1.2.3.4\", \"v6=::1\"]").unwrap();
        assert_eq!(s.extra_hosts, ["a:1.2.3.4", "v6:::1"]);
        let s = service("extra_hosts: {a: 1.2.3.4, b: [10.0.0.1, 10.0.0.2]}").unwrap();
        assert_eq!(s.extra_hosts, ["a:1.2.3.4", "b:10.0.0.1", "b:10.0.0.2"]);
        assert!(
            service("extra_hosts: [justahost]")
                .unwrap_err()
                .contains("HOST:IP")
        );
    }

    #[test]
    fn ulimits_are_one_number_or_soft_and_hard() {
        let s = service("ulimits: {nproc: 512, nofile: {soft: 10, hard: \"20\"}}").unwrap();
        assert_eq!(
            s.ulimits["nproc"],
            Ulimit {
                soft: 512,
                hard: 512
            }
        );
        assert_eq!(s.ulimits["nofile"], Ulimit { soft: 10, hard: 20 });
        assert!(
            service("ulimits: {nofile: {soft: 10}}")
                .unwrap_err()
                .contains("needs `hard`")
        );
        assert!(
            service("ulimits: {nofile: lots}")
                .unwrap_err()
                .contains("whole number")
        );
        assert!(
            service("ulimits: [nofile]")
                .unwrap_err()
                .contains("mapping")
        );
    }

    #[test]
    fn devices_short_and_long_forms_agree() {
        let s = service(
            "devices: [\"/dev/a\", \"/dev/b:/dev/c:r\", {source: /dev/d, target: /dev/e, permissions: rw}]",
        )
        .unwrap();
        assert_eq!(s.devices, ["/dev/a", "/dev/b:/dev/c:r", "/dev/d:/dev/e:rw"]);
        assert!(
            service("devices: [{target: /dev/x}]")
                .unwrap_err()
                .contains("source")
        );
    }

    #[test]
    fn swap_is_a_size_or_minus_one_and_cgroup_is_host_or_private() {
        assert_eq!(
            service("memswap_limit: -1").unwrap().memswap_limit,
            Some(-1)
        );
        assert_eq!(
            service("memswap_limit: 1g").unwrap().memswap_limit,
            Some(1 << 30)
        );
        assert!(service("memswap_limit: -2").is_err());
        assert_eq!(
            service("cgroup: host").unwrap().cgroup.as_deref(),
            Some("host")
        );
        assert!(
            service("cgroup: hots")
                .unwrap_err()
                .contains("host or private")
        );
        let s = service("storage_opt: {size: 1G}\nattach: false\ncpus: '1.5'").unwrap();
        assert_eq!(s.storage_opt["size"], "1G");
        assert_eq!((s.attach, s.cpus), (Some(false), Some(1.5)));
    }

    #[test]
    fn network_mode_is_host_none_bridge_a_service_or_a_container() {
        for ok in ["host", "none", "bridge", "container:abc"] {
            assert_eq!(
                service(&format!("network_mode: \"{ok}\""))
                    .unwrap()
                    .network_mode
                    .as_deref(),
                Some(ok)
            );
        }
        assert!(
            service("network_mode: hots")
                .unwrap_err()
                .contains("expected host")
        );
        assert!(service("network_mode: \"container:\"").is_err());
        assert_eq!(
            service("network_mode: \"service:db\"")
                .unwrap()
                .network_mode
                .as_deref(),
            Some("service:db")
        );
        assert!(service("network_mode: \"service:\"").is_err());
    }

    #[test]
    fn sizes_and_numbers_of_container_settings() {
        let s = service(
            "mem_limit: 64m\nshm_size: 1073741824\npids_limit: \"100\"\noom_score_adj: -500",
        )
        .unwrap();
        assert_eq!(s.mem_limit, Some(64 * 1024 * 1024));
        assert_eq!(s.shm_size, Some(1 << 30));
        assert_eq!((s.pids_limit, s.oom_score_adj), (Some(100), Some(-500)));
        assert!(
            service("pids_limit: many")
                .unwrap_err()
                .contains("whole number")
        );
    }

    #[test]
    fn port_short_forms() {
        let p = parse_port_short("80").unwrap();
        assert_eq!(
            p,
            vec![Port {
                target: 80,
                published: None,
                host_ip: None,
                protocol: "tcp".into(),
                mode: None
            }]
        );
        let p = parse_port_short("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(
            (
                p[0].host_ip.as_deref(),
                p[0].published.as_deref(),
                p[0].target,
                p[0].protocol.as_str()
            ),
            (Some("127.0.0.1"), Some("8080"), 80, "udp")
        );
        assert_eq!(parse_port_short("3000-3002").unwrap().len(), 3);
        let p = parse_port_short("9090-9091:8080-8081").unwrap();
        assert_eq!(
            (p[1].published.as_deref(), p[1].target),
            (Some("9091"), 8081)
        );
        let p = parse_port_short("8000-8010:80").unwrap();
        assert_eq!(p[0].published_range(), Some((8000, 8010)));
        let p = parse_port_short("[::1]:8080:80").unwrap();
        assert_eq!(p[0].host_ip.as_deref(), Some("::1"));
        let p = parse_port_short(":80").unwrap();
        assert_eq!(p[0].published, None);
        for bad in [
            "0",
            "70000",
            "abc",
            "80:90:100:1",
            "1.2.3:80:80",
            "90-80",
            "1-3:1-2",
            "80/xyz",
        ] {
            assert!(parse_port_short(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mount_short_forms() {
        let m = parse_mount_short("data:/var/lib/data").unwrap();
        assert_eq!(
            (m.kind, m.source.as_deref(), m.read_only),
            (MountKind::Volume, Some("data"), false)
        );
        let m = parse_mount_short("./web:/app:ro").unwrap();
        assert_eq!((m.kind, m.read_only), (MountKind::Bind, true));
        assert_eq!(parse_mount_short("/cache").unwrap().source, None);
        assert!(parse_mount_short("data:relative").is_err());
        assert!(parse_mount_short("a:/b:bogus").is_err());
    }

    #[test]
    fn union_forms_normalise() {
        let s = service(
            "image: x\ncommand: echo 'hello world'\nenvironment: [A=1, B]\nlabels: {a: 1}\n\
             depends_on: [db]\nnetworks: [front]\nhealthcheck: {test: curl -f localhost, interval: 5s}\n\
             restart: on-failure:3\nbuild: ./web\nenv_file: .env\n",
        )
        .unwrap();
        assert_eq!(s.command.unwrap(), vec!["echo", "hello world"]);
        assert_eq!(s.environment.get("A"), Some(&Some("1".into())));
        assert_eq!(s.environment.get("B"), Some(&None));
        assert_eq!(s.labels.get("a").map(String::as_str), Some("1"));
        assert_eq!(s.depends_on["db"].condition, Condition::ServiceStarted);
        assert!(s.networks.contains_key("front"));
        assert_eq!(
            s.healthcheck.as_ref().unwrap().test,
            vec!["CMD-SHELL", "curl -f localhost"]
        );
        assert_eq!(s.restart, Some(Restart::OnFailure(Some(3))));
        assert_eq!(s.build.unwrap().context, "./web");
        assert_eq!(s.env_file[0].path, ".env");
    }

    #[test]
    fn lenient_numbers_after_interpolation() {
        let s = service("image: x\ndeploy: {replicas: \"3\"}\nscale: 2\n").unwrap();
        assert_eq!(s.replicas(), 3);
        assert!(service("image: x\nscale: lots\n").is_err());
    }

    #[test]
    fn restart_values() {
        assert_eq!(
            Restart::parse("unless-stopped").unwrap(),
            Restart::UnlessStopped
        );
        assert!(Restart::parse("sometimes").is_err());
        assert!(Restart::parse("on-failure:x").is_err());
        assert!(service("image: x\nrestart: sometimes\n").is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = service("image: x\nimagee: y\n").unwrap_err();
        assert!(e.contains("unknown field `imagee`"), "{e}");
    }
}
