//! One HTTPS client per process for ARM, Microsoft Graph, Entra and issuer documents.
//!
//! Building a reqwest client builds rustls-platform-verifier's verifier, which on Linux reads
//! every trusted root certificate (SSL_CERT_FILE, each file of SSL_CERT_DIR, or the
//! distribution's bundle). `doctor pod/NAME` built four clients, so read them four times, one
//! after another before its first request (strace: 4 × 146 files). Built once here, they are
//! read once, and every call of the run shares one connection pool.

use std::{sync::OnceLock, time::Duration};

/// A dead or unreachable host is named within this.
const CONNECT: Duration = Duration::from_secs(10);
/// The longest one ARM or Graph request may take (long-running operations are polled).
const REQUEST: Duration = Duration::from_secs(60);
/// Entra's token endpoint and an issuer's documents: set per request, they answer far sooner.
pub const SHORT: Duration = Duration::from_secs(30);

/// The process's client (a cheap clone: reqwest's client is a handle).
pub fn shared() -> Result<reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(CONNECT)
                .timeout(REQUEST)
                .build()
                .map_err(|e| super::credential::chain(&e))
        })
        .clone()
}
