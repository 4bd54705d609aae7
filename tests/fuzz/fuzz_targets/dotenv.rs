//! `.env` and `env_file` files: any bytes end in ordered pairs or one positioned diagnostic, never a
//! panic, a hang or a huge allocation. Drives `stackctl::manifest::read_env_file` (the loader's
//! entry: read the file, parse, build the diagnostic with its source line and column, rendered here
//! as the user sees it) and `stackctl::manifest::dotenv::parse` under it. Properties:
//! - both give the same pairs for the same text;
//! - every key is a variable name (`[A-Za-z0-9_.-]+`);
//! - a value written back as `KEY='value'` reads back the same (single quotes are literal).
//!
//! Run: scripts/fuzz.sh dotenv.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stackctl::manifest::{dotenv, read_env_file};

fn lookup(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/home/me".into()),
        "EMPTY" => Some(String::new()),
        "TAG" => Some("1.0".into()),
        _ => None,
    }
}

/// One file per fuzzing process, rewritten for each input.
fn scratch() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("stackctl-fuzz-dotenv-{}.env", std::process::id()))
    })
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fuzz_target!(|data: &[u8]| {
    let file = scratch();
    std::fs::write(file, data).expect("writing the scratch .env");
    let loaded = read_env_file(file, &lookup);
    // What the user is shown must render, whatever the line and column.
    if let Err(diags) = &loaded {
        let shown = diags.to_string();
        assert!(!shown.is_empty());
    }
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(loaded.is_err(), "a file that is not UTF-8 was read");
        return;
    };
    let parsed = dotenv::parse(text, &lookup);
    match (&loaded, &parsed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "read_env_file and dotenv::parse disagree"),
        (Err(_), Err(e)) => {
            assert!(e.line >= 1, "line 0 in {e:?}");
            assert!(
                e.line <= text.lines().count().max(1),
                "line {} past the end ({} lines): {e:?}",
                e.line,
                text.lines().count()
            );
        }
        (a, b) => panic!("read_env_file gave {a:?}, dotenv::parse gave {b:?}"),
    }
    let Ok(pairs) = parsed else { return };
    for (k, v) in &pairs {
        assert!(is_key(k), "key {k:?} is not a variable name");
        // Single quotes take everything literally, across lines; `\r` is left out because line
        // splitting drops a `\r` before `\n`.
        if !v.contains('\'') && !v.contains('\r') {
            let again = format!("{k}='{v}'\n");
            let back = dotenv::parse(&again, &|_| None);
            assert_eq!(
                back,
                Ok(vec![(k.clone(), v.clone())]),
                "{again:?} did not read back"
            );
        }
    }
});
