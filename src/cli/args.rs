//! The subcommands' own arguments, flag for flag as docker compose names them.

use clap::{Args, ValueEnum};

use super::Format;

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
pub struct WatchArgs {
    /// Follow the rules without bringing the services up first
    #[arg(long)]
    pub no_up: bool,
    /// Services whose rules to follow (default: every service that has some)
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

#[derive(Debug, Args, Default)]
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
    /// Then follow the services' `develop.watch` rules, as `stackctl watch` does
    #[arg(long, conflicts_with = "no_start")]
    pub watch: bool,
    #[command(flatten)]
    pub create: CreateFlags,
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
    #[arg(long, env = "COMPOSE_REMOVE_ORPHANS", value_parser = clap::builder::FalseyValueParser::new())]
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

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Services to create (and, unless --no-deps, their dependencies)
    pub services: Vec<String>,
    #[command(flatten)]
    pub create: CreateFlags,
}

/// What `up` and `create` share: how images and existing containers are treated.
#[derive(Debug, Args, Default, Clone)]
pub struct CreateFlags {
    /// Build images first
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
    #[arg(long, env = "COMPOSE_REMOVE_ORPHANS", value_parser = clap::builder::FalseyValueParser::new())]
    pub remove_orphans: bool,
    /// Replicas for a service, overriding the manifest (SERVICE=N)
    #[arg(long, value_name = "SERVICE=N")]
    pub scale: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VolumesArgs {
    /// Volumes of these services only
    pub services: Vec<String>,
    /// Names only
    #[arg(short, long)]
    pub quiet: bool,
    /// table or json
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub service: String,
    /// Which replica
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Write the tar archive to this file instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Where to push: REGISTRY/REPOSITORY[:TAG]
    pub repository: String,
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    pub service: String,
    /// The new image's name, REPOSITORY[:TAG]
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
    /// Which replica
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Commit message
    #[arg(short, long)]
    pub message: Option<String>,
    /// Author (e.g. "Jane Doe <jane@example.com>")
    #[arg(short, long)]
    pub author: Option<String>,
    /// A Dockerfile instruction to apply to the image (repeatable), e.g. -c 'ENV MODE=prod'
    #[arg(short, long, value_name = "INSTRUCTION")]
    pub change: Vec<String>,
    /// Pause the container while committing (--pause=false to leave it running)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub pause: bool,
}
