//! Microsoft Graph (`https://graph.microsoft.com`), the parts clients of this project call:
//! service principals, applications, users and directory objects, read-only. Tokens must be
//! Graph's (audience `https://graph.microsoft.com`); app-only callers need Graph application
//! permissions in the token's `roles`, as real Graph checks them.
//!
//! Requests reach it on the emulator's own host (`/v1.0/...`, `/beta/...`) and, for clients
//! that only know the real host (the Azure CLI takes Graph's URL from its token audience), as
//! `https://graph.microsoft.com` through the emulator's CONNECT proxy (see `crate::proxy`).

pub mod apps;
pub mod directory;
mod errors;
pub mod fics;

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use crate::store::Shared;
pub use errors::GraphError;

/// Audiences Graph accepts: its app id URI (with or without the trailing slash, as v1 tokens
/// carry it) and its application id (v2 tokens).
pub const GRAPH_AUDIENCES: [&str; 3] = [
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000",
];

/// Whether `path` is one of Graph's (the version segment comes first).
pub fn is_graph_path(path: &str) -> bool {
    path.starts_with("/v1.0/") || path.starts_with("/beta/") || path == "/v1.0" || path == "/beta"
}

/// Who called, from the Graph access token.
pub struct Caller {
    pub tid: String,
    /// The caller's client id (`appid`/`azp`), lower case.
    pub client_id: String,
    pub oid: String,
    /// Application permissions (`roles`) of an app-only token.
    pub roles: Vec<String>,
    /// `idtyp`: `app` for app-only tokens, `user` for delegated ones.
    pub app_only: bool,
}

impl Caller {
    /// Whether any of `perms` was granted (Graph's "least privileged ... or higher").
    pub fn has_any(&self, perms: &[&str]) -> bool {
        self.roles
            .iter()
            .any(|r| perms.iter().any(|p| p.eq_ignore_ascii_case(r)))
    }
}

/// One Graph request after authentication.
pub struct Req<'a> {
    pub st: &'a Shared,
    pub method: &'a Method,
    /// Path after the version segment, percent-decoded, e.g. `/servicePrincipals(appId='x')`.
    pub path: &'a str,
    pub query: &'a HashMap<String, String>,
    pub body: &'a [u8],
    pub caller: &'a Caller,
    /// `https://graph.microsoft.com/v1.0` as the caller addressed it (for `@odata.context`).
    pub base: String,
    /// `Prefer: create-if-missing`: a PATCH on an alternate key creates what is missing.
    pub prefer_create: bool,
}

impl Req<'_> {
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

pub async fn handle(
    st: &Shared,
    method: &Method,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let result = route(st, method, raw_path, raw_query, headers, body).await;
    errors::finish(result, client_request_id)
}

async fn route(
    st: &Shared,
    method: &Method,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, GraphError> {
    let caller = authenticate(st, headers)?;
    let path = crate::arm::percent_decode(raw_path);
    // getByIds is a read sent as POST.
    if method != Method::GET && !path.ends_with("/getByIds") {
        *st.world()
            .graph_writes
            .entry(caller.client_id.clone())
            .or_default() += 1;
    }

    let (version, rest) = match path.trim_start_matches('/').split_once('/') {
        Some((v, r)) => (v.to_string(), format!("/{r}")),
        None => (path.trim_start_matches('/').to_string(), "/".to_string()),
    };
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("graph.microsoft.com");
    let req = Req {
        st,
        method,
        path: &rest,
        query: &query,
        body,
        caller: &caller,
        base: format!("https://{host}/{version}"),
        prefer_create: headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim().eq_ignore_ascii_case("create-if-missing")),
    };
    apps::route(&req).unwrap_or_else(|| directory::route(&req))
}

fn authenticate(st: &Shared, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .filter(|t| !t.is_empty())
    else {
        return Err(GraphError::unauthorized("Access token is empty."));
    };
    let invalid = || {
        GraphError::unauthorized(
            "Access token validation failure. Invalid audience, signature or format.",
        )
    };
    let claims = st.own_token_claims(token).ok_or_else(invalid)?;
    let c = &claims;
    let aud = c.get("aud").and_then(Value::as_str).unwrap_or("");
    if !GRAPH_AUDIENCES.contains(&aud) {
        return Err(GraphError::unauthorized(
            "Access token validation failure. Invalid audience.",
        ));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if c.get("exp").and_then(Value::as_i64).unwrap_or(0) <= now {
        return Err(GraphError::unauthorized(
            "Lifetime validation failed, the token is expired.",
        ));
    }
    let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Caller {
        client_id: s("appid")
            .or_else(|| s("azp"))
            .unwrap_or_default()
            .to_ascii_lowercase(),
        tid: s("tid").ok_or_else(invalid)?,
        oid: s("oid").ok_or_else(invalid)?,
        roles: c
            .get("roles")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        app_only: s("idtyp").as_deref() != Some("user"),
    })
}

/// 200 with a JSON body and Graph's content type.
pub fn ok(v: Value) -> Result<Response, GraphError> {
    Ok(errors::json_response(StatusCode::OK, v))
}
