//! Compose's override rules for several `-f` files: scalars replace, mappings merge by key,
//! `ports` / `volumes` / `secrets` merge by target, `command` and `entrypoint` replace whole.

use std::collections::BTreeMap;

use super::model::{Build, Deploy, Healthcheck, Service};

/// Merges `over` onto `base` in place.
pub fn merge_service(base: &mut Service, over: Service) {
    let Service {
        image,
        build,
        command,
        entrypoint,
        environment,
        env_file,
        ports,
        expose,
        volumes,
        tmpfs,
        networks,
        depends_on,
        inactive_depends_on: _,
        links,
        restart,
        deploy,
        scale,
        healthcheck,
        labels,
        stop_signal,
        stop_grace_period,
        logging,
        user,
        working_dir,
        hostname,
        init,
        read_only,
        cap_add,
        cap_drop,
        container_name,
        profiles,
        pull_policy,
        pull_refresh_after,
        secrets,
        tty,
        stdin_open,
        privileged,
        oom_kill_disable,
        extra_hosts,
        dns,
        dns_search,
        dns_opt,
        security_opt,
        group_add,
        devices,
        mem_limit,
        mem_reservation,
        shm_size,
        pids_limit,
        oom_score_adj,
        sysctls,
        ulimits,
        domainname,
        mac_address,
        ipc,
        pid,
        uts,
        userns_mode,
        runtime,
        cpus,
        cpu_shares,
        cpu_period,
        cpu_quota,
        cpu_rt_period,
        cpu_rt_runtime,
        mem_swappiness,
        memswap_limit,
        cpuset,
        cgroup_parent,
        cgroup,
        storage_opt,
        device_cgroup_rules,
        attach,
        network_mode,
        develop,
        provider,
        models,
        cpu_count,
        use_api_socket,
        cpu_percent,
        blkio_config,
        annotations,
        gpus,
        pre_start,
        post_start,
        pre_stop,
        platform,
        configs,
        label_file,
        external_links,
        isolation,
        credential_spec,
        volumes_from,
    } = over;
    replace(&mut base.image, image);
    base.build = match (base.build.take(), build) {
        (Some(b), Some(o)) => Some(merge_build(b, o)),
        (b, o) => o.or(b),
    };
    replace(&mut base.command, command);
    replace(&mut base.entrypoint, entrypoint);
    base.environment.extend(environment);
    union(&mut base.env_file, env_file);
    by_key(&mut base.ports, ports, |p| (p.target, p.protocol));
    union(&mut base.expose, expose);
    by_key(&mut base.volumes, volumes, |m| m.target.clone());
    union(&mut base.tmpfs, tmpfs);
    base.networks.extend(networks);
    base.depends_on.extend(depends_on);
    union(&mut base.links, links);
    replace(&mut base.restart, restart);
    base.deploy = match (base.deploy.take(), deploy) {
        (Some(b), Some(o)) => Some(merge_deploy(b, o)),
        (b, o) => o.or(b),
    };
    replace(&mut base.scale, scale);
    base.healthcheck = match (base.healthcheck.take(), healthcheck) {
        (Some(b), Some(o)) => Some(merge_healthcheck(b, o)),
        (b, o) => o.or(b),
    };
    base.labels.extend(labels);
    replace(&mut base.stop_signal, stop_signal);
    replace(&mut base.stop_grace_period, stop_grace_period);
    // Compose: options merge while the driver stays the same; another driver starts afresh.
    base.logging = match (base.logging.take(), logging) {
        (Some(mut b), Some(o)) if o.driver.is_none() || o.driver == b.driver => {
            b.options.extend(o.options);
            Some(b)
        }
        (b, o) => o.or(b),
    };
    replace(&mut base.user, user);
    replace(&mut base.working_dir, working_dir);
    replace(&mut base.hostname, hostname);
    replace(&mut base.init, init);
    replace(&mut base.read_only, read_only);
    union(&mut base.cap_add, cap_add);
    union(&mut base.cap_drop, cap_drop);
    replace(&mut base.container_name, container_name);
    union(&mut base.profiles, profiles);
    replace(&mut base.pull_policy, pull_policy);
    replace(&mut base.pull_refresh_after, pull_refresh_after);
    by_key(&mut base.secrets, secrets, |s| s.target.clone());
    replace(&mut base.tty, tty);
    replace(&mut base.stdin_open, stdin_open);
    replace(&mut base.privileged, privileged);
    replace(&mut base.oom_kill_disable, oom_kill_disable);
    replace(&mut base.mem_limit, mem_limit);
    replace(&mut base.mem_reservation, mem_reservation);
    replace(&mut base.shm_size, shm_size);
    replace(&mut base.pids_limit, pids_limit);
    replace(&mut base.oom_score_adj, oom_score_adj);
    replace(&mut base.domainname, domainname);
    replace(&mut base.mac_address, mac_address);
    replace(&mut base.ipc, ipc);
    replace(&mut base.pid, pid);
    replace(&mut base.uts, uts);
    replace(&mut base.userns_mode, userns_mode);
    replace(&mut base.runtime, runtime);
    replace(&mut base.cpus, cpus);
    replace(&mut base.cpu_shares, cpu_shares);
    replace(&mut base.cpu_period, cpu_period);
    replace(&mut base.cpu_quota, cpu_quota);
    replace(&mut base.cpu_rt_period, cpu_rt_period);
    replace(&mut base.cpu_rt_runtime, cpu_rt_runtime);
    replace(&mut base.mem_swappiness, mem_swappiness);
    replace(&mut base.memswap_limit, memswap_limit);
    replace(&mut base.cpuset, cpuset);
    replace(&mut base.cgroup_parent, cgroup_parent);
    replace(&mut base.cgroup, cgroup);
    replace(&mut base.attach, attach);
    replace(&mut base.network_mode, network_mode);
    replace(&mut base.develop, develop);
    replace(&mut base.provider, provider);
    base.models.extend(models);
    replace(&mut base.cpu_count, cpu_count);
    replace(&mut base.use_api_socket, use_api_socket);
    replace(&mut base.cpu_percent, cpu_percent);
    replace(&mut base.blkio_config, blkio_config);
    base.annotations.extend(annotations);
    // Hooks are lists compose appends.
    base.pre_start.extend(pre_start);
    base.post_start.extend(post_start);
    replace_list(&mut base.gpus, gpus);
    base.pre_stop.extend(pre_stop);
    replace(&mut base.platform, platform);
    by_key(&mut base.configs, configs, |c| c.target.clone());
    union(&mut base.label_file, label_file);
    union(&mut base.external_links, external_links);
    replace(&mut base.isolation, isolation);
    replace(&mut base.credential_spec, credential_spec);
    union(&mut base.volumes_from, volumes_from);
    base.storage_opt.extend(storage_opt);
    union(&mut base.device_cgroup_rules, device_cgroup_rules);
    union(&mut base.extra_hosts, extra_hosts);
    union(&mut base.dns, dns);
    union(&mut base.dns_search, dns_search);
    union(&mut base.dns_opt, dns_opt);
    union(&mut base.security_opt, security_opt);
    union(&mut base.group_add, group_add);
    union(&mut base.devices, devices);
    base.sysctls.extend(sysctls);
    base.ulimits.extend(ulimits);
}

fn replace<T>(base: &mut Option<T>, over: Option<T>) {
    if over.is_some() {
        *base = over;
    }
}

fn union<T: PartialEq>(base: &mut Vec<T>, over: Vec<T>) {
    for item in over {
        if !base.contains(&item) {
            base.push(item);
        }
    }
}

/// Entries of `over` replace those of `base` with the same key, in place; new ones are appended.
fn by_key<T, K: PartialEq>(base: &mut Vec<T>, over: Vec<T>, key: impl Fn(&T) -> K) {
    for item in over {
        match base.iter().position(|b| key(b) == key(&item)) {
            Some(i) => base[i] = item,
            None => base.push(item),
        }
    }
}

fn merge_maps<V>(base: &mut BTreeMap<String, V>, over: BTreeMap<String, V>) {
    base.extend(over);
}

fn merge_build(mut b: Build, o: Build) -> Build {
    // Every field named, so that a new one cannot be dropped from an override unnoticed.
    let Build {
        context,
        dockerfile,
        args,
        target,
        labels,
        dockerfile_inline,
        cache_from,
        cache_to,
        network,
        shm_size,
        extra_hosts,
        secrets,
        ssh,
        additional_contexts,
        tags,
        platforms,
        privileged,
        entitlements,
        pull,
        no_cache,
        isolation,
        ulimits,
        provenance,
        sbom,
        no_cache_filter,
    } = o;
    // A mapping without `context` was given "." by the loader; only a real value replaces.
    if context != "." || b.context.is_empty() {
        b.context = context;
    }
    replace(&mut b.dockerfile, dockerfile);
    replace(&mut b.target, target);
    merge_maps(&mut b.args, args);
    merge_maps(&mut b.labels, labels);
    replace(&mut b.dockerfile_inline, dockerfile_inline);
    replace(&mut b.network, network);
    replace(&mut b.shm_size, shm_size);
    replace(&mut b.privileged, privileged);
    replace(&mut b.pull, pull);
    replace(&mut b.no_cache, no_cache);
    replace(&mut b.isolation, isolation);
    replace(&mut b.provenance, provenance);
    replace(&mut b.sbom, sbom);
    merge_maps(&mut b.additional_contexts, additional_contexts);
    b.ulimits.extend(ulimits);
    // Lists are appended without repeats, as compose merges them.
    for (mine, theirs) in [
        (&mut b.cache_from, cache_from),
        (&mut b.cache_to, cache_to),
        (&mut b.extra_hosts, extra_hosts),
        (&mut b.ssh, ssh),
        (&mut b.tags, tags),
        (&mut b.platforms, platforms),
        (&mut b.entitlements, entitlements),
        (&mut b.no_cache_filter, no_cache_filter),
    ] {
        for item in theirs {
            if !mine.contains(&item) {
                mine.push(item);
            }
        }
    }
    for s in secrets {
        b.secrets.retain(|x| x.target != s.target);
        b.secrets.push(s);
    }
    b
}

fn merge_deploy(mut b: Deploy, o: Deploy) -> Deploy {
    replace(&mut b.mode, o.mode);
    replace(&mut b.replicas, o.replicas);
    replace(&mut b.endpoint_mode, o.endpoint_mode);
    replace(&mut b.restart_policy, o.restart_policy);
    replace(&mut b.resources, o.resources);
    replace(&mut b.update_config, o.update_config);
    replace(&mut b.placement, o.placement);
    merge_maps(&mut b.labels, o.labels);
    b
}

fn merge_healthcheck(mut b: Healthcheck, o: Healthcheck) -> Healthcheck {
    if !o.test.is_empty() {
        b.test = o.test;
    }
    replace(&mut b.interval, o.interval);
    replace(&mut b.timeout, o.timeout);
    replace(&mut b.retries, o.retries);
    replace(&mut b.start_period, o.start_period);
    replace(&mut b.start_interval, o.start_interval);
    replace(&mut b.disable, o.disable);
    b
}

/// An override's list, when it has one, replaces the base's.
fn replace_list<T>(base: &mut Vec<T>, over: Vec<T>) {
    if !over.is_empty() {
        *base = over;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn svc(yaml: &str) -> Service {
        Service::deserialize(serde_yaml::from_str::<serde_yaml::Value>(yaml).unwrap()).unwrap()
    }

    #[test]
    fn scalars_replace_and_maps_merge() {
        let mut base = svc("image: a\nenvironment: {A: '1', B: '2'}\nlabels: [x=1]\nuser: app\n");
        merge_service(
            &mut base,
            svc("image: b\nenvironment: {B: '3', C: '4'}\nlabels: {y: '2'}\n"),
        );
        assert_eq!(base.image.as_deref(), Some("b"));
        assert_eq!(base.user.as_deref(), Some("app"));
        let env: Vec<_> = base
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={}", v.clone().unwrap()))
            .collect();
        assert_eq!(env, ["A=1", "B=3", "C=4"]);
        assert_eq!(base.labels.len(), 2);
    }

    #[test]
    fn logging_options_merge_unless_the_driver_changes() {
        let mut base = svc("logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}\n");
        merge_service(&mut base, svc("logging: {options: {max-size: 50m}}\n"));
        let l = base.logging.clone().unwrap();
        assert_eq!(l.driver.as_deref(), Some("json-file"));
        // Numbers are written as YAML numbers; the daemon takes strings.
        assert_eq!(l.options["max-file"], "3");
        assert_eq!(l.options["max-size"], "50m");
        merge_service(&mut base, svc("logging: {driver: local}\n"));
        let l = base.logging.unwrap();
        assert_eq!(l.driver.as_deref(), Some("local"));
        assert!(l.options.is_empty());
    }

    #[test]
    fn container_settings_merge_like_compose() {
        let mut base = svc(
            "tty: true\nmem_limit: 64m\nsysctls: {a: '1', b: '2'}\nulimits: {nofile: 10}\ndns: [1.1.1.1]\nextra_hosts: ['x:1.2.3.4']\n",
        );
        merge_service(
            &mut base,
            svc(
                "mem_limit: 128m\nsysctls: {b: '3'}\nulimits: {nproc: 5}\ndns: [1.1.1.1, 8.8.8.8]\nextra_hosts: ['y:5.6.7.8']\n",
            ),
        );
        assert_eq!(base.tty, Some(true), "kept when the override is silent");
        assert_eq!(base.mem_limit, Some(128 * 1024 * 1024));
        assert_eq!(
            base.sysctls.into_iter().collect::<Vec<_>>(),
            [("a".into(), "1".into()), ("b".into(), "3".into())]
        );
        assert_eq!(base.ulimits.keys().collect::<Vec<_>>(), ["nofile", "nproc"]);
        assert_eq!(base.dns, ["1.1.1.1", "8.8.8.8"]);
        assert_eq!(base.extra_hosts, ["x:1.2.3.4", "y:5.6.7.8"]);
    }

    #[test]
    fn command_and_entrypoint_replace_whole() {
        let mut base = svc("image: a\ncommand: [run, --fast]\nentrypoint: [/bin/a, x]\n");
        merge_service(&mut base, svc("command: serve\n"));
        assert_eq!(base.command.unwrap(), vec!["serve"]);
        assert_eq!(base.entrypoint.unwrap(), vec!["/bin/a", "x"]);
    }

    #[test]
    fn ports_and_volumes_merge_by_target() {
        let mut base = svc(
            "image: a\nports: ['8080:80', '443']\nvolumes: ['data:/data', './x:/x']\nexpose: ['1']\n",
        );
        merge_service(
            &mut base,
            svc("ports: ['9090:80', '22']\nvolumes: ['other:/data']\nexpose: ['1', '2']\n"),
        );
        let ports: Vec<_> = base.ports.iter().map(|p| (p.published, p.target)).collect();
        assert_eq!(
            ports,
            [
                (Some(crate::manifest::PortRange::single(9090)), 80),
                (None, 443),
                (None, 22)
            ]
        );
        let vols: Vec<_> = base
            .volumes
            .iter()
            .map(|m| m.source.clone().unwrap())
            .collect();
        assert_eq!(vols, ["other", "./x"]);
        assert_eq!(base.expose, ["1", "2"]);
    }

    #[test]
    fn nested_sections_merge_field_by_field() {
        let mut base = svc(
            "build: {context: web, args: {A: '1'}}\nhealthcheck: {test: [CMD, true], interval: 5s}\ndeploy: {replicas: 2, labels: {a: b}}\n",
        );
        merge_service(
            &mut base,
            svc(
                "build: {args: {B: '2'}, target: prod}\nhealthcheck: {retries: 3}\ndeploy: {replicas: 4}\n",
            ),
        );
        let b = base.build.unwrap();
        assert_eq!(
            (b.context.as_str(), b.target.as_deref(), b.args.len()),
            ("web", Some("prod"), 2)
        );
        let h = base.healthcheck.unwrap();
        assert_eq!(
            (h.test.len(), h.retries, h.interval.is_some()),
            (2, Some(3), true)
        );
        let d = base.deploy.unwrap();
        assert_eq!((d.replicas, d.labels.len()), (Some(4), 1));
    }

    #[test]
    fn depends_on_and_networks_merge_by_name() {
        let mut base = svc("image: a\ndepends_on: [db]\nnetworks: [front]\n");
        merge_service(
            &mut base,
            svc(
                "depends_on: {cache: {condition: service_healthy}}\nnetworks: {back: {aliases: [x]}}\n",
            ),
        );
        assert_eq!(base.depends_on.keys().collect::<Vec<_>>(), ["cache", "db"]);
        assert_eq!(base.networks.keys().collect::<Vec<_>>(), ["back", "front"]);
    }
}
