//! Provider services: the external program is run with compose's protocol, what it sets reaches
//! the services that depend on it, `down` releases it, and a failing or missing provider stops
//! `up` before its dependents are created.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;

const IMG: &str = "debian:bookworm-slim";

/// A provider program `testcloud` in `bin`, logging its arguments to `bin/calls`; it fails when
/// asked for `--type=broken`.
fn install_provider(bin: &Path) {
    std::fs::create_dir_all(bin).unwrap();
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> {calls}\ncase \"$*\" in\n  *--type=broken*) echo '{{\"type\":\"error\",\"message\":\"quota exceeded\"}}'; exit 1;;\nesac\ncase \"$3\" in\n  up) echo '{{\"type\":\"info\",\"message\":\"provisioning\"}}'\n      echo '{{\"type\":\"debug\",\"message\":\"ignored\"}}'\n      echo '{{\"type\":\"setenv\",\"message\":\"URL=cloud://db-1:5432/app?x=1\"}}'\n      echo '{{\"type\":\"rawsetenv\",\"message\":\"CLOUD_TOKEN=t0k\"}}';;\n  down) echo '{{\"type\":\"info\",\"message\":\"releasing\"}}';;\nesac\n",
        calls = bin.join("calls").display()
    );
    let path = bin.join("testcloud");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn manifest(kind: &str) -> String {
    format!(
        "services:\n  database:\n    provider:\n      type: testcloud\n      options:\n        type: {kind}\n        size: 256\n  app:\n    image: {IMG}\n    command: [sleep, infinity]\n    init: true\n    depends_on: [database]\n"
    )
}

fn with_path(p: &TestProject, bin: &Path, args: &[&str]) -> std::process::Output {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    p.cmd(args)
        .env("PATH", path)
        .output()
        .expect("run stackctl")
}

#[test]
fn a_provider_service_is_made_by_its_program_and_its_settings_reach_dependents() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("provider", &manifest("mysql"));
    let bin = p.path().join("bin");
    install_provider(&bin);
    let out = with_path(&p, &bin, &["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = std::fs::read_to_string(bin.join("calls")).unwrap();
    assert_eq!(
        calls.trim(),
        format!(
            "compose --project-name={} up --size=256 --type=mysql database",
            p.name
        )
    );
    assert!(stderr(&out).contains("provisioning"), "{}", stderr(&out));
    let env = inspect(&format!("{}-app-1", p.name), "{{json .Config.Env}}");
    assert!(
        env.contains("\"DATABASE_URL=cloud://db-1:5432/app?x=1\""),
        "{env}"
    );
    assert!(env.contains("\"CLOUD_TOKEN=t0k\""), "{env}");
    assert_eq!(
        p.containers().len(),
        1,
        "the provider service has no container"
    );

    let out = with_path(&p, &bin, &["down"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = std::fs::read_to_string(bin.join("calls")).unwrap();
    assert_eq!(
        calls.lines().last().unwrap(),
        format!(
            "compose --project-name={} down --size=256 --type=mysql database",
            p.name
        )
    );
    assert!(p.containers().is_empty());
}

#[test]
fn a_failing_or_missing_provider_stops_up_before_its_dependents() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new("providerfail", &manifest("broken"));
    let bin = p.path().join("bin");
    install_provider(&bin);
    let out = with_path(&p, &bin, &["up", "-d"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("quota exceeded"), "{}", stderr(&out));
    assert!(p.containers().is_empty(), "the dependent was not created");

    // Without the program on PATH, nothing is asked of the engine at all.
    let out = p.run(&["up", "-d"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("provider `testcloud` is neither a Docker CLI plugin"),
        "{}",
        stderr(&out)
    );
    assert!(p.containers().is_empty());
}
