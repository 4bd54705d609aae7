//! Go-style `--format` templates (`ps`, `ls`, `images`): `stackctl::ui::template::Template::parse`
//! of any text, then `header` and `render` with a row whose values come from the daemon (names,
//! labels, states). A template is parsed or refused with a message, never a panic; a parsed one
//! always renders.
//!
//! Input: the template, then a NUL byte, then the row as JSON (a `ps --format json` row when the
//! rest is missing or not JSON).
//!
//! Run: scripts/fuzz.sh format_template.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use stackctl::ui::template::Template;

fn ps_row() -> &'static Value {
    static ROW: OnceLock<Value> = OnceLock::new();
    ROW.get_or_init(|| {
        serde_json::json!({
            "Command": "\"docker-entrypoint.s…\"",
            "CreatedAt": "2026-01-02 03:04:05 +0000 UTC",
            "ExitCode": 0,
            "Health": "healthy",
            "ID": "0123456789ab",
            "Image": "redis:7-alpine",
            "Labels": "com.docker.compose.project=stack,com.docker.compose.service=web",
            "LocalVolumes": "1",
            "Mounts": "stack_data",
            "Name": "stack-web-1",
            "Names": "stack-web-1",
            "Networks": "stack_default",
            "Ports": "0.0.0.0:8080->80/tcp",
            "Project": "stack",
            "Publishers": [{"URL": "0.0.0.0", "TargetPort": 80, "PublishedPort": 8080, "Protocol": "tcp"}],
            "RunningFor": "2 hours ago",
            "Service": "web",
            "Size": "0B",
            "State": "running",
            "Status": "Up 2 hours (healthy)",
            "Number": 1,
            "RestartCount": 0,
            "OOMKilled": false,
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let (template, row) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    // `--format` reaches the program as a String (clap refuses what is not UTF-8).
    let Ok(template) = std::str::from_utf8(template) else {
        return;
    };
    let parsed_row: Option<Value> = serde_json::from_slice(row).ok();
    let row = parsed_row.as_ref().unwrap_or_else(|| ps_row());
    let Ok(t) = Template::parse(template) else {
        return;
    };
    let header = t.header();
    let text = t.render(row);
    // A template without actions is printed as written (escapes aside).
    if !template.contains("{{") && header.is_none() {
        assert_eq!(text, template.replace("\\t", "\t").replace("\\n", "\n"));
    }
    // What `ps --format` prints for two rows.
    let mut out: String = header.map(|h| format!("{h}\n")).unwrap_or_default();
    for _ in 0..2 {
        out.push_str(&t.render(row));
        out.push('\n');
    }
    assert!(out.len() >= 2 * text.len());
});
