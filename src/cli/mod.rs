//! The command line: global options and subcommands, with flags named as docker compose names them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod alpha;
mod args;
mod bridge;
pub mod compat;
mod listing;
pub mod plugin;

pub use alpha::*;
pub use args::*;
pub use bridge::*;
pub use listing::*;

/// The docker compose release whose command line stackctl follows, flag for flag; `version`
/// reports it, so that tools which check compose's version accept stackctl.
pub const COMPOSE_VERSION: &str = "2.40.3";

#[derive(Debug, Parser)]
#[command(name = "stackctl", version, about = "Bring up a multi-container stack from a Compose manifest", long_about = None, args_override_self = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Manifest file(s), before the subcommand as in compose; later files override earlier ones
    /// [default: stack.yml, compose.yaml, …]
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Project name [default: the manifest's `name:`, else its folder's name]
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    pub project_name: Option<String>,
    /// Name containers as compose's compatibility mode does (`project_service_1`)
    #[arg(long, env = "COMPOSE_COMPATIBILITY", value_parser = clap::builder::FalseyValueParser::new())]
    pub compatibility: bool,
    /// Variables file(s) for interpolation, instead of the project's .env
    #[arg(
        long = "env-file",
        global = true,
        env = "COMPOSE_ENV_FILES",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub env_files: Vec<PathBuf>,
    /// Folder that relative paths start from [default: the first manifest's folder]
    #[arg(long = "project-directory", global = true, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Progress output: bars on a terminal, plain lines otherwise
    #[arg(long, global = true, value_enum, env = "COMPOSE_PROGRESS", default_value_t = Progress::Auto)]
    pub progress: Progress,
    /// Where the stack runs: containers on this daemon, or services on its swarm
    #[arg(long, global = true, value_enum, env = "STACKCTL_TARGET", default_value_t = Target::Local)]
    pub target: Target,
    /// Registry that Swarm nodes pull built images from (HOST:PORT)
    #[arg(
        long,
        global = true,
        env = "STACKCTL_REGISTRY",
        value_name = "HOST:PORT"
    )]
    pub registry: Option<String>,
    /// How many images to build or pull, and containers to create or start, at once (-1: no limit
    /// for images, 16 containers), as compose's `--parallel`
    #[arg(
        long,
        env = "COMPOSE_PARALLEL_LIMIT",
        default_value_t = -1,
        allow_negative_numbers = true,
        value_name = "N"
    )]
    pub parallel: i64,
    /// The docker context to use (as `docker --context`); default: DOCKER_CONTEXT, then the
    /// docker CLI's current context
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The daemon's address (unix://, tcp://, ssh://user@host), as `docker -H`
    #[arg(short = 'H', long, global = true, value_name = "ADDRESS")]
    pub host: Option<String>,
    /// Say more: the daemon and the API version in use. (`-v` stays free for `down -v`, as in compose.)
    #[arg(long, global = true)]
    pub verbose: bool,
    /// Show what would be created, recreated (and why), started, stopped and removed; change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Enable services of this profile (repeatable); replaces COMPOSE_PROFILES
    #[arg(long = "profile", global = true, value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Colours and cursor control: never, always, or when the output is a terminal
    #[arg(long, global = true, value_enum, env = "COMPOSE_ANSI", default_value_t = Ansi::Auto)]
    pub ansi: Ansi,
    /// Deprecated in compose: `--ansi never`
    #[arg(long, hide = true)]
    pub no_ansi: bool,
    /// Set when run as `docker compose` or `docker-compose` (see `plugin::invocation`): where
    /// output differs, it is compose's exactly, for the tools that parse it.
    #[arg(long, hide = true)]
    pub as_compose: bool,
    /// Registries to reach over plain HTTP for `-f oci://…` (compose's; the daemon's own
    /// settings decide for images)
    #[arg(long, hide = true, value_name = "REGISTRY")]
    pub insecure_registry: Vec<String>,
    /// Create every network and volume the manifest declares, used by a service or not
    #[arg(long, global = true)]
    pub all_resources: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ansi {
    Never,
    Always,
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Local,
    Swarm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    Auto,
    Tty,
    Plain,
    #[value(alias = "none")]
    Quiet,
    /// One JSON object a line on stderr: every step, with the daemon's timings for builds
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
    Table,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the resolved manifest: interpolated, merged, in long form
    #[command(after_help = "Example:\n  stackctl config --format json | jq .services")]
    Config(ConfigArgs),
    /// Create and start the stack, then follow its logs (or return with -d)
    #[command(
        after_help = "Examples:\n  stackctl up -d --wait\n  stackctl up --build flaskapp\n  stackctl up --exit-code-from tests   # run a test service against the stack, exit with its code"
    )]
    Up(UpArgs),
    /// Create the stack's containers (and networks, volumes, images) without starting them
    #[command(after_help = "Example:\n  stackctl create && stackctl start")]
    Create(CreateArgs),
    /// Write a replica's filesystem as a tar archive
    #[command(after_help = "Example:\n  stackctl export flaskapp -o flaskapp.tar")]
    Export(ExportArgs),
    /// Make an image of a replica's present state
    #[command(
        after_help = "Example:\n  stackctl commit flaskapp visitors/web:debug -m 'with the fix'"
    )]
    Commit(CommitArgs),
    /// List the stack's volumes
    #[command(after_help = "Example:\n  stackctl volumes --format json")]
    Volumes(VolumesArgs),
    /// Stop and remove the stack's containers and networks
    #[command(
        after_help = "Examples:\n  stackctl down\n  stackctl down -v   # also remove named volumes (data is lost)"
    )]
    Down(DownArgs),
    /// List the stack's containers
    #[command(after_help = "Example:\n  stackctl ps -a --format json")]
    Ps(PsArgs),
    /// Set the number of replicas of services
    #[command(after_help = "Example:\n  stackctl scale flaskapp=3")]
    Scale(ScaleArgs),
    /// Build the images of services that have `build:`
    #[command(after_help = "Example:\n  stackctl build --no-cache flaskapp")]
    Build(BuildArgs),
    /// Pull the images of services
    #[command(after_help = "Example:\n  stackctl pull redis")]
    Pull(PullArgs),
    /// Push the images of services that are built and name an `image:` (their registry's)
    #[command(after_help = "Example:\n  stackctl build && stackctl push flaskapp")]
    Push(PushArgs),
    /// Show the output of the stack's containers
    #[command(after_help = "Examples:\n  stackctl logs -f\n  stackctl logs --tail 20 flaskapp")]
    Logs(LogsArgs),
    /// Run a command in a running replica; its exit code becomes stackctl's
    #[command(
        after_help = "Examples:\n  stackctl exec redis redis-cli info\n  echo PING | stackctl exec -T redis redis-cli"
    )]
    Exec(ExecArgs),
    /// Run a one-off command in a new container of a service
    #[command(after_help = "Example:\n  stackctl run --rm flaskapp python3 -c 'print(1)'")]
    Run(RunArgs),
    /// Restart the containers of services
    #[command(after_help = "Example:\n  stackctl restart flaskapp")]
    Restart(RestartArgs),
    /// Stop the containers of services, keeping them
    #[command(after_help = "Example:\n  stackctl stop nginx")]
    Stop(ServicesTimeout),
    /// Start stopped containers of services
    #[command(after_help = "Example:\n  stackctl start nginx")]
    Start(StartArgs),
    /// Freeze the processes of services' running containers (cgroup freezer); they keep their state
    #[command(after_help = "Example:\n  stackctl pause flaskapp")]
    Pause(Services),
    /// Resume paused containers of services
    #[command(after_help = "Example:\n  stackctl unpause flaskapp")]
    Unpause(Services),
    /// Attach this terminal to a service's running container (its output from now on)
    #[command(after_help = "Example:\n  stackctl attach --index 2 flaskapp")]
    Attach(AttachArgs),
    /// CPU, memory, network and block I/O of running containers, refreshed every second
    #[command(
        after_help = "Examples:\n  stackctl stats\n  stackctl stats --no-stream --format json flaskapp"
    )]
    Stats(StatsArgs),
    /// Copy files or folders between a service's container and this machine
    #[command(
        after_help = "Examples:\n  stackctl cp flaskapp:/app/app.py ./app.py\n  stackctl cp ./nginx.conf nginx:/etc/nginx/conf.d/default.conf --all\n  stackctl cp db:/var/lib/postgresql/data - > data.tar   # a tar stream\n\nSERVICE:PATH names a path in the container (absolute); `-` is a tar stream on stdin or stdout."
    )]
    Cp(CpArgs),
    /// Wait until the containers of services stop; exit with the first non-zero code (0 if none)
    #[command(
        after_help = "Examples:\n  stackctl up -d && stackctl wait tests\n  stackctl wait --down-project migrate"
    )]
    Wait(WaitArgs),
    /// Send a signal to every replica of services. The engine treats a kill as a manual stop: the
    /// restart policy does not bring the containers back.
    #[command(after_help = "Example:\n  stackctl kill -s SIGHUP nginx")]
    Kill(KillArgs),
    /// Remove stopped containers of services
    #[command(after_help = "Example:\n  stackctl rm -s -f flaskapp")]
    Rm(RmArgs),
    /// The processes running in each container
    #[command(after_help = "Example:\n  stackctl top flaskapp")]
    Top(Services),
    /// The host address a container port is published on
    #[command(after_help = "Example:\n  stackctl port nginx 8080")]
    Port(PortArgs),
    /// Push the project's Compose files to a registry as an OCI artifact
    #[command(after_help = "Example:\n  stackctl publish localhost:5000/me/app:v1")]
    Publish(PublishArgs),
    /// Convert the project into another model (Kubernetes manifests, a Helm chart, …) with
    /// transformation images, as compose's `bridge`
    Bridge(BridgeArgs),
    /// compose's experimental commands: viz, publish
    #[command(hide = true)]
    Alpha(AlphaArgs),
    /// Bring the services up, then follow their `develop.watch` rules: sync, restart, exec, rebuild
    #[command(after_help = "Example:\n  stackctl watch web")]
    Watch(WatchArgs),
    /// The whole project in one live view: services, health, restarts, CPU and memory, and the
    /// merged log, with keys to scale, restart, stop, open a shell and bring it up again
    #[command(
        after_help = "Keys: ↑↓ select, Enter focus the log on a service, + and - scale, r restart, s stop/start,\n  e shell, o the published URLs, h health checks, u up again, / search the log, q quit.\nNot on a terminal, it prints `ps -a` and one `stats` sample instead.\n\nExample:\n  stackctl dashboard"
    )]
    Dashboard(DashboardArgs),
    /// The project's engine events as they happen
    #[command(after_help = "Example:\n  stackctl events --json")]
    Events(EventsArgs),
    /// The images the project uses, with sizes
    #[command(after_help = "Example:\n  stackctl images")]
    Images(ImagesArgs),
    /// Every project on this daemon, found by labels
    #[command(after_help = "Example:\n  stackctl ls --format json")]
    Ls(LsArgs),
    /// stackctl's version and the daemon's, with the API version in use
    #[command(after_help = "Example:\n  stackctl version")]
    Version(VersionArgs),
    /// Hold the running stack to the ten Container Commandments, with measured figures
    #[command(
        after_help = "Examples:\n  stackctl check\n  stackctl check --live --format json flaskapp"
    )]
    Check(CheckArgs),
    /// Shell completion script (service names come from the manifest)
    #[command(after_help = "Example:\n  source <(stackctl completion bash)")]
    Completion(CompletionArgs),
    /// Print the manual page (roff), made from the same definitions as --help
    #[command(after_help = "Example:\n  stackctl man > ~/.local/share/man/man1/stackctl.1")]
    Man,
}

impl Command {
    /// The services the command line names (those it acts on or runs in). `wait` is not among
    /// them: compose's `wait` reads the project with no service named.
    pub fn named_services(&self) -> Vec<String> {
        let one = |s: &String| vec![s.clone()];
        match self {
            Command::Up(a) => a.services.clone(),
            Command::Down(a) => a.services.clone(),
            Command::Create(a) => a.services.clone(),
            Command::Build(a) => a.services.clone(),
            Command::Pull(a) => a.services.clone(),
            Command::Push(a) => a.services.clone(),
            Command::Logs(a) => a.services.clone(),
            Command::Ps(a) => a.services.clone(),
            Command::Restart(a) => a.services.clone(),
            Command::Stop(a) => a.services.clone(),
            Command::Start(a) => a.services.clone(),
            Command::Pause(a) | Command::Unpause(a) | Command::Top(a) => a.services.clone(),
            Command::Kill(a) => a.services.clone(),
            Command::Rm(a) => a.services.clone(),
            Command::Watch(a) => a.services.clone(),
            Command::Images(a) => a.services.clone(),
            Command::Stats(a) => a.services.clone(),
            Command::Events(a) => a.services.clone(),
            Command::Volumes(a) => a.services.clone(),
            Command::Check(a) => a.services.clone(),
            Command::Run(a) => one(&a.service),
            Command::Exec(a) => one(&a.service),
            Command::Attach(a) => one(&a.service),
            Command::Port(a) => one(&a.service),
            Command::Export(a) => one(&a.service),
            Command::Commit(a) => one(&a.service),
            Command::Scale(a) => a
                .pairs
                .iter()
                .filter_map(|p| p.split_once('=').map(|(s, _)| s.to_owned()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The subcommand as typed (`up`, `logs`, ...), for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Config(_) => "config",
            Command::Up(_) => "up",
            Command::Down(_) => "down",
            Command::Create(_) => "create",
            Command::Volumes(_) => "volumes",
            Command::Export(_) => "export",
            Command::Commit(_) => "commit",
            Command::Ps(_) => "ps",
            Command::Scale(_) => "scale",
            Command::Build(_) => "build",
            Command::Pull(_) => "pull",
            Command::Push(_) => "push",
            Command::Logs(_) => "logs",
            Command::Exec(_) => "exec",
            Command::Run(_) => "run",
            Command::Restart(_) => "restart",
            Command::Stop(_) => "stop",
            Command::Start(_) => "start",
            Command::Pause(_) => "pause",
            Command::Unpause(_) => "unpause",
            Command::Attach(_) => "attach",
            Command::Stats(_) => "stats",
            Command::Cp(_) => "cp",
            Command::Wait(_) => "wait",
            Command::Kill(_) => "kill",
            Command::Rm(_) => "rm",
            Command::Top(_) => "top",
            Command::Port(_) => "port",
            Command::Events(_) => "events",
            Command::Watch(_) => "watch",
            Command::Dashboard(_) => "dashboard",
            Command::Publish(_) => "publish",
            Command::Bridge(_) => "bridge",
            Command::Alpha(_) => "alpha",
            Command::Images(_) => "images",
            Command::Ls(_) => "ls",
            Command::Version(_) => "version",
            Command::Check(_) => "check",
            Command::Completion(_) => "completion",
            Command::Man => "man",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
