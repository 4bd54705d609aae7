//! The engine against the real daemon: replicas, labels, convergence, dependencies, scale, down,
//! pulls and builds, interruption. Each test has its own project and cleans up after itself.

use std::time::{Duration, Instant};

use crate::common::*;

fn three_services() -> String {
    format!(
        r#"
services:
  api:
    image: {IMG}
    command: ["sleep", "infinity"]
    init: true
    restart: on-failure:3
    environment: {{ MODE: one }}
    labels: {{ team: core }}
    deploy: {{ replicas: 3 }}
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      retries: 2
    depends_on: [cache, db]
  cache:
    image: {IMG}
    command: ["sleep", "infinity"]
    init: true
    restart: always
  db:
    image: {IMG}
    command: ["sleep", "infinity"]
    init: true
    restart: unless-stopped
    networks:
      default:
        aliases: [database]
    deploy: {{ replicas: 2 }}
"#
    )
}

#[test]
fn replicas_are_named_labelled_and_configured_as_the_manifest_asks() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("replicas", &three_services());
    p.ok(&["up", "-d"]);
    let n = &p.name;
    let expected: Vec<String> = ["api-1", "api-2", "api-3", "cache-1", "db-1", "db-2"]
        .iter()
        .map(|s| format!("{n}-{s}"))
        .collect();
    assert_eq!(p.containers(), expected);

    let api = format!("{n}-api-2");
    assert_eq!(
        inspect(
            &api,
            "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "on-failure:3"
    );
    assert_eq!(
        inspect(&api, "{{json .Config.Healthcheck.Test}}"),
        r#"["CMD","true"]"#
    );
    assert_eq!(inspect(&api, "{{.Config.Healthcheck.Interval}}"), "1s");
    assert_eq!(
        inspect(
            &api,
            r#"{{index .Config.Labels "com.docker.compose.project"}}"#
        ),
        *n
    );
    assert_eq!(
        inspect(
            &api,
            r#"{{index .Config.Labels "com.docker.compose.service"}}"#
        ),
        "api"
    );
    assert_eq!(
        inspect(
            &api,
            r#"{{index .Config.Labels "com.docker.compose.container-number"}}"#
        ),
        "2"
    );
    assert_eq!(
        inspect(
            &api,
            r#"{{index .Config.Labels "com.docker.compose.oneoff"}}"#
        ),
        "False"
    );
    assert_eq!(inspect(&api, r#"{{index .Config.Labels "team"}}"#), "core");
    assert!(
        !inspect(
            &api,
            r#"{{index .Config.Labels "com.docker.compose.config-hash"}}"#
        )
        .is_empty()
    );
    assert!(inspect(&api, "{{json .Config.Env}}").contains("MODE=one"));
    assert_eq!(
        inspect(
            &format!("{n}-cache-1"),
            "{{.HostConfig.RestartPolicy.Name}}"
        ),
        "always"
    );
    let aliases = inspect(
        &format!("{n}-db-1"),
        &format!("{{{{json (index .NetworkSettings.Networks \"{n}_default\").Aliases}}}}"),
    );
    assert!(
        aliases.contains("\"db\"") && aliases.contains("\"database\""),
        "aliases: {aliases}"
    );
    // Other services reach db by its alias through Docker's DNS.
    assert!(docker_ok(&[
        "exec",
        &format!("{n}-cache-1"),
        "getent",
        "hosts",
        "database"
    ]));
}

#[test]
fn a_second_up_changes_nothing_and_an_edit_recreates_only_its_service() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("converge", &three_services());
    p.ok(&["up", "-d"]);
    let before: Vec<String> = p.containers().iter().map(|c| p.id(c)).collect();

    let t = Instant::now();
    p.ok(&["up", "-d"]);
    let noop = t.elapsed();
    let after: Vec<String> = p.containers().iter().map(|c| p.id(c)).collect();
    assert_eq!(before, after, "a no-op up must keep every container");
    assert!(noop < Duration::from_secs(1), "no-op up took {noop:?}");

    p.write(&three_services().replace("MODE: one", "MODE: two"));
    p.ok(&["up", "-d"]);
    let n = &p.name;
    for c in p.containers() {
        let changed = p.id(&c) != before[p.containers().iter().position(|x| *x == c).unwrap()];
        assert_eq!(
            changed,
            c.starts_with(&format!("{n}-api-")),
            "{c}: changed={changed}"
        );
    }
    assert!(inspect(&format!("{n}-api-1"), "{{json .Config.Env}}").contains("MODE=two"));
}

#[test]
fn a_rebuilt_image_recreates_its_service() {
    if !daemon_available() {
        return;
    }
    let manifest = "services:\n  app:\n    build: ./app\n    command: [sleep, infinity]\n    init: true\n  other:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n";
    let p = TestProject::new("rebuild", manifest);
    let ctx = p.path().join("app");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM debian:bookworm-slim\nCOPY version /version\n",
    )
    .unwrap();
    std::fs::write(ctx.join("version"), "1").unwrap();
    std::fs::write(ctx.join(".dockerignore"), "secret\n").unwrap();
    std::fs::write(ctx.join("secret"), "do not send").unwrap();
    let out = p.ok(&["up", "-d"]);
    assert!(
        stderr(&out).contains("Built"),
        "build progress expected:\n{}",
        stderr(&out)
    );
    let n = &p.name;
    let app = format!("{n}-app-1");
    let other = format!("{n}-other-1");
    let (app_id, other_id) = (p.id(&app), p.id(&other));
    assert!(!docker_ok(&["exec", &app, "test", "-e", "/secret"]));

    std::fs::write(ctx.join("version"), "2").unwrap();
    p.ok(&["up", "-d", "--build"]);
    assert_ne!(p.id(&app), app_id, "rebuilt image must recreate");
    assert_eq!(p.id(&other), other_id, "the other service must be kept");
    assert_eq!(docker(&["exec", &app, "cat", "/version"]), "2");
    docker(&["rmi", "-f", &format!("{n}-app")]);
}

#[test]
fn a_dependent_starts_only_once_its_dependency_is_healthy() {
    if !daemon_available() {
        return;
    }
    // db becomes healthy after ~2 s; web exits 3 if it starts before that.
    let manifest = format!(
        r#"
services:
  db:
    image: {IMG}
    command: ["sh", "-c", "sleep 2; touch /shared/ready; exec sleep infinity"]
    init: true
    volumes: ["shared:/shared"]
    healthcheck: {{ test: ["CMD", "test", "-f", "/shared/ready"], interval: 500ms, retries: 20 }}
  web:
    image: {IMG}
    command: ["sh", "-c", "test -f /shared/ready || exit 3; exec sleep infinity"]
    init: true
    volumes: ["shared:/shared"]
    depends_on: {{ db: {{ condition: service_healthy }} }}
volumes:
  shared:
"#
    );
    let p = TestProject::new("healthy", &manifest);
    p.ok(&["up", "-d"]);
    let web = format!("{}-web-1", p.name);
    assert_eq!(inspect(&web, "{{.State.Status}}"), "running");
    assert_eq!(
        inspect(&format!("{}-db-1", p.name), "{{.State.Health.Status}}"),
        "healthy"
    );
}

#[test]
fn wait_counts_a_one_shot_dependency_that_exited_0_as_done() {
    if !daemon_available() {
        return;
    }
    let manifest = format!(
        r#"
services:
  migrate:
    image: {IMG}
    command: ["true"]
  app:
    image: {IMG}
    command: ["sleep", "infinity"]
    init: true
    depends_on: {{ migrate: {{ condition: service_completed_successfully }} }}
"#
    );
    let p = TestProject::new("oneshot", &manifest);
    let out = p.run(&["up", "-d", "--wait"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        inspect(&format!("{}-migrate-1", p.name), "{{.State.ExitCode}}"),
        "0"
    );
    assert_eq!(
        inspect(&format!("{}-app-1", p.name), "{{.State.Status}}"),
        "running"
    );
    // A one-shot that fails still fails --wait, naming it.
    p.write(&manifest.replace(r#"["true"]"#, r#"["sh", "-c", "exit 4"]"#));
    let out = p.run(&["up", "-d", "--wait"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("migrate-1 exited with code 4"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unhealthy_dependency_fails_up_and_names_it() {
    if !daemon_available() {
        return;
    }
    let manifest = format!(
        r#"
services:
  db:
    image: {IMG}
    command: ["sleep", "infinity"]
    init: true
    healthcheck: {{ test: ["CMD", "false"], interval: 300ms, retries: 1 }}
  web:
    image: {IMG}
    command: ["sleep", "infinity"]
    depends_on: {{ db: {{ condition: service_healthy }} }}
"#
    );
    let p = TestProject::new("unhealthy", &manifest);
    let out = p.run(&["up", "-d"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}-db-1 is unhealthy", p.name)),
        "{err}"
    );
    assert_eq!(
        inspect(&format!("{}-web-1", p.name), "{{.State.Status}}"),
        "created",
        "web must not start"
    );
}

#[test]
fn scale_adds_lowest_numbers_removes_highest_and_up_restores_the_manifest() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("scale", &three_services());
    p.ok(&["up", "-d", "cache"]);
    p.ok(&["scale", "cache=5"]);
    let n = &p.name;
    let names = |v: &[&str]| v.iter().map(|s| format!("{n}-{s}")).collect::<Vec<_>>();
    assert_eq!(
        p.containers(),
        names(&["cache-1", "cache-2", "cache-3", "cache-4", "cache-5"])
    );
    let keep = p.id(&format!("{n}-cache-2"));
    p.ok(&["scale", "cache=2"]);
    assert_eq!(p.containers(), names(&["cache-1", "cache-2"]));
    assert_eq!(
        p.id(&format!("{n}-cache-2")),
        keep,
        "scaling down keeps the survivors"
    );
    p.ok(&["up", "-d", "cache"]);
    assert_eq!(p.containers(), names(&["cache-1"]));

    for bad in ["cache=abc", "nosuch=2", "cache"] {
        let out = p.run(&["scale", bad]);
        assert_eq!(out.status.code(), Some(2), "scale {bad}: {}", stderr(&out));
    }
    assert_eq!(
        p.containers(),
        names(&["cache-1"]),
        "refused requests change nothing"
    );
}

#[test]
fn scale_refuses_more_replicas_than_a_fixed_host_port_allows() {
    if !daemon_available() {
        return;
    }
    let port = free_port();
    let manifest = format!(
        "services:\n  web:\n    image: {IMG}\n    command: [sleep, infinity]\n    ports: [\"127.0.0.1:{port}:80\"]\n"
    );
    let p = TestProject::new("scaleport", &manifest);
    let out = p.run(&["scale", "web=2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("fixed host port {port}")),
        "{}",
        stderr(&out)
    );
    assert!(p.containers().is_empty());
}

#[test]
fn down_removes_only_this_project_and_keeps_volumes_unless_asked() {
    if !daemon_available() {
        return;
    }
    let manifest =
        format!("services:\n  app:\n{SLEEPS}    volumes: [data:/data]\nvolumes:\n  data:\n");
    let p = TestProject::new("down", &manifest);
    let other = TestProject::new("downother", &manifest);
    p.ok(&["up", "-d"]);
    other.ok(&["up", "-d"]);
    // An unlabelled container whose name looks like one of ours.
    let lookalike = format!("{}-app-1-lookalike", p.name);
    docker(&[
        "run", "-d", "--name", &lookalike, "--init", IMG, "sleep", "infinity",
    ]);

    p.ok(&["down"]);
    assert!(p.containers().is_empty());
    assert!(!docker_ok(&[
        "network",
        "inspect",
        &format!("{}_default", p.name)
    ]));
    assert!(
        docker_ok(&["volume", "inspect", &format!("{}_data", p.name)]),
        "volumes survive a plain down"
    );
    assert_eq!(other.containers().len(), 1, "another project is untouched");
    assert_eq!(
        inspect(&lookalike, "{{.State.Status}}"),
        "running",
        "an unlabelled container is untouched"
    );

    p.ok(&["up", "-d"]);
    p.ok(&["down", "-v"]);
    assert!(
        !docker_ok(&["volume", "inspect", &format!("{}_data", p.name)]),
        "down -v removes volumes"
    );
    docker(&["rm", "-f", &lookalike]);
}

#[test]
fn pull_from_the_local_registry_shows_progress_piped_and_plain() {
    if !local_daemon_available("it pulls from the registry on 127.0.0.1") {
        return;
    }
    let registry =
        std::env::var("STACKCTL_TEST_REGISTRY").unwrap_or_else(|_| "127.0.0.1:5000".into());
    if !docker_ok(&["info"]) || std::net::TcpStream::connect(&registry).is_err() {
        assert!(
            std::env::var("CI").is_err_and(|_| true)
                || std::env::var("CI").as_deref() != Ok("true"),
            "CI=true needs the test registry at {registry} (images/offline/seed.sh starts it)"
        );
        eprintln!("skipping: no registry at {registry}; run images/offline/seed.sh");
        return;
    }
    let image = format!("{registry}/stackctl-test/pulled:{}", std::process::id());
    assert!(docker_ok(&["tag", IMG, &image]));
    assert!(
        docker_ok(&["push", "-q", &image]),
        "push to the test registry"
    );
    assert!(docker_ok(&["rmi", &image]));
    let manifest = format!(
        "services:\n  app:\n    image: {image}\n    command: [sleep, infinity]\n    init: true\n"
    );
    let p = TestProject::new("pull", &manifest);
    let out = p.ok(&["pull"]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("Image {image}")) && err.contains("Pulled"),
        "{err}"
    );
    assert!(docker_ok(&["image", "inspect", &image]));
    // And through `up`, which pulls what is missing.
    assert!(docker_ok(&["rmi", &image]));
    let out = p.ok(&["up", "-d"]);
    assert!(stderr(&out).contains("Pulled"));
    assert_eq!(p.containers().len(), 1);
    // A refreshing policy pulls again only once the local copy is older than it allows.
    assert!(docker_ok(&["tag", IMG, &image]), "tagged just now");
    p.write(&manifest.replace(
        "    init: true\n",
        "    init: true\n    pull_policy: every_1h\n",
    ));
    let out = p.ok(&["up", "-d"]);
    assert!(!stderr(&out).contains("Pull"), "{}", stderr(&out));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    p.write(&manifest.replace(
        "    init: true\n",
        "    init: true\n    pull_policy: every_1s\n",
    ));
    let out = p.ok(&["up", "-d"]);
    assert!(stderr(&out).contains("Pulled"), "{}", stderr(&out));
    p.ok(&["down"]);
    docker(&["rmi", "-f", &image]);
}

#[test]
fn an_interrupted_up_converges_on_the_next_up() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("sigint", &three_services());
    // Interrupt at a different moment each round: before, during and after creation.
    for delay_ms in [50u64, 250, 600] {
        let mut child = p
            .cmd(&["up", "-d"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        unsafe_sigint(child.id());
        let status = child.wait().unwrap();
        // Ended by the signal itself: it came before stackctl listened for it (a busy machine
        // takes more than 50 ms to load and connect), when nothing had been changed yet.
        use std::os::unix::process::ExitStatusExt;
        assert!(
            matches!(status.code(), Some(0) | Some(130)) || status.signal() == Some(2),
            "exit {status:?}"
        );
        p.ok(&["up", "-d"]);
        let n = &p.name;
        let expected: Vec<String> = ["api-1", "api-2", "api-3", "cache-1", "db-1", "db-2"]
            .iter()
            .map(|s| format!("{n}-{s}"))
            .collect();
        assert_eq!(p.containers(), expected);
        for c in p.containers() {
            assert_eq!(inspect(&c, "{{.State.Status}}"), "running", "{c}");
        }
        p.ok(&["down", "-t", "1"]);
    }
}

fn unsafe_sigint(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
}

#[test]
fn an_unreachable_daemon_is_one_clear_line_within_two_seconds() {
    let p = TestProject::new("nodaemon", &three_services());
    let t = Instant::now();
    let out = p
        .cmd(&["ps"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("unix:///nonexistent/docker.sock") && err.contains("DOCKER_HOST"),
        "{err}"
    );
}

#[test]
fn a_bad_manifest_is_refused_before_any_api_call() {
    // With no daemon reachable, exit 2 proves that validation ran first.
    let p = TestProject::new(
        "badfirst",
        "services:\n  web:\n    image: x\n    depends_on: [nope]\n",
    );
    let out = p
        .cmd(&["up", "-d"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("`nope`, which is not defined"));
}

#[test]
fn the_examples_run_as_documented() {
    if !daemon_available() {
        return;
    }
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    // Each example, under a project name of its own.
    let run = |file: &str, project: &str, args: &[&str]| {
        std::process::Command::new(stackctl_path())
            .arg("-f")
            .arg(root.join(file))
            .args(["-p", project, "--progress", "plain"])
            .args(args)
            .output()
            .unwrap()
    };
    let pid = std::process::id();
    let chain = format!("sct-ex-chain-{pid}");
    let out = run("healthcheck-chain.yml", &chain, &["up", "-d", "--wait"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let started = |c: &str| inspect(c, "{{.State.StartedAt}}");
    assert!(started(&format!("{chain}-api-1")) > started(&format!("{chain}-database-1")));
    assert!(started(&format!("{chain}-frontend-1")) > started(&format!("{chain}-api-1")));
    run("healthcheck-chain.yml", &chain, &["down", "-t", "1"]);

    let job = format!("sct-ex-job-{pid}");
    let out = run("init-job.yml", &job, &["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        inspect(&format!("{job}-migrate-1"), "{{.State.ExitCode}}"),
        "0"
    );
    let t = Instant::now();
    let logs = loop {
        let l = stdout(&run(
            "init-job.yml",
            &job,
            &["logs", "--no-log-prefix", "app"],
        ));
        if l.contains("schema") || t.elapsed() > Duration::from_secs(10) {
            break l;
        }
    };
    assert_eq!(logs, "schema v2 applied\n");
    run("init-job.yml", &job, &["down", "-v", "-t", "1"]);

    let range = format!("sct-ex-range-{pid}");
    let out = run("port-range.yml", &range, &["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&run(
            "port-range.yml",
            &range,
            &["port", "--index", "3", "web", "80"]
        ))
        .trim(),
        "127.0.0.1:8103"
    );
    run("port-range.yml", &range, &["down", "-t", "1"]);
}

#[test]
fn attached_up_shows_output_and_stops_the_stack_on_ctrl_c() {
    if !daemon_available() {
        return;
    }
    let manifest = format!(
        "services:\n  talker:\n    image: {IMG}\n    command: [sh, -c, 'echo hello from talker; exec sleep infinity']\n    init: true\n    restart: always\n"
    );
    let p = TestProject::new("attached", &manifest);
    let mut child = p
        .cmd(&["up"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    // Read until the container's first line arrives (it is attached before anything is missed).
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        seen
    });
    let c = format!("{}-talker-1", p.name);
    let t = Instant::now();
    while inspect(&c, "{{.State.Status}}") != "running" && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(1500));
    unsafe_sigint(child.id());
    let status = child.wait().unwrap();
    let seen = reader.join().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(seen.contains("talker-1  | hello from talker"), "{seen}");
    assert_eq!(
        inspect(&c, "{{.State.Status}}"),
        "exited",
        "the first Ctrl-C stops the stack"
    );
    assert_eq!(p.containers(), vec![c], "stopped, not removed");
}

/// The keys compose passes straight to the container (HostConfig and Config).
fn host_settings(port_start: u32) -> String {
    format!(
        r#"
services:
  box:
    image: {IMG}
    command: ["sleep", "infinity"]
    init: true
    tty: true
    stdin_open: true
    extra_hosts: ["db.internal:10.1.2.3", "other=10.9.9.9"]
    dns: 10.0.0.53
    dns_search: [example.internal]
    dns_opt: ["ndots:2"]
    mem_limit: 64m
    mem_reservation: 32m
    shm_size: 128m
    pids_limit: 100
    sysctls: {{ net.ipv4.ip_unprivileged_port_start: {port_start} }}
    ulimits: {{ nofile: {{ soft: 1024, hard: 2048 }}, nproc: 512 }}
    security_opt: ["no-new-privileges:true"]
    group_add: ["1234"]
    domainname: example.internal
    ipc: shareable
    oom_score_adj: 100
    devices: ["/dev/null:/dev/nulldev"]
    cpus: 0.5
    cpu_shares: 512
    cpuset: "0"
    memswap_limit: 128m
    cgroup: private
    device_cgroup_rules: ["c 1:3 rmw"]
"#
    )
}

#[test]
fn container_settings_written_in_the_manifest_reach_the_container() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("hostcfg", &host_settings(0));
    p.ok(&["up", "-d"]);
    let c = format!("{}-box-1", p.name);
    let json = |path: &str| inspect(&c, &format!("{{{{json {path}}}}}"));
    assert_eq!(json(".Config.Tty"), "true");
    assert_eq!(json(".Config.OpenStdin"), "true");
    assert_eq!(json(".Config.Domainname"), "\"example.internal\"");
    assert_eq!(
        json(".HostConfig.ExtraHosts"),
        r#"["db.internal:10.1.2.3","other:10.9.9.9"]"#
    );
    assert_eq!(json(".HostConfig.Dns"), r#"["10.0.0.53"]"#);
    assert_eq!(json(".HostConfig.DnsSearch"), r#"["example.internal"]"#);
    assert_eq!(json(".HostConfig.DnsOptions"), r#"["ndots:2"]"#);
    assert_eq!(json(".HostConfig.Memory"), (64 * 1024 * 1024).to_string());
    assert_eq!(
        json(".HostConfig.MemoryReservation"),
        (32 * 1024 * 1024).to_string()
    );
    assert_eq!(json(".HostConfig.ShmSize"), (128 * 1024 * 1024).to_string());
    assert_eq!(json(".HostConfig.PidsLimit"), "100");
    assert_eq!(
        json(".HostConfig.SecurityOpt"),
        r#"["no-new-privileges:true"]"#
    );
    assert_eq!(json(".HostConfig.GroupAdd"), r#"["1234"]"#);
    assert_eq!(json(".HostConfig.IpcMode"), "\"shareable\"");
    assert_eq!(json(".HostConfig.OomScoreAdj"), "100");
    assert_eq!(json(".HostConfig.NanoCpus"), "500000000");
    assert_eq!(json(".HostConfig.CpuShares"), "512");
    assert_eq!(json(".HostConfig.CpusetCpus"), "\"0\"");
    assert_eq!(
        json(".HostConfig.MemorySwap"),
        (128 * 1024 * 1024).to_string()
    );
    assert_eq!(json(".HostConfig.CgroupnsMode"), "\"private\"");
    assert_eq!(json(".HostConfig.DeviceCgroupRules"), r#"["c 1:3 rmw"]"#);
    // And inside: what the kernel and the files say.
    let sh = |cmd: &str| stdout(&p.ok(&["exec", "-T", "box", "sh", "-c", cmd]));
    assert!(sh("cat /etc/hosts").contains("10.1.2.3\tdb.internal"));
    // What an exec'd process gets is the daemon's choice; the container's own limits are ours.
    assert_eq!(
        json(".HostConfig.Ulimits"),
        r#"[{"Name":"nofile","Hard":2048,"Soft":1024},{"Name":"nproc","Hard":512,"Soft":512}]"#
    );
    let limits = sh("cat /proc/1/limits");
    let limit = |name: &str| {
        limits
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| {
                l.split_whitespace()
                    .rev()
                    .skip(1)
                    .take(2)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(limit("Max open files"), ["2048", "1024"], "{limits}");
    assert_eq!(limit("Max processes"), ["512", "512"], "{limits}");
    assert_eq!(
        sh("cat /proc/sys/net/ipv4/ip_unprivileged_port_start"),
        "0\n"
    );
    assert!(sh("test -c /dev/nulldev && echo device").contains("device"));
    assert_eq!(sh("id -G").split_whitespace().last(), Some("1234"));

    // A changed setting recreates the container; config prints the normalised form.
    let before = p.id(&c);
    p.write(&host_settings(80));
    p.ok(&["up", "-d"]);
    assert_ne!(p.id(&c), before, "a changed sysctl recreates");
    let config = stdout(&p.ok(&["config"]));
    assert!(config.contains("- other:10.9.9.9"), "{config}");
    assert!(config.contains("soft: 1024"), "{config}");
}

#[test]
fn network_mode_host_and_none_join_no_project_network() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "netmode",
        &format!(
            "services:\n  onhost:\n{SLEEPS}    network_mode: host\n  isolated:\n{SLEEPS}    network_mode: none\n"
        ),
    );
    p.ok(&["up", "-d"]);
    for (svc, mode) in [("onhost", "host"), ("isolated", "none")] {
        let c = format!("{}-{svc}-1", p.name);
        assert_eq!(inspect(&c, "{{.HostConfig.NetworkMode}}"), mode);
        assert_eq!(
            inspect(
                &c,
                "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}"
            )
            .trim(),
            mode
        );
    }
    let label = format!("label=com.docker.compose.project={}", p.name);
    assert_eq!(
        docker(&["network", "ls", "-q", "--filter", &label]),
        "",
        "no service uses the default network, so none is made"
    );
    // The host's interfaces are visible from the host-networked container only.
    let ifaces = |svc: &str| stdout(&p.ok(&["exec", "-T", svc, "cat", "/proc/net/dev"]));
    assert!(ifaces("onhost").lines().count() > ifaces("isolated").lines().count());
}

#[test]
fn platform_reaches_the_engine_and_develop_is_kept_for_watch() {
    if !daemon_available() {
        return;
    }
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let other = if arch == "amd64" { "arm64" } else { "amd64" };
    let manifest = |platform: &str| {
        format!(
            "services:\n  box:\n{SLEEPS}    platform: linux/{platform}\n    develop:\n      watch:\n        - {{action: sync, path: ./src, target: /src}}\n"
        )
    };
    let p = TestProject::new("platform", &manifest(other));
    let out = p.run(&["up", "-d", "--pull", "never"]);
    assert!(
        !out.status.success(),
        "an image of another platform is refused"
    );
    assert!(stderr(&out).contains("platform"), "{}", stderr(&out));

    p.write(&manifest(arch));
    let out = p.ok(&["up", "-d"]);
    assert!(!stderr(&out).contains("develop"), "{}", stderr(&out));
    assert_eq!(
        inspect(&format!("{}-box-1", p.name), "{{.State.Status}}"),
        "running"
    );
    let config = stdout(&p.ok(&["config"]));
    assert!(
        config.contains("develop:") && config.contains("action: sync"),
        "{config}"
    );
}

#[test]
fn configs_are_mounted_read_only_where_the_service_wants_them() {
    if !local_daemon_available("it bind-mounts files of this machine") {
        return;
    }
    let p = TestProject::new(
        "configs",
        &format!(
            "services:\n  box:\n{SLEEPS}    configs:\n      - app_conf\n      - source: app_conf\n        target: /etc/app/app.conf\nconfigs:\n  app_conf:\n    file: ./app.conf\n"
        ),
    );
    std::fs::write(p.path().join("app.conf"), "level = debug\n").unwrap();
    p.ok(&["up", "-d"]);
    let sh = |cmd: &str| p.run(&["exec", "-T", "box", "sh", "-c", cmd]);
    assert_eq!(
        stdout(&sh("cat /app_conf /etc/app/app.conf")),
        "level = debug\nlevel = debug\n"
    );
    assert!(
        !sh("echo x > /etc/app/app.conf").status.success(),
        "read-only"
    );
}

#[test]
fn external_links_name_a_container_outside_the_project() {
    if !daemon_available() {
        return;
    }
    let plain = format!("services:\n  app:\n{SLEEPS}");
    let p = TestProject::new("extlinks", &plain);
    p.ok(&["up", "-d"]);
    // A container of nobody's project on the project's network.
    let outsider = format!("{}-outsider", p.name);
    struct Remove(String);
    impl Drop for Remove {
        fn drop(&mut self) {
            docker(&["rm", "-f", &self.0]);
        }
    }
    let _gone = Remove(outsider.clone());
    assert!(docker_ok(&[
        "run",
        "-d",
        "--init",
        "--name",
        &outsider,
        "--network",
        &format!("{}_default", p.name),
        IMG,
        "sleep",
        "infinity",
    ]));
    p.write(&format!(
        "{plain}    external_links: [\"{outsider}:legacydb\"]\n"
    ));
    p.ok(&["up", "-d"]);
    let c = format!("{}-app-1", p.name);
    let endpoint_links = format!(
        "{{{{json (index .NetworkSettings.Networks \"{}_default\").Links}}}}",
        p.name
    );
    assert!(inspect(&c, &endpoint_links).contains("legacydb"));
    let out = p.ok(&["exec", "-T", "app", "getent", "hosts", "legacydb"]);
    assert!(!stdout(&out).trim().is_empty(), "the alias resolves");
    // Not ours, so down leaves it alone.
    p.ok(&["down"]);
    assert!(
        docker_ok(&["inspect", &outsider]),
        "down does not touch a container without the project's labels"
    );
}

#[test]
fn service_network_mode_and_volumes_from_share_another_services_container() {
    if !daemon_available() {
        return;
    }
    let sharing = |db_env: &str| {
        format!(
            "services:\n  db:\n{SLEEPS}    environment: {{ VERSION: {db_env} }}\n    volumes: [data:/data]\n  sidecar:\n{SLEEPS}    network_mode: \"service:db\"\n  reader:\n{SLEEPS}    volumes_from: [\"db:ro\"]\nvolumes:\n  data: {{}}\n"
        )
    };
    let p = TestProject::new("sharing", &sharing("one"));
    // Naming only the sharers brings db up first: the references are dependencies.
    p.ok(&["up", "-d", "sidecar", "reader"]);
    let sh = |svc: &str, cmd: &str| p.run(&["exec", "-T", svc, "sh", "-c", cmd]);
    let mac = |svc: &str| stdout(&sh(svc, "cat /sys/class/net/eth0/address"));
    assert_eq!(mac("sidecar"), mac("db"), "one network namespace");
    assert!(sh("db", "echo shared > /data/file").status.success());
    assert_eq!(stdout(&sh("reader", "cat /data/file")), "shared\n");
    assert!(
        !sh("reader", "echo x > /data/other").status.success(),
        "mounted read-only"
    );
    // A second up changes nothing, and the reference to an unknown service is refused.
    let before = p.containers().iter().map(|c| p.id(c)).collect::<Vec<_>>();
    p.ok(&["up", "-d"]);
    assert_eq!(
        p.containers().iter().map(|c| p.id(c)).collect::<Vec<_>>(),
        before
    );
    // db made anew takes its sharers along: they would keep the old container's namespace.
    p.write(&sharing("two"));
    p.ok(&["up", "-d"]);
    let after = p.containers().iter().map(|c| p.id(c)).collect::<Vec<_>>();
    assert!(
        before.iter().zip(&after).all(|(b, a)| b != a),
        "all three recreated"
    );
    assert_eq!(mac("sidecar"), mac("db"), "the sidecar follows the new db");
    let bad = TestProject::new(
        "sharing-bad",
        &format!(
            "services:\n  a:\n    image: {IMG}\n    volumes_from: [dbb]\n  db:\n    image: {IMG}\n"
        ),
    );
    let out = bad.run(&["config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("service `dbb` is not defined")
            && stderr(&out).contains("did you mean `db`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ipc_service_shares_the_first_container_of_that_service() {
    if !daemon_available() {
        return;
    }
    let manifest = format!(
        "services:\n  shm:\n{SLEEPS}    ipc: shareable\n  user:\n{SLEEPS}    ipc: service:shm\n"
    );
    let p = TestProject::new("ipcsvc", &manifest);
    p.ok(&["up", "-d"]);
    let shm = format!("{}-shm-1", p.name);
    assert_eq!(
        inspect(&format!("{}-user-1", p.name), "{{.HostConfig.IpcMode}}"),
        format!("container:{}", p.id(&shm)),
        "the daemon names the shared container by ID"
    );
    // The one /dev/shm: a file written in one is seen in the other.
    p.ok(&[
        "exec",
        "-T",
        "shm",
        "sh",
        "-c",
        "echo shared > /dev/shm/probe",
    ]);
    let seen = stdout(&p.ok(&["exec", "-T", "user", "cat", "/dev/shm/probe"]));
    assert_eq!(seen.trim(), "shared");
}

#[test]
fn post_start_and_pre_stop_hooks_run_in_each_container() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "hooks",
        &format!(
            "services:\n  app:\n{SLEEPS}    scale: 2\n    volumes: [marks:/marks]\n    post_start:\n      - command: [sh, -c, \"echo started-$$HOSTNAME-$$WHO > /marks/$$HOSTNAME.start\"]\n        environment: {{WHO: hook}}\n    pre_stop:\n      - command: [sh, -c, \"echo stopping > /marks/$$HOSTNAME.stop\"]\n        user: root\nvolumes:\n  marks: {{}}\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let name = |n: u32| format!("{}-app-{n}", p.name);
    for n in [1, 2] {
        let host = inspect(&name(n), "{{.Config.Hostname}}");
        assert_eq!(
            docker(&["exec", &name(n), "cat", &format!("/marks/{host}.start")]),
            format!("started-{host}-hook"),
            "post_start ran in replica {n} with its environment"
        );
    }
    let hosts: Vec<String> = [1, 2]
        .iter()
        .map(|n| inspect(&name(*n), "{{.Config.Hostname}}"))
        .collect();
    // down keeps the volume: the pre_stop marks are read from it afterwards.
    p.ok(&["down", "-t", "1"]);
    let volume = format!("{}_marks", p.name);
    let marks = docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{volume}:/marks"),
        IMG,
        "sh",
        "-c",
        "cat /marks/*.stop | wc -l",
    ]);
    docker(&["volume", "rm", &volume]);
    assert_eq!(
        marks, "2",
        "pre_stop ran in both replicas before they stopped ({hosts:?})"
    );

    // A failing post_start fails `up`, naming the hook and what it said.
    p.write(&format!(
        "services:\n  app:\n{SLEEPS}    post_start:\n      - command: [sh, -c, \"echo no-config-here >&2; exit 3\"]\n"
    ));
    let out = p.run(&["up", "-d"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the post_start hook `sh -c echo no-config-here >&2; exit 3`")
            && err.contains("exited with code 3")
            && err.contains("| no-config-here"),
        "{err}"
    );
}

#[test]
fn ipam_and_fixed_addresses_reach_the_engine() {
    if !daemon_available() {
        return;
    }
    // A subnet of the test's own, unlikely to be taken; the address comes from the manifest.
    let octet = 100 + std::process::id() % 100;
    let p = TestProject::new(
        "ipam",
        &format!(
            "services:\n  app:\n{SLEEPS}    networks:\n      back:\n        priority: 10\n        ipv4_address: 10.213.{octet}.10\n        aliases: [api]\n      front: {{}}\nnetworks:\n  front: {{}}\n  back:\n    ipam:\n      config:\n        - subnet: 10.213.{octet}.0/24\n          gateway: 10.213.{octet}.1\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let c = format!("{}-app-1", p.name);
    let back = format!("{}_back", p.name);
    assert_eq!(
        inspect(
            &c,
            &format!("{{{{(index .NetworkSettings.Networks \"{back}\").IPAddress}}}}")
        ),
        format!("10.213.{octet}.10")
    );
    assert_eq!(
        docker(&[
            "network",
            "inspect",
            "-f",
            "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}",
            &back
        ]),
        format!("10.213.{octet}.0/24 10.213.{octet}.1")
    );
    // The config reads back with what was given, and an unknown endpoint key is refused.
    let config = String::from_utf8_lossy(&p.ok(&["config"]).stdout).into_owned();
    assert!(
        config.contains(&format!("ipv4_address: 10.213.{octet}.10")),
        "{config}"
    );
    p.write(&format!(
        "services:\n  app:\n    image: {IMG}\n    networks:\n      back:\n        ipv4_adress: 10.0.0.1\nnetworks:\n  back: {{}}\n"
    ));
    let out = p.run(&["config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ipv4_adress"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn service_healthy_uses_the_images_own_healthcheck_its_timings_overridable_and_says_when_there_is_none()
 {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("imghc", "services: {}\n");
    let image = format!("{}-db", p.name);
    std::fs::create_dir(p.path().join("db")).unwrap();
    std::fs::write(
        p.path().join("db/Dockerfile"),
        format!("FROM {IMG}\nHEALTHCHECK --interval=1s CMD test -e /tmp/ready\nCMD [\"sh\", \"-c\", \"sleep 2; touch /tmp/ready; exec sleep infinity\"]\n"),
    )
    .unwrap();
    let manifest = |db: &str| {
        format!(
            "services:\n  app:\n{SLEEPS}    depends_on:\n      db: {{condition: service_healthy}}\n  db:\n{db}"
        )
    };
    // The manifest has no healthcheck for db; its image has: `up` waits for it to be healthy.
    p.write(&manifest("    build: ./db\n    init: true\n"));
    p.ok(&["up", "-d"]);
    assert_eq!(
        inspect(&format!("{}-db-1", p.name), "{{.State.Health.Status}}"),
        "healthy",
        "app started only once db's image healthcheck passed"
    );
    p.ok(&["down", "-t", "1"]);
    // A healthcheck with timings and no test keeps the image's test with those timings.
    p.write(&manifest(
        "    build: ./db\n    init: true\n    healthcheck: {interval: 2s, retries: 7}\n",
    ));
    p.ok(&["up", "-d"]);
    let db = format!("{}-db-1", p.name);
    assert_eq!(inspect(&db, "{{.State.Health.Status}}"), "healthy");
    assert_eq!(
        inspect(&db, "{{json .Config.Healthcheck.Test}}"),
        r#"["CMD-SHELL","test -e /tmp/ready"]"#
    );
    assert_eq!(
        inspect(
            &db,
            "{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}"
        ),
        "2s 7"
    );
    p.ok(&["down", "-t", "1"]);
    docker(&["rmi", "-f", &image]);
    // Neither the manifest nor the image has one: `up` says so instead of waiting forever.
    p.write(&manifest(SLEEPS));
    let out = p.run(&["up", "-d"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("neither the manifest nor the image of")
            && err.contains("condition: service_started"),
        "{err}"
    );
}

#[test]
fn a_gpu_request_reaches_the_engine() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "gpus",
        &format!(
            "services:\n  app:\n    image: {IMG}\n    command: [sleep, infinity]\n    gpus: all\n"
        ),
    );
    let c = format!("{}-app-1", p.name);
    let out = p.run(&["up", "-d"]);
    let err = String::from_utf8_lossy(&out.stderr);
    // This machine has no GPU: the engine, having been asked for one, says it cannot give it.
    if out.status.success() {
        eprintln!("this machine gave a GPU: the request was honoured");
    } else {
        assert!(err.contains("could not select device driver"), "{err}");
    }
    let requests: serde_json::Value =
        serde_json::from_str(&inspect(&c, "{{json .HostConfig.DeviceRequests}}")).unwrap();
    assert_eq!(requests[0]["Count"], -1, "{requests}");
    assert_eq!(
        requests[0]["Capabilities"],
        serde_json::json!([["gpu"]]),
        "{requests}"
    );
}

#[test]
fn mac_address_is_set_where_the_engine_takes_it_and_refused_where_it_cannot() {
    if !daemon_available() {
        return;
    }
    let mac = "02:42:ac:11:99:42";
    let p = TestProject::new(
        "mac",
        &format!("services:\n  app:\n{SLEEPS}    mac_address: \"{mac}\"\n"),
    );
    let api = docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    let newer = api
        .split_once('.')
        .and_then(|(_, minor)| minor.parse::<u32>().ok())
        .is_some_and(|m| m >= 44);
    let out = p.run(&["up", "-d"]);
    let err = String::from_utf8_lossy(&out.stderr);
    if newer {
        assert!(out.status.success(), "{err}");
        assert_eq!(
            inspect(
                &format!("{}-app-1", p.name),
                "{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}"
            ),
            mac
        );
    } else {
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("sets mac_address") && err.contains("Engine 25"),
            "{err}"
        );
        assert!(p.containers().is_empty(), "nothing was created");
        assert_eq!(
            docker(&[
                "network",
                "ls",
                "-q",
                "--filter",
                &format!("name={}_default", p.name)
            ]),
            ""
        );
    }
}

#[test]
fn blkio_settings_reach_the_created_container() {
    if !local_daemon_available("blkio throttles name a block device of this machine") {
        return;
    }
    // A throttle needs a block device the kernel knows; this machine's first disk.
    let Some(disk) = std::fs::read_dir("/sys/block")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("loop") && !n.starts_with("ram"))
        .map(|n| format!("/dev/{n}"))
        .find(|d| std::path::Path::new(d).exists())
    else {
        return;
    };
    let p = TestProject::new(
        "blkio",
        &format!(
            "services:\n  app:\n{SLEEPS}    blkio_config:\n      weight: 300\n      device_read_bps: [{{path: {disk}, rate: 12mb}}]\n      device_write_iops: [{{path: {disk}, rate: 120}}]\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let c = format!("{}-app-1", p.name);
    let host = |f: &str| inspect(&c, &format!("{{{{json .HostConfig.{f}}}}}"));
    assert_eq!(
        host("BlkioDeviceReadBps"),
        format!(r#"[{{"Path":"{disk}","Rate":12582912}}]"#)
    );
    assert_eq!(
        host("BlkioDeviceWriteIOps"),
        format!(r#"[{{"Path":"{disk}","Rate":120}}]"#)
    );
    p.ok(&["down"]);
}

#[test]
fn annotations_reach_the_container_where_the_engine_takes_them() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "annot",
        &format!("services:\n  app:\n{SLEEPS}    annotations:\n      com.example.team: payments\n"),
    );
    let api = docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    let newer = api
        .split_once('.')
        .and_then(|(_, minor)| minor.parse::<u32>().ok())
        .is_some_and(|m| m >= 43);
    let out = p.run(&["up", "-d"]);
    if newer {
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            inspect(
                &format!("{}-app-1", p.name),
                "{{index .HostConfig.Annotations \"com.example.team\"}}"
            ),
            "payments"
        );
    } else {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("sets annotations") && stderr(&out).contains("Engine 24"),
            "{}",
            stderr(&out)
        );
        assert!(p.containers().is_empty());
    }
}

#[test]
fn orphans_are_named_kept_quiet_or_removed_as_compose_settings_ask() {
    if !daemon_available() {
        return;
    }
    let svc = |name: &str| format!("  {name}:\n{SLEEPS}");
    let p = TestProject::new("orphans", &format!("services:\n{}{}", svc("a"), svc("b")));
    p.ok(&["up", "-d"]);
    p.write(&format!("services:\n{}", svc("a")));
    let out = p.ok(&["up", "-d"]);
    assert!(
        stderr(&out).contains("no longer in the manifest") && stderr(&out).contains("-b-1"),
        "{}",
        stderr(&out)
    );
    let quiet = p
        .cmd(&["up", "-d"])
        .env("COMPOSE_IGNORE_ORPHANS", "true")
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(
        !stderr(&quiet).contains("no longer in the manifest"),
        "{}",
        stderr(&quiet)
    );
    assert_eq!(p.containers().len(), 2, "kept");
    let removed = p
        .cmd(&["up", "-d"])
        .env("COMPOSE_REMOVE_ORPHANS", "1")
        .output()
        .unwrap();
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(p.containers(), [format!("{}-a-1", p.name)]);
    p.ok(&["down"]);
}

#[test]
fn pre_start_hooks_run_to_completion_before_the_service_and_a_failing_one_is_kept_until_down() {
    if !daemon_available() {
        return;
    }
    // The hook writes into the service's volume; the service starts only after it, and sees it.
    let manifest = |code: u8| {
        format!(
            "services:\n  app:\n    image: {IMG}\n    command: [sh, -c, \"cat /data/ready; exec sleep infinity\"]\n    init: true\n    volumes: [data:/data]\n    environment: {{FROM_SERVICE: svc}}\n    pre_start:\n      - command: [sh, -c, \"echo $$FROM_SERVICE-$$FROM_HOOK > /data/ready; exit {code}\"]\n        environment: {{FROM_HOOK: hook}}\nvolumes:\n  data: {{}}\n"
        )
    };
    let p = TestProject::new("prestart", &manifest(0));
    let from = docker(&["info", "--format", "{{json .SystemTime}}"]);
    p.ok(&["up", "-d"]);
    let app = format!("{}-app-1", p.name);
    // In the daemon's events: the hook's container died before the service's started.
    let until = docker(&["info", "--format", "{{json .SystemTime}}"]);
    let events = docker(&[
        "events",
        "--since",
        from.trim_matches('"'),
        "--until",
        until.trim_matches('"'),
        "--filter",
        &format!("label=com.docker.compose.project={}", p.name),
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    let at = |line: &str| events.lines().position(|l| l == line);
    let hook_died = events
        .lines()
        .position(|l| l.starts_with("die ") && !l.ends_with(&app));
    let app_started = at(&format!("start {app}"));
    assert!(
        hook_died.is_some() && app_started.is_some() && hook_died < app_started,
        "the hook ends before the service starts:\n{events}"
    );
    assert_eq!(
        docker(&["exec", &app, "cat", "/data/ready"]),
        "svc-hook",
        "the hook ran with the service's environment and its own"
    );
    assert_eq!(
        p.containers(),
        std::slice::from_ref(&app),
        "a successful hook's container is gone"
    );
    // The hook's container finished before the service's started.
    let hook_done = |logs: &str| logs.contains("svc-hook");
    assert!(
        hook_done(&docker(&["logs", &app])),
        "the service read what the hook wrote"
    );
    p.ok(&["down", "-t", "1"]);
    // A failing hook: up fails naming it and its code, the service is not started, the hook's
    // container is kept (labelled), and down removes it.
    p.write(&manifest(3));
    let out = p.run(&["up", "-d"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("pre_start hook") && err.contains("exited with code 3"),
        "{err}"
    );
    assert_eq!(
        inspect(&app, "{{.State.Status}}"),
        "created",
        "the service did not start"
    );
    let hook = format!("{}-app-pre_start-1", p.name);
    assert_eq!(
        inspect(
            &hook,
            "{{index .Config.Labels \"com.docker.compose.hook\"}}"
        ),
        "pre_start"
    );
    assert_eq!(inspect(&hook, "{{.State.ExitCode}}"), "3");
    p.ok(&["down", "-t", "1"]);
    assert!(p.containers().is_empty(), "{:?}", p.containers());
}

#[test]
fn use_api_socket_lends_the_daemon_and_the_credentials_and_is_refused_where_it_cannot() {
    if !local_daemon_available("use_api_socket lends this machine's daemon socket") {
        return;
    }
    // perl-base is in the slim image: a /_ping through the socket, then the lent credentials.
    // (`alarm`: the daemon may keep the connection open after its answer.)
    let ping = "perl -MIO::Socket::UNIX -e 'alarm 3; $$s=IO::Socket::UNIX->new(Peer=>q(/var/run/docker.sock)) or die; print $$s qq(GET /_ping HTTP/1.0\\r\\nConnection: close\\r\\n\\r\\n); print while <$$s>'";
    let p = TestProject::new(
        "apisocket",
        &format!(
            "services:\n  tool:\n    image: {IMG}\n    command: [sh, -c, \"{ping}; echo; cat $$DOCKER_CONFIG/config.json; echo; exec sleep infinity\"]\n    init: true\n    use_api_socket: true\n"
        ),
    );
    // Where the daemon's socket is not on this machine, or on Swarm: refused before anything.
    let remote = p
        .cmd(&["-H", "tcp://127.0.0.1:9", "up", "-d"])
        .output()
        .unwrap();
    assert_eq!(remote.status.code(), Some(2), "{}", stderr(&remote));
    assert!(
        stderr(&remote).contains("use_api_socket"),
        "{}",
        stderr(&remote)
    );
    let swarm = p.run(&["--target", "swarm", "up", "-d"]);
    assert_eq!(swarm.status.code(), Some(2), "{}", stderr(&swarm));
    p.ok(&["up", "-d"]);
    let tool = format!("{}-tool-1", p.name);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut logs = String::new();
    while !logs.contains("auths") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        logs = docker(&["logs", &tool]);
    }
    assert!(
        logs.contains("HTTP/1.0 200 OK") || logs.contains("OK"),
        "{logs}"
    );
    assert!(logs.contains("\"auths\""), "{logs}");
    assert!(inspect(&tool, "{{.Config.Env}}").contains("DOCKER_CONFIG=/run/secrets/docker"));
}

/// `depends_on: {db: {restart: true}}`: when `up` recreates db, the dependent's kept container is
/// restarted (same container, started again); one that depends without `restart` is left alone.
#[test]
fn recreating_a_dependency_restarts_the_dependents_that_ask_for_it() {
    if !daemon_available() {
        return;
    }
    let manifest = |version: &str| {
        format!(
            "services:\n  db:\n{SLEEPS}    environment: {{V: '{version}'}}\n  app:\n{SLEEPS}    depends_on:\n      db: {{condition: service_started, restart: true}}\n  other:\n{SLEEPS}    depends_on: [db]\n"
        )
    };
    let p = TestProject::new("deprestart", &manifest("1"));
    p.ok(&["up", "-d"]);
    let app = format!("{}-app-1", p.name);
    let other = format!("{}-other-1", p.name);
    let state = |c: &str| inspect(c, "{{.Id}} {{.State.StartedAt}}");
    let (app_before, other_before) = (state(&app), state(&other));
    // Nothing changed: nothing restarts.
    p.ok(&["up", "-d"]);
    assert_eq!(state(&app), app_before);
    p.write(&manifest("2"));
    let out = p.ok(&["up", "-d"]);
    let (app_after, other_after) = (state(&app), state(&other));
    let id = |s: &str| s.split(' ').next().unwrap_or_default().to_owned();
    assert_eq!(
        id(&app_after),
        id(&app_before),
        "app is kept, not recreated"
    );
    assert_ne!(
        app_after,
        app_before,
        "app was started again:\n{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&format!("Container {app}")),
        "{}",
        stderr(&out)
    );
    assert_eq!(other_after, other_before, "other asked for no restart");
}
