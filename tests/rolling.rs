//! Updates of the shipped stack while it serves: 32 clients request `/` for the whole of each test,
//! and every request must be answered 200 and counted exactly once, whether `up` replaces the
//! flaskapp replicas one at a time, rolls a broken update back, `scale` removes replicas or
//! `restart` restarts them. Without `update_config` the replicas are recreated together, as
//! docker compose does. Each test works on its own copy of `stack/` and `images/`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

const CLIENTS: usize = 32;

/// These tests load both cores; one at a time leaves the rest of the suite some room.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shipped stack, copied into a test project of its own.
fn stack_copy(prefix: &str) -> (TestProject, u16) {
    let mut p = TestProject::new(prefix, "");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("stack"), &p.path().join("stack"));
    copy_dir(&root.join("images"), &p.path().join("images"));
    p.file = p.path().join("stack/stack.yml");
    (p, free_port())
}

/// The shipped stack copied and up, healthy.
fn stack_up(prefix: &str) -> (TestProject, u16) {
    let (p, port) = stack_copy(prefix);
    ok_on(&p, port, &["up", "-d", "--wait", "--wait-timeout", "180"]);
    (p, port)
}

fn run_on(p: &TestProject, port: u16, args: &[&str]) -> std::process::Output {
    p.cmd(args)
        .env("HTTP_PORT", port.to_string())
        .output()
        .expect("run stackctl")
}

fn ok_on(p: &TestProject, port: u16, args: &[&str]) -> String {
    let out = run_on(p, port, args);
    assert!(
        out.status.success(),
        "stackctl {args:?} failed:\n{}",
        stderr(&out)
    );
    stderr(&out)
}

fn app_py(p: &TestProject) -> PathBuf {
    p.path().join("images/web/app.py")
}

fn count(p: &TestProject) -> u64 {
    postgres_count(&format!("{}-postgres-1", p.name))
}

/// Clients that request `/` until stopped; each finishes its request before it stops, so the 200s
/// they saw are exactly the visits the stack counted meanwhile.
struct Load {
    began: Instant,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    seen: Arc<Mutex<(u64, Vec<String>)>>,
}

impl Load {
    fn start(port: u16) -> Self {
        let began = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new((0u64, Vec::new())));
        let threads = (0..CLIENTS)
            .map(|_| {
                let (stop, seen, began) = (stop.clone(), seen.clone(), began);
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let t = Instant::now();
                        let r = http_get(port, "/");
                        let mut seen = seen.lock().unwrap();
                        match r {
                            Ok(r) if r.status == 200 => seen.0 += 1,
                            Ok(r) => seen.1.push(format!(
                                "at {:?}: {} {:?}",
                                began.elapsed(),
                                r.status,
                                r.body.lines().next().unwrap_or("")
                            )),
                            Err(e) => seen.1.push(format!(
                                "at {:?}: {e} after {:?}",
                                began.elapsed(),
                                t.elapsed()
                            )),
                        }
                    }
                })
            })
            .collect();
        Load {
            began,
            stop,
            threads,
            seen,
        }
    }

    /// When `what` happened, since the clients started (to place failures).
    fn mark(&self, what: &str) {
        eprintln!("at {:?}: {what}", self.began.elapsed());
    }

    /// Stops the clients; returns (200s, everything else).
    fn stop(self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn flaskapp_ids(p: &TestProject) -> Vec<String> {
    (1..=3)
        .map(|n| p.id(&format!("{}-flaskapp-{n}", p.name)))
        .collect()
}

/// Records the `actions` events of the project's flaskapp containers from now on (the daemon
/// keeps too few past events, healthchecks flood them, to ask afterwards).
fn watch_flaskapp(p: &TestProject, actions: &[&str]) -> Follower {
    let mut cmd = std::process::Command::new("docker");
    cmd.args([
        "events",
        "--filter",
        &format!("label=com.docker.compose.project={}", p.name),
        "--filter",
        "label=com.docker.compose.service=flaskapp",
        "--format",
        "{{.TimeNano}} {{.Action}} {{.Actor.Attributes.name}}",
    ]);
    for a in actions {
        cmd.args(["--filter", &format!("event={a}")]);
    }
    let f = Follower::start(cmd);
    // `docker events` has subscribed once it runs; give it a moment to.
    std::thread::sleep(Duration::from_millis(500));
    f
}

/// (time, action, container name) of what `watch_flaskapp` saw.
fn seen_events(f: Follower) -> Vec<(u64, String, String)> {
    f.stop()
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.parse().ok()?, w.next()?.into(), w.next()?.into()))
        })
        .collect()
}

fn change_app(p: &TestProject, extra: &str) {
    let mut app = std::fs::read_to_string(app_py(p)).unwrap();
    app.push_str(extra);
    std::fs::write(app_py(p), app).unwrap();
}

#[test]
fn a_code_change_replaces_every_replica_without_failing_a_request() {
    if !daemon_available() {
        return;
    }
    let _turn = turn();
    let (p, port) = stack_up("roll");
    let old = flaskapp_ids(&p);
    let before = count(&p);
    let events = watch_flaskapp(&p, &["start", "die"]);

    let load = Load::start(port);
    std::thread::sleep(Duration::from_secs(2));
    change_app(&p, "\n# a change that makes a new image\n");
    ok_on(&p, port, &["up", "-d", "--build"]);
    std::thread::sleep(Duration::from_secs(2));
    let (answered, failed) = load.stop();

    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(8)]
    );
    assert!(answered > 100, "only {answered} requests answered");
    assert_eq!(count(&p) - before, answered, "counted vs answered");
    let new = flaskapp_ids(&p);
    for (o, n) in old.iter().zip(&new) {
        assert_ne!(o, n, "every replica replaced");
    }
    assert_eq!(p.containers().len(), 6, "{:?}", p.containers());
    // start-first, one at a time: each new replica started before the old one it replaces died.
    let events = seen_events(events);
    let first_die = events
        .iter()
        .find(|e| e.1 == "die")
        .expect("old ones died")
        .0;
    let first_start = events
        .iter()
        .find(|e| e.1 == "start")
        .expect("new ones started")
        .0;
    assert!(first_start < first_die, "{events:?}");
}

#[test]
fn a_broken_update_is_rolled_back_while_the_old_replicas_serve() {
    if !daemon_available() {
        return;
    }
    let _turn = turn();
    let (p, port) = stack_up("rollback");
    let old = flaskapp_ids(&p);
    let before = count(&p);

    let load = Load::start(port);
    // The new version fails its healthcheck and every request: none may reach a client.
    change_app(
        &p,
        "\n@app.before_request\ndef broken():\n    return \"broken\\n\", 500\n",
    );
    let out = run_on(&p, port, &["up", "-d", "--build"]);
    let (answered, failed) = load.stop();

    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("service flaskapp") && err.contains("rolled back"),
        "{err}"
    );
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(8)]
    );
    assert_eq!(count(&p) - before, answered, "counted vs answered");
    assert_eq!(flaskapp_ids(&p), old, "the old replicas serve again");
    let ps = run_on(&p, port, &["ps", "--format", "json", "flaskapp"]);
    let ps = json_lines(&String::from_utf8_lossy(&ps.stdout));
    let rows: Vec<(&str, &str)> = ps
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| (c["ID"].as_str().unwrap(), c["State"].as_str().unwrap()))
        .collect();
    assert_eq!(rows.len(), 3, "{ps}");
    for (id, state) in rows {
        assert!(
            old.iter().any(|o| o.starts_with(id)) && state == "running",
            "{ps}"
        );
    }
    for id in &old {
        assert_eq!(inspect(id, "{{.State.Running}}"), "true");
    }
    assert_eq!(p.containers().len(), 6, "{:?}", p.containers());
}

#[test]
fn scaling_in_and_restarting_fail_no_request() {
    if !daemon_available() {
        return;
    }
    let _turn = turn();
    let (p, port) = stack_up("rollscale");
    ok_on(&p, port, &["scale", "flaskapp=5"]);
    // nginx retries a request on another replica when one goes away mid-request, with the same
    // X-Request-Id: however many replicas see it, the visit counts once.
    let before = count(&p);
    let ask = "import urllib.request as u; r = u.Request('http://127.0.0.1:8000/', headers={'X-Request-Id': '00112233445566778899aabbccddeeff'}); print(u.urlopen(r).read().decode())";
    let answers: Vec<String> = [1, 2, 1]
        .iter()
        .map(|n| {
            docker(&[
                "exec",
                &format!("{}-flaskapp-{n}", p.name),
                "python3",
                "-c",
                ask,
            ])
        })
        .collect();
    assert_eq!(count(&p), before + 1, "{answers:?}");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    let before = count(&p);
    let load = Load::start(port);
    std::thread::sleep(Duration::from_secs(3));
    load.mark("scale flaskapp=1");
    let stops = watch_flaskapp(&p, &["kill", "die"]);
    ok_on(&p, port, &["scale", "flaskapp=1"]);
    // parallelism 1: each replica is asked to stop only once the one before has gone.
    stops.wait_for(
        |t| t.matches(" die ").count() >= 4,
        Duration::from_secs(10),
        "four replicas dying",
    );
    let stops: Vec<String> = seen_events(stops).into_iter().map(|e| e.1).collect();
    assert_eq!(stops.len(), 8, "{stops:?}");
    assert!(stops.chunks(2).all(|k| k == ["kill", "die"]), "{stops:?}");
    std::thread::sleep(Duration::from_secs(1));
    load.mark("scale flaskapp=3");
    ok_on(&p, port, &["scale", "flaskapp=3"]);
    load.mark("restart flaskapp");
    let restarted = ok_on(&p, port, &["restart", "flaskapp"]);
    load.mark("restarted");
    std::thread::sleep(Duration::from_secs(2));
    let (answered, failed) = load.stop();

    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(8)]
    );
    assert_eq!(count(&p) - before, answered, "counted vs answered");
    assert_eq!(restarted.matches("Restarted").count(), 3, "{restarted}");
}

#[test]
fn without_update_config_replicas_are_recreated_together() {
    if !daemon_available() {
        return;
    }
    let _turn = turn();
    let (p, port) = stack_copy("together");
    let manifest = std::fs::read_to_string(&p.file).unwrap();
    let start = manifest.find("      update_config:").unwrap();
    let end = manifest[start..].find("    restart:").unwrap() + start;
    std::fs::write(
        &p.file,
        format!("{}{}", &manifest[..start], &manifest[end..]),
    )
    .unwrap();
    ok_on(&p, port, &["up", "-d", "--wait", "--wait-timeout", "180"]);
    let events = watch_flaskapp(&p, &["start", "die"]);

    change_app(&p, "\n# a change that makes a new image\n");
    ok_on(&p, port, &["up", "-d", "--build", "--wait"]);
    events.wait_for(
        |t| t.matches(" start ").count() >= 3,
        Duration::from_secs(10),
        "three starts",
    );
    let events = seen_events(events);
    let last_die = events.iter().filter(|e| e.1 == "die").map(|e| e.0).max();
    let first_start = events.iter().filter(|e| e.1 == "start").map(|e| e.0).min();
    assert_eq!(
        events.iter().filter(|e| e.1 == "die").count(),
        3,
        "{events:?}"
    );
    assert!(
        last_die < first_start,
        "all stopped before any started: {events:?}"
    );
}
