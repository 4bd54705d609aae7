//! `develop.watch`: what `stackctl watch` does when files under a path change — copy them into the
//! running containers, restart them, run a command in them, or rebuild the service.

use serde::{Deserialize, Serialize};

use super::Hook;
use super::de::*;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Develop {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watch: Vec<WatchRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchRule {
    /// A file or folder, relative to the project folder.
    pub path: String,
    pub action: WatchAction,
    /// Where `path` lands in the container (the sync actions).
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub target: Option<String>,
    /// Patterns, relative to `path`, of changes that do nothing (.dockerignore's syntax).
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ignore: Vec<String>,
    /// Patterns, relative to `path`: when given, only changes they match count.
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub include: Vec<String>,
    /// Sync the whole path once when watching begins.
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub initial_sync: Option<bool>,
    /// The command `sync+exec` runs after each sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<Hook>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatchAction {
    #[serde(rename = "sync")]
    Sync,
    #[serde(rename = "sync+restart")]
    SyncRestart,
    #[serde(rename = "sync+exec")]
    SyncExec,
    #[serde(rename = "rebuild")]
    Rebuild,
    #[serde(rename = "restart")]
    Restart,
}

impl WatchAction {
    pub fn syncs(self) -> bool {
        matches!(self, Self::Sync | Self::SyncRestart | Self::SyncExec)
    }
}
