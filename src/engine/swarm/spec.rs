//! A plan's service as a Swarm service spec, and the hash that says whether a service changed.
//! Pure: no daemon is involved, which is what the tests below rely on.

use std::collections::HashMap;

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, EndpointSpecModeEnum, Limit, NetworkAttachmentConfig, ServiceSpec,
    ServiceSpecMode, ServiceSpecModeReplicated, ServiceSpecUpdateConfig, TaskSpec,
    TaskSpecContainerSpec, TaskSpecContainerSpecConfigs, TaskSpecContainerSpecFile,
    TaskSpecContainerSpecFile1, TaskSpecContainerSpecSecrets, TaskSpecLogDriver, TaskSpecPlacement,
    TaskSpecPlacementPreferences, TaskSpecPlacementSpread, TaskSpecResources,
    TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};
use sha2::{Digest, Sha256};

use super::files::FileConfigs;
use super::{NAMESPACE, service_name};
use crate::manifest::{
    EndpointMode, FailureAction, PortMode, Restart, RestartCondition, UpdateOrder,
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
                protocol: Some(match p.protocol.as_str() {
                    "udp" => EndpointPortConfigProtocolEnum::UDP,
                    "sctp" => EndpointPortConfigProtocolEnum::SCTP,
                    _ => EndpointPortConfigProtocolEnum::TCP,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_hash_does_not_depend_on_the_order_of_a_map() {
        let spec = || {
            let labels: HashMap<String, String> = (0..16)
                .map(|i| (format!("label-{i}"), i.to_string()))
                .collect();
            ServiceSpec {
                labels: Some(labels),
                ..Default::default()
            }
        };
        let first = config_hash(&spec());
        // Each HashMap gets its own random order; twenty of them would not all agree by chance.
        for _ in 0..20 {
            assert_eq!(config_hash(&spec()), first);
        }
        let other = ServiceSpec {
            labels: Some(HashMap::from([("label-0".to_owned(), "1".to_owned())])),
            ..Default::default()
        };
        assert_ne!(config_hash(&other), first);
    }

    /// The plan of a manifest given as text (no file, no daemon).
    fn plan_of(manifest: &str) -> Plan {
        let opts = crate::manifest::LoadOptions {
            cwd: "/nonexistent-spec-test".into(),
            project_name: Some("p".into()),
            inline: Some(manifest.as_bytes().to_vec()),
            ..Default::default()
        };
        let loaded = crate::manifest::load(&opts).expect("manifest loads");
        crate::plan::build(&loaded.project, &Default::default())
    }

    fn spec(manifest: &str, service: &str) -> ServiceSpec {
        let plan = plan_of(manifest);
        let secrets = HashMap::from([(
            "pw".to_owned(),
            ("secret-id".to_owned(), "p_pw-0123abcd".to_owned()),
        )]);
        spec_for(
            &plan,
            &plan.services[service],
            "img@sha256:1",
            "net-id",
            &secrets,
            &FileConfigs::new(),
        )
    }

    fn container(s: &ServiceSpec) -> TaskSpecContainerSpec {
        s.task_template.clone().unwrap().container_spec.unwrap()
    }

    #[test]
    fn placement_and_bound_files_reach_the_task_template() {
        let plan = plan_of(
            "services:\n  a:\n    image: x\n    volumes: ['/etc/passwd:/etc/app.conf:ro']\n    deploy:\n      placement:\n        constraints: [node.role==manager]\n        preferences: [{spread: node.labels.zone}]\n        max_replicas_per_node: 2\n",
        );
        let configs = FileConfigs::from([(
            "/etc/passwd".to_owned(),
            super::super::files::FileConfig {
                id: "cfg-id".into(),
                name: "p_passwd-12345678".into(),
            },
        )]);
        let s = spec_for(
            &plan,
            &plan.services["a"],
            "img",
            "net",
            &HashMap::new(),
            &configs,
        );
        let placement = s.task_template.clone().unwrap().placement.unwrap();
        assert_eq!(
            placement.constraints,
            Some(vec!["node.role==manager".to_owned()])
        );
        assert_eq!(placement.max_replicas, Some(2));
        assert_eq!(
            placement.preferences.unwrap()[0]
                .spread
                .as_ref()
                .unwrap()
                .spread_descriptor
                .as_deref(),
            Some("node.labels.zone")
        );
        let c = container(&s);
        assert!(c.mounts.unwrap().is_empty(), "the file is not bind-mounted");
        let cfg = &c.configs.unwrap()[0];
        assert_eq!(cfg.config_id.as_deref(), Some("cfg-id"));
        assert_eq!(
            cfg.file.as_ref().unwrap().name.as_deref(),
            Some("/etc/app.conf")
        );
    }

    #[test]
    fn health_is_inherited_switched_off_or_the_manifests() {
        let inherit = spec("services:\n  a:\n    image: x\n", "a");
        assert_eq!(container(&inherit).health_check, None);
        let off = spec(
            "services:\n  a:\n    image: x\n    healthcheck: {disable: true}\n",
            "a",
        );
        assert_eq!(
            container(&off).health_check.and_then(|h| h.test),
            Some(vec!["NONE".to_owned()])
        );
        let check = spec(
            "services:\n  a:\n    image: x\n    healthcheck: {test: [CMD, ok], interval: 2s}\n",
            "a",
        );
        let h = container(&check).health_check.unwrap();
        assert_eq!(h.test, Some(vec!["CMD".to_owned(), "ok".to_owned()]));
        assert_eq!(h.interval, Some(2_000_000_000));
    }

    #[test]
    fn dnsrr_host_ports_global_mode_and_restart_reach_the_spec() {
        let s = spec(
            "services:\n  web:\n    image: x\n    ports: [{target: 80, published: 8080, mode: host}]\n    deploy:\n      mode: global\n      endpoint_mode: dnsrr\n      restart_policy: {condition: on-failure, max_attempts: 3}\n",
            "web",
        );
        let endpoint = s.endpoint_spec.clone().unwrap();
        assert_eq!(endpoint.mode, Some(EndpointSpecModeEnum::DNSRR));
        let port = &endpoint.ports.unwrap()[0];
        assert_eq!(port.published_port, Some(8080));
        assert_eq!(port.target_port, Some(80));
        assert_eq!(
            port.publish_mode,
            Some(EndpointPortConfigPublishModeEnum::HOST)
        );
        assert!(s.mode.clone().unwrap().global.is_some());
        let restart = s.task_template.clone().unwrap().restart_policy.unwrap();
        assert_eq!(
            restart.condition,
            Some(TaskSpecRestartPolicyConditionEnum::ON_FAILURE)
        );
        assert_eq!(restart.max_attempts, Some(3));
        assert_eq!(s.name.as_deref(), Some("p_web"));
        assert_eq!(
            s.labels.unwrap().get(NAMESPACE).map(String::as_str),
            Some("p")
        );
    }

    #[test]
    fn replicas_vip_by_default_and_restart_from_the_service_key() {
        let s = spec(
            "services:\n  api:\n    image: x\n    restart: always\n    deploy: {replicas: 3}\n",
            "api",
        );
        assert_eq!(
            s.mode.clone().unwrap().replicated.unwrap().replicas,
            Some(3)
        );
        assert_eq!(
            s.endpoint_spec.clone().unwrap().mode,
            Some(EndpointSpecModeEnum::VIP)
        );
        assert_eq!(
            s.task_template.unwrap().restart_policy.unwrap().condition,
            Some(TaskSpecRestartPolicyConditionEnum::ANY)
        );
        assert_eq!(
            needs_ipvs(&plan_of("services:\n  api:\n    image: x\n")).len(),
            1
        );
    }

    #[test]
    fn secrets_are_referenced_by_id_and_not_bind_mounted() {
        let s = spec(
            "services:\n  db:\n    image: x\n    secrets: [pw]\nsecrets:\n  pw:\n    file: /etc/hostname\n",
            "db",
        );
        let c = container(&s);
        let refs = c.secrets.unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].secret_id.as_deref(), Some("secret-id"));
        assert_eq!(refs[0].file.as_ref().unwrap().name.as_deref(), Some("pw"));
        assert!(c.mounts.unwrap_or_default().iter().all(|m| {
            !m.target
                .as_deref()
                .unwrap_or("")
                .starts_with("/run/secrets")
        }),);
    }

    #[test]
    fn an_edit_changes_the_hash_and_nothing_else_does() {
        let a = "services:\n  a:\n    image: x\n    environment: {MODE: one}\n";
        let b = "services:\n  a:\n    image: x\n    environment: {MODE: two}\n";
        assert_eq!(config_hash(&spec(a, "a")), config_hash(&spec(a, "a")));
        assert_ne!(config_hash(&spec(a, "a")), config_hash(&spec(b, "a")));
    }
}
