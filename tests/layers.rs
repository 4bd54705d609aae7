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
    find_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), needle)
}

/// `find` in the source tree at `src`.
fn find_in(src: &Path, needle: &str) -> Vec<(String, usize, String)> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut hits = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(src)
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

/// What reaches the terminal: print macros, the standard streams, crossterm.
const TERMINAL: &[&str] = &[
    "println!(",
    "print!(",
    "eprintln!(",
    "eprint!(",
    "io::stdout()",
    "io::stderr()",
    "crossterm::",
];

/// Where a rule is broken in the tree at `src`: terminal writes outside ui, the daemon's client
/// outside engine, a branch on the target in commands, ui reaching up into the command line.
fn broken_rules(src: &Path) -> Vec<String> {
    let mut hits = Vec::new();
    for needle in TERMINAL {
        hits.extend(outside(find_in(src, needle), &["ui/", "main.rs"]));
    }
    hits.extend(outside(find_in(src, "bollard"), &["engine/"]));
    // The target is the backend's business: commands name it only where the command line's
    // choice becomes the engine's (ctx.rs), and reach nothing of the engine behind the backend.
    for needle in [
        "Target::Swarm",
        "Target::Local",
        "Backend::Swarm",
        "Backend::Local",
        ".engine()",
        ".docker.",
    ] {
        hits.extend(
            find_in(src, needle)
                .into_iter()
                .filter(|(f, _, _)| f.starts_with("commands/") && f != "commands/ctx.rs")
                .map(|(f, n, l)| format!("src/{f}:{n}: {l}")),
        );
    }
    hits.extend(
        find_in(src, "crate::cli")
            .into_iter()
            .filter(|(f, _, _)| f.starts_with("ui/"))
            .map(|(f, n, l)| format!("src/{f}:{n}: {l}")),
    );
    hits
}

#[test]
fn only_ui_writes_to_the_terminal() {
    let mut hits = Vec::new();
    for needle in TERMINAL {
        hits.extend(outside(find(needle), &["ui/", "main.rs"]));
    }
    assert!(
        hits.is_empty(),
        "terminal writes outside src/ui:\n{}",
        hits.join("\n")
    );
    let ui_up = find("crate::cli")
        .into_iter()
        .filter(|(f, _, _)| f.starts_with("ui/"))
        .count();
    assert_eq!(ui_up, 0, "ui imports nothing of the command line");
}

#[test]
fn the_layer_rules_catch_a_file_that_breaks_them() {
    let tree = tempfile::tempdir().unwrap();
    let src = tree.path();
    for dir in ["commands", "ui", "engine"] {
        std::fs::create_dir(src.join(dir)).unwrap();
    }
    std::fs::write(
        src.join("commands/bad.rs"),
        "fn f() {\n    std::io::stdout().write_all(b\"x\");\n    let d = bollard::Docker::connect_with_local_defaults();\n    if matches!(t, Target::Swarm) {}\n    let e = backend.engine();\n}\n",
    )
    .unwrap();
    std::fs::write(src.join("ui/bad.rs"), "use crate::cli::Ansi;\n").unwrap();
    std::fs::write(
        src.join("engine/fine.rs"),
        "// bollard::Docker in a comment\nuse bollard::Docker;\n",
    )
    .unwrap();
    let broken = broken_rules(src);
    for expected in [
        "src/commands/bad.rs:2:",
        "src/commands/bad.rs:3:",
        "src/commands/bad.rs:4:",
        "src/commands/bad.rs:5:",
        "src/ui/bad.rs:1:",
    ] {
        assert!(
            broken.iter().any(|b| b.starts_with(expected)),
            "{expected} in {broken:?}"
        );
    }
    assert!(
        !broken.iter().any(|b| b.contains("engine/fine.rs")),
        "{broken:?}"
    );
    // And the real tree keeps the rules the fixture breaks.
    let real = broken_rules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(real.is_empty(), "{}", real.join("\n"));
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

/// The module a source file belongs to at each depth: `engine/build/mod.rs` → [engine, build].
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
    {
        parts.pop();
    }
    parts
}

#[test]
fn sibling_modules_import_each_other_in_one_direction_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    // Edges between siblings: in `a::b::x`, a use of `crate::a::b::y` (or `super::y` at that
    // level) is x → y. A parent and its children use each other by nature; siblings need not.
    let mut edges: std::collections::BTreeSet<(String, String)> = Default::default();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let me = module_path(rel);
        let text = std::fs::read_to_string(f).unwrap();
        let own_dir = rel.file_name().is_some_and(|n| n == "mod.rs");
        for line in text
            .lines()
            .map(str::trim_start)
            .filter(|l| !l.starts_with("//"))
        {
            // Every prefix of my path is a level at which I am the sibling `me[depth]`.
            for depth in 0..me.len() {
                let parent = &me[..depth];
                let prefix = if parent.is_empty() {
                    "crate::".to_owned()
                } else {
                    format!("crate::{}::", parent.join("::"))
                };
                let mut targets: Vec<String> = line
                    .match_indices(&prefix)
                    .filter_map(|(i, _)| {
                        let rest = &line[i + prefix.len()..];
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        (!name.is_empty()).then_some(name)
                    })
                    .collect();
                // `super::y` in a plain file at this level names a sibling too.
                if depth + 1 == me.len() && !own_dir {
                    targets.extend(line.match_indices("super::").filter_map(|(i, _)| {
                        if i >= 7 && line[..i].ends_with("super::") {
                            return None;
                        }
                        let name: String = line[i + 7..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        (!name.is_empty() && name != "super").then_some(name)
                    }));
                }
                for t in targets {
                    let mine = &me[depth];
                    let sibling = src.join(parent.join("/")).join(&t);
                    let is_module = sibling.is_dir() || sibling.with_extension("rs").is_file();
                    if &t != mine && is_module {
                        let at = parent.join("::");
                        edges.insert((format!("{at}::{mine}"), format!("{at}::{t}")));
                    }
                }
            }
        }
    }
    let mut circles = Vec::new();
    for (a, b) in &edges {
        if a < b && edges.contains(&(b.clone(), a.clone())) {
            circles.push(format!("{a} <-> {b}"));
        }
    }
    assert!(
        circles.is_empty(),
        "modules that import each other:\n{}",
        circles.join("\n")
    );
}
