//! One error type per boundary; the top `Error` gives `main` the exit code and the hint.
//!
//! A message says what failed on what; the cause lives only in `source()`, the fix only in
//! `hint()`, so `report` never prints the same text twice.

use std::{error::Error as StdError, io::Write, process::ExitCode};

/// Bad input: caught before any I/O, exit 2 like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("invalid {what} '{value}': expected {expected}")]
pub struct InputError {
    pub what: &'static str,
    pub value: String,
    pub expected: String,
    pub hint: Option<String>,
}

impl InputError {
    pub fn new(what: &'static str, value: &str, expected: impl Into<String>) -> Self {
        InputError {
            what,
            value: value.to_string(),
            expected: expected.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A question the cluster and Azure could not answer as asked, and what would let them.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct Unanswered {
    pub what: String,
    pub hint: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Kube(#[from] crate::k8s::KubeError),
    #[error(transparent)]
    Azure(#[from] crate::azure::AzureError),
    #[error(transparent)]
    Unanswered(#[from] Unanswered),
    #[error("writing output")]
    Io(#[from] std::io::Error),
    #[error("starting the async runtime")]
    Runtime(#[source] std::io::Error),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Input(_) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Input(e) => e.hint.clone(),
            Error::Kube(e) => e.hint(),
            Error::Azure(e) => e.hint(),
            Error::Unanswered(e) => Some(e.hint.clone()),
            Error::Io(_) | Error::Runtime(_) => None,
        }
    }
}

/// Prints `error:`, each `caused by:` and the `hint:`, the way `main` shows any failure.
pub fn report(err: &Error, out: &mut dyn Write) {
    let _ = writeln!(out, "error: {err}");
    // `transparent` variants already forward `source()` to the inner error's cause.
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = writeln!(out, "  caused by: {cause}");
        source = cause.source();
    }
    if let Some(hint) = err.hint() {
        let _ = writeln!(out, "  hint: {hint}");
    }
}
