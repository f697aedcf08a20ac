//! The live state's decisions across rules: what is clean, what is a stamp, what is partial,
//! what is a manual change, and that each problem is reported once.

use super::test_support::*;
use super::{Change, Position, Status};
use crate::schema::ops::Op;
use crate::schema::types::PgType;

#[test]
fn a_database_at_head_has_no_finding_with_or_without_expectations() {
    let mut project = app_project();
    let expectations = project.expectations(
        "version: 1
tables:
  users:
    primary_key: [id]
    columns:
      id: { type: integer, nullable: false }
      email: { type: varchar(120), nullable: false }
      is_guest: boolean
      locked_until: timestamp
  system_config:
    primary_key: [key]
    columns: { key: varchar, value: text }
    absent_columns: [id]
",
    );
    assert!(project.findings(project.live_at(&["r3"]), None).is_empty());
    let found = project.findings(project.live_at(&["r3"]), Some(&expectations));
    assert!(found.is_empty(), "{:#?}", lines(&found));
    let state = project.state(project.live_at(&["r3"]), None);
    assert_eq!(state.position, Position::At(vec![project.index("r3")]));
    for id in ["r1", "r2", "r3"] {
        assert_eq!(state.status(project.index(id)), Status::Present, "{id}");
    }
}

#[test]
fn a_missing_column_found_by_the_expectations_and_the_replay_is_reported_once() {
    let mut project = app_project();
    let expectations = project.expectations(
        "version: 1\ntables:\n  users:\n    columns:\n      is_test_account: boolean\n",
    );
    let mut live = project.live_at(&["r3"]);
    drop_column(&mut live.schema, "users", "is_test_account");
    let found = project.findings(live, Some(&expectations));
    assert_eq!(
        lines(&found),
        ["missing-column: public.users.is_test_account (r2)"]
    );
    let finding = &found[0];
    assert_eq!(
        finding.message,
        "column public.users.is_test_account does not exist in the database, but revision r2 adds it"
    );
    assert_eq!(
        project.place(&finding.primary.as_ref().expect("labelled").span),
        "versions/r2.py:op_1()"
    );
    // The expectation's line is kept as a related label.
    assert_eq!(finding.related.len(), 1);
    assert_eq!(project.text(&finding.related[0].span), "is_test_account");
    assert_eq!(
        finding.fix.as_ref().expect("fix").sql,
        [
            "-- as revision r2 declares it",
            "ALTER TABLE public.users ADD COLUMN IF NOT EXISTS is_test_account boolean;"
        ]
    );
}

#[test]
fn manual_retype_nullability_and_primary_key_changes_name_the_revision_that_set_them() {
    let project = TestProject::new(vec![
        step(
            "m1",
            &[],
            vec![
                create_table(
                    "users",
                    vec![col("id", "integer").pk(), col("email", "varchar(80)")],
                ),
                create_table(
                    "system_config",
                    vec![col("key", "varchar(64)").not_null(), col("value", "text")],
                ),
            ],
        ),
        step(
            "m2",
            &["m1"],
            vec![
                alter_type("users", "email", "varchar(120)"),
                alter_nullable("users", "email", false),
                create_primary_key_op("system_config", "system_config_pkey", &["key"]),
            ],
        ),
        step(
            "m3",
            &["m2"],
            vec![add_column("users", col("locked_until", "timestamp"))],
        ),
    ]);
    let mut live = project.live_at(&["m3"]);
    let users = table_mut(&mut live.schema, "users");
    let email = users.column_mut("email").expect("email");
    email.ty = PgType::parse("text").expect("type");
    email.nullable = true;
    let config = table_mut(&mut live.schema, "system_config");
    config.primary_key.as_mut().expect("key").columns = vec!["value".to_owned()];
    let found = project.findings(live, None);
    assert_eq!(
        lines(&found),
        [
            "column-type-mismatch: public.users.email (m2)",
            "nullability-mismatch: public.users.email (m2)",
            "primary-key-mismatch: public.system_config (m2)",
        ]
    );
    assert_eq!(
        found[0].message,
        "column public.users.email is text in the database, but revision m2 makes it character varying(120)"
    );
    assert_eq!(
        found[1].message,
        "column public.users.email is nullable in the database, but revision m2 makes it NOT NULL"
    );
    assert_eq!(
        found[2].message,
        "the primary key of public.system_config is (value) in the database, but revision m2 makes it (key)"
    );
    assert_eq!(
        found[2].fix.as_ref().expect("fix").sql,
        [
            "SELECT COALESCE(((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_catalog.pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum WHERE c.conrelid = to_regclass('public.system_config') AND c.contype = 'p') IS DISTINCT FROM ARRAY['key']::text[]), false) AS driftlint_guard \\gset",
            "\\if :driftlint_guard",
            "ALTER TABLE public.system_config DROP CONSTRAINT IF EXISTS system_config_pkey;",
            "ALTER TABLE public.system_config ADD CONSTRAINT system_config_pkey PRIMARY KEY (key);",
            "\\endif",
        ]
    );
}

#[test]
fn an_alter_revision_that_was_stamped_is_in_the_absent_tail() {
    let project = TestProject::new(vec![
        step(
            "m1",
            &[],
            vec![create_table(
                "users",
                vec![col("id", "integer").pk(), col("email", "varchar(80)")],
            )],
        ),
        step(
            "m2",
            &["m1"],
            vec![
                alter_type("users", "email", "varchar(120)"),
                rename_table_op("users", "accounts"),
            ],
        ),
    ]);
    let mut live = project.live_at(&["m1"]);
    live.versions = Some(vec!["m2".to_owned()]);
    let state = project.state(live.clone(), None);
    let m2 = project.index("m2");
    assert_eq!(state.absent_tail, [m2]);
    let changes: Vec<&Change> = state.facts[&m2]
        .facts
        .iter()
        .map(|fact| &fact.change)
        .collect();
    // The type is set on a table that is not there under its new name: only the rename counts.
    assert_eq!(
        changes,
        [&Change::RenamesTable {
            from: "users".to_owned()
        }]
    );
    let found = project.findings(live, None);
    assert_eq!(lines(&found), ["stamped-not-applied: public.accounts (m2)"]);
}

#[test]
fn interrupted_then_stamped_head_is_a_partial_revision_and_an_absent_tail() {
    let project = app_project();
    let mut live = project.live_at(&["r1"]);
    live.versions = Some(vec!["r3".to_owned()]);
    table_mut(&mut live.schema, "users")
        .columns
        .push(plain_column("is_guest", "boolean"));
    table_mut(&mut live.schema, "users")
        .columns
        .last_mut()
        .expect("pushed")
        .nullable = false;
    let found = project.findings(live, None);
    assert_eq!(
        lines(&found),
        [
            "partially-applied-revision: public.users.is_test_account (r2)",
            "stamped-not-applied: public.users.locked_until (r3)",
        ]
    );
}

#[test]
fn two_branches_applied_are_understood_and_a_missing_branch_is_pending() {
    let project = TestProject::new(vec![
        step(
            "base",
            &[],
            vec![create_table("users", vec![col("id", "integer").pk()])],
        ),
        step(
            "billing1",
            &["base"],
            vec![create_table("invoices", vec![col("id", "integer").pk()])],
        ),
        step(
            "reports1",
            &["base"],
            vec![create_table("reports", vec![col("id", "integer").pk()])],
        ),
    ]);
    let found = project.findings(project.live_at(&["billing1", "reports1"]), None);
    // Two heads is the graph's business (multiple-heads), not the database's.
    assert_eq!(lines(&found), ["multiple-heads: - (reports1)"]);

    let found = project.findings(project.live_at(&["billing1"]), None);
    assert_eq!(
        lines(&found),
        [
            "database-behind-head: - (reports1)",
            "multiple-heads: - (reports1)"
        ]
    );
    assert!(
        found[0]
            .help
            .as_deref()
            .is_some_and(|help| help.contains("`alembic upgrade heads`")),
        "{:?}",
        found[0].help
    );
}

#[test]
fn depends_on_is_part_of_what_a_revision_needs() {
    let project = TestProject::new(vec![
        step(
            "a1",
            &[],
            vec![create_table("users", vec![col("id", "integer").pk()])],
        ),
        step(
            "b1",
            &[],
            vec![create_table("audit", vec![col("id", "integer").pk()])],
        ),
        Step {
            id: "a2",
            down: &["a1"],
            depends_on: &["b1"],
            ops: vec![add_column("users", col("audit_id", "integer"))],
        },
    ]);
    let state = project.state(project.live_at(&["a2"]), None);
    assert!(state.pending.is_empty(), "{:?}", state.pending);
    assert!(state.applied.contains(&project.index("b1")));
    let found = project.findings(project.live_at(&["a2"]), None);
    assert!(
        found
            .iter()
            .all(|finding| finding.source != crate::rules::FindingSource::Database),
        "{:?}",
        lines(&found)
    );
}

#[test]
fn tables_an_unmodelled_operation_touches_are_not_compared_with_the_replay() {
    let project = TestProject::new(vec![
        step(
            "u1",
            &[],
            vec![create_table(
                "users",
                vec![col("id", "integer").pk(), col("email", "text")],
            )],
        ),
        step(
            "u2",
            &["u1"],
            vec![Op::Unmodeled {
                what: "op.add_column inside a for loop".to_owned(),
                tables: vec![crate::schema::ops::QualName::new(None, "users")],
            }],
        ),
    ]);
    let mut live = project.live_at(&["u2"]);
    table_mut(&mut live.schema, "users")
        .columns
        .push(plain_column("score_version", "smallint"));
    let found = project.findings(live, None);
    // Only the static rule about the loop may speak: the loop may well add that column.
    let database: Vec<&crate::rules::Finding> = found
        .iter()
        .filter(|finding| finding.source == crate::rules::FindingSource::Database)
        .collect();
    assert!(database.is_empty(), "{database:#?}");
}

#[test]
fn a_dropped_column_revision_not_applied_keeps_its_column() {
    let project = TestProject::new(vec![
        step(
            "d1",
            &[],
            vec![create_table(
                "users",
                vec![col("id", "integer").pk(), col("legacy", "text")],
            )],
        ),
        step("d2", &["d1"], vec![drop_column_op("users", "legacy")]),
    ]);
    // Stamped at d2 but the drop never ran.
    let mut live = project.live_at(&["d1"]);
    live.versions = Some(vec!["d2".to_owned()]);
    let found = project.findings(live, None);
    assert_eq!(
        lines(&found),
        ["stamped-not-applied: public.users.legacy (d2)"]
    );
    assert!(
        found[0]
            .message
            .ends_with("column public.users.legacy still exists"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_column_renamed_by_a_revision_counts_as_that_revision_s_change() {
    let project = TestProject::new(vec![
        step(
            "n1",
            &[],
            vec![create_table(
                "users",
                vec![col("id", "integer").pk(), col("mail", "text")],
            )],
        ),
        step(
            "n2",
            &["n1"],
            vec![rename_column_op("users", "mail", "email")],
        ),
        step(
            "n3",
            &["n2"],
            vec![add_column("users", col("nickname", "text"))],
        ),
    ]);
    // The rename was undone by hand; n3 reached the database.
    let mut live = project.live_at(&["n3"]);
    table_mut(&mut live.schema, "users")
        .column_mut("email")
        .expect("email")
        .name = "mail".to_owned();
    let found = project.findings(live, None);
    assert_eq!(
        lines(&found),
        [
            "missing-column: public.users.email (n2)",
            "untracked-column: public.users.mail (n2)",
        ]
    );
    let state = project.state(project.live_at(&["n3"]), None);
    let n2 = &state.facts[&project.index("n2")];
    assert_eq!(
        n2.facts[0].change,
        Change::RenamesColumn {
            from: "mail".to_owned()
        }
    );
}

#[test]
fn drop_table_helper_and_drop_primary_key_are_usable() {
    // A table dropped by hand whose later revisions reached the database is a missing table.
    let project = TestProject::new(vec![
        step(
            "p1",
            &[],
            vec![
                create_table("users", vec![col("id", "integer").pk()]),
                create_table("notes", vec![col("id", "integer").pk()]),
            ],
        ),
        step(
            "p2",
            &["p1"],
            vec![
                drop_primary_key_op("notes", "notes_pkey"),
                add_column("users", col("email", "text")),
            ],
        ),
    ]);
    let mut live = project.live_at(&["p2"]);
    drop_table(&mut live.schema, "notes");
    let found = project.findings(live, None);
    assert_eq!(lines(&found), ["missing-table: public.notes (p1)"]);
    assert_eq!(
        found[0].fix.as_ref().expect("fix").sql,
        [
            "-- as the migrations make it (created by revision p1)",
            "CREATE TABLE IF NOT EXISTS public.notes (\n    id SERIAL NOT NULL\n);"
        ]
    );
}

#[test]
fn tables_an_operation_that_did_not_fit_touches_are_not_compared_with_the_replay() {
    let project = TestProject::new(vec![
        step(
            "f1",
            &[],
            vec![create_table("users", vec![col("id", "integer").pk()])],
        ),
        // The column was added by SQL the migrations do not show; the replay cannot drop it.
        step("f2", &["f1"], vec![drop_column_op("users", "legacy")]),
    ]);
    let mut live = project.live_at(&["f2"]);
    table_mut(&mut live.schema, "users")
        .columns
        .push(plain_column("nickname", "text"));
    let state = project.state(live.clone(), None);
    assert!(state.replay_unsure_about("public", "users"));
    let found = project.findings(live, None);
    assert!(
        found
            .iter()
            .all(|finding| finding.source != crate::rules::FindingSource::Database),
        "{:?}",
        lines(&found)
    );
}

#[test]
fn without_a_usable_revision_a_missing_column_still_names_the_revision_that_adds_it() {
    let mut project = app_project();
    let expectations =
        project.expectations("version: 1\ntables:\n  users:\n    columns: [id, locked_until]\n");
    let mut live = project.live_at(&["r2"]);
    live.versions = Some(vec!["0ddba11c0ffee".to_owned()]);
    let found = project.findings(live, Some(&expectations));
    assert_eq!(
        lines(&found),
        [
            "database-unknown-revision: - (0ddba11c0ffee)",
            "missing-column: public.users.locked_until (r3)",
        ]
    );
}
