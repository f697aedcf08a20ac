//! The test harness itself: a cluster starts, databases are separate, SQL runs, the password
//! role needs its password, and Alembic runs.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn two_fresh_databases_are_separate_and_run_sql() {
    let Some(first) = support::fresh_database("harness first") else {
        return;
    };
    let Some(second) = support::fresh_database("harness second") else {
        return;
    };
    assert_ne!(first.name, second.name);
    first.psql("CREATE TABLE only_in_first (id serial PRIMARY KEY); INSERT INTO only_in_first DEFAULT VALUES;");
    second.psql("CREATE TABLE only_in_second (id integer);");
    assert_eq!(first.psql("SELECT count(*) FROM only_in_first").trim(), "1");
    let tables_in_second = second.psql(
        "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class \
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
    );
    assert_eq!(tables_in_second.trim(), "only_in_second");
    assert_eq!(first.psql("SELECT current_database()").trim(), first.name);
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn a_failing_statement_is_an_error_and_later_statements_do_not_run() {
    let Some(db) = support::fresh_database("harness failing") else {
        return;
    };
    let error = support::try_psql(
        &db.url,
        "CREATE TABLE before_error (id integer);\nSELECT no_such_column FROM before_error;\nCREATE TABLE after_error (id integer);",
    )
    .expect_err("a failing statement makes psql fail");
    assert!(error.contains("no_such_column"), "{error}");
    assert_eq!(
        db.psql("SELECT to_regclass('after_error') IS NULL").trim(),
        "t"
    );
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn the_server_listens_on_loopback_and_the_password_role_needs_its_password() {
    let Some(db) = support::fresh_database("harness password") else {
        return;
    };
    let Some((user, password)) = db.server.password_login.clone() else {
        // An external server (DRIFTLINT_TEST_DATABASE_URL) has no such role.
        return;
    };
    let listen = db.psql("SHOW listen_addresses");
    assert_eq!(listen.trim(), "127.0.0.1");
    let good = db.url_as(&user, Some(&password));
    assert_eq!(support::psql(&good, "SELECT current_user").trim(), user);
    let bad = db.url_as(&user, Some("not-the-password"));
    let error = support::try_psql(&bad, "SELECT 1").expect_err("a wrong password is refused");
    assert!(error.contains("password authentication failed"), "{error}");
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn alembic_runs_from_the_virtualenv() {
    let Some(db) = support::fresh_database("harness alembic") else {
        return;
    };
    if !support::alembic_available() {
        return;
    }
    let project = tempfile::tempdir().expect("a temporary directory");
    let version = support::alembic(project.path(), &["--version"], &db.url);
    assert!(version.starts_with("alembic 1."), "{version}");
}
