//! `stackctl cp SERVICE:PATH LOCAL`: a tar stream from the container (bytes the container's owner
//! controls) unpacked on this machine. The security property: unpacking into a fresh folder never
//! creates, writes or links anything outside the destination, whatever the archive holds (`../`
//! and absolute names, symlinks that lead out followed by entries through them, hard links to
//! files outside).
//!
//! The unpacking loop of `commands::cp::copy_out` is inline in an async function, so it is copied
//! here line for line around the real `stackctl::fuzzing::local_target` (the check that keeps names
//! inside the destination) and the real `tar` crate:
//!
//! ```text
//! for entry in tar.entries()? {
//!     let mut entry = entry?;
//!     let name = entry.path()?.into_owned();
//!     let target = local_target(&dest, dest_is_dir, &name).with_context(..)?;
//!     if let Some(parent) = target.parent() { std::fs::create_dir_all(parent)?; }
//!     entry.unpack(&target)?;
//! }
//! ```
//!
//! Layout per input: a fresh `tmp/` holding `dest` (the destination: an existing folder, or a name
//! that does not exist yet, as both `cp` forms have it) and `outside/secret` (a file an archive
//! must not reach); the process's working folder is `tmp/`, as a relative hard link name is read
//! from the working folder. Before each entry is unpacked, the harness resolves what the loop is
//! about to touch and panics *before* touching it when that leads outside `dest`: a fuzzer that
//! found the hole must not then write through it into the host's files. After the archive, `tmp/`
//! must hold only `dest` and `outside/`, and `outside/secret` must be unchanged and unlinked.
//!
//! Input: byte 0 = flags (bit 0: `dest` is an existing folder; bit 1: leave header checksums as
//! they are, else they are recomputed so that mutated headers are read), then the tar bytes.
//!
//! Findings already reported can be set aside to look for others: `STACKCTL_FUZZ_KNOWN` is a
//! comma-separated list of the classes below; an input of a listed class is abandoned (not
//! unpacked further) instead of reported. Classes: `symlink-parent` (an entry written through a
//! symlink that leads outside), `hardlink-outside` (a hard link made to a file outside).
//!
//! Run: scripts/fuzz.sh cp_untar.
#![no_main]

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stackctl::fuzzing::local_target;

const SECRET: &[u8] = b"outside the destination\n";

/// `STACKCTL_FUZZ_UNGUARDED=1` skips the look before each entry, so that a finding is shown doing
/// what it does (the checks after the archive then report it). It lets an archive write anywhere
/// the process may write: only inside a sandbox such as the one scripts/fuzz.sh makes.
fn unguarded() -> bool {
    static UNGUARDED: OnceLock<bool> = OnceLock::new();
    *UNGUARDED.get_or_init(|| std::env::var_os("STACKCTL_FUZZ_UNGUARDED").is_some_and(|v| v == "1"))
}

fn known(class: &str) -> bool {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN
        .get_or_init(|| {
            std::env::var("STACKCTL_FUZZ_KNOWN")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .iter()
        .any(|k| k == class)
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

/// Recomputes the checksum of each header, walking the archive as `tar` does (header, then the
/// entry's data rounded up to 512 bytes), so that a mutated name or type is read, not refused.
fn fix_checksums(bytes: &mut [u8]) {
    let mut pos = 0usize;
    while bytes.len().checked_sub(512).is_some_and(|last| pos <= last) {
        let block = &mut bytes[pos..pos + 512];
        if block.iter().all(|b| *b == 0) {
            return;
        }
        let mut header = tar::Header::new_old();
        header.as_mut_bytes().copy_from_slice(block);
        header.set_cksum();
        block.copy_from_slice(header.as_bytes());
        let Ok(size) = header.entry_size() else { return };
        let Some(padded) = size.checked_add(511).map(|s| s / 512 * 512) else {
            return;
        };
        let Some(next) = usize::try_from(padded)
            .ok()
            .and_then(|p| (pos + 512).checked_add(p))
        else {
            return;
        };
        pos = next;
    }
}

/// `path` with every symlink resolved, when it exists.
fn real(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

enum Verdict {
    Go,
    /// Too risky to exercise and not a finding (a dangling symlink on the way).
    Abandon,
    Violation(&'static str, String),
}

/// What unpacking `entry` at `target` would reach, checked before it is done.
fn look_before(
    entry: &tar::Entry<'_, &[u8]>,
    target: &Path,
    dest: &Path,
    inside: &Path,
    cwd: &Path,
) -> Verdict {
    // `create_dir_all(parent)` and the open of the file follow symlinks in every folder above the
    // target, from `dest` down (a symlink at the target itself is replaced, not followed).
    let mut above: Vec<&Path> = target
        .ancestors()
        .skip(1)
        .filter(|a| a.starts_with(dest))
        .collect();
    above.reverse();
    for a in above {
        let Ok(meta) = std::fs::symlink_metadata(a) else {
            break; // Not there yet: created as a folder, below what was checked.
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        match real(a) {
            Some(r) if r.starts_with(inside) => {}
            Some(r) => {
                return Verdict::Violation(
                    "symlink-parent",
                    format!(
                        "{} would be written through the symlink {} -> {} (outside the destination)",
                        target.display(),
                        a.display(),
                        r.display()
                    ),
                );
            }
            None => return Verdict::Abandon,
        }
    }
    // A hard link's name is read from the working folder (or is absolute); the link is made to
    // what the name reaches, a symlink at its end not followed.
    if entry.header().entry_type().is_hard_link()
        && let Ok(Some(link)) = entry.link_name()
    {
        let src = cwd.join(&link);
        let reached = match (src.parent(), src.file_name()) {
            (Some(parent), Some(file)) => real(parent).map(|p| p.join(file)),
            _ => real(&src),
        };
        if let Some(reached) = reached
            && let Ok(meta) = std::fs::symlink_metadata(&reached)
            && !meta.file_type().is_symlink()
            && !meta.is_dir()
            && !reached.starts_with(inside)
        {
            return Verdict::Violation(
                "hardlink-outside",
                format!(
                    "{} would be made a hard link to {} (outside the destination)",
                    target.display(),
                    reached.display()
                ),
            );
        }
    }
    Verdict::Go
}

/// `copy_out`'s loop (see the top of this file), with the look before each entry.
fn unpack(bytes: &[u8], dest: &Path, dest_is_dir: bool, inside: &Path, cwd: &Path) -> Option<()> {
    let mut tar = tar::Archive::new(bytes);
    for entry in tar.entries().ok()? {
        let mut entry = entry.ok()?;
        let name = entry.path().ok()?.into_owned();
        let target = local_target(dest, dest_is_dir, &name)?;
        let verdict = if unguarded() {
            Verdict::Go
        } else {
            look_before(&entry, &target, dest, inside, cwd)
        };
        match verdict {
            Verdict::Go => {}
            Verdict::Abandon => return None,
            Verdict::Violation(class, what) if known(class) => {
                let _ = what;
                return None;
            }
            Verdict::Violation(class, what) => {
                panic!("cp_untar: {class}: {what} (archive entry {name:?})")
            }
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).ok()?;
        }
        entry.unpack(&target).ok()?;
    }
    Some(())
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
    let Some((&flags, archive)) = data.split_first() else {
        return;
    };
    let dest_is_dir = flags & 1 == 1;
    let mut bytes = archive.to_vec();
    if flags & 2 == 0 {
        fix_checksums(&mut bytes);
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
        let _ = unpack(&bytes, &dest, dest_is_dir, &dest, &tmp);
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
    assert!(meta.is_file(), "cp_untar: escaped: the file outside was replaced");
    assert_eq!(meta.nlink(), 1, "cp_untar: hardlink-outside: the file outside was linked into the destination");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640, "cp_untar: escaped: the mode of the file outside changed");
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
    assert_eq!(content, SECRET, "cp_untar: escaped: the file outside was written");

    unlock(&tmp);
    drop(tmp_dir);
});
