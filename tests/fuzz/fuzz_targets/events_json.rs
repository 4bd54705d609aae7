//! The daemon's `/events` stream, as `events`, `logs -f`/attached `up` (containers that start
//! later) and the health watcher of `up --wait` read it: JSON values cut by a copy of bollard's
//! `JsonLineDecoder` (crate-private in bollard) into `bollard::models::EventMessage`, then the
//! fields stackctl takes from each (action, actor id, the name, project labels, replica number and
//! exit code attributes, `health_status: …`), read the way `engine::logs::events` and
//! `engine::health::Watcher` read them; those two are closures over a live daemon stream, so the
//! reads are repeated here rather than called.
//!
//! Property: no panic, hang or huge allocation, and `events --json` can always print what it read.
//!
//! Run: scripts/fuzz.sh events_json.
#![no_main]

use bollard::models::EventMessage;
use bytes::{Buf, BytesMut};
use libfuzzer_sys::fuzz_target;
use stackctl::plan::labels;

/// bollard 0.21 `read::JsonLineDecoder::decode` (see progress_json.rs).
fn decode(src: &mut BytesMut) -> Result<Option<EventMessage>, ()> {
    let value = |slice: &[u8]| match serde_json::from_slice::<EventMessage>(slice) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_eof() => Ok(None),
        Err(_) => Err(()),
    };
    if src.is_empty() {
        return Ok(None);
    }
    match src.iter().position(|b| *b == b'\n') {
        Some(pos) => {
            let remainder = src.split_off(pos + 1);
            match value(&src[..src.len() - 1])? {
                None => {
                    src.truncate(src.len() - 1);
                    src.unsplit(remainder);
                    Ok(None)
                }
                Some(v) => {
                    src.unsplit(remainder);
                    src.advance(pos + 1);
                    Ok(Some(v))
                }
            }
        }
        None => {
            let v = value(src)?;
            if v.is_some() {
                src.clear();
            }
            Ok(v)
        }
    }
}

fn read(ev: EventMessage) {
    let Some(actor) = ev.actor else { return };
    let attrs = actor.attributes.unwrap_or_default();
    let (Some(action), Some(id)) = (ev.action, actor.id) else {
        return;
    };
    let name = attrs.get("name").cloned().unwrap_or_default();
    let service = attrs.get(labels::SERVICE).cloned().unwrap_or_default();
    let number: u32 = attrs
        .get(labels::NUMBER)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let _oneoff = attrs
        .get(labels::ONEOFF)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let exit_code: Option<i64> = attrs.get("exitCode").and_then(|c| c.parse().ok());
    if action.starts_with("health_status") {
        let _health = action.rsplit(' ').next().unwrap_or("").trim().to_owned();
    }
    let time = ev.time.unwrap_or(0);
    let _not_before = ev.time_nano.is_some_and(|t| t < 1);
    // `events --json` and the plain line.
    let v = serde_json::json!({"time": time, "type": "container", "action": action, "id": id,
        "service": service, "container": name});
    let line = v.to_string();
    assert!(!line.contains('\n'));
    let _ = format!("{time} container {action} {name} (service={service}) {number} {exit_code:?}");
}

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::new();
    for chunk in data.chunks(8192) {
        buf.extend_from_slice(chunk);
        loop {
            match decode(&mut buf) {
                Ok(Some(ev)) => read(ev),
                Ok(None) => break,
                Err(()) => return,
            }
        }
    }
    while let Ok(Some(ev)) = decode(&mut buf) {
        read(ev);
    }
});
