//! The service spec built from plans, without a daemon.

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

use crate::plan::of_text as plan_of;

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
fn container_settings_swarm_has_reach_the_spec_and_the_rest_are_named() {
    let yaml = "services:\n  a:\n    image: x\n    sysctls: {net.core.somaxconn: '1024'}\n    ulimits: {nofile: {soft: 1024, hard: 2048}}\n    extra_hosts: ['db.local:10.0.0.5', 'v6=::1']\n    dns: [10.0.0.2]\n    dns_search: [corp]\n    group_add: [audio]\n    oom_score_adj: 100\n    tty: true\n    privileged: true\n    shm_size: 64m\n";
    let c = container(&spec(yaml, "a"));
    assert_eq!(
        c.sysctls
            .unwrap()
            .get("net.core.somaxconn")
            .map(String::as_str),
        Some("1024")
    );
    let u = &c.ulimits.unwrap()[0];
    assert_eq!(
        (u.name.as_deref(), u.soft, u.hard),
        (Some("nofile"), Some(1024), Some(2048))
    );
    assert_eq!(
        c.hosts.unwrap(),
        ["10.0.0.5 db.local".to_owned(), "::1 v6".to_owned()]
    );
    let dns = c.dns_config.unwrap();
    assert_eq!(dns.nameservers, Some(vec!["10.0.0.2".to_owned()]));
    assert_eq!(dns.search, Some(vec!["corp".to_owned()]));
    assert_eq!(c.groups, Some(vec!["audio".to_owned()]));
    assert_eq!(c.oom_score_adj, Some(100));
    assert_eq!(c.tty, Some(true));
    let plan = plan_of(yaml);
    assert_eq!(
        not_on_swarm(&plan.services["a"]),
        ["privileged", "shm_size"]
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

#[test]
fn reservations_and_generic_resources_reach_the_task_template() {
    let s = spec(
        "services:\n  a:\n    image: x\n    deploy:\n      resources:\n        reservations:\n          cpus: '0.5'\n          memory: 64m\n          generic_resources:\n            - discrete_resource_spec: {kind: gpu, value: 2}\n            - named_resource_spec: {kind: ssd, value: fast}\n",
        "a",
    );
    let r = s
        .task_template
        .unwrap()
        .resources
        .unwrap()
        .reservations
        .unwrap();
    assert_eq!(r.nano_cpus, Some(500_000_000));
    assert_eq!(r.memory_bytes, Some(64 << 20));
    let g = r.generic_resources.unwrap();
    let d = g[0].discrete_resource_spec.as_ref().unwrap();
    assert_eq!((d.kind.as_deref(), d.value), (Some("gpu"), Some(2)));
    let n = g[1].named_resource_spec.as_ref().unwrap();
    assert_eq!(
        (n.kind.as_deref(), n.value.as_deref()),
        (Some("ssd"), Some("fast"))
    );
    let none = spec("services:\n  a:\n    image: x\n", "a");
    assert_eq!(
        none.task_template.unwrap().resources.unwrap().reservations,
        None
    );
}

#[test]
fn a_secrets_store_and_templating_are_kept_for_swarm() {
    let plan = plan_of(
        "services:\n  a:\n    image: x\n    secrets: [pw]\nsecrets:\n  pw:\n    environment: HOME\n    driver: vault\n    driver_opts: {path: kv/pw}\n    template_driver: golang\n",
    );
    let d = &plan.secret_drivers["pw"];
    assert_eq!(d.driver.as_deref(), Some("vault"));
    assert_eq!(d.driver_opts["path"], "kv/pw");
    assert_eq!(d.template_driver.as_deref(), Some("golang"));
    assert_eq!(
        plan.services["a"].swarm_only,
        [
            "secret `pw` sets `driver`",
            "secret `pw` sets `template_driver`"
        ]
    );
}
