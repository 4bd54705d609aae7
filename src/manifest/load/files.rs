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
    for file in env_files {
        for (k, v) in read_env_file(&file)? {
            vars.insert(k, v);
        }
    }
    vars.extend(opts.environ.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(vars)
}

/// Reads a dotenv file (quotes, comments, `export`) into ordered pairs.
pub fn read_env_file(file: &Path) -> Result<Vec<(String, String)>, Diagnostics> {
    let iter = dotenvy::from_path_iter(file).map_err(|e| {
        Diagnostic::new(format!("cannot read env file: {e}"))
            .in_file(file)
            .hint("check the path given to --env-file or env_file")
    })?;
    let mut out = Vec::new();
    for item in iter {
        match item {
            Ok(kv) => out.push(kv),
            Err(dotenvy::Error::LineParse(line, idx)) => {
                let lineno = std::fs::read_to_string(file).ok().and_then(|t| {
                    t.lines()
                        .position(|l| l.contains(line.trim()))
                        .map(|i| i + 1)
                });
                let mut d = Diagnostic::new(format!("cannot parse `{line}` at character {idx}"))
                    .in_file(file)
                    .hint("each line is KEY=VALUE; quote values with spaces or `#`");
                if let Some(n) = lineno {
                    d = d.at(n, idx + 1, Some(line.as_str()));
                }
                return Err(d.into());
            }
            Err(e) => {
                return Err(Diagnostic::new(format!("cannot read env file: {e}"))
                    .in_file(file)
                    .into());
            }
        }
    }
    Ok(out)
}
