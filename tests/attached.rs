//! Attached `up` against the real daemon: ending on a container's exit with its code (the way a
//! test service is run against a stack in CI), choosing whose output is shown, showing only the
//! current run of a container, `--no-deps` and `--no-start`; and `wait`, the detached way to the same.

use crate::common::*;

/// `checker` prints, waits and fails with 3; `server` runs until stopped (143 under init's SIGTERM);
/// `chatty` says one line and runs on.
fn manifest() -> String {
    format!(
        r#"
services:
  checker:
    image: {IMG}
    command: [sh, -c, "echo checking; sleep 1; echo done checking; exit 3"]
  server:
    image: {IMG}
    command: [sh, -c, "echo serving; exec sleep infinity"]
    init: true
  chatty:
    image: {IMG}
    command: [sh, -c, "echo chatter; exec sleep infinity"]
    init: true
"#
    )
}

/// The exit lines of one container (`checker-1 exited with code 3`), as compose writes them.
fn exits_of(out: &str, container: &str) -> Vec<String> {
    out.lines()
        .map(|l| l.trim_start_matches("\r\x1b[K"))
        .filter(|l| l.starts_with(&format!("{container} ")) && !l.contains(" | "))
        .map(str::to_owned)
        .collect()
}

/// The lines of one container (named as compose shows it, `checker-1`), with the prefix's
/// padding taken out.
fn lines_of(out: &str, container: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split_once(" | "))
        .filter(|(name, _)| name.trim_end() == container)
        .map(|(name, rest)| format!("{} | {rest}", name.trim_end()))
        .collect()
}

#[test]
fn abort_on_container_exit_stops_the_stack_and_exits_with_the_first_code() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("abort", &manifest());
    let out = p.run(&["up", "--abort-on-container-exit", "-t", "2"]);
    let (so, se) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(3), "stdout:\n{so}\nstderr:\n{se}");
    let checker = "checker-1";
    assert!(so.starts_with("Attaching to "), "as compose begins:\n{so}");
    assert_eq!(
        lines_of(&so, checker),
        [
            format!("{checker} | checking"),
            format!("{checker} | done checking")
        ],
        "{so}"
    );
    assert!(so.contains("| serving") && so.contains("| chatter"), "{so}");
    assert_eq!(
        exits_of(&so, checker),
        [format!("{checker} exited with code 3")],
        "{so}"
    );
    assert!(se.contains("Aborting on container exit"), "{se}");
    // The whole stack was stopped, and each stop was shown.
    for svc in ["server", "chatty"] {
        let container = format!("{}-{svc}-1", p.name);
        assert_eq!(inspect(&container, "{{.State.Running}}"), "false");
        let name = format!("{svc}-1");
        assert_eq!(
            exits_of(&so, &name),
            [format!("{name} exited with code 143")],
            "{so}"
        );
    }

    // --exit-code-from takes the named service's code, and a second run of the same containers
    // shows their current run only, not the lines of the first.
    let out = p.run(&["up", "--exit-code-from", "server", "--no-attach", "chatty"]);
    let (so, se) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(143), "stdout:\n{so}\nstderr:\n{se}");
    assert_eq!(lines_of(&so, checker).len(), 2, "one run's lines:\n{so}");
    assert!(!so.contains("chatter"), "--no-attach hides chatty:\n{so}");
    assert!(
        exits_of(&so, "chatty-1").is_empty(),
        "nor its exit:\n{so}\n{se}"
    );

    // --attach shows only the named services (and `attach: false` hides one unless named); the
    // exit code is 0 when the chosen service's is.
    let ok = TestProject::new(
        "abort0",
        &format!(
            "services:\n  job:\n    image: {IMG}\n    command: [sh, -c, \"echo job ran; sleep 1\"]\n  side:\n    image: {IMG}\n    command: [sh, -c, \"echo side; exec sleep infinity\"]\n    init: true\n  quiet:\n    image: {IMG}\n    command: [sh, -c, \"echo quiet; exec sleep infinity\"]\n    init: true\n    attach: false\n"
        ),
    );
    let out = ok.run(&[
        "up",
        "--exit-code-from",
        "job",
        "--attach",
        "job",
        "--no-color",
        "--no-log-prefix",
    ]);
    let so = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{so}\n{}", stderr(&out));
    assert!(so.starts_with("Attaching to job-1\n"), "{so}");
    let output: Vec<&str> = so
        .lines()
        .skip(1)
        .filter(|l| !l.ends_with("exited with code 0"))
        .collect();
    assert_eq!(output, ["job ran"], "{so}");
    let out = ok.run(&["up", "--exit-code-from", "job", "--no-color"]);
    let so = stdout(&out);
    assert!(so.contains("job ran") && so.contains("side"), "{so}");
    assert!(!so.contains("quiet"), "attach: false hides it:\n{so}");
}

#[test]
fn attached_flags_are_checked_before_anything_is_created() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("abortargs", &manifest());
    let out = p.run(&["up", "--exit-code-from", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such service: `nosuch`"));
    let out = p.run(&["up", "server", "--exit-code-from", "checker"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("does not start checker") && err.contains("stackctl up server checker"),
        "{err}"
    );
    let out = p.run(&["up", "-d", "--abort-on-container-exit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(p.containers().is_empty(), "nothing was created");
}

#[test]
fn no_deps_and_no_start_create_only_what_is_asked() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "nodeps",
        &format!("services:\n  db:\n{SLEEPS}  app:\n{SLEEPS}    depends_on: [db]\n"),
    );
    let (app, db) = (format!("{}-app-1", p.name), format!("{}-db-1", p.name));
    p.ok(&["up", "--no-start", "--no-deps", "app"]);
    assert_eq!(p.containers(), std::slice::from_ref(&app));
    assert_eq!(inspect(&app, "{{.State.Status}}"), "created", "--no-start");
    p.ok(&["up", "-d", "--no-deps", "app"]);
    assert_eq!(p.containers(), std::slice::from_ref(&app));
    assert_eq!(inspect(&app, "{{.State.Status}}"), "running");
    p.ok(&["up", "-d", "app"]);
    assert_eq!(p.containers(), [app, db]);
    let out = p.run(&["--target", "swarm", "up", "--no-start"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--no-start works on one engine"));
}

#[test]
fn wait_exits_with_the_first_failure_and_down_project_takes_the_stack_down() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("wait", &manifest());
    p.ok(&["up", "-d"]);
    let out = p.run(&["wait", "checker"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let checker = format!("{}-checker-1", p.name);
    assert_eq!(stdout(&out).trim(), format!("{checker} exited with code 3"));
    // Already stopped: the code comes at once.
    let out = p.run(&["wait", "checker"]);
    assert_eq!(out.status.code(), Some(3));

    p.ok(&["up", "-d"]);
    let out = p.run(&["wait", "--down-project"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(p.containers().is_empty(), "{:?}", p.containers());
    let out = p.run(&["wait"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no containers to wait for"));
}

#[test]
fn ctrl_c_on_attached_up_runs_pre_stop_hooks_as_stop_and_down_do() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "attached-hooks",
        &format!(
            "services:\n  app:\n    image: {IMG}\n    command: [sh, -c, \"echo serving; exec sleep infinity\"]\n    init: true\n    volumes: [marks:/marks]\n    pre_stop:\n      - command: [sh, -c, \"echo stopping > /marks/$$HOSTNAME.stop\"]\nvolumes:\n  marks: {{}}\n"
        ),
    );
    let up = Follower::start(p.cmd(&["up", "-t", "2"]));
    let seen = up.until(
        |o| o.contains("| serving"),
        std::time::Duration::from_secs(60),
    );
    assert!(seen.contains("| serving"), "{seen}");
    up.stop();
    let container = format!("{}-app-1", p.name);
    assert_eq!(inspect(&container, "{{.State.Status}}"), "exited");
    let volume = format!("{}_marks", p.name);
    let marks = docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{volume}:/marks"),
        IMG,
        "sh",
        "-c",
        "cat /marks/*.stop",
    ]);
    assert_eq!(marks, "stopping", "the pre_stop hook ran before the stop");
}

/// Runs `cmd` for at most `limit`; a run still going then is killed and fails the test.
fn bounded(
    mut cmd: std::process::Command,
    limit: std::time::Duration,
    what: &str,
) -> (i32, String) {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd
        .stdout(out.reopen().unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let text = std::fs::read_to_string(out.path()).unwrap();
    (status.code().unwrap_or(-1), text)
}

/// Attached `up checker` ends when checker's container does, though `server` of the same project
/// runs on (started before, or by another file): only the containers it shows keep it going, as in
/// compose. So does `logs -f checker`.
#[test]
fn attached_up_and_logs_follow_end_with_their_own_containers_not_the_projects() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("attach-own", &manifest());
    p.ok(&["up", "-d", "server"]);
    let limit = std::time::Duration::from_secs(30);
    let (code, shown) = bounded(
        p.cmd(&["up", "--no-deps", "checker"]),
        limit,
        "attached up checker, with only the server left running",
    );
    assert_eq!(code, 0, "{shown}");
    assert!(lines_of(&shown, "checker-1").len() >= 2, "{shown}");
    assert_eq!(
        inspect(&format!("{}-server-1", p.name), "{{.State.Status}}"),
        "running",
        "the server is left running"
    );
    let (code, shown) = bounded(
        p.cmd(&["logs", "-f", "--no-color", "checker"]),
        limit,
        "logs -f checker, with only the server running",
    );
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("done checking"), "{shown}");
}

/// `up --wait` that runs out of time says so in compose's words (client libraries look for them),
/// naming what it waited for.
#[test]
fn a_wait_that_runs_out_says_so_as_compose_does() {
    if !daemon_available() {
        return;
    }
    let _ = Test::new("wait-out")
        .manifest(&format!(
            "services:\n  sick:\n{SLEEPS}    healthcheck: {{test: [CMD, \"false\"], interval: 1s, retries: 30}}\n"
        ))
        .args(&["up", "-d", "--wait", "--wait-timeout", "1"])
        .code(1)
        .stderr_has("application not healthy after 1s")
        .stderr_has("timed out waiting for sct-wait-out-")
        .run();
}

/// `--abort-on-container-failure` goes on past a clean exit and stops the stack at the first
/// failure, with its code; `up SERVICE` shows that service's output, not its dependencies', unless
/// `--attach-dependencies` (as compose).
#[test]
fn abort_on_failure_waits_for_a_failure_and_up_shows_the_named_services() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "abortfail",
        &format!(
            r#"
services:
  fine:
    image: {IMG}
    command: [sh, -c, "echo fine ran"]
  broken:
    image: {IMG}
    command: [sh, -c, "sleep 2; echo broken ends; exit 5"]
  server:
    image: {IMG}
    command: [sh, -c, "echo serving; exec sleep infinity"]
    init: true
  web:
    image: {IMG}
    command: [sh, -c, "echo web ran; sleep 1"]
    depends_on: [server]
"#
        ),
    );
    let out = p.run(&["up", "--abort-on-container-failure", "-t", "2"]);
    let (so, se) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(5), "stdout:\n{so}\nstderr:\n{se}");
    assert!(
        so.contains("broken ends"),
        "ran past fine's clean exit:\n{so}"
    );
    let server = format!("{}-server-1", p.name);
    assert_eq!(inspect(&server, "{{.State.Running}}"), "false");

    let out = p.run(&["up", "web", "--abort-on-container-exit", "-t", "2"]);
    let (so, se) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "stdout:\n{so}\nstderr:\n{se}");
    assert!(so.contains("web ran"), "{so}");
    assert!(
        !so.contains("serving"),
        "the dependency is not shown:\n{so}"
    );
    assert_eq!(
        inspect(&server, "{{.State.Running}}"),
        "true",
        "nor stopped: `up web` stops web, as compose's does"
    );
    // The server running already said what it says at start: stopped, it says it again.
    p.ok(&["stop", "server"]);
    let out = p.run(&[
        "up",
        "web",
        "--abort-on-container-exit",
        "--attach-dependencies",
        "-t",
        "2",
    ]);
    let so = stdout(&out);
    assert!(so.contains("web ran") && so.contains("serving"), "{so}");
}
