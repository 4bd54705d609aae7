//! One module per subcommand. Each reads like a short recipe: load the manifest, plan, apply, report.

mod check;
mod config;
mod cp;
mod engine_cmds;
mod everyday;
mod logs;
mod stats;

pub use engine_cmds::{check_services, parse_scale};

use std::collections::HashMap;

use anyhow::Result;

use crate::cli::{Cli, Command, Global, Target};
use crate::exit::UsageError;
use crate::manifest::{self, LoadOptions, Loaded};

/// The subcommands that have work to do on a swarm; the rest act on one engine's containers.
pub const ON_SWARM: &[&str] = &[
    "config",
    "up",
    "down",
    "ps",
    "scale",
    "logs",
    "build",
    "push",
    "version",
    "completion",
];

pub fn run(cli: Cli) -> Result<()> {
    let verb = cli.command.name();
    if cli.global.target == Target::Swarm && !ON_SWARM.contains(&verb) {
        return Err(UsageError::new(format!(
            "`stackctl {verb}` works on the containers of one engine, not on --target swarm"
        ))
        .hint(format!(
            "on Swarm these work: {}; drop --target swarm (or STACKCTL_TARGET) for `{verb}`",
            ON_SWARM.join(", ")
        ))
        .into());
    }
    match cli.command {
        Command::Config(args) => config::run(&cli.global, args),
        Command::Up(args) => engine_cmds::up(&cli.global, args),
        Command::Down(args) => engine_cmds::down(&cli.global, args),
        Command::Ps(args) => engine_cmds::ps(&cli.global, args),
        Command::Scale(args) => engine_cmds::scale(&cli.global, args),
        Command::Build(args) => engine_cmds::build(&cli.global, args),
        Command::Pull(args) => engine_cmds::pull(&cli.global, args),
        Command::Push(args) => engine_cmds::push(&cli.global, args),
        Command::Logs(args) => logs::run(&cli.global, args),
        Command::Exec(args) => everyday::exec(&cli.global, args),
        Command::Run(args) => everyday::run(&cli.global, args),
        Command::Restart(args) => everyday::restart(&cli.global, args),
        Command::Stop(args) => everyday::stop(&cli.global, args),
        Command::Start(args) => everyday::start(&cli.global, args),
        Command::Cp(args) => cp::run(&cli.global, args),
        Command::Stats(args) => stats::run(&cli.global, args),
        Command::Attach(args) => everyday::attach(&cli.global, args),
        Command::Wait(args) => everyday::wait(&cli.global, args),
        Command::Pause(args) => everyday::pause(&cli.global, args, true),
        Command::Unpause(args) => everyday::pause(&cli.global, args, false),
        Command::Kill(args) => everyday::kill(&cli.global, args),
        Command::Rm(args) => everyday::rm(&cli.global, args),
        Command::Top(args) => everyday::top(&cli.global, args),
        Command::Port(args) => everyday::port(&cli.global, args),
        Command::Events(args) => everyday::events(&cli.global, args),
        Command::Images(args) => everyday::images(&cli.global, args),
        Command::Ls(args) => everyday::ls(&cli.global, args),
        Command::Version => everyday::version(),
        Command::Completion(args) => everyday::completion(args),
        Command::Check(args) => check::run(&cli.global, args),
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
        inline: None,
    };
    let loaded = manifest::load(&opts)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    Ok(loaded)
}
