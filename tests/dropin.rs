//! stackctl in docker compose's place. Every command and flag that compose's own `--help` lists is
//! one stackctl's command line takes (so a flag compose adds and we lack fails here), and what
//! tools parse — `ps`/`ls` JSON, `version`, `config`, `port`'s error — is compared with what
//! docker compose v2 prints for the same project on the same daemon.
//!
//! The peer is the real compose binary named by STACKCTL_COMPOSE_PEER (CI installs it; see
//! .ci/run). Without it these tests say so and skip, except under CI=true, where they fail.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;

use crate::common::*;

/// The compose binary to compare with, if there is one.
pub(crate) fn peer() -> Option<PathBuf> {
    let found = std::env::var_os("STACKCTL_COMPOSE_PEER")
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but STACKCTL_COMPOSE_PEER names no compose binary: the drop-in tests must run"
        );
        eprintln!("SKIPPED: set STACKCTL_COMPOSE_PEER to docker compose v2's binary");
    }
    found
}

/// A flag as compose's help lists it: its short letter, if any, and its long name.
pub(crate) type Flag = (Option<char>, String);

/// The flags in the `Options:` part of `compose ARGS --help`.
fn compose_flags(peer: &PathBuf, args: &[&str]) -> Vec<Flag> {
    compose_flags_typed(peer, args)
        .into_iter()
        .map(|(flag, _)| flag)
        .collect()
}

/// The flags of `compose ARGS --help`, each with the kind of value it takes (`string`, `int`,
/// …), if it takes one.
pub(crate) fn compose_flags_typed(peer: &PathBuf, args: &[&str]) -> Vec<(Flag, Option<String>)> {
    let out = Command::new(peer)
        .args(args)
        .arg("--help")
        .output()
        .expect("run compose");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut flags = Vec::new();
    let mut in_options = false;
    for line in text.lines() {
        if line.ends_with(':') && !line.starts_with(' ') {
            in_options = line == "Options:";
            continue;
        }
        let item = line.trim_start();
        // A flag's line is indented by at most six spaces; its wrapped description by more.
        if !in_options || !item.starts_with('-') || line.len() - item.len() > 6 {
            continue;
        }
        let first = item.split("  ").next().unwrap_or(item);
        let mut short = None;
        let mut long = None;
        let mut kind = None;
        for word in first.split([',', ' ']).filter(|w| !w.is_empty()) {
            if let Some(l) = word.strip_prefix("--") {
                long = Some(l.to_owned());
            } else if let Some(s) = word.strip_prefix('-') {
                short = s.chars().next();
            } else if long.is_some() {
                kind = Some(word.to_owned());
            }
        }
        if let Some(long) = long {
            flags.push(((short, long), kind));
        }
    }
    flags
}

/// Every command compose's help lists (its `Commands:` and `Management Commands:`, and those
/// of its hidden `alpha`), each as its path of names: `["up"]`, `["bridge", "transformations",
/// "list"]`. A management command stands for the commands under it.
pub(crate) fn compose_commands(peer: &PathBuf) -> Vec<Vec<String>> {
    fn under(peer: &PathBuf, path: &[String]) -> Vec<Vec<String>> {
        let out = Command::new(peer)
            .args(path)
            .arg("--help")
            .output()
            .expect("run compose");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut in_commands = false;
        let mut found = Vec::new();
        for line in text.lines() {
            if line.ends_with(':') && !line.starts_with(' ') {
                in_commands = line == "Commands:" || line == "Management Commands:";
                continue;
            }
            if in_commands
                && line.starts_with("  ")
                && let Some(name) = line.split_whitespace().next()
            {
                let mut sub = path.to_vec();
                sub.push(name.to_owned());
                let deeper = under(peer, &sub);
                if deeper.is_empty() {
                    found.push(sub);
                } else {
                    found.extend(deeper);
                }
            }
        }
        found
    }
    let mut all = under(peer, &[]);
    // compose hides `alpha` (experimental) from its help; its commands are taken all the same.
    all.extend(under(peer, &["alpha".to_owned()]));
    all
}

/// Whether `command` (or, for the root's flags, the root) takes `flag` with the same letter.
fn takes(command: &clap::Command, root: &clap::Command, (short, long): &Flag) -> bool {
    let matches = |c: &clap::Command| {
        c.get_arguments().any(|a| {
            let long_ok = a.get_long() == Some(long.as_str())
                || a.get_all_aliases()
                    .is_some_and(|all| all.contains(&long.as_str()))
                || a.get_long()
                    .is_some_and(|l| l.eq_ignore_ascii_case(long.as_str()));
            long_ok && short.is_none_or(|s| a.get_short() == Some(s))
        })
    };
    // The root's global flags are taken after any subcommand too.
    matches(command) || root.get_arguments().any(|a| a.is_global_set()) && matches(root)
}

#[test]
fn every_command_and_flag_compose_lists_is_taken() {
    let Some(peer) = peer() else { return };
    let root = stackctl::cli::Cli::command();
    let mut missing = Vec::new();
    for flag in compose_flags(&peer, &[]) {
        if flag.1 != "help" && !takes(&root, &root, &flag) {
            missing.push(format!("compose --{}", flag.1));
        }
    }
    let commands = compose_commands(&peer);
    assert!(commands.len() > 30, "compose's commands: {commands:?}");
    for path in &commands {
        let shown = path.join(" ");
        let Some(sub) = path
            .iter()
            .try_fold(&root, |at, name| at.find_subcommand(name))
        else {
            missing.push(format!("compose {shown} (the command)"));
            continue;
        };
        let names: Vec<&str> = path.iter().map(String::as_str).collect();
        for flag in compose_flags(&peer, &names) {
            if flag.1 != "help" && !takes(sub, &root, &flag) {
                let short = flag.0.map(|s| format!("-{s}, ")).unwrap_or_default();
                missing.push(format!("compose {shown} {short}--{}", flag.1));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "compose takes these and stackctl does not:\n{}",
        missing.join("\n")
    );
}

/// The keys of a JSON object, and what kind each value is.
fn shape(v: &serde_json::Value) -> BTreeSet<(String, &'static str)> {
    let kind = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    };
    v.as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), kind(v)))
        .collect()
}

/// `program -f FILE -p NAME ARGS…` in the project's folder: compose or stackctl alike.
fn in_project(
    program: &Path,
    p: &TestProject,
    args: &[impl AsRef<std::ffi::OsStr>],
) -> std::process::Output {
    Command::new(program)
        .arg("-f")
        .arg(&p.file)
        .args(["-p", &p.name])
        .args(args)
        .current_dir(p.path())
        .output()
        .expect("run compose or stackctl")
}

#[test]
fn what_tools_parse_is_printed_as_compose_prints_it() {
    let Some(peer) = peer() else { return };
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "dropin",
        "services:\n  web:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n    ports: [\"127.0.0.1::80\"]\n",
    );
    let compose = |args: &[&str]| in_project(&peer, &p, args);
    // Brought up by stackctl, listed by both.
    p.ok(&["up", "-d"]);
    let ours = json_lines(&stdout(&p.ok(&["ps", "--format", "json"])));
    let theirs = json_lines(&stdout(&compose(&["ps", "--format", "json"])));
    let (ours, theirs) = (&ours[0], &theirs[0]);
    let missing: Vec<_> = shape(theirs).difference(&shape(ours)).cloned().collect();
    assert!(
        missing.is_empty(),
        "keys or kinds compose has and we lack: {missing:?}"
    );
    for key in [
        "ID",
        "Name",
        "Names",
        "Service",
        "Project",
        "State",
        "Image",
        "Publishers",
        "Ports",
        "Networks",
        "ExitCode",
        "Health",
        "Command",
    ] {
        assert_eq!(ours[key], theirs[key], "{key}");
    }
    // ls: one compact array; our project's entry as compose gives it.
    let entry = |out: &str| -> serde_json::Value {
        let all: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON array");
        all.as_array()
            .expect("an array")
            .iter()
            .find(|e| e["Name"] == p.name.as_str())
            .cloned()
            .expect("the project is listed")
    };
    assert_eq!(
        entry(&stdout(&p.ok(&["ls", "--format", "json"]))),
        entry(&stdout(&compose(&["ls", "--format", "json"])))
    );
    // version: the same forms, a version compose's checks accept.
    let short = stdout(&p.ok(&["version", "--short"]));
    let theirs_short = stdout(&compose(&["version", "--short"]));
    let numeric = |v: &str| v.trim().split('.').all(|n| n.parse::<u32>().is_ok());
    assert!(
        numeric(&short) && numeric(&theirs_short),
        "{short} / {theirs_short}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&p.ok(&["version", "--format", "json"]))).unwrap();
    assert!(json["version"].as_str().unwrap().starts_with('v'));
    assert!(stdout(&p.ok(&["version"])).starts_with("Docker Compose version v"));
    // port: the address, and compose's words when the port is not published.
    let ours_port = stdout(&p.ok(&["port", "web", "80"]));
    assert_eq!(ours_port, stdout(&compose(&["port", "web", "80"])));
    let ours_err = p.run(&["port", "web", "81"]);
    let theirs_err = compose(&["port", "web", "81"]);
    assert!(!ours_err.status.success() && !theirs_err.status.success());
    // (compose then lists the published ports; we list the container's own, which is what the
    // user asked about.)
    let words = format!("no port 81/tcp for container {}-web-1: ", p.name);
    assert!(
        stderr(&theirs_err).contains(&words),
        "{}",
        stderr(&theirs_err)
    );
    assert!(stderr(&ours_err).contains(&words), "{}", stderr(&ours_err));
    // config: the same service, read by both.
    let config = |out: &str| -> serde_json::Value { serde_json::from_str(out).expect("json") };
    let ours_cfg = config(&stdout(&p.ok(&["config", "--format", "json"])));
    let theirs_cfg = config(&stdout(&compose(&["config", "--format", "json"])));
    assert_eq!(ours_cfg, theirs_cfg, "the whole document");
    // Taken down by compose: what stackctl made is compose's to manage too.
    assert!(compose(&["down", "-t", "1"]).status.success());
    assert!(p.containers().is_empty());
}

/// `ARGS` through compose and stackctl on `p`: both succeed and print the same JSON, returned.
fn same_json_as_compose(peer: &Path, p: &TestProject, args: &[&str]) -> serde_json::Value {
    let theirs = in_project(peer, p, args);
    let ours = p.run(args);
    assert!(theirs.status.success(), "{}", stderr(&theirs));
    assert!(ours.status.success(), "{}", stderr(&ours));
    let json = |o: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&o.stdout).expect("json")
    };
    assert_eq!(json(&ours), json(&theirs));
    json(&ours)
}

/// `config --no-interpolate` prints the files as written, `${…}` and all (an unset required
/// variable included), as compose prints them.
#[test]
fn config_without_interpolation_prints_what_compose_prints() {
    let Some(peer) = peer() else { return };
    let mut p = TestProject::new(
        "nointerp",
        "services:\n  web:\n    image: \"debian:${TAG:-bookworm-slim}\"\n    environment: [\"A=${SCT_UNSET_A:?need A}\", \"B=$$HOME\"]\n    ports: [\"${PORT:-80}:80\"]\n    networks: [front]\n    deploy:\n      replicas: ${N:-2}\n  off:\n    image: z\n    profiles: [later]\nnetworks:\n  front: {}\nx-top: ${Q}\n",
    );
    p.cleanup = false;
    let args = ["config", "--no-interpolate", "--format", "json"];
    let ours = same_json_as_compose(&peer, &p, &args);
    assert_eq!(ours["services"]["web"]["deploy"]["replicas"], "${N:-2}");
}

/// `config --no-consistency` prints a project whose references go nowhere, as compose prints it.
#[test]
fn config_without_consistency_prints_what_compose_prints() {
    let Some(peer) = peer() else { return };
    let mut p = TestProject::new(
        "noconsist",
        "services:\n  web:\n    image: debian:bookworm-slim\n    networks: [nope]\n",
    );
    p.cleanup = false;
    let args = ["config", "--no-consistency", "--format", "json"];
    same_json_as_compose(&peer, &p, &args);
    assert!(
        !p.run(&["config"]).status.success(),
        "consistency is checked without the flag"
    );
}

/// Every flag compose's help lists for the commands that only read, given alone to each tool on
/// the same running project: both succeed or both fail, and both print something or nothing.
/// (`logs -f` and `events` follow forever; digests need a registry; `-o` writes a file.)
/// The commands whose every flag `every_flag_of_the_reading_commands_…` runs through both tools.
pub(crate) const READING: &[&str] = &[
    "ps", "ls", "images", "config", "port", "top", "logs", "stats", "version",
];

#[test]
fn every_flag_of_the_reading_commands_answers_as_composes_does() {
    let Some(peer) = peer() else { return };
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "dropflags",
        &format!(
            "services:\n  web:\n{SLEEPS}    ports: [\"127.0.0.1::80\"]\n    environment: [\"TAG=${{TAG:-x}}\"]\n  job:\n    image: {IMG}\n    command: [\"true\"]\n"
        ),
    );
    p.ok(&["up", "-d", "--wait"]);
    let run = |program: &Path, args: &[String]| in_project(program, &p, args);
    let sample = |command: &str, flag: &str, kind: &str| -> String {
        match (command, flag) {
            (_, "format") => "json".into(),
            ("ps", "filter") => "status=running".into(),
            ("ls", "filter") => format!("name={}", p.name),
            ("ps", "status") => "running".into(),
            ("config", "hash") => "*".into(),
            ("port", "protocol") => "tcp".into(),
            (_, "since" | "until") => "1h".into(),
            _ if kind == "int" || flag == "tail" => "1".into(),
            _ => "x".into(),
        }
    };
    let skipped = [
        "follow",
        "resolve-image-digests",
        "lock-image-digests",
        "output",
        "help",
    ];
    let ours = stackctl_path();
    let mut differ = Vec::new();
    let mut tried = 0;
    for &command in READING {
        let (before, after): (&[&str], &[&str]) = match command {
            "port" => (&[], &["web", "80"]),
            "stats" => (&["--no-stream"], &[]),
            _ => (&[], &[]),
        };
        for ((_, flag), kind) in compose_flags_typed(&peer, &[command]) {
            if skipped.contains(&flag.as_str()) || (command == "stats" && flag == "no-stream") {
                continue;
            }
            let mut args: Vec<String> = std::iter::once(command)
                .chain(before.iter().copied())
                .map(str::to_owned)
                .collect();
            args.push(format!("--{flag}"));
            if let Some(kind) = &kind {
                args.push(sample(command, &flag, kind));
            }
            args.extend(after.iter().map(|a| (*a).to_owned()));
            let (theirs, mine) = (run(&peer, &args), run(&ours, &args));
            tried += 1;
            let answer = |o: &std::process::Output| (o.status.success(), o.stdout.is_empty());
            if answer(&theirs) != answer(&mine) {
                differ.push(format!(
                    "{}: compose {:?} printing {:?}; stackctl {:?} printing {:?}\n  {}",
                    args.join(" "),
                    theirs.status.code(),
                    String::from_utf8_lossy(&theirs.stdout)
                        .chars()
                        .take(80)
                        .collect::<String>(),
                    mine.status.code(),
                    String::from_utf8_lossy(&mine.stdout)
                        .chars()
                        .take(80)
                        .collect::<String>(),
                    stderr(&mine).lines().next().unwrap_or_default(),
                ));
            }
        }
    }
    assert!(tried > 40, "only {tried} flags tried");
    assert!(
        differ.is_empty(),
        "answered differently:\n{}",
        differ.join("\n")
    );
}

#[test]
fn run_and_exec_take_composes_flags_and_honour_them() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "dropin-run",
        "services:\n  web:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n",
    );
    let env_file = p.path().join("run.env");
    std::fs::write(&env_file, "FROM_FILE=yes\n").unwrap();
    let name = format!("{}-oneoff", p.name);
    let out = p.ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "-u",
        "nobody",
        "-w",
        "/tmp",
        "-l",
        "purpose=test",
        "-v",
        "/etc/hostname:/mnt/host:ro",
        "-e",
        "A=1",
        "--env-from-file",
        env_file.to_str().unwrap(),
        "--cap-add",
        "NET_ADMIN",
        "-p",
        "127.0.0.1::9999",
        "--no-TTY",
        "web",
        "sleep",
        "infinity",
    ]);
    let id = stdout(&out).trim().to_owned();
    assert_eq!(
        inspect(&name, "{{.Id}}"),
        id,
        "-d prints the container's ID"
    );
    assert_eq!(inspect(&name, "{{.Config.User}}"), "nobody");
    assert_eq!(inspect(&name, "{{.Config.WorkingDir}}"), "/tmp");
    assert_eq!(
        inspect(&name, "{{index .Config.Labels \"purpose\"}}"),
        "test"
    );
    assert_eq!(
        inspect(
            &name,
            "{{index .Config.Labels \"com.docker.compose.oneoff\"}}"
        ),
        "True"
    );
    assert_eq!(inspect(&name, "{{.HostConfig.CapAdd}}"), "[NET_ADMIN]");
    let env = inspect(&name, "{{.Config.Env}}");
    assert!(
        env.contains("A=1") && env.contains("FROM_FILE=yes"),
        "{env}"
    );
    assert!(
        inspect(&name, "{{json .NetworkSettings.Ports}}").contains("9999/tcp"),
        "-p publishes"
    );
    assert!(
        !docker(&["exec", &name, "cat", "/mnt/host"]).is_empty(),
        "-v binds"
    );
    // exec: detached, with environment and working folder. (`--privileged` is passed on too; this
    // machine's runtime refuses privileged processes, so it is not tried here.)
    p.ok(&["up", "-d"]);
    p.ok(&[
        "exec",
        "-d",
        "-e",
        "MARK=done",
        "-w",
        "/tmp",
        "web",
        "sh",
        "-c",
        "echo $MARK > /tmp/mark",
    ]);
    let container = format!("{}-web-1", p.name);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut mark = String::new();
    while mark != "done" && std::time::Instant::now() < deadline {
        mark = docker(&["exec", &container, "sh", "-c", "cat /tmp/mark 2>/dev/null"]);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(mark, "done", "exec -d ran the command in the background");
    // Booleans given a value, as compose's parser takes them; `down SERVICE` takes only it.
    let ps = stdout(&p.ok(&[
        "ps",
        "--orphans=false",
        "-a=true",
        "--format",
        "{{.Service}}",
    ]));
    assert!(
        !ps.trim().is_empty() && ps.lines().all(|l| l == "web"),
        "{ps}"
    );
    p.ok(&["down", "-t", "1", "web"]);
    assert!(!p.containers().iter().any(|c| c == &container));
    assert!(
        p.containers().contains(&name),
        "down SERVICE leaves the rest"
    );
}

#[test]
fn installed_as_compose_it_answers_docker_compose_and_docker_dash_compose() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "dropin-plugin",
        "services:\n  web:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n",
    );
    let config = compose_plugin_config();
    let docker_compose = |args: &[&str]| {
        Command::new("docker")
            .env("DOCKER_CONFIG", config.path())
            .arg("compose")
            .arg("-f")
            .arg(&p.file)
            .args(["-p", &p.name, "--compatibility"])
            .args(args)
            .output()
            .expect("docker")
    };
    let up = docker_compose(&["up", "-d"]);
    assert!(up.status.success(), "{}", stderr(&up));
    assert_eq!(
        p.containers(),
        [format!("{}_web_1", p.name)],
        "--compatibility names as compose's compatibility mode does"
    );
    // As compose: one line and nothing else (tools take its last word as the version).
    let version = docker_compose(&["version"]);
    assert_eq!(
        stdout(&version),
        format!(
            "Docker Compose version v{}\n",
            stackctl::cli::COMPOSE_VERSION
        )
    );
    // The standalone name: `docker-compose` on the PATH.
    let bin = config.path().join("docker-compose");
    std::os::unix::fs::symlink(stackctl_path(), &bin).unwrap();
    let version = Command::new(&bin).arg("version").output().unwrap();
    assert_eq!(
        stdout(&version),
        format!(
            "Docker Compose version v{}\n",
            stackctl::cli::COMPOSE_VERSION
        )
    );
    let ps = Command::new(&bin)
        .arg("-f")
        .arg(&p.file)
        .args(["-p", &p.name, "--tls", "ps", "-q"])
        .output()
        .unwrap();
    assert!(ps.status.success(), "{}", stderr(&ps));
    assert_eq!(stdout(&ps).lines().count(), 1);
    // Every failure is exit 1 as compose, a refused flag and a usage error too; as stackctl 2.
    for args in [&["ps", "--bogus"][..], &["logs", "nosuch"]] {
        assert_eq!(docker_compose(args).status.code(), Some(1), "{args:?}");
        assert_eq!(p.run(args).status.code(), Some(2), "{args:?}");
    }
    let down = docker_compose(&["down", "-t", "1"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(p.containers().is_empty());
}

/// A docker config folder of the test's own, with stackctl as its compose plugin (for
/// `DOCKER_CONFIG`; the user's own `~/.docker` is never touched).
fn compose_plugin_config() -> tempfile::TempDir {
    let config = tempfile::tempdir().unwrap();
    let plugins = config.path().join("cli-plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::os::unix::fs::symlink(stackctl_path(), plugins.join("docker-compose")).unwrap();
    config
}

/// A Python with python-on-whales and testcontainers, if there is one (CI installs them beside
/// the peer; see .ci/run).
fn client_python() -> Option<PathBuf> {
    let found = std::env::var_os("STACKCTL_CLIENTS_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but STACKCTL_CLIENTS_PYTHON names no Python: the client library tests must run"
        );
        eprintln!(
            "SKIPPED: set STACKCTL_CLIENTS_PYTHON to a Python with python-on-whales and testcontainers"
        );
    }
    found
}

/// Two client libraries that drive `docker compose` and parse what it prints work unchanged
/// with stackctl as the plugin (tests/clients/drive.py: their calls, checked).
#[test]
fn python_client_libraries_drive_it_as_they_drive_compose() {
    if !daemon_available() {
        return;
    }
    let Some(python) = client_python() else {
        return;
    };
    let p = TestProject::new(
        "dropin-clients",
        "services:\n  web:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n    ports: ['8000']\n  worker:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n    depends_on: [web]\n    volumes: [data:/data]\nvolumes:\n  data: {}\n",
    );
    let config = compose_plugin_config();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/drive.py");
    let out = Command::new(python)
        .arg(script)
        .arg(p.path())
        .arg(&p.name)
        .env("DOCKER_CONFIG", config.path())
        .output()
        .expect("run the client script");
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(p.containers().is_empty(), "down left {:?}", p.containers());
}

/// The Compose schema compose validates with, as its binary carries it (compose-go embeds
/// `compose_spec.json`), so that the walk below follows the peer's own idea of the format.
fn embedded_schema(peer: &Path) -> serde_json::Value {
    let bytes = std::fs::read(peer).expect("read the peer binary");
    let marker = b"\"$id\": \"compose_spec.json\"";
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("the peer embeds compose_spec.json");
    let start = bytes[..at]
        .iter()
        .rposition(|b| *b == b'{')
        .expect("the schema's opening brace");
    serde_json::Deserializer::from_slice(&bytes[start..])
        .into_iter::<serde_json::Value>()
        .next()
        .expect("a JSON value")
        .expect("the embedded schema parses")
}

/// A value of the shape `node` asks, the simplest one: the first of its alternatives that is an
/// object, a string, a list, a number or a boolean, in that order.
fn sample(node: &serde_json::Value, defs: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    let node = resolve(node, defs);
    if let Some(alts) = node
        .get("oneOf")
        .or(node.get("anyOf"))
        .and_then(Value::as_array)
    {
        for kind in ["object", "string", "array", "integer", "number", "boolean"] {
            if let Some(alt) = alts.iter().map(|a| resolve(a, defs)).find(|a| {
                a.get("type") == Some(&json!(kind))
                    || a.get("type")
                        .and_then(Value::as_array)
                        .is_some_and(|t| t.contains(&json!(kind)))
            }) {
                return sample(alt, defs);
            }
        }
    }
    if let Some(first) = node.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    let kind = match node.get("type") {
        Some(Value::Array(kinds)) => kinds.first().cloned().unwrap_or_default(),
        Some(k) => k.clone(),
        None => json!("object"),
    };
    match kind.as_str() {
        Some("string") => json!("x"),
        Some("integer" | "number") => json!(1),
        Some("boolean") => json!(true),
        Some("array") => json!([sample(
            node.get("items").unwrap_or(&json!({"type": "string"})),
            defs
        )]),
        _ => json!({}),
    }
}

fn resolve<'a>(node: &'a serde_json::Value, defs: &'a serde_json::Value) -> &'a serde_json::Value {
    let mut node = node;
    while let Some(r) = node.get("$ref").and_then(|r| r.as_str()) {
        node = &defs[r.rsplit('/').next().unwrap_or_default()];
    }
    node
}

/// Every key the schema defines under `node`, as a path from the document's top (a name stands
/// where the schema has a pattern of names), down to a few levels.
fn schema_paths(
    node: &serde_json::Value,
    defs: &serde_json::Value,
    path: Vec<String>,
    depth: usize,
    out: &mut Vec<(Vec<String>, serde_json::Value)>,
) {
    let node = resolve(node, defs);
    if depth > 4 {
        return;
    }
    for alt in node
        .get("oneOf")
        .or(node.get("anyOf"))
        .and_then(|a| a.as_array())
        .into_iter()
        .flatten()
    {
        schema_paths(alt, defs, path.clone(), depth + 1, out);
    }
    if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
        for (key, child) in props {
            let mut here = path.clone();
            here.push(key.clone());
            if !out.iter().any(|(p, _)| p == &here) {
                out.push((here.clone(), child.clone()));
            }
            schema_paths(child, defs, here, depth + 1, out);
        }
    }
    if let Some(patterns) = node.get("patternProperties").and_then(|p| p.as_object()) {
        for (pattern, child) in patterns {
            if !pattern.starts_with("^x-") {
                let mut here = path.clone();
                here.push("n1".into());
                schema_paths(child, defs, here, depth + 1, out);
            }
        }
    }
}

/// Walks every key of compose's own schema: each, with a value of its shape, in a file of one
/// service. Where compose accepts the file, stackctl may judge the value more strictly, but it
/// may not call the key unknown or unsupported.
#[test]
fn every_key_of_composes_schema_is_known() {
    let Some(peer) = peer() else {
        return;
    };
    let schema = embedded_schema(&peer);
    let defs = schema
        .get("$defs")
        .or(schema.get("definitions"))
        .expect("definitions");
    let mut paths = Vec::new();
    schema_paths(
        &defs["service"],
        defs,
        vec!["services".into(), "web".into()],
        0,
        &mut paths,
    );
    for section in ["networks", "volumes", "secrets", "configs"] {
        schema_paths(
            &schema["properties"][section],
            defs,
            vec![section.into()],
            0,
            &mut paths,
        );
    }
    assert!(
        paths.len() > 200,
        "only {} keys found in the schema",
        paths.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    let mut unknown = Vec::new();
    for (path, node) in &paths {
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        write_with_key(&file, &keys, sample(node, defs));
        let theirs = Command::new(&peer)
            .arg("-f")
            .arg(&file)
            .args(["config", "-q"])
            .output()
            .unwrap();
        if !theirs.status.success() {
            continue;
        }
        if let Some(err) = unknown_key(&file) {
            unknown.push(format!("{}: {err}", path.join(".")));
        }
    }
    assert!(
        unknown.is_empty(),
        "keys compose accepts and stackctl does not know:\n{}",
        unknown.join("\n")
    );
}

/// `config --resolve-image-digests` and `--lock-image-digests` pin images to the digests their
/// registry gives, as compose prints them (the seeded registry on 127.0.0.1:5000 answers).
#[test]
fn config_pins_images_to_their_registrys_digests_as_compose_does() {
    if !local_daemon_available("the registry is this machine's 127.0.0.1:5000") {
        return;
    }
    let Some(peer) = peer() else {
        return;
    };
    let registry = "127.0.0.1:5000/library/redis:7-alpine";
    if http_get(5000, "/v2/library/redis/tags/list").is_err() {
        panic!("the seeded registry does not answer on 127.0.0.1:5000 (images/offline/seed.sh)");
    }
    let p = TestProject::new(
        "dropin-digests",
        &format!(
            "services:\n  cache:\n    image: {registry}\n    environment: {{A: b}}\n  app:\n    build: .\n  pinned:\n    image: {registry}@sha256:{}\n",
            "0".repeat(64)
        ),
    );
    let both = |args: &[&str]| {
        let theirs = Command::new(&peer)
            .arg("-f")
            .arg(&p.file)
            .args(["-p", &p.name, "config"])
            .args(args)
            .output()
            .unwrap();
        assert!(theirs.status.success(), "{}", stderr(&theirs));
        (
            stdout(&p.ok(&[&["config"][..], args].concat())),
            stdout(&theirs),
        )
    };
    let (ours, theirs) = both(&["--lock-image-digests"]);
    assert_eq!(ours, theirs);
    assert!(ours.contains(&format!("{registry}@sha256:")), "{ours}");
    let images = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.trim_start().starts_with("image:"))
            .map(|l| l.trim().to_owned())
            .collect()
    };
    let (ours, theirs) = both(&["--resolve-image-digests"]);
    assert_eq!(images(&ours), images(&theirs));
    // An image the registry does not have: refused, naming it.
    p.write("services:\n  x:\n    image: 127.0.0.1:5000/library/nope:1\n");
    let out = p.run(&["config", "--resolve-image-digests"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("127.0.0.1:5000/library/nope:1"),
        "{}",
        stderr(&out)
    );
}

/// Every key of the newest Compose schema (compose-spec's, as of compose v5; listed with a value of
/// its shape by scripts/compose-schema-keys.py in tests/fixtures/compose-schema-keys.json) is one
/// stackctl knows: it may judge a value, but never calls the key unknown or unsupported.
#[test]
fn every_key_of_the_newest_compose_schema_is_known() {
    let list =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose-schema-keys.json");
    let keys: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(list).unwrap()).unwrap();
    assert!(keys.len() > 200, "only {} keys listed", keys.len());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    let mut unknown = Vec::new();
    for key in &keys {
        let path: Vec<&str> = key["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        write_with_key(&file, &path, key["sample"].clone());
        if let Some(err) = unknown_key(&file) {
            unknown.push(format!("{}: {err}", path.join(".")));
        }
    }
    assert!(
        unknown.is_empty(),
        "keys of the Compose format stackctl does not know:\n{}",
        unknown.join("\n")
    );
}

/// Writes a file of one service `web` with `value` at `path` (other keys made mappings on the way)
/// to `file`.
fn write_with_key(file: &Path, path: &[&str], value: serde_json::Value) {
    let mut doc = serde_json::json!({"services": {"web": {"image": "busybox"}}});
    let mut at = &mut doc;
    for key in &path[..path.len() - 1] {
        if !at.get(*key).is_some_and(|v| v.is_object()) {
            at[*key] = serde_json::json!({});
        }
        at = &mut at[*key];
    }
    at[*path.last().unwrap()] = value;
    std::fs::write(file, serde_json::to_string(&doc).unwrap()).unwrap();
}

/// What stackctl says when `file`'s key is one it does not know, or None.
fn unknown_key(file: &Path) -> Option<String> {
    let out = Command::new(stackctl_path())
        .arg("-f")
        .arg(file)
        .args(["config", "-q"])
        .output()
        .unwrap();
    let err = stderr(&out);
    (err.contains("unknown key") || err.contains("does not support it yet"))
        .then(|| err.lines().next().unwrap_or_default().to_owned())
}
