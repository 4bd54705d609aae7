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

/// Splits the daemon's `2026-01-02T03:04:05.123456789Z ` prefix off a line (logs asked with
/// timestamps): the time in nanoseconds since the epoch, and the rest of the line.
pub fn split_timestamp(line: &Bytes) -> Option<(i128, Bytes)> {
    let space = line.iter().take(40).position(|b| *b == b' ')?;
    let text = std::str::from_utf8(&line[..space]).ok()?;
    let t = humantime::parse_rfc3339_weak(text).ok()?;
    let nanos = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos() as i128;
    Some((nanos, line.slice(space + 1..)))
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
        let (ta, rest) = split_timestamp(&a).unwrap();
        assert_eq!(&rest[..], b"hello world");
        let (tb, _) = split_timestamp(&b).unwrap();
        assert!(tb < ta, "trimmed zeros must not break ordering");
        assert!(split_timestamp(&Bytes::from_static(b"no timestamp here")).is_none());
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
