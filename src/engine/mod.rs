//! The engine: the only module that speaks to the Docker daemon (through bollard). It applies a Plan,
//! reports typed progress events, and never prints.

pub mod archive;
mod auth;
pub mod backend;
mod build;
pub mod containers;
pub mod converge;
mod dockerignore;
pub mod down;
pub mod endpoint;
pub mod facts;
mod health;
pub mod hooks;
pub mod images;
pub mod logs;
pub mod observe;
pub mod ops;
mod resources;
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
    pub docker: Docker,
    /// Set by the first Ctrl-C: no new step starts, the steps in flight finish.
    pub cancel: tokio_util::sync::CancellationToken,
    pub api_version: String,
    pub server_version: String,
    /// The daemon's address (`unix://…`, `tcp://…`, `ssh://…`).
    pub address: String,
    /// The docker context it came from, `default` when none.
    pub context: String,
}

/// Connects to the daemon `ep` names and checks that it answers (within 2 seconds; 10 over ssh,
/// whose first connection logs in).
///
/// bollard 0.21.1 sends requests without the `/v1.xx` prefix (bollard #736), so the daemon answers in
/// its own newest API version. We keep that: every daemon from Engine 20.10 (API 1.41) to 29 speaks a
/// superset of what we send, and the models we read tolerate missing newer fields. Pinning a version
/// (`DOCKER_API_VERSION`) would need a patched bollard; the version the daemon reports is shown with
/// `-v` and by `version`.
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
    .map_err(|e| anyhow!("cannot connect to the Docker daemon at {addr}: {e}\n  = help: {hint}"))?
    .with_timeout(Duration::from_secs(900));
    let wait = Duration::from_secs(if ssh { 10 } else { 2 });
    let answer = tokio::time::timeout(wait, docker.version())
        .await
        .map_err(|_| {
            anyhow!(
                "the Docker daemon at {addr} did not answer within {} s\n  = help: {hint}",
                wait.as_secs()
            )
        })?
        .map_err(|e| anyhow!("cannot reach the Docker daemon at {addr}: {e}\n  = help: {hint}"))?;
    Ok(Engine {
        docker,
        cancel: tokio_util::sync::CancellationToken::new(),
        api_version: answer.api_version.unwrap_or_else(|| "?".into()),
        server_version: answer.version.unwrap_or_else(|| "?".into()),
        address: addr.clone(),
        context: ep.context.clone(),
    })
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
