//! Lifecycle hooks: a service's `post_start` commands run in each of its containers right after
//! the container starts, its `pre_stop` commands right before it is stopped — as execs, one after
//! the other, their output reported as the container's detail lines.

use anyhow::{Result, bail};
use futures::StreamExt;

use super::observe::ObservedContainer;
use super::ops::{self, ExecSpec, Output};
use super::{Engine, Event, Reporter};
use crate::plan::HookPlan;

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
