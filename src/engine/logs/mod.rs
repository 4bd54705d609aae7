//! Container output from the daemon: one logs stream per container, stdout and stderr kept apart,
//! bytes passed on without copying; and the project's start events, so followers can attach to
//! containers that appear later. `follow` turns these into lines in a sink; `services` does the
//! same for a swarm.

pub mod follow;
mod merge;
mod pause;
pub mod reader;
mod reconnect;
pub mod services;

pub use pause::on_park;

use std::collections::HashMap;

use bollard::container::LogOutput;
use bollard::query_parameters::{EventsOptions, LogsOptions};
use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::Engine;
use crate::plan::labels;

pub use crate::logs::Channel;

#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub follow: bool,
    pub tail: Option<String>,
    pub since: i32,
    pub until: i32,
    pub timestamps: bool,
}

impl LogQuery {
    pub(super) fn options(&self) -> LogsOptions {
        LogsOptions {
            follow: self.follow,
            stdout: true,
            stderr: true,
            since: self.since,
            until: self.until,
            timestamps: self.timestamps,
            tail: self.tail.clone().unwrap_or_else(|| "all".into()),
        }
    }
}

/// Frames as (channel, bytes): stdout and stderr kept apart, a TTY's output counted as stdout.
pub(super) fn frames(
    s: impl Stream<Item = Result<LogOutput, bollard::errors::Error>>,
) -> impl Stream<Item = Result<(Channel, Bytes), String>> {
    s.map(|item| match item {
        Ok(LogOutput::StdErr { message }) => Ok((Channel::Stderr, message)),
        Ok(LogOutput::StdOut { message })
        | Ok(LogOutput::Console { message })
        | Ok(LogOutput::StdIn { message }) => Ok((Channel::Stdout, message)),
        Err(e) => Err(e.to_string()),
    })
}

/// A client for log streams that asks in HTTP/1.0. Over HTTP/1.1 the daemon sends each line as a
/// chunk of its own, and the HTTP client hands chunks over one at a time: two task wake-ups per line.
/// An HTTP/1.0 answer cannot be chunked, so the daemon sends the same frames as a plain body up to
/// the end of the connection, and one read carries every frame that has arrived.
fn unchunked(engine: &Engine) -> bollard::Docker {
    engine.docker.clone().with_request_modifier(|mut req| {
        *req.version_mut() = http::Version::HTTP_10;
        req
    })
}

pub fn stream(
    engine: &Engine,
    id: &str,
    q: &LogQuery,
) -> impl Stream<Item = Result<(Channel, Bytes), String>> + Send + 'static {
    frames(unchunked(engine).logs(id, Some(q.options())))
}

/// The daemon's clock now, in nanoseconds since the epoch: the time to show logs from that is right
/// even when this machine's clock is not the daemon's.
pub async fn daemon_clock(engine: &Engine) -> Option<i128> {
    let info = engine.docker.info().await.ok()?;
    crate::logs::daemon_nanos(info.system_time?.as_bytes())
}

/// A container event of the project: (action, container id, container name, exit code).
#[derive(Debug, Clone, Default)]
pub struct ContainerEvent {
    pub action: String,
    pub id: String,
    pub name: String,
    pub service: String,
    /// The replica number, from the container-number label (0 when absent).
    pub number: u32,
    /// A container of `run`, not of the stack's services.
    pub oneoff: bool,
    pub exit_code: Option<i64>,
    pub time: i64,
    pub time_nano: i64,
    /// On `die`: the container has a restart policy that will bring it back (not after a manual stop).
    pub restart_policy_applies: bool,
    /// On `die`: the kernel's OOM killer ended it.
    pub oom_killed: bool,
}

pub fn events(
    engine: &Engine,
    project: &str,
    since_nanos: i128,
) -> impl Stream<Item = ContainerEvent> + Send + 'static {
    events_until(engine, project, since_nanos, None)
}

/// `events`, ending at `until` (Unix seconds) when given: the daemon closes the stream then.
pub fn events_until(
    engine: &Engine,
    project: &str,
    since_nanos: i128,
    until: Option<i64>,
) -> impl Stream<Item = ContainerEvent> + Send + 'static {
    let filters = HashMap::from([
        ("type".to_owned(), vec!["container".to_owned()]),
        (
            "label".to_owned(),
            vec![format!("{}={project}", labels::PROJECT)],
        ),
    ]);
    let opts = EventsOptions {
        // The API takes `seconds.nanoseconds`.
        since: Some(format!(
            "{}.{:09}",
            since_nanos.div_euclid(1_000_000_000),
            since_nanos.rem_euclid(1_000_000_000)
        )),
        until: until.map(|u| u.to_string()),
        filters: Some(filters),
    };
    let docker = engine.docker.clone();
    engine.docker.events(Some(opts)).filter_map(move |ev| {
        let docker = docker.clone();
        async move {
            let ev = ev.ok()?;
            let actor = ev.actor?;
            let attrs = actor.attributes.unwrap_or_default();
            let action = ev.action?;
            let id = actor.id?;
            // The daemon marks a container restarting before it reports the `die`.
            let inspect = || async {
                docker
                    .inspect_container(&id, None)
                    .await
                    .ok()
                    .and_then(|c| c.state)
                    .unwrap_or_default()
            };
            let mut state = match action.as_str() {
                "die" => inspect().await,
                _ => Default::default(),
            };
            // A kill (137) may be the kernel's OOM killer's, which the daemon can learn of just
            // after the exit: look once more before saying it was not.
            if action == "die"
                && attrs.get("exitCode").is_some_and(|c| c == "137")
                && !state.oom_killed.unwrap_or(false)
            {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                state.oom_killed = inspect().await.oom_killed;
            }
            let restart_policy_applies = state.restarting.unwrap_or(false);
            let oom_killed = state.oom_killed.unwrap_or(false);
            Some(ContainerEvent {
                action,
                id,
                name: attrs.get("name").cloned().unwrap_or_default(),
                service: attrs.get(labels::SERVICE).cloned().unwrap_or_default(),
                number: attrs
                    .get(labels::NUMBER)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
                oneoff: attrs
                    .get(labels::ONEOFF)
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
                exit_code: attrs.get("exitCode").and_then(|c| c.parse().ok()),
                time: ev.time.unwrap_or(0),
                time_nano: ev.time_nano.unwrap_or(0),
                restart_policy_applies,
                oom_killed,
            })
        }
    })
}
