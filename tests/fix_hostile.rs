//! Fix scripts made from hostile and long names, on a real PostgreSQL, through the binary:
//! `check --fix-sql`, the script applied with `psql -X -v ON_ERROR_STOP=1 -f` in a scratch
//! working directory, `check` again, and the script applied a second time. Nothing a name holds
//! may run as a psql meta-command (no `pwned.txt` appears), psql must not complain (a guard psql
//! cannot read is an error psql prints and then carries on past), and the fixes must hold.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn live_app() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live/app")
}

/// A database with the app fixture migrated to its head by real Alembic.
fn app_at_head(hint: &str) -> Option<support::TestDb> {
    if !support::alembic_available() {
        return None;
    }
    let db = support::fresh_database(hint)?;
    support::alembic(
        &live_app(),
        &["-c", "migrations/alembic.ini", "upgrade", "head"],
        &db.url,
    );
    Some(db)
}

/// `driftlint check --format json` in the app: `(rule, object)` per finding, sorted, with the
/// object as `schema.table[.column]` and its names exactly as the report gives them.
fn check(db: &support::TestDb, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["check", "--format", "json", "--database-url", &db.url];
    args.extend_from_slice(extra);
    let output = Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args(&args)
        .current_dir(live_app())
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the driftlint binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "driftlint failed ({code}): {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    let mut found: Vec<(String, String)> = report["findings"]
        .as_array()
        .expect("findings is a list")
        .iter()
        .map(|finding| {
            let object = &finding["object"];
            let mut name = String::new();
            if let (Some(schema), Some(table)) =
                (object["schema"].as_str(), object["table"].as_str())
            {
                name = format!("{schema}.{table}");
                if let Some(column) = object["column"].as_str() {
                    name.push('.');
                    name.push_str(column);
                }
            }
            (finding["rule"].as_str().unwrap_or("?").to_owned(), name)
        })
        .collect();
    found.sort();
    found
}

/// `psql -X -v ON_ERROR_STOP=1 -f FILE` with `dir` as the working directory: must exit 0 and
/// print no error.
fn apply(db: &support::TestDb, script: &Path, dir: &Path) {
    let output = Command::new(support::client_program("psql"))
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(script)
        .arg(&db.url)
        .current_dir(dir)
        .env_remove("PGPASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("psql runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let text = std::fs::read_to_string(script).unwrap_or_default();
    assert!(
        output.status.success(),
        "the fix script failed:\n{stderr}\nscript:\n{text}"
    );
    assert!(
        !stderr.to_lowercase().contains("error") && !stderr.contains("invalid"),
        "psql complained:\n{stderr}\nscript:\n{text}"
    );
}

/// `(rule, object)` per finding.
type Findings = Vec<(String, String)>;

/// `check --fix-sql` (with `extra`), then the script applied twice; returns the findings before
/// and after, and the script.
fn round_trip(db: &support::TestDb, extra: &[&str]) -> (Findings, Findings, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("fix.sql");
    let path_text = path.to_str().expect("UTF-8 path").to_owned();
    let mut args = vec!["--fix-sql", path_text.as_str()];
    args.extend_from_slice(extra);
    let before = check(db, &args);
    let script = std::fs::read_to_string(&path).expect("the script was written");
    apply(db, &path, dir.path());
    let after = check(db, &[]);
    let state = support::state(db);
    apply(db, &path, dir.path());
    assert_eq!(
        support::state(db),
        state,
        "the second run changed the database; script:\n{script}"
    );
    for place in [dir.path(), live_app().as_path()] {
        assert!(
            !place.join("pwned.txt").exists(),
            "a name ran as a shell command; script:\n{script}"
        );
    }
    (before, after, script)
}

fn sequence_behind(found: &[(String, String)]) -> Vec<&str> {
    found
        .iter()
        .filter(|(rule, _)| rule == "sequence-behind")
        .map(|(_, object)| object.as_str())
        .collect()
}

/// 63 bytes.
const LONG_TABLE: &str = "organization_membership_invitation_history_archive_for_auditing";
const LONG_SEQUENCE: &str = "organization_membership_invitation_history_archive_id_sequences";

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn sequences_of_long_tables_are_moved_and_recheck_clean() {
    assert_eq!(LONG_TABLE.len(), 63);
    assert_eq!(LONG_SEQUENCE.len(), 63);
    let Some(db) = app_at_head("hostile long names") else {
        return;
    };
    // The table of the report (its sequence's name is 49 bytes), and a 63-byte table with a
    // 63-byte sequence, each with rows inserted under explicit ids.
    db.psql(&format!(
        "CREATE TABLE organization_membership_invitation_history (id serial PRIMARY KEY);
         INSERT INTO organization_membership_invitation_history (id) SELECT generate_series(1, 40);
         CREATE SEQUENCE {LONG_SEQUENCE};
         CREATE TABLE {LONG_TABLE} (id integer PRIMARY KEY DEFAULT nextval('{LONG_SEQUENCE}'));
         ALTER SEQUENCE {LONG_SEQUENCE} OWNED BY {LONG_TABLE}.id;
         INSERT INTO {LONG_TABLE} (id) VALUES (1), (77);"
    ));
    let (before, after, script) = round_trip(&db, &[]);
    assert_eq!(
        sequence_behind(&before),
        [
            "public.organization_membership_invitation_history.id".to_owned(),
            format!("public.{LONG_TABLE}.id"),
        ],
        "{before:?}"
    );
    assert!(sequence_behind(&after).is_empty(), "{after:?}\n{script}");
    // Only the untracked tables are left: their drops are destructive, left out by default.
    assert!(
        after.iter().all(|(rule, _)| rule == "untracked-table"),
        "{after:?}"
    );
    let next = |sequence: &str| -> i64 {
        db.psql(&format!("SELECT nextval('{sequence}');"))
            .trim()
            .parse()
            .expect("a number")
    };
    assert_eq!(
        next("organization_membership_invitation_history_id_seq"),
        41
    );
    assert_eq!(next(LONG_SEQUENCE), 78);
}

/// The payload of the report: a name that, written raw into a `--` comment, ends it and runs a
/// shell command.
const PAYLOAD: &str = "x\n\\! id > pwned.txt\n";

/// 63 bytes of two-byte characters and one ASCII letter.
fn long_non_ascii() -> String {
    let mut name = "ñ".repeat(31);
    name.push('x');
    assert_eq!(name.len(), 63);
    name
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn hostile_names_never_run_and_their_fixes_hold() {
    let Some(db) = app_at_head("hostile names") else {
        return;
    };
    let q = support::quote_ident;
    let quoted_seq = format!("q'\"$$ :var :'v' -- /* \\gset {}", "\u{1b}[31m\u{7}");
    let tables = [
        PAYLOAD.to_owned(),
        "t\r\\! id > pwned.txt\r\n-- :evil /*".to_owned(),
        "$tag$ \u{2028}\\! id > pwned.txt $tag$".to_owned(),
        long_non_ascii(),
    ];
    let mut setup = String::new();
    for table in &tables {
        setup.push_str(&format!(
            "CREATE TABLE {} (id serial PRIMARY KEY, {} text);\n\
             INSERT INTO {} (id) VALUES (1), (5);\n",
            q(table),
            q(PAYLOAD),
            q(table),
        ));
    }
    // A sequence with a hostile name of its own, on a table the migrations know.
    setup.push_str(&format!(
        "CREATE SEQUENCE {seq};
         CREATE TABLE {table} (id integer PRIMARY KEY DEFAULT nextval('{seq_literal}'));
         ALTER SEQUENCE {seq} OWNED BY {table}.id;
         INSERT INTO {table} (id) VALUES (3);
         ALTER TABLE users ADD COLUMN {column} text;
         ALTER TABLE users ADD COLUMN {long} integer;",
        seq = q(&quoted_seq),
        seq_literal = q(&quoted_seq).replace('\'', "''"),
        table = q("seq\n\\! id > pwned.txt"),
        column = q("y\r\\! id > pwned.txt\n"),
        long = q(&long_non_ascii()),
    ));
    db.psql(&setup);

    // Without --allow-destructive: the sequences are moved, the drops left out.
    let (before, after, script) = round_trip(&db, &[]);
    let count =
        |found: &[(String, String)], rule: &str| found.iter().filter(|(r, _)| r == rule).count();
    assert_eq!(count(&before, "untracked-table"), 5, "{before:?}");
    assert_eq!(count(&before, "untracked-column"), 2, "{before:?}");
    assert_eq!(sequence_behind(&before).len(), 5, "{before:?}");
    assert_eq!(before.len(), 12, "{before:?}");
    assert!(
        sequence_behind(&after).is_empty(),
        "{after:?}\nscript:\n{script}"
    );
    assert_eq!(after.len(), 7, "{after:?}");
    assert!(
        script
            .contains("-- to keep public.x\\n\\! id > pwned.txt\\n, adopt it in a new migration:"),
        "{script}"
    );
    // Control characters stay raw only inside quoted names of statements; the findings'
    // headings have them escaped.
    for line in script
        .lines()
        .filter(|line| line.starts_with("-- untracked-"))
    {
        assert!(
            !line.contains(['\r', '\u{1b}', '\u{7}', '\u{2028}']),
            "{line:?}"
        );
    }
    assert!(
        script.contains("\\u{2028}\\! id > pwned.txt $tag$"),
        "{script}"
    );
    // With it: the tables and columns go too, and nothing is left.
    let (_, after, script) = round_trip(&db, &["--allow-destructive"]);
    assert!(after.is_empty(), "{after:?}\nscript:\n{script}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read the fixture") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A revision whose own SQL would make psql run a shell command (an index expression is passed
/// through as the revision writes it): the script is not written, and `check` exits 2 naming the
/// line.
#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_script_psql_would_run_a_command_from_is_refused() {
    let Some(db) = app_at_head("hostile refused") else {
        return;
    };
    let project = tempfile::tempdir().expect("temporary directory");
    copy_dir(&live_app(), project.path());
    std::fs::write(
        project
            .path()
            .join("migrations/versions/7a8b9c0d1e2f_evil_index.py"),
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = '7a8b9c0d1e2f'\n\
         down_revision = '6f7a8b9c0d1e'\nbranch_labels = None\ndepends_on = None\n\n\n\
         def upgrade():\n    op.create_index('ix_users_evil', 'users', \
         [sa.text('lower(email))\\n\\\\! id > pwned.txt\\n--')])\n\n\n\
         def downgrade():\n    pass\n",
    )
    .expect("write the revision");
    let script = project.path().join("fix.sql");
    let output = Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args(["check", "--database-url", &db.url, "--fix-sql"])
        .arg(&script)
        .current_dir(project.path())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the driftlint binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the fix script was not written")
            && stderr.contains("the meta-command \\! is not one a fix script may run"),
        "{stderr}"
    );
    assert!(!script.exists(), "no script is written");
}
