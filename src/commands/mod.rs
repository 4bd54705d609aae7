//! One module per subcommand. Each reads like a short recipe: load the manifest, plan, apply, report.

mod bake;
mod bridge;
mod check;
mod config;
pub(crate) mod cp;
mod ctx;
mod dashboard;
mod engine_cmds;
mod everyday;
mod generate;
mod image_verbs;
mod listing;
mod lock;
mod logs;
mod project;
mod providers;
mod ps;
mod publish;
mod reach;
mod remote;
mod session;
mod snapshot;
mod stats;
mod viz;
mod watch;

pub use engine_cmds::{check_services, parse_scale};

use std::process::ExitCode;

use anyhow::Result;

pub use ctx::{Ctx, Shape};
pub use reach::SWARM_VERBS;

use crate::cli::{AlphaArgs, AlphaCommand, Cli, Command};

pub fn run(cli: Cli) -> Result<ExitCode> {
    let shape = match cli.command {
        Command::Logs(_) => Shape::LogReader,
        _ => Shape::Workers,
    };
    crate::ui::set_ansi(match cli.global.ansi {
        _ if cli.global.no_ansi => crate::ui::Ansi::Never,
        crate::cli::Ansi::Never => crate::ui::Ansi::Never,
        crate::cli::Ansi::Always => crate::ui::Ansi::Always,
        crate::cli::Ansi::Auto => crate::ui::Ansi::Auto,
    });
    let no_consistency = matches!(&cli.command, Command::Config(a) if a.no_consistency);
    let ctx = Ctx::new(cli.global, shape)
        .naming(cli.command.named_services())
        .without_consistency(no_consistency);
    let name = cli.command.name();
    let reach = reach::reach(&cli.command);
    ctx.target()
        .refuse_command(name, reach.on_swarm, SWARM_VERBS)?;
    if ctx.global.dry_run && reach.dry_run == reach::DryRun::Refused {
        return Err(crate::exit::UsageError::new(format!(
            "--dry-run is not supported by `stackctl {name}` yet, and it would change things"
        ))
        .hint(format!(
            "--dry-run previews {}; drop it to run `{name}`",
            reach::PREVIEWING
        ))
        .into());
    }
    let ctx = &ctx;
    // Commands that only succeed or fail return (); those with a code of their own return it.
    let done = |r: Result<()>| r.map(|()| ExitCode::SUCCESS);
    match cli.command {
        Command::Config(args) => done(config::run(ctx, args)),
        Command::Up(args) => engine_cmds::up(ctx, args),
        Command::Down(args) => done(engine_cmds::down(ctx, args)),
        Command::Create(args) => done(engine_cmds::create(ctx, args)),
        Command::Volumes(args) => done(everyday::volumes(ctx, args)),
        Command::Export(args) => done(snapshot::export(ctx, args)),
        Command::Commit(args) => done(snapshot::commit(ctx, args)),
        Command::Ps(args) => done(ps::ps(ctx, args)),
        Command::Scale(args) => done(engine_cmds::scale(ctx, args)),
        Command::Build(args) => done(image_verbs::build(ctx, args)),
        Command::Pull(args) => done(image_verbs::pull(ctx, args)),
        Command::Push(args) => done(image_verbs::push(ctx, args)),
        Command::Logs(args) => done(logs::run(ctx, args)),
        Command::Exec(args) => session::exec(ctx, args),
        Command::Run(args) => session::run(ctx, args),
        Command::Restart(args) => done(everyday::restart(ctx, args)),
        Command::Stop(args) => done(everyday::stop(ctx, args)),
        Command::Start(args) => done(everyday::start(ctx, args)),
        Command::Cp(args) => done(cp::run(ctx, args)),
        Command::Stats(args) => done(stats::run(ctx, args)),
        Command::Attach(args) => session::attach(ctx, args),
        Command::Wait(args) => everyday::wait(ctx, args),
        Command::Pause(args) => done(everyday::pause(ctx, args, true)),
        Command::Unpause(args) => done(everyday::pause(ctx, args, false)),
        Command::Kill(args) => done(everyday::kill(ctx, args)),
        Command::Rm(args) => done(everyday::rm(ctx, args)),
        Command::Top(args) => done(everyday::top(ctx, args)),
        Command::Port(args) => done(everyday::port(ctx, args)),
        Command::Events(args) => done(everyday::events(ctx, args)),
        Command::Images(args) => done(listing::images(ctx, args)),
        Command::Ls(args) => done(listing::ls(ctx, args)),
        Command::Version(args) => done(listing::version(ctx, args)),
        Command::Completion(args) => done(everyday::completion(args)),
        Command::Man => done(everyday::man()),
        Command::Check(args) => check::run(ctx, args),
        Command::Watch(args) => watch::run(ctx, args),
        Command::Dashboard(args) => done(dashboard::run(ctx, args)),
        Command::Publish(args) => done(publish::run(ctx, args)),
        Command::Bridge(args) => done(bridge::run(ctx, args)),
        Command::Alpha(AlphaArgs {
            command: AlphaCommand::Viz(args),
        }) => done(viz::run(ctx, args)),
        Command::Alpha(AlphaArgs {
            command: AlphaCommand::Publish(args),
        }) => done(publish::run(ctx, args)),
        Command::Alpha(AlphaArgs {
            command: AlphaCommand::Generate(args),
        }) => done(generate::run(ctx, args)),
    }
}

/// With `--dry-run`, shows `changes` and returns true: the caller then changes nothing.
pub(crate) fn dry_run(ctx: &Ctx, changes: &[crate::engine::preview::Change]) -> Result<bool> {
    if !ctx.global.dry_run {
        return Ok(false);
    }
    crate::ui::out(crate::ui::preview::render(changes))?;
    Ok(true)
}

/// The changes of `action` on each of `objects`, for a preview.
pub(crate) fn changes(
    objects: impl IntoIterator<Item = String>,
    action: &'static str,
) -> Vec<crate::engine::preview::Change> {
    objects
        .into_iter()
        .map(|object| crate::engine::preview::Change {
            object,
            action,
            why: Vec::new(),
        })
        .collect()
}

/// Says once, on stderr, that compose's flags among `flags` (those given) are accepted and have
/// no effect here, so that a script written for compose runs unchanged and its reader knows.
pub(crate) fn note_unhonoured(flags: &[(bool, &str)]) {
    for (_, flag) in flags.iter().filter(|(given, _)| *given) {
        crate::ui::note(format!(
            "{flag} is accepted as compose accepts it; it changes nothing here"
        ));
    }
}

/// An exit code from a container's (or a check's) own code: 0 is success, anything outside
/// 1–255 still means failure.
pub fn exit_code(code: i64) -> ExitCode {
    match u8::try_from(code) {
        Ok(c) => ExitCode::from(c),
        Err(_) => ExitCode::FAILURE,
    }
}
