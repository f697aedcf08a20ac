//! The upgrade rendered as SQL against the real thing: for the fixture projects under
//! `tests/fixtures/replay/` whose revisions use Alembic's `op.*` calls, real
//! `alembic upgrade heads --sql` (offline mode, no database) prints the statements of every
//! revision, and `fix::upgrade_sql::render_revisions` must print the same statements, revision by
//! revision, modulo whitespace, letter case and the spelling of type names (`VARCHAR(80)` against
//! `format_type()`'s `character varying(80)`). Alembic's own `alembic_version` bookkeeping is left
//! out, and so is SQL that `op.execute` passes through and the replay does not model.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use driftlint::alembic::{discover, load};
use driftlint::fix::upgrade_sql::render_revisions;
use driftlint::graph::RevisionGraph;
use driftlint::source::Sources;

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/replay")
        .join(case)
}

/// Lower case, no whitespace, and Alembic's type spellings as `format_type()` prints them.
fn normalise(statement: &str) -> String {
    let squashed: String = statement
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let mut out = squashed
        .replace("varchar(", "charactervarying(")
        .replace("char(", "character(")
        .replace("float", "doubleprecision");
    if out.ends_with(';') {
        out.pop();
    }
    out
}

/// Statements of `alembic upgrade heads --sql`, by the revision whose `-- Running upgrade … -> X`
/// header precedes them; the version table's statements are left out.
fn alembic_statements(dir: &Path, config: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut args = config.to_vec();
    args.extend(["upgrade", "heads", "--sql"]);
    let output = support::alembic(dir, &args, "postgresql://offline@127.0.0.1/offline");
    let mut by_revision: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut statement = String::new();
    for line in output.lines() {
        if let Some(header) = line.strip_prefix("-- Running upgrade ") {
            let target = header
                .rsplit("-> ")
                .next()
                .expect("a header names its target")
                .trim()
                .to_owned();
            by_revision.entry(target.clone()).or_default();
            current = Some(target);
            continue;
        }
        statement.push_str(line);
        statement.push('\n');
        if line.trim_end().ends_with(';') {
            let text = std::mem::take(&mut statement);
            let trimmed = text.trim();
            let bookkeeping =
                trimmed.contains("alembic_version") || trimmed == "BEGIN;" || trimmed == "COMMIT;";
            if let (Some(revision), false) = (&current, bookkeeping) {
                by_revision
                    .get_mut(revision)
                    .expect("entry made at the header")
                    .push(trimmed.to_owned());
            }
        }
    }
    by_revision
}

/// Statements driftlint renders for every revision of the fixture, by revision id.
fn driftlint_statements(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let case = dir.display();
    let project = discover(dir, None).unwrap_or_else(|e| panic!("{case}: {e}"));
    let mut sources = Sources::new();
    let loaded = load(&project, &mut sources).unwrap_or_else(|e| panic!("{case}: {e}"));
    let graph = RevisionGraph::build(&loaded.revisions);
    let all: Vec<usize> = (0..loaded.revisions.len()).collect();
    render_revisions(&loaded.revisions, &graph, &sources, &all)
        .into_iter()
        .map(|rendered| {
            (
                loaded.revisions[rendered.revision].id.clone(),
                rendered.statements().map(|s| s.sql.clone()).collect(),
            )
        })
        .collect()
}

fn compare(case: &str) {
    compare_project(&fixture(case), &[]);
}

/// Compares the project in `dir`; `config` are Alembic's options naming its configuration.
fn compare_project(dir: &Path, config: &[&str]) {
    if !support::alembic_available() {
        return;
    }
    let case = dir.display();
    let expected = alembic_statements(dir, config);
    let actual = driftlint_statements(dir);
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "{case}: the same revisions are rendered"
    );
    let mut differences = Vec::new();
    for (revision, alembic) in &expected {
        let ours = &actual[revision];
        let alembic_normalised: Vec<String> = alembic.iter().map(|s| normalise(s)).collect();
        let ours_normalised: Vec<String> = ours.iter().map(|s| normalise(s)).collect();
        if alembic_normalised != ours_normalised {
            differences.push(format!(
                "revision {revision}:\n  alembic:\n    {}\n  driftlint:\n    {}",
                alembic.join("\n    "),
                ours.join("\n    ")
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{case}: the rendered upgrade differs from `alembic upgrade --sql`:\n{}",
        differences.join("\n")
    );
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn core_operations_render_as_alembic_renders_them() {
    compare("core");
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn batch_operations_render_as_alembic_renders_them() {
    compare("batch");
}

#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn branches_render_as_alembic_renders_them() {
    compare("branches");
}

/// The Flask-Migrate-style app of the live scenarios: batch operations, enum types, data fixes.
#[test]
#[ignore = "needs PostgreSQL and Alembic (scripts/test runs it)"]
fn the_live_app_renders_as_alembic_renders_it() {
    compare_project(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live/app"),
        &["-c", "migrations/alembic.ini"],
    );
}

/// Every fixture's upgrade, rendered from the first revision to the heads, runs on PostgreSQL
/// as it is: raw SQL included (which `op.execute` writes in its own words, so it is not compared
/// statement by statement above), passed-through data and schema statements included.
#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn rendered_upgrades_run_on_postgresql() {
    for case in ["core", "batch", "raw_sql", "branches"] {
        let Some(db) = support::fresh_database(&format!("upgrade sql {case}")) else {
            return;
        };
        let mut script = String::new();
        let project = discover(&fixture(case), None).unwrap_or_else(|e| panic!("{case}: {e}"));
        let mut sources = Sources::new();
        let loaded = load(&project, &mut sources).unwrap_or_else(|e| panic!("{case}: {e}"));
        let graph = RevisionGraph::build(&loaded.revisions);
        let all: Vec<usize> = (0..loaded.revisions.len()).collect();
        for rendered in render_revisions(&loaded.revisions, &graph, &sources, &all) {
            for statement in rendered.statements() {
                assert!(
                    !statement.is_comment(),
                    "{case}: every operation of the fixtures is rendered: {}",
                    statement.sql
                );
                script.push_str(&statement.sql);
                script.push('\n');
            }
        }
        if let Err(error) = support::try_psql(&db.url, &script) {
            panic!("{case}: PostgreSQL refused the rendered upgrade:\n{error}\nSQL:\n{script}");
        }
    }
}
