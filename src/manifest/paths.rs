//! Paths in a manifest are relative to the project folder; these make them absolute, for the
//! engine (which wants tidy absolute paths) and for `config` (which prints them as compose does).

use std::path::{Path, PathBuf};

use super::build_rules::is_remote;
use super::model::{MountKind, Project};

/// `p` from `base`, with `~/` as the user's home, `.` and `..` taken out lexically (the path may
/// not exist yet).
pub fn absolute(base: &Path, p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return Path::new(&home).join(rest);
    }
    let joined = base.join(p);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The project with every host path absolute: build contexts (not URLs), extra build contexts
/// that are folders, bind mount sources, and the files of secrets and configs.
pub fn with_absolute_paths(project: &Project) -> Project {
    let mut p = project.clone();
    let dir = p.working_dir.clone();
    let abs = |s: &str| absolute(&dir, s).display().to_string();
    for svc in p.services.values_mut() {
        if let Some(b) = &mut svc.build {
            if !is_remote(&b.context) {
                b.context = abs(&b.context);
            }
            for ctx in b.additional_contexts.values_mut() {
                // `service:NAME`, `docker-image://…` and URLs name no folder.
                if !ctx.contains(':') {
                    *ctx = abs(ctx);
                }
            }
        }
        for m in &mut svc.volumes {
            if m.kind == MountKind::Bind
                && let Some(src) = &mut m.source
            {
                *src = abs(src);
            }
        }
    }
    for def in p.secrets.values_mut().chain(p.configs.values_mut()) {
        if let Some(f) = &mut def.file {
            *f = abs(f);
        }
    }
    p
}
