//! Faults, tried as a user meets them: Ctrl-C at random moments, two runs at once, a foreign object
//! in the way, stale events, odd bytes, crash loops and OOM kills, a daemon that stalls. Trials that
//! pick moments at random take them from a seeded generator (`STACKCTL_FAULT_SEED` replays a run).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A small deterministic generator (xorshift), so that a failing trial can be replayed.
struct Moments(u64);

impl Moments {
    fn new(test: &str) -> Self {
        let seed = std::env::var("STACKCTL_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed_u64);
        eprintln!("{test}: STACKCTL_FAULT_SEED={seed}");
        Moments((seed ^ (test.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1)
    }

    /// A delay in `0..max_ms` milliseconds.
    fn delay(&mut self, max_ms: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(self.0 % max_ms)
    }
}

fn sigint(child: &Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
}

/// Starts `args`, presses Ctrl-C after `after`, and returns how it ended (None: killed by the
/// signal before its handler was in place, which is an outcome too).
fn interrupt(p: &TestProject, args: &[&str], after: Duration) -> (Option<i32>, String) {
    let child = p
        .cmd(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stackctl");
    std::thread::sleep(after);
    sigint(&child);
    let out = child.wait_with_output().expect("wait");
    (out.status.code(), stderr(&out))
}

fn volume_exists(name: &str) -> bool {
    docker_ok(&["volume", "inspect", name])
}

fn running(p: &TestProject) -> BTreeSet<String> {
    let label = format!("label=com.docker.compose.project={}", p.name);
    docker(&[
        "ps",
        "--filter",
        &label,
        "--filter",
        "status=running",
        "--format",
        "{{.Names}}",
    ])
    .lines()
    .filter(|l| !l.is_empty())
    .map(str::to_owned)
    .collect()
}

fn project_networks(p: &TestProject) -> Vec<String> {
    let label = format!("label=com.docker.compose.project={}", p.name);
    docker(&["network", "ls", "-q", "--filter", &label])
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn names(p: &TestProject, parts: &[&str]) -> BTreeSet<String> {
    parts.iter().map(|s| format!("{}-{s}", p.name)).collect()
}

/// db (named volume) ← a ×3 ← web ×2; the programs ignore SIGTERM, so each level's stop takes
/// its grace period and `down` takes several seconds.
fn layered_stack(grace: &str) -> String {
    format!(
        "services:
  db:
    image: {IMG}
    command: [sleep, infinity]
    stop_grace_period: {grace}
    volumes: [dbdata:/data]
  a:
    image: {IMG}
    command: [sleep, infinity]
    stop_grace_period: {grace}
    depends_on: [db]
    deploy: {{ replicas: 3 }}
  web:
    image: {IMG}
    command: [sleep, infinity]
    stop_grace_period: {grace}
    depends_on: [a]
    deploy: {{ replicas: 2 }}
volumes:
  dbdata: {{}}
"
    )
}

#[test]
fn ctrl_c_during_down_v_never_removes_a_volume() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("fdownv", &layered_stack("1s"));
    let volume = format!("{}_dbdata", p.name);
    let want = names(&p, &["db-1", "a-1", "a-2", "a-3", "web-1", "web-2"]);
    let mut moments = Moments::new("ctrl_c_during_down_v_never_removes_a_volume");
    for trial in 0..10 {
        p.ok(&["up", "-d"]);
        assert_eq!(running(&p), want, "trial {trial}: up converges");
        // Three levels of 1 s stops: the interrupt always comes before the volumes' turn.
        let after = moments.delay(900);
        let (code, err) = interrupt(&p, &["down", "-v"], after);
        assert!(
            code == Some(130) || code.is_none(),
            "trial {trial} (Ctrl-C after {after:?}): exit {code:?}\n{err}"
        );
        assert!(
            volume_exists(&volume),
            "trial {trial} (Ctrl-C after {after:?}): the volume went after Ctrl-C\n{err}"
        );
        assert!(!err.contains("Volume"), "trial {trial}: {err}");
    }
    p.ok(&["up", "-d"]);
    assert_eq!(running(&p), want);
    p.ok(&["down", "-v", "-t", "0"]);
    assert!(!volume_exists(&volume));
    assert!(p.containers().is_empty());
}

/// `stop`, `restart` and `rm -sf` take Ctrl-C as `down` does: the stops in flight finish (their
/// grace periods run out), the command says so and exits 130, and what it had begun is done.
#[test]
fn ctrl_c_during_stop_restart_and_rm_finishes_the_steps_in_flight() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("fstop", &layered_stack("2s"));
    for verb in [&["stop"][..], &["restart"][..], &["rm", "-s", "-f"][..]] {
        p.ok(&["up", "-d"]);
        let (code, err) = interrupt(&p, verb, Duration::from_millis(800));
        assert_eq!(code, Some(130), "{verb:?}: {err}");
        assert!(
            err.contains("Interrupted: finishing the steps in flight"),
            "{verb:?}: {err}"
        );
        if verb == ["restart"] {
            // A restart begun is finished: nothing is left stopped half-way.
            assert_eq!(running(&p).len(), 6, "{verb:?}: {:?}\n{err}", running(&p));
        } else {
            // Each stop the command had begun was seen through.
            let begun: BTreeSet<String> = err
                .lines()
                .filter(|l| l.contains("Stopping"))
                .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
                .collect();
            assert!(!begun.is_empty(), "{verb:?}: {err}");
            assert!(
                running(&p).is_disjoint(&begun),
                "{verb:?}: {:?}\n{err}",
                running(&p)
            );
        }
    }
    p.ok(&["down", "-v", "-t", "0"]);
}

/// a ×2 ← web, quick to stop; `a_extra` goes into a's definition, `tail` after the services.
fn two_tiers(a_extra: &str, tail: &str) -> String {
    format!(
        "services:
  a:
    image: {IMG}
    command: [sleep, infinity]
    init: true
{a_extra}    deploy: {{ replicas: 2 }}
  web:
    image: {IMG}
    command: [sleep, infinity]
    init: true
    depends_on: [a]
{tail}"
    )
}

#[test]
fn ctrl_c_during_up_scale_and_recreate_then_up_converges() {
    if !daemon_available() {
        return;
    }
    let manifest = two_tiers("    volumes: [data:/data]\n", "volumes:\n  data: {}\n");
    let p = TestProject::new("fints", &manifest);
    let volume = format!("{}_data", p.name);
    let want = names(&p, &["a-1", "a-2", "web-1"]);
    let mut moments = Moments::new("ctrl_c_during_up_scale_and_recreate_then_up_converges");
    let steps: [&[&str]; 3] = [
        &["up", "-d"],
        &["scale", "a=5"],
        &["up", "-d", "--force-recreate"],
    ];
    for trial in 0..10 {
        p.ok(&["down", "-t", "0"]);
        for args in steps {
            let after = moments.delay(700);
            let (code, err) = interrupt(&p, args, after);
            assert!(
                matches!(code, Some(0) | Some(130) | None),
                "trial {trial}: {args:?} interrupted after {after:?}: exit {code:?}\n{err}"
            );
            p.ok(&["up", "-d"]);
            let all: BTreeSet<String> = p.containers().into_iter().collect();
            assert_eq!(
                all, want,
                "trial {trial}: `up` after {args:?} interrupted after {after:?}"
            );
            assert_eq!(
                running(&p),
                want,
                "trial {trial}: all running after {args:?} interrupted after {after:?}: {}\n{err}",
                docker(&[
                    "ps",
                    "-a",
                    "--filter",
                    &format!("label=com.docker.compose.project={}", p.name),
                    "--format",
                    "{{.Names}} {{.Status}}"
                ])
            );
            assert!(volume_exists(&volume), "trial {trial}: the volume is kept");
        }
    }
}

#[test]
fn two_runs_at_once_never_wedge_a_project() {
    if !daemon_available() {
        return;
    }
    let manifest = two_tiers("", "");
    let p = TestProject::new("frace", &manifest);
    let both = |x: &[&str], y: &[&str]| {
        let one = p
            .cmd(x)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let two = p
            .cmd(y)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let one = one.expect("spawn").wait_with_output().expect("wait");
        let two = two.expect("spawn").wait_with_output().expect("wait");
        assert!(
            one.status.success() && two.status.success(),
            "{x:?}: {}\n{y:?}: {}",
            stderr(&one),
            stderr(&two)
        );
    };
    for trial in 0..10 {
        both(&["up", "-d"], &["up", "-d"]);
        assert_eq!(project_networks(&p).len(), 1, "trial {trial}: one network");
        assert_eq!(running(&p), names(&p, &["a-1", "a-2", "web-1"]));
        both(&["scale", "a=5"], &["scale", "a=2"]);
        let a: BTreeSet<String> = running(&p)
            .into_iter()
            .filter(|n| n.contains("-a-"))
            .collect();
        assert!(
            a == names(&p, &["a-1", "a-2"]) || a == names(&p, &["a-1", "a-2", "a-3", "a-4", "a-5"]),
            "trial {trial}: replicas {a:?}"
        );
        p.ok(&["up", "-d"]);
        p.ok(&["down", "-t", "0"]);
        assert!(p.containers().is_empty(), "trial {trial}");
        assert!(project_networks(&p).is_empty(), "trial {trial}");
    }
}

/// A network someone else made, removed when the test ends.
struct ForeignNetwork(String);

impl Drop for ForeignNetwork {
    fn drop(&mut self) {
        docker(&["network", "rm", &self.0]);
    }
}

#[test]
fn a_foreign_network_with_the_projects_name_is_refused_before_anything_is_created() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "fforeign",
        &format!(
            "services:\n  a:\n    image: {IMG}\n    command: [sleep, infinity]\n    volumes: [v:/v]\nvolumes:\n  v: {{}}\n"
        ),
    );
    let net = ForeignNetwork(format!("{}_default", p.name));
    assert!(docker_ok(&["network", "create", &net.0]));
    let out = p.run(&["up", "-d"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("a network named {} already exists", net.0))
            && err.contains("docker network rm"),
        "{err}"
    );
    assert!(p.containers().is_empty(), "nothing created");
    assert!(project_networks(&p).is_empty(), "no twin network");
    assert!(!volume_exists(&format!("{}_v", p.name)), "no volume");
    let same_name = docker(&[
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("name=^{}$", net.0),
    ]);
    assert_eq!(
        same_name.lines().count(),
        1,
        "the owner's name stays unique"
    );
}

/// Creates a network through the API as two racing runs did: the CLI refuses a second one of the
/// same name, the API (Engine 20.10) does not.
fn create_labelled_network(project: &str, name: &str) -> bool {
    let body = format!(
        r#"{{"Name":"{name}","CheckDuplicate":false,"Labels":{{"com.docker.compose.project":"{project}","com.docker.compose.network":"default"}}}}"#
    );
    Command::new("curl")
        .args([
            "-sf",
            "--unix-socket",
            "/var/run/docker.sock",
            "-H",
            "Content-Type: application/json",
            "-d",
            &body,
            "http://localhost/networks/create",
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn twin_networks_left_by_a_race_are_cleaned_up() {
    if !local_daemon_available("twin networks are made through the host's socket") {
        return;
    }
    let p = TestProject::new("ftwins", &format!("services:\n  a:\n{SLEEPS}"));
    let name = format!("{}_default", p.name);
    if !(create_labelled_network(&p.name, &name) && create_labelled_network(&p.name, &name)) {
        eprintln!(
            "skipped: this daemon refuses two networks of one name, so no race can make them"
        );
        return;
    }
    assert_eq!(project_networks(&p).len(), 2);
    let out = p.ok(&["up", "-d"]);
    assert!(
        stderr(&out).contains(&format!("removed a second network named {name}")),
        "{}",
        stderr(&out)
    );
    assert_eq!(project_networks(&p).len(), 1);
    assert_eq!(running(&p), names(&p, &["a-1"]));
    p.ok(&["down", "-t", "0"]);
    assert!(create_labelled_network(&p.name, &name) && create_labelled_network(&p.name, &name));
    p.ok(&["down"]);
    assert!(project_networks(&p).is_empty(), "down removes both");
}

/// Reads a child's stdout and stderr in threads, so that it can be stopped at any time.
fn read_for(mut child: Child, how_long: Duration) -> String {
    fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut all = Vec::new();
            let _ = r.read_to_end(&mut all);
            all
        })
    }
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    std::thread::sleep(how_long);
    sigint(&child);
    let _ = child.wait();
    let mut all = out.join().unwrap_or_default();
    all.extend(err.join().unwrap_or_default());
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn logs_follow_after_down_and_up_shows_nothing_of_the_previous_containers() {
    if !daemon_available() {
        return;
    }
    // No init: `down -t 0` kills it, exit 137, as in the report.
    let p = TestProject::new(
        "fstale",
        &format!(
            "services:\n  talk:\n    image: {IMG}\n    command: [sh, -c, 'echo run-$$HOSTNAME; exec sleep infinity']\n"
        ),
    );
    for trial in 0..3 {
        p.ok(&["up", "-d"]);
        p.ok(&["down", "-t", "0"]);
        p.ok(&["up", "-d"]);
        let child = p
            .cmd(&["logs", "-f"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn logs -f");
        let seen = read_for(child, Duration::from_millis(1500));
        assert!(
            !seen.contains("exited with code") && !seen.contains("removed"),
            "trial {trial}: a previous container's events came back:\n{seen}"
        );
        assert_eq!(seen.matches("run-").count(), 1, "trial {trial}:\n{seen}");
    }
}

#[test]
fn logs_give_the_bytes_the_container_wrote() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "fbytes",
        &format!(
            "services:\n  odd:\n    image: {IMG}\n    command: [sh, -c, 'printf \"crlf1\\r\\nmid\\rline\\n\"; printf \"bad\\377\\376x\\n\"; printf \"no end\"; exec sleep infinity']\n    init: true\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let c = format!("{}-odd-1", p.name);
    std::thread::sleep(Duration::from_millis(500));
    let theirs = Command::new("docker")
        .args(["logs", &c])
        .output()
        .expect("docker logs")
        .stdout;
    let ours = p
        .ok(&["logs", "--no-log-prefix", "--no-color", "odd"])
        .stdout;
    assert!(theirs.starts_with(b"crlf1\r\nmid\rline\n"), "{theirs:?}");
    // A last line without its newline is shown as a line.
    let mut want = theirs.clone();
    if !want.ends_with(b"\n") {
        want.push(b'\n');
    }
    assert_eq!(
        ours,
        want,
        "ours:   {:?}\ntheirs: {:?}",
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
}

#[test]
fn a_crash_looping_container_fails_wait_naming_it_and_its_exit_code() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "floop",
        &format!(
            "services:\n  crash:\n    image: {IMG}\n    command: [sh, -c, 'sleep 0.3; exit 137']\n    restart: always\n  fine:\n{SLEEPS}"
        ),
    );
    let t = Instant::now();
    let out = p.run(&["up", "-d", "--wait"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "container {}-crash-1 exited with code 137",
            p.name
        )),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    // A steady container passes, once it has run for the stated window.
    let steady = TestProject::new("fsteady", &format!("services:\n  fine:\n{SLEEPS}"));
    let out = steady.ok(&["up", "-d", "--wait"]);
    assert!(stdout(&out).contains("Running") || stderr(&out).contains("Running"));
}

#[test]
fn an_oom_killed_container_is_said_to_be_in_ps_and_logs_follow() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "foom",
        &format!(
            "services:\n  hog:\n    image: {IMG}\n    command: [sh, -c, 'echo eating; sleep 2; x=$$(head -c 300000000 /dev/zero | tr \"\\0\" a); echo survived']\n    mem_limit: 32m\n    memswap_limit: 32m\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let out = p.cmd(&["logs", "-f"]).output().expect("logs -f");
    // Lines on stdout, the view's status lines on stderr.
    let seen = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        seen.contains("eating") && !seen.contains("survived"),
        "{seen}"
    );
    assert!(
        seen.contains("exited with code 137, killed for want of memory (OOM)"),
        "{seen}"
    );
    let table = stdout(&p.ok(&["ps", "-a"]));
    assert!(table.contains("exited (137, OOM-killed)"), "{table}");
    let json = json_lines(&stdout(&p.ok(&["ps", "-a", "--format", "json"])));
    assert_eq!(json[0]["OOMKilled"], true, "{json}");
    assert_eq!(json[0]["ExitCode"], 137, "{json}");
    // A template that shows it asks the daemon for it; one that does not, not.
    let shown = p.ok(&["ps", "-a", "--format", "{{.Name}} {{.OOMKilled}}"]);
    assert!(stdout(&shown).ends_with(" true\n"), "{}", stdout(&shown));
}

/// A daemon that answers `/version` (so connecting works) and then stalls every other call: a
/// proxy on 127.0.0.1 in front of the host's daemon.
struct StallingDaemon {
    port: u16,
}

impl StallingDaemon {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || serve(conn));
            }
        });
        StallingDaemon { port }
    }
}

fn serve(mut client: TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let first = text.lines().next().unwrap_or_default().to_owned();
    if !first.contains("/version") {
        // Stall: hold the connection, answer nothing.
        std::thread::sleep(Duration::from_secs(120));
        return;
    }
    let Ok(mut upstream) = std::os::unix::net::UnixStream::connect("/var/run/docker.sock") else {
        return;
    };
    let request = text.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    let _ = upstream.write_all(request.as_bytes());
    let mut answer = Vec::new();
    let _ = upstream.read_to_end(&mut answer);
    let _ = client.write_all(&answer);
}

#[test]
fn a_stalled_daemon_is_reported_within_the_bound() {
    if !local_daemon_available("the stalling proxy fronts the host's socket") {
        return;
    }
    let stall = StallingDaemon::start();
    let host = format!("tcp://127.0.0.1:{}", stall.port);
    let p = TestProject::new(
        "fstall",
        &format!("services:\n  a:\n    image: {IMG}\n    command: [sleep, infinity]\n"),
    );
    for args in [&["ps"][..], &["up", "-d"][..]] {
        let t = Instant::now();
        let out = p
            .cmd(args)
            .env("DOCKER_HOST", &host)
            .env("STACKCTL_API_TIMEOUT", "2")
            .output()
            .expect("run");
        let took = t.elapsed();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "the Docker daemon at {host} did not answer within 2 s"
            )),
            "{args:?}: {err}"
        );
        assert!(took < Duration::from_secs(8), "{args:?} took {took:?}");
    }
}

#[test]
fn logs_follow_outlives_a_daemon_restart_losing_and_repeating_nothing() {
    if !local_daemon_available("the node's daemon is killed through the host's daemon") {
        return;
    }
    let cluster = crate::common::dind::Cluster::start_restartable("fdaemon");
    let node = &cluster.nodes[0];
    node.load(&[IMG]);
    let p = TestProject::new(
        "fdaemon",
        &format!(
            "services:\n  count:\n    image: {IMG}\n    command: [sh, -c, 'i=0; while true; do i=$$((i+1)); echo \"line $$i\"; sleep 0.1; done']\n    init: true\n    restart: always\n"
        ),
    );
    let on_node = |args: &[&str]| {
        let mut c = p.cmd(args);
        c.env("DOCKER_HOST", node.host());
        c
    };
    assert!(on_node(&["up", "-d"]).status().expect("up").success());
    let follower = Follower::start(on_node(&["logs", "-f", "--no-log-prefix"]));
    let limit = Duration::from_secs(60);
    follower.wait_for(|t| t.contains("line 10\n"), limit, "line 10");
    node.kill_daemon();
    std::thread::sleep(Duration::from_secs(10));
    node.start_daemon();
    // The restart policy starts the counter again: its first lines come a second time.
    let restarted = |t: &str| t.lines().filter(|l| *l == "line 5").count() >= 2;
    let seen = follower.until(restarted, limit);
    assert!(restarted(&seen), "no line after the restart:\n{seen}");
    let ours = follower.stop();
    let theirs = node.docker(&["logs", &format!("{}-count-1", p.name)]);
    let ours: Vec<&str> = ours.lines().collect();
    let theirs: Vec<&str> = theirs.lines().collect();
    assert!(
        theirs.len() >= ours.len() && theirs[..ours.len()] == ours[..],
        "what logs -f showed is not what the daemon holds, in order, once each:\nours ({}): {:?}\ntheirs ({}): {:?}",
        ours.len(),
        ours,
        theirs.len(),
        theirs
    );
}
