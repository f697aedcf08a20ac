//! `missing-column`: a column the expectations declare does not exist in a table that does.

use super::compare::{
    Comparison, MadeAtHead, Pair, Subject, at_origin, present_tables, revision_phrase,
    where_phrase, with_origin,
};
use super::live_state::Change;
use super::migration_snippets::add_column_fix;
use super::{Finding, FindingSource, ObjectRef, Rule};
use crate::expect::Expectations;
use crate::fix::ddl;
use crate::schema::model::{Origin, Schema};

pub(super) static COMPARISON: Comparison = Comparison {
    subject: Subject::Column,
    expected: Some(expected),
    replayed: Some(replayed),
    made_at_head: Some(MadeAtHead {
        origin: added_at_head,
        text: "this revision adds it",
    }),
};

fn added_at_head<'s>(head: &'s Schema, object: &ObjectRef) -> Option<&'s Origin> {
    let column = object.column.as_deref()?;
    head.table(&object.schema, &object.table)
        .and_then(|table| table.column(column))
        .and_then(|column| column.created_by.as_ref())
}

/// One finding per expected column that its (present) table lacks.
pub fn expected(
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

/// The columns of a table of the replay at the database's revision that the database's table
/// lacks: renamed by a revision whose rename did not happen, or dropped by hand.
fn replayed(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    let Pair {
        ctx,
        live,
        reference,
        table,
        present,
    } = *pair;
    let Some(present) = present else {
        return;
    };
    for column in &table.columns {
        if present.column(&column.name).is_some() {
            continue;
        }
        let qualified = format!("{}.{}.{}", table.schema, table.name, column.name);
        let finding = Finding::new(Rule::MissingColumn, FindingSource::Database, "").object(
            &table.schema,
            &table.name,
            Some(&column.name),
        );
        let renamed = live.renamed_by(&table.schema, &table.name, Some(&column.name));
        let finding = match (renamed, renamed.map(|fact| &fact.change)) {
            (Some(fact), Some(Change::RenamesColumn { from })) => {
                let revision = &ctx.revisions[fact.revision].id;
                let mut finding = Finding {
                    message: format!(
                        "column {qualified} does not exist in the database, but revision \
                         {revision} renames {from} to it"
                    ),
                    ..finding
                }
                .at(fact.span.clone(), "renames the column")
                .revision(revision.clone())
                .help(format!(
                    "the rename to {qualified} did not happen, or was undone by hand: rename \
                     the column as the revision does"
                ));
                if present.column(from).is_some() {
                    finding = finding.fix(ddl::rename_column_fix(
                        &table.schema,
                        &table.name,
                        from,
                        &column.name,
                    ));
                }
                finding
            }
            _ => {
                let origin = column.created_by.as_ref();
                let finding = Finding {
                    message: format!(
                        "column {qualified} does not exist in the database, but {} adds it",
                        revision_phrase(origin)
                    ),
                    ..finding
                }
                .fix(ddl::add_column_fix(
                    reference,
                    &table.schema,
                    &table.name,
                    column,
                    origin.map(|o| o.revision.as_str()),
                ))
                .help(format!(
                    "{qualified} was dropped by hand: add it back as the revision defines it \
                     (the fix below; its data, if it had any, must come from a backup)"
                ));
                at_origin(finding, origin, "adds the column")
            }
        };
        out.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::super::compare::test_support::*;
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
        let found = expected(&expectations, &schema, FindingSource::Database);
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
