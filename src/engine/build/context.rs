//! The build context as the daemon receives it: the folder packed as a tar, honouring
//! `.dockerignore` (or `<Dockerfile>.dockerignore`), with an inline Dockerfile added.

use std::path::Path;

use anyhow::{Context, Result};

use crate::engine::DockerIgnore;

/// Packs `context` into an uncompressed tar, deterministic in order and headers so that unchanged
/// sources give the daemon's cache the same input.
/// `inline`, when given, is the Dockerfile's text, added under `dockerfile`'s name.
pub fn pack_context(context: &Path, dockerfile: &str, inline: Option<&str>) -> Result<Vec<u8>> {
    if !context.is_dir() {
        anyhow::bail!(
            "the build context {} is not a folder\n  = help: point `build:` (or `build.context`) at the folder holding the Dockerfile",
            context.display()
        );
    }
    if inline.is_none() && !context.join(dockerfile).is_file() {
        anyhow::bail!(
            "`{dockerfile}` not found in the build context {}\n  = help: add the file, or name another with `build.dockerfile`",
            context.display()
        );
    }
    // BuildKit reads `<Dockerfile>.dockerignore` beside the Dockerfile before `.dockerignore`.
    let ignore = [
        format!("{dockerfile}.dockerignore"),
        ".dockerignore".to_owned(),
    ]
    .iter()
    .find_map(|f| std::fs::read_to_string(context.join(f)).ok())
    .map_or_else(|| DockerIgnore::parse(""), |t| DockerIgnore::parse(&t));
    let mut files = Vec::new();
    walk(context, "", &ignore, &mut files)?;
    // The Dockerfile and .dockerignore are always sent, as the docker CLI does.
    for always in [dockerfile, ".dockerignore"] {
        if context.join(always).is_file() && !files.iter().any(|f| f == always) {
            files.push(always.to_owned());
        }
    }
    if inline.is_some() {
        files.retain(|f| f != dockerfile);
    }
    files.sort();
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    tar.follow_symlinks(false);
    for rel in &files {
        tar.append_path_with_name(context.join(rel), rel)
            .with_context(|| format!("adding {rel} to the build context"))?;
    }
    if let Some(text) = inline {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        tar.append_data(&mut header, dockerfile, text.as_bytes())
            .context("adding the inline Dockerfile to the build context")?;
    }
    Ok(tar.into_inner()?)
}

fn walk(root: &Path, rel: &str, ignore: &DockerIgnore, out: &mut Vec<String>) -> Result<()> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let entries = std::fs::read_dir(&dir)
        .with_context(|| format!("reading build context {}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let ft = entry.file_type()?;
        if ft.is_dir() {
            if ignore.prune(&path) {
                continue;
            }
            walk(root, &path, ignore, out)?;
        } else if !ignore.excluded(&path) {
            out.push(path);
        }
    }
    Ok(())
}
