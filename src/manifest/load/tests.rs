//! The loader's steps on small inputs.

use serde_yaml::Value;

use super::*;

#[test]
fn project_names_normalise() {
    assert_eq!(
        normalize_project_name("My.Project 2").as_deref(),
        Some("myproject2")
    );
    assert_eq!(normalize_project_name("_x-y").as_deref(), Some("x-y"));
    assert_eq!(normalize_project_name("..."), None);
}

#[test]
fn extensions_are_stripped_below_the_top_level_but_not_from_user_maps() {
    let mut v: Value =
        serde_yaml::from_str("x-a: 1\nservices:\n  s:\n    x-b: 2\n    environment: {x-c: 3}\n")
            .unwrap();
    strip_extensions(&mut v, 0);
    assert!(
        v.get("x-a").is_some(),
        "the top level's are config's to print"
    );
    assert!(v["services"]["s"].get("x-b").is_none());
    assert!(v["services"]["s"]["environment"].get("x-c").is_some());
}

fn load_text(text: &str, env: &[(&str, &str)], dir: &Path) -> Result<Loaded, Diagnostics> {
    std::fs::write(dir.join("compose.yaml"), text).unwrap();
    load(&LoadOptions {
        cwd: dir.to_path_buf(),
        environ: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..LoadOptions::default()
    })
}

#[test]
fn extends_builds_on_a_service_of_the_same_file_or_another() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("common/app")).unwrap();
    std::fs::write(dir.path().join("common/app/Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(
        dir.path().join("common/base.yml"),
        "services:\n  web:\n    build: ./app\n    environment: {A: base, B: base}\n    volumes: ['./data:/data']\n",
    )
    .unwrap();
    let l = load_text(
        "services:\n  base:\n    image: x\n    environment: {LEVEL: base}\n    labels: [tier=1]\n  mid:\n    extends: base\n    environment: {LEVEL: mid}\n  top:\n    extends: {service: mid}\n    command: run\n  remote:\n    extends: {file: common/base.yml, service: web}\n    environment: {B: local}\n",
        &[],
        dir.path(),
    )
    .unwrap();
    let s = &l.project.services;
    assert_eq!(s["top"].image.as_deref(), Some("x"));
    assert_eq!(s["top"].environment["LEVEL"].as_deref(), Some("mid"));
    assert_eq!(s["top"].labels["tier"], "1");
    assert_eq!(s["top"].command.as_deref(), Some(&["run".to_owned()][..]));
    let remote = &s["remote"];
    assert_eq!(remote.environment["A"].as_deref(), Some("base"));
    assert_eq!(remote.environment["B"].as_deref(), Some("local"));
    // Paths of the other file point from its folder.
    let common = dir.path().join("common");
    assert_eq!(
        Path::new(&remote.build.as_ref().unwrap().context),
        common.join("./app")
    );
    assert_eq!(
        remote.volumes[0].source.as_deref().map(Path::new),
        Some(common.join("./data").as_path())
    );
}

#[test]
fn label_files_fold_under_labels_which_win() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.labels"), "team=core\ntier=1\n").unwrap();
    let l = load_text(
        "services:\n  s:\n    image: x\n    label_file: a.labels\n    labels: {tier: '2'}\n    external_links: [db]\n    isolation: process\n",
        &[],
        dir.path(),
    )
    .unwrap();
    let s = &l.project.services["s"];
    assert_eq!(s.labels["team"], "core");
    assert_eq!(s.labels["tier"], "2");
    assert!(s.label_file.is_empty(), "folded in");
    assert_eq!(s.external_links, ["db"]);
    let e = load_text(
        "services:\n  s:\n    image: x\n    label_file: nope.labels\n",
        &[],
        dir.path(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("cannot read label file") && e.contains("nope.labels"),
        "{e}"
    );
    let e = load_text(
        "services:\n  s:\n    image: x\n    isolation: vm\n",
        &[],
        dir.path(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("expected default, process or hyperv"), "{e}");
}

#[test]
fn extends_mistakes_are_named_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let err = |text: &str| load_text(text, &[], dir.path()).unwrap_err().to_string();
    let e = err("services:\n  a:\n    extends: b\n  b:\n    extends: a\n");
    assert!(e.contains("goes round in a circle"), "{e}");
    let e = err("services:\n  web:\n    image: x\n  a:\n    extends: wbe\n");
    assert!(
        e.contains("`wbe`") && e.contains("did you mean `web`"),
        "{e}"
    );
    assert!(e.contains(":5:"), "points at the line: {e}");
    let e = err("services:\n  a:\n    extends: {service: x, file: nope.yml}\n");
    assert!(e.contains("nope.yml"), "{e}");
    let e = err("services:\n  a:\n    extends: {servce: x}\n");
    assert!(e.contains("unknown key `servce`"), "{e}");
}

#[test]
fn env_files_fold_under_environment_and_bare_keys_come_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.env"),
        "# comment\nA=from-file\nB=\"quoted value\"\nexport C=3\n",
    )
    .unwrap();
    let l = load_text("services:\n  s:\n    image: x\n    env_file: app.env\n    environment: [A=inline, SHELL_ONLY, MISSING]\n", &[("SHELL_ONLY", "yes")], dir.path()).unwrap();
    let env = &l.project.services["s"].environment;
    assert_eq!(
        env["A"].as_deref(),
        Some("inline"),
        "environment wins over env_file"
    );
    assert_eq!(env["B"].as_deref(), Some("quoted value"));
    assert_eq!(env["C"].as_deref(), Some("3"));
    assert_eq!(env["SHELL_ONLY"].as_deref(), Some("yes"));
    assert_eq!(
        env["MISSING"], None,
        "a key with no value anywhere is kept without one, as compose's config prints it"
    );
}

#[test]
fn dot_env_feeds_interpolation_and_the_shell_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "TAG=from-dotenv\nPORT=1\n").unwrap();
    let l = load_text(
        "services:\n  s:\n    image: \"x:${TAG}\"\n    ports: [\"${PORT}:80\"]\n",
        &[("PORT", "8080")],
        dir.path(),
    )
    .unwrap();
    let s = &l.project.services["s"];
    assert_eq!(s.image.as_deref(), Some("x:from-dotenv"));
    assert_eq!(
        s.ports[0].published.map(|r| r.to_string()).as_deref(),
        Some("8080")
    );
}

#[test]
fn profiles_select_services() {
    let dir = tempfile::tempdir().unwrap();
    let text = "services:\n  app:\n    image: x\n  debug:\n    image: x\n    profiles: [dev]\n";
    let l = load_text(text, &[], dir.path()).unwrap();
    assert_eq!(l.project.services.keys().collect::<Vec<_>>(), ["app"]);
    let l = load_text(text, &[("COMPOSE_PROFILES", "dev")], dir.path()).unwrap();
    assert_eq!(l.project.services.len(), 2);
    let e = load_text("services:\n  app:\n    image: x\n    depends_on: [debug]\n  debug:\n    image: x\n    profiles: [dev]\n", &[], dir.path()).unwrap_err();
    assert!(e.to_string().contains("only in profile(s) dev"), "{e}");
}

#[test]
fn override_files_merge_in_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stack.yml"),
        "services:\n  s:\n    image: base\n    environment: {A: '1'}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("stack.override.yml"),
        "services:\n  s:\n    image: over\n    environment: {B: '2'}\n",
    )
    .unwrap();
    let l = load(&LoadOptions {
        cwd: dir.path().to_path_buf(),
        ..LoadOptions::default()
    })
    .unwrap();
    let s = &l.project.services["s"];
    assert_eq!(s.image.as_deref(), Some("over"));
    assert_eq!(s.environment.len(), 2);
    assert_eq!(
        l.project.config_files.len(),
        2,
        "the override beside the file is found"
    );
}

#[test]
fn override_name() {
    assert_eq!(
        override_path(Path::new("/a/stack.yml")).unwrap(),
        Path::new("/a/stack.override.yml")
    );
}

fn load_pair(base: &str, over: &str) -> Result<Loaded, Diagnostics> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), base).unwrap();
    std::fs::write(dir.path().join("compose.override.yaml"), over).unwrap();
    load(&LoadOptions {
        cwd: dir.path().to_path_buf(),
        ..LoadOptions::default()
    })
}

#[test]
fn reset_and_override_tags_clear_what_earlier_files_set() {
    let l = load_pair(
        "services:\n  web:\n    image: nginx\n    ports: ['8080:80', '8443:443']\n    environment: {A: '1', B: '2'}\n    command: [a, b]\n    depends_on: [db]\n    build: {context: ., args: {X: '1', Y: '2'}}\n  db:\n    image: postgres\nvolumes:\n  data: {}\n",
        "services:\n  web:\n    ports: !override ['9090:80']\n    environment:\n      A: !reset null\n    command: !reset\n    depends_on: !reset []\n    build:\n      args: !override {Z: '3'}\n  db: !reset\nvolumes:\n  data: !reset\n",
    )
    .unwrap();
    let web = &l.project.services["web"];
    assert_eq!(
        web.ports.len(),
        1,
        "!override replaces the list: {:?}",
        web.ports
    );
    assert_eq!(web.ports[0].target, 80);
    assert_eq!(web.environment.keys().collect::<Vec<_>>(), ["B"]);
    assert_eq!(web.command, None);
    assert!(web.depends_on.is_empty());
    let args = &web.build.as_ref().unwrap().args;
    assert_eq!(args.keys().collect::<Vec<_>>(), ["Z"], "{args:?}");
    assert!(
        !l.project.services.contains_key("db"),
        "a service reset whole"
    );
    assert!(!l.project.volumes.contains_key("data"));
}

#[test]
fn tags_apply_to_what_a_service_extends_and_unknown_tags_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let l = load_text(
        "services:\n  base:\n    image: x\n    ports: ['80']\n    environment: {A: '1'}\n  web:\n    extends: base\n    ports: !reset []\n    environment: !override {B: '2'}\n",
        &[],
        dir.path(),
    )
    .unwrap();
    let web = &l.project.services["web"];
    assert!(web.ports.is_empty());
    assert_eq!(web.environment.keys().collect::<Vec<_>>(), ["B"]);
    assert_eq!(l.project.services["base"].ports.len(), 1);

    let err = load_text(
        "services:\n  web:\n    image: x\n    ports: !replace ['80']\n",
        &[],
        dir.path(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown YAML tag `!replace`"), "{err}");
    assert!(
        err.contains("compose.yaml:4:5"),
        "positioned at the key: {err}"
    );
}

#[test]
fn a_file_without_services_is_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let l = load_text("name: shared\nvolumes:\n  data: {}\n", &[], dir.path()).unwrap();
    assert!(l.project.services.is_empty());
    assert!(l.project.volumes.contains_key("data"));
}

#[test]
fn a_variable_without_a_value_is_kept_as_compose_keeps_it_and_a_false_restart_is_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load_text(
        "services:\n  a:\n    image: nginx\n    environment: [EMPTY, SET]\n    depends_on:\n      b: {condition: service_started, required: false}\n  b:\n    image: nginx\n",
        &[("SET", "1")],
        dir.path(),
    )
    .unwrap();
    let a = &loaded.project.services["a"];
    assert_eq!(a.environment["EMPTY"], None);
    assert_eq!(a.environment["SET"].as_deref(), Some("1"));
    let dep = serde_json::to_value(&a.depends_on["b"]).unwrap();
    assert_eq!(
        dep,
        serde_json::json!({"condition": "service_started", "required": false})
    );
}

#[test]
fn top_level_extensions_are_kept_for_config_and_a_later_file_wins() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load_text(
        "services:\n  a:\n    image: nginx\nx-data: [1, 2, 3]\nx-name: ${WHO:-nobody}\n",
        &[],
        dir.path(),
    )
    .unwrap();
    let p = &loaded.project;
    assert_eq!(
        p.extensions["x-data"],
        serde_yaml::from_str::<Value>("[1, 2, 3]").unwrap()
    );
    assert_eq!(
        p.extensions["x-name"],
        Value::from("nobody"),
        "interpolated, as compose does"
    );
    let json = serde_json::to_value(p).unwrap();
    assert_eq!(json["x-data"][2], 3);
}

#[test]
fn without_consistency_undeclared_references_pass_and_only_they() {
    let dir = tempfile::tempdir().unwrap();
    let text = "services:\n  a:\n    image: nginx\n    networks: [nope]\n    volumes: [\"gone:/v\"]\n    secrets: [hidden]\n    configs: [absent]\n";
    std::fs::write(dir.path().join("compose.yaml"), text).unwrap();
    let opts = |no_consistency| LoadOptions {
        cwd: dir.path().to_path_buf(),
        no_consistency,
        ..LoadOptions::default()
    };
    let refused = load(&opts(false)).unwrap_err().to_string();
    for name in ["nope", "gone", "hidden", "absent"] {
        assert!(refused.contains(name), "{refused}");
    }
    let p = load(&opts(true)).expect("printed as written").project;
    assert!(p.services["a"].networks.contains_key("nope"));
    // What is wrong in itself is still refused.
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  a:\n    image: \"UPPER case\"\n",
    )
    .unwrap();
    assert!(load(&opts(true)).is_err());
}
