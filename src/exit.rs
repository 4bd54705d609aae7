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

/// Attached `up` ended because a container stopped (`--abort-on-container-exit`, `--exit-code-from`):
/// stackctl exits with that container's code, as compose does. The log view has already said which
/// container stopped and with what code, so there is nothing more to print.
#[derive(Debug)]
pub struct ContainerExitCode(pub i64);

impl fmt::Display for ContainerExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a container exited with code {}", self.0)
    }
}

impl std::error::Error for ContainerExitCode {}

pub fn code_for(err: &anyhow::Error) -> u8 {
    if let Some(ContainerExitCode(code)) = err.downcast_ref() {
        // Codes outside 1–255 (a container the daemon could not report on) still mean failure.
        return u8::try_from(*code).ok().filter(|c| *c != 0).unwrap_or(1);
    }
    for cause in err.chain() {
        if cause.is::<crate::manifest::Diagnostics>() || cause.is::<UsageError>() {
            return 2;
        }
        if cause.is::<Interrupted>() {
            return 130;
        }
    }
    1
}
