//! Rendering. Commands return data; only this module writes it.

use std::io::Write;

use serde::Serialize;

use crate::{cli::OutputFormat, error::InputError};

pub mod can_i;
pub mod checklist;
pub mod graph;
pub mod plan;
pub mod progress;
pub mod style;
pub mod table;

/// JSON or YAML of any report. Other formats are the command's own.
pub fn structured<T: Serialize>(
    value: &T,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<(), crate::Error> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        OutputFormat::Yaml => {
            let text = serde_yaml::to_string(value).map_err(std::io::Error::other)?;
            out.write_all(text.as_bytes())?;
        }
        other => return Err(unsupported(other, "table, json or yaml")),
    }
    Ok(())
}

/// The formats of every command but inspect: table (default, wide the same), json, yaml.
/// Checked before any call, so bind refuses `-o dot` before it writes anything.
pub fn report_format(f: Option<OutputFormat>) -> Result<Option<OutputFormat>, crate::Error> {
    match f {
        None | Some(OutputFormat::Table | OutputFormat::Wide) => Ok(None),
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => Ok(Some(f)),
        Some(f) => Err(unsupported(f, "table, json or yaml")),
    }
}

pub fn unsupported(format: OutputFormat, accepted: &str) -> crate::Error {
    InputError::new(
        "output format",
        &format!("{format:?}").to_lowercase(),
        format!("{accepted} for this command"),
    )
    .into()
}
