//! `bridge`: compose's converter of a project into another model (Kubernetes manifests, a Helm
//! chart, anything a transformation image writes), with its flags as compose spells them.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct BridgeArgs {
    #[command(subcommand)]
    pub command: BridgeCommand,
}

#[derive(Debug, Subcommand)]
pub enum BridgeCommand {
    /// Convert the project into another model by running transformation images over it
    #[command(
        after_help = "The resolved project is given to each image as /in/compose.yaml; what it writes to /out\nlands in the output folder.\n\nExample:\n  stackctl bridge convert -t my/transformer -o k8s"
    )]
    Convert(ConvertArgs),
    /// Manage transformation images
    #[command(subcommand)]
    Transformations(TransformationsCommand),
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The folder the transformations write to (replaced when an earlier convert made it)
    #[arg(short, long, default_value = "out", value_name = "DIR")]
    pub output: PathBuf,
    /// A transformation image to run (repeatable, in order) [default: docker/compose-bridge-kubernetes]
    #[arg(short, long = "transformation", value_name = "IMAGE")]
    pub transformations: Vec<String>,
    /// A folder of templates given to the transformations as /templates
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TransformationsCommand {
    /// The transformation images on this daemon
    #[command(visible_alias = "ls")]
    List(TransformationsListArgs),
    /// Start a transformation of your own from an existing one's templates
    #[command(
        after_help = "Example:\n  stackctl bridge transformations create -f my/base ./my-transformer"
    )]
    Create(TransformationsCreateArgs),
}

#[derive(Debug, Args)]
pub struct TransformationsListArgs {
    /// table or json
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Image names only
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct TransformationsCreateArgs {
    /// The folder to create, with the templates and a Dockerfile
    pub path: PathBuf,
    /// The transformation image whose templates to start from [default: docker/compose-bridge-kubernetes]
    #[arg(short, long, value_name = "IMAGE")]
    pub from: Option<String>,
}
