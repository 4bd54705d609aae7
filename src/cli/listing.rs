//! The arguments of the commands that show the project rather than change it: `ps`, `ls`,
//! `images`, `config`, `logs`, `events`, `stats`, `version`, flag for flag as compose names them.

use clap::Args;

use super::Format;

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Only these services (and what they depend on)
    pub service_names: Vec<String>,
    /// Output format: yaml (the default) or json; `--variables` prints a table unless one is given
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Keep `${VAR}` as written
    #[arg(long)]
    pub no_interpolate: bool,
    /// Print the files merged, without compose's normalisation
    #[arg(long)]
    pub no_normalize: bool,
    /// Keep relative paths as written
    #[arg(long)]
    pub no_path_resolution: bool,
    /// Skip the consistency checks
    #[arg(long)]
    pub no_consistency: bool,
    /// Keep `environment:` entries without a value unresolved
    #[arg(long)]
    pub no_env_resolution: bool,
    /// Print only the network names
    #[arg(long)]
    pub networks: bool,
    /// Print only the profile names
    #[arg(long = "profiles")]
    pub list_profiles: bool,
    /// Print only the model names
    #[arg(long)]
    pub models: bool,
    /// Print the services' config hashes (`*` for all, or SERVICE,SERVICE)
    #[arg(long, value_name = "SERVICES")]
    pub hash: Option<String>,
    /// Print the variables the files use, with their defaults
    #[arg(long)]
    pub variables: bool,
    /// Print the environment used for interpolation
    #[arg(long)]
    pub environment: bool,
    /// Pin every image to its digest
    #[arg(long)]
    pub resolve_image_digests: bool,
    /// Print an override file that pins every image to its digest
    #[arg(long)]
    pub lock_image_digests: bool,
    /// Write to this file instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
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

#[derive(Debug, Args)]
pub struct PsArgs {
    pub services: Vec<String>,
    /// Include stopped containers
    #[arg(short, long)]
    pub all: bool,
    /// table, json (one object per line, as compose prints it), yaml, or a Go-style template
    /// such as `{{.Name}} {{.State}}`
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only container IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Only the service names
    #[arg(long = "services")]
    pub services_only: bool,
    /// Only containers in these states (running, exited, paused, restarting, created, dead,
    /// removing); implies -a
    #[arg(long, value_name = "STATE")]
    pub status: Vec<String>,
    /// `status=STATE` (repeatable)
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Full IDs and commands
    #[arg(long)]
    pub no_trunc: bool,
    /// Containers of services no longer in the manifest too (the default)
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub orphans: bool,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// table, json, or a Go-style template such as `{{.Name}}`
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Projects with no running container too
    #[arg(short, long)]
    pub all: bool,
    /// Project names only
    #[arg(short, long)]
    pub quiet: bool,
    /// `name=NAME` (repeatable)
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    pub services: Vec<String>,
    /// table, json, or a Go-style template
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Image IDs only
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// The compose version only (`2.40.3`), as `docker compose version --short`
    #[arg(long)]
    pub short: bool,
    /// pretty or json
    #[arg(short = 'f', long, default_value = "pretty")]
    pub format: String,
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
    /// Stopped containers too (they show no figures)
    #[arg(short, long)]
    pub all: bool,
    /// Full container IDs
    #[arg(long)]
    pub no_trunc: bool,
}

#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// Lines of each container's log to start with
    #[arg(long, default_value_t = 50)]
    pub tail: u32,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// One JSON object per event
    #[arg(long)]
    pub json: bool,
    /// Events since this time (RFC 3339, a Unix time, or relative such as 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Events until this time, then exit
    #[arg(long)]
    pub until: Option<String>,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    pub services: Vec<String>,
    /// Keep following new output
    #[arg(short, long)]
    pub follow: bool,
    /// Lines from the end of each container's log, or `all`
    #[arg(short = 'n', long, default_value = "all", allow_hyphen_values = true)]
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
