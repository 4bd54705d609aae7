//! `stackctl cp`: files and folders between a service's container and this machine, with docker
//! cp's naming rules: into an existing folder a source keeps its name; otherwise it takes the
//! destination's. The engine moves tar streams; building and unpacking them happens here, streamed,
//! so a large copy does not sit in memory.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use futures::StreamExt;
use tokio_util::io::{ReaderStream, StreamReader, SyncIoBridge};

use super::Ctx;
use super::project::{service_containers, with_project};
use crate::cli::CpArgs;
use crate::engine::Engine;
use crate::engine::archive::{self, PathKind};
use crate::engine::observe::ObservedContainer;
use crate::exit::UsageError;

/// One side of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Operand {
    /// `-`: a tar stream on stdin or stdout.
    Stdio,
    Local(PathBuf),
    Container {
        service: String,
        path: String,
    },
}

/// `SERVICE:PATH` is a container's path; anything else is local (write `./a:b` for a local name
/// with a colon).
fn parse_operand(text: &str) -> Operand {
    if text == "-" {
        return Operand::Stdio;
    }
    match text.split_once(':') {
        Some((service, path)) if !service.is_empty() && !service.contains('/') => {
            Operand::Container {
                service: service.to_owned(),
                path: path.to_owned(),
            }
        }
        _ => Operand::Local(PathBuf::from(text)),
    }
}

/// Where a copy into a container goes: the folder to unpack into, and the name the source takes
/// there.
fn upload_plan(
    dest: &str,
    dest_kind: Option<PathKind>,
    source_name: &str,
    source_is_dir: bool,
) -> Result<(String, String), UsageError> {
    match dest_kind {
        Some(PathKind::Dir) => Ok((dest.to_owned(), source_name.to_owned())),
        Some(PathKind::File) if source_is_dir => Err(UsageError::new(format!(
            "cannot copy a folder onto the file {dest}"
        ))
        .hint("name a folder (it is created if missing) or a path that does not exist yet")),
        _ => {
            let trimmed = dest.trim_end_matches('/');
            let (parent, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
            if name.is_empty() || name == "." || name == ".." {
                return Err(UsageError::new(format!(
                    "`{dest}` does not name a file or folder"
                )));
            }
            let parent = if parent.is_empty() { "/" } else { parent };
            Ok((parent.to_owned(), name.to_owned()))
        }
    }
}

/// Where an entry of an archive from the container goes on this machine: inside `dest` when it is
/// an existing folder, else at `dest` itself in place of the archive's top entry. `None` for a name
/// that would leave `dest` (`..`, absolute).
pub fn local_target(dest: &Path, dest_is_dir: bool, entry: &Path) -> Option<PathBuf> {
    if !entry
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    if dest_is_dir {
        return Some(dest.join(entry));
    }
    let mut parts = entry
        .components()
        .filter(|c| !matches!(c, Component::CurDir));
    parts.next()?;
    Some(parts.fold(dest.to_path_buf(), |p, c| p.join(c)))
}

pub fn run(ctx: &Ctx, args: CpArgs) -> Result<()> {
    super::note_unhonoured(&[
        (args.archive, "--archive"),
        (args.follow_link, "--follow-link"),
    ]);
    let (from, to) = (
        parse_operand(&args.source),
        parse_operand(&args.destination),
    );
    let service = match (&from, &to) {
        (Operand::Container { .. }, Operand::Container { .. }) => {
            return Err(UsageError::new(format!(
                "both sides name a container ({} and {})",
                args.source, args.destination
            ))
            .hint("copy through this machine: cp one:/path ./tmp, then cp ./tmp two:/path")
            .into());
        }
        (Operand::Container { service, .. }, _) | (_, Operand::Container { service, .. }) => {
            service.clone()
        }
        _ => {
            return Err(UsageError::new("neither side names a container")
                .hint("write SERVICE:PATH for the container's side, e.g. flaskapp:/app")
                .into());
        }
    };
    if args.all && matches!(from, Operand::Container { .. }) {
        return Err(
            UsageError::new("--all copies into every replica, not out of them")
                .hint("copy out of one replica with --index N")
                .into(),
        );
    }
    for side in [&from, &to] {
        if let Operand::Container { path, .. } = side
            && !path.starts_with('/')
        {
            return Err(UsageError::new(format!("`{path}` is not an absolute path"))
                .hint(format!(
                    "write the full path in the container, e.g. {service}:/{path}"
                ))
                .into());
        }
    }
    let services = vec![service.clone()];
    with_project(ctx, &services, async |engine, plan| {
        let list = service_containers(engine, plan, &services, true).await?;
        let targets: Vec<&ObservedContainer> = list
            .iter()
            .filter(|c| args.all || c.number == args.index)
            .collect();
        if targets.is_empty() {
            return Err(UsageError::new(format!(
                "service `{service}` has no replica {}",
                args.index
            ))
            .hint("`stackctl ps -a` lists the replicas; create them with `stackctl up -d`")
            .into());
        }
        match (&from, &to) {
            (Operand::Container { path, .. }, dest) => {
                copy_out(engine, targets[0], path, dest).await
            }
            (source, Operand::Container { path, .. }) => {
                for c in targets {
                    copy_in(engine, c, source, path).await?;
                }
                Ok(())
            }
            _ => unreachable!("one side is a container"),
        }
    })
}

async fn copy_out(
    engine: &Engine,
    c: &ObservedContainer,
    path: &str,
    dest: &Operand,
) -> Result<()> {
    if archive::stat(engine, &c.id, path).await?.is_none() {
        bail!(
            UsageError::new(format!("{}:{path} does not exist", c.name)).hint(format!(
                "look with `stackctl exec --index {} {} ls {}`",
                c.number,
                c.service,
                parent_of(path)
            ))
        );
    }
    let stream = archive::download(engine, &c.id, path);
    let dest = match dest {
        Operand::Stdio => {
            let mut reader = StreamReader::new(stream);
            tokio::io::copy(&mut reader, &mut crate::ui::term::stdout_stream()).await?;
            return Ok(());
        }
        Operand::Local(p) => p.clone(),
        Operand::Container { .. } => unreachable!("checked by run"),
    };
    let dest_is_dir = dest.is_dir();
    if !dest_is_dir {
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !parent.is_dir() {
            bail!(
                UsageError::new(format!("the folder {} does not exist", parent.display()))
                    .hint("create it first, or copy into an existing folder")
            );
        }
    }
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    tokio::task::spawn_blocking(move || unpack(reader, &dest, dest_is_dir)).await?
}

/// Unpacks an archive from a container at `dest` (see `local_target`). Nothing is written outside
/// it: a name with `..` or a root is refused, and so is an entry whose way passes through a
/// symbolic link (one the archive made, say `evil -> /etc` before `evil/passwd`), or that would
/// write through a link standing where it goes. A link entry replaces a link of the same name.
pub fn unpack(reader: impl std::io::Read, dest: &Path, dest_is_dir: bool) -> Result<()> {
    let base = if dest_is_dir {
        dest.to_path_buf()
    } else {
        dest.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    let mut tar = tar::Archive::new(reader);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.into_owned();
        let target = local_target(dest, dest_is_dir, &name).with_context(|| {
            format!(
                "the archive names {}, outside the destination",
                name.display()
            )
        })?;
        let is_link = entry.header().entry_type().is_symlink();
        through_no_link(&base, &target, is_link)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if is_link && std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_symlink()) {
            std::fs::remove_file(&target)?;
        }
        if entry.header().entry_type().is_hard_link() {
            // A hard link's source is a name in the same archive, so inside the destination too;
            // one that names anything else (`/etc/shadow`, `../x`) is refused.
            let source = entry
                .link_name()?
                .and_then(|l| local_target(dest, dest_is_dir, &l))
                .with_context(|| {
                    format!(
                        "the archive links {} to a file outside the destination",
                        name.display()
                    )
                })?;
            through_no_link(&base, &source, false)?;
            std::fs::hard_link(&source, &target)
                .with_context(|| format!("writing {}", target.display()))?;
            continue;
        }
        entry
            .unpack(&target)
            .with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

/// For cp_untar's fuzzing and replays: sets each tar header's checksum right (walking as `tar`
/// does), so that a mutated name or type is read, not refused as a damaged header.
#[doc(hidden)]
pub fn fix_tar_checksums(bytes: &mut [u8]) {
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
        let Some(next) = header
            .entry_size()
            .ok()
            .and_then(|size| size.checked_add(511))
            .and_then(|padded| usize::try_from(padded / 512 * 512).ok())
            .and_then(|padded| (pos + 512).checked_add(padded))
        else {
            return;
        };
        pos = next;
    }
}

/// Refuses a `target` under `base` whose folders on the way include a symbolic link, or which is
/// itself one (unless the entry is a link, which replaces it without following it).
fn through_no_link(base: &Path, target: &Path, entry_is_link: bool) -> Result<()> {
    let rel = target.strip_prefix(base).unwrap_or(target);
    let mut at = base.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let last = i + 1 == parts.len();
        let link = std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_symlink());
        if link && !(last && entry_is_link) {
            bail!(
                "the archive would write through the symbolic link {}; nothing is written through a link",
                at.display()
            );
        }
    }
    Ok(())
}

async fn copy_in(
    engine: &Engine,
    c: &ObservedContainer,
    source: &Operand,
    dest: &str,
) -> Result<()> {
    let dest_kind = archive::stat(engine, &c.id, dest).await?;
    let local = match source {
        Operand::Stdio => {
            if dest_kind != Some(PathKind::Dir) {
                bail!(
                    UsageError::new(format!("{}:{dest} is not a folder", c.name))
                        .hint("a tar stream is unpacked into an existing folder")
                );
            }
            let stdin = ReaderStream::new(tokio::io::stdin());
            let body = stdin
                .take_while(|r| std::future::ready(r.is_ok()))
                .filter_map(|r| async { r.ok() });
            return archive::upload(engine, &c.id, dest, body).await;
        }
        Operand::Local(p) => p.clone(),
        Operand::Container { .. } => unreachable!("checked by run"),
    };
    let meta = std::fs::symlink_metadata(&local)
        .map_err(|e| UsageError::new(format!("{}: {e}", local.display())))?;
    let source_name = local
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "copy".into());
    let (dir, name) = upload_plan(dest, dest_kind, &source_name, meta.is_dir())?;
    if archive::stat(engine, &c.id, &dir).await? != Some(PathKind::Dir) {
        bail!(
            UsageError::new(format!("the folder {dir} does not exist in {}", c.name)).hint(
                format!(
                    "create it first: stackctl exec --index {} {} mkdir -p {dir}",
                    c.number, c.service
                )
            )
        );
    }
    // The tar is written by a blocking thread into a pipe that the upload reads from.
    let (writer, reader) = tokio::io::duplex(256 * 1024);
    let packing = tokio::task::spawn_blocking(move || -> Result<()> {
        let mut tar = tar::Builder::new(SyncIoBridge::new(writer));
        tar.follow_symlinks(false);
        if meta.is_dir() {
            tar.append_dir_all(&name, &local)?;
        } else {
            tar.append_path_with_name(&local, &name)?;
        }
        tar.into_inner()?;
        Ok(())
    });
    let body = ReaderStream::new(reader).filter_map(|r: std::io::Result<Bytes>| async { r.ok() });
    let uploaded = archive::upload(engine, &c.id, &dir, body).await;
    packing.await?.context("reading the files to copy")?;
    uploaded
}

fn parent_of(path: &str) -> &str {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((parent, _)) => parent,
    }
}

#[cfg(test)]
mod tests {
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
}
