//! Which `develop.watch` rule a changed file falls under, and what that asks of which service:
//! files to copy into its containers, files to delete there, a restart, a command, a rebuild.
//! Pure: paths in, actions out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::engine::DockerIgnore;
use crate::manifest::{Hook, WatchAction, WatchRule};

/// One rule of one service, its paths made absolute.
pub struct Rule {
    pub service: String,
    pub action: WatchAction,
    /// The watched file or folder on this machine.
    pub root: PathBuf,
    pub target: Option<String>,
    ignore: DockerIgnore,
    include: Option<DockerIgnore>,
    /// The service's build context's `.dockerignore`, for paths inside that context.
    context_ignore: Option<(PathBuf, DockerIgnore)>,
    pub exec: Option<Hook>,
    pub initial_sync: bool,
}

impl Rule {
    pub fn new(
        service: &str,
        rule: &WatchRule,
        project_dir: &Path,
        context: Option<(PathBuf, &str)>,
    ) -> Self {
        let patterns = |list: &[String]| DockerIgnore::parse(&list.join("\n"));
        Rule {
            service: service.to_owned(),
            action: rule.action,
            root: project_dir.join(&rule.path),
            target: rule.target.clone(),
            ignore: patterns(&rule.ignore),
            include: (!rule.include.is_empty()).then(|| patterns(&rule.include)),
            context_ignore: context.map(|(dir, text)| (dir, DockerIgnore::parse(text))),
            exec: rule.exec.clone(),
            initial_sync: rule.initial_sync.unwrap_or(false),
        }
    }

    /// Whether a change to `path` counts for this rule.
    pub fn covers(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return false;
        };
        // Only below the rule's path: the project may well live under a `.git`-like name.
        if rel
            .components()
            .any(|c| scratch(&c.as_os_str().to_string_lossy()))
        {
            return false;
        }
        let rel = slashed(rel);
        if !rel.is_empty() && self.ignore.excluded(&rel) {
            return false;
        }
        if let Some(include) = &self.include
            && !rel.is_empty()
            && !include.excluded(&rel)
        {
            return false;
        }
        match &self.context_ignore {
            Some((dir, ignore)) => path
                .strip_prefix(dir)
                .map_or(true, |r| !ignore.excluded(&slashed(r))),
            None => true,
        }
    }

    /// Where `path` (under `root`) lands in the container.
    pub fn container_path(&self, path: &Path) -> Option<String> {
        let target = self.target.as_deref()?;
        let rel = slashed(path.strip_prefix(&self.root).ok()?);
        Some(if rel.is_empty() {
            target.to_owned()
        } else {
            format!("{}/{rel}", target.trim_end_matches('/'))
        })
    }
}

/// Whether a path component is an editor's or a tool's scratch, never the developer's file:
/// syncing it puts junk in the container, and on a rebuild rule every autosave would rebuild.
/// Compose skips the same names, so a manifest behaves alike under both tools.
fn scratch(name: &str) -> bool {
    const SUFFIXES: [&str; 5] = [
        "~",
        "___jb_old___",
        "___jb_tmp___",
        "-go-tmp-umask",
        ".kate-swp",
    ];
    const VIM_SWAP: [&str; 4] = [".swp", ".swx", ".swo", ".swn"];
    matches!(name, ".git" | ".idea" | "4913")
        || SUFFIXES.iter().any(|s| name.ends_with(s))
        || (name.starts_with('.') && VIM_SWAP.iter().any(|s| name.ends_with(s)))
        || name.starts_with(".#")
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
}

fn slashed(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// What one batch of changes asks of one service.
#[derive(Debug, Default, PartialEq)]
pub struct Work {
    /// (file on this machine, path in the container) to copy.
    pub copy: Vec<(PathBuf, String)>,
    /// Paths in the container to delete (their files are gone here).
    pub delete: Vec<String>,
    pub restart: bool,
    /// Indexes into the rules of the `sync+exec` commands to run.
    pub exec: Vec<usize>,
    pub rebuild: bool,
    /// The changed files that caused it, relative to the project folder where they can be.
    pub because: Vec<String>,
}

impl Work {
    /// Whether doing this twice costs more than a copy: a restart, a command or a rebuild.
    pub fn costly(&self) -> bool {
        self.rebuild || self.restart || !self.exec.is_empty()
    }
}

/// Whether a change to `path` asks any service for costly work (see [`Work::costly`]). A folder
/// that appears counts as costly: it is news only through the files it brings, which are still
/// arriving.
pub fn costly(rules: &[Rule], path: &Path, exists: bool, project_dir: &Path) -> bool {
    if exists && path.is_dir() {
        return rules.iter().any(|r| r.covers(path));
    }
    work(rules, &[(path.to_path_buf(), exists)], project_dir)
        .values()
        .any(Work::costly)
}

/// The work each service has for `changed` (a path and whether it still exists). A file counts
/// for the first of a service's rules that covers it, as docker compose has it; a rebuild makes
/// the service's other work moot.
pub fn work(
    rules: &[Rule],
    changed: &[(PathBuf, bool)],
    project_dir: &Path,
) -> BTreeMap<String, Work> {
    let mut out: BTreeMap<String, Work> = BTreeMap::new();
    for (path, exists) in changed {
        let mut served: Vec<&str> = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if served.contains(&rule.service.as_str()) || !rule.covers(path) {
                continue;
            }
            served.push(&rule.service);
            // A folder that appears is news only through the files in it.
            if *exists && path.is_dir() {
                continue;
            }
            let w = out.entry(rule.service.clone()).or_default();
            let shown = path
                .strip_prefix(project_dir)
                .map_or_else(|_| path.display().to_string(), slashed);
            if !w.because.contains(&shown) {
                w.because.push(shown);
            }
            match rule.action {
                WatchAction::Rebuild => w.rebuild = true,
                WatchAction::Restart => w.restart = true,
                sync => {
                    if let Some(to) = rule.container_path(path) {
                        if *exists && path.is_file() {
                            w.copy.push((path.clone(), to));
                        } else if !*exists {
                            w.delete.push(to);
                        }
                    }
                    match sync {
                        WatchAction::SyncRestart => w.restart = true,
                        WatchAction::SyncExec if !w.exec.contains(&i) => w.exec.push(i),
                        _ => {}
                    }
                }
            }
        }
    }
    for w in out.values_mut() {
        if w.rebuild {
            *w = Work {
                rebuild: true,
                because: std::mem::take(&mut w.because),
                ..Work::default()
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, action: WatchAction, ignore: &[&str]) -> WatchRule {
        WatchRule {
            path: path.into(),
            action,
            target: Some("/app".into()),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            include: Vec::new(),
            initial_sync: None,
            exec: None,
        }
    }

    fn rules(list: &[(&str, WatchRule)], context_ignore: Option<&str>) -> Vec<Rule> {
        list.iter()
            .map(|(svc, r)| {
                Rule::new(
                    svc,
                    r,
                    Path::new("/p"),
                    context_ignore.map(|t| (PathBuf::from("/p/web"), t)),
                )
            })
            .collect()
    }

    #[test]
    fn a_file_lands_under_target_and_ignored_ones_do_nothing() {
        let rs = rules(
            &[("web", rule("web", WatchAction::Sync, &["*.tmp", "cache"]))],
            Some("secret.txt"),
        );
        let changed = [
            (PathBuf::from("/p/web/app.py"), false),
            (PathBuf::from("/p/web/x.tmp"), true),
            (PathBuf::from("/p/web/cache/a"), true),
            (PathBuf::from("/p/web/secret.txt"), true),
            (PathBuf::from("/p/other/app.py"), true),
        ];
        let w = work(&rs, &changed, Path::new("/p"));
        assert_eq!(w.len(), 1);
        assert_eq!(w["web"].delete, vec!["/app/app.py".to_owned()]);
        assert!(w["web"].copy.is_empty());
        assert_eq!(w["web"].because, vec!["web/app.py".to_owned()]);
    }

    #[test]
    fn only_restarts_commands_and_rebuilds_are_costly() {
        let rs = rules(
            &[
                (
                    "web",
                    rule("web/requirements.txt", WatchAction::Rebuild, &[]),
                ),
                ("web", rule("web", WatchAction::Sync, &[])),
                ("conf", rule("conf", WatchAction::SyncRestart, &[])),
            ],
            None,
        );
        let p = Path::new("/p");
        assert!(!costly(&rs, Path::new("/p/web/app.py"), false, p));
        assert!(costly(&rs, Path::new("/p/web/requirements.txt"), false, p));
        assert!(costly(&rs, Path::new("/p/conf/nginx.conf"), false, p));
        assert!(!costly(&rs, Path::new("/p/elsewhere.txt"), false, p));
    }

    #[test]
    fn editor_scratch_files_and_git_internals_are_not_changes() {
        let rs = rules(&[("web", rule("web", WatchAction::Rebuild, &[]))], None);
        for skipped in [
            "/p/web/.app.py.swp",
            "/p/web/4913",
            "/p/web/app.py~",
            "/p/web/.#app.py",
            "/p/web/#app.py#",
            "/p/web/app.py___jb_tmp___",
            "/p/web/.git/index",
            "/p/web/.idea/workspace.xml",
        ] {
            assert!(!rs[0].covers(Path::new(skipped)), "{skipped}");
        }
        for kept in [
            "/p/web/app.py",
            "/p/web/swp.py",
            "/p/web/#notes",
            "/p/web/.gitignore",
            "/p/web/a~b.py",
        ] {
            assert!(rs[0].covers(Path::new(kept)), "{kept}");
        }
    }

    #[test]
    fn the_first_rule_wins_and_a_rebuild_replaces_the_rest() {
        let rs = rules(
            &[
                (
                    "web",
                    rule("web/requirements.txt", WatchAction::Rebuild, &[]),
                ),
                ("web", rule("web", WatchAction::SyncRestart, &[])),
                ("worker", rule("web", WatchAction::Restart, &[])),
            ],
            None,
        );
        let one = work(
            &rs,
            &[(PathBuf::from("/p/web/gone.py"), false)],
            Path::new("/p"),
        );
        assert!(one["web"].restart && !one["web"].rebuild);
        assert!(one["worker"].restart);
        let both = work(
            &rs,
            &[
                (PathBuf::from("/p/web/gone.py"), false),
                (PathBuf::from("/p/web/requirements.txt"), true),
            ],
            Path::new("/p"),
        );
        assert!(both["web"].rebuild && !both["web"].restart && both["web"].delete.is_empty());
        assert_eq!(both["web"].because.len(), 2);
    }
}
