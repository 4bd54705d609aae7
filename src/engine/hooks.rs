//! Lifecycle hooks: a service's `post_start` commands run in each of its containers right after
//! the container starts, its `pre_stop` commands right before it is stopped — as execs, one after
//! the other, their output reported as the container's detail lines.

use anyhow::{Result, bail};
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures::StreamExt;

use super::{ApiContext, Engine, Event, Reporter};
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
        let created = engine
            .docker
            .create_exec(
                id,
                CreateExecOptions {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(h.command.clone()),
                    env: Some(h.env.clone()),
                    user: h.user.clone(),
                    privileged: Some(h.privileged),
                    working_dir: h.working_dir.clone(),
                    ..Default::default()
                },
            )
            .await
            .api(|| format!("creating the {which} hook `{shown}` in {name}"))?;
        let started = engine
            .docker
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: None,
                }),
            )
            .await
            .api(|| format!("running the {which} hook `{shown}` in {name}"))?;
        let mut last: Vec<String> = Vec::new();
        if let StartExecResults::Attached { mut output, .. } = started {
            while let Some(Ok(chunk)) = output.next().await {
                for line in String::from_utf8_lossy(&chunk.into_bytes()).lines() {
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
        }
        let code = engine
            .docker
            .inspect_exec(&created.id)
            .await
            .api(|| format!("inspecting the {which} hook in {name}"))?
            .exit_code
            .unwrap_or(0);
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
