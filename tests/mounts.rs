//! Mounts and files as the long forms describe them: each option reaches the container the engine
//! creates, or an engine too old for it refuses before anything is created.

use crate::common::*;

fn api_minor() -> u32 {
    docker(&["version", "--format", "{{.Server.APIVersion}}"])
        .split_once('.')
        .and_then(|(_, minor)| minor.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn mount_options_and_file_owners_reach_the_container() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "mountopts",
        &format!(
            "services:\n  app:\n{SLEEPS}    volumes:\n      - type: tmpfs\n        target: /scratch\n        tmpfs: {{size: 16m}}\n      - type: volume\n        source: data\n        target: /data\n        volume: {{nocopy: true}}\n      - ./conf:/conf:ro,z\n    secrets:\n      - source: token\n        uid: \"1000\"\n        gid: \"1001\"\n        mode: 0400\n    configs:\n      - source: motd\n        target: /etc/motd\n        mode: 0640\nvolumes:\n  data: {{}}\nsecrets:\n  token:\n    environment: TOKEN\nconfigs:\n  motd:\n    content: hello\n"
        ),
    );
    std::fs::write(p.path().join(".env"), "TOKEN=s3cret\n").unwrap();
    std::fs::create_dir(p.path().join("conf")).unwrap();
    p.ok(&["up", "-d"]);
    let c = format!("{}-app-1", p.name);
    let mounts = inspect(
        &c,
        "{{range .HostConfig.Mounts}}{{.Target}}={{if .TmpfsOptions}}{{.TmpfsOptions.SizeBytes}}{{end}}{{if .VolumeOptions}}{{.VolumeOptions.NoCopy}}{{end}}{{if .BindOptions}}{{.BindOptions.Propagation}}{{end}} {{end}}",
    );
    assert!(mounts.contains("/scratch=16777216"), "tmpfs size: {mounts}");
    assert!(mounts.contains("/data=true"), "volume nocopy: {mounts}");
    let binds = inspect(&c, "{{json .HostConfig.Binds}}");
    assert!(binds.contains(":/conf:ro,z\""), "relabelled bind: {binds}");
    let stat = |path: &str| docker(&["exec", &c, "stat", "-c", "%a:%u:%g", path]);
    assert_eq!(stat("/run/secrets/token"), "400:1000:1001");
    assert_eq!(docker(&["exec", &c, "cat", "/run/secrets/token"]), "s3cret");
    assert_eq!(stat("/etc/motd"), "640:0:0");
    p.ok(&["down", "-v"]);
}

#[test]
fn an_image_mount_needs_engine_28_and_mounts_the_image_files_there() {
    if !daemon_available() {
        return;
    }
    let p = TestProject::new(
        "imagemount",
        &format!(
            "services:\n  app:\n{SLEEPS}    volumes:\n      - type: image\n        source: {IMG}\n        target: /img\n        image:\n          subpath: etc\n"
        ),
    );
    let out = p.run(&["up", "-d"]);
    let err = stderr(&out);
    if api_minor() >= 48 {
        assert!(out.status.success(), "{err}");
        let c = format!("{}-app-1", p.name);
        assert_eq!(
            docker(&["exec", &c, "cat", "/img/debian_version"]),
            docker(&["exec", &c, "cat", "/etc/debian_version"]),
            "the image's /etc at /img"
        );
        assert!(
            !docker_ok(&["exec", &c, "touch", "/img/x"]),
            "an image mount is read-only"
        );
        p.ok(&["down"]);
    } else {
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("mounts an image") && err.contains("Engine 28"),
            "{err}"
        );
        assert!(p.containers().is_empty(), "nothing was created");
    }
}

/// A named volume the `local` driver binds to a folder (`o: bind`, `device: ./data`) gets the
/// folder under the project, as compose resolves it: the daemon itself refuses a relative device.
#[test]
fn a_local_bind_volume_with_a_relative_device_is_the_folder_under_the_project() {
    if !local_daemon_available("binds a folder of this machine") {
        return;
    }
    let p = TestProject::new(
        "bindvol",
        &format!(
            "services:\n  app:\n{SLEEPS}    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    driver: local\n    driver_opts: {{type: none, o: bind, device: ./data}}\n"
        ),
    );
    std::fs::create_dir(p.path().join("data")).unwrap();
    p.ok(&["up", "-d"]);
    let c = format!("{}-app-1", p.name);
    assert!(docker_ok(&["exec", &c, "sh", "-c", "echo hi > /data/x"]));
    assert_eq!(
        std::fs::read_to_string(p.path().join("data/x")).unwrap(),
        "hi\n"
    );
    p.ok(&["down", "-v"]);
}

/// A recreated container keeps its predecessor's anonymous volumes, the manifest's and the
/// image's own `VOLUME`s alike, as compose does; `-V` starts them afresh (and leaves the old ones,
/// as compose does, which this test then removes).
#[test]
fn a_recreated_container_keeps_its_anonymous_volumes_unless_renewed() {
    if !daemon_available() {
        return;
    }
    // The volumes `-V` leaves behind go however the test ends: declared before the project,
    // the guard drops after it (the project's `down -v` first frees what is still mounted).
    let left: std::rc::Rc<std::cell::RefCell<Vec<String>>> = Default::default();
    let _left = LeftVolumes(left.clone());
    let p = TestProject::new(
        "anonvol",
        &format!(
            "services:\n  app:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM {IMG}\n        VOLUME /vol\n    command: [sleep, infinity]\n    init: true\n    volumes: [/data]\n"
        ),
    );
    let _built = Images(vec![format!("{}-app", p.name)]);
    p.ok(&["up", "-d"]);
    let c = format!("{}-app-1", p.name);
    let anonymous = || -> Vec<String> {
        let names = inspect(&c, "{{range .Mounts}}{{.Destination}}={{.Name}} {{end}}");
        let mut v: Vec<String> = names.split_whitespace().map(str::to_owned).collect();
        v.sort();
        v
    };
    let first = anonymous();
    left.borrow_mut().extend(
        first
            .iter()
            .map(|m| m.split_once('=').map_or("", |(_, n)| n).to_owned()),
    );
    assert_eq!(
        first.len(),
        2,
        "/data and /vol are anonymous volumes: {first:?}"
    );
    docker(&[
        "exec",
        &c,
        "sh",
        "-c",
        "echo kept > /data/m && echo kept > /vol/m",
    ]);
    let before = p.id(&c);

    p.ok(&["up", "-d", "--force-recreate"]);
    assert_ne!(p.id(&c), before, "the container was made anew");
    assert_eq!(anonymous(), first, "the same volumes are mounted");
    assert_eq!(
        docker(&["exec", &c, "cat", "/data/m", "/vol/m"]),
        "kept\nkept"
    );

    let out = p.ok(&["up", "-d", "-V"]);
    assert!(
        !stderr(&out).contains("changes nothing"),
        "-V is honoured, not noted: {}",
        stderr(&out)
    );
    let renewed = anonymous();
    assert!(
        renewed.iter().all(|m| !first.contains(m)),
        "-V recreates with new volumes: {first:?} then {renewed:?}"
    );
    assert!(!docker_ok(&["exec", &c, "cat", "/data/m"]), "fresh /data");
    p.ok(&["down", "-v"]);
}

/// Removes named volumes when dropped; a volume a container still uses is left to the
/// project's own cleanup.
struct LeftVolumes(std::rc::Rc<std::cell::RefCell<Vec<String>>>);

impl Drop for LeftVolumes {
    fn drop(&mut self) {
        for name in self.0.borrow().iter() {
            let _ = docker_ok(&["volume", "rm", "-f", name]);
        }
    }
}
