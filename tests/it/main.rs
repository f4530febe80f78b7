//! The one integration-test binary: every test runs against the real test ground
//! (kube-apiserver + workload-identity webhook + kwok, and the Azure emulator).
mod support;

mod az_cli;
mod bind;
mod can_i;
mod dist;
mod doctor;
mod exchange;
mod exec_login;
mod graph;
mod ground;
mod identity_binding_ground;
mod inspect;
mod output;
mod tour;
mod wire;
