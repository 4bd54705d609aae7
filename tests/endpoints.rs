//! Reaching a daemon other than the local one, as the docker CLI does: a context made with
//! `docker context create` (in a docker config folder of the test's own, never the user's) that
//! points at a Docker-in-Docker node, chosen by DOCKER_CONTEXT or by `docker context use`.

use std::process::{Command, Output};

use crate::common::dind::Cluster;
use crate::common::*;

const IMG: &str = "debian:bookworm-slim";

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
    let p = TestProject::new(
        "ctx",
        &format!(
            "services:\n  app:\n    image: {IMG}\n    command: [sleep, infinity]\n    init: true\n"
        ),
    );
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
