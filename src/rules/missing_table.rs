//! `missing-table`: a table the expectations declare does not exist (at the migrations' head, or
//! in the database).

use super::compare::{
    Comparison, MadeAtHead, Pair, Subject, at_origin, revision_phrase, where_phrase,
};
use super::live_state::Change;
use super::migration_snippets::create_table_fix;
use super::{Finding, FindingSource, ObjectRef, Rule};
use crate::expect::Expectations;
use crate::fix::ddl;
use crate::schema::model::{Origin, Schema};

pub(super) static COMPARISON: Comparison = Comparison {
    subject: Subject::Table,
    expected: Some(expected),
    replayed: Some(replayed),
    made_at_head: Some(MadeAtHead {
        origin: created_at_head,
        text: "this revision creates it",
    }),
};

fn created_at_head<'s>(head: &'s Schema, object: &ObjectRef) -> Option<&'s Origin> {
    if object.column.is_some() {
        return None;
    }
    head.table(&object.schema, &object.table)
        .and_then(|table| table.created_by.as_ref())
}

/// One finding per expected table that `schema` lacks.
pub fn expected(
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

/// A table of the replay at the database's revision that the database lacks: renamed by a
/// revision whose rename did not happen, or dropped by hand.
fn replayed(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    let Pair {
        ctx,
        live,
        reference,
        table,
        present,
    } = *pair;
    if present.is_some() {
        return;
    }
    let qualified = format!("{}.{}", table.schema, table.name);
    let finding = Finding::new(Rule::MissingTable, FindingSource::Database, "").object(
        &table.schema,
        &table.name,
        None,
    );
    let renamed = live.renamed_by(&table.schema, &table.name, None);
    let finding = match (renamed, renamed.map(|fact| &fact.change)) {
        (Some(fact), Some(Change::RenamesTable { from })) => {
            let revision = &ctx.revisions[fact.revision].id;
            let mut finding = Finding {
                message: format!(
                    "table {qualified} does not exist in the database, but revision \
                     {revision} renames {}.{from} to it",
                    table.schema
                ),
                ..finding
            }
            .at(fact.span.clone(), "renames the table")
            .revision(revision.clone())
            .help(format!(
                "the rename to {qualified} did not happen, or was undone by hand: rename the \
                 table as the revision does"
            ));
            if live.live().table(&table.schema, from).is_some() {
                finding = finding.fix(ddl::rename_table_fix(&table.schema, from, &table.name));
            }
            finding
        }
        _ => {
            let origin = table.created_by.as_ref();
            let finding = Finding {
                message: format!(
                    "table {qualified} does not exist in the database, but {} creates it",
                    revision_phrase(origin)
                ),
                ..finding
            }
            .fix(ddl::create_table_fix(
                reference,
                table,
                origin.map(|o| o.revision.as_str()),
            ))
            .help(format!(
                "{qualified} was dropped by hand, or never created: create it as the revision \
                 does (the fix below), or restore it from a backup"
            ));
            at_origin(finding, origin, "creates the table")
        }
    };
    out.push(finding);
}

#[cfg(test)]
mod tests {
    use super::super::compare::test_support::*;
    use super::*;
    use crate::schema::model::TableKey;

    #[test]
    fn a_missing_table_is_reported_at_its_expectation() {
        let (expectations, sources) = expectations(EXPECTATIONS);
        let mut schema = matching_schema();
        schema.tables.remove(&TableKey::new("public", "users"));
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
