//! The commands that list what the daemon holds for the project, or for every project: `images`,
//! `ls`, and `version` (which reports the compose release whose command line we follow).

use std::collections::BTreeMap;

use anyhow::Result;

use super::Ctx;
use super::project::{service_containers, with_project};
use crate::cli::{ImagesArgs, LsArgs, VersionArgs};
use crate::engine::ops;
use crate::exit::UsageError;
use crate::ui;

/// `images`: the images the project's containers run (table, compose's JSON, a template, or
/// IDs only with -q).
pub fn images(ctx: &Ctx, args: ImagesArgs) -> Result<()> {
    with_project(ctx, &args.services, async |engine, plan| {
        let list = service_containers(engine, plan, &args.services, true).await?;
        let mut rows = Vec::new();
        let mut seen = BTreeMap::new();
        for c in &list {
            if !seen.contains_key(&c.image_id) {
                let details = crate::engine::images::details(engine, &c.image_id).await?;
                seen.insert(c.image_id.clone(), details);
            }
            if let Some(d) = &seen[&c.image_id] {
                rows.push(ui::images::Row {
                    container: c.name.clone(),
                    image: d.clone(),
                    reference: c.image.clone(),
                });
            }
        }
        ui::out(ui::images::render(&rows, &args.format, args.quiet)?)?;
        Ok(())
    })
}

/// `ls`: the projects on this daemon, found by their labels; without `-a` only those with a
/// running container, as compose lists them.
pub fn ls(ctx: &Ctx, args: LsArgs) -> Result<()> {
    let mut names = Vec::new();
    for filter in &args.filter {
        match filter.split_once('=') {
            Some(("name", n)) => names.push(n.to_owned()),
            _ => {
                return Err(UsageError::new(format!("invalid filter `{filter}`"))
                    .hint("ls filters by `name=NAME`, as compose does")
                    .into());
            }
        }
    }
    let projects = ctx.block_on(async {
        let engine = ctx.connect().await?;
        ops::projects(&engine).await
    })?;
    let rows: Vec<ui::ls::Project> = projects
        .into_iter()
        .filter(|(_, (states, _))| args.all || states.contains_key("running"))
        .filter(|(name, _)| names.is_empty() || names.contains(name))
        .map(|(name, (states, files))| ui::ls::Project {
            name,
            states,
            config_files: files,
        })
        .collect();
    ui::out(ui::ls::render(&rows, &args.format, args.quiet)?)?;
    Ok(())
}

/// `version`: the compose version whose command line stackctl follows (what tools that check
/// compose's version read), stackctl's own, and the daemon's when it answers.
pub fn version(ctx: &Ctx, args: VersionArgs) -> Result<()> {
    let ours = env!("CARGO_PKG_VERSION");
    let compose = crate::cli::COMPOSE_VERSION;
    if args.short {
        return Ok(ui::out(format!("{compose}\n"))?);
    }
    if args.format == "json" {
        let v = serde_json::json!({"version": format!("v{compose}"), "stackctl": ours});
        return Ok(ui::out(format!("{v}\n"))?);
    }
    if ctx.global.as_compose {
        // Tools read this line whole (or its last word) as compose's version.
        return Ok(ui::out(format!("Docker Compose version v{compose}\n"))?);
    }
    ui::out(format!(
        "Docker Compose version v{compose} (stackctl {ours})\nstackctl {ours}\n"
    ))?;
    // compose's version never asks the daemon; ours says where it is when it answers.
    if let Ok(engine) = ctx.block_on(ctx.connect()) {
        ui::out(format!("{}\n", ui::daemon_text(&engine)))?;
    }
    Ok(())
}
