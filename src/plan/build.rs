//! From a loaded project to its plan: one `ServicePlan` per service with its container settings
//! resolved (paths made absolute, restart policy, health, ports, mounts), networks, volumes,
//! dependency levels and config hashes.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::manifest::paths::absolute;
use crate::manifest::units::PullPolicy;
use crate::manifest::{
    Build, DeployMode, EndpointMode, MountKind, NetworkMode, PortMode, Project, Restart,
    RestartCondition, SecretOrigin, Service,
};

/// Builds the plan for `project`, with `scale` overriding replica counts.
pub fn build(project: &Project, scale: &BTreeMap<String, u32>) -> Plan {
    let project = &*project.containers_only();
    let p = &project.name;
    let mut networks: Vec<NetworkPlan> = Vec::new();
    let uses_default = project.services.values().any(|s| {
        s.network_mode.is_none() && (s.networks.is_empty() || s.networks.contains_key("default"))
    });
    if uses_default && !project.networks.contains_key("default") {
        networks.push(NetworkPlan {
            key: "default".into(),
            name: network_name(p, "default"),
            driver: None,
            internal: false,
            attachable: false,
            external: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            ipam: None,
            enable_ipv6: false,
            enable_ipv4: None,
        });
    }
    for (key, def) in &project.networks {
        networks.push(NetworkPlan {
            key: key.clone(),
            name: def.name.clone().unwrap_or_else(|| network_name(p, key)),
            driver: def.driver.clone(),
            internal: def.internal.unwrap_or(false),
            attachable: def.attachable.unwrap_or(false),
            external: def.external.unwrap_or(false),
            labels: def.labels.clone(),
            options: def.driver_opts.clone(),
            ipam: def.ipam.clone(),
            enable_ipv6: def.enable_ipv6.unwrap_or(false),
            enable_ipv4: def.enable_ipv4,
        });
    }
    let volumes = project
        .volumes
        .iter()
        .map(|(key, def)| VolumePlan {
            key: key.clone(),
            name: def.name.clone().unwrap_or_else(|| format!("{p}_{key}")),
            driver: def.driver.clone(),
            external: def.external.unwrap_or(false),
            labels: def.labels.clone(),
            options: crate::manifest::paths::volume_options(
                &project.working_dir,
                def.driver.as_deref(),
                &def.driver_opts,
            ),
        })
        .collect::<Vec<_>>();
    // By key: a service looks up each of its networks and volumes, and a project of thousands
    // of services has thousands of volumes.
    let net_names: HashMap<&str, &str> = networks
        .iter()
        .map(|n| (n.key.as_str(), n.name.as_str()))
        .collect();
    let vol_names: HashMap<&str, &str> = volumes
        .iter()
        .map(|v| (v.key.as_str(), v.name.as_str()))
        .collect();
    let net_name = |key: &str| {
        net_names
            .get(key)
            .map_or_else(|| network_name(p, key), |n| (*n).to_owned())
    };
    let vol_name = |key: &str| {
        vol_names
            .get(key)
            .map_or_else(|| format!("{p}_{key}"), |n| (*n).to_owned())
    };

    let services = project
        .services
        .iter()
        .map(|(name, svc)| {
            let replicas = scale.get(name).copied().unwrap_or_else(|| svc.replicas());
            let plan = service_plan(project, name, svc, replicas, &net_name, &vol_name);
            (name.clone(), plan)
        })
        .collect();
    Plan {
        project: p.clone(),
        working_dir: project.working_dir.clone(),
        config_files: project.config_files.clone(),
        networks,
        volumes,
        services,
        disabled: project.disabled_services.keys().cloned().collect(),
        levels: dependency_levels(project),
        swarm_secrets: project
            .secrets
            .iter()
            .filter_map(|(k, d)| {
                let value = match d.origin(k) {
                    SecretOrigin::External(name) => SecretValue::External(name.to_owned()),
                    SecretOrigin::File(f) => SecretValue::File(absolute(&project.working_dir, f)),
                    SecretOrigin::Text(t) => SecretValue::Text(t.to_owned()),
                    SecretOrigin::Missing => return None,
                };
                Some((k.clone(), value))
            })
            .collect(),
        secret_labels: project
            .secrets
            .iter()
            .filter(|(_, d)| !d.labels.is_empty())
            .map(|(k, d)| (k.clone(), d.labels.clone()))
            .collect(),
        secret_drivers: project
            .secrets
            .iter()
            .filter(|(_, d)| d.driver.is_some() || d.template_driver.is_some())
            .map(|(k, d)| {
                let drivers = SecretDrivers {
                    driver: d.driver.clone(),
                    driver_opts: d.driver_opts.clone(),
                    template_driver: d.template_driver.clone(),
                };
                (k.clone(), drivers)
            })
            .collect(),
    }
}

/// The name of a service's first container, as `network_mode: service:` and `volumes_from` mean it.
fn first_container(project: &Project, service: &str) -> String {
    project
        .services
        .get(service)
        .and_then(|s| s.container_name.clone())
        .unwrap_or_else(|| format!("{}-{service}-1", project.name))
}

fn service_plan(
    project: &Project,
    name: &str,
    svc: &Service,
    replicas: u32,
    net_name: &dyn Fn(&str) -> String,
    vol_name: &dyn Fn(&str) -> String,
) -> ServicePlan {
    let p = &project.name;
    // Repository names are lowercase; a service may be `WebApp`.
    let image = image_name(p, name, svc);
    let build = svc.build.as_ref().map(|b| build_plan(project, svc, b));
    let env = svc
        .environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    let mut labels = svc.labels.clone();
    if let Some(d) = &svc.deploy {
        labels.extend(d.labels.clone());
    }
    let ports = svc
        .ports
        .iter()
        .map(|port| PortPlan {
            target: port.target,
            protocol: port.protocol,
            host_ip: port.host_ip.clone(),
            published: port.published_range(),
        })
        .collect();
    let mounts: Vec<MountPlan> = svc
        .volumes
        .iter()
        .map(|m| MountPlan {
            kind: m.kind,
            source: m.source.as_ref().map(|s| match m.kind {
                MountKind::Volume => vol_name(s),
                MountKind::Bind => absolute(&project.working_dir, s).display().to_string(),
                MountKind::Tmpfs | MountKind::Image => s.clone(),
            }),
            target: m.target.clone(),
            read_only: m.read_only,
            volume: m.volume.clone(),
            bind: m.bind.clone(),
            tmpfs: m.tmpfs.clone(),
            image: m.image.clone(),
        })
        .collect();
    // File secrets are bind-mounted read-only under /run/secrets, as compose does locally.
    let mut mounts: Vec<MountPlan> = mounts;
    // Configs likewise, at their target (`/<name>` unless the service says otherwise).
    // Those given as text are copied in instead (`injected`).
    let mut injected = Vec::new();
    let mut place = |def: Option<&crate::manifest::SecretDef>,
                     target: String,
                     given: &crate::manifest::ServiceSecret,
                     secret: bool| {
        let Some(def) = def else { return };
        match def.origin(&given.source) {
            SecretOrigin::File(file) => mounts.push(MountPlan {
                kind: MountKind::Bind,
                source: Some(absolute(&project.working_dir, file).display().to_string()),
                target,
                read_only: true,
                ..MountPlan::default()
            }),
            SecretOrigin::Text(text) => injected.push(InjectedFile {
                target,
                content: text.to_owned(),
                mode: given.mode.unwrap_or(0o444),
                uid: given.uid.as_deref().and_then(|u| u.parse().ok()),
                gid: given.gid.as_deref().and_then(|g| g.parse().ok()),
                secret,
            }),
            // An external one is the swarm's to give; one without a value was refused at load.
            SecretOrigin::External(_) | SecretOrigin::Missing => {}
        }
    };
    let mut swarm_only = Vec::new();
    let uses = svc
        .configs
        .iter()
        .map(|c| ("config", project.configs.get(&c.source), &c.source))
        .chain(
            svc.secrets
                .iter()
                .map(|s| ("secret", project.secrets.get(&s.source), &s.source)),
        );
    for (kind, def, key) in uses {
        let Some(def) = def else { continue };
        for (set, option) in [
            (def.driver.is_some(), "driver"),
            (def.template_driver.is_some(), "template_driver"),
        ] {
            if set {
                swarm_only.push(format!("{kind} `{key}` sets `{option}`"));
            }
        }
    }
    for cfg in &svc.configs {
        let target = format!("/{}", cfg.target.trim_start_matches('/'));
        place(project.configs.get(&cfg.source), target, cfg, false);
    }
    for sec in &svc.secrets {
        let target = if sec.target.starts_with('/') {
            sec.target.clone()
        } else {
            format!("/run/secrets/{}", sec.target)
        };
        place(project.secrets.get(&sec.source), target, sec, true);
    }
    let mut networks = BTreeMap::new();
    if svc.networks.is_empty() && svc.network_mode.is_none() {
        networks.insert(net_name("default"), vec![name.to_owned()]);
    }
    let mut endpoints = BTreeMap::new();
    for (key, n) in &svc.networks {
        let mut aliases = vec![name.to_owned()];
        aliases.extend(n.aliases.iter().cloned());
        networks.insert(net_name(key), aliases);
        endpoints.insert(net_name(key), n.clone());
    }
    let health = match &svc.healthcheck {
        Some(h) if h.is_disabled() => Health::Disabled,
        // Without `test`, the timings apply to the image's own healthcheck, as in compose.
        Some(h) => Health::Check(HealthPlan {
            test: h.test.clone(),
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            start_period: h.start_period,
            start_interval: h.start_interval,
        }),
        _ => Health::Inherit,
    };
    // `deploy.restart_policy` is Swarm's; locally compose maps it to a restart policy when `restart` is unset.
    let restart = svc.restart.clone().or_else(|| {
        let rp = svc.deploy.as_ref()?.restart_policy.as_ref()?;
        Some(match rp.condition {
            Some(RestartCondition::None) => Restart::No,
            Some(RestartCondition::OnFailure) => Restart::OnFailure(rp.max_attempts),
            Some(RestartCondition::Any) | None => Restart::Always,
        })
    });
    let limits = svc
        .deploy
        .as_ref()
        .and_then(|d| d.resources.as_ref())
        .and_then(|r| r.limits.as_ref());
    let placement = svc.deploy.as_ref().and_then(|d| d.placement.as_ref());
    let reservations = svc
        .deploy
        .as_ref()
        .and_then(|d| d.resources.as_ref())
        .and_then(|r| r.reservations.as_ref());
    ServicePlan {
        name: name.to_owned(),
        image,
        build,
        // Both keys were checked when the file was read.
        pull_policy: PullPolicy::read(
            svc.pull_policy.as_deref(),
            svc.pull_refresh_after.as_deref(),
        )
        .unwrap_or_default(),
        replicas,
        depends_on: svc.depends_on.clone(),
        command: svc.command.clone(),
        entrypoint: svc.entrypoint.clone(),
        env,
        labels,
        ports,
        expose: svc.expose.clone(),
        mounts,
        injected: injected.clone(),
        swarm_only,
        tmpfs: svc.tmpfs.clone(),
        networks,
        endpoints,
        restart,
        health,
        stop_signal: svc.stop_signal.clone(),
        stop_grace_period: svc.stop_grace_period,
        logging: svc.logging.clone(),
        user: svc.user.clone(),
        working_dir: svc.working_dir.clone(),
        hostname: svc.hostname.clone(),
        init: svc.init,
        read_only: svc.read_only.unwrap_or(false),
        cap_add: svc.cap_add.clone(),
        cap_drop: svc.cap_drop.clone(),
        container_name: svc.container_name.clone(),
        name_separator: if project.compatibility { '_' } else { '-' },
        nano_cpus: limits
            .and_then(|l| l.cpus)
            .or(svc.cpus)
            .map(|c| (c * 1e9) as i64),
        // deploy.resources.limits wins over the older top-level keys, as in compose.
        memory: limits
            .and_then(|l| l.memory)
            .or(svc.mem_limit)
            .map(|m| m.min(i64::MAX as u64) as i64),
        pids_limit: limits
            .and_then(|l| l.pids)
            .map(i64::from)
            .or(svc.pids_limit),
        device_requests: svc
            .gpus
            .iter()
            // `gpus:` asks for GPUs: the capability is implied where the file names none.
            .map(|r| {
                let mut r = r.clone();
                if r.capabilities.is_empty() {
                    r.capabilities = vec!["gpu".into()];
                }
                r
            })
            .chain(
                svc.deploy
                    .as_ref()
                    .and_then(|d| d.resources.as_ref())
                    .and_then(|r| r.reservations.as_ref())
                    .map(|r| &r.devices[..])
                    .unwrap_or_default()
                    .iter()
                    .cloned(),
            )
            .collect(),
        host: {
            // `ipc: service:X` shares X's first container's IPC namespace.
            let mut host = HostOptions::of(svc);
            if let Some(other) = host.ipc.as_deref().and_then(|m| m.strip_prefix("service:")) {
                host.ipc = Some(format!("container:{}", first_container(project, other)));
            }
            host
        },
        attach: svc.attach.unwrap_or(true),
        pre_start: svc
            .pre_start
            .iter()
            .map(|h| PreStartPlan {
                image: h.image.clone(),
                hook: HookPlan {
                    command: h.command.clone().unwrap_or_default(),
                    user: h.user.clone(),
                    privileged: h.privileged == Some(true),
                    working_dir: h.working_dir.clone(),
                    env: svc
                        .environment
                        .iter()
                        .chain(&h.environment)
                        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
                        .collect(),
                },
            })
            .collect(),
        post_start: svc.post_start.iter().map(hook_plan).collect(),
        pre_stop: svc.pre_stop.iter().map(hook_plan).collect(),
        rolling: svc
            .deploy
            .as_ref()
            .and_then(|d| super::rolling::of(d.update_config.as_ref(), d.rollback_config.as_ref())),
        // The engine's form: a service's first container by name.
        network_mode: svc.network_mode.as_ref().map(|m| match m {
            NetworkMode::Service(other) => format!("container:{}", first_container(project, other)),
            other => other.to_string(),
        }),
        volumes_from: svc
            .volumes_from
            .iter()
            .map(|v| match v.strip_prefix("container:") {
                Some(c) => c.to_owned(),
                None => match v.split_once(':') {
                    Some((other, mode)) => format!("{}:{mode}", first_container(project, other)),
                    None => first_container(project, v),
                },
            })
            .collect(),
        created_after: crate::manifest::container_sources(svc),
        platform: svc.platform.clone(),
        // What is copied in changes the container as a mount's file would: it is part of the hash.
        config_hash: super::hash::with_injected(&config_hash(svc, project), &injected),
        config_snapshot: super::hash::config_snapshot(svc),
        swarm: SwarmPlan {
            global: svc.deploy.as_ref().and_then(|d| d.mode) == Some(DeployMode::Global),
            endpoint_mode: svc
                .deploy
                .as_ref()
                .and_then(|d| d.endpoint_mode)
                .unwrap_or(EndpointMode::Vip),
            port_modes: svc
                .ports
                .iter()
                .map(|p| p.mode.unwrap_or(PortMode::Ingress))
                .collect(),
            restart_condition: svc
                .deploy
                .as_ref()
                .and_then(|d| d.restart_policy.as_ref())
                .and_then(|r| r.condition),
            restart_max_attempts: svc
                .deploy
                .as_ref()
                .and_then(|d| d.restart_policy.as_ref())
                .and_then(|r| r.max_attempts),
            secrets: svc
                .secrets
                .iter()
                .map(|s| crate::manifest::ServiceSecret {
                    target: s.target.trim_start_matches("/run/secrets/").to_owned(),
                    ..s.clone()
                })
                .collect(),
            constraints: placement.map(|p| p.constraints.clone()).unwrap_or_default(),
            spread: placement
                .map(|p| p.preferences.iter().map(|x| x.spread.clone()).collect())
                .unwrap_or_default(),
            max_replicas_per_node: placement.and_then(|p| p.max_replicas_per_node),
            reserve_nano_cpus: reservations
                .and_then(|r| r.cpus)
                .map(|c| (c * 1e9).round() as i64),
            reserve_memory: reservations
                .and_then(|r| r.memory)
                .and_then(|m| i64::try_from(m).ok()),
            reserve_generic: reservations
                .map(|r| r.generic_resources.clone())
                .unwrap_or_default(),
        },
    }
}

/// The image a service runs: its `image:`, else `<project>-<service>` (repository names are
/// lowercase; a service may be `WebApp`).
fn image_name(project: &str, name: &str, svc: &Service) -> String {
    svc.image
        .clone()
        .unwrap_or_else(|| format!("{project}-{name}").to_lowercase())
}

fn build_plan(project: &Project, svc: &Service, b: &Build) -> BuildPlan {
    let dir = &project.working_dir;
    let secrets = b
        .secrets
        .iter()
        .filter_map(|r| {
            let def = project.secrets.get(&r.source)?;
            let source = match (&def.file, &def.environment) {
                (Some(f), _) => SecretSource::File(absolute(dir, f)),
                (None, Some(var)) => SecretSource::Env(var.clone()),
                (None, None) => return None,
            };
            Some(BuildSecret {
                id: r.target.clone(),
                source,
            })
        })
        .collect();
    let contexts = b
        .additional_contexts
        .iter()
        .map(|(k, v)| {
            let ctx = if let Some(other) = v.strip_prefix("service:") {
                let image = project
                    .services
                    .get(other)
                    .map_or_else(|| other.to_owned(), |s| image_name(&project.name, other, s));
                NamedContext::Service {
                    service: other.to_owned(),
                    image,
                }
            } else if let Some(image) = v.strip_prefix("docker-image://") {
                NamedContext::Image(image.to_owned())
            } else {
                NamedContext::Folder(absolute(dir, v))
            };
            (k.clone(), ctx)
        })
        .collect();
    BuildPlan {
        context: absolute(dir, &b.context),
        remote: crate::manifest::is_remote_context(&b.context).then(|| b.context.clone()),
        // An empty `dockerfile:` (an unset variable) means the default, as in compose.
        dockerfile: b
            .dockerfile
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "Dockerfile".into()),
        dockerfile_inline: b.dockerfile_inline.clone(),
        args: b
            .args
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect(),
        target: b.target.clone(),
        labels: b.labels.clone(),
        platform: b
            .platforms
            .first()
            .cloned()
            .or_else(|| svc.platform.clone()),
        cache_from: b
            .cache_from
            .iter()
            .filter_map(|c| crate::manifest::cache_ref(c).map(str::to_owned))
            .collect(),
        inline_cache: b
            .cache_to
            .iter()
            .any(|c| crate::manifest::cache_type(c) == "inline"),
        network: b.network.clone(),
        shm_size: b.shm_size,
        memory: None,
        extra_hosts: b.extra_hosts.clone(),
        secrets,
        ssh_agent: b.ssh.iter().any(|s| s == "default"),
        contexts,
        tags: b.tags.clone(),
        pull: b.pull == Some(true),
        // The builder cannot leave the cache out for some stages only; leaving it out for all
        // gives the same image, later.
        no_cache: b.no_cache == Some(true) || !b.no_cache_filter.is_empty(),
    }
}

pub fn hook_plan(h: &crate::manifest::Hook) -> HookPlan {
    HookPlan {
        command: h.command.clone().unwrap_or_default(),
        user: h.user.clone(),
        privileged: h.privileged == Some(true),
        working_dir: h.working_dir.clone(),
        env: h
            .environment
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect(),
    }
}
