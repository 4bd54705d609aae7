//! The layers ../shared/DESIGN.md describes, checked on the source: only the engine speaks to the
//! daemon (bollard), only ui writes to the terminal, only main decides how the process exits, and
//! the manifest and the plan know nothing of the engine, the terminal or tokio.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// (file relative to src/, line number, line) for every line of src that contains `needle`.
fn find(needle: &str) -> Vec<(String, usize, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut hits = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&f).expect("read source");
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if line.contains(needle) {
                hits.push((rel.clone(), i + 1, line.trim().to_owned()));
            }
        }
    }
    hits
}

fn outside(hits: Vec<(String, usize, String)>, allowed: &[&str]) -> Vec<String> {
    hits.into_iter()
        .filter(|(f, _, _)| !allowed.iter().any(|a| f.starts_with(a)))
        .map(|(f, n, l)| format!("src/{f}:{n}: {l}"))
        .collect()
}

#[test]
fn only_the_engine_speaks_to_the_daemon() {
    let hits = outside(find("bollard"), &["engine/"]);
    assert!(
        hits.is_empty(),
        "bollard outside src/engine:\n{}",
        hits.join("\n")
    );
}

#[test]
fn only_ui_writes_to_the_terminal() {
    let mut hits = Vec::new();
    for mac in ["println!(", "print!(", "eprintln!(", "eprint!("] {
        hits.extend(outside(find(mac), &["ui/", "main.rs"]));
    }
    assert!(
        hits.is_empty(),
        "printing outside src/ui:\n{}",
        hits.join("\n")
    );
}

#[test]
fn only_main_ends_the_process() {
    let hits = outside(find("process::exit"), &["main.rs"]);
    assert!(
        hits.is_empty(),
        "process::exit outside main:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_manifest_and_the_plan_are_pure() {
    let mut hits = Vec::new();
    for needle in [
        "bollard",
        "tokio",
        "crate::engine",
        "crate::ui",
        "crate::commands",
        "indicatif",
    ] {
        hits.extend(
            find(needle)
                .into_iter()
                .filter(|(f, _, _)| f.starts_with("manifest/") || f.starts_with("plan/"))
                .map(|(f, n, l)| format!("src/{f}:{n}: {l}")),
        );
    }
    assert!(
        hits.is_empty(),
        "manifest or plan reaching out:\n{}",
        hits.join("\n")
    );
}

#[test]
fn a_long_source_file_says_why_at_its_top() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut long = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read source");
        let lines = text.lines().count();
        let reason = text
            .lines()
            .take(12)
            .any(|l| l.starts_with("//!") && l.contains("Long because"));
        if lines > 600 && !reason {
            long.push(format!("{} ({lines} lines)", f.display()));
        }
    }
    assert!(
        long.is_empty(),
        "over 600 lines without a `//! Long because …` line at the top:\n{}",
        long.join("\n")
    );
}
