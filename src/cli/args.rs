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
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub sig_proxy: bool,
    /// Keys that detach (compose's; stackctl detaches with Ctrl-C under --sig-proxy=false)
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
}

#[derive(Debug, Args)]
pub struct CpArgs {
    /// SERVICE:PATH, a local path, or - (a tar stream on stdin)
    pub source: String,
    /// SERVICE:PATH, a local path, or - (a tar stream on stdout)
    pub destination: String,
    /// The replica to copy from or to [default: into every replica, out of the first]
    #[arg(long, value_name = "N")]
    pub index: Option<u32>,
    /// Include the service's one-off containers (made by `run`), as compose does
    #[arg(long)]
    pub all: bool,
    /// Copied in, the files belong to the container's user (without it, they keep their uid/gid)
    #[arg(short = 'a', long)]
    pub archive: bool,
    /// Follow a symbolic link given as the source (copy what it leads to, under its name)
    #[arg(short = 'L', long)]
    pub follow_link: bool,
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
    #[arg(short = 'T', long = "no-tty", alias = "no-TTY")]
    pub no_tty: bool,
    /// Run the command in the background and return at once
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Give the command extended privileges
    #[arg(long)]
    pub privileged: bool,
    /// Keep stdin open (compose's default; `-i=false` closes it)
    #[arg(short = 'i', long, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, hide = true)]
    pub interactive: bool,
    /// Allocate a terminal (compose's default when there is one; `-t=false` is `-T`)
    #[arg(short = 't', long, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, hide = true)]
    pub tty: bool,
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
    /// Environment variables from a file (repeatable)
    #[arg(long, value_name = "FILE")]
    pub env_from_file: Vec<std::path::PathBuf>,
    /// Do not start the service's dependencies
    #[arg(long)]
    pub no_deps: bool,
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Do not allocate a terminal (automatic when stdin is not one)
    #[arg(short = 'T', long = "no-tty", alias = "no-TTY", conflicts_with = "tty")]
    pub no_tty: bool,
    /// Allocate a terminal (the default when there is one)
    #[arg(short = 't', long, hide = true)]
    pub tty: bool,
    /// Keep stdin open (the default; `-i=false` closes it)
    #[arg(short = 'i', long, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub interactive: bool,
    /// Run in the background and print the container's ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// The container's name [default: PROJECT-SERVICE-run-ID]
    #[arg(long)]
    pub name: Option<String>,
    /// Publish a port (HOST:CONTAINER, as `ports:` writes it; repeatable)
    #[arg(
        short = 'p',
        long,
        value_name = "PORT",
        conflicts_with = "service_ports"
    )]
    pub publish: Vec<String>,
    /// Publish the service's own `ports:`
    #[arg(short = 'P', long)]
    pub service_ports: bool,
    /// Bind mount or volume (as `volumes:` writes it; repeatable)
    #[arg(short = 'v', long, alias = "volumes", value_name = "VOLUME")]
    pub volume: Vec<String>,
    /// Run as this user (name or uid[:gid])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Add or override a label (KEY=VALUE; repeatable)
    #[arg(short = 'l', long, alias = "labels", value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Add a Linux capability
    #[arg(long, value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a Linux capability
    #[arg(long, value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Join the service's network aliases on its networks
    #[arg(long)]
    pub use_aliases: bool,
    /// Build the image first
    #[arg(long)]
    pub build: bool,
    /// Pull the image first: always, missing, never, build, policy
    #[arg(long, value_enum, value_name = "POLICY")]
    pub pull: Option<PullPolicy>,
    /// Say nothing of pulling and building
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(long)]
    pub quiet_pull: bool,
    #[arg(long)]
    pub quiet_build: bool,
    /// Remove containers of services no longer in the manifest
    #[arg(long, env = "COMPOSE_REMOVE_ORPHANS", value_parser = clap::builder::FalseyValueParser::new())]
    pub remove_orphans: bool,
    pub service: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    #[arg(short = 's', long, default_value = "SIGKILL")]
    pub signal: String,
    /// Also kill containers of services no longer in the manifest
    #[arg(long, env = "COMPOSE_REMOVE_ORPHANS", value_parser = clap::builder::FalseyValueParser::new())]
    pub remove_orphans: bool,
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
    /// Deprecated in compose, without effect
    #[arg(short = 'a', long, hide = true)]
    pub all: bool,
    pub services: Vec<String>,
    /// With -s: seconds to wait before killing (not one of rm's flags in compose; down's)
    #[arg(skip)]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct PortArgs {
    pub service: String,
    pub private_port: u16,
    /// Which replica (0, compose's default, is the first)
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Follow the rules without bringing the services up first
    #[arg(long)]
    pub no_up: bool,
    /// Remove the dangling images a rebuild leaves (the default; `--prune=false` keeps them)
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub prune: bool,
    /// Say nothing of the builds
    #[arg(long)]
    pub quiet: bool,
    /// Services whose rules to follow (default: every service that has some)
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    pub services: Vec<String>,
    /// Seconds to wait before killing [default: the service's stop_grace_period]
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Restart only the named services, not the services that depend on them
    #[arg(long)]
    pub no_deps: bool,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    pub services: Vec<String>,
    /// Return once the services are running and healthy
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullPolicy {
    #[value(alias = "if_not_present")]
    Missing,
    Always,
    Never,
    /// Build the images instead of pulling them
    Build,
    /// The service's own `pull_policy` (the default)
    Policy,
}

#[derive(Debug, Args, Default)]
pub struct UpArgs {
    /// Services to start (with their dependencies) [default: all]
    pub services: Vec<String>,
    /// Return once started instead of following logs
    #[arg(short, long)]
    pub detach: bool,
    /// Wait until every service is running and healthy (implies -d). Unlike compose, a service
    /// without a restart policy that exits 0 counts as done; one that exits otherwise fails
    /// `--wait` with its code
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    /// Then follow the services' `develop.watch` rules, as `stackctl watch` does
    #[arg(short = 'w', long, conflicts_with_all = ["no_start", "detach", "wait"])]
    pub watch: bool,
    /// Stop the stack when a container exits with a failure, and exit with its code
    #[arg(long, conflicts_with_all = ["detach", "wait", "abort_on_container_exit"])]
    pub abort_on_container_failure: bool,
    /// Show the output of the named services' dependencies too
    #[arg(long, conflicts_with_all = ["detach", "wait", "attach"])]
    pub attach_dependencies: bool,
    /// Recreate the dependencies of recreated services too
    #[arg(long, conflicts_with = "no_recreate")]
    pub always_recreate_deps: bool,
    /// Recreate anonymous volumes instead of keeping their data
    #[arg(short = 'V', long, conflicts_with = "no_recreate")]
    pub renew_anon_volumes: bool,
    /// Say nothing of building
    #[arg(long)]
    pub quiet_build: bool,
    /// compose's key menu for attached `up`
    #[arg(long, env = "COMPOSE_MENU", value_parser = clap::builder::FalseyValueParser::new())]
    pub menu: bool,
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
    /// Only these services' containers (networks and volumes stay)
    pub services: Vec<String>,
    /// Also remove the named volumes declared in the manifest (their data is lost)
    #[arg(short = 'v', long, alias = "volume")]
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
    /// Build what the named services depend on too
    #[arg(long)]
    pub with_dependencies: bool,
    /// A build argument (KEY=VALUE, or KEY to take it from the environment; repeatable)
    #[arg(long, value_name = "KEY=VALUE")]
    pub build_arg: Vec<String>,
    /// Push the built images
    #[arg(long)]
    pub push: bool,
    /// Say nothing but errors
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// SSH agent sockets or keys for the build (`default` or ID=PATH)
    #[arg(long, value_name = "SSH")]
    pub ssh: Option<String>,
    /// compose's buildx builder (stackctl builds through the daemon)
    #[arg(long)]
    pub builder: Option<String>,
    /// Check the build configuration without building
    #[arg(long)]
    pub check: bool,
    /// Memory limit for the build's containers
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Print the buildx bake file compose would use, without building
    #[arg(long)]
    pub print: bool,
    /// Attestations compose asks buildx for
    #[arg(long)]
    pub provenance: Option<String>,
    #[arg(long)]
    pub sbom: Option<String>,
    #[arg(long, hide = true, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub compress: bool,
    #[arg(long, hide = true, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub force_rm: bool,
    #[arg(long, hide = true)]
    pub no_rm: bool,
    #[arg(long = "parallel", hide = true)]
    pub parallel_deprecated: bool,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    pub services: Vec<String>,
    /// Push the images of the named services' dependencies too
    #[arg(long)]
    pub include_deps: bool,
    /// Say nothing but errors
    #[arg(short = 'q', long)]
    pub quiet: bool,
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
    /// missing or always (compose's spelling of --missing)
    #[arg(long, value_parser = ["missing", "always"])]
    pub policy: Option<String>,
    /// Go on with the other images when one fails to pull
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Pull the images of the named services' dependencies too
    #[arg(long)]
    pub include_deps: bool,
    /// Skip the services that have `build:`
    #[arg(long)]
    pub ignore_buildable: bool,
    /// Say nothing but errors
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(long = "parallel", hide = true)]
    pub parallel_deprecated: bool,
    #[arg(long, hide = true)]
    pub no_parallel: bool,
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
    /// Say nothing of pulling
    #[arg(long)]
    pub quiet_pull: bool,
    /// Answer yes to every question (stackctl asks none)
    #[arg(short = 'y', long, alias = "y")]
    pub yes: bool,
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
    /// Publish as an application (compose's; stackctl publishes the files either way)
    #[arg(long)]
    pub app: bool,
    /// OCI image-spec version of the artifact (1.0 or 1.1)
    #[arg(long, value_name = "VERSION")]
    pub oci_version: Option<String>,
    /// Pin every image to its digest in what is published
    #[arg(long)]
    pub resolve_image_digests: bool,
    /// Publish the environment files too
    #[arg(long)]
    pub with_env: bool,
    /// Answer yes to every question (stackctl asks none)
    #[arg(short = 'y', long, alias = "y")]
    pub yes: bool,
    #[arg(long, hide = true)]
    pub insecure_registry: bool,
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
    #[arg(short = 'p', long, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub pause: bool,
}
