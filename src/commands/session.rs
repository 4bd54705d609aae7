//! The commands that connect this terminal to a container: `exec`, `run` and `attach`. Output is
//! copied through as the container writes it, stdin forwarded, a TTY put in raw mode for the
//! session; each exits with the container's (or the exec'd process's) code.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::project::{service_containers, with_project, with_project_checked};
use super::{Ctx, exit_code, note_unhonoured};
use crate::cli::{AttachArgs, ExecArgs, RunArgs};
use crate::engine::converge::{self, UpOptions};
use crate::engine::images::ImageOptions;
use crate::engine::observe::ObservedContainer;
use crate::engine::{Engine, containers, ops};
use crate::exit::UsageError;
use crate::plan::Plan;
use crate::ui::term::{self, RawMode};

/// Replica `index` of `service`, which must be running.
async fn running_replica(
    engine: &Engine,
    plan: &Plan,
    service: &str,
    index: u32,
) -> Result<ObservedContainer> {
    let list = service_containers(engine, plan, &[service.to_owned()], false).await?;
    list.into_iter().find(|c| c.number == index).ok_or_else(|| {
        UsageError::new(format!(
            "service `{service}` has no running replica {index}"
        ))
        .hint("`stackctl ps` lists the replicas; start the service with `stackctl up -d`")
        .into()
    })
}

/// Copies a session's output to our stdout/stderr and stdin into it; returns when output ends.
async fn pump_session(session: ops::Session, tty: bool, forward_stdin: bool) -> Result<()> {
    let ops::Session {
        mut output,
        mut input,
        ..
    } = session;
    if forward_stdin {
        tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let _ = tokio::io::copy(&mut stdin, &mut input).await;
            // Half-close: the command sees end of input and can finish.
            let _ = input.shutdown().await;
        });
    }
    while let Some(frame) = output.next().await {
        match frame? {
            ops::Output::Err(message) if !tty => term::err_bytes(&message)?,
            ops::Output::Out(message) | ops::Output::Err(message) => term::out_bytes(&message)?,
        }
    }
    Ok(())
}

/// A shell in container `id` on this terminal, for the dashboard: `sh` with a TTY. Its stdin is
/// read only while the shell runs (a reader left blocked on the terminal would take the view's
/// next key).
pub(super) async fn shell(engine: &Engine, id: &str) -> Result<i64> {
    let spec = ops::ExecSpec {
        cmd: vec!["sh".into()],
        env: Vec::new(),
        user: None,
        workdir: None,
        tty: true,
        stdin: true,
        privileged: false,
    };
    let ops::Session {
        id: exec_id,
        mut output,
        mut input,
    } = ops::exec(engine, id, spec).await?;
    let _raw = RawMode::enable(true);
    if let Some((w, h)) = term::size() {
        ops::exec_resize(engine, &exec_id, w, h).await;
    }
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (keys_tx, mut keys) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    let reader = {
        let done = done.clone();
        tokio::task::spawn_blocking(move || {
            term::read_stdin_until(&done, |bytes| keys_tx.blocking_send(bytes.to_vec()).is_ok())
        })
    };
    let writer = tokio::spawn(async move {
        while let Some(bytes) = keys.recv().await {
            if input.write_all(&bytes).await.is_err() || input.flush().await.is_err() {
                return;
            }
        }
    });
    let copied = async {
        while let Some(frame) = output.next().await {
            match frame? {
                ops::Output::Out(message) | ops::Output::Err(message) => term::out_bytes(&message)?,
            }
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = reader.await;
    writer.abort();
    copied?;
    ops::exec_exit_code(engine, &exec_id).await
}

pub fn exec(ctx: &Ctx, args: ExecArgs) -> Result<ExitCode> {
    let tty = !args.no_tty
        && args.tty
        && std::io::stdin().is_terminal()
        && crate::ui::term::stdout_is_terminal();
    let services = vec![args.service.clone()];
    let code = with_project(ctx, &services, async |engine, plan| {
        let c = &running_replica(engine, plan, &args.service, args.index).await?;
        let spec = ops::ExecSpec {
            cmd: args.command.clone(),
            env: args.env.clone(),
            user: args.user.clone(),
            workdir: args.workdir.clone(),
            tty,
            stdin: args.interactive,
            privileged: args.privileged,
        };
        if args.detach {
            ops::exec_detached(engine, &c.id, spec).await?;
            return Ok(0);
        }
        let session = ops::exec(engine, &c.id, spec).await?;
        let exec_id = session.id.clone();
        let _raw = RawMode::enable(tty);
        if tty {
            if let Some((w, h)) = term::size() {
                ops::exec_resize(engine, &exec_id, w, h).await;
            }
            let (e2, id2) = (engine.clone(), exec_id.clone());
            tokio::spawn(async move {
                let Ok(mut winch) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
                else {
                    return;
                };
                while winch.recv().await.is_some() {
                    if let Some((w, h)) = term::size() {
                        ops::exec_resize(&e2, &id2, w, h).await;
                    }
                }
            });
        }
        pump_session(session, tty, args.interactive).await?;
        ops::exec_exit_code(engine, &exec_id).await
    })?;
    Ok(exit_code(code))
}

pub fn run(ctx: &Ctx, args: RunArgs) -> Result<ExitCode> {
    let tty = !args.no_tty
        && !args.detach
        && std::io::stdin().is_terminal()
        && crate::ui::term::stdout_is_terminal();
    let mut publish = Vec::new();
    for p in &args.publish {
        publish.extend(crate::manifest::parse_port_short(p).map_err(|why| {
            UsageError::new(format!("--publish {p}: {why}"))
                .hint("write it as `ports:` does: [IP:][HOST:]CONTAINER[/PROTOCOL]")
        })?);
    }
    let mut env = Vec::new();
    for file in &args.env_from_file {
        let vars = crate::manifest::read_env_file(file, &|k| std::env::var(k).ok())
            .map_err(|e| UsageError::new(format!("--env-from-file {}: {e}", file.display())))?;
        env.extend(vars.into_iter().map(|(k, v)| format!("{k}={v}")));
    }
    env.extend(args.env.iter().cloned());
    let cwd = std::env::current_dir()?;
    // A relative bind source is this folder's, as `docker run -v ./x:/x` takes it.
    let binds: Vec<String> = args
        .volume
        .iter()
        .map(|v| match v.split_once(':') {
            Some((src, rest)) if src.starts_with('.') => {
                format!("{}:{rest}", cwd.join(src).display())
            }
            _ => v.clone(),
        })
        .collect();
    note_unhonoured(&[
        (args.quiet_build || args.quiet, "--quiet-build"),
        (args.quiet_pull || args.quiet, "--quiet-pull"),
    ]);
    let services = vec![args.service.clone()];
    let code = with_project_checked(ctx, &services, true, async |engine, plan| {
        let svc = &plan.services[&args.service];
        let images = ImageOptions {
            force_build: args.build || args.pull == Some(crate::cli::PullPolicy::Build),
            pull: args.pull.and_then(super::engine_cmds::pull_policy),
            ..ImageOptions::default()
        };
        if !args.no_deps && !svc.depends_on.is_empty() {
            let deps: Vec<String> = svc.depends_on.keys().cloned().collect();
            let mut opts = UpOptions::keep_existing(true);
            opts.remove_orphans = args.remove_orphans;
            converge::up(engine, plan, &deps, &opts, &ctx.reporter()).await?;
        } else {
            converge::ensure_resources(engine, plan, &ctx.reporter()).await?;
        }
        // The service's own image must exist even when nothing else is started.
        let report = ctx.reporter();
        crate::engine::images::ensure(engine, &plan.project, &[svc], images, &report).await?;
        let command = (!args.command.is_empty()).then(|| args.command.clone());
        let entrypoint = args
            .entrypoint
            .as_ref()
            .map(|e| shlex::split(e).unwrap_or_else(|| vec![e.clone()]));
        let stdin = args.interactive && !args.detach && (!std::io::stdin().is_terminal() || tty);
        let run = ops::OneOff {
            command,
            entrypoint,
            env: env.clone(),
            tty,
            stdin,
            name: args.name.clone(),
            user: args.user.clone(),
            workdir: args.workdir.clone(),
            labels: args.label.clone(),
            binds: binds.clone(),
            publish: publish.clone(),
            service_ports: args.service_ports,
            cap_add: args.cap_add.clone(),
            cap_drop: args.cap_drop.clone(),
            use_aliases: args.use_aliases,
        };
        let (id, _name) = ops::create_oneoff(engine, plan, svc, run).await?;
        if args.detach {
            containers::start(engine, &id, "one-off").await?;
            crate::ui::out(format!("{id}\n"))?;
            return Ok(0);
        }
        // Attached before it starts, the stream has all its output; asking for the logged output
        // too repeated lines on Engine 28 when the process wrote before the replay was read.
        let session = ops::attach(engine, &id, stdin, false, None).await?;
        containers::start(engine, &id, "one-off").await?;
        let _raw = RawMode::enable(tty);
        pump_session(session, tty, stdin).await?;
        let code = ops::wait_exit(engine, &id).await?;
        if args.rm {
            containers::remove(engine, &id, "one-off", true).await?;
        }
        Ok(code)
    })?;
    Ok(exit_code(code))
}

/// Attaches this terminal to a running replica: its output from now on, stdin when the service
/// keeps it open (`stdin_open: true`). Ctrl-C is passed on to the container as SIGINT (unless
/// `--sig-proxy=false`, when it detaches); the daemon detaches on `--detach-keys` (ctrl-p
/// ctrl-q unless given); exits with the container's code once it stops, 0 when detached.
pub fn attach(ctx: &Ctx, args: AttachArgs) -> Result<ExitCode> {
    let services = vec![args.service.clone()];
    let code = with_project(ctx, &services, async |engine, plan| {
        let c = &running_replica(engine, plan, &args.service, args.index).await?;
        let (tty, stdin_open) = containers::tty_and_stdin(engine, &c.id).await?;
        let forward = stdin_open && !args.no_stdin;
        let keys = args.detach_keys.as_deref();
        let session = ops::attach(engine, &c.id, forward, false, keys).await?;
        let _raw = RawMode::enable(tty && forward && std::io::stdin().is_terminal());
        let pumping = pump_session(session, tty, forward);
        tokio::pin!(pumping);
        loop {
            tokio::select! {
                r = &mut pumping => {
                    r?;
                    break;
                }
                _ = tokio::signal::ctrl_c(), if args.sig_proxy => {
                    containers::signal(engine, &c.id, "SIGINT").await?;
                }
            }
        }
        // The output ends when the container stops, or when the daemon lets go of the stream.
        Ok(containers::stopped_for_good(engine, &c.id)
            .await
            .unwrap_or(0))
    })?;
    Ok(exit_code(code))
}
