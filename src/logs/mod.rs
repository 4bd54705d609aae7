//! Log framing, pure: the daemon sends frames (up to ~16 KiB, split anywhere, even inside a UTF-8
//! character), users want lines. Also the stable colour of each container's prefix.

use bytes::{Bytes, BytesMut};

/// Reassembles lines from one stream of one container.
#[derive(Default)]
pub struct LineBuffer {
    partial: BytesMut,
}

impl LineBuffer {
    /// Feeds a frame; calls `emit` for each complete line, without its `\n` (and `\r`).
    pub fn push(&mut self, mut frame: Bytes, mut emit: impl FnMut(Bytes)) {
        while let Some(nl) = frame.iter().position(|b| *b == b'\n') {
            let mut line = frame.split_to(nl + 1);
            line.truncate(nl);
            let line = if self.partial.is_empty() {
                line
            } else {
                self.partial.extend_from_slice(&line);
                self.partial.split().freeze()
            };
            emit(strip_cr(line));
        }
        if !frame.is_empty() {
            self.partial.extend_from_slice(&frame);
        }
    }

    /// Whether a line has begun and not ended yet.
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty()
    }

    /// The final line when the stream ends without a newline.
    pub fn finish(&mut self) -> Option<Bytes> {
        if self.partial.is_empty() {
            None
        } else {
            Some(strip_cr(self.partial.split().freeze()))
        }
    }
}

fn strip_cr(mut line: Bytes) -> Bytes {
    if line.last() == Some(&b'\r') {
        line.truncate(line.len() - 1);
    }
    line
}

/// Splits the daemon's `2026-01-02T03:04:05.123456789Z ` prefix off a frame (logs asked with
/// timestamps): the time in nanoseconds since the epoch, the time as written, and the rest.
pub fn split_timestamp(frame: &Bytes) -> Option<(i128, Bytes, Bytes)> {
    let space = frame.iter().take(40).position(|b| *b == b' ')?;
    let text = std::str::from_utf8(&frame[..space]).ok()?;
    let t = humantime::parse_rfc3339_weak(text).ok()?;
    let nanos = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos() as i128;
    Some((nanos, frame.slice(..space), frame.slice(space + 1..)))
}

/// A line and the daemon's time for it (zero and empty when timestamps were not asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    pub nanos: i128,
    /// The time as the daemon wrote it, for `-t`.
    pub text: Bytes,
    pub line: Bytes,
}

/// Lines of one stream of one container, from frames that each begin with the daemon's timestamp
/// when timestamps were asked for. The daemon keeps a line over 16 KiB as several pieces, each sent
/// with its own timestamp: the line carries the time of its first piece, and the others' are dropped
/// instead of showing up inside the line.
#[derive(Default)]
pub struct StampedLines {
    lines: LineBuffer,
    with_timestamps: bool,
    /// The time of the frame the line being assembled began in.
    current: Option<(i128, Bytes)>,
}

impl StampedLines {
    pub fn new(with_timestamps: bool) -> Self {
        StampedLines {
            with_timestamps,
            ..Default::default()
        }
    }

    /// Feeds a frame; calls `emit` for each complete line.
    pub fn push(&mut self, frame: Bytes, mut emit: impl FnMut(Stamped)) {
        if !self.with_timestamps {
            // The hot path of a plain `logs`: no time to carry.
            return self.lines.push(frame, |line| {
                emit(Stamped {
                    nanos: 0,
                    text: Bytes::new(),
                    line,
                })
            });
        }
        let stamp = split_timestamp(&frame);
        let (here, rest) = match stamp {
            Some((nanos, text, rest)) => ((nanos, text), rest),
            // A frame without a timestamp (none asked for, or a malformed one) is kept whole.
            None => ((0, Bytes::new()), frame),
        };
        let mut began = self.current.take().unwrap_or_else(|| here.clone());
        self.lines.push(rest, |line| {
            // The next line, if any, begins in this frame.
            let (nanos, text) = std::mem::replace(&mut began, here.clone());
            emit(Stamped { nanos, text, line });
        });
        if self.lines.has_partial() {
            self.current = Some(began);
        }
    }

    /// The final line when the stream ends without a newline.
    pub fn finish(&mut self) -> Option<Stamped> {
        let line = self.lines.finish()?;
        let (nanos, text) = self.current.take().unwrap_or_default();
        Some(Stamped { nanos, text, line })
    }
}

/// ANSI colours for prefixes, chosen to read on dark and light backgrounds.
pub const PALETTE: [u8; 6] = [36, 33, 32, 35, 34, 31];

/// A container's colour: a hash of its name, so it is the same on every run and in every command.
pub fn colour_for(name: &str) -> u8 {
    // FNV-1a: tiny, stable across Rust versions (unlike DefaultHasher).
    let mut h: u32 = 0x811c9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x01000193);
    }
    PALETTE[(h as usize) % PALETTE.len()]
}

/// `name | ` padded so that all prefixes line up.
pub fn prefix(name: &str, width: usize, colour: Option<u8>) -> String {
    match colour {
        Some(c) => format!("\x1b[{c}m{name:<width$} |\x1b[0m "),
        None => format!("{name:<width$} | "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(frames: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut buf = LineBuffer::default();
        let mut out = Vec::new();
        for f in frames {
            buf.push(Bytes::copy_from_slice(f), |l| out.push(l.to_vec()));
        }
        if let Some(l) = buf.finish() {
            out.push(l.to_vec());
        }
        out
    }

    #[test]
    fn lines_across_frames() {
        assert_eq!(
            lines(&[b"hel", b"lo\nwor", b"ld\n"]),
            vec![b"hello".to_vec(), b"world".to_vec()]
        );
        assert_eq!(
            lines(&[b"a\nb\nc"]),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        assert_eq!(lines(&[b"\n\n"]), vec![b"".to_vec(), b"".to_vec()]);
    }

    #[test]
    fn crlf_from_tty_containers() {
        assert_eq!(
            lines(&[b"one\r\ntwo\r", b"\n"]),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
    }

    #[test]
    fn utf8_split_inside_a_character() {
        let text = "héllo ✓\n".as_bytes();
        let (a, b) = text.split_at(2); // inside `é`
        let out = lines(&[a, b]);
        assert_eq!(String::from_utf8(out[0].clone()).unwrap(), "héllo ✓");
    }

    #[test]
    fn long_line_over_many_frames() {
        let big = vec![b'x'; 100 * 1024];
        let frames: Vec<&[u8]> = big.chunks(16 * 1024).chain([&b"\n"[..]]).collect();
        let out = lines(&frames);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), 100 * 1024);
    }

    #[test]
    fn timestamps_split_off_and_order() {
        let a = Bytes::from_static(b"2026-01-02T03:04:05.5Z hello world");
        let b = Bytes::from_static(b"2026-01-02T03:04:05.123456789Z earlier");
        let (ta, text, rest) = split_timestamp(&a).unwrap();
        assert_eq!(&rest[..], b"hello world");
        assert_eq!(&text[..], b"2026-01-02T03:04:05.5Z");
        let (tb, ..) = split_timestamp(&b).unwrap();
        assert!(tb < ta, "trimmed zeros must not break ordering");
        assert!(split_timestamp(&Bytes::from_static(b"no timestamp here")).is_none());
    }

    fn stamped(with_timestamps: bool, frames: &[&str]) -> Vec<(String, String)> {
        let mut buf = StampedLines::new(with_timestamps);
        let mut out = Vec::new();
        let mut keep = |s: Stamped| {
            out.push((
                String::from_utf8(s.text.to_vec()).unwrap(),
                String::from_utf8(s.line.to_vec()).unwrap(),
            ))
        };
        for f in frames {
            buf.push(Bytes::copy_from_slice(f.as_bytes()), &mut keep);
        }
        buf.finish().into_iter().for_each(keep);
        out
    }

    #[test]
    fn a_line_in_pieces_keeps_the_first_pieces_time_and_loses_the_others() {
        let t1 = "2026-01-02T03:04:05.1Z";
        let t2 = "2026-01-02T03:04:05.2Z";
        let t3 = "2026-01-02T03:04:05.3Z";
        let out = stamped(
            true,
            &[
                &format!("{t1} aaa"),
                &format!("{t2} bbb\nccc"),
                &format!("{t3} ddd\n"),
            ],
        );
        assert_eq!(
            out,
            vec![
                (t1.to_owned(), "aaabbb".to_owned()),
                (t2.to_owned(), "cccddd".to_owned())
            ]
        );
    }

    #[test]
    fn stamped_lines_without_timestamps_keep_text_that_looks_like_one() {
        let out = stamped(false, &["2026-01-02T03:04:05Z is part of the message\n"]);
        assert_eq!(
            out,
            vec![(
                "".to_owned(),
                "2026-01-02T03:04:05Z is part of the message".to_owned()
            )]
        );
        let out = stamped(true, &["2026-01-02T03:04:05Z tail without newline"]);
        assert_eq!(out[0].1, "tail without newline");
    }

    #[test]
    fn colours_are_stable_and_prefixes_pad() {
        assert_eq!(colour_for("app-web-1"), colour_for("app-web-1"));
        let distinct: std::collections::HashSet<u8> =
            (1..=6).map(|i| colour_for(&format!("p-web-{i}"))).collect();
        assert!(distinct.len() > 1);
        assert_eq!(prefix("db", 5, None), "db    | ");
        assert!(prefix("db", 2, Some(36)).starts_with("\x1b[36m"));
    }
}
