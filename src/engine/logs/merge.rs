//! `logs --merge-time` without following: every container's lines in the daemon's timestamp order.

use anyhow::Result;
use tokio::sync::mpsc;

use super::reader::{Line, Msg, Sink, Stamps, spawn_reader};
use super::{Channel, LogQuery};
use crate::engine::Engine;
use crate::logs::LogSink;

/// Exact timestamp order without following: a k-way merge over per-container streams, holding one
/// pending line per container (memory stays bounded whatever the volume).
pub(super) async fn merged(
    engine: &Engine,
    ids: Vec<String>,
    q: LogQuery,
    stamps: Stamps,
    mut view: Box<dyn LogSink>,
) -> Result<()> {
    let stamps = Stamps {
        parse: true,
        ..stamps
    };
    let mut rxs = Vec::new();
    for (idx, id) in ids.iter().enumerate() {
        let (tx, rx) = mpsc::channel::<Msg>(64);
        spawn_reader(engine, idx, id, &q, stamps, Sink::Queue, tx);
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
                    Some(Msg::Ended(..)) | None => ended[i] = true,
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
