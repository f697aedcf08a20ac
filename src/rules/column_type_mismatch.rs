//! `column-type-mismatch`: a column's type differs from the expected one (after normalisation;
//! an expected type without length or precision accepts any).

use super::compare::{
    Comparison, Pair, Subject, at_origin, present_columns, revision_phrase, where_phrase,
    with_origin,
};
use super::live_state::same_type;
use super::migration_snippets::alter_type_fix;
use super::{Finding, FindingSource, Rule};
use crate::expect::Expectations;
use crate::fix::ddl;
use crate::schema::model::Schema;

pub(super) static COMPARISON: Comparison = Comparison {
    subject: Subject::Column,
    expected: Some(expected),
    replayed: Some(replayed),
    made_at_head: None,
};

/// One finding per present column whose type does not match its expected type.
pub fn expected(
    expectations: &Expectations,
    schema: &Schema,
    source: FindingSource,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (table, expected, column) in present_columns(expectations, schema) {
        let Some(expected_type) = &expected.ty else {
            continue;
        };
        if column.ty.matches(&expected_type.ty) {
            continue;
        }
        let qualified = format!("{}.{}", table.qualified_name(), expected.name);
        let finding = Finding::new(
            Rule::ColumnTypeMismatch,
            source,
            format!(
                "column {qualified} is {} {}, expected {}",
                column.ty,
                where_phrase(source),
                expected_type.ty
            ),
        )
        .at(expected_type.span.clone(), "expected type")
        .object(&table.schema, &table.name, Some(&expected.name))
        .fix(alter_type_fix(
            &table.schema,
            &table.name,
            &expected.name,
            &column.ty,
            &expected_type.ty,
            column.nullable,
        ))
        .help(format!(
            "write a migration that changes the type of {qualified} to {}, or correct the type in the expectations",
            expected_type.ty
        ));
        out.push(with_origin(
            finding,
            column.type_set_by.as_ref(),
            "the type is set here",
        ));
    }
    out
}

/// The columns whose type in the database differs from the one the replay at the database's
/// revision gives them: changed by hand.
fn replayed(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    let (table, Some(present)) = (pair.table, pair.present) else {
        return;
    };
    for column in &table.columns {
        let Some(actual) = present.column(&column.name) else {
            continue;
        };
        if same_type(&actual.ty, &column.ty) {
            continue;
        }
        let qualified = format!("{}.{}.{}", table.schema, table.name, column.name);
        let origin = column.type_set_by.as_ref();
        let finding = Finding::new(
            Rule::ColumnTypeMismatch,
            FindingSource::Database,
            format!(
                "column {qualified} is {} in the database, but {} makes it {}",
                actual.ty,
                revision_phrase(origin),
                column.ty
            ),
        )
        .object(&table.schema, &table.name, Some(&column.name))
        .fix(ddl::alter_type_fix(
            &table.schema,
            &table.name,
            &column.name,
            &actual.ty,
            &column.ty,
        ))
        .help(format!(
            "{qualified} was changed by hand: change it back (the fix below), or write a \
             migration that makes the change for every environment"
        ));
        out.push(at_origin(finding, origin, "sets the type"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::compare::test_support::*;
    use super::*;

    #[test]
    fn a_different_type_points_at_the_operation_that_set_it() {
        let (expectations, sources) = expectations(EXPECTATIONS);
        let mut schema = matching_schema();
        let email = users(&mut schema).column_mut("email").expect("email");
        email.ty = crate::schema::types::PgType::parse("varchar(80)").expect("type");
        email.type_set_by = Some(origin("d4", 700));
        let found = findings_of(
            "column-type-mismatch",
            &expectations,
            &schema,
            FindingSource::Migrations,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let finding = &found[0];
        assert_eq!(
            finding.message,
            "column public.users.email is character varying(80) at the migrations' head, expected character varying(120)"
        );
        assert_eq!(
            text(&sources, &finding.primary.as_ref().expect("labelled").span),
            "varchar(120)"
        );
        assert_eq!(finding.related[0].span, origin("d4", 700).span);
        assert_eq!(finding.revision.as_deref(), Some("d4"));
        assert_eq!(
            finding.fix.as_ref().expect("fix").sql,
            [
                "op.alter_column(\"users\", \"email\", type_=sa.String(length=120), existing_type=sa.String(length=80), existing_nullable=False)",
                "# SQL: ALTER TABLE public.users ALTER COLUMN email TYPE character varying(120);",
            ]
        );
    }

    #[test]
    fn an_expected_type_without_length_accepts_any_length() {
        let (expectations, _) = expectations(EXPECTATIONS);
        // system_config.key is varchar(64); the expectation says `varchar`.
        assert!(
            findings_of(
                "column-type-mismatch",
                &expectations,
                &matching_schema(),
                FindingSource::Database
            )
            .is_empty()
        );
    }
}
