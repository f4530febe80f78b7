//! Everything that talks to Kubernetes. Errors are mapped here, once.
mod client;
mod error;
pub mod exec;
pub mod list;
pub mod objects;
mod pb;
pub mod rbac;

pub use client::{Kube, connect};
pub use error::KubeError;
pub use list::Wire;
