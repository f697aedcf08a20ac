//! The replay against the real thing: for each fixture project under `tests/fixtures/replay/`,
//! real `alembic upgrade heads` builds one database, `driftlint`'s replay rendered by
//! `schema::render::to_sql` builds another, and both are described by the same catalog queries
//! (tables, columns with `format_type()`, nullability, defaults and identity, primary keys,
//! unique, check and foreign key constraints, indexes, sequences and their owners, enum types).
//! The descriptions must be equal. Each fixture's replayed schema is also snapshotted as YAML.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use driftlint::alembic::{discover, load};
use driftlint::graph::RevisionGraph;
use driftlint::replay::{Replay, replay_heads};
use driftlint::schema::ops::Op;
use driftlint::schema::render::{to_sql, to_yaml};
use driftlint::source::Sources;

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/replay")
        .join(case)
}

/// The fixture's revisions replayed to every head. Every operation in them must be modelled and
/// fit: the fixtures are meant to exercise what the replay follows.
fn replayed(case: &str) -> Replay {
    let dir = fixture(case);
    let project = discover(&dir, None).unwrap_or_else(|e| panic!("{case}: {e}"));
    let mut sources = Sources::new();
    let loaded = load(&project, &mut sources).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(
        loaded.findings.is_empty(),
        "{case}: the revision files read with findings: {:#?}",
        loaded.findings
    );
    let unmodeled: Vec<String> = loaded
        .revisions
        .iter()
        .flat_map(|r| r.upgrade.iter().map(move |op| (r, op)))
        .filter_map(|(r, op)| match &op.op {
            Op::Unmodeled { what, .. } => Some(format!("{}: {what}", r.id)),
            _ => None,
        })
        .collect();
    assert!(
        unmodeled.is_empty(),
        "{case}: operations the replay does not follow: {unmodeled:#?}"
    );
    let graph = RevisionGraph::build(&loaded.revisions);
    let replay = replay_heads(&loaded.revisions, &graph);
    assert!(
        replay.problems.is_empty(),
        "{case}: replay problems: {:#?}",
        replay.problems
    );
    replay
}

fn describe(db: &support::TestDb) -> Vec<String> {
    support::describe(db)
}

/// Runs the differential comparison for one fixture.
fn check_against_alembic(case: &str) {
    let Some(real) = support::fresh_database(&format!("replay {case} alembic")) else {
        return;
    };
    if !support::alembic_available() {
        return;
    }
    let Some(ours) = support::fresh_database(&format!("replay {case} driftlint")) else {
        return;
    };
    support::alembic(&fixture(case), &["upgrade", "heads"], &real.url);
    let sql = to_sql(&replayed(case).schema);
    if let Err(error) = support::try_psql(&ours.url, &sql) {
        panic!("{case}: PostgreSQL refused the rendered schema:\n{error}\nSQL:\n{sql}");
    }
    let expected = describe(&real);
    let actual = describe(&ours);
    assert!(
        expected.iter().any(|line| line.starts_with("table ")),
        "{case}: Alembic built no tables"
    );
    if expected != actual {
        let missing: Vec<&String> = expected.iter().filter(|l| !actual.contains(l)).collect();
        let extra: Vec<&String> = actual.iter().filter(|l| !expected.contains(l)).collect();
        panic!(
            "{case}: the replayed schema differs from what Alembic built\n\
             only in Alembic's database:\n  {}\n\
             only in the replay's:\n  {}\n\
             (same lines in another order when both are empty)\nrendered SQL:\n{sql}",
            missing
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join("\n  "),
            extra
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join("\n  "),
        );
    }
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn core_operations_build_what_alembic_builds() {
    check_against_alembic("core");
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn batch_operations_build_what_alembic_builds() {
    check_against_alembic("batch");
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn raw_sql_builds_what_alembic_builds() {
    check_against_alembic("raw_sql");
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn branches_merges_and_dependencies_build_what_alembic_builds() {
    check_against_alembic("branches");
}

#[test]
fn every_fixture_has_a_differential_test() {
    let mut cases: Vec<String> = std::fs::read_dir(fixture(""))
        .expect("the fixture directory exists")
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    cases.sort();
    assert_eq!(cases, ["batch", "branches", "core", "raw_sql"]);
}

#[test]
fn replayed_fixtures_as_yaml() {
    for case in ["core", "batch", "raw_sql", "branches"] {
        insta::assert_snapshot!(format!("replay_{case}"), to_yaml(&replayed(case).schema));
    }
}
