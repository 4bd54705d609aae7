//! What each command can do on each target and under `--dry-run`, decided in one exhaustive match:
//! a new command does not compile until it has been placed here.

use crate::cli::{
    AlphaArgs, AlphaCommand, BridgeArgs, BridgeCommand, Command, TransformationsCommand,
};

/// What `--dry-run` means for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DryRun {
    /// It says what it would change, and changes nothing.
    Previews,
    /// It changes nothing anyway, so the flag is harmless.
    ChangesNothing,
    /// It would change things and cannot preview them yet: the flag is refused.
    Refused,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Reach {
    /// It has work to do on a swarm (the others act on one engine's containers).
    pub on_swarm: bool,
    pub dry_run: DryRun,
}

/// The commands whose `on_swarm` is true, for advice when another is refused there.
pub const SWARM_VERBS: &[&str] = &[
    "config",
    "up",
    "down",
    "ps",
    "scale",
    "logs",
    "build",
    "push",
    "publish",
    "bridge",
    "alpha",
    "version",
    "completion",
    "man",
];

pub(super) fn reach(command: &Command) -> Reach {
    use DryRun::*;
    let (on_swarm, dry_run) = match command {
        Command::Config(_) => (true, ChangesNothing),
        Command::Up(_) => (true, Previews),
        Command::Down(_) => (true, Previews),
        Command::Scale(_) => (true, Previews),
        Command::Publish(_) => (true, Previews),
        Command::Bridge(BridgeArgs {
            command: BridgeCommand::Transformations(TransformationsCommand::List(_)),
        }) => (true, ChangesNothing),
        Command::Bridge(_) => (true, Previews),
        Command::Alpha(AlphaArgs {
            command: AlphaCommand::Viz(_) | AlphaCommand::Generate(_),
        }) => (true, ChangesNothing),
        Command::Alpha(_) => (true, Previews),
        Command::Ps(_) => (true, ChangesNothing),
        Command::Logs(_) => (true, ChangesNothing),
        Command::Version(_) => (true, ChangesNothing),
        Command::Completion(_) => (true, ChangesNothing),
        Command::Man => (true, ChangesNothing),
        Command::Build(_) => (true, Previews),
        Command::Push(_) => (true, Previews),
        Command::Create(_) => (false, Previews),
        Command::Restart(_) => (false, Previews),
        Command::Stop(_) => (false, Previews),
        Command::Start(_) => (false, Previews),
        Command::Pause(_) => (false, Previews),
        Command::Unpause(_) => (false, Previews),
        Command::Kill(_) => (false, Previews),
        Command::Rm(_) => (false, Previews),
        Command::Top(_) => (false, ChangesNothing),
        Command::Port(_) => (false, ChangesNothing),
        Command::Events(_) => (false, ChangesNothing),
        Command::Images(_) => (false, ChangesNothing),
        Command::Ls(_) => (false, ChangesNothing),
        Command::Export(_) => (false, ChangesNothing),
        Command::Volumes(_) => (false, ChangesNothing),
        Command::Stats(_) => (false, ChangesNothing),
        Command::Commit(_) => (false, Previews),
        Command::Pull(_) => (false, Previews),
        Command::Exec(_) => (false, Refused),
        Command::Run(_) => (false, Refused),
        Command::Cp(_) => (false, Previews),
        Command::Attach(_) => (false, Refused),
        Command::Wait(_) => (false, Previews),
        Command::Check(_) => (false, Refused),
        Command::Watch(_) => (false, Refused),
        Command::Dashboard(_) => (false, Refused),
    };
    Reach { on_swarm, dry_run }
}

/// The commands that preview under `--dry-run`, for advice when another refuses it.
pub(super) const PREVIEWING: &str = "up, create, down, scale, restart, stop, start, pause, unpause, kill, rm, build, pull, push, commit, cp, wait and publish";
