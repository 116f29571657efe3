//! TLS for remote rapporteurs and co-chairs (wss://), with rustls and the ring
//! provider: the hub's certificate and key from PEM files, and the clients' trust
//! (the public web roots, or a CA file for a private certificate).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The hub's TLS configuration from a certificate chain and a private key (PEM).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not go together: {e}"))?;
    Ok(Arc::new(config))
}

/// The clients' TLS configuration: the web's roots, plus a CA file if given.
pub fn client_config(ca: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = ca {
        let certs = CertificateDer::pem_file_iter(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let mut added = 0;
        for cert in certs {
            let cert = cert.map_err(|e| format!("{}: {e}", ca.display()))?;
            roots.add(cert).map_err(|e| format!("{}: {e}", ca.display()))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("{}: no certificate in the file", ca.display()));
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

static CLIENT: OnceLock<Arc<ClientConfig>> = OnceLock::new();

/// Trust this CA file for every wss:// connection this process makes (set once,
/// at start, from `--ca`).
pub fn trust_ca(ca: &Path) -> Result<(), String> {
    let config = client_config(Some(ca))?;
    CLIENT.set(config).map_err(|_| "a CA file was already given".to_string())
}

/// The configuration wss:// connections use.
pub fn client() -> Result<Arc<ClientConfig>, String> {
    if let Some(config) = CLIENT.get() {
        return Ok(config.clone());
    }
    let config = client_config(None)?;
    Ok(CLIENT.get_or_init(|| config).clone())
}
