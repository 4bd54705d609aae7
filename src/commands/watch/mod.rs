//! `watch`: brings the services up, then follows their `develop.watch` rules — files that change
//! here are copied into the running containers (or deleted there), the containers restarted, a
//! command run in them, or the service rebuilt and recreated. Changes that arrive together (a
//! `git checkout`, an editor saving many files) are one batch: the batch ends when the files have
//! been quiet for `SETTLE` when it only copies files, for `QUIET` when it restarts, runs a command
//! or rebuilds.

mod rules;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::Ctx;
use super::engine_cmds::interruptible;
use crate::cli::WatchArgs;
use crate::engine::backend::Backend;
use crate::engine::converge::UpOptions;
use crate::engine::images::ImageOptions;
use crate::engine::{self, Daemon, Engine, Reporter, archive, observe};
use crate::plan::{HookPlan, Plan, hook_plan};
use crate::ui;
pub(super) use rules::Rule;
use rules::Work;

/// How long files must stay quiet before a batch of copies is acted on. One save arrives as 2–4
/// events under 2.2 ms apart, a `git checkout` of 200 files as 600 events at most 3.3 ms apart
/// (5 ms on a busy machine; `benches/save_gaps.py`); a save split in two anyway costs only a
/// second copy of the newest content.
const SETTLE: Duration = Duration::from_millis(25);
/// How long files must stay quiet before a batch that restarts, runs a command or rebuilds is
/// acted on: doing one of those twice for one save costs seconds.
const QUIET: Duration = Duration::from_millis(250);
/// A batch is acted on after this long even while files keep changing.
const LONGEST_BATCH: Duration = Duration::from_secs(2);

pub fn run(ctx: &Ctx, args: WatchArgs) -> Result<ExitCode> {
    let loaded = ctx.load()?;
    super::check_services(&loaded.project, &args.services)?;
    let plan = ctx.plan_to_create(&loaded.project, &BTreeMap::new())?;
    let rules = rules_of(&loaded.project, &plan, &args.services)?;
    // --quiet hides the builds' output, as compose's does.
    let report = ctx.reporter_quieter(false, args.quiet);
    ctx.block_on(async {
        let backend = ctx.backend().await?;
        interruptible(&backend, async {
            if !args.no_up {
                let _lock = super::lock::acquire(&backend, &plan.project, "watch").await?;
                // The services named (all when none is), as compose's `watch` brings them up.
                backend
                    .up(&plan, &args.services, &up_options(false), &report)
                    .await?;
            }
            follow_rules(&backend, &plan, &rules, args.prune, &report).await
        })
        .await
        .map(|()| ExitCode::SUCCESS)
    })
}

/// Follows `rules` until interrupted; a rebuild goes through `backend`'s `up`, and with `prune`
/// the image it replaced goes once untagged.
pub(super) async fn follow_rules(
    backend: &Backend,
    plan: &Plan,
    rules: &[Rule],
    prune: bool,
    report: &Reporter,
) -> Result<()> {
    let engine = backend.containers()?;
    follow(engine, plan, rules, report, |services| async move {
        let _lock = super::lock::acquire(backend, &plan.project, "watch").await?;
        backend
            .up(plan, &services, &up_options(true), report)
            .await?;
        if prune {
            crate::engine::images::prune_dangling(engine, &plan.project).await?;
        }
        Ok(())
    })
    .await
}

/// `up -d` of the services first; a rebuild builds one service and recreates it alone.
fn up_options(rebuild: bool) -> UpOptions {
    let mut opts = UpOptions::keep_existing(!rebuild);
    opts.no_recreate = false;
    opts.images = ImageOptions {
        force_build: rebuild,
        ..ImageOptions::default()
    };
    opts
}

/// The rules of the named services (all when none are named) that have any.
pub(super) fn rules_of(
    project: &crate::manifest::Project,
    plan: &Plan,
    selected: &[String],
) -> Result<Vec<Rule>> {
    let mut rules = Vec::new();
    for (name, svc) in &project.services {
        if !selected.is_empty() && !selected.contains(name) {
            continue;
        }
        let context = plan
            .services
            .get(name)
            .and_then(|s| s.build.as_ref())
            .map(|b| b.context.clone())
            .filter(|c| c.is_dir());
        let ignore_text = context
            .as_ref()
            .and_then(|c| std::fs::read_to_string(c.join(".dockerignore")).ok())
            .unwrap_or_default();
        for rule in svc.develop.iter().flat_map(|d| d.watch.iter()) {
            rules.push(Rule::new(
                name,
                rule,
                &plan.working_dir,
                context.clone().map(|c| (c, ignore_text.as_str())),
            ));
        }
    }
    if rules.is_empty() {
        bail!(crate::exit::UsageError::new(if selected.is_empty() {
            "no service has `develop.watch` rules: there is nothing to watch".to_owned()
        } else {
            format!("{} has no `develop.watch` rules", selected.join(", "))
        })
        .hint("add rules under the service, e.g. `develop: {watch: [{path: ./web, action: sync, target: /app}]}`"));
    }
    for r in &rules {
        if !r.root.exists() {
            bail!(
                crate::exit::UsageError::new(format!(
                    "services.{}.develop.watch: {} does not exist",
                    r.service,
                    r.root.display()
                ))
                .hint("create it, or correct the rule's `path` (relative to the project folder)")
            );
        }
    }
    Ok(rules)
}

/// Watches the rules' paths until interrupted, acting on each batch of changes.
async fn follow<F, Fut>(
    engine: &Engine,
    plan: &Plan,
    rules: &[Rule],
    report: &Reporter,
    rebuild: F,
) -> Result<()>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<(PathBuf, bool)>();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        use notify::EventKind::{Create, Modify, Remove};
        // Only writes count: our own reading of the files (to copy them) makes access events.
        if let Ok(e) = e
            && matches!(e.kind, Create(_) | Modify(_) | Remove(_))
            && !matches!(e.kind, Modify(notify::event::ModifyKind::Metadata(_)))
        {
            for p in e.paths {
                let exists = p.exists();
                let _ = tx.send((p, exists));
            }
        }
    })
    .context("starting to watch files")?;
    let mut roots: Vec<&PathBuf> = rules.iter().map(|r| &r.root).collect();
    roots.sort();
    roots.dedup();
    for root in roots {
        watcher
            .watch(root, RecursiveMode::Recursive)
            .with_context(|| format!("watching {}", root.display()))?;
    }
    for (i, r) in rules.iter().enumerate().filter(|(_, r)| r.initial_sync) {
        let files = files_under(&r.root);
        let mut w = Work {
            because: vec![format!("initial sync of rule {}", i + 1)],
            ..Work::default()
        };
        w.copy = files
            .into_iter()
            .filter(|f| r.covers(f))
            .filter_map(|f| r.container_path(&f).map(|to| (f, to)))
            .collect();
        act(engine, plan, rules, &r.service, w, report, &rebuild).await?;
    }
    say(format!(
        "Watching {} for changes (Ctrl+C to stop)",
        rules
            .iter()
            .map(|r| r.service.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    loop {
        // Ctrl+C ends watching at once; a batch being acted on finishes its steps first.
        let first = tokio::select! {
            first = rx.recv() => first,
            () = engine.cancel().cancelled() => None,
        };
        let Some((path, exists)) = first else { break };
        let mut costly = rules::costly(rules, &path, exists, &plan.working_dir);
        let mut batch: BTreeMap<PathBuf, bool> = BTreeMap::from([(path, exists)]);
        let began = Instant::now();
        while began.elapsed() < LONGEST_BATCH {
            let quiet = if costly { QUIET } else { SETTLE };
            match tokio::time::timeout(quiet, rx.recv()).await {
                Ok(Some((p, exists))) => {
                    costly = costly || rules::costly(rules, &p, exists, &plan.working_dir);
                    batch.insert(p, exists);
                }
                _ => break,
            }
        }
        // A folder that appears brings its files: some were made before the folder was watched.
        let mut changed: BTreeMap<PathBuf, bool> = BTreeMap::new();
        for (path, exists) in batch {
            if exists && path.is_dir() {
                changed.extend(files_under(&path).into_iter().map(|f| (f, true)));
            } else {
                changed.insert(path, exists);
            }
        }
        let changed: Vec<(PathBuf, bool)> = changed.into_iter().collect();
        for (service, w) in rules::work(rules, &changed, &plan.working_dir) {
            act(engine, plan, rules, &service, w, report, &rebuild).await?;
        }
    }
    Ok(())
}

/// Every file under `root` (or `root` itself when it is a file).
fn files_under(root: &std::path::Path) -> Vec<PathBuf> {
    if root.is_file() {
        return vec![root.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => todo.push(e.path()),
                Ok(t) if t.is_file() => out.push(e.path()),
                _ => {}
            }
        }
    }
    out
}

/// Carries out one service's work and says so in one line.
async fn act<F, Fut>(
    engine: &Engine,
    plan: &Plan,
    rules: &[Rule],
    service: &str,
    w: Work,
    report: &Reporter,
    rebuild: &F,
) -> Result<()>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let t = Instant::now();
    let what = summary(&w.because);
    if w.rebuild {
        say(format!("⟳ {service}: {what} changed: rebuilding"))?;
        rebuild(vec![service.to_owned()]).await?;
        say(format!(
            "✔ {service}: rebuilt and recreated in {:.1} s",
            t.elapsed().as_secs_f64()
        ))?;
        return Ok(());
    }
    let containers: Vec<observe::ObservedContainer> =
        observe::containers(engine, &plan.project, false)
            .await?
            .into_iter()
            .filter(|c| c.service == service && !c.oneoff && c.running())
            .collect();
    let grace = plan
        .services
        .get(service)
        .map_or(Duration::from_secs(10), |s| s.stop_timeout());
    let delete: Vec<HookPlan> = (!w.delete.is_empty())
        .then(|| HookPlan {
            command: ["rm", "-rf", "--"]
                .into_iter()
                .map(String::from)
                .chain(w.delete.iter().cloned())
                .collect(),
            user: None,
            privileged: false,
            working_dir: None,
            env: Vec::new(),
        })
        .into_iter()
        .collect();
    let execs: Vec<HookPlan> = w
        .exec
        .iter()
        .filter_map(|i| rules[*i].exec.as_ref().map(hook_plan))
        .collect();
    engine::settle_all(containers.iter().map(|c| {
        let (w, delete, execs) = (&w, &delete, &execs);
        async move {
            if !w.copy.is_empty() {
                archive::put_host_files(engine, &c.id, &w.copy).await?;
            }
            engine::hooks::run(engine, &c.id, &c.name, delete, "watch", report).await?;
            if w.restart {
                engine::ops::restart(engine, &c.id, grace).await?;
            }
            engine::hooks::run(engine, &c.id, &c.name, execs, "watch", report).await
        }
    }))
    .await?;
    let mut done = Vec::new();
    if !w.copy.is_empty() || !w.delete.is_empty() {
        done.push(format!(
            "synced {} file(s), deleted {}",
            w.copy.len(),
            w.delete.len()
        ));
    }
    if w.restart {
        done.push("restarted".to_owned());
    }
    if !w.exec.is_empty() {
        done.push(format!("ran {} command(s)", w.exec.len()));
    }
    say(format!(
        "✔ {service}: {what} → {} in {} container(s), {} ms",
        done.join(", "),
        containers.len(),
        t.elapsed().as_millis()
    ))
}

/// One line of what watch did, on stdout: it is this command's output.
fn say(line: String) -> Result<()> {
    Ok(ui::out(line + "\n")?)
}

/// `a.py, b.py and 3 more`.
fn summary(files: &[String]) -> String {
    match files.len() {
        0..=3 => files.join(", "),
        n => format!("{} and {} more", files[..2].join(", "), n - 2),
    }
}
