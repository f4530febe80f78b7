//! `kubectl azwi version`.

use std::io::Write;

use serde::Serialize;

use crate::{Error, Outcome, cli::OutputFormat, output};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionReport {
    pub version: &'static str,
    pub git_commit: &'static str,
    /// The commit's time (RFC 3339, UTC), not the clock's: the same commit builds the same bytes.
    pub build_date: &'static str,
    pub target: &'static str,
}

/// What `kubectl azwi --version` prints after the name; build.rs sets the variables.
pub const LONG: &str = concat!(
    "v",
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AZWI_GIT_COMMIT"),
    ", built ",
    env!("AZWI_BUILD_DATE"),
    ", ",
    env!("AZWI_TARGET"),
    ")"
);

pub fn report() -> VersionReport {
    VersionReport {
        version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("AZWI_GIT_COMMIT"),
        build_date: env!("AZWI_BUILD_DATE"),
        target: env!("AZWI_TARGET"),
    }
}

pub fn run(format: Option<OutputFormat>, out: &mut dyn Write) -> Result<Outcome, Error> {
    let report = report();
    match format {
        None | Some(OutputFormat::Table | OutputFormat::Wide) => {
            writeln!(out, "kubectl-azwi {LONG}")?
        }
        Some(f) => output::structured(&report, f, out)?,
    }
    Ok(Outcome::Ok)
}
