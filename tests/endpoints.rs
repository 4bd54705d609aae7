//! Reaching a daemon other than the local one, as the docker CLI does: a context made with
//! `docker context create` (in a docker config folder of the test's own, never the user's) that
//! points at a Docker-in-Docker node, chosen by DOCKER_CONTEXT or by `docker context use`.

use std::process::{Command, Output};

use crate::common::dind::Cluster;
use crate::common::*;

/// stackctl in `p` with the test's docker config and neither DOCKER_HOST nor DOCKER_CONTEXT.
fn stackctl(p: &TestProject, config: &std::path::Path, args: &[&str]) -> Command {
    let mut c = p.cmd(args);
    c.env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT");
    c
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

#[test]
fn a_docker_context_sends_the_project_to_its_daemon_and_nothing_to_the_local_one() {
    if !daemon_available() {
        return;
    }
    let cluster = Cluster::start("ctx", 1);
    cluster.load(&[IMG]);
    let node = cluster.manager();
    let config = tempfile::tempdir().unwrap();
    let docker_cfg = |args: &[&str]| {
        let out = Command::new("docker")
            .arg("--config")
            .arg(config.path())
            .args(args)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .output()
            .unwrap();
        assert!(out.status.success(), "docker {args:?}: {}", stderr(&out));
    };
    docker_cfg(&[
        "context",
        "create",
        "sct-node",
        "--docker",
        &format!("host={}", node.host()),
    ]);
    let p = TestProject::new("ctx", &format!("services:\n  app:\n{SLEEPS}"));
    let label = format!("label=com.docker.compose.project={}", p.name);
    let on_node = || node.docker(&["ps", "-q", "--filter", &label]);

    ok(stackctl(&p, config.path(), &["up", "-d"])
        .env("DOCKER_CONTEXT", "sct-node")
        .output()
        .unwrap());
    assert_eq!(
        on_node().lines().count(),
        1,
        "the container runs on the node"
    );
    assert!(p.containers().is_empty(), "and not on the local daemon");
    let version = ok(stackctl(&p, config.path(), &["version"])
        .env("DOCKER_CONTEXT", "sct-node")
        .output()
        .unwrap());
    assert!(
        stdout(&version).contains(&format!("at {} (context sct-node)", node.host())),
        "{}",
        stdout(&version)
    );

    // `docker context use` makes it the current context for stackctl too.
    docker_cfg(&["context", "use", "sct-node"]);
    let ps = ok(stackctl(&p, config.path(), &["ps", "-q"]).output().unwrap());
    assert_eq!(stdout(&ps).lines().count(), 1, "{}", stdout(&ps));
    // DOCKER_HOST wins over the current context, as in the docker CLI.
    let local = ok(stackctl(&p, config.path(), &["ps", "-q"])
        .env("DOCKER_HOST", "unix:///var/run/docker.sock")
        .output()
        .unwrap());
    assert_eq!(stdout(&local).trim(), "", "the local daemon has none");

    let unknown = stackctl(&p, config.path(), &["ps"])
        .env("DOCKER_CONTEXT", "nope")
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("context `nope` does not exist")
            && stderr(&unknown).contains("known contexts: default, sct-node"),
        "{}",
        stderr(&unknown)
    );

    ok(stackctl(&p, config.path(), &["down", "-t", "1"])
        .output()
        .unwrap());
    assert_eq!(on_node(), "", "down went to the node too");
}

/// A fresh machine may have no ssh client (stackctl's ssh:// runs the system's, as docker's
/// does): the test installs Debian's once, as the seed script installs what it needs.
fn ensure_ssh_client() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let have = |bin: &str| {
            Command::new("sh")
                .args(["-c", &format!("command -v {bin}")])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if have("ssh") && have("ssh-keygen") {
            return;
        }
        eprintln!("installing openssh-client (the ssh:// test needs ssh and ssh-keygen)");
        let installed = Command::new("sh")
            .args([
                "-c",
                "export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q openssh-client >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q openssh-client >/dev/null; }",
            ])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "no ssh client, and installing openssh-client failed: install it to run this test"
        );
    });
}

/// `ssh` for stackctl (first on its PATH): the system ssh with the test's key, and known hosts
/// kept in the test's folder, so that no file of the user running the tests is written.
fn ssh_wrapper(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    ensure_ssh_client();
    let key = dir.join("id_ed25519");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(made.success());
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let real = ["/usr/bin/ssh", "/bin/ssh"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("an ssh client");
    std::fs::write(
        bin.join("ssh"),
        format!(
            "#!/bin/sh\nexec {real} -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile={known} -o LogLevel=ERROR -i {key} \"$@\"\n",
            known = dir.join("known_hosts").display(),
            key = key.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(bin.join("ssh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn docker_host_over_ssh_runs_the_project_on_the_remote_daemon() {
    if !daemon_available() {
        return;
    }
    let cluster = Cluster::start_ssh("ssh");
    cluster.load(&[IMG]);
    let node = cluster.manager();
    let keys = tempfile::tempdir().unwrap();
    let bin = ssh_wrapper(keys.path());
    let public = std::fs::read_to_string(keys.path().join("id_ed25519.pub")).unwrap();
    std::fs::write(keys.path().join("authorized_keys"), public).unwrap();
    assert!(docker_ok(&[
        "cp",
        keys.path().join("authorized_keys").to_str().unwrap(),
        &format!("{}:/root/.ssh/authorized_keys", node.name),
    ]));
    docker(&[
        "exec",
        &node.name,
        "chown",
        "root:root",
        "/root/.ssh/authorized_keys",
    ]);

    let p = TestProject::new(
        "ssh",
        &format!(
            "services:\n  app:\n    image: {IMG}\n    command: [sh, -c, 'echo hello over ssh; exec sleep infinity']\n    init: true\n"
        ),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let over_ssh = |args: &[&str]| {
        let mut c = p.cmd(args);
        c.env("DOCKER_HOST", format!("ssh://root@{}", node.ip))
            .env("PATH", &path)
            .env_remove("DOCKER_CONTEXT");
        c
    };
    ok(over_ssh(&["up", "-d"]).output().unwrap());
    let c = format!("{}-app-1", p.name);
    assert_eq!(
        node.docker(&["inspect", "-f", "{{.State.Running}}", &c]),
        "true",
        "the container runs on the node"
    );
    assert!(p.containers().is_empty(), "nothing on the host daemon");
    let ps = ok(over_ssh(&["ps"]).output().unwrap());
    assert!(stdout(&ps).contains(&c), "{}", stdout(&ps));
    let version = ok(over_ssh(&["version"]).output().unwrap());
    assert!(
        stdout(&version).contains(&format!("ssh://root@{}", node.ip)),
        "version names the endpoint: {}",
        stdout(&version)
    );
    let follow = Follower::start(over_ssh(&["logs", "-f"]));
    let seen = follow.until(
        |t| t.contains("hello over ssh"),
        std::time::Duration::from_secs(30),
    );
    follow.stop();
    assert!(seen.contains("hello over ssh"), "logs -f over ssh: {seen}");
    ok(over_ssh(&["down"]).output().unwrap());
    assert_eq!(
        node.docker(&["ps", "-aq"]),
        "",
        "down removed it on the node"
    );
}

#[test]
fn docker_api_version_pins_the_version_every_request_names() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("apiver", &format!("services:\n  app:\n{SLEEPS}"));
    // Below every daemon's newest: the daemon answers in it.
    let pinned = |v: &str, args: &[&str]| {
        let mut c = p.cmd(args);
        c.env("DOCKER_API_VERSION", v);
        c.output().unwrap()
    };
    let version = ok(pinned("1.40", &["version"]));
    assert!(
        stdout(&version).contains("API 1.40 (pinned by DOCKER_API_VERSION)"),
        "{}",
        stdout(&version)
    );
    ok(pinned("1.40", &["up", "-d"]));
    assert_eq!(p.containers().len(), 1);
    ok(pinned("1.40", &["down"]));
    // Past every daemon's newest: the daemon itself refuses, so the version reached it.
    let out = pinned("1.999", &["up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is too new") && stderr(&out).contains("DOCKER_API_VERSION=1.999"),
        "{}",
        stderr(&out)
    );
    assert!(p.containers().is_empty());
    // A value that is no version is the user's to mend: exit 2, before any call.
    let _ = Test::new("apiver-bad")
        .manifest(&format!("services:\n  app:\n{SLEEPS}"))
        .offline()
        .env("DOCKER_API_VERSION", "latest")
        .args(&["ps"])
        .code(2)
        .stderr_has("`latest` is not an API version")
        .stderr_has("help: write it as MAJOR.MINOR")
        .run();
}
