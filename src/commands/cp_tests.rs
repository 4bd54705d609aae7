//! `cp`'s pure parts: operands, paths and the archives it writes.

use super::*;
use std::os::unix::fs::MetadataExt;

#[test]
fn operands_are_a_service_path_a_local_path_or_a_stream() {
    assert_eq!(
        parse_operand("web:/etc/nginx"),
        Operand::Container {
            service: "web".into(),
            path: "/etc/nginx".into()
        }
    );
    assert_eq!(parse_operand("./a:b"), Operand::Local("./a:b".into()));
    assert_eq!(parse_operand("/tmp/x"), Operand::Local("/tmp/x".into()));
    assert_eq!(parse_operand(":x"), Operand::Local(":x".into()));
    assert_eq!(parse_operand("-"), Operand::Stdio);
}

#[test]
fn into_a_folder_the_source_keeps_its_name_elsewhere_it_takes_the_destinations() {
    assert_eq!(
        upload_plan("/app", Some(PathKind::Dir), "conf", true).unwrap(),
        ("/app".into(), "conf".into())
    );
    assert_eq!(
        upload_plan("/app/new.conf", None, "nginx.conf", false).unwrap(),
        ("/app".into(), "new.conf".into())
    );
    assert_eq!(
        upload_plan("/app/old.conf", Some(PathKind::File), "x.conf", false).unwrap(),
        ("/app".into(), "old.conf".into())
    );
    assert_eq!(
        upload_plan("/newdir/", None, "src", true).unwrap(),
        ("/".into(), "newdir".into())
    );
    assert!(upload_plan("/app/file", Some(PathKind::File), "dir", true).is_err());
    assert!(upload_plan("/", None, "x", false).is_err());
}

#[test]
fn entries_land_inside_an_existing_folder_or_in_place_of_the_destination() {
    let dest = Path::new("/tmp/out");
    assert_eq!(
        local_target(dest, true, Path::new("app/main.py")),
        Some("/tmp/out/app/main.py".into())
    );
    assert_eq!(
        local_target(dest, false, Path::new("app/main.py")),
        Some("/tmp/out/main.py".into())
    );
    assert_eq!(
        local_target(dest, false, Path::new("app")),
        Some("/tmp/out".into())
    );
    assert_eq!(local_target(dest, true, Path::new("../etc/passwd")), None);
    assert_eq!(local_target(dest, true, Path::new("/etc/passwd")), None);
}

#[test]
fn an_archive_writes_nothing_outside_the_destination() {
    let outside = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let dest = root.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    let archive = |build: &dyn Fn(&mut tar::Builder<Vec<u8>>)| {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    };
    let file = |b: &mut tar::Builder<Vec<u8>>, name: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_size(4);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append_data(&mut h, name, &b"pwnd"[..]).unwrap();
    };
    let link = |b: &mut tar::Builder<Vec<u8>>, name: &str, to: &Path| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, name, to).unwrap();
    };
    // A link to a folder outside, then a file through it: absolute and relative.
    for to in [
        outside.path().to_path_buf(),
        PathBuf::from("../../../../../../../tmp"),
    ] {
        let bytes = archive(&|b| {
            link(b, "evil", &to);
            file(b, "evil/pwned");
        });
        let err = unpack(&bytes[..], &dest, true).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err:#}");
        std::fs::remove_file(dest.join("evil")).unwrap();
    }
    // `..` in a name: refused, written nowhere.
    let mut raw = tar::Header::new_gnu();
    raw.set_size(4);
    raw.set_entry_type(tar::EntryType::Regular);
    let name = b"../escaped";
    raw.as_old_mut().name[..name.len()].copy_from_slice(name);
    raw.set_cksum();
    let mut bytes = raw.as_bytes().to_vec();
    bytes.extend_from_slice(b"pwnd");
    bytes.resize(bytes.len() + 508 + 1024, 0);
    assert!(unpack(&bytes[..], &dest, true).is_err());
    assert!(!root.path().join("escaped").exists());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert!(!Path::new("/tmp/pwned").exists());
    // A plain archive unpacks, links included (as links, not followed).
    let bytes = archive(&|b| {
        file(b, "d/f");
        link(b, "d/l", Path::new("/etc"));
    });
    unpack(&bytes[..], &dest, true).unwrap();
    assert_eq!(std::fs::read(dest.join("d/f")).unwrap(), b"pwnd");
    // A hard link to a file outside (found by the cp_untar fuzz target): refused.
    let secret = outside.path().join("secret");
    std::fs::write(&secret, "mine").unwrap();
    let hard = archive(&|b| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Link);
        h.set_size(0);
        b.append_link(&mut h, "grab", &secret).unwrap();
    });
    assert!(unpack(&hard[..], &dest, true).is_err());
    assert!(!dest.join("grab").exists());
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "mine");
    assert!(
        std::fs::symlink_metadata(dest.join("d/l"))
            .unwrap()
            .is_symlink()
    );
    unpack(&bytes[..], &dest, true).unwrap();
}

/// Every archive the cp_untar fuzz target found a hole with (tests/fuzz/regressions), read as
/// the target reads it: nothing outside the destination appears or changes.
#[test]
fn the_fuzz_findings_write_nothing_outside_the_destination() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/regressions");
    let mut replayed = 0;
    for found in std::fs::read_dir(&dir).unwrap() {
        let path = found.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("cp_untar-") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let (&flags, archive) = data.split_first().unwrap();
        let mut bytes = archive.to_vec();
        if flags & 2 == 0 {
            fix_tar_checksums(&mut bytes);
        }
        // Nested, so that an archive that climbs out (`dest -> ..`) still lands in `root`,
        // where the walk below sees it, rather than in the system's temp folder.
        let root = tempfile::tempdir().unwrap();
        let work = root.path().join("a/b/c");
        std::fs::create_dir_all(&work).unwrap();
        let dest = work.join("dest");
        if flags & 1 == 1 {
            std::fs::create_dir(&dest).unwrap();
        }
        let outside = work.join("outside");
        std::fs::create_dir(&outside).unwrap();
        let secret = outside.join("secret");
        std::fs::write(&secret, "mine").unwrap();

        let _ = unpack(&bytes[..], &dest, flags & 1 == 1);

        // Everything under `root` must be the folders made above, `secret`, or in `dest`.
        let mut stray = Vec::new();
        let mut walk = vec![root.path().to_path_buf()];
        while let Some(dir) = walk.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let path = e.unwrap().path();
                let made_dir = work.starts_with(&path) || path == outside;
                if made_dir {
                    walk.push(path);
                } else if !(path.starts_with(&dest) || path == secret) {
                    stray.push(path);
                }
            }
        }
        assert!(
            stray.is_empty(),
            "{name}: written outside the destination: {stray:?}"
        );
        let meta = std::fs::symlink_metadata(&secret).unwrap();
        assert!(
            meta.is_file() && meta.nlink() == 1,
            "{name}: the file outside was linked"
        );
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "mine", "{name}");
        replayed += 1;
    }
    assert!(
        replayed >= 4,
        "only {replayed} cp_untar findings in {}",
        dir.display()
    );
}

#[test]
fn the_folder_to_look_in_is_the_paths_parent() {
    assert_eq!(parent_of("/app/main.py"), "/app");
    assert_eq!(parent_of("/main.py"), "/");
    assert_eq!(parent_of("/app/"), "/");
}
