//! `.dockerignore` with Docker's own rules (moby/patternmatcher): patterns anchored at the context
//! root, Go `filepath.Match` syntax plus `**`, `!` exceptions, the last matching pattern wins, and a
//! pattern that matches a folder excludes everything below it.

use globset::{Glob, GlobMatcher};

pub struct DockerIgnore {
    patterns: Vec<(GlobMatcher, bool)>,
    has_exceptions: bool,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Self {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negate, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let cleaned = clean(pat);
            if cleaned.is_empty() {
                continue;
            }
            // Go's Match: `*` never crosses `/`; globset's literal_separator gives the same.
            if let Ok(g) = Glob::new(&cleaned)
                .map(|g| g.glob().to_owned())
                .and_then(|g| {
                    globset::GlobBuilder::new(&g)
                        .literal_separator(true)
                        .backslash_escape(true)
                        .build()
                })
            {
                patterns.push((g.compile_matcher(), negate));
            }
        }
        let has_exceptions = patterns.iter().any(|(_, n)| *n);
        DockerIgnore {
            patterns,
            has_exceptions,
        }
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out of the build context.
    pub fn excluded(&self, path: &str) -> bool {
        let mut excluded = false;
        for (glob, negate) in &self.patterns {
            let hit = glob.is_match(path) || parents(path).any(|p| glob.is_match(p));
            if hit {
                excluded = !negate;
            }
        }
        excluded
    }

    /// A folder can be skipped whole only when no `!` pattern could bring something inside it back.
    pub fn prune(&self, dir: &str) -> bool {
        !self.has_exceptions && self.excluded(dir)
    }
}

fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.char_indices()
        .filter(|(_, c)| *c == '/')
        .map(move |(i, _)| &path[..i])
}

/// Like Go's filepath.Clean on a pattern, minus the leading `/` or `./` (patterns are root-anchored).
fn clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_patterns_and_folders() {
        let d = DockerIgnore::parse("# comment\n/target\n*.log\nsecret.txt\n");
        assert!(d.excluded("target"));
        assert!(d.excluded("target/debug/x"));
        assert!(d.excluded("app.log"));
        assert!(!d.excluded("logs/app.log"), "`*` does not cross folders");
        assert!(d.excluded("secret.txt"));
        assert!(
            !d.excluded("src/secret.txt"),
            "patterns are anchored at the root"
        );
        assert!(!d.excluded("src/main.rs"));
    }

    #[test]
    fn double_star_and_exceptions() {
        let d = DockerIgnore::parse("**/*.pyc\n*.md\n!README.md\n");
        assert!(d.excluded("a/b/c.pyc"));
        assert!(d.excluded("c.pyc"));
        assert!(d.excluded("NOTES.md"));
        assert!(!d.excluded("README.md"));
        assert!(!d.prune("docs"), "exceptions forbid pruning");
    }

    #[test]
    fn last_match_wins() {
        let d = DockerIgnore::parse("!keep.txt\n*.txt\n");
        assert!(d.excluded("keep.txt"));
        let d = DockerIgnore::parse("data\n!data/keep\n");
        assert!(d.excluded("data/other"));
        assert!(!d.excluded("data/keep"));
    }

    #[test]
    fn character_classes_and_question_mark() {
        let d = DockerIgnore::parse("file?.txt\n[ab].bin\n./build/../out\n");
        assert!(d.excluded("file1.txt"));
        assert!(!d.excluded("file10.txt"));
        assert!(d.excluded("a.bin"));
        assert!(!d.excluded("c.bin"));
        assert!(d.excluded("out/x"));
    }
}
