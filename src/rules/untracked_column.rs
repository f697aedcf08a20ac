//! `untracked-column`: a column in the database that the migrations do not account for — added
//! by hand, or left behind although an applied revision drops it.
//!
//! Only tables the migrations account for are looked at (a table made by hand is one
//! `untracked-table` finding, not one per column), in the schemas the migrations or the
//! expectations name. At a known revision, a column is untracked when the replay at that
//! revision lacks it and no pending revision adds it; at an unknown revision or none, when no
//! revision creates it at all. A column the expectations list under `absent_columns` is
//! `forbidden-column-present`'s finding, not this rule's.

use super::compare::{tracked_live_tables, untracked_finding};
use super::migration_snippets::adopt_column_snippet;
use super::{Context, Finding, Rule};
use crate::fix::ddl::untracked_column_fix;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(live) = ctx.live else {
        return;
    };
    for table in tracked_live_tables(live) {
        let reference = match &live.schema_at_database {
            Some(reference) => match reference.table(&table.schema, &table.name) {
                Some(reference) => Some(reference),
                None => continue,
            },
            None => {
                if !live.some_migration_creates_table(&table.schema, &table.name) {
                    continue;
                }
                None
            }
        };
        let forbidden = ctx
            .expectations
            .and_then(|expectations| expectations.table(&table.schema, &table.name));
        for column in &table.columns {
            if live.explains_column(&table.schema, &table.name, &column.name)
                || forbidden.is_some_and(|expected| {
                    expected
                        .absent_columns
                        .iter()
                        .any(|absent| absent.name == column.name)
                })
            {
                continue;
            }
            let dropped_by = match reference {
                Some(reference) => {
                    if reference.column(&column.name).is_some() {
                        continue;
                    }
                    let dropped_by =
                        live.dropped_by(&table.schema, &table.name, Some(&column.name));
                    if dropped_by.is_none()
                        && live.some_migration_creates_column(
                            &table.schema,
                            &table.name,
                            &column.name,
                        )
                    {
                        continue;
                    }
                    dropped_by
                }
                None => {
                    if live.some_migration_creates_column(&table.schema, &table.name, &column.name)
                    {
                        continue;
                    }
                    None
                }
            };
            let qualified = format!("{}.{}.{}", table.schema, table.name, column.name);
            let finding = untracked_finding(
                ctx,
                Rule::UntrackedColumn,
                "column",
                &qualified,
                dropped_by,
                |removal| match removal {
                    Some(noun) => format!(
                        "the {noun} did not happen (undone by hand, or the column added again): \
                         drop {qualified} (the fix below) once nothing reads it"
                    ),
                    None => format!(
                        "{qualified} was added by hand: write a migration that adds it, so every \
                         environment has it; or drop it (the fix below) if nothing reads it"
                    ),
                },
            );
            // A column a revision drops is not adopted: the migrations mean it gone.
            let adoption = if dropped_by.is_none() {
                adopt_column_snippet(&table.schema, &table.name, column)
            } else {
                Vec::new()
            };
            out.push(
                finding
                    .object(&table.schema, &table.name, Some(&column.name))
                    .fix(untracked_column_fix(
                        &table.schema,
                        &table.name,
                        &column.name,
                        &adoption,
                    )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::live_state::test_support::*;
    use crate::schema::model::TableKey;

    #[test]
    fn a_column_added_by_hand_is_untracked() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        table_mut(&mut live.schema, "users")
            .columns
            .push(plain_column("nickname", "text"));
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["untracked-column: public.users.nickname"]);
        assert_eq!(
            found[0].message,
            "column public.users.nickname is in the database, but no migration creates it"
        );
        assert_eq!(
            found[0].fix.as_ref().expect("fix").sql,
            [
                "-- to keep public.users.nickname, adopt it in a new migration:",
                "--   op.add_column(\"users\", sa.Column(\"nickname\", sa.Text(), nullable=True))",
                "-- DESTRUCTIVE: drops column public.users.nickname and its data",
                "ALTER TABLE public.users DROP COLUMN IF EXISTS nickname;",
            ]
        );
    }

    #[test]
    fn a_forbidden_column_is_reported_once_as_forbidden() {
        let mut project = app_project();
        let expectations = project.expectations(
            "version: 1\ntables:\n  system_config:\n    primary_key: [key]\n    absent_columns: [id]\n",
        );
        let mut live = project.live_at(&["r3"]);
        table_mut(&mut live.schema, "system_config")
            .columns
            .push(plain_column("id", "integer"));
        let found = project.findings(live, Some(&expectations));
        assert_eq!(
            lines(&found),
            ["forbidden-column-present: public.system_config.id"]
        );
    }

    #[test]
    fn a_column_an_applied_revision_drops_names_the_revision() {
        let project = TestProject::new(vec![
            step(
                "a1",
                &[],
                vec![create_table(
                    "users",
                    vec![col("id", "integer").pk(), col("legacy_flag", "boolean")],
                )],
            ),
            step("a2", &["a1"], vec![drop_column_op("users", "legacy_flag")]),
            step(
                "a3",
                &["a2"],
                vec![add_column("users", col("email", "text"))],
            ),
        ]);
        let mut live = project.live_at(&["a3"]);
        table_mut(&mut live.schema, "users")
            .columns
            .push(plain_column("legacy_flag", "boolean"));
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            ["untracked-column: public.users.legacy_flag (a2)"]
        );
    }

    #[test]
    fn without_a_version_only_columns_no_migration_creates_are_untracked() {
        let project = app_project();
        let mut live = project.live_at(&["r2"]);
        live.versions = None;
        live.schema
            .tables
            .remove(&TableKey::new("public", "alembic_version"));
        live.version_table = None;
        // locked_until is r3's: not untracked, even though the database has no version.
        let r3_users = project
            .live_at(&["r3"])
            .schema
            .table("public", "users")
            .expect("users")
            .clone();
        table_mut(&mut live.schema, "users").columns = r3_users.columns;
        table_mut(&mut live.schema, "users")
            .columns
            .push(plain_column("nickname", "text"));
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            [
                "database-not-versioned: -",
                "untracked-column: public.users.nickname",
            ]
        );
    }
}
