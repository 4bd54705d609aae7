//! The merged log view: one writer, `name | line` prefixes padded and coloured per container,
//! stdout lines to stdout and stderr lines to stderr.

use std::io::{BufWriter, IsTerminal, Write};

use bytes::Bytes;

use crate::engine::logs::Channel;
use crate::logs::{colour_for, prefix};

pub struct LogView {
    out: BufWriter<std::io::Stdout>,
    err: BufWriter<std::io::Stderr>,
    width: usize,
    colour: bool,
    show_prefix: bool,
}

impl LogView {
    pub fn new(names: &[String], no_color: bool, show_prefix: bool) -> Self {
        let colour =
            !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
        LogView {
            out: BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            err: BufWriter::with_capacity(16 * 1024, std::io::stderr()),
            width: names.iter().map(|n| n.chars().count()).max().unwrap_or(0),
            colour,
            show_prefix,
        }
    }

    pub fn widen(&mut self, name: &str) {
        self.width = self.width.max(name.chars().count());
    }

    pub fn line(&mut self, name: &str, channel: Channel, line: &Bytes) {
        let w: &mut dyn Write = match channel {
            Channel::Stdout => &mut self.out,
            Channel::Stderr => &mut self.err,
        };
        if self.show_prefix {
            let _ = w.write_all(
                prefix(name, self.width, self.colour.then(|| colour_for(name))).as_bytes(),
            );
        }
        let _ = w.write_all(line);
        let _ = w.write_all(b"\n");
    }

    /// A status line from stackctl itself, e.g. "web-1 exited with code 137".
    pub fn status(&mut self, name: &str, text: &str) {
        let _ = self.flush();
        let _ = writeln!(
            self.err,
            "{}{text}",
            prefix(name, self.width, self.colour.then(|| colour_for(name)))
        );
        let _ = self.err.flush();
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.err.flush()
    }
}
