//! Shared helpers for the emulator's integration tests.
#![allow(dead_code)]

pub mod authz;
pub mod graph;
use std::path::PathBuf;

use azure_emulator::{Config, Emulator};
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// Microsoft's examples and specs vendored in this crate (see NOTICE at the repository root).
/// Missing = failure, never a skip.
pub fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/azure-api");
    assert!(
        dir.join("msi").is_dir() && dir.join("entra").is_dir(),
        "vendored Azure API data missing at {}",
        dir.display()
    );
    dir
}

pub async fn start() -> Emulator {
    azure_emulator::spawn(Config::default())
        .await
        .expect("emulator starts")
}

/// A reqwest client that trusts the emulator's CA (and nothing else).
pub fn client(emu: &Emulator) -> Client {
    let cfg = azure_emulator::tls::client_config(&[emu.ca_pem()]).unwrap();
    Client::builder()
        .tls_backend_preconfigured(cfg)
        .no_proxy()
        .build()
        .unwrap()
}

pub struct Ctx {
    pub emu: Emulator,
    pub http: Client,
}

pub struct Sub {
    pub tenant: String,
    pub sub: String,
    pub owner_client_id: String,
    pub owner_secret: String,
    pub owner_oid: String,
    pub token: String,
    pub raw: Value,
}

impl Ctx {
    pub async fn new() -> Self {
        let emu = start().await;
        let http = client(&emu);
        Self { emu, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.url())
    }

    pub async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "control {path}: {status} {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// A subscription (with an Owner service principal) plus a token for that principal.
    pub async fn subscription(&self, body: Value) -> Sub {
        let raw = self
            .control(Method::POST, "/_emulator/subscriptions", body)
            .await;
        let s = |v: &Value| v.as_str().unwrap().to_string();
        let tenant = s(&raw["tenantId"]);
        let owner = &raw["owner"];
        let token = self
            .secret_token(&tenant, &s(&owner["clientId"]), &s(&owner["clientSecret"]))
            .await;
        Sub {
            tenant,
            sub: s(&raw["subscriptionId"]),
            owner_client_id: s(&owner["clientId"]),
            owner_secret: s(&owner["clientSecret"]),
            owner_oid: s(&owner["objectId"]),
            token,
            raw,
        }
    }

    pub async fn token_request(&self, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(&format!("/{tenant}/oauth2/v2.0/token")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form)
                    .finish(),
            )
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn secret_token(&self, tenant: &str, client_id: &str, secret: &str) -> String {
        let (status, body) = self
            .token_request(
                tenant,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                    ("scope", "https://management.azure.com/.default"),
                ],
            )
            .await;
        assert_eq!(status, 200, "token: {body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    /// One ARM call; `path` includes the query. Returns status, JSON body (Null if empty), headers.
    pub async fn arm(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(json!({"raw": text}))
        };
        (status, v, headers)
    }

    pub async fn put_rg(&self, s: &Sub, rg: &str) {
        let (st, b, _) = self
            .arm(
                Some(&s.token),
                Method::PUT,
                &format!(
                    "/subscriptions/{}/resourcegroups/{rg}?api-version=2021-04-01",
                    s.sub
                ),
                Some(&json!({"location": "eastus"})),
            )
            .await;
        assert!(st == 201 || st == 200, "rg: {st} {b}");
    }

    pub async fn put_identity(&self, s: &Sub, rg: &str, name: &str) -> Value {
        let (st, b, _) = self
            .arm(
                Some(&s.token),
                Method::PUT,
                &identity_path(&s.sub, rg, name),
                Some(&json!({"location": "eastus"})),
            )
            .await;
        assert!(st == 201 || st == 200, "identity: {st} {b}");
        b
    }
}

pub fn identity_path(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}?api-version=2024-11-30"
    )
}

pub fn fic_path(sub: &str, rg: &str, identity: &str, fic: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{identity}/federatedIdentityCredentials/{fic}?api-version=2024-11-30"
    )
}

pub fn fic_body(issuer: &str, subject: &str) -> Value {
    json!({"properties": {"issuer": issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}})
}

/// Asserts an ARM error envelope with the given code.
pub fn assert_arm_error(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "body: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "only `error` at the top: {body}"
    );
}
