//! `bridge` and compose's hidden `alpha` commands. Transformation images (built here, labelled
//! as compose labels them) run over a project by stackctl and, when STACKCTL_COMPOSE_PEER names
//! it, by docker compose v2 beside it: the model each hands over, what each prints, the folders
//! each writes, the exit codes; `alpha viz`'s graph and `alpha generate`'s file, compared alike.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;
use crate::dropin::peer;

/// The commands these tests run through both tools, every flag compose lists for them.
/// (`alpha publish` is `publish`, which the image family of `differential` runs flag by flag.)
pub(crate) const COMMANDS: &[&str] = &[
    "bridge convert",
    "bridge transformations list",
    "bridge transformations create",
    "alpha viz",
    "alpha generate",
    "alpha publish",
];

/// A transformation image of this test's own: it copies the model it is given and what it finds
/// in /templates to /out, says who it ran as, and prints a line to each stream. `fail` makes one
/// that exits 3 instead.
fn transformation(p: &TestProject, tag: &str, fail: bool) -> String {
    let dir = p.path().join(format!("transformer-{tag}"));
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(dir.join("templates/deployment.tmpl"), "kind: Deployment\n").unwrap();
    let script = if fail {
        "echo cannot convert >&2; exit 3"
    } else {
        "cp /in/compose.yaml /out/model.yaml && ls /templates > /out/templates.txt && id -u > /out/uid && echo converted && echo to-stderr >&2"
    };
    std::fs::write(
        dir.join("Dockerfile"),
        format!(
            "FROM debian:bookworm-slim\nLABEL com.docker.compose.bridge=transformation\nCOPY templates /templates\nCMD [\"sh\", \"-c\", \"{script}\"]\n"
        ),
    )
    .unwrap();
    let image = format!("{}/transformer:{tag}", p.name);
    let label = format!("com.docker.compose.project={}", p.name);
    let built = Command::new("docker")
        .args(["build", "-q", "--label", &label, "-t", &image])
        .arg(&dir)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", stderr(&built));
    image
}

fn in_project(program: &Path, p: &TestProject, args: &[&str]) -> Output {
    Command::new(program)
        .arg("-f")
        .arg(&p.file)
        .args(["-p", &p.name])
        .args(args)
        .current_dir(p.path())
        .env("SCT_BRIDGE_TOKEN", "from-the-environment")
        .output()
        .expect("run a tool")
}

/// A model as YAML, with `expose` in order (compose lists it from a set, in no order).
fn model(dir: &Path) -> serde_yaml::Value {
    let text = std::fs::read_to_string(dir.join("model.yaml")).expect("the model was written");
    let mut v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    if let Some(services) = v.get_mut("services").and_then(|s| s.as_mapping_mut()) {
        for (_, svc) in services.iter_mut() {
            if let Some(list) = svc.get_mut("expose").and_then(|e| e.as_sequence_mut()) {
                list.sort_by_key(|p| p.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    v
}

const MANIFEST: &str = "services:
  web:
    image: debian:bookworm-slim
    command: [sleep, infinity]
    ports: [\"127.0.0.1::80\"]
    expose: [\"9000\"]
    secrets: [from_file, from_env]
    configs: [inline]
  built:
    build: .
    command: echo $$HOME
secrets:
  from_file:
    file: ./secret.txt
  from_env:
    environment: SCT_BRIDGE_TOKEN
configs:
  inline:
    content: hello
";

#[test]
fn convert_hands_each_transformation_the_model_compose_hands_it() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("bridge", MANIFEST);
    std::fs::write(p.path().join("secret.txt"), "pa$$word\n").unwrap();
    std::fs::write(
        p.path().join("Dockerfile"),
        "FROM debian:bookworm-slim\nEXPOSE 5000\n",
    )
    .unwrap();
    let image = transformation(&p, "ok", false);
    let failing = transformation(&p, "fail", true);
    let _images = Images(vec![
        image.clone(),
        failing.clone(),
        format!("{}-built", p.name),
    ]);
    // compose v2.40 pulls a built service's image it does not find; both tools get it built.
    p.ok(&["build"]);
    let templates = p.path().join("my-templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(templates.join("mine.tmpl"), "x").unwrap();
    let ours = stackctl_path();
    let convert = |program: &Path, out: &str| {
        in_project(
            program,
            &p,
            &[
                "bridge",
                "convert",
                "-t",
                &image,
                "-o",
                out,
                "--templates",
                "my-templates",
            ],
        )
    };

    let mine = convert(&ours, "out-stackctl");
    assert!(mine.status.success(), "{}", stderr(&mine));
    assert_eq!(stdout(&mine), "converted\n");
    assert!(stderr(&mine).contains("to-stderr"), "{}", stderr(&mine));
    let out = p.path().join("out-stackctl");
    let given = model(&out);
    let web = &given["services"]["web"];
    assert_eq!(web["expose"], serde_yaml::to_value(["80", "9000"]).unwrap());
    assert_eq!(
        given["services"]["built"]["image"],
        format!("{}-built", p.name).as_str()
    );
    assert_eq!(given["services"]["built"]["expose"][0], "5000");
    assert_eq!(given["secrets"]["from_file"]["content"], "pa$$word\n");
    assert_eq!(
        given["secrets"]["from_env"]["content"],
        "from-the-environment"
    );
    // The mounted templates, not the image's; the user who ran the command.
    let listed = std::fs::read_to_string(out.join("templates.txt")).unwrap();
    assert_eq!(listed, "mine.tmpl\n");
    let uid = std::fs::read_to_string(out.join("uid")).unwrap();
    // SAFETY: getuid has no preconditions and cannot fail.
    assert_eq!(uid.trim(), unsafe { libc::getuid() }.to_string());

    // Run again: the folder it made is replaced; one it did not make is refused, untouched.
    std::fs::write(out.join("stale.yaml"), "left over").unwrap();
    let again = convert(&ours, "out-stackctl");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        !out.join("stale.yaml").exists(),
        "the earlier output was not replaced"
    );
    let theirs_dir = p.path().join("not-mine");
    std::fs::create_dir(&theirs_dir).unwrap();
    std::fs::write(theirs_dir.join("keep.txt"), "keep").unwrap();
    let refused = convert(&ours, "not-mine");
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("did not write"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        std::fs::read_to_string(theirs_dir.join("keep.txt")).unwrap(),
        "keep"
    );

    // A transformation that fails: its code is the command's.
    let failed = in_project(
        &ours,
        &p,
        &["bridge", "convert", "-t", &failing, "-o", "out-f"],
    );
    assert_eq!(failed.status.code(), Some(3), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains("cannot convert"),
        "{}",
        stderr(&failed)
    );
    // Every container a convert ran is gone.
    for i in [&image, &failing] {
        let left = docker(&["ps", "-aq", "--filter", &format!("ancestor={i}")]);
        assert!(left.trim().is_empty(), "containers of {i} left: {left}");
    }

    let Some(peer) = peer() else { return };
    let theirs = convert(&peer, "out-compose");
    assert!(theirs.status.success(), "{}", stderr(&theirs));
    assert_eq!(stdout(&theirs), stdout(&mine));
    assert_eq!(
        model(&p.path().join("out-compose")),
        given,
        "the models differ"
    );
    for file in ["templates.txt", "uid"] {
        let read = |dir: &str| std::fs::read_to_string(p.path().join(dir).join(file)).unwrap();
        assert_eq!(read("out-compose"), read("out-stackctl"), "{file}");
    }
    let failed_too = in_project(
        &peer,
        &p,
        &["bridge", "convert", "-t", &failing, "-o", "out-g"],
    );
    assert_eq!(failed_too.status.code(), failed.status.code());
}

#[test]
fn transformations_are_listed_and_copied_as_compose_lists_and_copies_them() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "bridge-ls",
        "services:\n  web:\n    image: debian:bookworm-slim\n",
    );
    let image = transformation(&p, "ls", false);
    let _images = Images(vec![image.clone()]);
    let ours = stackctl_path();
    let list = |program: &Path, args: &[&str]| {
        let mut all = vec!["bridge", "transformations"];
        all.extend_from_slice(args);
        in_project(program, &p, &all)
    };
    let table = list(&ours, &["list"]);
    assert!(table.status.success(), "{}", stderr(&table));
    let row = stdout(&table)
        .lines()
        .find(|l| l.contains(&p.name))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{image} is not listed:\n{}", stdout(&table)));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[1..3],
        [format!("{}/transformer", p.name).as_str(), "ls"]
    );
    let quiet = stdout(&list(&ours, &["ls", "-q"]));
    assert!(quiet.lines().any(|l| l == image), "{quiet}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&list(&ours, &["ls", "--format", "json"]))).unwrap();
    let ours_json = json
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["RepoTags"][0] == image.as_str())
        .cloned()
        .expect("listed in JSON");
    assert_eq!(
        ours_json["Labels"]["com.docker.compose.bridge"],
        "transformation"
    );

    let create = |program: &Path, dest: &str| list(program, &["create", "-f", &image, dest]);
    let made = create(&ours, "mine");
    assert!(made.status.success(), "{}", stderr(&made));
    let dest = p.path().join("mine");
    assert_eq!(
        stdout(&made),
        format!("Transformer created in {:?}\n", dest.display().to_string())
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("templates/deployment.tmpl")).unwrap(),
        "kind: Deployment\n"
    );
    let dockerfile = std::fs::read_to_string(dest.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("LABEL com.docker.compose.bridge=transformation"));
    let twice = create(&ours, "mine");
    assert_eq!(twice.status.code(), Some(1));
    assert!(
        stderr(&twice).contains("already exists"),
        "{}",
        stderr(&twice)
    );

    let Some(peer) = peer() else { return };
    // Only this test's image and the header: another test may add one between the two runs.
    let ours_only = |o: Output| -> String {
        let text = stdout(&o);
        if text.starts_with('[') {
            let all: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mine = all
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["RepoTags"][0] == image.as_str());
            return serde_json::to_string(&mine.collect::<Vec<_>>()).unwrap();
        }
        let lines = text
            .lines()
            .filter(|l| l.contains(&p.name) || l.starts_with("IMAGE ID"));
        lines.collect::<Vec<_>>().join("\n")
    };
    for args in [&["list"][..], &["ls", "-q"], &["ls", "--format", "json"]] {
        let (theirs, mine) = (list(&peer, args), list(&ours, args));
        assert_eq!(
            ours_only(theirs),
            ours_only(mine),
            "transformations {args:?}"
        );
    }
    let theirs = create(&peer, "theirs");
    assert_eq!(
        stdout(&theirs).replace("theirs", "mine"),
        stdout(&made),
        "{}",
        stderr(&theirs)
    );
    for file in ["Dockerfile", "templates/deployment.tmpl"] {
        let read = |dir: &str| std::fs::read_to_string(p.path().join(dir).join(file)).unwrap();
        assert_eq!(read("theirs"), read("mine"), "{file}");
    }
    assert_eq!(create(&peer, "theirs").status.code(), twice.status.code());
}

/// `alpha viz` (compose's hidden, experimental graph) prints the graph compose prints, in a
/// steady order where compose's follows its map's; `alpha publish` is `publish`.
#[test]
fn alpha_viz_draws_the_graph_compose_draws() {
    let p = TestProject::new(
        "viz",
        "services:
  web:
    image: nginx
    depends_on: [app]
    ports: [\"127.0.0.1:8080:80\", \"9000\"]
    networks:
      front: {priority: 5}
      back: {}
  app:
    build: .
    depends_on:
      db: {condition: service_healthy}
    networks: [back]
  db:
    image: postgres
    networks: [back]
networks:
  front:
  back:
",
    );
    let ours = stackctl_path();
    let variants: [&[&str]; 3] = [
        &[],
        &["--ports", "--networks", "--image"],
        &["--indentation-size", "2", "--spaces"],
    ];
    let sorted = |o: &Output| {
        let mut lines: Vec<String> = stdout(o).lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    let mine: Vec<Output> = variants
        .iter()
        .map(|v| in_project(&ours, &p, &[&["alpha", "viz"][..], v].concat()))
        .collect();
    let plain = stdout(&mine[0]);
    assert!(
        plain.starts_with(&format!("digraph \"{}\" {{\n\tlayout=dot;\n", p.name)),
        "{plain}"
    );
    assert!(plain.contains("\t\"web\" -> \"app\";\n") && plain.contains("\t\"app\" -> \"db\";\n"));
    let full = stdout(&mine[1]);
    assert!(
        full.contains("<b>Networks:</b><br/>front<br/>back"),
        "{full}"
    );
    assert!(
        full.contains("<br/>127.0.0.1:8080:80 (tcp, ingress)<br/>:9000 (tcp, ingress)"),
        "{full}"
    );
    assert!(
        full.contains(&format!("<b>Image:</b><br/>{}-app", p.name)),
        "{full}"
    );
    assert!(stdout(&mine[2]).contains("\n  \"web\" -> \"app\";\n"));
    let refused = in_project(&ours, &p, &["alpha", "viz", "--indentation-size", "-1"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let Some(peer) = peer() else { return };
    for (v, m) in variants.iter().zip(&mine) {
        let theirs = in_project(&peer, &p, &[&["alpha", "viz"][..], v].concat());
        assert!(theirs.status.success(), "{}", stderr(&theirs));
        assert_eq!(sorted(&theirs), sorted(m), "alpha viz {v:?}");
    }
}

/// `alpha generate` writes, for containers made without compose, the Compose file compose writes.
#[test]
fn alpha_generate_writes_the_file_compose_writes_for_existing_containers() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("gen", "services: {}\n");
    let label = format!("com.docker.compose.project={}", p.name);
    let (a, b) = (format!("{}-a", p.name), format!("{}-b", p.name));
    let (net, vol) = (format!("{}_gen", p.name), format!("{}_data", p.name));
    docker(&["network", "create", "--label", &label, &net]);
    docker(&["volume", "create", "--label", &label, &vol]);
    let port = free_port().to_string();
    docker(&[
        "run",
        "-d",
        "--name",
        &a,
        "--label",
        &label,
        "--label",
        "team=x",
        "-e",
        "A=1",
        "-e",
        "PATH=/bin:/usr/bin",
        "-p",
        &format!("127.0.0.1:{port}:80"),
        "-v",
        &format!("{vol}:/data"),
        "-v",
        "/tmp:/host:ro",
        "--network",
        &net,
        "--network-alias",
        "web",
        "--health-cmd",
        "true",
        "--health-interval",
        "90s",
        "--health-retries",
        "3",
        IMG,
        "sleep",
        "infinity",
    ]);
    docker(&["create", "--name", &b, "--label", &label, IMG, "true"]);
    let ours = stackctl_path();
    let generate = |program: &Path, args: &[&str]| -> Output {
        let all = [&["alpha", "generate"][..], args].concat();
        Command::new(program)
            .args(all)
            .current_dir(p.path())
            .output()
            .unwrap()
    };
    let mine = generate(&ours, &[&a, &b]);
    assert!(mine.status.success(), "{}", stderr(&mine));
    let doc: serde_yaml::Value = serde_yaml::from_str(&stdout(&mine)).unwrap();
    let web = &doc["services"][a.as_str()];
    assert_eq!(web["environment"]["A"], "1");
    assert_eq!(web["environment"]["PATH"], "/bin:/usr/bin");
    assert_eq!(
        web["labels"],
        serde_yaml::from_str::<serde_yaml::Value>("team: x").unwrap()
    );
    assert_eq!(web["healthcheck"]["interval"], "1m30s");
    assert_eq!(web["ports"][0]["published"], port.as_str());
    // In the order of their targets: /data, then /host.
    assert_eq!(web["volumes"][0]["source"], vol.as_str());
    assert_eq!(web["volumes"][1]["read_only"], true);
    assert_eq!(web["networks"][net.as_str()]["aliases"][0], "web");
    assert_eq!(doc["services"][b.as_str()]["scale"], 1);
    let missing = generate(&ours, &["sct-no-such-container"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no container(s) found"),
        "{}",
        stderr(&missing)
    );
    let Some(peer) = peer() else {
        for c in [&a, &b] {
            docker(&["rm", "-f", c]);
        }
        return;
    };
    for args in [
        vec![a.as_str(), b.as_str()],
        vec!["--format", "json", "--name", "x", a.as_str()],
    ] {
        let (theirs, mine) = (generate(&peer, &args), generate(&ours, &args));
        // compose lists volumes in the daemon's order, which follows a map's: compared by target.
        let parse = |o: &Output| {
            let mut doc = serde_yaml::from_str::<serde_yaml::Value>(&stdout(o)).unwrap();
            let services = doc.get_mut("services").and_then(|s| s.as_mapping_mut());
            for (_, svc) in services.into_iter().flatten() {
                if let Some(list) = svc.get_mut("volumes").and_then(|v| v.as_sequence_mut()) {
                    list.sort_by_key(|v| v["target"].as_str().unwrap_or_default().to_owned());
                }
            }
            doc
        };
        assert_eq!(parse(&theirs), parse(&mine), "alpha generate {args:?}");
    }
    for c in [&a, &b] {
        docker(&["rm", "-f", c]);
    }
}
