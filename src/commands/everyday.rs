//! The everyday commands: restart, stop, start, wait, pause, kill, rm, top, port, events, images,
//! ls, version, completion. Each is a short recipe over the engine's operations.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use futures::StreamExt;

use crate::cli::{
    CompletionArgs, EventsArgs, Format, KillArgs, PortArgs, RestartArgs, RmArgs, Services,
    ServicesTimeout, StartArgs, VolumesArgs, WaitArgs,
};
use crate::engine::down::{self, DownOptions};
use crate::engine::observe::{self, ContainerState, ObservedContainer};
use crate::engine::preview::Change;
use crate::engine::{self, containers, logs, ops};
use crate::exit::UsageError;
use crate::plan::Plan;
use crate::ui;

use super::project::{service_containers, with_project, with_project_locked};
use super::{Ctx, dry_run, exit_code};

/// What `actions` would do to each of `list`, as `--dry-run` shows it.
fn changes_for(list: &[&ObservedContainer], actions: &[&'static str]) -> Vec<Change> {
    list.iter()
        .flat_map(|c| {
            actions.iter().map(|action| Change {
                object: format!("Container {}", c.name),
                action,
                why: Vec::new(),
            })
        })
        .collect()
}

fn timeout_for(plan: &Plan, service: &str, t: Option<u64>) -> Duration {
    t.map(Duration::from_secs).unwrap_or_else(|| {
        plan.services
            .get(service)
            .map(|s| s.stop_timeout())
            .unwrap_or(Duration::from_secs(10))
    })
}

/// `restart`: the named services and, unless `--no-deps`, the services that depend on them with
/// `restart: true` (as compose's restart does); a service with a healthcheck is back when healthy.
pub fn restart(ctx: &Ctx, args: RestartArgs) -> Result<()> {
    let report = ctx.reporter();
    with_project_locked(ctx, &args.services, "restart", async |engine, plan| {
        let services = if args.no_deps || args.services.is_empty() {
            args.services.clone()
        } else {
            with_dependents(plan, &args.services)
        };
        let list = service_containers(engine, plan, &services, true).await?;
        if dry_run(
            ctx,
            &changes_for(&list.iter().collect::<Vec<_>>(), &["restart"]),
        )? {
            return Ok(());
        }
        let grace = |service: &str| timeout_for(plan, service, args.timeout);
        engine::rolling::restart(engine, plan, &list, grace, &report).await
    })
}

/// `named` and every service that depends on one of them with `restart: true`, directly or not
/// (compose's rule).
fn with_dependents(plan: &Plan, named: &[String]) -> Vec<String> {
    let mut out: Vec<String> = named.to_vec();
    loop {
        let more: Vec<String> = plan
            .services
            .values()
            .filter(|s| {
                !out.contains(&s.name)
                    && s.depends_on
                        .iter()
                        .any(|(d, dep)| dep.restart && out.contains(d))
            })
            .map(|s| s.name.clone())
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

pub fn stop(ctx: &Ctx, args: ServicesTimeout) -> Result<()> {
    let report = ctx.reporter();
    with_project_locked(ctx, &args.services, "stop", async |engine, plan| {
        let list = service_containers(engine, plan, &args.services, false).await?;
        if dry_run(
            ctx,
            &changes_for(&list.iter().collect::<Vec<_>>(), &["stop"]),
        )? {
            return Ok(());
        }
        let targets: Vec<&ObservedContainer> = list.iter().collect();
        let opts = engine::lifecycle::StopOptions {
            timeout: args.timeout.map(Duration::from_secs),
            last_step: true,
        };
        engine::lifecycle::stop_in_order(
            engine,
            plan,
            &targets,
            opts,
            &report,
            engine::lifecycle::nothing_after,
        )
        .await
    })?;
    if ctx.global.dry_run {
        return Ok(());
    }
    // Then the providers that declare a `stop` pause what they made (compose v5's hook).
    super::providers::run_in_reverse(&ctx.load()?, &args.services, "stop", &report)
}

pub fn start(ctx: &Ctx, args: StartArgs) -> Result<()> {
    let report = ctx.reporter();
    with_project_locked(ctx, &args.services, "start", async |engine, plan| {
        let since = engine::lifecycle::now_nanos();
        let list = service_containers(engine, plan, &args.services, true).await?;
        if list.is_empty() {
            return Err(UsageError::new("no containers to start")
                .hint("create them first with `stackctl up -d`")
                .into());
        }
        // A paused container is running: `unpause` is its verb, as in docker compose.
        let stopped: Vec<_> = list
            .iter()
            .filter(|c| !c.running() && c.state != ContainerState::Paused)
            .collect();
        if dry_run(ctx, &changes_for(&stopped, &["start"]))? {
            return Ok(());
        }
        for level in &plan.levels {
            let wave: Vec<_> = list
                .iter()
                .filter(|c| level.contains(&c.service) && !c.running())
                .collect();
            engine::settle_all(wave.iter().map(|c| {
                let report = report.clone();
                async move {
                    let object = format!("Container {}", c.name);
                    engine::step(&report, &object, "Starting", false);
                    containers::start(engine, &c.id, &c.name).await?;
                    engine::step(&report, object, "Started", true);
                    Ok::<_, anyhow::Error>(())
                }
            }))
            .await?;
        }
        if args.wait {
            let targets: Vec<&ObservedContainer> = list
                .iter()
                .filter(|c| c.state != ContainerState::Paused)
                .collect();
            let timeout = args.wait_timeout.map(Duration::from_secs);
            engine::lifecycle::wait_up(engine, plan, &targets, since, timeout).await?;
            for c in &targets {
                engine::step(&report, format!("Container {}", c.name), "Healthy", true);
            }
        }
        Ok(())
    })
}

/// Waits for the services' containers to stop, saying how each ended; with `--down-project`, the
/// first stop takes the project down (which stops the others). Exits with the first non-zero code,
/// so `up -d && wait tests` fails when the tests do.
pub fn wait(ctx: &Ctx, args: WaitArgs) -> Result<ExitCode> {
    let report = ctx.reporter();
    let code = with_project(ctx, &args.services, async |engine, plan| {
        // Stopped ones too: waiting for a container that has already exited gives its code at once.
        let list = service_containers(engine, plan, &args.services, true).await?;
        if list.is_empty() {
            return Err(UsageError::new("no containers to wait for")
                .hint("start them with `stackctl up -d`")
                .into());
        }
        let mut exits: futures::stream::FuturesUnordered<_> = list
            .iter()
            .map(|c| async move { (c, ops::wait_exit(engine, &c.id).await) })
            .collect();
        let mut first_failure = 0;
        while let Some((c, code)) = exits.next().await {
            let code = code?;
            ui::out(format!("{} exited with code {code}\n", c.name))?;
            if first_failure == 0 {
                first_failure = code;
            }
            if args.down_project {
                let opts = DownOptions {
                    volumes: false,
                    rmi: None,
                    remove_orphans: false,
                    timeout: None,
                };
                if ctx.global.dry_run {
                    let changes = engine::preview::down(engine, plan, &opts).await?;
                    ui::out(ui::preview::render(&changes))?;
                } else {
                    down::down(engine, plan, &opts, &report).await?;
                }
                break;
            }
        }
        Ok(first_failure)
    })?;
    Ok(exit_code(code))
}

/// `pause` (freeze) or `unpause` (thaw) every replica of the services that is running or paused.
pub fn pause(ctx: &Ctx, args: Services, freeze: bool) -> Result<()> {
    let report = ctx.reporter();
    let (doing, done) = if freeze {
        ("Pausing", "Paused")
    } else {
        ("Unpausing", "Unpaused")
    };
    with_project(ctx, &args.services, async |engine, plan| {
        let list = service_containers(engine, plan, &args.services, false).await?;
        // Already in the state asked for: nothing to do, as with compose.
        let wanted_from = if freeze {
            ContainerState::Running
        } else {
            ContainerState::Paused
        };
        let todo: Vec<_> = list.iter().filter(|c| c.state == wanted_from).collect();
        if list.is_empty() {
            let verb = if freeze { "pause" } else { "unpause" };
            return Err(UsageError::new(format!("no running containers to {verb}"))
                .hint("start them with `stackctl up -d`")
                .into());
        }
        let action = if freeze { "pause" } else { "unpause" };
        if dry_run(ctx, &changes_for(&todo, &[action]))? {
            return Ok(());
        }
        engine::settle_all(todo.iter().map(|c| {
            let report = report.clone();
            async move {
                engine::step(&report, format!("Container {}", c.name), doing, false);
                containers::set_paused(engine, &c.id, &c.name, freeze).await?;
                engine::step(&report, format!("Container {}", c.name), done, true);
                Ok::<_, anyhow::Error>(())
            }
        }))
        .await?;
        Ok(())
    })
}

pub fn kill(ctx: &Ctx, args: KillArgs) -> Result<()> {
    let report = ctx.reporter();
    with_project(ctx, &args.services, async |engine, plan| {
        let mut list = service_containers(engine, plan, &args.services, false).await?;
        // Containers of services no longer in the manifest only with --remove-orphans (compose's
        // name for it: they are killed, not removed).
        if !args.remove_orphans {
            list.retain(|c| plan.defines(&c.service));
        }
        if dry_run(
            ctx,
            &changes_for(&list.iter().collect::<Vec<_>>(), &["kill"]),
        )? {
            return Ok(());
        }
        for c in &list {
            containers::signal(engine, &c.id, &args.signal).await?;
            engine::step(
                &report,
                format!("Container {}", c.name),
                format!("Killed ({})", args.signal),
                true,
            );
        }
        Ok(())
    })
}

pub fn rm(ctx: &Ctx, args: RmArgs) -> Result<()> {
    let report = ctx.reporter();
    with_project_locked(ctx, &args.services, "rm", async |engine, plan| {
        let list = service_containers(engine, plan, &args.services, true).await?;
        let (running, stopped): (Vec<_>, Vec<_>) = list.iter().partition(|c| c.running());
        let mut changes = changes_for(&stopped, &["remove"]);
        if args.stop {
            changes.extend(changes_for(&running, &["stop", "remove"]));
        }
        if dry_run(ctx, &changes)? {
            return Ok(());
        }
        for c in &list {
            if c.running() {
                if !args.stop {
                    report(engine::Event::Warning(format!(
                        "{} is running; use -s to stop it first",
                        c.name
                    )));
                    continue;
                }
                let opts = engine::lifecycle::StopOptions {
                    timeout: args.timeout.map(Duration::from_secs),
                    last_step: false,
                };
                engine::lifecycle::stop_one(engine, plan, c, opts, &report).await?;
            }
            containers::remove(engine, &c.id, &c.name, args.volumes).await?;
            engine::step(&report, format!("Container {}", c.name), "Removed", true);
        }
        Ok(())
    })
}

pub fn top(ctx: &Ctx, args: Services) -> Result<()> {
    with_project(ctx, &args.services, async |engine, plan| {
        for c in service_containers(engine, plan, &args.services, false).await? {
            let (titles, procs) = ops::top(engine, &c.id, "-ef").await?;
            ui::out(format!("{}\n", c.name))?;
            let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
            ui::out(ui::table::render(&titles, &procs))?;
            ui::out("\n")?;
        }
        Ok(())
    })
}

pub fn port(ctx: &Ctx, args: PortArgs) -> Result<()> {
    let services = vec![args.service.clone()];
    with_project(ctx, &services, async |engine, plan| {
        let list = service_containers(engine, plan, &services, false).await?;
        // compose's default index is 0, meaning the first.
        let index = args.index.max(1);
        let Some(c) = list.iter().find(|c| c.number == index) else {
            // compose's words, which clients match on.
            let which = if args.index > 1 {
                format!(" container #{index}")
            } else {
                String::new()
            };
            bail!("service \"{}\" is not running{which}", args.service);
        };
        let hit = c.ports.iter().find(|(_, public, private, proto)| {
            *private == args.private_port && *proto == args.protocol && public.is_some()
        });
        match hit {
            Some((ip, Some(public), _, _)) => {
                ui::out(format!(
                    "{}:{public}\n",
                    ip.clone()
                        .filter(|i| !i.is_empty())
                        .unwrap_or_else(|| "0.0.0.0".into())
                ))?;
                Ok(())
            }
            _ => {
                let ports: Vec<String> = c
                    .ports
                    .iter()
                    .map(|(_, _, private, proto)| format!("{private}/{proto}"))
                    .collect();
                bail!(
                    "no port {}/{} for container {}: {}",
                    args.private_port,
                    args.protocol,
                    c.name,
                    ports.join(", ")
                )
            }
        }
    })
}

pub fn events(ctx: &Ctx, args: EventsArgs) -> Result<()> {
    let since = args
        .since
        .as_deref()
        .map(super::logs::parse_time)
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(super::logs::parse_time)
        .transpose()?;
    with_project(ctx, &args.services, async |engine, plan| {
        let now = match logs::daemon_clock(engine).await {
            Some(t) => t,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i128),
        };
        let from = since.map_or(now, |s| i128::from(s) * 1_000_000_000);
        let mut s = Box::pin(logs::events_until(engine, &plan.project, from, until));
        loop {
            tokio::select! {
                ev = s.next() => {
                    let Some(ev) = ev else { return Ok(()) };

                    if !args.services.is_empty() && !args.services.contains(&ev.service) {
                        continue;
                    }
                    let line = if args.json {
                        let v = serde_json::json!({"time": ev.time, "type": "container", "action": ev.action, "id": ev.id, "service": ev.service, "container": ev.name});
                        format!("{v}\n")
                    } else {
                        format!("{} container {} {} (service={})\n", ev.time, ev.action, ev.name, ev.service)
                    };
                    ui::out(line)?;
                }
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        }
    })
}

/// `volumes`: the project's volumes (those the named services mount, when some are named).
pub fn volumes(ctx: &Ctx, args: VolumesArgs) -> Result<()> {
    with_project(ctx, &args.services, async |engine, plan| {
        let mounted: Vec<&String> = plan
            .services
            .values()
            .filter(|s| args.services.contains(&s.name))
            .flat_map(|s| &s.mounts)
            .filter(|m| m.kind == crate::manifest::MountKind::Volume)
            .filter_map(|m| m.source.as_ref())
            .collect();
        let list: Vec<_> = observe::volume_details(engine, &plan.project)
            .await?
            .into_iter()
            .filter(|v| args.services.is_empty() || mounted.contains(&&v.name))
            .collect();
        let text = if args.quiet {
            list.iter().map(|v| format!("{}\n", v.name)).collect()
        } else if args.format == Format::Json {
            let rows: Vec<serde_json::Value> = list
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "Name": v.name, "Volume": v.key, "Driver": v.driver, "Mountpoint": v.mountpoint,
                    })
                })
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&rows)?)
        } else {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|v| vec![v.name.clone(), v.key.clone(), v.driver.clone()])
                .collect();
            ui::table::render(&["NAME", "VOLUME", "DRIVER"], &rows)
        };
        ui::out(text)?;
        Ok(())
    })
}

/// Subcommands whose positional arguments are service names.
const TAKES_SERVICES: &str =
    "up|down|ps|logs|build|pull|restart|stop|start|kill|rm|top|images|exec|run|port|scale|events";

/// `man`: the manual page, with a section for each subcommand, from the clap definitions.
pub fn man() -> Result<()> {
    use clap::CommandFactory;
    let cmd = crate::cli::Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("stackctl-{}", sub.get_name());
        let sub = sub.clone().display_name(name);
        out.extend_from_slice(b"\n");
        clap_mangen::Man::new(sub).render(&mut out)?;
    }
    ui::out(String::from_utf8(out)?)?;
    Ok(())
}

pub fn completion(args: CompletionArgs) -> Result<()> {
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "stackctl", &mut out);
    let mut out = String::from_utf8(out)?;
    if args.shell == clap_complete::Shell::Bash {
        // clap's script knows the flags; service names come from the manifest at completion time.
        out.push_str(&format!(
            r#"
_stackctl_services() {{
    _stackctl "$@"
    # The options that choose the manifest are passed on, so the names come from the same one.
    local sub="" w i manifest=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        case "$w" in
            -f|--file|--env-file|--project-directory) manifest+=("$w" "${{COMP_WORDS[i+1]}}"); ((i++)) ;;
            -p|--project-name|--progress|--target|--registry) ((i++)) ;;
            -*) ;;
            *) sub="$w"; break ;;
        esac
    done
    local cur="${{COMP_WORDS[COMP_CWORD]}}"
    case "$sub" in
        {TAKES_SERVICES})
            if [[ "$cur" != -* ]]; then
                COMPREPLY+=( $(compgen -W "$(stackctl "${{manifest[@]}}" config --services 2>/dev/null)" -- "$cur") )
            fi ;;
    esac
}}
complete -F _stackctl_services -o bashdefault -o default stackctl
"#
        ));
    }
    if args.shell == clap_complete::Shell::Zsh {
        // Positional service names complete from the manifest, as in bash.
        out = out
            .lines()
            .map(|l| {
                if l.starts_with("'*::services") && l.ends_with(":_default' \\") {
                    l.replace(":_default' \\", ":_stackctl_services' \\")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        out = out.replacen(
            "\n",
            "\n_stackctl_services() {\n    local -a names\n    names=(${(f)\"$(stackctl config --services 2>/dev/null)\"})\n    _describe 'service' names\n}\n",
            1,
        );
        out.push('\n');
    }
    if args.shell == clap_complete::Shell::Fish {
        out.push_str(&format!(
            "complete -c stackctl -n '__fish_seen_subcommand_from {}' -f -a '(stackctl config --services 2>/dev/null)'\n",
            TAKES_SERVICES.replace('|', " ")
        ));
    }
    ui::out(out)?;
    Ok(())
}
