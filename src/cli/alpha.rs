//! `alpha`: compose's experimental commands, hidden from help as compose hides them.

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
