//! `untracked-table`: a table in the database that the migrations do not account for — created
//! by hand, or left behind although an applied revision drops it.
//!
//! Only schemas the migrations or the expectations name are looked at (tables of other
//! applications or extensions in other schemas are not this project's), and the version table is
//! never untracked. At a known revision, a table is untracked when the replay at that revision
//! lacks it and no pending revision creates it; at an unknown revision or none, when no revision
//! creates it at all. Tables an unmodelled operation touches are left alone.

use super::compare::{tracked_live_tables, untracked_finding};
use super::migration_snippets::adopt_table_snippet;
use super::{Context, Finding, Rule};
use crate::fix::ddl::untracked_table_fix;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(live) = ctx.live else {
        return;
    };
    for table in tracked_live_tables(live) {
        let qualified = format!("{}.{}", table.schema, table.name);
        let dropped_by = match &live.schema_at_database {
            Some(reference) => {
                if reference.table(&table.schema, &table.name).is_some() {
                    continue;
                }
                let dropped_by = live.dropped_by(&table.schema, &table.name, None);
                if dropped_by.is_none()
                    && live.some_migration_creates_table(&table.schema, &table.name)
                {
                    // Created by some revision and dropped by none that is applied: whatever
                    // happened to it, it is not a table created by hand.
                    continue;
                }
                dropped_by
            }
            None => {
                if live.some_migration_creates_table(&table.schema, &table.name) {
                    continue;
                }
                None
            }
        };
        let finding = untracked_finding(
            ctx,
            Rule::UntrackedTable,
            "table",
            &qualified,
            dropped_by,
            |removal| match removal {
                Some(noun) => format!(
                    "the {noun} did not happen (undone by hand, or the table recreated): drop \
                     {qualified} (the fix below) once nothing needs it, or ignore it in `lint.ignore`"
                ),
                None => format!(
                    "{qualified} was created by hand: write a migration that creates it, so every \
                     environment has it; or drop it (the fix below) if nothing needs it; or ignore \
                     it with `lint.ignore: [{{ rule: untracked-table, table: {qualified} }}]`"
                ),
            },
        );
        // A table a revision drops is not adopted: the migrations mean it gone.
        let adoption = if dropped_by.is_none() {
            adopt_table_snippet(table)
        } else {
            Vec::new()
        };
        out.push(
            finding
                .object(&table.schema, &table.name, None)
                .fix(untracked_table_fix(&table.schema, &table.name, &adoption)),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::live_state::test_support::*;
    use crate::schema::model::Table;
    use crate::schema::model::TableKey;

    #[test]
    fn a_table_created_by_hand_is_untracked_in_tracked_schemas_only() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        for (schema, name) in [("public", "tmp_import"), ("reporting", "daily")] {
            let mut table = Table::new(schema, name);
            table.columns.push(plain_column("id", "integer"));
            live.schema
                .tables
                .insert(TableKey::new(schema, name), table);
        }
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["untracked-table: public.tmp_import"]);
        assert_eq!(
            found[0].message,
            "table public.tmp_import is in the database, but no migration creates it"
        );
        assert_eq!(
            found[0].fix.as_ref().expect("fix").sql,
            [
                "-- to keep public.tmp_import, adopt it in a new migration:",
                "--   op.create_table(",
                "--       \"tmp_import\",",
                "--       sa.Column(\"id\", sa.Integer(), nullable=True),",
                "--   )",
                "-- DESTRUCTIVE: drops table public.tmp_import and its rows",
                "DROP TABLE IF EXISTS public.tmp_import;",
            ]
        );
    }

    #[test]
    fn a_table_an_applied_revision_drops_is_untracked_and_names_the_revision() {
        let project = TestProject::new(vec![
            step(
                "a1",
                &[],
                vec![
                    create_table("users", vec![col("id", "integer").pk()]),
                    create_table("legacy", vec![col("id", "integer").pk()]),
                ],
            ),
            step("a2", &["a1"], vec![drop_table_op("legacy")]),
            step(
                "a3",
                &["a2"],
                vec![add_column("users", col("email", "text"))],
            ),
        ]);
        let mut live = project.live_at(&["a3"]);
        let legacy = project
            .live_at(&["a1"])
            .schema
            .table("public", "legacy")
            .expect("a1 creates legacy")
            .clone();
        live.schema
            .tables
            .insert(TableKey::new("public", "legacy"), legacy);
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["untracked-table: public.legacy (a2)"]);
        assert_eq!(
            found[0].message,
            "table public.legacy is in the database, but revision a2 drops it"
        );
    }

    #[test]
    fn the_version_table_and_pending_tables_are_not_untracked() {
        let project = app_project();
        let mut live = project.live_at(&["r2"]);
        // r3's table is there (someone ran part of r3 by hand): partially applied, not untracked.
        let config = project
            .live_at(&["r3"])
            .schema
            .table("public", "system_config")
            .expect("r3 creates it")
            .clone();
        live.schema
            .tables
            .insert(TableKey::new("public", "system_config"), config);
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            [
                "database-behind-head: - (r3)",
                "partially-applied-revision: public.users.locked_until (r3)",
            ]
        );
    }
}
