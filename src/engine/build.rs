//! Building an image: the context packed as a tar (honouring .dockerignore), sent to the classic
//! builder, its output turned into progress events.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use bollard::query_parameters::BuildImageOptions;
use futures::StreamExt;

use super::{DockerIgnore, Engine, Event, Reporter, step};
use crate::plan::{BuildPlan, labels};

/// Packs `context` into an uncompressed tar, deterministic in order and headers so that unchanged
/// sources give the daemon's cache the same input.
pub fn pack_context(context: &Path, dockerfile: &str) -> Result<Vec<u8>> {
    if !context.is_dir() {
        anyhow::bail!(
            "the build context {} is not a folder\n  = help: point `build:` (or `build.context`) at the folder holding the Dockerfile",
            context.display()
        );
    }
    if !context.join(dockerfile).is_file() {
        anyhow::bail!(
            "`{dockerfile}` not found in the build context {}\n  = help: add the file, or name another with `build.dockerfile`",
            context.display()
        );
    }
    let ignore = match std::fs::read_to_string(context.join(".dockerignore")) {
        Ok(t) => DockerIgnore::parse(&t),
        Err(_) => DockerIgnore::parse(""),
    };
    let mut files = Vec::new();
    walk(context, "", &ignore, &mut files)?;
    // The Dockerfile and .dockerignore are always sent, as the docker CLI does.
    for always in [dockerfile, ".dockerignore"] {
        if context.join(always).is_file() && !files.iter().any(|f| f == always) {
            files.push(always.to_owned());
        }
    }
    files.sort();
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    tar.follow_symlinks(false);
    for rel in &files {
        tar.append_path_with_name(context.join(rel), rel)
            .with_context(|| format!("adding {rel} to the build context"))?;
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

#[allow(clippy::too_many_arguments)]
pub async fn build_image(
    engine: &Engine,
    project: &str,
    service: &str,
    image: &str,
    build: &BuildPlan,
    no_cache: bool,
    pull: bool,
    report: &Reporter,
) -> Result<()> {
    let object = format!("Image {image}");
    step(report, &object, "Building", false);
    let context = build.context.clone();
    let dockerfile = build.dockerfile.clone();
    let tar = tokio::task::spawn_blocking(move || pack_context(&context, &dockerfile)).await??;
    let mut image_labels: HashMap<String, String> = build.labels.clone().into_iter().collect();
    image_labels.insert(labels::PROJECT.into(), project.into());
    image_labels.insert(labels::SERVICE.into(), service.into());
    let options = BuildImageOptions {
        dockerfile: build.dockerfile.clone(),
        t: Some(image.to_owned()),
        buildargs: Some(build.args.clone().into_iter().collect()),
        target: build.target.clone().unwrap_or_default(),
        labels: Some(image_labels),
        rm: true,
        forcerm: true,
        nocache: no_cache,
        pull: pull.then(|| "1".to_owned()),
        platform: build.platform.clone().unwrap_or_default(),
        ..Default::default()
    };
    let mut stream = engine.docker.build_image(
        options,
        super::auth::all_credentials(),
        Some(bollard::body_full(tar.into())),
    );
    let mut last_lines: Vec<String> = Vec::new();
    while let Some(item) = stream.next().await {
        let info = item
            .map_err(super::api_error)
            .with_context(|| format!("building {image}"))?;
        if let Some(err) = info.error_detail.and_then(|d| d.message) {
            bail!(
                "building {image} failed: {}\n{}",
                err.trim(),
                last_lines.join("\n")
            );
        }
        if let Some(text) = info.stream {
            for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
                report(Event::Detail {
                    object: object.clone(),
                    text: line.to_owned(),
                    transient: false,
                });
                last_lines.push(line.to_owned());
                if last_lines.len() > 10 {
                    last_lines.remove(0);
                }
            }
        }
    }
    step(report, &object, "Built", true);
    Ok(())
}
