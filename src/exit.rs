//! Errors that decide the exit code: 2 for usage and manifest problems, 130 after Ctrl-C, 1 otherwise.

use std::fmt;

/// A request that cannot be right whatever the daemon says (`scale web=abc`, an unknown service).
#[derive(Debug)]
pub struct UsageError {
    pub message: String,
    pub hint: Option<String>,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for UsageError {}

/// The user pressed Ctrl-C; what was in flight has been finished or rolled back.
#[derive(Debug)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// Something the chosen target (one engine, a swarm) cannot do: exit 2, as a usage error.
#[derive(Debug)]
pub struct NotOnTarget {
    pub message: String,
    pub hint: String,
}

impl fmt::Display for NotOnTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n  = help: {}", self.message, self.hint)
    }
}

impl std::error::Error for NotOnTarget {}

/// A failure whose exit code is a container's own (a one-shot that failed `up --wait`).
#[derive(Debug)]
pub struct ExitWith {
    pub code: i64,
    pub message: String,
}

impl fmt::Display for ExitWith {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ExitWith {}

pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<ExitWith>() {
            return u8::try_from(e.code).ok().filter(|c| *c != 0).unwrap_or(1);
        }
        if cause.is::<crate::manifest::Diagnostics>()
            || cause.is::<UsageError>()
            || cause.is::<NotOnTarget>()
        {
            return 2;
        }
        if cause.is::<Interrupted>() {
            return 130;
        }
    }
    1
}

/// True when the error comes from writing to a pipe whose reader has gone.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
