//! Docker-in-Docker nodes: daemons the tests start, use and remove, so that a swarm (or a fault)
//! never touches the host daemon's state. Each node is a container of the host daemon running its
//! own dockerd, reachable from the host at tcp://NODE_IP:2375; the nodes of one cluster share a
//! user-defined network, on which they can form a swarm.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::docker;

/// The node images, built once from tests/dind/Dockerfile (Engine 20.10) and
/// tests/dind/sid/Dockerfile (a current Engine); tagged here, owned by the tests.
pub const NODE_IMAGE: &str = "stackctl-test-node:bookworm";
pub const CURRENT_NODE_IMAGE: &str = "stackctl-test-node:sid";
/// The bookworm node with an ssh server (tests/dind/ssh/Dockerfile).
pub const SSH_NODE_IMAGE: &str = "stackctl-test-node-ssh:bookworm";
/// A registry the nodes of a cluster reach (tests/dind/registry/Dockerfile).
pub const REGISTRY_IMAGE: &str = "stackctl-test-registry:bookworm";
/// Every node and network carries this label, so a failed run's leftovers can be found.
pub const LABEL: &str = "io.stackctl.test-node";

static BUILD: Mutex<()> = Mutex::new(());

fn ensure_node_image(image: &str) {
    if image == SSH_NODE_IMAGE {
        ensure_node_image(NODE_IMAGE);
    }
    let _one_at_a_time = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if super::docker_ok(&["image", "inspect", image]) {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(match image {
        NODE_IMAGE => "tests/dind",
        REGISTRY_IMAGE => "tests/dind/registry",
        SSH_NODE_IMAGE => "tests/dind/ssh",
        _ => "tests/dind/sid",
    });
    let out = Command::new("docker")
        .args(["build", "-q", "-t", image])
        .arg(&dir)
        .output()
        .expect("docker build");
    assert!(
        out.status.success(),
        "building the test node image failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub struct Node {
    pub name: String,
    pub ip: String,
}

impl Node {
    /// `tcp://IP:2375`, for DOCKER_HOST.
    pub fn host(&self) -> String {
        format!("tcp://{}:2375", self.ip)
    }

    /// Copies images of the host daemon into this node.
    pub fn load(&self, images: &[&str]) {
        let mut save = Command::new("docker")
            .arg("save")
            .args(images)
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker save");
        let status = Command::new("docker")
            .args(["-H", &self.host(), "load", "-q"])
            .stdin(save.stdout.take().expect("save's stdout"))
            .stdout(Stdio::null())
            .status()
            .expect("docker load");
        assert!(
            save.wait().expect("docker save").success(),
            "save {images:?}"
        );
        assert!(status.success(), "loading {images:?} into {}", self.name);
    }

    fn wait_for_daemon(&self) {
        let t = Instant::now();
        while self
            .docker(&["info", "--format", "{{.ServerVersion}}"])
            .is_empty()
        {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "the daemon of {} did not answer within 60 s",
                self.name
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Starts the node's daemon (a node of `Cluster::start_restartable`) and waits until it answers.
    pub fn start_daemon(&self) {
        let host = "unix:///var/run/docker.sock";
        assert!(
            super::docker_ok(&[
                "-H",
                host,
                "exec",
                "-d",
                &self.name,
                "dockerd",
                "--host=unix:///var/run/docker.sock",
                "--host=tcp://0.0.0.0:2375",
                "--tls=false",
            ]),
            "starting the daemon of {}",
            self.name
        );
        self.wait_for_daemon();
    }

    /// Kills the node's daemon at once (SIGKILL), as a crash would.
    pub fn kill_daemon(&self) {
        assert!(
            super::docker_ok(&[
                "-H",
                "unix:///var/run/docker.sock",
                "exec",
                &self.name,
                "sh",
                "-c",
                "kill -9 $(cat /var/run/docker.pid)",
            ]),
            "killing the daemon of {}",
            self.name
        );
    }

    /// Cuts the node off from `others` (its packets to and from them dropped), leaving it running
    /// and reachable from the host: a partition, not a stop.
    pub fn cut_off(&self, others: &[&Node]) {
        self.firewall("-I", others);
    }

    /// Ends `cut_off`.
    pub fn reconnect(&self, others: &[&Node]) {
        self.firewall("-D", others);
    }

    fn firewall(&self, op: &str, others: &[&Node]) {
        let rules: Vec<String> = others
            .iter()
            .flat_map(|o| {
                [
                    format!("iptables {op} INPUT -s {} -j DROP", o.ip),
                    format!("iptables {op} OUTPUT -d {} -j DROP", o.ip),
                ]
            })
            .collect();
        assert!(
            super::docker_ok(&["exec", &self.name, "sh", "-c", &rules.join(" && ")]),
            "iptables {op} on {}",
            self.name
        );
    }

    /// Stops the node's container: the machine is gone (its daemon's state with it).
    pub fn stop(&self) {
        assert!(
            super::docker_ok(&["stop", "-t", "1", &self.name]),
            "stopping {}",
            self.name
        );
    }

    /// The docker CLI against this node; trimmed stdout.
    pub fn docker(&self, args: &[&str]) -> String {
        let host = self.host();
        let mut all = vec!["-H", host.as_str()];
        all.extend_from_slice(args);
        docker(&all)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Extra {
    None,
    Registry,
    RestartableDaemon,
}

/// Nodes on one network, removed (with everything inside them) when dropped.
pub struct Cluster {
    pub network: String,
    pub nodes: Vec<Node>,
    /// `IP:5000` of the cluster's own registry, when it has one.
    pub registry: Option<String>,
}

impl Cluster {
    /// Starts `n` nodes and waits until each daemon answers.
    pub fn start(prefix: &str, n: usize) -> Cluster {
        Self::start_sharing(prefix, n, &[])
    }

    /// Like `start`, with host folders mounted read-only at the same path in every node, as if the
    /// nodes were this machine (bind mounts of the project's files then resolve there too).
    pub fn start_sharing(prefix: &str, n: usize, shared: &[&std::path::Path]) -> Cluster {
        Self::start_with(NODE_IMAGE, prefix, n, shared, Extra::None)
    }

    /// One node running a current Engine (28.x) instead of 20.10.
    pub fn start_current(prefix: &str) -> Cluster {
        Self::start_with(CURRENT_NODE_IMAGE, prefix, 1, &[], Extra::None)
    }

    /// `n` nodes and a registry on their network that every node trusts (plain HTTP).
    pub fn start_with_registry(prefix: &str, n: usize) -> Cluster {
        Self::start_with(NODE_IMAGE, prefix, n, &[], Extra::Registry)
    }

    /// One node whose daemon can be killed and started again (`Node::kill_daemon`,
    /// `Node::start_daemon`): dockerd is not the node's first process, so the node outlives it.
    /// One node whose daemon is also reachable over ssh (as root, with a key the test installs).
    pub fn start_ssh(prefix: &str) -> Cluster {
        Self::start_with(SSH_NODE_IMAGE, prefix, 1, &[], Extra::None)
    }

    pub fn start_restartable(prefix: &str) -> Cluster {
        let cluster = Self::start_with(NODE_IMAGE, prefix, 1, &[], Extra::RestartableDaemon);
        cluster.nodes[0].start_daemon();
        cluster
    }

    fn start_with(
        image: &str,
        prefix: &str,
        n: usize,
        shared: &[&std::path::Path],
        extra: Extra,
    ) -> Cluster {
        let with_registry = extra == Extra::Registry;
        ensure_node_image(image);
        let network = format!("sct-dind-{prefix}-{}", std::process::id());
        let label = format!("{LABEL}={network}");
        assert!(
            super::docker_ok(&["network", "create", "--label", &label, &network]),
            "creating network {network}"
        );
        let mut cluster = Cluster {
            network: network.clone(),
            nodes: Vec::new(),
            registry: None,
        };
        let mut daemon_args: Vec<String> = Vec::new();
        if with_registry {
            ensure_node_image(REGISTRY_IMAGE);
            let name = format!("{network}-registry");
            assert!(
                super::docker_ok(&[
                    "run",
                    "-d",
                    "--name",
                    &name,
                    "--label",
                    &label,
                    "--network",
                    &network,
                    REGISTRY_IMAGE,
                ]),
                "starting registry {name}"
            );
            let ip = docker(&[
                "inspect",
                "-f",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                &name,
            ]);
            let address = format!("{ip}:5000");
            daemon_args = [
                "dockerd",
                "--host=unix:///var/run/docker.sock",
                "--host=tcp://0.0.0.0:2375",
                "--tls=false",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([format!("--insecure-registry={address}")])
            .collect();
            cluster.registry = Some(address);
        }
        if extra == Extra::RestartableDaemon {
            daemon_args = ["--init", image, "sleep", "infinity"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
        }
        for i in 1..=n {
            let name = format!("{network}-node{i}");
            let mounts: Vec<String> = shared
                .iter()
                .flat_map(|p| ["-v".to_owned(), format!("{0}:{0}:ro", p.display())])
                .collect();
            let mounts: Vec<&str> = mounts.iter().map(String::as_str).collect();
            // A restartable node names its image among its own arguments, after --init.
            let image_arg: &[&str] = if extra == Extra::RestartableDaemon {
                &[]
            } else {
                std::slice::from_ref(&image)
            };
            let ok = super::docker_ok(
                &[
                    &["run", "-d"][..],
                    &mounts,
                    &[
                        "--name",
                        &name,
                        "--hostname",
                        &format!("node{i}"),
                        "--label",
                        &label,
                        "--network",
                        &network,
                        // --privileged fails here (CAP_SYS_RESOURCE is outside the bounding set): all else.
                        "--cap-add",
                        "ALL",
                        "--cap-drop",
                        "SYS_RESOURCE",
                        "--security-opt",
                        "seccomp=unconfined",
                        "--security-opt",
                        "apparmor=unconfined",
                        "--security-opt",
                        "systempaths=unconfined",
                        "--cgroupns",
                        "host",
                        "-v",
                        "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                        "--device",
                        "/dev/fuse",
                        "--tmpfs",
                        "/var/lib/docker:exec,size=4g",
                    ],
                    image_arg,
                    &daemon_args.iter().map(String::as_str).collect::<Vec<_>>(),
                ]
                .concat(),
            );
            assert!(ok, "starting node {name}");
            let ip = docker(&[
                "inspect",
                "-f",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                &name,
            ]);
            cluster.nodes.push(Node { name, ip });
        }
        if extra != Extra::RestartableDaemon {
            for node in &cluster.nodes {
                node.wait_for_daemon();
            }
        }
        cluster
    }

    /// Copies images of the host daemon into every node (no registry needed).
    pub fn load(&self, images: &[&str]) {
        for node in &self.nodes {
            node.load(images);
        }
    }

    /// Makes the first node a swarm manager and the others workers.
    pub fn swarm(&self) -> &Self {
        self.swarm_with_managers(1)
    }

    /// Makes the first `managers` nodes the swarm's managers (the first one its leader) and the
    /// others workers.
    pub fn swarm_with_managers(&self, managers: usize) -> &Self {
        let manager = &self.nodes[0];
        manager.docker(&["swarm", "init", "--advertise-addr", &manager.ip]);
        let token = |role| manager.docker(&["swarm", "join-token", "-q", role]);
        let (as_manager, as_worker) = (token("manager"), token("worker"));
        assert!(
            !as_worker.is_empty(),
            "swarm init on {} failed",
            manager.name
        );
        for (i, node) in self.nodes.iter().enumerate().skip(1) {
            node.docker(&[
                "swarm",
                "join",
                "--advertise-addr",
                &node.ip,
                "--token",
                if i < managers {
                    &as_manager
                } else {
                    &as_worker
                },
                &format!("{}:2377", manager.ip),
            ]);
        }
        let t = Instant::now();
        loop {
            let ready = manager.docker(&["node", "ls", "--format", "{{.Status}}"]);
            if ready.lines().filter(|s| *s == "Ready").count() == self.nodes.len() {
                return self;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "nodes not ready: {ready}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    pub fn manager(&self) -> &Node {
        &self.nodes[0]
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            docker(&["rm", "-f", "-v", &node.name]);
        }
        if self.registry.is_some() {
            docker(&["rm", "-f", "-v", &format!("{}-registry", self.network)]);
        }
        docker(&["network", "rm", &self.network]);
    }
}
