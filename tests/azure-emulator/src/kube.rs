//! The two Kubernetes API calls the identity-binding token proxy makes, as the proxy's own
//! user (client certificate, ClusterRole `system:auth-delegator`): TokenReview of the pod's
//! token and a SubjectAccessReview of the `use-managed-identity` grant.

use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

use crate::Error;

/// Where the cluster's API server is and how the proxy authenticates to it (files, PEM).
#[derive(Clone, Debug)]
pub struct KubeConfig {
    pub server: String,
    pub ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

pub struct Kube {
    server: String,
    http: reqwest::Client,
}

/// The user a TokenReview authenticated (`status.user`).
#[derive(Clone, Debug, Default)]
pub struct User {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: Value,
}

pub enum Review {
    Authenticated(User),
    /// `status.error` (may be empty).
    Rejected(String),
}

/// `status` of a SubjectAccessReview.
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

fn read(p: &PathBuf) -> Result<Vec<u8>, Error> {
    std::fs::read(p).map_err(|e| Error::Tls(format!("read {}: {e}", p.display())))
}

impl Kube {
    pub fn new(c: &KubeConfig) -> Result<Kube, Error> {
        let tls = |e: &dyn std::fmt::Display| Error::Tls(e.to_string());
        let mut roots = rustls::RootCertStore::empty();
        for der in CertificateDer::pem_slice_iter(&read(&c.ca)?) {
            roots.add(der.map_err(|e| tls(&e))?).map_err(|e| tls(&e))?;
        }
        let chain = CertificateDer::pem_slice_iter(&read(&c.client_cert)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls(&e))?;
        let key = PrivateKeyDer::from_pem_slice(&read(&c.client_key)?).map_err(|e| tls(&e))?;
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| tls(&e))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(cfg)
            .timeout(std::time::Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(|e| Error::Http(e.to_string()))?;
        Ok(Kube {
            server: c.server.trim_end_matches('/').to_string(),
            http,
        })
    }

    async fn create(&self, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.server);
        let resp = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = resp.status();
        let v: Value = resp
            .json()
            .await
            .map_err(|e| format!("POST {url}: {status}, invalid JSON: {e}"))?;
        if !status.is_success() {
            return Err(format!("POST {url}: {status}: {}", v["message"]));
        }
        Ok(v)
    }

    /// TokenReview of `token` for `audience` (the API server checks signature, expiry, that the
    /// bound pod still exists, and that the token carries that audience).
    pub async fn review(&self, token: &str, audience: &str) -> Result<Review, String> {
        let v = self
            .create(
                "/apis/authentication.k8s.io/v1/tokenreviews",
                json!({
                    "apiVersion": "authentication.k8s.io/v1",
                    "kind": "TokenReview",
                    "spec": {"token": token, "audiences": [audience]},
                }),
            )
            .await?;
        let s = &v["status"];
        if s["authenticated"].as_bool() != Some(true) {
            return Ok(Review::Rejected(
                s["error"].as_str().unwrap_or_default().to_string(),
            ));
        }
        let u = &s["user"];
        Ok(Review::Authenticated(User {
            username: u["username"].as_str().unwrap_or_default().to_string(),
            uid: u["uid"].as_str().unwrap_or_default().to_string(),
            groups: u["groups"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            extra: u.get("extra").cloned().unwrap_or(Value::Null),
        }))
    }

    /// May `user` do `verb` on `resource` of API group `group`, cluster-wide (no namespace: the
    /// grant AKS documents is a ClusterRole + ClusterRoleBinding)?
    pub async fn may(
        &self,
        user: &User,
        group: &str,
        resource: &str,
        verb: &str,
    ) -> Result<Decision, String> {
        let mut spec = json!({
            "user": user.username,
            "groups": user.groups,
            "resourceAttributes": {"group": group, "resource": resource, "verb": verb},
        });
        if !user.uid.is_empty() {
            spec["uid"] = json!(user.uid);
        }
        if user.extra.is_object() {
            spec["extra"] = user.extra.clone();
        }
        let v = self
            .create(
                "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                json!({
                    "apiVersion": "authorization.k8s.io/v1",
                    "kind": "SubjectAccessReview",
                    "spec": spec,
                }),
            )
            .await?;
        let s = &v["status"];
        Ok(Decision {
            allowed: s["allowed"].as_bool() == Some(true) && s["denied"].as_bool() != Some(true),
            reason: s["reason"].as_str().unwrap_or_default().to_string(),
        })
    }
}
