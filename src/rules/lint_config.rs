//! `lint.severity` and `lint.ignore` from the expectations, applied to every finding of a run:
//! ignored findings are dropped, the rest take the severity the expectations give their rule.

use super::Finding;
use crate::expect::{Expectations, IgnoreEntry};
use crate::schema::model::TableKey;

/// Drops the findings `lint.ignore` names and applies `lint.severity` to the others.
pub fn apply_lint_config(expectations: &Expectations, findings: &mut Vec<Finding>) {
    findings.retain(|finding| {
        !expectations
            .lint
            .ignore
            .iter()
            .any(|entry| ignores(entry, finding))
    });
    for finding in findings.iter_mut() {
        if let Some(severity) = expectations.severity_override(finding.rule) {
            finding.severity = severity;
        }
    }
}

/// Whether `entry` covers `finding`: the same rule, and the entry's table and column (where it
/// names them) are the finding's object's.
fn ignores(entry: &IgnoreEntry, finding: &Finding) -> bool {
    if entry.rule != finding.rule {
        return false;
    }
    let object = finding.object.as_ref();
    let table_matches = entry.table.as_ref().is_none_or(
        |TableKey {
             schema,
             name: table,
         }| {
            object.is_some_and(|object| object.schema == *schema && object.table == *table)
        },
    );
    let column_matches = entry.column.as_ref().is_none_or(|column| {
        object.is_some_and(|object| object.column.as_deref() == Some(column.as_str()))
    });
    table_matches && column_matches
}

#[cfg(test)]
mod tests {
    use super::super::compare::test_support::expectations;
    use super::*;
    use crate::rules::{FindingSource, Rule, Severity};

    fn finding(rule: &str, table: Option<(&str, &str)>, column: Option<&str>) -> Finding {
        let finding = Finding::new(
            Rule::from_name(rule).expect("registered rule"),
            FindingSource::Migrations,
            format!("{rule} {table:?} {column:?}"),
        );
        match table {
            Some((schema, table)) => finding.object(schema, table, column),
            None => finding,
        }
    }

    #[test]
    fn ignore_entries_match_rule_table_and_column() {
        let (expectations, _) = expectations(
            "version: 1
lint:
  severity: { nullability-mismatch: error, missing-table: info }
  ignore:
    - { rule: missing-column, table: legacy }
    - { rule: column-type-mismatch, table: users, column: score }
    - { rule: multiple-heads }
",
        );
        let mut findings = vec![
            finding("missing-column", Some(("public", "legacy")), Some("a")),
            finding("missing-column", Some(("archive", "legacy")), Some("a")),
            finding("missing-column", Some(("public", "users")), Some("a")),
            finding(
                "column-type-mismatch",
                Some(("public", "users")),
                Some("score"),
            ),
            finding(
                "column-type-mismatch",
                Some(("public", "users")),
                Some("email"),
            ),
            finding("multiple-heads", None, None),
            finding(
                "nullability-mismatch",
                Some(("public", "users")),
                Some("email"),
            ),
            finding("missing-table", Some(("public", "orders")), None),
        ];
        apply_lint_config(&expectations, &mut findings);
        let kept: Vec<(String, String, Severity)> = findings
            .iter()
            .map(|f| {
                let object = f.object.as_ref().expect("kept findings have objects");
                (
                    f.rule.name().to_owned(),
                    format!(
                        "{}.{}.{}",
                        object.schema,
                        object.table,
                        object.column.as_deref().unwrap_or("-")
                    ),
                    f.severity,
                )
            })
            .collect();
        assert_eq!(
            kept,
            [
                (
                    "missing-column".to_owned(),
                    "archive.legacy.a".to_owned(),
                    Severity::Error
                ),
                (
                    "missing-column".to_owned(),
                    "public.users.a".to_owned(),
                    Severity::Error
                ),
                (
                    "column-type-mismatch".to_owned(),
                    "public.users.email".to_owned(),
                    Severity::Error
                ),
                (
                    "nullability-mismatch".to_owned(),
                    "public.users.email".to_owned(),
                    Severity::Error
                ),
                (
                    "missing-table".to_owned(),
                    "public.orders.-".to_owned(),
                    Severity::Info
                ),
            ]
        );
    }
}
