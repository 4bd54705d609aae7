//! Provider services: the external program is run with compose's protocol, what it sets reaches
//! the services that depend on it, `down` releases it, and a failing or missing provider stops
//! `up` before its dependents are created.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;

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

/// The calls logged in `bin/calls`, but the `compose metadata` questions.
fn calls_but_metadata(bin: &Path) -> String {
    std::fs::read_to_string(bin.join("calls"))
        .unwrap()
        .lines()
        .filter(|l| *l != "compose metadata")
        .map(|l| format!("{l}\n"))
        .collect()
}

fn manifest(kind: &str) -> String {
    format!(
        "services:\n  database:\n    provider:\n      type: testcloud\n      options:\n        type: {kind}\n        size: 256\n  app:\n{SLEEPS}    depends_on: [database]\n"
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
    let calls = calls_but_metadata(&bin);
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

    // It declares no `stop` (it has no metadata): `stop` leaves it alone.
    let out = with_path(&p, &bin, &["stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!calls_but_metadata(&bin).contains(" stop "));
    let out = with_path(&p, &bin, &["down"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = calls_but_metadata(&bin);
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

/// A provider that answers `compose metadata` (compose v5): it is given only the options it
/// declares for each command, one it requires missing is refused, and its declared `stop` runs on
/// `stackctl stop`.
#[test]
fn a_provider_that_declares_its_options_gets_those_and_is_stopped_when_it_says_it_can_be() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "providermeta",
        &format!(
            "services:\n  database:\n    provider:\n      type: metacloud\n      options:\n        type: mysql\n        size: 256\n        zone: north\n  app:\n{SLEEPS}    depends_on: [database]\n"
        ),
    );
    let bin = p.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let metadata = r#"{"description":"test","up":{"parameters":[{"name":"type","required":true},{"name":"size"}]},"down":{"parameters":[{"name":"type","required":true}]},"stop":{"parameters":[{"name":"type"}]}}"#;
    let script = format!(
        "#!/bin/sh\nif [ \"$2\" = metadata ]; then echo '{metadata}'; exit 0; fi\necho \"$@\" >> {calls}\n",
        calls = bin.join("calls").display()
    );
    std::fs::write(bin.join("metacloud"), script).unwrap();
    std::fs::set_permissions(
        bin.join("metacloud"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = with_path(&p, &bin, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        calls_but_metadata(&bin)
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned()
    };
    let n = &p.name;
    assert_eq!(
        run(&["up", "-d"]),
        format!("compose --project-name={n} up --size=256 --type=mysql database")
    );
    assert_eq!(
        run(&["stop"]),
        format!("compose --project-name={n} stop --type=mysql database")
    );
    assert_eq!(
        run(&["down"]),
        format!("compose --project-name={n} down --type=mysql database")
    );
    // Without the option it requires: refused, and nothing is made.
    p.write(&format!(
        "services:\n  database:\n    provider:\n      type: metacloud\n      options:\n        size: 1\n  app:\n    image: {IMG}\n    command: [sleep, infinity]\n    depends_on: [database]\n"
    ));
    let out = with_path(&p, &bin, &["up", "-d"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("needs the option `type`"),
        "{}",
        stderr(&out)
    );
    assert!(p.containers().is_empty());
}
