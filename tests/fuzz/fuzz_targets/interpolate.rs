//! `${VAR:-default}` interpolation (`stackctl::manifest::interpolate`) of any text: a value or an
//! error, never a panic, a hang or a huge allocation. Two properties on top:
//! - a text whose every `$` is written `$$` comes back as it was, whatever it holds;
//! - expanding is a pure function of the template and the lookup (same answer twice).
//!
//! Run: scripts/fuzz.sh interpolate, or `cargo +nightly fuzz run --fuzz-dir tests/fuzz interpolate
//! tests/fuzz/corpus/interpolate tests/fuzz/seeds/interpolate`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stackctl::manifest::interpolate;

fn lookup(name: &str) -> Option<String> {
    match name {
        "SET" => Some("value".into()),
        "EMPTY" => Some(String::new()),
        "PORT" => Some("8080".into()),
        // A value that is itself template-like: it must be taken as written, not expanded again.
        "TRICKY" => Some("${SET} $$ ${".into()),
        "UNICODE" => Some("wörld ✓".into()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = interpolate(text, &lookup);
    assert_eq!(first, interpolate(text, &lookup), "not deterministic");
    if let Ok(out) = &first {
        // Every `${…}` and `$NAME` is replaced by at most the longest value or a nested template,
        // so the output cannot grow past this bound (nesting is capped at 32 levels).
        assert!(
            out.len() <= text.len().saturating_mul(16) + 64,
            "output of {} bytes for a template of {}",
            out.len(),
            text.len()
        );
    }
    let escaped = text.replace('$', "$$");
    assert_eq!(
        interpolate(&escaped, &lookup).as_deref(),
        Ok(text),
        "`$$` did not give back a literal `$`"
    );
});
