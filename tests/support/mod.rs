//! The PostgreSQL test harness shared by the integration tests: a throwaway cluster that the
//! tests start themselves, one fresh database per test, and helpers that run `psql` and
//! `alembic` against it.
//!
//! Invariants:
//! - A test that needs PostgreSQL (or Alembic, which needs it) is marked
//!   `#[ignore = "needs PostgreSQL …"]`, so a plain `cargo test` reports it as ignored, never as
//!   passed; `scripts/test` runs them with `--include-ignored` whenever the server's programs are
//!   there (and fails under `CI` when they are not).
//! - When such a test runs, the first one that asks for a database starts one cluster for the
//!   whole test binary (`initdb` into a temporary directory, `pg_ctl start`, listening on
//!   127.0.0.1 only, its unix socket inside that directory). Run as root, the cluster belongs to
//!   the `postgres` OS user, because the server refuses to run as root.
//! - No server outlives the test process: a watchdog process holds the read end of a pipe whose
//!   write end only the test process holds; when the test process ends, however it ends (normal
//!   exit, panic, `SIGKILL`), the kernel closes the pipe and the watchdog runs
//!   `pg_ctl stop -m immediate` and removes the directory. See `cluster.rs`.
//! - `DRIFTLINT_TEST_DATABASE_URL` (a `postgresql://` URI naming a superuser or a role allowed to
//!   create databases and roles) points the tests at an existing server instead.
//! - Run with `--include-ignored` but without PostgreSQL's server binaries, a test fails when
//!   `CI` is set and otherwise prints `skipped: PostgreSQL not found` and returns; the same holds
//!   for the Python tools.
//!
//! Every test file that uses it says `mod support;`, and a test begins with
//! `let Some(db) = support::fresh_database("hint") else { return };`.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]
#![allow(dead_code)]

mod cluster;
mod describe;
mod tls;
mod tools;

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

#[allow(unused_imports)]
pub use cluster::{PASSWORD_GROUP, Server, client_program};
#[allow(unused_imports)]
pub use describe::{DESCRIBE, describe, state};
#[allow(unused_imports)]
pub use tls::{TlsServer, tls_server};
#[allow(unused_imports)]
pub use tools::{alembic, alembic_available, psql, try_alembic, try_psql};

/// The server every test of this process talks to, started (or found) on first use.
static SERVER: LazyLock<Option<Server>> = LazyLock::new(|| match Server::from_environment() {
    Ok(server) => server,
    Err(message) => panic!("the PostgreSQL test server could not be started: {message}"),
});

/// The shared server; `None` (after printing a `skipped:` line) when PostgreSQL is not installed
/// and `CI` is not set. Panics, so the test fails, when `CI` is set and PostgreSQL is missing.
pub fn server() -> Option<&'static Server> {
    let server = SERVER.as_ref();
    if server.is_none() {
        skip_or_fail(
            "PostgreSQL not found (install its server binaries, see the README, or set \
             DRIFTLINT_TEST_DATABASE_URL)",
        );
    }
    server
}

/// `true` when the environment says this is a CI run, where a missing tool is a failure.
pub fn running_in_ci() -> bool {
    std::env::var("CI")
        .map(|value| !value.is_empty() && value != "0" && value != "false")
        .unwrap_or(false)
}

/// Fails the test under CI, otherwise prints why it is skipped.
pub fn skip_or_fail(reason: &str) {
    if running_in_ci() {
        panic!("{reason}; CI is set, so this is a failure rather than a skip");
    }
    eprintln!("skipped: {reason}");
}

/// A name no other test of any process running at the same time uses: the hint (lowercased,
/// non-identifier characters replaced) plus the process id and a counter, within PostgreSQL's
/// 63-byte identifier limit.
pub fn unique_name(hint: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut cleaned: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if cleaned.is_empty() || cleaned.starts_with(|c: char| c.is_ascii_digit()) {
        cleaned.insert_str(0, "t_");
    }
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{cleaned}_{}_{count}", std::process::id())
}

/// A database created for one test and dropped (best effort) when the value is dropped.
pub struct TestDb {
    /// `postgresql://user@127.0.0.1:port/name`, connecting as the server's superuser.
    pub url: String,
    pub name: String,
    pub server: &'static Server,
}

impl TestDb {
    /// The URL of this database for another role (created by the test).
    pub fn url_as(&self, user: &str, password: Option<&str>) -> String {
        self.server.url_for(&self.name, user, password)
    }

    /// Runs SQL in this database as the superuser; see [`psql`].
    pub fn psql(&self, sql: &str) -> String {
        psql(&self.url, sql)
    }
}

impl TestDb {
    /// Creates a login role with a unique name (`attributes` as in `CREATE ROLE`, e.g.
    /// `"PASSWORD 'x'"`), dropped again with the returned guard.
    pub fn role(&self, hint: &str, attributes: &str) -> TestRole<'_> {
        let name = unique_name(hint);
        psql(
            &self.server.admin_url,
            &format!("CREATE ROLE {} LOGIN {attributes}", quote_ident(&name)),
        );
        TestRole { name, db: self }
    }
}

/// A role made for one test; on drop its privileges in the test database and the role itself
/// are removed (best effort).
pub struct TestRole<'db> {
    pub name: String,
    db: &'db TestDb,
}

impl Drop for TestRole<'_> {
    fn drop(&mut self) {
        let role = quote_ident(&self.name);
        let _ = try_psql(&self.db.url, &format!("DROP OWNED BY {role}"));
        let _ = try_psql(
            &self.db.server.admin_url,
            &format!("DROP ROLE IF EXISTS {role}"),
        );
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Best effort: our own cluster disappears with the process anyway, and a database left
        // on an external server is named after the test that made it.
        let sql = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        );
        let _ = try_psql(&self.server.admin_url, &sql);
    }
}

/// A new, empty database, or `None` (after printing a `skipped:` line) without PostgreSQL.
pub fn fresh_database(name_hint: &str) -> Option<TestDb> {
    let server = server()?;
    let name = unique_name(name_hint);
    psql(
        &server.admin_url,
        &format!("CREATE DATABASE {}", quote_ident(&name)),
    );
    Some(TestDb {
        url: server.url_for(
            &name,
            &server.superuser,
            server.superuser_password.as_deref(),
        ),
        name,
        server,
    })
}

/// Quotes an SQL identifier for the harness's own statements.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal for the harness's own statements.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
