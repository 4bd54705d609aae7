//! Container states kept current from the daemon's event stream, so waiting for "healthy" or "exited"
//! reacts the moment the daemon says so instead of polling. One inspect seeds a container seen for the
//! first time (it may have been healthy long before we subscribed).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Result, bail};
use bollard::query_parameters::EventsOptions;
use futures::StreamExt;
use tokio::sync::watch;

use super::{Engine, is_not_found};
use crate::plan::labels;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub running: bool,
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    pub removed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Healthy when the container has a healthcheck, running otherwise.
    Healthy,
    /// Exited with code 0.
    Completed,
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
    /// Subscribes to the project's container events, replaying from `since_unix` so that nothing
    /// between the subscription request and its connection is missed.
    pub fn spawn(engine: &Engine, project: &str, since_unix: i64) -> Self {
        Self::spawn_after(engine, project, since_unix, 0)
    }

    /// Like `spawn`, ignoring replayed events older than `not_before_nanos` (a stop just before a start
    /// must not read as the fresh container exiting).
    pub fn spawn_after(
        engine: &Engine,
        project: &str,
        since_unix: i64,
        not_before_nanos: i64,
    ) -> Self {
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
                            s.exit_code = None;
                            s.removed = false;
                        }
                        "die" => {
                            s.running = false;
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
                State {
                    running: st.running.unwrap_or(false),
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
        let check = |states: &HashMap<String, State>| -> Result<bool> {
            let mut all = true;
            for (id, name, has_hc) in targets {
                let s = states.get(id).cloned().unwrap_or_default();
                if s.removed {
                    bail!("container {name} was removed while we waited for it");
                }
                let ok = match want {
                    Want::Healthy if *has_hc => {
                        if s.health.as_deref() == Some("unhealthy") {
                            bail!(
                                "container {name} is unhealthy; `stackctl logs {}` may say why",
                                service_of(name)
                            );
                        }
                        s.running && s.health.as_deref() == Some("healthy")
                    }
                    Want::Healthy => s.running,
                    Want::Completed => match s.exit_code {
                        Some(0) if !s.running => true,
                        Some(code) if !s.running => bail!(
                            "container {name} exited with code {code}; its dependents need it to succeed"
                        ),
                        _ => false,
                    },
                };
                if !ok
                    && want == Want::Healthy
                    && !s.running
                    && let Some(code) = s.exit_code
                {
                    bail!(
                        "container {name} exited with code {code} while we waited for it to be {}",
                        if want == Want::Healthy && *has_hc {
                            "healthy"
                        } else {
                            "running"
                        }
                    );
                }
                all &= ok;
            }
            Ok(all)
        };
        let waiting = async {
            loop {
                if check(&rx.borrow_and_update())? {
                    return Ok(());
                }
                if rx.changed().await.is_err() {
                    bail!("lost the daemon's event stream while waiting");
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
                    bail!(
                        "timed out after {}s waiting for {}",
                        t.as_secs(),
                        late.join(", ")
                    )
                }
            },
            None => waiting.await,
        }
    }
}

fn service_of(container: &str) -> &str {
    // <project>-<service>-<n>: the middle part, for the hint.
    let trimmed = container.rsplit_once('-').map_or(container, |(a, _)| a);
    trimmed.split_once('-').map_or(trimmed, |(_, s)| s)
}
