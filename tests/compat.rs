//! Files that docker compose v2.40 accepts, resolved as it resolves them: each expected value here
//! was checked against `docker compose config --format json` on the same files.

use std::path::Path;
use std::process::Command;

fn config_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .current_dir(dir)
        .args(args)
        .args(["config", "--format", "json"])
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .env_remove("TAG")
        .output()
        .expect("run stackctl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("config prints JSON")
}

#[test]
fn dotenv_values_settings_and_files_are_read_as_compose_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join(".env"),
        "WHEREAMI=Env File\nIMAGE=${IMAGE_NAME:-backend}:${TAG:-latest}\nCOMPOSE_PROJECT_NAME=fromdotenv\nCOMPOSE_FILE=main.yml:extra.yml\nQ=\"a \\\"b\\\" # not comment\"\nC=x # comment\n",
    )
    .unwrap();
    std::fs::write(
        d.join("main.yml"),
        "services:\n  app:\n    image: ${IMAGE}\n    environment:\n      WHERE: ${WHEREAMI}\n      Q: ${Q}\n      C: ${C}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("extra.yml"),
        "services:\n  app:\n    labels: {extra: \"yes\"}\n",
    )
    .unwrap();
    let json = config_json(d, &[]);
    assert_eq!(json["name"], "fromdotenv", "COMPOSE_PROJECT_NAME from .env");
    let app = &json["services"]["app"];
    assert_eq!(
        app["image"], "backend:latest",
        "defaults inside .env values"
    );
    assert_eq!(app["environment"]["WHERE"], "Env File", "unquoted spaces");
    assert_eq!(app["environment"]["Q"], "a \"b\" # not comment");
    assert_eq!(app["environment"]["C"], "x", "inline comment");
    assert_eq!(
        app["labels"]["extra"], "yes",
        "COMPOSE_FILE from .env names both files"
    );
    // -p still wins over .env, as in compose.
    assert_eq!(config_json(d, &["-p", "chosen"])["name"], "chosen");
}

#[test]
fn env_file_of_a_service_expands_from_the_project_variables() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join(".env"), "REGION=eu\n").unwrap();
    std::fs::write(
        d.join("app.env"),
        "URL=https://${REGION}.example\nGREETING=hello world\n",
    )
    .unwrap();
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  app:\n    image: nginx\n    env_file: app.env\n",
    )
    .unwrap();
    let env = &config_json(d, &[])["services"]["app"]["environment"];
    assert_eq!(env["URL"], "https://eu.example");
    assert_eq!(env["GREETING"], "hello world");
}

#[test]
fn links_ipc_network_mode_and_volumes_from_imply_dependencies_as_in_compose() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  a:\n    image: nginx\n    links: [\"b:bee\"]\n    ipc: service:c\n  b:\n    image: nginx\n  c:\n    image: nginx\n  d:\n    image: nginx\n    network_mode: service:c\n  e:\n    image: nginx\n    volumes_from: [b]\n",
    )
    .unwrap();
    let services = &config_json(dir.path(), &[])["services"];
    let dep = |svc: &str, on: &str| services[svc]["depends_on"][on].clone();
    assert_eq!(dep("a", "b")["restart"], true, "links");
    assert_eq!(dep("a", "c")["restart"], true, "ipc: service:");
    assert_eq!(dep("d", "c")["restart"], true, "network_mode: service:");
    assert!(
        dep("e", "b")["restart"].is_null(),
        "volumes_from: no restart (printed only when set, as compose)"
    );
    assert_eq!(dep("e", "b")["condition"], "service_started");
    assert!(services["b"]["depends_on"].is_null());
}

#[test]
fn build_inputs_are_checked_when_building_not_when_reading() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  a:\n    build: ./Dockerfile\n  b:\n    build:\n      context: ./missing\n  c:\n    build:\n      context: .\n      dockerfile: ${DF}\n",
    )
    .unwrap();
    // compose's config accepts all three; so does ours.
    let json = config_json(d, &[]);
    assert_eq!(json["services"].as_object().map(|s| s.len()), Some(3));
    // An empty dockerfile (an unset variable) means the default: c builds, b cannot.
    let build = |svc: &str| {
        Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .current_dir(d)
            .args(["build", svc])
            .env("DOCKER_HOST", "unix:///nonexistent/stackctl-test.sock")
            .output()
            .expect("run stackctl")
    };
    let b = build("b");
    let err = String::from_utf8_lossy(&b.stderr);
    assert_eq!(b.status.code(), Some(2), "{err}");
    assert!(
        err.contains("build context `./missing` is not a folder"),
        "{err}"
    );
    let c = build("c");
    assert_eq!(
        c.status.code(),
        Some(1),
        "past the checks, to the absent daemon"
    );
}

#[test]
fn config_output_reads_back_as_the_same_project() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  a:\n    image: nginx\n    command: echo $$HOME $(date) costs $5\n    volumes: [\"data:/var/lib/data/\"]\nvolumes:\n  data:\n",
    )
    .unwrap();
    let first = config_json(d, &[]);
    let a = &first["services"]["a"];
    // As compose prints them: a literal `$` doubled, no trailing slash on a container path.
    assert_eq!(a["command"][1], "$$HOME");
    assert_eq!(a["command"][2], "$$(date)");
    assert_eq!(a["volumes"][0]["target"], "/var/lib/data");
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .current_dir(d)
        .args(["config"])
        .output()
        .unwrap();
    std::fs::write(d.join("again.yaml"), &out.stdout).unwrap();
    assert_eq!(
        config_json(d, &["-f", "again.yaml"])["services"],
        first["services"]
    );
}

#[test]
fn included_files_join_the_project_with_their_own_folder_and_variables() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for sub in ["db", "app"] {
        std::fs::create_dir(d.join(sub)).unwrap();
    }
    std::fs::write(
        d.join("compose.yaml"),
        "include:\n  - db/compose.yaml\n  - path: app/compose.yaml\n    env_file: app/app.env\nservices:\n  web:\n    image: nginx\n    depends_on: [db, api]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("db/compose.yaml"),
        "services:\n  db:\n    image: postgres:${PG_TAG}\n    volumes:\n      - ./init.sql:/docker-entrypoint-initdb.d/init.sql\n      - dbdata:/var/lib/postgresql/data\n    env_file: db.env\nvolumes:\n  dbdata:\n",
    )
    .unwrap();
    std::fs::write(d.join("db/.env"), "PG_TAG=16\n").unwrap();
    std::fs::write(d.join("db/db.env"), "X=1\n").unwrap();
    std::fs::write(d.join("db/init.sql"), "").unwrap();
    std::fs::write(
        d.join("app/compose.yaml"),
        "services:\n  api:\n    build: .\n    environment:\n      MODE: ${APP_MODE}\n",
    )
    .unwrap();
    std::fs::write(d.join("app/app.env"), "APP_MODE=prod\n").unwrap();
    let json = config_json(d, &[]);
    let s = &json["services"];
    // As compose prints them: the included file's .env and env_file, paths from its own folder.
    assert_eq!(s["db"]["image"], "postgres:16");
    assert_eq!(s["db"]["environment"]["X"], "1");
    assert_eq!(
        s["db"]["volumes"][0]["source"],
        d.join("db/init.sql").to_string_lossy().as_ref()
    );
    assert_eq!(s["db"]["volumes"][1]["source"], "dbdata");
    assert_eq!(s["api"]["environment"]["MODE"], "prod");
    assert_eq!(
        s["api"]["build"]["context"],
        d.join("app").to_string_lossy().as_ref()
    );
    assert!(json["volumes"].get("dbdata").is_some());
    assert_eq!(
        s["web"]["depends_on"]["api"]["condition"],
        "service_started"
    );

    // compose refuses a service defined both here and in an included file, and include loops.
    std::fs::write(
        d.join("twice.yaml"),
        "include: [db/compose.yaml]\nservices:\n  db:\n    image: other\n",
    )
    .unwrap();
    std::fs::write(
        d.join("loop.yaml"),
        "include: [loop.yaml]\nservices:\n  x:\n    image: a\n",
    )
    .unwrap();
    for (file, says) in [
        (
            "twice.yaml",
            "service `db` is also defined by an included file",
        ),
        ("loop.yaml", "include loop:"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .current_dir(d)
            .args(["-f", file, "config"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn an_env_file_in_raw_format_is_taken_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("raw.env"),
        "# comment\nA=\"quoted $HOME\"\nB=plain value\n\nC=x # not comment\n",
    )
    .unwrap();
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  a:\n    image: x\n    env_file:\n      - path: raw.env\n        format: raw\n",
    )
    .unwrap();
    let env = &config_json(d, &[])["services"]["a"]["environment"];
    // As docker compose v2.40 prints it (`$` doubled so that the output reads back the same).
    assert_eq!(env["A"], "\"quoted $$HOME\"");
    assert_eq!(env["B"], "plain value");
    assert_eq!(env["C"], "x # not comment");
}

#[test]
fn compose_env_files_names_the_variable_files_as_env_file_would() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.env"), "TAG=1.0\nREPO=first\n").unwrap();
    std::fs::write(d.join("b.env"), "REPO=second\n").unwrap();
    std::fs::write(d.join(".env"), "TAG=from-dot-env\n").unwrap();
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  app:\n    image: ${REPO}/app:${TAG}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .current_dir(d)
        .args(["config", "--format", "json"])
        .env("COMPOSE_ENV_FILES", "a.env,b.env")
        .env_remove("TAG")
        .env_remove("REPO")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["services"]["app"]["image"], "second/app:1.0",
        "later files win; .env unread"
    );
}

#[test]
fn a_secret_from_an_unset_variable_is_read_and_refused_only_when_starting() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  app:\n    image: nginx\n    secrets: [token]\nsecrets:\n  token:\n    environment: SCT_COMPAT_NEVER_SET\n",
    )
    .unwrap();
    // As compose's `config` does, the project reads.
    let json = config_json(d, &[]);
    assert_eq!(
        json["secrets"]["token"]["environment"],
        "SCT_COMPAT_NEVER_SET"
    );
    // `run` would create a container that needs it: refused before reaching the daemon.
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .current_dir(d)
        .args(["run", "app"])
        .env_remove("SCT_COMPAT_NEVER_SET")
        .env("DOCKER_HOST", "unix:///nonexistent/stackctl-test.sock")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SCT_COMPAT_NEVER_SET, which is not set")
    );
}

#[test]
fn run_of_a_provider_service_is_refused_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  db:\n    provider: {type: cloud}\n  app:\n    image: x\n    depends_on: [db]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .current_dir(dir.path())
        .args(["run", "db"])
        .env("DOCKER_HOST", "unix:///nonexistent/stackctl-test.sock")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`db` is a provider service"), "{err}");
}
