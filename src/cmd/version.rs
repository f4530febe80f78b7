//! `kubectl azwi version`.

use std::io::Write;

use serde::Serialize;

use crate::{Error, Outcome, cli::OutputFormat, output};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionReport {
    pub version: &'static str,
    pub git_commit: &'static str,
    pub target: &'static str,
}

pub fn report() -> VersionReport {
    VersionReport {
        version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("AZWI_GIT_COMMIT"),
        target: env!("AZWI_TARGET"),
    }
}

pub fn run(format: Option<OutputFormat>, out: &mut dyn Write) -> Result<Outcome, Error> {
    let report = report();
    match format {
        None | Some(OutputFormat::Table | OutputFormat::Wide) => writeln!(
            out,
            "kubectl-azwi v{} (commit {}, {})",
            report.version, report.git_commit, report.target
        )?,
        Some(f) => output::structured(&report, f, out)?,
    }
    Ok(Outcome::Ok)
}
