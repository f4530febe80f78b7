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
    })
    .await?;
    if let Some(p) = &args.write_ca {
        std::fs::write(p, emu.ca_pem()).map_err(|e| format!("write {}: {e}", p.display()))?;
    }
    println!("azure-emulator listening on {}", emu.url());
    use std::io::Write;
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c().await?;
    eprintln!("azure-emulator: shutting down");
    Ok(())
}
