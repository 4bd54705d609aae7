//! `up`, `down`, `ps`, `scale`, `build`, `pull`: load the manifest, plan, connect, apply, report.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::cli::{
    BuildArgs, DownArgs, Format, PsArgs, PullArgs, PushArgs, ScaleArgs, Target, UpArgs,
};
use crate::engine::converge::{self, UpOptions};
use crate::engine::down::{self, DownOptions};
use crate::engine::images::{self, ImageOptions, PullPolicy};
use crate::engine::{self, Engine, observe, swarm};
use crate::exit::{Interrupted, UsageError};
use crate::manifest::{Diagnostics, Loaded, Project};
use crate::plan::{self, Plan};
use crate::ui;

use super::Ctx;
use super::logs::AttachOptions;

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

/// Refuses, before any API call, services among `started` whose replicas cannot all bind their host
/// ports on one engine. A `--scale` count was already checked against the same limit by `parse_scale`.
pub fn refuse_single_host_conflicts(
    loaded: &Loaded,
    started: &[String],
    scale: &BTreeMap<String, u32>,
) -> Result<(), Diagnostics> {
    let mut all = Diagnostics::default();
    for svc in started.iter().filter(|s| !scale.contains_key(*s)) {
        if let Some(d) = loaded.single_host_conflicts.get(svc) {
            all.0.extend(d.0.iter().cloned());
        }
    }
    all.into_result(())
}

/// Runs `fut` under Ctrl-C: the first asks the engine to start nothing new and lets the steps in
/// flight finish (so the next `up` finds a consistent state); a second abandons them. Exit 130 either way.
async fn interruptible<T>(
    engine: &Engine,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::pin!(fut);
    tokio::select! {
        r = &mut fut => return r,
        _ = tokio::signal::ctrl_c() => {}
    }
    engine.cancel.cancel();
    ui::note("Interrupted: finishing the steps in flight (press Ctrl+C again to abandon them)");
    tokio::select! {
        _ = &mut fut => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Err(Interrupted.into())
}

pub fn up(ctx: &Ctx, args: UpArgs) -> Result<ExitCode> {
    let loaded = ctx.load()?;
    let project = &loaded.project;
    check_services(project, &args.services)?;
    check_services(project, &args.attach)?;
    check_services(project, &args.no_attach)?;
    check_services(project, args.exit_code_from.as_slice())?;
    let scale = parse_scale(project, &args.scale)?;
    let plan = plan::build(project, &scale);
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
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        remove_orphans: args.remove_orphans,
        parallel: args.parallel,
        wait: args.wait,
        wait_timeout: args.wait_timeout.map(Duration::from_secs),
        images: ImageOptions {
            force_build: args.build,
            no_build: args.no_build,
            pull: args.pull.map(|p| match p {
                crate::cli::PullPolicy::Missing => PullPolicy::Missing,
                crate::cli::PullPolicy::Always => PullPolicy::Always,
                crate::cli::PullPolicy::Never => PullPolicy::Never,
            }),
            no_cache: false,
            build_pull: false,
        },
        with_deps: !args.no_deps,
        start: !args.no_start,
    };
    let detach = args.detach || args.wait || args.no_start;
    let mut attach = AttachOptions {
        show: (!args.attach.is_empty()).then(|| args.attach.iter().cloned().collect()),
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
        abort_on_exit: args.abort_on_container_exit || args.exit_code_from.is_some(),
        exit_code_from: args.exit_code_from.clone(),
        timeout: args.timeout.map(Duration::from_secs),
        since: None,
    };
    if ctx.global.target == Target::Local {
        let started = converge::selection(&plan, &args.services, !args.no_deps);
        refuse_single_host_conflicts(&loaded, &started, &scale)?;
    }
    let report = ctx.reporter();
    if ctx.global.target == Target::Swarm {
        let local_only = [
            (args.no_start, "--no-start"),
            (args.abort_on_container_exit, "--abort-on-container-exit"),
            (args.exit_code_from.is_some(), "--exit-code-from"),
            (args.no_deps, "--no-deps"),
        ];
        if let Some(svc) = plan.services.values().find(|s| s.network_mode.is_some()) {
            return Err(UsageError::new(format!(
                "service {} sets network_mode, which Swarm services do not have",
                svc.name
            ))
            .hint("leave network_mode out of the Swarm override (Swarm attaches services to the stack's overlay network)")
            .into());
        }
        if let Some((_, flag)) = local_only.iter().find(|(set, _)| *set) {
            return Err(
                UsageError::new(format!("{flag} works on one engine, not on Swarm"))
                    .hint(
                        "Swarm runs services, not containers; drop the flag or use --target local",
                    )
                    .into(),
            );
        }
        ctx.block_on(async {
            let engine = ctx.connect().await?;
            interruptible(
                &engine,
                swarm::up(&engine, &plan, ctx.global.registry.as_deref(), &report),
            )
            .await
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        if !detach {
            attach.since = engine::logs::daemon_clock(&engine).await;
        }
        let running = interruptible(
            &engine,
            converge::up(&engine, &plan, &args.services, &opts, &report),
        )
        .await?;
        if detach {
            return Ok(ExitCode::SUCCESS);
        }
        super::logs::attached(&engine, &plan, running, &attach).await
    })
}

pub fn down(ctx: &Ctx, args: DownArgs) -> Result<()> {
    let loaded = ctx.load()?;
    let plan = plan::build(&loaded.project, &BTreeMap::new());
    let opts = DownOptions {
        volumes: args.volumes,
        rmi: args.rmi,
        remove_orphans: args.remove_orphans,
        timeout: args.timeout.map(Duration::from_secs),
    };
    let report = ctx.reporter();
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        if ctx.global.target == Target::Swarm {
            return interruptible(&engine, swarm::down(&engine, &plan, opts.volumes, &report))
                .await;
        }
        interruptible(&engine, down::down(&engine, &plan, &opts, &report)).await
    })
}

pub fn scale(ctx: &Ctx, args: ScaleArgs) -> Result<()> {
    let loaded = ctx.load()?;
    let project = &loaded.project;
    let scale = parse_scale(project, &args.pairs)?;
    let plan = plan::build(project, &scale);
    let selected: Vec<String> = scale.keys().cloned().collect();
    let opts = UpOptions::keep_existing(!args.no_deps);
    let report = ctx.reporter();
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        if ctx.global.target == Target::Swarm {
            return interruptible(&engine, swarm::scale(&engine, &plan, &scale, &report)).await;
        }
        let targets = if args.no_deps {
            selected_only(&plan, &selected)
        } else {
            plan.clone()
        };
        interruptible(
            &engine,
            converge::up(&engine, &targets, &selected, &opts, &report),
        )
        .await
        .map(|_| ())
    })
}

/// A plan reduced to `selected` services, for `--no-deps`.
fn selected_only(plan: &Plan, selected: &[String]) -> Plan {
    let mut p = plan.clone();
    p.services.retain(|k, _| selected.contains(k));
    p
}

pub fn ps(ctx: &Ctx, args: PsArgs) -> Result<()> {
    let loaded = ctx.load()?;
    check_services(&loaded.project, &args.services)?;
    let name = loaded.project.name.clone();
    if ctx.global.target == Target::Swarm {
        let tasks: Vec<_> = ctx
            .block_on(async {
                let engine = ctx.connect().await?;
                swarm::tasks(&engine, &name, args.all).await
            })?
            .into_iter()
            .filter(|t| args.services.is_empty() || args.services.contains(&t.service))
            .collect();
        ui::out(ui::ps::swarm_tasks(
            &tasks,
            args.quiet,
            args.format == Format::Json,
        )?)?;
        return Ok(());
    }
    let list = ctx.block_on(async {
        let engine = ctx.connect().await?;
        observe::containers(&engine, &name, args.all).await
    })?;
    let list: Vec<_> = list
        .into_iter()
        .filter(|c| args.services.is_empty() || args.services.contains(&c.service))
        .collect();
    if args.quiet {
        for c in &list {
            ui::out(format!("{}\n", c.id))?;
        }
        return Ok(());
    }
    let port_text = |c: &observe::ObservedContainer| {
        let mut ports: Vec<String> = c
            .ports
            .iter()
            .map(|(ip, public, private, proto)| match public {
                Some(p) => format!("{}:{p}->{private}/{proto}", ip.clone().unwrap_or_default()),
                None => format!("{private}/{proto}"),
            })
            .collect();
        ports.sort();
        ports.dedup();
        ports.join(", ")
    };
    match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = list
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "ID": c.id, "Name": c.name, "Service": c.service, "Number": c.number,
                        "State": c.state, "Health": c.health().unwrap_or(""), "Status": c.status,
                        "Image": c.image, "Ports": port_text(c), "OneOff": c.oneoff,
                    })
                })
                .collect();
            ui::out(format!("{}\n", serde_json::to_string_pretty(&rows)?))?;
        }
        _ => {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        c.service.clone(),
                        c.number.to_string(),
                        c.state.clone(),
                        c.health().unwrap_or("").to_owned(),
                        port_text(c),
                    ]
                })
                .collect();
            ui::out(ui::table::render(
                &["NAME", "SERVICE", "#", "STATE", "HEALTH", "PORTS"],
                &rows,
            ))?;
        }
    }
    Ok(())
}

pub fn build(ctx: &Ctx, args: BuildArgs) -> Result<()> {
    let loaded = ctx.load()?;
    check_services(&loaded.project, &args.services)?;
    let plan = plan::build(&loaded.project, &BTreeMap::new());
    let report = ctx.reporter();
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        let services: Vec<_> = plan
            .services
            .values()
            .filter(|s| {
                s.build.is_some() && (args.services.is_empty() || args.services.contains(&s.name))
            })
            .collect();
        let opts = ImageOptions {
            force_build: true,
            no_build: false,
            pull: Some(PullPolicy::Never),
            no_cache: args.no_cache,
            build_pull: args.pull,
        };
        interruptible(
            &engine,
            images::ensure(&engine, &plan.project, &services, opts, &report),
        )
        .await
        .map(|_| ())
    })
}

pub fn pull(ctx: &Ctx, args: PullArgs) -> Result<()> {
    let loaded = ctx.load()?;
    check_services(&loaded.project, &args.services)?;
    let plan = plan::build(&loaded.project, &BTreeMap::new());
    let report = ctx.reporter();
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        let platform_of = |r: &str| {
            plan.services
                .values()
                .find(|s| s.image == r)
                .and_then(|s| s.platform.as_deref())
        };
        let mut refs: Vec<&str> = plan
            .services
            .values()
            .filter(|s| {
                s.build.is_none() && (args.services.is_empty() || args.services.contains(&s.name))
            })
            .map(|s| s.image.as_str())
            .collect();
        refs.sort();
        refs.dedup();
        interruptible(&engine, async {
            for r in refs {
                if args.missing && images::image_id(&engine, r).await?.is_some() {
                    continue;
                }
                images::pull_image(&engine, r, platform_of(r), &report).await?;
            }
            Ok(())
        })
        .await
    })
}

/// Pushes what `build` made, for services that name their image (compose's rule: a service without
/// `build:` pulls its image, and one without `image:` has no repository to push to).
pub fn push(ctx: &Ctx, args: PushArgs) -> Result<()> {
    let loaded = ctx.load()?;
    let project = &loaded.project;
    check_services(project, &args.services)?;
    let named: Vec<String> = project
        .services
        .iter()
        .filter(|(name, s)| {
            s.build.is_some()
                && s.image.is_some()
                && (args.services.is_empty() || args.services.contains(name))
        })
        .map(|(_, s)| s.image.clone().unwrap_or_default())
        .collect();
    if named.is_empty() {
        return Err(UsageError::new("no service here has both `build:` and `image:`")
            .hint("give the built service an `image:` naming its repository, e.g. image: registry.example.com/team/app:1.0")
            .into());
    }
    let report = ctx.reporter();
    ctx.block_on(async {
        let engine = ctx.connect().await?;
        let mut failed = Vec::new();
        for image in &named {
            if images::image_id(&engine, image).await?.is_none() {
                return Err(UsageError::new(format!("image {image} has not been built"))
                    .hint("run `stackctl build` first")
                    .into());
            }
            match images::push_image(&engine, image, &report).await {
                Ok(_) => {}
                Err(e) if args.ignore_push_failures => {
                    ui::note(format!("warning: {e:#}"));
                    failed.push(image.clone());
                }
                Err(e) => return Err(e),
            }
        }
        if !failed.is_empty() {
            anyhow::bail!(
                "{} image(s) not pushed: {}",
                failed.len(),
                failed.join(", ")
            );
        }
        Ok(())
    })
}
