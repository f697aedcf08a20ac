//! `primary-key-mismatch`: a table's primary key columns (in order) differ from `primary_key`,
//! or the table has no primary key.

use super::compare::{
    Comparison, Pair, Subject, at_origin, present_tables, revision_phrase, where_phrase,
    with_origin,
};
use super::migration_snippets::replace_primary_key_fix;
use super::{Finding, FindingSource, Rule};
use crate::expect::Expectations;
use crate::fix::ddl;
use crate::schema::model::Schema;

pub(super) static COMPARISON: Comparison = Comparison {
    subject: Subject::PrimaryKey,
    expected: Some(expected),
    replayed: Some(replayed),
    made_at_head: None,
};

/// One finding per present table whose primary key is not the expected one.
pub fn expected(
    expectations: &Expectations,
    schema: &Schema,
    source: FindingSource,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (expected_table, table) in present_tables(expectations, schema) {
        let Some(expected) = &expected_table.primary_key else {
            continue;
        };
        let expected_columns = expected.column_names();
        let present_columns: Option<Vec<&str>> = table
            .primary_key
            .as_ref()
            .map(|key| key.columns.iter().map(String::as_str).collect());
        if present_columns.as_deref() == Some(expected_columns.as_slice()) {
            continue;
        }
        let qualified = expected_table.qualified_name();
        let expected_list = expected_columns.join(", ");
        let message = match &present_columns {
            Some(present) => format!(
                "the primary key of {qualified} is ({}) {}, expected ({expected_list})",
                present.join(", "),
                where_phrase(source)
            ),
            None => format!(
                "table {qualified} has no primary key {}, expected ({expected_list})",
                where_phrase(source)
            ),
        };
        let finding = Finding::new(Rule::PrimaryKeyMismatch, source, message)
            .at(expected.spans.value.clone(), "expected primary key")
            .object(&expected_table.schema, &expected_table.name, None)
            .fix(replace_primary_key_fix(
                &expected_table.schema,
                &expected_table.name,
                table.primary_key.as_ref().map(|key| key.name.as_str()),
                &expected_columns,
            ))
            .help(format!(
                "write a migration that makes ({expected_list}) the primary key of {qualified}, or correct `primary_key` in the expectations"
            ));
        let origin = table
            .primary_key
            .as_ref()
            .and_then(|key| key.set_by.as_ref());
        out.push(with_origin(finding, origin, "the primary key is set here"));
    }
    out
}

/// A table whose primary key in the database differs from the one the replay at the database's
/// revision gives it: changed by hand.
fn replayed(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    let (table, Some(present)) = (pair.table, pair.present) else {
        return;
    };
    let expected = table.primary_key.as_ref();
    let actual = present.primary_key.as_ref();
    if expected.map(|key| &key.columns) == actual.map(|key| &key.columns) {
        return;
    }
    let qualified = format!("{}.{}", table.schema, table.name);
    let list = |columns: &[String]| format!("({})", columns.join(", "));
    let (message, origin, fix) = match (expected, actual) {
        (Some(expected), actual) => {
            let origin = expected.set_by.as_ref();
            let message = match actual {
                Some(actual) => format!(
                    "the primary key of {qualified} is {} in the database, but {} makes it {}",
                    list(&actual.columns),
                    revision_phrase(origin),
                    list(&expected.columns)
                ),
                None => format!(
                    "table {qualified} has no primary key in the database, but {} makes it {}",
                    revision_phrase(origin),
                    list(&expected.columns)
                ),
            };
            // A key column the migrations no longer have (system_config keyed on `id`, then on
            // `key` with `id` dropped) goes with the old key.
            let dropped: Vec<String> = actual
                .map(|key| key.columns.as_slice())
                .unwrap_or_default()
                .iter()
                .filter(|column| table.column(column).is_none())
                .cloned()
                .collect();
            let fix = ddl::replace_primary_key_fix(
                &table.schema,
                &table.name,
                actual,
                expected,
                &dropped,
            );
            (message, origin, Some(fix))
        }
        (None, Some(actual)) => (
            format!(
                "the primary key of {qualified} is {} in the database, but the migrations give it none",
                list(&actual.columns)
            ),
            table.created_by.as_ref(),
            None,
        ),
        (None, None) => return,
    };
    let mut finding = Finding::new(Rule::PrimaryKeyMismatch, FindingSource::Database, message)
        .object(&table.schema, &table.name, None)
        .help(format!(
            "the primary key of {qualified} was changed by hand: change it back (the fix below), \
             or write a migration that makes the change for every environment"
        ));
    if let Some(fix) = fix {
        finding = finding.fix(fix);
    }
    out.push(at_origin(finding, origin, "sets the primary key"));
}

#[cfg(test)]
mod tests {
    use super::super::compare::test_support::*;
    use super::*;

    #[test]
    fn a_different_primary_key_points_at_where_it_was_set() {
        let (expectations, sources) = expectations(EXPECTATIONS);
        let mut schema = matching_schema();
        let key = users(&mut schema).primary_key.as_mut().expect("key");
        key.columns = vec!["id".to_owned(), "email".to_owned()];
        key.set_by = Some(origin("c3", 500));
        let found = findings_of(
            "primary-key-mismatch",
            &expectations,
            &schema,
            FindingSource::Migrations,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let finding = &found[0];
        assert_eq!(
            finding.message,
            "the primary key of public.users is (id, email) at the migrations' head, expected (id)"
        );
        assert_eq!(
            text(&sources, &finding.primary.as_ref().expect("labelled").span),
            "[id]"
        );
        assert_eq!(finding.related[0].span, origin("c3", 500).span);
        assert_eq!(
            finding.fix.as_ref().expect("fix").sql,
            [
                "op.drop_constraint(\"users_pkey\", \"users\", type_=\"primary\")",
                "op.create_primary_key(\"users_pkey\", \"users\", [\"id\"])",
                "# SQL: ALTER TABLE public.users DROP CONSTRAINT users_pkey;",
                "# SQL: ALTER TABLE public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);",
            ]
        );
    }

    #[test]
    fn no_primary_key_at_all() {
        let (expectations, _) = expectations(EXPECTATIONS);
        let mut schema = matching_schema();
        users(&mut schema).primary_key = None;
        let found = findings_of(
            "primary-key-mismatch",
            &expectations,
            &schema,
            FindingSource::Database,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "table public.users has no primary key in the database, expected (id)"
        );
        assert_eq!(
            found[0].fix.as_ref().expect("fix").sql,
            [
                "op.create_primary_key(\"users_pkey\", \"users\", [\"id\"])",
                "# SQL: ALTER TABLE public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);",
            ]
        );
    }
}
