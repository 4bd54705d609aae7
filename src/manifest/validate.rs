//! Cross-field rules checked before any API call: references, cycles, replicas against fixed ports and
//! names, healthcheck conditions, files that must exist. Every problem is collected, not just the first.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::diag::{Diagnostics, nearest, some_of};
use super::model::{Condition, DeployMode, MountKind, Project, Service};
use super::source::Locator;
use super::spans::FieldPath;

const SIGNALS: &[&str] = &[
    "SIGABRT",
    "SIGALRM",
    "SIGBUS",
    "SIGCHLD",
    "SIGCONT",
    "SIGFPE",
    "SIGHUP",
    "SIGILL",
    "SIGINT",
    "SIGIO",
    "SIGKILL",
    "SIGPIPE",
    "SIGPROF",
    "SIGPWR",
    "SIGQUIT",
    "SIGSEGV",
    "SIGSTKFLT",
    "SIGSTOP",
    "SIGSYS",
    "SIGTERM",
    "SIGTRAP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGUSR1",
    "SIGUSR2",
    "SIGVTALRM",
    "SIGWINCH",
    "SIGXCPU",
    "SIGXFSZ",
];

/// Replicas that cannot share one host: a fixed host port (or too small a range) bound by more
/// containers than it has ports. Right for one engine, wrong for `config` and for Swarm (whose routing
/// mesh lets replicas share a port), so it is kept per service and raised where the target is known.
pub fn single_host_port_conflicts(p: &Project, loc: &Locator) -> BTreeMap<String, Diagnostics> {
    let mut out = BTreeMap::new();
    for (name, svc) in &p.services {
        let replicas = svc.replicas();
        let global = svc.deploy.as_ref().and_then(|d| d.mode) == Some(DeployMode::Global);
        if replicas <= 1 || global {
            continue;
        }
        let sp = FieldPath::root().key("services").key(name);
        let mut diags = Diagnostics::default();
        for (i, port) in svc.ports.iter().enumerate() {
            let Some((a, b)) = port.published_range() else {
                continue;
            };
            let available = u32::from(b - a) + 1;
            if available >= replicas {
                continue;
            }
            let what = if a == b {
                format!("fixed host port {a}")
            } else {
                format!("host range {a}-{b} ({available} ports)")
            };
            diags.push(
                loc.diag(&sp.key("ports").index(i), false, format!("service `{name}` has {replicas} replicas but publishes {what}"))
                    .hint(format!(
                        "only one container can bind a host port: publish a range (\"{a}-{}:{}\"), drop the host port, or use 1 replica",
                        u32::from(a) + replicas - 1,
                        port.target
                    )),
            );
        }
        if !diags.is_empty() {
            out.insert(name.clone(), diags);
        }
    }
    out
}

/// Refuses what cannot be run, naming the field and the fix. With `consistency` false (`config
/// --no-consistency`) references to undeclared networks, volumes, configs and secrets pass.
pub fn validate(
    p: &Project,
    loc: &Locator,
    _vars: &HashMap<String, String>,
    consistency: bool,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    let root = FieldPath::root();
    let names: Vec<&str> = p.services.keys().map(String::as_str).collect();
    let suggest = |bad: &str, pool: &[&str]| match nearest(bad, pool.iter().copied()) {
        Some(n) => format!("did you mean `{n}`?"),
        None => format!("defined here: {}", some_of(pool)),
    };

    for (name, svc) in &p.services {
        let sp = root.key("services").key(name);
        if let Some(b) = &svc.build {
            super::build_rules::check(p, name, b, loc, &mut diags);
        }
        for (which, hooks) in [("post_start", &svc.post_start), ("pre_stop", &svc.pre_stop)] {
            for (i, h) in hooks.iter().enumerate() {
                for (key, set) in [
                    ("image", h.image.is_some()),
                    ("per_replica", h.per_replica.is_some()),
                ] {
                    if set {
                        diags.push(
                            loc.diag(&sp.key(which).index(i).key(key), true, format!("`{key}` is for pre_start hooks; a {which} hook runs inside the service's container"))
                                .hint(format!("remove `{key}`, or make it a pre_start hook")),
                        );
                    }
                }
                if h.command.as_ref().is_none_or(Vec::is_empty) {
                    diags.push(
                        loc.diag(&sp.key(which).index(i), false, format!("a {which} hook needs a `command`"))
                            .hint("give the command to run in the container, e.g. `command: [sh, -c, \"...\"]`"),
                    );
                }
            }
        }
        for (i, h) in svc.pre_start.iter().enumerate() {
            if h.per_replica == Some(true) {
                diags.push(
                    loc.diag(
                        &sp.key("pre_start").index(i).key("per_replica"),
                        true,
                        "`per_replica: true` is not supported yet (nor by compose)",
                    )
                    .hint(
                        "remove it: the hook runs once, before the service's first replica starts",
                    ),
                );
            }
        }
        let rules = svc.develop.iter().flat_map(|d| d.watch.iter());
        for (i, r) in rules.enumerate() {
            let at = sp.key("develop").key("watch").index(i);
            if r.action.syncs() && r.target.is_none() {
                diags.push(
                    loc.diag(&at, false, "a sync rule needs a `target`")
                        .hint("name the folder in the container that `path` is copied to, e.g. `target: /app`"),
                );
            }
            if r.action == crate::manifest::WatchAction::SyncExec
                && r.exec
                    .as_ref()
                    .and_then(|e| e.command.as_ref())
                    .is_none_or(Vec::is_empty)
            {
                diags.push(
                    loc.diag(&at, false, "a sync+exec rule needs `exec.command`")
                        .hint("give the command to run after each sync, e.g. `exec: {command: [kill, -HUP, \"1\"]}`"),
                );
            }
        }
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            diags.push(
                loc.diag(&sp, true, format!("`{name}` is not a valid service name"))
                    .hint("use letters, digits, `.`, `_` and `-`"),
            );
        }
        if let Some(why) = svc.image.as_deref().and_then(super::reference::problem) {
            diags.push(
                loc.diag(&sp.key("image"), false, format!("`image` of service `{name}` is not a valid image reference: {why}"))
                    .hint("write [REGISTRY[:PORT]/]NAME[:TAG][@DIGEST] in lowercase, e.g. `registry.example.com/team/app:1.0`"),
            );
        }
        if let Some(provider) = &svc.provider
            && (provider.kind.is_empty() || provider.kind == "compose")
        {
            diags.push(
                loc.diag(&sp.key("provider").key("type"), false, format!("`{}` is not a provider type", provider.kind))
                    .hint("name the program that manages the service: a Docker CLI plugin `docker-TYPE` or `TYPE` on PATH"),
            );
        }
        for model in svc.models.keys() {
            if !p.models.contains_key(model) {
                let known: Vec<&str> = p.models.keys().map(String::as_str).collect();
                diags.push(
                    loc.diag(&sp.key("models"), true, format!("service `{name}` uses model `{model}`, which the top-level `models:` does not define"))
                        .hint(suggest(model, &known)),
                );
            }
        }
        if svc.image.is_none() && svc.build.is_none() && svc.provider.is_none() {
            diags.push(
                loc.diag(&sp, true, format!("service `{name}` has neither `image` nor `build`"))
                    .hint("add `image: NAME[:TAG]` to run an existing image, or `build: DIR` to build one"),
            );
        }
        for dep in svc.depends_on.keys() {
            if !p.services.contains_key(dep) {
                diags.push(
                    loc.diag(
                        &sp.key("depends_on").key(dep),
                        true,
                        format!("service `{name}` depends on `{dep}`, which is not defined"),
                    )
                    .hint(suggest(dep, &names)),
                );
            }
        }
        for (i, link) in svc.links.iter().enumerate() {
            let target = link.split(':').next().unwrap_or(link);
            if !p.services.contains_key(target) {
                diags.push(
                    loc.diag(
                        &sp.key("links").index(i),
                        false,
                        format!("service `{name}` links to `{target}`, which is not defined"),
                    )
                    .hint(suggest(target, &names)),
                );
            }
        }
        let nets: Vec<&str> = p
            .networks
            .keys()
            .map(String::as_str)
            .chain(["default"])
            .collect();
        for net in svc.networks.keys() {
            if consistency && !p.networks.contains_key(net) && net != "default" {
                diags.push(
                    loc.diag(
                        &sp.key("networks").key(net),
                        true,
                        format!("service `{name}` uses network `{net}`, which is not declared"),
                    )
                    .hint(format!(
                        "declare it under the top-level `networks:`; {}",
                        suggest(net, &nets)
                    )),
                );
            }
        }
        for (i, m) in svc.volumes.iter().enumerate() {
            if consistency
                && m.kind == MountKind::Volume
                && let Some(src) = &m.source
                && !p.volumes.contains_key(src)
            {
                let vols: Vec<&str> = p.volumes.keys().map(String::as_str).collect();
                let mut hint = format!(
                    "declare it under the top-level `volumes:` (`volumes: {{{src}: {{}}}}`)"
                );
                if let Some(n) = nearest(src, vols.iter().copied()) {
                    hint = format!("did you mean `{n}`? Otherwise {hint}");
                }
                hint.push_str(", or write `./");
                hint.push_str(src);
                hint.push_str("` for a bind mount");
                diags.push(
                    loc.diag(
                        &sp.key("volumes").index(i),
                        false,
                        format!("named volume `{src}` is not declared"),
                    )
                    .hint(hint),
                );
            }
            if m.kind == MountKind::Bind && m.source.as_deref().is_some_and(|s| s.is_empty()) {
                diags.push(loc.diag(
                    &sp.key("volumes").index(i),
                    false,
                    "a bind mount needs a source path",
                ));
            }
        }
        for (i, c) in svc.configs.iter().enumerate() {
            if consistency && !p.configs.contains_key(&c.source) {
                diags.push(
                    loc.diag(
                        &sp.key("configs").index(i),
                        false,
                        format!("config `{}` is not declared", c.source),
                    )
                    .hint("declare it under the top-level `configs:` with `file:`"),
                );
            }
        }
        for (i, s) in svc.secrets.iter().enumerate() {
            if consistency && !p.secrets.contains_key(&s.source) {
                diags.push(
                    loc.diag(
                        &sp.key("secrets").index(i),
                        false,
                        format!("secret `{}` is not declared", s.source),
                    )
                    .hint(
                        "declare it under the top-level `secrets:` with `file:` or `environment:`",
                    ),
                );
            }
        }
        let replicas = svc.replicas();
        let global = svc.deploy.as_ref().and_then(|d| d.mode) == Some(DeployMode::Global);
        if replicas > 1 && !global && svc.container_name.is_some() {
            diags.push(
                loc.diag(
                    &sp.key("container_name"),
                    true,
                    format!(
                        "service `{name}` has {replicas} replicas but a fixed `container_name`"
                    ),
                )
                .hint("container names are unique: remove `container_name` or use 1 replica"),
            );
        }
        if svc.network_mode.is_some() && !svc.networks.is_empty() {
            diags.push(
                loc.diag(
                    &sp.key("network_mode"),
                    true,
                    format!("service `{name}` sets both `network_mode` and `networks`"),
                )
                .hint(
                    "a container with its own network mode joins no network: remove one of the two",
                ),
            );
        }
        for (dep, d) in &svc.depends_on {
            // Without a healthcheck in the manifest the image's own may serve (checked when
            // `up` waits); one switched off cannot.
            if d.condition == Condition::ServiceHealthy
                && let Some(target) = p.services.get(dep)
                && target.healthcheck.as_ref().is_some_and(|h| h.is_disabled())
            {
                diags.push(
                    loc.diag(&sp.key("depends_on").key(dep), true, format!("`{name}` waits for `{dep}` to be healthy, but `{dep}` switches its healthcheck off"))
                        .hint(format!("give `{dep}` a `healthcheck:`, or use `condition: service_started`")),
                );
            }
        }
        if let Some(sig) = &svc.stop_signal {
            let canon = if sig.starts_with("SIG") {
                sig.clone()
            } else {
                format!("SIG{sig}")
            };
            if !SIGNALS.contains(&canon.as_str()) && sig.parse::<u32>().is_err() {
                diags.push(
                    loc.diag(
                        &sp.key("stop_signal"),
                        false,
                        format!("`{sig}` is not a signal"),
                    )
                    .hint(format!(
                        "use a name such as SIGTERM or SIGQUIT{}",
                        nearest(&canon, SIGNALS.iter().copied())
                            .map(|n| format!(" (did you mean {n}?)"))
                            .unwrap_or_default()
                    )),
                );
            }
        }
        for (i, f) in svc.env_file.iter().enumerate() {
            if f.required && !super::host_path(&p.working_dir, &f.path).is_file() {
                diags.push(
                    loc.diag(&sp.key("env_file").index(i), false, format!("env_file `{}` {}", f.path, missing_file(&super::host_path(&p.working_dir, &f.path))))
                        .hint(format!("create it, fix the path (relative to {}), or use the long form with `required: false`", p.working_dir.display())),
                );
            }
        }
    }

    for (name, c) in &p.configs {
        let path = root.key("configs").key(name);
        match (&c.file, c.external) {
            (Some(f), _) if !super::host_path(&p.working_dir, f).is_file() => diags.push(
                loc.diag(
                    &path.key("file"),
                    false,
                    format!(
                        "config file `{f}` {}",
                        missing_file(&super::host_path(&p.working_dir, f))
                    ),
                )
                .hint("create it or fix the path"),
            ),
            (Some(_), _) => {}
            (None, Some(true)) => {}
            (None, _) if c.content.is_some() || c.environment.is_some() => {}
            (None, _) => diags.push(
                loc.diag(&path, true, format!("config `{name}` has no source"))
                    .hint("give it `file: PATH`, `content: TEXT` or `environment: VAR`"),
            ),
        }
    }

    for (name, s) in &p.secrets {
        let path = root.key("secrets").key(name);
        if s.content.is_some() {
            diags.push(
                loc.diag(
                    &path.key("content"),
                    true,
                    format!("secret `{name}` has `content`, which only configs have"),
                )
                .hint("write the value to a file and use `file: PATH`"),
            );
        }
        if s.external != Some(true) && s.file.is_none() && s.environment.is_none() {
            diags.push(
                loc.diag(&path, true, format!("secret `{name}` has no source"))
                    .hint("give it `file: PATH` or `environment: VAR`"),
            );
        }
        if let Some(f) = &s.file
            && !super::host_path(&p.working_dir, f).is_file()
        {
            diags.push(
                loc.diag(
                    &path.key("file"),
                    false,
                    format!(
                        "secret file `{f}` {}",
                        missing_file(&super::host_path(&p.working_dir, f))
                    ),
                )
                .hint("create it or fix the path"),
            );
        }
    }

    // Container names are unique on an engine: two services cannot both claim one.
    let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, svc) in &p.services {
        let Some(cname) = svc.container_name.as_deref() else {
            continue;
        };
        match claimed.get(cname) {
            Some(first) => diags.push(
                loc.diag(
                    &root.key("services").key(name).key("container_name"),
                    false,
                    format!("service `{name}` takes container_name `{cname}`, which service `{first}` already has"),
                )
                .hint("give each service its own container_name, or leave it out (stackctl names containers <project>-<service>-<n>)"),
            ),
            None => {
                claimed.insert(cname, name);
            }
        }
    }

    if let Some(cycle) = find_cycle(p) {
        // Each edge may come from `depends_on` or from a service whose container another needs
        // first (`volumes_from`, `network_mode: service:`): name the field that made it.
        let edges: Vec<(&str, &str, &str)> = cycle
            .windows(2)
            .map(|w| {
                (
                    w[0].as_str(),
                    w[1].as_str(),
                    edge_field(&p.services[&w[0]], &w[1]),
                )
            })
            .collect();
        let mut shown = cycle[0].clone();
        for (_, to, field) in &edges {
            shown.push_str(&format!(" → {to} ({field})"));
        }
        let fixes: Vec<String> = edges
            .iter()
            .map(|(from, to, field)| format!("`{to}` from services.{from}.{field}"))
            .collect();
        let (first, _, field) = edges[0];
        diags.push(
            loc.diag(
                &root.key("services").key(first).key(field),
                true,
                format!("dependency cycle: {shown}"),
            )
            .hint(format!(
                "services cannot wait for each other; remove one of: {}",
                fixes.join(", ")
            )),
        );
    }
    diags.into_result(())
}

/// The field through which `svc` depends on `on`.
fn edge_field(svc: &Service, on: &str) -> &'static str {
    if svc.network_mode.as_ref().and_then(|m| m.service()) == Some(on) {
        "network_mode"
    } else if super::container_sources(svc).iter().any(|s| s == on) {
        "volumes_from"
    } else {
        "depends_on"
    }
}

/// "does not exist", or "is a folder" when the path names one.
fn missing_file(path: &Path) -> &'static str {
    if path.is_dir() {
        "is a folder, not a file"
    } else {
        "does not exist"
    }
}

/// A dependency cycle as the list of services on it, the first repeated at the end.
pub fn find_cycle(p: &Project) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> =
        p.services.keys().map(|k| (k.as_str(), Mark::New)).collect();
    // Iterative DFS: a deep chain in a hostile manifest must not overflow the stack.
    for start in p.services.keys() {
        if marks[start.as_str()] != Mark::New {
            continue;
        }
        let mut stack: Vec<(&str, Vec<&str>)> = Vec::new();
        let deps = |n: &str| -> Vec<&str> {
            p.services
                .get(n)
                .map(|s| {
                    s.depends_on
                        .keys()
                        .map(String::as_str)
                        .filter(|d| p.services.contains_key(*d))
                        .collect()
                })
                .unwrap_or_default()
        };
        marks.insert(start, Mark::Active);
        stack.push((start, deps(start)));
        while let Some((node, pending)) = stack.last_mut() {
            let node = *node;
            match pending.pop() {
                Some(next) => match marks[next] {
                    Mark::Active => {
                        let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            stack[from..].iter().map(|(n, _)| n.to_string()).collect();
                        cycle.push(next.to_owned());
                        return Some(cycle);
                    }
                    Mark::New => {
                        marks.insert(next, Mark::Active);
                        let d = deps(next);
                        stack.push((next, d));
                    }
                    Mark::Done => {}
                },
                None => {
                    marks.insert(node, Mark::Done);
                    stack.pop();
                }
            }
        }
    }
    None
}
