//! AKS-like OIDC issuer host: `https://HOST/<tenant>/<uuid>/` serving discovery and a JWKS that
//! mirrors an upstream (the test cluster's kube-apiserver) or a static key set.

use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::store::{IssuerMode, JWKS_CACHE, JwksSource, Shared};

/// `/a/b` or `a/b/` -> `/a/b/` (AKS issuers end with a slash).
pub fn normalize_path(p: &str) -> String {
    format!("/{}/", p.trim_matches('/'))
}

/// Which registered issuer (if any) serves this request path.
pub fn match_path(st: &Shared, path: &str) -> Option<(String, String)> {
    let w = st.world();
    w.issuers
        .keys()
        .find(|p| path.starts_with(p.as_str()))
        .map(|p| (p.clone(), path[p.len()..].to_string()))
}

pub async fn serve(st: &Shared, issuer_path: &str, rest: &str) -> Response {
    let mode = match st.world().issuers.get(issuer_path) {
        Some(i) => i.mode,
        None => return StatusCode::NOT_FOUND.into_response(),
    };
    if mode == IssuerMode::NotFound {
        return StatusCode::NOT_FOUND.into_response();
    }
    let base = format!("{}{issuer_path}", st.base_url);
    match rest {
        ".well-known/openid-configuration" => axum::Json(json!({
            "issuer": base,
            "jwks_uri": format!("{base}openid/v1/jwks"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
        .into_response(),
        "openid/v1/jwks" => match jwks(st, issuer_path, mode).await {
            Ok(v) => axum::Json(v).into_response(),
            Err(e) => (StatusCode::BAD_GATEWAY, e).into_response(),
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn jwks(st: &Shared, issuer_path: &str, mode: IssuerMode) -> Result<Value, String> {
    let upstream = {
        let w = st.world();
        let i = w.issuers.get(issuer_path).ok_or("issuer removed")?;
        if mode == IssuerMode::WrongKey {
            return Ok(i.wrong_key.jwks());
        }
        match (&i.jwks, &i.cache) {
            (JwksSource::Static(v), _) => return Ok(v.clone()),
            (JwksSource::Upstream(_), Some((at, v))) if at.elapsed() < JWKS_CACHE => {
                return Ok(v.clone());
            }
            (JwksSource::Upstream(u), _) => u.clone(),
        }
    };
    // The upstream (kube-apiserver /openid/v1/jwks) is readable anonymously.
    let resp = st
        .http
        .get(&upstream)
        .send()
        .await
        .map_err(|e| format!("fetch {upstream}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("fetch {upstream}: HTTP {}", resp.status()));
    }
    let v: Value = resp
        .json()
        .await
        .map_err(|e| format!("fetch {upstream}: {e}"))?;
    if let Some(i) = st.world().issuers.get_mut(issuer_path) {
        i.cache = Some((Instant::now(), v.clone()));
    }
    Ok(v)
}
