//! Shared harness for tests that drive the real binary against the real Docker daemon.
//! Each test project has its own name and is taken down (with its volumes) when dropped, even
//! when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

mod test;
pub use test::{NO_DAEMON, Test};

/// The image every test container runs (made offline by images/offline/seed.sh when needed).
macro_rules! test_image {
    () => {
        "debian:bookworm-slim"
    };
}
pub const IMG: &str = test_image!();

/// The body of a service that idles until stopped (and stops at once: `init` passes the signal on),
/// to follow a `  name:` line in a test's manifest.
pub const SLEEPS: &str = concat!(
    "    image: ",
    test_image!(),
    "\n    command: [sleep, infinity]\n    init: true\n"
);

pub fn stackctl_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stackctl"))
}

/// True when a daemon answers. A missing daemon fails the test — a green run must mean the engine
/// was tested — unless STACKCTL_SKIP_DAEMON_TESTS=1 asks to skip knowingly (never under CI=true).
pub fn daemon_available() -> bool {
    let answers = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let env_is = |k: &str, v: &str| std::env::var(k).is_ok_and(|x| x == v);
    let run = without_daemon(
        answers,
        env_is("CI", "true"),
        env_is("STACKCTL_SKIP_DAEMON_TESTS", "1"),
    );
    if run {
        ensure_test_images();
    }
    run
}

/// The image the tests run, on a machine that may reach no registry: when this daemon lacks
/// `debian:bookworm-slim` and cannot pull it, or the local registry that an earlier seeding
/// pointed the stack at is down, `images/offline/seed.sh` is run once (serialised between test
/// processes by flock), so that `cargo test` alone is enough on a fresh machine.
fn ensure_test_images() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let remote =
            std::env::var("DOCKER_HOST").is_ok_and(|h| !h.is_empty() && !h.starts_with("unix://"));
        if remote {
            return; // A test node is given its images by whoever started it.
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let seeded = std::fs::read_to_string(root.join("stack/.env"))
            .is_ok_and(|t| t.contains("127.0.0.1:5000"));
        let registry_down = seeded && http_get(5000, "/v2/").is_err();
        let have = docker_ok(&["image", "inspect", "debian:bookworm-slim"]);
        if have && !registry_down {
            return;
        }
        if !have && !seeded && docker_ok(&["pull", "-q", "debian:bookworm-slim"]) {
            return;
        }
        eprintln!("seeding the test images (no registry answers): images/offline/seed.sh");
        let lock = root.join("target/seed.lock");
        // -o: the lock is flock's own, not inherited by the registry the script leaves running.
        let status = Command::new("flock")
            .arg("-o")
            .arg(&lock)
            .args(["bash", "images/offline/seed.sh"])
            .current_dir(root)
            .status()
            .expect("flock and bash");
        assert!(
            status.success(),
            "images/offline/seed.sh failed; see its output above"
        );
    });
}

/// True when a daemon answers and runs on this machine, so that it can reach this machine's files
/// and its registry on 127.0.0.1:5000. Against a remote daemon (DOCKER_HOST=tcp://…, as the
/// current-Engine pass of scripts/current-engine-tests.sh runs) such a test says so and skips.
pub fn local_daemon_available(what: &str) -> bool {
    if !daemon_available() {
        return false;
    }
    let local =
        std::env::var("DOCKER_HOST").map_or(true, |h| h.is_empty() || h.starts_with("unix://"));
    if !local {
        eprintln!("skipped against a remote daemon: {what}");
    }
    local
}

/// What a test does about the daemon: run (true), skip saying so (false), or fail.
pub fn without_daemon(answers: bool, ci: bool, skip_asked: bool) -> bool {
    if answers {
        return true;
    }
    if ci {
        panic!("CI=true but no Docker daemon answers: engine tests must not be skipped");
    }
    if !skip_asked {
        panic!(
            "no Docker daemon answers: this test needs one (start dockerd), or set STACKCTL_SKIP_DAEMON_TESTS=1 to skip the engine tests knowingly"
        );
    }
    eprintln!("SKIPPED: no Docker daemon (STACKCTL_SKIP_DAEMON_TESTS=1)");
    false
}

/// Runs the docker CLI (tests inspect with it; the product never does) and returns trimmed stdout.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn docker_ok(args: &[&str]) -> bool {
    Command::new("docker")
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

pub fn inspect(object: &str, format: &str) -> String {
    docker(&["inspect", "-f", format, object])
}

pub struct TestProject {
    pub name: String,
    pub dir: tempfile::TempDir,
    pub file: PathBuf,
    /// Take the project down on the host daemon when dropped (not for a project no daemon saw).
    pub cleanup: bool,
}

impl TestProject {
    pub fn new(prefix: &str, manifest: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("sct-{prefix}-{}-{n}", std::process::id());
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("compose.yaml");
        std::fs::write(&file, manifest).expect("write manifest");
        TestProject {
            name,
            dir,
            file,
            cleanup: true,
        }
    }

    pub fn write(&self, manifest: &str) {
        std::fs::write(&self.file, manifest).expect("write manifest");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `stackctl -f FILE -p NAME ARGS...` with plain progress.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(stackctl_path());
        c.arg("-f")
            .arg(&self.file)
            .args(["-p", &self.name, "--progress", "plain"])
            .args(args);
        c.current_dir(self.path());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run stackctl")
    }

    /// Runs and insists on success, showing stderr otherwise.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "stackctl {args:?} failed ({:?}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Names of this project's containers (all states), sorted.
    pub fn containers(&self) -> Vec<String> {
        let label = format!("label=com.docker.compose.project={}", self.name);
        let mut v: Vec<String> =
            docker(&["ps", "-a", "--filter", &label, "--format", "{{.Names}}"])
                .lines()
                .map(str::to_owned)
                .filter(|s| !s.is_empty())
                .collect();
        v.sort();
        v
    }

    pub fn id(&self, container: &str) -> String {
        inspect(container, "{{.Id}}")
    }
}

impl Drop for TestProject {
    fn drop(&mut self) {
        if !self.cleanup {
            return;
        }
        let _ = self
            .cmd(&["down", "-v", "--remove-orphans", "-t", "1"])
            .output();
        // Belt and braces: whatever carries the label goes, whatever state stackctl left.
        let label = format!("label=com.docker.compose.project={}", self.name);
        for id in docker(&["ps", "-aq", "--filter", &label]).lines() {
            docker(&["rm", "-f", id]);
        }
        for n in docker(&["network", "ls", "-q", "--filter", &label]).lines() {
            docker(&["network", "rm", n]);
        }
        for v in docker(&["volume", "ls", "-q", "--filter", &label]).lines() {
            docker(&["volume", "rm", "-f", v]);
        }
    }
}

/// Removes the images a test built when it ends, however it ends.
pub struct Images(pub Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for i in &self.0 {
            let _ = docker_ok(&["rmi", "-f", i]);
        }
    }
}

/// The visitor count in the shipped stack's Postgres container.
pub fn postgres_count(container: &str) -> u64 {
    docker(&[
        "exec",
        container,
        "psql",
        "-U",
        "postgres",
        "-d",
        "linode",
        "-tAc",
        "SELECT visitor_count FROM visitors WHERE site_id = 1",
    ])
    .parse()
    .expect("postgres count")
}

/// Copies a folder and everything in it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub struct HttpResponse {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.0 GET against 127.0.0.1.
pub fn http_get(port: u16, path: &str) -> std::io::Result<HttpResponse> {
    http_get_at("127.0.0.1", port, path)
}

/// A minimal HTTP/1.0 GET against `ip` (127.0.0.1 or a test node this machine started).
pub fn http_get_at(ip: &str, port: u16, path: &str) -> std::io::Result<HttpResponse> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect((ip, port))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// Output printed one JSON object a line (`ps --format json`, as compose prints it), as an array.
pub fn json_lines(text: &str) -> serde_json::Value {
    serde_json::Value::Array(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
            .collect(),
    )
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Polls `check` every 200 ms until it holds; fails the test, saying `what`, once `limit` passes.
pub fn eventually(limit: std::time::Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
pub mod dind;
pub mod load;

/// A running command whose stdout is collected as it comes, so a test can wait for what it expects
/// (with a generous bound) instead of sleeping a fixed time.
pub struct Follower {
    child: std::process::Child,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Follower {
    pub fn start(cmd: Command) -> Self {
        Self::start_with(cmd, false)
    }

    /// Like `start`, with stderr's lines collected too (a container's stderr is written there).
    pub fn start_both(cmd: Command) -> Self {
        Self::start_with(cmd, true)
    }

    fn start_with(mut cmd: Command, stderr_too: bool) -> Self {
        use std::io::Read;
        use std::process::Stdio;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(if stderr_too {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("spawn");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let copy = |mut from: Box<dyn Read + Send>| {
            let sink = seen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = from.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    // Whole reads: a line written at once stays whole.
                    sink.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            })
        };
        let reader = copy(Box::new(child.stdout.take().expect("stdout")));
        if let Some(err) = child.stderr.take() {
            copy(Box::new(err));
        }
        Follower {
            child,
            seen,
            reader: Some(reader),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits until `pred` holds for the output so far, or `limit` passes; returns the output
    /// (which the caller must judge: `wait_for` fails the test itself).
    #[must_use]
    pub fn until(&self, pred: impl Fn(&str) -> bool, limit: std::time::Duration) -> String {
        let t = std::time::Instant::now();
        loop {
            let text = self.text();
            if pred(&text) || t.elapsed() > limit {
                return text;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Waits until `pred` holds for the output so far; fails the test, saying `what` was awaited
    /// and what came, when `limit` passes first.
    pub fn wait_for(
        &self,
        pred: impl Fn(&str) -> bool,
        limit: std::time::Duration,
        what: &str,
    ) -> String {
        let text = self.until(&pred, limit);
        assert!(
            pred(&text),
            "waited {limit:?} for {what}; the output was:\n{text}"
        );
        text
    }

    /// Ctrl-C, then everything it wrote.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.text()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
