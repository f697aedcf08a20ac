//! `missing-table`: a table the expectations declare does not exist (at the migrations' head, or
//! in the database).

use super::expectation_checks::{check_against_head, where_phrase};
use super::migration_snippets::create_table_fix;
use super::{Context, Finding, FindingSource, Rule};
use crate::expect::Expectations;
use crate::schema::model::Schema;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    check_against_head(ctx, out, findings);
    super::live_checks::check_live(ctx, out, findings, super::live_checks::missing_tables);
}

/// One finding per expected table that `schema` lacks.
pub fn findings(
    expectations: &Expectations,
    schema: &Schema,
    source: FindingSource,
) -> Vec<Finding> {
    expectations
        .tables
        .iter()
        .filter(|expected| schema.table(&expected.schema, &expected.name).is_none())
        .map(|expected| {
            let help = match source {
                FindingSource::Database => format!(
                    "run the migrations that create {} (`alembic upgrade head`), or remove the table from the expectations",
                    expected.qualified_name()
                ),
                _ => format!(
                    "write a migration that creates {}, or remove the table from the expectations if it is no longer needed",
                    expected.qualified_name()
                ),
            };
            Finding::new(
                Rule::MissingTable,
                source,
                format!(
                    "table {} does not exist {}",
                    expected.qualified_name(),
                    where_phrase(source)
                ),
            )
            .at(expected.spans.key.clone(), "expected here")
            .object(&expected.schema, &expected.name, None)
            .fix(create_table_fix(expected))
            .help(help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::expectation_checks::test_support::*;
    use super::*;

    #[test]
    fn a_missing_table_is_reported_at_its_expectation() {
        let (expectations, sources) = expectations(EXPECTATIONS);
        let mut schema = matching_schema();
        schema
            .tables
            .remove(&("public".to_owned(), "users".to_owned()));
        let found = findings_of(
            "missing-table",
            &expectations,
            &schema,
            FindingSource::Migrations,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let finding = &found[0];
        assert_eq!(
            finding.message,
            "table public.users does not exist at the migrations' head"
        );
        let primary = finding.primary.as_ref().expect("labelled");
        assert_eq!(text(&sources, &primary.span), "users");
        let object = finding.object.as_ref().expect("object");
        assert_eq!(
            (object.schema.as_str(), object.table.as_str()),
            ("public", "users")
        );
        let fix = finding.fix.as_ref().expect("fix");
        assert_eq!(fix.safety, crate::fix::Safety::ReviewOnly);
        assert_eq!(
            fix.sql,
            [
                "op.create_table(",
                "    \"users\",",
                "    sa.Column(\"id\", sa.Integer(), nullable=False),",
                "    sa.Column(\"email\", sa.String(length=120), nullable=False),",
                "    sa.Column(\"locked_until\", sa.DateTime(), nullable=True),",
                "    sa.PrimaryKeyConstraint(\"id\"),",
                ")",
                "# SQL: CREATE TABLE public.users (id serial NOT NULL, email character varying(120) NOT NULL, locked_until timestamp without time zone, PRIMARY KEY (id));",
            ]
        );
    }

    #[test]
    fn live_wording_and_untyped_columns() {
        let (expectations, _) = expectations(
            "version: 1\ntables:\n  audit.events:\n    columns: { id: bigint, payload: citext, note: }\n",
        );
        let found = findings_of(
            "missing-table",
            &expectations,
            &Schema::default(),
            FindingSource::Database,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "table audit.events does not exist in the database"
        );
        assert_eq!(found[0].source, FindingSource::Database);
        let fix = found[0].fix.as_ref().expect("fix");
        assert_eq!(
            fix.sql,
            [
                "op.execute(\"CREATE TABLE audit.events (id bigint, payload citext)\")",
                "# not included, the expectations give no type for: note",
                "# SQL: CREATE TABLE audit.events (id bigint, payload citext);",
            ]
        );
    }
}
