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
    // The values are interpolated already: a `$` in them is written `$$`, so that the output
    // reads back as the same project (compose does the same).
    let mut value = serde_yaml::to_value(crate::manifest::paths::with_absolute_paths(project))?;
    escape_dollars(&mut value);
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        _ => write!(out, "{}", serde_yaml::to_string(&value)?)?,
    }
    Ok(())
}

fn escape_dollars(v: &mut serde_yaml::Value) {
    match v {
        serde_yaml::Value::String(s) if s.contains('$') => *s = s.replace('$', "$$"),
        serde_yaml::Value::Sequence(items) => items.iter_mut().for_each(escape_dollars),
        serde_yaml::Value::Mapping(m) => m.iter_mut().for_each(|(_, v)| escape_dollars(v)),
        _ => {}
    }
}
