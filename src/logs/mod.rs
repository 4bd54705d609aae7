//! Log framing, pure: the daemon sends frames (up to ~16 KiB, split anywhere, even inside a UTF-8
//! character), users want lines. Also the stable colour of each container's prefix, and the
//! `LogSink` a follow writes into (the terminal's view, or the dashboard's ring).

use bytes::{Bytes, BytesMut};

/// Which of a container's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Stdout,
    Stderr,
}

/// Where followed lines go. The engine reads the daemon's streams and calls these; what shows them
/// (a terminal, a ring the dashboard draws) is the user interface's.
pub trait LogSink: Send {
    /// Registers a container (or service) by name and returns its index for `line` and `status`.
    fn add(&mut self, name: &str) -> usize;
    /// One line of output, without its newline.
    fn line(&mut self, idx: usize, channel: Channel, line: &[u8]);
    /// A word about one container from stackctl itself, e.g. "exited with code 137".
    fn status(&mut self, idx: usize, text: &str);
    /// A word about the whole follow (the daemon went away, it is back).
    fn notice(&mut self, text: &str);
    /// Writes out what is buffered; fails when nobody reads any more (a closed pipe).
    fn flush(&mut self) -> std::io::Result<()>;
}

/// Reassembles lines from one stream of one container.
#[derive(Default)]
pub struct LineBuffer {
    partial: BytesMut,
}

impl LineBuffer {
    /// Feeds a frame; calls `emit` for each complete line, without its `\n`. Every other byte is the
    /// container's, a `\r` before the `\n` included (as `docker logs` gives it).
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
            emit(line);
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
            Some(self.partial.split().freeze())
        }
    }
}

/// Splits the daemon's `2026-01-02T03:04:05.123456789Z ` prefix off a frame (logs asked with
/// timestamps): the time in nanoseconds since the epoch, the time as written, and the rest.
pub fn split_timestamp(frame: &Bytes) -> Option<(i128, Bytes, Bytes)> {
    let space = frame.iter().take(40).position(|b| *b == b' ')?;
    let nanos = daemon_nanos(&frame[..space])?;
    Some((nanos, frame.slice(..space), frame.slice(space + 1..)))
}

/// A time as the daemon writes it (RFC 3339, UTC), in nanoseconds since the epoch.
pub fn daemon_nanos(text: &[u8]) -> Option<i128> {
    if let Some(n) = daemon_time(text) {
        return Some(n);
    }
    let text = std::str::from_utf8(text).ok()?;
    let t = humantime::parse_rfc3339_weak(text).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos() as i128)
}

/// The daemon's own form, Go's RFC3339Nano in UTC (`2026-01-02T03:04:05.123456789Z`, the fraction
/// 0–9 digits with trailing zeros cut), read without a general parser: `logs -f` reads one per line.
/// Anything else is left to humantime.
fn daemon_time(text: &[u8]) -> Option<i128> {
    let shape_ok = text.len() >= 20
        && text.last() == Some(&b'Z')
        && text[4] == b'-'
        && text[7] == b'-'
        && text[10] == b'T'
        && text[13] == b':'
        && text[16] == b':';
    if !shape_ok {
        return None;
    }
    let number = |digits: &[u8]| -> Option<i64> {
        digits.iter().try_fold(0i64, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
        })
    };
    let (year, month, day) = (
        number(&text[0..4])?,
        number(&text[5..7])?,
        number(&text[8..10])?,
    );
    let (hour, minute, second) = (
        number(&text[11..13])?,
        number(&text[14..16])?,
        number(&text[17..19])?,
    );
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let fraction = match &text[19..text.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(digits)? * 10i64.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    // Days since 1970-01-01 in the proleptic Gregorian calendar (years counted from March, so the
    // leap day ends a year).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(i128::from(seconds) * 1_000_000_000 + i128::from(fraction))
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
            // A frame whose timestamp cannot be read is kept whole.
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
    fn carriage_returns_are_kept_as_written() {
        assert_eq!(
            lines(&[b"one\r\ntwo\r", b"\n", b"a\rb\n"]),
            vec![b"one\r".to_vec(), b"two\r".to_vec(), b"a\rb".to_vec()]
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

    #[test]
    fn the_daemons_times_read_as_humantime_reads_them() {
        let general = |t: &str| {
            humantime::parse_rfc3339_weak(t)
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as i128
        };
        // Times spread over 1970–2100, with every fraction length the daemon writes.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in 0..2000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let nanos = x % (4_102_444_800 * 1_000_000_000);
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(nanos);
            let full = humantime::format_rfc3339_nanos(t).to_string();
            // Cut the fraction to `i % 10` digits, then trailing zeros, as Go does.
            let (head, frac) = full.trim_end_matches('Z').split_once('.').unwrap();
            let frac = frac[..(i % 10) as usize].trim_end_matches('0');
            let text = if frac.is_empty() {
                format!("{head}Z")
            } else {
                format!("{head}.{frac}Z")
            };
            assert_eq!(daemon_time(text.as_bytes()), Some(general(&text)), "{text}");
        }
        for text in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59.999999999Z",
            "2000-03-01T00:00:00.5Z",
        ] {
            assert_eq!(daemon_time(text.as_bytes()), Some(general(text)), "{text}");
        }
        // Other forms are not guessed at: humantime takes them.
        for text in [
            "2026-01-02T03:04:05+01:00",
            "2026-01-02 03:04:05Z",
            "2026-13-02T03:04:05Z",
            "2026-01-02T03:04:05.Z",
        ] {
            assert_eq!(daemon_time(text.as_bytes()), None, "{text}");
        }
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
