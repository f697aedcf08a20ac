//! TLS: each `sslmode` against a server with a certificate for `localhost` signed by a test CA.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use driftlint::live::{ConnectFailure, ConnectionDefaults, DatabaseUrl, Error, connect};

const TIMEOUT: Duration = Duration::from_secs(5);

fn parse(url: &str) -> DatabaseUrl {
    DatabaseUrl::parse_with(url, &ConnectionDefaults::default()).expect("test URLs parse")
}

/// `postgresql://postgres@HOST:PORT/postgres?QUERY`.
fn url(tls: &support::TlsServer, host: &str, query: &str) -> DatabaseUrl {
    parse(&format!(
        "postgresql://{}@{host}:{}/postgres?{query}",
        tls.server.superuser, tls.server.port
    ))
}

/// Connects and says whether the session is encrypted.
async fn encrypted(url: &DatabaseUrl) -> Result<bool, Error> {
    let client = connect(url, TIMEOUT).await?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("pg_stat_ssl");
    Ok(row.get(0))
}

fn tls_failure(result: Result<bool, Error>) -> String {
    match result {
        Err(Error::Connect {
            failure: ConnectFailure::Tls(detail),
            ..
        }) => detail,
        other => panic!("expected a TLS failure, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
async fn disable_prefer_and_require_need_no_root_certificate() {
    let Some(tls) = support::tls_server() else {
        return;
    };
    assert!(
        !encrypted(&url(tls, "127.0.0.1", "sslmode=disable"))
            .await
            .expect("disable")
    );
    assert!(
        encrypted(&url(tls, "127.0.0.1", "sslmode=allow"))
            .await
            .expect("allow")
    );
    assert!(
        encrypted(&url(tls, "127.0.0.1", "sslmode=prefer"))
            .await
            .expect("prefer")
    );
    assert!(
        encrypted(&url(tls, "127.0.0.1", "sslmode=require"))
            .await
            .expect("require")
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
async fn verify_full_checks_the_chain_and_the_host_name() {
    let Some(tls) = support::tls_server() else {
        return;
    };
    let ca = tls.ca_file.display().to_string();
    let good = url(
        tls,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    assert!(encrypted(&good).await.expect("verify-full for localhost"));

    let wrong_name = url(
        tls,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let detail = tls_failure(encrypted(&wrong_name).await);
    assert!(detail.to_lowercase().contains("name"), "{detail}");

    let other = tls.other_ca_file.display().to_string();
    let wrong_root = url(
        tls,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other}"),
    );
    let detail = tls_failure(encrypted(&wrong_root).await);
    assert!(detail.contains("UnknownIssuer"), "{detail}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
async fn verify_ca_checks_the_chain_but_not_the_host_name() {
    let Some(tls) = support::tls_server() else {
        return;
    };
    let ca = tls.ca_file.display().to_string();
    let by_address = url(
        tls,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    );
    assert!(
        encrypted(&by_address)
            .await
            .expect("verify-ca ignores the name")
    );

    let other = tls.other_ca_file.display().to_string();
    let wrong_root = url(
        tls,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={other}"),
    );
    tls_failure(encrypted(&wrong_root).await);
    // `require` with a root certificate given checks the chain too, as libpq does.
    let require_wrong_root = url(
        tls,
        "127.0.0.1",
        &format!("sslmode=require&sslrootcert={other}"),
    );
    tls_failure(encrypted(&require_wrong_root).await);
}

#[tokio::test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
async fn an_unreadable_root_certificate_is_a_tls_error() {
    let Some(tls) = support::tls_server() else {
        return;
    };
    let missing = url(
        tls,
        "localhost",
        "sslmode=verify-full&sslrootcert=/nonexistent/root.crt",
    );
    match connect(&missing, TIMEOUT).await {
        Err(Error::Tls { message }) => {
            assert!(message.contains("/nonexistent/root.crt"), "{message}")
        }
        other => panic!("expected a TLS setup error, got {:?}", other.err()),
    }
}
