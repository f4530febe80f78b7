//! The workload-identity rules, pure: no Kubernetes client, no Azure client, no clock, no files.
pub mod aadsts;
pub mod app_plan;
pub mod azwi;
pub mod claims;
pub mod credential;
pub mod identity;
pub mod identity_binding;
pub mod issuer;
pub mod jwks;
pub mod keys;
pub mod mutation;
pub mod names;
pub mod plan;
pub mod rbac;
pub mod target;
pub mod webhook;
pub mod workload;
