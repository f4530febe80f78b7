//! Kubernetes objects for tests, built in code.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use serde_json::json;

use kubectl_azwi::wi::keys;

pub fn service_account(name: &str, annotations: &[(&str, &str)]) -> ServiceAccount {
    let ann: serde_json::Map<_, _> = annotations
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    serde_json::from_value(json!({"metadata": {"name": name, "annotations": ann}})).unwrap()
}

/// A pod like the walkthrough's `quick-start`, with an init container, optionally labelled.
pub fn pod(name: &str, service_account: &str, labels: &[(&str, &str)]) -> Pod {
    let labels: serde_json::Map<_, _> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "serviceAccountName": service_account,
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [{"name": "oidc", "image": "ghcr.io/azure/azure-workload-identity/msal-go"}],
        }
    }))
    .unwrap()
}

pub fn use_label() -> (&'static str, &'static str) {
    (keys::USE_LABEL, "true")
}
