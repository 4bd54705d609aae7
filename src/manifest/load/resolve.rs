//! After merging: profiles, dependencies implied by shared containers, and `env_file` and
//! `label_file` folded into the values they feed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::*;
use crate::manifest::diag::{Diagnostic, Diagnostics, nearest};
use crate::manifest::model::{NetworkMode, Project, Service};
use crate::manifest::source::Locator;
use crate::manifest::spans::FieldPath;

/// Drops services whose `profiles` are not active (COMPOSE_PROFILES, comma-separated), as compose
/// does; an active service that depends on a dropped one is an error that names the profile.
pub(super) fn apply_profiles(
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
    let dropped: BTreeSet<String> = project
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
        if let Some(svc) = project.services.remove(&name) {
            project.disabled_services.insert(name, svc.profiles);
        }
    }
    let remaining: BTreeSet<String> = project.services.keys().cloned().collect();
    for svc in project.services.values_mut() {
        let (kept, inactive) = std::mem::take(&mut svc.depends_on)
            .into_iter()
            .partition(|(dep, _)| remaining.contains(dep));
        svc.depends_on = kept;
        svc.inactive_depends_on = inactive;
    }
    Ok(())
}

/// The service whose network stack `svc` shares (`network_mode: service:X`).
fn network_service(svc: &Service) -> Option<String> {
    svc.network_mode
        .as_ref()
        .and_then(NetworkMode::service)
        .map(str::to_owned)
}

/// The services a service's containers are made from (`network_mode: service:X`, `volumes_from: X`).
pub fn container_sources(svc: &Service) -> Vec<String> {
    let from_ipc = svc
        .ipc
        .as_deref()
        .and_then(|m| m.strip_prefix("service:"))
        .map(str::to_owned);
    let from_volumes = svc
        .volumes_from
        .iter()
        .filter(|v| !v.starts_with("container:"))
        .map(|v| v.split(':').next().unwrap_or(v).to_owned());
    network_service(svc)
        .into_iter()
        .chain(from_ipc)
        .chain(from_volumes)
        .collect()
}

/// The services a service needs before it starts without saying so in `depends_on`, each with
/// the field that names it and compose's `restart` for the implied dependency (a container that
/// shares another's network or IPC namespace, or links to it, is restarted with it).
fn implied_dependencies(svc: &Service) -> Vec<(String, &'static str, bool)> {
    let mode = |m: &Option<String>| {
        m.as_deref()
            .and_then(|m| m.strip_prefix("service:"))
            .map(str::to_owned)
    };
    let mut out = Vec::new();
    if let Some(s) = network_service(svc) {
        out.push((s, "network_mode", true));
    }
    if let Some(s) = mode(&svc.ipc) {
        out.push((s, "ipc", true));
    }
    for v in svc
        .volumes_from
        .iter()
        .filter(|v| !v.starts_with("container:"))
    {
        out.push((
            v.split(':').next().unwrap_or(v).to_owned(),
            "volumes_from",
            false,
        ));
    }
    for l in &svc.links {
        out.push((l.split(':').next().unwrap_or(l).to_owned(), "links", true));
    }
    out
}

/// A service that takes another's network namespace or volumes needs that service's container
/// first: the reference becomes a `depends_on` (started), as in compose, after checking that the
/// service exists — so ordering, cycles and `up SERVICE` all see it.
pub(super) fn add_implicit_dependencies(
    project: &mut Project,
    loc: &Locator,
) -> Result<(), Diagnostics> {
    let names: Vec<String> = project.services.keys().cloned().collect();
    let mut diags = Diagnostics::default();
    for (name, svc) in project.services.iter_mut() {
        for (source, field, restart) in implied_dependencies(svc) {
            if !names.contains(&source) {
                if field == "links" {
                    // Validation says which link, with the nearest service.
                    continue;
                }
                let field = FieldPath::root().key("services").key(name).key(field);
                let d = loc.diag(&field, false, format!("service `{source}` is not defined"));
                diags.push(match nearest(&source, names.iter().map(String::as_str)) {
                    Some(n) => d.hint(format!("did you mean `{n}`?")),
                    None => d.hint(
                        "name a service of this manifest, or container:NAME for another container",
                    ),
                });
                continue;
            }
            let dep = svc
                .depends_on
                .entry(source)
                .or_insert(crate::manifest::Dependency {
                    condition: crate::manifest::Condition::ServiceStarted,
                    required: true,
                    restart: false,
                });
            dep.restart |= restart;
        }
    }
    if diags.is_empty() { Ok(()) } else { Err(diags) }
}

/// Folds `label_file` contents under `labels`, which win, as compose does.
pub(super) fn resolve_label_files(
    project: &mut Project,
    vars: &HashMap<String, String>,
) -> Result<(), Diagnostics> {
    let lookup = |k: &str| vars.get(k).cloned();
    for svc in project.services.values_mut() {
        let mut labels = BTreeMap::new();
        for f in std::mem::take(&mut svc.label_file) {
            let path = project.working_dir.join(&f);
            let pairs = read_env_file(&path, &lookup).map_err(|_| {
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
pub(super) fn resolve_environment(
    project: &mut Project,
    vars: &HashMap<String, String>,
) -> Result<(), Diagnostics> {
    let lookup = |k: &str| vars.get(k).cloned();
    for svc in project.services.values_mut() {
        let mut env: BTreeMap<String, Option<String>> = BTreeMap::new();
        for f in std::mem::take(&mut svc.env_file) {
            let path = project.working_dir.join(&f.path);
            if !path.is_file() && !f.required {
                continue;
            }
            let pairs = if f.raw {
                read_raw_env_file(&path)?
            } else {
                read_env_file(&path, &lookup)?
            };
            for (k, v) in pairs {
                env.insert(k, Some(v));
            }
        }
        for (k, v) in std::mem::take(&mut svc.environment) {
            let v = v.or_else(|| vars.get(&k).cloned());
            env.insert(k, v);
        }
        // A name without a value that nothing sets stays, as `NAME: null` (compose's `config`
        // prints it so); it reaches no container.
        svc.environment = env;
        if let Some(b) = &mut svc.build {
            // An empty `dockerfile:` (an unset variable) means the default, as in compose, and
            // stays empty in the model so that `config` prints it as compose does (left out).
            for (k, v) in b.args.iter_mut() {
                if v.is_none() {
                    *v = vars.get(k).cloned();
                }
            }
            b.args.retain(|_, v| v.is_some());
        }
    }
    Ok(())
}

/// An env_file in `format: raw`: `KEY=VALUE` lines taken as written (no quotes removed, nothing
/// interpolated); blank lines and `#` comments are skipped.
fn read_raw_env_file(path: &std::path::Path) -> Result<Vec<(String, String)>, Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new(format!("cannot read env_file {}: {e}", path.display()))
            .hint("check the path (relative to the project folder)")
    })?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.to_owned()),
            None => (l.trim().to_owned(), String::new()),
        })
        .collect())
}

/// Reads the value of each secret and config that comes from an `environment:` variable, as compose
/// does (the process environment, then `.env`); an unset variable is an error at its line.
/// Reads the values of secrets and configs given by `environment:`. One whose variable is unset is
/// no error for reading the project (compose's `config` accepts it); it is returned, per service
/// that mounts it, for the commands that start containers to refuse.
pub(super) fn file_values(
    project: &mut Project,
    vars: &HashMap<String, String>,
    loc: &Locator,
) -> BTreeMap<String, Diagnostics> {
    let mut problems: BTreeMap<String, Diagnostics> = BTreeMap::new();
    let users = |section: &str, name: &str| -> Vec<String> {
        project
            .services
            .iter()
            .filter(|(_, s)| {
                let refs = if section == "secrets" {
                    &s.secrets
                } else {
                    &s.configs
                };
                refs.iter().any(|r| r.source == name)
            })
            .map(|(n, _)| n.clone())
            .collect()
    };
    let mut unset = Vec::new();
    for (section, defs) in [("secrets", &project.secrets), ("configs", &project.configs)] {
        for (name, def) in defs {
            if let Some(var) = def.environment.clone().filter(|_| def.file.is_none())
                && !vars.contains_key(&var)
            {
                unset.push((section, name.clone(), var));
            }
        }
    }
    for (section, name, var) in unset {
        for service in users(section, &name) {
            problems.entry(service).or_default().push(
                loc.diag(
                    &FieldPath::root().key(section).key(&name).key("environment"),
                    true,
                    format!("`{name}` comes from the environment variable {var}, which is not set"),
                )
                .hint(format!(
                    "export {var}=… before running stackctl, or set it in the project's .env"
                )),
            );
        }
    }
    for defs in [&mut project.secrets, &mut project.configs] {
        for def in defs.values_mut() {
            if let Some(var) = def.environment.as_ref().filter(|_| def.file.is_none()) {
                def.resolved = vars.get(var).cloned();
            }
        }
    }
    problems
}
