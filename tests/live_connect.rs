//! Connecting: what a refused, silent, unauthorised or misnamed connection says. Every error is
//! one line naming the endpoint, database and user, and never the password.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use driftlint::live::{ConnectFailure, ConnectionDefaults, DatabaseUrl, Error, connect};

fn parse(url: &str) -> DatabaseUrl {
    DatabaseUrl::parse_with(url, &ConnectionDefaults::default()).expect("test URLs parse")
}

/// Connects and returns the error, asserting the one-line shape every connection error has.
async fn connect_error(url: &DatabaseUrl, timeout: Duration) -> (ConnectFailure, String) {
    let error = match connect(url, timeout).await {
        Ok(_) => panic!("connecting to {url} should fail"),
        Err(error) => error,
    };
    let message = error.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    match error {
        Error::Connect {
            endpoints,
            database,
            user,
            failure,
        } => {
            assert_eq!(endpoints, url.endpoints_text());
            assert_eq!(database, url.dbname());
            assert_eq!(user, url.user());
            assert!(message.contains(&endpoints), "{message}");
            assert!(message.contains(&format!("\"{database}\"")), "{message}");
            assert!(message.contains(&format!("\"{user}\"")), "{message}");
            (failure, message)
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
}

fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    listener.local_addr().expect("address").port()
}

#[tokio::test]
async fn a_refused_connection_names_host_port_database_and_user() {
    let port = unused_port();
    let url = parse(&format!(
        "postgresql://alice:refused-secret@127.0.0.1:{port}/inventory"
    ));
    let (failure, message) = connect_error(&url, Duration::from_secs(5)).await;
    assert_eq!(failure, ConnectFailure::Refused, "{message}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(
        message.contains("inventory") && message.contains("alice"),
        "{message}"
    );
    assert!(!message.contains("refused-secret"), "{message}");
    assert!(message.contains("running"), "says what to check: {message}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_quickly() {
    // Accepts TCP connections (the kernel does, from the backlog) and never says a word.
    let silent = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let port = silent.local_addr().expect("address").port();
    let url = parse(&format!(
        "postgresql://bob:silent-secret@127.0.0.1:{port}/app?sslmode=disable"
    ));
    let started = Instant::now();
    let (failure, message) = connect_error(&url, Duration::from_secs(1)).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(failure, ConnectFailure::TimedOut(_)),
        "{failure:?}: {message}"
    );
    assert!(message.contains("--timeout"), "{message}");
    assert!(!message.contains("silent-secret"), "{message}");
    drop(silent);
}

#[tokio::test]
async fn a_missing_socket_directory() {
    let url = parse("host=/nonexistent/driftlint-socket port=5432 user=carol dbname=app");
    let (failure, message) = connect_error(&url, Duration::from_secs(2)).await;
    assert_eq!(failure, ConnectFailure::SocketMissing, "{message}");
    assert!(
        message.contains("/nonexistent/driftlint-socket/.s.PGSQL.5432"),
        "{message}"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
async fn a_wrong_password_is_an_authentication_failure_without_the_password() {
    let Some(db) = support::fresh_database("connect wrong password") else {
        return;
    };
    let Some((user, _)) = db.server.password_login.clone() else {
        return;
    };
    let url = parse(&db.url_as(&user, Some("Wr0ng-Pa55word")));
    let (failure, message) = connect_error(&url, Duration::from_secs(5)).await;
    assert_eq!(failure, ConnectFailure::AuthenticationFailed, "{message}");
    assert!(
        message.contains(&user) && message.contains(&db.name),
        "{message}"
    );
    assert!(!message.contains("Wr0ng-Pa55word"), "{message}");
    assert!(!format!("{url:?}").contains("Wr0ng-Pa55word"));
    assert!(!url.to_string().contains("Wr0ng-Pa55word"));
}

#[tokio::test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
async fn a_missing_password_is_named_as_such() {
    let Some(db) = support::fresh_database("connect no password") else {
        return;
    };
    let Some((user, _)) = db.server.password_login.clone() else {
        return;
    };
    let url = parse(&db.url_as(&user, None));
    let (failure, message) = connect_error(&url, Duration::from_secs(5)).await;
    assert_eq!(failure, ConnectFailure::PasswordMissing, "{message}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
async fn the_right_password_connects_and_announces_driftlint() {
    let Some(db) = support::fresh_database("connect right password") else {
        return;
    };
    let Some((user, password)) = db.server.password_login.clone() else {
        return;
    };
    let url = parse(&db.url_as(&user, Some(&password)));
    let client = connect(&url, Duration::from_secs(5))
        .await
        .expect("the right password connects");
    let row = client
        .query_one(
            "SELECT current_user::text, application_name FROM pg_stat_activity \
             WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("query");
    assert_eq!(row.get::<_, String>(0), user);
    assert_eq!(row.get::<_, String>(1), "driftlint");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
async fn a_missing_database_and_a_missing_role() {
    let Some(db) = support::fresh_database("connect missing") else {
        return;
    };
    let url = parse(
        &db.server
            .url_for("no_such_database_here", &db.server.superuser, None),
    );
    let (failure, message) = connect_error(&url, Duration::from_secs(5)).await;
    assert_eq!(failure, ConnectFailure::DatabaseMissing, "{message}");
    assert!(message.contains("no_such_database_here"), "{message}");

    let url = parse(&db.url_as("no_such_role_here", None));
    let (failure, message) = connect_error(&url, Duration::from_secs(5)).await;
    assert!(
        matches!(&failure, ConnectFailure::NotAllowed(server) if server.contains("no_such_role_here")),
        "{failure:?}: {message}"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
async fn sslmode_require_against_a_server_without_tls_says_so() {
    let Some(db) = support::fresh_database("connect require tls") else {
        return;
    };
    let ssl_on = db.psql("SHOW ssl");
    if ssl_on.trim() == "on" {
        // An external server with TLS: nothing to show here.
        return;
    }
    let url = parse(&format!("{}?sslmode=require", db.url));
    let (failure, message) = connect_error(&url, Duration::from_secs(5)).await;
    assert_eq!(failure, ConnectFailure::TlsUnsupported, "{message}");
    // `prefer` (the default) falls back to plain text.
    let url = parse(&format!("{}?sslmode=prefer", db.url));
    connect(&url, Duration::from_secs(5))
        .await
        .expect("prefer connects without TLS");
}
