//! The fixes on a real PostgreSQL: each fix builder's output, put into a fix script by
//! `fix::script::render_script`, is applied with `psql -v ON_ERROR_STOP=1` to a database with the
//! drift it fixes. Afterwards the database must be what the migrations make it (its catalog
//! described like a reference database's), and applying the script a second time must succeed and
//! change nothing (catalog, sequence states and version table compared before and after).

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use driftlint::alembic::{Revision, discover, load};
use driftlint::fix::ddl::{
    add_column_fix, alter_nullability_fix, alter_type_fix, create_table_fix,
    replace_primary_key_fix, untracked_column_fix,
};
use driftlint::fix::revisions::{VersionChange, partial_fix, pending_upgrade_fix, stamped_fix};
use driftlint::fix::script::{ScriptMeta, render_script};
use driftlint::fix::sequence::{SequenceFacts, setval_fix};
use driftlint::fix::upgrade_sql::render_revisions;
use driftlint::fix::{Fix, Safety};
use driftlint::graph::RevisionGraph;
use driftlint::live::{DatabaseUrl, snapshot};
use driftlint::rules::{Finding, FindingSource, Rule};
use driftlint::schema::model::Schema;
use driftlint::schema::model::TableKey;
use driftlint::source::Sources;

fn meta() -> ScriptMeta {
    ScriptMeta {
        migrations: "migrations".into(),
        expectations: None,
        database: Some("postgresql://test@127.0.0.1:5432/test?sslmode=disable".into()),
        generated_at: "2026-11-29 10:40:12 UTC".into(),
        version: "0.1.0".into(),
    }
}

fn finding(rule: Rule, message: &str, fix: Fix) -> Finding {
    Finding::new(rule, FindingSource::Database, message).fix(fix)
}

/// Applies `script` as a user would (`psql -v ON_ERROR_STOP=1 -f`); panics with psql's message
/// when it fails.
fn apply(db: &support::TestDb, script: &str) -> String {
    match support::try_psql(&db.url, script) {
        Ok(output) => output,
        Err(error) => panic!("the fix script failed:\n{error}\nscript:\n{script}"),
    }
}

/// Applies the script twice: the second run must succeed and change nothing.
fn apply_twice(db: &support::TestDb, script: &str) {
    apply(db, script);
    let after_first = support::state(db);
    apply(db, script);
    let after_second = support::state(db);
    assert_eq!(
        after_first, after_second,
        "the second run changed the database; script:\n{script}"
    );
}

fn live_schema(db: &support::TestDb) -> Schema {
    let url = DatabaseUrl::parse(&db.url).expect("the test URL parses");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime
        .block_on(snapshot(&url, std::time::Duration::from_secs(10)))
        .expect("the test database can be read")
        .schema
}

/// `(last_value, is_called)` of a sequence, and then what `nextval` hands out.
fn sequence_state(db: &support::TestDb, sequence: &str) -> String {
    db.psql(&format!(
        "SELECT last_value || ' ' || is_called FROM {sequence};"
    ))
    .trim()
    .to_owned()
}

fn nextval(db: &support::TestDb, sequence: &str) -> i64 {
    db.psql(&format!("SELECT nextval('{sequence}');"))
        .trim()
        .parse()
        .expect("nextval returns a number")
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn the_sequence_fix_moves_forward_only_and_covers_every_kind_of_sequence() {
    let Some(db) = support::fresh_database("fix sequences") else {
        return;
    };
    db.psql(
        "CREATE TABLE behind (id serial PRIMARY KEY);
         INSERT INTO behind (id) SELECT generate_series(1, 1042);
         SELECT setval('behind_id_seq', 24);
         CREATE TABLE empty_fresh (id serial PRIMARY KEY);
         CREATE TABLE empty_used (id serial PRIMARY KEY);
         SELECT setval('empty_used_id_seq', 50);
         CREATE TABLE ahead (id serial PRIMARY KEY);
         INSERT INTO ahead (id) VALUES (1), (10);
         SELECT setval('ahead_id_seq', 100);
         CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 5) PRIMARY KEY);
         INSERT INTO events (id) OVERRIDING SYSTEM VALUE VALUES (100), (1000);
         CREATE SEQUENCE down_seq INCREMENT BY -1 START WITH -1 MINVALUE -1000000 MAXVALUE -1;
         CREATE TABLE down (id integer PRIMARY KEY DEFAULT nextval('down_seq'));
         INSERT INTO down (id) VALUES (-1), (-90);
         CREATE TABLE big (id bigserial PRIMARY KEY);
         INSERT INTO big (id) VALUES (5000000000);",
    );
    struct Case {
        table: &'static str,
        sequence: &'static str,
        increment: i64,
        start: i64,
        expected_next: i64,
    }
    let cases = [
        // 1042 rows with explicit ids, sequence at 25: the next id is 1043.
        Case {
            table: "behind",
            sequence: "behind_id_seq",
            increment: 1,
            start: 1,
            expected_next: 1043,
        },
        // An empty table and an unused sequence: the first row still gets 1.
        Case {
            table: "empty_fresh",
            sequence: "empty_fresh_id_seq",
            increment: 1,
            start: 1,
            expected_next: 1,
        },
        // An empty table whose sequence already handed out 50: never backwards.
        Case {
            table: "empty_used",
            sequence: "empty_used_id_seq",
            increment: 1,
            start: 1,
            expected_next: 51,
        },
        // A sequence already past the column: left where it is.
        Case {
            table: "ahead",
            sequence: "ahead_id_seq",
            increment: 1,
            start: 1,
            expected_next: 101,
        },
        // An identity column with an increment of 5.
        Case {
            table: "events",
            sequence: "events_id_seq",
            increment: 5,
            start: 100,
            expected_next: 1005,
        },
        // A descending sequence goes below the column's minimum.
        Case {
            table: "down",
            sequence: "down_seq",
            increment: -1,
            start: -1,
            expected_next: -91,
        },
        // bigint values past the integer range.
        Case {
            table: "big",
            sequence: "big_id_seq",
            increment: 1,
            start: 1,
            expected_next: 5_000_000_001,
        },
    ];
    let findings: Vec<Finding> = cases
        .iter()
        .map(|case| {
            finding(
                Rule::SequenceBehind,
                &format!("sequence public.{} is behind", case.sequence),
                setval_fix(&SequenceFacts {
                    sequence_schema: "public",
                    sequence_name: case.sequence,
                    table_schema: "public",
                    table_name: case.table,
                    column: "id",
                    increment: case.increment,
                    start: case.start,
                    extreme_found: None,
                    next_found: None,
                }),
            )
        })
        .collect();
    let script = render_script(&findings, &meta(), false).expect("the script renders");
    apply(&db, &script);
    let after_first: Vec<String> = cases
        .iter()
        .map(|c| sequence_state(&db, c.sequence))
        .collect();
    apply(&db, &script);
    let after_second: Vec<String> = cases
        .iter()
        .map(|c| sequence_state(&db, c.sequence))
        .collect();
    assert_eq!(after_first, after_second, "a second run moved a sequence");
    for case in &cases {
        assert_eq!(
            nextval(&db, case.sequence),
            case.expected_next,
            "{}: the next value after the fix",
            case.table
        );
    }
    // And the next insert that takes the default does not collide.
    db.psql("INSERT INTO behind DEFAULT VALUES; INSERT INTO events DEFAULT VALUES; INSERT INTO down DEFAULT VALUES;");
}

/// The schema "as the migrations make it", and damage done to a copy of it.
const REFERENCE: &str = "
CREATE TABLE users (
    id serial PRIMARY KEY,
    email character varying(120) NOT NULL,
    name text NOT NULL,
    locked_until timestamp without time zone,
    is_guest boolean DEFAULT false NOT NULL,
    handle text UNIQUE
);
CREATE INDEX ix_users_lower_handle ON users (lower(handle));
CREATE TABLE tags (id serial PRIMARY KEY, label text NOT NULL);
CREATE TABLE system_config (key character varying(64) NOT NULL, value text, CONSTRAINT system_config_pkey PRIMARY KEY (key));
CREATE TABLE audit_log (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id integer REFERENCES users (id),
    note text DEFAULT 'none' NOT NULL,
    at timestamp with time zone DEFAULT now()
);
CREATE INDEX ix_audit_log_user_id ON audit_log (user_id);
";

const DAMAGED: &str = "
CREATE TABLE users (
    id serial PRIMARY KEY,
    email character varying(80) NOT NULL,
    name text,
    legacy text
);
INSERT INTO users (id, email, name) VALUES (1, 'a@example.com', 'a'), (2, 'b@example.com', 'b'), (3, 'c@example.com', 'c');
CREATE TABLE tags (id serial PRIMARY KEY);
CREATE TABLE system_config (id serial PRIMARY KEY, key character varying(64) NOT NULL, value text);
INSERT INTO system_config (key, value) VALUES ('mode', 'on');
";

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn table_column_key_type_nullability_and_untracked_fixes_repair_a_damaged_database() {
    let Some(reference) = support::fresh_database("fix ddl reference") else {
        return;
    };
    let Some(damaged) = support::fresh_database("fix ddl damaged") else {
        return;
    };
    reference.psql(REFERENCE);
    damaged.psql(DAMAGED);
    let model = live_schema(&reference);
    let table = |name: &str| model.table("public", name).expect("reference table");
    let users = table("users");
    let findings = vec![
        finding(
            Rule::MissingTable,
            "table public.audit_log does not exist",
            create_table_fix(&model, table("audit_log"), Some("0004")),
        ),
        finding(
            Rule::MissingColumn,
            "column public.users.locked_until does not exist",
            add_column_fix(
                &model,
                "public",
                "users",
                users.column("locked_until").expect("column"),
                Some("0002"),
            ),
        ),
        finding(
            Rule::MissingColumn,
            "column public.users.is_guest does not exist",
            add_column_fix(
                &model,
                "public",
                "users",
                users.column("is_guest").expect("column"),
                Some("0002"),
            ),
        ),
        finding(
            Rule::MissingColumn,
            "column public.users.handle does not exist",
            // Comes back with its unique constraint and its index.
            add_column_fix(
                &model,
                "public",
                "users",
                users.column("handle").expect("column"),
                None,
            ),
        ),
        finding(
            Rule::MissingColumn,
            "column public.tags.label does not exist",
            // NOT NULL without a default: added nullable, made NOT NULL as the table is empty.
            add_column_fix(
                &model,
                "public",
                "tags",
                table("tags").column("label").expect("column"),
                None,
            ),
        ),
        finding(
            Rule::PrimaryKeyMismatch,
            "the primary key of public.system_config is (id), not (key)",
            replace_primary_key_fix(
                "public",
                "system_config",
                live_schema(&damaged)
                    .table("public", "system_config")
                    .and_then(|t| t.primary_key.as_ref()),
                table("system_config").primary_key.as_ref().expect("key"),
                &["id".to_owned()],
            ),
        ),
        finding(
            Rule::ColumnTypeMismatch,
            "public.users.email is character varying(80)",
            alter_type_fix(
                "public",
                "users",
                "email",
                &driftlint::schema::types::PgType::parse("character varying(80)").expect("type"),
                &users.column("email").expect("column").ty,
            ),
        ),
        finding(
            Rule::NullabilityMismatch,
            "public.users.name is nullable",
            alter_nullability_fix("public", "users", "name", false),
        ),
        finding(
            Rule::UntrackedColumn,
            "public.users.legacy is not created by any migration",
            untracked_column_fix("public", "users", "legacy", &[]),
        ),
    ];

    // Without --allow-destructive the data stays: the `id` of system_config and users.legacy.
    let careful = render_script(&findings, &meta(), false).expect("the script renders");
    assert!(careful.contains("-- DESTRUCTIVE (re-run with --allow-destructive to include):"));
    apply(&damaged, &careful);
    let kept = support::describe(&damaged);
    assert!(
        kept.iter()
            .any(|l| l.starts_with("column public.users.legacy ")),
        "{kept:#?}"
    );
    assert!(
        kept.iter()
            .any(|l| l.starts_with("column public.system_config.id ")),
        "{kept:#?}"
    );

    // With it, the database is what the migrations make it, and a second run changes nothing.
    let all = render_script(&findings, &meta(), true).expect("the script renders");
    apply_twice(&damaged, &all);
    assert_eq!(support::describe(&damaged), support::describe(&reference));
    assert_eq!(
        damaged
            .psql("SELECT value FROM system_config WHERE key = 'mode';")
            .trim(),
        "on",
        "the rows stay"
    );
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn set_not_null_waits_for_a_backfill_and_says_so() {
    let Some(db) = support::fresh_database("fix not null") else {
        return;
    };
    db.psql(
        "CREATE TABLE users (id int PRIMARY KEY, email text); INSERT INTO users VALUES (1, NULL);",
    );
    let script = render_script(
        &[finding(
            Rule::NullabilityMismatch,
            "public.users.email is nullable",
            alter_nullability_fix("public", "users", "email", false),
        )],
        &meta(),
        false,
    )
    .expect("the script renders");
    let output = apply(&db, &script);
    assert!(
        output.contains("driftlint: public.users.email still holds NULLs"),
        "{output}"
    );
    assert_eq!(
        db.psql("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email';").trim(),
        "f"
    );
    db.psql("UPDATE users SET email = 'a@example.com';");
    apply(&db, &script);
    assert_eq!(
        db.psql("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email';").trim(),
        "t"
    );
}

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/replay")
        .join(case)
}

struct Project {
    dir: PathBuf,
    sources: Sources,
    revisions: Vec<Revision>,
    graph: RevisionGraph,
}

impl Project {
    fn load(case: &str) -> Project {
        let dir = fixture(case);
        let found = discover(&dir, None).expect("the fixture is a project");
        let mut sources = Sources::new();
        let loaded = load(&found, &mut sources).expect("the fixture loads");
        let graph = RevisionGraph::build(&loaded.revisions);
        Project {
            dir,
            sources,
            revisions: loaded.revisions,
            graph,
        }
    }

    fn index(&self, id: &str) -> usize {
        self.graph.index_of(id).expect("a fixture revision")
    }

    fn indices(&self, ids: &[&str]) -> Vec<usize> {
        ids.iter().map(|id| self.index(id)).collect()
    }

    /// A database that real Alembic brought to `revision`.
    fn database_at(&self, hint: &str, revision: &str) -> Option<support::TestDb> {
        let db = support::fresh_database(hint)?;
        support::alembic(&self.dir, &["upgrade", revision], &db.url);
        Some(db)
    }
}

fn version_table() -> TableKey {
    TableKey::new("public", "alembic_version")
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn pending_revisions_rendered_as_sql_bring_the_database_to_the_head() {
    if !support::alembic_available() {
        return;
    }
    let project = Project::load("core");
    let Some(reference) = project.database_at("fix pending reference", "heads") else {
        return;
    };
    let Some(db) = project.database_at("fix pending", "0002") else {
        return;
    };
    let fix = pending_upgrade_fix(
        &project.revisions,
        &project.graph,
        &project.sources,
        &project.indices(&["0002"]),
        &project.indices(&["0003", "0004", "0005"]),
        &[],
        &version_table(),
    );
    let findings = [finding(
        Rule::DatabaseBehindHead,
        "the database is 3 revisions behind",
        fix,
    )];
    // 0004 drops users.legacy_token, which the database has: left out unless allowed. The
    // table 0004 creates and drops again is no loss.
    let careful = render_script(&findings, &meta(), false).expect("the script renders");
    assert!(careful.contains(
        "-- DESTRUCTIVE (re-run with --allow-destructive to include):\n-- ALTER TABLE users DROP COLUMN legacy_token;"
    ));
    assert!(careful.contains("\nDROP TABLE scratch;\n"), "{careful}");
    let script = render_script(&findings, &meta(), true).expect("the script renders");
    apply_twice(&db, &script);
    assert_eq!(support::state(&db), support::state(&reference));
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn a_stamped_database_gets_the_revisions_it_lacks_and_its_sequences_fixed_in_one_script() {
    if !support::alembic_available() {
        return;
    }
    let project = Project::load("core");
    let Some(reference) = project.database_at("fix stamped reference", "heads") else {
        return;
    };
    let Some(db) = project.database_at("fix stamped", "0002") else {
        return;
    };
    // `alembic stamp` without `upgrade`, and rows restored with explicit ids behind the sequence.
    support::alembic(&project.dir, &["stamp", "heads"], &db.url);
    db.psql("INSERT INTO teams (id, name) VALUES (1, 'a'), (2, 'b'), (40, 'c');");
    reference.psql("INSERT INTO squads (id, title) VALUES (1, 'a'), (2, 'b'), (40, 'c'); SELECT setval('teams_id_seq', 41, false);");
    let stamped = stamped_fix(
        &project.revisions,
        &project.graph,
        &project.sources,
        &project.indices(&["0005", "0004", "0003"]),
    );
    let sequence = setval_fix(&SequenceFacts {
        sequence_schema: "public",
        sequence_name: "teams_id_seq",
        table_schema: "public",
        table_name: "teams",
        column: "id",
        increment: 1,
        start: 1,
        extreme_found: Some(40),
        next_found: Some(1),
    });
    let script = render_script(
        &[
            finding(
                Rule::StampedNotApplied,
                "0003, 0004 and 0005 are stamped, not applied",
                stamped,
            ),
            finding(
                Rule::SequenceBehind,
                "public.teams_id_seq would hand out 1",
                sequence,
            ),
        ],
        &meta(),
        true,
    )
    .expect("the script renders");
    // The sequence is fixed under the table's name at check time, before the revisions rename it.
    assert!(script.find("SELECT setval") < script.find("ALTER TABLE teams RENAME TO squads"));
    apply_twice(&db, &script);
    assert_eq!(support::state(&db), support::state(&reference));
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn an_interrupted_revision_is_finished_with_only_what_it_lacks() {
    if !support::alembic_available() {
        return;
    }
    let project = Project::load("core");
    let Some(reference) = project.database_at("fix partial reference", "0003") else {
        return;
    };
    let Some(db) = project.database_at("fix partial", "0002") else {
        return;
    };
    // The first four statements of 0003 ran (settings created, its key moved, its id dropped),
    // then the migration stopped and was never recorded.
    let rendered = render_revisions(
        &project.revisions,
        &project.graph,
        &project.sources,
        &project.indices(&["0003"]),
    );
    let ran: Vec<String> = rendered[0]
        .statements()
        .take(4)
        .map(|s| s.sql.clone())
        .collect();
    db.psql(&ran.join("\n"));
    let live = live_schema(&db);
    let fix = partial_fix(
        &project.revisions,
        &project.graph,
        &project.sources,
        project.index("0003"),
        &live,
        Some(&VersionChange {
            table: version_table(),
            from: vec!["0002".into()],
            to: vec!["0003".into()],
        }),
    )
    .expect("something is missing");
    assert!(
        !fix.sql
            .iter()
            .any(|line| line.starts_with("CREATE TABLE settings")),
        "what ran is not run again: {:#?}",
        fix.sql
    );
    assert_eq!(fix.safety, Safety::Safe);
    let script = render_script(
        &[finding(
            Rule::PartiallyAppliedRevision,
            "revision 0003 is partly applied",
            fix,
        )],
        &meta(),
        false,
    )
    .expect("the script renders");
    apply_twice(&db, &script);
    assert_eq!(support::state(&db), support::state(&reference));
}

// ---------------------------------------------------------------------------------------------
// The drift scenarios of the live check, end to end through the command line: `check --fix-sql`,
// the script applied with `psql -v ON_ERROR_STOP=1 -f`, `check` again, and the script applied a
// second time.

const INITIAL: &str = "1a2b3c4d5e6f";
const GUEST_FLAGS: &str = "2b3c4d5e6f7a";
const ANALYSIS_RESULTS: &str = "3c4d5e6f7a8b";
const SYSTEM_CONFIG: &str = "5e6f7a8b9c0d";
const ACCOUNT_LOCKING: &str = "6f7a8b9c0d1e";

fn live_app() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live/app")
}

fn app_alembic(args: &[&str], url: &str) -> String {
    let mut all = vec!["-c", "migrations/alembic.ini"];
    all.extend_from_slice(args);
    support::alembic(&live_app(), &all, url)
}

/// A database with the app fixture migrated to `revision` by real Alembic.
fn app_at(revision: &str, hint: &str) -> Option<support::TestDb> {
    if !support::alembic_available() {
        return None;
    }
    let db = support::fresh_database(hint)?;
    app_alembic(&["upgrade", revision], &db.url);
    Some(db)
}

/// `driftlint check --format json --database-url URL` in the app, with `extra` arguments:
/// `rule schema.table[.column]` per finding, sorted.
fn check_app(db: &support::TestDb, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["check", "--format", "json", "--database-url", &db.url];
    args.extend_from_slice(extra);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_driftlint"))
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
    let mut lines: Vec<String> = report["findings"]
        .as_array()
        .expect("findings is a list")
        .iter()
        .map(|finding| {
            let object = &finding["object"];
            let mut line = finding["rule"].as_str().unwrap_or("?").to_owned();
            if let (Some(schema), Some(table)) =
                (object["schema"].as_str(), object["table"].as_str())
            {
                line.push_str(&format!(" {schema}.{table}"));
                if let Some(column) = object["column"].as_str() {
                    line.push_str(&format!(".{column}"));
                }
            }
            line
        })
        .collect();
    lines.sort();
    lines
}

/// `psql -X -v ON_ERROR_STOP=1 -f FILE`, as the script's header says to run it.
fn psql_file(db: &support::TestDb, path: &Path) -> String {
    let output = std::process::Command::new(support::client_program("psql"))
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(path)
        .arg(&db.url)
        .env_remove("PGPASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("psql runs");
    let script = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        output.status.success(),
        "the fix script failed:\n{}\nscript:\n{script}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a round trip saw: the findings before, the script, the findings after.
struct RoundTrip {
    before: Vec<String>,
    script: String,
    after: Vec<String>,
}

/// `check --fix-sql`, apply, `check` again, apply again (which must change nothing).
fn round_trip(db: &support::TestDb, allow_destructive: bool) -> RoundTrip {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("fix.sql");
    let path_text = path.to_str().expect("UTF-8 path").to_owned();
    let mut extra = vec!["--fix-sql", path_text.as_str()];
    if allow_destructive {
        extra.push("--allow-destructive");
    }
    let before = check_app(db, &extra);
    let script = std::fs::read_to_string(&path).expect("the script was written");
    assert!(
        !script.contains(":***@"),
        "no password placeholder in the script"
    );
    psql_file(db, &path);
    let after = check_app(db, &[]);
    let state = support::state(db);
    psql_file(db, &path);
    assert_eq!(
        support::state(db),
        state,
        "the second run changed the database; script:\n{script}"
    );
    RoundTrip {
        before,
        script,
        after,
    }
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_sequences_behind_after_explicit_ids() {
    let Some(db) = app_at("head", "rt explicit ids") else {
        return;
    };
    db.psql(
        "INSERT INTO users (email) VALUES ('ada@example.com');
         INSERT INTO submissions (user_id, score) VALUES (1, 90);
         INSERT INTO invite_codes (id, code) VALUES (1, 'LAUNCH-2026'), (2, 'PRESS-2026');
         INSERT INTO analysis_results (id, submission_id, status) VALUES (7, 1, 'done');",
    );
    let trip = round_trip(&db, false);
    assert_eq!(
        trip.before,
        [
            "sequence-behind public.analysis_results.id",
            "sequence-behind public.invite_codes.id"
        ]
    );
    assert!(trip.after.is_empty(), "{:?}", trip.after);
    db.psql("INSERT INTO invite_codes (code) VALUES ('NEXT'); INSERT INTO analysis_results (submission_id, status) VALUES (1, 'done');");
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_a_column_dropped_by_hand() {
    let Some(db) = app_at("head", "rt column dropped") else {
        return;
    };
    db.psql("INSERT INTO users (email) VALUES ('a@example.com'); ALTER TABLE users DROP COLUMN is_test_account;");
    let trip = round_trip(&db, false);
    assert_eq!(trip.before, ["missing-column public.users.is_test_account"]);
    assert!(trip.after.is_empty(), "{:?}", trip.after);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_a_column_retyped_by_hand_needs_allow_destructive() {
    let Some(db) = app_at("head", "rt retyped") else {
        return;
    };
    db.psql("ALTER TABLE submissions ALTER COLUMN score TYPE numeric(6,2);");
    let careful = round_trip(&db, false);
    assert_eq!(
        careful.before,
        ["column-type-mismatch public.submissions.score"]
    );
    assert_eq!(
        careful.after, careful.before,
        "numeric to integer rounds: left out"
    );
    assert!(
        careful
            .script
            .contains("-- DESTRUCTIVE (re-run with --allow-destructive to include):")
    );
    let allowed = round_trip(&db, true);
    assert!(allowed.after.is_empty(), "{:?}", allowed.after);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_a_column_and_a_table_added_by_hand() {
    let Some(db) = app_at("head", "rt untracked") else {
        return;
    };
    db.psql(
        "ALTER TABLE users ADD COLUMN nickname text;
         CREATE TABLE tmp_import (id serial PRIMARY KEY, payload jsonb);",
    );
    let careful = round_trip(&db, false);
    assert_eq!(
        careful.before,
        [
            "untracked-column public.users.nickname",
            "untracked-table public.tmp_import"
        ]
    );
    assert_eq!(
        careful.after, careful.before,
        "drops are left out by default"
    );
    assert!(careful.script.contains(
        "--   op.add_column(\"users\", sa.Column(\"nickname\", sa.Text(), nullable=True))"
    ));
    let allowed = round_trip(&db, true);
    assert!(allowed.after.is_empty(), "{:?}", allowed.after);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_stamped_head_without_upgrade() {
    let Some(db) = app_at(ANALYSIS_RESULTS, "rt stamped") else {
        return;
    };
    app_alembic(&["stamp", "head"], &db.url);
    let trip = round_trip(&db, false);
    assert_eq!(trip.before, ["stamped-not-applied public.invite_codes"]);
    assert!(trip.after.is_empty(), "{:?}", trip.after);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_stamped_with_sequences_behind() {
    let Some(db) = app_at(ANALYSIS_RESULTS, "rt stamped sequences") else {
        return;
    };
    db.psql(
        "INSERT INTO users (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com');
         INSERT INTO submissions (id, user_id, score) VALUES (5, 1, 10);",
    );
    app_alembic(&["stamp", "head"], &db.url);
    let trip = round_trip(&db, false);
    assert_eq!(
        trip.before,
        [
            "sequence-behind public.submissions.id",
            "sequence-behind public.users.id",
            "stamped-not-applied public.invite_codes",
        ]
    );
    assert!(trip.after.is_empty(), "{:?}", trip.after);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_behind_head() {
    let Some(db) = app_at(GUEST_FLAGS, "rt behind") else {
        return;
    };
    let trip = round_trip(&db, false);
    assert_eq!(trip.before, ["database-behind-head"]);
    assert!(trip.script.contains(&format!(
        "-- Running upgrade {SYSTEM_CONFIG} -> {ACCOUNT_LOCKING}"
    )));
    assert!(trip.after.is_empty(), "{:?}", trip.after);
    let version = db.psql("SELECT version_num FROM alembic_version;");
    assert_eq!(version.trim(), ACCOUNT_LOCKING);
}

/// The first `ALTER TABLE` of the account-locking revision, as `alembic upgrade --sql` prints it.
fn account_locking_statements(url: &str) -> Vec<String> {
    let range = format!("{SYSTEM_CONFIG}:{ACCOUNT_LOCKING}");
    let sql = app_alembic(&["upgrade", &range, "--sql"], url);
    sql.split(';')
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
        .collect()
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_interrupted_half_way_and_not_recorded() {
    let Some(db) = app_at(SYSTEM_CONFIG, "rt interrupted") else {
        return;
    };
    db.psql(&account_locking_statements(&db.url)[0]);
    let trip = round_trip(&db, false);
    assert_eq!(
        trip.before,
        [
            "database-behind-head",
            "partially-applied-revision public.users.failed_logins"
        ]
    );
    assert!(trip.after.is_empty(), "{:?}", trip.after);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_applied_half_way_then_stamped() {
    let Some(db) = app_at(SYSTEM_CONFIG, "rt half stamped") else {
        return;
    };
    db.psql(&account_locking_statements(&db.url)[1]);
    app_alembic(&["stamp", "head"], &db.url);
    let trip = round_trip(&db, false);
    assert_eq!(
        trip.before,
        ["partially-applied-revision public.users.locked_until"]
    );
    assert!(trip.after.is_empty(), "{:?}", trip.after);
}

/// The revision that creates `analysis_results` ran without its `payload` column; `recorded` says
/// whether the version table then moved to it.
fn created_table_without_a_column(hint: &str, recorded: bool) -> Option<support::TestDb> {
    let db = app_at(ANALYSIS_RESULTS, hint)?;
    db.psql("ALTER TABLE analysis_results DROP COLUMN payload;");
    if !recorded {
        db.psql(&format!(
            "UPDATE alembic_version SET version_num = '{GUEST_FLAGS}';"
        ));
    }
    Some(db)
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_interrupted_inside_create_table_and_not_recorded() {
    let Some(db) = created_table_without_a_column("rt create partial", false) else {
        return;
    };
    let trip = round_trip(&db, false);
    assert_eq!(
        trip.before,
        [
            "database-behind-head",
            "partially-applied-revision public.analysis_results.payload"
        ]
    );
    assert!(
        trip.script.contains(
            "ALTER TABLE public.analysis_results ADD COLUMN IF NOT EXISTS payload jsonb;"
        ),
        "{}",
        trip.script
    );
    assert!(!trip.script.contains("(0 missing operations)"));
    // The revision is finished and recorded; the revisions after it are the next step (the
    // upgrade is offered once no revision is half applied).
    assert_eq!(trip.after, ["database-behind-head"]);
    let next = round_trip(&db, false);
    assert!(next.after.is_empty(), "{:?}", next.after);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_create_table_without_a_column_then_recorded() {
    let Some(db) = created_table_without_a_column("rt create partial stamped", true) else {
        return;
    };
    // Drift of its own on the same table: reported beside the partial revision, not hidden.
    db.psql("ALTER TABLE analysis_results ALTER COLUMN created_at DROP NOT NULL;");
    let trip = round_trip(&db, false);
    assert_eq!(
        trip.before,
        [
            "database-behind-head",
            "nullability-mismatch public.analysis_results.created_at",
            "partially-applied-revision public.analysis_results.payload",
        ]
    );
    assert!(trip.after.is_empty(), "{:?}", trip.after);
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_a_table_re_keyed_by_hand() {
    let Some(db) = app_at("head", "rt re-keyed") else {
        return;
    };
    db.psql(
        "INSERT INTO system_config (key, value) VALUES ('maintenance', 'off'), ('theme', 'dark');
         ALTER TABLE system_config DROP CONSTRAINT system_config_pkey;
         ALTER TABLE system_config ADD COLUMN id serial PRIMARY KEY;",
    );
    let careful = round_trip(&db, false);
    assert_eq!(
        careful.before,
        [
            "forbidden-column-present public.system_config.id",
            "primary-key-mismatch public.system_config",
        ]
    );
    // The key moves back without --allow-destructive; the `id` column and its data stay.
    assert_eq!(
        careful.after,
        ["forbidden-column-present public.system_config.id"]
    );
    let allowed = round_trip(&db, true);
    assert!(allowed.after.is_empty(), "{:?}", allowed.after);
    assert_eq!(
        db.psql("SELECT count(*) FROM system_config;").trim(),
        "2",
        "the rows stay"
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn scenario_not_versioned_gets_guidance_not_sql() {
    let Some(db) = app_at("head", "rt unversioned") else {
        return;
    };
    db.psql("DROP TABLE alembic_version;");
    let trip = round_trip(&db, true);
    assert_eq!(trip.before, ["database-not-versioned"]);
    assert_eq!(trip.after, trip.before, "guidance is not run");
    assert!(
        trip.script
            .contains(&format!("-- flask db stamp {ACCOUNT_LOCKING}")),
        "{}",
        trip.script
    );
    let _ = INITIAL;
}

// ---------------------------------------------------------------------------------------------
// The fix script shown in the README (`docs/fix-script-example.sql`), made from the bundled
// example on a real database: migrated to `e5a7c9d1f3b5`, users restored with explicit ids, both
// heads stamped without upgrading, and a column added by hand. The test keeps the file current
// (`DRIFTLINT_UPDATE_DOCS=1` rewrites it) and applies the script twice.

/// The example's revision files in a project Alembic can run without Flask: the fixtures'
/// `env.py` and `alembic.ini`.
fn runnable_example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let versions = dir.path().join("migrations/versions");
    std::fs::create_dir_all(&versions).expect("mkdir");
    for entry in std::fs::read_dir(root.join("examples/flask-app/migrations/versions"))
        .expect("the example's versions")
    {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), versions.join(entry.file_name())).expect("copy");
    }
    std::fs::copy(
        root.join("tests/fixtures/replay/core/migrations/env.py"),
        dir.path().join("migrations/env.py"),
    )
    .expect("copy env.py");
    std::fs::copy(
        root.join("tests/fixtures/replay/core/alembic.ini"),
        dir.path().join("alembic.ini"),
    )
    .expect("copy alembic.ini");
    dir
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn the_readme_fix_script_comes_from_the_bundled_example_and_runs() {
    if !support::alembic_available() {
        return;
    }
    let Some(db) = support::fresh_database("fix example") else {
        return;
    };
    let example = runnable_example();
    support::alembic(example.path(), &["upgrade", "e5a7c9d1f3b5"], &db.url);
    db.psql(
        "INSERT INTO users (id, email, is_guest, is_test_account) VALUES
             (1, 'ada@example.com', false, false), (2, 'grace@example.com', false, false),
             (1042, 'edsger@example.com', false, true);
         ALTER TABLE users ADD COLUMN nickname text;",
    );
    support::alembic(example.path(), &["stamp", "heads"], &db.url);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args([
            "check",
            "--migrations",
            "examples/flask-app/migrations",
            "--expectations",
            "expectations/example.yaml",
            "--database-url",
            &db.url,
            "--fix-sql",
            "-",
        ])
        .current_dir(root)
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the driftlint binary runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let script = String::from_utf8(output.stdout).expect("UTF-8");

    // The parts that change from run to run: the database's address and the time.
    let shown = DatabaseUrl::parse(&db.url)
        .expect("the test URL parses")
        .to_string()
        .replacen(":***@", "@", 1);
    let stable: String = script
        .replace(
            &shown,
            "postgresql://app@db.internal:5432/app?sslmode=prefer",
        )
        .lines()
        .map(|line| {
            if line.starts_with("-- generated ") {
                "-- generated 2026-11-29 10:40:12 UTC by driftlint 0.1.0".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let doc = root.join("docs/fix-script-example.sql");
    if std::env::var_os("DRIFTLINT_UPDATE_DOCS").is_some() {
        std::fs::write(&doc, &stable).expect("write the example");
    } else {
        let current = std::fs::read_to_string(&doc).unwrap_or_default();
        assert!(
            current == stable,
            "docs/fix-script-example.sql is out of date; rerun this test with \
             DRIFTLINT_UPDATE_DOCS=1 and read the new file:\n{stable}"
        );
    }
    for expected in [
        "-- sequence-behind: sequence public.users_id_seq would hand out 1",
        "-- stamped-not-applied:",
        "UPDATE submissions SET score = 0 WHERE score IS NULL;",
        "-- DESTRUCTIVE (re-run with --allow-destructive to include):",
        "\\set ON_ERROR_STOP on",
    ] {
        assert!(stable.contains(expected), "{expected}:\n{stable}");
    }

    let file = example.path().join("fix.sql");
    std::fs::write(&file, &script).expect("write the script");
    psql_file(&db, &file);
    let state = support::state(&db);
    psql_file(&db, &file);
    assert_eq!(support::state(&db), state);
    assert_eq!(nextval(&db, "users_id_seq"), 1043);
}

/// A pending revision that builds an index `CONCURRENTLY` inside `autocommit_block()`: the script
/// runs it after the transaction, under the same guard, and a second run skips it.
#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn statements_refused_inside_a_transaction_run_after_it() {
    if !support::alembic_available() {
        return;
    }
    let Some(db) = support::fresh_database("fix concurrently") else {
        return;
    };
    let project = tempfile::tempdir().expect("temporary directory");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let versions = project.path().join("migrations/versions");
    std::fs::create_dir_all(&versions).expect("mkdir");
    std::fs::copy(
        root.join("tests/fixtures/replay/core/migrations/env.py"),
        project.path().join("migrations/env.py"),
    )
    .expect("copy env.py");
    std::fs::copy(
        root.join("tests/fixtures/replay/core/alembic.ini"),
        project.path().join("alembic.ini"),
    )
    .expect("copy alembic.ini");
    std::fs::write(
        versions.join("c1_events.py"),
        "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = 'c1'\ndown_revision = None\n\n\
         def upgrade():\n    op.create_table('events', sa.Column('id', sa.Integer(), primary_key=True), \
         sa.Column('kind', sa.Text()))\n",
    )
    .expect("write c1");
    std::fs::write(
        versions.join("c2_index.py"),
        "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = 'c2'\ndown_revision = 'c1'\n\n\
         def upgrade():\n    op.add_column('events', sa.Column('at', sa.DateTime()))\n    \
         with op.get_context().autocommit_block():\n        \
         op.create_index('ix_events_kind', 'events', ['kind'], postgresql_concurrently=True)\n",
    )
    .expect("write c2");
    support::alembic(project.path(), &["upgrade", "c1"], &db.url);

    let found = discover(project.path(), None).expect("a project");
    let mut sources = Sources::new();
    let loaded = load(&found, &mut sources).expect("loads");
    let graph = RevisionGraph::build(&loaded.revisions);
    let index = |id: &str| graph.index_of(id).expect("revision");
    let fix = pending_upgrade_fix(
        &loaded.revisions,
        &graph,
        &sources,
        &[index("c1")],
        &[index("c2")],
        &[],
        &version_table(),
    );
    let script = render_script(
        &[finding(
            Rule::DatabaseBehindHead,
            "the database is 1 revision behind",
            fix,
        )],
        &meta(),
        false,
    )
    .expect("the script renders");
    let commit = script.find("COMMIT;").expect("a transaction");
    let concurrently = script
        .find("CREATE INDEX CONCURRENTLY ix_events_kind ON events (kind);")
        .expect("the index is rendered");
    assert!(concurrently > commit, "{script}");
    assert!(
        script.contains("\\if :driftlint_guard_1\nCREATE INDEX CONCURRENTLY"),
        "{script}"
    );
    apply_twice(&db, &script);
    let Some(reference) = support::fresh_database("fix concurrently reference") else {
        return;
    };
    support::alembic(project.path(), &["upgrade", "c2"], &reference.url);
    assert_eq!(support::state(&db), support::state(&reference));
}
