//! One module per command: each gathers, calls the pure rules in `wi`, and returns a report.
pub mod bind;
pub mod can_i;
pub mod doctor;
pub mod exec_login;
pub mod inspect;
pub mod unbind;
pub mod unbind_app;
pub mod version;
