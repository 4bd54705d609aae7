//! Reading a project from disk: finding the files, the environment (.env, --env-file, the process),
//! YAML parsing with positions, interpolation, typed decoding, merging and naming the project.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use super::diag::{Diagnostic, Diagnostics, nearest, some_of};
use super::interpolate::interpolate;
use super::model::{FileTop, Project, Service};
use super::spans::{FieldPath, SpanIndex};
use super::{merge, validate};

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
const MAX_DIAGNOSTICS: usize = 50;

/// How many services one `extends` chain may pass through; real files use two or three.
const MAX_EXTENDS_DEPTH: usize = 64;

/// A manifest larger than this is refused before parsing: no real stack comes close.
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

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
}

/// One parsed file, kept so that later stages can point into it.
pub struct SourceFile {
    pub path: PathBuf,
    pub spans: SpanIndex,
}

#[derive(Debug)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<String>,
    /// The resolved variables (env files overlaid by the process environment).
    pub variables: HashMap<String, String>,
    /// Per service, why its replicas cannot all run on one engine (fixed host ports). Raised by the
    /// commands that start containers on one engine; `config` and Swarm have no such limit.
    pub single_host_conflicts: BTreeMap<String, Diagnostics>,
}

/// Finds source positions for field paths across all files, the last file that mentions a path first.
pub struct Locator<'a> {
    pub files: &'a [SourceFile],
}

impl Locator<'_> {
    /// A diagnostic pointing at `path`: its key when `at_key`, else its value.
    pub fn diag(&self, path: &FieldPath, at_key: bool, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::new(message).field(path.to_string());
        let file = self
            .files
            .iter()
            .rev()
            .find(|f| f.spans.contains(path))
            .or_else(|| {
                // Not written anywhere (a default): point at the closest ancestor that is.
                let mut p = path.parent();
                while let Some(cur) = p {
                    if let Some(f) = self.files.iter().rev().find(|f| f.spans.contains(&cur)) {
                        return Some(f);
                    }
                    p = cur.parent();
                }
                self.files.last()
            });
        let Some(file) = file else { return d };
        let d = d.in_file(&file.path);
        let pos = if at_key {
            file.spans.key_pos(path)
        } else {
            file.spans.value_pos(path)
        };
        match pos {
            Some(p) => d.at(p.line, p.column, file.spans.line_text(p.line)),
            None => d,
        }
    }
}

pub fn load(opts: &LoadOptions) -> Result<Loaded, Diagnostics> {
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
                Ok(t) => t,
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
            let raws = top.services.unwrap_or_default();
            let mut extending = Extending::default();
            for name in raws.keys() {
                if diags.0.len() >= MAX_DIAGNOSTICS {
                    break;
                }
                let file = ExtendsFile {
                    path,
                    raws: &raws,
                    loc: &loc,
                };
                extending.chain.clear();
                let resolved = resolve_extends(name, &file, &project_dir, &lookup, &mut extending);
                match resolved {
                    Ok(svc) => match project.services.get_mut(name) {
                        Some(base) => merge::merge_service(base, svc),
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
            );
            decode_defs(
                top.volumes,
                "volumes",
                &loc,
                &mut project.volumes,
                &mut diags,
            );
            decode_defs(
                top.secrets,
                "secrets",
                &loc,
                &mut project.secrets,
                &mut diags,
            );
            decode_defs(
                top.configs,
                "configs",
                &loc,
                &mut project.configs,
                &mut diags,
            );
            sources.push(source);
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }

    // A name the user chose (-p, COMPOSE_PROJECT_NAME, `name:`) is taken as written or refused, as
    // compose does; only a folder's name is normalised into one.
    let chosen = opts
        .project_name
        .clone()
        .map(|n| (n, "-p"))
        .or_else(|| {
            opts.environ
                .get("COMPOSE_PROJECT_NAME")
                .filter(|s| !s.is_empty())
                .map(|n| (n.clone(), "COMPOSE_PROJECT_NAME"))
        })
        .or(declared_name.map(|n| (n, "the top-level `name:`")));
    project.name = match chosen {
        Some((name, from)) => {
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

    for (name, svc) in &project.services {
        if svc.develop.is_some() {
            warnings.push(format!(
                "services.{name}.develop: stackctl has no `watch` yet; the section is kept in `config` and otherwise ignored"
            ));
        }
    }
    let loc = Locator { files: &sources };
    add_implicit_dependencies(&mut project, &loc)?;
    validate::validate(&project, &loc, &variables)?;
    apply_profiles(&mut project, &variables, &loc)?;
    let single_host_conflicts = validate::single_host_port_conflicts(&project, &loc);
    resolve_environment(&mut project, &variables)?;
    resolve_label_files(&mut project)?;
    Ok(Loaded {
        project,
        warnings,
        variables,
        single_host_conflicts,
    })
}

/// Drops services whose `profiles` are not active (COMPOSE_PROFILES, comma-separated), as compose
/// does; an active service that depends on a dropped one is an error that names the profile.
fn apply_profiles(
    project: &mut Project,
    vars: &HashMap<String, String>,
    loc: &Locator,
) -> Result<(), Diagnostics> {
    let active: Vec<&str> = vars
        .get("COMPOSE_PROFILES")
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let enabled = |profiles: &[String]| {
        profiles.is_empty()
            || active.contains(&"*")
            || profiles.iter().any(|p| active.contains(&p.as_str()))
    };
    let dropped: Vec<String> = project
        .services
        .iter()
        .filter(|(_, s)| !enabled(&s.profiles))
        .map(|(n, _)| n.clone())
        .collect();
    let mut diags = Diagnostics::default();
    for (name, svc) in &project.services {
        if dropped.contains(name) {
            continue;
        }
        for (dep, d) in &svc.depends_on {
            if d.required && dropped.contains(dep) {
                let profiles = project.services[dep].profiles.join(", ");
                diags.push(
                    loc.diag(&FieldPath::root().key("services").key(name).key("depends_on").key(dep), true, format!("service `{name}` depends on `{dep}`, which is only in profile(s) {profiles}"))
                        .hint(format!("activate one with COMPOSE_PROFILES={}, or mark the dependency `required: false`", project.services[dep].profiles[0])),
                );
            }
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    for name in dropped {
        project.services.remove(&name);
    }
    let remaining: Vec<String> = project.services.keys().cloned().collect();
    for svc in project.services.values_mut() {
        svc.depends_on.retain(|dep, _| remaining.contains(dep));
    }
    Ok(())
}

/// The services a service's containers are made from (`network_mode: service:X`, `volumes_from: X`).
pub fn container_sources(svc: &Service) -> Vec<String> {
    let from_network = svc
        .network_mode
        .as_deref()
        .and_then(|m| m.strip_prefix("service:"));
    let from_volumes = svc
        .volumes_from
        .iter()
        .filter(|v| !v.starts_with("container:"))
        .map(|v| v.split(':').next().unwrap_or(v));
    from_network
        .into_iter()
        .chain(from_volumes)
        .map(str::to_owned)
        .collect()
}

/// A service that takes another's network namespace or volumes needs that service's container
/// first: the reference becomes a `depends_on` (started), as in compose, after checking that the
/// service exists — so ordering, cycles and `up SERVICE` all see it.
fn add_implicit_dependencies(project: &mut Project, loc: &Locator) -> Result<(), Diagnostics> {
    let names: Vec<String> = project.services.keys().cloned().collect();
    let mut diags = Diagnostics::default();
    for (name, svc) in project.services.iter_mut() {
        for source in container_sources(svc) {
            if !names.contains(&source) {
                let field = if svc.network_mode.as_deref() == Some(&format!("service:{source}")) {
                    FieldPath::root()
                        .key("services")
                        .key(name)
                        .key("network_mode")
                } else {
                    FieldPath::root()
                        .key("services")
                        .key(name)
                        .key("volumes_from")
                };
                let d = loc.diag(&field, false, format!("service `{source}` is not defined"));
                diags.push(match nearest(&source, names.iter().map(String::as_str)) {
                    Some(n) => d.hint(format!("did you mean `{n}`?")),
                    None => d.hint(
                        "name a service of this manifest, or container:NAME for another container",
                    ),
                });
                continue;
            }
            svc.depends_on
                .entry(source)
                .or_insert(crate::manifest::Dependency {
                    condition: crate::manifest::Condition::ServiceStarted,
                    required: true,
                    restart: false,
                });
        }
    }
    if diags.is_empty() { Ok(()) } else { Err(diags) }
}

/// Folds `label_file` contents under `labels`, which win, as compose does.
fn resolve_label_files(project: &mut Project) -> Result<(), Diagnostics> {
    for svc in project.services.values_mut() {
        let mut labels = BTreeMap::new();
        for f in std::mem::take(&mut svc.label_file) {
            let path = project.working_dir.join(&f);
            let pairs = read_env_file(&path).map_err(|_| {
                Diagnostic::new(format!("cannot read label file {}", path.display()))
                    .in_file(&path)
                    .hint("check the path in `label_file`: it is relative to the project directory")
            })?;
            labels.extend(pairs);
        }
        labels.extend(std::mem::take(&mut svc.labels));
        svc.labels = labels;
    }
    Ok(())
}

/// Folds `env_file` contents under `environment` (which wins) and fills `KEY`-only entries from the
/// variables, as compose does; an entry with no value anywhere is dropped.
fn resolve_environment(
    project: &mut Project,
    vars: &HashMap<String, String>,
) -> Result<(), Diagnostics> {
    for svc in project.services.values_mut() {
        let mut env: BTreeMap<String, Option<String>> = BTreeMap::new();
        for f in std::mem::take(&mut svc.env_file) {
            let path = project.working_dir.join(&f.path);
            if !path.is_file() && !f.required {
                continue;
            }
            for (k, v) in read_env_file(&path)? {
                env.insert(k, Some(v));
            }
        }
        for (k, v) in std::mem::take(&mut svc.environment) {
            let v = v.or_else(|| vars.get(&k).cloned());
            env.insert(k, v);
        }
        env.retain(|_, v| v.is_some());
        svc.environment = env;
    }
    Ok(())
}

/// One file's services as written, for `extends` to find a base in.
struct ExtendsFile<'a> {
    path: &'a Path,
    raws: &'a BTreeMap<String, Value>,
    loc: &'a Locator<'a>,
}

/// Decodes service `name` of `file`, first building the service it `extends` (in the same file or
/// in `extends.file`, whose relative paths are made to point where that file meant them) and then
/// merging this one onto it with the override rules.
fn resolve_extends(
    name: &str,
    file: &ExtendsFile,
    project_dir: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    extending: &mut Extending,
) -> Result<Service, Diagnostic> {
    let spath = FieldPath::root().key("services").key(name);
    let raw = file.raws.get(name).cloned().unwrap_or(Value::Null);
    // The same file reached as `sub/../compose.yaml` and `compose.yaml` must compare equal.
    let canonical = std::fs::canonicalize(file.path).unwrap_or_else(|_| file.path.to_path_buf());
    let key = (canonical, name.to_owned());
    if let Some(done) = extending.resolved.get(&key) {
        return Ok(done.clone());
    }
    let chain = &mut extending.chain;
    if chain.len() >= MAX_EXTENDS_DEPTH {
        return Err(file
            .loc
            .diag(
                &spath.key("extends"),
                true,
                format!(
                    "`extends` chains more than {MAX_EXTENDS_DEPTH} services deep (from `{}`)",
                    chain.first().map_or(name, |(_, n)| n.as_str())
                ),
            )
            .hint("let the services extend a common base instead of each other in a long line"));
    }
    if chain.contains(&key) {
        let names: Vec<&str> = chain.iter().map(|(_, n)| n.as_str()).collect();
        return Err(file
            .loc
            .diag(
                &spath.key("extends"),
                true,
                format!(
                    "`extends` goes round in a circle: {} → {name}",
                    names.join(" → ")
                ),
            )
            .hint("one of these services must stand on its own"));
    }
    chain.push(key.clone());
    let mut raw = match raw {
        Value::Null => Value::Mapping(Mapping::new()),
        other => other,
    };
    let extends = raw.as_mapping_mut().and_then(|m| m.remove("extends"));
    let local = decode::<Service>(raw, &spath, file.loc, SERVICE_KEYS_UNSUPPORTED)?;
    let Some(extends) = extends else {
        extending.chain.pop();
        extending.resolved.insert(key, local.clone());
        return Ok(local);
    };
    let epath = spath.key("extends");
    let (base_name, base_file) = match &extends {
        Value::String(s) => (s.clone(), None),
        Value::Mapping(m) => {
            let get = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            if let Some(bad) = m
                .keys()
                .filter_map(|k| k.as_str())
                .find(|k| *k != "service" && *k != "file")
            {
                return Err(file
                    .loc
                    .diag(
                        &epath.key(bad),
                        true,
                        format!("unknown key `{bad}` in extends"),
                    )
                    .hint("extends takes `service` and `file`"));
            }
            let service = get("service").ok_or_else(|| {
                file.loc
                    .diag(&epath, true, "`extends` needs `service`")
                    .hint("extends: {service: NAME, file: OTHER.yml}")
            })?;
            (service, get("file"))
        }
        _ => {
            return Err(file
                .loc
                .diag(
                    &epath,
                    false,
                    "`extends` should be a service name or {service, file}",
                )
                .hint("extends: {service: NAME, file: OTHER.yml}"));
        }
    };
    let missing = |raws: &BTreeMap<String, Value>, in_file: &Path| {
        let known: Vec<&str> = raws.keys().map(String::as_str).collect();
        let d = file.loc.diag(
            &epath,
            false,
            format!(
                "`extends` names service `{base_name}`, which {} does not define",
                in_file.display()
            ),
        );
        match nearest(&base_name, known.iter().copied()) {
            Some(n) => d.hint(format!("did you mean `{n}`?")),
            None => d.hint(format!("services there: {}", some_of(&known))),
        }
    };
    let mut base = match base_file {
        None if !file.raws.contains_key(&base_name) => return Err(missing(file.raws, file.path)),
        None => resolve_extends(&base_name, file, project_dir, lookup, extending)?,
        Some(other) => {
            let other_path = file.path.parent().unwrap_or(Path::new(".")).join(&other);
            let documents = read_file(&other_path, lookup).map_err(|mut d| {
                d.0.remove(0).hint(format!(
                    "`extends.file` of service `{name}` is read from {}",
                    other_path.display()
                ))
            })?;
            // Of a file with several documents, the last that defines the service counts.
            let Some((source, top)) = documents.into_iter().rev().find(|(_, top)| {
                top.get("services")
                    .and_then(|s| s.get(base_name.as_str()))
                    .is_some()
            }) else {
                return Err(file
                    .loc
                    .diag(
                        &epath,
                        false,
                        format!(
                            "`extends` names service `{base_name}`, which {} does not define",
                            other_path.display()
                        ),
                    )
                    .hint("check the service name and `extends.file`"));
            };
            let other_loc = Locator {
                files: std::slice::from_ref(&source),
            };
            let top = decode_top(top, &other_loc)?;
            let raws = top.services.unwrap_or_default();
            if !raws.contains_key(&base_name) {
                return Err(missing(&raws, &other_path));
            }
            let other_file = ExtendsFile {
                path: &other_path,
                raws: &raws,
                loc: &other_loc,
            };
            let mut base =
                resolve_extends(&base_name, &other_file, project_dir, lookup, extending)?;
            rebase_paths(
                &mut base,
                other_path.parent().unwrap_or(Path::new(".")),
                project_dir,
            );
            base
        }
    };
    extending.chain.pop();
    merge::merge_service(&mut base, local);
    extending.resolved.insert(key, base.clone());
    Ok(base)
}

/// The state of resolving one document's `extends`: the chain being followed (to find circles and
/// bound its length), and every service already resolved, so a long chain is walked once, not once
/// per service on it.
#[derive(Default)]
struct Extending {
    chain: Vec<(PathBuf, String)>,
    resolved: HashMap<(PathBuf, String), Service>,
}

/// Relative paths of a service written in another folder's file point from that folder.
fn rebase_paths(svc: &mut Service, from: &Path, project_dir: &Path) {
    let from = if from.is_absolute() {
        from.to_path_buf()
    } else {
        project_dir.join(from)
    };
    let rebase = |p: &str| -> String {
        if Path::new(p).is_absolute() || p.starts_with('~') {
            p.to_owned()
        } else {
            from.join(p).to_string_lossy().into_owned()
        }
    };
    if let Some(b) = &mut svc.build {
        b.context = rebase(&b.context);
    }
    for f in &mut svc.env_file {
        f.path = rebase(&f.path);
    }
    for m in &mut svc.volumes {
        if m.kind == crate::manifest::MountKind::Bind
            && let Some(src) = &mut m.source
        {
            *src = rebase(src);
        }
    }
}

/// Keys that the Compose specification defines for a service but stackctl does not implement yet.
const SERVICE_KEYS_UNSUPPORTED: &[&str] = &[
    "annotations",
    "blkio_config",
    "cpu_count",
    "cpu_percent",
    "credential_spec",
    "driver_opts",
    "gpus",
    "mac_address",
    "models",
    "post_start",
    "pre_stop",
    "provider",
    "use_api_socket",
];

fn resolve_files(opts: &LoadOptions) -> Result<Vec<PathBuf>, Diagnostics> {
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
fn override_path(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_str()?;
    let ext = path.extension()?.to_str()?;
    Some(path.with_file_name(format!("{stem}.override.{ext}")))
}

fn read_variables(
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

fn read_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(SourceFile, Value)>, Diagnostics> {
    use std::io::Read;
    let cannot = |e: std::io::Error| {
        Diagnostic::new(format!("cannot read the manifest: {e}"))
            .in_file(path)
            .hint("check the path, or run from the folder that holds the manifest")
    };
    if path.is_dir() {
        return Err(Diagnostic::new("the manifest path is a folder, not a file")
            .in_file(path)
            .hint("name the file itself: -f DIR/compose.yaml")
            .into());
    }
    // Read at most one byte past the limit: a device or a pipe reports no size.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    parse_source(path, bytes, lookup)
}

/// The manifest's text: UTF-8, with or without a byte-order mark, or UTF-16 with one (what
/// Windows PowerShell's `>` writes).
fn decode_text(path: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    let utf16 = |bytes: &[u8], read: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| read([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16(&units).map_err(|_| {
            Diagnostic::new(
                "the manifest starts with a UTF-16 byte-order mark but is not valid UTF-16",
            )
            .in_file(path)
            .hint("save it as UTF-8")
        })
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => {
            let skip = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
                3
            } else {
                0
            };
            String::from_utf8(bytes[skip..].to_vec()).map_err(|e| {
                Diagnostic::new(format!(
                    "the manifest is not UTF-8 text (bad byte at offset {})",
                    e.utf8_error().valid_up_to() + skip
                ))
                .in_file(path)
                .hint("a manifest is a YAML text file; is this the right file?")
            })
        }
    }
}

/// Parses one manifest's bytes: YAML with positions, merge keys, extensions stripped, interpolated.
/// Each YAML document of the file is one result, merged in order as compose merges them.
fn parse_source(
    path: &Path,
    bytes: Vec<u8>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(SourceFile, Value)>, Diagnostics> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Diagnostic::new(format!(
            "the manifest is larger than the limit of {MAX_FILE_BYTES} bytes"
        ))
        .in_file(path)
        .hint("no real stack comes close: is this the right file?")
        .into());
    }
    let text = decode_text(path, bytes)?;
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(Diagnostic::new("the manifest is empty")
            .in_file(path)
            .hint("a manifest needs at least `services:` with one service")
            .into());
    }
    let (spans, too_big) = SpanIndex::build_all(&text);
    if let Some(t) = too_big {
        return Err(
            Diagnostic::new(format!("the manifest is refused: {}", t.why))
                .in_file(path)
                .at(
                    t.at.line,
                    t.at.column,
                    text.lines().nth(t.at.line.saturating_sub(1)),
                )
                .hint("expand fewer aliases, or nest less; no Compose file needs this much")
                .into(),
        );
    }
    let mut out = Vec::new();
    let mut spans = spans.into_iter();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let mut value = Value::deserialize(document).map_err(|e| yaml_error(path, &text, &e))?;
        let spans = spans.next().unwrap_or_default();
        if value.is_null() && out.is_empty() && spans.is_empty() {
            // An empty document before `---`: nothing to merge.
            continue;
        }
        value
            .apply_merge()
            .map_err(|e| yaml_error(path, &text, &e))?;
        if !value.is_mapping() {
            return Err(Diagnostic::new(
                "the manifest's top level must be a mapping with `services:`",
            )
            .in_file(path)
            .at(1, 1, text.lines().next())
            .into());
        }
        strip_extensions(&mut value, 0);
        let source = SourceFile {
            path: path.to_path_buf(),
            spans,
        };
        let mut diags = Diagnostics::default();
        let loc = Locator {
            files: std::slice::from_ref(&source),
        };
        interpolate_value(&mut value, &FieldPath::root(), lookup, &loc, &mut diags);
        if !diags.is_empty() {
            return Err(diags);
        }
        out.push((source, value));
    }
    Ok(out)
}

fn yaml_error(path: &Path, text: &str, e: &serde_yaml::Error) -> Diagnostics {
    let msg = e.to_string();
    // serde_yaml appends " at line X column Y"; the location is shown separately.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    let mut d = Diagnostic::new(format!("invalid YAML: {msg}")).in_file(path);
    if let Some(l) = e.location() {
        d = d.at(
            l.line(),
            l.column(),
            text.lines().nth(l.line().saturating_sub(1)),
        );
    }
    let line_has_tab = e
        .location()
        .and_then(|l| text.lines().nth(l.line().saturating_sub(1)))
        .is_some_and(|l| l.contains('\t'));
    let hint = if line_has_tab {
        "YAML indentation must use spaces, not tabs"
    } else if msg.contains("recursion limit") || msg.contains("repetition limit") {
        "the document nests or repeats aliases too deeply; expand the anchors by hand"
    } else {
        "check the indentation and the `:` after each key; quote values that contain `: ` or start with `*`, `&` or `{`"
    };
    d.hint(hint).into()
}

/// Mappings whose keys are the user's data, not format keys: `x-` there is a real key.
const USER_KEYED: &[&str] = &[
    "environment",
    "labels",
    "args",
    "driver_opts",
    "annotations",
    "sysctls",
    "extra_hosts",
];

fn strip_extensions(v: &mut Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Mapping(m) => {
            m.retain(|k, _| !k.as_str().is_some_and(|k| k.starts_with("x-")));
            for (k, child) in m.iter_mut() {
                if !k.as_str().is_some_and(|k| USER_KEYED.contains(&k)) {
                    strip_extensions(child, depth + 1);
                }
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(|c| strip_extensions(c, depth + 1)),
        _ => {}
    }
}

fn interpolate_value(
    v: &mut Value,
    path: &FieldPath,
    lookup: &dyn Fn(&str) -> Option<String>,
    loc: &Locator,
    diags: &mut Diagnostics,
) {
    match v {
        Value::String(s) if s.contains('$') => match interpolate(s, lookup) {
            Ok(out) => *s = out,
            Err(e) => {
                let mut d = loc.diag(path, false, e.message);
                d.hint = e.hint;
                diags.push(d);
            }
        },
        Value::Mapping(m) => {
            for (k, child) in m.iter_mut() {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                };
                interpolate_value(child, &path.key(&key), lookup, loc, diags);
            }
        }
        Value::Sequence(s) => {
            for (i, child) in s.iter_mut().enumerate() {
                interpolate_value(child, &path.index(i), lookup, loc, diags);
            }
        }
        _ => {}
    }
}

fn decode_top(v: Value, loc: &Locator) -> Result<FileTop, Diagnostic> {
    decode::<FileTop>(v, &FieldPath::root(), loc, &[])
}

fn decode_defs<T: for<'de> Deserialize<'de> + Default>(
    defs: Option<BTreeMap<String, Value>>,
    section: &str,
    loc: &Locator,
    into: &mut BTreeMap<String, T>,
    diags: &mut Diagnostics,
) {
    for (name, raw) in defs.unwrap_or_default() {
        let path = FieldPath::root().key(section).key(&name);
        if raw.is_null() {
            into.entry(name).or_default();
            continue;
        }
        match decode::<T>(raw, &path, loc, &[]) {
            Ok(def) => {
                into.insert(name, def);
            }
            Err(d) => diags.push(d),
        }
    }
}

/// Decodes `v` (found at `base`) into `T`, turning serde's message into a positioned diagnostic.
fn decode<T: for<'de> Deserialize<'de>>(
    v: Value,
    base: &FieldPath,
    loc: &Locator,
    unsupported: &[&str],
) -> Result<T, Diagnostic> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let mut path = base.clone();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Map { key } => path = path.key(key),
                serde_path_to_error::Segment::Seq { index } => path = path.index(*index),
                _ => {}
            }
        }
        let msg = e.inner().to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        unknown_field(&msg, &path, base, loc, unsupported).unwrap_or_else(|| {
            let what = match path.last_key() {
                Some(k) => format!("`{k}`: {msg}"),
                None => msg.clone(),
            };
            let hint = if msg.starts_with("missing field") {
                "add the field, or check its spelling"
            } else {
                "see the Compose specification for the forms this field accepts"
            };
            let mut d = loc.diag(&path, false, format!("invalid {what}"));
            if d.hint.is_none() {
                d = d.hint(hint);
            }
            d
        })
    })
}

/// serde says "unknown field `x`, expected one of `a`, `b`": turn that into advice.
fn unknown_field(
    msg: &str,
    path: &FieldPath,
    base: &FieldPath,
    loc: &Locator,
    unsupported: &[&str],
) -> Option<Diagnostic> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (key, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    // serde_path_to_error stops at the struct, so the key itself is the last step.
    let key_path = if path.last_key() == Some(key) {
        path.clone()
    } else {
        path.key(key)
    };
    let place = match base.0.as_slice() {
        [] => "at the top level".to_owned(),
        _ => format!("in {}", key_path.parent().unwrap_or_default()),
    };
    let d = loc.diag(&key_path, true, format!("unknown key `{key}` {place}"));
    Some(if unsupported.contains(&key) {
        d.hint(format!("`{key}` is part of the Compose format but stackctl does not support it yet; remove it to continue"))
    } else if let Some(near) = nearest(key, candidates.iter().copied()) {
        d.hint(format!("did you mean `{near}`?"))
    } else {
        d.hint(format!("valid keys here: {}", candidates.join(", ")))
    })
}

/// Compose's project-name rule: lowercase, `[a-z0-9_-]`, starting with a letter or digit.
/// Compose's rule for a project name: `[a-z0-9][a-z0-9_-]*`.
pub fn is_valid_project_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

pub fn normalize_project_name(raw: &str) -> Option<String> {
    let name: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    let name = name.trim_start_matches(['_', '-']).to_owned();
    if name.is_empty() { None } else { Some(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_normalise() {
        assert_eq!(
            normalize_project_name("My.Project 2").as_deref(),
            Some("myproject2")
        );
        assert_eq!(normalize_project_name("_x-y").as_deref(), Some("x-y"));
        assert_eq!(normalize_project_name("..."), None);
    }

    #[test]
    fn extensions_are_stripped_but_not_from_user_maps() {
        let mut v: Value = serde_yaml::from_str(
            "x-a: 1\nservices:\n  s:\n    x-b: 2\n    environment: {x-c: 3}\n",
        )
        .unwrap();
        strip_extensions(&mut v, 0);
        assert!(v.get("x-a").is_none());
        assert!(v["services"]["s"].get("x-b").is_none());
        assert!(v["services"]["s"]["environment"].get("x-c").is_some());
    }

    fn load_text(text: &str, env: &[(&str, &str)], dir: &Path) -> Result<Loaded, Diagnostics> {
        std::fs::write(dir.join("compose.yaml"), text).unwrap();
        load(&LoadOptions {
            cwd: dir.to_path_buf(),
            environ: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..LoadOptions::default()
        })
    }

    #[test]
    fn extends_builds_on_a_service_of_the_same_file_or_another() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("common/app")).unwrap();
        std::fs::write(dir.path().join("common/app/Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(
            dir.path().join("common/base.yml"),
            "services:\n  web:\n    build: ./app\n    environment: {A: base, B: base}\n    volumes: ['./data:/data']\n",
        )
        .unwrap();
        let l = load_text(
            "services:\n  base:\n    image: x\n    environment: {LEVEL: base}\n    labels: [tier=1]\n  mid:\n    extends: base\n    environment: {LEVEL: mid}\n  top:\n    extends: {service: mid}\n    command: run\n  remote:\n    extends: {file: common/base.yml, service: web}\n    environment: {B: local}\n",
            &[],
            dir.path(),
        )
        .unwrap();
        let s = &l.project.services;
        assert_eq!(s["top"].image.as_deref(), Some("x"));
        assert_eq!(s["top"].environment["LEVEL"].as_deref(), Some("mid"));
        assert_eq!(s["top"].labels["tier"], "1");
        assert_eq!(s["top"].command.as_deref(), Some(&["run".to_owned()][..]));
        let remote = &s["remote"];
        assert_eq!(remote.environment["A"].as_deref(), Some("base"));
        assert_eq!(remote.environment["B"].as_deref(), Some("local"));
        // Paths of the other file point from its folder.
        let common = dir.path().join("common");
        assert_eq!(
            Path::new(&remote.build.as_ref().unwrap().context),
            common.join("./app")
        );
        assert_eq!(
            remote.volumes[0].source.as_deref().map(Path::new),
            Some(common.join("./data").as_path())
        );
    }

    #[test]
    fn label_files_fold_under_labels_which_win() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.labels"), "team=core\ntier=1\n").unwrap();
        let l = load_text(
            "services:\n  s:\n    image: x\n    label_file: a.labels\n    labels: {tier: '2'}\n    external_links: [db]\n    isolation: process\n",
            &[],
            dir.path(),
        )
        .unwrap();
        let s = &l.project.services["s"];
        assert_eq!(s.labels["team"], "core");
        assert_eq!(s.labels["tier"], "2");
        assert!(s.label_file.is_empty(), "folded in");
        assert_eq!(s.external_links, ["db"]);
        let e = load_text(
            "services:\n  s:\n    image: x\n    label_file: nope.labels\n",
            &[],
            dir.path(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("cannot read label file") && e.contains("nope.labels"),
            "{e}"
        );
        let e = load_text(
            "services:\n  s:\n    image: x\n    isolation: vm\n",
            &[],
            dir.path(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("expected default, process or hyperv"), "{e}");
    }

    #[test]
    fn extends_mistakes_are_named_at_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let err = |text: &str| load_text(text, &[], dir.path()).unwrap_err().to_string();
        let e = err("services:\n  a:\n    extends: b\n  b:\n    extends: a\n");
        assert!(e.contains("goes round in a circle"), "{e}");
        let e = err("services:\n  web:\n    image: x\n  a:\n    extends: wbe\n");
        assert!(
            e.contains("`wbe`") && e.contains("did you mean `web`"),
            "{e}"
        );
        assert!(e.contains(":5:"), "points at the line: {e}");
        let e = err("services:\n  a:\n    extends: {service: x, file: nope.yml}\n");
        assert!(e.contains("nope.yml"), "{e}");
        let e = err("services:\n  a:\n    extends: {servce: x}\n");
        assert!(e.contains("unknown key `servce`"), "{e}");
    }

    #[test]
    fn env_files_fold_under_environment_and_bare_keys_come_from_the_shell() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("app.env"),
            "# comment\nA=from-file\nB=\"quoted value\"\nexport C=3\n",
        )
        .unwrap();
        let l = load_text("services:\n  s:\n    image: x\n    env_file: app.env\n    environment: [A=inline, SHELL_ONLY, MISSING]\n", &[("SHELL_ONLY", "yes")], dir.path()).unwrap();
        let env = &l.project.services["s"].environment;
        assert_eq!(
            env["A"].as_deref(),
            Some("inline"),
            "environment wins over env_file"
        );
        assert_eq!(env["B"].as_deref(), Some("quoted value"));
        assert_eq!(env["C"].as_deref(), Some("3"));
        assert_eq!(env["SHELL_ONLY"].as_deref(), Some("yes"));
        assert!(
            !env.contains_key("MISSING"),
            "a key with no value anywhere is dropped"
        );
    }

    #[test]
    fn dot_env_feeds_interpolation_and_the_shell_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "TAG=from-dotenv\nPORT=1\n").unwrap();
        let l = load_text(
            "services:\n  s:\n    image: \"x:${TAG}\"\n    ports: [\"${PORT}:80\"]\n",
            &[("PORT", "8080")],
            dir.path(),
        )
        .unwrap();
        let s = &l.project.services["s"];
        assert_eq!(s.image.as_deref(), Some("x:from-dotenv"));
        assert_eq!(s.ports[0].published.as_deref(), Some("8080"));
    }

    #[test]
    fn profiles_select_services() {
        let dir = tempfile::tempdir().unwrap();
        let text = "services:\n  app:\n    image: x\n  debug:\n    image: x\n    profiles: [dev]\n";
        let l = load_text(text, &[], dir.path()).unwrap();
        assert_eq!(l.project.services.keys().collect::<Vec<_>>(), ["app"]);
        let l = load_text(text, &[("COMPOSE_PROFILES", "dev")], dir.path()).unwrap();
        assert_eq!(l.project.services.len(), 2);
        let e = load_text("services:\n  app:\n    image: x\n    depends_on: [debug]\n  debug:\n    image: x\n    profiles: [dev]\n", &[], dir.path()).unwrap_err();
        assert!(e.to_string().contains("only in profile(s) dev"), "{e}");
    }

    #[test]
    fn override_files_merge_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("stack.yml"),
            "services:\n  s:\n    image: base\n    environment: {A: '1'}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("stack.override.yml"),
            "services:\n  s:\n    image: over\n    environment: {B: '2'}\n",
        )
        .unwrap();
        let l = load(&LoadOptions {
            cwd: dir.path().to_path_buf(),
            ..LoadOptions::default()
        })
        .unwrap();
        let s = &l.project.services["s"];
        assert_eq!(s.image.as_deref(), Some("over"));
        assert_eq!(s.environment.len(), 2);
        assert_eq!(
            l.project.config_files.len(),
            2,
            "the override beside the file is found"
        );
    }

    #[test]
    fn override_name() {
        assert_eq!(
            override_path(Path::new("/a/stack.yml")).unwrap(),
            Path::new("/a/stack.override.yml")
        );
    }
}
