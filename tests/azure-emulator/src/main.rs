//! `azure-emulator` binary: serves until killed; prints one ready line on stdout.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Azure ARM + Entra + OIDC issuer emulator for kubectl-azwi tests"
)]
struct Args {
    /// Address to listen on, e.g. 127.0.0.1:8443 (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Serving certificate chain (PEM); default: a generated CA + leaf for 127.0.0.1/localhost.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Serving private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Write the CA certificate (PEM) clients must trust to this file.
    #[arg(long)]
    write_ca: Option<PathBuf>,
    /// Extra CA (PEM file) trusted for outbound https (issuer discovery / JWKS upstream).
    #[arg(long)]
    trust_ca: Option<PathBuf>,
    /// Serve an OIDC issuer at this path, e.g. /<tenant>/<uuid>/.
    #[arg(long, requires = "issuer_jwks_upstream")]
    issuer_path: Option<String>,
    /// JWKS the issuer host mirrors (e.g. https://127.0.0.1:6443/openid/v1/jwks).
    #[arg(long, requires = "issuer_path")]
    issuer_jwks_upstream: Option<String>,
    /// Also serve the AKS identity-binding token proxy on this address.
    #[arg(
        long,
        requires = "ib_proxy_cert",
        requires = "ib_proxy_key",
        requires = "kube_apiserver",
        requires = "kube_ca",
        requires = "kube_client_cert",
        requires = "kube_client_key"
    )]
    ib_proxy_listen: Option<SocketAddr>,
    /// The proxy's serving certificate (PEM; names the SNI pods are given).
    #[arg(long)]
    ib_proxy_cert: Option<PathBuf>,
    /// The proxy's serving key (PEM).
    #[arg(long)]
    ib_proxy_key: Option<PathBuf>,
    /// The cluster's API server (TokenReview, SubjectAccessReview), e.g. https://127.0.0.1:6443.
    #[arg(long)]
    kube_apiserver: Option<String>,
    /// CA (PEM file) of the API server.
    #[arg(long)]
    kube_ca: Option<PathBuf>,
    /// Client certificate (PEM file) the proxy authenticates to the API server with.
    #[arg(long)]
    kube_client_cert: Option<PathBuf>,
    /// Its key (PEM file).
    #[arg(long)]
    kube_client_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let trust_ca_pem = match &args.trust_ca {
        Some(p) => {
            Some(std::fs::read_to_string(p).map_err(|e| format!("read {}: {e}", p.display()))?)
        }
        None => None,
    };
    let ib_proxy = ib_proxy_config(&args);
    let issuer = match (args.issuer_path, args.issuer_jwks_upstream) {
        (Some(path), Some(jwks_upstream)) => Some(azure_emulator::IssuerConfig {
            path,
            jwks_upstream,
        }),
        _ => None,
    };
    let emu = azure_emulator::spawn(azure_emulator::Config {
        listen: args.listen,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        trust_ca_pem,
        issuer,
        ib_proxy,
    })
    .await?;
    if let Some(p) = &args.write_ca {
        std::fs::write(p, emu.ca_pem()).map_err(|e| format!("write {}: {e}", p.display()))?;
    }
    if let Some(u) = emu.ib_proxy_url() {
        eprintln!("azure-emulator: identity-binding proxy on {u}");
    }
    println!("azure-emulator listening on {}", emu.url());
    use std::io::Write;
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c().await?;
    eprintln!("azure-emulator: shutting down");
    Ok(())
}

/// All of the proxy's flags or none (clap's `requires` saw to that).
fn ib_proxy_config(a: &Args) -> Option<azure_emulator::IbProxyConfig> {
    Some(azure_emulator::IbProxyConfig {
        listen: a.ib_proxy_listen?,
        tls_cert: a.ib_proxy_cert.clone()?,
        tls_key: a.ib_proxy_key.clone()?,
        kube: azure_emulator::kube::KubeConfig {
            server: a.kube_apiserver.clone()?,
            ca: a.kube_ca.clone()?,
            client_cert: a.kube_client_cert.clone()?,
            client_key: a.kube_client_key.clone()?,
        },
    })
}
