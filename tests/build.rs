//! Builds through the daemon's BuildKit, against the real daemon: parallel stages, cache mounts,
//! secrets that never reach a layer, inline Dockerfiles, tags, targets, named contexts (refused on
//! an Engine without them, built on a current Engine node), and the shipped stack's images.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

const BASE: &str = "debian:bookworm-slim";

/// stackctl with `--progress json`, in the project's folder.
fn run_json(p: &TestProject, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(stackctl_path());
    c.arg("-f")
        .arg(&p.file)
        .args(["-p", &p.name, "--progress", "json"])
        .args(args)
        .current_dir(p.path());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run stackctl")
}

/// `stackctl build` with `--progress json`.
fn build_json(p: &TestProject, extra: &[&str], env: &[(&str, &str)]) -> Output {
    run_json(p, &[&["build"], extra].concat(), env)
}

/// The finished steps of a JSON progress stream: (step, state, started, completed).
fn steps(out: &Output) -> Vec<(String, String, f64, f64)> {
    stderr(out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "build_step" && v["state"] != "running")
        .map(|v| {
            (
                v["step"].as_str().unwrap_or_default().to_owned(),
                v["state"].as_str().unwrap_or_default().to_owned(),
                v["started"].as_f64().unwrap_or(0.0),
                v["completed"].as_f64().unwrap_or(0.0),
            )
        })
        .collect()
}

fn step<'a>(all: &'a [(String, String, f64, f64)], prefix: &str) -> &'a (String, String, f64, f64) {
    all.iter()
        .rev()
        .find(|s| s.0.starts_with(prefix))
        .unwrap_or_else(|| panic!("no step {prefix} in {all:#?}"))
}

#[test]
fn mounts_and_parallel_stages_build_with_buildkit() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("bkpar", "services:\n  app:\n    build: .\n");
    let image = format!("{}-app", p.name);
    let _cleanup = Images(vec![image.clone()]);
    // The project's name in every RUN line: no cache from another run can answer for them.
    let id = &p.name;
    std::fs::write(
        p.path().join("Dockerfile"),
        format!(
            "FROM {BASE} AS base\nRUN --mount=type=cache,id={id},target=/root/.cache echo {id} > /root/.cache/x && echo ok\nFROM base AS a\nRUN sleep 3 && echo a > /a\nFROM base AS b\nRUN sleep 3 && echo b > /b\nFROM base\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n"
        ),
    )
    .unwrap();
    let out = build_json(&p, &[], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all = steps(&out);
    let (a, b) = (step(&all, "[a 1/1]"), step(&all, "[b 1/1]"));
    assert_eq!((a.1.as_str(), b.1.as_str()), ("done", "done"), "{all:#?}");
    assert!(
        a.2 < b.3 && b.2 < a.3,
        "stages a and b did not overlap: a {}..{}, b {}..{}",
        a.2,
        a.3,
        b.2,
        b.3
    );
    assert_eq!(
        docker(&["run", "--rm", &image, "cat", "/a", "/b"]),
        "a\nb",
        "both stages' files are in the image"
    );

    // A later line changes: the second build finds what the first left in the cache mount.
    std::fs::write(
        p.path().join("Dockerfile"),
        format!(
            "FROM {BASE}\nRUN --mount=type=cache,id={id},target=/root/.cache cp /root/.cache/x /seen\n"
        ),
    )
    .unwrap();
    let out = build_json(&p, &[], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(docker(&["run", "--rm", &image, "cat", "/seen"]), p.name);
}

#[test]
fn build_secrets_are_readable_in_run_and_absent_from_every_layer() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "bksec",
        "services:\n  app:\n    build:\n      context: .\n      secrets:\n        - pw\n        - source: token\n          target: api_token\nsecrets:\n  pw:\n    file: ./pw.txt\n  token:\n    environment: SCT_BUILD_TOKEN\n",
    );
    let image = format!("{}-app", p.name);
    let _cleanup = Images(vec![image.clone()]);
    let (from_file, from_env) = (format!("file-{}-x9", p.name), format!("env-{}-y7", p.name));
    std::fs::write(p.path().join("pw.txt"), &from_file).unwrap();
    std::fs::write(
        p.path().join("Dockerfile"),
        format!(
            "FROM {BASE}\nRUN --mount=type=secret,id=pw --mount=type=secret,id=api_token \
             echo {} >/dev/null && cat /run/secrets/pw /run/secrets/api_token | sha256sum > /sums\n",
            // A secret is not part of the step's cache key: the project's name keeps the step new.
            p.name
        ),
    )
    .unwrap();
    let missing = build_json(&p, &[], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("SCT_BUILD_TOKEN, which is not set"),
        "{}",
        stderr(&missing)
    );
    let out = build_json(&p, &[], &[("SCT_BUILD_TOKEN", &from_env)]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The build saw both values: the digest of their concatenation.
    let expect = Command::new("sha256sum")
        .stdin({
            let f = p.path().join("both");
            std::fs::write(&f, format!("{from_file}{from_env}")).unwrap();
            std::fs::File::open(f).unwrap()
        })
        .output()
        .unwrap();
    assert_eq!(
        docker(&["run", "--rm", &image, "cat", "/sums"]),
        stdout(&expect).trim()
    );
    // Every layer, as `docker save` exports them: neither value is in any of them.
    let saved = Command::new("docker")
        .args(["save", &image])
        .output()
        .unwrap();
    assert!(saved.status.success());
    let mut archive = tar::Archive::new(&saved.stdout[..]);
    let mut layers = 0;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        for secret in [&from_file, &from_env] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} found in {}",
                entry.path().unwrap().display()
            );
        }
        layers += 1;
    }
    assert!(layers > 2, "the export had layers to search");
}

#[test]
fn inline_dockerfiles_tags_and_targets_build() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("bkinl", "services: {}\n");
    let (image, tag) = (format!("{}-app", p.name), format!("{}-extra:v1", p.name));
    let _cleanup = Images(vec![image.clone(), tag.clone()]);
    p.write(&format!(
        "services:\n  app:\n    build:\n      context: .\n      target: second\n      tags: [\"{tag}\"]\n      dockerfile_inline: |\n        FROM {BASE} AS first\n        RUN echo first > /stage\n        FROM {BASE} AS second\n        RUN echo second > /stage\n        FROM first\n"
    ));
    // A Dockerfile in the folder that would fail: the inline text is what is built.
    std::fs::write(p.path().join("Dockerfile"), "FROM scratch-does-not-exist\n").unwrap();
    let out = build_json(&p, &[], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(docker(&["run", "--rm", &image, "cat", "/stage"]), "second");
    assert_eq!(
        inspect(&tag, "{{.Id}}"),
        inspect(&image, "{{.Id}}"),
        "the extra tag names the same image"
    );
}

/// `build -m` limits the memory of the containers the build runs its steps in.
#[test]
fn build_memory_limits_the_build_steps() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("bkmem", "services: {}\n");
    let image = format!("{}-app", p.name);
    let _cleanup = Images(vec![image.clone()]);
    p.write(&format!(
        "services:\n  app:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM {BASE}\n        RUN (cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes) > /limit\n"
    ));
    p.ok(&["build", "-m", "256m", "--no-cache"]);
    assert_eq!(
        docker(&["run", "--rm", &image, "cat", "/limit"]),
        "268435456"
    );
    let bad = p.run(&["build", "-m", "lots"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("-m/--memory"), "{}", stderr(&bad));
}

/// A build with `additional_contexts` (a folder and `service:base`), the image `base` builds.
fn contexts_project(prefix: &str) -> TestProject {
    let p = TestProject::new(
        prefix,
        "services:\n  base:\n    build:\n      context: ./base\n  app:\n    build:\n      context: ./app\n      additional_contexts:\n        extra: ./extra\n        basectx: service:base\n",
    );
    for d in ["base", "app", "extra"] {
        std::fs::create_dir(p.path().join(d)).unwrap();
    }
    std::fs::write(
        p.path().join("base/Dockerfile"),
        format!("FROM {BASE}\nRUN echo from-base > /base.txt\n"),
    )
    .unwrap();
    std::fs::write(p.path().join("extra/note.txt"), "from-extra\n").unwrap();
    std::fs::write(
        p.path().join("app/Dockerfile"),
        "FROM basectx\nCOPY --from=extra note.txt /note.txt\n",
    )
    .unwrap();
    p
}

#[test]
fn named_contexts_are_refused_before_building_on_an_engine_without_them() {
    if !daemon_available() {
        return;
    }
    let api = docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    if api.as_str() >= "1.42" {
        eprintln!("this daemon (API {api}) has named contexts: the refusal cannot be shown here");
        return;
    }
    let p = contexts_project("bkctx");
    let out = p.run(&["build"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("service app: `additional_contexts` (basectx, extra)")
            && err.contains("Engine 23 or newer"),
        "{err}"
    );
    assert!(
        !docker_ok(&["image", "inspect", &format!("{}-base", p.name)]),
        "nothing was built"
    );
}

#[test]
fn the_shipped_images_build_and_an_app_change_rebuilds_only_what_follows_its_copy() {
    if !daemon_available() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = TestProject::new("bkweb", "services: {}\n");
    let web = p.path().join("web");
    copy_dir(&root.join("images/web"), &web);
    let image = format!("{}-web", p.name);
    let _cleanup = Images(vec![image.clone()]);
    p.write("services:\n  web:\n    build: ./web\n");
    let first = build_json(&p, &[], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let app = web.join("app.py");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, format!("{text}\n# changed by {}\n", p.name)).unwrap();
    let second = build_json(&p, &[], &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    let all = steps(&second);
    let dockerfile = std::fs::read_to_string(web.join("Dockerfile")).unwrap();
    let copy_line = dockerfile
        .lines()
        .position(|l| l.starts_with("COPY") && l.contains("app.py"))
        .expect("the Dockerfile copies app.py");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|l| {
            let w = l.split_whitespace().next().unwrap_or_default();
            ["FROM", "RUN", "COPY", "ADD"].contains(&w)
        })
        .collect();
    let copy_index = instructions
        .iter()
        .position(|l| *l == dockerfile.lines().nth(copy_line).unwrap())
        .unwrap();
    for (i, line) in instructions.iter().enumerate().skip(1) {
        // BuildKit joins continued lines: match on the start of the first one.
        let head: String = line.split('\\').next().unwrap().chars().take(20).collect();
        let s = all
            .iter()
            .rev()
            .find(|s| s.0.contains(head.trim()))
            .unwrap_or_else(|| panic!("no step for `{line}` in {all:#?}"));
        let want = if i < copy_index { "cached" } else { "done" };
        assert_eq!(s.1, want, "`{line}` after a change to app.py");
    }
}

#[test]
fn named_contexts_build_on_a_current_engine_node() {
    if !local_daemon_available("it starts its own node on the local daemon") {
        return;
    }
    let cluster = crate::common::dind::Cluster::start_current("bkctx28");
    cluster.load(&[BASE]);
    let node = cluster.manager();
    let p = contexts_project("bkctx28");
    let out = p
        .cmd(&["build"])
        .env("DOCKER_HOST", node.host())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    // `base` is built before the build that reads its image.
    let (base_done, app_start) = (
        err.find(&format!("Image {}-base ", p.name))
            .unwrap_or(usize::MAX),
        err.find(&format!("Image {}-app ", p.name)).unwrap_or(0),
    );
    assert!(base_done < app_start, "{err}");
    assert_eq!(
        node.docker(&[
            "run",
            "--rm",
            &format!("{}-app", p.name),
            "cat",
            "/base.txt",
            "/note.txt"
        ]),
        "from-base\nfrom-extra"
    );
}

#[test]
fn parallel_bounds_the_builds_and_a_tagged_image_is_built_before_it_runs() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("bkpl", "services: {}\n");
    let tag = format!("{}-shared:v1", p.name);
    let images = vec![
        format!("{}-one", p.name),
        format!("{}-two", p.name),
        tag.clone(),
    ];
    let _cleanup = Images(images.clone());
    for svc in ["one", "two"] {
        std::fs::create_dir(p.path().join(svc)).unwrap();
        std::fs::write(
            p.path().join(svc).join("Dockerfile"),
            format!("FROM {BASE}\nRUN sleep 2 && echo {svc}-{} > /who\n", p.name),
        )
        .unwrap();
    }
    // `user` runs the image that `two` tags: it must wait for the build, not pull it.
    p.write(&format!(
        "services:\n  one:\n    build: ./one\n    command: [sleep, infinity]\n    init: true\n  two:\n    build:\n      context: ./two\n      tags: [\"{tag}\"]\n    command: [sleep, infinity]\n    init: true\n  user:\n    image: {tag}\n    command: [sleep, infinity]\n    init: true\n"
    ));
    let out = run_json(&p, &["--parallel", "1", "up", "-d"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs: Vec<(f64, f64)> = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["event"] == "build_step"
                && v["state"] == "done"
                && v["step"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("RUN sleep 2")
        })
        .map(|v| {
            (
                v["started"].as_f64().unwrap(),
                v["completed"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(runs.len(), 2, "both images were built by `up`");
    assert_eq!(
        docker(&["exec", &format!("{}-user-1", p.name), "cat", "/who"]),
        format!("two-{}", p.name)
    );

    // Rebuilt without the cache, one at a time: the two RUN steps do not overlap.
    let out = run_json(&p, &["--parallel", "1", "build", "--no-cache"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs: Vec<(f64, f64)> = steps(&out)
        .into_iter()
        .filter(|s| s.0.contains("RUN sleep 2") && s.1 == "done")
        .map(|s| (s.2, s.3))
        .collect();
    assert_eq!(runs.len(), 2, "{}", stderr(&out));
    assert!(
        runs[0].1 <= runs[1].0 || runs[1].1 <= runs[0].0,
        "--parallel 1 built both at once: {runs:?}"
    );
}

#[test]
fn a_syntax_line_the_daemon_cannot_fetch_is_explained() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("bksyn", "services:\n  app:\n    build: .\n");
    let _cleanup = Images(vec![format!("{}-app", p.name)]);
    std::fs::write(
        p.path().join("Dockerfile"),
        format!(
            "# syntax=docker/dockerfile:1\nFROM {BASE}\nRUN echo {}\n",
            p.name
        ),
    )
    .unwrap();
    let out = p.run(&["build"]);
    if out.status.success() {
        eprintln!("this machine reached a registry for the frontend: nothing to explain");
        return;
    }
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`# syntax=docker/dockerfile:1` line")
            && err.contains("remove the line: the daemon's built-in Dockerfile frontend"),
        "{err}"
    );
}

/// Serves `body` over HTTP on 127.0.0.1 to a few requests, in a thread; returns the port.
fn serve(body: Vec<u8>) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let head_only = buf[..n].starts_with(b"HEAD");
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            if !head_only {
                let _ = s.write_all(&body);
            }
        }
    });
    port
}

#[test]
fn a_url_context_is_fetched_by_the_daemon() {
    if !local_daemon_available("the daemon fetches the context from 127.0.0.1") {
        return;
    }
    let p = TestProject::new("bkurl", "services: {}\n");
    let image = format!("{}-app", p.name);
    let _cleanup = Images(vec![image.clone()]);
    let mut tar = tar::Builder::new(Vec::new());
    for (name, text) in [
        (
            "Dockerfile",
            format!("FROM {BASE}\nCOPY hello.txt /hello.txt\n"),
        ),
        ("hello.txt", format!("from-url-{}\n", p.name)),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, text.as_bytes()).unwrap();
    }
    let port = serve(tar.into_inner().unwrap());
    p.write(&format!(
        "services:\n  app:\n    build: http://127.0.0.1:{port}/context.tar\n"
    ));
    p.ok(&["build"]);
    assert_eq!(
        docker(&["run", "--rm", &image, "cat", "/hello.txt"]),
        format!("from-url-{}", p.name)
    );
}

const BAKED: &str = "services:
  web:
    image: example/web:1
    build:
      context: .
      args: {A: \"1\", B: \"$${HOME}\"}
      labels: {team: x}
      target: final
      cache_from: [example/web:cache]
      network: host
      shm_size: 64m
      extra_hosts: [\"db=10.0.0.2\"]
      secrets: [tok]
      ssh: [default]
      tags: [\"example/web:extra\"]
      additional_contexts: {base: \"service:base.img\", dir: ./sub}
      pull: true
  base.img:
    build:
      context: sub
      dockerfile_inline: |
        FROM debian:bookworm-slim
        RUN echo $${X}
  app:
    image: debian:bookworm-slim
secrets:
  tok:
    file: ./s.txt
";

/// `build --print` prints the bake definition compose prints, and builds nothing.
#[test]
fn build_print_gives_composes_bake_definition_and_builds_nothing() {
    let p = TestProject::new("bake", BAKED);
    std::fs::create_dir(p.path().join("sub")).unwrap();
    std::fs::write(p.path().join("Dockerfile"), "FROM debian:bookworm-slim\n").unwrap();
    std::fs::write(p.path().join("s.txt"), "s").unwrap();
    let variants: [&[&str]; 5] = [
        &[],
        &["web"],
        &["--no-cache", "--pull", "--push", "web"],
        &["--ssh", "mykey=/tmp/k"],
        &["--check"],
    ];
    let print = |program: &Path, extra: &[&str]| -> serde_json::Value {
        let out = Command::new(program)
            .args(["-f"])
            .arg(&p.file)
            .args(["-p", &p.name, "build", "--print"])
            .args(extra)
            .current_dir(p.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // compose lists the group from a map, in no order.
        if let Some(list) = v["group"]["default"]["targets"].as_array_mut() {
            list.sort_by_key(|t| t.as_str().unwrap_or_default().to_owned());
        }
        v
    };
    let ours = stackctl_path();
    let whole = print(&ours, &[]);
    let web = &whole["target"]["web"];
    let dir = p.path().display().to_string();
    assert_eq!(web["context"], dir.as_str());
    assert_eq!(web["dockerfile"], format!("{dir}/Dockerfile").as_str());
    assert_eq!(
        web["args"]["B"], "$${HOME}",
        "bake's own interpolation is escaped"
    );
    assert_eq!(web["contexts"]["base"], "target:base_img");
    assert_eq!(
        web["secret"][0],
        format!("id=tok,type=file,src={dir}/s.txt").as_str()
    );
    assert_eq!(
        web["tags"],
        serde_json::json!(["example/web:extra", "example/web:1"])
    );
    assert_eq!(web["shm-size"], "67108864");
    assert_eq!(web["output"][0], "type=docker");
    assert_eq!(
        whole["target"]["base_img"]["dockerfile-inline"],
        "FROM debian:bookworm-slim\nRUN echo $${X}\n"
    );
    // Asking for web alone still defines what it is built from.
    assert_eq!(
        print(&ours, &["web"])["group"]["default"]["targets"],
        serde_json::json!(["base_img", "web"])
    );
    let checks = print(&ours, &["--check"]);
    assert_eq!(checks["target"]["web"]["call"], "lint");
    assert!(checks["target"]["web"].get("output").is_none());
    let images = docker(&[
        "images",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={}", p.name),
    ]);
    assert!(images.trim().is_empty(), "--print built {images}");
    let Some(peer) = crate::dropin::peer() else {
        return;
    };
    for extra in variants {
        assert_eq!(
            print(&peer, extra),
            print(&ours, extra),
            "build --print {extra:?}"
        );
    }
}
