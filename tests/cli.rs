//! The command line without a daemon: which commands work on which target, and the rules that
//! depend on the target. Every daemon address here is one that cannot answer, so a command that
//! got past its checks shows it by failing to connect (exit 1), and a refusal is exit 2.

use std::process::{Command, Output};

use clap::CommandFactory;

use crate::common::{NO_DAEMON, Test};

fn stackctl(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .current_dir(dir)
        .args(args)
        .env("DOCKER_HOST", NO_DAEMON)
        .env_remove("STACKCTL_TARGET")
        .output()
        .expect("run stackctl")
}

fn project(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yaml"), manifest).expect("write manifest");
    std::fs::create_dir(dir.path().join("app")).expect("mkdir");
    std::fs::write(
        dir.path().join("app/Dockerfile"),
        "FROM debian:bookworm-slim\n",
    )
    .unwrap();
    dir
}

/// Arguments that make each subcommand valid, so that only the target decides what happens.
fn args_for(verb: &str) -> Vec<&'static str> {
    match verb {
        "up" => vec!["-d"],
        "scale" => vec!["web=2"],
        "exec" | "run" => vec!["web", "true"],
        "restart" | "stop" | "start" | "pause" | "unpause" | "attach" | "wait" | "kill"
        | "export" | "commit" => {
            vec!["web"]
        }
        "rm" => vec!["-f", "web"],
        "stats" => vec!["--no-stream"],
        "cp" => vec!["web:/etc/hostname", "-"],
        "port" => vec!["web", "80"],
        "completion" => vec!["bash"],
        "bridge" => vec!["transformations", "ls"],
        "alpha" => vec!["viz"],
        // A port nothing listens on: the push fails (exit 1) without reaching any registry.
        "publish" => vec!["127.0.0.1:9/sct/never"],
        _ => vec![],
    }
}

#[test]
fn every_command_works_on_swarm_or_refuses_it_with_exit_2() {
    let dir = project("services:\n  web:\n    build: ./app\n    image: example/web:1\n");
    let on_swarm = stackctl::commands::SWARM_VERBS;
    let cli = stackctl::cli::Cli::command();
    let verbs: Vec<String> = cli
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .filter(|n| n != "help")
        .collect();
    assert!(verbs.len() > 25, "{verbs:?}");
    for verb in &verbs {
        let mut args = vec!["--target", "swarm", verb.as_str()];
        args.extend(args_for(verb));
        let out = stackctl(dir.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        let refused = err.contains("not on --target swarm");
        if on_swarm.contains(&verb.as_str()) {
            assert!(!refused, "{verb} works on swarm but was refused:\n{err}");
            assert_ne!(out.status.code(), Some(2), "{verb}: {err}");
        } else {
            assert!(refused, "{verb} on swarm was not refused:\n{err}");
            assert_eq!(out.status.code(), Some(2), "{verb}: {err}");
            assert!(err.contains("on Swarm these work: config, up"), "{err}");
        }
    }
}

#[test]
fn replicas_sharing_a_fixed_host_port_are_refused_by_local_up_only() {
    // The tutorial's own file: three nginx replicas publishing 80:80.
    let tutorial = || {
        Test::new("replicas")
            .manifest("services:\n  nginx:\n    image: nginx\n    ports: [\"80:80\"]\n    deploy:\n      replicas: 3\n")
            .offline()
    };
    let _ = tutorial().args(&["config"]).run();
    let _ = tutorial()
        .args(&["up", "-d"])
        .code(2)
        .stderr_has("has 3 replicas but publishes fixed host port 80")
        .stderr_has("compose.yaml:4:")
        .stderr_has("publish a range")
        .run();
    // A --scale that fits is not refused for the manifest's count.
    let _ = tutorial()
        .args(&["up", "-d", "--scale", "nginx=1"])
        .code(1)
        .stderr_has("nonexistent")
        .run();
    // Swarm's routing mesh lets replicas share the port: past the checks, to the (absent) daemon.
    let _ = tutorial()
        .args(&["--target", "swarm", "up", "-d"])
        .code(1)
        .stderr_has("nonexistent")
        .run();
}

#[test]
fn what_swarm_cannot_run_is_refused_before_reaching_the_daemon() {
    for (manifest, says) in [
        (
            "services:\n  a:\n    image: x\n    post_start:\n      - command: [\"true\"]\n",
            "service a has pre_start/post_start/pre_stop hooks or device requests (gpus)",
        ),
        (
            "services:\n  a:\n    image: x\n    network_mode: host\n",
            "service a sets network_mode, which Swarm services do not have",
        ),
    ] {
        let _ = Test::new("swarm-refuses")
            .manifest(manifest)
            .offline()
            .args(&["--target", "swarm", "up"])
            .code(2)
            .stderr_has(says)
            .stderr_lacks("nonexistent")
            .run();
    }
}

use crate::common;

#[test]
fn without_a_daemon_the_engine_tests_fail_unless_skipping_is_asked_for() {
    assert!(common::without_daemon(true, true, false));
    assert!(!common::without_daemon(false, false, true), "skip asked");
    let fails = |ci, skip| std::panic::catch_unwind(|| common::without_daemon(false, ci, skip));
    assert!(
        fails(false, false).is_err(),
        "no daemon, no skip: a failure"
    );
    assert!(
        fails(true, true).is_err(),
        "under CI even a skip request fails"
    );
}

#[test]
fn the_manual_page_has_a_section_for_every_subcommand() {
    let dir = project("services:\n  web:\n    image: x\n");
    let out = stackctl(dir.path(), &["man"]);
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{page:.200}"
    );
    // Hidden commands (compose's experimental `alpha`) stay out of the manual, as out of --help.
    let cli = stackctl::cli::Cli::command();
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let title = format!(".TH stackctl-{} 1", sub.get_name());
        assert!(page.contains(&title), "no section {title}");
    }
    assert!(page.contains("\\-\\-dry\\-run"), "global flags are listed");
}

#[test]
fn zsh_and_fish_complete_service_names_from_the_manifest() {
    let dir = project("services:\n  web:\n    image: x\n");
    let zsh =
        String::from_utf8_lossy(&stackctl(dir.path(), &["completion", "zsh"]).stdout).into_owned();
    assert!(zsh.contains("_stackctl_services() {"), "{zsh:.300}");
    assert!(zsh.contains("config --services"));
    assert!(
        !zsh.contains("'*::services:_default'"),
        "a positional left plain"
    );
    let fish =
        String::from_utf8_lossy(&stackctl(dir.path(), &["completion", "fish"]).stdout).into_owned();
    assert!(
        fish.contains("__fish_seen_subcommand_from up down ps logs")
            && fish.contains("(stackctl config --services 2>/dev/null)"),
        "{fish}"
    );
}

#[test]
fn as_a_docker_cli_plugin_it_runs_under_docker_with_dockers_global_flags() {
    if Command::new("docker").arg("--version").output().is_err() {
        eprintln!("skipped: no docker CLI to host the plugin");
        return;
    }
    let dir = project("services:\n  web:\n    image: x\n  db:\n    image: y\n");
    let config = tempfile::tempdir().expect("tempdir");
    let plugins = config.path().join("cli-plugins");
    std::fs::create_dir(&plugins).unwrap();
    // A link, not a copy: a copy being written while another test thread forks can be
    // inherited open for writing, and running it then fails with "text file busy".
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_stackctl"),
        plugins.join("docker-stackctl"),
    )
    .unwrap();
    let docker = |args: &[&str]| {
        Command::new("docker")
            .current_dir(dir.path())
            .env("DOCKER_CONFIG", config.path())
            .env("DOCKER_HOST", NO_DAEMON)
            .args(args)
            .output()
            .expect("docker")
    };
    let help = String::from_utf8_lossy(&docker(&["--help"]).stdout).into_owned();
    assert!(
        help.contains("stackctl") && help.contains("Compose stack"),
        "docker lists the plugin:\n{help}"
    );
    let out = docker(&[
        "--debug",
        "-H",
        NO_DAEMON,
        "stackctl",
        "config",
        "--services",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "db\nweb\n");
    // A global flag of docker's that means something here reaches stackctl: -H names the daemon.
    let out = docker(&["-H", "tcp://127.0.0.1:9", "stackctl", "ps"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("tcp://127.0.0.1:9"), "{err}");
}
