//! Container states kept current from the daemon's event stream, so waiting for "healthy" or "exited"
//! reacts the moment the daemon says so instead of polling. One inspect seeds a container seen for the
//! first time (it may have been healthy long before we subscribed).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use bollard::query_parameters::EventsOptions;
use futures::StreamExt;
use tokio::sync::watch;

use super::{Engine, is_not_found};
use crate::plan::labels;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub running: bool,
    /// When it last started, on this machine's monotonic clock.
    pub running_since: Option<Instant>,
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    /// How many times it stopped while we watched: under a restart policy, a crash loop.
    pub dies: u32,
    pub removed: bool,
}

/// How long a container without a healthcheck must stay running, without exiting, before `up --wait`
/// counts it as up. A process that fails at start-up usually does so well within it, and the restart
/// policy's first back-off (0.1 s) is shorter, so a crash loop shows as a stop inside the window.
pub const STEADY_RUNNING: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Healthy when the container has a healthcheck, running otherwise.
    Healthy,
    /// Exited with code 0.
    Completed,
    /// Healthy when the container has a healthcheck; otherwise running for `STEADY_RUNNING` on
    /// end. Either way, one that exits meanwhile (a crash loop under a restart policy) fails.
    Up,
    /// `Up`, or, for a one-shot (no restart policy), exited with code 0: done, not failed. One
    /// that exits with another code fails with that code.
    UpOrDone,
}

pub struct Watcher {
    rx: watch::Receiver<HashMap<String, State>>,
    tx: watch::Sender<HashMap<String, State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watcher {
    /// Subscribes to the project's container events from `not_before_nanos` (unix time) on. The
    /// subscription asks from a second earlier, so that nothing between the request and its
    /// connection is missed, and drops what came before (a stop just before a start must not read as
    /// the fresh container exiting).
    pub fn spawn(engine: &Engine, project: &str, not_before_nanos: i64) -> Self {
        let since_unix = not_before_nanos.div_euclid(1_000_000_000) - 1;
        let (tx, rx) = watch::channel(HashMap::new());
        let filters = HashMap::from([
            ("type".to_owned(), vec!["container".to_owned()]),
            (
                "label".to_owned(),
                vec![format!("{}={project}", labels::PROJECT)],
            ),
        ]);
        let options = EventsOptions {
            since: Some(since_unix.to_string()),
            until: None,
            filters: Some(filters),
        };
        let docker = engine.docker.clone();
        let sender = tx.clone();
        let task = tokio::spawn(async move {
            let mut events = docker.events(Some(options));
            while let Some(Ok(ev)) = events.next().await {
                if ev.time_nano.is_some_and(|t| t < not_before_nanos) {
                    continue;
                }
                let (Some(action), Some(actor)) = (ev.action, ev.actor) else {
                    continue;
                };
                let Some(id) = actor.id else { continue };
                let attrs = actor.attributes.unwrap_or_default();
                let relevant = matches!(action.as_str(), "start" | "die" | "destroy")
                    || action.starts_with("health_status");
                if !relevant {
                    // exec_create/exec_start of every healthcheck run, attach, resize…: nothing to learn.
                    continue;
                }
                sender.send_modify(|states: &mut HashMap<String, State>| {
                    // A health event implies a running container, whatever we knew before.
                    let s = states.entry(id).or_insert_with(|| State {
                        running: true,
                        ..State::default()
                    });
                    match action.as_str() {
                        "start" => {
                            s.running = true;
                            s.running_since = Some(Instant::now());
                            s.exit_code = None;
                            s.removed = false;
                        }
                        "die" => {
                            s.running = false;
                            s.running_since = None;
                            s.dies += 1;
                            s.exit_code = attrs.get("exitCode").and_then(|c| c.parse().ok());
                        }
                        "destroy" => s.removed = true,
                        a if a.starts_with("health_status") => {
                            s.running = true;
                            s.health = Some(a.rsplit(' ').next().unwrap_or("").trim().to_owned());
                        }
                        _ => {}
                    }
                });
            }
        });
        Watcher { rx, tx, task }
    }

    async fn seed(&self, engine: &Engine, id: &str) -> Result<()> {
        if self.rx.borrow().contains_key(id) {
            return Ok(());
        }
        let state = match engine.docker.inspect_container(id, None).await {
            Ok(info) => {
                let st = info.state.unwrap_or_default();
                let running = st.running.unwrap_or(false);
                State {
                    running,
                    running_since: running.then(|| running_since(st.started_at.as_deref())),
                    health: st
                        .health
                        .and_then(|h| h.status)
                        .map(|s| s.to_string())
                        .filter(|s| !s.is_empty() && s != "none"),
                    exit_code: if st.running.unwrap_or(false) {
                        None
                    } else {
                        st.exit_code.filter(|_| {
                            st.finished_at
                                .as_deref()
                                .is_some_and(|f| !f.starts_with("0001"))
                        })
                    },
                    dies: 0,
                    removed: false,
                }
            }
            Err(e) if is_not_found(&e) => State {
                removed: true,
                ..State::default()
            },
            Err(e) => return Err(super::api_error(e)),
        };
        self.tx.send_if_modified(|m| {
            if m.contains_key(id) {
                false
            } else {
                m.insert(id.to_owned(), state);
                true
            }
        });
        Ok(())
    }

    /// Waits until every container in `targets` (id, name, has_healthcheck) reaches `want`.
    pub async fn wait(
        &self,
        engine: &Engine,
        targets: &[(String, String, bool)],
        want: Want,
        timeout: Option<Duration>,
    ) -> Result<()> {
        for (id, _, _) in targets {
            self.seed(engine, id).await?;
        }
        let mut rx = self.rx.clone();
        let up = matches!(want, Want::Up | Want::UpOrDone);
        let check = |states: &HashMap<String, State>| -> Result<bool> {
            let mut all = true;
            for (id, name, has_hc) in targets {
                let s = states.get(id).cloned().unwrap_or_default();
                if s.removed {
                    bail!("container {name} was removed while we waited for it");
                }
                if want == Want::UpOrDone
                    && !s.running
                    && let Some(code) = s.exit_code
                {
                    if code == 0 {
                        continue;
                    }
                    return Err(crate::exit::ExitWith {
                        code,
                        message: format!(
                            "container {name} exited with code {code} while we waited for it; `stackctl logs {}` may say why",
                            service_of(name)
                        ),
                    }
                    .into());
                }
                if up
                    && s.dies > 0
                    && let Some(code) = s.exit_code
                {
                    bail!(
                        "container {name} exited with code {code}{} while we waited for it to be up; `stackctl logs {}` may say why",
                        if s.running || s.dies > 1 {
                            format!(
                                " and was restarted {} time(s) by its restart policy",
                                s.dies
                            )
                        } else {
                            String::new()
                        },
                        service_of(name)
                    );
                }
                let ok = match want {
                    Want::Healthy | Want::Up | Want::UpOrDone if *has_hc => {
                        if s.health.as_deref() == Some("unhealthy") {
                            bail!(
                                "container {name} is unhealthy; `stackctl logs {}` may say why",
                                service_of(name)
                            );
                        }
                        s.running && s.health.as_deref() == Some("healthy")
                    }
                    Want::Healthy => s.running,
                    Want::Up | Want::UpOrDone => {
                        s.running
                            && s.running_since
                                .is_some_and(|t| t.elapsed() >= STEADY_RUNNING)
                    }
                    Want::Completed => match s.exit_code {
                        Some(0) if !s.running => true,
                        Some(code) if !s.running => bail!(
                            "container {name} exited with code {code}; its dependents need it to succeed"
                        ),
                        _ => false,
                    },
                };
                if !ok
                    && want != Want::Completed
                    && !s.running
                    && let Some(code) = s.exit_code
                {
                    bail!(
                        "container {name} exited with code {code} while we waited for it to be {}",
                        if *has_hc { "healthy" } else { "running" }
                    );
                }
                all &= ok;
            }
            Ok(all)
        };
        // Nothing is sent when a container has simply run long enough: wake up for that too.
        let steady_at = |states: &HashMap<String, State>| {
            targets
                .iter()
                .filter(|(_, _, hc)| up && !hc)
                .filter_map(|(id, _, _)| states.get(id)?.running_since)
                .map(|t| t + STEADY_RUNNING)
                .filter(|t| *t > Instant::now())
                .min()
        };
        let waiting = async {
            loop {
                let wake = {
                    let states = rx.borrow_and_update();
                    if check(&states)? {
                        return Ok(());
                    }
                    steady_at(&states)
                };
                tokio::select! {
                    changed = rx.changed() => if changed.is_err() {
                        bail!("lost the daemon's event stream while waiting");
                    },
                    _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now).into()), if wake.is_some() => {}
                }
            }
        };
        let waiting = async {
            tokio::select! {
                r = waiting => r,
                _ = engine.cancel.cancelled() => Err(crate::exit::Interrupted.into()),
            }
        };
        match timeout {
            Some(t) => match tokio::time::timeout(t, waiting).await {
                Ok(r) => r,
                Err(_) => {
                    let states = self.rx.borrow().clone();
                    let late: Vec<String> = targets
                        .iter()
                        .filter(|(id, _, hc)| {
                            let s = states.get(id).cloned().unwrap_or_default();
                            !(s.running && (!hc || s.health.as_deref() == Some("healthy")))
                        })
                        .map(|(id, name, _)| {
                            let s = states.get(id).cloned().unwrap_or_default();
                            format!(
                                "{name} ({})",
                                s.health.unwrap_or_else(|| if s.running {
                                    "running".into()
                                } else {
                                    "not running".into()
                                })
                            )
                        })
                        .collect();
                    // compose's words first: tools that drive compose look for them.
                    bail!(
                        "application not healthy after {}: timed out waiting for {}",
                        crate::manifest::units::format_duration(t),
                        late.join(", ")
                    )
                }
            },
            None => waiting.await,
        }
    }
}

/// When a container that runs now started, from its `StartedAt` (this machine's clock stands in for
/// the daemon's; an error only moves the end of the steady window).
fn running_since(started_at: Option<&str>) -> Instant {
    let now = Instant::now();
    let started = started_at.and_then(|t| crate::logs::daemon_nanos(t.as_bytes()));
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    match started {
        Some(t) if t <= wall => {
            let age = Duration::from_nanos(u64::try_from(wall - t).unwrap_or(u64::MAX));
            now.checked_sub(age)
                .or_else(|| now.checked_sub(STEADY_RUNNING))
                .unwrap_or(now)
        }
        _ => now,
    }
}

fn service_of(container: &str) -> &str {
    // <project>-<service>-<n>: the middle part, for the hint.
    let trimmed = container.rsplit_once('-').map_or(container, |(a, _)| a);
    trimmed.split_once('-').map_or(trimmed, |(_, s)| s)
}

/// Now on this machine's clock, in nanoseconds since the epoch: where a `Watcher` starts.
pub(super) fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
