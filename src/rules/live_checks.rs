//! The six comparison rules (`missing-table`, `missing-column`, `primary-key-mismatch`,
//! `column-type-mismatch`, `nullability-mismatch`, `forbidden-column-present`) against the live
//! database: each rule's expectation check run on the live schema, and the live schema compared
//! with the migrations replayed to the database's own revision.
//!
//! One finding per problem: a problem that a revision-level finding already explains (the
//! absent tail of `stamped-not-applied`, a `partially-applied-revision`, a pending revision of
//! `database-behind-head`) is left out, and when the expectations and the replay both find the
//! same problem on the same object, the replay's finding is kept (it names the revision and
//! carries a fix for the database) with the expectation's place added as a related label.
//! Tables an operation the replay cannot model touches are not compared with the replay.

use super::live_state::{Change, LiveState, same_type};
use super::{Context, Finding, FindingSource, Flavor, Label, Rule};
use crate::alembic::Revision;
use crate::expect::Expectations;
use crate::fix::ddl;
use crate::schema::model::{Origin, Schema, Table};

/// A rule's expectation check, as each rule module exports it.
pub(super) type ExpectationFindings = fn(&Expectations, &Schema, FindingSource) -> Vec<Finding>;

/// A rule's comparison of the live schema with the replay at the database's revision.
pub(super) type ReplayFindings = fn(&Context<'_>, &LiveState, &Schema) -> Vec<Finding>;

/// Runs one comparison rule against the live database, when there is one.
pub(super) fn check_live(
    ctx: &Context<'_>,
    out: &mut Vec<Finding>,
    expectation_findings: ExpectationFindings,
    replay_findings: ReplayFindings,
) {
    let Some(live) = ctx.live else {
        return;
    };
    let mut found = match &live.schema_at_database {
        Some(reference) => replay_findings(ctx, live, reference),
        None => Vec::new(),
    };
    if let Some(expectations) = ctx.expectations {
        for finding in expectation_findings(expectations, live.live(), FindingSource::Database) {
            if explained(live, &finding) {
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
                None => found.push(with_creating_revision(ctx, finding)),
            }
        }
    }
    out.extend(found);
}

/// A missing table or column found through the expectations alone (the database records no
/// revision the replay can reach, or the replay there lacks it too) still names the revision
/// that creates it at the head, with a label there.
fn with_creating_revision(ctx: &Context<'_>, finding: Finding) -> Finding {
    if finding.revision.is_some() {
        return finding;
    }
    let (Some(head), Some(object)) = (ctx.head_schema, &finding.object) else {
        return finding;
    };
    let table = head.table(&object.schema, &object.table);
    let origin = match (finding.rule, &object.column) {
        (Rule::MissingTable, None) => table.and_then(|table| table.created_by.as_ref()),
        (Rule::MissingColumn, Some(column)) => table
            .and_then(|table| table.column(column))
            .and_then(|column| column.created_by.as_ref()),
        _ => None,
    };
    let text = match finding.rule {
        Rule::MissingTable => "this revision creates it",
        _ => "this revision adds it",
    };
    match origin {
        Some(origin) => finding
            .related(origin.span.clone(), text)
            .revision(origin.revision.clone()),
        None => finding,
    }
}

/// Whether a revision-level finding already covers the finding's object.
fn explained(live: &LiveState, finding: &Finding) -> bool {
    let Some(object) = &finding.object else {
        return false;
    };
    match (finding.rule, &object.column) {
        (Rule::PrimaryKeyMismatch, _) => live.explains_primary_key(&object.schema, &object.table),
        (_, Some(column)) => live.explains_column(&object.schema, &object.table, column),
        (_, None) => live.explains_table(&object.schema, &object.table),
    }
}

/// Adds the primary label at the operation that set the state, and names its revision.
fn at_origin(finding: Finding, origin: Option<&Origin>, text: &str) -> Finding {
    match origin {
        Some(origin) => finding
            .at(origin.span.clone(), text)
            .revision(origin.revision.clone()),
        None => finding,
    }
}

fn revision_phrase(origin: Option<&Origin>) -> String {
    match origin {
        Some(origin) => format!("revision {}", origin.revision),
        None => "the migrations".to_owned(),
    }
}

/// The tables of `reference` that the live comparison may look at: not explained by a
/// revision-level finding, not touched by an operation the replay cannot model.
fn comparable<'a>(
    live: &'a LiveState,
    reference: &'a Schema,
) -> impl Iterator<Item = (&'a Table, Option<&'a Table>)> {
    reference.tables.values().filter_map(move |table| {
        if live.replay_unsure_about(&table.schema, &table.name) {
            return None;
        }
        Some((table, live.live().table(&table.schema, &table.name)))
    })
}

pub(super) fn missing_tables(
    ctx: &Context<'_>,
    live: &LiveState,
    reference: &Schema,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (table, present) in comparable(live, reference) {
        if present.is_some() || live.explains_table(&table.schema, &table.name) {
            continue;
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
    out
}

pub(super) fn missing_columns(
    ctx: &Context<'_>,
    live: &LiveState,
    reference: &Schema,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (table, present) in comparable(live, reference) {
        let Some(present) = present else {
            continue;
        };
        for column in &table.columns {
            if present.column(&column.name).is_some()
                || live.explains_column(&table.schema, &table.name, &column.name)
            {
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
    out
}

pub(super) fn type_mismatches(
    _: &Context<'_>,
    live: &LiveState,
    reference: &Schema,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (table, present) in comparable(live, reference) {
        let Some(present) = present else {
            continue;
        };
        for column in &table.columns {
            let Some(actual) = present.column(&column.name) else {
                continue;
            };
            if same_type(&actual.ty, &column.ty)
                || live.explains_column(&table.schema, &table.name, &column.name)
            {
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
    out
}

fn nullability(nullable: bool) -> &'static str {
    if nullable { "nullable" } else { "NOT NULL" }
}

pub(super) fn nullability_mismatches(
    _: &Context<'_>,
    live: &LiveState,
    reference: &Schema,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (table, present) in comparable(live, reference) {
        let Some(present) = present else {
            continue;
        };
        for column in &table.columns {
            let Some(actual) = present.column(&column.name) else {
                continue;
            };
            if actual.nullable == column.nullable
                || live.explains_column(&table.schema, &table.name, &column.name)
            {
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
    out
}

pub(super) fn primary_key_mismatches(
    _: &Context<'_>,
    live: &LiveState,
    reference: &Schema,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (table, present) in comparable(live, reference) {
        let Some(present) = present else {
            continue;
        };
        let expected = table.primary_key.as_ref();
        let actual = present.primary_key.as_ref();
        if expected.map(|key| &key.columns) == actual.map(|key| &key.columns)
            || live.explains_primary_key(&table.schema, &table.name)
        {
            continue;
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
                // A key column the migrations no longer have (system_config keyed on `id`,
                // then on `key` with `id` dropped) goes with the old key.
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
            (None, None) => continue,
        };
        let mut finding = Finding::new(Rule::PrimaryKeyMismatch, FindingSource::Database, message)
            .object(&table.schema, &table.name, None)
            .help(format!(
                "the primary key of {qualified} was changed by hand: change it back (the fix \
                 below), or write a migration that makes the change for every environment"
            ));
        if let Some(fix) = fix {
            finding = finding.fix(fix);
        }
        out.push(at_origin(finding, origin, "sets the primary key"));
    }
    out
}

/// The expectation rule `forbidden-column-present` has no counterpart in the replay: a column
/// the migrations do not create is `untracked-column`'s.
pub(super) fn nothing(_: &Context<'_>, _: &LiveState, _: &Schema) -> Vec<Finding> {
    Vec::new()
}

/// A command of the project's migration tool: `alembic upgrade head`, `flask db upgrade head`.
pub(super) fn tool_command(flavor: Flavor, arguments: &str) -> String {
    match flavor {
        Flavor::Alembic => format!("alembic {arguments}"),
        Flavor::FlaskMigrate => format!("flask db {arguments}"),
    }
}

/// `head`, or `heads` when the graph has several.
pub(super) fn head_word(ctx: &Context<'_>) -> &'static str {
    if ctx.graph.heads.len() > 1 {
        "heads"
    } else {
        "head"
    }
}

/// `c3e5a7b9d1f2 (create analysis_results)`: the id and the message, as `alembic history`
/// shows them.
pub(super) fn revision_title(revision: &Revision) -> String {
    match &revision.message {
        Some(message) if !message.trim().is_empty() => {
            format!("{} ({})", revision.id, message.trim())
        }
        _ => revision.id.clone(),
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `revision a` or `revisions a and b`.
pub(super) fn revisions_phrase(ids: &[String]) -> String {
    if ids.len() == 1 {
        format!("revision {}", ids[0])
    } else {
        format!("revisions {}", and_list(ids))
    }
}
