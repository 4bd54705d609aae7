//! One command at a time changes a project: `up`, `down`, `scale` and the other commands that create,
//! start, stop or remove its objects take the project's lock first. Two runs at once would otherwise
//! both see "nothing there" and both create it (two networks of one name, replica numbers given
//! twice). The second run waits, saying which one it waits for; Ctrl-C or `STACKCTL_LOCK_TIMEOUT`
//! ends the wait.
//!
//! The lock is a file lock on this machine, one file per daemon and project, so the operating
//! system releases it when its holder exits, however it ends. Runs on two machines against one remote
//! daemon are not ordered by it; the engine layer still works by ID, so they cannot wedge a project.
//!
//! The files live where only this user can write (`$XDG_RUNTIME_DIR/stackctl`, else
//! `$TMPDIR/stackctl-locks-<uid>`): a lock file another user could place, link or hold would let
//! that user overwrite this user's files (root's, too) or stall every run. So the folder must be this
//! user's own and closed to others, no link is followed, and only a plain file this user owns is
//! written; anything else is refused, saying what was found.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use sha2::{Digest, Sha256};

use crate::engine::Daemon;
use crate::exit::UsageError;
use crate::ui;

/// Held while the command runs; the lock goes with it.
pub struct ProjectLock {
    _file: File,
}

/// The folder of this user's locks, and whether stackctl chose it (and so may create it).
fn lock_dir(uid: u32) -> PathBuf {
    if let Some(dir) = std::env::var_os("STACKCTL_LOCK_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute() && owned_private_dir(d, uid).is_ok())
    {
        return runtime.join("stackctl");
    }
    std::env::temp_dir().join(format!("stackctl-locks-{uid}"))
}

/// The lock file's name: the project (readable) and a hash of the daemon's address.
fn lock_file_name(address: &str, project: &str) -> String {
    let digest = Sha256::digest(address.as_bytes());
    format!("{project}-{}.lock", &hex::encode(digest)[..12])
}

/// How long to wait for another run's lock: `STACKCTL_LOCK_TIMEOUT` (`30s`, `2m`, or seconds),
/// else for as long as it is held.
fn wait_limit() -> Result<Option<Duration>> {
    let Ok(text) = std::env::var("STACKCTL_LOCK_TIMEOUT") else {
        return Ok(None);
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let parsed = text
        .parse::<u64>()
        .map(Duration::from_secs)
        .or_else(|_| humantime::parse_duration(text));
    parsed.map(Some).map_err(|_| {
        UsageError::new(format!("STACKCTL_LOCK_TIMEOUT={text} is not a duration"))
            .hint("give seconds (`30`) or a duration (`30s`, `2m`)")
            .into()
    })
}

/// Takes the lock of `project` on `engine`'s daemon for `verb`, waiting while another run holds it.
pub async fn acquire(daemon: &impl Daemon, project: &str, verb: &str) -> Result<ProjectLock> {
    let limit = wait_limit()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let dir = lock_dir(uid);
    prepare_dir(&dir, uid)?;
    let path = dir.join(lock_file_name(daemon.address(), project));
    let mut file = open(&path, uid)?;
    let started = Instant::now();
    let mut waiting = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if let Some(limit) = limit.filter(|l| started.elapsed() >= *l) {
                    return Err(anyhow!(
                        "gave up after {} waiting for {} to finish with project {project}\n  = help: let it finish, or stop it; the lock is {}",
                        humantime::format_duration(limit),
                        holder(&mut file),
                        path.display()
                    ));
                }
                if !waiting {
                    waiting = true;
                    ui::note(format!(
                        "waiting for {} to finish with project {project} (STACKCTL_LOCK_TIMEOUT bounds the wait)",
                        holder(&mut file)
                    ));
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = daemon.cancel().cancelled() => return Err(crate::exit::Interrupted.into()),
                }
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()));
            }
        }
    }
    // Say who holds it, for whoever waits next.
    let _ = file.set_len(0).and_then(|()| {
        file.rewind()?;
        write!(file, "stackctl {verb} (pid {})", std::process::id())
    });
    Ok(ProjectLock { _file: file })
}

/// Makes the folder (only this user may enter it) or checks the one there.
fn prepare_dir(dir: &Path, uid: u32) -> Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(e).with_context(|| format!("creating the lock folder {}", dir.display()));
        }
    }
    owned_private_dir(dir, uid).map_err(|why| {
        UsageError::new(format!(
            "refusing the lock folder {}: {why}",
            dir.display()
        ))
        .hint(
            "another user may have prepared it; remove it, or set STACKCTL_LOCK_DIR to a folder only you can write",
        )
        .into()
    })
}

/// Why `dir` is not a folder of `uid`'s that no one else can write, if it is not.
fn owned_private_dir(dir: &Path, uid: u32) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        return Err("it is a symbolic link".into());
    }
    if !meta.is_dir() {
        return Err("it is not a folder".into());
    }
    if meta.uid() != uid {
        return Err(format!(
            "it belongs to user {}, not to you ({uid})",
            meta.uid()
        ));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(format!(
            "others can write in it (mode {:o})",
            meta.permissions().mode() & 0o7777
        ));
    }
    Ok(())
}

/// Opens the lock file without following a link, creating it if absent, and only if what is there
/// is a plain file of this user's that no other name points at.
fn open(path: &Path, uid: u32) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                anyhow::Error::new(
                    UsageError::new(format!(
                        "refusing the lock file {}: it is a symbolic link",
                        path.display()
                    ))
                    .hint("stackctl never follows a link it did not make; remove the link"),
                )
            } else {
                anyhow::Error::new(e).context(format!("opening the lock file {}", path.display()))
            }
        })?;
    let meta = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    let refusal = if !meta.is_file() {
        Some("it is not a plain file".to_owned())
    } else if meta.uid() != uid {
        Some(format!(
            "it belongs to user {}, not to you ({uid})",
            meta.uid()
        ))
    } else if meta.nlink() != 1 {
        Some("other names link to it (a hard link)".to_owned())
    } else {
        None
    };
    match refusal {
        Some(why) => Err(UsageError::new(format!(
            "refusing the lock file {}: {why}",
            path.display()
        ))
        .hint("stackctl writes only files it made; remove it")
        .into()),
        None => Ok(file),
    }
}

fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file
        .rewind()
        .and_then(|()| file.take(200).read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        "another stackctl".to_owned()
    } else {
        text.chars().filter(|c| !c.is_control()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_daemon_and_project_has_its_own_lock() {
        let a = lock_file_name("unix:///var/run/docker.sock", "web");
        assert_eq!(a, lock_file_name("unix:///var/run/docker.sock", "web"));
        assert_ne!(a, lock_file_name("tcp://10.0.0.2:2375", "web"));
        assert_ne!(a, lock_file_name("unix:///var/run/docker.sock", "web2"));
        assert!(a.starts_with("web-") && a.ends_with(".lock"));
    }

    fn uid() -> u32 {
        unsafe { libc::geteuid() }
    }

    #[test]
    fn a_folder_others_can_write_or_a_link_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let open_dir = tmp.path().join("open");
        std::fs::create_dir(&open_dir).unwrap();
        std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(
            prepare_dir(&open_dir, uid())
                .unwrap_err()
                .to_string()
                .contains("others can write")
        );
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(tmp.path(), &link).unwrap();
        assert!(
            prepare_dir(&link, uid())
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
        let fresh = tmp.path().join("fresh");
        prepare_dir(&fresh, uid()).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn links_and_foreign_files_are_never_opened_for_writing() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("precious");
        std::fs::write(&target, "keep me").unwrap();
        let absolute = tmp.path().join("abs.lock");
        std::os::unix::fs::symlink(&target, &absolute).unwrap();
        let relative = tmp.path().join("rel.lock");
        std::os::unix::fs::symlink("precious", &relative).unwrap();
        let hard = tmp.path().join("hard.lock");
        std::fs::hard_link(&target, &hard).unwrap();
        for path in [&absolute, &relative, &hard] {
            let err = open(path, uid()).unwrap_err();
            assert!(err.to_string().contains("refusing the lock file"), "{err}");
        }
        assert!(
            open(&tmp.path().join("other.lock"), uid() + 1)
                .unwrap_err()
                .to_string()
                .contains("belongs to user")
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        let made = open(&tmp.path().join("mine.lock"), uid()).unwrap();
        assert_eq!(made.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
}
