//! Shared helpers for the emulator's integration tests.
#![allow(dead_code)]

pub mod aks;
pub mod authz;
pub mod graph;
use std::collections::BTreeSet;
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

/// One vendored JSON file, `rel` under data/azure-api.
pub fn data_json(rel: &str) -> Value {
    let path = data_dir().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A venv tests/python/setup.sh makes: `$var`, else
/// `${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-azwi-ground/{name}`.
pub fn venv(var: &str, name: &str) -> PathBuf {
    if let Some(v) = std::env::var_os(var) {
        return PathBuf::from(v);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME");
    cache.join("kubectl-azwi-ground").join(name)
}

/// `python` with what every Python client here needs: the emulator's URL and CA, the
/// subscription and tenant.
pub fn python(
    ctx: &Ctx,
    python: &std::path::Path,
    ca: &std::path::Path,
    s: &Sub,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(python);
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .env("AZWI_EMULATOR_URL", ctx.emu.url())
        .env("REQUESTS_CA_BUNDLE", ca)
        .env("AZWI_TENANT_ID", &s.tenant)
        .env("AZWI_SUBSCRIPTION_ID", &s.sub);
    cmd
}

/// Runs it to the end; its stdout, or a failure with both streams.
pub async fn run_python(mut cmd: tokio::process::Command, ca: &std::path::Path) -> String {
    let out = cmd.output().await.expect("run python");
    let _ = std::fs::remove_file(ca);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
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

    /// The subscription's write counter (control API).
    pub async fn writes(&self, s: &Sub) -> Value {
        let path = format!("/_emulator/subscriptions/{}/writes", s.sub);
        self.control(Method::GET, &path, json!({})).await
    }

    /// An unauthenticated GET of a JSON document (issuer discovery and the like).
    pub async fn get_json(&self, url: &str) -> Value {
        let r = self.http.get(url).send().await.unwrap();
        r.json().await.unwrap()
    }

    /// The emulator's CA in a temporary file, for clients that read one (removed by the caller).
    pub fn ca_file(&self) -> PathBuf {
        let ca =
            std::env::temp_dir().join(format!("azure-emulator-ca-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&ca, self.emu.ca_pem()).unwrap();
        ca
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

/// Keys and value types of a JSON document, as paths (`a.b[].c:string`).
pub fn shape_of(v: &Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                shape_of(x, &format!("{at}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for x in a {
                shape_of(x, &format!("{at}[]"), out);
            }
        }
        Value::Null => {}
        Value::String(_) => {
            out.insert(format!("{at}:string"));
        }
        Value::Bool(_) => {
            out.insert(format!("{at}:bool"));
        }
        Value::Number(_) => {
            out.insert(format!("{at}:number"));
        }
    }
}

pub fn shape(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    shape_of(v, "", &mut out);
    out
}
