//! One module per subcommand. Each reads like a short recipe: load the manifest, plan, apply, report.

mod config;

use std::collections::HashMap;

use anyhow::Result;

use crate::cli::{Cli, Command, Global};
use crate::manifest::{self, LoadOptions, Loaded};

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Config(args) => config::run(&cli.global, args),
        _ => anyhow::bail!("not implemented yet"),
    }
}

/// Loads the manifest named by the global options; warnings go to stderr.
pub fn load_project(global: &Global) -> Result<Loaded> {
    let opts = LoadOptions {
        files: global.files.clone(),
        project_name: global.project_name.clone(),
        env_files: global.env_files.clone(),
        project_directory: global.project_directory.clone(),
        cwd: std::env::current_dir()?,
        environ: std::env::vars().collect::<HashMap<_, _>>(),
    };
    let loaded = manifest::load(&opts)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    Ok(loaded)
}
