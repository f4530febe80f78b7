//! The Azure emulator as tests see it: a fresh subscription per test (its own faults, counters
//! and resources), an owner principal the plugin logs in as, and the control API.

use serde_json::{Value, json};

use super::Ground;

#[derive(Clone)]
pub struct Sub {
    pub id: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    pub object_id: String,
    http: reqwest::Client,
    base: String,
}

pub fn https() -> reqwest::Client {
    let pem = std::fs::read(Ground::get().var("AZWI_GROUND_CA")).expect("ground CA");
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

impl Sub {
    /// A new subscription in the ground's tenant (the webhook's), owned by a service principal.
    pub async fn new() -> Sub {
        Sub::in_tenant(Ground::get().var("AZWI_GROUND_TENANT")).await
    }

    pub async fn in_tenant(tenant: &str) -> Sub {
        let base = Ground::get().var("AZURE_EMULATOR_URL").to_string();
        let http = https();
        let v: Value = http
            .post(format!("{base}/_emulator/subscriptions"))
            .json(&json!({"tenantId": tenant}))
            .send()
            .await
            .expect("emulator control API")
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{p} in {v}"))
                .to_string()
        };
        Sub {
            id: s("/subscriptionId"),
            tenant: s("/tenantId"),
            client_id: s("/owner/clientId"),
            client_secret: s("/owner/clientSecret"),
            object_id: s("/owner/objectId"),
            http,
            base,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Control API call on this subscription: `control("POST", "faults", body)`.
    pub async fn control(&self, method: &str, what: &str, body: Option<Value>) -> Value {
        let url = self.url(&format!("/_emulator/subscriptions/{}/{what}", self.id));
        let req = match method {
            "GET" => self.http.get(url),
            "PUT" => self.http.put(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url),
        };
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let resp = req
            .send()
            .await
            .expect("control API")
            .error_for_status()
            .expect("control API status");
        resp.json().await.unwrap_or(Value::Null)
    }

    /// The ground's API server registered as AKS cluster `rg/name` of this subscription, with
    /// workload identity and the ground's OIDC issuer (the plugin finds it by the kube
    /// context's server; the token proxy tells its own cluster's bindings by the issuer).
    pub async fn ground_as_aks(&self, rg: &str, name: &str) {
        let issuer = Ground::get().issuer();
        self.control(
            "POST",
            "clusters",
            Some(
                json!({"resourceGroup": rg, "name": name, "fqdn": "127.0.0.1",
                "issuerUrl": issuer, "workloadIdentity": true}),
            ),
        )
        .await;
    }

    /// Control API call on the emulator itself (issuer hosts): `control_global("POST", "issuers", body)`.
    pub async fn control_global(&self, method: &str, what: &str, body: Option<Value>) -> Value {
        let url = self.url(&format!("/_emulator/{what}"));
        let req = match method {
            "PUT" => self.http.put(url),
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        };
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        req.send()
            .await
            .expect("control API")
            .error_for_status()
            .expect("control API status")
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    /// Writes counted by ARM on this subscription (every mutating request).
    pub async fn writes(&self) -> u64 {
        self.control("GET", "writes", None).await["total"]
            .as_u64()
            .unwrap_or(0)
    }

    /// A principal with only this built-in role on the subscription.
    pub async fn principal(&self, role: &str) -> (String, String) {
        let v = self
            .control("POST", "principals", Some(json!({"role": role})))
            .await;
        (
            v["clientId"].as_str().unwrap().into(),
            v["clientSecret"].as_str().unwrap().into(),
        )
    }

    /// An ARM call as the owner, for arranging state (`PUT` a resource group, an identity...).
    pub async fn arm(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.token(&self.client_id, &self.client_secret).await;
        let url = self.url(path);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.put(url),
        };
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let resp = req.bearer_auth(token).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self, client_id: &str, secret: &str) -> String {
        let v: Value = self
            .http
            .post(self.url(&format!("/{}/oauth2/v2.0/token", self.tenant)))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("token: {v}"))
            .to_string()
    }

    pub async fn resource_group(&self, rg: &str) {
        let (status, body) = self
            .arm(
                "PUT",
                &format!(
                    "/subscriptions/{}/resourcegroups/{rg}?api-version=2021-04-01",
                    self.id
                ),
                Some(json!({"location": "eastus"})),
            )
            .await;
        assert!(status < 300, "create RG: {status} {body}");
    }

    /// An identity made out of band (as `az identity create` would); returns its ARM body.
    pub async fn identity(&self, rg: &str, name: &str) -> Value {
        let path = format!(
            "/subscriptions/{}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}?api-version=2023-01-31",
            self.id
        );
        let (status, body) = self
            .arm("PUT", &path, Some(json!({"location": "eastus"})))
            .await;
        assert!(status < 300, "create identity: {status} {body}");
        body
    }

    /// The federated credentials of an identity, as ARM lists them.
    pub async fn credentials(&self, identity_id: &str) -> Vec<Value> {
        let (status, body) = self
            .arm(
                "GET",
                &format!("{identity_id}/federatedIdentityCredentials?api-version=2023-01-31"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["value"].as_array().cloned().unwrap_or_default()
    }

    /// How many token requests Entra (the emulator) got for `client_id`, answered or refused.
    pub async fn token_requests(&self, client_id: &str) -> u64 {
        let url = self.url(&format!("/_emulator/clients/{client_id}/token-requests"));
        let v: Value = self
            .http
            .get(url)
            .send()
            .await
            .expect("control API")
            .json()
            .await
            .unwrap();
        v["count"].as_u64().unwrap_or(0)
    }

    /// A role assignment the user made themselves (`az role assignment create`): no description.
    pub async fn assign(&self, role_guid: &str, scope: &str, principal_id: &str) -> String {
        let name = uuid_like();
        let (status, body) = self
            .arm(
                "PUT",
                &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"),
                Some(json!({"properties": {
                    "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}", self.id),
                    "principalId": principal_id,
                    "principalType": "ServicePrincipal",
                }})),
            )
            .await;
        assert!(status < 300, "assign {role_guid}: {status} {body}");
        name
    }

    /// Every role assignment of `principal_id` in the subscription, as ARM lists them.
    pub async fn assignments_of(&self, principal_id: &str) -> Vec<Value> {
        let (status, body) = self
            .arm(
                "GET",
                &format!(
                    "/subscriptions/{}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId%20eq%20%27{principal_id}%27",
                    self.id
                ),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["value"].as_array().cloned().unwrap_or_default()
    }

    /// A flexible federated credential, as one made for GitHub Actions: `claimsMatchingExpression`
    /// instead of a subject, on the api-version whose spec carries it (msi 2025-01-31-preview,
    /// FederatedIdentityCredentialProperties).
    pub async fn flexible_credential(&self, identity_id: &str, name: &str, expression: &str) {
        let (status, body) = self
            .arm(
                "PUT",
                &format!("{identity_id}/federatedIdentityCredentials/{name}?api-version=2025-01-31-preview"),
                Some(json!({"properties": {
                    "issuer": "https://token.actions.githubusercontent.com",
                    "audiences": ["api://AzureADTokenExchange"],
                    "claimsMatchingExpression": {"value": expression, "languageVersion": 1},
                }})),
            )
            .await;
        assert_eq!(status, 201, "flexible credential: {body}");
    }

    /// Environment that logs the plugin in as `client_id` and points it at the emulator.
    pub fn env_as(&self, client_id: &str, secret: &str) -> Vec<(String, String)> {
        vec![
            ("AZURE_TENANT_ID".into(), self.tenant.clone()),
            ("AZURE_CLIENT_ID".into(), client_id.into()),
            ("AZURE_CLIENT_SECRET".into(), secret.into()),
            ("AZURE_SUBSCRIPTION_ID".into(), self.id.clone()),
            ("AZWI_ARM_ENDPOINT".into(), self.base.clone()),
            ("AZURE_AUTHORITY_HOST".into(), self.base.clone()),
            ("AZWI_GRAPH_ENDPOINT".into(), self.base.clone()),
        ]
    }

    /// A service principal with `role` on the subscription and these Microsoft Graph
    /// application permissions: (client id, secret).
    pub async fn graph_principal(&self, role: &str, graph_roles: &[&str]) -> (String, String) {
        let v = self
            .control(
                "POST",
                "principals",
                Some(json!({"role": role, "graphRoles": graph_roles})),
            )
            .await;
        (
            v["clientId"].as_str().unwrap().into(),
            v["clientSecret"].as_str().unwrap().into(),
        )
    }

    /// One Microsoft Graph call (`/v1.0/...`) as `login` (client id, secret), for arranging
    /// applications: (status, JSON body or Null).
    pub async fn graph(
        &self,
        login: &(String, String),
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let token: Value = self
            .http
            .post(self.url(&format!("/{}/oauth2/v2.0/token", self.tenant)))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", login.0.as_str()),
                ("client_secret", login.1.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .expect("token endpoint")
            .json()
            .await
            .unwrap();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token["access_token"].as_str().expect("Graph token"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("Graph");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub fn env(&self) -> Vec<(String, String)> {
        self.env_as(&self.client_id, &self.client_secret)
    }
}

/// Runs the plugin with args and env; returns (exit code, stdout, stderr).
pub fn run_plugin(args: &[&str], env: &[(String, String)]) -> (i32, String, String) {
    let mut cmd = Ground::get().plugin();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run kubectl-azwi");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Exchanges a federated assertion at the emulator's Entra endpoint, as Entra would.
pub async fn exchange(tenant: &str, client_id: &str, assertion: &str) -> (u16, Value) {
    let base = Ground::get().var("AZURE_EMULATOR_URL");
    let resp = https()
        .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("scope", "https://management.azure.com/.default"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .expect("token endpoint");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A random GUID, as role assignment names are.
pub fn uuid_like() -> String {
    let b: [u8; 16] = rand::random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}
