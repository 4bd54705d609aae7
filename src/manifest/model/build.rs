//! A service's `build:` section: the Compose keys that say how its image is built.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::*;
use super::{Isolation, ServiceSecret, Ulimit};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub context: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(
        default,
        deserialize_with = "env_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    /// `KEY` without a value takes the variable of that name; the loader fills it in, or drops
    /// the key when there is none (as compose does).
    pub args: BTreeMap<String, Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// The Dockerfile's text, in place of a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile_inline: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cache_from: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cache_to: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub network: Option<String>,
    #[serde(
        default,
        deserialize_with = "bytes_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub shm_size: Option<u64>,
    #[serde(
        default,
        deserialize_with = "extra_hosts",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extra_hosts: Vec<String>,
    /// Top-level secrets lent to `RUN --mount=type=secret,id=TARGET` (TARGET defaults to the name).
    #[serde(
        default,
        deserialize_with = "build_secrets",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub secrets: Vec<ServiceSecret>,
    /// `ID` or `ID=PATH` items for `RUN --mount=type=ssh`; `default` is the user's agent.
    #[serde(
        default,
        deserialize_with = "ssh_items",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ssh: Vec<String>,
    /// Named contexts: a folder, `service:NAME`, or a `docker-image://`, URL or git reference.
    #[serde(
        default,
        deserialize_with = "label_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub additional_contexts: BTreeMap<String, String>,
    /// More names for the built image.
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<String>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub platforms: Vec<String>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub privileged: Option<bool>,
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub entitlements: Vec<String>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pull: Option<bool>,
    #[serde(
        default,
        deserialize_with = "bool_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub no_cache: Option<bool>,
    #[serde(
        default,
        deserialize_with = "isolation_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub isolation: Option<Isolation>,
    #[serde(
        default,
        deserialize_with = "ulimits",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub ulimits: BTreeMap<String, Ulimit>,
    /// BuildKit attestations (`true`, `false` or `mode=max`); kept as written, as compose does.
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub provenance: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sbom: Option<String>,
    /// Stages built without the cache.
    #[serde(
        default,
        deserialize_with = "string_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub no_cache_filter: Vec<String>,
}
