//! A second throwaway cluster that speaks TLS, for the tests of `sslmode` and `sslrootcert`.
//! Its certificate is made at start-up (rcgen): signed by a fresh test CA and valid for the name
//! `localhost` only, so that `verify-full` passes for `localhost` and fails for `127.0.0.1`
//! while `verify-ca` passes for both. A second, unrelated CA lets tests present the wrong root.

use std::path::PathBuf;
use std::sync::LazyLock;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

use super::cluster::{Server, ServerCertificate, start_tls_cluster};

pub struct TlsServer {
    pub server: Server,
    /// The PEM file of the CA that signed the server's certificate.
    pub ca_file: PathBuf,
    /// The PEM file of a CA that signed nothing the server shows.
    pub other_ca_file: PathBuf,
}

static TLS_SERVER: LazyLock<Option<TlsServer>> = LazyLock::new(|| {
    // An external server's TLS setup is not ours to know.
    if std::env::var("DRIFTLINT_TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty()) {
        return None;
    }
    let (ca_pem, server_certificate) = make_certificates("driftlint test CA")
        .unwrap_or_else(|error| panic!("cannot make test certificates: {error}"));
    let (other_ca_pem, _) = make_certificates("unrelated test CA")
        .unwrap_or_else(|error| panic!("cannot make test certificates: {error}"));
    let server = match start_tls_cluster(&server_certificate) {
        Ok(Some(server)) => server,
        Ok(None) => return None,
        Err(message) => panic!("the TLS test cluster could not be started: {message}"),
    };
    let dir = server
        .socket_dir
        .clone()
        .expect("our own cluster has a directory");
    let ca_file = dir.join("test-ca.pem");
    let other_ca_file = dir.join("other-ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("write the CA file");
    std::fs::write(&other_ca_file, other_ca_pem).expect("write the other CA file");
    Some(TlsServer {
        server,
        ca_file,
        other_ca_file,
    })
});

/// The TLS cluster; `None` (after a `skipped:` line, or a failure under `CI` when PostgreSQL is
/// missing) when it cannot exist.
pub fn tls_server() -> Option<&'static TlsServer> {
    let server = TLS_SERVER.as_ref();
    if server.is_none() {
        if super::cluster::BINDIR.is_none() {
            super::skip_or_fail("PostgreSQL not found");
        } else {
            eprintln!("skipped: TLS tests need the harness's own cluster");
        }
    }
    server
}

/// A CA certificate (PEM) named `ca_name` and a server certificate for `localhost` signed by it.
fn make_certificates(ca_name: &str) -> Result<(String, ServerCertificate), rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    let ca = ca_params.self_signed(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut server_params = CertificateParams::new(vec!["localhost".to_owned()])?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server = server_params.signed_by(&server_key, &ca, &ca_key)?;
    Ok((
        ca.pem(),
        ServerCertificate {
            certificate_pem: server.pem(),
            key_pem: server_key.serialize_pem(),
        },
    ))
}
