//! The decoders against the forms the Compose format allows.

use super::*;
use serde_yaml::Value;

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
    assert_eq!(service("cgroup: host").unwrap().cgroup, Some(Cgroup::Host));
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
    for (ok, mode) in [
        ("host", NetworkMode::Host),
        ("none", NetworkMode::None),
        ("bridge", NetworkMode::Bridge),
        ("container:abc", NetworkMode::Container("abc".into())),
    ] {
        let read = service(&format!("network_mode: \"{ok}\""))
            .unwrap()
            .network_mode
            .unwrap();
        assert_eq!((read.to_string().as_str(), &read), (ok, &mode));
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
            .network_mode,
        Some(NetworkMode::Service("db".into()))
    );
    assert!(service("network_mode: \"service:\"").is_err());
}

#[test]
fn sizes_and_numbers_of_container_settings() {
    let s =
        service("mem_limit: 64m\nshm_size: 1073741824\npids_limit: \"100\"\noom_score_adj: -500")
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
            protocol: Protocol::Tcp,
            mode: None
        }]
    );
    let p = parse_port_short("127.0.0.1:8080:80/udp").unwrap();
    assert_eq!(
        (
            p[0].host_ip.as_deref(),
            p[0].published.map(|r| r.to_string()).as_deref(),
            p[0].target,
            p[0].protocol.as_str()
        ),
        (Some("127.0.0.1"), Some("8080"), 80, "udp")
    );
    assert_eq!(
        parse_port_short("80/UDP").unwrap()[0].protocol,
        Protocol::Udp
    );
    assert!(
        parse_port_short("80/quic")
            .unwrap_err()
            .contains("protocol `quic` is not tcp, udp or sctp")
    );
    assert!(
        service("ports: [{target: 80, protocol: quic}]")
            .unwrap_err()
            .contains("port 0: protocol `quic`")
    );
    assert_eq!(
        service("isolation: hyperv").unwrap().isolation,
        Some(Isolation::Hyperv)
    );
    assert_eq!(parse_port_short("3000-3002").unwrap().len(), 3);
    let p = parse_port_short("9090-9091:8080-8081").unwrap();
    assert_eq!(
        (p[1].published, p[1].target),
        (Some(PortRange::single(9091)), 8081)
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

#[test]
fn newer_compose_keys_are_read_and_kept() {
    let s = service(
        "credential_spec: {file: spec.json}\npull_policy: refresh\npull_refresh_after: 2d\nbuild: {context: ., provenance: true, sbom: 'false', no_cache_filter: [deps]}\n",
    )
    .unwrap();
    assert_eq!(
        s.credential_spec.unwrap().file.as_deref(),
        Some("spec.json")
    );
    assert_eq!(s.pull_refresh_after.as_deref(), Some("2d"));
    let b = s.build.unwrap();
    assert_eq!(
        (b.provenance.as_deref(), b.sbom.as_deref()),
        (Some("true"), Some("false"))
    );
    assert_eq!(b.no_cache_filter, ["deps"]);
    assert!(
        service("pull_refresh_after: soon")
            .unwrap_err()
            .contains("2d")
    );
    assert!(service("credential_spec: {floppy: a}").is_err());
}
