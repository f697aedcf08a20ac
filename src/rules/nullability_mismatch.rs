//! `nullability-mismatch`: a column is nullable where the expectations say `nullable: false`,
//! or NOT NULL where they say `nullable: true`.

use super::compare::{
    Comparison, Pair, Subject, at_origin, present_columns, revision_phrase, where_phrase,
    with_origin,
};
use super::live_state::nullability;
use super::migration_snippets::alter_nullability_fix;
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

/// One finding per present column whose nullability differs from the expected one.
pub fn expected(
    expectations: &Expectations,
    schema: &Schema,
    source: FindingSource,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (table, expected, column) in present_columns(expectations, schema) {
        let Some(expected_nullable) = &expected.nullable else {
            continue;
        };
        if column.nullable == expected_nullable.nullable {
            continue;
        }
        let qualified = format!("{}.{}", table.qualified_name(), expected.name);
        let finding = Finding::new(
            Rule::NullabilityMismatch,
            source,
            format!(
                "column {qualified} is {} {}, expected {}",
                nullability(column.nullable),
                where_phrase(source),
                nullability(expected_nullable.nullable)
            ),
        )
        .at(expected_nullable.span.clone(), "expected nullability")
        .object(&table.schema, &table.name, Some(&expected.name))
        .fix(alter_nullability_fix(
            &table.schema,
            &table.name,
            &expected.name,
            &column.ty,
            expected_nullable.nullable,
        ))
        .help(format!(
            "write a migration that makes {qualified} {}, or correct `nullable` in the expectations",
            nullability(expected_nullable.nullable)
        ));
        let origin_text = format!("made {} here", nullability(column.nullable));
        out.push(with_origin(
            finding,
            column.nullable_set_by.as_ref(),
            &origin_text,
        ));
    }
    out
}

/// The columns whose nullability in the database differs from the one the replay at the
/// database's revision gives them: changed by hand.
fn replayed(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    let (table, Some(present)) = (pair.table, pair.present) else {
        return;
    };
    for column in &table.columns {
        let Some(actual) = present.column(&column.name) else {
            continue;
        };
        if actual.nullable == column.nullable {
            continue;
        }
        let qualified = format!("{}.{}.{}", table.schema, table.name, column.name);
        let origin = column.nullable_set_by.as_ref();
        let finding = Finding::new(
            Rule::NullabilityMismatch,
            FindingSource::Database,
            format!(
                "column {qualified} is {} in the database, but {} makes it {}",
                nullability(actual.nullable),
                revision_phrase(origin),
                nullability(column.nullable)
            ),
        )
        .object(&table.schema, &table.name, Some(&column.name))
        .fix(ddl::alter_nullability_fix(
            &table.schema,
            &table.name,
            &column.name,
            column.nullable,
        ))
        .help(format!(
            "{qualified} was changed by hand: change it back (the fix below), or write a \
             migration that makes the change for every environment"
        ));
        out.push(at_origin(
            finding,
            origin,
            &format!("makes it {}", nullability(column.nullable)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::compare::test_support::*;
    use super::*;

    #[test]
    fn a_nullable_column_points_at_the_alter_column_that_made_it_so() {
        let (expectations, sources) = expectations(EXPECTATIONS);
        let mut schema = matching_schema();
        let email = users(&mut schema).column_mut("email").expect("email");
        email.nullable = true;
        email.nullable_set_by = Some(origin("e5", 900));
        let found = findings_of(
            "nullability-mismatch",
            &expectations,
            &schema,
            FindingSource::Migrations,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let finding = &found[0];
        assert_eq!(finding.severity, crate::rules::Severity::Warning);
        assert_eq!(
            finding.message,
            "column public.users.email is nullable at the migrations' head, expected NOT NULL"
        );
        assert_eq!(
            text(&sources, &finding.primary.as_ref().expect("labelled").span),
            "false"
        );
        assert_eq!(finding.related[0].text, "made nullable here");
        assert_eq!(finding.related[0].span, origin("e5", 900).span);
        assert_eq!(
            finding.fix.as_ref().expect("fix").sql,
            [
                "# SET NOT NULL fails while rows hold NULL: backfill email first",
                "op.alter_column(\"users\", \"email\", existing_type=sa.String(length=120), nullable=False)",
                "# SQL: ALTER TABLE public.users ALTER COLUMN email SET NOT NULL;",
            ]
        );
    }

    #[test]
    fn unspecified_nullability_is_not_checked() {
        let (expectations, _) = expectations(EXPECTATIONS);
        let mut schema = matching_schema();
        // locked_until's expectation gives only a type.
        users(&mut schema)
            .column_mut("locked_until")
            .expect("column")
            .nullable = false;
        assert!(
            findings_of(
                "nullability-mismatch",
                &expectations,
                &schema,
                FindingSource::Database
            )
            .is_empty()
        );
    }
}
