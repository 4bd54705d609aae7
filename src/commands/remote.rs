//! `-f` entries that are not files here: a project published as an artifact (`oci://…`) or kept
//! in a git repository (`https://host/repo.git#ref:subdir`, `git@host:repo.git`, `ssh://`,
//! `git://`, `file://`), fetched into a folder of this run's own before the manifest is read.

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::engine::registry;
use crate::exit::UsageError;

/// A git source: the repository's URL, the ref to check out (its default branch when None), and
/// the path in it (a Compose file, or a folder holding one).
#[derive(Debug, PartialEq)]
pub struct GitSource {
    pub url: String,
    pub reference: Option<String>,
    pub path: String,
}

/// `entry` as a git source, when it names one (compose's forms, and `file://` for a local repo).
pub fn git_source(entry: &str) -> Option<GitSource> {
    let (url, fragment) = match entry.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (entry, None),
    };
    let scheme_git = ["git@", "ssh://", "git://", "file://"]
        .iter()
        .any(|p| url.starts_with(p));
    let http_git = (url.starts_with("https://") || url.starts_with("http://"))
        && (url.ends_with(".git") || fragment.is_some());
    if !(scheme_git || http_git) {
        return None;
    }
    let (reference, path) = match fragment.map(|f| f.split_once(':').unwrap_or((f, ""))) {
        Some((r, p)) => ((!r.is_empty()).then(|| r.to_owned()), p.to_owned()),
        None => (None, String::new()),
    };
    Some(GitSource {
        url: url.to_owned(),
        reference,
        path,
    })
}

/// Clones `src` into `into` and returns the Compose file it names.
pub fn fetch_git(src: &GitSource, into: &Path) -> Result<PathBuf> {
    let inside = Path::new(&src.path);
    if inside
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        bail!(UsageError::new(format!(
            "`{}` leaves the repository; give a path inside it",
            src.path
        )));
    }
    let git = |args: &[&str]| -> Result<()> {
        let out = Command::new("git")
            .args(args)
            // Never a prompt for a password: a run must not hang on one.
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .output()
            .context("running git (install it to read Compose files from a repository)")?;
        if !out.status.success() {
            bail!(
                "git {} failed: {}",
                args.first().copied().unwrap_or_default(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    };
    let dir = into.to_string_lossy().into_owned();
    git(&["clone", "--quiet", "--no-checkout", &src.url, &dir])
        .with_context(|| format!("fetching {}", src.url))?;
    let reference = src.reference.as_deref().unwrap_or("HEAD");
    git(&["-C", &dir, "checkout", "--quiet", reference])
        .with_context(|| format!("checking out `{reference}` of {}", src.url))?;
    let target = into.join(inside);
    // A link in the repository may lead anywhere: what is read must be inside the clone.
    let real = target
        .canonicalize()
        .with_context(|| format!("{} has no `{}`", src.url, src.path))?;
    if !real.starts_with(into.canonicalize()?) {
        bail!("`{}` in {} leads outside the repository", src.path, src.url);
    }
    if real.is_file() {
        return Ok(real);
    }
    crate::manifest::DEFAULT_FILES
        .iter()
        .map(|name| real.join(name))
        .find(|f| f.is_file())
        .with_context(|| {
            format!(
                "`{}` in {} holds no Compose file ({})",
                if src.path.is_empty() { "/" } else { &src.path },
                src.url,
                crate::manifest::DEFAULT_FILES.join(", ")
            )
        })
}

/// Fetches a published project's Compose files into `into` (a fresh folder); returns them in order.
pub fn fetch_oci(reference: &str, into: &Path) -> Result<Vec<PathBuf>> {
    let reference = registry::Reference::parse(reference)?;
    let mut out = Vec::new();
    for layer in registry::pull(&reference)? {
        let path = into.join(&layer.file_name);
        // create_new: never through a link, never over a file of someone else's.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| file.write_all(&layer.content))
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        out.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_sources_are_told_from_files_with_their_ref_and_path() {
        assert_eq!(
            git_source("https://github.com/docker/awesome-compose.git#main:nginx-golang"),
            Some(GitSource {
                url: "https://github.com/docker/awesome-compose.git".into(),
                reference: Some("main".into()),
                path: "nginx-golang".into(),
            })
        );
        assert_eq!(
            git_source("git@github.com:me/app.git"),
            Some(GitSource {
                url: "git@github.com:me/app.git".into(),
                reference: None,
                path: String::new(),
            })
        );
        assert_eq!(
            git_source("file:///srv/repo#:deploy/compose.yaml")
                .unwrap()
                .path,
            "deploy/compose.yaml"
        );
        assert_eq!(git_source("compose.yaml"), None);
        assert_eq!(git_source("./a#b.yaml"), None);
        assert_eq!(git_source("https://example.com/compose.yaml"), None);
    }
}
