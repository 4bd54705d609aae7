//! Reading a project from disk: finding the files, the environment (.env, --env-file, the process),
//! YAML parsing with positions, interpolation, typed decoding, extends, merging and naming the
//! project. Each step has its own file; `load` runs them in order.

mod decode;
mod extends;
mod files;
mod include;
mod names;
mod parse;
mod resolve;
mod tags;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::deferred::{self, DeferredRefusals};
use super::diag::{Diagnostic, Diagnostics};
use super::model::Project;
use super::source::Locator;
use super::spans::FieldPath;
use super::{build_rules, merge, validate};

use decode::*;
use extends::*;
pub use files::read_env_file;
use files::*;
pub use names::{is_valid_project_name, normalize_project_name};
pub use parse::raw_documents;
use parse::*;
pub use resolve::container_sources;
use resolve::*;

/// Files looked for in the current folder when no `-f` is given, in this order.
pub const DEFAULT_FILES: &[&str] = &[
    "stack.yml",
    "stack.yaml",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
    "stack/stack.yml",
];

/// Past this many problems in the services of one document, the rest are not looked at.
pub(super) const MAX_DIAGNOSTICS: usize = 50;

/// How many services one `extends` chain may pass through; real files use two or three.
pub(super) const MAX_EXTENDS_DEPTH: usize = 64;

/// A manifest larger than this is refused before parsing: no real stack comes close.
pub(super) const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub files: Vec<PathBuf>,
    pub project_name: Option<String>,
    pub env_files: Vec<PathBuf>,
    pub project_directory: Option<PathBuf>,
    /// Where relative `-f` paths and default discovery start.
    pub cwd: PathBuf,
    /// The process environment; it wins over every env file.
    pub environ: HashMap<String, String>,
    /// Manifest contents given in memory (fuzzing, stdin): used instead of reading `files`.
    pub inline: Option<Vec<u8>>,
    /// The files that include this one, outermost first (to refuse include loops).
    pub include_chain: Vec<PathBuf>,
    /// References to undeclared networks, volumes, configs and secrets are let through
    /// (`config --no-consistency`, which prints a project without running it).
    pub no_consistency: bool,
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<String>,
    /// The resolved variables (env files overlaid by the process environment).
    pub variables: HashMap<String, String>,
    /// Per service, why its replicas cannot all run on one engine (fixed host ports). Raised by the
    /// commands that start containers on one engine; `config` and Swarm have no such limit.
    pub single_host_conflicts: BTreeMap<String, Diagnostics>,
    /// What is refused once read-only inspection shows it applies: building a service whose
    /// inputs are missing, waiting for health on a dependency that has no healthcheck. compose
    /// checks these only when it builds or waits, too.
    pub deferred: DeferredRefusals,
    /// Per service, the secrets and configs it mounts whose `environment:` variable is unset.
    /// Raised by the commands that start containers; `config` prints the project regardless.
    pub missing_values: BTreeMap<String, Diagnostics>,
}

impl Loaded {
    /// Refuses, before any API call, building one of `services` whose inputs are missing.
    pub fn refuse_unbuildable<'a>(
        &self,
        services: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Diagnostics> {
        super::diag::problems_of(&self.deferred.unbuildable, services)
    }

    /// Refuses, before any API call, starting one of `services` whose secret or config has no
    /// value.
    pub fn refuse_missing_values<'a>(
        &self,
        services: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Diagnostics> {
        super::diag::problems_of(&self.missing_values, services)
    }
}

pub fn load(opts: &LoadOptions) -> Result<Loaded, Diagnostics> {
    let first = load_once(opts)?;
    // As in compose, `${COMPOSE_PROJECT_NAME}` in a file is the project's name even when no
    // variable sets it; the name is known only once the files are read, so read them again.
    if first.variables.contains_key("COMPOSE_PROJECT_NAME") {
        return Ok(first);
    }
    let mentions = |text: &[u8]| text.windows(20).any(|w| w == b"COMPOSE_PROJECT_NAME");
    let mentioned = match &opts.inline {
        Some(bytes) => mentions(bytes),
        None => first
            .project
            .config_files
            .iter()
            .any(|f| std::fs::read(f).is_ok_and(|t| mentions(&t))),
    };
    if !mentioned {
        return Ok(first);
    }
    let mut again = opts.clone();
    again
        .environ
        .insert("COMPOSE_PROJECT_NAME".into(), first.project.name.clone());
    load_once(&again)
}

fn load_once(opts: &LoadOptions) -> Result<Loaded, Diagnostics> {
    let files = match &opts.inline {
        Some(_) => vec![
            opts.cwd.join(
                opts.files
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "inline.yml".into()),
            ),
        ],
        None => resolve_files(opts)?,
    };
    let project_dir = match &opts.project_directory {
        Some(d) => opts.cwd.join(d),
        None => files[0]
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| opts.cwd.clone()),
    };
    let variables = read_variables(opts, &project_dir)?;
    let lookup = |name: &str| variables.get(name).cloned();

    let mut warnings = Vec::new();
    let mut diags = Diagnostics::default();
    let mut sources = Vec::new();
    let mut project = Project {
        working_dir: project_dir.clone(),
        config_files: files.clone(),
        ..Project::default()
    };
    let mut declared_name = None;

    for path in &files {
        let read = match &opts.inline {
            Some(bytes) => parse_source(path, bytes.clone(), &lookup),
            None => read_file(path, &lookup),
        };
        let documents = match read {
            Ok(ok) => ok,
            Err(mut d) => {
                diags.0.append(&mut d.0);
                continue;
            }
        };
        for (source, top) in documents {
            let loc = Locator {
                files: std::slice::from_ref(&source),
            };
            let top = match decode_top(top, &loc) {
                Ok((t, extensions)) => {
                    // A later file's entry replaces an earlier one's, as for other top-level keys.
                    project.extensions.extend(extensions);
                    t
                }
                Err(d) => {
                    diags.push(d);
                    sources.push(source);
                    continue;
                }
            };
            if top.version.is_some() {
                warnings.push(format!(
                    "{}: the top-level `version` is obsolete and ignored; you can remove it",
                    path.display()
                ));
            }
            if let Some(n) = top.name {
                declared_name = Some(n);
            }
            // Included projects first: this file may not redefine what they define.
            let mut included_names = std::collections::BTreeSet::new();
            if let Some(inc) = top.include {
                match include::load_includes(inc, path, opts, &loc) {
                    Ok(list) => {
                        for (file, sub, mut sub_warnings) in list {
                            included_names.extend(sub.services.keys().cloned());
                            warnings.append(&mut sub_warnings);
                            if let Err(e) = include::merge_included(&mut project, sub, &file) {
                                diags.push(loc.diag(&FieldPath::root().key("include"), true, e));
                            }
                        }
                    }
                    Err(mut d) => diags.0.append(&mut d.0),
                }
            }
            let mut raws = top.services.unwrap_or_default();
            let tags = match tags::take_service_tags(&mut raws, &loc) {
                Ok(t) => t,
                Err(d) => {
                    diags.push(d);
                    sources.push(source);
                    continue;
                }
            };
            for name in &tags.replaced {
                project.services.remove(name);
            }
            let mut extending = Extending::default();
            for name in raws.keys() {
                if diags.0.len() >= MAX_DIAGNOSTICS {
                    break;
                }
                let file = ExtendsFile {
                    path,
                    raws: &raws,
                    cleared: &tags.cleared,
                    loc: &loc,
                };
                extending.begin();
                if included_names.contains(name) {
                    diags.push(
                        loc.diag(
                            &FieldPath::root().key("services").key(name),
                            true,
                            format!("service `{name}` is also defined by an included file"),
                        )
                        .hint("define it in one place: drop it here, or from the included file"),
                    );
                    continue;
                }
                let resolved = resolve_extends(name, &file, &project_dir, &lookup, &mut extending);
                match resolved {
                    Ok(svc) => match project.services.get_mut(name) {
                        Some(base) => {
                            let cleared = tags.cleared.get(name).cloned().unwrap_or_default();
                            if let Err(e) = tags::clear_in(base, &cleared) {
                                diags.push(Diagnostic::new(format!(
                                    "service `{name}`: cannot apply `!reset`/`!override`: {e}"
                                )));
                            }
                            merge::merge_service(base, svc)
                        }
                        None => {
                            project.services.insert(name.clone(), svc);
                        }
                    },
                    Err(d) => diags.push(d),
                }
            }
            decode_defs(
                top.networks,
                "networks",
                &loc,
                &mut project.networks,
                &mut diags,
                &mut warnings,
            );
            decode_defs(
                top.volumes,
                "volumes",
                &loc,
                &mut project.volumes,
                &mut diags,
                &mut warnings,
            );
            decode_defs(
                top.secrets,
                "secrets",
                &loc,
                &mut project.secrets,
                &mut diags,
                &mut warnings,
            );
            decode_defs(
                top.configs,
                "configs",
                &loc,
                &mut project.configs,
                &mut diags,
                &mut warnings,
            );
            decode_defs(
                top.models,
                "models",
                &loc,
                &mut project.models,
                &mut diags,
                &mut warnings,
            );
            sources.push(source);
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }

    // A name given on the command line or in the environment (-p, COMPOSE_PROJECT_NAME) is taken
    // as written or refused, as compose does; the top-level `name:` and a folder's name are
    // normalised into one (`My Project!` → `myproject`), refused only when nothing is left.
    let chosen = opts
        .project_name
        .clone()
        .map(|n| (n, "-p"))
        .or_else(|| {
            // From the environment or the project's .env, as compose reads it.
            variables
                .get("COMPOSE_PROJECT_NAME")
                .filter(|s| !s.is_empty())
                .map(|n| (n.clone(), "COMPOSE_PROJECT_NAME"))
        })
        .or(declared_name.map(|n| (n, "the top-level `name:`")));
    project.name = match chosen {
        Some((name, from)) => {
            let name = match normalize_project_name(&name) {
                Some(normal) if from.starts_with("the top-level") => normal,
                _ => name,
            };
            if !is_valid_project_name(&name) {
                let shown: String = name.chars().take(80).collect();
                let mut d = Diagnostic::new(format!(
                    "`{shown}` (from {from}) is not a valid project name"
                ))
                .hint(format!(
                    "use lowercase letters, digits, `-` and `_`, starting with a letter or digit{}",
                    normalize_project_name(&name)
                        .map(|n| format!(": for example `{n}`"))
                        .unwrap_or_default()
                ));
                if from.starts_with("the top-level") {
                    d = Locator { files: &sources }
                        .diag(&FieldPath::root().key("name"), false, d.message.clone())
                        .hint(d.hint.clone().unwrap_or_default());
                }
                return Err(d.into());
            }
            name
        }
        None => {
            let folder = project_dir
                .canonicalize()
                .unwrap_or(project_dir.clone())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "default".into());
            normalize_project_name(&folder).ok_or_else(|| {
                Diagnostic::new(format!(
                    "the folder name `{folder}` cannot be made a project name"
                ))
                .hint("name the project with -p NAME or a top-level `name:`")
            })?
        }
    };

    let loc = Locator { files: &sources };
    // An empty `image:` (an unset variable) is no image, as in compose: a build names its image
    // itself, and without a build the service is refused for having neither. An empty mount
    // `source:` is none likewise.
    for svc in project.services.values_mut() {
        if svc.image.as_deref() == Some("") {
            svc.image = None;
        }
        for m in &mut svc.volumes {
            if m.source.as_deref() == Some("") {
                m.source = None;
            }
        }
    }
    add_implicit_dependencies(&mut project, &loc)?;
    validate::validate(&project, &loc, &variables, !opts.no_consistency)?;
    apply_profiles(&mut project, &variables, &loc)?;
    let missing_values = resolve::file_values(&mut project, &variables, &loc);
    let single_host_conflicts = validate::single_host_port_conflicts(&project, &loc);
    let deferred = DeferredRefusals {
        unbuildable: build_rules::input_problems(&project, &loc),
        healthy_without_check: deferred::healthy_without_check(&project, &loc),
    };
    resolve_environment(&mut project, &variables)?;
    resolve_label_files(&mut project, &variables)?;
    Ok(Loaded {
        project,
        warnings,
        variables,
        single_host_conflicts,
        deferred,
        missing_values,
    })
}
