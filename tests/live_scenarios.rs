//! The live check against real databases drifted the way real ones drift: built with real
//! `alembic upgrade` from the Flask-Migrate-style project in `tests/fixtures/live/app`, then
//! restored from a dump, fed explicit ids, edited with `psql`, stamped without upgrading,
//! migrated half way, re-keyed by hand, migrated by code this checkout lacks, or copied without
//! `alembic_version`. Each test runs the built `driftlint check --format json` and asserts the
//! exact findings (rule, object, revision). A database at head gives none at all, for the
//! superuser and for roles that can only read.
//!
//! Alembic costs about half a second per run, so the database at head is built once and copied
//! (`CREATE DATABASE ... TEMPLATE`) for each test.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::LazyLock;

use serde_json::Value;
use support::{TestDb, psql, quote_ident};

// The app fixture's revisions, oldest first.
const INITIAL: &str = "1a2b3c4d5e6f";
const GUEST_FLAGS: &str = "2b3c4d5e6f7a";
const ANALYSIS_RESULTS: &str = "3c4d5e6f7a8b";
const INVITE_CODES: &str = "4d5e6f7a8b9c";
const SYSTEM_CONFIG: &str = "5e6f7a8b9c0d";
const ACCOUNT_LOCKING: &str = "6f7a8b9c0d1e";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/live")
        .join(name)
}

fn app() -> PathBuf {
    fixture("app")
}

/// `alembic ARGS` on the app fixture (its `alembic.ini` is in `migrations/`, as Flask-Migrate
/// puts it).
fn app_alembic(args: &[&str], url: &str) -> String {
    let mut all = vec!["-c", "migrations/alembic.ini"];
    all.extend_from_slice(args);
    support::alembic(&app(), &all, url)
}

/// The app's database at head, built once per test process and used as a template.
static HEAD_TEMPLATE: LazyLock<Option<TestDb>> = LazyLock::new(|| {
    let db = support::fresh_database("live app head")?;
    app_alembic(&["upgrade", "head"], &db.url);
    Some(db)
});

/// A database holding a copy of `template`.
fn copy_of(template: &TestDb, hint: &str) -> TestDb {
    let name = support::unique_name(hint);
    let sql = format!(
        "CREATE DATABASE {} TEMPLATE {}",
        quote_ident(&name),
        quote_ident(&template.name)
    );
    // A template must have no other session; the one that built it may still be closing.
    let mut attempt = 0;
    while let Err(error) = support::try_psql(&template.server.admin_url, &sql) {
        attempt += 1;
        assert!(attempt < 50, "cannot copy {}: {error}", template.name);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    TestDb {
        url: template.server.url_for(
            &name,
            &template.server.superuser,
            template.server.superuser_password.as_deref(),
        ),
        name,
        server: template.server,
    }
}

/// A fresh copy of the app's database at head; `None` (after a `skipped:` line) without
/// PostgreSQL or Alembic.
fn database_at_head(hint: &str) -> Option<TestDb> {
    if !support::alembic_available() {
        return None;
    }
    let template = HEAD_TEMPLATE.as_ref()?;
    Some(copy_of(template, hint))
}

/// An empty database with the app migrated to `revision` by real Alembic.
fn database_at(revision: &str, hint: &str) -> Option<TestDb> {
    if !support::alembic_available() {
        return None;
    }
    let db = support::fresh_database(hint)?;
    app_alembic(&["upgrade", revision], &db.url);
    Some(db)
}

/// Runs the built binary in `dir`, without any DATABASE_URL from the outside.
fn driftlint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the driftlint binary runs")
}

/// The outcome of `driftlint check --format json`.
struct Checked {
    exit: i32,
    findings: Vec<Value>,
}

impl Checked {
    /// `rule object @revision` per finding, sorted: what a scenario asserts.
    fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.findings.iter().map(line).collect();
        lines.sort();
        lines
    }

    fn finding(&self, rule: &str) -> &Value {
        self.findings
            .iter()
            .find(|finding| finding["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} finding in {:?}", self.lines()))
    }
}

fn line(finding: &Value) -> String {
    let object = &finding["object"];
    let mut text = finding["rule"].as_str().unwrap_or("?").to_owned();
    if object.is_object() {
        text.push(' ');
        text.push_str(object["schema"].as_str().unwrap_or("?"));
        text.push('.');
        text.push_str(object["table"].as_str().unwrap_or("?"));
        if let Some(column) = object["column"].as_str() {
            text.push('.');
            text.push_str(column);
        }
    }
    if let Some(revision) = finding["revision"].as_str() {
        text.push_str(" @");
        text.push_str(revision);
    }
    text
}

/// `driftlint check --format json --database-url URL` in `dir`, with `extra` arguments.
fn check_in(dir: &Path, url: &str, extra: &[&str]) -> Checked {
    let mut args = vec!["check", "--format", "json", "--database-url", url];
    args.extend_from_slice(extra);
    let output = driftlint(dir, &args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let exit = output.status.code().unwrap_or(-1);
    assert!(
        exit == 0 || exit == 1,
        "driftlint failed ({exit}): {}{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {stdout}"));
    let findings = report["findings"]
        .as_array()
        .cloned()
        .expect("findings is a list");
    Checked { exit, findings }
}

fn check(db: &TestDb) -> Checked {
    check_in(&app(), &db.url, &[])
}

fn expect_lines(checked: &Checked, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|line| (*line).to_owned()).collect();
    expected.sort();
    assert_eq!(
        checked.lines(),
        expected,
        "findings: {:#?}",
        checked.findings
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_database_at_head_has_no_finding_at_all() {
    let Some(db) = database_at_head("clean") else {
        return;
    };
    // Some ordinary use: rows inserted through the defaults keep the sequences ahead.
    db.psql(
        "INSERT INTO users (email) VALUES ('ada@example.com'), ('bob@example.com');
         INSERT INTO submissions (user_id, score) VALUES (1, 90), (2, 75);
         INSERT INTO analysis_results (submission_id, status) VALUES (1, 'done');
         INSERT INTO system_config (key, value) VALUES ('maintenance', 'off');",
    );
    let checked = check(&db);
    expect_lines(&checked, &[]);
    assert_eq!(checked.exit, 0);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn restoring_table_data_from_a_dump_leaves_the_sequences_behind() {
    let (Some(production), Some(staging)) = (
        database_at_head("restore production"),
        database_at_head("restore staging"),
    ) else {
        return;
    };
    production.psql(
        "INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com'), ('c@example.com');
         INSERT INTO submissions (user_id, score) VALUES (1, 10), (3, 30);",
    );
    // The usual staging refresh: a dump of production, its tables' data restored into a
    // database built by the migrations. `pg_restore --table` restores the rows, not the
    // sequences' positions.
    let dump = tempfile::NamedTempFile::new().expect("temporary file");
    let dump_path = dump.path().to_str().expect("UTF-8 path").to_owned();
    run(Command::new(support::client_program("pg_dump")).args([
        "-Fc",
        "-f",
        &dump_path,
        "-d",
        &production.url,
    ]));
    for table in ["users", "submissions"] {
        run(Command::new(support::client_program("pg_restore")).args([
            "--data-only",
            "--table",
            table,
            "-d",
            &staging.url,
            &dump_path,
        ]));
    }
    let checked = check(&staging);
    expect_lines(
        &checked,
        &[
            "sequence-behind public.submissions.id",
            "sequence-behind public.users.id",
        ],
    );
    assert_eq!(checked.exit, 1);
    let users = checked
        .findings
        .iter()
        .find(|finding| finding["object"]["table"] == "users")
        .expect("users");
    assert_eq!(
        users["message"],
        "sequence public.users_id_seq would hand out 1, but public.users.id already reaches 3"
    );
    let users_fix = users["fix"]["sql"].as_str().expect("a fix");
    assert!(
        users_fix.starts_with("-- public.users.id reached 3 when checked; public.users_id_seq would have handed out 1."),
        "{users_fix}"
    );
    assert!(
        users_fix.contains("SELECT setval('public.users_id_seq', GREATEST("),
        "{users_fix}"
    );

    // The fix does what it says: applied (twice, harmlessly), nothing is behind any more.
    for finding in &checked.findings {
        let sql = finding["fix"]["sql"].as_str().expect("a fix");
        staging.psql(sql);
        staging.psql(sql);
    }
    expect_lines(&check(&staging), &[]);
}

fn run(command: &mut Command) {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn inserts_with_explicit_ids_leave_serial_and_identity_sequences_behind() {
    let Some(db) = database_at_head("explicit ids") else {
        return;
    };
    db.psql(
        "INSERT INTO users (email) VALUES ('ada@example.com');
         INSERT INTO submissions (user_id, score) VALUES (1, 90);
         -- Launch codes seeded with the ids the mobile app shipped with.
         INSERT INTO invite_codes (id, code) VALUES (1, 'LAUNCH-2026'), (2, 'PRESS-2026');
         -- An import that kept the ids of the old system (a bigint identity column).
         INSERT INTO analysis_results (id, submission_id, status) VALUES (7, 1, 'done');",
    );
    let checked = check(&db);
    expect_lines(
        &checked,
        &[
            "sequence-behind public.analysis_results.id",
            "sequence-behind public.invite_codes.id",
        ],
    );
    assert_eq!(
        checked
            .finding("sequence-behind")
            .get("severity")
            .and_then(Value::as_str),
        Some("error")
    );
    let identity = checked
        .findings
        .iter()
        .find(|finding| finding["object"]["table"] == "analysis_results")
        .expect("analysis_results");
    assert_eq!(
        identity["message"],
        "sequence public.analysis_results_id_seq would hand out 1, but public.analysis_results.id already reaches 7"
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_column_added_by_hand_is_untracked() {
    let Some(db) = database_at_head("column added") else {
        return;
    };
    db.psql("ALTER TABLE users ADD COLUMN nickname text;");
    let checked = check(&db);
    expect_lines(&checked, &["untracked-column public.users.nickname"]);
    // A warning: the check passes unless warnings are denied.
    assert_eq!(checked.exit, 0);
    let denied = check_in(&app(), &db.url, &["--deny-warnings"]);
    assert_eq!(denied.exit, 1);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_column_dropped_by_hand_is_missing_and_names_the_revision_that_adds_it() {
    let Some(db) = database_at_head("column dropped") else {
        return;
    };
    db.psql("ALTER TABLE users DROP COLUMN is_test_account;");
    let checked = check(&db);
    expect_lines(
        &checked,
        &[&format!(
            "missing-column public.users.is_test_account @{GUEST_FLAGS}"
        )],
    );
    let finding = checked.finding("missing-column");
    assert_eq!(
        finding["message"],
        format!(
            "column public.users.is_test_account does not exist in the database, but revision {GUEST_FLAGS} adds it"
        )
    );
    assert_eq!(
        finding["location"]["path"],
        "migrations/versions/2b3c4d5e6f7a_add_guest_flags_to_users.py"
    );
    // The expectations ask for the column too: one finding, with their line as related.
    let related: Vec<&str> = finding["related"]
        .as_array()
        .expect("related")
        .iter()
        .filter_map(|label| label["location"]["path"].as_str())
        .collect();
    assert_eq!(related, ["expectations.yaml"]);
    assert_eq!(
        finding["fix"]["sql"],
        format!(
            "-- as revision {GUEST_FLAGS} declares it\nALTER TABLE public.users ADD COLUMN IF NOT EXISTS is_test_account boolean;"
        )
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_column_retyped_by_hand_is_a_type_mismatch() {
    let Some(db) = database_at_head("column retyped") else {
        return;
    };
    db.psql("ALTER TABLE submissions ALTER COLUMN score TYPE numeric(6,2);");
    let checked = check(&db);
    expect_lines(
        &checked,
        &[&format!(
            "column-type-mismatch public.submissions.score @{INITIAL}"
        )],
    );
    assert_eq!(
        checked.finding("column-type-mismatch")["message"],
        format!(
            "column public.submissions.score is numeric(6,2) in the database, but revision {INITIAL} makes it integer"
        )
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_table_created_by_hand_is_untracked() {
    let Some(db) = database_at_head("table created") else {
        return;
    };
    db.psql(
        "CREATE TABLE tmp_import (id serial PRIMARY KEY, payload jsonb);
         INSERT INTO tmp_import (payload) VALUES ('{}'), ('{}');
         CREATE SCHEMA reporting;
         CREATE TABLE reporting.daily (day date PRIMARY KEY);",
    );
    let checked = check(&db);
    // reporting is a schema neither the migrations nor the expectations use.
    expect_lines(&checked, &["untracked-table public.tmp_import"]);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn stamp_head_without_upgrade_is_stamped_not_applied() {
    let Some(db) = database_at(ANALYSIS_RESULTS, "stamped") else {
        return;
    };
    app_alembic(&["stamp", "head"], &db.url);
    let checked = check(&db);
    expect_lines(
        &checked,
        &[&format!(
            "stamped-not-applied public.invite_codes @{INVITE_CODES}"
        )],
    );
    let finding = checked.finding("stamped-not-applied");
    assert_eq!(
        finding["location"]["path"],
        "migrations/versions/4d5e6f7a8b9c_invite_codes.py"
    );
    let help = finding["help"].as_str().expect("help");
    assert!(
        help.contains(&format!(
            "`flask db stamp {ANALYSIS_RESULTS}`, then `flask db upgrade head`"
        )),
        "{help}"
    );
    // Every missing change of the three revisions is labelled.
    assert_eq!(
        finding["related"].as_array().map(Vec::len),
        Some(3),
        "{finding:#?}"
    );
}

/// The statements `alembic upgrade SYSTEM_CONFIG:ACCOUNT_LOCKING --sql` prints for the
/// revision itself (its `ALTER TABLE`s), in order.
fn account_locking_sql(url: &str) -> Vec<String> {
    let range = format!("{SYSTEM_CONFIG}:{ACCOUNT_LOCKING}");
    let sql = app_alembic(&["upgrade", &range, "--sql"], url);
    let statements: Vec<String> = sql
        .split(';')
        .map(|chunk| {
            chunk
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_owned()
        })
        .filter(|statement| statement.starts_with("ALTER TABLE users"))
        .map(|statement| format!("{statement};"))
        .collect();
    assert_eq!(statements.len(), 2, "{sql}");
    statements
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_migration_interrupted_half_way_is_partially_applied_and_pending() {
    let Some(db) = database_at(SYSTEM_CONFIG, "half applied") else {
        return;
    };
    // The deployment ran the first statement of the revision's SQL, then stopped.
    let statements = account_locking_sql(&db.url);
    db.psql(&statements[0]);
    let checked = check(&db);
    expect_lines(
        &checked,
        &[
            &format!("database-behind-head @{ACCOUNT_LOCKING}"),
            &format!("partially-applied-revision public.users.failed_logins @{ACCOUNT_LOCKING}"),
        ],
    );
    let finding = checked.finding("partially-applied-revision");
    assert_eq!(
        finding["message"],
        format!(
            "revision {ACCOUNT_LOCKING} (account locking) is not recorded as applied (the \
             database is at revision {SYSTEM_CONFIG}), yet 1 of its 2 changes are in the \
             database: column public.users.locked_until exists"
        )
    );
    let fix = finding["fix"]["sql"].as_str().expect("fix");
    assert!(
        fix.contains(
            "\nALTER TABLE users ADD COLUMN failed_logins INTEGER DEFAULT '0' NOT NULL;\n"
        ) || fix.contains(
            "\nALTER TABLE users ADD COLUMN failed_logins integer DEFAULT '0' NOT NULL;\n"
        ),
        "{fix}"
    );
    assert!(
        !fix.contains("ADD COLUMN locked_until"),
        "what ran is not run again: {fix}"
    );

    // Finishing it as the fix says (which also records it) leaves nothing to report; the second
    // run changes nothing.
    db.psql(fix);
    db.psql(fix);
    expect_lines(&check(&db), &[]);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_migration_applied_half_way_then_stamped_is_partially_applied() {
    let Some(db) = database_at(SYSTEM_CONFIG, "half stamped") else {
        return;
    };
    let statements = account_locking_sql(&db.url);
    db.psql(&statements[1]);
    app_alembic(&["stamp", "head"], &db.url);
    let checked = check(&db);
    expect_lines(
        &checked,
        &[&format!(
            "partially-applied-revision public.users.locked_until @{ACCOUNT_LOCKING}"
        )],
    );
    assert!(
        checked.finding("partially-applied-revision")["message"]
            .as_str()
            .is_some_and(
                |message| message.contains("is recorded as applied, but only 1 of its 2 changes")
            ),
        "{:#?}",
        checked.findings
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_table_re_keyed_by_hand_has_the_wrong_primary_key() {
    let Some(db) = database_at_head("wrong primary key") else {
        return;
    };
    db.psql(
        "INSERT INTO system_config (key, value) VALUES ('maintenance', 'off'), ('theme', 'dark');
         ALTER TABLE system_config DROP CONSTRAINT system_config_pkey;
         ALTER TABLE system_config ADD COLUMN id serial PRIMARY KEY;",
    );
    let checked = check(&db);
    expect_lines(
        &checked,
        &[
            "forbidden-column-present public.system_config.id",
            &format!("primary-key-mismatch public.system_config @{SYSTEM_CONFIG}"),
        ],
    );
    let key = checked.finding("primary-key-mismatch");
    assert_eq!(
        key["message"],
        format!(
            "the primary key of public.system_config is (id) in the database, but revision {SYSTEM_CONFIG} makes it (key)"
        )
    );
    let key_fix = key["fix"]["sql"].as_str().expect("a fix");
    assert!(
        key_fix.contains(
            "\nALTER TABLE public.system_config DROP CONSTRAINT IF EXISTS system_config_pkey;\nALTER TABLE public.system_config ADD CONSTRAINT system_config_pkey PRIMARY KEY (key);\n\\endif"
        ),
        "{key_fix}"
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_revision_the_code_does_not_have_is_unknown() {
    let Some(db) = database_at_head("unknown revision") else {
        return;
    };
    // A release that added a revision was deployed, then rolled back to this code.
    let newer = tempfile::tempdir().expect("temporary directory");
    copy_tree(&app(), newer.path());
    std::fs::write(
        newer
            .path()
            .join("migrations/versions/7a8b9c0d1e2f_referral_codes.py"),
        "\"\"\"referral codes\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\n\
         revision = '7a8b9c0d1e2f'\ndown_revision = '6f7a8b9c0d1e'\nbranch_labels = None\n\
         depends_on = None\n\n\ndef upgrade():\n    op.add_column('users', \
         sa.Column('referral_code', sa.String(length=16), nullable=True))\n",
    )
    .expect("write the newer revision");
    support::alembic(
        newer.path(),
        &["-c", "migrations/alembic.ini", "upgrade", "head"],
        &db.url,
    );
    let checked = check(&db);
    expect_lines(
        &checked,
        &[
            "database-unknown-revision @7a8b9c0d1e2f",
            "untracked-column public.users.referral_code",
        ],
    );
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_copy_without_alembic_version_is_not_versioned() {
    let Some(source) = database_at_head("unversioned source") else {
        return;
    };
    let Some(copy) = support::fresh_database("unversioned copy") else {
        return;
    };
    // `pg_dump --exclude-table=alembic_version production | psql new`.
    let output = Command::new(support::client_program("pg_dump"))
        .args([
            "--no-owner",
            "--exclude-table=alembic_version",
            "-d",
            &source.url,
        ])
        .output()
        .expect("pg_dump runs");
    assert!(output.status.success(), "pg_dump failed");
    psql(&copy.url, &String::from_utf8_lossy(&output.stdout));
    let checked = check(&copy);
    expect_lines(&checked, &["database-not-versioned"]);
    assert_eq!(
        checked.finding("database-not-versioned")["help"],
        "the schema has every change of the migrations: record that with `flask db stamp head`"
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn several_heads_applied_are_understood_and_a_branch_left_out_is_pending() {
    if !support::alembic_available() {
        return;
    }
    let Some(db) = support::fresh_database("branches") else {
        return;
    };
    let branches = fixture("branches");
    support::alembic(&branches, &["upgrade", "billing@head"], &db.url);
    let checked = check_in(&branches, &db.url, &[]);
    expect_lines(&checked, &["database-behind-head @c2d3e4f5a6b7"]);

    support::alembic(&branches, &["upgrade", "heads"], &db.url);
    assert_eq!(
        db.psql("SELECT version_num FROM alembic_version ORDER BY 1")
            .lines()
            .collect::<Vec<_>>(),
        ["b1c2d3e4f5a6", "c2d3e4f5a6b7"]
    );
    expect_lines(&check_in(&branches, &db.url, &[]), &[]);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_role_that_can_only_read_gets_the_same_findings() {
    let Some(db) = database_at_head("read only role") else {
        return;
    };
    db.psql("INSERT INTO invite_codes (id, code) VALUES (5, 'PRESS-2026');");
    let expected = ["sequence-behind public.invite_codes.id"];
    expect_lines(&check(&db), &expected);

    let reader = db.role("drift_reader", "PASSWORD 'reader-pw'");
    db.psql(&format!(
        "GRANT pg_read_all_data TO {}",
        quote_ident(&reader.name)
    ));
    expect_lines(
        &check_in(&app(), &db.url_as(&reader.name, Some("reader-pw")), &[]),
        &expected,
    );

    let selecter = db.role("drift_select", "PASSWORD 'select-pw'");
    let name = quote_ident(&selecter.name);
    db.psql(&format!(
        "GRANT USAGE ON SCHEMA public TO {name};
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name};
         GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {name};"
    ));
    expect_lines(
        &check_in(&app(), &db.url_as(&selecter.name, Some("select-pw")), &[]),
        &expected,
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn live_takes_the_url_from_the_environment_or_dot_env() {
    let Some(db) = database_at_head("live flag") else {
        return;
    };
    let migrations = app().join("migrations");
    let migrations = migrations.to_str().expect("UTF-8 path");
    let elsewhere = tempfile::tempdir().expect("temporary directory");
    let args = [
        "check",
        "--format",
        "json",
        "--live",
        "--migrations",
        migrations,
    ];

    // No URL anywhere: driftlint cannot do its job.
    let output = driftlint(elsewhere.path(), &args);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no database URL"), "{stderr}");

    // From .env, in the SQLAlchemy spelling a Flask app keeps there.
    let sqlalchemy_url = db
        .url
        .replacen("postgresql://", "postgresql+psycopg2://", 1);
    std::fs::write(
        elsewhere.path().join(".env"),
        format!("FLASK_APP=app.py\nDATABASE_URL={sqlalchemy_url}\n"),
    )
    .expect("write .env");
    let output = driftlint(elsewhere.path(), &args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The environment wins over .env.
    let output = Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args(args)
        .current_dir(elsewhere.path())
        .env(
            "DATABASE_URL",
            "postgresql://nobody:hunter2@127.0.0.1:1/none",
        )
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("127.0.0.1:1")
            && stderr.contains("\"none\"")
            && stderr.contains("\"nobody\""),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn init_from_the_database_writes_expectations_the_database_meets() {
    let Some(db) = database_at_head("init live") else {
        return;
    };
    let output = driftlint(&app(), &["init", "--database-url", &db.url]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("  users:\n"), "{text}");
    assert!(text.contains("locked_until"), "{text}");
    assert!(!text.contains("alembic_version"), "{text}");
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("expectations.yaml");
    std::fs::write(&path, &text).expect("write");
    let checked = check_in(
        &app(),
        &db.url,
        &["--expectations", path.to_str().expect("path")],
    );
    expect_lines(&checked, &[]);

    // A retyped column now breaks an expectation as well as the replay: still one finding.
    db.psql("ALTER TABLE users ALTER COLUMN email TYPE text;");
    let checked = check_in(
        &app(),
        &db.url,
        &["--expectations", path.to_str().expect("path")],
    );
    expect_lines(
        &checked,
        &[&format!(
            "column-type-mismatch public.users.email @{INITIAL}"
        )],
    );
}

/// Every fixture project, upgraded to its heads by real Alembic, is what driftlint expects:
/// no finding about the database.
#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn every_fixture_tree_upgraded_by_alembic_has_no_drift() {
    if !support::alembic_available() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut projects = Vec::new();
    for area in ["live", "replay"] {
        let Ok(entries) = std::fs::read_dir(root.join(area)) else {
            continue;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            if dir.join("alembic.ini").is_file() {
                projects.push((dir, "alembic.ini"));
            } else if dir.join("migrations/alembic.ini").is_file() {
                projects.push((dir, "migrations/alembic.ini"));
            }
        }
    }
    projects.sort();
    assert!(projects.len() >= 2, "{projects:?}");
    for (dir, ini) in projects {
        let Some(db) = support::fresh_database("differential") else {
            return;
        };
        support::alembic(&dir, &["-c", ini, "upgrade", "heads"], &db.url);
        // Some fixtures have several heads on purpose: only what the database shows matters.
        let checked = check_in(&dir, &db.url, &[]);
        let database: Vec<String> = checked
            .findings
            .iter()
            .filter(|finding| finding["source"] == "database")
            .map(line)
            .collect();
        assert!(database.is_empty(), "{}: {database:#?}", dir.display());
    }
}
