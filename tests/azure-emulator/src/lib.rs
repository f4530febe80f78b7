//! Azure emulator for kubectl-azwi tests: ARM (resource groups, managed identities + federated
//! credentials, role assignments/definitions, AKS clusters), the Entra token endpoint,
//! Microsoft Graph (directory reads) and an AKS-like OIDC issuer host, all over HTTPS on one
//! port, which is also an HTTP CONNECT proxy for `graph.microsoft.com`. See README.md.

pub mod arm;
pub mod control;
pub mod entra;
pub mod graph;
pub mod ib_proxy;
pub mod issuer;
pub mod jwt;
pub mod kube;
pub mod proxy;
pub mod store;
pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use store::{AppState, JwksSource, Shared, World};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("tls: {0}")]
    Tls(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("http client: {0}")]
    Http(String),
}

/// An issuer host to serve from the start (the bin's `--issuer-path`).
#[derive(Clone, Debug)]
pub struct IssuerConfig {
    /// `/<tenant>/<uuid>/`
    pub path: String,
    /// JWKS to mirror (e.g. kube-apiserver `/openid/v1/jwks`).
    pub jwks_upstream: String,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Default `127.0.0.1:0` (any free port).
    pub listen: SocketAddr,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Extra CA (PEM) trusted for outbound https: issuer discovery and JWKS fetches.
    pub trust_ca_pem: Option<String>,
    pub issuer: Option<IssuerConfig>,
    pub ib_proxy: Option<IbProxyConfig>,
}

/// The AKS identity-binding token proxy (src/ib_proxy.rs) on a port of its own.
#[derive(Clone, Debug)]
pub struct IbProxyConfig {
    pub listen: SocketAddr,
    /// Serving certificate (names the SNI the pods are given) and key, PEM files.
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// The cluster's API server, for TokenReview and SubjectAccessReview.
    pub kube: kube::KubeConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls_cert: None,
            tls_key: None,
            trust_ca_pem: None,
            issuer: None,
            ib_proxy: None,
        }
    }
}

/// A running emulator; it stops when dropped.
pub struct Emulator {
    url: String,
    ca_pem: String,
    addr: SocketAddr,
    state: Shared,
    _server: Listener,
    /// The identity-binding proxy's address and listener, when configured.
    ib_proxy: Option<(SocketAddr, Listener)>,
}

/// An accept loop and the connections it serves; both stop when dropped.
struct Listener {
    task: tokio::task::JoinHandle<()>,
    conns: Arc<Mutex<tokio::task::JoinSet<()>>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
        if let Ok(mut c) = self.conns.lock() {
            c.abort_all();
        }
    }
}

/// Serves `app` over TLS on `listener`, one task per connection. With `connect_proxy`, a
/// connection that does not start with a TLS ClientHello (0x16) is a proxy request first
/// (`CONNECT` to a proxied host, src/proxy.rs).
fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    connect_proxy: bool,
) -> Listener {
    let conns = Arc::new(Mutex::new(tokio::task::JoinSet::new()));
    let set = conns.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            let fut = async move {
                if connect_proxy {
                    let mut first = [0u8; 1];
                    match tcp.peek(&mut first).await {
                        Ok(1) if first[0] != 0x16 => {
                            if !proxy::accept_connect(&mut tcp).await {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .http1_only()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            };
            if let Ok(mut set) = set.lock() {
                // Reap finished connections so the set does not grow without bound.
                while set.try_join_next().is_some() {}
                set.spawn(fut);
            }
        }
    });
    Listener { task, conns }
}

impl Emulator {
    /// `https://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }
    /// PEM of the CA that signed the serving certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Direct access to the state, for in-process assertions.
    pub fn state(&self) -> &Shared {
        &self.state
    }
    /// `https://127.0.0.1:PORT` of the identity-binding proxy, when configured.
    pub fn ib_proxy_url(&self) -> Option<String> {
        self.ib_proxy.as_ref().map(|(a, _)| format!("https://{a}"))
    }
}

/// Installs aws-lc-rs as the process crypto provider (ignored when one is already installed).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

pub async fn spawn(config: Config) -> Result<Emulator, Error> {
    install_crypto_provider();
    let cert = match (&config.tls_cert, &config.tls_key) {
        (Some(c), Some(k)) => tls::load(c, k)?,
        (None, None) => tls::generate()?,
        _ => return Err(Error::Tls("--tls-cert and --tls-key go together".into())),
    };
    let server_cfg = tls::server_config(&cert)?;
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let url = format!("https://{addr}");

    // Outbound trust: our own CA (issuer hosts served by this emulator) plus the configured one.
    let mut pems = vec![cert.ca_pem.as_str()];
    if let Some(extra) = &config.trust_ca_pem {
        pems.push(extra.as_str());
    }
    let client_cfg = tls::client_config(&pems)?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(client_cfg)
        .timeout(std::time::Duration::from_secs(10))
        .no_proxy()
        .build()
        .map_err(|e| Error::Http(e.to_string()))?;

    let state: Shared = Arc::new(AppState {
        world: Mutex::new(World::default()),
        signer: jwt::RsaSigner::generate(),
        http,
        base_url: url.clone(),
    });
    if let Some(i) = &config.issuer {
        control::register_issuer(
            &state,
            &i.path,
            JwksSource::Upstream(i.jwks_upstream.clone()),
        );
    }

    let app = control::router(state.clone())
        .merge(Router::new().fallback(dispatch).with_state(state.clone()));
    let server = serve(listener, TlsAcceptor::from(server_cfg), app, true);
    let ib_proxy = match &config.ib_proxy {
        Some(c) => Some(spawn_ib_proxy(c, state.clone()).await?),
        None => None,
    };
    Ok(Emulator {
        url,
        ca_pem: cert.ca_pem,
        addr,
        state,
        _server: server,
        ib_proxy,
    })
}

/// The identity-binding proxy's own TLS listener (no CONNECT, its own certificate).
async fn spawn_ib_proxy(c: &IbProxyConfig, st: Shared) -> Result<(SocketAddr, Listener), Error> {
    let cert = tls::load(&c.tls_cert, &c.tls_key)?;
    let acceptor = TlsAcceptor::from(tls::server_config(&cert)?);
    let kube = Arc::new(kube::Kube::new(&c.kube)?);
    let app = ib_proxy::router(ib_proxy::ProxyState { st, kube });
    let listener = TcpListener::bind(c.listen).await?;
    let addr = listener.local_addr()?;
    Ok((addr, serve(listener, acceptor, app, false)))
}

/// Everything outside `/_emulator/`: ARM, issuer hosts, then Entra paths.
async fn dispatch(State(st): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 8 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path().to_string();
    let lower = path.to_ascii_lowercase();
    let started = std::time::Instant::now();
    let resp = if lower == "/metadata/endpoints" {
        arm::metadata::endpoints(&st, parts.uri.query())
    } else if graph::is_graph_path(&path) {
        graph::handle(
            &st,
            &parts.method,
            &path,
            parts.uri.query(),
            &parts.headers,
            &body,
        )
        .await
    } else if lower.starts_with("/subscriptions") || lower.starts_with("/providers/") {
        arm::handle(
            &st,
            &parts.method,
            &path,
            parts.uri.query(),
            &parts.headers,
            &body,
        )
        .await
    } else if let Some((ip, rest)) = issuer::match_path(&st, &path) {
        issuer::serve(&st, &ip, &rest).await
    } else {
        entra_route(&st, &parts.method, &path, parts.uri.query(), &body).await
    };
    eprintln!(
        "azure-emulator: {} {} -> {} ({} ms)",
        parts.method,
        path,
        resp.status().as_u16(),
        started.elapsed().as_millis()
    );
    resp
}

pub(crate) async fn entra_route(
    st: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Response {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", [t, "v2.0", ".well-known", "openid-configuration"])
        | ("GET", [t, ".well-known", "openid-configuration"]) => entra::openid_configuration(st, t),
        ("GET", ["common", "discovery", "instance"]) => {
            let q: HashMap<String, String> =
                url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                    .into_owned()
                    .collect();
            entra::instance_discovery(st, &q)
        }
        ("GET", [_, "discovery", "v2.0", "keys"]) | ("GET", [_, "discovery", "keys"]) => {
            entra::keys(st)
        }
        ("POST", [t, "oauth2", "v2.0", "token"]) => entra::token(st, t, body).await,
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
