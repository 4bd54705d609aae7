//! `stackctl logs` against the real daemon: prefixes, following through restarts and scale-ups,
//! long and multi-byte lines, --tail / --since / --index, and the time-ordered merge.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

fn stop(child: Child) -> String {
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts a following `stackctl logs`, its output captured for `stop`.
fn follow(p: &TestProject, args: &[&str]) -> Child {
    p.cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Polls `stackctl logs` output of `p` until `pred` holds (containers print asynchronously).
fn logs_until(p: &TestProject, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    let t = Instant::now();
    loop {
        let out = stdout(&p.ok(args));
        if pred(&out) || t.elapsed() > Duration::from_secs(15) {
            return out;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn every_replica_of_every_service_appears_with_its_prefix() {
    if !daemon_available() {
        return;
    }
    let manifest = format!(
        "services:\n  alpha:\n    image: {IMG}\n    command: [sh, -c, 'echo hello from $$(hostname); exec sleep infinity']\n    init: true\n    deploy: {{replicas: 2}}\n  beta:\n    image: {IMG}\n    command: [sh, -c, 'echo beta says hi >&2; exec sleep infinity']\n    init: true\n"
    );
    let p = TestProject::new("logprefix", &manifest);
    p.ok(&["up", "-d"]);
    let n = &p.name;
    let out = logs_until(&p, &["logs", "--no-color"], |o| o.lines().count() >= 2);
    // Named as compose names them (without the project), padded one past the longest.
    let width = "alpha-1".len() + 1;
    for i in [1, 2] {
        let c = format!("alpha-{i}");
        let host = inspect(&format!("{n}-{c}"), "{{.Config.Hostname}}");
        assert!(
            out.lines()
                .any(|l| l == format!("{c:<width$} | hello from {host}")),
            "{c} missing in:\n{out}"
        );
    }
    // stderr lines go to stderr, prefixed too.
    let t = Instant::now();
    let err = loop {
        let e = stderr(&p.ok(&["logs", "--no-color", "beta"]));
        if e.contains("beta says hi") || t.elapsed() > Duration::from_secs(10) {
            break e;
        }
    };
    assert!(
        err.lines()
            .any(|l| l.starts_with("beta-1 ") && l.ends_with("| beta says hi")),
        "{err}"
    );
    // --no-log-prefix prints the bare lines.
    let bare = stdout(&p.ok(&["logs", "--no-log-prefix", "--index", "1", "alpha"]));
    assert!(bare.starts_with("hello from "), "{bare}");
}

#[test]
fn follow_survives_a_restart_and_picks_up_new_replicas_without_replaying() {
    if !daemon_available() {
        return;
    }
    let manifest = format!(
        "services:\n  app:\n    image: {IMG}\n    command: [sh, -c, 'echo boot $$(date +%s%N); while sleep 0.3; do echo tick; done']\n    init: true\n"
    );
    let p = TestProject::new("logfollow", &manifest);
    p.ok(&["up", "-d"]);
    let n = &p.name;
    let follower = Follower::start(p.cmd(&["logs", "-f", "--no-color"]));
    let boots_of = |text: &str, who: &str| {
        text.lines()
            .filter(|l| l.starts_with(&format!("{who} ")) && l.contains("| boot "))
            .count()
    };
    let limit = Duration::from_secs(15);
    follower.wait_for(|t| t.contains("| tick"), limit, "a tick");
    docker(&["restart", "-t", "1", &format!("{n}-app-1")]);
    follower.wait_for(|t| boots_of(t, "app-1") >= 2, limit, "app-1 booting again");
    p.ok(&["scale", "app=2"]);
    follower.wait_for(|t| boots_of(t, "app-2") >= 1, limit, "app-2 booting");
    // Time for a replayed line, if one were coming.
    std::thread::sleep(Duration::from_millis(1000));
    let out = follower.stop();
    let boots: Vec<&str> = out.lines().filter(|l| l.contains("| boot ")).collect();
    let first: Vec<&&str> = boots.iter().filter(|l| l.starts_with("app-1 ")).collect();
    assert_eq!(
        first.len(),
        2,
        "app-1 boots once, restarts once; each boot line exactly once:\n{out}"
    );
    assert_ne!(first[0], first[1]);
    assert!(
        boots.iter().any(|l| l.starts_with("app-2 ")),
        "the scaled-up replica joins:\n{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("app-2 ") && l.ends_with("| tick"))
    );
}

#[test]
fn follow_with_index_keeps_a_container_name_service_across_a_restart() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("logindex", "");
    let custom = format!("{}-custom", p.name);
    p.write(&format!(
        "services:\n  app:\n    image: {IMG}\n    container_name: {custom}\n    command: [sh, -c, 'echo boot $$(date +%s%N); exec sleep infinity']\n    init: true\n"
    ));
    p.ok(&["up", "-d"]);
    let follower = Follower::start(p.cmd(&["logs", "-f", "--no-color", "--index", "1", "app"]));
    let boots_in = |t: &str| t.lines().filter(|l| l.contains("| boot ")).count();
    let limit = Duration::from_secs(15);
    follower.wait_for(|t| boots_in(t) >= 1, limit, "the first boot");
    docker(&["restart", "-t", "1", &custom]);
    follower.wait_for(|t| boots_in(t) >= 2, limit, "the boot after the restart");
    std::thread::sleep(Duration::from_millis(1000));
    let out = follower.stop();
    let boots = boots_in(&out);
    assert_eq!(
        boots, 2,
        "the first boot and the one after the restart:\n{out}"
    );
}

#[test]
fn long_and_multibyte_lines_come_out_whole() {
    if !daemon_available() {
        return;
    }
    let manifest = format!(
        "services:\n  big:\n    image: {IMG}\n    command: [sh, -c, \"head -c 102400 /dev/zero | tr '\\\\0' x; echo; printf 'h\\\\303\\\\251llo \\\\342\\\\234\\\\223 end\\\\n'; exec sleep infinity\"]\n    init: true\n"
    );
    let p = TestProject::new("loglong", &manifest);
    p.ok(&["up", "-d"]);
    let out = logs_until(&p, &["logs", "--no-log-prefix"], |o| o.contains("end"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "{}",
        out.chars().take(200).collect::<String>()
    );
    assert_eq!(lines[0].len(), 102400);
    assert!(lines[0].bytes().all(|b| b == b'x'));
    assert_eq!(lines[1], "héllo ✓ end");

    // The daemon keeps the long line as 16 KiB pieces, each with its own timestamp: with -t the line
    // shows one timestamp, its first; following (which reads timestamps to resume) shows none.
    let out = logs_until(&p, &["logs", "--no-log-prefix", "-t"], |o| {
        o.contains("end")
    });
    let (stamp, text) = out
        .lines()
        .next()
        .unwrap_or("")
        .split_once(' ')
        .unwrap_or_default();
    assert!(stamp.ends_with('Z') && stamp.contains('T'), "{stamp}");
    assert_eq!(text.len(), 102400, "{}", &text[..text.len().min(200)]);
    assert!(text.bytes().all(|b| b == b'x'));
    let follower = follow(&p, &["logs", "--no-log-prefix", "-f"]);
    std::thread::sleep(Duration::from_millis(1500));
    let out = stop(follower);
    let first = out.lines().next().unwrap_or("");
    assert_eq!(first.len(), 102400, "{}", &first[..first.len().min(200)]);
}

#[test]
fn tail_since_index_and_time_ordered_merge_select_exactly() {
    if !daemon_available() {
        return;
    }
    let manifest = format!(
        r#"
services:
  count:
    image: {IMG}
    command: [sh, -c, 'for i in 1 2 3 4 5 6 7 8 9 10; do echo line $$i; done; sleep 2; echo late; exec sleep infinity']
    init: true
    deploy: {{replicas: 2}}
  a:
    image: {IMG}
    command: [sh, -c, 'echo a1; sleep 0.6; echo a2; exec sleep infinity']
    init: true
  b:
    image: {IMG}
    command: [sh, -c, 'sleep 0.3; echo b1; sleep 0.6; echo b2; exec sleep infinity']
    init: true
"#
    );
    let p = TestProject::new("logselect", &manifest);
    p.ok(&["up", "-d"]);
    let n = &p.name;
    logs_until(&p, &["logs", "--no-log-prefix", "count"], |o| {
        o.matches("late").count() == 2
    });
    logs_until(&p, &["logs", "--no-log-prefix", "a", "b"], |o| {
        o.contains("b2")
    });

    let tail = stdout(&p.ok(&[
        "logs",
        "--no-log-prefix",
        "--tail",
        "3",
        "--index",
        "1",
        "count",
    ]));
    assert_eq!(tail, "line 9\nline 10\nlate\n");

    let both = stdout(&p.ok(&["logs", "--no-color", "--tail", "1", "count"]));
    let mut both: Vec<&str> = both.lines().collect();
    both.sort();
    assert_eq!(both, ["count-1  | late", "count-2  | late"]);
    let only2 = stdout(&p.ok(&["logs", "--no-color", "--tail", "1", "--index", "2", "count"]));
    assert_eq!(only2, "count-2  | late\n");

    // --since the second of the `late` line: the ten early lines, two seconds before, are left out.
    let stamped = stdout(&p.ok(&[
        "logs",
        "-t",
        "--no-log-prefix",
        "--tail",
        "1",
        "--index",
        "1",
        "count",
    ]));
    let ts = stamped.split_whitespace().next().unwrap().to_owned();
    let second = &ts[..19];
    let since = stdout(&p.ok(&[
        "logs",
        "--no-log-prefix",
        "--since",
        &format!("{second}Z"),
        "--index",
        "1",
        "count",
    ]));
    assert_eq!(since, "late\n");

    // The merge puts both services' lines in the daemon's time order: the expected order comes
    // from the daemon's own timestamps (the two containers need not start at the same moment).
    let merged = stdout(&p.ok(&["logs", "--merge-time", "--no-log-prefix", "a", "b"]));
    let mut stamped: Vec<(String, String)> = Vec::new();
    for c in [format!("{n}-a-1"), format!("{n}-b-1")] {
        for l in docker(&["logs", "-t", &c]).lines() {
            let (ts, text) = l.split_once(' ').unwrap();
            // RFC 3339 with the fraction padded to nine digits sorts as text.
            let (secs, frac) = ts
                .trim_end_matches('Z')
                .split_once('.')
                .unwrap_or((ts.trim_end_matches('Z'), "0"));
            stamped.push((format!("{secs}.{frac:0<9}"), text.to_owned()));
        }
    }
    stamped.sort();
    let expected: String = stamped.iter().map(|(_, t)| format!("{t}\n")).collect();
    assert_eq!(merged, expected);
    assert_eq!(merged.lines().count(), 4);
}

/// Peak resident memory of a process, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_reader_that_does_not_keep_up_slows_logs_down_without_growing_its_memory() {
    if !daemon_available() {
        return;
    }
    // About 40 MB of output; nobody reads stackctl's stdout while the container writes it. The log
    // is given room for all of it (a daemon set to rotate at 10 MB would drop lines a slow reader
    // has not reached yet, for every client alike).
    let manifest = format!(
        "services:\n  flood:\n    image: {IMG}\n    command: [sh, -c, \"seq -f 'flood line %.0f of the back-pressure test' 1 1000000; exec sleep infinity\"]\n    init: true\n    logging:\n      driver: json-file\n      options: {{max-size: 200m, max-file: 1}}\n"
    );
    let p = TestProject::new("logflood", &manifest);
    p.ok(&["up", "-d"]);
    let container = format!("{}-flood-1", p.name);
    assert_eq!(
        inspect(
            &container,
            "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}}"
        ),
        "json-file 200m"
    );
    let mut follower = follow(&p, &["logs", "-f", "--no-log-prefix"]);
    let t = Instant::now();
    while !docker(&["logs", "--tail", "1", &container]).contains("line 1000000 ")
        && t.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(500));
    }
    let peak = peak_rss_kib(follower.id());
    // Then every line still arrives, in order, once the reader catches up.
    use std::io::BufRead;
    let reader = std::io::BufReader::new(follower.stdout.take().unwrap());
    let mut last = 0u64;
    for (expected, line) in (1u64..).zip(reader.lines()) {
        assert_eq!(
            line.unwrap(),
            format!("flood line {expected} of the back-pressure test")
        );
        last = expected;
        if expected == 1_000_000 {
            break;
        }
    }
    assert_eq!(last, 1_000_000);
    let _ = follower.kill();
    let _ = follower.wait();
    // This debug binary is ~33 MiB resident following a quiet container (the release one ~11 MiB); had it
    // kept the 40 MB of unread output, it would be past 70 MiB. The bound leaves room for the
    // binary to grow and none for buffering the output.
    assert!(
        peak > 0 && peak < 48 * 1024,
        "peak RSS {peak} KiB while the output was not read"
    );
}
