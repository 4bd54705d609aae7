//! The Swarm backend against swarms of Docker-in-Docker nodes that the tests start and remove
//! (tests/common/dind.rs): the host daemon's swarm state is never touched. The shipped stack with
//! its swarm override, scale, logs, convergence, down; built images on a one-node swarm without a
//! registry; refusals before anything is created.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::dind::{Cluster, Node};
use crate::common::*;

/// `stackctl --target swarm` against `node`'s daemon.
pub(crate) fn on_swarm(node: &Node, files: &[PathBuf], project: &str, args: &[&str]) -> Command {
    let mut c = Command::new(stackctl_path());
    for f in files {
        c.arg("-f").arg(f);
    }
    c.args(["-p", project, "--target", "swarm", "--progress", "plain"])
        .args(args)
        .env("DOCKER_HOST", node.host())
        .env_remove("STACKCTL_REGISTRY");
    c
}

fn run(node: &Node, files: &[PathBuf], project: &str, args: &[&str]) -> Output {
    on_swarm(node, files, project, args)
        .output()
        .expect("run stackctl")
}

fn ok(node: &Node, files: &[PathBuf], project: &str, args: &[&str]) -> Output {
    let out = run(node, files, project, args);
    assert!(out.status.success(), "stackctl {args:?}:\n{}", stderr(&out));
    out
}

fn services(node: &Node, project: &str) -> Vec<String> {
    let mut v: Vec<String> = node
        .docker(&[
            "service",
            "ls",
            "--filter",
            &format!("label=com.docker.stack.namespace={project}"),
            "--format",
            "{{.Name}}",
        ])
        .lines()
        .map(str::to_owned)
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v
}

/// The host daemon's swarm state, which no test may change.
pub(crate) fn host_swarm_state() -> String {
    docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"])
}

#[test]
fn the_stack_runs_on_swarm_scales_streams_logs_converges_and_goes() {
    if !daemon_available() {
        return;
    }
    let host_state = host_swarm_state();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files = vec![
        root.join("stack/stack.yml"),
        root.join("stack/stack.swarm.yml"),
    ];
    let project = format!("sctsw{}", std::process::id());
    // The images the stack runs, made on the host (its build cache makes this quick) and copied
    // into the node: the node reaches no registry. The built ones are the tests' own tags.
    let host = Command::new(stackctl_path())
        .args(["-f"])
        .arg(&files[0])
        .args(["-p", &project, "--progress", "plain", "pull"])
        .output()
        .expect("stackctl pull");
    assert!(host.status.success(), "{}", stderr(&host));
    let build = Command::new(stackctl_path())
        .args(["-f"])
        .arg(&files[0])
        .args(["-p", &project, "--progress", "plain", "build"])
        .output()
        .expect("stackctl build");
    assert!(build.status.success(), "{}", stderr(&build));
    let config = Command::new(stackctl_path())
        .args(["-f"])
        .arg(&files[0])
        .args(["-p", &project, "config", "--images"])
        .output()
        .expect("stackctl config");
    let images: Vec<String> = stdout(&config).lines().map(str::to_owned).collect();
    assert_eq!(images.len(), 4, "{images:?}");
    // The stack bind-mounts files of stack/ (init.sql, the secret): the node sees them where the
    // host does, as a one-node swarm on this machine would.
    let cluster = Cluster::start_sharing("stack", 1, &[&root.join("stack")]);
    let mut to_load: Vec<&str> = images.iter().map(String::as_str).collect();
    to_load.push(IMG);
    cluster.load(&to_load);
    for built in [format!("{project}-nginx"), format!("{project}-flaskapp")] {
        docker(&["rmi", &built]);
    }
    cluster.swarm();
    let node = cluster.manager();
    let port = 8080;
    let run = |args: &[&str]| {
        on_swarm(node, &files, &project, args)
            .env("HTTP_PORT", port.to_string())
            .output()
            .expect("run stackctl")
    };
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "stackctl {args:?}:\n{}", stderr(&out));
        out
    };

    // No --registry: one node needs none, and says so.
    let up = ok(&["up"]);
    assert!(
        stderr(&up).contains("no registry is needed"),
        "{}",
        stderr(&up)
    );
    assert_eq!(services(node, &project).len(), 4);
    let t = Instant::now();
    let first = loop {
        match http_get_at(&node.ip, port, "/") {
            Ok(r) if r.status == 200 => break r,
            _ if t.elapsed() < Duration::from_secs(60) => {
                std::thread::sleep(Duration::from_millis(300))
            }
            other => panic!(
                "no answer from nginx on swarm: {:?}",
                other.map(|r| r.status)
            ),
        }
    };
    assert!(
        first
            .body
            .starts_with("Hello Linode!  This page has been viewed "),
        "{}",
        first.body
    );

    // Scale: five running tasks, and nginx reaches all five.
    ok(&["scale", "flaskapp=5"]);
    // Swarm converges: a task that Swarm replaces just after scale returned (seen once in a CI
    // run) leaves its slot empty for a moment. Five running tasks within 30 s, and ps -a says why
    // if not.
    let running = |ps: &str| {
        ps.lines()
            .filter(|l| l.contains("_flaskapp.") && l.contains("running") && l.contains("node1"))
            .count()
    };
    // Likewise a replacement task (seen once: a second task of one slot still starting beside the
    // running one) is waited out: every slot with one task, within 30 s.
    let all_tasks =
        || -> serde_json::Value { json_lines(&stdout(&ok(&["ps", "--format", "json"]))) };
    let t = Instant::now();
    let mut ps = stdout(&ok(&["ps", "flaskapp"]));
    while (running(&ps) != 5 || all_tasks().as_array().map(Vec::len) != Some(8))
        && t.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(500));
        ps = stdout(&ok(&["ps", "flaskapp"]));
    }
    assert_eq!(
        running(&ps),
        5,
        "{ps}\nall tasks:\n{}",
        stdout(&ok(&["ps", "-a", "flaskapp"]))
    );
    assert!(!ps.contains("_nginx"), "ps names a service: {ps}");
    let json = all_tasks();
    assert_eq!(json.as_array().map(Vec::len), Some(8), "{json}");
    let ids = stdout(&ok(&["ps", "-q", "redis"]));
    assert_eq!(ids.lines().count(), 1, "{ids}");
    let mut seen = HashSet::new();
    let t = Instant::now();
    while seen.len() < 5 && t.elapsed() < Duration::from_secs(15) {
        if let Ok(r) = http_get_at(&node.ip, port, "/")
            && let Some(h) = r.header("x-served-by")
        {
            seen.insert(h.to_owned());
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");

    // logs -f shows the tasks' lines as they happen.
    let follower = on_swarm(
        node,
        &files,
        &project,
        &["logs", "-f", "--no-color", "nginx"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let _ = http_get_at(&node.ip, port, "/swarm-logs-probe");
    std::thread::sleep(Duration::from_secs(2));
    let _ = Command::new("kill")
        .args(["-INT", &follower.id().to_string()])
        .status();
    let out = String::from_utf8_lossy(&follower.wait_with_output().unwrap().stdout).into_owned();
    assert!(
        out.lines()
            .any(|l| l.starts_with("nginx") && l.contains("/swarm-logs-probe")),
        "{out}"
    );

    // down leaves no service, network or secret of the stack; -v also the data volume.
    let label = format!("label=com.docker.stack.namespace={project}");
    assert!(
        !node
            .docker(&["volume", "ls", "-q", "--filter", &label])
            .is_empty(),
        "the postgres volume is labelled"
    );
    ok(&["down", "-v"]);
    assert!(
        node.docker(&["volume", "ls", "-q", "--filter", &label])
            .is_empty()
    );
    assert!(services(node, &project).is_empty());
    assert!(
        node.docker(&["network", "ls", "-q", "--filter", &label])
            .is_empty()
    );
    assert!(
        node.docker(&["secret", "ls", "-q", "--filter", &label])
            .is_empty()
    );
    assert_eq!(
        host_swarm_state(),
        host_state,
        "the host's swarm is not ours"
    );
}

#[test]
fn an_edit_updates_only_its_service_and_vip_stacks_are_refused_without_ipvs() {
    if !daemon_available() {
        return;
    }
    let host_state = host_swarm_state();
    let cluster = Cluster::start("edit", 1);
    cluster.load(&[IMG]);
    cluster.swarm();
    let node = cluster.manager();
    // `built`'s image fails its own HEALTHCHECK: only `disable: true` lets its task run.
    let manifest = |mode: &str| {
        format!(
            "services:\n  one:\n{SLEEPS}    environment: {{MODE: {mode}}}\n    deploy: {{endpoint_mode: dnsrr}}\n  two:\n{SLEEPS}    deploy: {{endpoint_mode: dnsrr}}\n    logging: {{driver: json-file, options: {{max-size: 1m, max-file: \"2\"}}}}\n  built:\n    build: ./app\n    command: [sleep, infinity]\n    init: true\n    healthcheck: {{disable: true}}\n    deploy: {{endpoint_mode: dnsrr}}\n"
        )
    };
    let p = TestProject::new("swedit", &manifest("a"));
    std::fs::create_dir(p.path().join("app")).unwrap();
    std::fs::write(
        p.path().join("app/Dockerfile"),
        format!("FROM {IMG}\nHEALTHCHECK --interval=1s CMD false\n"),
    )
    .unwrap();
    let files = vec![p.file.clone()];
    let project = p.name.replace('-', "");
    ok(node, &files, &project, &["up"]);
    let inspect = |svc: &str, format: &str| {
        node.docker(&[
            "service",
            "inspect",
            "-f",
            format,
            &format!("{project}_{svc}"),
        ])
    };
    assert_eq!(
        inspect(
            "built",
            "{{json .Spec.TaskTemplate.ContainerSpec.Healthcheck}}"
        ),
        r#"{"Test":["NONE"]}"#,
        "healthcheck disable reaches the service"
    );
    assert!(
        inspect("built", "{{.Spec.TaskTemplate.ContainerSpec.Image}}").starts_with("sha256:"),
        "a built image on one node is deployed by ID"
    );
    let (one, two) = (
        inspect("one", "{{.Version.Index}}"),
        inspect("two", "{{.Version.Index}}"),
    );
    p.write(&manifest("b"));
    ok(node, &files, &project, &["up"]);
    assert_ne!(
        inspect("one", "{{.Version.Index}}"),
        one,
        "the edited service is updated"
    );
    assert_eq!(
        inspect("two", "{{.Version.Index}}"),
        two,
        "the other is left alone"
    );
    assert!(inspect("one", "{{json .Spec.TaskTemplate.ContainerSpec.Env}}").contains("MODE=b"));

    // An edit of the built service's sources: a plain `up` keeps the image it has (as compose
    // does), `up --build` builds it again and rolls the service onto the new image.
    let built_image = inspect("built", "{{.Spec.TaskTemplate.ContainerSpec.Image}}");
    std::fs::write(
        p.path().join("app/Dockerfile"),
        format!("FROM {IMG}\nHEALTHCHECK --interval=1s CMD false\nLABEL edit=two\n"),
    )
    .unwrap();
    let kept = ok(node, &files, &project, &["up"]);
    assert_eq!(
        inspect("built", "{{.Spec.TaskTemplate.ContainerSpec.Image}}"),
        built_image,
        "{}",
        stderr(&kept)
    );
    let rebuilt = ok(node, &files, &project, &["up", "--build"]);
    let new_image = inspect("built", "{{.Spec.TaskTemplate.ContainerSpec.Image}}");
    assert_ne!(new_image, built_image, "{}", stderr(&rebuilt));
    assert!(
        stderr(&rebuilt)
            .lines()
            .any(|l| l.contains(&format!("Service {project}_built ")) && l.ends_with("Updated")),
        "{}",
        stderr(&rebuilt)
    );
    assert_eq!(
        node.docker(&[
            "image",
            "inspect",
            "-f",
            "{{.Config.Labels.edit}}",
            &new_image
        ]),
        "two",
        "the service runs the image built from the edit"
    );
    let running_image = || {
        node.docker(&[
            "ps",
            "--no-trunc",
            "--filter",
            &format!("label=com.docker.swarm.service.name={project}_built"),
            "--format",
            "{{.Image}}",
        ])
    };
    eventually(
        Duration::from_secs(60),
        "the built task is replaced",
        || running_image() == new_image,
    );
    assert_eq!(
        inspect("two", "{{json .Spec.TaskTemplate.LogDriver}}"),
        r#"{"Name":"json-file","Options":{"max-file":"2","max-size":"1m"}}"#,
        "logging reaches the task template"
    );
    ok(node, &files, &project, &["down"]);
    assert!(services(node, &project).is_empty());

    // A secret still used by a service outside the project: `down` removes the rest, then says
    // which secret it could not remove and exits 1 (the retry bound is shortened for the test).
    let sec = TestProject::new(
        "swsec",
        &format!(
            "services:\n  one:\n{SLEEPS}    secrets: [pw]\n    deploy: {{endpoint_mode: dnsrr}}\nsecrets:\n  pw:\n    file: ./pw\n    labels: {{team: blue}}\n"
        ),
    );
    std::fs::write(sec.path().join("pw"), "hunter2\n").unwrap();
    let sproject = sec.name.replace('-', "");
    let sfiles = vec![sec.file.clone()];
    ok(node, &sfiles, &sproject, &["up"]);
    // Named after its value: `<project>_pw-<8 hex>`.
    let secret = node.docker(&[
        "secret",
        "ls",
        "--filter",
        &format!("name={sproject}_pw-"),
        "--format",
        "{{.Name}}",
    ]);
    assert_eq!(
        secret.len(),
        format!("{sproject}_pw-").len() + 8,
        "{secret}"
    );
    assert_eq!(
        node.docker(&["secret", "inspect", "-f", "{{.Spec.Labels.team}}", &secret]),
        "blue",
        "a secret's labels reach the Swarm secret"
    );
    let outsider = format!("{sproject}-outsider");
    node.docker(&[
        "service",
        "create",
        "-d",
        "--no-resolve-image",
        "--name",
        &outsider,
        "--secret",
        &secret,
        "--endpoint-mode",
        "dnsrr",
        IMG,
        "sleep",
        "infinity",
    ]);
    let out = on_swarm(node, &sfiles, &sproject, &["down"])
        .env("STACKCTL_SWARM_RELEASE_WAIT", "3")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("could not remove secret {secret}")) && err.contains("in use"),
        "{err}"
    );
    assert!(
        services(node, &sproject).is_empty(),
        "the project's services went"
    );
    node.docker(&["service", "rm", &outsider]);
    ok(node, &sfiles, &sproject, &["down"]);
    assert_eq!(
        node.docker(&["secret", "ls", "-q", "--filter", &format!("name={secret}")]),
        "",
        "a second down removes the freed secret"
    );

    // A default (VIP) service on a kernel without IPVS: refused before anything is created.
    let has_ipvs = std::path::Path::new("/proc/net/ip_vs").exists();
    let vip = TestProject::new(
        "swvip",
        &format!(
            "services:\n  web:\n    image: {IMG}\n    command: [sleep, infinity]\n    ports: [\"8099:80\"]\n"
        ),
    );
    let vproject = vip.name.replace('-', "");
    let out = run(node, std::slice::from_ref(&vip.file), &vproject, &["up"]);
    assert_eq!(
        host_swarm_state(),
        host_state,
        "the host's swarm is not ours"
    );
    if has_ipvs {
        eprintln!("this kernel has IPVS: the refusal cannot be shown here");
        return;
    }
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no IPVS")
            && err.contains("endpoint_mode: dnsrr")
            && err.contains("mode: host"),
        "{err}"
    );
    assert!(
        err.contains("service web uses a virtual IP") && err.contains("routing mesh"),
        "{err}"
    );
    assert!(services(node, &vproject).is_empty(), "nothing was created");
}

#[test]
fn several_nodes_without_a_registry_are_refused_before_anything_is_created() {
    if !daemon_available() {
        return;
    }
    let cluster = Cluster::start("noreg", 2);
    cluster.load(&[IMG]);
    cluster.swarm();
    let node = cluster.manager();
    let p = TestProject::new(
        "swnoreg",
        &format!(
            "services:\n  db:\n    image: {IMG}\n    deploy: {{endpoint_mode: dnsrr}}\n  app:\n    build: ./app\n    deploy: {{endpoint_mode: dnsrr}}\n"
        ),
    );
    std::fs::create_dir(p.path().join("app")).unwrap();
    std::fs::write(p.path().join("app/Dockerfile"), format!("FROM {IMG}\n")).unwrap();
    let project = p.name.replace('-', "");
    let out = run(node, std::slice::from_ref(&p.file), &project, &["up"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("service(s) app are built here")
            && err.contains("2 nodes")
            && err.contains("--registry"),
        "{err}"
    );
    assert!(services(node, &project).is_empty(), "nothing was created");
    let label = format!("label=com.docker.stack.namespace={project}");
    assert!(
        node.docker(&["network", "ls", "-q", "--filter", &label])
            .is_empty()
    );

    // A folder of this machine bind-mounted: the other node has no such folder.
    std::fs::create_dir(p.path().join("site")).unwrap();
    p.write(&format!(
        "services:\n  web:\n    image: {IMG}\n    volumes: [./site:/srv]\n    deploy: {{endpoint_mode: dnsrr}}\n"
    ));
    let out = run(node, std::slice::from_ref(&p.file), &project, &["up"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bind mounts name folders of this machine, which the swarm's other 1 node(s)")
            && err.contains(&format!("web: {} → /srv", p.path().join("site").display()))
            && err.contains("named volume"),
        "{err}"
    );
    assert!(services(node, &project).is_empty(), "nothing was created");
}

#[test]
fn secrets_are_named_by_their_value_so_an_edit_rolls_the_service() {
    if !daemon_available() {
        return;
    }
    let cluster = Cluster::start("secret", 1);
    cluster.load(&[IMG]);
    cluster.swarm();
    let node = cluster.manager();
    let p = TestProject::new(
        "swsecret",
        &format!(
            "services:\n  app:\n{SLEEPS}    deploy: {{endpoint_mode: dnsrr}}\n    sysctls: {{net.core.somaxconn: '1024'}}\n    ulimits: {{nofile: {{soft: 1000, hard: 2000}}}}\n    extra_hosts: ['db.local:10.9.8.7']\n    secrets:\n      - token\n      - source: api\n        target: api_key\n        mode: 0400\nsecrets:\n  token:\n    file: ./token.txt\n  api:\n    environment: API_KEY\n"
        ),
    );
    std::fs::write(p.path().join("token.txt"), "one").unwrap();
    std::fs::write(p.path().join(".env"), "API_KEY=k1\n").unwrap();
    let files = vec![p.file.clone()];
    let project = p.name.replace('-', "");
    let tasks = || {
        node.docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.swarm.service.name={project}_app"),
        ])
        .lines()
        .map(str::to_owned)
        .collect::<Vec<_>>()
    };
    let read = |c: &str, path: &str| node.docker(&["exec", c, "cat", path]);
    ok(node, &files, &project, &["up"]);
    let first = tasks();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(read(&first[0], "/run/secrets/token"), "one");
    assert_eq!(
        read(&first[0], "/run/secrets/api_key"),
        "k1",
        "from the environment"
    );
    assert_eq!(
        node.docker(&[
            "exec",
            &first[0],
            "stat",
            "-c",
            "%a",
            "/run/secrets/api_key"
        ]),
        "400"
    );
    // The container settings the service API has reach the task.
    let sh = |c: &str, script: &str| node.docker(&["exec", c, "sh", "-c", script]);
    assert_eq!(sh(&first[0], "cat /proc/sys/net/core/somaxconn"), "1024");
    assert_eq!(sh(&first[0], "ulimit -n; ulimit -Hn"), "1000\n2000");
    assert_eq!(
        sh(&first[0], "getent hosts db.local"),
        "10.9.8.7        db.local"
    );
    let names = node.docker(&["secret", "ls", "--format", "{{.Name}}"]);
    assert!(
        names
            .lines()
            .any(|n| n.starts_with(&format!("{project}_token-"))),
        "named after the value: {names}"
    );

    std::fs::write(p.path().join("token.txt"), "two").unwrap();
    ok(node, &files, &project, &["up"]);
    let t = Instant::now();
    loop {
        let now = tasks();
        if now.len() == 1 && now != first && read(&now[0], "/run/secrets/token") == "two" {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the edit did not roll the service: {now:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    ok(node, &files, &project, &["down"]);
    let t = Instant::now();
    while !node
        .docker(&["secret", "ls", "--format", "{{.Name}}"])
        .is_empty()
    {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "down removes the secrets"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
