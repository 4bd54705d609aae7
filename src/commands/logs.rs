//! `stackctl logs` and the log view of an attached `up`: a reader task per container feeding one
//! writer through a bounded channel (a slow terminal slows the readers instead of growing memory),
//! and the project's events to attach containers that start later.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::cli::{Global, LogsArgs};
use crate::engine::converge::{Running, stop_and_remove};
use crate::engine::logs::{self, Channel, LogQuery};
use crate::engine::{Engine, Reporter, containers, observe};
use crate::exit::{Interrupted, UsageError};
use crate::logs::LineBuffer;
use crate::plan::Plan;
use crate::ui::logview::LogView;

enum Msg {
    Lines(usize, Channel, Vec<Bytes>),
    Ended(usize),
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
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
        .map_err(|_| UsageError::new(format!("`{s}` is not a time")).hint("use a duration such as 10m or 1h30m, or an RFC 3339 time such as 2026-01-02T15:04:05Z"))
}

fn spawn_reader(engine: &Engine, idx: usize, id: &str, q: &LogQuery, tx: mpsc::Sender<Msg>) {
    let mut s = Box::pin(logs::stream(engine, id, q));
    tokio::spawn(async move {
        let mut out = LineBuffer::default();
        let mut err = LineBuffer::default();
        while let Some(Ok((channel, frame))) = s.next().await {
            let mut batch = Vec::new();
            let buf = if channel == Channel::Stdout {
                &mut out
            } else {
                &mut err
            };
            buf.push(frame, |l| batch.push(l));
            if !batch.is_empty() && tx.send(Msg::Lines(idx, channel, batch)).await.is_err() {
                return;
            }
        }
        for (buf, ch) in [(&mut out, Channel::Stdout), (&mut err, Channel::Stderr)] {
            if let Some(l) = buf.finish() {
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
            UsageError::new(format!("--tail `{}` is not a number or `all`", args.tail)).into(),
        );
    }
    let q = LogQuery {
        follow: args.follow,
        tail: Some(args.tail.clone()),
        since: since.clamp(0, i32::MAX as i64) as i32,
        until: until.clamp(0, i32::MAX as i64) as i32,
        timestamps: args.timestamps,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let engine = crate::engine::connect().await?;
        let selected = |service: &str, number: u32| {
            (args.services.is_empty() || args.services.iter().any(|s| s == service))
                && args.index.is_none_or(|i| i == number)
        };
        let list: Vec<_> = observe::containers(&engine, &project, true)
            .await?
            .into_iter()
            .filter(|c| selected(&c.service, c.number))
            .collect();
        let targets: Vec<(String, String)> = list
            .iter()
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect();
        let follow_events = args.follow.then(|| {
            let svcs = args.services.clone();
            let index = args.index;
            (project.clone(), move |svc: &str, name: &str| {
                (svcs.is_empty() || svcs.iter().any(|s| s == svc))
                    && index.is_none_or(|i| name.ends_with(&format!("-{i}")))
            })
        });
        let view = LogView::new(
            &targets.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
            args.no_color,
            !args.no_log_prefix,
        );
        tokio::select! {
            r = pump(&engine, targets, q, view, follow_events) => r,
            _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
        }
    })
}

/// Streams `targets` into `view`; with `follow`, containers of the project that start later join in.
async fn pump<F: Fn(&str, &str) -> bool>(
    engine: &Engine,
    targets: Vec<(String, String)>,
    q: LogQuery,
    mut view: LogView,
    follow: Option<(String, F)>,
) -> Result<()> {
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    let mut names: Vec<String> = Vec::new();
    let mut streaming: HashMap<String, usize> = HashMap::new();
    let mut active: HashSet<usize> = HashSet::new();
    for (id, name) in &targets {
        let idx = names.len();
        names.push(name.clone());
        streaming.insert(id.clone(), idx);
        active.insert(idx);
        spawn_reader(engine, idx, id, &q, tx.clone());
    }
    let mut events = follow
        .as_ref()
        .map(|(project, _)| Box::pin(logs::events(engine, project, now_unix())));
    if active.is_empty() && events.is_none() {
        return Ok(());
    }
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Lines(idx, ch, lines)) => {
                    for l in &lines {
                        view.line(&names[idx], ch, l);
                    }
                    if rx.is_empty() {
                        view.flush()?;
                    }
                }
                Some(Msg::Ended(idx)) => {
                    active.remove(&idx);
                    streaming.retain(|_, v| *v != idx);
                    if active.is_empty() {
                        view.flush()?;
                        if follow.is_none() {
                            return Ok(());
                        }
                        if !any_running_or_restarting(engine, follow.as_ref().map(|(p, _)| p.as_str()).unwrap_or("")).await? {
                            return Ok(());
                        }
                    }
                }
                None => return Ok(()),
            },
            Some(ev) = async { match events.as_mut() { Some(e) => e.next().await, None => std::future::pending().await } } => {
                let Some((_, wanted)) = &follow else { continue };
                if !wanted(&ev.service, &ev.name) {
                    continue;
                }
                match ev.action.as_str() {
                    "start" if !streaming.contains_key(&ev.id) => {
                        let idx = names.len();
                        names.push(ev.name.clone());
                        view.widen(&ev.name);
                        streaming.insert(ev.id.clone(), idx);
                        active.insert(idx);
                        let since_start = LogQuery { follow: true, tail: None, since: ev.time.clamp(0, i32::MAX as i64) as i32, ..q.clone() };
                        spawn_reader(engine, idx, &ev.id, &since_start, tx.clone());
                    }
                    "die" => view.status(&ev.name, &format!("exited with code {}", ev.exit_code.unwrap_or(-1))),
                    "destroy" => view.status(&ev.name, "removed"),
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
    let follow = Some((plan.project.clone(), move |svc: &str, _: &str| {
        services.contains(svc)
    }));
    tokio::select! {
        r = pump(engine, targets, q, view, follow) => return r,
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
    let _ = stop_and_remove;
    bail!(Interrupted)
}
