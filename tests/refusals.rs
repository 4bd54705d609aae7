//! What can be known from the files and from read-only inspection of the daemon is refused before
//! the first call that changes anything: exit 2, the file and line, and no container, network or
//! volume of the project afterwards.

use crate::common::*;

/// `up -d` is refused with exit 2 naming `compose.yaml:LINE`, and leaves nothing behind.
fn refused_before_anything(p: &TestProject, line: usize, expected: &str) {
    let out = p.run(&["up", "-d"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("compose.yaml:{line}:")), "{err}");
    assert!(err.contains(expected), "{err}");
    let label = format!("label=com.docker.compose.project={}", p.name);
    assert!(p.containers().is_empty(), "containers left: {err}");
    assert_eq!(docker(&["network", "ls", "-q", "--filter", &label]), "");
    assert_eq!(docker(&["volume", "ls", "-q", "--filter", &label]), "");
}

#[test]
fn missing_build_inputs_are_refused_before_anything_is_created() {
    if !daemon_available() {
        return;
    }
    let volume = "volumes: {data: {}}\n";
    let p = TestProject::new(
        "late-ctx",
        &format!("services:\n  web:\n    build: ./nope\n{volume}"),
    );
    refused_before_anything(&p, 3, "build context `./nope` is not a folder");
    std::fs::write(p.path().join("afile"), "").unwrap();
    p.write(&format!("services:\n  web:\n    build: ./afile\n{volume}"));
    refused_before_anything(&p, 3, "build context `./afile` is not a folder");
    std::fs::create_dir(p.path().join("ctx")).unwrap();
    p.write(&format!(
        "services:\n  web:\n    build:\n      context: ./ctx\n      dockerfile: Nope\n{volume}"
    ));
    refused_before_anything(&p, 5, "`Nope` not found in build context `./ctx`");
}

#[test]
fn a_service_named_in_capitals_builds_under_a_lowercase_tag() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "late-caps",
        "services:\n  WebApp:\n    build: ./ctx\n    command: [sleep, infinity]\n    init: true\n",
    );
    std::fs::create_dir(p.path().join("ctx")).unwrap();
    std::fs::write(p.path().join("ctx/Dockerfile"), format!("FROM {IMG}\n")).unwrap();
    p.ok(&["up", "-d"]);
    let image = format!("{}-webapp", p.name);
    assert_eq!(
        inspect(&format!("{}-WebApp-1", p.name), "{{.Config.Image}}"),
        image
    );
    p.ok(&["down", "--rmi", "local"]);
}

#[test]
fn waiting_for_health_without_any_healthcheck_is_refused_once_the_image_is_inspected() {
    if !daemon_available() {
        return;
    }
    let manifest = |cache_extra: &str| {
        format!(
            "services:\n  web:\n    image: {IMG}\n    command: [sleep, infinity]\n    depends_on:\n      cache: {{condition: service_healthy}}\n  cache:\n    image: {IMG}\n    command: [sleep, infinity]\n{cache_extra}"
        )
    };
    let p = TestProject::new("late-health", &manifest(""));
    refused_before_anything(&p, 6, "neither the manifest nor the image of `cache`");
    p.write(&manifest("    healthcheck: {disable: true}\n"));
    refused_before_anything(&p, 6, "switches its healthcheck off");
    // An image with its own HEALTHCHECK serves: nothing is refused.
    let ctx = p.path().join("hc");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {IMG}\nHEALTHCHECK --interval=1s CMD true\n"),
    )
    .unwrap();
    p.write(&format!(
        "services:\n  web:\n{SLEEPS}    depends_on:\n      cache: {{condition: service_healthy}}\n  cache:\n    build: ./hc\n    command: [sleep, infinity]\n    init: true\n"
    ));
    p.ok(&["up", "-d", "--wait"]);
    p.ok(&["down", "--rmi", "local"]);
}

/// Keys a newer engine or a swarm honours are refused on this engine before anything exists:
/// a secret kept by a store plugin (compose refuses it too), a network without IPv4 on an engine
/// older than API 1.47 (which would ignore the ask and hand out IPv4 addresses).
#[test]
fn what_only_a_swarm_or_a_newer_engine_can_do_is_refused_before_anything() {
    if !daemon_available() {
        return;
    }
    let ran = Test::new("late-swarm-only")
        .manifest(&format!(
            "services:\n  web:\n    image: {IMG}\n    secrets: [pw]\nsecrets:\n  pw:\n    environment: HOME\n    driver: vault\nvolumes: {{data: {{}}}}\n"
        ))
        .args(&["up", "-d"])
        .code(2)
        .stderr_has("secret `pw` sets `driver`, which only a swarm honours")
        .run();
    let p = &ran.project;
    let nothing_left = |out: &std::process::Output| {
        let label = format!("label=com.docker.compose.project={}", p.name);
        assert!(p.containers().is_empty(), "{}", stderr(out));
        assert_eq!(docker(&["network", "ls", "-q", "--filter", &label]), "");
        assert_eq!(docker(&["volume", "ls", "-q", "--filter", &label]), "");
    };
    nothing_left(&ran.out);
    // `config` shows it as written, as compose does.
    assert!(stdout(&p.ok(&["config"])).contains("driver: vault"));

    let api = docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    let old = api
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .is_some_and(|v| v < (1, 47));
    p.write(&format!(
        "services:\n  web:\n{SLEEPS}    networks: [v6only]\nnetworks:\n  v6only:\n    enable_ipv4: false\n    enable_ipv6: true\n    ipam: {{config: [{{subnet: 'fd00:5c7c::/64'}}]}}\n"
    ));
    if old {
        let out = p.run(&["up", "-d"]);
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("asks `enable_ipv4: false`, which Docker Engine"),
            "{}",
            stderr(&out)
        );
        nothing_left(&out);
    } else {
        p.ok(&["up", "-d"]);
        let net = format!("{}_v6only", p.name);
        assert_eq!(
            docker(&["network", "inspect", "-f", "{{.EnableIPv4}}", &net]),
            "false"
        );
        p.ok(&["down"]);
    }
}
