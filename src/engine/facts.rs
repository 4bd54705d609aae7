//! Gathering what `stackctl check` judges: inspect, image history, top, filesystem changes, logs
//! and past events of a service's first replica, and with `live` a timed stop and restart.

use std::collections::HashMap;
use std::time::{Duration, Instant, UNIX_EPOCH};

use anyhow::{Result, bail};
use bollard::query_parameters::{EventsOptions, InspectContainerOptions, LogsOptions};
use futures::StreamExt;

use super::health::{Want, Watcher};
use super::{ApiContext, Engine, containers, observe, ops};
use crate::check::ServiceFacts;
use crate::manifest::MountKind;
use crate::plan::{Plan, ServicePlan};

fn unix_nanos(rfc3339: &str) -> Option<i128> {
    humantime::parse_rfc3339_weak(rfc3339.get(..rfc3339.len().min(35))?.trim_end_matches('Z'))
        .or_else(|_| humantime::parse_rfc3339_weak(rfc3339))
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i128)
}

pub async fn gather(
    engine: &Engine,
    plan: &Plan,
    svc: &ServicePlan,
    live: bool,
) -> Result<ServiceFacts> {
    let list = observe::containers(engine, &plan.project, false).await?;
    let mine: Vec<_> = list
        .iter()
        .filter(|c| c.service == svc.name && !c.oneoff)
        .collect();
    let Some(first) = mine.iter().min_by_key(|c| c.number) else {
        bail!(
            "service {} has no running container; run `stackctl up -d --wait` first",
            svc.name
        );
    };
    let info = engine
        .docker
        .inspect_container(&first.id, Some(InspectContainerOptions { size: true }))
        .await
        .api(|| format!("inspecting {}", first.name))?;
    let config = info.config.clone().unwrap_or_default();
    let host = info.host_config.clone().unwrap_or_default();
    let state = info.state.clone().unwrap_or_default();
    let image_id = info.image.clone().unwrap_or_default();
    let image = engine
        .docker
        .inspect_image(&image_id)
        .await
        .api(|| format!("inspecting image of {}", first.name))?;
    let history = engine
        .docker
        .image_history(&image_id)
        .await
        .api(|| "reading image history".into())?;

    let mut f = ServiceFacts {
        service: svc.name.clone(),
        replicas: mine.len() as u32,
        stateful: svc
            .mounts
            .iter()
            .any(|m| m.kind == MountKind::Volume && m.source.is_some()),
        one_shot: plan.is_awaited_to_complete(&svc.name),
        restart: host
            .restart_policy
            .as_ref()
            .and_then(|r| r.name)
            .map(|n| n.to_string())
            .unwrap_or_default(),
        stop_signal: config
            .stop_signal
            .clone()
            .unwrap_or_else(|| "SIGTERM".into()),
        grace: svc.stop_timeout(),
        init: host.init.unwrap_or(false),
        image_size: image.size.unwrap_or(0).max(0) as u64,
        has_healthcheck: svc.has_healthcheck()
            || config
                .healthcheck
                .as_ref()
                .and_then(|h| h.test.as_ref())
                .is_some_and(|t| t.first().is_some_and(|x| x != "NONE")),
        writable_bytes: info.size_rw,
        image_ref: svc.image.clone(),
        built: svc.build.is_some(),
        ..ServiceFacts::default()
    };

    // The image: its biggest layer, package caches, compilers, sudo.
    for layer in &history {
        let by = layer.created_by.to_lowercase();
        if layer.size.max(0) as u64 > f.largest_layer.0 {
            f.largest_layer = (
                layer.size.max(0) as u64,
                layer.created_by.chars().take(40).collect(),
            );
        }
        let installs = by.contains("apt-get install") || by.contains("apt install");
        if (by.contains("apt-get update") || installs) && !by.contains("/var/lib/apt/lists") {
            f.apt_cache_left = true;
        }
        for c in ["build-essential", "gcc", "g++", "clang"] {
            if installs
                && by.split(|ch: char| ch.is_whitespace()).any(|w| w == c)
                && !f.compilers.contains(&c.to_owned())
            {
                f.compilers.push(c.to_owned());
            }
        }
        if by.contains("sudo") {
            f.sudo_in_image = true;
        }
    }

    // The processes: PID 1, users, programs.
    // Numeric UIDs: the host's user names mean nothing inside the container.
    let (titles, procs) = ops::top(engine, &first.id, "-eo uid,pid,ppid,args").await?;
    let col = |name: &str| titles.iter().position(|t| t == name);
    let (uid, pid, ppid, cmd) = (col("UID"), col("PID"), col("PPID"), col("COMMAND"));
    let pids: Vec<&str> = procs
        .iter()
        .filter_map(|p| pid.and_then(|i| p.get(i)).map(String::as_str))
        .collect();
    let is_init =
        |c: &str| c.contains("docker-init") || c.starts_with("/sbin/tini") || c.starts_with("tini");
    let execs = exec_pids(&procs, pid, ppid);
    for p in &procs {
        if pid
            .and_then(|i| p.get(i))
            .is_some_and(|p| execs.contains(p))
        {
            continue;
        }
        let c = cmd.and_then(|i| p.get(i)).cloned().unwrap_or_default();
        let parent = ppid
            .and_then(|i| p.get(i))
            .map(String::as_str)
            .unwrap_or("");
        let root = !pids.contains(&parent);
        if root {
            f.pid1 = c.clone();
        }
        if is_init(&c) {
            continue;
        }
        if f.pid1.is_empty() || is_init(&f.pid1) && pids.contains(&parent) && f.processes == 0 {
            // Under an init, the program PID 1 starts is the one that matters for signals.
            f.pid1 = c.clone();
        }
        f.processes += 1;
        if let Some(u) = uid.and_then(|i| p.get(i)) {
            f.process_users.push(u.clone());
        }
        let prog = c
            .split_whitespace()
            .next()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(':')
            .to_owned();
        // Interpreters run as `python3 /usr/bin/gunicorn`: name the script, as ps users would.
        let prog = if prog.starts_with("python") {
            c.split_whitespace()
                .nth(1)
                .and_then(|s| s.rsplit('/').next())
                .unwrap_or(&prog)
                .to_owned()
        } else {
            prog
        };
        if !prog.is_empty() && !f.programs.contains(&prog) {
            f.programs.push(prog);
        }
    }

    // Files written into the container: log files.
    if let Some(changes) = engine
        .docker
        .container_changes(&first.id)
        .await
        .api(|| "reading filesystem changes".into())?
    {
        for ch in changes {
            let p = ch.path;
            if p.ends_with(".log") || (p.starts_with("/var/log/") && p.matches('/').count() > 3) {
                f.log_files.push(p);
            }
        }
    }
    // Image-declared volumes that no mount covers (data that would die with the container).
    // An anonymous volume (64-hex name) dies with `down -v` or `rm -v`: it does not count as kept.
    let anonymous = |m: &bollard::models::MountPoint| {
        m.typ.as_deref() == Some("volume") && m.name.as_ref().is_some_and(|n| n.len() == 64)
    };
    let mounted: Vec<String> = info
        .mounts
        .clone()
        .unwrap_or_default()
        .iter()
        .filter(|m| !anonymous(m))
        .filter_map(|m| m.destination.clone())
        .collect();
    if let Some(vols) = image.config.as_ref().and_then(|c| c.volumes.clone()) {
        for v in vols {
            if !mounted.contains(&v) {
                f.unmounted_volumes.push(v);
            }
        }
    }

    // Whether it wrote output, and start-up time from the events the daemon still holds.
    let started = state
        .started_at
        .as_deref()
        .and_then(unix_nanos)
        .unwrap_or(0);
    // Over the container's whole log: a quiet proxy restarted a moment ago has still logged before.
    let mut logs = engine.docker.logs(
        &first.id,
        Some(LogsOptions {
            stdout: true,
            stderr: true,
            tail: "5".into(),
            ..Default::default()
        }),
    );
    f.wrote_output = matches!(logs.next().await, Some(Ok(_)));
    f.startup = if f.has_healthcheck {
        startup_from_events(engine, &first.id, started).await
    } else {
        Some(0.0)
    };

    if live {
        // Stop the highest replica with its own signal and grace period, then bring it back.
        let target = mine.iter().max_by_key(|c| c.number).unwrap_or(first);
        let t = Instant::now();
        containers::stop(engine, &target.id, &target.name, svc.stop_timeout()).await?;
        let secs = t.elapsed().as_secs_f64();
        let code = engine
            .docker
            .inspect_container(&target.id, None)
            .await
            .ok()
            .and_then(|i| i.state)
            .and_then(|s| s.exit_code)
            .unwrap_or(-1);
        f.live_stop = Some((secs, code));
        // The restart doubles as the start-up measurement: start to healthy, from the events stream.
        let now = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let watcher = Watcher::spawn(engine, &plan.project, now.as_nanos() as i64);
        let t = Instant::now();
        containers::start(engine, &target.id, &target.name).await?;
        let targets = [(target.id.clone(), target.name.clone(), f.has_healthcheck)];
        watcher
            .wait(
                engine,
                &targets,
                Want::Healthy,
                Some(Duration::from_secs(120)),
            )
            .await?;
        f.startup = Some(t.elapsed().as_secs_f64());
    }
    Ok(f)
}

async fn startup_from_events(engine: &Engine, id: &str, started_nanos: i128) -> Option<f64> {
    let now = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs();
    let filters = HashMap::from([
        ("container".to_owned(), vec![id.to_owned()]),
        ("event".to_owned(), vec!["health_status".to_owned()]),
    ]);
    let opts = EventsOptions {
        since: Some(((started_nanos / 1_000_000_000) - 1).to_string()),
        until: Some(now.to_string()),
        filters: Some(filters),
    };
    let mut events = engine.docker.events(Some(opts));
    let deadline = tokio::time::sleep(Duration::from_secs(3));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            ev = events.next() => {
                let ev = ev?.ok()?;
                if ev.action.as_deref().is_some_and(|a| a.ends_with("healthy") && !a.ends_with("unhealthy")) {
                    let t = ev.time_nano? as i128;
                    return Some(((t - started_nanos) as f64 / 1e9).max(0.0));
                }
            }
            _ = &mut deadline => return None,
        }
    }
}

/// The PIDs (as `top` lists them) of execs and everything they started. Processes whose parent is
/// outside the container are its first process and its execs (a healthcheck, a `docker exec`);
/// the first process has the lowest PID. A shell an exec runs forks before it runs a program, so
/// an exec's children count as the exec, not as the container's own programs.
fn exec_pids(
    procs: &[Vec<String>],
    pid: Option<usize>,
    ppid: Option<usize>,
) -> std::collections::HashSet<String> {
    let field = |p: &Vec<String>, i: Option<usize>| -> String {
        i.and_then(|i| p.get(i)).cloned().unwrap_or_default()
    };
    let all: Vec<String> = procs.iter().map(|p| field(p, pid)).collect();
    let mut roots: Vec<(u64, String)> = procs
        .iter()
        .filter(|p| !all.contains(&field(p, ppid)))
        .map(|p| (field(p, pid).parse().unwrap_or(u64::MAX), field(p, pid)))
        .collect();
    roots.sort();
    let mut execs: std::collections::HashSet<String> =
        roots.into_iter().skip(1).map(|(_, p)| p).collect();
    while let Some(child) = procs
        .iter()
        .find(|p| execs.contains(&field(p, ppid)) && !execs.contains(&field(p, pid)))
    {
        execs.insert(field(child, pid));
    }
    execs
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_exec_and_what_it_forks_are_not_the_containers_programs() {
        let row = |pid: &str, ppid: &str| vec![pid.to_owned(), ppid.to_owned()];
        // nginx (100) with a worker; a healthcheck bash (900, parent outside) that forked (901).
        let procs = [
            row("100", "7"),
            row("101", "100"),
            row("900", "8"),
            row("901", "900"),
        ];
        let execs = super::exec_pids(&procs, Some(0), Some(1));
        assert_eq!(execs.len(), 2);
        assert!(execs.contains("900") && execs.contains("901"));
    }
}
