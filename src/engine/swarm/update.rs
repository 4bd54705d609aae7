//! Following a service update to its end. Swarm replaces a service's tasks in the background and
//! tells the outcome on the service (its UpdateStatus); `up` waits for it, so that an update that
//! Swarm rolled back or paused fails the command naming the service, as a local update does.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bollard::models::{Service, ServiceUpdateStatusStateEnum as State};

use crate::engine::{ApiContext, Engine};

/// What became of an update, read from the service after it.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// The tasks' spec did not change: Swarm replaces nothing.
    NothingToReplace,
    /// Swarm has not started on it yet, or is replacing tasks (or rolling them back).
    Going,
    Done,
    Failed(String),
}

/// Where the update of `svc` (as read after it was sent; `before` as read before) stands. Each
/// change of an update's status moves the service's UpdatedAt, so a status that started before
/// `before` was last changed belongs to an earlier update and says nothing of this one. Whether
/// there is anything to replace is told by the first read after the update only: a rollback puts
/// the previous spec back.
pub fn progress(before: &Service, svc: &Service, first_read: bool) -> Progress {
    let (Some(spec), Some(previous)) = (&svc.spec, &before.spec) else {
        return Progress::NothingToReplace;
    };
    // Swarm replaces tasks when their template or the service's endpoint changed, nothing else.
    if first_read
        && same(&spec.task_template, &previous.task_template)
        && same(&spec.endpoint_spec, &previous.endpoint_spec)
    {
        return Progress::NothingToReplace;
    }
    let Some(status) = &svc.update_status else {
        return Progress::Going;
    };
    let fresh = match (status.started_at, before.updated_at) {
        (Some(started), Some(changed)) => started > changed,
        (Some(_), None) => true,
        _ => false,
    };
    if !fresh {
        return Progress::Going;
    }
    let message = status.message.clone().unwrap_or_default();
    match status.state {
        Some(State::COMPLETED) => Progress::Done,
        Some(State::ROLLBACK_COMPLETED) => Progress::Failed(format!(
            "the update failed and Swarm rolled it back: its tasks run the previous configuration ({message})\n  = help: the service's image tag still names the build that failed, so a plain `up` would deploy it again; fix it and run `stackctl up --build`"
        )),
        Some(State::PAUSED) => Progress::Failed(format!(
            "the update failed and Swarm paused it, part of the tasks updated ({message}); `stackctl up` retries it"
        )),
        Some(State::ROLLBACK_PAUSED) => Progress::Failed(format!(
            "the update failed, and so did its rollback; Swarm paused it ({message})"
        )),
        _ => Progress::Going,
    }
}

/// Whether two parts of a spec, as the daemon gave them, are the same.
fn same<T: serde::Serialize>(a: &T, b: &T) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

/// Waits until Swarm has finished the update of service `name`, which was `before` it; an error
/// names the service and says what Swarm did instead.
pub async fn wait_update(
    engine: &Engine,
    name: &str,
    before: &Service,
    timeout: Duration,
) -> Result<()> {
    let t = Instant::now();
    let mut first_read = true;
    loop {
        let svc = engine
            .docker
            .inspect_service(name, None)
            .await
            .api(|| format!("inspecting {name}"))?;
        let now = progress(before, &svc, std::mem::take(&mut first_read));
        match now {
            Progress::NothingToReplace => return Ok(()),
            Progress::Done => return old_tasks_stopped(engine, name, t, timeout).await,
            Progress::Failed(why) => bail!("service {name}: {why}"),
            Progress::Going if t.elapsed() > timeout => bail!(
                "service {name}: Swarm was still updating its tasks after {}s\n  = help: `stackctl --target swarm ps` shows which tasks are new",
                timeout.as_secs()
            ),
            Progress::Going => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// Waits until the tasks Swarm replaced have stopped: it calls an update complete once the new
/// tasks run and it has told the old ones to stop, and until their nodes have done so (within the
/// service's stop grace period) the old code still answers. A node that is down is not waited for.
async fn old_tasks_stopped(
    engine: &Engine,
    name: &str,
    started: Instant,
    timeout: Duration,
) -> Result<()> {
    use bollard::models::{NodeState, TaskState};
    use bollard::query_parameters::{ListNodesOptions, ListTasksOptions};
    use std::collections::{HashMap, HashSet};
    loop {
        let ready: HashSet<String> = engine
            .docker
            .list_nodes(None::<ListNodesOptions>)
            .await
            .api(|| "listing the swarm's nodes".into())?
            .into_iter()
            .filter(|n| n.status.as_ref().and_then(|s| s.state) == Some(NodeState::READY))
            .filter_map(|n| n.id)
            .collect();
        let filters = HashMap::from([
            ("service".to_owned(), vec![name.to_owned()]),
            ("desired-state".to_owned(), vec!["shutdown".to_owned()]),
        ]);
        let stopping = engine
            .docker
            .list_tasks(Some(ListTasksOptions {
                filters: Some(filters),
            }))
            .await
            .api(|| format!("listing tasks of {name}"))?
            .into_iter()
            .filter(|t| t.node_id.as_ref().is_some_and(|n| ready.contains(n)))
            .filter(|t| {
                let state = t.status.as_ref().and_then(|s| s.state);
                matches!(
                    state,
                    Some(
                        TaskState::RUNNING
                            | TaskState::STARTING
                            | TaskState::ASSIGNED
                            | TaskState::ACCEPTED
                            | TaskState::PREPARING
                    )
                )
            })
            .count();
        if stopping == 0 || started.elapsed() > timeout {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::{Progress, progress};
    use bollard::models::{Service, ServiceSpec, ServiceUpdateStatus, TaskSpec};
    use time::OffsetDateTime;

    fn check(image: &str, before: &str, status: Option<(&str, i64)>) -> Progress {
        read(true, image, before, status)
    }

    fn read(first: bool, image: &str, before: &str, status: Option<(&str, i64)>) -> Progress {
        let spec = |img: &str| ServiceSpec {
            task_template: Some(TaskSpec {
                container_spec: Some(bollard::models::TaskSpecContainerSpec {
                    image: Some(img.to_owned()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let at = |t| Some(OffsetDateTime::from_unix_timestamp(t).unwrap());
        let before = Service {
            spec: Some(spec(before)),
            updated_at: at(1000),
            ..Default::default()
        };
        // Every change of the status moves UpdatedAt on: it says nothing of which update it is.
        let svc = Service {
            spec: Some(spec(image)),
            updated_at: at(2000),
            update_status: status.map(|(state, at)| ServiceUpdateStatus {
                state: Some(state.parse().unwrap()),
                started_at: Some(OffsetDateTime::from_unix_timestamp(at).unwrap()),
                message: Some("update rolled back".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        progress(&before, &svc, first)
    }

    #[test]
    fn an_update_is_over_when_a_status_started_after_the_service_last_changed_says_so() {
        assert_eq!(check("a", "a", None), Progress::NothingToReplace);
        assert_eq!(check("b", "a", None), Progress::Going);
        // The status of the update before this one.
        assert_eq!(check("b", "a", Some(("completed", 999))), Progress::Going);
        assert_eq!(check("b", "a", Some(("completed", 1000))), Progress::Going);
        assert_eq!(check("b", "a", Some(("updating", 1001))), Progress::Going);
        assert_eq!(check("b", "a", Some(("completed", 1001))), Progress::Done);
        let Progress::Failed(why) = check("b", "a", Some(("rollback_completed", 1001))) else {
            panic!("a rollback is a failure")
        };
        assert!(
            why.contains("rolled it back")
                && why.contains("update rolled back")
                && why.contains("up --build")
        );
        assert!(matches!(
            check("b", "a", Some(("paused", 1001))),
            Progress::Failed(_)
        ));
        // Rolled back, the spec is the one before again: the status still tells.
        assert!(matches!(
            read(false, "a", "a", Some(("rollback_completed", 1001))),
            Progress::Failed(_)
        ));
    }
}
