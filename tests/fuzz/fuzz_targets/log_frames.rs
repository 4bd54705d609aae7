//! The daemon's log stream as `logs` reads it: multiplexed frames (an 8-byte header: stream type,
//! three zero bytes, a big-endian length; or raw console bytes), cut into network reads at arbitrary
//! points, demultiplexed into stdout/stderr, and rebuilt into lines by
//! `stackctl::logs::StampedLines` (with and without the daemon's timestamps, which goes through
//! `split_timestamp` and `daemon_nanos`).
//!
//! The demultiplexer is a copy of bollard's `NewlineLogOutputDecoder` (unix socket, `is_tcp =
//! false`): bollard keeps it crate-private, and this is what hands stackctl its frames.
//!
//! Input: byte 0 = flags (bit 0: timestamps asked; the other bits seed the read sizes), then the
//! stream. Properties:
//! - without timestamps, each channel's lines are exactly its bytes split at `\n` (no byte lost,
//!   added or moved between channels, whatever the read and frame boundaries);
//! - with timestamps, no line holds a `\n` and lines never hold more bytes than the frames did;
//! - where humantime reads a frame's timestamp, `daemon_nanos` (the fast path `logs -f` uses) gives
//!   the same time.
//!
//! Run: scripts/fuzz.sh log_frames.
#![no_main]

use bytes::{Buf, Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use stackctl::logs::{Stamped, StampedLines, daemon_nanos};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Channel {
    Stdout,
    Stderr,
}

/// bollard 0.21 `read::NewlineLogOutputDecoder::decode` with `is_tcp = false`, mapped to a channel
/// the way `engine::logs::frames` maps bollard's `LogOutput` (stdin and console count as stdout).
struct Demux {
    waiting: Option<(u8, usize)>,
}

impl Demux {
    fn decode(&mut self, src: &mut BytesMut) -> Option<(Channel, Bytes)> {
        loop {
            match self.waiting {
                None => {
                    if !src.is_empty() && src[0] > 2 {
                        let pos = src.iter().position(|b| *b == b'\n')?;
                        return Some((Channel::Stdout, src.split_to(pos + 1).freeze()));
                    }
                    if src.len() < 8 {
                        return None;
                    }
                    let header = src.split_to(8);
                    let length =
                        u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
                    self.waiting = Some((header[0], length));
                }
                Some((typ, length)) => {
                    if src.len() < length {
                        return None;
                    }
                    let message = src.split_to(length).freeze();
                    self.waiting = None;
                    let ch = if typ == 2 {
                        Channel::Stderr
                    } else {
                        Channel::Stdout
                    };
                    return Some((ch, message));
                }
            }
        }
    }

    /// `decode_eof`: complete frames first, then whatever is left as console output.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Option<(Channel, Bytes)> {
        if let Some(item) = self.decode(src) {
            return Some(item);
        }
        if !src.is_empty() {
            return Some((Channel::Stdout, src.split().freeze()));
        }
        None
    }
}

/// Expected lines of a byte stream: split at `\n`, an empty piece after a final `\n` dropped.
fn split_lines(all: &[u8]) -> Vec<&[u8]> {
    if all.is_empty() {
        return Vec::new();
    }
    let mut pieces: Vec<&[u8]> = all.split(|b| *b == b'\n').collect();
    if all.ends_with(b"\n") {
        pieces.pop();
    }
    pieces
}

fn check_time(frame: &[u8]) {
    let Some(space) = frame.iter().take(40).position(|b| *b == b' ') else {
        return;
    };
    let token = &frame[..space];
    let Ok(text) = std::str::from_utf8(token) else {
        return;
    };
    let Ok(t) = humantime::parse_rfc3339_weak(text) else {
        return;
    };
    let Ok(d) = t.duration_since(std::time::UNIX_EPOCH) else {
        return;
    };
    assert_eq!(
        daemon_nanos(token),
        Some(d.as_nanos() as i128),
        "daemon_nanos and humantime disagree on {text:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, stream)) = data.split_first() else {
        return;
    };
    let timestamps = flags & 1 == 1;
    // Read sizes from a small generator seeded by the flags: 1 byte to 4 KiB at a time.
    let mut seed = u32::from(flags >> 1) | 0x9e37_0000;
    let mut next_read = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        1 + (seed as usize % 4096)
    };

    let mut demux = Demux { waiting: None };
    let mut buf = BytesMut::new();
    let mut rest = stream;
    let mut frames: Vec<(Channel, Bytes)> = Vec::new();
    while !rest.is_empty() {
        let n = next_read().min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        while let Some(f) = demux.decode(&mut buf) {
            frames.push(f);
        }
    }
    while let Some(f) = demux.decode_eof(&mut buf) {
        frames.push(f);
    }
    // A frame length beyond the data leaves bytes undecoded, as bollard does (it reports the
    // stream's end then); nothing else may.
    assert!(demux.waiting.is_some() || !buf.has_remaining());

    let mut out = StampedLines::new(timestamps);
    let mut err = StampedLines::new(timestamps);
    let mut lines: Vec<(Channel, Stamped)> = Vec::new();
    for (ch, frame) in &frames {
        if timestamps {
            check_time(frame);
        }
        let lb = if *ch == Channel::Stdout {
            &mut out
        } else {
            &mut err
        };
        lb.push(frame.clone(), |s| lines.push((*ch, s)));
    }
    for (ch, lb) in [(Channel::Stdout, &mut out), (Channel::Stderr, &mut err)] {
        if let Some(s) = lb.finish() {
            lines.push((ch, s));
        }
    }

    for ch in [Channel::Stdout, Channel::Stderr] {
        let sent: Vec<u8> = frames
            .iter()
            .filter(|(c, _)| *c == ch)
            .flat_map(|(_, f)| f.iter().copied())
            .collect();
        let got: Vec<&Stamped> = lines
            .iter()
            .filter(|(c, _)| *c == ch)
            .map(|(_, s)| s)
            .collect();
        for s in &got {
            assert!(!s.line.contains(&b'\n'), "a line holds a newline");
        }
        let got_bytes: usize = got.iter().map(|s| s.line.len()).sum();
        assert!(
            got_bytes <= sent.len(),
            "lines hold more bytes than the frames"
        );
        if !timestamps {
            let expected = split_lines(&sent);
            let got: Vec<&[u8]> = got.iter().map(|s| &s.line[..]).collect();
            assert_eq!(got, expected, "{ch:?}: lines are not the frames' bytes");
            assert!(lines.iter().all(|(_, s)| s.nanos == 0 && s.text.is_empty()));
        }
    }
});
