//! Microsoft.ContainerService identity bindings (`managedClusters/{c}/identityBindings/{name}`,
//! stable since 2026-04-01). PUT and DELETE are long-running: the client polls the
//! `Azure-AsyncOperation` URL, waiting what `Retry-After` says, until a terminal status, then
//! reads the binding back with a GET of its own URL, as azure-mgmt-core's ARMPolling does
//! (docs: identity-bindings §1). Every wait is bounded and shown as progress.

use std::time::{Duration, Instant};

use azure_core::http::{Method, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Arm, AzureError, arm::LroHeaders};
use crate::output::progress::Progress;

/// First GA api-version with identity bindings (stable/2026-04-01/managedClusters.json).
pub const API_VERSION: &str = "2026-04-01";
/// What a poll waits when the answer names no `Retry-After` (azure-core's default is 30 s,
/// too long for a CLI whose operations usually end in seconds).
const DEFAULT_POLL: Duration = Duration::from_secs(5);
/// A `Retry-After` longer than this is shortened: the user sees progress, not a frozen wait.
const MAX_POLL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct BindingIdentity {
    #[serde(default)]
    pub resource_id: String,
    #[serde(default)]
    pub object_id: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub tenant_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct OidcIssuer {
    #[serde(default)]
    pub oidc_issuer_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct BindingProperties {
    #[serde(default)]
    pub managed_identity: BindingIdentity,
    #[serde(default)]
    pub oidc_issuer: Option<OidcIssuer>,
    #[serde(default)]
    pub provisioning_state: Option<String>,
}

/// An identity binding as ARM returns it (IdentityBindings_Get.json).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IdentityBinding {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub properties: BindingProperties,
}

impl IdentityBinding {
    pub fn state(&self) -> &str {
        self.properties
            .provisioning_state
            .as_deref()
            .unwrap_or("Succeeded")
    }

    pub fn issuer(&self) -> Option<&str> {
        self.properties
            .oidc_issuer
            .as_ref()
            .map(|o| o.oidc_issuer_url.as_str())
            .filter(|s| !s.is_empty())
    }
}

pub fn bindings_path(cluster_id: &str) -> String {
    format!("{}/identityBindings", cluster_id.trim_end_matches('/'))
}

/// The operation-status body (AsyncOperation_*.json).
#[derive(Debug, Deserialize)]
struct OperationStatus {
    #[serde(default)]
    status: String,
    #[serde(default)]
    error: Option<Value>,
}

/// How an operation ended, and the waits it took (for the report and the closing numbers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waited {
    pub polls: u32,
    pub slept: Duration,
}

/// The operation ended in `Failed` or `Canceled`: its status and ARM's error.
fn operation_failed(op: &str, resource: &str, status: &str, error: Option<&Value>) -> AzureError {
    let text = |k: &str| {
        error
            .and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    AzureError::Arm {
        operation: op.to_string(),
        resource: resource.to_string(),
        status: 200,
        code: if text("code").is_empty() {
            status.to_string()
        } else {
            text("code")
        },
        message: format!("the operation ended {status}: {}", text("message")),
    }
}

impl Arm {
    pub async fn identity_bindings(
        &self,
        cluster_id: &str,
    ) -> Result<Vec<IdentityBinding>, AzureError> {
        self.list(
            "list identity bindings",
            &bindings_path(cluster_id),
            API_VERSION,
        )
        .await
    }

    pub async fn identity_binding(
        &self,
        path: &str,
    ) -> Result<Option<IdentityBinding>, AzureError> {
        self.get_opt("get identity binding", path, API_VERSION)
            .await
    }

    /// Polls `lro` until the operation is terminal, within `patience`.
    async fn wait_operation(
        &self,
        op: &str,
        resource: &str,
        first: &LroHeaders,
        patience: Duration,
        progress: &Progress,
    ) -> Result<Waited, AzureError> {
        let Some(status_url) = first.async_operation.clone() else {
            return Ok(Waited::default());
        };
        let url = Url::parse(&status_url).map_err(|e| AzureError::Transport {
            operation: op.into(),
            resource: status_url.clone(),
            source: Box::new(e.into()),
        })?;
        let started = Instant::now();
        let mut wait = first.retry_after;
        let mut waited = Waited::default();
        loop {
            let d = wait
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_POLL)
                .min(MAX_POLL);
            if started.elapsed() + d > patience {
                return Err(AzureError::Arm {
                    operation: op.into(),
                    resource: resource.into(),
                    status: 0,
                    code: "Timeout".into(),
                    message: format!(
                        "still running after {}s; it goes on in Azure: run the command again later",
                        patience.as_secs()
                    ),
                });
            }
            progress.sleep(d).await;
            waited.slept += d;
            waited.polls += 1;
            let raw = self.send_full(op, Method::Get, url.clone(), None).await?;
            let s: OperationStatus = Arm::parse(op, &url, &raw.body)?;
            progress.detail(format!("{} (poll {})", s.status, waited.polls));
            match s.status.as_str() {
                "Succeeded" => return Ok(waited),
                "Failed" | "Canceled" => {
                    return Err(operation_failed(op, resource, &s.status, s.error.as_ref()));
                }
                _ => wait = raw.lro.retry_after.or(wait),
            }
        }
    }

    /// PUT the binding (`body`: the plan's, `wi::identity_binding::binding_body`) and wait for
    /// it: the binding as a GET returns it at the end.
    pub async fn put_identity_binding(
        &self,
        path: &str,
        body: &Value,
        patience: Duration,
    ) -> Result<(IdentityBinding, Waited), AzureError> {
        let op = "create identity binding";
        let url = self.url(path, API_VERSION);
        let raw = self.send_full(op, Method::Put, url, Some(body)).await?;
        let progress = Progress::start(format!("waiting for identity binding {path}"));
        let waited = self
            .wait_operation(op, path, &raw.lro, patience, &progress)
            .await?;
        let b = self
            .identity_binding(path)
            .await?
            .ok_or_else(|| operation_failed(op, path, "without the binding", None))?;
        if b.state() != "Succeeded" {
            return Err(operation_failed(op, path, b.state(), None));
        }
        Ok((b, waited))
    }

    /// Waits for a binding whose operation someone else started, by GETs of it.
    pub async fn wait_identity_binding(
        &self,
        path: &str,
        patience: Duration,
    ) -> Result<(IdentityBinding, Waited), AzureError> {
        let op = "wait for identity binding";
        let progress = Progress::start(format!("waiting for identity binding {path}"));
        let started = Instant::now();
        let mut waited = Waited::default();
        loop {
            let b = self
                .identity_binding(path)
                .await?
                .ok_or_else(|| operation_failed(op, path, "with the binding gone", None))?;
            match b.state() {
                "Succeeded" => return Ok((b, waited)),
                s @ ("Failed" | "Canceled") => return Err(operation_failed(op, path, s, None)),
                s => progress.detail(s.to_string()),
            }
            if started.elapsed() + DEFAULT_POLL > patience {
                return Err(operation_failed(op, path, "still running", None));
            }
            progress.sleep(DEFAULT_POLL).await;
            waited.slept += DEFAULT_POLL;
            waited.polls += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IdentityBindings_Get.json (vendored under tests/azure-emulator/data/azure-api).
    #[test]
    fn a_binding_reads_as_arm_returns_it() {
        let raw = include_str!(
            "../../tests/azure-emulator/data/azure-api/aks-identity-bindings/IdentityBindings_Get.json"
        );
        let v: Value = serde_json::from_str(raw).unwrap();
        let b: IdentityBinding = serde_json::from_value(v["responses"]["200"]["body"].clone())
            .expect("the example parses");
        assert_eq!(b.state(), "Succeeded");
        assert!(
            b.issuer()
                .unwrap()
                .starts_with("https://ib.oic.prod-aks.azure.com/"),
            "{b:?}"
        );
        assert!(!b.properties.managed_identity.client_id.is_empty());
    }

    #[test]
    fn a_failed_operation_names_its_error() {
        let e = operation_failed(
            "create identity binding",
            "/x",
            "Failed",
            Some(&serde_json::json!({"code": "InternalError", "message": "boom"})),
        );
        assert_eq!(e.code(), Some("InternalError"));
        assert!(e.to_string().contains("ended Failed: boom"), "{e}");
    }
}
