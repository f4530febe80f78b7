//! Helpers of the AKS tests (aks_lro.rs, identity_bindings.rs).

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{Ctx, Sub, data_json};

pub const IB: &str = "aks-identity-bindings";
/// How long each operation runs in these tests (the subscription's `asyncOperationSeconds`).
pub const OP_SECONDS: f64 = 1.5;

pub fn ex(file: &str) -> Value {
    data_json(&format!("{IB}/{file}"))
}

/// A subscription whose operations run `OP_SECONDS`, with resource group `rg1`.
pub async fn setup(ctx: &Ctx) -> Sub {
    let s = ctx
        .subscription(json!({"settings": {"asyncOperationSeconds": OP_SECONDS}}))
        .await;
    ctx.put_rg(&s, "rg1").await;
    s
}

pub fn cluster_path(sub: &str, name: &str, api: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/{name}?api-version={api}"
    )
}

pub fn binding_path(sub: &str, cluster: &str, name: &str, api: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/{cluster}/identityBindings/{name}?api-version={api}"
    )
}

pub fn binding_body(identity_id: &str) -> Value {
    json!({"properties": {"managedIdentity": {"resourceId": identity_id}}})
}

pub fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .unwrap_or_else(|| panic!("no {name} header in {h:?}"))
        .to_str()
        .unwrap()
        .to_string()
}

/// The path (and query) of an absolute URL the emulator handed out.
pub fn local(ctx: &Ctx, url: &str) -> String {
    url.strip_prefix(ctx.emu.url())
        .unwrap_or_else(|| panic!("{url} is not on the emulator"))
        .to_string()
}

pub async fn get(ctx: &Ctx, s: &Sub, path: &str) -> (u16, Value, HeaderMap) {
    ctx.arm(Some(&s.token), Method::GET, path, None).await
}

pub async fn after_operation() {
    tokio::time::sleep(Duration::from_secs_f64(OP_SECONDS + 0.2)).await;
}

/// The cluster of ManagedClustersCreate_SecurityProfile.json, made over ARM, with the OIDC
/// issuer asked for. Returns the 201's body and headers.
pub async fn create_cluster(ctx: &Ctx, s: &Sub, name: &str, api: &str) -> (Value, HeaderMap) {
    let mut body = data_json("containerservice/ManagedClustersCreate_SecurityProfile.json")
        ["parameters"]["parameters"]
        .clone();
    body["properties"]["oidcIssuerProfile"] = json!({"enabled": true});
    let (st, b, h) = ctx
        .arm(
            Some(&s.token),
            Method::PUT,
            &cluster_path(&s.sub, name, api),
            Some(&body),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    (b, h)
}

/// An identity `mi-payments` (as in the examples) in `rg1`; returns its ARM body.
pub async fn identity(ctx: &Ctx, s: &Sub) -> Value {
    ctx.put_identity(s, "rg1", "mi-payments").await
}

pub fn identity_id(s: &Sub) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-payments",
        s.sub
    )
}

pub async fn fics(ctx: &Ctx, s: &Sub) -> Vec<Value> {
    let path = format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-payments/federatedIdentityCredentials?api-version=2024-11-30",
        s.sub
    );
    let (st, b, _) = get(ctx, s, &path).await;
    assert_eq!(st, 200, "{b}");
    b["value"].as_array().unwrap().clone()
}

/// The owner's PUT of the binding at `path` for `mi-payments`.
pub async fn put_binding(ctx: &Ctx, s: &Sub, path: &str) -> (u16, Value, HeaderMap) {
    let body = binding_body(&identity_id(s));
    ctx.arm(Some(&s.token), Method::PUT, path, Some(&body))
        .await
}
