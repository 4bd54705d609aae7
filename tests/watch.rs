//! `watch` against the real daemon: each `develop.watch` action on a project of two services, one
//! with two replicas, while `stackctl watch` runs.

use std::time::{Duration, Instant};

use crate::common::*;

fn manifest() -> String {
    format!(
        r#"services:
  web:
    image: {IMG}
    command: [sleep, infinity]
    init: true
    scale: 2
    develop:
      watch:
        - {{path: ./src, action: sync, target: /app, ignore: ["*.tmp"]}}
        - {{path: ./conf, action: sync+restart, target: /etc/conf}}
        - {{path: ./seed, action: sync, target: /seed, initial_sync: true}}
        - path: ./hook
          action: sync+exec
          target: /hook
          exec: {{command: [sh, -c, "cat /hook/h > /tmp/ran"]}}
  built:
    build: ./built
    init: true
    develop:
      watch:
        - {{path: ./built, action: rebuild}}
"#
    )
}

fn write(p: &TestProject, rel: &str, text: &str) {
    let path = p.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// What `cat path` prints in the container, or None while it fails.
fn cat(container: &str, path: &str) -> Option<String> {
    let out = std::process::Command::new("docker")
        .args(["exec", container, "cat", path])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn until(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return Some(t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn watch_syncs_restarts_runs_and_rebuilds_what_changed_and_nothing_else() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("watch", &manifest());
    write(&p, "src/a.py", "one");
    write(&p, "conf/c.ini", "x=1");
    write(&p, "hook/h", "h0");
    write(&p, "seed/s.txt", "there before watching");
    write(
        &p,
        "built/Dockerfile",
        &format!("FROM {IMG}\nCOPY version /version\nCMD [\"sleep\", \"infinity\"]\n"),
    );
    write(&p, "built/version", "v1");
    let watch = Follower::start(p.cmd(&["watch"]));
    let out = watch.until(|t| t.contains("Watching"), Duration::from_secs(120));
    assert!(out.contains("Watching built, web"), "{out}");
    let web = |n: u32| format!("{}-web-{n}", p.name);
    let built_id = p.id(&format!("{}-built-1", p.name));
    let web_started = inspect(&web(1), "{{.State.StartedAt}}");
    // initial_sync: what was there before watching began is copied in at once.
    for n in 1..=2 {
        assert_eq!(
            cat(&web(n), "/seed/s.txt").as_deref(),
            Some("there before watching")
        );
    }
    assert_eq!(
        cat(&web(1), "/app/a.py"),
        None,
        "no initial sync without it"
    );

    // sync: in every replica, quickly.
    write(&p, "src/a.py", "two");
    let took = until(Duration::from_secs(10), || {
        (1..=2).all(|n| cat(&web(n), "/app/a.py").as_deref() == Some("two"))
    });
    assert!(
        took.is_some_and(|d| d < Duration::from_secs(2)),
        "{took:?}\n{}",
        watch.text()
    );
    // An ignored file does nothing; a file made after it is synced, so the ignored one had its chance.
    write(&p, "src/x.tmp", "no");
    // So does an editor's scratch (vim's swap file and its write test), as under compose.
    write(&p, "src/.a.py.swp", "swap");
    write(&p, "src/4913", "");
    write(&p, "src/later/b.py", "b");
    assert!(
        until(Duration::from_secs(10), || cat(&web(2), "/app/later/b.py")
            .is_some())
        .is_some()
    );
    assert_eq!(cat(&web(1), "/app/x.tmp"), None);
    assert_eq!(cat(&web(1), "/app/.a.py.swp"), None);
    assert_eq!(cat(&web(1), "/app/4913"), None);
    // A deleted file goes.
    std::fs::remove_file(p.path().join("src/a.py")).unwrap();
    assert!(
        until(Duration::from_secs(10), || cat(&web(1), "/app/a.py")
            .is_none())
        .is_some()
    );

    // 500 files at once: one batch.
    for i in 0..500 {
        write(&p, &format!("src/many/f{i}.txt"), "m");
    }
    let all = until(Duration::from_secs(20), || {
        docker(&["exec", &web(2), "sh", "-c", "ls /app/many | wc -l"]) == "500"
    });
    assert!(all.is_some(), "{}", watch.text());
    let text = watch.until(|t| t.contains("synced 500 file(s)"), Duration::from_secs(5));
    assert_eq!(
        text.lines().filter(|l| l.contains("many/")).count(),
        1,
        "one line for the batch:\n{text}"
    );

    // sync+exec: the command runs after the sync, in each replica.
    write(&p, "hook/h", "h1");
    assert!(
        until(Duration::from_secs(10), || (1..=2).all(|n| cat(
            &web(n),
            "/tmp/ran"
        )
        .as_deref()
            == Some("h1")))
        .is_some(),
        "{}",
        watch.text()
    );
    assert_eq!(
        inspect(&web(1), "{{.State.StartedAt}}"),
        web_started,
        "not restarted yet"
    );
    // sync+restart.
    write(&p, "conf/c.ini", "x=2");
    assert!(
        until(Duration::from_secs(20), || inspect(
            &web(1),
            "{{.State.StartedAt}}"
        ) != web_started)
        .is_some()
    );
    assert_eq!(cat(&web(1), "/etc/conf/c.ini").as_deref(), Some("x=2"));

    // rebuild: only that service is made anew, with the new content.
    write(&p, "built/version", "v2");
    let built = format!("{}-built-1", p.name);
    assert!(
        until(Duration::from_secs(120), || cat(&built, "/version")
            .as_deref()
            == Some("v2"))
        .is_some(),
        "{}",
        watch.text()
    );
    assert_ne!(p.id(&built), built_id);
    assert!(inspect(&web(1), "{{.State.Running}}") == "true");
    // --prune (compose's default): the image the rebuild replaced is gone, not left untagged.
    let untagged = format!("label=com.docker.compose.project={}", p.name);
    assert!(
        until(Duration::from_secs(20), || docker(&[
            "images",
            "-q",
            "--filter",
            "dangling=true",
            "--filter",
            &untagged
        ])
        .is_empty())
        .is_some(),
        "the replaced image was left untagged"
    );
    let out = watch.stop();
    assert!(
        !out.contains("x.tmp"),
        "an ignored file is not even mentioned:\n{out}"
    );
    assert!(
        out.contains("built: built/version changed: rebuilding"),
        "{out}"
    );
}

#[test]
fn up_watch_follows_the_logs_and_the_rules_together() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "upwatch",
        &format!(
            "services:\n  web:\n    image: {IMG}\n    command: [sh, -c, \"echo web says hello; exec sleep infinity\"]\n    init: true\n    develop:\n      watch:\n        - {{path: ./src, action: sync, target: /app}}\n"
        ),
    );
    write(&p, "src/a.py", "one");
    let up = Follower::start(p.cmd(&["up", "--watch"]));
    let out = up.until(
        |t| t.contains("Watching web") && t.contains("web says hello"),
        Duration::from_secs(60),
    );
    assert!(out.contains("Watching web"), "{out}");
    write(&p, "src/a.py", "two");
    let web = format!("{}-web-1", p.name);
    assert!(
        until(Duration::from_secs(10), || cat(&web, "/app/a.py")
            .as_deref()
            == Some("two"))
        .is_some(),
        "{}",
        up.text()
    );
    let out = up.stop();
    assert!(out.contains("src/a.py → synced 1 file(s)"), "{out}");
    // Without rules, --watch is refused before anything starts.
    let bare = TestProject::new("upwatch0", &format!("services:\n  a:\n    image: {IMG}\n"));
    let refused = bare.run(&["up", "--watch"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("develop.watch"));
    assert!(bare.containers().is_empty());
}
