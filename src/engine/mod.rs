//! The engine: the only module that speaks to the Docker daemon (through bollard). It applies a Plan,
//! reports typed progress events, and never prints.

pub mod api_socket;
pub mod archive;
mod auth;
pub mod backend;
pub mod bridge;
pub(crate) mod build;
pub mod containers;
pub mod converge;
mod create_body;
pub mod decide;
mod dockerignore;
pub mod down;
pub mod endpoint;
pub mod facts;
pub mod generate;
mod health;
pub mod hooks;
pub mod images;
pub mod lifecycle;
pub mod live;
pub mod logs;
mod mounts;
pub mod observe;
pub mod ops;
mod preflight;
pub mod preview;
pub mod registry;
mod resources;
pub mod rolling;
pub mod stats;
pub mod swarm;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use bollard::Docker;

pub use dockerignore::DockerIgnore;

/// What the engine tells the user interface: one object (a container, an image, a network) moves on.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// `object` (e.g. "Container web-1") reached `status`; `done` marks a final state.
    Step {
        object: String,
        status: String,
        done: bool,
    },
    /// A line of detail for an object in progress: build output, or (transient) pull progress that
    /// the next detail replaces.
    Detail {
        object: String,
        text: String,
        transient: bool,
    },
    /// A step of a BuildKit build changed state; times are the daemon's, in seconds since the epoch.
    BuildStep {
        object: String,
        step: String,
        state: StepState,
        started: Option<f64>,
        completed: Option<f64>,
        error: Option<String>,
    },
    Warning(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    Running,
    Done,
    Cached,
    Failed,
}

/// Callback through which the engine reports progress.
pub type Reporter = Arc<dyn Fn(Event) + Send + Sync>;

pub fn step(r: &Reporter, object: impl Into<String>, status: impl Into<String>, done: bool) {
    r(Event::Step {
        object: object.into(),
        status: status.into(),
        done,
    });
}

/// A connected daemon.
#[derive(Clone)]
pub struct Engine {
    /// For calls the daemon answers at once (inspect, list, create, start): bounded by
    /// `request_bound`, so a daemon that stalls is reported instead of waited on.
    pub(in crate::engine) docker: Docker,
    /// For calls that take as long as their work (stop with its grace period, wait, build, pull,
    /// push, uploads, image and volume removal): bounded only by `PATIENT_BOUND`. Streams (logs,
    /// events, attach) use either: the bound covers only the wait for the answer's headers.
    pub(in crate::engine) patient: Docker,
    /// Set by the first Ctrl-C: no new step starts, the steps in flight finish.
    pub(in crate::engine) cancel: tokio_util::sync::CancellationToken,
    pub api_version: String,
    pub server_version: String,
    /// The daemon's address (`unix://…`, `tcp://…`, `ssh://…`).
    pub address: String,
    /// The docker context it came from, `default` when none.
    pub context: String,
    /// The API version was pinned by DOCKER_API_VERSION (`api_version` is that one).
    pub api_pinned: bool,
}

/// The bound on a call that should be answered at once: `STACKCTL_API_TIMEOUT` seconds, 60 by default
/// (a loaded daemon can take seconds to create or start a container; a minute means it is stuck).
pub fn request_bound() -> Duration {
    let secs = std::env::var("STACKCTL_API_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// Whether the daemon answers a ping within 2 seconds (it counts as gone otherwise).
pub async fn answers(engine: &Engine) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(2), engine.docker.ping()).await,
        Ok(Ok(_))
    )
}

/// Returns once the daemon answers again, asking every half second.
pub async fn until_answering(engine: &Engine) {
    while !answers(engine).await {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The bound on a call whose answer waits for its work to finish.
const PATIENT_BOUND: Duration = Duration::from_secs(3600);

/// The daemon this run talks to, for errors that reach `api_error` without it.
static DAEMON: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Connects to the daemon `ep` names and checks that it answers (within 2 seconds; 10 over ssh,
/// whose first connection logs in).
///
/// bollard 0.21.1 sends requests without the `/v1.xx` prefix (bollard #736), so the daemon answers in
/// its own newest API version. We keep that unless `DOCKER_API_VERSION` pins one: every daemon from
/// Engine 20.10 (API 1.41) to 29 speaks a superset of what we send, and the models we read tolerate
/// missing newer fields. The version in use is shown with `-v` and by `version`.
pub async fn connect(ep: &endpoint::Endpoint) -> Result<Engine> {
    let addr = &ep.host;
    let hint = if ep.context == "default" {
        "is dockerd running? Start it (`sudo systemctl start docker`, or `sudo dockerd &`) or point DOCKER_HOST (or --context) at a running daemon".to_owned()
    } else {
        format!(
            "is the daemon of context `{}` running? `docker context inspect {}` shows its endpoint",
            ep.context, ep.context
        )
    };
    let version = bollard::API_DEFAULT_VERSION;
    let ssh = addr.starts_with("ssh://");
    let docker = match &ep.tls {
        Some(tls) if addr.starts_with("tcp://") || addr.starts_with("https://") => {
            Docker::connect_with_ssl(addr, &tls.key, &tls.cert, &tls.ca, 120, version)
        }
        _ if ssh => Docker::connect_with_ssh(addr, 120, version, None),
        _ => Docker::connect_with_host(addr),
    }
    .map_err(|e| anyhow!("cannot connect to the Docker daemon at {addr}: {e}\n  = help: {hint}"))?;
    // bollard 0.21 names no version in its paths (the daemon then answers in its newest); a pinned
    // version goes in front of each path, as the docker CLI writes it.
    let docker = match ep.api_version {
        Some((major, minor)) => docker.with_request_modifier(move |mut req| {
            let uri = req.uri().clone();
            let mut parts = uri.into_parts();
            if let Some(pq) = &parts.path_and_query
                && let Ok(prefixed) = format!("/v{major}.{minor}{}", pq.as_str()).parse()
            {
                parts.path_and_query = Some(prefixed);
            }
            if let Ok(uri) = http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
            req
        }),
        None => docker,
    };
    let patient = docker.clone().with_timeout(PATIENT_BOUND);
    let docker = docker.with_timeout(request_bound());
    let _ = DAEMON.set(addr.clone());
    let wait = Duration::from_secs(if ssh { 10 } else { 2 });
    let answer = tokio::time::timeout(wait, docker.version())
        .await
        .map_err(|_| {
            anyhow!(
                "the Docker daemon at {addr} did not answer within {} s\n  = help: {hint}",
                wait.as_secs()
            )
        })?
        .map_err(|e| {
            // With a pinned version, the daemon's only 400 to `/version` is refusing that version.
            let refused_version = matches!(
                e,
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 400,
                    ..
                }
            );
            let hint = match ep.api_version {
                Some((major, minor)) if refused_version => format!(
                    "DOCKER_API_VERSION={major}.{minor} asks for an API version this daemon does not speak; unset it, or choose one the daemon names"
                ),
                _ => hint.clone(),
            };
            anyhow!("cannot reach the Docker daemon at {addr}: {e}\n  = help: {hint}")
        })?;
    Ok(Engine {
        docker,
        patient,
        cancel: tokio_util::sync::CancellationToken::new(),
        api_version: match ep.api_version {
            Some((major, minor)) => format!("{major}.{minor}"),
            None => answer.api_version.unwrap_or_else(|| "?".into()),
        },
        api_pinned: ep.api_version.is_some(),
        server_version: answer.version.unwrap_or_else(|| "?".into()),
        address: addr.clone(),
        context: ep.context.clone(),
    })
}

/// What a command's project lock and its Ctrl-C need of the daemon it works on, whatever the target:
/// which daemon it is, and the switch that stops new steps.
pub trait Daemon {
    /// The daemon's address (`unix://…`, `tcp://…`, `ssh://…`).
    fn address(&self) -> &str;
    /// Cancelled by the first Ctrl-C: no new step starts, the steps in flight finish.
    fn cancel(&self) -> &tokio_util::sync::CancellationToken;
}

impl Daemon for Engine {
    fn address(&self) -> &str {
        &self.address
    }
    fn cancel(&self) -> &tokio_util::sync::CancellationToken {
        &self.cancel
    }
}

impl Engine {
    /// Fails with `Interrupted` once Ctrl-C was pressed; called before each step that changes something.
    pub fn check_cancelled(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(crate::exit::Interrupted.into())
        } else {
            Ok(())
        }
    }
}

/// Runs every step to its end and then reports: the results in order, or the first failure (one
/// that is not an interruption, when there is one). Unlike `try_join_all`, a failure does not drop
/// the steps still in flight: their requests would be cut off while the daemon goes on with them,
/// and the next run would find a container stopping under it.
pub async fn settle_all<T>(
    steps: impl IntoIterator<Item = impl std::future::Future<Output = Result<T>>>,
) -> Result<Vec<T>> {
    let results = futures::future::join_all(steps).await;
    let mut done = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(v) => done.push(v),
            Err(e) => failures.push(e),
        }
    }
    match first_failure(failures) {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

/// The failure to report of several: the first that is not an interruption, when there is one
/// (a Ctrl-C stops the other steps too, and is not their cause).
pub(crate) fn first_failure(failures: Vec<anyhow::Error>) -> Option<anyhow::Error> {
    let interrupted = |e: &anyhow::Error| e.is::<crate::exit::Interrupted>();
    let at = failures.iter().position(|e| !interrupted(e)).unwrap_or(0);
    failures.into_iter().nth(at)
}

/// Whether the daemon's API `version` ("1.41") is older than `(major, minor)`: what an engine
/// cannot do is refused before anything is created.
pub fn api_below(version: &str, (major, minor): (u32, u32)) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    have < (major, minor)
}

/// True for a 404 from the daemon.
pub fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

pub fn is_conflict(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            ..
        }
    )
}

/// A daemon error with the daemon's own message first.
pub fn api_error(e: bollard::errors::Error) -> anyhow::Error {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => {
            anyhow!("the daemon refused ({status_code}): {message}")
        }
        bollard::errors::Error::RequestTimeoutError => anyhow!(
            "the Docker daemon at {} did not answer within {} s; it is overloaded or stuck\n  = help: check it with `docker info`; STACKCTL_API_TIMEOUT=SECONDS allows longer",
            DAEMON.get().map_or("?", String::as_str),
            request_bound().as_secs()
        ),
        e @ (bollard::errors::Error::HyperLegacyError { .. }
        | bollard::errors::Error::HyperResponseError { .. }
        | bollard::errors::Error::IOError { .. }) => {
            // The innermost cause says what happened (`Connection reset by peer`); the wrappers
            // name client internals.
            let mut cause: &dyn std::error::Error = &e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            anyhow!(
                "lost the connection to the Docker daemon at {}: {cause}\n  = help: is it still running? `docker info` tells",
                DAEMON.get().map_or("?", String::as_str)
            )
        }
        other => anyhow!(other),
    }
}

pub trait ApiContext<T> {
    fn api(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> ApiContext<T> for std::result::Result<T, bollard::errors::Error> {
    fn api(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(api_error).with_context(what)
    }
}
