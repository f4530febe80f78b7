//! Test control API under `/_emulator/` (no auth, JSON). Documented in README.md.

mod aks;
mod authz;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::arm::{rbac, roles};
use crate::jwt::RsaSigner;
use crate::store::{
    App, Cluster, Fault, IssuerHost, IssuerMode, JwksSource, Principal, ResourceGroup,
    RoleAssignment, ServicePrincipal, Settings, Shared, Subscription, World, guid, now_rfc3339,
};

type Reply = Result<Response, (StatusCode, axum::Json<Value>)>;

fn err(status: StatusCode, msg: impl std::fmt::Display) -> (StatusCode, axum::Json<Value>) {
    (status, axum::Json(json!({"error": msg.to_string()})))
}

fn ok(v: Value) -> Reply {
    Ok(axum::Json(v).into_response())
}

/// Empty body = defaults; otherwise strict JSON.
fn parse<T: DeserializeOwned + Default>(
    body: &Bytes,
) -> Result<T, (StatusCode, axum::Json<Value>)> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| err(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

pub fn router(st: Shared) -> Router {
    Router::new()
        .route(
            "/_emulator/health",
            get(|| async { axum::Json(json!({"ok": true})) }),
        )
        .route("/_emulator/subscriptions", post(create_subscription))
        .route(
            "/_emulator/tenants/{tenant}/subscriptions",
            post(create_subscription_in_tenant),
        )
        .route(
            "/_emulator/subscriptions/{sub}/principals",
            post(create_principal),
        )
        .route(
            "/_emulator/subscriptions/{sub}/clusters",
            post(register_cluster),
        )
        .route(
            "/_emulator/subscriptions/{sub}/settings",
            get(get_settings).put(put_settings),
        )
        .route(
            "/_emulator/subscriptions/{sub}/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route(
            "/_emulator/subscriptions/{sub}/writes",
            get(get_writes).delete(reset_writes),
        )
        .route(
            "/_emulator/subscriptions/{sub}/identities",
            get(dump_identities),
        )
        .route("/_emulator/issuers", get(list_issuers).post(add_issuer))
        .route("/_emulator/issuers/mode", put(set_issuer_mode))
        .route("/_emulator/token", post(mint_token))
        .route(
            "/_emulator/clients/{client}/token-requests",
            get(token_requests),
        )
        .route(
            "/_emulator/clients/{client}/graph-writes",
            get(graph_writes),
        )
        .merge(authz::routes())
        .merge(aks::routes())
        .with_state(st)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NewSubscription {
    tenant_id: Option<String>,
    subscription_id: Option<String>,
    display_name: Option<String>,
    principals: Vec<NewPrincipal>,
    settings: Option<Settings>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
struct NewPrincipal {
    /// Built-in role name or GUID; none = a principal without any assignment.
    role: Option<String>,
    /// `ServicePrincipal` (default, gets a client id + secret) or `User`/`Group`.
    kind: Option<String>,
    object_id: Option<String>,
    /// Defaults to the subscription; a management-group scope works too.
    scope: Option<String>,
    /// Entra groups this principal is a member of.
    member_of: Vec<String>,
    /// Graph display name (default: derived from the kind and id).
    display_name: Option<String>,
    /// Microsoft Graph application permissions of a service principal, e.g.
    /// `["Directory.Read.All"]` (default: none, as for a new app registration).
    graph_roles: Vec<String>,
}

async fn create_subscription(State(st): State<Shared>, body: Bytes) -> Reply {
    let req: NewSubscription = parse(&body)?;
    new_subscription(&st, req)
}

async fn create_subscription_in_tenant(
    State(st): State<Shared>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Reply {
    let mut req: NewSubscription = parse(&body)?;
    req.tenant_id = Some(tenant);
    new_subscription(&st, req)
}

fn new_subscription(st: &Shared, req: NewSubscription) -> Reply {
    let tenant = req.tenant_id.unwrap_or_else(guid).to_ascii_lowercase();
    let sub_id = req
        .subscription_id
        .unwrap_or_else(guid)
        .to_ascii_lowercase();
    let mut w = st.world();
    if w.subs.contains_key(&sub_id) {
        return Err(err(
            StatusCode::CONFLICT,
            format!("subscription {sub_id} exists"),
        ));
    }
    w.tenants.insert(tenant.clone());
    let mut s = Subscription::new(
        sub_id.clone(),
        tenant.clone(),
        req.display_name
            .unwrap_or_else(|| "Emulated subscription".into()),
    );
    if let Some(settings) = req.settings {
        s.settings = settings;
    }
    w.subs.insert(sub_id.clone(), s);
    let owner = add_principal(
        &mut w,
        &sub_id,
        NewPrincipal {
            role: Some("Owner".into()),
            ..Default::default()
        },
    )
    .map_err(|e| err(StatusCode::BAD_REQUEST, e))?;
    let mut extra = Vec::new();
    for p in req.principals {
        extra.push(add_principal(&mut w, &sub_id, p).map_err(|e| err(StatusCode::BAD_REQUEST, e))?);
    }
    ok(json!({
        "tenantId": tenant,
        "subscriptionId": sub_id,
        "owner": owner,
        "principals": extra,
        "authorityHost": format!("{}/", st.base_url),
        "armEndpoint": st.base_url,
    }))
}

fn find_role(w: &World, sub_id: &str, r: &str) -> Option<roles::Role> {
    roles::find_named(w.subs.get(sub_id), r)
}

fn add_principal(w: &mut World, sub_id: &str, p: NewPrincipal) -> Result<Value, String> {
    let s = w
        .subs
        .get(sub_id)
        .ok_or_else(|| format!("no subscription {sub_id}"))?;
    let tenant = s.tenant_id.clone();
    let kind = p.kind.unwrap_or_else(|| "ServicePrincipal".into());
    let object_id = p.object_id.unwrap_or_else(guid).to_ascii_lowercase();
    let role = match &p.role {
        Some(r) => Some(find_role(w, sub_id, r).ok_or_else(|| format!("unknown role {r}"))?),
        None => None,
    };
    for g in &p.member_of {
        w.group_members
            .entry(g.to_ascii_lowercase())
            .or_default()
            .insert(object_id.clone());
    }
    let mut out = json!({"objectId": object_id, "kind": kind, "tenantId": tenant});
    w.principals.insert(
        object_id.clone(),
        Principal {
            tenant_id: tenant.clone(),
            kind: kind.clone(),
            display_name: p.display_name.clone(),
            visible_at: Instant::now(),
        },
    );
    if kind == "ServicePrincipal" {
        let client_id = guid();
        let app = App {
            display_name: p
                .display_name
                .clone()
                .unwrap_or_else(|| format!("emulator-sp-{}", &client_id[..8])),
            client_id,
            secret: Some(format!("emu~{}", guid().replace('-', ""))),
            object_id: object_id.clone(),
            app_object_id: guid(),
            tenant_id: tenant.clone(),
            graph_roles: p.graph_roles.clone(),
            sp: Some(ServicePrincipal {
                account_enabled: true,
                tags: Vec::new(),
            }),
            fics: Vec::new(),
            owners: Vec::new(),
            unique_name: None,
            created: now_rfc3339(),
            home_subscription: Some(sub_id.to_string()),
        };
        out["appObjectId"] = json!(app.app_object_id);
        out["displayName"] = json!(app.display_name);
        out["clientId"] = json!(app.client_id);
        out["clientSecret"] = json!(app.secret);
        w.apps.insert(app.client_id.clone(), app);
    }
    if let Some(role) = role {
        let scope = p
            .scope
            .unwrap_or_else(|| format!("/subscriptions/{sub_id}"));
        let scope = format!("/{}", scope.trim_matches('/'));
        let name = guid();
        let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
        rbac::insert_assignment(
            w,
            RoleAssignment {
                id: id.clone(),
                name,
                scope,
                role_definition_guid: role.guid.clone(),
                principal_id: object_id.clone(),
                principal_type: kind,
                created_on: now_rfc3339(),
                created_by: "emulator".into(),
                description: None,
                condition: None,
                condition_version: None,
            },
        )?;
        out["role"] = json!(role.name);
        out["roleAssignmentId"] = json!(id);
    }
    Ok(out)
}

async fn create_principal(State(st): State<Shared>, Path(sub): Path<String>, body: Bytes) -> Reply {
    let p: NewPrincipal = parse(&body)?;
    let mut w = st.world();
    let v = add_principal(&mut w, &sub.to_ascii_lowercase(), p)
        .map_err(|e| err(StatusCode::BAD_REQUEST, e))?;
    ok(v)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NewCluster {
    resource_group: String,
    name: String,
    location: Option<String>,
    fqdn: Option<String>,
    #[serde(alias = "issuerURL")]
    issuer_url: Option<String>,
    workload_identity: Option<bool>,
    kubernetes_version: Option<String>,
    /// The API server (and client credentials) the cluster's kubeconfigs point at.
    kube_api_server: Option<crate::store::ApiServer>,
    /// ARM's `properties.apiServerAccessProfile` (`enableVnetIntegration`, `subnetId`).
    api_server_access_profile: Option<crate::store::ApiServerAccess>,
}

async fn register_cluster(State(st): State<Shared>, Path(sub): Path<String>, body: Bytes) -> Reply {
    let c: NewCluster = parse(&body)?;
    if c.resource_group.is_empty() || c.name.is_empty() {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "resourceGroup and name are required",
        ));
    }
    let mut w = st.world();
    let s = w
        .subs
        .get_mut(&sub.to_ascii_lowercase())
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "no such subscription"))?;
    let location = c.location.unwrap_or_else(|| "eastus".into());
    // The cluster's resource group is created along with it, as `az aks create` users have one.
    s.rgs
        .entry(c.resource_group.to_ascii_lowercase())
        .or_insert_with(|| ResourceGroup {
            name: c.resource_group.clone(),
            location: location.clone(),
            tags: None,
        });
    let cluster = Cluster {
        rg: c.resource_group.clone(),
        name: c.name.clone(),
        fqdn: c
            .fqdn
            .unwrap_or_else(|| format!("{}-dns-{}.hcp.{location}.azmk8s.io", c.name, &guid()[..8])),
        location,
        issuer_url: c.issuer_url,
        workload_identity: c.workload_identity.unwrap_or(true),
        kubernetes_version: c.kubernetes_version.unwrap_or_else(|| "1.33.2".into()),
        api_server: c.kube_api_server,
        api_server_access: c.api_server_access_profile,
        ..Default::default()
    };
    let v = crate::arm::aks::cluster_json(&s.id, &cluster);
    s.clusters
        .insert(crate::arm::msi::key(&c.resource_group, &c.name), cluster);
    ok(v)
}

fn with_sub<T>(
    st: &Shared,
    sub: &str,
    f: impl FnOnce(&mut Subscription) -> T,
) -> Result<T, (StatusCode, axum::Json<Value>)> {
    let mut w = st.world();
    let s = w
        .subs
        .get_mut(&sub.to_ascii_lowercase())
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "no such subscription"))?;
    Ok(f(s))
}

async fn get_settings(State(st): State<Shared>, Path(sub): Path<String>) -> Reply {
    ok(with_sub(&st, &sub, |s| json!(s.settings))?)
}

/// Partial update: only the fields present change.
async fn put_settings(State(st): State<Shared>, Path(sub): Path<String>, body: Bytes) -> Reply {
    let patch: serde_json::Map<String, Value> = parse(&body)?;
    let v = with_sub(&st, &sub, |s| {
        let mut cur = json!(s.settings);
        for (k, v) in patch {
            cur[k] = v;
        }
        serde_json::from_value::<Settings>(cur).map(|new| {
            s.settings = new;
            json!(s.settings)
        })
    })?
    .map_err(|e| err(StatusCode::BAD_REQUEST, e))?;
    ok(v)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NewFault {
    method: Option<String>,
    path_contains: String,
    count: Option<u32>,
    status: Option<u16>,
    retry_after: Option<u64>,
    delay_ms: Option<u64>,
}

async fn add_fault(State(st): State<Shared>, Path(sub): Path<String>, body: Bytes) -> Reply {
    let f: NewFault = parse(&body)?;
    if f.status.is_none() && f.delay_ms.is_none() {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "a fault needs status or delayMs",
        ));
    }
    let v = with_sub(&st, &sub, |s| {
        let fault = Fault {
            id: s.faults.len() as u64 + 1,
            method: f.method,
            path_contains: f.path_contains,
            remaining: f.count.unwrap_or(1),
            fired: 0,
            status: f.status,
            retry_after: f.retry_after,
            delay_ms: f.delay_ms,
        };
        let v = json!(fault);
        s.faults.push(fault);
        v
    })?;
    ok(v)
}

async fn list_faults(State(st): State<Shared>, Path(sub): Path<String>) -> Reply {
    ok(with_sub(&st, &sub, |s| {
        let fired: u32 = s.faults.iter().map(|f| f.fired).sum();
        json!({"faults": s.faults, "fired": fired})
    })?)
}

async fn clear_faults(State(st): State<Shared>, Path(sub): Path<String>) -> Reply {
    with_sub(&st, &sub, |s| s.faults.clear())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_writes(State(st): State<Shared>, Path(sub): Path<String>) -> Reply {
    ok(with_sub(&st, &sub, |s| {
        let total: u64 = s.writes.values().sum();
        json!({"total": total, "byOperation": s.writes})
    })?)
}

async fn reset_writes(State(st): State<Shared>, Path(sub): Path<String>) -> Reply {
    with_sub(&st, &sub, |s| s.writes.clear())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn dump_identities(State(st): State<Shared>, Path(sub): Path<String>) -> Reply {
    ok(with_sub(&st, &sub, |s| {
        let v: Vec<Value> = s
            .identities
            .values()
            .map(|i| {
                json!({
                    "id": crate::arm::msi::identity_id(&s.id, &i.rg, &i.name),
                    "resourceGroup": i.rg,
                    "name": i.name,
                    "clientId": i.client_id,
                    "principalId": i.principal_id,
                    "federatedIdentityCredentials": i.fics.iter().map(|f| json!({
                        "name": f.name, "issuer": f.issuer, "subject": f.subject, "audiences": f.audiences,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({"identities": v})
    })?)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NewIssuer {
    /// `/<tenant>/<uuid>/`; random when absent.
    path: Option<String>,
    jwks_upstream: Option<String>,
    jwks: Option<Value>,
}

pub fn register_issuer(st: &Shared, path: &str, jwks: JwksSource) -> String {
    let path = crate::issuer::normalize_path(path);
    st.world().issuers.insert(
        path.clone(),
        IssuerHost {
            jwks,
            mode: IssuerMode::Normal,
            wrong_key: Arc::new(RsaSigner::generate()),
            cache: None,
        },
    );
    path
}

async fn add_issuer(State(st): State<Shared>, body: Bytes) -> Reply {
    let req: NewIssuer = parse(&body)?;
    let source = match (req.jwks_upstream, req.jwks) {
        (Some(u), None) => JwksSource::Upstream(u),
        (None, Some(v)) => JwksSource::Static(v),
        _ => {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "give exactly one of jwksUpstream or jwks",
            ));
        }
    };
    let path = req
        .path
        .unwrap_or_else(|| format!("/{}/{}/", guid(), guid()));
    let path = register_issuer(&st, &path, source);
    ok(json!({"path": path, "issuer": format!("{}{path}", st.base_url)}))
}

async fn list_issuers(State(st): State<Shared>) -> Reply {
    let w = st.world();
    let v: Vec<Value> = w
        .issuers
        .iter()
        .map(|(p, i)| json!({"path": p, "issuer": format!("{}{p}", st.base_url), "mode": i.mode}))
        .collect();
    ok(json!({"issuers": v}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct IssuerModeReq {
    path: String,
    mode: Option<IssuerMode>,
}

async fn set_issuer_mode(State(st): State<Shared>, body: Bytes) -> Reply {
    let req: IssuerModeReq = parse(&body)?;
    let path = crate::issuer::normalize_path(&req.path);
    let mut w = st.world();
    let i = w
        .issuers
        .get_mut(&path)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no issuer at {path}")))?;
    i.mode = req.mode.unwrap_or(IssuerMode::Normal);
    i.cache = None;
    ok(json!({"path": path, "mode": i.mode}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MintToken {
    tenant_id: String,
    object_id: String,
    audience: Option<String>,
    /// Seconds from now; negative mints an expired token.
    expires_in: Option<i64>,
}

async fn token_requests(State(st): State<Shared>, Path(client): Path<String>) -> Reply {
    let n = st
        .world()
        .token_requests
        .get(&client.to_ascii_lowercase())
        .copied()
        .unwrap_or(0);
    ok(json!({"clientId": client, "count": n}))
}

async fn graph_writes(State(st): State<Shared>, Path(client): Path<String>) -> Reply {
    let n = st
        .world()
        .graph_writes
        .get(&client.to_ascii_lowercase())
        .copied()
        .unwrap_or(0);
    ok(json!({"clientId": client, "count": n}))
}

/// Mints an access token directly (to test expired / wrong-audience handling).
async fn mint_token(State(st): State<Shared>, body: Bytes) -> Reply {
    let m: MintToken = parse(&body)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = now + m.expires_in.unwrap_or(crate::entra::TOKEN_LIFETIME);
    let claims = json!({
        "aud": m.audience.unwrap_or_else(|| "https://management.azure.com/".into()),
        "iss": format!("https://sts.windows.net/{}/", m.tenant_id),
        "iat": now.min(exp) - 60,
        "nbf": now.min(exp) - 60,
        "exp": exp,
        "oid": m.object_id,
        "sub": m.object_id,
        "tid": m.tenant_id,
        "idtyp": "app",
        "ver": "1.0",
    });
    ok(json!({"access_token": st.signer.sign(&claims)}))
}
