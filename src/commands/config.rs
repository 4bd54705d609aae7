//! `stackctl config`: the resolved manifest, never touching the daemon.

use std::io::Write;

use anyhow::Result;

use super::Ctx;

use crate::cli::{ConfigArgs, Format};

pub fn run(ctx: &Ctx, args: ConfigArgs) -> Result<()> {
    let loaded = ctx.load()?;
    let project = &loaded.project;
    let mut out = std::io::stdout().lock();
    if args.quiet {
        return Ok(());
    }
    if args.services {
        for name in project.services.keys() {
            writeln!(out, "{name}")?;
        }
        return Ok(());
    }
    if args.images {
        let plan = crate::plan::build(project, &Default::default());
        for svc in plan.services.values() {
            writeln!(out, "{}", svc.image)?;
        }
        return Ok(());
    }
    if args.volumes {
        for name in project.volumes.keys() {
            writeln!(out, "{name}")?;
        }
        return Ok(());
    }
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, project)?;
            writeln!(out)?;
        }
        _ => write!(out, "{}", serde_yaml::to_string(project)?)?,
    }
    Ok(())
}
