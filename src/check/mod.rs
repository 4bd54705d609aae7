//! The tutorial's ten Container Commandments as rules over measured facts. Pure: the engine gathers
//! the facts (inspect, history, top, changes, logs, events), this module judges them.

use std::time::Duration;

use serde::Serialize;

/// What was measured about one service (its first replica, its image and its configuration).
#[derive(Debug, Clone, Default)]
pub struct ServiceFacts {
    pub service: String,
    pub replicas: u32,
    /// The service keeps data in a named volume.
    pub stateful: bool,
    /// Other services wait for it to complete: a job, not a daemon.
    pub one_shot: bool,
    pub restart: String,
    pub stop_signal: String,
    pub grace: Duration,
    pub init: bool,
    /// The command line of PID 1 inside the container.
    pub pid1: String,
    /// Users of the container's processes (init excluded).
    pub process_users: Vec<String>,
    /// Distinct programs running (init excluded), and the process count.
    pub programs: Vec<String>,
    pub processes: usize,
    pub sudo_in_image: bool,
    pub image_size: u64,
    pub largest_layer: (u64, String),
    pub apt_cache_left: bool,
    pub compilers: Vec<String>,
    /// Seconds from start to healthy (or running, without a healthcheck).
    pub startup: Option<f64>,
    pub has_healthcheck: bool,
    /// Bind mounts of folders (source code mounted in rather than baked into the image).
    pub bind_dirs: Vec<String>,
    pub writable_bytes: Option<i64>,
    /// Paths the image declares as volumes that no mount covers.
    pub unmounted_volumes: Vec<String>,
    pub image_ref: String,
    /// The image is built from the project's own sources.
    pub built: bool,
    pub wrote_output: bool,
    pub log_files: Vec<String>,
    /// With --live: seconds a stop took, and the exit code.
    pub live_stop: Option<(f64, i64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub service: String,
    pub rule: &'static str,
    pub level: Level,
    pub figure: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

const MB: f64 = 1_000_000.0;

fn is_shell_form(cmd: &str) -> bool {
    let mut words = cmd.split_whitespace();
    let first = words.next().unwrap_or("");
    let prog = first.rsplit('/').next().unwrap_or(first);
    matches!(prog, "sh" | "bash" | "dash" | "ash") && words.next() == Some("-c")
}

pub fn evaluate(f: &ServiceFacts) -> Vec<Verdict> {
    let mut out = Vec::new();
    let mut v = |rule: &'static str, level: Level, figure: String, fix: &str| {
        out.push(Verdict {
            service: f.service.clone(),
            rule,
            level,
            figure,
            fix: if level == Level::Pass {
                String::new()
            } else {
                fix.to_owned()
            },
        })
    };

    // 1. Ephemeral: nothing runs as root, no sudo to become it.
    let root = f.process_users.iter().any(|u| u == "root" || u == "0");
    let users: Vec<String> = f
        .process_users
        .iter()
        .map(|u| {
            if u.parse::<u32>().is_ok() {
                format!("uid {u}")
            } else {
                u.clone()
            }
        })
        .collect();
    let users = {
        let mut u = users;
        u.sort();
        u.dedup();
        u.join(",")
    };
    let level = if root || f.sudo_in_image {
        Level::Fail
    } else {
        Level::Pass
    };
    let figure = format!(
        "{users}{}",
        if f.sudo_in_image {
            ", sudo in image"
        } else {
            ""
        }
    );
    v(
        "ephemeral",
        level,
        figure,
        "set USER to an unprivileged account and drop sudo from the image",
    );

    // 2. Disposable: code is baked into the image, not mounted in.
    let level = if f.bind_dirs.is_empty() {
        Level::Pass
    } else {
        Level::Warn
    };
    let figure = if f.bind_dirs.is_empty() {
        format!("{} replica(s), no bind mounts", f.replicas)
    } else {
        format!("binds {}", f.bind_dirs.join(","))
    };
    v(
        "disposable",
        level,
        figure,
        "COPY the code into the image instead of bind-mounting it",
    );

    // 3. Short initialisation.
    let (level, figure) = match f.startup {
        Some(s) if s <= 15.0 => (
            Level::Pass,
            format!(
                "{s:.1}s to {}",
                if f.has_healthcheck {
                    "healthy"
                } else {
                    "running"
                }
            ),
        ),
        Some(s) if s <= 60.0 => (
            Level::Warn,
            format!(
                "{s:.1}s to {}",
                if f.has_healthcheck {
                    "healthy"
                } else {
                    "running"
                }
            ),
        ),
        Some(s) => (Level::Fail, format!("{s:.1}s to start")),
        None => (
            Level::Warn,
            "start older than the daemon's event memory".into(),
        ),
    };
    let fix = if f.startup.is_none() {
        "run with --live to measure a fresh start"
    } else {
        "move slow set-up into the image build"
    };
    v("short-init", level, figure, fix);

    // 4. Small.
    let size = f.image_size as f64 / MB;
    let level = if f.apt_cache_left {
        Level::Fail
    } else if size > 1000.0 || !f.compilers.is_empty() {
        Level::Warn
    } else {
        Level::Pass
    };
    let mut figure = format!(
        "{size:.0}MB, largest layer {:.0}MB",
        f.largest_layer.0 as f64 / MB
    );
    if f.apt_cache_left {
        figure.push_str(", apt cache left");
    }
    if !f.compilers.is_empty() {
        figure.push_str(&format!(", {}", f.compilers.join("/")));
    }
    v(
        "small",
        level,
        figure,
        "clean /var/lib/apt/lists in the same RUN; build in a separate stage",
    );

    // 5. Graceful on SIGTERM.
    let shell_pid1 = is_shell_form(&f.pid1) && !f.init;
    let (level, figure) = match f.live_stop {
        Some((secs, code)) => {
            let killed = code == 137 || secs + 0.5 >= f.grace.as_secs_f64();
            (
                if killed { Level::Fail } else { Level::Pass },
                format!(
                    "stopped in {secs:.1}s, exit {code} ({} {:.0}s)",
                    f.stop_signal,
                    f.grace.as_secs_f64()
                ),
            )
        }
        None if shell_pid1 => (
            Level::Fail,
            format!("PID 1 is `{}`", f.pid1.chars().take(24).collect::<String>()),
        ),
        None => (
            Level::Pass,
            format!(
                "{} to PID 1, {:.0}s grace",
                f.stop_signal,
                f.grace.as_secs_f64()
            ),
        ),
    };
    let fix = if shell_pid1 {
        "use the exec form of CMD, `exec` in scripts, or `init: true`"
    } else {
        "handle the stop signal and exit within stop_grace_period"
    };
    v("graceful", level, figure, fix);

    // 6. Stateless: no state in the writable layer.
    let writable = f.writable_bytes.unwrap_or(0) as f64 / MB;
    let (level, figure) = if f.stateful {
        if f.unmounted_volumes.is_empty() {
            (
                Level::Pass,
                format!("data on volume, layer {writable:.1}MB"),
            )
        } else {
            (
                Level::Fail,
                format!("{} not on a volume", f.unmounted_volumes.join(",")),
            )
        }
    } else if writable > 50.0 {
        (Level::Warn, format!("writable layer {writable:.1}MB"))
    } else {
        (Level::Pass, format!("writable layer {writable:.1}MB"))
    };
    v(
        "stateless",
        level,
        figure,
        "keep state in named volumes or backing services, not in the container",
    );

    // 7. Dependencies local: everything the service needs is in a pinned image.
    let tag = f
        .image_ref
        .rsplit_once(':')
        .map(|(_, t)| t)
        .filter(|t| !t.contains('/'));
    let level = match tag {
        _ if f.built => Level::Pass,
        Some("latest") => Level::Warn,
        None if !f.image_ref.contains('@') => Level::Warn,
        _ => Level::Pass,
    };
    let figure = if f.built {
        format!("{} (built here)", f.image_ref)
    } else {
        f.image_ref.clone()
    };
    v(
        "deps-local",
        level,
        figure,
        "pin the image to a version tag or digest",
    );

    // 8. One process (one program, however many workers it forks).
    let level = if f.programs.len() <= 1 {
        Level::Pass
    } else {
        Level::Warn
    };
    v(
        "one-process",
        level,
        format!("{} proc, {}", f.processes, f.programs.join(",")),
        "run one program per container; split the others into services",
    );

    // 9. Logs to stdout.
    let (level, figure) = if !f.log_files.is_empty() {
        (
            Level::Fail,
            format!(
                "writes {}",
                f.log_files
                    .iter()
                    .take(2)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        )
    } else if !f.wrote_output {
        (Level::Warn, "no output since start".into())
    } else {
        (Level::Pass, "stdout/stderr, no log files".into())
    };
    v(
        "logs-stdout",
        level,
        figure,
        "log to stdout/stderr, not to files in the container",
    );

    // 10. Restart pattern.
    let (level, fix) = match f.restart.as_str() {
        "" | "no" if f.one_shot => (Level::Pass, ""),
        "" | "no" => (Level::Fail, "add `restart: unless-stopped` (or always)"),
        "on-failure" if !f.one_shot => (
            Level::Warn,
            "a long-running service should restart whatever the exit code",
        ),
        _ => (Level::Pass, ""),
    };
    v(
        "restart",
        level,
        // Engine 20.10 reports no policy as "", newer engines as "no": the same verdict and figure.
        if f.restart.is_empty() || f.restart == "no" {
            "none".into()
        } else {
            f.restart.clone()
        },
        fix,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ServiceFacts {
        ServiceFacts {
            service: "web".into(),
            replicas: 3,
            restart: "unless-stopped".into(),
            stop_signal: "SIGTERM".into(),
            grace: Duration::from_secs(10),
            pid1: "/usr/bin/python3 /usr/bin/gunicorn".into(),
            process_users: vec!["app".into()],
            programs: vec!["python3".into()],
            processes: 3,
            image_size: 195_000_000,
            largest_layer: (78_000_000, "RUN apt-get".into()),
            startup: Some(2.5),
            has_healthcheck: true,
            writable_bytes: Some(1000),
            image_ref: "visitors-flaskapp:1.0".into(),
            wrote_output: true,
            live_stop: Some((0.8, 0)),
            ..ServiceFacts::default()
        }
    }

    fn level(f: &ServiceFacts, rule: &str) -> Level {
        evaluate(f)
            .into_iter()
            .find(|v| v.rule == rule)
            .unwrap()
            .level
    }

    #[test]
    fn a_well_behaved_service_passes_everything() {
        assert!(
            evaluate(&good()).iter().all(|v| v.level == Level::Pass),
            "{:?}",
            evaluate(&good())
        );
    }

    #[test]
    fn no_restart_policy_reads_the_same_from_every_engine() {
        for reported in ["", "no"] {
            let mut f = good();
            f.restart = reported.into();
            let v = evaluate(&f)
                .into_iter()
                .find(|v| v.rule == "restart")
                .unwrap();
            assert_eq!(
                (v.level, v.figure.as_str()),
                (Level::Fail, "none"),
                "{reported:?}"
            );
        }
    }

    #[test]
    fn each_fault_fails_its_rule() {
        let mut f = good();
        f.process_users = vec!["root".into()];
        assert_eq!(level(&f, "ephemeral"), Level::Fail);
        let mut f = good();
        f.live_stop = Some((10.1, 137));
        assert_eq!(level(&f, "graceful"), Level::Fail);
        let mut f = good();
        f.live_stop = None;
        f.pid1 = "/bin/sh -c trap '' TERM; sleep 1000".into();
        assert_eq!(level(&f, "graceful"), Level::Fail);
        f.init = true;
        assert_eq!(
            level(&f, "graceful"),
            Level::Pass,
            "an init forwards the signal"
        );
        let mut f = good();
        f.log_files = vec!["/var/log/app.log".into()];
        assert_eq!(level(&f, "logs-stdout"), Level::Fail);
        let mut f = good();
        f.restart = "no".into();
        assert_eq!(level(&f, "restart"), Level::Fail);
        f.one_shot = true;
        assert_eq!(level(&f, "restart"), Level::Pass);
        let mut f = good();
        f.apt_cache_left = true;
        assert_eq!(level(&f, "small"), Level::Fail);
        let mut f = good();
        f.stateful = true;
        f.unmounted_volumes = vec!["/data".into()];
        assert_eq!(level(&f, "stateless"), Level::Fail);
        let mut f = good();
        f.image_ref = "redis:latest".into();
        assert_eq!(level(&f, "deps-local"), Level::Warn);
    }
}
