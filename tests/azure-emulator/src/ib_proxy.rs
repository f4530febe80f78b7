//! The AKS identity-binding token proxy, on a port of its own (AZURE_KUBERNETES_TOKEN_PROXY of
//! the webhook), serving under the SNI name the pods are given (AZURE_KUBERNETES_SNI_NAME) with
//! a certificate from the CA they trust (AZURE_KUBERNETES_CA_FILE).
//!
//! What an SDK sends it (shared/azure-api/aks-identity-bindings/proxy-token-request.http):
//! the ordinary client-credentials POST with the pod's service-account token (audience
//! `api://AKSIdentityBinding`, the cluster's issuer) as `client_assertion`, at any path. The
//! proxy then, as AKS's concepts page describes it (identity-bindings-concepts.md):
//! 1. asks the API server whether the token is valid for that audience (TokenReview);
//! 2. asks RBAC whether that service account may `use-managed-identity` on
//!    `cid.wi.aks.azure.com/<client id>` (SubjectAccessReview, cluster-wide);
//! 3. finds the identity binding of that identity in this cluster (the ARM clusters whose OIDC
//!    issuer is the token's) and requires it `Succeeded`;
//! 4. signs an assertion as the identity's binding issuer
//!    (`https://ib.oic.prod-aks.azure.com/<tenant>/<client id>`) and exchanges it at Entra,
//!    which matches it against the `aks-identity-binding` credential like any other FIC.
//!
//! Entra's answer is passed through. The proxy's own refusals (steps 1-3) use the OAuth error
//! shape `{"error","error_description"}` with 400/401/403; AKS's real status and body for them
//! are UNCONFIRMED (shared/reference/identity-bindings.md §7), so clients should key on the
//! status and on the absence of an AADSTS code, not on the text. Other requests (MSAL's
//! discovery GETs, which the SDK's transport also sends here) are answered as Entra would.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::arm::identity_bindings::{self as ib, MANAGED_FIC_CLAIM};
use crate::entra::JWT_BEARER;
use crate::kube::{Kube, Review, User};
use crate::store::{ProvisioningState, Shared};

/// The projected token's audience for identity-binding pods (webhook flag
/// `--custom-token-endpoint-audience`, value of upstream's e2e and of AKS).
pub const AUDIENCE: &str = "api://AKSIdentityBinding";
/// The RBAC grant (MicrosoftDocs/azure-aks-docs articles/aks/identity-bindings.md): API group,
/// verb; the resource is the identity's client id.
pub const GRANT_GROUP: &str = "cid.wi.aks.azure.com";
pub const GRANT_VERB: &str = "use-managed-identity";
/// Lifetime of the binding-issuer assertion the proxy signs.
const ASSERTION_SECS: i64 = 600;

#[derive(Clone)]
pub struct ProxyState {
    pub st: Shared,
    pub kube: Arc<Kube>,
}

pub fn router(ps: ProxyState) -> Router {
    Router::new().fallback(handle).with_state(ps)
}

/// A refusal of the proxy itself (never an AADSTS code: those come from Entra only).
struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: String,
}

fn refuse(status: StatusCode, error: &'static str, description: String) -> Refusal {
    Refusal {
        status,
        error,
        description,
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        eprintln!(
            "azure-emulator: identity-binding proxy refused: {}",
            self.description
        );
        let body = json!({"error": self.error, "error_description": self.description});
        (self.status, axum::Json(body)).into_response()
    }
}

async fn handle(State(ps): State<ProxyState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path().to_string();
    let resp = if parts.method == Method::POST {
        exchange(&ps, &body)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    } else {
        crate::entra_route(&ps.st, &parts.method, &path, parts.uri.query(), &body).await
    };
    eprintln!(
        "azure-emulator: identity-binding proxy {} {path} -> {}",
        parts.method,
        resp.status().as_u16()
    );
    resp
}

async fn exchange(ps: &ProxyState, body: &[u8]) -> Result<Response, Refusal> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |k: &str| form.get(k).filter(|v| !v.is_empty());
    let (Some(client_id), Some(assertion)) = (field("client_id"), field("client_assertion")) else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the request must carry client_id and client_assertion (the pod's service-account token)".into(),
        ));
    };
    if field("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("client_assertion_type must be '{JWT_BEARER}'"),
        ));
    }
    let client_id = client_id.to_ascii_lowercase();
    let user = match ps.kube.review(assertion, AUDIENCE).await {
        Ok(Review::Authenticated(u)) => u,
        Ok(Review::Rejected(why)) => {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                format!(
                    "the cluster did not accept the service account token for audience '{AUDIENCE}': {why}"
                ),
            ));
        }
        Err(e) => return Err(unavailable(e)),
    };
    authorize(ps, &user, &client_id).await?;
    let issuer = crate::jwt::decode(assertion)
        .ok()
        .and_then(|d| d.claims["iss"].as_str().map(str::to_string))
        .unwrap_or_default();
    let tenant = binding_tenant(&ps.st, &issuer, &client_id)?;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &client_id)
        .append_pair("client_assertion_type", JWT_BEARER)
        .append_pair(
            "client_assertion",
            &binding_assertion(&ps.st, &tenant, &client_id),
        )
        .append_pair(
            "scope",
            form.get("scope").map(String::as_str).unwrap_or_default(),
        )
        .finish();
    Ok(crate::entra::token(&ps.st, &tenant, form.as_bytes()).await)
}

fn unavailable(e: String) -> Refusal {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        format!("the identity-binding proxy could not reach the API server: {e}"),
    )
}

/// Step 2: the service account must hold `use-managed-identity` on the client id.
async fn authorize(ps: &ProxyState, user: &User, client_id: &str) -> Result<(), Refusal> {
    let decision = ps
        .kube
        .may(user, GRANT_GROUP, client_id, GRANT_VERB)
        .await
        .map_err(unavailable)?;
    if decision.allowed {
        return Ok(());
    }
    let reason = if decision.reason.is_empty() {
        String::new()
    } else {
        format!(" ({})", decision.reason)
    };
    Err(refuse(
        StatusCode::FORBIDDEN,
        "unauthorized_client",
        format!(
            "'{}' may not use managed identity '{client_id}': RBAC does not grant verb '{GRANT_VERB}' on resource '{client_id}' of API group '{GRANT_GROUP}' cluster-wide{reason}",
            user.username
        ),
    ))
}

/// Step 3: the binding of `client_id` in the cluster whose issuer signed the pod's token; the
/// identity's tenant when it is `Succeeded`.
fn binding_tenant(st: &Shared, issuer: &str, client_id: &str) -> Result<String, Refusal> {
    let mut w = st.world();
    // Operations due by now have landed, as ARM's front door sees them.
    crate::arm::lro::settle(&mut w);
    let mut seen: Option<(String, ProvisioningState)> = None;
    for s in w.subs.values() {
        for c in s.clusters.values() {
            if c.issuer_url.as_deref() != Some(issuer) {
                continue;
            }
            for b in c.identity_bindings.values() {
                if !b.client_id.eq_ignore_ascii_case(client_id) {
                    continue;
                }
                if b.state == ProvisioningState::Succeeded {
                    return Ok(b.tenant_id.clone());
                }
                seen = Some((b.name.clone(), b.state));
            }
        }
    }
    Err(match seen {
        Some((name, state)) => refuse(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            format!(
                "identity binding '{name}' of managed identity '{client_id}' is {}, not Succeeded",
                state.as_str()
            ),
        ),
        None => refuse(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            format!(
                "no identity binding of managed identity '{client_id}' in this cluster (issuer '{issuer}')"
            ),
        ),
    })
}

/// Step 4: the assertion AKS's token provider would sign as the identity's binding issuer;
/// subject and audience are the (UNCONFIRMED) values the emulator gives AKS's credential.
fn binding_assertion(st: &Shared, tenant: &str, client_id: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    st.signer.sign(&json!({
        "iss": ib::issuer_url(tenant, client_id),
        "sub": MANAGED_FIC_CLAIM,
        "aud": MANAGED_FIC_CLAIM,
        "iat": now,
        "nbf": now,
        "exp": now + ASSERTION_SECS,
        "jti": crate::store::guid(),
    }))
}

/// Entra fetches a binding issuer's keys from AKS; here AKS and Entra are one process, so the
/// binding issuers publish the emulator's own signing keys.
pub fn is_binding_issuer(iss: &str) -> bool {
    iss.starts_with(&format!("{}/", ib::IB_ISSUER_HOST))
}

pub fn binding_issuer_keys(st: &Shared) -> Value {
    st.signer.jwks()
}
