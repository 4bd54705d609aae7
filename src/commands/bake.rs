//! `build --print`: what would be built, as compose prints it: a `docker buildx bake` definition
//! (JSON) with a target per built service and the services asked for as the default group.
//! Nothing is built; the definition can be handed to `docker buildx bake -f -`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::manifest::{Project, Service};
use crate::plan::{BuildPlan, NamedContext, Plan, SecretSource, labels};

/// The command line's part in the definition.
#[derive(Debug, Default)]
pub struct Asked {
    pub pull: bool,
    pub no_cache: bool,
    pub push: bool,
    /// `--ssh` given: `default` or `ID=PATH`.
    pub ssh: Option<String>,
    /// `--check`: the Dockerfiles' checks instead of a build.
    pub check: bool,
}

/// The definition of the builds of `wanted` (service names) of `plan`; every built service of
/// the project is a target, so that one built from another resolves.
pub fn definition(
    project: &Project,
    plan: &Plan,
    wanted: &BTreeSet<String>,
    asked: &Asked,
) -> Value {
    let names = target_names(plan.services.keys());
    // With the builds the asked ones read from (`additional_contexts: service:…`).
    let mut wanted = wanted.clone();
    let mut todo: Vec<String> = wanted.iter().cloned().collect();
    while let Some(s) = todo.pop() {
        let needs = plan.services.get(&s).and_then(|p| p.build.as_ref());
        for n in needs.into_iter().flat_map(BuildPlan::needs) {
            if wanted.insert(n.to_owned()) {
                todo.push(n.to_owned());
            }
        }
    }
    let mut targets = Map::new();
    for (name, svc) in &plan.services {
        let (Some(build), Some(def)) = (&svc.build, project.services.get(name)) else {
            continue;
        };
        let target = target(project, name, def, build, &svc.image, &names, asked);
        targets.insert(names[name].clone(), target);
    }
    let group: Vec<&String> = plan
        .services
        .iter()
        .filter(|(n, s)| s.build.is_some() && wanted.contains(*n))
        .map(|(n, _)| &names[n])
        .collect();
    json!({
        "group": { "default": { "targets": group } },
        "target": targets,
    })
}

/// Each service's target name: dots are not allowed, so `a.b` is `a_b`, and a name taken already
/// gets `_` until it is free (in the services' order, so the same every time).
fn target_names<'a>(services: impl Iterator<Item = &'a String>) -> BTreeMap<String, String> {
    let mut used = BTreeSet::new();
    let mut names = BTreeMap::new();
    for s in services {
        let mut t = s.replace('.', "_");
        while used.contains(&t) {
            t.push('_');
        }
        used.insert(t.clone());
        names.insert(s.clone(), t);
    }
    names
}

/// Bake leaves `${…}` in a value to its own interpolation unless it is written `$${…}`.
fn escaped(s: &str) -> String {
    s.replace("${", "$${")
}

fn target(
    project: &Project,
    name: &str,
    def: &Service,
    build: &BuildPlan,
    image: &str,
    names: &BTreeMap<String, String>,
    asked: &Asked,
) -> Value {
    let raw = def.build.as_ref();
    let mut t = Map::new();
    let mut put = |k: &str, v: Value| {
        let empty = match &v {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            Value::Number(_) => false,
        };
        if !empty {
            t.insert(k.to_owned(), v);
        }
    };
    let context = build
        .remote
        .clone()
        .unwrap_or_else(|| build.context.display().to_string());
    put("context", context.clone().into());
    let contexts: Map<String, Value> = build
        .contexts
        .iter()
        .map(|(k, c)| {
            let v = match c {
                NamedContext::Folder(p) => p.display().to_string(),
                NamedContext::Service { service, .. } => {
                    format!("target:{}", names.get(service).unwrap_or(service))
                }
                NamedContext::Image(i) => raw
                    .and_then(|b| b.additional_contexts.get(k).cloned())
                    .unwrap_or_else(|| format!("docker-image://{i}")),
            };
            (k.clone(), v.into())
        })
        .collect();
    put("contexts", contexts.into());
    if build.dockerfile_inline.is_none() {
        let file = if build.remote.is_some() || build.dockerfile.starts_with('/') {
            build.dockerfile.clone()
        } else {
            build.context.join(&build.dockerfile).display().to_string()
        };
        put("dockerfile", file.into());
    }
    put(
        "dockerfile-inline",
        build.dockerfile_inline.as_deref().map(escaped).into(),
    );
    let args: Map<String, Value> = build
        .args
        .iter()
        .map(|(k, v)| (k.clone(), escaped(v).into()))
        .collect();
    put("args", args.into());
    let mut image_labels: Map<String, Value> = build
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    image_labels.insert(labels::VERSION.into(), crate::cli::COMPOSE_VERSION.into());
    image_labels.insert(labels::PROJECT.into(), project.name.clone().into());
    image_labels.insert(labels::SERVICE.into(), name.into());
    put("labels", image_labels.into());
    let tags: Vec<&str> = build
        .tags
        .iter()
        .map(String::as_str)
        .chain([image])
        .collect();
    put("tags", json!(tags));
    put("cache-from", json!(raw.map(|b| &b.cache_from)));
    put("cache-to", json!(raw.map(|b| &b.cache_to)));
    put("target", json!(build.target));
    let secrets: Vec<String> = build
        .secrets
        .iter()
        .map(|s| match &s.source {
            SecretSource::File(p) => format!("id={},type=file,src={}", s.id, p.display()),
            SecretSource::Env(var) => format!("id={},type=env,env={var}", s.id),
        })
        .collect();
    put("secret", json!(secrets));
    let ssh: Vec<String> = raw
        .map(|b| b.ssh.clone())
        .unwrap_or_default()
        .into_iter()
        .chain(asked.ssh.clone())
        .map(|key| match key.split_once('=') {
            Some((id, path)) => format!("{id}={path}"),
            None => format!("{key}="),
        })
        .collect();
    put("ssh", json!(ssh));
    let platforms = raw.map(|b| b.platforms.clone()).unwrap_or_default();
    put("platforms", json!(platforms));
    put("pull", (build.pull || asked.pull).into());
    put("no-cache", (build.no_cache || asked.no_cache).into());
    put("network", json!(build.network));
    put("no-cache-filter", json!(raw.map(|b| &b.no_cache_filter)));
    // Go's UnitBytes prints as a string of bytes.
    put("shm-size", json!(build.shm_size.map(|b| b.to_string())));
    let hosts: Map<String, Value> = build
        .extra_hosts
        .iter()
        .filter_map(|h| {
            let at = h.find([':', '='])?;
            Some((h[..at].to_owned(), h[at + 1..].to_owned().into()))
        })
        .collect();
    put("extra-hosts", hosts.into());
    let push = asked.push && def.image.is_some();
    let output = if asked.check {
        None
    } else if platforms.len() > 1 {
        Some(format!("type=image,push={push}"))
    } else if push {
        Some("type=registry".to_owned())
    } else {
        Some("type=docker".to_owned())
    };
    put("output", json!(output.map(|o| [o])));
    put("call", json!(asked.check.then_some("lint")));
    Value::Object(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_lose_their_dots_and_stay_unique() {
        let services = ["a.b", "a_b", "web"].map(String::from);
        let names = target_names(services.iter());
        assert_eq!(names["a.b"], "a_b");
        assert_eq!(names["a_b"], "a_b_");
        assert_eq!(names["web"], "web");
    }

    #[test]
    fn bakes_own_interpolation_is_escaped() {
        assert_eq!(escaped("${HOME}/x and $PLAIN"), "$${HOME}/x and $PLAIN");
    }
}
