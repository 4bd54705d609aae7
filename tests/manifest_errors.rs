//! Every manifest under tests/corpus/invalid is refused with exit code 2 and a diagnostic that is
//! snapshot-tested (tests/snapshots). No daemon is needed: nothing reaches the engine.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn invalid_manifests_are_refused_with_a_positioned_diagnostic() {
    let root = env!("CARGO_MANIFEST_DIR");
    insta::glob!("corpus/invalid/*.yml", |path| {
        // A first line `# stackctl: ARGS` names the command that must refuse the file (a rule that
        // only holds for some commands, such as ports shared by replicas on one engine).
        let text = std::fs::read(path).unwrap_or_default();
        let args: Vec<String> = String::from_utf8_lossy(&text)
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# stackctl: "))
            .map(|a| a.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_else(|| vec!["config".to_owned()]);
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .current_dir(root)
            .arg("-f")
            .arg(path)
            .args(&args)
            .env_remove("TAG")
            // A daemon address that cannot answer: if validation let anything through, it would show.
            .env("DOCKER_HOST", "unix:///nonexistent.sock")
            .output()
            .expect("run stackctl");
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "{} took {:?}",
            path.display(),
            t.elapsed()
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr).replace(&format!("{root}/"), "");
        let name = path.file_name().unwrap().to_string_lossy();
        if !["empty-file.yml", "only-comments.yml", "binary-garbage.yml"].contains(&name.as_ref()) {
            assert!(
                stderr.contains(&format!("--> tests/corpus/invalid/{name}")),
                "no file position for {name}:\n{stderr}"
            );
        }
        insta::assert_snapshot!(stderr);
    });
}

#[test]
fn every_invalid_manifest_is_also_a_fuzz_seed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for entry in std::fs::read_dir(root.join("corpus/invalid")).unwrap() {
        let path = entry.unwrap().path();
        let seed = root.join("fuzz/seeds").join(path.file_name().unwrap());
        assert_eq!(
            std::fs::read(&path).ok(),
            std::fs::read(&seed).ok(),
            "copy {} to tests/fuzz/seeds",
            path.display()
        );
    }
}
