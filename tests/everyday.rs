//! The everyday commands against the real daemon: exec, run, stop/start, restart, kill, ls, port,
//! events, and the bash completion.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

fn manifest(port: u16) -> String {
    format!(
        r#"
services:
  app:
    image: {IMG}
    command: ["sleep", "infinity"]
    init: true
    restart: always
    deploy: {{ replicas: 2 }}
    environment: {{ WHO: app }}
  web:
    image: {IMG}
    command: ["sleep", "infinity"]
    init: true
    ports: ["127.0.0.1:{port}-{}:80"]
    deploy: {{ replicas: 2 }}
"#,
        port + 1
    )
}

#[test]
fn exec_returns_output_exit_code_and_passes_stdin() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("exec", &manifest(free_port()));
    p.ok(&["up", "-d", "app"]);
    let out = p.run(&["exec", "-T", "app", "sh", "-c", "echo hello $WHO"]);
    assert_eq!(stdout(&out), "hello app\n");
    let out = p.run(&["exec", "-T", "app", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    let out = p.run(&["exec", "-T", "--index", "2", "app", "hostname"]);
    assert_eq!(
        stdout(&out).trim(),
        inspect(&format!("{}-app-2", p.name), "{{.Config.Hostname}}")
    );
    let mut child = p
        .cmd(&["exec", "-T", "app", "tr", "a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped input\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "PIPED INPUT\n");
    assert_eq!(
        p.run(&["exec", "-T", "--index", "9", "app", "true"])
            .status
            .code(),
        Some(2)
    );
    // Under a terminal (here `script`'s pseudo-terminal) exec gives the command one, in raw mode.
    let line = format!(
        "{} -f {} -p {} exec app sh -c 'tty; exit 3'",
        stackctl_path().display(),
        p.file.display(),
        p.name
    );
    // `timeout`: a session that does not end when its command exits fails here instead of hanging.
    let out = Command::new("timeout")
        .args(["30", "script", "-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("/dev/pts/"),
        "no terminal in the container: {text}"
    );
    assert_eq!(out.status.code(), Some(3), "{text}");
}

#[test]
fn run_makes_one_off_containers_that_are_not_replicas() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("run", &manifest(free_port()));
    p.ok(&["up", "-d", "app"]);
    let out = p.run(&[
        "run",
        "--rm",
        "-T",
        "-e",
        "X=42",
        "app",
        "sh",
        "-c",
        "echo x=$X",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "x=42\n");
    assert_eq!(p.containers().len(), 2, "--rm leaves nothing behind");
    let out = p.run(&["run", "-T", "app", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    let all = p.containers();
    assert_eq!(all.len(), 3);
    let oneoff = all
        .iter()
        .find(|c| c.starts_with(&format!("{}-app-run-", p.name)))
        .expect("one-off container");
    assert_eq!(
        inspect(
            oneoff,
            r#"{{index .Config.Labels "com.docker.compose.oneoff"}}"#
        ),
        "True"
    );
    let ps = stdout(&p.ok(&["ps", "-q"]));
    assert_eq!(ps.lines().count(), 2, "ps counts replicas only");
    p.ok(&["down"]);
    assert!(
        p.containers().is_empty(),
        "down removes one-off containers too"
    );
}

#[test]
fn stop_start_restart_pause_and_kill_act_on_the_named_services() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("lifecycle", &manifest(free_port()));
    p.ok(&["up", "-d"]);
    let n = &p.name;
    let ids: Vec<String> = p.containers().iter().map(|c| p.id(c)).collect();
    p.ok(&["stop", "-t", "1", "app"]);
    assert_eq!(
        inspect(&format!("{n}-app-1"), "{{.State.Status}}"),
        "exited"
    );
    assert_eq!(
        inspect(&format!("{n}-web-1"), "{{.State.Status}}"),
        "running"
    );
    p.ok(&["start", "app"]);
    assert_eq!(
        inspect(&format!("{n}-app-1"), "{{.State.Status}}"),
        "running"
    );
    assert_eq!(
        p.containers().iter().map(|c| p.id(c)).collect::<Vec<_>>(),
        ids,
        "stop/start keeps container IDs"
    );

    let web_started = inspect(&format!("{n}-web-1"), "{{.State.StartedAt}}");
    let app_started = inspect(&format!("{n}-app-1"), "{{.State.StartedAt}}");
    p.ok(&["restart", "-t", "1", "app"]);
    assert_ne!(
        inspect(&format!("{n}-app-1"), "{{.State.StartedAt}}"),
        app_started
    );
    assert_eq!(
        inspect(&format!("{n}-web-1"), "{{.State.StartedAt}}"),
        web_started,
        "restart touches only the named service"
    );

    // pause freezes only the named service; a second pause has nothing to do; unpause thaws.
    p.ok(&["pause", "app"]);
    p.ok(&["pause", "app"]);
    let status = |c: &str| inspect(&format!("{n}-{c}"), "{{.State.Status}}");
    assert_eq!([status("app-1"), status("app-2")], ["paused", "paused"]);
    assert_eq!(status("web-1"), "running");
    let ps = stdout(&p.ok(&["ps"]));
    assert!(
        ps.lines()
            .any(|l| l.contains(&format!("{n}-app-1")) && l.contains("paused")),
        "{ps}"
    );
    p.ok(&["unpause", "app"]);
    assert_eq!([status("app-1"), status("app-2")], ["running", "running"]);

    p.ok(&["kill", "-s", "SIGKILL", "app"]);
    std::thread::sleep(Duration::from_millis(1500));
    for i in [1, 2] {
        let c = format!("{n}-app-{i}");
        assert_eq!(
            inspect(&c, "{{.State.Status}}"),
            "exited",
            "{c}: a kill is a manual stop, restart: always does not apply"
        );
        assert_eq!(inspect(&c, "{{.State.ExitCode}}"), "137");
    }
    p.ok(&["rm", "app"]);
    assert_eq!(p.containers().len(), 2);
}

#[test]
fn ls_port_and_events_report_the_project() {
    if !daemon_available() {
        return;
    }
    let port = free_port();
    let a = TestProject::new("lsa", &manifest(port));
    let b = TestProject::new(
        "lsb",
        "services:\n  one:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n",
    );
    a.ok(&["up", "-d", "app"]);
    b.ok(&["up", "-d"]);
    let ls = stdout(&a.ok(&["ls"]));
    assert!(ls.contains(&a.name) && ls.contains(&b.name), "{ls}");
    assert!(ls.contains(&a.file.display().to_string()), "{ls}");

    // events --json in one process sees the start caused by `up` in another.
    let events = a
        .cmd(&["events", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    a.ok(&["up", "-d", "web"]);
    std::thread::sleep(Duration::from_millis(700));
    let _ = Command::new("kill")
        .args(["-INT", &events.id().to_string()])
        .status();
    let out = events.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["action"] == "start" && v["service"] == "web");
    assert!(start.is_some(), "no start event for web in:\n{text}");

    // Replica 2 of a service publishing a range gets the second port.
    let out = a.ok(&["port", "--index", "2", "web", "80"]);
    assert_eq!(stdout(&out).trim(), format!("127.0.0.1:{}", port + 1));
}

#[test]
fn bash_completion_offers_subcommands_and_service_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  alpha:\n    image: x\n  beta:\n    image: x\n",
    )
    .unwrap();
    let script = Command::new(stackctl_path())
        .args(["completion", "bash"])
        .output()
        .unwrap();
    assert!(script.status.success());
    let script_path = dir.path().join("completion.bash");
    std::fs::write(&script_path, &script.stdout).unwrap();
    let bin_dir = stackctl_path().parent().unwrap().to_path_buf();
    let complete = |words: &str| {
        let cmd = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}; _stackctl_services stackctl \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script_path.display()
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(cmd)
            .current_dir(dir.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let subs = complete("stackctl sc");
    assert!(subs.lines().any(|l| l == "scale"), "{subs}");
    let svcs = complete("stackctl logs al");
    assert!(svcs.lines().any(|l| l == "alpha"), "{svcs}");
    assert!(!svcs.lines().any(|l| l == "beta"));
    // Names come from the manifest chosen on the command line, not the one in the directory.
    std::fs::create_dir(dir.path().join("other")).unwrap();
    std::fs::write(
        dir.path().join("other/stack.yml"),
        "services:\n  gamma:\n    image: x\n",
    )
    .unwrap();
    let svcs = complete("stackctl -f other/stack.yml logs ''");
    assert!(svcs.lines().any(|l| l == "gamma"), "{svcs}");
    assert!(!svcs.lines().any(|l| l == "alpha"), "{svcs}");
    let svcs = complete("stackctl --progress plain -f other/stack.yml logs g");
    assert_eq!(svcs.trim(), "gamma", "{svcs}");
}

#[test]
fn cp_copies_files_and_folders_both_ways_with_docker_cps_naming() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "cp",
        &format!("services:\n  box:\n{SLEEPS}    deploy: {{ replicas: 2 }}\n    user: nobody\n"),
    );
    p.ok(&["up", "-d"]);
    let local = p.path().join("src");
    std::fs::create_dir_all(local.join("sub")).unwrap();
    std::fs::write(local.join("a.txt"), "hello\n").unwrap();
    std::fs::write(local.join("sub/b.txt"), "deep\n").unwrap();
    std::os::unix::fs::symlink("a.txt", local.join("link")).unwrap();
    let exec = |index: &str, cmd: &str| {
        stdout(&p.ok(&["exec", "-T", "--index", index, "box", "sh", "-c", cmd]))
    };

    // Into an existing folder the source keeps its name; symlinks stay links.
    p.ok(&["cp", "src", "box:/tmp"]);
    assert_eq!(
        exec("1", "cat /tmp/src/a.txt /tmp/src/sub/b.txt"),
        "hello\ndeep\n"
    );
    assert_eq!(exec("1", "readlink /tmp/src/link").trim(), "a.txt");
    assert_eq!(
        exec("2", "cat /tmp/src/a.txt"),
        "hello\n",
        "into every replica"
    );
    // Elsewhere it takes the destination's name; --index reaches one replica only.
    p.ok(&["cp", "--index", "2", "src/a.txt", "box:/tmp/renamed.txt"]);
    assert_eq!(exec("2", "cat /tmp/renamed.txt"), "hello\n");
    assert!(exec("1", "ls /tmp/renamed.txt 2>&1 || true").contains("No such"));
    p.ok(&["cp", "src/a.txt", "box:/tmp/renamed.txt"]);

    // Out: into a new path (renamed) and into an existing folder (kept).
    p.ok(&["cp", "box:/tmp/src", "out"]);
    assert_eq!(
        std::fs::read_to_string(p.path().join("out/sub/b.txt")).unwrap(),
        "deep\n"
    );
    std::fs::create_dir(p.path().join("existing")).unwrap();
    p.ok(&["cp", "box:/tmp/src/a.txt", "existing"]);
    assert_eq!(
        std::fs::read_to_string(p.path().join("existing/a.txt")).unwrap(),
        "hello\n"
    );
    // The archive's owners are kept; -a gives the files to the container's user instead (the
    // daemon's copyUIDGID, as `docker cp -a`).
    let owned = p.path().join("owned.txt");
    std::fs::write(&owned, "mine\n").unwrap();
    if std::os::unix::fs::chown(&owned, Some(4321), Some(4322)).is_ok() {
        p.ok(&["cp", "--index", "1", "owned.txt", "box:/tmp/plain.txt"]);
        p.ok(&["cp", "-a", "--index", "1", "owned.txt", "box:/tmp/kept.txt"]);
        assert_eq!(
            exec("1", "stat -c %u:%g /tmp/plain.txt").trim(),
            "4321:4322"
        );
        assert_eq!(
            exec("1", "stat -c %u:%g /tmp/kept.txt").trim(),
            "65534:65534"
        );
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root"
        );
        eprintln!("skipped: -a needs a file of another owner, which only root can make");
    }
    // -L copies what a link leads to, under the link's name; without it, the link itself.
    exec("1", "ln -sf /tmp/renamed.txt /tmp/link");
    p.ok(&["cp", "--index", "1", "box:/tmp/link", "as-link"]);
    assert!(
        std::fs::symlink_metadata(p.path().join("as-link"))
            .unwrap()
            .is_symlink()
    );
    std::fs::create_dir(p.path().join("followed")).unwrap();
    p.ok(&["cp", "-L", "--index", "1", "box:/tmp/link", "followed"]);
    assert_eq!(
        std::fs::read_to_string(p.path().join("followed/link")).unwrap(),
        "hello\n"
    );
    p.ok(&[
        "cp",
        "-L",
        "--index",
        "1",
        "src/link",
        "box:/tmp/in-followed",
    ]);
    assert_eq!(exec("1", "cat /tmp/in-followed"), "hello\n");
    p.ok(&["cp", "--index", "1", "src/link", "box:/tmp/in-link"]);
    assert_eq!(exec("1", "readlink /tmp/in-link").trim(), "a.txt");

    // `-` is a tar stream.
    let tar = p.ok(&["cp", "box:/tmp/renamed.txt", "-"]).stdout;
    let names: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["renamed.txt"]);

    // Mistakes are refused with the fix, before anything is written.
    for (args, says) in [
        (vec!["cp", "box:/nope", "x"], "box-1:/nope does not exist"),
        (vec!["cp", "box:tmp", "x"], "is not an absolute path"),
        (
            vec!["cp", "src", "box:/no/such/dir/x"],
            "the folder /no/such/dir does not exist",
        ),
        (
            vec!["cp", "src", "box:/tmp/renamed.txt"],
            "cannot copy a folder onto the file",
        ),
        (
            vec!["cp", "--index", "3", "box:/tmp", "x"],
            "has no replica 3",
        ),
        (vec!["cp", "a", "b"], "neither side names a container"),
    ] {
        let out = p.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    assert!(!p.path().join("x").exists());
}

#[test]
fn push_sends_built_images_that_name_a_repository() {
    if !local_daemon_available("it pushes to the registry on 127.0.0.1") {
        return;
    }
    const REGISTRY: &str = "127.0.0.1:5000";
    if std::net::TcpStream::connect(REGISTRY).is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true needs the registry at {REGISTRY} (images/offline/seed.sh)"
        );
        eprintln!("skipping: no registry at {REGISTRY}");
        return;
    }
    let repo = format!("sct-push-{}", std::process::id());
    let image = format!("{REGISTRY}/{repo}:v1");
    let p = TestProject::new(
        "push",
        &format!(
            "services:\n  app:\n    build: .\n    image: {image}\n  plain:\n    image: {IMG}\n"
        ),
    );
    std::fs::write(
        p.path().join("Dockerfile"),
        format!("FROM {IMG}\nLABEL pushed-by=stackctl-test\n"),
    )
    .unwrap();
    let out = p.run(&["push"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has not been built"),
        "{}",
        stderr(&out)
    );

    p.ok(&["build"]);
    let out = p.ok(&["push"]);
    assert!(
        stderr(&out).contains(&format!("Image {image}")),
        "{}",
        stderr(&out)
    );
    let tags = http_get(5000, &format!("/v2/{repo}/tags/list")).expect("registry answers");
    assert_eq!(tags.status, 200);
    assert!(tags.body.contains("\"v1\""), "{}", tags.body);
    docker(&["rmi", &image]);

    let only_pulled =
        TestProject::new("push2", &format!("services:\n  plain:\n    image: {IMG}\n"));
    let out = only_pulled.run(&["push"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("both `build:` and `image:`"));
}

/// A registry that wants a login: user `stackctl`, password `not-a-secret` (bcrypt, test data).
const HTPASSWD: &str = "stackctl:$2b$05$7nyG9xq1wwTrZozzwQWsD.lCoIuEAe4p0RTkGNv7PXImJ6KQN7I1G\n";

#[test]
fn private_registries_use_the_credentials_docker_login_stores() {
    if !local_daemon_available("it starts a registry on 127.0.0.1") {
        return;
    }
    let Ok(registry_bin) = which_registry() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true needs docker-registry (images/offline/seed.sh installs it)"
        );
        eprintln!("skipping: no docker-registry binary");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("htpasswd"), HTPASSWD).unwrap();
    std::fs::write(
        dir.path().join("registry.yml"),
        format!(
            "version: 0.1\nlog: {{ level: error }}\nstorage: {{ filesystem: {{ rootdirectory: {root} }} }}\nhttp: {{ addr: 127.0.0.1:{port} }}\nauth: {{ htpasswd: {{ realm: stackctl-test, path: {root}/htpasswd }} }}\n",
            root = dir.path().display()
        ),
    )
    .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _registry = Kill(
        Command::new(registry_bin)
            .args([
                "serve",
                &dir.path().join("registry.yml").display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the registry did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let image = format!("127.0.0.1:{port}/private:1");
    let p = TestProject::new(
        "auth",
        &format!("services:\n  app:\n    build: .\n    image: {image}\n"),
    );
    std::fs::write(p.path().join("Dockerfile"), format!("FROM {IMG}\n")).unwrap();
    p.ok(&["build"]);
    let logged_out = dir.path().join("logged-out");
    let logged_in = dir.path().join("logged-in");
    std::fs::create_dir_all(&logged_out).unwrap();
    std::fs::create_dir_all(&logged_in).unwrap();
    std::fs::write(
        logged_in.join("config.json"),
        format!(
            r#"{{"auths": {{"127.0.0.1:{port}": {{"auth": "c3RhY2tjdGw6bm90LWEtc2VjcmV0"}}}}}}"#
        ),
    )
    .unwrap();
    let with_config = |config: &std::path::Path, args: &[&str]| {
        p.cmd(args).env("DOCKER_CONFIG", config).output().unwrap()
    };

    let out = with_config(&logged_out, &["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("docker login 127.0.0.1:{port}")),
        "{}",
        stderr(&out)
    );
    let out = with_config(&logged_in, &["push"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // And back: the image is gone here and comes from the registry with the same login.
    docker(&["rmi", &image]);
    p.write(&format!("services:\n  app:\n    image: {image}\n"));
    let out = with_config(&logged_in, &["pull"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(docker_ok(&["image", "inspect", &image]));
    docker(&["rmi", &image]);

    // A build whose FROM is the private image gets the login too.
    p.write(&format!(
        "services:\n  app:\n    build: .\n    image: sct-auth-built-{port}\n"
    ));
    std::fs::write(p.path().join("Dockerfile"), format!("FROM {image}\n")).unwrap();
    let out = with_config(&logged_out, &["build"]);
    assert!(!out.status.success(), "no login, no base image");
    let out = with_config(&logged_in, &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    docker(&["rmi", &format!("sct-auth-built-{port}"), &image]);
}

fn which_registry() -> Result<String, ()> {
    ["/usr/bin/docker-registry", "/usr/local/bin/docker-registry"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned)
        .ok_or(())
}

#[test]
fn stats_measures_each_running_container() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "stats",
        &format!(
            "services:\n  burner:\n    image: {IMG}\n    command: [sh, -c, \"while :; do :; done\"]\n    init: true\n    deploy: {{ resources: {{ limits: {{ memory: 64m }} }} }}\n  idle:\n{SLEEPS}"
        ),
    );
    p.ok(&["up", "-d"]);
    std::thread::sleep(Duration::from_millis(500));
    let out = p.ok(&["stats", "--no-stream", "--format", "json"]);
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let row = |svc: &str| {
        let name = format!("{}-{svc}-1", p.name);
        rows.iter()
            .find(|r| r["name"] == name.as_str())
            .unwrap_or_else(|| panic!("no row for {name}: {rows:?}"))
            .clone()
    };
    let (burner, idle) = (row("burner"), row("idle"));
    // A busy loop gets a good share of a CPU even with other tests loading both cores (the
    // rolling-update tests run 32 clients); `sleep` next to nothing.
    assert!(burner["cpu_percent"].as_f64().unwrap() > 10.0, "{burner}");
    assert!(idle["cpu_percent"].as_f64().unwrap() < 5.0, "{idle}");
    assert_eq!(burner["memory_limit"], 64 * 1024 * 1024, "{burner}");
    assert!(
        burner["pids"].as_u64().unwrap() >= 2,
        "init and the loop: {burner}"
    );
    // The table names both, with the limit in binary units.
    let table = stdout(&p.ok(&["stats", "--no-stream", "burner"]));
    assert!(table.starts_with("CONTAINER ID"), "{table}");
    assert!(table.contains("/ 64.00MiB"), "{table}");
    assert!(!table.contains("idle-1"), "{table}");
}

#[test]
fn attach_shows_new_output_and_passes_ctrl_c_on() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "attach",
        &format!(
            "services:\n  box:\n    image: {IMG}\n    command: [sh, -c, \"trap 'echo got INT; exit 3' INT; echo ready; i=0; while :; do i=$$((i+1)); echo tick $$i; sleep 0.2; done\"]\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let box1 = format!("{}-box-1", p.name);
    eventually(Duration::from_secs(10), "the box's trap set", || {
        docker(&["logs", &box1]).contains("ready")
    });
    let child = p
        .cmd(&["attach", "box"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}\n{}", stderr(&out));
    assert!(text.contains("tick") && text.contains("got INT"), "{text}");
    assert!(
        !text.contains("ready"),
        "what came before attaching is not replayed: {text}"
    );
    assert!(!text.contains("tick 1\n"), "{text}");
    assert_eq!(
        inspect(&format!("{}-box-1", p.name), "{{.State.ExitCode}}"),
        "3"
    );
}

/// `--detach-keys` reaches the daemon: the default keys (ctrl-p ctrl-q) no longer detach, the
/// given one does, and the container runs on.
#[test]
fn attach_detaches_on_the_keys_given() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "detach",
        &format!(
            "services:\n  box:\n    image: {IMG}\n    command: [sleep, infinity]\n    init: true\n    tty: true\n    stdin_open: true\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let mut child = p
        .cmd(&["attach", "--detach-keys", "ctrl-x", "box"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let exited_within = |child: &mut std::process::Child, limit: Duration| {
        let t = std::time::Instant::now();
        while t.elapsed() < limit {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    };
    std::thread::sleep(Duration::from_millis(1500));
    stdin.write_all(b"\x10\x11").unwrap();
    stdin.flush().unwrap();
    assert!(
        exited_within(&mut child, Duration::from_secs(2)).is_none(),
        "ctrl-p ctrl-q detached although --detach-keys replaced them"
    );
    stdin.write_all(b"\x18").unwrap();
    stdin.flush().unwrap();
    let status = exited_within(&mut child, Duration::from_secs(15));
    let _ = child.kill();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "ctrl-x detaches");
    assert_eq!(
        inspect(&format!("{}-box-1", p.name), "{{.State.Running}}"),
        "true"
    );
}

#[test]
fn export_writes_a_replicas_filesystem_and_commit_makes_an_image_of_it() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "snapshot",
        &format!(
            "services:\n  box:\n    image: {IMG}\n    command: [sh, -c, 'echo made-here > /marker; exec sleep infinity']\n    init: true\n    deploy: {{ replicas: 2 }}\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let n = &p.name;
    let t = std::time::Instant::now();
    while docker(&["exec", &format!("{n}-box-2"), "cat", "/marker"]) != "made-here" {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "the marker never appeared"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let tar = p.path().join("box.tar");
    p.ok(&["export", "--index", "2", "box", "-o", tar.to_str().unwrap()]);
    let listing = std::process::Command::new("tar")
        .args(["-tf", tar.to_str().unwrap()])
        .output()
        .expect("tar");
    let names = String::from_utf8_lossy(&listing.stdout);
    assert!(
        names.lines().any(|l| l == "marker"),
        "no /marker in the export"
    );
    assert!(names.lines().any(|l| l.starts_with("etc/")));
    // To a pipe, the same archive; to nothing, a refusal.
    let piped = p.ok(&["export", "box"]).stdout;
    assert!(piped.len() > 1_000_000, "{} bytes", piped.len());
    let out = p.run(&["export", "box", "--index", "9"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no replica 9"));

    let image = format!("{n}-committed:snap");
    let out = p.ok(&[
        "commit",
        "box",
        &image,
        "-m",
        "with the marker",
        "-a",
        "tests",
        "-c",
        "ENV MODE=snap",
    ]);
    assert!(
        stdout(&out).trim().starts_with("sha256:"),
        "{}",
        stdout(&out)
    );
    struct Remove(String);
    impl Drop for Remove {
        fn drop(&mut self) {
            docker(&["rmi", "-f", &self.0]);
        }
    }
    let _cleanup = Remove(image.clone());
    assert_eq!(inspect(&image, "{{.Comment}}"), "with the marker");
    assert_eq!(inspect(&image, "{{.Author}}"), "tests");
    assert!(inspect(&image, "{{.Config.Env}}").contains("MODE=snap"));
    assert_eq!(
        docker(&["run", "--rm", &image, "cat", "/marker"]),
        "made-here",
        "the image holds the replica's state"
    );
    assert_eq!(
        inspect(&format!("{n}-box-1"), "{{.State.Status}}"),
        "running",
        "paused only while committing"
    );
}

#[test]
fn down_v_removes_anonymous_volumes_too_and_plain_down_keeps_them() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "anonvol",
        &format!("services:\n  a:\n{SLEEPS}    volumes: [/scratch]\n"),
    );
    let anonymous = |p: &TestProject| {
        inspect(
            &format!("{}-a-1", p.name),
            "{{range .Mounts}}{{.Name}}{{end}}",
        )
    };
    p.ok(&["up", "-d"]);
    let first = anonymous(&p);
    assert!(!first.is_empty());
    p.ok(&["down", "-t", "0"]);
    assert!(
        docker_ok(&["volume", "inspect", &first]),
        "plain down keeps it"
    );
    docker(&["volume", "rm", &first]);
    p.ok(&["up", "-d"]);
    let second = anonymous(&p);
    p.ok(&["down", "-v", "-t", "0"]);
    assert!(
        !docker_ok(&["volume", "inspect", &second]),
        "down -v removes it"
    );
}

#[test]
fn secrets_and_configs_given_as_text_are_copied_into_each_container() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "textfiles",
        &format!(
            "services:\n  app:\n{SLEEPS}    deploy: {{ replicas: 2 }}\n    secrets: [token]\n    configs:\n      - source: site\n        target: /etc/app/site.conf\nsecrets:\n  token:\n    environment: STACKCTL_TEST_TOKEN\nconfigs:\n  site:\n    content: |\n      listen 8080\n      name $${{HOSTNAME}}\n"
        ),
    );
    let up = |token: &str| {
        let out = p
            .cmd(&["up", "-d"])
            .env("STACKCTL_TEST_TOKEN", token)
            .output()
            .expect("up");
        assert!(out.status.success(), "{}", stderr(&out));
    };
    up("s3cret");
    let n = &p.name;
    for i in [1, 2] {
        let c = format!("{n}-app-{i}");
        assert_eq!(docker(&["exec", &c, "cat", "/run/secrets/token"]), "s3cret");
        assert_eq!(
            docker(&["exec", &c, "cat", "/etc/app/site.conf"]),
            "listen 8080\nname ${HOSTNAME}"
        );
        assert_eq!(
            docker(&["exec", &c, "stat", "-c", "%a", "/run/secrets/token"]),
            "444"
        );
    }
    // The value is never written out by `config`.
    let config = p
        .cmd(&["config"])
        .env("STACKCTL_TEST_TOKEN", "s3cret")
        .output()
        .expect("config");
    assert!(!stdout(&config).contains("s3cret"), "{}", stdout(&config));
    // A new value recreates the containers, as a changed file would need.
    let before = p.id(&format!("{n}-app-1"));
    up("rotated");
    assert_ne!(p.id(&format!("{n}-app-1")), before);
    assert_eq!(
        docker(&["exec", &format!("{n}-app-1"), "cat", "/run/secrets/token"]),
        "rotated"
    );
    // Unset, it is refused before anything is made, naming the variable.
    let out = p
        .cmd(&["up", "-d"])
        .env_remove("STACKCTL_TEST_TOKEN")
        .output()
        .expect("up");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("STACKCTL_TEST_TOKEN, which is not set"));
}

#[test]
fn restart_returns_once_a_service_with_a_healthcheck_is_healthy_again() {
    if !daemon_available() {
        return;
    }
    // Healthy only two seconds after each start: a restart that did not wait would return first.
    let p = TestProject::new(
        "restart-health",
        &format!(
            "services:\n  db:\n    image: {IMG}\n    command: [sh, -c, \"rm -f /tmp/ready; sleep 2; touch /tmp/ready; exec sleep infinity\"]\n    init: true\n    healthcheck:\n      test: [CMD, test, -e, /tmp/ready]\n      interval: 1s\n      retries: 30\n"
        ),
    );
    p.ok(&["up", "-d", "--wait"]);
    p.ok(&["restart", "db"]);
    assert_eq!(
        inspect(&format!("{}-db-1", p.name), "{{.State.Health.Status}}"),
        "healthy"
    );
}

#[test]
fn restart_takes_the_dependents_that_ask_for_it_unless_no_deps() {
    if !daemon_available() {
        return;
    }
    let svc = |deps: &str| format!("{SLEEPS}{deps}");
    let p = TestProject::new(
        "restart-deps",
        &format!(
            "services:\n  db:\n{}  app:\n{}  other:\n{}",
            svc(""),
            svc("    depends_on:\n      db: {condition: service_started, restart: true}\n"),
            svc("    depends_on: [db]\n"),
        ),
    );
    p.ok(&["up", "-d"]);
    let started = |s: &str| inspect(&format!("{}-{s}-1", p.name), "{{.State.StartedAt}}");
    let before: Vec<String> = ["db", "app", "other"].iter().map(|s| started(s)).collect();
    p.ok(&["restart", "db"]);
    assert_ne!(started("db"), before[0]);
    assert_ne!(started("app"), before[1], "restart: true brings app along");
    assert_eq!(
        started("other"),
        before[2],
        "a plain dependent is left running"
    );
    let app = started("app");
    p.ok(&["restart", "--no-deps", "db"]);
    assert_eq!(started("app"), app, "--no-deps restarts db alone");
}

#[test]
fn up_wait_counts_a_one_shot_that_succeeded_as_done_and_fails_with_the_code_of_one_that_did_not() {
    if !daemon_available() {
        return;
    }
    let manifest = |code: u8| {
        format!(
            "services:\n  web:\n{SLEEPS}    restart: always\n  migrate:\n    image: {IMG}\n    command: [sh, -c, \"sleep 0.2; exit {code}\"]\n"
        )
    };
    let p = TestProject::new("oneshot", &manifest(0));
    p.ok(&["up", "-d", "--wait"]);
    assert_eq!(
        inspect(&format!("{}-migrate-1", p.name), "{{.State.ExitCode}}"),
        "0"
    );
    p.write(&manifest(3));
    let out = p.run(&["up", "-d", "--wait"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exited with code 3"),
        "{}",
        stderr(&out)
    );
}

/// The order in which the project's containers died since `since` (unix seconds, with a
/// fraction), by service.
fn died_in_order(p: &TestProject, since: &str) -> Vec<String> {
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let out = docker(&[
        "events",
        "--since",
        since,
        "--until",
        &until.to_string(),
        "--filter",
        &format!("label=com.docker.compose.project={}", p.name),
        "--filter",
        "event=die",
        "--format",
        "{{.TimeNano}} {{index .Actor.Attributes \"com.docker.compose.service\"}}",
    ]);
    let mut died: Vec<(u128, String)> = out
        .lines()
        .filter_map(|l| {
            let (t, s) = l.split_once(' ')?;
            Some((t.parse().ok()?, s.to_owned()))
        })
        .collect();
    died.sort();
    died.into_iter().map(|(_, s)| s).collect()
}

/// `stop` and `down` stop a service only once the services that depend on it have stopped:
/// `web` ignores SIGTERM and takes its whole grace period, and `app` waits for it, `db` for both
/// `app` and `side`.
#[test]
fn stop_and_down_stop_each_service_after_its_dependents() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "order",
        &format!(
            "services:\n  db:\n{SLEEPS}  app:\n{SLEEPS}    depends_on: [db]\n  side:\n{SLEEPS}    depends_on: [db]\n  web:\n    image: {IMG}\n    command: [sleep, infinity]\n    stop_grace_period: 2s\n    depends_on: [app]\n"
        ),
    );
    let now = || {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        format!("{}.{:09}", t.as_secs(), t.subsec_nanos())
    };
    let in_order = |died: Vec<String>| {
        let at = |s: &str| died.iter().position(|d| d == s).expect("died");
        assert_eq!(died.len(), 4, "{died:?}");
        assert!(at("web") < at("app") && at("app") < at("db"), "{died:?}");
        assert!(at("side") < at("db"), "{died:?}");
    };
    p.ok(&["up", "-d"]);
    let since = now();
    p.ok(&["stop"]);
    in_order(died_in_order(&p, &since));
    p.ok(&["start"]);
    let since = now();
    p.ok(&["down"]);
    in_order(died_in_order(&p, &since));
    assert!(p.containers().is_empty(), "{:?}", p.containers());
}
