//! `extends`: a service built on another, in the same file or another, with the override rules of
//! `-f` files and relative paths kept pointing from the file that wrote them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::*;
use crate::manifest::diag::{Diagnostic, nearest, some_of};
use crate::manifest::merge;
use crate::manifest::model::Service;
use crate::manifest::source::Locator;
use crate::manifest::spans::FieldPath;

/// One file's services as written, for `extends` to find a base in.
pub(super) struct ExtendsFile<'a> {
    pub(super) path: &'a Path,
    pub(super) raws: &'a BTreeMap<String, Value>,
    /// Per service, what its `!reset` and `!override` tags clear in what it extends.
    pub(super) cleared: &'a BTreeMap<String, super::tags::ClearedPaths>,
    pub(super) loc: &'a Locator<'a>,
}

/// Decodes service `name` of `file`, first building the service it `extends` (in the same file or
/// in `extends.file`, whose relative paths are made to point where that file meant them) and then
/// merging this one onto it with the override rules.
/// The names joined by arrows; of a long circle, its first and last few.
fn elided(names: &[&str]) -> String {
    if names.len() <= 8 {
        return names.join(" → ");
    }
    format!(
        "{} → … ({} more) → {}",
        names[..4].join(" → "),
        names.len() - 7,
        names[names.len() - 3..].join(" → ")
    )
}

/// The service a raw service definition extends in its own file, if it names one there.
fn same_file_base(raw: Option<&Value>) -> Option<&str> {
    match raw?.as_mapping()?.get("extends")? {
        Value::String(s) => Some(s),
        Value::Mapping(m) if m.get("file").is_none() => m.get("service")?.as_str(),
        _ => None,
    }
}

/// Resolves the services `name` reaches through `extends` in its own file, deepest first and one
/// at a time, so that a chain of any length is resolved without recursing along it; a chain that
/// comes back on itself is refused naming the circle.
fn resolve_same_file_bases_first(
    name: &str,
    file: &ExtendsFile,
    project_dir: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    extending: &mut Extending,
) -> Result<(), Diagnostic> {
    let canonical = extending.canonical(file.path);
    let mut line: Vec<&str> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::from([name]);
    let mut at = name;
    while let Some(base) = same_file_base(file.raws.get(at)) {
        if !file.raws.contains_key(base)
            || extending
                .resolved
                .contains_key(&(canonical.clone(), base.to_owned()))
        {
            break;
        }
        if !seen.insert(base) {
            let mut names: Vec<&str> = std::iter::once(name).chain(line.iter().copied()).collect();
            let start = names.iter().position(|n| *n == base).unwrap_or(0);
            names.drain(..start);
            return Err(file
                .loc
                .diag(
                    &FieldPath::root().key("services").key(name).key("extends"),
                    true,
                    format!(
                        "`extends` goes round in a circle: {} → {base}",
                        elided(&names)
                    ),
                )
                .hint("one of these services must stand on its own"));
        }
        line.push(base);
        at = base;
    }
    // The deepest first: each then finds its own base resolved and goes no deeper.
    for base in line.iter().rev() {
        resolve_extends(base, file, project_dir, lookup, extending)?;
    }
    Ok(())
}

pub(super) fn resolve_extends(
    name: &str,
    file: &ExtendsFile,
    project_dir: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    extending: &mut Extending,
) -> Result<Service, Diagnostic> {
    let spath = FieldPath::root().key("services").key(name);
    let raw = file.raws.get(name).cloned().unwrap_or(Value::Null);
    // The same file reached as `sub/../compose.yaml` and `compose.yaml` must compare equal.
    let canonical = extending.canonical(file.path);
    let key = (canonical, name.to_owned());
    if let Some(done) = extending.resolved.get(&key) {
        return Ok(done.clone());
    }
    resolve_same_file_bases_first(name, file, project_dir, lookup, extending)?;
    let chain = &mut extending.chain;
    if chain.len() >= MAX_EXTENDS_DEPTH {
        return Err(file
            .loc
            .diag(
                &spath.key("extends"),
                true,
                format!(
                    "`extends` goes from file to file more than {MAX_EXTENDS_DEPTH} times (from `{}`)",
                    chain.first().map_or(name, |(_, n)| n.as_str())
                ),
            )
            .hint("let the services extend a common base instead of each other across files"));
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
            let (top, _) = decode_top(top, &other_loc)?;
            let mut raws = top.services.unwrap_or_default();
            let other_tags = super::tags::take_service_tags(&mut raws, &other_loc)?;
            if !raws.contains_key(&base_name) {
                return Err(missing(&raws, &other_path));
            }
            let other_file = ExtendsFile {
                path: &other_path,
                raws: &raws,
                cleared: &other_tags.cleared,
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
    if let Some(cleared) = file.cleared.get(name) {
        super::tags::clear_in(&mut base, cleared).map_err(|e| {
            file.loc.diag(
                &spath,
                true,
                format!("cannot apply `!reset`/`!override` to what `{name}` extends: {e}"),
            )
        })?;
    }
    merge::merge_service(&mut base, local);
    extending.resolved.insert(key, base.clone());
    Ok(base)
}

/// The state of resolving one document's `extends`: the chain being followed (to find circles and
/// bound its length), and every service already resolved, so a long chain is walked once, not once
/// per service on it.
#[derive(Default)]
pub(super) struct Extending {
    chain: Vec<(PathBuf, String)>,
    resolved: HashMap<(PathBuf, String), Service>,
    /// Each file's canonical path, asked of the filesystem once rather than once per service.
    canonical: HashMap<PathBuf, PathBuf>,
}

impl Extending {
    fn canonical(&mut self, path: &Path) -> PathBuf {
        self.canonical
            .entry(path.to_path_buf())
            .or_insert_with(|| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
            .clone()
    }

    /// Starts on another service: the chain of a failed one may have been left behind.
    pub(super) fn begin(&mut self) {
        self.chain.clear();
    }
}

/// Relative paths of a service written in another folder's file point from that folder.
pub(super) fn rebase_paths(svc: &mut Service, from: &Path, project_dir: &Path) {
    let from = if from.is_absolute() {
        from.to_path_buf()
    } else {
        project_dir.join(from)
    };
    let rebase = |p: &str| -> String {
        if Path::new(p).is_absolute() || p.starts_with('~') {
            p.to_owned()
        } else {
            clean(&from.join(p)).to_string_lossy().into_owned()
        }
    };
    // A URL or git context stays what it is.
    if let Some(b) = svc
        .build
        .as_mut()
        .filter(|b| !crate::manifest::is_remote_context(&b.context))
    {
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

/// `a/./b/../c` → `a/c`, without asking the file system (the path may not exist yet).
pub(super) fn clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
