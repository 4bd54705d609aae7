//! One module per subcommand. Each reads like a short recipe: load the manifest, plan, apply, report.

mod config;
mod engine_cmds;
mod logs;

pub use engine_cmds::{check_services, parse_scale};

use std::collections::HashMap;

use anyhow::Result;

use crate::cli::{Cli, Command, Global};
use crate::manifest::{self, LoadOptions, Loaded};

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Config(args) => config::run(&cli.global, args),
        Command::Up(args) => engine_cmds::up(&cli.global, args),
        Command::Down(args) => engine_cmds::down(&cli.global, args),
        Command::Ps(args) => engine_cmds::ps(&cli.global, args),
        Command::Scale(args) => engine_cmds::scale(&cli.global, args),
        Command::Build(args) => engine_cmds::build(&cli.global, args),
        Command::Pull(args) => engine_cmds::pull(&cli.global, args),
        Command::Logs(args) => logs::run(&cli.global, args),
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
