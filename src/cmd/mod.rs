//! One module per command: each gathers, calls the pure rules in `wi`, and returns a report.
pub mod bind;
pub mod unbind;
pub mod version;
