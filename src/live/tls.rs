//! TLS for the connection, with rustls (and its `ring` provider): pure Rust, so the binary needs
//! no OpenSSL headers to build nor a matching libssl to run.
//!
//! libpq's modes map onto three certificate verifiers: `disable` to `require` check nothing
//! (encryption without authentication, as libpq; `require` with a root certificate at hand checks
//! the chain like `verify-ca`), `verify-ca` checks the chain but not the host name, and
//! `verify-full` checks both. Whether TLS is asked for at all is the `tokio_postgres` config's
//! business (`url.rs`).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::Error;
use super::url::{DatabaseUrl, RootCertificates, SslMode};

/// The connector for `url`'s `sslmode` and `sslrootcert`.
pub(super) fn connector(url: &DatabaseUrl) -> Result<MakeRustlsConnect, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match (url.ssl_mode(), url.root_certificates()) {
        (SslMode::VerifyFull, Some(roots)) => {
            web_pki_verifier(load_roots(roots)?, provider.clone())?
        }
        (SslMode::VerifyCa | SslMode::Require, Some(roots)) => Arc::new(ChainOnly {
            inner: web_pki_verifier(load_roots(roots)?, provider.clone())?,
        }),
        (SslMode::VerifyFull | SslMode::VerifyCa, None) => {
            // `DatabaseUrl` refuses these; kept as an error rather than trusting everything.
            return Err(Error::Tls {
                message: format!("sslmode={} needs sslrootcert", url.ssl_mode().as_str()),
            });
        }
        _ => Arc::new(AnyCertificate {
            provider: provider.clone(),
        }),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::Tls {
            message: error.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn load_roots(roots: &RootCertificates) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    match roots {
        RootCertificates::File(path) => {
            let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<_, _>>())
                .map_err(|error| Error::Tls {
                    message: format!("cannot read sslrootcert {}: {error}", path.display()),
                })?;
            if certificates.is_empty() {
                return Err(Error::Tls {
                    message: format!("sslrootcert {} holds no PEM certificate", path.display()),
                });
            }
            for certificate in certificates {
                store.add(certificate).map_err(|error| Error::Tls {
                    message: format!("sslrootcert {}: {error}", path.display()),
                })?;
            }
        }
        RootCertificates::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(Error::Tls {
                    message: "sslrootcert=system: no trusted root certificates found on this \
                              system"
                        .to_owned(),
                });
            }
        }
    }
    Ok(store)
}

fn web_pki_verifier(
    roots: RootCertStore,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, Error> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|error| Error::Tls {
            message: error.to_string(),
        })
}

/// `verify-ca`: a chain to a trusted root, whatever name the certificate carries.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain before the name, so a name error means the chain is good.
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `prefer` and `require` without a root certificate: encryption without authentication, as in
/// libpq. The handshake signatures are still checked, so the peer does hold the key of the
/// certificate it shows.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
