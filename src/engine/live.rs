//! The project's state as it changes, for a live view: one listing, then the daemon's events, each
//! refreshing the one container it is about, and a stats stream per running container. Nothing is
//! polled; when the events end (the daemon went away) it says so, waits for the daemon, and lists
//! again.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;

use super::observe::{self, ObservedContainer};
use super::stats::{self, Usage};
use super::{Engine, logs};

/// A change to what a live view shows.
#[derive(Debug, Clone)]
pub enum Update {
    /// Every container of the project (replacing what was known).
    All(Vec<ObservedContainer>),
    /// One container, as it is now.
    One(Box<ObservedContainer>),
    /// A container that was removed.
    Gone(String),
    /// A container's latest resource sample.
    Usage(String, Usage),
    /// The daemon stopped answering; `All` follows when it is back.
    DaemonGone,
}

/// Sends the project's updates to `tx` until the receiver is dropped.
pub async fn feed(engine: Engine, project: String, tx: mpsc::Sender<Update>) {
    let mut samplers: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    loop {
        let since = logs::daemon_clock(&engine)
            .await
            .unwrap_or_else(|| i128::from(super::lifecycle::now_nanos()));
        let mut list = match observe::containers(&engine, &project, true).await {
            Ok(list) => list,
            Err(_) => {
                if tx.send(Update::DaemonGone).await.is_err() {
                    return;
                }
                super::until_answering(&engine).await;
                // A daemon that answers pings but fails the listing is not asked again at once.
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        observe::with_exit_details(&engine, &mut list, &|_| true).await;
        for c in list.iter().filter(|c| c.running()) {
            sample(&engine, &c.id, &tx, &mut samplers);
        }
        if tx.send(Update::All(list)).await.is_err() {
            break;
        }
        let mut events = Box::pin(logs::events(&engine, &project, since));
        while let Some(ev) = events.next().await {
            let update = if ev.action == "destroy" {
                Update::Gone(ev.id.clone())
            } else {
                match observe::container(&engine, &project, &ev.id).await {
                    Ok(Some(c)) => Update::One(Box::new(c)),
                    Ok(None) => Update::Gone(ev.id.clone()),
                    Err(_) => continue,
                }
            };
            if ev.action == "start" || ev.action == "unpause" {
                sample(&engine, &ev.id, &tx, &mut samplers);
            }
            if tx.send(update).await.is_err() {
                break;
            }
        }
        if tx.is_closed() {
            break;
        }
        // The events end only when the connection does.
        if tx.send(Update::DaemonGone).await.is_err() {
            break;
        }
        super::until_answering(&engine).await;
    }
    for (_, s) in samplers {
        s.abort();
    }
}

/// Starts reading `id`'s stats into `tx`, unless a reader of its current run is at work.
fn sample(
    engine: &Engine,
    id: &str,
    tx: &mpsc::Sender<Update>,
    samplers: &mut HashMap<String, tokio::task::JoinHandle<()>>,
) {
    if samplers.get(id).is_some_and(|h| !h.is_finished()) {
        return;
    }
    let (engine, id2, tx) = (engine.clone(), id.to_owned(), tx.clone());
    let handle = tokio::spawn(async move {
        let mut usage = Box::pin(stats::stream(&engine, &id2));
        while let Some(u) = usage.next().await {
            // A view that cannot keep up skips a sample rather than queue them.
            if let Err(mpsc::error::TrySendError::Closed(_)) =
                tx.try_send(Update::Usage(id2.clone(), u))
            {
                return;
            }
        }
    });
    samplers.insert(id.to_owned(), handle);
}
