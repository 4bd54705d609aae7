//! `stackctl cp SERVICE:PATH LOCAL`: a tar stream from the container (bytes the container's owner
//! controls) unpacked on this machine. The security property: unpacking into a fresh folder never
//! creates, writes or links anything outside the destination, whatever the archive holds (`../`
//! and absolute names, symlinks that lead out followed by entries through them, hard links to
//! files outside).
//!
//! It drives the real `commands::cp::unpack` (re-exported as `stackctl::fuzzing::unpack`), the
//! function `cp` runs on the daemon's archive stream.
//!
//! Layout per input: a fresh `tmp/` holding `dest` (the destination: an existing folder, or a name
//! that does not exist yet, as both `cp` forms have it) and `outside/secret` (a file an archive
//! must not reach); the process's working folder is `tmp/`, as a relative hard link name would be
//! read from the working folder. After the archive, `tmp/` must hold only `dest` and `outside/`,
//! and `outside/secret` must be unchanged and unlinked; the folder above `tmp/` must hold nothing
//! else.
//!
//! A finding writes where the archive points before it is reported, so the target runs only where
//! such a write can land nowhere that matters: inside scripts/fuzz.sh's sandbox (a private mount
//! namespace, the filesystem read-only but the fuzz folder and a scratch tmpfs), which sets
//! `STACKCTL_FUZZ_SANDBOXED=1`; elsewhere it refuses to start unless `STACKCTL_FUZZ_UNSANDBOXED=1`
//! says the risk is taken.
//!
//! Input: byte 0 = flags (bit 0: `dest` is an existing folder; bit 1: leave header checksums as
//! they are, else they are recomputed so that mutated headers are read), then the tar bytes.
//!
//! Run: scripts/fuzz.sh cp_untar.
#![no_main]

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stackctl::fuzzing::{fix_tar_checksums, unpack};

const SECRET: &[u8] = b"outside the destination\n";

fn sandboxed_or_told() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| v == "1");
        assert!(
            set("STACKCTL_FUZZ_SANDBOXED") || set("STACKCTL_FUZZ_UNSANDBOXED"),
            "cp_untar unpacks hostile archives for real: run it through scripts/fuzz.sh (as root, \
             for its sandbox), or set STACKCTL_FUZZ_UNSANDBOXED=1 to run it here anyway"
        );
    });
}

/// Where the per-input folders are made: `$STACKCTL_FUZZ_SCRATCH`, else the system's temp folder.
fn scratch_base() -> &'static PathBuf {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let base = std::env::var_os("STACKCTL_FUZZ_SCRATCH")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(format!("stackctl-fuzz-cp_untar-{}", std::process::id()));
        std::fs::create_dir_all(&base).expect("creating the scratch folder");
        base
    })
}

/// Makes everything under `dir` removable again (an archive may leave folders mode 000).
fn unlock(dir: &Path) {
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    for e in list.flatten() {
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if meta.is_dir() {
            let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o700));
            unlock(&e.path());
        }
    }
}

/// Puts the working folder back when the input is done (libFuzzer writes the corpus after).
struct Cwd(PathBuf);

impl Drop for Cwd {
    fn drop(&mut self) {
        let _ = std::env::set_current_dir(&self.0);
    }
}

fuzz_target!(|data: &[u8]| {
    sandboxed_or_told();
    let Some((&flags, archive)) = data.split_first() else {
        return;
    };
    let dest_is_dir = flags & 1 == 1;
    let mut bytes = archive.to_vec();
    if flags & 2 == 0 {
        fix_tar_checksums(&mut bytes);
    }

    let tmp_dir = tempfile::Builder::new()
        .prefix("in-")
        .tempdir_in(scratch_base())
        .expect("making the per-input folder");
    let tmp = std::fs::canonicalize(tmp_dir.path()).unwrap();
    let dest = tmp.join("dest");
    if dest_is_dir {
        std::fs::create_dir(&dest).unwrap();
    }
    let outside = tmp.join("outside");
    std::fs::create_dir(&outside).unwrap();
    let secret = outside.join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o640)).unwrap();
    let outside_mode = std::fs::metadata(&outside).unwrap().permissions().mode();

    {
        let _back = Cwd(std::env::current_dir().unwrap());
        std::env::set_current_dir(&tmp).unwrap();
        let _ = unpack(bytes.as_slice(), &dest, dest_is_dir);
    }

    // Whatever the archive did, nothing outside `dest` changed: not next to it, not in the folder
    // above (only this input's folder is there), not in `outside/`.
    let above: Vec<_> = std::fs::read_dir(scratch_base())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        above,
        [tmp_dir.path().to_path_buf()],
        "cp_untar: escaped: the archive created something in the folder above the destination's"
    );
    let mut names: Vec<String> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.retain(|n| n != "dest" && n != "outside");
    assert!(
        names.is_empty(),
        "cp_untar: escaped: the archive created {names:?} next to the destination"
    );
    let in_outside: Vec<String> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        in_outside,
        ["secret"],
        "cp_untar: escaped: the archive wrote into a folder outside the destination"
    );
    let meta = std::fs::symlink_metadata(&secret).unwrap();
    assert!(
        meta.is_file(),
        "cp_untar: escaped: the file outside was replaced"
    );
    assert_eq!(
        meta.nlink(),
        1,
        "cp_untar: hardlink-outside: the file outside was linked into the destination"
    );
    assert_eq!(
        meta.permissions().mode() & 0o7777,
        0o640,
        "cp_untar: escaped: the mode of the file outside changed"
    );
    assert_eq!(
        std::fs::metadata(&outside).unwrap().permissions().mode(),
        outside_mode,
        "cp_untar: escaped: the mode of the folder outside changed"
    );
    let mut content = Vec::new();
    std::fs::File::open(&secret)
        .unwrap()
        .read_to_end(&mut content)
        .unwrap();
    assert_eq!(
        content, SECRET,
        "cp_untar: escaped: the file outside was written"
    );

    unlock(&tmp);
    drop(tmp_dir);
});
