//! `stackctl logs` and the log view of an attached `up`: a reader task per container feeding one
//! writer through bounded channels (a slow terminal slows the readers instead of growing memory),
//! the project's events to attach containers that start later, and an optional time-ordered merge.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::cli::{Global, LogsArgs};
use crate::engine::converge::Running;
use crate::engine::logs::{self, Channel, LogQuery};
use crate::engine::{Engine, Reporter, containers, observe};
use crate::exit::{Interrupted, UsageError};
use crate::logs::{LineBuffer, split_timestamp};
use crate::plan::Plan;
use crate::ui::logview::LogView;

/// A line with the daemon's time when it was asked for (0 otherwise).
type Line = (i128, Bytes);

/// Lines held back for time ordering: (time, arrival, container index, 0 stdout / 1 stderr, line).
type ReorderWindow = BinaryHeap<Reverse<(i128, u64, usize, u8, Bytes)>>;

enum Msg {
    Lines(usize, Channel, Vec<Line>),
    Ended(usize),
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn now_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// `10m`, `2h`, `30s` ago, or an RFC 3339 time, or unix seconds → unix seconds.
pub fn parse_time(s: &str) -> Result<i64, UsageError> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    if let Ok(d) = crate::manifest::units::parse_duration(s) {
        return Ok(now_unix() - d.as_secs() as i64);
    }
    humantime::parse_rfc3339_weak(s)
        .map(|t| t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0))
        .map_err(|_| {
            UsageError::new(format!("`{s}` is not a time"))
                .hint("use a duration such as 10m or 1h30m, or an RFC 3339 time such as 2026-01-02T15:04:05Z")
        })
}

/// How a reader treats the daemon's timestamps.
#[derive(Clone, Copy, Default)]
struct Stamps {
    /// The user asked for them (-t): keep them in the text.
    show: bool,
    /// Needed for ordering or filtering: ask the daemon even when not shown.
    parse: bool,
    /// Drop lines older than this (a container attached from its start time, to nanosecond precision).
    min: Option<i128>,
}

fn spawn_reader(
    engine: &Engine,
    idx: usize,
    id: &str,
    q: &LogQuery,
    stamps: Stamps,
    tx: mpsc::Sender<Msg>,
) {
    let q = LogQuery {
        timestamps: stamps.show || stamps.parse,
        ..q.clone()
    };
    spawn_stream_reader(Box::pin(logs::stream(engine, id, &q)), idx, stamps, tx);
}

type FrameStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<(Channel, Bytes), String>> + Send>>;

/// Reads one stream of frames, rebuilds its lines, and sends them in batches to the writer.
fn spawn_stream_reader(s: FrameStream, idx: usize, stamps: Stamps, tx: mpsc::Sender<Msg>) {
    tokio::spawn(async move {
        let mut out = LineBuffer::default();
        let mut err = LineBuffer::default();
        let convert = |l: Bytes| -> Option<Line> {
            if !(stamps.show || stamps.parse) {
                return Some((0, l));
            }
            let (ts, rest) = split_timestamp(&l).unwrap_or((0, l.clone()));
            if stamps.min.is_some_and(|m| ts < m) {
                return None;
            }
            Some((ts, if stamps.show { l } else { rest }))
        };
        // The daemon sends one frame per line: take every frame already received at once, so the
        // writer is woken once per chunk rather than once per line.
        let mut chunks = s.ready_chunks(1024);
        'read: while let Some(chunk) = chunks.next().await {
            let (mut out_batch, mut err_batch) = (Vec::new(), Vec::new());
            let mut broken = false;
            for item in chunk {
                let Ok((channel, frame)) = item else {
                    broken = true;
                    break;
                };
                if channel == Channel::Stdout {
                    out.push(frame, |l| out_batch.extend(convert(l)));
                } else {
                    err.push(frame, |l| err_batch.extend(convert(l)));
                }
            }
            for (batch, ch) in [(out_batch, Channel::Stdout), (err_batch, Channel::Stderr)] {
                if !batch.is_empty() && tx.send(Msg::Lines(idx, ch, batch)).await.is_err() {
                    return;
                }
            }
            if broken {
                break 'read;
            }
        }
        for (buf, ch) in [(&mut out, Channel::Stdout), (&mut err, Channel::Stderr)] {
            if let Some(l) = buf.finish().and_then(convert) {
                let _ = tx.send(Msg::Lines(idx, ch, vec![l])).await;
            }
        }
        let _ = tx.send(Msg::Ended(idx)).await;
    });
}

pub fn run(global: &Global, args: LogsArgs) -> Result<()> {
    let loaded = super::load_project(global)?;
    super::check_services(&loaded.project, &args.services)?;
    let project = loaded.project.name.clone();
    let since = args
        .since
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or(0);
    let until = args
        .until
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or(0);
    if args.tail != "all" && args.tail.parse::<u64>().is_err() {
        return Err(
            UsageError::new(format!("--tail `{}` is not a number or `all`", args.tail))
                .hint("for example --tail 100")
                .into(),
        );
    }
    let q = LogQuery {
        follow: args.follow,
        tail: Some(args.tail.clone()),
        since: since.clamp(0, i32::MAX as i64) as i32,
        until: until.clamp(0, i32::MAX as i64) as i32,
        timestamps: false,
    };
    let stamps = Stamps {
        show: args.timestamps,
        parse: args.merge_time,
        min: None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if global.target == crate::cli::Target::Swarm {
        return rt.block_on(swarm_logs(&project, &args, q, stamps));
    }
    rt.block_on(async {
        let engine = crate::engine::connect().await?;
        let services = args.services.clone();
        let index = args.index;
        let wanted = move |service: &str, number: u32| {
            (services.is_empty() || services.iter().any(|s| s == service))
                && index.is_none_or(|i| i == number)
        };
        let list: Vec<_> = observe::containers(&engine, &project, true)
            .await?
            .into_iter()
            .filter(|c| !c.oneoff && wanted(&c.service, c.number))
            .collect();
        let targets: Vec<(String, String)> = list
            .iter()
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect();
        let names: Vec<String> = targets.iter().map(|(_, n)| n.clone()).collect();
        let view = LogView::new(&names, args.no_color, !args.no_log_prefix);
        let work = async {
            if args.merge_time && !args.follow {
                return merged(&engine, targets, q, stamps, view).await;
            }
            let follow = args
                .follow
                .then(|| (project.clone(), move |svc: &str, n: u32| wanted(svc, n)));
            let window = args.merge_time.then_some(Duration::from_millis(250));
            pump(&engine, targets, q, stamps, view, follow, window).await
        };
        tokio::select! {
            r = work => r,
            _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
        }
    })
}

/// Logs of the project's Swarm services, one stream per service (its tasks' output), `service |` prefixes.
async fn swarm_logs(project: &str, args: &LogsArgs, q: LogQuery, stamps: Stamps) -> Result<()> {
    let engine = crate::engine::connect().await?;
    let services: Vec<(String, String)> = crate::engine::swarm::services(&engine, project)
        .await?
        .into_iter()
        .filter(|(_, name)| {
            args.services.is_empty()
                || args
                    .services
                    .iter()
                    .any(|s| crate::engine::swarm::service_name(project, s) == *name)
        })
        .collect();
    let mut view = LogView::new(
        &services.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
        args.no_color,
        !args.no_log_prefix,
    );
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    let q = LogQuery {
        timestamps: stamps.show,
        ..q
    };
    for (idx, (id, _)) in services.iter().enumerate() {
        spawn_stream_reader(
            Box::pin(logs::service_stream(&engine, id, &q)),
            idx,
            stamps,
            tx.clone(),
        );
    }
    drop(tx);
    let work = async {
        while let Some(msg) = rx.recv().await {
            if let Msg::Lines(idx, ch, lines) = msg {
                for (_, l) in &lines {
                    view.line(idx, ch, l);
                }
                if rx.is_empty() {
                    view.flush()?;
                }
            }
        }
        view.flush()?;
        Ok(())
    };
    tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
    }
}

/// Exact timestamp order without following: a k-way merge over per-container streams, holding one
/// pending line per container (memory stays bounded whatever the volume).
async fn merged(
    engine: &Engine,
    targets: Vec<(String, String)>,
    q: LogQuery,
    stamps: Stamps,
    mut view: LogView,
) -> Result<()> {
    let stamps = Stamps {
        parse: true,
        ..stamps
    };
    let mut rxs = Vec::new();
    for (idx, (id, _)) in targets.iter().enumerate() {
        let (tx, rx) = mpsc::channel::<Msg>(64);
        spawn_reader(engine, idx, id, &q, stamps, tx);
        rxs.push(rx);
    }
    // Per container: lines received but not printed yet, and whether its stream ended.
    let mut pending: Vec<std::collections::VecDeque<(Channel, Line)>> =
        vec![Default::default(); rxs.len()];
    let mut ended = vec![false; rxs.len()];
    loop {
        for i in 0..rxs.len() {
            while pending[i].is_empty() && !ended[i] {
                match rxs[i].recv().await {
                    Some(Msg::Lines(_, ch, lines)) => {
                        pending[i].extend(lines.into_iter().map(|l| (ch, l)))
                    }
                    Some(Msg::Ended(_)) | None => ended[i] = true,
                }
            }
        }
        let next = (0..pending.len())
            .filter(|i| !pending[*i].is_empty())
            .min_by_key(|i| pending[*i].front().map(|(_, (ts, _))| *ts));
        let Some(i) = next else { break };
        if let Some((ch, (_, line))) = pending[i].pop_front() {
            view.line(i, ch, &line);
        }
    }
    view.flush()?;
    Ok(())
}

/// Streams `targets` into `view`; with `follow`, containers of the project that start later join in
/// from their start time; with `window`, lines are reordered by time within that window.
async fn pump<F: Fn(&str, u32) -> bool>(
    engine: &Engine,
    targets: Vec<(String, String)>,
    q: LogQuery,
    stamps: Stamps,
    mut view: LogView,
    follow: Option<(String, F)>,
    window: Option<Duration>,
) -> Result<()> {
    // Following needs each line's time: a container that restarts is re-attached just after the last
    // line already shown, so nothing is replayed and nothing is lost.
    let stamps = Stamps {
        parse: stamps.parse || window.is_some() || follow.is_some(),
        ..stamps
    };
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    let mut ids: Vec<String> = Vec::new();
    let mut last_ts: HashMap<String, i128> = HashMap::new();
    let mut streaming: HashMap<String, usize> = HashMap::new();
    let mut active: HashSet<usize> = HashSet::new();
    for (id, _) in &targets {
        let idx = ids.len();
        ids.push(id.clone());
        streaming.insert(id.clone(), idx);
        active.insert(idx);
        spawn_reader(engine, idx, id, &q, stamps, tx.clone());
    }
    let mut events = follow
        .as_ref()
        .map(|(project, _)| Box::pin(logs::events(engine, project, now_unix())));
    if active.is_empty() && events.is_none() {
        return Ok(());
    }
    // The reordering window: lines wait here until they are older than `window`.
    let mut held: ReorderWindow = BinaryHeap::new();
    let mut seq = 0u64;
    let mut tick = tokio::time::interval(window.unwrap_or(Duration::from_secs(3600)) / 2);
    let release = |held: &mut ReorderWindow, view: &mut LogView, upto: i128| {
        while held.peek().is_some_and(|Reverse((ts, ..))| *ts <= upto) {
            if let Some(Reverse((_, _, idx, ch, line))) = held.pop() {
                view.line(
                    idx,
                    if ch == 0 {
                        Channel::Stdout
                    } else {
                        Channel::Stderr
                    },
                    &line,
                );
            }
        }
    };
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Lines(idx, ch, lines)) => {
                    if let Some(max) = lines.iter().map(|(ts, _)| *ts).max() {
                        let e = last_ts.entry(ids[idx].clone()).or_default();
                        *e = (*e).max(max);
                    }
                    if window.is_some() {
                        for (ts, l) in lines {
                            seq += 1;
                            held.push(Reverse((ts, seq, idx, u8::from(ch == Channel::Stderr), l)));
                        }
                    } else {
                        for (_, l) in &lines {
                            view.line(idx, ch, l);
                        }
                    }
                    if rx.is_empty() {
                        view.flush()?;
                    }
                }
                Some(Msg::Ended(idx)) => {
                    active.remove(&idx);
                    streaming.retain(|_, v| *v != idx);
                    if active.is_empty() {
                        release(&mut held, &mut view, i128::MAX);
                        view.flush()?;
                        let Some((project, _)) = &follow else { return Ok(()) };
                        if !any_running_or_restarting(engine, project).await? {
                            return Ok(());
                        }
                    }
                }
                None => return Ok(()),
            },
            _ = tick.tick(), if window.is_some() => {
                release(&mut held, &mut view, now_nanos() - window.unwrap_or_default().as_nanos() as i128);
                view.flush()?;
            }
            Some(ev) = async { match events.as_mut() { Some(e) => e.next().await, None => std::future::pending().await } } => {
                let Some((_, wanted)) = &follow else { continue };
                let number = ev.name.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                if !wanted(&ev.service, number) {
                    continue;
                }
                match ev.action.as_str() {
                    "start" if !streaming.contains_key(&ev.id) => {
                        let idx = view.add(&ev.name);
                        ids.push(ev.id.clone());
                        streaming.insert(ev.id.clone(), idx);
                        active.insert(idx);
                        // A container seen before continues after its last shown line; a new one from its start.
                        let min = last_ts.get(&ev.id).map(|t| t + 1);
                        let since_secs = min.map_or(0, |m| (m / 1_000_000_000) as i64);
                        let from = LogQuery { follow: true, tail: None, since: since_secs.clamp(0, i32::MAX as i64) as i32, ..q.clone() };
                        spawn_reader(engine, idx, &ev.id, &from, Stamps { parse: true, min, ..stamps }, tx.clone());
                    }
                    "die" | "destroy" => {
                        let idx = match ids.iter().rposition(|i| *i == ev.id) {
                            Some(i) => i,
                            None => {
                                ids.push(ev.id.clone());
                                view.add(&ev.name)
                            }
                        };
                        let text = if ev.action == "destroy" {
                            "removed".to_owned()
                        } else {
                            let restarting = if ev.restart_policy_applies { ", restarting" } else { "" };
                            format!("exited with code {}{restarting}", ev.exit_code.unwrap_or(-1))
                        };
                        view.status(idx, &text);
                    }
                    _ => {}
                }
            }
        }
    }
}

async fn any_running_or_restarting(engine: &Engine, project: &str) -> Result<bool> {
    // A container that died under a restart policy shows as restarting, or starts again within its
    // back-off; give it a moment before concluding the stack is down.
    for _ in 0..3 {
        let list = observe::containers(engine, project, true).await?;
        if list.iter().any(|c| c.running() || c.state == "restarting") {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(false)
}

/// Attached `up`: show the stack's output until Ctrl-C, then stop it gracefully; a second Ctrl-C kills.
pub async fn attached(
    engine: &Engine,
    plan: &Plan,
    running: Vec<Running>,
    timeout: Option<Duration>,
    _report: &Reporter,
) -> Result<()> {
    let targets: Vec<(String, String)> = running
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    let q = LogQuery {
        follow: true,
        tail: Some("all".into()),
        ..LogQuery::default()
    };
    let view = LogView::new(
        &targets.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
        false,
        true,
    );
    let services: HashSet<String> = running.iter().map(|r| r.service.clone()).collect();
    let follow = Some((plan.project.clone(), move |svc: &str, _: u32| {
        services.contains(svc)
    }));
    tokio::select! {
        r = pump(engine, targets, q, Stamps::default(), view, follow, None) => return r,
        _ = tokio::signal::ctrl_c() => {}
    }
    eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
    let stop_all = async {
        for level in plan.levels.iter().rev() {
            let wave: Vec<_> = running
                .iter()
                .filter(|r| level.contains(&r.service))
                .collect();
            futures::future::join_all(wave.iter().map(|r| {
                let t = timeout.unwrap_or_else(|| plan.services[&r.service].stop_timeout());
                containers::stop(engine, &r.id, &r.name, t)
            }))
            .await;
        }
    };
    tokio::select! {
        _ = stop_all => {}
        _ = tokio::signal::ctrl_c() => {
            futures::future::join_all(running.iter().map(|r| engine.docker.kill_container(&r.id, None::<bollard::query_parameters::KillContainerOptions>))).await;
        }
    }
    bail!(Interrupted)
}
