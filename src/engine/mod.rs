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
pub mod facts;
mod health;
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
}

/// The daemon address we will try, for error messages.
pub fn daemon_address() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// Connects and checks that the daemon answers within 2 seconds.
///
/// bollard 0.21.1 sends requests without the `/v1.xx` prefix (bollard #736), so the daemon answers in
/// its own newest API version. We keep that: every daemon from Engine 20.10 (API 1.41) to 29 speaks a
/// superset of what we send, and the models we read tolerate missing newer fields. Pinning a version
/// would need a patched bollard; the version the daemon reports is shown with `-v`.
pub async fn connect() -> Result<Engine> {
    let addr = daemon_address();
    let hint = "is dockerd running? Start it (`sudo systemctl start docker`, or `sudo dockerd &`) or point DOCKER_HOST at a running daemon";
    let docker = Docker::connect_with_defaults()
        .map_err(|e| {
            anyhow!("cannot connect to the Docker daemon at {addr}: {e}\n  = help: {hint}")
        })?
        .with_timeout(Duration::from_secs(900));
    let version = tokio::time::timeout(Duration::from_secs(2), docker.version())
        .await
        .map_err(|_| {
            anyhow!("the Docker daemon at {addr} did not answer within 2 s\n  = help: {hint}")
        })?
        .map_err(|e| anyhow!("cannot reach the Docker daemon at {addr}: {e}\n  = help: {hint}"))?;
    Ok(Engine {
        docker,
        cancel: tokio_util::sync::CancellationToken::new(),
        api_version: version.api_version.unwrap_or_else(|| "?".into()),
        server_version: version.version.unwrap_or_else(|| "?".into()),
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
