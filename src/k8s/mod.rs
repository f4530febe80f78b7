//! Everything that talks to Kubernetes. Errors are mapped here, once.
mod client;
mod error;
pub mod exec;
pub mod objects;
pub mod rbac;

pub use client::{Kube, connect};
pub use error::KubeError;
