//! The stack on a swarm of five Docker-in-Docker nodes (three managers, two workers) while clients
//! hammer nginx on every node and things go wrong: a rolling update and a rolled-back one, scaling
//! to 30 within a per-node limit, a worker cut off and back, the leader lost. Through all of it no
//! request may fail and no visit be lost or counted twice; `logs -f` follows every task; `down`
//! leaves nothing on any node; a manager without quorum is refused in words. One cluster serves
//! every step: making it takes a minute.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::dind::{Cluster, Node};
use crate::common::load::{self, Load};
use crate::common::*;
use crate::swarm::{host_swarm_state, on_swarm};

const PORT: u16 = 8080;
const CLIENTS: usize = 16;

/// The test's view of the cluster and its project.
struct Stack<'a> {
    cluster: &'a Cluster,
    files: Vec<PathBuf>,
    project: String,
    registry: String,
}

impl Stack<'_> {
    fn node(&self, n: usize) -> &Node {
        &self.cluster.nodes[n - 1]
    }

    fn stackctl(&self, node: &Node, args: &[&str]) -> Command {
        let mut c = on_swarm(node, &self.files, &self.project, args);
        c.env("HTTP_PORT", PORT.to_string())
            .env("STACKCTL_REGISTRY", &self.registry);
        c
    }

    fn run(&self, node: &Node, args: &[&str]) -> Output {
        self.stackctl(node, args).output().expect("run stackctl")
    }

    fn ok(&self, node: &Node, args: &[&str]) -> Output {
        let out = self.run(node, args);
        assert!(out.status.success(), "stackctl {args:?}:\n{}", stderr(&out));
        out
    }

    /// nginx on nodes `ns`, as load targets.
    fn targets(&self, ns: &[usize]) -> Vec<String> {
        ns.iter()
            .map(|n| format!("{}:{PORT}", self.node(*n).ip))
            .collect()
    }

    /// One visit through nginx on node `n`, waiting up to a minute for an answer.
    fn visit(&self, n: usize) -> (u64, String) {
        let target = self.targets(&[n])[0].parse().unwrap();
        let t = Instant::now();
        loop {
            match load::visit(target) {
                Ok(v) => return v,
                Err(e) if t.elapsed() > Duration::from_secs(60) => {
                    panic!("no answer from nginx on node{n}: {e}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(300)),
            }
        }
    }

    /// The running tasks of `service` (by the manager `via`): task ID → node.
    fn running(&self, via: &Node, service: &str) -> BTreeMap<String, String> {
        via.docker(&[
            "service",
            "ps",
            "--no-trunc",
            "--filter",
            "desired-state=running",
            "--format",
            "{{.ID}} {{.Node}} {{.CurrentState}}",
            &format!("{}_{service}", self.project),
        ])
        .lines()
        .filter(|l| l.contains(" Running "))
        .filter_map(|l| {
            let mut w = l.split(' ');
            Some((w.next()?.to_owned(), w.next()?.to_owned()))
        })
        .collect()
    }

    /// Waits up to `limit` for `check`; on timeout the failure shows what the swarm looked like
    /// (its nodes, flaskapp's and nginx's tasks), asked of `via`.
    fn settle(&self, via: &Node, limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
        let t = Instant::now();
        while !check() {
            if t.elapsed() > limit {
                let tasks = |service: &str| {
                    via.docker(&[
                        "service",
                        "ps",
                        "--format",
                        "{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}",
                        &format!("{}_{service}", self.project),
                    ])
                };
                panic!(
                    "not within {limit:?}: {what}\nnodes:\n{}\nflaskapp:\n{}\nnginx:\n{}",
                    via.docker(&["node", "ls"]),
                    tasks("flaskapp"),
                    tasks("nginx")
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Tasks per node of `service`.
    fn spread(&self, via: &Node, service: &str) -> BTreeMap<String, usize> {
        let mut per = BTreeMap::new();
        for node in self.running(via, service).into_values() {
            *per.entry(node).or_default() += 1;
        }
        per
    }
}

/// The build context of the test's flaskapp: the stack's image with its replica name marked by
/// generation (`v2-…` in X-Served-By), or made to fail at start.
fn generation(ctx: &Path, base: &str, mark: &str, broken: bool) {
    let breaks = if broken {
        " && echo 'raise SystemExit(3)' >> /app/app.py"
    } else {
        ""
    };
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {base}\nUSER root\nRUN sed -i 's/^HOSTNAME = socket.gethostname()/HOSTNAME = \"{mark}-\" + socket.gethostname()/' /app/app.py{breaks}\nUSER app\n"
        ),
    )
    .unwrap();
}

/// Load on nodes `on` while `during` runs; checks nothing failed or counted twice and that the
/// count moved by exactly the answers given. Returns who served each answer.
fn under_load(stack: &Stack, on: &[usize], what: &str, during: impl FnOnce(&Load)) -> Vec<String> {
    let (before, _) = stack.visit(on[0]);
    let load = Load::start(&stack.targets(on), CLIENTS);
    let t = Instant::now();
    during(&load);
    let tally = load.stop();
    let answered = tally.exact(what);
    let (after, _) = stack.visit(on[0]);
    assert_eq!(
        after,
        before + answered as u64 + 1,
        "visits lost or counted twice during {what}"
    );
    eprintln!(
        "{what}: {answered} requests in {:.0?}, 0 failed, count exact ({} connections refused by a node, sent to the next)",
        t.elapsed(),
        tally.refused.len()
    );
    tally.served_by
}

#[test]
fn five_nodes_keep_serving_through_updates_a_partition_and_a_lost_leader() {
    if !daemon_available() {
        return;
    }
    let host_state = host_swarm_state();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let project = format!("sctcl{}", std::process::id());
    let base = vec![
        root.join("stack/stack.yml"),
        root.join("stack/stack.swarm.yml"),
    ];
    let host = |args: &[&str]| {
        let mut c = Command::new(stackctl_path());
        for f in &base {
            c.arg("-f").arg(f);
        }
        let out = c
            .args(["-p", &project, "--progress", "plain"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    // The images, made on the host (its build cache makes this quick) under the test's own tags.
    host(&["pull"]);
    host(&["build"]);
    let images: Vec<String> = stdout(&host(&["config", "--images"]))
        .lines()
        .map(str::to_owned)
        .collect();
    let (nginx, web) = (format!("{project}-nginx:1"), format!("{project}-web:1"));
    docker(&["tag", &format!("{project}-nginx"), &nginx]);
    docker(&["tag", &format!("{project}-flaskapp"), &web]);
    let _owned = Images(vec![
        nginx.clone(),
        web.clone(),
        format!("{project}-nginx"),
        format!("{project}-flaskapp"),
    ]);
    let data: Vec<&str> = images
        .iter()
        .filter(|i| i.contains("redis") || i.contains("postgres"))
        .map(String::as_str)
        .collect();
    assert_eq!(data.len(), 2, "{images:?}");

    let ctx = tempfile::tempdir().unwrap();
    generation(ctx.path(), &web, "v1", false);
    // The data stays on node2, a manager that is never stopped; nginx runs on every node and
    // comes as a plain image loaded into each; flaskapp is built on the manager addressed and
    // reaches the others through the cluster's registry.
    let pin = TestProject::new(
        "swcluster",
        &format!(
            "services:\n  nginx:\n    build: !reset null\n    image: {nginx}\n  flaskapp:\n    build: {}\n    deploy:\n      placement: {{max_replicas_per_node: 6}}\n  postgres:\n    deploy: {{placement: {{constraints: [node.hostname==node2]}}}}\n  redis:\n    deploy: {{placement: {{constraints: [node.hostname==node2]}}}}\n",
            ctx.path().display()
        ),
    );
    let t = Instant::now();
    let cluster = Cluster::start_with_registry("five", 5);
    std::thread::scope(|s| {
        for (i, node) in cluster.nodes.iter().enumerate() {
            let mut these = vec![nginx.as_str()];
            if i < 3 {
                these.push(&web);
            }
            if i == 1 {
                these.extend(&data);
            }
            s.spawn(move || node.load(&these));
        }
    });
    cluster.swarm_with_managers(3);
    eprintln!(
        "five nodes, three managers, images loaded: {:.0?}",
        t.elapsed()
    );
    let mut files = base.clone();
    files.push(pin.file.clone());
    let stack = Stack {
        cluster: &cluster,
        files,
        project: project.clone(),
        registry: cluster.registry.clone().unwrap(),
    };
    let (n1, n2) = (stack.node(1), stack.node(2));
    let all = [1, 2, 3, 4, 5];

    let t = Instant::now();
    stack.ok(n1, &["up"]);
    eprintln!("up on five nodes: {:.0?}", t.elapsed());
    for n in all {
        stack.visit(n);
    }

    // 1. A code change rolled out under load, one replica at a time as update_config says.
    let spec = n1.docker(&[
        "service",
        "inspect",
        "--format",
        "{{json .Spec.UpdateConfig}} {{json .Spec.RollbackConfig}}",
        &format!("{project}_flaskapp"),
    ]);
    for want in [
        r#""Parallelism":1"#,
        r#""FailureAction":"rollback""#,
        r#""Monitor":2000000000"#,
        r#""Order":"start-first""#,
    ] {
        assert!(spec.contains(want), "{want} not in {spec}");
    }
    let old_tasks = stack.running(n1, "flaskapp");
    generation(ctx.path(), &web, "v2", false);
    let served = under_load(&stack, &all, "the rolling update", |_| {
        let out = stack.ok(n1, &["up", "--build"]);
        assert!(stderr(&out).contains("flaskapp"), "{}", stderr(&out));
    });
    for generation in ["v1-", "v2-"] {
        assert!(
            served.iter().any(|by| by.starts_with(generation)),
            "no answer from {generation} while the update ran"
        );
    }
    let new_tasks = stack.running(n1, "flaskapp");
    assert_eq!(new_tasks.len(), 3, "{new_tasks:?}");
    assert!(
        new_tasks.keys().all(|t| !old_tasks.contains_key(t)),
        "every replica is replaced: {old_tasks:?} → {new_tasks:?}"
    );
    for _ in 0..12 {
        let (_, by) = stack.visit(1);
        assert!(by.starts_with("v2-"), "served by {by} after the update");
    }

    // A broken image: Swarm rolls back, up says so naming the service, nothing is dropped.
    generation(ctx.path(), &web, "v3", true);
    under_load(&stack, &all, "a failed update and its rollback", |_| {
        let out = stack.run(n1, &["up", "--build"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("{project}_flaskapp"))
                && err.contains("rolled")
                && err.contains("up --build"),
            "{err}"
        );
    });
    for _ in 0..12 {
        let (_, by) = stack.visit(2);
        assert!(by.starts_with("v2-"), "served by {by} after the rollback");
    }
    generation(ctx.path(), &web, "v2", false);

    // 5. Thirty replicas over five nodes, at most six on each.
    let t = Instant::now();
    stack.ok(n1, &["scale", "flaskapp=30"]);
    let spread = stack.spread(n1, "flaskapp");
    assert_eq!(spread.values().sum::<usize>(), 30, "{spread:?}");
    assert!(
        spread.len() == 5 && spread.values().all(|n| *n == 6),
        "{spread:?}"
    );
    eprintln!("scale flaskapp=30: {:.0?}, {spread:?}", t.elapsed());
    stack.ok(n1, &["scale", "flaskapp=10"]);

    // 4. flaskapp followed from node2 from here on, with timestamps: nothing may come twice.
    let follower = Follower::start_both(stack.stackctl(
        n2,
        &["logs", "-f", "-t", "--no-color", "--tail", "3", "flaskapp"],
    ));
    follower.wait_for(
        |t| t.contains("flaskapp.") && t.contains("@node"),
        Duration::from_secs(30),
        "task lines labelled with their node",
    );

    // 3. A worker cut off from the others while it runs replicas: they come back elsewhere.
    let n5 = stack.node(5);
    let on_n5 = |s: &Stack| s.spread(n2, "flaskapp").get("node5").copied().unwrap_or(0);
    assert!(on_n5(&stack) > 0, "{:?}", stack.spread(n2, "flaskapp"));
    let others: Vec<&Node> = cluster.nodes[..4].iter().collect();
    let mut moved = BTreeMap::new();
    let before_cut = stack.running(n2, "flaskapp");
    under_load(&stack, &[1, 2, 3, 4], "a worker's partition", |load| {
        n5.cut_off(&others);
        let t = Instant::now();
        stack.settle(
            n2,
            Duration::from_secs(180),
            "replicas moved off node5",
            || stack.running(n2, "flaskapp").len() == 10 && on_n5(&stack) == 0,
        );
        eprintln!(
            "node5 cut off: its replicas ran elsewhere after {:.0?}",
            t.elapsed()
        );
        moved.extend(
            stack
                .running(n2, "flaskapp")
                .into_iter()
                .filter(|(task, _)| !before_cut.contains_key(task)),
        );
        n5.reconnect(&others);
        stack.settle(n2, Duration::from_secs(120), "node5 back", || {
            n2.docker(&["node", "ls", "--format", "{{.Hostname}} {{.Status}}"])
                .contains("node5 Ready")
        });
        let answered = load.answered();
        eventually(Duration::from_secs(30), "more answers", || {
            load.answered() > answered + 50
        });
    });
    // Back, it runs no replica of the generation it ran while cut off.
    let label = format!("label=com.docker.swarm.service.name={project}_flaskapp");
    stack.settle(
        n2,
        Duration::from_secs(90),
        "node5's old replicas gone",
        || {
            let running = n5.docker(&["ps", "-q", "--filter", &label]);
            let wanted = stack.running(n2, "flaskapp");
            running.lines().count() == wanted.values().filter(|n| *n == "node5").count()
        },
    );
    // Its nginx (global, host port) is replaced once it rejoins; until the new task listens the
    // node refuses connections. The next step starts when it serves again.
    stack.settle(n2, Duration::from_secs(90), "node5's nginx settled", || {
        let nginx = stack.running(n2, "nginx");
        nginx.values().filter(|n| *n == "node5").count() == 1
            && n5
                .docker(&["ps", "-q", "--filter", &label.replace("flaskapp", "nginx")])
                .lines()
                .count()
                == 1
            && (0..5).all(|_| load::visit(stack.targets(&[5])[0].parse().unwrap()).is_ok())
    });

    // 2. The leader goes away under load; the others elect one and the stack keeps serving.
    let leader = n2.docker(&["node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}"]);
    assert!(leader.contains("node1 Leader"), "{leader}");
    let before_loss = stack.running(n2, "flaskapp");
    under_load(&stack, &[2, 3, 4, 5], "the leader's loss", |load| {
        n1.stop();
        let t = Instant::now();
        stack.settle(
            n2,
            Duration::from_secs(180),
            "replicas moved off node1",
            || {
                let spread = stack.spread(n2, "flaskapp");
                spread.values().sum::<usize>() == 10 && !spread.contains_key("node1")
            },
        );
        eprintln!(
            "leader lost: its replicas ran elsewhere after {:.0?}",
            t.elapsed()
        );
        moved.extend(
            stack
                .running(n2, "flaskapp")
                .into_iter()
                .filter(|(task, _)| !before_loss.contains_key(task)),
        );
        // ps, logs and up against the other managers: by DOCKER_HOST and by context.
        let ps = stack.ok(n2, &["ps"]);
        assert!(stdout(&ps).contains("flaskapp"), "{}", stdout(&ps));
        let logs = stack.ok(stack.node(3), &["logs", "--tail", "1", "redis"]);
        assert!(stdout(&logs).contains("redis"), "{}", stdout(&logs));
        let config = tempfile::tempdir().unwrap();
        let cfg = config.path().to_str().unwrap();
        let context = [
            "--config",
            cfg,
            "context",
            "create",
            "n2",
            "--docker",
            &format!("host={}", n2.host()),
        ];
        assert!(docker_ok(&context), "docker context create");
        let up = stack
            .stackctl(n2, &["--context", "n2", "up"])
            .env_remove("DOCKER_HOST")
            .env("DOCKER_CONFIG", cfg)
            .output()
            .unwrap();
        assert!(up.status.success(), "{}", stderr(&up));
        let answered = load.answered();
        eventually(Duration::from_secs(30), "more answers", || {
            load.answered() > answered + 50
        });
    });
    let gone = stack.run(n1, &["ps"]);
    assert!(!gone.status.success());

    // What the follower saw: the replicas that moved, each labelled with its new node, and no
    // line twice.
    let seen = follower.stop();
    let mut lines = HashSet::new();
    for l in seen.lines().filter(|l| !l.trim().is_empty()) {
        assert!(lines.insert(l), "shown twice: {l}");
    }
    let labels: HashSet<&str> = seen
        .lines()
        .filter_map(|l| Some(l.split_once(" |")?.0.trim_end()))
        .filter(|p| p.contains("flaskapp."))
        .collect();
    assert!(!moved.is_empty(), "no replica moved");
    for (task, node) in &moved {
        let label = format!(".{}@{node}", &task[..12]);
        assert!(
            labels.iter().any(|l| l.ends_with(&label)),
            "the moved replica {label} is not followed: {labels:?}"
        );
    }
    eprintln!(
        "logs -f: {} tasks labelled, the {} moved ones among them, no line twice",
        labels.len(),
        moved.len()
    );

    // down leaves nothing of the stack on any node still up.
    stack.ok(n2, &["down"]);
    let ns = format!("label=com.docker.stack.namespace={project}");
    for n in 2..=5 {
        let node = stack.node(n);
        eventually(
            Duration::from_secs(60),
            "the tasks' containers gone",
            || {
                node.docker(&["ps", "-aq", "--filter", "label=com.docker.swarm.task.id"])
                    .is_empty()
            },
        );
        assert!(
            !node
                .docker(&["network", "ls", "--format", "{{.Name}}"])
                .contains(&format!("{project}_default")),
            "node{n} keeps the network"
        );
    }
    for kind in ["service", "config", "secret"] {
        assert!(
            n2.docker(&[kind, "ls", "-q", "--filter", &ns]).is_empty(),
            "{kind}s left"
        );
    }

    // Two managers of three gone: once the one left knows it (Raft's election timeout), it
    // cannot act, and stackctl says so instead of failing on the first call it makes.
    stack.node(3).stop();
    eventually(Duration::from_secs(90), "node2 without quorum", || {
        n2.docker(&["node", "ls", "-q"]).is_empty()
    });
    let t = Instant::now();
    let lonely = stack.run(n2, &["ps"]);
    let err = stderr(&lonely);
    assert_eq!(lonely.status.code(), Some(1), "{err}");
    assert!(err.contains("majority") && err.contains(&n2.ip), "{err}");
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    eprintln!("no quorum: refused in {:.1?}: {err}", t.elapsed());
    assert_eq!(
        host_swarm_state(),
        host_state,
        "the host's swarm is not ours"
    );
}
