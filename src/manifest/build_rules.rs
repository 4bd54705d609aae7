//! What a service's `build:` section may ask for, checked from the manifest alone: the keys that
//! exclude each other, secrets and contexts that must be declared, and what no Docker daemon's
//! built-in BuildKit can honour. Missing build inputs are kept apart: compose only checks those
//! when it builds.

use std::collections::BTreeMap;

use super::diag::{Diagnostics, nearest, some_of};
use super::model::{Build, Project};
use super::source::Locator;
use super::spans::FieldPath;

/// The entitlements BuildKit knows; the daemon's `/build` endpoint grants neither.
const ENTITLEMENTS: &[&str] = &["network.host", "security.insecure"];

/// Rules for `services.<name>.build` that hold whatever the command: exclusive keys, references.
pub fn check(p: &Project, name: &str, b: &Build, loc: &Locator, diags: &mut Diagnostics) {
    let bp = FieldPath::root().key("services").key(name).key("build");
    if b.dockerfile_inline.is_some() && b.dockerfile.as_deref().is_some_and(|d| !d.is_empty()) {
        diags.push(
            loc.diag(
                &bp.key("dockerfile_inline"),
                true,
                "`dockerfile` and `dockerfile_inline` are both set",
            )
            .hint("keep one: the Dockerfile's path, or its text inline"),
        );
    }
    let declared: Vec<&str> = p.secrets.keys().map(String::as_str).collect();
    for (i, s) in b.secrets.iter().enumerate() {
        if !p.secrets.contains_key(&s.source) {
            let hint = match nearest(&s.source, declared.iter().copied()) {
                Some(n) => format!("did you mean `{n}`?"),
                None => "declare it under the top-level `secrets:` with `file:` or `environment:`"
                    .to_owned(),
            };
            diags.push(
                loc.diag(
                    &bp.key("secrets").index(i),
                    false,
                    format!("build secret `{}` is not declared", s.source),
                )
                .hint(hint),
            );
        }
    }
    for (key, value) in &b.additional_contexts {
        let at = bp.key("additional_contexts").key(key);
        if let Some(other) = value.strip_prefix("service:") {
            let known: Vec<&str> = p.services.keys().map(String::as_str).collect();
            if !p.services.contains_key(other) {
                let hint = match nearest(other, known.iter().copied()) {
                    Some(n) => format!("did you mean `service:{n}`?"),
                    None => format!("services here: {}", some_of(&known)),
                };
                diags.push(
                    loc.diag(
                        &at,
                        false,
                        format!("context `{key}` names service `{other}`, which is not defined"),
                    )
                    .hint(hint),
                );
            } else if other == name {
                diags.push(
                    loc.diag(
                        &at,
                        false,
                        format!("context `{key}` names this service itself"),
                    )
                    .hint("name another service, whose image this build can use"),
                );
            }
        }
    }
}

/// What no daemon's built-in BuildKit can honour, refused when building (compose's `config` and
/// an `up` of existing images accept these).
fn cannot_honour(p: &Project, name: &str, b: &Build, loc: &Locator, diags: &mut Diagnostics) {
    let bp = FieldPath::root().key("services").key(name).key("build");
    for (i, item) in b.ssh.iter().enumerate() {
        if item != "default" {
            diags.push(
                loc.diag(
                    &bp.key("ssh").index(i),
                    false,
                    format!("ssh `{item}`: only the user's agent, `default`, is supported yet"),
                )
                .hint("use `ssh: [default]` and load the key into the agent (`ssh-add PATH`)"),
            );
        }
    }
    for (key, value) in &b.additional_contexts {
        if is_remote(value) {
            diags.push(
                loc.diag(
                    &bp.key("additional_contexts").key(key),
                    false,
                    format!("context `{key}`: a URL or git context is not supported yet"),
                )
                .hint("clone or download it into a folder and name the folder"),
            );
        }
    }
    if b.platforms.len() > 1 {
        diags.push(
            loc.diag(&bp.key("platforms"), true, "more than one platform: the daemon's image store holds one image per name")
                .hint("list one platform (the one this machine runs), or build multi-platform images with `docker buildx` and a registry"),
        );
    }
    if let (Some(want), Some(first)) = (&p.services[name].platform, b.platforms.first())
        && !b.platforms.contains(want)
    {
        diags.push(
            loc.diag(
                &bp.key("platforms"),
                true,
                format!("the service runs on `{want}` but builds for `{first}`"),
            )
            .hint(format!(
                "add `{want}` to `build.platforms`, or drop the service's `platform`"
            )),
        );
    }
    for (i, e) in b.entitlements.iter().enumerate() {
        let why = if ENTITLEMENTS.contains(&e.as_str()) {
            "the daemon's built-in BuildKit is not given entitlements through its build API"
        } else {
            "it is not a BuildKit entitlement (network.host, security.insecure)"
        };
        diags.push(
            loc.diag(
                &bp.key("entitlements").index(i),
                false,
                format!("entitlement `{e}` cannot be granted: {why}"),
            )
            .hint("drop it; for `network.host` use `build.network: host`"),
        );
    }
    if b.privileged == Some(true) {
        diags.push(
            loc.diag(&bp.key("privileged"), true, "a privileged build (`RUN --security=insecure`) cannot be granted: the daemon's build API has no such entitlement")
                .hint("drop `privileged`, or build this image with `docker buildx` and a builder started with `--allow security.insecure`"),
        );
    }
    for (i, c) in b.cache_to.iter().enumerate() {
        if cache_type(c) != "inline" {
            diags.push(
                loc.diag(&bp.key("cache_to").index(i), false, format!("cache_to `{c}`: the daemon's built-in BuildKit can only keep cache inline in the image"))
                    .hint("use `type=inline`, or drop `cache_to`: the daemon keeps its own build cache"),
            );
        }
    }
    for (i, c) in b.cache_from.iter().enumerate() {
        if !matches!(cache_type(c), "registry" | "image") {
            diags.push(
                loc.diag(&bp.key("cache_from").index(i), false, format!("cache_from `{c}`: only images (or `type=registry,ref=IMAGE`) can seed the daemon's build cache"))
                    .hint("name an image built with inline cache"),
            );
        }
    }
}

/// `type=` of a cache entry; a bare reference is an image.
pub fn cache_type(entry: &str) -> &str {
    if !entry.contains('=') {
        return "image";
    }
    entry
        .split(',')
        .find_map(|kv| kv.strip_prefix("type="))
        .unwrap_or("registry")
}

/// The image reference of a cache_from entry: the bare reference or its `ref=`.
pub fn cache_ref(entry: &str) -> Option<&str> {
    if !entry.contains('=') {
        return Some(entry);
    }
    entry.split(',').find_map(|kv| kv.strip_prefix("ref="))
}

/// A context the daemon fetches itself: a URL (a tarball or a git repository) or `git@…`.
pub fn is_remote(context: &str) -> bool {
    context.contains("://") && !context.starts_with("docker-image://")
        || context.starts_with("git@")
}

/// Build inputs that are missing: a context that is not a folder, a Dockerfile that is not in
/// it, an additional context folder. compose checks them when it builds, so `config`, `pull` and
/// an `up` whose images exist accept the file; `build` and `up --build` refuse these before any
/// API call.
pub fn input_problems(p: &Project, loc: &Locator) -> BTreeMap<String, Diagnostics> {
    let mut out = BTreeMap::new();
    for (name, svc) in &p.services {
        let Some(b) = &svc.build else { continue };
        let bpath = FieldPath::root().key("services").key(name).key("build");
        let ctx = super::host_path(&p.working_dir, &b.context);
        let mut diags = Diagnostics::default();
        cannot_honour(p, name, b, loc, &mut diags);
        if is_remote(&b.context) {
            // The daemon fetches it; what only a local folder can carry is refused.
            let session =
                !b.secrets.is_empty() || !b.ssh.is_empty() || !b.additional_contexts.is_empty();
            if session || b.dockerfile_inline.is_some() {
                diags.push(
                    loc.diag(
                        &bpath,
                        false,
                        format!(
                            "build context `{}` is fetched by the daemon, which cannot then take an inline Dockerfile, secrets, ssh or named contexts",
                            b.context
                        ),
                    )
                    .hint("clone or download it into a folder and point `build.context` at the folder"),
                );
            }
        } else if !ctx.is_dir() {
            diags.push(
                loc.diag(
                    &bpath,
                    false,
                    format!("build context `{}` is not a folder", b.context),
                )
                .hint(format!(
                    "paths are relative to the project directory {}",
                    p.working_dir.display()
                )),
            );
        } else if b.dockerfile_inline.is_none() {
            let dockerfile = b
                .dockerfile
                .as_deref()
                .filter(|d| !d.is_empty())
                .unwrap_or("Dockerfile");
            if !ctx.join(dockerfile).is_file() {
                let at = match &b.dockerfile {
                    Some(_) => bpath.key("dockerfile"),
                    None => bpath.clone(),
                };
                diags.push(
                    loc.diag(
                        &at,
                        false,
                        format!("`{dockerfile}` not found in build context `{}`", b.context),
                    )
                    .hint("add the file, or name another with `build.dockerfile`"),
                );
            }
        }
        for (key, value) in &b.additional_contexts {
            if value.starts_with("service:") || value.contains("://") {
                continue;
            }
            if !super::host_path(&p.working_dir, value).is_dir() {
                diags.push(
                    loc.diag(
                        &bpath.key("additional_contexts").key(key),
                        false,
                        format!("context `{key}`: `{value}` is not a folder"),
                    )
                    .hint("paths are relative to the project directory"),
                );
            }
        }
        if !diags.is_empty() {
            out.insert(name.clone(), diags);
        }
    }
    out
}
