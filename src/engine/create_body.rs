//! The request a container of a service is created with, built from its ServicePlan without
//! touching the daemon: host settings, networks, health, labels.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointSettings, HealthConfig, HostConfig,
    HostConfigCgroupnsModeEnum, HostConfigIsolationEnum, HostConfigLogConfig, NetworkingConfig,
    PortBinding, ResourcesBlkioWeightDevice, ResourcesUlimits, RestartPolicy,
    RestartPolicyNameEnum, ThrottleDevice,
};

use super::mounts::to_mount;
use crate::manifest::{Cgroup, Isolation, Restart};
use crate::plan::{Health, Plan, ServicePlan, labels};

fn nanos(d: Option<Duration>) -> Option<i64> {
    d.map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
}

/// The create request for replica `number` of `svc`.
pub fn create_body(
    plan: &Plan,
    svc: &ServicePlan,
    number: u32,
    config_hash: &str,
) -> ContainerCreateBody {
    let mut l: HashMap<String, String> = svc.labels.clone().into_iter().collect();
    l.insert(labels::PROJECT.into(), plan.project.clone());
    l.insert(labels::SERVICE.into(), svc.name.clone());
    l.insert(labels::NUMBER.into(), number.to_string());
    l.insert(labels::ONEOFF.into(), "False".into());
    l.insert(labels::CONFIG_HASH.into(), config_hash.into());
    l.insert(labels::CONFIG.into(), svc.config_snapshot.clone());
    l.insert(
        labels::WORKING_DIR.into(),
        plan.working_dir.display().to_string(),
    );
    l.insert(
        labels::CONFIG_FILES.into(),
        plan.config_files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(","),
    );
    l.insert(labels::VERSION.into(), env!("CARGO_PKG_VERSION").into());
    l.insert(labels::IMAGE.into(), svc.image.clone());
    l.insert(
        labels::DEPENDS_ON.into(),
        svc.depends_on.keys().cloned().collect::<Vec<_>>().join(","),
    );

    let mut exposed: Vec<String> = svc
        .ports
        .iter()
        .map(|p| format!("{}/{}", p.target, p.protocol))
        .collect();
    for e in &svc.expose {
        exposed.push(if e.contains('/') {
            e.clone()
        } else {
            format!("{e}/tcp")
        });
    }
    exposed.sort();
    exposed.dedup();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &svc.ports {
        let key = format!("{}/{}", p.target, p.protocol);
        let host_port = svc.port_for_replica(p, number).map(|n| n.to_string());
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: p.host_ip.clone(),
                host_port: Some(host_port.unwrap_or_default()),
            });
    }
    // SELinux relabelling (`:z`, `:Z`) exists only in the `Binds` form of a bind mount.
    let (relabelled, mounts): (Vec<_>, Vec<_>) = svc
        .mounts
        .iter()
        .partition(|m| m.bind.as_ref().is_some_and(|b| b.selinux.is_some()));
    let mounts = mounts.into_iter().map(to_mount).collect();
    let binds: Vec<String> = relabelled.into_iter().map(super::mounts::to_bind).collect();
    let tmpfs: HashMap<String, String> = svc
        .tmpfs
        .iter()
        .map(|t| match t.split_once(':') {
            Some((path, opts)) => (path.to_owned(), opts.to_owned()),
            None => (t.clone(), String::new()),
        })
        .collect();
    let restart_policy = svc.restart.as_ref().map(|r| match r {
        Restart::No => RestartPolicy {
            name: Some(RestartPolicyNameEnum::NO),
            maximum_retry_count: None,
        },
        Restart::Always => RestartPolicy {
            name: Some(RestartPolicyNameEnum::ALWAYS),
            maximum_retry_count: None,
        },
        Restart::UnlessStopped => RestartPolicy {
            name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            maximum_retry_count: None,
        },
        Restart::OnFailure(n) => RestartPolicy {
            name: Some(RestartPolicyNameEnum::ON_FAILURE),
            maximum_retry_count: n.map(i64::from),
        },
    });
    let healthcheck = health_config(&svc.health);
    let h = &svc.host;
    // API 1.41 accepts one endpoint at create; further networks are connected before start, in
    // the order of their `priority` (highest first), then of their names.
    let first_net = network_order(svc).into_iter().next();
    let networking_config = first_net.map(|(name, aliases)| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            name.clone(),
            first_endpoint(svc, name, aliases),
        )])),
    });
    ContainerCreateBody {
        image: Some(svc.image.clone()),
        cmd: svc.command.clone(),
        entrypoint: svc.entrypoint.clone(),
        env: Some(svc.env.clone()),
        labels: Some(l),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        hostname: svc.hostname.clone(),
        user: svc.user.clone(),
        working_dir: svc.working_dir.clone(),
        stop_signal: svc.stop_signal.clone(),
        stop_timeout: svc.stop_grace_period.map(|d| d.as_secs() as i64),
        healthcheck,
        tty: Some(h.tty),
        open_stdin: Some(h.stdin_open),
        domainname: h.domainname.clone(),
        host_config: Some(HostConfig {
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            restart_policy,
            mounts: Some(mounts),
            binds: (!binds.is_empty()).then_some(binds),
            tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
            init: svc.init,
            log_config: svc.logging.as_ref().map(|l| HostConfigLogConfig {
                // Options without a driver apply to the daemon's default driver, as in compose.
                typ: l.driver.clone(),
                config: (!l.options.is_empty()).then(|| l.options.clone().into_iter().collect()),
            }),
            readonly_rootfs: Some(svc.read_only),
            cap_add: (!svc.cap_add.is_empty()).then(|| svc.cap_add.clone()),
            cap_drop: (!svc.cap_drop.is_empty()).then(|| svc.cap_drop.clone()),
            nano_cpus: svc.nano_cpus,
            memory: svc.memory,
            pids_limit: svc.pids_limit,
            device_requests: (!svc.device_requests.is_empty()).then(|| {
                svc.device_requests
                    .iter()
                    .map(|d| bollard::models::DeviceRequest {
                        driver: d.driver.clone(),
                        count: d.count,
                        device_ids: (!d.device_ids.is_empty()).then(|| d.device_ids.clone()),
                        // One set of capabilities, all of which the device must have.
                        capabilities: (!d.capabilities.is_empty())
                            .then(|| vec![d.capabilities.clone()]),
                        options: (!d.options.is_empty())
                            .then(|| d.options.clone().into_iter().collect()),
                    })
                    .collect()
            }),
            network_mode: svc
                .network_mode
                .clone()
                .or_else(|| first_net.map(|(n, _)| n.clone())),
            privileged: Some(h.privileged),
            oom_kill_disable: h.oom_kill_disable,
            extra_hosts: list(&h.extra_hosts),
            dns: list(&h.dns),
            dns_search: list(&h.dns_search),
            dns_options: list(&h.dns_opt),
            security_opt: list(&h.security_opt),
            group_add: list(&h.group_add),
            devices: (!h.devices.is_empty())
                .then(|| h.devices.iter().map(|d| device_mapping(d)).collect()),
            memory_reservation: h.mem_reservation,
            shm_size: h.shm_size,
            oom_score_adj: h.oom_score_adj,
            sysctls: (!h.sysctls.is_empty()).then(|| h.sysctls.clone().into_iter().collect()),
            ulimits: resource_ulimits(&h.ulimits),
            ipc_mode: h.ipc.clone(),
            pid_mode: h.pid.clone(),
            uts_mode: h.uts.clone(),
            userns_mode: h.userns_mode.clone(),
            runtime: h.runtime.clone(),
            cpu_shares: h.cpu_shares,
            cpu_period: h.cpu_period,
            cpu_quota: h.cpu_quota,
            cpu_realtime_period: h.cpu_rt_period,
            cpu_realtime_runtime: h.cpu_rt_runtime,
            cpuset_cpus: h.cpuset.clone(),
            memory_swap: h.memswap_limit,
            memory_swappiness: h.mem_swappiness,
            cgroup_parent: h.cgroup_parent.clone(),
            cgroupns_mode: h.cgroup.map(|c| match c {
                Cgroup::Host => HostConfigCgroupnsModeEnum::HOST,
                Cgroup::Private => HostConfigCgroupnsModeEnum::PRIVATE,
            }),
            storage_opt: (!h.storage_opt.is_empty())
                .then(|| h.storage_opt.clone().into_iter().collect()),
            device_cgroup_rules: list(&h.device_cgroup_rules),
            volumes_from: list(&svc.volumes_from),
            isolation: h.isolation.map(|i| match i {
                Isolation::Default => HostConfigIsolationEnum::DEFAULT,
                Isolation::Process => HostConfigIsolationEnum::PROCESS,
                Isolation::Hyperv => HostConfigIsolationEnum::HYPERV,
            }),
            cpu_count: h.cpu_count,
            cpu_percent: h.cpu_percent,
            annotations: (!h.annotations.is_empty())
                .then(|| h.annotations.clone().into_iter().collect()),
            ..blkio(h.blkio.as_ref())
        }),
        networking_config,
        ..Default::default()
    }
}

/// `CONTAINER[:ALIAS]` as the engine wants it, `CONTAINER:ALIAS` (a bare name is its own alias).
fn external_links(links: &[String]) -> Option<Vec<String>> {
    let full = links.iter().map(|l| match l.split_once(':') {
        Some(_) => l.clone(),
        None => format!("{l}:{l}"),
    });
    (!links.is_empty()).then(|| full.collect())
}

/// `blkio_config` as the host config's blkio fields (the rest of it left default).
fn blkio(b: Option<&crate::manifest::BlkioConfig>) -> HostConfig {
    let Some(b) = b else {
        return HostConfig::default();
    };
    let throttle = |devices: &[crate::manifest::ThrottleDevice]| {
        (!devices.is_empty()).then(|| {
            devices
                .iter()
                .map(|d| ThrottleDevice {
                    path: Some(d.path.clone()),
                    rate: Some(d.rate.min(i64::MAX as u64) as i64),
                })
                .collect()
        })
    };
    HostConfig {
        blkio_weight: b.weight,
        blkio_weight_device: (!b.weight_device.is_empty()).then(|| {
            b.weight_device
                .iter()
                .map(|d| ResourcesBlkioWeightDevice {
                    path: Some(d.path.clone()),
                    weight: Some(usize::from(d.weight)),
                })
                .collect()
        }),
        blkio_device_read_bps: throttle(&b.device_read_bps),
        blkio_device_write_bps: throttle(&b.device_write_bps),
        blkio_device_read_iops: throttle(&b.device_read_iops),
        blkio_device_write_iops: throttle(&b.device_write_iops),
        ..Default::default()
    }
}

/// `ulimits` as the API writes them (for containers and Swarm tasks alike).
pub fn resource_ulimits(
    ulimits: &std::collections::BTreeMap<String, crate::manifest::Ulimit>,
) -> Option<Vec<ResourcesUlimits>> {
    (!ulimits.is_empty()).then(|| {
        ulimits
            .iter()
            .map(|(name, u)| ResourcesUlimits {
                name: Some(name.clone()),
                soft: Some(u.soft),
                hard: Some(u.hard),
            })
            .collect()
    })
}

fn list(items: &[String]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// `HOST[:CONTAINER[:PERMISSIONS]]` as the engine's device mapping (the same path inside, `rwm`).
fn device_mapping(spec: &str) -> DeviceMapping {
    let mut parts = spec.splitn(3, ':');
    let host = parts.next().unwrap_or_default().to_owned();
    let inside = parts
        .next()
        .filter(|p| !p.is_empty())
        .unwrap_or(&host)
        .to_owned();
    let perms = parts.next().unwrap_or("rwm").to_owned();
    DeviceMapping {
        path_on_host: Some(host),
        path_in_container: Some(inside),
        cgroup_permissions: Some(perms),
    }
}

/// Creates replica `number`, connected to all its networks; returns the container ID.
pub fn health_config(health: &Health) -> Option<HealthConfig> {
    match health {
        Health::Inherit => None,
        Health::Disabled => Some(HealthConfig {
            test: Some(vec!["NONE".into()]),
            ..Default::default()
        }),
        Health::Check(h) => Some(HealthConfig {
            // None keeps the image's test (the engine fills in what is not given).
            test: (!h.test.is_empty()).then(|| h.test.clone()),
            interval: nanos(h.interval),
            timeout: nanos(h.timeout),
            retries: h.retries.map(i64::from),
            start_period: nanos(h.start_period),
            start_interval: nanos(h.start_interval),
        }),
    }
}

/// The endpoint on the service's first network: its aliases, and the links and MAC address that
/// belong to the container's first endpoint.
pub(super) fn first_endpoint(svc: &ServicePlan, net: &str, aliases: &[String]) -> EndpointSettings {
    let own = endpoint(svc, net);
    EndpointSettings {
        aliases: Some(aliases.to_vec()),
        // On a user-defined network, links belong to the endpoint.
        links: external_links(&svc.host.external_links),
        // The service's own MAC address goes on its first network.
        mac_address: own
            .mac_address
            .clone()
            .or_else(|| svc.host.mac_address.clone()),
        ..own
    }
}

/// The service's networks, highest `priority` first, then by name.
pub(super) fn network_order(svc: &ServicePlan) -> Vec<(&String, &Vec<String>)> {
    let mut nets: Vec<_> = svc.networks.iter().collect();
    let priority = |n: &String| svc.endpoints.get(n).and_then(|e| e.priority).unwrap_or(0);
    nets.sort_by(|a, b| priority(b.0).cmp(&priority(a.0)).then(a.0.cmp(b.0)));
    nets
}

/// The endpoint settings a service asks for on `network`: fixed addresses, MAC, driver options
/// (`interface_name` is the driver option the engine reads for it), gateway priority.
pub(super) fn endpoint(svc: &ServicePlan, network: &str) -> EndpointSettings {
    let Some(e) = svc.endpoints.get(network) else {
        return EndpointSettings::default();
    };
    let mut opts: HashMap<String, String> = e.driver_opts.clone().into_iter().collect();
    if let Some(ifname) = &e.interface_name {
        opts.insert("com.docker.network.endpoint.ifname".into(), ifname.clone());
    }
    let ipam =
        (e.ipv4_address.is_some() || e.ipv6_address.is_some() || !e.link_local_ips.is_empty())
            .then(|| bollard::models::EndpointIpamConfig {
                ipv4_address: e.ipv4_address.clone(),
                ipv6_address: e.ipv6_address.clone(),
                link_local_ips: (!e.link_local_ips.is_empty()).then(|| e.link_local_ips.clone()),
            });
    EndpointSettings {
        ipam_config: ipam,
        mac_address: e.mac_address.clone(),
        driver_opts: (!opts.is_empty()).then_some(opts),
        gw_priority: e.gw_priority,
        ..Default::default()
    }
}

/// Whether the container has a healthcheck of its own (from its image), not switched off.
#[cfg(test)]
mod tests {
    use super::{endpoint, network_order};

    fn plan_of(manifest: &str) -> crate::plan::Plan {
        let opts = crate::manifest::LoadOptions {
            cwd: "/nonexistent-containers-test".into(),
            project_name: Some("p".into()),
            inline: Some(manifest.as_bytes().to_vec()),
            ..Default::default()
        };
        let loaded = crate::manifest::load(&opts).expect("manifest loads");
        crate::plan::build(&loaded.project, &Default::default())
    }

    fn service(manifest: &str) -> crate::plan::ServicePlan {
        plan_of(manifest).services["a"].clone()
    }

    #[test]
    fn gpus_and_device_reservations_become_device_requests() {
        let manifest = "services:\n  a:\n    image: x\n    gpus: all\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n              device_ids: ['0', '3']\n              capabilities: [gpu, compute]\n";
        let plan = plan_of(manifest);
        let body = super::create_body(&plan, &plan.services["a"], 1, "h");
        let requests = body.host_config.unwrap().device_requests.unwrap();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].count, Some(-1));
        assert_eq!(requests[0].capabilities, Some(vec![vec!["gpu".to_owned()]]));
        assert_eq!(requests[1].driver.as_deref(), Some("nvidia"));
        assert_eq!(
            requests[1].device_ids,
            Some(vec!["0".to_owned(), "3".to_owned()])
        );
        assert_eq!(
            requests[1].capabilities,
            Some(vec![vec!["gpu".to_owned(), "compute".to_owned()]])
        );
    }

    #[test]
    fn the_highest_priority_network_is_joined_first_and_endpoints_carry_their_settings() {
        let svc = service(
            "services:\n  a:\n    image: x\n    networks:\n      aa: {}\n      zz:\n        priority: 5\n        ipv4_address: 10.1.2.3\n        interface_name: eth7\nnetworks:\n  aa: {}\n  zz: {}\n",
        );
        let order: Vec<&str> = network_order(&svc)
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(order, ["p_zz", "p_aa"]);
        let e = endpoint(&svc, "p_zz");
        assert_eq!(
            e.ipam_config.and_then(|i| i.ipv4_address).as_deref(),
            Some("10.1.2.3")
        );
        assert_eq!(
            e.driver_opts.unwrap()["com.docker.network.endpoint.ifname"],
            "eth7"
        );
        assert_eq!(endpoint(&svc, "p_aa").ipam_config, None);
    }
}
