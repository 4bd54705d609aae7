//! The stack manifest: Compose-format files read, interpolated, merged, validated and normalised.
//! Pure: no tokio, no bollard, no terminal. Everything downstream starts from a `Project`.

// Diagnostics are large but only built on the error path, once per problem.
#![allow(clippy::result_large_err)]

pub mod as_written;
mod build_rules;
mod deferred;
mod diag;
pub mod dotenv;
mod interpolate;
mod load;
mod merge;
pub mod model;
pub mod paths;
pub mod printed;
pub mod reference;
mod source;
mod spans;
pub mod units;
pub mod unused;
mod validate;
pub mod variables;

pub use build_rules::{cache_ref, cache_type, is_remote as is_remote_context};
pub use deferred::DeferredRefusals;
pub use diag::{Diagnostic, Diagnostics, nearest, problems_of, some_of};
pub use interpolate::{InterpolationError, VariableUse, interpolate};
pub use load::{
    DEFAULT_FILES, LoadOptions, Loaded, container_sources, load, normalize_project_name,
    raw_documents, read_env_file,
};
pub use model::*;
pub use validate::find_cycle;

/// A path the manifest gives, on this machine: from the project folder, `~/` from the home folder.
pub(crate) fn host_path(base: &std::path::Path, p: &str) -> std::path::PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return std::path::Path::new(&home).join(rest);
    }
    base.join(p)
}
