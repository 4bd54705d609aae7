//! `stackctl check` against a stack with deliberate faults: each fault fails its rule with the
//! measured figure, and the command exits 1.

use crate::common::*;

#[test]
fn deliberate_faults_fail_the_matching_rules() {
    if !daemon_available() {
        return;
    }
    let manifest = r#"
services:
  stubborn:
    image: debian:bookworm-slim
    # Shell form: PID 1 is a shell that ignores SIGTERM, so a stop waits for the kill.
    command: sh -c 'trap "" TERM; while true; do sleep 0.2; done'
    user: "1000"
    restart: always
    stop_grace_period: 2s
  filelogger:
    image: debian:bookworm-slim
    command: [sh, -c, 'mkdir -p /var/log/app; while true; do echo tick >> /var/log/app/app.log; sleep 0.2; done']
    init: true
    restart: always
  rooty:
    build: ./rooty
    command: [sleep, infinity]
    init: true
"#;
    let p = TestProject::new("check", manifest);
    let ctx = p.path().join("rooty");
    std::fs::create_dir(&ctx).unwrap();
    // An image that leaves apt's package lists behind.
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM debian:bookworm-slim\nRUN apt-get update\n",
    )
    .unwrap();
    p.ok(&["up", "-d"]);
    std::thread::sleep(std::time::Duration::from_secs(1));

    let out = p.run(&["check", "--live", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let verdicts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let get = |svc: &str, rule: &str| {
        verdicts
            .iter()
            .find(|v| v["service"] == svc && v["rule"] == rule)
            .cloned()
            .unwrap_or_else(|| panic!("no {svc}/{rule}"))
    };
    let g = get("stubborn", "graceful");
    assert_eq!(g["level"], "fail", "{g}");
    assert!(g["figure"].as_str().unwrap().contains("exit 137"), "{g}");
    let l = get("filelogger", "logs-stdout");
    assert_eq!(l["level"], "fail", "{l}");
    assert!(
        l["figure"]
            .as_str()
            .unwrap()
            .contains("/var/log/app/app.log"),
        "{l}"
    );
    let e = get("rooty", "ephemeral");
    assert_eq!(e["level"], "fail", "{e}");
    assert!(e["figure"].as_str().unwrap().contains("uid 0"), "{e}");
    let r = get("rooty", "restart");
    assert_eq!(r["level"], "fail", "{r}");
    assert_eq!(r["figure"], "none");
    let s = get("rooty", "small");
    assert_eq!(s["level"], "fail", "{s}");
    assert!(
        s["figure"].as_str().unwrap().contains("apt cache left"),
        "{s}"
    );
    // What is right stays right: the non-root user of `stubborn` passes.
    assert_eq!(get("stubborn", "ephemeral")["level"], "pass");
    // Without --live the shell-form PID 1 is caught from the configuration alone.
    let out = p.run(&["check", "--format", "json", "stubborn"]);
    let verdicts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let g = verdicts.iter().find(|v| v["rule"] == "graceful").unwrap();
    assert_eq!(g["level"], "fail", "{g}");
    assert!(
        g["figure"].as_str().unwrap().contains("PID 1 is `sh -c"),
        "{g}"
    );
    docker(&["rmi", "-f", &format!("{}-rooty", p.name)]);
}

#[test]
fn an_exec_running_in_a_container_is_not_one_of_its_programs() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "checkexec",
        "services:\n  box:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n",
    );
    p.ok(&["up", "-d"]);
    // What a healthcheck or `docker exec` runs beside the container's own program.
    let c = format!("{}-box-1", p.name);
    assert!(docker_ok(&["exec", "-d", &c, "sh", "-c", "sleep 60"]));
    eventually(
        std::time::Duration::from_secs(10),
        "the exec'd process",
        || docker(&["top", &c]).contains("sleep 60"),
    );
    let out = p.run(&["check", "--format", "json", "box"]);
    let verdicts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let one = verdicts
        .iter()
        .find(|v| v["rule"] == "one-process")
        .expect("one-process verdict");
    assert_eq!(one["level"], "pass", "{one}");
    assert!(
        one["figure"].as_str().unwrap().ends_with(", sleep"),
        "{one}"
    );
}
