//! `missing-column`: a column the expectations declare does not exist in a table that does.

use super::expectation_checks::{check_against_head, present_tables, where_phrase, with_origin};
use super::migration_snippets::add_column_fix;
use super::{Context, Finding, FindingSource, Rule};
use crate::expect::Expectations;
use crate::schema::model::Schema;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    check_against_head(ctx, out, findings);
    super::live_checks::check_live(ctx, out, findings, super::live_checks::missing_columns);
}

/// One finding per expected column that its (present) table lacks.
pub fn findings(
    expectations: &Expectations,
    schema: &Schema,
    source: FindingSource,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (expected_table, table) in present_tables(expectations, schema) {
        for expected in &expected_table.columns {
            if table.column(&expected.name).is_some() {
                continue;
            }
            let qualified = format!("{}.{}", expected_table.qualified_name(), expected.name);
            let help = if expected.ty.is_some() {
                format!(
                    "write a migration that adds {qualified}, or remove it from the expectations"
                )
            } else {
                format!(
                    "write a migration that adds {qualified}, or remove it from the expectations; \
                     give its type in the expectations to get a ready migration snippet"
                )
            };
            let finding = Finding::new(
                Rule::MissingColumn,
                source,
                format!("column {qualified} does not exist {}", where_phrase(source)),
            )
            .at(expected.spans.key.clone(), "expected here")
            .object(
                &expected_table.schema,
                &expected_table.name,
                Some(&expected.name),
            )
            .help(help);
            let finding = with_origin(
                finding,
                table.created_by.as_ref(),
                "the table is created here",
            );
            out.push(match add_column_fix(expected_table, expected) {
                Some(fix) => finding.fix(fix),
                None => finding,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::expectation_checks::test_support::*;
    use super::*;

    #[test]
    fn a_missing_column_points_at_its_expectation_and_the_table_creation() {
        let (expectations, sources) = expectations(EXPECTATIONS);
        let mut schema = matching_schema();
        users(&mut schema)
            .columns
            .retain(|c| c.name != "locked_until");
        let found = findings_of(
            "missing-column",
            &expectations,
            &schema,
            FindingSource::Migrations,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let finding = &found[0];
        assert_eq!(
            finding.message,
            "column public.users.locked_until does not exist at the migrations' head"
        );
        assert_eq!(
            text(&sources, &finding.primary.as_ref().expect("labelled").span),
            "locked_until"
        );
        assert_eq!(finding.related.len(), 1);
        assert_eq!(finding.related[0].span, origin("a1", 100).span);
        assert_eq!(finding.revision.as_deref(), Some("a1"));
        assert_eq!(
            finding.object.as_ref().and_then(|o| o.column.as_deref()),
            Some("locked_until")
        );
        assert_eq!(
            finding.fix.as_ref().expect("fix").sql,
            [
                "op.add_column(\"users\", sa.Column(\"locked_until\", sa.DateTime(), nullable=True))",
                "# SQL: ALTER TABLE public.users ADD COLUMN locked_until timestamp without time zone;",
            ]
        );
    }

    #[test]
    fn a_column_without_a_type_has_no_fix_and_a_missing_table_no_column_findings() {
        let (expectations, _) = expectations(
            "version: 1\ntables:\n  users:\n    columns: [id, nickname]\n  orders:\n    columns: [id]\n",
        );
        let schema = matching_schema();
        let found = findings(&expectations, &schema, FindingSource::Database);
        // orders is missing altogether: missing-table's finding, not this rule's.
        assert_eq!(found.len(), 1, "{found:#?}");
        let all = crate::rules::check_expectations(&expectations, &schema, FindingSource::Database);
        let rules: Vec<&str> = all.iter().map(|f| f.rule.name()).collect();
        assert_eq!(rules, ["missing-table", "missing-column"]);
        assert_eq!(
            found[0].message,
            "column public.users.nickname does not exist in the database"
        );
        assert!(found[0].fix.is_none());
        assert!(
            found[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("give its type"))
        );
    }
}
