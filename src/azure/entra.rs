//! The Entra token endpoint, for the one call workload identity makes: exchanging a federated
//! service-account token (`client_assertion`) for an access token. Entra's error JSON is parsed
//! into its code and AADSTS number so callers can explain it.

use serde::Deserialize;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An access token. No Debug or Display: it is a credential, and only `--show-token` shows it.
pub struct AccessToken(String);

impl AccessToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// What the token endpoint answered instead of a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntraError {
    #[error("{url}: {status} {error}: {description}")]
    Refused {
        url: String,
        status: u16,
        /// OAuth's `error`, e.g. `invalid_client`.
        error: String,
        description: String,
        /// The AADSTS number from `error_codes` or the description.
        aadsts: Option<u32>,
    },
    #[error("{url}: {reason}")]
    Transport { url: String, reason: String },
}

impl EntraError {
    pub fn aadsts(&self) -> Option<u32> {
        match self {
            EntraError::Refused { aadsts, .. } => *aadsts,
            EntraError::Transport { .. } => None,
        }
    }
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
}

#[derive(Deserialize, Default)]
struct ErrorReply {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u32>,
}

/// `{authority}{tenant}/oauth2/v2.0/token`, whether or not the authority ends with '/'.
pub fn token_url(authority: &str, tenant: &str) -> String {
    format!(
        "{}/{tenant}/oauth2/v2.0/token",
        authority.trim_end_matches('/')
    )
}

/// Parses Entra's error body (or anything else a proxy answered) into `Refused`.
pub fn refused(url: &str, status: u16, body: &str) -> EntraError {
    let reply: ErrorReply = serde_json::from_str(body).unwrap_or_default();
    let description = if reply.error_description.is_empty() {
        body.chars().take(300).collect()
    } else {
        // Entra appends "Trace ID: ... Timestamp: ..." on new lines: keep the sentence.
        reply
            .error_description
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let aadsts = reply
        .error_codes
        .first()
        .copied()
        .or_else(|| crate::wi::aadsts::code_in(&reply.error_description));
    EntraError::Refused {
        url: url.to_string(),
        status,
        error: reply.error,
        description,
        aadsts,
    }
}

/// A client that trusts what the process trusts (SSL_CERT_FILE included): the process's one.
pub fn http() -> Result<reqwest::Client, String> {
    super::http::shared()
}

/// The client-credentials grant with a federated assertion, as azure-identity's
/// WorkloadIdentityCredential sends it.
pub async fn exchange(
    http: &reqwest::Client,
    authority: &str,
    tenant: &str,
    client_id: &str,
    assertion: &str,
    scope: &str,
) -> Result<AccessToken, EntraError> {
    let url = token_url(authority, tenant);
    post_assertion(http, &url, None, client_id, assertion, scope).await
}

/// The token request itself, to `url`; `host` overrides the Host header (the AKS token proxy
/// is addressed by its TLS name but answers as its own host, as the SDKs send it).
pub async fn post_assertion(
    http: &reqwest::Client,
    url: &str,
    host: Option<&str>,
    client_id: &str,
    assertion: &str,
    scope: &str,
) -> Result<AccessToken, EntraError> {
    let url = url.to_string();
    let transport = |e: reqwest::Error| EntraError::Transport {
        url: url.clone(),
        reason: super::credential::chain(&e),
    };
    let mut req = http.post(&url).timeout(super::http::SHORT);
    if let Some(h) = host {
        req = req.header(reqwest::header::HOST, h);
    }
    let resp = req
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("scope", scope),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.trim()),
        ])
        .send()
        .await
        .map_err(transport)?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(transport)?;
    tracing::debug!(%url, status, "token exchange");
    if status != 200 {
        return Err(refused(&url, status, &body));
    }
    let reply: TokenReply = serde_json::from_str(&body).map_err(|e| EntraError::Transport {
        url: url.clone(),
        reason: format!("unexpected token response: {e}"),
    })?;
    Ok(AccessToken(reply.access_token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_or_without_slash() {
        assert_eq!(
            token_url("https://login.microsoftonline.com/", "t"),
            "https://login.microsoftonline.com/t/oauth2/v2.0/token"
        );
        assert_eq!(
            token_url("https://127.0.0.1:8443", "t"),
            "https://127.0.0.1:8443/t/oauth2/v2.0/token"
        );
    }

    #[test]
    fn parses_entra_errors() {
        let body = r#"{"error":"invalid_request","error_description":"AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:ns:x'.\r\nTrace ID: 1\r\nTimestamp: 2026-01-01 00:00:00Z","error_codes":[700213]}"#;
        let e = refused("u", 400, body);
        assert_eq!(e.aadsts(), Some(700213));
        let EntraError::Refused {
            error, description, ..
        } = &e
        else {
            panic!()
        };
        assert_eq!(error, "invalid_request");
        assert!(description.starts_with("AADSTS700213: No matching"));
        assert!(!description.contains("Trace ID"));
        // Without error_codes the number comes from the text; a non-JSON body is kept short.
        let e = refused(
            "u",
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS700016: Application not found"}"#,
        );
        assert_eq!(e.aadsts(), Some(700016));
        let e = refused("u", 502, "<html>bad gateway</html>");
        assert_eq!(e.aadsts(), None);
        assert!(e.to_string().contains("bad gateway"));
    }
}
