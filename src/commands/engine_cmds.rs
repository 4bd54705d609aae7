//! `up`, `down`, `ps`, `scale`, `build`, `pull`: load the manifest, plan, connect, apply, report.

use std::collections::{BTreeMap, HashSet};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::cli::{CreateArgs, DownArgs, ScaleArgs, UpArgs};
use crate::engine::Daemon;
use crate::engine::backend::UpRequest;
use crate::engine::converge::{self, UpOptions};
use crate::engine::down::DownOptions;
use crate::engine::images::{ImageOptions, PullPolicy};
use crate::exit::{Interrupted, UsageError};
use crate::manifest::Project;
use crate::plan;
use crate::ui;

use super::logs::{AttachOptions, AttachedEnd};
use super::{Ctx, lock};

/// Refuses service names that the manifest does not define, with the nearest one suggested.
pub fn check_services(project: &Project, names: &[String]) -> Result<(), UsageError> {
    for n in names {
        if !project.services.contains_key(n) {
            let known: Vec<&str> = project.services.keys().map(String::as_str).collect();
            let mut e = UsageError::new(format!("no such service: `{n}`"));
            e = match crate::manifest::nearest(n, known.iter().copied()) {
                Some(near) => e.hint(format!("did you mean `{near}`?")),
                None => e.hint(format!(
                    "services in this manifest: {}",
                    crate::manifest::some_of(&known)
                )),
            };
            return Err(e);
        }
    }
    Ok(())
}

/// Parses `SERVICE=N` pairs, checking each against the manifest and its replica limits.
pub fn parse_scale(
    project: &Project,
    pairs: &[String],
) -> Result<BTreeMap<String, u32>, UsageError> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let (svc, n) = pair.split_once('=').ok_or_else(|| {
            UsageError::new(format!("`{pair}` is not SERVICE=N"))
                .hint("for example: stackctl scale flaskapp=3")
        })?;
        check_services(project, &[svc.to_owned()])?;
        let n: u32 = n.trim().parse().map_err(|e: std::num::ParseIntError| {
            let message = match e.kind() {
                std::num::IntErrorKind::PosOverflow => format!(
                    "`{n}` replicas in `{pair}` is more than one engine can run (at most {})",
                    u32::MAX
                ),
                _ => format!("`{n}` in `{pair}` is not a whole number of replicas"),
            };
            UsageError::new(message).hint("for example: stackctl scale flaskapp=3")
        })?;
        if let Some((limit, why)) = project.services[svc].replica_limit()
            && n > limit
        {
            return Err(UsageError::new(format!("service `{svc}` cannot run {n} replicas: {why}"))
                .hint("publish a host port range (\"8000-8009:80\") or drop the host port, then scale"));
        }
        out.insert(svc.to_owned(), n);
    }
    Ok(out)
}

/// Runs `fut` under Ctrl-C: the first asks the engine to start nothing new and lets the steps in
/// flight finish (so the next `up` finds a consistent state); a second abandons them. Exit 130 either way.
pub(super) async fn interruptible<T>(
    daemon: &impl Daemon,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::pin!(fut);
    tokio::select! {
        r = &mut fut => return r,
        _ = tokio::signal::ctrl_c() => {}
    }
    daemon.cancel().cancel();
    ui::note("Interrupted: finishing the steps in flight (press Ctrl+C again to abandon them)");
    tokio::select! {
        _ = &mut fut => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Err(Interrupted.into())
}

/// `work` under the project lock (taken first, released after), interruptible as above.
pub(super) async fn locked<T>(
    daemon: &impl Daemon,
    project: &str,
    verb: &str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    interruptible(daemon, async {
        let _lock = lock::acquire(daemon, project, verb).await?;
        work.await
    })
    .await
}

/// A yes/no COMPOSE_* setting of the environment, read as compose reads it.
fn compose_flag(name: &str) -> bool {
    std::env::var(name)
        .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// `--pull` as the engine takes it: `build` builds instead (see `force_build`), `policy` leaves
/// each service's own `pull_policy`.
pub(super) fn pull_policy(p: crate::cli::PullPolicy) -> Option<PullPolicy> {
    match p {
        crate::cli::PullPolicy::Missing => Some(PullPolicy::Missing),
        crate::cli::PullPolicy::Always => Some(PullPolicy::Always),
        crate::cli::PullPolicy::Never => Some(PullPolicy::Never),
        crate::cli::PullPolicy::Build | crate::cli::PullPolicy::Policy => None,
    }
}

pub fn up(ctx: &Ctx, args: UpArgs) -> Result<ExitCode> {
    let loaded = ctx.load()?;
    let project = &loaded.project;
    // A file with no services is a valid project (it may only define volumes or networks for
    // others to include), but there is nothing to bring up, as compose says too.
    if project.services.is_empty() {
        return Err(
            UsageError::new("no service selected: the project defines no services")
                .hint("add a service under `services:`, or enable one's profile with --profile")
                .into(),
        );
    }
    check_services(project, &args.services)?;
    check_services(project, &args.attach)?;
    check_services(project, &args.no_attach)?;
    check_services(project, args.exit_code_from.as_slice())?;
    let scale = parse_scale(project, &args.create.scale)?;
    let plan = ctx.plan_to_create(project, &scale)?;
    if let Some(svc) = &args.exit_code_from
        && !converge::selection(&plan, &args.services, !args.no_deps).contains(svc)
    {
        return Err(UsageError::new(format!(
            "--exit-code-from {svc}: this `up` does not start {svc}"
        ))
        .hint(format!(
            "name it with the others: stackctl up {} {svc}",
            args.services.join(" ")
        ))
        .into());
    }
    let opts = UpOptions {
        force_recreate: args.create.force_recreate,
        no_recreate: args.create.no_recreate,
        remove_orphans: args.create.remove_orphans,
        ignore_orphans: compose_flag("COMPOSE_IGNORE_ORPHANS"),
        parallel: if ctx.parallel() == 0 {
            16
        } else {
            ctx.parallel()
        },
        wait: args.wait,
        wait_timeout: args.wait_timeout.map(Duration::from_secs),
        images: ImageOptions {
            parallel: ctx.parallel(),
            force_build: args.create.build
                || args.create.pull == Some(crate::cli::PullPolicy::Build),
            no_build: args.create.no_build,
            pull: args.create.pull.and_then(pull_policy),
            no_cache: false,
            build_pull: false,
        },
        with_deps: !args.no_deps,
        start: !args.no_start,
        refusals: std::sync::Arc::new(loaded.deferred.clone()),
        renew_anon_volumes: args.renew_anon_volumes,
        always_recreate_deps: args.always_recreate_deps,
    };
    let detach = args.detach || args.wait || args.no_start;
    // As compose: the log of the services named (not their dependencies, unless
    // --attach-dependencies), of all when none are; --attach chooses instead.
    let named: Option<HashSet<String>> =
        (!args.services.is_empty()).then(|| args.services.iter().cloned().collect());
    let show = if !args.attach.is_empty() {
        Some(args.attach.iter().cloned().collect())
    } else if args.attach_dependencies {
        None
    } else {
        named.clone()
    };
    let mut attach = AttachOptions {
        show,
        // `attach: false` in the manifest hides a service unless --attach names it.
        hide: args
            .no_attach
            .iter()
            .cloned()
            .chain(
                plan.services
                    .values()
                    .filter(|s| !s.attach && !args.attach.contains(&s.name))
                    .map(|s| s.name.clone()),
            )
            .collect(),
        no_color: args.no_color,
        log_prefix: !args.no_log_prefix,
        timestamps: args.timestamps,
        abort_on_exit: args.abort_on_container_exit
            || (args.exit_code_from.is_some() && !args.abort_on_container_failure),
        abort_on_failure: args.abort_on_container_failure,
        // The exit that ends the run is a named service's, else a shown one's.
        watched: named,
        exit_code_from: args.exit_code_from.clone(),
        timeout: args.timeout.map(Duration::from_secs),
        since: None,
        menu: args.menu,
    };
    let started = converge::selection(&plan, &args.services, !args.no_deps);
    if args.create.build {
        loaded.refuse_unbuildable(started.iter().map(String::as_str))?;
    }
    loaded.refuse_missing_values(started.iter().map(String::as_str))?;
    ctx.target().refuse_up(&UpRequest {
        plan: &plan,
        started: &started,
        scaled: &scale,
        single_host_conflicts: &loaded.single_host_conflicts,
        container_flags: &[
            (args.no_start, "--no-start"),
            (args.abort_on_container_exit, "--abort-on-container-exit"),
            (args.exit_code_from.is_some(), "--exit-code-from"),
            (args.no_deps, "--no-deps"),
        ],
    })?;
    let providers = super::providers::needed(project, &args.services, !args.no_deps);
    refuse_external(ctx, project, &providers, &started)?;
    if ctx.global.dry_run {
        return ctx.block_on(async {
            let backend = ctx.backend().await?;
            let changes = backend.preview_up(&plan, &args.services, &opts).await?;
            ui::out(ui::preview::render(&changes))?;
            Ok(ExitCode::SUCCESS)
        });
    }
    // Rules that cannot be followed are refused before anything starts.
    let rules = if args.watch {
        let named: Vec<String> = started
            .iter()
            .filter(|s| project.services[*s].develop.is_some())
            .cloned()
            .collect();
        if named.is_empty() {
            return Err(UsageError::new(
                "--watch: none of the services this `up` starts has `develop.watch` rules",
            )
            .hint("add rules under a service's `develop.watch`, or drop --watch")
            .into());
        }
        Some(super::watch::rules_of(project, &plan, &named)?)
    } else {
        None
    };
    let report = ctx.reporter_quieter(args.create.quiet_pull, args.quiet_build);
    // Provider services first: what they set is part of their dependents' configuration.
    let provided;
    let plan = if providers.is_empty() {
        plan
    } else {
        provided = run_providers(project, &providers, &loaded.variables, &report)?;
        ctx.plan_to_create(&provided, &scale)?
    };
    let ended = ctx.block_on(async {
        let backend = ctx.backend().await?;
        if !detach {
            attach.since = backend.daemon_clock().await;
        }
        let running = locked(
            &backend,
            &plan.project,
            "up",
            backend.up(&plan, &args.services, &opts, &report),
        )
        .await?;
        let watching = async {
            match &rules {
                Some(rules) => {
                    super::watch::follow_rules(&backend, &plan, rules, true, &report).await
                }
                None => std::future::pending().await,
            }
        };
        match running {
            Some(running) if !detach => tokio::select! {
                end = super::logs::attached(backend.containers()?, &plan, running, &attach) => end,
                watched = watching => watched.map(|()| AttachedEnd::Code(ExitCode::SUCCESS)),
            },
            _ if rules.is_some() => interruptible(&backend, watching)
                .await
                .map(|()| AttachedEnd::Code(ExitCode::SUCCESS)),
            _ => Ok(AttachedEnd::Code(ExitCode::SUCCESS)),
        }
    })?;
    match ended {
        AttachedEnd::Code(code) => Ok(code),
        // `d` in attached `up --menu`: the stack runs on, shown by the dashboard.
        AttachedEnd::Dashboard => {
            super::dashboard::run(ctx, crate::cli::DashboardArgs { tail: 50 })?;
            ui::note("The stack keeps running; `stackctl down` stops it");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `create`: `up --no-start` with create's flags.
pub fn create(ctx: &Ctx, args: CreateArgs) -> Result<()> {
    let up_args = UpArgs {
        services: args.services,
        create: args.create,
        no_start: true,
        ..UpArgs::default()
    };
    up(ctx, up_args).map(|_| ())
}

/// Refuses what cannot be done before anything is created: provider services on Swarm or whose
/// program is missing, and models (they need Docker Model Runner, which stackctl does not drive).
fn refuse_external(
    ctx: &Ctx,
    project: &Project,
    providers: &[String],
    started: &[String],
) -> Result<()> {
    ctx.target()
        .refuse_providers(providers.first().map(String::as_str))?;
    super::providers::check_programs(project, providers)?;
    if let Some(svc) = started.iter().find(|s| {
        project
            .services
            .get(*s)
            .is_some_and(|s| !s.models.is_empty())
    }) {
        return Err(UsageError::new(format!(
            "service `{svc}` uses `models`, which Docker Model Runner serves; stackctl does not drive it yet"
        ))
        .hint("run the model with `docker model run` and give the service its URL in `environment:`")
        .into());
    }
    Ok(())
}

/// Runs each provider's `up` in order and returns the project with what they set given to the
/// services that depend on them.
fn run_providers(
    project: &Project,
    providers: &[String],
    variables: &std::collections::HashMap<String, String>,
    report: &crate::engine::Reporter,
) -> Result<Project> {
    let variables: BTreeMap<String, String> = variables
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut out = project.clone();
    for name in providers {
        let Some(provider) = project.services[name].provider.as_ref() else {
            continue;
        };
        let provided =
            super::providers::run(&project.name, name, provider, "up", &variables, report)?;
        super::providers::inject(&mut out, name, &provided);
    }
    Ok(out)
}

pub fn down(ctx: &Ctx, args: DownArgs) -> Result<()> {
    if !args.services.is_empty() {
        // Only these services' containers, as compose's `down SERVICE`: the rest of the project,
        // its networks and its volumes stay.
        return super::everyday::rm(
            ctx,
            crate::cli::RmArgs {
                force: true,
                stop: true,
                volumes: args.volumes,
                all: false,
                services: args.services,
                timeout: args.timeout,
            },
        );
    }
    let loaded = ctx.load()?;
    let plan = plan::build(&loaded.project, &BTreeMap::new());
    let opts = DownOptions {
        volumes: args.volumes,
        rmi: args.rmi,
        remove_orphans: args.remove_orphans,
        timeout: args.timeout.map(Duration::from_secs),
    };
    if ctx.global.dry_run {
        return ctx.block_on(async {
            let changes = ctx.backend().await?.preview_down(&plan, &opts).await?;
            ui::out(ui::preview::render(&changes))?;
            Ok(())
        });
    }
    let report = ctx.reporter();
    ctx.block_on(async {
        let backend = ctx.backend().await?;
        locked(
            &backend,
            &plan.project,
            "down",
            backend.down(&plan, &opts, &report),
        )
        .await
    })?;
    // Then what the providers made, dependents' first.
    super::providers::run_in_reverse(&loaded, &[], "down", &report)
}

pub fn scale(ctx: &Ctx, args: ScaleArgs) -> Result<()> {
    let loaded = ctx.load()?;
    let project = &loaded.project;
    let scale = parse_scale(project, &args.pairs)?;
    let plan = ctx.plan_to_create(project, &scale)?;
    if ctx.global.dry_run {
        return ctx.block_on(async {
            let backend = ctx.backend().await?;
            let changes = backend.preview_scale(&plan, &scale, !args.no_deps).await?;
            ui::out(ui::preview::render(&changes))?;
            Ok(())
        });
    }
    let report = ctx.reporter();
    ctx.block_on(async {
        let backend = ctx.backend().await?;
        let scaling = backend.scale(&plan, &scale, !args.no_deps, &report);
        locked(&backend, &plan.project, "scale", scaling).await
    })
}
