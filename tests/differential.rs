//! The commands that change state, side by side with docker compose v2: every flag compose's own
//! `--help` lists for them (and every global flag) is run through both tools, each on its own copy
//! of one project, in the same sequence. After each step what each tool left is compared: whether
//! the command succeeded, the containers (by name, state, and whether each was replaced), the
//! networks, volumes and images, and for `run`/`exec` what the command printed. A flag compose
//! adds that no step here tries fails the test, as does any step the two tools answer differently.
//!
//! Each family runs both tools at once (one thread each); a step's difference can carry into the
//! next, so the report lists the first few in order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::dropin::{compose_flags_typed, peer};

/// The base image every service runs, served by the seeded local registry so that `pull`,
/// `push` and `--pull always` make real requests without leaving this machine.
const BASE: &str = "127.0.0.1:5000/sct-diff/debian:bookworm-slim";

/// How a step's standard output is compared.
#[derive(Clone, Copy, PartialEq)]
enum Out {
    /// Not at all (progress and listings differ in ways tools do not parse).
    Ignored,
    /// Both print something or both nothing.
    Presence,
    /// The same text, the projects' names and IDs masked.
    Exact,
}

struct Step {
    args: Vec<String>,
    out: Out,
    /// Commands that follow until stopped (`attach`, `watch`, `up --watch`): stopped after this
    /// long, and whether each was still running then is compared.
    bounded: Option<Duration>,
    /// What the step sets going ends after it returns (a signal's effect): the state is read
    /// until it holds still.
    settles: bool,
}

fn step(args: &[&str]) -> Step {
    Step {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        out: Out::Ignored,
        bounded: None,
        settles: args[0] == "kill",
    }
}

/// What one tool did at one step, with its project's name masked.
#[derive(Debug)]
struct Outcome {
    /// The exit code, or "ran on" for a bounded step still running when stopped.
    answer: String,
    stdout: String,
    state: Vec<String>,
    /// The last line of stderr: shown in a report (through Debug), never compared.
    #[expect(
        dead_code,
        reason = "read through Debug, in the report of a difference"
    )]
    said: String,
}

impl PartialEq for Outcome {
    fn eq(&self, other: &Self) -> bool {
        (&self.answer, &self.stdout, &self.state) == (&other.answer, &other.stdout, &other.state)
    }
}

/// One tool's copy of the project.
struct Side<'a> {
    program: &'a Path,
    project: &'a TestProject,
    /// Every volume seen mounted in the project's containers. Anonymous ones outlive their
    /// containers (`rm` without `-v`, `up -V`) with both tools; they are this test's to remove.
    seen_volumes: std::cell::RefCell<BTreeSet<String>>,
}

impl Drop for Side<'_> {
    fn drop(&mut self) {
        for volume in self.seen_volumes.borrow().iter() {
            let _ = docker_ok(&["volume", "rm", volume]);
        }
    }
}

impl Side<'_> {
    fn run_all(&self, steps: &[Step]) -> Vec<Outcome> {
        let mut ids = BTreeMap::new();
        let trace = std::env::var_os("STACKCTL_DIFF_TRACE").is_some();
        steps
            .iter()
            .map(|s| {
                let outcome = self.run(s, &mut ids);
                if trace {
                    eprintln!("{} {}: {outcome:?}", self.project.name, s.args.join(" "));
                }
                outcome
            })
            .collect()
    }

    fn run(&self, s: &Step, ids: &mut BTreeMap<String, String>) -> Outcome {
        let p = self.project;
        let args: Vec<String> = s.args.iter().map(|a| a.replace("{P}", &p.name)).collect();
        let mut cmd = Command::new(self.program);
        cmd.arg("-f")
            .arg(&p.file)
            .args(["-p", &p.name])
            .args(&args)
            .current_dir(p.path())
            .env("COMPOSE_MENU", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let (answer, stdout, said) = match s.bounded {
            None => {
                let o = cmd.output().expect("run a tool");
                let code = o.status.code().map_or("signal".into(), |c| c.to_string());
                let said = stderr(&o).lines().last().unwrap_or_default().to_owned();
                (code, String::from_utf8_lossy(&o.stdout).into_owned(), said)
            }
            Some(limit) => {
                let mut child = cmd.spawn().expect("spawn a tool");
                let start = Instant::now();
                let mut code = None;
                while start.elapsed() < limit {
                    if let Some(status) = child.try_wait().expect("wait") {
                        code = Some(status.code().map_or("signal".into(), |c| c.to_string()));
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                let _ = child.kill();
                let _ = child.wait();
                let said = String::new();
                (code.unwrap_or_else(|| "ran on".into()), String::new(), said)
            }
        };
        let stdout = match s.out {
            Out::Ignored => String::new(),
            Out::Presence => (!stdout.trim().is_empty()).to_string(),
            Out::Exact => masked(&stdout.replace('\r', ""), &p.name),
        };
        let before = ids.clone();
        let mut state = self.state(ids);
        if s.settles {
            let start = Instant::now();
            loop {
                std::thread::sleep(Duration::from_millis(300));
                let mut again = before.clone();
                let now = self.state(&mut again);
                if now == state || start.elapsed() > Duration::from_secs(10) {
                    break;
                }
                state = now;
                *ids = again;
            }
        }
        Outcome {
            answer,
            stdout,
            state,
            said,
        }
    }

    /// The project's containers (name, state, kept or new since the last step), networks,
    /// volumes and images, as lines with the project's name masked.
    fn state(&self, ids: &mut BTreeMap<String, String>) -> Vec<String> {
        let name = &self.project.name;
        let label = format!("label=com.docker.compose.project={name}");
        let mut lines = Vec::new();
        let listed = docker(&[
            "ps",
            "-a",
            "--no-trunc",
            "--filter",
            &label,
            "--format",
            "{{.ID}} {{.Names}} {{.State}} {{.Mounts}}",
        ]);
        let mut now = BTreeMap::new();
        for line in listed.lines() {
            let mut words = line.split(' ');
            let (Some(id), Some(container), Some(state)) =
                (words.next(), words.next(), words.next())
            else {
                continue;
            };
            let mounts = words.next().unwrap_or_default();
            self.seen_volumes.borrow_mut().extend(
                mounts
                    .split(',')
                    .filter(|m| m.len() == 64 && m.chars().all(|c| c.is_ascii_hexdigit()))
                    .map(str::to_owned),
            );
            // Whether a rebuild makes a new image (and so a new container) depends on the builder
            // (compose's legacy one here makes a new ID for the same steps; BuildKit does not):
            // the built service's containers are compared by state alone.
            let age = if container.contains("-built-") {
                ""
            } else if ids.get(container).is_some_and(|old| old == id) {
                " kept"
            } else {
                " new"
            };
            lines.push(format!(
                "container {} {state}{age}",
                masked(container, name)
            ));
            now.insert(container.to_owned(), id.to_owned());
        }
        *ids = now;
        for (what, args) in [
            ("network", vec!["network", "ls", "--filter", &label]),
            ("volume", vec!["volume", "ls", "--filter", &label]),
        ] {
            let mut listing = args.clone();
            listing.extend(["--format", "{{.Name}}"]);
            for object in docker(&listing).lines() {
                lines.push(format!("{what} {}", masked(object, name)));
            }
        }
        let mine = format!("reference=127.0.0.1:5000/{name}/*");
        for image in docker(&[
            "image",
            "ls",
            "--filter",
            &mine,
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ])
        .lines()
        // An image a rebuild replaced keeps its repository when it was pushed (`repo:<none>`):
        // which are left is the builder's business, as above.
        .filter(|image| !image.ends_with(":<none>"))
        {
            lines.push(format!("image {}", masked(image, name)));
        }
        lines.sort();
        lines
    }
}

/// `text` with the project's name as `P` and every run of twelve or more hex digits (IDs, a
/// one-off container's suffix) as `#`.
fn masked(text: &str, project: &str) -> String {
    let text = text.replace(project, "P");
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
            continue;
        }
        if run.len() >= 12 {
            out.push('#');
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// The project both tools are given: a service with a dependency, a port, a named and an
/// anonymous volume; a job that exits 3, started only when named (so that no state is caught
/// half-way through it); a service built here, which `watch` follows.
fn manifest(project: &str) -> String {
    format!(
        r#"services:
  web:
    image: {BASE}
    command: [sleep, infinity]
    init: true
    depends_on: [db]
    ports: ["127.0.0.1::80"]
    volumes: [data:/data, /anon]
    environment: [FOO=from-manifest]
  db:
    image: {BASE}
    command: [sleep, infinity]
    init: true
  job:
    image: {BASE}
    command: [sh, -c, "echo job ran; exit 3"]
    profiles: [jobs]
  built:
    build: ./ctx
    image: 127.0.0.1:5000/{project}/built:1
    command: [sleep, infinity]
    init: true
    develop:
      watch:
        - action: sync
          path: ./ctx/app
          target: /app
volumes:
  data: {{}}
"#
    )
}

/// A copy of the project for one tool, with its build context and the files flags name.
fn project(prefix: &str) -> TestProject {
    let p = TestProject::new(prefix, "");
    p.write(&manifest(&p.name));
    let ctx = p.path().join("ctx");
    std::fs::create_dir_all(ctx.join("app")).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {BASE}\nARG K=none\nLABEL k=$K\nCOPY app /app\n"),
    )
    .unwrap();
    std::fs::write(ctx.join("app/file"), "1\n").unwrap();
    std::fs::write(p.path().join("run.env"), "FROM_FILE=yes\n").unwrap();
    std::fs::write(p.path().join("alt.env"), "UNUSED=1\n").unwrap();
    p
}

/// The base image in the local registry (pushed once; the local tag is what services run).
fn base_image() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        assert!(docker_ok(&["tag", IMG, BASE]), "tag {BASE}");
        assert!(
            docker_ok(&["push", BASE]),
            "push {BASE} to the seeded registry"
        );
    });
}

/// Runs `steps` through compose and stackctl at once, each on its own project, and returns
/// the steps the two answered differently.
fn side_by_side(family: &str, steps: &[Step]) -> Vec<String> {
    let peer = peer().expect("checked by the caller");
    base_image();
    let theirs = project(&format!("diffc-{family}"));
    let ours = project(&format!("diffs-{family}"));
    let _images = ProjectImages(vec![theirs.name.clone(), ours.name.clone()]);
    // stackctl as it is installed in compose's place: by compose's name (which is how it knows
    // to answer as compose, exit codes included).
    let installed = tempfile::tempdir().unwrap();
    let stackctl = installed.path().join("docker-compose");
    std::os::unix::fs::symlink(stackctl_path(), &stackctl).unwrap();
    let (a, b) = std::thread::scope(|scope| {
        let compose = scope.spawn(|| {
            Side {
                program: &peer,
                project: &theirs,
                seen_volumes: Default::default(),
            }
            .run_all(steps)
        });
        let mine = Side {
            program: &stackctl,
            project: &ours,
            seen_volumes: Default::default(),
        }
        .run_all(steps);
        (compose.join().expect("compose's side"), mine)
    });
    let mut differ = Vec::new();
    for ((s, theirs), mine) in steps.iter().zip(a).zip(b) {
        let args = s.args.join(" ");
        let known = KNOWN.iter().any(|(step, _)| args == *step);
        if (known && theirs.state != mine.state) || (!known && theirs != mine) {
            differ.push(format!(
                "{}\n  compose:  {theirs:?}\n  stackctl: {mine:?}",
                s.args.join(" ")
            ));
        }
    }
    differ
}

/// Steps whose answer differs from compose v2.40's on purpose (the state they leave must still
/// be the same), and why. README's table of differences lists them.
const KNOWN: &[(&str, &str)] = &[
    (
        "start --dry-run",
        "compose's dry run of `start` fails (\"service has no container to start\") on stopped \
         containers; stackctl previews the starts",
    ),
    (
        "events --until 1h",
        "compose takes the end of the daemon's event stream at --until for an error (it prints \
         \"EOF\" and exits 1); stackctl ends with 0, as `docker events --until` does",
    ),
    (
        "watch --dry-run",
        "compose watches without acting on a change; stackctl refuses --dry-run for watch (exit \
         1, before anything starts)",
    ),
];

/// Removes, however the test ends, every image either tool built or committed for these
/// projects: each carries its project's label (rebuilt ones are left untagged).
struct ProjectImages(Vec<String>);

impl Drop for ProjectImages {
    fn drop(&mut self) {
        for project in &self.0 {
            let label = format!("label=com.docker.compose.project={project}");
            for id in docker(&["images", "-q", "--filter", &label]).lines() {
                let _ = docker_ok(&["rmi", "-f", id]);
            }
        }
    }
}

/// A sample value for a flag that takes one.
fn sample(command: &str, flag: &str) -> &'static str {
    match (command, flag) {
        ("up" | "create", "scale") | ("scale", _) => "web=2",
        ("up" | "create" | "run", "pull") => "always",
        ("pull", "policy") => "missing",
        ("up", "attach" | "exit-code-from") => "job",
        ("up", "no-attach") => "web",
        ("kill", "signal") => "SIGTERM",
        ("down", "rmi") => "local",
        ("run", "entrypoint") => "echo",
        ("run", "env") | ("exec", "env") => "FOO=from-flag",
        ("run", "env-from-file") => "run.env",
        ("run", "label") => "purpose=test",
        ("run", "name") => "{P}-named",
        ("run", "publish") => "127.0.0.1::81",
        ("run", "volume") => "/etc/hostname:/mnt/host:ro",
        ("run", "cap-add") => "NET_ADMIN",
        ("run", "cap-drop") => "CHOWN",
        ("run" | "exec", "user") => "1000",
        ("run" | "exec", "workdir") => "/tmp",
        ("attach", "detach-keys") => "ctrl-x",
        ("commit", "author") => "someone",
        ("commit", "change") => "ENV X=1",
        ("commit", "message") => "a message",
        ("export", "output") => "out.tar",
        ("build", "build-arg") => "K=from-flag",
        ("build", "builder") => "default",
        ("build", "memory") => "512m",
        ("build", "provenance" | "sbom") => "true",
        ("build", "ssh") => "default",
        ("volumes" | "events" | "logs" | "stats" | "config", "format") => "json",
        ("events" | "logs", "since" | "until") => "1h",
        ("logs", "tail") => "1",
        ("config", "output") => "printed.yaml",
        ("config", "hash") => "*",
        ("publish", "oci-version") => "1.1",
        (_, "timeout" | "wait-timeout") => "5",
        (_, "index") => "1",
        _ => "",
    }
}

/// The steps that try `--flag [value]` of `command`, with what puts the project in the state the
/// command acts on first.
fn steps_for(command: &str, flag: &str, takes_value: bool) -> Vec<Step> {
    let mut given = vec![format!("--{flag}")];
    if takes_value {
        given.push(sample(command, flag).to_owned());
    }
    let given: Vec<&str> = given.iter().map(String::as_str).collect();
    let with = |before: &[&str], after: &[&str]| -> Step {
        let mut all: Vec<&str> = vec![command];
        all.extend(before);
        all.extend(&given);
        all.extend(after);
        step(&all)
    };
    let up = || step(&["up", "-d"]);
    let printing = ["web", "sh", "-c", "echo \"$FOO $(pwd) $(id -u)\""];
    let attached = [
        "abort-on-container-exit",
        "abort-on-container-failure",
        "attach",
        "attach-dependencies",
        "exit-code-from",
        "menu",
        "no-attach",
        "no-color",
        "no-log-prefix",
        "timestamps",
    ];
    match command {
        "up" if flag == "watch" => vec![
            up(),
            Step {
                bounded: Some(Duration::from_secs(4)),
                ..with(&[], &["built"])
            },
        ],
        "up" if attached.contains(&flag) => vec![up(), with(&[], &["job"])],
        "up" | "create" if ["no-start", "no-deps"].contains(&flag) => {
            let before: &[&str] = if command == "up" { &["-d"] } else { &[] };
            vec![step(&["down", "-t", "0"]), with(before, &["web"])]
        }
        // (Each is an `up -d` itself: the one before it brings back what the last one changed.)
        "up" => vec![with(&["-d"], &[])],
        "create" => vec![step(&["down", "-t", "0"]), with(&[], &[])],
        "start" => vec![up(), step(&["stop", "-t", "0"]), with(&[], &[])],
        "unpause" => vec![up(), step(&["pause"]), with(&[], &[])],
        "rm" => {
            let before: &[&str] = if flag == "force" { &[] } else { &["-f"] };
            vec![up(), step(&["stop", "-t", "0"]), with(before, &[])]
        }
        "scale" => vec![up(), with(&[], if takes_value { &[] } else { &["web=2"] })],
        // While the service runs, both wait (compose's `wait` does not see a container that has
        // already exited; see KNOWN).
        "wait" => vec![
            up(),
            Step {
                bounded: Some(Duration::from_secs(2)),
                ..with(&[], &["web"])
            },
        ],
        "run" => {
            let before: &[&str] = match flag {
                "detach" => &[],
                "rm" => &["-T"],
                _ => &["--rm"],
            };
            let after: &[&str] = match flag {
                "entrypoint" => &["web", "hello"],
                "build" => &["built", "true"],
                // Still running when the state is read, whichever tool returns sooner.
                "detach" => &["web", "sleep", "infinity"],
                _ => &printing,
            };
            let out = if after == printing {
                Out::Exact
            } else {
                Out::Ignored
            };
            vec![
                up(),
                Step {
                    out,
                    ..with(before, after)
                },
            ]
        }
        "exec" => {
            let before: &[&str] = if flag == "no-tty" { &[] } else { &["-T"] };
            let after: &[&str] = if flag == "detach" {
                &["web", "true"]
            } else {
                &printing
            };
            vec![
                up(),
                Step {
                    out: Out::Exact,
                    ..with(before, after)
                },
            ]
        }
        "attach" => vec![
            up(),
            Step {
                bounded: Some(Duration::from_secs(2)),
                ..with(&[], &["web"])
            },
        ],
        "watch" => vec![
            Step {
                bounded: Some(Duration::from_secs(4)),
                ..with(&[], &[])
            },
            step(&["down", "-t", "0"]),
        ],
        "cp" => vec![up(), with(&[], &["web:/etc/hostname", "copied"])],
        // What follows until stopped, and what the reading test leaves out (it writes a file or
        // asks the registry): run here beside compose, bounded where it follows.
        "events" | "logs" | "stats" => {
            let before: &[&str] = if command == "stats" && flag != "no-stream" {
                &["--no-stream"]
            } else {
                &[]
            };
            let follows = command == "events" || (command == "logs" && flag == "follow");
            let step = with(before, &[]);
            vec![
                up(),
                Step {
                    bounded: follows.then(|| Duration::from_secs(2)),
                    out: if follows { Out::Ignored } else { Out::Presence },
                    ..step
                },
            ]
        }
        "config" => vec![Step {
            out: if flag == "output" {
                Out::Ignored
            } else {
                Out::Presence
            },
            ..with(&[], &[])
        }],
        "commit" => vec![up(), with(&[], &["web", "127.0.0.1:5000/{P}/committed:1"])],
        "export" => {
            let before: &[&str] = if flag == "output" {
                &[]
            } else {
                &["-o", "out.tar"]
            };
            vec![up(), with(before, &["web"])]
        }
        "volumes" => vec![
            up(),
            Step {
                out: Out::Presence,
                ..with(&[], &[])
            },
        ],
        "build" => vec![with(&[], &["built"])],
        "push" => vec![step(&["build", "built"]), with(&[], &[])],
        "publish" => vec![with(&[], &["127.0.0.1:5000/{P}/app:1"])],
        "restart" | "kill" if flag == "no-deps" => vec![up(), with(&[], &["web"])],
        _ => vec![up(), with(&[], &[])],
    }
}

/// The changing commands in `family`, every flag of each as compose's help lists it; fails
/// when a step answers differently.
fn check_family(family: &str, commands: &[&str]) {
    let Some(peer) = peer() else { return };
    if !daemon_available() {
        return;
    }
    let mut steps = Vec::new();
    let mut tried = BTreeSet::new();
    for command in commands {
        for ((_, flag), kind) in compose_flags_typed(&peer, &[command]) {
            if flag == "help" {
                continue;
            }
            steps.extend(steps_for(command, &flag, kind.is_some()));
            tried.insert(format!("{command} --{flag}"));
        }
    }
    assert!(tried.len() >= commands.len(), "flags tried: {tried:?}");
    steps.push(step(&["down", "-v", "-t", "0", "--remove-orphans"]));
    let differ = side_by_side(family, &steps);
    assert!(
        differ.is_empty(),
        "{} of {} steps answered differently (first shown first):\n{}",
        differ.len(),
        steps.len(),
        differ
            .into_iter()
            .take(if std::env::var_os("STACKCTL_DIFF_ALL").is_some() {
                usize::MAX
            } else {
                12
            })
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The changing commands by family, a test each (below): the steps of one family run in one
/// sequence on one project.
const FAMILIES: &[(&str, &[&str])] = &[
    ("up", &["up", "create"]),
    (
        "life",
        &[
            "start", "stop", "restart", "kill", "pause", "unpause", "rm", "scale", "wait", "down",
        ],
    ),
    ("run", &["run", "exec", "attach", "cp"]),
    // The reading commands' flags that follow, write a file or ask the registry (the rest are in
    // `dropin::every_flag_of_the_reading_commands_…`).
    ("read", &["events", "logs", "stats", "config"]),
    (
        "image",
        &[
            "build", "pull", "push", "commit", "export", "volumes", "watch", "publish",
        ],
    ),
];

fn family(name: &str) {
    let (_, commands) = FAMILIES
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a family of FAMILIES");
    check_family(name, commands);
}

#[test]
fn every_flag_of_up_and_create_leaves_what_composes_leaves() {
    family("up");
}

#[test]
fn every_flag_of_the_lifecycle_commands_leaves_what_composes_leaves() {
    family("life");
}

#[test]
fn every_flag_of_run_and_exec_does_what_composes_does() {
    family("run");
}

#[test]
fn every_flag_of_the_following_and_printing_commands_does_what_composes_does() {
    family("read");
}

#[test]
fn every_flag_of_the_image_commands_does_what_composes_does() {
    family("image");
}

/// Each command compose's help lists is run through both tools by a test: a family here, the
/// reading commands' test, or bridge's. A command compose adds fails this until one runs it.
#[test]
fn every_command_compose_lists_is_run_side_by_side() {
    let Some(peer) = peer() else { return };
    let run: BTreeSet<String> = FAMILIES
        .iter()
        .flat_map(|(_, commands)| commands.iter())
        .chain(crate::dropin::READING)
        .chain(crate::bridge::COMMANDS)
        .map(|c| (*c).to_owned())
        .collect();
    let listed = crate::dropin::compose_commands(&peer);
    let missing: Vec<String> = listed
        .iter()
        .map(|path| path.join(" "))
        .filter(|c| !run.contains(c))
        .collect();
    assert!(listed.len() > 30, "compose's commands: {listed:?}");
    assert!(
        missing.is_empty(),
        "no side-by-side test runs these: {missing:?}"
    );
}

/// Every global flag compose lists, before `up -d` and `down`: `-f` and `-p` are given to every
/// step already.
#[test]
fn every_global_flag_is_taken_as_compose_takes_it() {
    let Some(peer) = peer() else { return };
    if !daemon_available() {
        return;
    }
    let mut steps = Vec::new();
    for ((_, flag), kind) in compose_flags_typed(&peer, &[]) {
        if ["help", "file", "project-name"].contains(&flag.as_str()) {
            continue;
        }
        let mut given = vec![format!("--{flag}")];
        if kind.is_some() {
            given.push(
                match flag.as_str() {
                    "ansi" => "never",
                    "env-file" => "alt.env",
                    "parallel" => "2",
                    "profile" => "jobs",
                    "progress" => "plain",
                    "project-directory" => ".",
                    _ => "x",
                }
                .to_owned(),
            );
        }
        for command in [["up", "-d"], ["down", "-t"]] {
            let mut args = given.clone();
            args.extend(command.iter().map(|a| (*a).to_owned()));
            if command[0] == "down" {
                args.push("0".into());
            }
            steps.push(Step {
                args,
                out: Out::Ignored,
                bounded: None,
                settles: false,
            });
        }
    }
    assert!(steps.len() >= 18, "global flags: {}", steps.len() / 2);
    let differ = side_by_side("global", &steps);
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn masking_hides_the_project_and_ids_only() {
    assert_eq!(
        masked("proj-web-run-0123456789ab and proj-web-1 abc", "proj"),
        "P-web-run-# and P-web-1 abc"
    );
    assert_eq!(masked(&"f".repeat(64), "x"), "#");
}
