//! The live check on real PostgreSQL against odd version tables (a NULL row, a view, a
//! materialized view, a table in another schema on the search path) and a role that may read
//! only some of the tables and none of the sequences: each is read and said, never an error
//! about deserialising nor a silent loss of findings.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{TestDb, quote_ident};

/// One revision creating `users` and `orders`, as the database below has them.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let versions = dir.path().join("versions");
    std::fs::create_dir_all(&versions).unwrap();
    std::fs::write(
        versions.join("a1_tables.py"),
        "\"\"\"tables\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\n\
         revision = 'a1'\ndown_revision = None\n\n\ndef upgrade():\n\
         \x20   op.create_table('users', sa.Column('id', sa.Integer(), nullable=False), \
         sa.PrimaryKeyConstraint('id'))\n\
         \x20   op.create_table('orders', sa.Column('id', sa.Integer(), nullable=False), \
         sa.PrimaryKeyConstraint('id'))\n",
    )
    .unwrap();
    dir
}

const TABLES: &str = "CREATE TABLE users (id serial PRIMARY KEY);\n\
                      CREATE TABLE orders (id serial PRIMARY KEY);\n";

/// `check --format json` of the project against `url`: exit code, findings, stderr.
fn check(dir: &Path, url: &str) -> (i32, Vec<Value>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args([
            "check",
            "--migrations",
            "versions",
            "--format",
            "json",
            "--database-url",
            url,
        ])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let value: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{stderr}",
            String::from_utf8_lossy(&o.stdout)
        )
    });
    let findings = value["findings"].as_array().cloned().unwrap_or_default();
    (o.status.code().unwrap(), findings, stderr)
}

/// `severity rule: message` of each finding, sorted.
fn summary(findings: &[Value]) -> Vec<String> {
    let mut lines: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{} {}: {}",
                f["severity"].as_str().unwrap(),
                f["rule"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    lines.sort();
    lines
}

fn database(hint: &str, sql: &str) -> Option<TestDb> {
    let db = support::fresh_database(hint)?;
    db.psql(TABLES);
    db.psql(sql);
    Some(db)
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn a_null_version_row_is_reported_not_a_deserialisation_error() {
    let dir = project();
    let Some(db) = database(
        "null version",
        "CREATE TABLE alembic_version (version_num varchar(32));\n\
         INSERT INTO alembic_version VALUES (NULL);",
    ) else {
        return;
    };
    let (code, findings, stderr) = check(dir.path(), &db.url);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        summary(&findings),
        [
            "error database-not-versioned: public.alembic_version holds only a NULL row and no \
          revision: Alembic cannot tell which migrations the database has"
        ],
        "{stderr}"
    );
    assert!(
        findings[0]["help"].as_str().unwrap().starts_with(
            "delete the NULL rows (`DELETE FROM public.alembic_version WHERE version_num IS NULL;`)"
        ),
        "{}",
        findings[0]["help"]
    );

    db.psql("INSERT INTO alembic_version VALUES ('a1');");
    let (code, findings, stderr) = check(dir.path(), &db.url);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        summary(&findings),
        [
            "error database-not-versioned: public.alembic_version holds a NULL row beside its \
          revisions: a NULL version_num is no revision"
        ]
    );
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn a_version_table_that_is_a_view_is_read_and_named() {
    let dir = project();
    let Some(db) = database(
        "view version",
        "CREATE SCHEMA meta;\n\
         CREATE TABLE meta.versions (version_num varchar(32) PRIMARY KEY);\n\
         INSERT INTO meta.versions VALUES ('a1');\n\
         CREATE VIEW alembic_version AS SELECT version_num FROM meta.versions;",
    ) else {
        return;
    };
    let (code, findings, stderr) = check(dir.path(), &db.url);
    assert_eq!(code, 0, "{stderr}");
    let found = summary(&findings);
    assert!(
        found
            .iter()
            .all(|f| !f.contains("has no alembic_version") && !f.contains("alembic stamp")),
        "{found:?}"
    );
    assert!(
        found.contains(
            &"warning database-not-versioned: public.alembic_version is a view, not a table: \
              driftlint read the database's revision from it, but Alembic writes to it on every \
              upgrade and stamp"
                .to_owned()
        ),
        "{found:?}"
    );

    // Empty: said to be a view, and no `stamp` offered (it cannot create the table).
    db.psql("DELETE FROM meta.versions;");
    let (code, findings, stderr) = check(dir.path(), &db.url);
    assert_eq!(code, 1, "{stderr}");
    let not_versioned: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "database-not-versioned")
        .collect();
    assert_eq!(not_versioned.len(), 1, "{:?}", summary(&findings));
    assert_eq!(
        not_versioned[0]["message"],
        "public.alembic_version (a view) is empty: Alembic cannot tell which migrations the \
         database has"
    );
    let help = not_versioned[0]["help"].as_str().unwrap();
    assert!(
        !help.contains("stamp a1") && !help.contains("stamp head"),
        "{help}"
    );
    assert!(
        not_versioned[0]["fix"].is_null(),
        "{}",
        not_versioned[0]["fix"]
    );
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn a_materialized_view_and_a_table_in_another_schema_on_the_search_path() {
    let dir = project();
    let Some(db) = database(
        "matview version",
        "CREATE MATERIALIZED VIEW alembic_version AS SELECT 'a1'::varchar(32) AS version_num;",
    ) else {
        return;
    };
    let (_, findings, stderr) = check(dir.path(), &db.url);
    let found = summary(&findings);
    assert!(
        found.iter().any(|f| f.starts_with(
            "warning database-not-versioned: public.alembic_version is a materialized view"
        )),
        "{found:?} {stderr}"
    );
    assert!(
        !found.iter().any(|f| f.contains("database-behind-head")),
        "{found:?}"
    );

    // A table in another schema that the role's search_path reaches: read from there.
    let Some(db) = database(
        "search path version",
        "CREATE SCHEMA ops;\n\
         CREATE TABLE ops.alembic_version (version_num varchar(32) PRIMARY KEY);\n\
         INSERT INTO ops.alembic_version VALUES ('a1');",
    ) else {
        return;
    };
    let role = db.role("ops_reader", "PASSWORD 'ops-pw'");
    let name = quote_ident(&role.name);
    db.psql(&format!(
        "GRANT pg_read_all_data TO {name};\n\
         ALTER ROLE {name} SET search_path = ops, public;"
    ));
    let (code, findings, stderr) = check(dir.path(), &db.url_as(&role.name, Some("ops-pw")));
    let found = summary(&findings);
    assert_eq!(code, 0, "{found:?} {stderr}");
    assert!(
        !found.iter().any(|f| f.contains("database-not-versioned")),
        "{found:?}"
    );
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn sequences_and_tables_the_role_may_not_read_are_reported_as_not_checked() {
    let dir = project();
    let Some(db) = database(
        "partial privileges",
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);\n\
         INSERT INTO alembic_version VALUES ('a1');\n\
         INSERT INTO users (id) VALUES (1), (2), (3);\n\
         INSERT INTO orders (id) VALUES (1), (2);",
    ) else {
        return;
    };
    // The superuser sees both sequences behind.
    let (code, findings, _) = check(dir.path(), &db.url);
    assert_eq!(code, 1);
    assert_eq!(
        summary(&findings),
        [
            "error sequence-behind: sequence public.orders_id_seq would hand out 1, but \
             public.orders.id already reaches 2",
            "error sequence-behind: sequence public.users_id_seq would hand out 1, but \
             public.users.id already reaches 3",
        ]
    );

    // A role that may read users and its sequence, orders but not its sequence... and nothing
    // of a third table.
    let role = db.role("partial", "PASSWORD 'partial-pw'");
    let name = quote_ident(&role.name);
    db.psql(&format!(
        "GRANT SELECT ON alembic_version, users, orders TO {name};\n\
         GRANT SELECT ON SEQUENCE users_id_seq TO {name};"
    ));
    let url = db.url_as(&role.name, Some("partial-pw"));
    let (code, findings, stderr) = check(dir.path(), &url);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        summary(&findings),
        [
            "error sequence-behind: sequence public.users_id_seq would hand out 1, but \
             public.users.id already reaches 3",
            "warning sequence-behind: public.orders.id was not checked: the role driftlint \
             connects as may not read sequence public.orders_id_seq",
        ],
        "{stderr}"
    );
    let warning = findings
        .iter()
        .find(|f| f["severity"] == "warning")
        .expect("the not-checked finding");
    let help = warning["help"].as_str().unwrap();
    assert!(
        help.contains("GRANT SELECT ON SEQUENCE public.orders_id_seq TO <role>;")
            && help.contains("pg_read_all_data"),
        "{help}"
    );

    // The table may not be read, its sequence may.
    db.psql(&format!(
        "REVOKE SELECT ON orders FROM {name};\nGRANT SELECT ON SEQUENCE orders_id_seq TO {name};"
    ));
    let (_, findings, stderr) = check(dir.path(), &url);
    assert_eq!(
        summary(&findings),
        [
            "error sequence-behind: sequence public.users_id_seq would hand out 1, but \
             public.users.id already reaches 3",
            "warning sequence-behind: public.orders.id was not checked: the role driftlint \
             connects as may not read table public.orders (for max(id))",
        ],
        "{stderr}"
    );
}
