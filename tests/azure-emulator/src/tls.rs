//! Serving certificate (generated CA + leaf, or files) and the outbound trust store.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// PEM material the server presents, plus the PEM a client must trust.
pub struct ServingCert {
    pub chain_pem: String,
    pub key_pem: String,
    pub ca_pem: String,
}

/// A throw-away CA and a leaf for 127.0.0.1/localhost (and the hosts the CONNECT proxy
/// answers for): tests trust the CA, never the leaf.
pub fn generate() -> Result<ServingCert, Error> {
    let ca_key = KeyPair::generate().map_err(tls_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "azure-emulator test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_err)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let leaf_key = KeyPair::generate().map_err(tls_err)?;
    let mut names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
    names.extend(crate::proxy::PROXIED_HOSTS.iter().map(|h| h.to_string()));
    let mut leaf = CertificateParams::new(names).map_err(tls_err)?;
    leaf.distinguished_name
        .push(DnType::CommonName, "azure-emulator");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // OpenSSL 3 strict mode (Python >= 3.13) wants an AKI on the leaf.
    leaf.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(tls_err)?;
    Ok(ServingCert {
        chain_pem: leaf_cert.pem(),
        key_pem: leaf_key.serialize_pem(),
        ca_pem: ca_cert.pem(),
    })
}

pub fn load(cert_path: &std::path::Path, key_path: &std::path::Path) -> Result<ServingCert, Error> {
    let chain_pem = std::fs::read_to_string(cert_path)
        .map_err(|e| Error::Tls(format!("read {}: {e}", cert_path.display())))?;
    let key_pem = std::fs::read_to_string(key_path)
        .map_err(|e| Error::Tls(format!("read {}: {e}", key_path.display())))?;
    // Without a separate CA file, the chain itself is what a client has to trust.
    Ok(ServingCert {
        ca_pem: chain_pem.clone(),
        chain_pem,
        key_pem,
    })
}

pub fn server_config(cert: &ServingCert) -> Result<Arc<rustls::ServerConfig>, Error> {
    let certs = CertificateDer::pem_slice_iter(cert.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(tls_err)?;
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).map_err(tls_err)?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(tls_err)?;
    // The server speaks HTTP/1.1 only; advertising it keeps ALPN clients honest.
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Outbound client config trusting exactly the given PEM bundles (no public roots: no internet).
pub fn client_config(pems: &[&str]) -> Result<rustls::ClientConfig, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for pem in pems {
        for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(der.map_err(tls_err)?).map_err(tls_err)?;
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn tls_err(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}
