//! The typed Compose model. Deserialisation accepts every short and long form the format allows
//! (the decoders live in `de`); serialisation writes the normalised long form that `stackctl
//! config` prints. The service is here, the project in `project`, their parts in `parts`.

mod blkio;
mod build;
mod de;
mod develop;
mod external;
mod hooks;
mod modes;
mod mounts;
mod networks;
mod parts;
mod ports;
mod project;
mod resources;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use blkio::{BlkioConfig, ThrottleDevice, WeightDevice};
pub use build::Build;
use de::*;
pub use de::{parse_mount_short, parse_port_short};
pub use develop::{Develop, WatchAction, WatchRule};
use external::service_models;
pub use external::{ModelDef, Provider, ServiceModel};
pub use hooks::Hook;
pub use modes::NetworkMode;
pub use mounts::{
    BindOptions, ImageMountOptions, Mount, MountKind, TmpfsOptions, VolumeMountOptions,
};
pub use networks::{Ipam, IpamPool, NetworkDef, ServiceNetwork};
pub use parts::*;
pub use ports::*;
pub use project::{FileTop, Project};
pub use resources::*;

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
        serialize_with = "networks::service_networks_out",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub networks: BTreeMap<String, ServiceNetwork>,
    #[serde(
        default,
        deserialize_with = "depends_on",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub depends_on: BTreeMap<String, Dependency>,
    /// `required: false` ones on services outside the enabled profiles: printed, not waited for.
    #[serde(skip)]
    pub inactive_depends_on: BTreeMap<String, Dependency>,
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
        deserialize_with = "pull_refresh_after_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pull_refresh_after: Option<String>,
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
    /// The container's MAC address (on its first network).
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub mac_address: Option<String>,
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
    /// Windows engines' CPU settings; passed on as compose passes them.
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_count: Option<i64>,
    /// The engine's API socket (and this user's registry credentials) inside the container.
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub use_api_socket: Option<bool>,
    #[serde(
        default,
        deserialize_with = "i64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_percent: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blkio_config: Option<BlkioConfig>,
    /// OCI annotations of the container (Engine 24+, API 1.43).
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
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
    pub cgroup: Option<Cgroup>,
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
    pub network_mode: Option<NetworkMode>,
    #[serde(
        default,
        deserialize_with = "gpus",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub gpus: Vec<DeviceRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_start: Vec<Hook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_start: Vec<Hook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_stop: Vec<Hook>,
    /// `develop.watch`: what `watch` does when files change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub develop: Option<Develop>,
    /// Set for a service an external program manages instead of a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    #[serde(
        default,
        deserialize_with = "service_models",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub models: BTreeMap<String, ServiceModel>,
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
    pub isolation: Option<Isolation>,
    /// Windows containers' only: kept as compose keeps it, without effect here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_spec: Option<CredentialSpec>,
    /// `SERVICE[:ro|rw]` or `container:NAME[:ro|rw]`: mount every volume of that container.
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes_from: Vec<String>,
}
