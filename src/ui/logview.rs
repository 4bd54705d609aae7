//! The merged log view: one writer, `name | line` prefixes padded and coloured per container,
//! stdout lines to stdout and stderr lines to stderr. Prefixes are rendered once per container,
//! not once per line: this is the hot path of `logs`. The same view can keep its lines in a
//! bounded ring instead, for the dashboard to draw (see `LogRing`).

use std::io::{BufWriter, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use crate::logs::{Channel, LogSink, colour_for, prefix};

/// Where the view's lines go.
enum Dest {
    Terminal {
        out: BufWriter<std::io::Stdout>,
        err: BufWriter<std::io::Stderr>,
    },
    /// The ring, and each of this view's containers' index among the ring's names (a ring outlives
    /// the views that write into it).
    Ring(Arc<LogRing>, Vec<usize>),
}

pub struct LogView {
    dest: Dest,
    /// The names shown: as compose shows them, without the project's (`web-1`).
    names: Vec<String>,
    prefixes: Vec<Vec<u8>>,
    width: usize,
    colour: bool,
    show_prefix: bool,
    /// The project whose name is taken off the front of its containers' names.
    project: String,
    /// Status lines begin by clearing the line, as compose's do, on a terminal only.
    terminal: bool,
}

/// What a captured line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Out,
    Err,
    /// From stackctl itself: an exit, a removal, the daemon going away.
    Status,
}

/// A line kept by a capturing view: which container said it (an index into `names`), and what.
#[derive(Debug, Clone)]
pub struct RingLine {
    pub container: usize,
    pub kind: LineKind,
    pub text: String,
}

/// The last `capacity` lines of a capturing view; `changed` wakes a reader when one arrives.
pub struct LogRing {
    inner: Mutex<RingInner>,
    capacity: usize,
    pub changed: tokio::sync::Notify,
}

#[derive(Default)]
struct RingInner {
    names: Vec<String>,
    lines: std::collections::VecDeque<RingLine>,
}

impl LogRing {
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(LogRing {
            inner: Mutex::new(RingInner::default()),
            capacity: capacity.max(1),
            changed: tokio::sync::Notify::new(),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut RingInner) -> R) -> R {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut inner)
    }

    fn name(&self, name: &str) -> usize {
        self.with(|r| {
            r.names.push(name.to_owned());
            r.names.len() - 1
        })
    }

    pub fn push(&self, container: usize, kind: LineKind, text: String) {
        self.with(|r| {
            if r.lines.len() == self.capacity {
                r.lines.pop_front();
            }
            r.lines.push_back(RingLine {
                container,
                kind,
                text,
            });
        });
        self.changed.notify_one();
    }

    /// The container names (indexed by `RingLine::container`) and the newest `count` kept lines
    /// that `keep` accepts, after skipping the newest `skip` of those; oldest first. Only what is
    /// shown is copied: this runs for every frame.
    pub fn tail(
        &self,
        skip: usize,
        count: usize,
        keep: impl Fn(&str, &RingLine) -> bool,
    ) -> (Vec<String>, Vec<RingLine>) {
        self.with(|r| {
            let mut lines: Vec<RingLine> = r
                .lines
                .iter()
                .rev()
                .filter(|l| keep(r.names.get(l.container).map_or("", |n| n.as_str()), l))
                .skip(skip)
                .take(count)
                .cloned()
                .collect();
            lines.reverse();
            (r.names.clone(), lines)
        })
    }
}

impl LogView {
    /// A view of `project`'s containers `0..names.len()`, which are `names`, in order.
    pub fn new(names: &[String], project: &str, no_color: bool, show_prefix: bool) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let colour = !no_color && super::ansi(terminal);
        let dest = Dest::Terminal {
            out: BufWriter::with_capacity(128 * 1024, std::io::stdout()),
            err: BufWriter::with_capacity(16 * 1024, std::io::stderr()),
        };
        let mut v = Self::with_dest(dest, project, colour, show_prefix);
        v.terminal = terminal;
        for n in names {
            v.add(n);
        }
        v
    }

    /// A view that keeps its lines in `ring` instead of writing them, under the full names.
    pub fn capture(ring: Arc<LogRing>, names: &[String]) -> Self {
        let mut v = Self::with_dest(Dest::Ring(ring, Vec::new()), "", false, false);
        for n in names {
            v.add(n);
        }
        v
    }

    fn with_dest(dest: Dest, project: &str, colour: bool, show_prefix: bool) -> Self {
        LogView {
            dest,
            names: Vec::new(),
            prefixes: Vec::new(),
            width: 0,
            colour,
            show_prefix,
            project: project.to_owned(),
            terminal: false,
        }
    }

    /// "Attaching to web-1, db-1", as compose's attached `up` begins.
    pub fn announce(&mut self) {
        if let Dest::Terminal { out, .. } = &mut self.dest {
            let _ = writeln!(out, "Attaching to {}", self.names.join(", "));
            let _ = out.flush();
        }
    }

    /// The name shown for a container: without `project-` (or `project_`) at its front.
    fn shown(&self, name: &str) -> String {
        let rest = name
            .strip_prefix(self.project.as_str())
            .filter(|_| !self.project.is_empty())
            .and_then(|r| r.strip_prefix('-').or_else(|| r.strip_prefix('_')))
            .filter(|r| !r.is_empty());
        rest.unwrap_or(name).to_owned()
    }

    /// Registers a container and returns its index; a longer name widens every prefix (to one
    /// past the longest name, as compose pads them).
    pub fn add(&mut self, name: &str) -> usize {
        if let Dest::Ring(ring, ids) = &mut self.dest {
            ids.push(ring.name(name));
        }
        let name = self.shown(name);
        let w = name.chars().count() + 1;
        self.names.push(name);
        if w > self.width || self.prefixes.is_empty() {
            self.width = self.width.max(w);
            self.prefixes = self.names.iter().map(|n| self.render_prefix(n)).collect();
        } else {
            let last = self.render_prefix(&self.names[self.names.len() - 1]);
            self.prefixes.push(last);
        }
        self.names.len() - 1
    }

    fn render_prefix(&self, name: &str) -> Vec<u8> {
        if !self.show_prefix {
            return Vec::new();
        }
        prefix(name, self.width, self.colour.then(|| colour_for(name))).into_bytes()
    }

    pub fn line(&mut self, idx: usize, channel: Channel, line: &[u8]) {
        let w: &mut dyn Write = match (&mut self.dest, channel) {
            (Dest::Terminal { out, .. }, Channel::Stdout) => out,
            (Dest::Terminal { err, .. }, Channel::Stderr) => err,
            (Dest::Ring(ring, ids), _) => {
                let kind = match channel {
                    Channel::Stdout => LineKind::Out,
                    Channel::Stderr => LineKind::Err,
                };
                ring.push(ids[idx], kind, String::from_utf8_lossy(line).into_owned());
                return;
            }
        };
        let _ = w.write_all(&self.prefixes[idx]);
        let _ = w.write_all(line);
        let _ = w.write_all(b"\n");
    }

    /// A status line from stackctl itself, e.g. "web-1 exited with code 137", on stdout in
    /// the container's colour, as compose writes it.
    pub fn status(&mut self, idx: usize, text: &str) {
        let _ = self.flush();
        let name = &self.names[idx];
        let clear = if self.terminal { "\r\x1b[K" } else { "" };
        let line = match self.colour.then(|| colour_for(name)) {
            Some(c) => format!("{clear}\x1b[{c}m{name} {text}\x1b[0m"),
            None => format!("{clear}{name} {text}"),
        };
        match &mut self.dest {
            Dest::Terminal { out, .. } => {
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            Dest::Ring(ring, ids) => ring.push(ids[idx], LineKind::Status, text.to_owned()),
        }
    }

    /// A word about the whole view (the daemon went away, it is back), not about one container.
    pub fn notice(&mut self, text: &str) {
        let _ = self.flush();
        match &self.dest {
            Dest::Terminal { .. } => super::note(text),
            Dest::Ring(ring, _) => ring.push(usize::MAX, LineKind::Status, text.to_owned()),
        }
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.dest {
            Dest::Terminal { out, err } => {
                out.flush()?;
                err.flush()
            }
            Dest::Ring(..) => Ok(()),
        }
    }
}

impl LogSink for LogView {
    fn add(&mut self, name: &str) -> usize {
        LogView::add(self, name)
    }
    fn line(&mut self, idx: usize, channel: Channel, line: &[u8]) {
        LogView::line(self, idx, channel, line)
    }
    fn status(&mut self, idx: usize, text: &str) {
        LogView::status(self, idx, text)
    }
    fn notice(&mut self, text: &str) {
        LogView::notice(self, text)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        LogView::flush(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_the_project_and_prefixes_pad_one_past_the_longest_as_composes() {
        let ring = LogRing::new(8);
        let mut v = LogView::with_dest(Dest::Ring(ring, Vec::new()), "shop", false, true);
        for n in ["shop-web-1", "shop_db_1", "custom-name", "shop-"] {
            v.add(n);
        }
        assert_eq!(v.names, ["web-1", "db_1", "custom-name", "shop-"]);
        assert_eq!(v.width, "custom-name".len() + 1);
        assert_eq!(v.prefixes[0], b"web-1        | ");
    }
}
