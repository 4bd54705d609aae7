//! One command at a time changes a project: `up`, `down`, `scale` and the other commands that create,
//! start, stop or remove its objects take the project's lock first. Two runs at once would otherwise
//! both see "nothing there" and both create it (two networks of one name, replica numbers given
//! twice). The second run waits, saying which one it waits for; Ctrl-C ends the wait.
//!
//! The lock is a file lock on this machine, one file per daemon and project, so the operating
//! system releases it when its holder exits, however it ends. Runs on two machines against one remote
//! daemon are not ordered by it; the engine layer still works by ID, so they cannot wedge a project.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::engine::Engine;
use crate::ui;

/// Held while the command runs; the lock goes with it.
pub struct ProjectLock {
    _file: File,
}

fn lock_dir() -> PathBuf {
    std::env::var_os("STACKCTL_LOCK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("stackctl-locks"))
}

/// The lock file's name: the project (readable) and a hash of the daemon's address.
fn lock_file_name(address: &str, project: &str) -> String {
    let digest = Sha256::digest(address.as_bytes());
    format!("{project}-{}.lock", &hex::encode(digest)[..12])
}

/// Takes the lock of `project` on `engine`'s daemon for `verb`, waiting while another run holds it.
pub async fn acquire(engine: &Engine, project: &str, verb: &str) -> Result<ProjectLock> {
    let dir = lock_dir();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the lock folder {}", dir.display()))?;
    // Every user's runs meet in one folder, as they meet on one daemon.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777));
    }
    let path = dir.join(lock_file_name(&engine.address, project));
    let mut file = open(&path)?;
    let mut waiting = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if !waiting {
                    waiting = true;
                    ui::note(format!(
                        "waiting for {} to finish with project {project}",
                        holder(&mut file)
                    ));
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = engine.cancel.cancelled() => engine.check_cancelled()?,
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

fn open(path: &std::path::Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o666);
    }
    match options.open(path) {
        Ok(f) => Ok(f),
        // Made by another user: reading is enough to lock it.
        Err(_) => File::open(path).with_context(|| format!("opening {}", path.display())),
    }
}

fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        "another stackctl".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::lock_file_name;

    #[test]
    fn each_daemon_and_project_has_its_own_lock() {
        let a = lock_file_name("unix:///var/run/docker.sock", "web");
        assert_eq!(a, lock_file_name("unix:///var/run/docker.sock", "web"));
        assert_ne!(a, lock_file_name("tcp://10.0.0.2:2375", "web"));
        assert_ne!(a, lock_file_name("unix:///var/run/docker.sock", "web2"));
        assert!(a.starts_with("web-") && a.ends_with(".lock"));
    }
}
