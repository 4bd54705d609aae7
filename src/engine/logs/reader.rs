//! The reading side of a log view: one task per container stream, rebuilding lines from the
//! daemon's frames, handling its timestamps, and writing into the shared view (or handing lines to
//! a writer that orders them by time).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{Notify, mpsc};

use super::{Channel, LogQuery, pause};
use crate::engine::Engine;
use crate::logs::{LogSink, Stamped, StampedLines};

/// A line with the daemon's time when it was asked for (0 otherwise).
pub(super) type Line = (i128, Bytes);

/// What readers tell the writer.
pub(super) enum Msg {
    /// Lines for a writer that orders them (only readers in `Sink::Queue` mode send these).
    Lines(usize, Channel, Vec<Line>),
    /// A stream ended; with the daemon's time of the last line it delivered, when known.
    Ended(usize, Option<i128>),
}

/// How a reader treats the daemon's timestamps.
#[derive(Clone, Copy, Default)]
pub struct Stamps {
    /// The user asked for them (-t): keep them in the text.
    pub show: bool,
    /// Needed for ordering or filtering: ask the daemon even when not shown.
    pub parse: bool,
    /// Drop lines older than this (a container attached from its start time, to nanosecond precision).
    pub min: Option<i128>,
}

impl Stamps {
    /// Whether the daemon is asked for its timestamps.
    pub fn wanted(&self) -> bool {
        self.show || self.parse
    }
}

/// The view shared by the readers that write into it directly. Lines are buffered and flushed a
/// moment after the last write, so a burst costs a few large writes instead of one per line.
#[derive(Clone)]
pub(super) struct SharedView {
    view: Arc<Mutex<Box<dyn LogSink>>>,
    dirty: Arc<Notify>,
}

/// How long written lines may wait for more before they are flushed to the terminal.
pub(super) const FLUSH_DELAY: Duration = Duration::from_millis(2);

impl SharedView {
    pub(super) fn new(view: Box<dyn LogSink>) -> Self {
        SharedView {
            view: Arc::new(Mutex::new(view)),
            dirty: Arc::new(Notify::new()),
        }
    }

    pub(super) fn with<R>(&self, f: impl FnOnce(&mut dyn LogSink) -> R) -> R {
        // A panic elsewhere cannot leave a sink half-updated in a way that matters for output.
        let mut view = self.view.lock().unwrap_or_else(|e| e.into_inner());
        f(view.as_mut())
    }

    /// Writes lines through `f` and has them flushed a moment later.
    pub(super) fn write(&self, f: impl FnOnce(&mut dyn LogSink)) {
        self.with(f);
        self.dirty.notify_one();
    }

    /// Flushes `FLUSH_DELAY` after lines were written; returns only when flushing fails (e.g. the
    /// reading end of a pipe closed).
    pub(super) async fn flush_when_dirty(&self) -> std::io::Error {
        loop {
            self.dirty.notified().await;
            tokio::time::sleep(FLUSH_DELAY).await;
            if let Err(e) = self.with(|v| v.flush()) {
                return e;
            }
        }
    }
}

/// Where a reader's lines go.
#[derive(Clone)]
pub(super) enum Sink {
    /// Straight into the view: the hot path, no hand-off per line.
    View(SharedView),
    /// To the writer as `Msg::Lines`, for a writer that orders lines by time.
    Queue,
}

pub(super) fn spawn_reader(
    engine: &Engine,
    idx: usize,
    id: &str,
    q: &LogQuery,
    stamps: Stamps,
    sink: Sink,
    tx: mpsc::Sender<Msg>,
) {
    let q = LogQuery {
        timestamps: stamps.wanted(),
        ..q.clone()
    };
    spawn_stream_reader(
        Box::pin(super::stream(engine, id, &q)),
        idx,
        stamps,
        sink,
        tx,
    );
}

pub(super) type FrameStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<(Channel, Bytes), String>> + Send>>;

/// The receiving end of one stream's lines: timestamps handled per `stamps`, lines handed to `sink`.
pub(super) struct LineOutput {
    idx: usize,
    stamps: Stamps,
    sink: Sink,
    tx: mpsc::Sender<Msg>,
    /// The daemon's time of the newest line delivered.
    last_ts: Option<i128>,
}

impl LineOutput {
    pub(super) fn convert(&mut self, s: Stamped) -> Option<Line> {
        let stamps = self.stamps;
        if !stamps.wanted() {
            return Some((0, s.line));
        }
        if stamps.min.is_some_and(|m| s.nanos < m) {
            return None;
        }
        self.last_ts = Some(self.last_ts.map_or(s.nanos, |t| t.max(s.nanos)));
        if !stamps.show || s.text.is_empty() {
            return Some((s.nanos, s.line));
        }
        let mut shown = Vec::with_capacity(s.text.len() + 1 + s.line.len());
        shown.extend_from_slice(&s.text);
        shown.push(b' ');
        shown.extend_from_slice(&s.line);
        Some((s.nanos, shown.into()))
    }

    /// Delivers the lines `feed` produces; false when nobody listens any more.
    pub(super) async fn emit(
        &mut self,
        ch: Channel,
        feed: impl FnOnce(&mut dyn FnMut(Stamped)),
    ) -> bool {
        match self.sink.clone() {
            Sink::View(shared) => {
                let mut wrote = false;
                shared.with(|v| {
                    feed(&mut |l| {
                        if let Some((_, l)) = self.convert(l) {
                            v.line(self.idx, ch, &l);
                            wrote = true;
                        }
                    })
                });
                if wrote {
                    shared.dirty.notify_one();
                }
                true
            }
            Sink::Queue => {
                let mut batch = Vec::new();
                feed(&mut |l| batch.extend(self.convert(l)));
                batch.is_empty() || self.tx.send(Msg::Lines(self.idx, ch, batch)).await.is_ok()
            }
        }
    }
}

/// Reads one stream of frames, rebuilds its lines and hands them to `sink`; says `Ended` on `tx`.
pub(super) fn spawn_stream_reader(
    s: FrameStream,
    idx: usize,
    stamps: Stamps,
    sink: Sink,
    tx: mpsc::Sender<Msg>,
) {
    // A reader ends with the pump it reads for (its receiver dropped), not only with its stream:
    // a follow that is left (a dashboard, attached `up` handing over to one) must stop writing.
    let pump_gone = tx.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = read_stream(s, idx, stamps, sink, tx) => {}
            _ = pump_gone.closed() => {}
        }
    });
}

/// The reader's work: frames to lines until the stream ends.
async fn read_stream(
    mut s: FrameStream,
    idx: usize,
    stamps: Stamps,
    sink: Sink,
    tx: mpsc::Sender<Msg>,
) {
    let mut o = LineOutput {
        idx,
        stamps,
        sink,
        tx,
        last_ts: None,
    };
    let mut out = StampedLines::new(stamps.wanted());
    let mut err = StampedLines::new(stamps.wanted());
    while let Some(Ok((ch, frame))) = s.next().await {
        pause::READING.frame_read();
        let buf = if ch == Channel::Stdout {
            &mut out
        } else {
            &mut err
        };
        if !o.emit(ch, |e| buf.push(frame, e)).await {
            return;
        }
    }
    for (ch, buf) in [(Channel::Stdout, &mut out), (Channel::Stderr, &mut err)] {
        o.emit(ch, |e| buf.finish().into_iter().for_each(e)).await;
    }
    let _ = o.tx.send(Msg::Ended(idx, o.last_ts)).await;
}
