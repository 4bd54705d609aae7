//! `alpha`: compose's experimental commands, hidden from help as compose hides them.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::PublishArgs;

#[derive(Debug, Args)]
pub struct AlphaArgs {
    #[command(subcommand)]
    pub command: AlphaCommand,
}

#[derive(Debug, Subcommand)]
pub enum AlphaCommand {
    /// The services and what they depend on as a Graphviz graph (`| dot -Tsvg > stack.svg`)
    Viz(VizArgs),
    /// The same as `publish`
    Publish(PublishArgs),
    /// A Compose file for existing containers (by name or ID), printed
    #[command(
        after_help = "Example:\n  stackctl alpha generate --name shop web-1 db-1 > compose.yaml"
    )]
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Containers, by name or ID
    pub containers: Vec<String>,
    /// The project name to write in the file
    #[arg(long)]
    pub name: Option<String>,
    /// The project's folder (compose takes it; the file names none)
    #[arg(long, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,
    /// yaml or json
    #[arg(long, default_value = "yaml")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct VizArgs {
    /// Show each service's published ports
    #[arg(long)]
    pub ports: bool,
    /// Show each service's networks
    #[arg(long)]
    pub networks: bool,
    /// Show each service's image
    #[arg(long)]
    pub image: bool,
    /// How many tabs (or spaces) indent a line
    #[arg(
        long,
        default_value_t = 1,
        allow_negative_numbers = true,
        value_name = "N"
    )]
    pub indentation_size: i64,
    /// Indent with spaces instead of tabs
    #[arg(long)]
    pub spaces: bool,
}
