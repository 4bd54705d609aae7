//! The merged log view: one writer, `name | line` prefixes padded and coloured per container,
//! stdout lines to stdout and stderr lines to stderr. Prefixes are rendered once per container,
//! not once per line: this is the hot path of `logs`.

use std::io::{BufWriter, IsTerminal, Write};

use crate::engine::logs::Channel;
use crate::logs::{colour_for, prefix};

pub struct LogView {
    out: BufWriter<std::io::Stdout>,
    err: BufWriter<std::io::Stderr>,
    names: Vec<String>,
    prefixes: Vec<Vec<u8>>,
    width: usize,
    colour: bool,
    show_prefix: bool,
}

impl LogView {
    /// A view whose containers `0..names.len()` are `names`, in order.
    pub fn new(names: &[String], no_color: bool, show_prefix: bool) -> Self {
        let colour = !no_color && super::ansi(std::io::stdout().is_terminal());
        let mut v = LogView {
            out: BufWriter::with_capacity(128 * 1024, std::io::stdout()),
            err: BufWriter::with_capacity(16 * 1024, std::io::stderr()),
            names: Vec::new(),
            prefixes: Vec::new(),
            width: 0,
            colour,
            show_prefix,
        };
        for n in names {
            v.add(n);
        }
        v
    }

    /// Registers a container and returns its index; a longer name widens every prefix.
    pub fn add(&mut self, name: &str) -> usize {
        self.names.push(name.to_owned());
        let w = name.chars().count();
        if w > self.width || self.prefixes.is_empty() {
            self.width = self.width.max(w);
            self.prefixes = self.names.iter().map(|n| self.render_prefix(n)).collect();
        } else {
            self.prefixes.push(self.render_prefix(name));
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
        let w: &mut dyn Write = match channel {
            Channel::Stdout => &mut self.out,
            Channel::Stderr => &mut self.err,
        };
        let _ = w.write_all(&self.prefixes[idx]);
        let _ = w.write_all(line);
        let _ = w.write_all(b"\n");
    }

    /// A status line from stackctl itself, e.g. "web-1 exited with code 137".
    pub fn status(&mut self, idx: usize, text: &str) {
        let _ = self.flush();
        let p = prefix(
            &self.names[idx],
            self.width,
            self.colour.then(|| colour_for(&self.names[idx])),
        );
        let _ = writeln!(self.err, "{p}{text}");
        let _ = self.err.flush();
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.err.flush()
    }
}
