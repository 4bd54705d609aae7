//! The command line: global options and subcommands, with flags named as docker compose names them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "stackctl", version, about = "Bring up a multi-container stack from a Compose manifest", long_about = None)]
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
    #[arg(short = 'p', long = "project-name", global = true, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Variables file(s) for interpolation, instead of the project's .env
    #[arg(long = "env-file", global = true, value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Folder that relative paths start from [default: the first manifest's folder]
    #[arg(long = "project-directory", global = true, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Progress output: bars on a terminal, plain lines otherwise
    #[arg(long, global = true, value_enum, default_value_t = Progress::Auto)]
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
        global = true,
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
    Restart(ServicesTimeout),
    /// Stop the containers of services, keeping them
    #[command(after_help = "Example:\n  stackctl stop nginx")]
    Stop(ServicesTimeout),
    /// Start stopped containers of services
    #[command(after_help = "Example:\n  stackctl start nginx")]
    Start(Services),
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
    /// The project's engine events as they happen
    #[command(after_help = "Example:\n  stackctl events --json")]
    Events(EventsArgs),
    /// The images the project uses, with sizes
    #[command(after_help = "Example:\n  stackctl images")]
    Images(Services),
    /// Every project on this daemon, found by labels
    #[command(after_help = "Example:\n  stackctl ls --format json")]
    Ls(LsArgs),
    /// stackctl's version and the daemon's, with the API version in use
    #[command(after_help = "Example:\n  stackctl version")]
    Version,
    /// Hold the running stack to the ten Container Commandments, with measured figures
    #[command(
        after_help = "Examples:\n  stackctl check\n  stackctl check --live --format json flaskapp"
    )]
    Check(CheckArgs),
    /// Shell completion script (service names come from the manifest)
    #[command(after_help = "Example:\n  source <(stackctl completion bash)")]
    Completion(CompletionArgs),
}

impl Command {
    /// The subcommand as typed (`up`, `logs`, ...), for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Config(_) => "config",
            Command::Up(_) => "up",
            Command::Down(_) => "down",
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
            Command::Images(_) => "images",
            Command::Ls(_) => "ls",
            Command::Version => "version",
            Command::Check(_) => "check",
            Command::Completion(_) => "completion",
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    pub services: Vec<String>,
    /// Also stop one replica of each service to time its shutdown, then start it again
    #[arg(long)]
    pub live: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct Services {
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    pub service: String,
    /// The replica to attach to
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Do not pass this terminal's input on (it is passed only to services with `stdin_open: true`)
    #[arg(long)]
    pub no_stdin: bool,
    /// Pass Ctrl-C on to the container as SIGINT; with `--sig-proxy=false` Ctrl-C detaches
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub sig_proxy: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    pub services: Vec<String>,
    /// One sample, then exit
    #[arg(long)]
    pub no_stream: bool,
    /// `json`: one object per container and line
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CpArgs {
    /// SERVICE:PATH, a local path, or - (a tar stream on stdin)
    pub source: String,
    /// SERVICE:PATH, a local path, or - (a tar stream on stdout)
    pub destination: String,
    /// The replica to copy from or to
    #[arg(long, default_value_t = 1, conflicts_with = "all")]
    pub index: u32,
    /// Copy into every replica of the service
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Services whose containers to wait for [default: all]
    pub services: Vec<String>,
    /// Take the whole project down (as `down`) as soon as the first container stops
    #[arg(long)]
    pub down_project: bool,
}

#[derive(Debug, Args)]
pub struct ServicesTimeout {
    pub services: Vec<String>,
    /// Seconds to wait before killing [default: the service's stop_grace_period]
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Do not allocate a terminal (automatic when stdin is not one)
    #[arg(short = 'T', long = "no-tty")]
    pub no_tty: bool,
    /// Which replica [default: 1]
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Extra environment variables (KEY=VALUE)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    pub service: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Do not start the service's dependencies
    #[arg(long)]
    pub no_deps: bool,
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Do not allocate a terminal (automatic when stdin is not one)
    #[arg(short = 'T', long = "no-tty")]
    pub no_tty: bool,
    pub service: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    #[arg(short = 's', long, default_value = "SIGKILL")]
    pub signal: String,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Do not ask (stackctl never asks; accepted for compose habits)
    #[arg(short, long)]
    pub force: bool,
    /// Stop the containers first
    #[arg(short, long)]
    pub stop: bool,
    /// Also remove anonymous volumes
    #[arg(short, long)]
    pub volumes: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PortArgs {
    pub service: String,
    pub private_port: u16,
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// One JSON object per event
    #[arg(long)]
    pub json: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Print only the service names
    #[arg(long)]
    pub services: bool,
    /// Print only the named volumes
    #[arg(long)]
    pub volumes: bool,
    /// Print only the image of each service, one per line (built ones under their tag)
    #[arg(long)]
    pub images: bool,
    /// Only check the manifest; print nothing when it is valid
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullPolicy {
    Missing,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Services to start (with their dependencies) [default: all]
    pub services: Vec<String>,
    /// Return once started instead of following logs
    #[arg(short, long)]
    pub detach: bool,
    /// Wait until every service is running and healthy (implies -d)
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    /// Build images before starting
    #[arg(long, conflicts_with = "no_build")]
    pub build: bool,
    /// Never build; fail if an image is missing
    #[arg(long)]
    pub no_build: bool,
    #[arg(long, value_enum, value_name = "POLICY")]
    pub pull: Option<PullPolicy>,
    /// Recreate containers even when nothing changed
    #[arg(long, conflicts_with = "no_recreate")]
    pub force_recreate: bool,
    /// Keep existing containers even when their configuration changed
    #[arg(long)]
    pub no_recreate: bool,
    /// Remove containers of services no longer in the manifest
    #[arg(long)]
    pub remove_orphans: bool,
    /// Replicas for a service, overriding the manifest (SERVICE=N)
    #[arg(long, value_name = "SERVICE=N")]
    pub scale: Vec<String>,
    /// Seconds to wait for containers to stop when interrupted
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Start only the named services, not what they depend on
    #[arg(long, requires = "services")]
    pub no_deps: bool,
    /// Create the containers (and networks, volumes, images) without starting them
    #[arg(long, conflicts_with_all = ["wait", "abort_on_container_exit", "exit_code_from"])]
    pub no_start: bool,
    /// Stop the stack when any of its containers stops, and exit with that container's code
    #[arg(long, conflicts_with_all = ["detach", "wait"])]
    pub abort_on_container_exit: bool,
    /// Exit with the code of this service's container (implies --abort-on-container-exit)
    #[arg(long, value_name = "SERVICE", conflicts_with_all = ["detach", "wait"])]
    pub exit_code_from: Option<String>,
    /// Show only these services' output [default: every started service]
    #[arg(long, value_name = "SERVICE", value_delimiter = ',')]
    pub attach: Vec<String>,
    /// Hide these services' output (they still run, and still count for --abort-on-container-exit)
    #[arg(long, value_name = "SERVICE", value_delimiter = ',')]
    pub no_attach: Vec<String>,
    /// Plain prefixes, without colour
    #[arg(long)]
    pub no_color: bool,
    /// Lines without the `container | ` prefix
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Show the daemon's timestamp before each line
    #[arg(long)]
    pub timestamps: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also remove the named volumes declared in the manifest (their data is lost)
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Also remove images: `local` (built by this project) or `all`
    #[arg(long, value_name = "TYPE", value_parser = ["local", "all"])]
    pub rmi: Option<String>,
    /// Remove containers of services no longer in the manifest
    #[arg(long)]
    pub remove_orphans: bool,
    /// Seconds to wait for each container to stop before killing it [default: its stop_grace_period]
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    pub services: Vec<String>,
    /// Include stopped containers
    #[arg(short, long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only container IDs
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// SERVICE=N pairs
    #[arg(required = true, value_name = "SERVICE=N")]
    pub pairs: Vec<String>,
    /// Do not start dependencies that are not running
    #[arg(long)]
    pub no_deps: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    pub services: Vec<String>,
    /// Build without the layer cache
    #[arg(long)]
    pub no_cache: bool,
    /// Pull newer versions of base images
    #[arg(long)]
    pub pull: bool,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    pub services: Vec<String>,
    /// Go on with the other images when one fails to push (exit 1 at the end all the same)
    #[arg(long)]
    pub ignore_push_failures: bool,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    pub services: Vec<String>,
    /// Pull only images that are not present
    #[arg(long)]
    pub missing: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    pub services: Vec<String>,
    /// Keep following new output
    #[arg(short, long)]
    pub follow: bool,
    /// Lines from the end of each container's log, or `all`
    #[arg(long, default_value = "all", allow_hyphen_values = true)]
    pub tail: String,
    /// Show the daemon's timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    #[arg(long)]
    pub no_color: bool,
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Print all containers' lines in the daemon's timestamp order (with -f: within a short window)
    #[arg(long)]
    pub merge_time: bool,
    /// Only replica N
    #[arg(long, value_name = "N")]
    pub index: Option<u32>,
    /// Only lines since this time (RFC 3339 or relative such as 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Only lines until this time (RFC 3339 or relative such as 10m)
    #[arg(long)]
    pub until: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
