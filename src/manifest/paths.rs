//! Paths in a manifest are relative to the project folder; these make them absolute, for the
//! engine (which wants tidy absolute paths) and for `config` (which prints them as compose does).

use std::path::{Path, PathBuf};

use super::build_rules::is_remote;
use super::model::{MountKind, Project};

/// `p` from `base`, with `~/` as the user's home, `.` and `..` taken out lexically (the path may
/// not exist yet). An absolute path stays as written (a trailing `/` included), and so does a
/// Windows one (`C:\data`), as compose keeps them.
pub fn absolute(base: &Path, p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return Path::new(&home).join(rest);
    }
    let windows = p.len() >= 3
        && p.as_bytes()[0].is_ascii_alphabetic()
        && p.as_bytes()[1] == b':'
        && matches!(p.as_bytes()[2], b'\\' | b'/');
    if p.starts_with('/') || windows {
        return PathBuf::from(p);
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

/// A volume's driver options, with the folder of a bind made by the `local` driver (`driver:
/// local`, `o: bind`, `device: PATH`) taken from `base` as compose takes it: the daemon would refuse
/// a relative device, and an empty one is the project folder.
pub fn volume_options(
    base: &Path,
    driver: Option<&str>,
    opts: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    let mut opts = opts.clone();
    if driver == Some("local")
        && opts.get("o").is_some_and(|o| o == "bind")
        && let Some(device) = opts.get_mut("device")
    {
        *device = absolute(base, device).display().to_string();
    }
    opts
}

/// The project with every host path absolute: build contexts (not URLs), extra build contexts
/// that are folders, bind mount sources, the files of secrets and configs, and the folders of
/// volumes the `local` driver binds.
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
        for rule in svc.develop.iter_mut().flat_map(|d| &mut d.watch) {
            rule.path = abs(&rule.path);
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
    for def in p.volumes.values_mut() {
        def.driver_opts = volume_options(&dir, def.driver.as_deref(), &def.driver_opts);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_stay_as_written_and_relative_ones_are_joined_and_tidied() {
        let base = Path::new("/srv/app");
        assert_eq!(absolute(base, "/etc/pihole/"), Path::new("/etc/pihole/"));
        assert_eq!(
            absolute(base, "C:\\docker\\project"),
            Path::new("C:\\docker\\project")
        );
        assert_eq!(absolute(base, "./data/../logs"), Path::new("/srv/app/logs"));
        assert_eq!(absolute(base, ""), Path::new("/srv/app"));
    }

    #[test]
    fn the_local_drivers_bind_device_is_a_path_from_the_project_folder() {
        let base = Path::new("/srv/app");
        let opts = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let bind = opts(&[("type", "none"), ("o", "bind"), ("device", "./data")]);
        assert_eq!(
            volume_options(base, Some("local"), &bind)["device"],
            "/srv/app/data"
        );
        let empty = opts(&[("o", "bind"), ("device", "")]);
        assert_eq!(
            volume_options(base, Some("local"), &empty)["device"],
            "/srv/app"
        );
        // Only with the driver named, and only for a bind (an NFS device is no path here).
        assert_eq!(volume_options(base, None, &bind)["device"], "./data");
        let nfs = opts(&[
            ("type", "nfs"),
            ("o", "addr=10.0.0.1"),
            ("device", ":/export"),
        ]);
        assert_eq!(volume_options(base, Some("local"), &nfs), nfs);
    }
}
