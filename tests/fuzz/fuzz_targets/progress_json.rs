//! The daemon's JSON progress streams: pull (`/images/create`), push (`/images/{name}/push`) and
//! build (`/build`, whose BuildKit status comes as base64 protobuf in `aux`). Bytes are cut into
//! JSON values by a copy of bollard's `JsonLineDecoder` (crate-private in bollard) and decoded into
//! bollard's models, the code every pull, push and build runs; each build message is then fed to
//! `stackctl::fuzzing::Steps` (engine::build::progress: BuildKit vertexes and logs into the
//! engine's events, and the failing step's last lines), whose events are serialised as
//! `--progress json` prints them.
//!
//! Input: byte 0 = the stream (0 pull, 1 push, 2 build, 3 one BuildKit status message given as
//! raw protobuf, sent the way the daemon sends it: base64 in `{"id":"moby.buildkit.trace","aux":…}`),
//! then the bytes. Property: no panic, hang or huge allocation, and the decoder either consumes
//! every byte or stops at an error, as bollard does.
//!
//! The pull's per-layer accounting and the push's error check in `engine::images` are inline in
//! async functions that need a daemon; only what they are given is decoded here.
//!
//! Run: scripts/fuzz.sh progress_json.
#![no_main]

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bollard::models::{BuildInfo, CreateImageInfo, PushImageInfo};
use bytes::{Buf, BytesMut};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use stackctl::engine::{Event, Reporter};
use stackctl::fuzzing::Steps;

/// bollard 0.21 `read::decode_json_from_slice`: an incomplete value waits for more bytes.
enum Json<T> {
    Value(T),
    Incomplete,
    Error,
}

fn decode_slice<T: DeserializeOwned>(slice: &[u8]) -> Json<T> {
    match serde_json::from_slice(slice) {
        Ok(v) => Json::Value(v),
        Err(e) if e.is_eof() => Json::Incomplete,
        Err(_) => Json::Error,
    }
}

/// bollard 0.21 `read::JsonLineDecoder::decode`.
fn decode<T: DeserializeOwned>(src: &mut BytesMut) -> Result<Option<T>, ()> {
    if src.is_empty() {
        return Ok(None);
    }
    match src.iter().position(|b| *b == b'\n') {
        Some(pos) => {
            let remainder = src.split_off(pos + 1);
            let slice = &src[..src.len() - 1];
            match decode_slice(slice) {
                Json::Incomplete => {
                    // An unescaped newline inside the value: drop it and wait for more.
                    src.truncate(src.len() - 1);
                    src.unsplit(remainder);
                    Ok(None)
                }
                Json::Value(v) => {
                    src.unsplit(remainder);
                    src.advance(pos + 1);
                    Ok(Some(v))
                }
                Json::Error => Err(()),
            }
        }
        None => match decode_slice(src) {
            Json::Incomplete => Ok(None),
            Json::Value(v) => {
                src.clear();
                Ok(Some(v))
            }
            Json::Error => Err(()),
        },
    }
}

/// The values of a stream as `FramedRead` hands them out: reads of up to 8 KiB, decoded as they
/// come, until an error or the end.
fn values<T: DeserializeOwned>(bytes: &[u8], mut each: impl FnMut(T)) {
    let mut buf = BytesMut::new();
    for chunk in bytes.chunks(8192) {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.len();
            match decode::<T>(&mut buf) {
                Ok(Some(v)) => {
                    assert!(buf.len() < before, "a value was decoded from no bytes");
                    each(v);
                }
                // No value yet: FramedRead reads more before it asks again.
                Ok(None) => break,
                Err(()) => return,
            }
        }
    }
    // At the end, what is left either decodes or is an error ("bytes remaining on stream").
    while let Ok(Some(v)) = decode::<T>(&mut buf) {
        each(v);
    }
}

fn reporter(count: Arc<Mutex<usize>>) -> Reporter {
    Arc::new(move |ev: Event| {
        // As `--progress json` writes each event.
        let line = serde_json::to_string(&ev).expect("an event always serialises");
        assert!(!line.contains('\n'), "a JSON progress line holds a newline");
        *count.lock().unwrap() += 1;
    })
}

fn build(steps: &mut Steps, info: &BuildInfo) {
    if let Some(aux) = &info.aux {
        steps.feed(aux);
    }
    if let Some(text) = &info.stream {
        // What run_build keeps of the legacy builder's output.
        for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
            let _ = line.len();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    let count = Arc::new(Mutex::new(0usize));
    match kind % 4 {
        0 => values::<CreateImageInfo>(bytes, |info| {
            let _ = info.error_detail.and_then(|d| d.message);
            if let Some(p) = info.progress_detail {
                let _ = (p.current.unwrap_or(0), p.total.unwrap_or(0));
            }
        }),
        1 => values::<PushImageInfo>(bytes, |info| {
            let _ = info.error_detail.and_then(|d| d.message);
        }),
        2 => {
            let mut steps = Steps::new("Image fuzz", &reporter(count.clone()));
            values::<BuildInfo>(bytes, |info| build(&mut steps, &info));
            if let Some(text) = steps.failure() {
                assert!(text.starts_with("the failing step: "));
            }
        }
        _ => {
            let line = serde_json::json!({
                "id": "moby.buildkit.trace",
                "aux": base64::engine::general_purpose::STANDARD.encode(bytes),
            })
            .to_string();
            let mut steps = Steps::new("Image fuzz", &reporter(count.clone()));
            // Twice: a second message about the same vertexes is the common case.
            // (bytes that are no StatusResponse make the whole message an error, as in bollard).
            for _ in 0..2 {
                if let Ok(info) = serde_json::from_str::<BuildInfo>(&line) {
                    build(&mut steps, &info);
                }
            }
            let _ = steps.failure();
        }
    }
});
