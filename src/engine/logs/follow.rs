//! Following containers' logs: a reader task per container writing its lines into one shared
//! sink (a slow terminal blocks the writes, so the readers stop reading and memory does not grow),
//! the project's events to attach containers that start later or restart, and an optional
//! time-ordered merge, for which lines go through bounded channels instead. What the sink shows, and
//! where, is the caller's.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::reader::{Msg, SharedView, Sink, Stamps, spawn_reader};
use super::{ContainerEvent, LogQuery, reconnect};
use crate::engine::{Engine, observe};
use crate::logs::{Channel, LogSink};

/// Makes the sink once the names it will show are known (prefixes are as wide as the longest).
pub type SinkFor<'a> = Box<dyn FnOnce(&[String]) -> Box<dyn LogSink> + Send + 'a>;

/// Lines held back for time ordering: (time, arrival, container index, 0 stdout / 1 stderr, line).
type ReorderWindow = BinaryHeap<Reverse<(i128, u64, usize, u8, Bytes)>>;

pub fn now_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// What `logs` of one engine shows: the project's containers of `services` (all when empty) and
/// replica `index`, asked with `query`; with `merge_time`, in the daemon's time order.
pub struct LogsRequest {
    pub project: String,
    pub services: Vec<String>,
    pub index: Option<u32>,
    pub query: LogQuery,
    pub stamps: Stamps,
    pub merge_time: bool,
}

/// `logs` on one engine: the containers `req` names into the sink `sink_for` makes; when
/// following, through restarts, recreations and the daemon going away.
pub async fn containers(engine: &Engine, req: LogsRequest, sink_for: SinkFor<'_>) -> Result<()> {
    let LogsRequest {
        project,
        services,
        index,
        query: q,
        stamps,
        merge_time,
    } = req;
    let wanted = move |service: &str, number: u32| {
        (services.is_empty() || services.iter().any(|s| s == service))
            && index.is_none_or(|i| i == number)
    };
    // Events from this instant on the daemon's clock, to the nanosecond: a whole second back
    // would bring the last second's stops and removals of containers that are gone.
    let events_from = super::daemon_clock(engine).await.unwrap_or_else(now_nanos);
    let list: Vec<_> = observe::containers(engine, &project, true)
        .await?
        .into_iter()
        .filter(|c| !c.oneoff && wanted(&c.service, c.number))
        .collect();
    let names: Vec<String> = list.iter().map(|c| c.name.clone()).collect();
    let view = sink_for(&names);
    if merge_time && !q.follow {
        let ids = list.into_iter().map(|c| c.id).collect();
        return super::merge::merged(engine, ids, q, stamps, view).await;
    }
    let follow = q.follow.then(|| Follow {
        project: project.clone(),
        since: events_from,
        wanted,
        stops: None,
        linger: LOGS_LINGER,
    });
    let window = merge_time.then_some(Duration::from_millis(250));
    let targets = list
        .into_iter()
        .map(|c| Target {
            id: c.id,
            from: None,
        })
        .collect();
    pump(engine, targets, q, stamps, view, follow, window).await
}

/// Follows every container of `project` into the sinks `sink_for` makes, until dropped, as `logs -f --tail N` does
/// (through restarts, recreations and the daemon going away); when nothing runs, it waits for the
/// next start instead of ending.
pub async fn project(
    engine: &Engine,
    project: &str,
    sink_for: impl Fn(&[String]) -> Box<dyn LogSink>,
    tail: u32,
) -> Result<()> {
    let mut from: Option<i128> = None;
    loop {
        let events_from = super::daemon_clock(engine).await.unwrap_or_else(now_nanos);
        let list: Vec<_> = match observe::containers(engine, project, true).await {
            Ok(list) => list.into_iter().filter(|c| !c.oneoff).collect(),
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let names: Vec<String> = list.iter().map(|c| c.name.clone()).collect();
        let view = sink_for(&names);
        let targets = list
            .into_iter()
            .map(|c| Target { id: c.id, from })
            .collect();
        let q = LogQuery {
            follow: true,
            tail: Some(tail.to_string()),
            since: 0,
            until: 0,
            timestamps: false,
        };
        let follow = Follow {
            project: project.to_owned(),
            since: events_from,
            wanted: |_: &str, _: u32| true,
            stops: None,
            linger: LOGS_LINGER,
        };
        let followed = pump(
            engine,
            targets,
            q,
            Stamps::default(),
            view,
            Some(follow),
            None,
        )
        .await;
        // A follow that fails (the daemon refusing a call) starts over rather than ending the log.
        if followed.is_err() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Nothing runs: the next start of any container brings the follow back, from then on.
        let now = super::daemon_clock(engine).await.unwrap_or_else(now_nanos);
        let mut events = Box::pin(super::events(engine, project, now));
        while let Some(ev) = events.next().await {
            if ev.action == "start" && !ev.oneoff {
                break;
            }
        }
        from = Some(now);
    }
}

/// What a follow watches besides the first containers: the project's events from `since` (the
/// daemon's clock, nanoseconds),
/// so that the containers `wanted` shows join in when they start; and, for attached `up` with
/// `--abort-on-container-exit`, which containers' stops to report.
pub struct Follow<F> {
    pub project: String,
    pub since: i128,
    pub wanted: F,
    pub stops: Option<StopWatch>,
    /// Once nothing runs, how long to wait for a start before ending.
    pub linger: Duration,
}

/// Where to report that a container of `services` stopped for good (no restart policy brings it back).
pub struct StopWatch {
    pub services: HashSet<String>,
    pub tx: mpsc::Sender<ContainerEvent>,
}

/// How long a follow that has nothing left to read waits for the events saying how its containers
/// stopped (they come on another connection, usually within milliseconds).
const EXIT_EVENT_GRACE: Duration = Duration::from_secs(2);

/// A container whose lines to show: all of them, or those from a time on (the daemon's clock, ns).
pub struct Target {
    pub id: String,
    pub from: Option<i128>,
}

/// The whole seconds for the logs API's `since`, at or before `nanos`.
fn secs_for_query(nanos: i128) -> i32 {
    (nanos.div_euclid(1_000_000_000)).clamp(0, i32::MAX as i128) as i32
}

/// Streams `targets` into `view`; with `follow`, containers of the project that start later join in
/// from their start time; with `window`, lines are reordered by time within that window.
pub async fn pump<F: Fn(&str, u32) -> bool>(
    engine: &Engine,
    targets: Vec<Target>,
    q: LogQuery,
    stamps: Stamps,
    view: Box<dyn LogSink>,
    follow: Option<Follow<F>>,
    window: Option<Duration>,
) -> Result<()> {
    // Following needs each line's time: a container that restarts is re-attached just after the last
    // line already shown, so nothing is replayed and nothing is lost.
    let stamps = Stamps {
        parse: stamps.parse || window.is_some() || follow.is_some(),
        ..stamps
    };
    let view = SharedView::new(view);
    // Without reordering, readers write straight into the view; with it, lines come here first.
    let sink = if window.is_some() {
        Sink::Queue
    } else {
        Sink::View(view.clone())
    };
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    let mut ids: Vec<String> = Vec::new();
    let mut last_ts: HashMap<String, i128> = HashMap::new();
    let mut streaming: HashMap<String, usize> = HashMap::new();
    let mut active: HashSet<usize> = HashSet::new();
    // Containers whose stream ended before their stop's event came, and the other way round.
    let mut exit_unseen: HashSet<String> = HashSet::new();
    let mut died: HashSet<String> = HashSet::new();
    // Containers that started again while their previous run's stream was still open.
    let mut started_again: HashSet<String> = HashSet::new();
    let mut settle_by: Option<tokio::time::Instant> = None;
    // Set when a stream ends, a stop is seen or the grace runs out: time to ask whether we are done.
    let mut maybe_done = false;
    for t in &targets {
        let idx = ids.len();
        ids.push(t.id.clone());
        streaming.insert(t.id.clone(), idx);
        active.insert(idx);
        let (q, stamps) = match t.from {
            Some(from) => (
                LogQuery {
                    since: secs_for_query(from),
                    ..q.clone()
                },
                Stamps {
                    min: Some(from),
                    ..stamps
                },
            ),
            None => (q.clone(), stamps),
        };
        spawn_reader(engine, idx, &t.id, &q, stamps, sink.clone(), tx.clone());
    }
    let mut events = follow
        .as_ref()
        .map(|f| Box::pin(super::events(engine, &f.project, f.since)));
    if active.is_empty() && events.is_none() {
        return Ok(());
    }
    let flusher = view.flush_when_dirty();
    tokio::pin!(flusher);
    // The reordering window: lines wait here until they are older than `window`.
    let mut held: ReorderWindow = BinaryHeap::new();
    let mut seq = 0u64;
    let mut tick = tokio::time::interval(window.unwrap_or(Duration::from_secs(3600)) / 2);
    let release = |held: &mut ReorderWindow, upto: i128| {
        view.with(|v| {
            while held.peek().is_some_and(|Reverse((ts, ..))| *ts <= upto) {
                if let Some(Reverse((_, _, idx, ch, line))) = held.pop() {
                    let ch = if ch == 0 {
                        Channel::Stdout
                    } else {
                        Channel::Stderr
                    };
                    v.line(idx, ch, &line);
                }
            }
        })
    };
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Lines(idx, ch, lines)) => {
                    for (ts, l) in lines {
                        seq += 1;
                        held.push(Reverse((ts, seq, idx, u8::from(ch == Channel::Stderr), l)));
                    }
                }
                Some(Msg::Ended(idx, ts)) => {
                    if let Some(ts) = ts {
                        let e = last_ts.entry(ids[idx].clone()).or_default();
                        *e = (*e).max(ts);
                    }
                    active.remove(&idx);
                    streaming.retain(|_, v| *v != idx);
                    if started_again.remove(&ids[idx]) {
                        // Its next run began before this stream ended: follow that run now.
                        let id = ids[idx].clone();
                        died.remove(&id);
                        streaming.insert(id.clone(), idx);
                        active.insert(idx);
                        follow_after_last(engine, idx, &id, &last_ts, &q, stamps, sink.clone(), tx.clone());
                        continue;
                    }
                    // A followed stream ends when its container stops; the stop's event may still
                    // be on its way, and its status line is worth waiting for.
                    if follow.is_some() && !died.remove(&ids[idx]) {
                        exit_unseen.insert(ids[idx].clone());
                    }
                    if active.is_empty() {
                        release(&mut held, i128::MAX);
                        view.with(|v| v.flush())?;
                        if follow.is_none() {
                            return Ok(());
                        }
                        if !exit_unseen.is_empty() {
                            settle_by = Some(tokio::time::Instant::now() + EXIT_EVENT_GRACE);
                        }
                        maybe_done = true;
                    }
                }
                None => return Ok(()),
            },
            e = &mut flusher => return Err(e.into()),
            _ = tokio::time::sleep_until(settle_by.unwrap_or_else(tokio::time::Instant::now)), if settle_by.is_some() => {
                exit_unseen.clear();
                maybe_done = true;
            }
            _ = tick.tick(), if window.is_some() => {
                release(&mut held, now_nanos() - window.unwrap_or_default().as_nanos() as i128);
                view.with(|v| v.flush())?;
            }
            ev = async { match events.as_mut() { Some(e) => e.next().await, None => std::future::pending().await } } => {
                let Some(f) = &follow else { continue };
                // The events end only when the connection does: the daemon may be gone.
                let Some(ev) = ev else {
                    events = None;
                    maybe_done = true;
                    continue;
                };
                if i128::from(ev.time_nano) < f.since {
                    continue;
                }
                let shown = !ev.oneoff && (f.wanted)(&ev.service, ev.number);
                match ev.action.as_str() {
                    "start" if shown && !streaming.contains_key(&ev.id) => {
                        let idx = view.with(|v| v.add(&ev.name));
                        ids.push(ev.id.clone());
                        streaming.insert(ev.id.clone(), idx);
                        active.insert(idx);
                        follow_after_last(engine, idx, &ev.id, &last_ts, &q, stamps, sink.clone(), tx.clone());
                    }
                    // A restart whose start comes before the old run's stream has ended: picked
                    // up when it ends (above), or the new run would go unread.
                    "start" if shown => {
                        started_again.insert(ev.id.clone());
                    }
                    // Only the containers this view shows: one it never showed (the one a
                    // recreation replaced, say) has nothing to say here.
                    "die" | "destroy" if shown && ids.contains(&ev.id) => {
                        let idx = ids.iter().rposition(|i| *i == ev.id).unwrap_or_default();
                        let text = if ev.action == "destroy" {
                            "removed".to_owned()
                        } else {
                            let oom = if ev.oom_killed { ", killed for want of memory (OOM)" } else { "" };
                            let restarting = if ev.restart_policy_applies { ", restarting" } else { "" };
                            format!("exited with code {}{oom}{restarting}", ev.exit_code.unwrap_or(-1))
                        };
                        view.with(|v| v.status(idx, &text));
                    }
                    _ => {}
                }
                if let Some(w) = &f.stops
                    && ev.action == "die"
                    && !ev.restart_policy_applies
                    && !ev.oneoff
                    && w.services.contains(&ev.service)
                {
                    // Reported once the view has said it, so the exit line comes first.
                    view.with(|v| v.flush())?;
                    let _ = w.tx.try_send(ev.clone());
                }
                if ev.action == "die" {
                    if exit_unseen.remove(&ev.id) {
                        maybe_done = true;
                    } else if streaming.contains_key(&ev.id) {
                        died.insert(ev.id.clone());
                    }
                }
            }
        }
        // Every stream has ended and every stop has been said: done, unless something of the
        // project still runs or is about to restart (then its start event brings it back).
        if std::mem::take(&mut maybe_done) && active.is_empty() && exit_unseen.is_empty() {
            settle_by = None;
            view.with(|v| v.flush())?;
            let Some(f) = &follow else { continue };
            if events.is_some() {
                match any_running_or_restarting(engine, &f.project, &f.wanted, f.linger).await {
                    Ok(true) => continue,
                    Ok(false) => return Ok(()),
                    Err(e) if crate::engine::answers(engine).await => return Err(e),
                    Err(_) => {}
                }
            }
            // The daemon went away (every stream ended with it): wait, then follow again.
            reconnect::wait_for_daemon(engine, &view).await;
            let now = super::daemon_clock(engine).await.unwrap_or_else(now_nanos);
            events = Some(Box::pin(super::events(engine, &f.project, now)));
            for c in observe::containers(engine, &f.project, true).await? {
                if c.oneoff || !(f.wanted)(&c.service, c.number) || streaming.contains_key(&c.id) {
                    continue;
                }
                let idx = ids.iter().rposition(|i| *i == c.id).unwrap_or_else(|| {
                    ids.push(c.id.clone());
                    view.with(|v| v.add(&c.name))
                });
                streaming.insert(c.id.clone(), idx);
                active.insert(idx);
                let min = last_ts.get(&c.id).map(|t| t + 1);
                let from = LogQuery {
                    follow: true,
                    since: min.map_or(q.since, secs_for_query),
                    ..q.clone()
                };
                spawn_reader(
                    engine,
                    idx,
                    &c.id,
                    &from,
                    Stamps {
                        parse: true,
                        min,
                        ..stamps
                    },
                    sink.clone(),
                    tx.clone(),
                );
            }
        }
    }
}

/// Follows container `id` into view slot `idx`: a container seen before continues after its last
/// shown line, a new one from its start.
#[allow(clippy::too_many_arguments)]
fn follow_after_last(
    engine: &Engine,
    idx: usize,
    id: &str,
    last_ts: &HashMap<String, i128>,
    q: &LogQuery,
    stamps: Stamps,
    sink: Sink,
    tx: mpsc::Sender<Msg>,
) {
    let min = last_ts.get(id).map(|t| t + 1);
    let from = LogQuery {
        follow: true,
        tail: None,
        since: min.map_or(0, secs_for_query),
        ..q.clone()
    };
    let stamps = Stamps {
        parse: true,
        min,
        ..stamps
    };
    spawn_reader(engine, idx, id, &from, stamps, sink, tx);
}

/// How long `logs -f` waits, once nothing runs, for something to start again before it ends: a
/// `docker restart` or `stackctl restart` leaves a container exited between its stop and its start,
/// for more than a second on a busy machine.
pub const LOGS_LINGER: Duration = Duration::from_secs(5);

/// Whether a container the follow shows (`wanted`) still runs or is about to restart: the others
/// of the project (another file's services, a `run`) do not keep a follow going, as in compose.
async fn any_running_or_restarting(
    engine: &Engine,
    project: &str,
    wanted: &impl Fn(&str, u32) -> bool,
    linger: Duration,
) -> Result<bool> {
    // A container that died under a restart policy shows as restarting, or starts again within its
    // back-off; give it a moment (at least 0.6 s) before concluding the stack is down.
    let until = tokio::time::Instant::now() + linger.max(Duration::from_millis(600));
    loop {
        let list = observe::containers(engine, project, true).await?;
        if list
            .iter()
            .any(|c| !c.oneoff && wanted(&c.service, c.number) && c.state.needs_stopping())
        {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= until {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
