//! The project lock against an unfriendly local user: a folder or links prepared by another user
//! are refused with a message, nothing outside the lock's own file is written, and a held lock
//! is waited for only as long as STACKCTL_LOCK_TIMEOUT allows, naming its holder.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::*;

const MANIFEST: &str = "services:\n  app:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n";

/// Runs `cmd` as the unprivileged user `nobody` (the tests run as root, as CI does).
fn as_nobody(args: &[&str]) {
    let ok = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .args(args)
        .status()
        .expect("setpriv")
        .success();
    assert!(ok, "as nobody: {args:?}");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `stackctl up -d` for `p` with its locks under `tmp` (TMPDIR) and no runtime folder.
fn up_with_tmp(p: &TestProject, tmp: &Path, extra_env: &[(&str, &str)]) -> Output {
    let mut c = p.cmd(&["up", "-d"]);
    c.env("TMPDIR", tmp)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("STACKCTL_LOCK_DIR");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.output().expect("stackctl")
}

/// A world-writable, sticky TMPDIR of the test's own, as /tmp is.
fn shared_tmp() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    tmp
}

#[test]
fn a_lock_folder_another_user_prepared_is_refused_and_nothing_is_written() {
    if !daemon_available() || !is_root() {
        eprintln!("skipped: needs the daemon and root (to act as another user)");
        return;
    }
    let tmp = shared_tmp();
    let precious = tmp.path().join("precious");
    std::fs::write(&precious, "root's own").unwrap();
    // The attacker makes root's lock folder and, inside, links named like every lock file could be.
    let folder = tmp.path().join("stackctl-locks-0");
    as_nobody(&["mkdir", "-m", "0777", folder.to_str().unwrap()]);
    let p = TestProject::new("lockprep", MANIFEST);
    for name in ["a", "b"] {
        as_nobody(&[
            "ln",
            "-s",
            precious.to_str().unwrap(),
            folder.join(format!("{name}.lock")).to_str().unwrap(),
        ]);
    }
    let out = up_with_tmp(&p, tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("refusing the lock folder") && err.contains("belongs to user 65534"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "root's own");
    assert!(
        p.containers().is_empty(),
        "nothing is created after a refusal"
    );
}

#[test]
fn links_in_the_lock_folder_are_never_followed() {
    if !daemon_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious");
    std::fs::write(&precious, "keep").unwrap();
    let locks = dir.path().join("locks");
    std::fs::create_dir(&locks).unwrap();
    std::fs::set_permissions(&locks, std::fs::Permissions::from_mode(0o700)).unwrap();
    let p = TestProject::new("locklink", MANIFEST);
    // Find the lock file's name by taking the lock once, then replace the file by a link.
    let mut first = p.cmd(&["up", "-d"]);
    first.env("STACKCTL_LOCK_DIR", &locks);
    assert!(first.output().unwrap().status.success());
    let lock = std::fs::read_dir(&locks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| f.to_string_lossy().contains(&p.name))
        .expect("the lock file");
    for target in [precious.to_str().unwrap(), "../precious"] {
        std::fs::remove_file(&lock).unwrap();
        std::os::unix::fs::symlink(target, &lock).unwrap();
        let mut again = p.cmd(&["down"]);
        again.env("STACKCTL_LOCK_DIR", &locks);
        let out = again.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep");
    }
    // Refused before anything changed: the container is still there.
    assert_eq!(p.containers().len(), 1);
    std::fs::remove_file(&lock).unwrap();
}

#[test]
fn a_held_lock_is_waited_for_only_as_long_as_asked_and_its_holder_is_named() {
    if !daemon_available() {
        return;
    }
    let locks = tempfile::tempdir().unwrap();
    let p = TestProject::new("lockheld", MANIFEST);
    let mut first = p.cmd(&["up", "-d", "--no-start"]);
    first.env("STACKCTL_LOCK_DIR", locks.path());
    assert!(first.output().unwrap().status.success());
    let lock = std::fs::read_dir(locks.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .expect("the lock file");
    // Another process holds it (flock(1) takes the same kind of lock) for a minute.
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "60"])
        .spawn()
        .expect("flock");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let free = Command::new("flock")
            .args(["-n"])
            .arg(&lock)
            .arg("true")
            .status()
            .unwrap()
            .success();
        if !free || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let started = Instant::now();
    let mut blocked = p.cmd(&["up", "-d"]);
    blocked
        .env("STACKCTL_LOCK_DIR", locks.path())
        .env("STACKCTL_LOCK_TIMEOUT", "2s");
    let out = blocked.output().unwrap();
    let took = started.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("gave up after 2s") && err.contains("stackctl up (pid"),
        "{err}"
    );
    assert!(took < Duration::from_secs(30), "bounded: {took:?}");
    // Nothing was started while it waited.
    assert_eq!(
        inspect(&format!("{}-app-1", p.name), "{{.State.Status}}"),
        "created"
    );
}
