//! Which files make the project (`-f`, or the default names and their override), and the
//! variables it is interpolated with (.env, --env-file, the process environment).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::manifest::diag::{Diagnostic, Diagnostics};

pub(super) fn resolve_files(opts: &LoadOptions) -> Result<Vec<PathBuf>, Diagnostics> {
    if !opts.files.is_empty() {
        return Ok(opts.files.iter().map(|f| opts.cwd.join(f)).collect());
    }
    let base = opts
        .project_directory
        .as_ref()
        .map(|d| opts.cwd.join(d))
        .unwrap_or_else(|| opts.cwd.clone());
    // COMPOSE_FILE (from the environment or the folder's .env) names the files instead of -f,
    // separated by COMPOSE_PATH_SEPARATOR (default `:`), as compose reads them.
    if let Some(list) = compose_setting(opts, &base, "COMPOSE_FILE").filter(|l| !l.is_empty()) {
        let separator = compose_setting(opts, &base, "COMPOSE_PATH_SEPARATOR")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| ":".into());
        return Ok(list
            .split(separator.as_str())
            .filter(|f| !f.is_empty())
            .map(|f| base.join(f))
            .collect());
    }
    for name in DEFAULT_FILES {
        let path = base.join(name);
        // A symlink counts even when it leads nowhere: reading it then says why.
        if path.is_file() || path.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
            let mut files = vec![path.clone()];
            if let Some(over) = override_path(&path)
                && over.is_file()
            {
                files.push(over);
            }
            return Ok(files);
        }
    }
    Err(
        Diagnostic::new(format!("no manifest found in {}", base.display()))
            .hint(format!(
                "create one of {}, or pass -f FILE",
                DEFAULT_FILES.join(", ")
            ))
            .into(),
    )
}

/// A `COMPOSE_*` setting from the environment, else from `.env` in `base` (unreadable lines are
/// left for the variables pass to report).
fn compose_setting(opts: &LoadOptions, base: &Path, name: &str) -> Option<String> {
    if let Some(v) = opts.environ.get(name) {
        return Some(v.clone());
    }
    let files: Vec<PathBuf> = if opts.env_files.is_empty() {
        vec![base.join(".env")]
    } else {
        opts.env_files.iter().map(|f| opts.cwd.join(f)).collect()
    };
    let environ = |k: &str| opts.environ.get(k).cloned();
    files
        .iter()
        .filter(|f| f.is_file())
        .filter_map(|f| read_env_file(f, &environ).ok())
        .flatten()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .next_back()
}

/// `stack.yml` → `stack.override.yml`, as compose does for `compose.override.yaml`.
pub(super) fn override_path(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_str()?;
    let ext = path.extension()?.to_str()?;
    Some(path.with_file_name(format!("{stem}.override.{ext}")))
}

pub(super) fn read_variables(
    opts: &LoadOptions,
    project_dir: &Path,
) -> Result<HashMap<String, String>, Diagnostics> {
    let env_files: Vec<PathBuf> = if opts.env_files.is_empty() {
        let default = project_dir.join(".env");
        if default.is_file() {
            vec![default]
        } else {
            Vec::new()
        }
    } else {
        opts.env_files.iter().map(|f| opts.cwd.join(f)).collect()
    };
    let mut vars = HashMap::new();
    let environ = |k: &str| opts.environ.get(k).cloned();
    for file in env_files {
        for (k, v) in read_env_file(&file, &environ)? {
            vars.insert(k, v);
        }
    }
    vars.extend(opts.environ.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(vars)
}

/// Reads a dotenv file as compose does (manifest::dotenv) into ordered pairs; `lookup` answers the
/// variables its values refer to that it does not set itself.
pub fn read_env_file(
    file: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Diagnostic::new(format!("cannot read env file: {e}"))
            .in_file(file)
            .hint("check the path given to --env-file or env_file")
    })?;
    crate::manifest::dotenv::parse(&text, lookup).map_err(|e| {
        Diagnostic::new(e.message)
            .in_file(file)
            .at(e.line, e.column, text.lines().nth(e.line - 1))
            .hint("each line is KEY=VALUE; quote a value to keep `#` or leading spaces")
            .into()
    })
}
