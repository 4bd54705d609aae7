//! Lifecycle hooks: a service's `post_start` commands run in each of its containers right after
//! the container starts, its `pre_stop` commands right before it is stopped — as execs, one after
//! the other, their output reported as the container's detail lines. `pre_start` hooks are
//! containers of their own, run to completion before the service's first replica starts.

use anyhow::{Result, bail};
use futures::StreamExt;

use super::observe::ObservedContainer;
use super::ops::{self, ExecSpec, Output};
use super::{Engine, Event, Reporter};
use crate::plan::{HookPlan, Plan, PreStartPlan, ServicePlan, labels};

/// Runs `hooks` (`which` names them: post_start, pre_stop) in the container; the first that
/// fails (exits non-zero) is the error, with its last lines.
pub async fn run(
    engine: &Engine,
    id: &str,
    name: &str,
    hooks: &[HookPlan],
    which: &str,
    report: &Reporter,
) -> Result<()> {
    for h in hooks {
        let shown = h.command.join(" ");
        let spec = ExecSpec {
            cmd: h.command.clone(),
            env: h.env.clone(),
            user: h.user.clone(),
            workdir: h.working_dir.clone(),
            tty: false,
            stdin: false,
            privileged: h.privileged,
        };
        let mut session = ops::exec(engine, id, spec).await?;
        let mut last: Vec<String> = Vec::new();
        while let Some(Ok(Output::Out(chunk) | Output::Err(chunk))) = session.output.next().await {
            for line in String::from_utf8_lossy(&chunk).lines() {
                report(Event::Detail {
                    object: format!("Container {name}"),
                    text: format!("{which} > {line}"),
                    transient: false,
                });
                last.push(line.to_owned());
                if last.len() > 10 {
                    last.remove(0);
                }
            }
        }
        let code = ops::exec_exit_code(engine, &session.id).await?;
        if code != 0 {
            bail!(
                "the {which} hook `{shown}` in {name} exited with code {code}{}",
                if last.is_empty() {
                    String::new()
                } else {
                    format!(":\n  | {}", last.join("\n  | "))
                }
            );
        }
    }
    Ok(())
}

/// A service's `pre_stop` hooks in a running container; a failing hook is reported and the
/// container is stopped all the same, as compose does.
pub async fn before_stop(
    engine: &Engine,
    c: &ObservedContainer,
    hooks: &[HookPlan],
    report: &Reporter,
) {
    if hooks.is_empty() || !c.running() {
        return;
    }
    if let Err(e) = run(engine, &c.id, &c.name, hooks, "pre_stop", report).await {
        report(Event::Warning(format!("{e:#}; stopping it all the same")));
    }
}

/// Runs `svc`'s `pre_start` hooks in order, each a container of its own that shares the volumes of
/// `first` (the replica about to start) and the service's networks; the service starts only if
/// each exits 0. A successful hook's container is removed; a failed one is kept for inspection
/// (labelled `com.docker.compose.hook=pre_start`, and one-off, so `down` removes it).
pub async fn pre_start(
    engine: &Engine,
    plan: &Plan,
    svc: &ServicePlan,
    first: &str,
    report: &Reporter,
) -> Result<()> {
    for (i, h) in svc.pre_start.iter().enumerate() {
        run_pre_start(engine, plan, svc, first, i, h, report).await?;
    }
    Ok(())
}

async fn run_pre_start(
    engine: &Engine,
    plan: &Plan,
    svc: &ServicePlan,
    first: &str,
    index: usize,
    h: &PreStartPlan,
    report: &Reporter,
) -> Result<()> {
    let image = h.image.clone().unwrap_or_else(|| svc.image.clone());
    if super::images::image_id(engine, &image).await?.is_none() {
        super::images::pull_image(engine, &image, svc.platform.as_deref(), report).await?;
    }
    let sep = svc.name_separator;
    let name = format!(
        "{}{sep}{}{sep}pre_start{sep}{}",
        plan.project,
        svc.name,
        index + 1
    );
    // A hook container an earlier failed run kept goes first (only if it is this project's).
    if let Ok(old) = engine.docker.inspect_container(&name, None).await {
        let l = old.config.and_then(|c| c.labels).unwrap_or_default();
        if l.get(labels::PROJECT) == Some(&plan.project)
            && l.get(labels::HOOK).map(String::as_str) == Some("pre_start")
            && let Some(old_id) = old.id
        {
            super::containers::remove(engine, &old_id, &name, true).await?;
        }
    }
    let mut body = super::containers::create_body(plan, svc, 1, "");
    body.image = Some(image);
    body.entrypoint = None;
    body.cmd = (!h.hook.command.is_empty()).then(|| h.hook.command.clone());
    body.user = h.hook.user.clone().or(body.user);
    body.working_dir = h.hook.working_dir.clone().or(body.working_dir);
    body.env = Some(h.hook.env.clone());
    body.healthcheck = None;
    body.exposed_ports = None;
    body.labels = Some(
        [
            (labels::PROJECT, plan.project.as_str()),
            (labels::SERVICE, svc.name.as_str()),
            (labels::ONEOFF, "True"),
            (labels::HOOK, "pre_start"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    );
    if let Some(hc) = body.host_config.as_mut() {
        hc.port_bindings = None;
        hc.restart_policy = None;
        hc.mounts = None;
        hc.binds = None;
        hc.tmpfs = None;
        hc.volumes_from = Some(vec![first.to_owned()]);
        hc.privileged = Some(h.hook.privileged);
    }
    let shown = if h.hook.command.is_empty() {
        "(the image's own command)".to_owned()
    } else {
        h.hook.command.join(" ")
    };
    report(Event::Detail {
        object: format!("Container {}", svc.container_name(&plan.project, 1)),
        text: format!("pre_start hook {}: {shown}", index + 1),
        transient: false,
    });
    let id = super::containers::create_named(engine, svc, &name, body, false).await?;
    super::containers::start(engine, &id, &name).await?;
    let code = ops::wait_exit(engine, &id).await?;
    if code != 0 {
        let short: String = id.chars().take(12).collect();
        bail!(
            "service {}: its pre_start hook `{shown}` exited with code {code}; the service was not started (hook container {name}, {short}, kept for inspection: `docker logs {short}`; `stackctl down` removes it)",
            svc.name
        );
    }
    super::containers::remove(engine, &id, &name, true).await?;
    Ok(())
}
