//! The comparison driver: the one place that runs the comparison rules (`missing-table`,
//! `missing-column`, `forbidden-column-present`, `primary-key-mismatch`, `column-type-mismatch`,
//! `nullability-mismatch`), each from the [`Comparison`] its module states.
//!
//! A comparison rule states what it compares, once, in its own file: how a schema falls short of
//! the expectations (`expected`), how the database falls short of the migrations replayed to the
//! database's revision, one table at a time (`replayed`), and what its findings are about
//! (`subject`). This module decides where each comparison runs:
//! - statically, the expectations against the schema the migrations produce at their heads;
//! - live, the database against the replay at its revision, then the expectations against the
//!   database.
//!
//! and keeps one finding per problem:
//! - a problem that a revision-level finding already explains (the absent tail of
//!   `stamped-not-applied`, a `partially-applied-revision`, a pending revision of
//!   `database-behind-head`; `LiveState`'s `explains_*`) is left out;
//! - when the expectations and the replay both find the same problem on the same object, the
//!   replay's finding is kept (it names the revision and carries a fix for the database) with
//!   the expectation's place added as a related label;
//! - tables an operation the replay cannot model touches are not compared with the replay.
//!
//! Invariant: a finding of the expectations' side has the expectation's place in the YAML file
//! as its primary label and, when the schema knows it, a related label at the operation that set
//! the conflicting state; a finding of the replay's side has that operation as its primary label.
//! A missing table yields no column findings, a missing column no type or nullability findings.

use super::live_state::{LiveState, Removal, RemovedBy};
use super::phrases::revision_title;
use super::{Context, Finding, FindingSource, Label};
use crate::expect::{ColumnExpectation, Expectations, TableExpectation};
use crate::schema::model::{Column, Origin, Schema, Table};

#[cfg(test)]
pub(super) mod test_support;

/// What a comparison rule compares. Each comparison rule's module has one, `COMPARISON`, and its
/// registry row has the kind `Comparison`; the rules module runs it through [`run`].
pub struct Comparison {
    /// What the rule's findings are about, which decides the revision-level findings that
    /// explain them.
    pub subject: Subject,
    /// The expectations against a schema: every finding, in expectation order. The schema is the
    /// migrations' head (`source` `Migrations`) or the database (`Database`).
    pub expected: Option<ExpectedFn>,
    /// The database against the migrations replayed to its revision, for one table of that
    /// replay.
    pub replayed: Option<ReplayedFn>,
    /// Where the migrations' head makes the object of a finding the expectations alone make in
    /// the database (a table or column missing there), so the finding can name that revision.
    pub made_at_head: Option<MadeAtHead>,
}

/// A rule's comparison of the expectations with a schema.
pub type ExpectedFn = fn(&Expectations, &Schema, FindingSource) -> Vec<Finding>;

/// A rule's comparison of one table of the replay with the database.
pub type ReplayedFn = fn(&Pair<'_>, &mut Vec<Finding>);

/// The operation at the head that makes an object, and the label's text there.
pub struct MadeAtHead {
    pub origin: for<'s> fn(&'s Schema, &super::ObjectRef) -> Option<&'s Origin>,
    pub text: &'static str,
}

/// What a comparison's findings are about. A revision-level finding that explains a table
/// explains everything on it; one that explains a column, that column's findings; one that
/// explains a primary key, that key's findings. (An index or a constraint is about its table, a
/// default or an enum about its column.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Table,
    Column,
    PrimaryKey,
}

/// One table of the migrations replayed to the database's revision, and the database's table of
/// the same name.
pub struct Pair<'a> {
    pub ctx: &'a Context<'a>,
    pub live: &'a LiveState,
    /// The migrations replayed to the database's revision.
    pub reference: &'a Schema,
    /// The table in `reference`.
    pub table: &'a Table,
    /// The table in the database, when it is there.
    pub present: Option<&'a Table>,
}

/// Runs one comparison rule: statically when there are expectations and a replayed head, live
/// when there is a database.
pub fn run(ctx: &Context<'_>, out: &mut Vec<Finding>, comparison: &Comparison) {
    if let (Some(expected), Some(expectations), Some(head)) =
        (comparison.expected, ctx.expectations, ctx.head_schema)
    {
        out.extend(expected(expectations, head, FindingSource::Migrations));
    }
    if let Some(live) = ctx.live {
        out.extend(live_findings(ctx, live, comparison));
    }
}

/// The comparison against the live database: the replay's findings first, then the
/// expectations' that the replay did not already make.
fn live_findings(ctx: &Context<'_>, live: &LiveState, comparison: &Comparison) -> Vec<Finding> {
    let mut found = Vec::new();
    if let (Some(replayed), Some(reference)) = (comparison.replayed, &live.schema_at_database) {
        for table in reference.tables.values() {
            if live.replay_unsure_about(&table.schema, &table.name) {
                continue;
            }
            let pair = Pair {
                ctx,
                live,
                reference,
                table,
                present: live.live().table(&table.schema, &table.name),
            };
            replayed(&pair, &mut found);
        }
        found.retain(|finding| !explained(live, comparison.subject, finding));
    }
    let (Some(expected), Some(expectations)) = (comparison.expected, ctx.expectations) else {
        return found;
    };
    for finding in expected(expectations, live.live(), FindingSource::Database) {
        if explained(live, comparison.subject, &finding) {
            continue;
        }
        match found
            .iter_mut()
            .find(|existing| existing.rule == finding.rule && existing.object == finding.object)
        {
            Some(existing) => {
                if let Some(primary) = finding.primary {
                    existing.related.push(Label {
                        span: primary.span,
                        text: "the expectations say so too".to_owned(),
                    });
                }
            }
            None => found.push(with_head_origin(ctx, comparison, finding)),
        }
    }
    found
}

/// Whether a revision-level finding already covers the finding's object.
fn explained(live: &LiveState, subject: Subject, finding: &Finding) -> bool {
    let Some(object) = &finding.object else {
        return false;
    };
    match (subject, &object.column) {
        (Subject::PrimaryKey, _) => live.explains_primary_key(&object.schema, &object.table),
        (Subject::Column, Some(column)) => {
            live.explains_column(&object.schema, &object.table, column)
        }
        (Subject::Table | Subject::Column, _) => live.explains_table(&object.schema, &object.table),
    }
}

/// A finding the expectations alone make in the database (the database records no revision the
/// replay can reach, or the replay there lacks the object too) still names the revision that
/// makes its object at the head, with a label there.
fn with_head_origin(ctx: &Context<'_>, comparison: &Comparison, finding: Finding) -> Finding {
    if finding.revision.is_some() {
        return finding;
    }
    let (Some(made), Some(head), Some(object)) =
        (&comparison.made_at_head, ctx.head_schema, &finding.object)
    else {
        return finding;
    };
    match (made.origin)(head, object) {
        Some(origin) => finding
            .related(origin.span.clone(), made.text)
            .revision(origin.revision.clone()),
        None => finding,
    }
}

/// Where the schema being compared is, for messages: "at the migrations' head" or "in the
/// database".
pub fn where_phrase(source: FindingSource) -> &'static str {
    match source {
        FindingSource::Migrations => "at the migrations' head",
        FindingSource::Database => "in the database",
        FindingSource::Expectations => "in the schema",
    }
}

/// The expected tables that exist in `schema`, with their table there.
pub fn present_tables<'a>(
    expectations: &'a Expectations,
    schema: &'a Schema,
) -> impl Iterator<Item = (&'a TableExpectation, &'a Table)> {
    expectations.tables.iter().filter_map(|expected| {
        schema
            .table(&expected.schema, &expected.name)
            .map(|table| (expected, table))
    })
}

/// The expected columns that exist, with their column there.
pub fn present_columns<'a>(
    expectations: &'a Expectations,
    schema: &'a Schema,
) -> impl Iterator<Item = (&'a TableExpectation, &'a ColumnExpectation, &'a Column)> {
    present_tables(expectations, schema).flat_map(|(expected_table, table)| {
        expected_table.columns.iter().filter_map(move |expected| {
            table
                .column(&expected.name)
                .map(|column| (expected_table, expected, column))
        })
    })
}

/// Adds the related label at `origin` and names its revision (the expectations' side).
pub fn with_origin(finding: Finding, origin: Option<&Origin>, text: &str) -> Finding {
    match origin {
        Some(origin) => finding
            .related(origin.span.clone(), text)
            .revision(origin.revision.clone()),
        None => finding,
    }
}

/// Adds the primary label at the operation that set the state, and names its revision (the
/// replay's side).
pub fn at_origin(finding: Finding, origin: Option<&Origin>, text: &str) -> Finding {
    match origin {
        Some(origin) => finding
            .at(origin.span.clone(), text)
            .revision(origin.revision.clone()),
        None => finding,
    }
}

/// `revision a1b2`, or `the migrations` when the replay does not know the operation.
pub fn revision_phrase(origin: Option<&Origin>) -> String {
    match origin {
        Some(origin) => format!("revision {}", origin.revision),
        None => "the migrations".to_owned(),
    }
}

/// The database's tables the untracked rules look at: in a schema the migrations or the
/// expectations name, not the version table, not explained by a revision-level finding, not
/// touched by an operation the replay cannot model.
pub fn tracked_live_tables(live: &LiveState) -> impl Iterator<Item = &Table> {
    live.live().tables.iter().filter_map(move |(key, table)| {
        let skip = !live.tracked_schemas.contains(&table.schema)
            || live.version_table() == Some(key)
            || live.explains_table(&table.schema, &table.name)
            || live.replay_unsure_about(&table.schema, &table.name);
        (!skip).then_some(table)
    })
}

/// The finding of an untracked rule about `qualified`, a `what` ("table", "column") in the
/// database: left behind although an applied revision drops or renames it away (`removed`), or
/// made by hand. `help` gives the help for each case from the word for the removal ("drop",
/// "rename"; `None` when made by hand).
pub fn untracked_finding(
    ctx: &Context<'_>,
    rule: super::Rule,
    what: &str,
    qualified: &str,
    removed: Option<&RemovedBy>,
    help: impl Fn(Option<&str>) -> String,
) -> Finding {
    let Some(removed) = removed else {
        return Finding::new(
            rule,
            FindingSource::Database,
            format!("{what} {qualified} is in the database, but no migration creates it"),
        )
        .help(help(None));
    };
    let revision = &ctx.revisions[removed.revision];
    let (verb, noun) = match removed.removal {
        Removal::Drop => ("drops", "drop"),
        Removal::Rename => ("renames", "rename"),
    };
    Finding::new(
        rule,
        FindingSource::Database,
        format!(
            "{what} {qualified} is in the database, but revision {} {verb} it",
            revision.id
        ),
    )
    .at(
        removed.span.clone(),
        format!("{} {verb} the {what}", revision_title(revision)),
    )
    .revision(revision.id.clone())
    .help(help(Some(noun)))
}
