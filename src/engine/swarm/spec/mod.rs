//! A plan's service as a Swarm service spec, and the hash that says whether a service changed.
//! Pure: no daemon is involved, which is what the tests below rely on.

use std::collections::HashMap;

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, EndpointSpecModeEnum, GenericResourcesInner,
    GenericResourcesInnerDiscreteResourceSpec, GenericResourcesInnerNamedResourceSpec, Limit,
    NetworkAttachmentConfig, ResourceObject, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, ServiceSpecUpdateConfig, TaskSpec, TaskSpecContainerSpec,
    TaskSpecContainerSpecConfigs, TaskSpecContainerSpecDnsConfig, TaskSpecContainerSpecFile,
    TaskSpecContainerSpecFile1, TaskSpecContainerSpecSecrets, TaskSpecLogDriver, TaskSpecPlacement,
    TaskSpecPlacementPreferences, TaskSpecPlacementSpread, TaskSpecResources,
    TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};
use sha2::{Digest, Sha256};

use super::files::FileConfigs;
use super::{NAMESPACE, service_name};
use crate::manifest::{
    EndpointMode, FailureAction, PortMode, Protocol, Restart, RestartCondition, UpdateOrder,
};
use crate::plan::rolling::RollPolicy;
use crate::plan::{Plan, ServicePlan};

/// What in the plan needs Swarm's virtual IPs or routing mesh (both need IPVS in the kernel).
pub fn needs_ipvs(plan: &Plan) -> Vec<String> {
    let mut why = Vec::new();
    for s in plan.services.values() {
        if s.swarm.endpoint_mode == EndpointMode::Vip {
            why.push(format!(
                "service {} uses a virtual IP (endpoint_mode: vip)",
                s.name
            ));
        }
        for p in &s.swarm.port_modes {
            if *p == PortMode::Ingress {
                why.push(format!(
                    "service {} publishes a port through the routing mesh (mode: ingress)",
                    s.name
                ));
                break;
            }
        }
    }
    why
}

/// The service spec for `svc`: a pure function of the plan, the image to run, the stack's
/// network and the secrets' IDs, so that it can be tested without a daemon.
pub fn spec_for(
    plan: &Plan,
    svc: &ServicePlan,
    image: &str,
    network_id: &str,
    secrets: &HashMap<String, super::secrets::SecretRef>,
    configs: &FileConfigs,
) -> ServiceSpec {
    let mounts = svc
        .mounts
        .iter()
        .filter(|m| !m.target.starts_with("/run/secrets/"))
        // Swarm delivers secrets itself; the local bind mounts of secret files are not wanted.
        // Bound files travel as configs, to whichever node runs the task.
        .filter(|m| !m.source.as_deref().is_some_and(|s| configs.contains_key(s)))
        .map(|m| {
            let mut mount = crate::engine::containers::to_mount(m);
            // Labelled like `docker stack deploy` does, so that `down -v` finds the volumes.
            if m.kind == crate::manifest::MountKind::Volume {
                mount.volume_options = Some(bollard::models::MountVolumeOptions {
                    labels: Some(HashMap::from([(
                        NAMESPACE.to_owned(),
                        plan.project.clone(),
                    )])),
                    ..Default::default()
                });
            }
            mount
        })
        .collect();
    let secret_refs = svc
        .swarm
        .secrets
        .iter()
        .filter_map(|given| {
            let (id, name) = secrets.get(&given.source)?;
            Some(TaskSpecContainerSpecSecrets {
                secret_id: Some(id.clone()),
                secret_name: Some(name.clone()),
                file: Some(TaskSpecContainerSpecFile {
                    name: Some(given.target.clone()),
                    uid: Some(given.uid.clone().unwrap_or_else(|| "0".into())),
                    gid: Some(given.gid.clone().unwrap_or_else(|| "0".into())),
                    mode: Some(given.mode.unwrap_or(0o444)),
                }),
            })
        })
        .collect();
    let config_refs: Vec<TaskSpecContainerSpecConfigs> = svc
        .mounts
        .iter()
        .filter_map(|m| {
            let c = configs.get(m.source.as_deref()?)?;
            Some(TaskSpecContainerSpecConfigs {
                file: Some(TaskSpecContainerSpecFile1 {
                    name: Some(m.target.clone()),
                    uid: Some("0".into()),
                    gid: Some("0".into()),
                    mode: Some(0o444),
                }),
                config_id: Some(c.id.clone()),
                config_name: Some(c.name.clone()),
                ..Default::default()
            })
        })
        .collect();
    let restart_policy = svc
        .swarm
        .restart_condition
        .map(|c| TaskSpecRestartPolicy {
            condition: Some(match c {
                RestartCondition::None => TaskSpecRestartPolicyConditionEnum::NONE,
                RestartCondition::OnFailure => TaskSpecRestartPolicyConditionEnum::ON_FAILURE,
                RestartCondition::Any => TaskSpecRestartPolicyConditionEnum::ANY,
            }),
            max_attempts: svc.swarm.restart_max_attempts.map(i64::from),
            ..Default::default()
        })
        .or_else(|| {
            svc.restart.as_ref().map(|r| TaskSpecRestartPolicy {
                condition: Some(match r {
                    Restart::No => TaskSpecRestartPolicyConditionEnum::NONE,
                    Restart::OnFailure(_) => TaskSpecRestartPolicyConditionEnum::ON_FAILURE,
                    _ => TaskSpecRestartPolicyConditionEnum::ANY,
                }),
                ..Default::default()
            })
        });
    let mut labels: HashMap<String, String> = svc.labels.clone().into_iter().collect();
    labels.insert(NAMESPACE.into(), plan.project.clone());
    let container = TaskSpecContainerSpec {
        image: Some(image.to_owned()),
        labels: Some(labels.clone()),
        command: svc.entrypoint.clone(),
        args: svc.command.clone(),
        hostname: svc.hostname.clone(),
        env: Some(svc.env.clone()),
        dir: svc.working_dir.clone(),
        user: svc.user.clone(),
        read_only: Some(svc.read_only),
        mounts: Some(mounts),
        stop_signal: svc.stop_signal.clone(),
        stop_grace_period: svc.stop_grace_period.map(|d| d.as_nanos() as i64),
        health_check: crate::engine::containers::health_config(&svc.health),
        secrets: Some(secret_refs),
        configs: (!config_refs.is_empty()).then_some(config_refs),
        init: svc.init,
        capability_add: (!svc.cap_add.is_empty()).then(|| svc.cap_add.clone()),
        capability_drop: (!svc.cap_drop.is_empty()).then(|| svc.cap_drop.clone()),
        // Only when set: a spec that changes by default would roll every service once.
        tty: svc.host.tty.then_some(true),
        open_stdin: svc.host.stdin_open.then_some(true),
        groups: nonempty(&svc.host.group_add),
        hosts: nonempty(
            &svc.host
                .extra_hosts
                .iter()
                .filter_map(|h| swarm_host_line(h))
                .collect::<Vec<_>>(),
        ),
        dns_config: (!svc.host.dns.is_empty()
            || !svc.host.dns_search.is_empty()
            || !svc.host.dns_opt.is_empty())
        .then(|| TaskSpecContainerSpecDnsConfig {
            nameservers: nonempty(&svc.host.dns),
            search: nonempty(&svc.host.dns_search),
            options: nonempty(&svc.host.dns_opt),
        }),
        oom_score_adj: svc.host.oom_score_adj,
        sysctls: (!svc.host.sysctls.is_empty())
            .then(|| svc.host.sysctls.clone().into_iter().collect()),
        ulimits: crate::engine::containers::resource_ulimits(&svc.host.ulimits),
        ..Default::default()
    };
    let mode = if svc.swarm.global {
        ServiceSpecMode {
            global: Some(HashMap::new()),
            ..Default::default()
        }
    } else {
        ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(i64::from(svc.replicas)),
            }),
            ..Default::default()
        }
    };
    let ports = svc
        .ports
        .iter()
        .zip(svc.swarm.port_modes.iter())
        .filter_map(|(p, mode)| {
            Some(EndpointPortConfig {
                protocol: Some(match p.protocol {
                    Protocol::Tcp => EndpointPortConfigProtocolEnum::TCP,
                    Protocol::Udp => EndpointPortConfigProtocolEnum::UDP,
                    Protocol::Sctp => EndpointPortConfigProtocolEnum::SCTP,
                }),
                target_port: Some(i64::from(p.target)),
                published_port: Some(i64::from(p.published?.0)),
                publish_mode: Some(match mode {
                    PortMode::Host => EndpointPortConfigPublishModeEnum::HOST,
                    PortMode::Ingress => EndpointPortConfigPublishModeEnum::INGRESS,
                }),
                ..Default::default()
            })
        })
        .collect();
    ServiceSpec {
        name: Some(service_name(&plan.project, &svc.name)),
        labels: Some(labels),
        task_template: Some(TaskSpec {
            container_spec: Some(container),
            resources: Some(TaskSpecResources {
                limits: Some(Limit {
                    nano_cpus: svc.nano_cpus,
                    memory_bytes: svc.memory,
                    pids: svc.pids_limit,
                }),
                reservations: reservations(&svc.swarm),
                ..Default::default()
            }),
            restart_policy,
            placement: {
                let sw = &svc.swarm;
                (!sw.constraints.is_empty()
                    || !sw.spread.is_empty()
                    || sw.max_replicas_per_node.is_some())
                .then(|| TaskSpecPlacement {
                    constraints: (!sw.constraints.is_empty()).then(|| sw.constraints.clone()),
                    preferences: (!sw.spread.is_empty()).then(|| {
                        sw.spread
                            .iter()
                            .map(|label| TaskSpecPlacementPreferences {
                                spread: Some(TaskSpecPlacementSpread {
                                    spread_descriptor: Some(label.clone()),
                                }),
                            })
                            .collect()
                    }),
                    max_replicas: sw.max_replicas_per_node.map(i64::from),
                    ..Default::default()
                })
            },
            // As on one engine: options without a driver apply to the swarm's default driver.
            log_driver: svc.logging.as_ref().map(|l| TaskSpecLogDriver {
                name: l.driver.clone(),
                options: (!l.options.is_empty()).then(|| l.options.clone().into_iter().collect()),
            }),
            networks: Some(vec![NetworkAttachmentConfig {
                target: Some(network_id.to_owned()),
                aliases: Some(vec![svc.name.clone()]),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        mode: Some(mode),
        update_config: svc.rolling.as_ref().map(|r| update_spec(&r.update)),
        rollback_config: svc.rolling.as_ref().map(|r| rollback_spec(&r.rollback)),
        endpoint_spec: Some(EndpointSpec {
            mode: Some(match svc.swarm.endpoint_mode {
                EndpointMode::Dnsrr => EndpointSpecModeEnum::DNSRR,
                EndpointMode::Vip => EndpointSpecModeEnum::VIP,
            }),
            ports: Some(ports),
        }),
        ..Default::default()
    }
}

/// The hash of a spec, the same for the same spec in every process: the spec's maps (labels, log
/// options) are `HashMap`s whose order changes from one run to the next, so they are serialised
/// through `serde_json::Value`, whose maps keep their keys sorted.
pub fn config_hash(spec: &ServiceSpec) -> String {
    let canonical = serde_json::to_value(spec).and_then(|v| serde_json::to_vec(&v));
    hex::encode(Sha256::digest(canonical.unwrap_or_default()))
}

fn update_spec(p: &RollPolicy) -> ServiceSpecUpdateConfig {
    use bollard::models::{
        ServiceSpecUpdateConfigFailureActionEnum as Action,
        ServiceSpecUpdateConfigOrderEnum as Order,
    };
    ServiceSpecUpdateConfig {
        parallelism: Some(i64::from(p.parallelism)),
        delay: Some(p.delay.as_nanos() as i64),
        failure_action: Some(match p.failure_action {
            FailureAction::Continue => Action::CONTINUE,
            FailureAction::Rollback => Action::ROLLBACK,
            FailureAction::Pause => Action::PAUSE,
        }),
        monitor: Some(p.monitor.as_nanos() as i64),
        max_failure_ratio: Some(p.max_failure_ratio),
        order: Some(match p.order {
            UpdateOrder::StopFirst => Order::STOP_FIRST,
            UpdateOrder::StartFirst => Order::START_FIRST,
        }),
    }
}

fn rollback_spec(p: &RollPolicy) -> bollard::models::ServiceSpecRollbackConfig {
    use bollard::models::{
        ServiceSpecRollbackConfigFailureActionEnum as Action,
        ServiceSpecRollbackConfigOrderEnum as Order,
    };
    bollard::models::ServiceSpecRollbackConfig {
        parallelism: Some(i64::from(p.parallelism)),
        delay: Some(p.delay.as_nanos() as i64),
        // A rollback that fails cannot roll back again: Swarm knows only continue and pause there.
        failure_action: Some(match p.failure_action {
            FailureAction::Continue => Action::CONTINUE,
            FailureAction::Rollback | FailureAction::Pause => Action::PAUSE,
        }),
        monitor: Some(p.monitor.as_nanos() as i64),
        max_failure_ratio: Some(p.max_failure_ratio),
        order: Some(match p.order {
            UpdateOrder::StopFirst => Order::STOP_FIRST,
            UpdateOrder::StartFirst => Order::START_FIRST,
        }),
    }
}

fn nonempty(items: &[String]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// `HOST:IP` (or `HOST=IP`) as a hosts-file line, `IP HOST`, which is how Swarm takes extra hosts.
fn swarm_host_line(entry: &str) -> Option<String> {
    let (host, ip) = entry.split_once('=').or_else(|| entry.split_once(':'))?;
    Some(format!("{} {host}", ip.trim_matches(['[', ']'])))
}

/// The settings of `svc` that a Swarm service cannot carry (the engine's container options
/// without a counterpart in the service API), as the manifest names them.
pub fn not_on_swarm(svc: &ServicePlan) -> Vec<&'static str> {
    let h = &svc.host;
    [
        ("privileged", h.privileged),
        ("devices", !h.devices.is_empty()),
        ("security_opt", !h.security_opt.is_empty()),
        ("shm_size", h.shm_size.is_some()),
        ("ipc", h.ipc.is_some()),
        ("pid", h.pid.is_some()),
        ("uts", h.uts.is_some()),
        ("userns_mode", h.userns_mode.is_some()),
        ("runtime", h.runtime.is_some()),
        ("oom_kill_disable", h.oom_kill_disable.is_some()),
        ("domainname", h.domainname.is_some()),
        ("mac_address", h.mac_address.is_some()),
        ("cgroup_parent", h.cgroup_parent.is_some()),
        ("cgroup", h.cgroup.is_some()),
        ("storage_opt", !h.storage_opt.is_empty()),
        ("device_cgroup_rules", !h.device_cgroup_rules.is_empty()),
        ("external_links", !h.external_links.is_empty()),
        ("cpu_shares", h.cpu_shares.is_some()),
        ("cpu_period", h.cpu_period.is_some()),
        ("cpu_quota", h.cpu_quota.is_some()),
        ("cpu_rt_period", h.cpu_rt_period.is_some()),
        ("cpu_rt_runtime", h.cpu_rt_runtime.is_some()),
        ("cpuset", h.cpuset.is_some()),
        ("memswap_limit", h.memswap_limit.is_some()),
        ("mem_swappiness", h.mem_swappiness.is_some()),
        ("cpu_count", h.cpu_count.is_some()),
        ("cpu_percent", h.cpu_percent.is_some()),
        ("blkio_config", h.blkio.is_some()),
        ("annotations", !h.annotations.is_empty()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(key, _)| key)
    .collect()
}

#[cfg(test)]
mod tests;

/// `deploy.resources.reservations` as Swarm takes them; None when nothing is reserved.
fn reservations(sw: &crate::plan::SwarmPlan) -> Option<ResourceObject> {
    let generic: Vec<GenericResourcesInner> = sw
        .reserve_generic
        .iter()
        .map(|g| GenericResourcesInner {
            discrete_resource_spec: g.discrete_resource_spec.as_ref().map(|d| {
                GenericResourcesInnerDiscreteResourceSpec {
                    kind: d.kind.clone(),
                    value: d.value,
                }
            }),
            named_resource_spec: g.named_resource_spec.as_ref().map(|n| {
                GenericResourcesInnerNamedResourceSpec {
                    kind: n.kind.clone(),
                    value: n.value.clone(),
                }
            }),
        })
        .collect();
    (sw.reserve_nano_cpus.is_some() || sw.reserve_memory.is_some() || !generic.is_empty()).then(
        || ResourceObject {
            nano_cpus: sw.reserve_nano_cpus,
            memory_bytes: sw.reserve_memory,
            generic_resources: (!generic.is_empty()).then_some(generic),
        },
    )
}
