//! `--dry-run` (the same decisions as the real run, nothing changed), `--profile`, `--ansi`,
//! `--all-resources`, `create` and `volumes`, against the real daemon; docker compose v2.40's
//! behaviour is the reference for each.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use crate::common::*;

fn manifest(debug: &str) -> String {
    format!(
        "services:
  a:
    image: {IMG}
    command: [sleep, infinity]
    init: true
    environment: {{ DEBUG: \"{debug}\" }}
    deploy: {{ replicas: 2 }}
    volumes: [data:/d]
  b:
    image: {IMG}
    command: [sleep, infinity]
    init: true
  dbg:
    image: {IMG}
    command: [sleep, infinity]
    init: true
    profiles: [debug]
volumes:
  data: {{}}
  spare: {{}}
networks:
  unused: {{}}
"
    )
}

/// Everything of the project on the daemon, with the state and start time of each container:
/// equal before and after means nothing was changed.
fn daemon_objects(p: &TestProject) -> String {
    let label = format!("label=com.docker.compose.project={}", p.name);
    let containers = docker(&[
        "ps",
        "-a",
        "--filter",
        &label,
        "--format",
        "{{.ID}} {{.Names}} {{.State}}",
    ]);
    let started: Vec<String> = containers
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|id| inspect(id, "{{.State.StartedAt}}"))
        .collect();
    let networks = docker(&["network", "ls", "-q", "--filter", &label]);
    let volumes = docker(&["volume", "ls", "-q", "--filter", &label]);
    format!("{containers}\n{started:?}\n{networks}\n{volumes}")
}

/// The objects of dry-run lines with this action (`  Container x-a-1  recreate: …`).
fn previewed(text: &str, action: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (kind, name, act) = (words.next()?, words.next()?, words.next()?);
            (act.trim_end_matches(':') == action).then(|| format!("{kind} {name}"))
        })
        .collect()
}

/// The objects of progress lines with this status (`Container x-a-1   Recreated`).
fn reported(text: &str, status: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words.len() == 3 && words[2] == status).then(|| format!("{} {}", words[0], words[1]))
        })
        .collect()
}

#[test]
fn dry_run_up_names_what_up_then_does_and_why_and_changes_nothing() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("dryup", &manifest("0"));
    let first = daemon_objects(&p);
    let out = stdout(&p.ok(&["--dry-run", "up", "-d"]));
    assert_eq!(daemon_objects(&p), first, "a dry run created something");
    let n = &p.name;
    assert_eq!(
        previewed(&out, "create"),
        [
            format!("Container {n}-a-1"),
            format!("Container {n}-a-2"),
            format!("Container {n}-b-1"),
            format!("Network {n}_default"),
            format!("Volume {n}_data"),
        ]
        .into_iter()
        .collect(),
        "{out}"
    );
    p.ok(&["up", "-d"]);
    // One changed service: only its containers are recreated, and the preview says why.
    p.write(&manifest("1"));
    let before = daemon_objects(&p);
    let out = stdout(&p.ok(&["--dry-run", "up", "-d"]));
    assert_eq!(daemon_objects(&p), before, "a dry run changed something");
    let expected: BTreeSet<String> = [format!("Container {n}-a-1"), format!("Container {n}-a-2")]
        .into_iter()
        .collect();
    assert_eq!(previewed(&out, "recreate"), expected, "{out}");
    assert!(
        out.contains("recreate: environment.DEBUG: \"0\" → \"1\""),
        "the changed field is named:\n{out}"
    );
    assert!(previewed(&out, "create").is_empty(), "{out}");
    let done = stderr(&p.ok(&["up", "-d"]));
    assert_eq!(reported(&done, "Recreated"), expected, "{done}");
    // Nothing left to do.
    let out = stdout(&p.ok(&["--dry-run", "up", "-d"]));
    assert!(out.contains("nothing to change"), "{out}");
}

#[test]
fn dry_run_down_scale_stop_rm_restart_list_their_changes_and_exec_refuses_it() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("drydown", &manifest("0"));
    p.ok(&["up", "-d"]);
    let n = &p.name;
    let before = daemon_objects(&p);
    let down = stdout(&p.ok(&["--dry-run", "down", "-v"]));
    let scale = stdout(&p.ok(&["--dry-run", "scale", "a=3"]));
    assert_eq!(daemon_objects(&p), before);
    assert!(
        previewed(&down, "remove").contains(&format!("Volume {n}_data")),
        "{down}"
    );
    assert!(
        previewed(&down, "stop").contains(&format!("Container {n}-b-1")),
        "{down}"
    );
    assert_eq!(
        previewed(&scale, "create"),
        [format!("Container {n}-a-3")].into_iter().collect(),
        "{scale}"
    );
    let stop = stdout(&p.ok(&["--dry-run", "stop", "a"]));
    let rm = stdout(&p.ok(&["--dry-run", "rm", "-s", "-f", "b"]));
    let restart = stdout(&p.ok(&["--dry-run", "restart"]));
    assert_eq!(
        daemon_objects(&p),
        before,
        "a dry run stopped, removed or restarted something"
    );
    assert_eq!(
        previewed(&stop, "stop"),
        [format!("Container {n}-a-1"), format!("Container {n}-a-2")]
            .into_iter()
            .collect(),
        "{stop}"
    );
    assert!(
        previewed(&rm, "remove").contains(&format!("Container {n}-b-1")),
        "{rm}"
    );
    assert_eq!(previewed(&restart, "restart").len(), 3, "{restart}");
    let kill = stdout(&p.ok(&["--dry-run", "kill", "a"]));
    let pause = stdout(&p.ok(&["--dry-run", "pause", "b"]));
    assert_eq!(
        daemon_objects(&p),
        before,
        "a dry run killed or paused something"
    );
    let a_both: BTreeSet<String> = [format!("Container {n}-a-1"), format!("Container {n}-a-2")]
        .into_iter()
        .collect();
    assert_eq!(previewed(&kill, "kill"), a_both, "{kill}");
    assert_eq!(
        previewed(&pause, "pause"),
        [format!("Container {n}-b-1")].into_iter().collect(),
        "{pause}"
    );
    // What only a stopped or paused container can be asked: start and unpause.
    p.ok(&["stop", "a"]);
    p.ok(&["pause", "b"]);
    let before = daemon_objects(&p);
    let start = stdout(&p.ok(&["--dry-run", "start"]));
    let unpause = stdout(&p.ok(&["--dry-run", "unpause"]));
    assert_eq!(
        daemon_objects(&p),
        before,
        "a dry run started or unpaused something"
    );
    assert_eq!(previewed(&start, "start"), a_both, "{start}");
    assert_eq!(
        previewed(&unpause, "unpause"),
        [format!("Container {n}-b-1")].into_iter().collect(),
        "{unpause}"
    );
    // pull says what it would pull, and pulls nothing.
    let pull = stdout(&p.ok(&["--dry-run", "pull"]));
    assert_eq!(
        previewed(&pull, "pull"),
        [format!("Image {IMG}")].into_iter().collect(),
        "{pull}"
    );
    let out = p.run(&["--dry-run", "exec", "a", "true"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--dry-run is not supported by `stackctl exec`"));
    assert_eq!(daemon_objects(&p), before, "the refused exec ran");
}

#[test]
fn profile_flag_enables_profiled_services_as_compose_profiles_does() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("profile", &manifest("0"));
    p.ok(&["up", "-d"]);
    let n = &p.name;
    assert!(!p.containers().contains(&format!("{n}-dbg-1")));
    p.ok(&["--profile", "debug", "up", "-d"]);
    assert!(p.containers().contains(&format!("{n}-dbg-1")));
    // The flag replaces the variable.
    let out = p
        .cmd(&["--profile", "other", "config", "--services"])
        .env("COMPOSE_PROFILES", "debug")
        .output()
        .expect("config");
    assert!(!stdout(&out).contains("dbg"), "{}", stdout(&out));
}

#[test]
fn create_makes_containers_without_starting_them() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("create", &manifest("0"));
    p.ok(&["create"]);
    let n = &p.name;
    for c in ["a-1", "a-2", "b-1"] {
        assert_eq!(inspect(&format!("{n}-{c}"), "{{.State.Status}}"), "created");
    }
    p.ok(&["start"]);
    assert_eq!(inspect(&format!("{n}-a-1"), "{{.State.Status}}"), "running");
}

#[test]
fn unused_resources_are_made_only_with_all_resources_and_volumes_lists_them() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("allres", &manifest("0"));
    let n = &p.name;
    p.ok(&["up", "-d"]);
    assert!(docker_ok(&["volume", "inspect", &format!("{n}_data")]));
    assert!(!docker_ok(&["volume", "inspect", &format!("{n}_spare")]));
    assert!(!docker_ok(&["network", "inspect", &format!("{n}_unused")]));
    p.ok(&["--all-resources", "up", "-d"]);
    assert!(docker_ok(&["volume", "inspect", &format!("{n}_spare")]));
    assert!(docker_ok(&["network", "inspect", &format!("{n}_unused")]));
    let table = stdout(&p.ok(&["volumes"]));
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains(&format!("{n}_data")) && table.contains(&format!("{n}_spare")));
    let quiet = stdout(&p.ok(&["volumes", "-q", "a"]));
    assert_eq!(quiet.trim(), format!("{n}_data"), "a's volumes only");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&p.ok(&["volumes", "--format", "json"]))).expect("json");
    assert_eq!(json[0]["Name"], format!("{n}_data"));
    assert_eq!(json[0]["Volume"], "data");
}

#[test]
fn ansi_always_colours_a_pipe_and_never_does_not() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "ansi",
        &format!(
            "services:\n  a:\n    image: {IMG}\n    command: [sh, -c, 'echo hi; exec sleep infinity']\n    init: true\n"
        ),
    );
    p.ok(&["up", "-d"]);
    let text = |ansi: &str| {
        let t = std::time::Instant::now();
        loop {
            let out = stdout(&p.ok(&["--ansi", ansi, "logs"]));
            if out.contains("hi") || t.elapsed() > std::time::Duration::from_secs(10) {
                return out;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    assert!(text("always").contains("\u{1b}["), "colours asked for");
    let plain = text("never");
    assert!(
        plain.contains("hi") && !plain.contains('\u{1b}'),
        "{plain:?}"
    );
}

/// A registry of the test's own (Debian's docker-registry, temporary storage) on a free port.
struct OwnRegistry {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl OwnRegistry {
    fn start() -> Option<Self> {
        let bin = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())?;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog: {{ level: error }}\nstorage: {{ filesystem: {{ rootdirectory: {} }} }}\nhttp: {{ addr: 127.0.0.1:{port} }}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = std::process::Command::new(bin)
            .args(["serve", config.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let r = OwnRegistry {
            child,
            port,
            _dir: dir,
        };
        let up = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            get(r.port, "/v2/", "").is_some_and(|(status, _)| status == 200)
        });
        up.then_some(r)
    }
}

impl Drop for OwnRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET with an Accept header: (status, body).
fn get(port: u16, path: &str, accept: &str) -> Option<(u16, Vec<u8>)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: {accept}\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, raw[split + 4..].to_vec()))
}

#[test]
fn publish_pushes_the_compose_files_as_an_oci_artifact() {
    let Some(registry) = OwnRegistry::start() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "docker-registry is needed (apt-get install docker-registry)"
        );
        return;
    };
    let manifest =
        "services:\n  web:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n";
    let p = TestProject::new("publish", manifest);
    let to = format!("127.0.0.1:{}/sct/app:v1", registry.port);
    let out = p.ok(&["publish", &to]);
    assert!(stdout(&out).contains("@sha256:"), "{}", stdout(&out));
    let (status, body) = get(
        registry.port,
        "/v2/sct/app/manifests/v1",
        "application/vnd.oci.image.manifest.v1+json",
    )
    .expect("manifest");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(m["artifactType"], "application/vnd.docker.compose.project");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    let layer = &m["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.docker.compose.file+yaml"
    );
    assert_eq!(
        layer["annotations"]["com.docker.compose.file"],
        "compose.yaml"
    );
    let digest = layer["digest"].as_str().unwrap();
    let (status, blob) = get(registry.port, &format!("/v2/sct/app/blobs/{digest}"), "*/*").unwrap();
    assert_eq!((status, blob.as_slice()), (200, manifest.as_bytes()));

    // `-f oci://…` reads it back, from any folder (which becomes the project's folder): the
    // same `config`, byte for byte, under the same project name.
    let elsewhere = tempfile::tempdir().unwrap();
    let from_registry = Command::new(stackctl_path())
        .current_dir(elsewhere.path())
        .args(["-f", &format!("oci://{to}"), "-p", &p.name, "config"])
        .output()
        .unwrap();
    assert!(from_registry.status.success(), "{}", stderr(&from_registry));
    assert_eq!(stdout(&from_registry), stdout(&p.ok(&["config"])));
    let missing = Command::new(stackctl_path())
        .current_dir(elsewhere.path())
        .args([
            "-f",
            &format!("oci://127.0.0.1:{}/sct/app:nope", registry.port),
            "config",
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("has no sct/app:nope"),
        "{}",
        stderr(&missing)
    );

    // --oci-version 1.0: no artifact type, compose's own config media type; read back alike.
    let old = format!("127.0.0.1:{}/sct/app:v1.0", registry.port);
    p.ok(&["publish", "--oci-version", "1.0", &old]);
    let (_, body) = get(
        registry.port,
        "/v2/sct/app/manifests/v1.0",
        "application/vnd.oci.image.manifest.v1+json",
    )
    .expect("manifest");
    let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(m.get("artifactType").is_none(), "{m}");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.docker.compose.config.empty.v1+json"
    );
    let read_back = Command::new(stackctl_path())
        .current_dir(elsewhere.path())
        .args(["-f", &format!("oci://{old}"), "-p", &p.name, "config"])
        .output()
        .unwrap();
    assert_eq!(stdout(&read_back), stdout(&p.ok(&["config"])));
    let bad = p.run(&["publish", "--oci-version", "2", &old]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("give 1.0 or 1.1"), "{}", stderr(&bad));

    // What would not work elsewhere is refused before anything is pushed.
    p.write("services:\n  web:\n    build: .\n");
    let refused = p.run(&[
        "publish",
        &format!("127.0.0.1:{}/sct/other:v1", registry.port),
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("names no image"),
        "{}",
        stderr(&refused)
    );
    // Environment values travel only with --with-env, as in compose.
    p.write(
        "services:\n  web:\n    image: debian:bookworm-slim\n    environment: [TOKEN=s3cret]\n",
    );
    let other = format!("127.0.0.1:{}/sct/other:v1", registry.port);
    let refused = p.run(&["publish", &other]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("service \"web\" has environment variable(s) declared")
            && stderr(&refused).contains("--with-env"),
        "{}",
        stderr(&refused)
    );
    let (status, _) = get(registry.port, "/v2/sct/other/tags/list", "").unwrap();
    assert_eq!(status, 404, "nothing was pushed");
    p.ok(&["publish", "--with-env", &other]);
    let (status, _) = get(registry.port, "/v2/sct/other/tags/list", "").unwrap();
    assert_eq!(status, 200, "--with-env publishes");

    // --resolve-image-digests adds a layer that pins each image to its registry's digest.
    if !local_daemon_available("it pushes an image to this machine's own registry") {
        return;
    }
    let base = format!("127.0.0.1:{}/sct/base:1", registry.port);
    let _pushed = Images(vec![base.clone()]);
    assert!(docker_ok(&["tag", IMG, &base]) && docker_ok(&["push", &base]));
    p.write(&format!("services:\n  web:\n    image: {base}\n"));
    let pinned = format!("127.0.0.1:{}/sct/pinned:v1", registry.port);
    p.ok(&["publish", "--resolve-image-digests", &pinned]);
    let (_, body) = get(
        registry.port,
        "/v2/sct/pinned/manifests/v1",
        "application/vnd.oci.image.manifest.v1+json",
    )
    .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let layer = &m["layers"][1];
    assert_eq!(
        layer["annotations"]["com.docker.compose.file"], "image-digests.yaml",
        "{m}"
    );
    let digest = layer["digest"].as_str().unwrap();
    let (_, blob) = get(
        registry.port,
        &format!("/v2/sct/pinned/blobs/{digest}"),
        "*/*",
    )
    .unwrap();
    let text = String::from_utf8_lossy(&blob);
    assert!(text.contains(&format!("{base}@sha256:")), "{text}");
}

/// `-f` of a git repository (`URL#ref:path`): the Compose file at that ref, read from a clone of
/// the run's own; a path that leaves the repository is refused.
#[test]
fn a_compose_file_is_read_from_a_git_repository_at_a_ref() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(repo.path())
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    };
    git(&["init", "-q"]);
    std::fs::create_dir(repo.path().join("deploy")).unwrap();
    let write = |version: &str| {
        std::fs::write(
            repo.path().join("deploy/compose.yaml"),
            format!(
                "services:\n  web:\n    image: {IMG}\n    environment: {{VERSION: '{version}'}}\n"
            ),
        )
        .unwrap();
    };
    write("1");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "one"]);
    git(&["tag", "v1"]);
    write("2");
    git(&["commit", "-q", "-am", "two"]);
    let url = format!("file://{}", repo.path().display());
    let config = |source: &str| {
        Command::new(stackctl_path())
            .current_dir(repo.path())
            .args(["-f", source, "-p", "fromgit", "config"])
            .output()
            .unwrap()
    };
    let at_tag = config(&format!("{url}#v1:deploy"));
    assert!(at_tag.status.success(), "{}", stderr(&at_tag));
    assert!(
        stdout(&at_tag).contains("VERSION: '1'"),
        "{}",
        stdout(&at_tag)
    );
    let at_head = config(&format!("{url}#:deploy/compose.yaml"));
    assert!(
        stdout(&at_head).contains("VERSION: '2'"),
        "{}",
        stdout(&at_head)
    );
    let outside = config(&format!("{url}#v1:../.."));
    assert_eq!(outside.status.code(), Some(2), "{}", stderr(&outside));
    assert!(
        stderr(&outside).contains("leaves the repository"),
        "{}",
        stderr(&outside)
    );
}
