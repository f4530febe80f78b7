//! Everything that talks to Azure: credentials, a small typed ARM client on azure_core's
//! pipeline, and the Entra token endpoint. Errors are mapped here, once.
pub mod aks;
pub mod arm;
pub mod authz;
pub mod cloud;
pub mod credential;
pub mod entra;
mod error;
pub mod graph;
pub mod http;
pub mod issuer;
pub mod msi;
pub mod rbac;
pub mod token_proxy;

pub use arm::Arm;
pub use cloud::Cloud;
pub use error::AzureError;
