//! Lifecycle hooks: commands run inside a service's containers right after each start
//! (`post_start`) and right before each stop (`pre_stop`), and containers of their own run to
//! completion before the service's first replica starts (`pre_start`, compose v5.3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::*;

/// A hook. `image` and `per_replica` are `pre_start`'s only: its hooks are containers of their own
/// (the service's image unless `image` names another).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub image: Option<String>,
    /// Once per replica (not supported yet, as in compose) or once per service (the default).
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub per_replica: Option<bool>,
    #[serde(
        default,
        deserialize_with = "command_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub command: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub user: Option<String>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub privileged: Option<bool>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub working_dir: Option<String>,
    #[serde(
        default,
        deserialize_with = "env_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub environment: BTreeMap<String, Option<String>>,
}
