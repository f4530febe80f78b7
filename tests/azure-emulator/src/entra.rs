//! Entra ID (login.microsoftonline.com) on the same host: discovery, signing keys and the v2.0
//! token endpoint with client secrets and federated (workload identity) client assertions.

use std::collections::HashMap;
use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::jwt;
use crate::store::{App, Fic, MismatchCodes, Settings, Shared, World, guid, secs};

pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew Entra tolerates on assertion exp/nbf.
const SKEW_SECS: i64 = 300;
pub const TOKEN_LIFETIME: i64 = 3599;
const WIF_DOC: &str =
    "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation";

/// Entra's token error body (see shared/azure-api/entra/README.md).
pub struct EntraError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
    /// The older AADSTS70021 form separates the trailer with CRLF, newer ones with a space.
    crlf: bool,
}

impl EntraError {
    fn new(status: StatusCode, error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            code,
            message: message.into(),
            crlf: false,
        }
    }
    fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
    }
    fn invalid_request(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", code, message)
    }
}

impl IntoResponse for EntraError {
    fn into_response(self) -> Response {
        let ts = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]Z"
            ))
            .unwrap_or_default();
        let (trace, corr) = (guid(), guid());
        let sep = if self.crlf { "\r\n" } else { " " };
        let desc = format!(
            "AADSTS{}: {}{sep}Trace ID: {trace}{sep}Correlation ID: {corr}{sep}Timestamp: {ts}",
            self.code, self.message
        );
        (
            self.status,
            axum::Json(json!({
                "error": self.error,
                "error_description": desc,
                "error_codes": [self.code],
                "timestamp": ts,
                "trace_id": trace,
                "correlation_id": corr,
                "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
            })),
        )
            .into_response()
    }
}

pub fn openid_configuration(st: &Shared, tenant: &str) -> Response {
    let b = &st.base_url;
    axum::Json(json!({
        "token_endpoint": format!("{b}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{b}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{b}/{tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{b}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{b}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{b}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
        "kerberos_endpoint": format!("{b}/{tenant}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
    .into_response()
}

/// MSAL's instance discovery; answers for whatever authority it is asked about.
pub fn instance_discovery(st: &Shared, query: &HashMap<String, String>) -> Response {
    let host = st.base_url.trim_start_matches("https://").to_string();
    let tenant = query
        .get("authorization_endpoint")
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next().map(str::to_string))
        })
        .unwrap_or_else(|| "common".into());
    axum::Json(json!({
        "tenant_discovery_endpoint": format!("{}/{tenant}/v2.0/.well-known/openid-configuration", st.base_url),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }))
    .into_response()
}

pub fn keys(st: &Shared) -> Response {
    axum::Json(st.signer.jwks()).into_response()
}

/// What a successful client authentication resolved to.
struct Principal {
    tenant: String,
    client_id: String,
    object_id: String,
    mirid: Option<String>,
    /// Graph application permissions, put in Graph tokens' `roles`.
    graph_roles: Vec<String>,
}

pub async fn token(st: &Shared, tenant: &str, body: &[u8]) -> Response {
    match token_inner(st, tenant, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn token_inner(st: &Shared, tenant: &str, body: &[u8]) -> Result<Response, EntraError> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    // Counted per client, answered or refused: a test sees how often a client asked.
    if let Some(c) = form.get("client_id") {
        *st.world()
            .token_requests
            .entry(c.to_ascii_lowercase())
            .or_default() += 1;
    }
    let missing = |p: &str| {
        EntraError::invalid_request(
            900144,
            format!("The request body must contain the following parameter: '{p}'."),
        )
    };
    let tenant = tenant.to_ascii_lowercase();
    if !st.world().tenants.contains(&tenant) {
        return Err(EntraError::invalid_request(
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        ));
    }
    let grant = form
        .get("grant_type")
        .ok_or_else(|| missing("grant_type"))?;
    if grant != "client_credentials" {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| missing("client_id"))?
        .to_ascii_lowercase();
    let scope = form.get("scope").ok_or_else(|| missing("scope"))?;
    let Some(resource) = scope
        .split_whitespace()
        .find_map(|s| s.strip_suffix("/.default"))
    else {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    };
    let not_found = || {
        EntraError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    };

    let principal = if let Some(secret) = form.get("client_secret") {
        let w = st.world();
        let app = w
            .apps
            .get(&client_id)
            .filter(|a| a.tenant_id == tenant)
            .ok_or_else(not_found)?;
        usable(app, &not_found)?;
        if app.secret.as_ref() != Some(secret) {
            return Err(EntraError::invalid_client(
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            ));
        }
        Principal {
            tenant: tenant.clone(),
            client_id: app.client_id.clone(),
            object_id: app.object_id.clone(),
            mirid: None,
            graph_roles: app.graph_roles.clone(),
        }
    } else if let Some(assertion) = form.get("client_assertion") {
        if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
            return Err(EntraError::invalid_request(
                700023,
                format!("Client assertion type must be '{JWT_BEARER}'."),
            ));
        }
        federated(st, &tenant, &client_id, assertion, not_found).await?
    } else {
        return Err(EntraError::invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    };
    Ok(axum::Json(issue(st, &principal, resource)).into_response())
}

fn audience_for(resource: &str) -> String {
    // ARM's v1 audience keeps its trailing slash; other resources are used as given.
    match resource {
        "https://management.azure.com" | "https://management.core.windows.net" => {
            format!("{resource}/")
        }
        r => r.to_string(),
    }
}

fn issue(st: &Shared, p: &Principal, resource: &str) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let iss = format!("https://sts.windows.net/{}/", p.tenant);
    let mut claims = json!({
        "aud": audience_for(resource),
        "iss": iss,
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME,
        "appid": p.client_id,
        "azp": p.client_id,
        "appidacr": if p.mirid.is_some() { "2" } else { "1" },
        "idp": iss,
        "idtyp": "app",
        "oid": p.object_id,
        "sub": p.object_id,
        "tid": p.tenant,
        "uti": guid().replace('-', ""),
        "ver": "1.0",
    });
    if let Some(m) = &p.mirid {
        claims["xms_mirid"] = json!(m);
    }
    // Application permissions travel in `roles`, only in tokens for the API that defines them.
    if crate::graph::GRAPH_AUDIENCES.contains(&claims["aud"].as_str().unwrap_or_default())
        && !p.graph_roles.is_empty()
    {
        claims["roles"] = json!(p.graph_roles);
    }
    json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": st.signer.sign(&claims),
    })
}

/// Workload identity federation, in Entra's order: find the app (managed identity), find FICs
/// for the token's issuer, fetch the issuer's discovery + JWKS anonymously, verify, then match
/// subject and audience exactly, and finally honour the FIC propagation delay.
async fn federated(
    st: &Shared,
    tenant: &str,
    client_id: &str,
    assertion: &str,
    not_found: impl Fn() -> EntraError,
) -> Result<Principal, EntraError> {
    let malformed = || EntraError::invalid_request(50027, "JWT token is invalid or malformed.");
    let decoded = jwt::decode(assertion).map_err(|_| malformed())?;
    let claims = decoded.claims.clone();
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(malformed)?
        .to_string();
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let auds: Vec<String> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let first_aud = auds.first().cloned().unwrap_or_default();

    let Federated {
        fics,
        principal,
        settings,
        name,
    } = {
        let w = st.world();
        match managed_identity(&w, tenant, client_id) {
            Some(found) => found,
            None => application(&w, tenant, client_id, &not_found)?,
        }
    };
    let (fic_delay, clock_offset, codes) = (
        secs(settings.fic_propagation_seconds),
        settings.clock_offset_seconds,
        settings.fic_mismatch_codes,
    );
    let no_match_70021 = || {
        let mut e = EntraError::invalid_request(
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{first_aud}'. {WIF_DOC}"
            ),
        );
        e.crlf = true;
        e
    };
    // A credential still propagating is not there yet for the token service. An identity with
    // none it can see answers 70025, the code public reports show for an app or identity
    // without any federated credential (and for the minutes after the first one is created).
    // Which code a mismatch gets: the per-field codes, or the one generic 70021 (both are in
    // public reports for the same mistake; the control API picks).
    let mismatch = |specific: EntraError| match codes {
        MismatchCodes::Specific => specific,
        MismatchCodes::Generic => no_match_70021(),
    };
    let none_configured = || {
        EntraError::invalid_client(
            70025,
            format!(
                "The client '{name}'({client_id}) has no configured federated identity credentials."
            ),
        )
    };
    if fics.is_empty() {
        return Err(none_configured());
    }
    let now_instant = Instant::now();
    let fics: Vec<Fic> = fics
        .into_iter()
        .filter(|f| f.changed + fic_delay <= now_instant)
        .collect();
    if fics.is_empty() {
        // Only credentials still propagating: reported both as 70025 and as 70021.
        return Err(mismatch(none_configured()));
    }
    let by_issuer: Vec<&Fic> = fics.iter().filter(|f| f.issuer == iss).collect();
    if by_issuer.is_empty() {
        return Err(mismatch(EntraError::invalid_client(
            700211,
            format!(
                "No matching federated identity record found for presented assertion issuer '{iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {WIF_DOC}"
            ),
        )));
    }

    let jwks = fetch_issuer_keys(st, &iss).await?;
    match decoded.verify(&jwks) {
        Ok(()) => {}
        Err(jwt::JwtError::KeyNotFound(kid)) => {
            return Err(EntraError::invalid_client(
                700027,
                format!(
                    "Client assertion failed signature validation. [Reason - The key was not found., Key id of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]",
                    kid.unwrap_or_default()
                ),
            ));
        }
        Err(_) => {
            return Err(EntraError::invalid_client(
                700027,
                "Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]",
            ));
        }
    }

    let now = time::OffsetDateTime::now_utc().unix_timestamp() + clock_offset;
    let exp = claims.get("exp").and_then(Value::as_i64);
    let nbf = claims
        .get("nbf")
        .and_then(Value::as_i64)
        .or_else(|| claims.get("iat").and_then(Value::as_i64));
    let out_of_range =
        exp.is_none_or(|e| e + SKEW_SECS < now) || nbf.is_some_and(|n| n - SKEW_SECS > now);
    if out_of_range {
        let fmt = |t: Option<i64>| {
            t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default()
        };
        return Err(EntraError::invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
                fmt(Some(now)),
                fmt(nbf),
                fmt(exp)
            ),
        ));
    }

    let by_subject: Vec<&&Fic> = by_issuer.iter().filter(|f| f.subject == sub).collect();
    if by_subject.is_empty() {
        return Err(mismatch(EntraError::invalid_client(
            700213,
            format!(
                "No matching federated identity record found for presented assertion subject '{sub}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {WIF_DOC}"
            ),
        )));
    }
    if !by_subject
        .iter()
        .any(|f| f.audiences.iter().any(|a| auds.contains(a)))
    {
        return Err(mismatch(EntraError::invalid_client(
            700212,
            format!(
                "No matching federated identity record found for presented assertion audience '{first_aud}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {WIF_DOC}"
            ),
        )));
    }
    Ok(principal)
}

/// What the client id of a federated request names: its credentials, the principal a token
/// is issued to, and the settings of the subscription it lives in (or of its tenant's first).
struct Federated {
    fics: Vec<Fic>,
    principal: Principal,
    settings: Settings,
    name: String,
}

fn managed_identity(w: &World, tenant: &str, client_id: &str) -> Option<Federated> {
    let (s, i) = w.subs.values().find_map(|s| {
        s.identities
            .values()
            .find(|i| i.client_id == client_id && i.tenant_id == tenant)
            .map(|i| (s, i))
    })?;
    Some(Federated {
        fics: i.fics.clone(),
        principal: Principal {
            tenant: tenant.to_string(),
            client_id: i.client_id.clone(),
            object_id: i.principal_id.clone(),
            mirid: Some(crate::arm::msi::identity_id(&s.id, &i.rg, &i.name)),
            graph_roles: Vec::new(),
        },
        settings: s.settings.clone(),
        name: i.name.clone(),
    })
}

/// An application registration: usable only through an enabled service principal in the
/// tenant; its credentials are the application object's.
fn application(
    w: &World,
    tenant: &str,
    client_id: &str,
    not_found: &impl Fn() -> EntraError,
) -> Result<Federated, EntraError> {
    let app = w
        .apps
        .get(client_id)
        .filter(|a| a.tenant_id == tenant)
        .ok_or_else(not_found)?;
    usable(app, not_found)?;
    Ok(Federated {
        fics: app.fics.iter().map(|f| f.fic.clone()).collect(),
        principal: Principal {
            tenant: tenant.to_string(),
            client_id: app.client_id.clone(),
            object_id: app.object_id.clone(),
            mirid: None,
            graph_roles: app.graph_roles.clone(),
        },
        settings: app_settings(w, tenant, app),
        name: app.display_name.clone(),
    })
}

/// An application lives in no subscription, so the test control's per-subscription settings
/// it sees are those of its own principal's subscription, or of the subscription whose
/// principal created it: tests that share the tenant (and run at once) then never see each
/// other's settings, such as a clock set ahead. Otherwise the tenant's first subscription's.
fn app_settings(w: &World, tenant: &str, app: &App) -> Settings {
    let home = app.home_subscription.clone().or_else(|| {
        app.owners.iter().find_map(|owner| {
            w.apps
                .values()
                .find(|a| a.object_id.eq_ignore_ascii_case(owner))
                .and_then(|a| a.home_subscription.clone())
        })
    });
    home.and_then(|id| w.subs.get(&id))
        .or_else(|| {
            w.subs
                .values()
                .filter(|s| s.tenant_id == tenant)
                .min_by(|a, b| a.id.cmp(&b.id))
        })
        .map(|s| s.settings.clone())
        .unwrap_or_default()
}

/// An application without a service principal in the tenant is "not found in the directory"
/// (AADSTS700016, whose text names the missing installation); a disabled one is AADSTS7000112
/// `unauthorized_client` "Application '…'(…) is disabled." (MicrosoftDocs/azure-docs#28469,
/// Worklytics/psoxy#74, which also shows the fix `az ad sp update --set accountEnabled=true`).
fn usable(app: &App, not_found: &impl Fn() -> EntraError) -> Result<(), EntraError> {
    match &app.sp {
        None => Err(not_found()),
        Some(sp) if !sp.account_enabled => Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            7000112,
            format!(
                "Application '{}'({}) is disabled.",
                app.client_id, app.display_name
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// Fetch `{iss}/.well-known/openid-configuration` (exactly one `/` joined, as Entra does) and
/// its `jwks_uri`, anonymously over https.
async fn fetch_issuer_keys(st: &Shared, iss: &str) -> Result<Value, EntraError> {
    if crate::ib_proxy::is_binding_issuer(iss) {
        return Ok(crate::ib_proxy::binding_issuer_keys(st));
    }
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        iss.trim_end_matches('/')
    );
    let fail = |url: &str, why: String| {
        EntraError::invalid_request(
            90061,
            format!("Request to External OIDC endpoint failed. Endpoint: '{url}'. Reason: {why}."),
        )
    };
    let get = |url: String| async move {
        if !url.starts_with("https://") {
            return Err(fail(&url, "the endpoint is not https".into()));
        }
        let resp = st
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| fail(&url, format!("{e}")))?;
        if !resp.status().is_success() {
            return Err(fail(&url, format!("HTTP {}", resp.status().as_u16())));
        }
        resp.json::<Value>()
            .await
            .map_err(|e| fail(&url, format!("invalid JSON: {e}")))
    };
    let doc = get(discovery.clone()).await?;
    let jwks_uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| fail(&discovery, "no jwks_uri in the discovery document".into()))?
        .to_string();
    get(jwks_uri).await
}
