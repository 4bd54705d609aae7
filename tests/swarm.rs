//! The Swarm backend against a single-node swarm on the local daemon (initialised here when needed,
//! and left again afterwards): the shipped stack with its swarm override, scale, logs, convergence,
//! down, and the up-front refusal of VIP/mesh stacks on kernels without IPVS.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const REGISTRY: &str = "127.0.0.1:5000";

/// The tests share the daemon's one swarm: they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Leaves the swarm on drop if this test created it.
struct SwarmGuard(bool, #[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

impl SwarmGuard {
    fn ensure() -> Self {
        let lock = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let state = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
        if state == "active" {
            return SwarmGuard(false, lock);
        }
        assert!(
            docker_ok(&["swarm", "init", "--advertise-addr", "127.0.0.1"]),
            "docker swarm init failed"
        );
        SwarmGuard(true, lock)
    }
}

impl Drop for SwarmGuard {
    fn drop(&mut self) {
        if self.0 {
            docker(&["swarm", "leave", "--force"]);
        }
    }
}

fn stackctl(files: &[PathBuf], project: &str, port: u16, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(stackctl_path());
    for f in files {
        c.arg("-f").arg(f);
    }
    c.args([
        "-p",
        project,
        "--target",
        "swarm",
        "--registry",
        REGISTRY,
        "--progress",
        "plain",
    ])
    .args(args)
    .env("HTTP_PORT", port.to_string());
    c.output().expect("run stackctl")
}

fn services(project: &str) -> Vec<String> {
    let mut v: Vec<String> = docker(&[
        "service",
        "ls",
        "--filter",
        &format!("label=com.docker.stack.namespace={project}"),
        "--format",
        "{{.Name}}",
    ])
    .lines()
    .map(str::to_owned)
    .filter(|s| !s.is_empty())
    .collect();
    v.sort();
    v
}

fn registry_up() -> bool {
    std::net::TcpStream::connect(REGISTRY).is_ok()
}

#[test]
fn the_stack_runs_on_swarm_scales_streams_logs_converges_and_goes() {
    if !daemon_available() {
        return;
    }
    if !registry_up() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true needs the registry at {REGISTRY} (images/offline/seed.sh)"
        );
        eprintln!("skipping: no registry at {REGISTRY}");
        return;
    }
    let _swarm = SwarmGuard::ensure();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files = vec![
        root.join("stack/stack.yml"),
        root.join("stack/stack.swarm.yml"),
    ];
    let project = format!("sctsw{}", std::process::id());
    let port = free_port();
    let run = |args: &[&str]| stackctl(&files, &project, port, args);
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "stackctl {args:?}:\n{}", stderr(&out));
        out
    };
    struct Down<'a>(&'a dyn Fn(&[&str]) -> std::process::Output);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = (self.0)(&["down"]);
        }
    }
    let _down = Down(&run);

    ok(&["up"]);
    assert_eq!(services(&project).len(), 4);
    let t = Instant::now();
    let first = loop {
        match http_get(port, "/") {
            Ok(r) if r.status == 200 => break r,
            _ if t.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(300))
            }
            other => panic!(
                "no answer from nginx on swarm: {:?}",
                other.map(|r| r.status)
            ),
        }
    };
    assert!(
        first
            .body
            .starts_with("Hello Linode!  This page has been viewed "),
        "{}",
        first.body
    );

    // Scale: five running tasks, and nginx reaches all five.
    ok(&["scale", "flaskapp=5"]);
    let ps = stdout(&ok(&["ps"]));
    assert_eq!(
        ps.lines()
            .filter(|l| l.contains("_flaskapp.") && l.contains("running"))
            .count(),
        5,
        "{ps}"
    );
    let mut seen = HashSet::new();
    let t = Instant::now();
    while seen.len() < 5 && t.elapsed() < Duration::from_secs(15) {
        if let Ok(r) = http_get(port, "/")
            && let Some(h) = r.header("x-served-by")
        {
            seen.insert(h.to_owned());
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");

    // logs -f shows the tasks' lines as they happen.
    let mut c = Command::new(stackctl_path());
    for f in &files {
        c.arg("-f").arg(f);
    }
    let follower = c
        .args([
            "-p",
            &project,
            "--target",
            "swarm",
            "logs",
            "-f",
            "--no-color",
            "nginx",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let _ = http_get(port, "/swarm-logs-probe");
    std::thread::sleep(Duration::from_secs(2));
    let _ = Command::new("kill")
        .args(["-INT", &follower.id().to_string()])
        .status();
    let out = String::from_utf8_lossy(&follower.wait_with_output().unwrap().stdout).into_owned();
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("{project}_nginx")) && l.contains("/swarm-logs-probe")),
        "{out}"
    );

    // down leaves no service or network of the stack; -v also the data volume on this node.
    let volume_label = format!("label=com.docker.stack.namespace={project}");
    assert!(
        !docker(&["volume", "ls", "-q", "--filter", &volume_label]).is_empty(),
        "the postgres volume is labelled"
    );
    ok(&["down", "-v"]);
    assert!(
        docker(&["volume", "ls", "-q", "--filter", &volume_label]).is_empty(),
        "down -v removes the volumes"
    );
    assert!(services(&project).is_empty());
    assert!(
        docker(&[
            "network",
            "ls",
            "--filter",
            &format!("label=com.docker.stack.namespace={project}"),
            "-q"
        ])
        .is_empty()
    );
}

#[test]
fn an_edit_updates_only_its_service_and_vip_stacks_are_refused_without_ipvs() {
    if !daemon_available() {
        return;
    }
    let _swarm = SwarmGuard::ensure();
    let manifest = |mode: &str| {
        format!(
            "services:\n  one:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n    environment: {{MODE: {mode}}}\n    deploy: {{endpoint_mode: dnsrr}}\n  two:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n    deploy: {{endpoint_mode: dnsrr}}\n    logging: {{driver: json-file, options: {{max-size: 1m, max-file: \"2\"}}}}\n"
        )
    };
    let p = TestProject::new("swedit", &manifest("a"));
    let files = vec![p.file.clone()];
    let project = p.name.replace('-', "");
    let run = |args: &[&str]| stackctl(&files, &project, 0, args);
    let out = run(&["up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let version = |svc: &str| {
        docker(&[
            "service",
            "inspect",
            "-f",
            "{{.Version.Index}}",
            &format!("{project}_{svc}"),
        ])
    };
    let (one, two) = (version("one"), version("two"));
    p.write(&manifest("b"));
    let out = run(&["up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(version("one"), one, "the edited service is updated");
    assert_eq!(version("two"), two, "the other service is left alone");
    assert!(
        docker(&[
            "service",
            "inspect",
            "-f",
            "{{json .Spec.TaskTemplate.ContainerSpec.Env}}",
            &format!("{project}_one")
        ])
        .contains("MODE=b")
    );
    assert_eq!(
        docker(&[
            "service",
            "inspect",
            "-f",
            "{{json .Spec.TaskTemplate.LogDriver}}",
            &format!("{project}_two")
        ]),
        r#"{"Name":"json-file","Options":{"max-file":"2","max-size":"1m"}}"#,
        "logging reaches the task template"
    );
    assert!(run(&["down"]).status.success());

    // A default (VIP) service on a kernel without IPVS: refused before anything is created.
    let has_ipvs = std::path::Path::new("/proc/net/ip_vs").exists();
    let vip = TestProject::new(
        "swvip",
        "services:\n  web:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    ports: [\"8099:80\"]\n",
    );
    let vproject = vip.name.replace('-', "");
    let out = stackctl(std::slice::from_ref(&vip.file), &vproject, 0, &["up"]);
    if has_ipvs {
        let _ = stackctl(std::slice::from_ref(&vip.file), &vproject, 0, &["down"]);
        eprintln!("this kernel has IPVS: the refusal cannot be shown here");
        return;
    }
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no IPVS")
            && err.contains("endpoint_mode: dnsrr")
            && err.contains("mode: host"),
        "{err}"
    );
    assert!(
        err.contains("service web uses a virtual IP") && err.contains("routing mesh"),
        "{err}"
    );
    assert!(services(&vproject).is_empty(), "nothing was created");
}
