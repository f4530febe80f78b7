//! The token request through the AKS identity-binding proxy, made as the Azure SDKs make it
//! (src/wi/token_proxy.rs has the rules): TCP to the proxy's address, TLS under the SNI name,
//! trusting only the pod's CA, Host = the proxy's own host, the ordinary client-credentials
//! form. The Rust SDK does it the same way with reqwest: it pins the SNI name to the proxy's
//! resolved addresses and keeps the Host header (azure_identity 1.1.0-beta.1
//! custom_token_proxy.rs).

use std::{net::SocketAddr, time::Duration};

use super::entra::{self, AccessToken, EntraError};
use crate::wi::token_proxy::Route;

/// The CA the pod's SDK trusts: its PEM, or (no CA set in the pod) the system's roots.
pub enum Trust<'a> {
    Pem(&'a str),
    System,
}

/// The pod's token exchanged through the proxy along `route`.
pub async fn exchange(
    route: &Route,
    trust: Trust<'_>,
    client_id: &str,
    assertion: &str,
    scope: &str,
) -> Result<AccessToken, EntraError> {
    let http = client(route, trust).await?;
    let host = Some(route.host_header.as_str());
    entra::post_assertion(&http, &route.url, host, client_id, assertion, scope).await
}

async fn client(route: &Route, trust: Trust<'_>) -> Result<reqwest::Client, EntraError> {
    let fail = |reason: String| EntraError::Transport {
        url: route.url.clone(),
        reason,
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(route.connect.as_str())
        .await
        .map_err(|e| fail(format!("cannot resolve {}: {e}", route.connect)))?
        .collect();
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .resolve_to_addrs(&route.tls_name, &addrs);
    if let Trust::Pem(pem) = trust {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| fail(format!("the pod's CA is not PEM: {e}")))?;
        if certs.is_empty() {
            return Err(fail("the pod's CA holds no certificate".into()));
        }
        // Only the pod's CA, as the SDKs pin it: system roots are replaced, not added to.
        b = b.tls_certs_only(certs);
    }
    b.build().map_err(|e| fail(super::credential::chain(&e)))
}
