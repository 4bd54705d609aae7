//! `stackctl dashboard` in a real terminal: tmux runs it on a server of the test's own, keys are
//! sent with send-keys and the screen read with capture-pane. Its rows against `ps`, scaling from
//! the keyboard, an OOM kill, the log search, and the terminal given back after Ctrl-C and after
//! the daemon went away under it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// A tmux server and one window of the given size, killed when dropped.
struct Pane {
    socket: String,
}

static PANES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var("CI").is_err(),
        "tmux is needed for the dashboard tests under CI (apt-get install tmux)"
    );
    found
}

impl Pane {
    /// Runs `command` (a shell line) in `dir` in a `width`×`height` terminal.
    fn start(dir: &Path, command: &str, width: u16, height: u16) -> Pane {
        let n = PANES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let pane = Pane {
            socket: format!("stackctl-test-{}-{n}", std::process::id()),
        };
        let ok = pane
            .tmux()
            .args([
                "new-session",
                "-d",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg("-c")
            .arg(dir)
            .arg(command)
            .status()
            .expect("run tmux");
        assert!(ok.success(), "tmux new-session");
        pane
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let ok = self
            .tmux()
            .arg("send-keys")
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(ok.success());
    }

    /// Waits until the screen passes `check`, failing with the screen after `limit`.
    fn until(&self, limit: Duration, what: &str, check: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < limit,
                "not within {limit:?}: {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// The row of `service` in the services table.
fn row<'a>(screen: &'a str, service: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| l.trim_start_matches('│').split_whitespace().next() == Some(service))
}

/// The shell line that runs the dashboard of `p` and then records the terminal's settings.
fn dashboard_line(p: &TestProject, extra_env: &str) -> String {
    format!(
        "{extra_env} {} -f {} -p {} dashboard; echo \"exit $?\"; stty -a > {}/stty; sleep 600",
        stackctl_path().display(),
        p.file.display(),
        p.name,
        p.path().display()
    )
}

/// A terminal given back: canonical mode and echo on, as before the view.
fn assert_restored(p: &TestProject, pane: &Pane) {
    pane.until(Duration::from_secs(10), "the command to end", |s| {
        s.contains("exit 0")
    });
    let stty_file = p.path().join("stty");
    eventually(Duration::from_secs(5), "stty to write its report", || {
        std::fs::read_to_string(&stty_file).is_ok_and(|s| s.contains("icanon"))
    });
    let stty = std::fs::read_to_string(stty_file).unwrap();
    let flags: Vec<&str> = stty
        .split(|c: char| c.is_whitespace() || c == ';')
        .collect();
    assert!(
        flags.contains(&"icanon") && flags.contains(&"echo"),
        "raw mode was left on:\n{stty}"
    );
}

#[test]
fn the_dashboard_shows_what_ps_shows_scales_filters_and_gives_the_terminal_back() {
    if !daemon_available() || !tmux_available() {
        return;
    }
    let p = TestProject::new(
        "dash",
        &format!(
            "services:\n  db:\n    image: {IMG}\n    init: true\n    command: [sh, -c, 'echo db ready; while true; do echo checkpoint; sleep 1; done']\n    healthcheck: {{test: [CMD, 'true'], interval: 1s}}\n  flaskapp:\n    image: {IMG}\n    init: true\n    command: [sh, -c, 'i=0; while true; do i=$$((i+1)); echo \"GET /visit/$$i 200\"; sleep 0.3; done']\n    deploy: {{replicas: 3}}\n    depends_on: [db]\n  hog:\n    image: {IMG}\n    command: [sh, -c, 'echo eating; sleep 3; x=$$(head -c 300000000 /dev/zero | tr \"\\0\" a); echo survived']\n    mem_limit: 32m\n    memswap_limit: 32m\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let pane = Pane::start(p.path(), &dashboard_line(&p, ""), 100, 30);
    let limit = Duration::from_secs(30);
    // The rows say what `ps` says: each service's running replicas.
    let screen = pane.until(limit, "every row", |s| {
        row(s, "flaskapp").is_some_and(|r| r.contains("3/3"))
            && row(s, "db").is_some_and(|r| r.contains("1/1") && r.contains("healthy"))
    });
    let ps = json_lines(&stdout(&p.ok(&["ps", "--format", "json"])));
    for service in ["db", "flaskapp"] {
        let running = ps
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["Service"] == service && c["State"] == "running")
            .count();
        let line = row(&screen, service).unwrap();
        assert!(
            line.contains(&format!("{running}/{running}")),
            "{service}: ps has {running} running, the row says {line}"
        );
    }
    // The OOM killer's work is named in the row.
    pane.until(limit, "hog's OOM kill", |s| {
        row(s, "hog").is_some_and(|r| r.contains("137 OOM"))
    });

    // `+` on flaskapp: a fourth replica, and the row says so within a second of its start.
    // The rows come in dependency order (db and hog, then flaskapp): two Downs select flaskapp.
    pane.keys(&["Down", "Down", "+"]);
    let label = format!("label=com.docker.compose.project={}", p.name);
    let running_flaskapp = || {
        docker(&[
            "ps",
            "--filter",
            &label,
            "--filter",
            "label=com.docker.compose.service=flaskapp",
            "-q",
        ])
        .lines()
        .count()
    };
    eventually(limit, "a fourth flaskapp replica", || {
        running_flaskapp() == 4
    });
    pane.until(Duration::from_secs(1), "the row to say 4/4", |s| {
        row(s, "flaskapp").is_some_and(|r| r.contains("4/4"))
    });

    // `/` keeps the log to the lines that match.
    pane.keys(&["/"]);
    pane.keys(&["-l", "visit/2"]);
    pane.keys(&["Enter"]);
    let screen = pane.until(limit, "the filtered log", |s| {
        s.contains("matching /visit/2")
    });
    let log: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("matching /visit/2"))
        .skip(1)
        .filter(|l| l.contains(" | "))
        .collect();
    assert!(!log.is_empty(), "{screen}");
    assert!(
        log.iter().all(|l| l.contains("visit/2")),
        "lines that do not match:\n{screen}"
    );

    // Ctrl-C: the view ends and the terminal is as it was.
    pane.keys(&["C-c"]);
    assert_restored(&p, &pane);
}

#[test]
fn the_dashboard_outlives_its_daemon_and_still_gives_the_terminal_back() {
    if !daemon_available() || !tmux_available() {
        return;
    }
    let cluster = crate::common::dind::Cluster::start_restartable("fdash");
    let node = &cluster.nodes[0];
    node.load(&[IMG]);
    let p = TestProject::new(
        "fdash",
        &format!(
            "services:\n  count:\n    image: {IMG}\n    init: true\n    restart: always\n    command: [sh, -c, 'i=0; while true; do i=$$((i+1)); echo \"line $$i\"; sleep 0.2; done']\n"
        ),
    );
    let mut up = p.cmd(&["up", "-d"]);
    up.env("DOCKER_HOST", node.host());
    assert!(up.status().unwrap().success());
    let env = format!("DOCKER_HOST={}", node.host());
    let pane = Pane::start(p.path(), &dashboard_line(&p, &env), 80, 24);
    let limit = Duration::from_secs(60);
    pane.until(limit, "the counter's row and lines", |s| {
        row(s, "count").is_some_and(|r| r.contains("1/1")) && s.contains("line 3")
    });
    node.kill_daemon();
    pane.until(limit, "the view to say the daemon is gone", |s| {
        s.lines().next().unwrap_or("").contains("daemon gone")
    });
    node.start_daemon();
    // Back: the banner goes, and the restarted counter's lines flow into the log again.
    let back = pane.until(Duration::from_secs(90), "the view to list again", |s| {
        !s.lines().next().unwrap_or("").contains("daemon gone")
            && row(s, "count").is_some_and(|r| r.contains("1/1"))
    });
    let last_line = |s: &str| -> String {
        s.lines()
            .rev()
            .find(|l| l.contains("count-1 | line"))
            .unwrap_or("")
            .to_owned()
    };
    let then = last_line(&back);
    pane.until(limit, "new lines after the daemon's return", |s| {
        let now = last_line(s);
        !now.is_empty() && now != then
    });
    pane.keys(&["q"]);
    assert_restored(&p, &pane);
}

#[test]
fn off_a_terminal_the_dashboard_prints_ps_and_one_stats_sample() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "dashplain",
        &format!(
            "services:\n  one:\n    image: {IMG}\n    init: true\n    command: [sleep, infinity]\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let out = p.ok(&["dashboard"]);
    let text = stdout(&out);
    let name = format!("{}-one-1", p.name);
    assert!(
        text.contains("NAME") && text.contains("CPU %") && text.matches(&name).count() == 2,
        "{text}"
    );
}

#[test]
fn the_keys_stop_start_restart_open_a_shell_show_checks_and_bring_the_project_up_again() {
    if !daemon_available() || !tmux_available() {
        return;
    }
    let port = free_port();
    let manifest = |mode: &str| {
        format!(
            "services:\n  box:\n    image: {IMG}\n    init: true\n    command: [sleep, infinity]\n    ports: [\"127.0.0.1:{port}:80\"]\n    environment: {{MODE: {mode}}}\n  sick:\n    image: {IMG}\n    init: true\n    command: [sleep, infinity]\n    healthcheck: {{test: [CMD, sh, -c, 'echo broken pipe to db; exit 3'], interval: 1s, retries: 1}}\n"
        )
    };
    let p = TestProject::new("dashkeys", &manifest("a"));
    p.ok(&["up", "-d"]);
    let pane = Pane::start(p.path(), &dashboard_line(&p, ""), 100, 30);
    let limit = Duration::from_secs(30);
    let box_name = format!("{}-box-1", p.name);
    let state = || inspect(&box_name, "{{.State.Status}} {{.State.StartedAt}}");
    // The rows come sorted within a level: box is selected first.
    pane.until(limit, "both rows", |s| {
        row(s, "box").is_some_and(|r| r.contains("1/1")) && row(s, "sick").is_some()
    });

    pane.keys(&["o"]);
    pane.until(limit, "box's URL", |s| {
        s.contains(&format!("http://127.0.0.1:{port}"))
    });

    pane.keys(&["s"]);
    pane.until(limit, "box stopped", |s| {
        row(s, "box").is_some_and(|r| r.contains("0/1"))
    });
    assert!(state().starts_with("exited"), "{}", state());
    pane.keys(&["s"]);
    pane.until(limit, "box started", |s| {
        row(s, "box").is_some_and(|r| r.contains("1/1"))
    });
    let started = state();
    assert!(started.starts_with("running"), "{started}");

    pane.keys(&["r"]);
    pane.until(limit, "the restart's note", |s| s.contains("box restarted"));
    let restarted = state();
    assert!(
        restarted.starts_with("running") && restarted != started,
        "{started} → {restarted}"
    );

    // A shell in box: the view steps aside, the shell answers, and the view comes back.
    pane.keys(&["e"]);
    pane.until(limit, "a shell prompt", |s| {
        s.lines().any(|l| l.trim() == "#")
    });
    pane.keys(&["-l", "echo shell-$((6*7)) $MODE"]);
    pane.keys(&["Enter"]);
    pane.until(limit, "the shell's answer", |s| s.contains("shell-42 a"));
    pane.keys(&["-l", "exit 5"]);
    pane.keys(&["Enter"]);
    pane.until(limit, "the view again", |s| {
        s.contains("the shell ended with code 5") && row(s, "box").is_some()
    });

    // The failing check's own words, on demand; any key closes them.
    pane.keys(&["Down", "h"]);
    pane.until(limit, "sick's last failed check", |s| {
        s.contains("exit 3: broken pipe to db")
    });
    pane.keys(&["Escape", "Up"]);

    // An edited file, then `u`: box is recreated with the new environment.
    let before = p.id(&box_name);
    p.write(&manifest("b"));
    pane.keys(&["u"]);
    pane.until(Duration::from_secs(60), "up's note", |s| {
        s.contains("the project is as its files say")
    });
    assert_ne!(p.id(&box_name), before, "box was recreated");
    assert!(inspect(&box_name, "{{json .Config.Env}}").contains("MODE=b"));

    pane.keys(&["q"]);
    assert_restored(&p, &pane);
}

#[test]
fn d_in_attached_up_with_menu_opens_the_dashboard_and_the_stack_runs_on() {
    if !daemon_available() || !tmux_available() {
        return;
    }
    let p = TestProject::new(
        "dashmenu",
        &format!(
            "services:\n  talk:\n    image: {IMG}\n    init: true\n    command: [sh, -c, 'i=0; while true; do i=$$((i+1)); echo \"said $$i\"; sleep 0.2; done']\n"
        ),
    );
    let line = format!(
        "{} -f {} -p {} up --menu; echo \"exit $?\"; stty -a > {}/stty; sleep 600",
        stackctl_path().display(),
        p.file.display(),
        p.name,
        p.path().display()
    );
    let pane = Pane::start(p.path(), &line, 100, 30);
    let limit = Duration::from_secs(30);
    pane.until(limit, "the attached log and the menu's word", |s| {
        s.contains("Press d for the dashboard") && s.contains("said 3")
    });
    pane.keys(&["d"]);
    pane.until(limit, "the dashboard", |s| {
        row(s, "talk").is_some_and(|r| r.contains("1/1"))
    });
    pane.keys(&["q"]);
    pane.until(limit, "the word that the stack runs on", |s| {
        s.contains("keeps running")
    });
    assert_restored(&p, &pane);
    assert_eq!(
        inspect(&format!("{}-talk-1", p.name), "{{.State.Status}}"),
        "running",
        "leaving for the dashboard does not stop the stack"
    );
}
