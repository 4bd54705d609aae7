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
use super::project::with_project;
use crate::cli::CpArgs;
use crate::engine::Engine;
use crate::engine::archive::{self, PathKind};
use crate::engine::observe::{self, ObservedContainer};
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
        // As compose: `--index N` is that replica; without it, every replica (and, with
        // `--all`, the one-off containers too) when copying in, the first when copying out.
        let mut list: Vec<ObservedContainer> = observe::containers(engine, &plan.project, true)
            .await?
            .into_iter()
            .filter(|c| c.service == service)
            .filter(|c| match args.index {
                Some(n) => !c.oneoff && c.number == n,
                None => !c.oneoff || args.all,
            })
            .collect();
        list.sort_by_key(|c| (c.oneoff, c.number));
        let targets: Vec<&ObservedContainer> = list.iter().collect();
        if targets.is_empty() {
            let which = args
                .index
                .map_or_else(|| "no container".to_owned(), |n| format!("no replica {n}"));
            return Err(UsageError::new(format!("service `{service}` has {which}"))
                .hint("`stackctl ps -a` lists the replicas; create them with `stackctl up -d`")
                .into());
        }
        let copied = targets.iter().take(match from {
            Operand::Container { .. } => 1,
            _ => usize::MAX,
        });
        if super::dry_run(
            ctx,
            &super::changes(copied.map(|c| format!("Container {}", c.name)), "copy"),
        )? {
            return Ok(());
        }
        match (&from, &to) {
            (Operand::Container { path, .. }, dest) => {
                copy_out(engine, targets[0], path, dest, args.follow_link).await
            }
            (source, Operand::Container { path, .. }) => {
                for c in targets {
                    copy_in(engine, c, source, path, &args).await?;
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
    follow_link: bool,
) -> Result<()> {
    // `-L`: a link is copied as what it leads to, under the link's own name.
    let (path, link_name) = match archive::link_target(engine, &c.id, path).await? {
        Some(target) if follow_link => {
            let followed = if target.starts_with('/') {
                target
            } else {
                format!("{}/{target}", parent_of(path).trim_end_matches('/'))
            };
            let name = path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .map(str::to_owned);
            (followed, name)
        }
        _ => (path.to_owned(), None),
    };
    let path = path.as_str();
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
    let dest = match link_name {
        Some(name) if dest.is_dir() => dest.join(name),
        _ => dest,
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
    args: &CpArgs,
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
            return archive::upload(engine, &c.id, dest, body, args.archive).await;
        }
        Operand::Local(p) => p.clone(),
        Operand::Container { .. } => unreachable!("checked by run"),
    };
    // `-L` follows a link given as the source; otherwise the link itself is copied.
    let follow = args.follow_link;
    let meta = if follow {
        std::fs::metadata(&local)
    } else {
        std::fs::symlink_metadata(&local)
    }
    .map_err(|e| UsageError::new(format!("{}: {e}", local.display())))?;
    let source_name = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| {
            let full = local.canonicalize().ok()?;
            full.file_name().map(|n| n.to_string_lossy().into_owned())
        })
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
        tar.follow_symlinks(follow);
        if meta.is_dir() {
            tar.append_dir_all(&name, &local)?;
        } else {
            tar.append_path_with_name(&local, &name)?;
        }
        tar.into_inner()?;
        Ok(())
    });
    let body = ReaderStream::new(reader).filter_map(|r: std::io::Result<Bytes>| async { r.ok() });
    let uploaded = archive::upload(engine, &c.id, &dir, body, args.archive).await;
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
#[path = "cp_tests.rs"]
mod tests;
