//! An OIDC issuer's discovery document and signing keys, fetched as Entra fetches them before it
//! trusts a federated token: anonymously, over https, `<issuer without its trailing />/.well-known/openid-configuration`,
//! then the document's `jwks_uri` (Microsoft Learn, "Workload identity federation": the issuer
//! must serve both publicly; Entra's AADSTS90061/50166 when it cannot fetch them).

use serde_json::Value;

/// What the issuer serves, once both documents were fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub discovery_url: String,
    pub jwks_uri: String,
    pub keys: usize,
}

/// Why Entra could not use the issuer: the URL it tried and what it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotServed {
    pub url: String,
    pub reason: String,
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, NotServed> {
    let failed = |reason: String| NotServed {
        url: url.to_string(),
        reason,
    };
    let resp = http
        .get(url)
        .timeout(super::http::SHORT)
        .send()
        .await
        .map_err(|e| failed(super::credential::chain(&e)))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(failed(format!("HTTP {status}")));
    }
    resp.json()
        .await
        .map_err(|e| failed(format!("not JSON: {e}")))
}

/// Fetches the discovery document and its JWKS with no credentials at all.
pub async fn fetch(http: &reqwest::Client, issuer: &str) -> Result<Served, NotServed> {
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let doc = get_json(http, &discovery_url).await?;
    let jwks_uri = doc["jwks_uri"]
        .as_str()
        .filter(|u| u.starts_with("https://"))
        .ok_or_else(|| NotServed {
            url: discovery_url.clone(),
            reason: "the document has no https jwks_uri".into(),
        })?
        .to_string();
    let jwks = get_json(http, &jwks_uri).await?;
    let keys = jwks["keys"].as_array().map_or(0, Vec::len);
    if keys == 0 {
        return Err(NotServed {
            url: jwks_uri,
            reason: "the key set has no keys".into(),
        });
    }
    Ok(Served {
        discovery_url,
        jwks_uri,
        keys,
    })
}
