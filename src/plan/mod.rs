//! The plan: what the daemon should hold for a project, as pure data. One `ServicePlan` per service
//! with everything a container needs, dependency levels for ordering, and a hash of the configuration
//! that decides whether an existing container can be kept. No I/O here.

mod build;
pub mod hash;
mod levels;
pub mod rolling;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use crate::manifest::{
    Cgroup, Condition, Dependency, EndpointMode, Isolation, Logging, MountKind, PortMode, Protocol,
    Restart, RestartCondition, Service,
};

pub use build::{build, hook_plan};
pub use hash::config_hash;
pub use levels::dependency_levels;

/// Labels as docker compose v2 writes them, so its tools and dashboards recognise our objects.
pub mod labels {
    pub const PROJECT: &str = "com.docker.compose.project";
    pub const SERVICE: &str = "com.docker.compose.service";
    pub const NUMBER: &str = "com.docker.compose.container-number";
    pub const ONEOFF: &str = "com.docker.compose.oneoff";
    pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
    pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
    pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
    pub const VERSION: &str = "com.docker.compose.version";
    pub const NETWORK: &str = "com.docker.compose.network";
    pub const VOLUME: &str = "com.docker.compose.volume";
    pub const IMAGE: &str = "com.docker.compose.image";
    pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
    /// On a hook's own container: which hook (`pre_start`).
    pub const HOOK: &str = "com.docker.compose.hook";
    /// stackctl's own: the service configuration a container was made from (`hash::config_snapshot`).
    pub const CONFIG: &str = "io.stackctl.config";
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub project: String,
    pub working_dir: PathBuf,
    pub config_files: Vec<PathBuf>,
    pub networks: Vec<NetworkPlan>,
    pub volumes: Vec<VolumePlan>,
    /// Services by name.
    pub services: BTreeMap<String, ServicePlan>,
    /// Services left out because their profiles are not active: their containers are not
    /// orphans (compose's rule).
    pub disabled: BTreeSet<String>,
    /// Services grouped so that each level depends only on earlier ones.
    pub levels: Vec<Vec<String>>,
    /// Where each secret's value comes from, by key (Swarm stores the value).
    pub swarm_secrets: BTreeMap<String, SecretValue>,
    /// The labels each secret asks for (on Swarm, the secret object's).
    pub secret_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// The secret store plugin (with its options) and the templating each secret asks of Swarm.
    pub secret_drivers: BTreeMap<String, SecretDrivers>,
}

/// A secret's `driver`, `driver_opts` and `template_driver`, for Swarm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretDrivers {
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub template_driver: Option<String>,
}

/// What only the Swarm backend reads: `deploy` settings that a local engine has no use for.
#[derive(Debug, Clone, Default)]
pub struct SwarmPlan {
    pub global: bool,
    /// `deploy.resources.reservations`: what the scheduler keeps free on a node for each task.
    pub reserve_nano_cpus: Option<i64>,
    pub reserve_memory: Option<i64>,
    pub reserve_generic: Vec<crate::manifest::GenericResource>,
    pub endpoint_mode: EndpointMode,
    /// `mode` of each entry in `ports` (host or ingress), in the same order.
    pub port_modes: Vec<PortMode>,
    pub restart_condition: Option<RestartCondition>,
    pub restart_max_attempts: Option<u32>,
    /// The secrets, each with its file name under /run/secrets (or absolute path).
    pub secrets: Vec<crate::manifest::ServiceSecret>,
    /// `deploy.placement`: constraints, spread preferences, a per-node cap.
    pub constraints: Vec<String>,
    pub spread: Vec<String>,
    pub max_replicas_per_node: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct NetworkPlan {
    /// The key in the manifest (`default` for the implicit one).
    pub key: String,
    /// The name on the daemon: `<project>_<key>` unless the manifest names it.
    pub name: String,
    pub driver: Option<String>,
    pub internal: bool,
    pub attachable: bool,
    pub external: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    pub ipam: Option<crate::manifest::Ipam>,
    pub enable_ipv6: bool,
    /// `Some(false)`: a network without IPv4 addresses.
    pub enable_ipv4: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct VolumePlan {
    pub key: String,
    pub name: String,
    pub driver: Option<String>,
    pub external: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct BuildPlan {
    /// The folder sent as the context; meaningless when `remote` is set.
    pub context: PathBuf,
    /// A context the daemon fetches itself: a tarball URL or a git repository.
    pub remote: Option<String>,
    pub dockerfile: String,
    /// The Dockerfile's text, sent in the context under `dockerfile`'s name.
    pub dockerfile_inline: Option<String>,
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// The one platform built for: `build.platforms` or the service's `platform`.
    pub platform: Option<String>,
    /// Images whose inline cache seeds this build.
    pub cache_from: Vec<String>,
    /// Keep the build cache inline in the image (`cache_to: type=inline`).
    pub inline_cache: bool,
    pub network: Option<String>,
    pub shm_size: Option<u64>,
    /// The build containers' memory limit in bytes (`build -m`; the Compose file has no key).
    pub memory: Option<u64>,
    pub extra_hosts: Vec<String>,
    pub secrets: Vec<BuildSecret>,
    /// Forward the user's ssh agent (`ssh: [default]`).
    pub ssh_agent: bool,
    pub contexts: BTreeMap<String, NamedContext>,
    /// More names for the image, besides the service's.
    pub tags: Vec<String>,
    pub pull: bool,
    pub no_cache: bool,
}

/// A command run inside a container (a lifecycle hook), as an exec.
#[derive(Debug, Clone, PartialEq)]
pub struct HookPlan {
    pub command: Vec<String>,
    pub user: Option<String>,
    pub privileged: bool,
    pub working_dir: Option<String>,
    /// `KEY=VALUE` items.
    pub env: Vec<String>,
}

/// A `pre_start` hook container: its image (the service's when None) and what it runs; its
/// environment is the service's with the hook's own on top.
#[derive(Debug, Clone, PartialEq)]
pub struct PreStartPlan {
    pub image: Option<String>,
    pub hook: HookPlan,
}

/// A secret lent to `RUN --mount=type=secret,id=ID`.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSecret {
    pub id: String,
    pub source: SecretSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    File(PathBuf),
    /// The name of one of stackctl's environment variables.
    Env(String),
}

/// An additional build context, as the Dockerfile's `FROM name` / `COPY --from=name` sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum NamedContext {
    Folder(PathBuf),
    /// The image another service of the project builds (or runs), built first.
    Service {
        service: String,
        image: String,
    },
    Image(String),
}

impl BuildPlan {
    /// The services whose images this build reads, which must be built before it.
    pub fn needs(&self) -> impl Iterator<Item = &str> {
        self.contexts.values().filter_map(|c| match c {
            NamedContext::Service { service, .. } => Some(service.as_str()),
            _ => None,
        })
    }

    /// The images this build's named contexts read (a `service:` context's image, a
    /// `docker-image://`), which must be there before it starts.
    pub fn context_images(&self) -> impl Iterator<Item = &str> {
        self.contexts.values().filter_map(|c| match c {
            NamedContext::Service { image, .. } | NamedContext::Image(image) => {
                Some(image.as_str())
            }
            NamedContext::Folder(_) => None,
        })
    }

    /// What only a BuildKit session can provide (secrets, the ssh agent, named contexts).
    pub fn needs_session(&self) -> bool {
        !self.secrets.is_empty() || self.ssh_agent || !self.contexts.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MountPlan {
    pub kind: MountKind,
    /// Daemon-side volume name, absolute host path or image reference.
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub volume: Option<crate::manifest::VolumeMountOptions>,
    pub bind: Option<crate::manifest::BindOptions>,
    pub tmpfs: Option<crate::manifest::TmpfsOptions>,
    pub image: Option<crate::manifest::ImageMountOptions>,
}

/// A secret's value as Swarm is given it.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretValue {
    /// A file on this machine (absolute).
    File(PathBuf),
    /// `content:`, or the value of `environment:`.
    Text(String),
    /// `external: true`: a secret of that name already in the swarm.
    External(String),
}

/// A file written into a container before it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectedFile {
    /// Absolute path in the container.
    pub target: String,
    pub content: String,
    pub mode: u32,
    /// Numeric owner; root when not given.
    pub uid: Option<u64>,
    pub gid: Option<u64>,
    /// A secret's (Swarm passes those itself), not a config's.
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PortPlan {
    pub target: u16,
    pub protocol: Protocol,
    pub host_ip: Option<String>,
    /// First and last host port; replica n takes `first + n - 1` when the range is wider than one.
    pub published: Option<(u16, u16)>,
}

/// A service's healthcheck: the image's own, none at all (`disable: true` turns off the image's), or
/// the manifest's.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Health {
    #[default]
    Inherit,
    Disabled,
    Check(HealthPlan),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthPlan {
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
}

/// Everything needed to create the containers of one service.
#[derive(Debug, Clone)]
pub struct ServicePlan {
    pub name: String,
    /// The image reference containers run (`<project>-<service>` for a build without `image:`).
    pub image: String,
    pub build: Option<BuildPlan>,
    pub pull_policy: crate::manifest::units::PullPolicy,
    pub replicas: u32,
    pub depends_on: BTreeMap<String, Dependency>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<PortPlan>,
    pub expose: Vec<String>,
    pub mounts: Vec<MountPlan>,
    /// Secrets and configs given as text (`content:`, `environment:`): copied into each container
    /// before it starts, as compose does, since there is no file to mount.
    pub injected: Vec<InjectedFile>,
    /// Options of the secrets and configs it uses that only a swarm honours (`driver`,
    /// `template_driver`), as `secret s1 sets driver`: one engine refuses them, as compose does.
    pub swarm_only: Vec<String>,
    pub tmpfs: Vec<String>,
    /// Daemon network name → aliases (the service name is always one).
    pub networks: BTreeMap<String, Vec<String>>,
    /// Daemon network name → the endpoint's own settings (addresses, priority, driver options).
    pub endpoints: BTreeMap<String, crate::manifest::ServiceNetwork>,
    pub restart: Option<Restart>,
    pub health: Health,
    /// True when the manifest switches an image's healthcheck off.
    pub stop_signal: Option<String>,
    pub stop_grace_period: Option<Duration>,
    /// Log driver (the daemon's default when absent) and its options.
    pub logging: Option<Logging>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub hostname: Option<String>,
    pub init: Option<bool>,
    pub read_only: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub container_name: Option<String>,
    /// Between the parts of a container's name: `-`, or `_` under `--compatibility`.
    pub name_separator: char,
    pub nano_cpus: Option<i64>,
    pub memory: Option<i64>,
    pub pids_limit: Option<i64>,
    /// Host devices asked for: `gpus` and `deploy.resources.reservations.devices`.
    pub device_requests: Vec<crate::manifest::DeviceRequest>,
    /// Settings passed through to the container as the manifest writes them.
    pub host: HostOptions,
    /// `host`, `none`, `bridge` or `container:NAME` instead of the project's networks
    /// (`service:X` is resolved to X's first container).
    pub network_mode: Option<String>,
    /// `CONTAINER[:ro|rw]` whose volumes this service mounts (services resolved to their first container).
    pub volumes_from: Vec<String>,
    /// Services whose containers must exist before this one's are created (they share a network
    /// namespace or volumes).
    pub created_after: Vec<String>,
    /// `os/arch[/variant]` to pull, build and run, when not the daemon's own.
    pub platform: Option<String>,
    /// Whether attached `up` shows this service's output (`attach: false` hides it).
    pub attach: bool,
    /// Containers run to completion, in order, before the service's first replica starts.
    pub pre_start: Vec<PreStartPlan>,
    /// Run in each container right after it starts / right before it stops.
    pub post_start: Vec<HookPlan>,
    pub pre_stop: Vec<HookPlan>,
    /// `deploy.update_config`/`rollback_config`: replace replicas in batches, each healthy before
    /// the next; None recreates them together.
    pub rolling: Option<rolling::Rolling>,
    /// Hash of the service's configuration, without the image ID (the engine adds that).
    pub config_hash: String,
    /// What the hash is made of (JSON), kept on the container to name what changed later.
    pub config_snapshot: String,
    pub swarm: SwarmPlan,
}

/// Container settings that need no planning: the manifest's values, handed to the engine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostOptions {
    pub tty: bool,
    pub stdin_open: bool,
    pub privileged: bool,
    pub oom_kill_disable: Option<bool>,
    /// `host:ip` items.
    pub extra_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    pub security_opt: Vec<String>,
    pub group_add: Vec<String>,
    /// `HOST[:CONTAINER[:PERMISSIONS]]` items.
    pub devices: Vec<String>,
    pub mem_reservation: Option<i64>,
    pub shm_size: Option<i64>,
    pub oom_score_adj: Option<i64>,
    pub sysctls: BTreeMap<String, String>,
    pub ulimits: BTreeMap<String, crate::manifest::Ulimit>,
    pub domainname: Option<String>,
    pub mac_address: Option<String>,
    pub ipc: Option<String>,
    pub pid: Option<String>,
    pub uts: Option<String>,
    pub userns_mode: Option<String>,
    pub runtime: Option<String>,
    pub cpu_shares: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_rt_period: Option<i64>,
    pub cpu_rt_runtime: Option<i64>,
    pub cpuset: Option<String>,
    pub memswap_limit: Option<i64>,
    pub mem_swappiness: Option<i64>,
    pub cgroup_parent: Option<String>,
    pub cgroup: Option<Cgroup>,
    pub storage_opt: BTreeMap<String, String>,
    pub device_cgroup_rules: Vec<String>,
    /// `CONTAINER[:ALIAS]` of containers outside the project.
    pub external_links: Vec<String>,
    pub isolation: Option<Isolation>,
    pub cpu_count: Option<i64>,
    pub cpu_percent: Option<i64>,
    pub blkio: Option<crate::manifest::BlkioConfig>,
    pub annotations: BTreeMap<String, String>,
}

impl HostOptions {
    fn of(svc: &Service) -> Self {
        let bytes = |b: Option<u64>| b.map(|b| b.min(i64::MAX as u64) as i64);
        HostOptions {
            tty: svc.tty.unwrap_or(false),
            stdin_open: svc.stdin_open.unwrap_or(false),
            privileged: svc.privileged.unwrap_or(false),
            oom_kill_disable: svc.oom_kill_disable,
            extra_hosts: svc.extra_hosts.clone(),
            dns: svc.dns.clone(),
            dns_search: svc.dns_search.clone(),
            dns_opt: svc.dns_opt.clone(),
            security_opt: svc.security_opt.clone(),
            group_add: svc.group_add.clone(),
            devices: svc.devices.clone(),
            mem_reservation: bytes(svc.mem_reservation),
            shm_size: bytes(svc.shm_size),
            oom_score_adj: svc.oom_score_adj,
            sysctls: svc.sysctls.clone(),
            ulimits: svc.ulimits.clone(),
            domainname: svc.domainname.clone(),
            mac_address: svc.mac_address.clone(),
            ipc: svc.ipc.clone(),
            pid: svc.pid.clone(),
            uts: svc.uts.clone(),
            userns_mode: svc.userns_mode.clone(),
            runtime: svc.runtime.clone(),
            cpu_shares: svc.cpu_shares,
            cpu_period: svc.cpu_period,
            cpu_quota: svc.cpu_quota,
            cpu_rt_period: svc.cpu_rt_period,
            cpu_rt_runtime: svc.cpu_rt_runtime,
            cpuset: svc.cpuset.clone(),
            memswap_limit: svc.memswap_limit,
            mem_swappiness: svc.mem_swappiness,
            cgroup_parent: svc.cgroup_parent.clone(),
            cgroup: svc.cgroup,
            storage_opt: svc.storage_opt.clone(),
            device_cgroup_rules: svc.device_cgroup_rules.clone(),
            external_links: svc.external_links.clone(),
            isolation: svc.isolation,
            cpu_count: svc.cpu_count,
            cpu_percent: svc.cpu_percent,
            blkio: svc.blkio_config.clone(),
            annotations: svc.annotations.clone(),
        }
    }
}

impl ServicePlan {
    pub fn container_name(&self, project: &str, number: u32) -> String {
        match &self.container_name {
            Some(n) => n.clone(),
            None => {
                let sep = self.name_separator;
                format!("{project}{sep}{}{sep}{number}", self.name)
            }
        }
    }

    /// Host port bindings for replica `number` (1-based).
    pub fn port_for_replica(&self, port: &PortPlan, number: u32) -> Option<u16> {
        let (first, last) = port.published?;
        if first == last {
            return Some(first);
        }
        let p = u32::from(first) + number - 1;
        (p <= u32::from(last)).then_some(p as u16)
    }

    /// The manifest gives a healthcheck test of its own (one with only timings keeps the image's).
    pub fn has_healthcheck(&self) -> bool {
        matches!(&self.health, Health::Check(h) if !h.test.is_empty())
    }

    /// The grace period before a stop turns into a kill (compose's default is 10 s).
    pub fn stop_timeout(&self) -> Duration {
        self.stop_grace_period.unwrap_or(Duration::from_secs(10))
    }

    pub fn waits_for(&self, dep: &str) -> Option<Condition> {
        self.depends_on.get(dep).map(|d| d.condition)
    }
}

impl Plan {
    /// Whether the manifest defines `service`, enabled or not: a container of any other is an
    /// orphan.
    pub fn defines(&self, service: &str) -> bool {
        self.services.contains_key(service) || self.disabled.contains(service)
    }

    /// Leaves out the networks and volumes no service uses, as docker compose does unless
    /// `--all-resources` asks for them.
    pub fn drop_unused_resources(&mut self) {
        let used_networks: Vec<&String> = self
            .services
            .values()
            .flat_map(|s| s.networks.keys())
            .collect();
        let used_volumes: Vec<&String> = self
            .services
            .values()
            .flat_map(|s| &s.mounts)
            .filter(|m| m.kind == MountKind::Volume)
            .filter_map(|m| m.source.as_ref())
            .collect();
        let networks = std::mem::take(&mut self.networks)
            .into_iter()
            .filter(|n| used_networks.contains(&&n.name))
            .collect();
        let volumes = std::mem::take(&mut self.volumes)
            .into_iter()
            .filter(|v| used_volumes.contains(&&v.name))
            .collect();
        self.networks = networks;
        self.volumes = volumes;
    }

    /// True when some service waits for `service` with `service_completed_successfully`: it is a
    /// one-shot job, done once it exits 0.
    pub fn is_awaited_to_complete(&self, service: &str) -> bool {
        self.services
            .values()
            .any(|o| o.waits_for(service) == Some(Condition::ServiceCompletedSuccessfully))
    }
}

pub fn network_name(project: &str, key: &str) -> String {
    format!("{project}_{key}")
}

/// The plan of a manifest given as text, project `p` (no file, no daemon): for unit tests.
#[cfg(test)]
pub(crate) fn of_text(manifest: &str) -> Plan {
    let opts = crate::manifest::LoadOptions {
        cwd: "/nonexistent-unit-test".into(),
        project_name: Some("p".into()),
        inline: Some(manifest.as_bytes().to_vec()),
        ..Default::default()
    };
    let loaded = crate::manifest::load(&opts).expect("manifest loads");
    build(&loaded.project, &Default::default())
}
