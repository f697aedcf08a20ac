//! `forbidden-column-present`: a column listed in a table's `absent_columns` exists.

use super::compare::{Comparison, Subject, present_tables, where_phrase, with_origin};
use super::migration_snippets::drop_column_fix;
use super::{Finding, FindingSource, Rule};
use crate::expect::Expectations;
use crate::schema::model::Schema;

/// No counterpart in the replay: a column the migrations do not create is `untracked-column`'s.
pub(super) static COMPARISON: Comparison = Comparison {
    subject: Subject::Column,
    expected: Some(expected),
    replayed: None,
    made_at_head: None,
};

/// One finding per column in `absent_columns` that its table has.
pub fn expected(
    expectations: &Expectations,
    schema: &Schema,
    source: FindingSource,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (expected_table, table) in present_tables(expectations, schema) {
        for absent in &expected_table.absent_columns {
            let Some(column) = table.column(&absent.name) else {
                continue;
            };
            let qualified = format!("{}.{}", expected_table.qualified_name(), absent.name);
            let finding = Finding::new(
                Rule::ForbiddenColumnPresent,
                source,
                format!(
                    "column {qualified} exists {}, but the expectations say it must not",
                    where_phrase(source)
                ),
            )
            .at(absent.span.clone(), "must not exist, says this")
            .object(&expected_table.schema, &expected_table.name, Some(&absent.name))
            .fix(match source {
                // In the database, the fix is the drop itself; in the migrations, a new one.
                FindingSource::Database => crate::fix::ddl::drop_column_fix(
                    &expected_table.schema,
                    &expected_table.name,
                    &absent.name,
                ),
                _ => drop_column_fix(&expected_table.schema, &expected_table.name, &absent.name),
            })
            .help(format!(
                "write a migration that drops {qualified} (after checking nothing reads it), or remove it from `absent_columns`"
            ));
            out.push(with_origin(
                finding,
                column.created_by.as_ref(),
                "the column is added here",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::compare::test_support::*;
    use super::*;

    #[test]
    fn a_forbidden_column_points_at_absent_columns_and_where_it_was_added() {
        let (expectations, sources) = expectations(EXPECTATIONS);
        let mut schema = matching_schema();
        let config = schema
            .table_mut("public", "system_config")
            .expect("system_config");
        let mut id = column("id", "integer", false);
        id.created_by = Some(origin("b2", 300));
        config.columns.insert(0, id);
        let found = findings_of(
            "forbidden-column-present",
            &expectations,
            &schema,
            FindingSource::Migrations,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let finding = &found[0];
        assert_eq!(
            finding.message,
            "column public.system_config.id exists at the migrations' head, but the expectations say it must not"
        );
        assert_eq!(
            text(&sources, &finding.primary.as_ref().expect("labelled").span),
            "id"
        );
        assert_eq!(finding.related[0].span, origin("b2", 300).span);
        assert_eq!(finding.revision.as_deref(), Some("b2"));
        assert_eq!(
            finding.fix.as_ref().expect("fix").sql,
            [
                "# DESTRUCTIVE: drops the column and its data",
                "op.drop_column(\"system_config\", \"id\")",
                "# SQL: ALTER TABLE public.system_config DROP COLUMN id;",
            ]
        );
    }
}
