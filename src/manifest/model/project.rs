//! The whole project as loaded, and what one file holds at its top level before merging.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use super::*;

/// A whole project: every file merged, interpolated and normalised.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Project {
    pub name: String,
    /// Containers named `project_service_1`, as compose's `--compatibility` names them.
    #[serde(skip)]
    pub compatibility: bool,
    #[serde(skip)]
    pub working_dir: PathBuf,
    #[serde(skip)]
    pub config_files: Vec<PathBuf>,
    /// The services left out because none of their profiles is active, with those profiles:
    /// naming one on the command line activates them, as in compose.
    #[serde(skip)]
    pub disabled_services: BTreeMap<String, Vec<String>>,
    pub services: BTreeMap<String, Service>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, NetworkDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, VolumeDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, ConfigDef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, ModelDef>,
    /// The files' top-level `x-` entries, printed by `config` as compose prints them.
    #[serde(flatten)]
    pub extensions: BTreeMap<String, serde_yaml::Value>,
}

/// What one file holds at top level, before merging.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTop {
    #[serde(default)]
    pub version: Option<Value>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub services: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub networks: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub secrets: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub configs: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub models: Option<BTreeMap<String, Value>>,
    /// Other Compose files whose resources join this project (read by load/include.rs).
    #[serde(default)]
    pub include: Option<Value>,
}
