//! The `sequence-behind` fix: one `setval` that moves a serial or identity column's sequence past
//! the values the column already holds.
//!
//! Invariant: the fix is right whenever it runs, not only at check time. It re-reads the
//! column's maximum (minimum, for a descending sequence) and the sequence's own position when the
//! script runs, so rows inserted in between are covered; it takes the further of "one step past
//! the column" and "where the sequence already is", so it never moves a sequence backwards and
//! running it twice changes nothing; and it sets the value `nextval()` returns next with
//! `is_called = false`, so an empty table gets the sequence's start and nothing is skipped. The
//! values found at check time appear in a comment beside it for the reviewer.

use super::{Fix, Safety, comment_line, psql_guard, quote_ident, quote_literal, quote_qualified};

/// What the live check found about one column and its sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceFacts<'a> {
    pub sequence_schema: &'a str,
    pub sequence_name: &'a str,
    pub table_schema: &'a str,
    pub table_name: &'a str,
    pub column: &'a str,
    /// The sequence's increment: negative for a descending sequence.
    pub increment: i64,
    /// The sequence's start value, what an empty table's first row gets.
    pub start: i64,
    /// The column's maximum at check time (its minimum for a descending sequence); `None` when
    /// the table was empty.
    pub extreme_found: Option<i64>,
    /// What `nextval()` would have returned at check time.
    pub next_found: Option<i64>,
}

/// `SELECT setval(...)` for the sequence, with the values found at check time in a comment.
pub fn setval_fix(facts: &SequenceFacts<'_>) -> Fix {
    let descending = facts.increment < 0;
    let sequence = quote_qualified(facts.sequence_schema, facts.sequence_name);
    let table = quote_qualified(facts.table_schema, facts.table_name);
    let column = quote_ident(facts.column);
    let (aggregate, further) = if descending {
        ("min", "LEAST")
    } else {
        ("max", "GREATEST")
    };
    let object = format!(
        "{}.{}.{}",
        facts.table_schema, facts.table_name, facts.column
    );
    let mut sql = Vec::new();
    match (facts.extreme_found, facts.next_found) {
        (Some(extreme), Some(next)) => sql.push(comment_line(&format!(
            "{object} reached {extreme} when checked; {}.{} would have handed out {next}.",
            facts.sequence_schema, facts.sequence_name
        ))),
        (Some(extreme), None) => sql.push(comment_line(&format!(
            "{object} reached {extreme} when checked."
        ))),
        (None, _) => sql.push(comment_line(&format!("{object} was empty when checked."))),
    }
    sql.push(format!(
        "-- The {aggregate} is read again here; the sequence only moves forward, and the next \
         nextval() returns one step ({}) past the column, or the start ({}) for an empty table.",
        facts.increment, facts.start
    ));
    // A revision later in the script may rename the table; run a second time, the fix then
    // finds nothing under the old name and has nothing left to do.
    sql.extend(psql_guard(&format!(
        "to_regclass({}) IS NOT NULL AND to_regclass({}) IS NOT NULL",
        quote_literal(&table),
        quote_literal(&sequence)
    )));
    // `::bigint` before the step: the column may be a smaller integer whose maximum is its
    // type's limit, and `setval` takes a bigint anyway.
    sql.push(format!(
        "SELECT setval({}, {further}(\n    (SELECT COALESCE({aggregate}({column})::bigint + ({}), {}) FROM {table}),\n    (SELECT CASE WHEN is_called THEN last_value + ({}) ELSE last_value END FROM {sequence})\n), false);",
        quote_literal(&sequence),
        facts.increment,
        facts.start,
        facts.increment,
    ));
    sql.push("\\endif".to_owned());
    Fix {
        title: format!(
            "move sequence {}.{} past {aggregate}({})",
            facts.sequence_schema, facts.sequence_name, facts.column
        ),
        sql,
        safety: Safety::Safe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>() -> SequenceFacts<'a> {
        SequenceFacts {
            sequence_schema: "public",
            sequence_name: "users_id_seq",
            table_schema: "public",
            table_name: "users",
            column: "id",
            increment: 1,
            start: 1,
            extreme_found: Some(1042),
            next_found: Some(25),
        }
    }

    #[test]
    fn the_statement_rereads_the_maximum_and_never_goes_back() {
        let fix = setval_fix(&facts());
        assert_eq!(fix.safety, Safety::Safe);
        assert_eq!(
            fix.sql,
            [
                "-- public.users.id reached 1042 when checked; public.users_id_seq would have handed out 25.",
                "-- The max is read again here; the sequence only moves forward, and the next nextval() returns one step (1) past the column, or the start (1) for an empty table.",
                "SELECT COALESCE((to_regclass('public.users') IS NOT NULL AND to_regclass('public.users_id_seq') IS NOT NULL), false) AS driftlint_guard \\gset",
                "\\if :driftlint_guard",
                "SELECT setval('public.users_id_seq', GREATEST(\n    (SELECT COALESCE(max(id)::bigint + (1), 1) FROM public.users),\n    (SELECT CASE WHEN is_called THEN last_value + (1) ELSE last_value END FROM public.users_id_seq)\n), false);",
                "\\endif",
            ]
        );
    }

    #[test]
    fn descending_sequences_go_below_the_minimum() {
        let fix = setval_fix(&SequenceFacts {
            increment: -5,
            start: -1,
            extreme_found: Some(-400),
            next_found: Some(-20),
            sequence_name: "Odd's seq",
            table_name: "order",
            ..facts()
        });
        assert_eq!(
            fix.sql[4],
            "SELECT setval('public.\"Odd''s seq\"', LEAST(\n    (SELECT COALESCE(min(id)::bigint + (-5), -1) FROM public.\"order\"),\n    (SELECT CASE WHEN is_called THEN last_value + (-5) ELSE last_value END FROM public.\"Odd's seq\")\n), false);"
        );
    }

    #[test]
    fn an_empty_table_is_said() {
        let fix = setval_fix(&SequenceFacts {
            extreme_found: None,
            next_found: None,
            ..facts()
        });
        assert_eq!(fix.sql[0], "-- public.users.id was empty when checked.");
    }
}
