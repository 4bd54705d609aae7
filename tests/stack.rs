//! The shipped stack's user story, end to end against the real daemon: up, counting, reset, exact
//! counts under concurrency, Redis and Postgres killed under load, scaling, persistence across
//! down/up, and the hardening promises (non-root, one published port).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

struct Stack {
    name: String,
    port: u16,
}

impl Stack {
    fn manifest() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stack/stack.yml")
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(stackctl_path())
            .arg("-f")
            .arg(Self::manifest())
            .args(["-p", &self.name, "--progress", "plain"])
            .args(args)
            .env("HTTP_PORT", self.port.to_string())
            .output()
            .expect("run stackctl")
    }

    fn ok(&self, args: &[&str]) {
        let out = self.cmd(args);
        assert!(out.status.success(), "stackctl {args:?}:\n{}", stderr(&out));
    }

    fn container(&self, service: &str, n: u32) -> String {
        format!("{}-{service}-{n}", self.name)
    }

    fn get(&self, path: &str) -> HttpResponse {
        http_get(self.port, path).expect("request")
    }

    fn count_in_body(body: &str) -> u64 {
        body.split("viewed ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {body:?}"))
    }

    fn postgres_count(&self) -> u64 {
        postgres_count(&self.container("postgres", 1))
    }

    fn redis_count(&self) -> u64 {
        docker(&[
            "exec",
            &self.container("redis", 1),
            "redis-cli",
            "get",
            "visitor_count",
        ])
        .parse()
        .unwrap_or(0)
    }

    /// Fires `total` requests at `/` from `concurrency` threads; returns the status of each.
    fn load(
        &self,
        total: usize,
        concurrency: usize,
        during: impl FnOnce(&AtomicUsize) + Send,
    ) -> Vec<u16> {
        let done = Arc::new(AtomicUsize::new(0));
        let statuses = Arc::new(Mutex::new(Vec::with_capacity(total)));
        let next = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..concurrency {
                let (done, statuses, next) = (done.clone(), statuses.clone(), next.clone());
                let port = self.port;
                s.spawn(move || {
                    while next.fetch_add(1, Ordering::SeqCst) < total {
                        let status = http_get(port, "/").map(|r| r.status).unwrap_or(0);
                        statuses.lock().unwrap().push(status);
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
            during(&done);
        });
        Arc::try_unwrap(statuses).unwrap().into_inner().unwrap()
    }

    fn kill_process(&self, container: &str) {
        let pid = inspect(container, "{{.State.Pid}}");
        assert!(pid != "0" && !pid.is_empty(), "{container} has no process");
        // The process, not the container: `docker kill` counts as a manual stop and defeats the restart policy.
        let st = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap();
        assert!(st.success());
    }

    fn wait_healthy(&self, container: &str, limit: Duration) -> Duration {
        let t = Instant::now();
        while t.elapsed() < limit {
            if inspect(container, "{{.State.Health.Status}}") == "healthy" {
                return t.elapsed();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{container} not healthy after {limit:?}");
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.cmd(&["down", "-v", "-t", "2"]);
    }
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn the_visitor_counter_walkthrough() {
    if !daemon_available() {
        return;
    }
    let stack = Stack {
        name: format!("sct-stack-{}", std::process::id()),
        port: free_port(),
    };
    stack.ok(&["up", "-d", "--wait", "--wait-timeout", "180"]);

    // The walkthrough.
    let r = stack.get("/");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        "Hello Linode!  This page has been viewed 1 time(s)."
    );
    assert!(r.header("x-served-by").is_some_and(|h| !h.is_empty()));
    assert_eq!(
        stack.get("/").body,
        "Hello Linode!  This page has been viewed 2 time(s)."
    );
    assert_eq!(
        stack.get("/resetcounter").body,
        "Successfully deleted redis and postgres counters"
    );
    assert_eq!(
        stack.get("/").body,
        "Hello Linode!  This page has been viewed 1 time(s)."
    );

    // 2,000 requests at 32 concurrent: exact everywhere.
    stack.get("/resetcounter");
    let statuses = stack.load(2000, 32, |_| {});
    assert!(
        statuses.iter().all(|s| *s == 200),
        "non-200 answers: {:?}",
        statuses.iter().filter(|s| **s != 200).count()
    );
    assert_eq!(stack.postgres_count(), 2000);
    assert_eq!(stack.redis_count(), 2000);
    assert_eq!(Stack::count_in_body(&stack.get("/").body), 2001);

    // Redis killed under load: every answer is 200, the count stays exact, Redis comes back.
    stack.get("/resetcounter");
    let redis = stack.container("redis", 1);
    let statuses = stack.load(1000, 16, |done| {
        assert!(wait_until(Duration::from_secs(30), || done
            .load(Ordering::SeqCst)
            >= 200));
        stack.kill_process(&redis);
    });
    assert_eq!(statuses.len(), 1000);
    assert!(
        statuses.iter().all(|s| *s == 200),
        "non-200 with Redis down: {}",
        statuses.iter().filter(|s| **s != 200).count()
    );
    assert_eq!(stack.postgres_count(), 1000);
    assert!(
        wait_until(Duration::from_secs(10), || docker(&[
            "exec",
            &redis,
            "redis-cli",
            "ping"
        ]) == "PONG"),
        "redis not back within 10 s"
    );
    assert!(inspect(&redis, "{{.RestartCount}}").parse::<u32>().unwrap() >= 1);
    // The first request after Redis returns re-seeds it from Postgres (the app retries Redis after 1 s).
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(Stack::count_in_body(&stack.get("/").body), 1001);
    assert_eq!(stack.redis_count(), 1001);

    // Postgres killed under load: it restarts by policy; the count equals the 200 answers.
    stack.get("/resetcounter");
    let postgres = stack.container("postgres", 1);
    let statuses = stack.load(1000, 8, |done| {
        assert!(wait_until(Duration::from_secs(30), || done
            .load(Ordering::SeqCst)
            >= 300));
        stack.kill_process(&postgres);
    });
    stack.wait_healthy(&postgres, Duration::from_secs(60));
    let ok = statuses.iter().filter(|s| **s == 200).count() as u64;
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "only 503 is allowed while postgres is down: {statuses:?}"
    );
    assert_eq!(
        stack.postgres_count(),
        ok,
        "every acknowledged count survives"
    );

    // Scale out: nginx sees the new replicas within seconds, without a restart.
    stack.ok(&["scale", "flaskapp=5"]);
    let seen = Mutex::new(HashSet::new());
    let reached = wait_until(Duration::from_secs(8), || {
        for _ in 0..100 {
            if let Ok(r) = http_get(stack.port, "/")
                && let Some(h) = r.header("x-served-by")
            {
                seen.lock().unwrap().insert(h.to_owned());
            }
        }
        seen.lock().unwrap().len() == 5
    });
    assert!(
        reached,
        "distinct X-Served-By after scale: {:?}",
        seen.lock().unwrap()
    );
    // Scale in under load: no 5xx.
    let statuses = stack.load(600, 8, |done| {
        assert!(wait_until(Duration::from_secs(30), || done
            .load(Ordering::SeqCst)
            >= 50));
        stack.ok(&["scale", "flaskapp=2"]);
    });
    assert!(
        statuses.iter().all(|s| *s == 200),
        "5xx while scaling in: {:?}",
        statuses.iter().filter(|s| **s != 200).collect::<Vec<_>>()
    );

    // Hardening: only nginx publishes a port; web and nginx do not run as root.
    for c in docker(&[
        "ps",
        "--filter",
        &format!("label=com.docker.compose.project={}", stack.name),
        "--format",
        "{{.Names}}",
    ])
    .lines()
    {
        let bindings = inspect(c, "{{json .HostConfig.PortBindings}}");
        let published = bindings != "{}" && bindings != "null";
        assert_eq!(published, c.contains("-nginx-"), "{c}: {bindings}");
    }
    for svc in ["nginx", "flaskapp"] {
        let c = stack.container(svc, 1);
        let user = inspect(&c, "{{.Config.User}}");
        assert!(
            !user.is_empty() && user != "root" && user != "0",
            "{c} runs as {user:?}"
        );
        let top = docker(&["top", &c, "-o", "user"]);
        assert!(
            !top.lines().skip(1).any(|u| u.trim() == "root"),
            "{c} has root processes:\n{top}"
        );
    }

    // The ten commandments, measured on the live stack: every rule passes.
    let out = stack.cmd(&["check", "--live"]);
    let table = stdout(&out);
    assert!(
        out.status.success(),
        "check --live failed:\n{table}\n{}",
        stderr(&out)
    );
    assert!(
        table.lines().all(|l| l.chars().count() <= 80),
        "wider than 80 columns:\n{table}"
    );
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("  pass  ") || l.contains("  warn  ") || l.contains("  FAIL  "))
        .collect();
    assert_eq!(rows.len(), 40, "{table}");
    assert!(
        rows.iter().all(|r| r.contains("  pass  ")),
        "not every rule passes:\n{table}"
    );
    assert!(
        table.contains("s to healthy") && table.contains("stopped in"),
        "figures are measured:\n{table}"
    );

    // Data survives down/up; down -v starts afresh.
    let before = Stack::count_in_body(&stack.get("/").body);
    stack.ok(&["down"]);
    stack.ok(&["up", "-d", "--wait", "--wait-timeout", "180"]);
    assert_eq!(Stack::count_in_body(&stack.get("/").body), before + 1);
    stack.ok(&["down", "-v"]);
    stack.ok(&["up", "-d", "--wait", "--wait-timeout", "180"]);
    assert_eq!(
        stack.get("/").body,
        "Hello Linode!  This page has been viewed 1 time(s)."
    );
}
