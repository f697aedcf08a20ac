//! `sequence-behind`: a serial or identity column's sequence would hand out a value at or below
//! the column's current maximum, so the next insert that takes the default collides with an
//! existing row. Typical causes: a restore or data copy that brought rows but not the sequence's
//! position, and `INSERT`s with explicit ids.
//!
//! The value `nextval()` returns is `last_value` when the sequence was never called
//! (`is_called` false) and `last_value + increment` after; an empty table has no maximum and is
//! never behind. Descending sequences (a negative increment) hand out values below the maximum
//! by design; whether they reach existing rows depends on the column's minimum, which is not
//! read, so they are not checked. Which columns are checked follows the expectations'
//! `sequences:` (`all` by default, `none`, or a list of tables).

use super::{Context, Finding, FindingSource, Rule, Severity};
use crate::expect::{Expectations, SequencesExpectation};
use crate::fix::sequence::{SequenceFacts, setval_fix};
use crate::schema::model::TableKey;
use crate::source::Span;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(live) = ctx.live else {
        return;
    };
    let schema = live.live();
    let wanted = ctx
        .expectations
        .map_or(&SequencesExpectation::All, |expectations| {
            &expectations.sequences
        });
    // What the role could not read (see `LiveSnapshot::unreadable`): such a column is reported
    // as not checked rather than passed over.
    let unreadable: std::collections::HashSet<&str> = live
        .snapshot
        .unreadable
        .iter()
        .map(String::as_str)
        .collect();
    for table in schema.tables.values() {
        if !wanted.includes(&table.schema, &table.name) {
            continue;
        }
        for column in &table.columns {
            let Some(TableKey {
                schema: sequence_schema,
                name: sequence_name,
            }) = &column.sequence
            else {
                continue;
            };
            let Some(sequence) = schema.sequence(sequence_schema, sequence_name) else {
                continue;
            };
            let key = (
                table.schema.clone(),
                table.name.clone(),
                column.name.clone(),
            );
            let sequence_unreadable = sequence.state.is_none()
                && unreadable.contains(format!("{sequence_schema}.{sequence_name}").as_str());
            let column_unreadable = !live.snapshot.column_max.contains_key(&key)
                && unreadable.contains(format!("{}.{}.{}", key.0, key.1, key.2).as_str());
            if (sequence_unreadable || column_unreadable) && sequence.increment > 0 {
                let mut finding = not_checked(
                    &key,
                    (sequence_schema, sequence_name),
                    sequence_unreadable,
                    column_unreadable,
                );
                if let Some((span, text)) = location(ctx, ctx.expectations, &key) {
                    finding = finding.at(span, text);
                }
                out.push(finding);
                continue;
            }
            let Some(state) = sequence.state else {
                continue;
            };
            if sequence.increment <= 0 {
                continue;
            }
            let Some(Some(max)) = live.snapshot.column_max.get(&key).copied() else {
                continue;
            };
            let next = state.next_value(sequence.increment);
            if next > max {
                continue;
            }
            let qualified_sequence = format!("{sequence_schema}.{sequence_name}");
            let qualified_column = format!("{}.{}.{}", table.schema, table.name, column.name);
            let collision = table
                .primary_key
                .as_ref()
                .filter(|key| key.columns == [column.name.clone()])
                .map(|key| key.name.clone())
                .or_else(|| {
                    table
                        .uniques
                        .iter()
                        .find(|unique| unique.columns == [column.name.clone()])
                        .map(|unique| unique.name.clone())
                });
            let consequence = match collision {
                Some(constraint) => format!(
                    "the next insert that takes the default fails with `duplicate key value \
                     violates unique constraint \"{constraint}\"`"
                ),
                None => "the next inserts that take the default repeat existing values".to_owned(),
            };
            let mut finding = Finding::new(
                Rule::SequenceBehind,
                FindingSource::Database,
                format!(
                    "sequence {qualified_sequence} would hand out {next}, but {qualified_column} already reaches {max}"
                ),
            )
            .object(&table.schema, &table.name, Some(&column.name))
            .fix(setval_fix(&SequenceFacts {
                sequence_schema,
                sequence_name,
                table_schema: &table.schema,
                table_name: &table.name,
                column: &column.name,
                increment: sequence.increment,
                start: sequence.start,
                extreme_found: Some(max),
                next_found: Some(next),
            }))
            .help(format!(
                "{consequence}; rows were restored or inserted with explicit ids without moving \
                 the sequence: advance it past the maximum (the fix below)"
            ));
            if let Some((span, text)) = location(ctx, ctx.expectations, &key) {
                finding = finding.at(span, text);
            }
            out.push(finding);
        }
    }
}

/// A column whose sequence or maximum the role may not read: not checked, and said so (at
/// warning severity), with the grants that would let the next check read it.
fn not_checked(
    (schema, table, column): &(String, String, String),
    (sequence_schema, sequence_name): (&str, &str),
    sequence_unreadable: bool,
    column_unreadable: bool,
) -> Finding {
    use crate::fix::quote_qualified;
    let qualified_column = format!("{schema}.{table}.{column}");
    let mut missing = Vec::new();
    let mut grants = Vec::new();
    if sequence_unreadable {
        missing.push(format!("sequence {sequence_schema}.{sequence_name}"));
        grants.push(format!(
            "GRANT SELECT ON SEQUENCE {} TO <role>;",
            quote_qualified(sequence_schema, sequence_name)
        ));
    }
    if column_unreadable {
        missing.push(format!("table {schema}.{table} (for max({column}))"));
        grants.push(format!(
            "GRANT SELECT ON {} TO <role>;",
            quote_qualified(schema, table)
        ));
    }
    let mut finding = Finding::new(
        Rule::SequenceBehind,
        FindingSource::Database,
        format!(
            "{qualified_column} was not checked: the role driftlint connects as may not read {}",
            missing.join(" nor ")
        ),
    )
    .object(schema, table, Some(column))
    .help(format!(
        "whether its sequence is behind is unknown; let the role read it ({}, with USAGE on \
         the schema) or grant it pg_read_all_data (PostgreSQL 14 and newer), and check again",
        grants.join(" ")
    ));
    finding.severity = Severity::Warning;
    finding
}

/// Where to point: the table's entry in `sequences:`, else the column's (or the table's)
/// expectation, else the operation in the revision file that created the column.
fn location(
    ctx: &Context<'_>,
    expectations: Option<&Expectations>,
    (schema, table, column): &(String, String, String),
) -> Option<(Span, &'static str)> {
    if let Some(expectations) = expectations {
        if let SequencesExpectation::Tables(tables) = &expectations.sequences
            && let Some(entry) = tables
                .iter()
                .find(|entry| entry.schema == *schema && entry.name == *table)
        {
            return Some((entry.span.clone(), "sequences checked here"));
        }
        if let Some(expected) = expectations.table(schema, table) {
            return Some(match expected.column(column) {
                Some(column) => (column.spans.key.clone(), "the column is expected here"),
                None => (expected.spans.key.clone(), "the table is expected here"),
            });
        }
    }
    let origin = ctx
        .head_schema?
        .table(schema, table)?
        .column(column)?
        .created_by
        .as_ref()?;
    Some((origin.span.clone(), "the column is created here"))
}

#[cfg(test)]
mod tests {
    use crate::rules::live_state::test_support::*;
    use crate::schema::model::TableKey;
    use crate::schema::model::{Sequence, SequenceState};
    use crate::schema::types::PgType;

    fn set_sequence(
        live: &mut crate::live::LiveSnapshot,
        key: (&str, &str),
        state: (i64, bool),
        increment: i64,
    ) {
        let sequence = live
            .schema
            .sequences
            .get_mut(&TableKey::new(key.0, key.1))
            .expect("the sequence exists");
        sequence.state = Some(SequenceState {
            last_value: state.0,
            is_called: state.1,
        });
        sequence.increment = increment;
    }

    fn set_max(live: &mut crate::live::LiveSnapshot, column: (&str, &str, &str), max: Option<i64>) {
        live.column_max.insert(
            (
                column.0.to_owned(),
                column.1.to_owned(),
                column.2.to_owned(),
            ),
            max,
        );
    }

    #[test]
    fn is_called_decides_the_next_value() {
        let project = app_project();
        let cases = [
            // (last_value, is_called, max, behind)
            ((3, true), Some(3), false),
            ((3, true), Some(4), true),
            ((3, true), Some(2), false),
            ((3, false), Some(3), true),
            ((3, false), Some(2), false),
            ((1, false), None, false),
        ];
        for (state, max, behind) in cases {
            let mut live = project.live_at(&["r3"]);
            set_sequence(&mut live, ("public", "users_id_seq"), state, 1);
            set_max(&mut live, ("public", "users", "id"), max);
            let found = project.findings(live, None);
            assert_eq!(
                !found.is_empty(),
                behind,
                "{state:?} max {max:?}: {:?}",
                lines(&found)
            );
        }
    }

    #[test]
    fn the_message_names_the_sequence_the_column_and_the_maximum() {
        let mut project = app_project();
        let expectations = project.expectations(
            "version: 1\ntables:\n  users:\n    columns: [id, email]\nsequences: [users]\n",
        );
        let mut live = project.live_at(&["r3"]);
        set_sequence(&mut live, ("public", "users_id_seq"), (24, true), 1);
        set_max(&mut live, ("public", "users", "id"), Some(1042));
        let found = project.findings(live, Some(&expectations));
        assert_eq!(lines(&found), ["sequence-behind: public.users.id"]);
        let finding = &found[0];
        assert_eq!(
            finding.message,
            "sequence public.users_id_seq would hand out 25, but public.users.id already reaches 1042"
        );
        assert_eq!(
            finding.fix.as_ref().expect("fix").sql,
            [
                "-- public.users.id reached 1042 when checked; public.users_id_seq would have handed out 25.",
                "-- The max is read again here; the sequence only moves forward, and the next nextval() returns one step (1) past the column, or the start (1) for an empty table.",
                "SELECT COALESCE((to_regclass('public.users') IS NOT NULL AND to_regclass('public.users_id_seq') IS NOT NULL), false) AS driftlint_guard \\gset",
                "\\if :driftlint_guard",
                "SELECT setval('public.users_id_seq', GREATEST(\n    (SELECT COALESCE(max(id)::bigint + (1), 1) FROM public.users),\n    (SELECT CASE WHEN is_called THEN last_value + (1) ELSE last_value END FROM public.users_id_seq)\n), false);",
                "\\endif",
            ]
        );
        assert!(
            finding
                .help
                .as_deref()
                .is_some_and(|help| help.contains("\"users_pkey\"")),
            "{:?}",
            finding.help
        );
        assert_eq!(
            project.text(&finding.primary.as_ref().expect("labelled").span),
            "users"
        );
    }

    #[test]
    fn sequences_none_and_tables_not_listed_are_not_checked() {
        let mut project = app_project();
        let none = project.expectations("version: 1\nsequences: none\n");
        let only_submissions = project.expectations("version: 1\nsequences: [submissions]\n");
        for expectations in [&none, &only_submissions] {
            let mut live = project.live_at(&["r3"]);
            set_sequence(&mut live, ("public", "users_id_seq"), (1, true), 1);
            set_max(&mut live, ("public", "users", "id"), Some(10));
            assert!(project.findings(live, Some(expectations)).is_empty());
        }
    }

    #[test]
    fn bigint_identity_outside_public_with_a_larger_increment() {
        let project = TestProject::new(vec![step(
            "e1",
            &[],
            vec![create_table(
                "audit.events",
                vec![col("id", "bigint").pk(), col("payload", "jsonb")],
            )],
        )]);
        let mut live = project.live_at(&["e1"]);
        // The events table uses an identity column in the database: the rule follows the
        // column's sequence, whatever its kind.
        let events = table_mut(&mut live.schema, "audit.events");
        let id = events.column_mut("id").expect("id");
        id.identity = Some(crate::schema::model::IdentityKind::Always);
        id.default = None;
        id.sequence = Some(TableKey::new("audit", "events_id_seq"));
        live.schema.sequences.insert(
            TableKey::new("audit", "events_id_seq"),
            Sequence {
                schema: "audit".to_owned(),
                name: "events_id_seq".to_owned(),
                data_type: PgType::simple("bigint"),
                start: 1,
                increment: 10,
                owned_by: Some(("audit".to_owned(), "events".to_owned(), "id".to_owned())),
                state: Some(SequenceState {
                    last_value: 5_000_000_000,
                    is_called: true,
                }),
            },
        );
        set_max(&mut live, ("audit", "events", "id"), Some(5_000_000_010));
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["sequence-behind: audit.events.id"]);
        assert_eq!(
            found[0].message,
            "sequence audit.events_id_seq would hand out 5000000010, but audit.events.id already reaches 5000000010"
        );

        // One step further and the next value clears the maximum.
        let mut live = project.live_at(&["e1"]);
        set_sequence(
            &mut live,
            ("audit", "events_id_seq"),
            (5_000_000_001, true),
            10,
        );
        set_max(&mut live, ("audit", "events", "id"), Some(5_000_000_010));
        assert!(project.findings(live, None).is_empty());
    }

    #[test]
    fn what_the_role_may_not_read_is_reported_as_not_checked() {
        let project = app_project();
        // The sequence may not be read.
        let mut live = project.live_at(&["r3"]);
        set_max(&mut live, ("public", "users", "id"), Some(10));
        live.schema
            .sequences
            .get_mut(&TableKey::new("public", "users_id_seq"))
            .expect("the sequence exists")
            .state = None;
        live.unreadable.push("public.users_id_seq".to_owned());
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["sequence-behind: public.users.id"]);
        assert_eq!(found[0].severity, crate::rules::Severity::Warning);
        assert_eq!(
            found[0].message,
            "public.users.id was not checked: the role driftlint connects as may not read \
             sequence public.users_id_seq"
        );
        let help = found[0].help.as_deref().expect("help");
        assert!(
            help.contains("GRANT SELECT ON SEQUENCE public.users_id_seq TO <role>;"),
            "{help}"
        );
        assert!(help.contains("pg_read_all_data"), "{help}");

        // The table may not be read; the sequence may.
        let mut live = project.live_at(&["r3"]);
        set_sequence(&mut live, ("public", "users_id_seq"), (3, true), 1);
        live.column_max
            .remove(&("public".to_owned(), "users".to_owned(), "id".to_owned()));
        live.unreadable.push("public.users.id".to_owned());
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["sequence-behind: public.users.id"]);
        assert!(
            found[0]
                .message
                .ends_with("may not read table public.users (for max(id))"),
            "{}",
            found[0].message
        );

        // Readable but not read (an empty snapshot in other tests): nothing is said.
        let live = project.live_at(&["r3"]);
        assert!(project.findings(live, None).is_empty());
    }

    #[test]
    fn descending_sequences_are_not_checked() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        set_sequence(&mut live, ("public", "users_id_seq"), (-5, true), -1);
        set_max(&mut live, ("public", "users", "id"), Some(-1));
        assert!(project.findings(live, None).is_empty());
    }
}
