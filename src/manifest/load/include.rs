//! Top-level `include:`: other Compose files loaded as projects of their own — their own folder
//! for relative paths, their own `.env` — whose services, networks, volumes, secrets and configs
//! join this project. A name both sides define differently is an error, as in compose.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use super::*;
use crate::manifest::model::Project;

/// How deep includes may nest; real projects use one or two levels.
const MAX_INCLUDE_DEPTH: usize = 16;

/// One `include:` entry: its files, and where their project folder and variables come from.
struct Entry {
    paths: Vec<PathBuf>,
    project_directory: Option<PathBuf>,
    env_files: Vec<PathBuf>,
}

fn entries(v: Value, base: &Path) -> Result<Vec<Entry>, String> {
    let list = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        other => vec![other],
    };
    let strings = |v: &Value, what: &str| -> Result<Vec<PathBuf>, String> {
        match v {
            Value::String(s) => Ok(vec![base.join(s)]),
            Value::Sequence(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(|s| base.join(s))
                        .ok_or_else(|| format!("`{what}` items should be paths"))
                })
                .collect(),
            _ => Err(format!("`{what}` should be a path or a list of paths")),
        }
    };
    list.into_iter()
        .map(|item| match &item {
            Value::String(s) => Ok(Entry {
                paths: vec![base.join(s)],
                project_directory: None,
                env_files: Vec::new(),
            }),
            Value::Mapping(m) => {
                for k in m.keys() {
                    let k = k.as_str().unwrap_or_default();
                    if !["path", "project_directory", "env_file"].contains(&k) {
                        return Err(format!(
                            "unknown key `{k}` in an include entry; valid: path, project_directory, env_file"
                        ));
                    }
                }
                let path = m
                    .get("path")
                    .ok_or_else(|| "an include entry in long form needs `path`".to_owned())?;
                Ok(Entry {
                    paths: strings(path, "path")?,
                    project_directory: m
                        .get("project_directory")
                        .and_then(Value::as_str)
                        .map(|d| base.join(d)),
                    env_files: match m.get("env_file") {
                        Some(v) => strings(v, "env_file")?,
                        None => Vec::new(),
                    },
                })
            }
            _ => Err("an include entry is a path or a mapping with `path`".to_owned()),
        })
        .collect()
}

/// Loads the files `include` names (relative to `including`'s folder) and returns their projects,
/// every relative path in them made absolute from their own folder.
pub(super) fn load_includes(
    v: Value,
    including: &Path,
    opts: &LoadOptions,
    loc: &Locator,
) -> Result<Vec<(PathBuf, Project, Vec<String>)>, Diagnostics> {
    let at = FieldPath::root().key("include");
    let base = including.parent().unwrap_or(Path::new("."));
    let list = entries(v, base).map_err(|e| loc.diag(&at, true, e))?;
    let mut chain = opts.include_chain.clone();
    chain.push(including.to_path_buf());
    if chain.len() > MAX_INCLUDE_DEPTH {
        return Err(loc
            .diag(
                &at,
                true,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files"),
            )
            .into());
    }
    let mut out = Vec::new();
    for entry in list {
        let Some(first) = entry.paths.first().cloned() else {
            continue;
        };
        for p in &entry.paths {
            // A pipe or a device named by a file we read could block: only regular files.
            if !p.is_file() {
                return Err(loc
                    .diag(
                        &at,
                        true,
                        format!(
                            "included file {} {}",
                            p.display(),
                            if p.exists() {
                                "is not a regular file"
                            } else {
                                "does not exist"
                            }
                        ),
                    )
                    .hint("paths in `include` are relative to the file that includes them")
                    .into());
            }
            let same = |a: &Path| a == p || a.canonicalize().ok() == p.canonicalize().ok();
            if chain.iter().any(|c| same(c)) {
                return Err(loc
                    .diag(
                        &at,
                        true,
                        format!(
                            "include loop: {} → {}",
                            chain
                                .iter()
                                .map(|c| c.display().to_string())
                                .collect::<Vec<_>>()
                                .join(" → "),
                            p.display()
                        ),
                    )
                    .hint("remove the include that closes the loop")
                    .into());
            }
        }
        let sub_opts = LoadOptions {
            files: entry.paths.clone(),
            // Only to satisfy naming: the services join this project, under its name.
            project_name: Some("included".into()),
            env_files: entry.env_files,
            project_directory: entry.project_directory,
            cwd: base.to_path_buf(),
            environ: opts.environ.clone(),
            inline: None,
            include_chain: chain.clone(),
            no_consistency: opts.no_consistency,
        };
        let loaded = load(&sub_opts)?;
        let mut project = loaded.project;
        let dir = project.working_dir.clone();
        for svc in project.services.values_mut() {
            rebase_paths(svc, &dir, &dir);
        }
        let absolute = |f: &mut Option<String>| {
            if let Some(p) = f
                && Path::new(p).is_relative()
            {
                *p = clean(&dir.join(&*p)).to_string_lossy().into_owned();
            }
        };
        for s in project.secrets.values_mut() {
            absolute(&mut s.file);
        }
        for c in project.configs.values_mut() {
            absolute(&mut c.file);
        }
        out.push((first, project, loaded.warnings));
    }
    Ok(out)
}

/// Adds `from`'s definitions to `into`; a name defined on both sides, differently, is a conflict.
pub(super) fn merge_included(into: &mut Project, from: Project, file: &Path) -> Result<(), String> {
    fn join<T: PartialEq + serde::Serialize>(
        into: &mut BTreeMap<String, T>,
        from: BTreeMap<String, T>,
        what: &str,
        file: &Path,
    ) -> Result<(), String> {
        for (k, v) in from {
            match into.get(&k) {
                Some(existing) if *existing != v => {
                    return Err(format!(
                        "{what} `{k}` is defined here and, differently, in the included {}",
                        file.display()
                    ));
                }
                Some(_) => {}
                None => {
                    into.insert(k, v);
                }
            }
        }
        Ok(())
    }
    join(&mut into.services, from.services, "service", file)?;
    join(&mut into.networks, from.networks, "network", file)?;
    join(&mut into.volumes, from.volumes, "volume", file)?;
    join(&mut into.secrets, from.secrets, "secret", file)?;
    join(&mut into.configs, from.configs, "config", file)?;
    Ok(())
}
