//! The fixes of the findings about revisions: `database-behind-head` (the pending revisions'
//! `upgrade()` as SQL, then the version table moved to them), `stamped-not-applied` (the
//! revisions the database claims but lacks, re-run without touching the version table), and
//! `partially-applied-revision` (only the missing operations of one revision).
//!
//! Invariant: each block of rendered SQL runs under a psql `\if` whose condition holds only while
//! the work is still to do (the version table still at the revisions the database was found at;
//! the revision's first change still absent; the operation's effect still absent), so the script
//! can be run twice without harm. The version table is changed by statements whose `WHERE`
//! makes them no-ops the second time. Statements PostgreSQL refuses inside a transaction carry
//! [`OUTSIDE_TRANSACTION_MARK`]; drops of tables and columns (which the revisions mean, but which lose
//! data) carry [`DESTRUCTIVE_MARK`].

use std::collections::BTreeSet;

use super::upgrade_sql::{OpSql, render_revisions};
use super::{
    Fix, OUTSIDE_TRANSACTION_MARK, Safety, comment_line, destructive_mark, escape_text, psql_guard,
    quote_literal, quote_qualified,
};
use crate::alembic::Revision;
use crate::graph::RevisionGraph;
use crate::replay::{DEFAULT_SCHEMA, Replayer};
use crate::schema::model::{Schema, TableKey};
use crate::schema::names::truncate_identifier;
use crate::schema::ops::{Constraint, Op, QualName};
use crate::source::Sources;

/// A change of the version table's rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionChange {
    /// The version table, `(schema, name)`: `("public", "alembic_version")` by default.
    pub table: TableKey,
    /// The rows as the database has them.
    pub from: Vec<String>,
    /// The rows once the fix ran.
    pub to: Vec<String>,
}

/// The statements that turn the version table's rows `from` into `to`, in Alembic's spirit
/// (`UPDATE` a row that moves forward, `DELETE` a row a merge absorbs, `INSERT` a new branch's
/// row), each with a `WHERE` that makes a second run a no-op.
pub fn version_update_sql(change: &VersionChange) -> Vec<String> {
    let table = quote_qualified(&change.table.schema, &change.table.name);
    let removed: Vec<&String> = change
        .from
        .iter()
        .filter(|r| !change.to.contains(r))
        .collect();
    let added: Vec<&String> = change
        .to
        .iter()
        .filter(|r| !change.from.contains(r))
        .collect();
    let mut sql = Vec::new();
    for (index, old) in removed.iter().enumerate() {
        match added.get(index) {
            Some(new) => sql.push(format!(
                "UPDATE {table} SET version_num = {} WHERE version_num = {};",
                quote_literal(new),
                quote_literal(old)
            )),
            None => sql.push(format!(
                "DELETE FROM {table} WHERE version_num = {};",
                quote_literal(old)
            )),
        }
    }
    for new in added.iter().skip(removed.len()) {
        sql.push(format!(
            "INSERT INTO {table} (version_num) SELECT {0} WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE version_num = {0});",
            quote_literal(new)
        ));
    }
    sql
}

/// The version rows once every revision of `pending` ran on a database at `database`: the
/// revisions of both that no other of them descends from (through `down_revision`, as Alembic
/// keeps one row per branch head).
pub fn versions_after(graph: &RevisionGraph, database: &[usize], pending: &[usize]) -> Vec<usize> {
    let all: BTreeSet<usize> = database.iter().chain(pending).copied().collect();
    let mut covered = BTreeSet::new();
    for &revision in &all {
        for ancestor in graph.down_ancestors(revision) {
            if ancestor != revision {
                covered.insert(ancestor);
            }
        }
    }
    all.into_iter().filter(|r| !covered.contains(r)).collect()
}

/// The boolean "the version table holds exactly these rows".
pub(crate) fn versions_are_sql(table: &TableKey, rows: &[String]) -> String {
    let mut sorted: Vec<&String> = rows.iter().collect();
    sorted.sort();
    let literals: Vec<String> = sorted.iter().map(|r| quote_literal(r)).collect();
    format!(
        "COALESCE((SELECT array_agg(version_num::text ORDER BY version_num COLLATE \"C\") FROM {}), ARRAY[]::text[]) = ARRAY[{}]::text[]",
        quote_qualified(&table.schema, &table.name),
        literals.join(", ")
    )
}

/// `-- Running upgrade <down> -> <id> (<file>)`, as `alembic upgrade --sql` heads each revision.
fn revision_header(revision: &Revision, sources: &Sources, suffix: &str) -> String {
    comment_line(&format!(
        "Running upgrade {} -> {} ({}){suffix}",
        revision.down_revisions.join(", "),
        revision.id,
        sources.get(revision.file).display
    ))
}

/// Tables and columns created by the rendered SQL itself: dropping them again loses no data the
/// database had.
#[derive(Default)]
struct CreatedHere {
    tables: BTreeSet<TableKey>,
    columns: BTreeSet<(String, String, String)>,
}

impl CreatedHere {
    /// Records what `op` creates; returns whether it drops data the database had before.
    fn drops_existing_data(&mut self, op: &Op) -> bool {
        match op {
            Op::CreateTable { table, .. } => {
                self.tables.insert(table.key());
                false
            }
            Op::AddColumn { table, column } => {
                let TableKey { schema, name } = table.key();
                self.columns
                    .insert((schema, name, truncate_identifier(&column.name)));
                false
            }
            Op::DropTable { table } => !self.tables.contains(&table.key()),
            Op::DropColumn { table, column } => {
                let TableKey { schema, name } = table.key();
                !self
                    .tables
                    .contains(&TableKey::new(schema.clone(), name.clone()))
                    && !self
                        .columns
                        .contains(&(schema, name, truncate_identifier(column)))
            }
            Op::Guarded { op } => self.drops_existing_data(op),
            _ => false,
        }
    }
}

/// An operation's statements as fix lines: statements PostgreSQL refuses inside a transaction
/// follow [`OUTSIDE_TRANSACTION_MARK`], and a drop of a table or column that existed before the
/// script (data lost, even though the revision means it) follows [`DESTRUCTIVE_MARK`]. Returns
/// whether it was such a drop.
fn push_op(
    sql: &mut Vec<String>,
    revision: &Revision,
    op: &OpSql,
    created: &mut CreatedHere,
) -> bool {
    let destructive = revision
        .upgrade
        .get(op.op_index)
        .is_some_and(|op_at| created.drops_existing_data(&op_at.op));
    for statement in &op.statements {
        if statement.outside_transaction {
            sql.push(format!(
                "{OUTSIDE_TRANSACTION_MARK}: PostgreSQL refuses it inside a transaction block"
            ));
        }
        if destructive && !statement.is_comment() {
            sql.push(destructive_mark(&format!(
                "revision {} drops this, and its data with it",
                revision.id
            )));
        }
        sql.push(statement.sql.clone());
    }
    destructive
}

fn safety(destructive: bool) -> Safety {
    if destructive {
        Safety::Destructive
    } else {
        Safety::Safe
    }
}

fn ids(revisions: &[Revision], indices: &[usize]) -> Vec<String> {
    indices.iter().map(|&i| revisions[i].id.clone()).collect()
}

/// `database-behind-head`: the `upgrade()` of every pending revision rendered as SQL, in order,
/// under a guard on the version table still being at `database`, then the version table moved
/// to where `alembic upgrade` would leave it. Revisions in `already_present` (their changes are
/// in the database though never recorded) are recorded without being rendered.
pub fn pending_upgrade_fix(
    revisions: &[Revision],
    graph: &RevisionGraph,
    sources: &Sources,
    database: &[usize],
    pending: &[usize],
    already_present: &[usize],
    version_table: &TableKey,
) -> Fix {
    let from = ids(revisions, database);
    let to = ids(revisions, &versions_after(graph, database, pending));
    let first = pending
        .first()
        .map(|&i| revisions[i].id.as_str())
        .unwrap_or("none");
    let mut sql = psql_guard(&versions_are_sql(version_table, &from));
    let mut destructive = false;
    let mut created = CreatedHere::default();
    let to_render: Vec<usize> = pending
        .iter()
        .copied()
        .filter(|index| !already_present.contains(index))
        .collect();
    for &index in already_present {
        sql.push(comment_line(&format!(
            "revision {} is already in the database (never recorded): not run again",
            revisions[index].id
        )));
    }
    for rendered in render_revisions(revisions, graph, sources, &to_render) {
        let revision = &revisions[rendered.revision];
        sql.push(revision_header(revision, sources, ""));
        for op in &rendered.ops {
            destructive |= push_op(&mut sql, revision, op, &mut created);
        }
    }
    sql.push("\\endif".to_owned());
    sql.extend(version_update_sql(&VersionChange {
        table: version_table.clone(),
        from,
        to: to.clone(),
    }));
    Fix {
        title: format!(
            "apply the {} pending revision{} from {first} to {} (as `alembic upgrade --sql` renders them)",
            pending.len(),
            if pending.len() == 1 { "" } else { "s" },
            to.join(", ")
        ),
        sql,
        safety: safety(destructive),
    }
}

/// `stamped-not-applied`: the `upgrade()` of each revision the database claims but lacks
/// (`absent`, in any order), rendered as SQL in the order Alembic runs them, each under a guard on
/// its first lasting change (one still there once all of them ran) being absent. The version table already names them and is left alone.
pub fn stamped_fix(
    revisions: &[Revision],
    graph: &RevisionGraph,
    sources: &Sources,
    absent: &[usize],
) -> Fix {
    let mut sql = Vec::new();
    let mut destructive = false;
    let mut created = CreatedHere::default();
    let end = final_schema(revisions, graph, absent);
    for rendered in render_revisions(revisions, graph, sources, absent) {
        let revision = &revisions[rendered.revision];
        sql.push(revision_header(revision, sources, ""));
        let ops: Vec<usize> = rendered.ops.iter().map(|op| op.op_index).collect();
        let guard = lasting_condition(revisions, rendered.revision, &ops, &end)
            .map(|condition| psql_guard(&condition));
        match &guard {
            Some(lines) => sql.extend(lines.iter().cloned()),
            None => sql.push(
                "-- no catalog query tells whether this revision ran: review before running"
                    .to_owned(),
            ),
        }
        for op in &rendered.ops {
            destructive |= push_op(&mut sql, revision, op, &mut created);
        }
        if guard.is_some() {
            sql.push("\\endif".to_owned());
        }
    }
    Fix {
        title: format!(
            "run the upgrade() of {} that the database is stamped with but lacks",
            ids(revisions, absent).join(", ")
        ),
        sql,
        safety: safety(destructive),
    }
}

/// Whether the live schema has the effect of `op` (read in `after`, the replayed schema with the
/// operation applied); `None` where the model cannot tell (a default, a rename of an index).
pub fn op_present(op: &Op, after: &Schema, live: &Schema) -> Option<bool> {
    let key = |name: &QualName| {
        (
            truncate_identifier(name.schema.as_deref().unwrap_or(DEFAULT_SCHEMA)),
            truncate_identifier(&name.name),
        )
    };
    let live_table = |name: &QualName| {
        let (schema, table) = key(name);
        live.table(&schema, &table)
    };
    let has_column = |name: &QualName, column: &str| {
        live_table(name).map(|t| t.column(&truncate_identifier(column)).is_some())
    };
    match op {
        Op::CreateTable { table, .. } => Some(live_table(table).is_some()),
        Op::DropTable { table } => Some(live_table(table).is_none()),
        Op::RenameTable { table, new_name } => Some(
            live.table(&key(table).0, &truncate_identifier(new_name))
                .is_some(),
        ),
        Op::AddColumn { table, column } => Some(has_column(table, &column.name) == Some(true)),
        Op::DropColumn { table, column } => Some(has_column(table, column) != Some(true)),
        Op::AlterColumn {
            table,
            column,
            new_type,
            nullable,
            new_name,
            ..
        } => {
            let final_name = truncate_identifier(new_name.as_deref().unwrap_or(column));
            let (schema, name) = key(table);
            let Some(live_column) = live
                .table(&schema, &name)
                .and_then(|t| t.column(&final_name))
            else {
                return Some(false);
            };
            let model = after
                .table(&schema, &name)
                .and_then(|t| t.column(&final_name))?;
            let mut known = new_name.is_some();
            let mut present = true;
            if new_type.is_some() {
                known = true;
                present &= live_column.ty == model.ty;
            }
            if nullable.is_some() {
                known = true;
                present &= live_column.nullable == model.nullable;
            }
            known.then_some(present)
        }
        Op::AddConstraint { table, constraint } => {
            let table = live_table(table)?;
            Some(match constraint {
                Constraint::PrimaryKey { columns, .. } => table
                    .primary_key
                    .as_ref()
                    .is_some_and(|pk| pk.columns == *columns),
                Constraint::Unique { name, columns } => table.uniques.iter().any(|u| {
                    name.as_ref()
                        .map_or(u.columns == *columns, |n| u.name == *n)
                }),
                Constraint::ForeignKey { name, columns, .. } => {
                    table.foreign_keys.iter().any(|fk| {
                        name.as_ref()
                            .map_or(fk.columns == *columns, |n| fk.name == *n)
                    })
                }
                Constraint::Check { name, .. } => {
                    let name = name.as_ref()?;
                    table.checks.iter().any(|c| c.name == *name)
                }
            })
        }
        Op::DropConstraint { table, name, .. } => {
            let table = live_table(table)?;
            let name = truncate_identifier(name);
            let present = table.primary_key.as_ref().is_some_and(|pk| pk.name == name)
                || table.uniques.iter().any(|u| u.name == name)
                || table.foreign_keys.iter().any(|fk| fk.name == name)
                || table.checks.iter().any(|c| c.name == name);
            Some(!present)
        }
        Op::CreateIndex { table, index, .. } => {
            let name = truncate_identifier(index.name.as_deref()?);
            Some(live_table(table)?.indexes.iter().any(|i| i.name == name))
        }
        Op::CreateSequence { name, .. } => Some(live.sequences.contains_key(&name.key())),
        Op::DropSequence { name } => Some(!live.sequences.contains_key(&name.key())),
        Op::CreateEnum { name, .. } => Some(live.enums.contains_key(&name.key())),
        Op::DropEnum { name } => Some(!live.enums.contains_key(&name.key())),
        Op::Guarded { op } => op_present(op, after, live),
        Op::DropIndex { .. }
        | Op::RenameIndex { .. }
        | Op::RenameConstraint { .. }
        | Op::SetSequenceOwner { .. }
        | Op::Passthrough { .. }
        | Op::Unmodeled { .. } => None,
    }
}

/// `partially-applied-revision`: the operations of `revision` that did not reach the database,
/// rendered as SQL. An interrupted migration stops part way, so the operations that ran are a
/// prefix of its `upgrade()`: the longest prefix after which the replayed tables the revision
/// touches look exactly like the live ones is taken as what ran, and the rest is rendered, as one
/// block under a guard (the version table still at `version.from` when the revision was never
/// recorded, otherwise a change of the block that lasts being still absent). When no prefix
/// matches (changes made by hand, out of order), each operation whose effect the live schema
/// lacks is rendered under its own guard, a table the revision creates that is there without
/// some of its columns gets them (`ADD COLUMN IF NOT EXISTS`), and operations whose presence
/// cannot be told are listed as comments for the reviewer. With `version`, the revision is then
/// recorded.
///
/// `None` when nothing missing can be rendered: an empty fix is never offered.
pub fn partial_fix(
    revisions: &[Revision],
    graph: &RevisionGraph,
    sources: &Sources,
    revision: usize,
    live: &Schema,
    version: Option<&VersionChange>,
) -> Option<Fix> {
    let rendered = render_revisions(revisions, graph, sources, &[revision]);
    let id = &revisions[revision].id;
    let mut sql = Vec::new();
    let mut missing = 0;
    let mut destructive = false;
    let mut created = CreatedHere::default();
    if let Some(rendered) = rendered.first() {
        sql.push(revision_header(
            &revisions[revision],
            sources,
            " — only what is missing",
        ));
        match applied_prefix(revisions, graph, revision, live) {
            Some(ran) => {
                let rest = &rendered.ops[ran.min(rendered.ops.len())..];
                missing = rest.len();
                if ran > 0 {
                    sql.push(comment_line(&format!(
                        "the first {ran} operation{} of {id} reached the database; the rest follows",
                        if ran == 1 { "" } else { "s" }
                    )));
                }
                let guard = match version {
                    Some(version) => {
                        Some(psql_guard(&versions_are_sql(&version.table, &version.from)))
                    }
                    None => {
                        let end = final_schema(revisions, graph, &[revision]);
                        lasting_condition(revisions, revision, &rest_indices(rest), &end)
                            .map(|condition| psql_guard(&condition))
                    }
                };
                if let Some(lines) = &guard {
                    sql.extend(lines.iter().cloned());
                }
                for op in rest {
                    destructive |= push_op(&mut sql, &revisions[revision], op, &mut created);
                }
                if guard.is_some() {
                    sql.push("\\endif".to_owned());
                }
            }
            None => {
                let presence = presence_of_ops(revisions, graph, revision, live);
                for op in &rendered.ops {
                    let (present, completion) = match presence.get(op.op_index) {
                        Some((present, completion)) => (*present, completion.as_slice()),
                        None => (None, &[][..]),
                    };
                    match present {
                        Some(true) => {
                            if !completion.is_empty() {
                                missing += 1;
                                sql.extend(completion.iter().cloned());
                            }
                        }
                        Some(false) => {
                            missing += 1;
                            let guard = op.absent_condition.as_deref().map(psql_guard);
                            if let Some(lines) = &guard {
                                sql.extend(lines.iter().cloned());
                            }
                            destructive |=
                                push_op(&mut sql, &revisions[revision], op, &mut created);
                            if guard.is_some() {
                                sql.push("\\endif".to_owned());
                            }
                        }
                        None => {
                            for statement in &op.statements {
                                let text = statement
                                    .sql
                                    .split_whitespace()
                                    .collect::<Vec<_>>()
                                    .join(" ");
                                if statement.is_comment() {
                                    sql.push(escape_text(&text).into_owned());
                                } else {
                                    sql.push(comment_line(&format!(
                                        "could not tell whether this ran; run it if it did not: {text}"
                                    )));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    if missing == 0 {
        return None;
    }
    if let Some(version) = version {
        sql.extend(version_update_sql(version));
    }
    Some(Fix {
        title: format!(
            "finish revision {id} ({missing} missing operation{})",
            if missing == 1 { "" } else { "s" }
        ),
        sql,
        safety: safety(destructive),
    })
}

/// What a present operation still lacks in the live schema, as fix lines: for a table the
/// revision creates, the columns its `create_table` declares that the live table does not have
/// (as `missing-column`'s fix adds them). `after` is the replay with the operation applied.
fn completion_of(op: &Op, after: &Schema, live: &Schema, id: &str) -> Vec<String> {
    let table = match op {
        Op::CreateTable { table, .. } => table,
        Op::Guarded { op } => return completion_of(op, after, live, id),
        _ => return Vec::new(),
    };
    let schema = truncate_identifier(table.schema.as_deref().unwrap_or(DEFAULT_SCHEMA));
    let name = truncate_identifier(&table.name);
    let (Some(model), Some(present)) = (after.table(&schema, &name), live.table(&schema, &name))
    else {
        return Vec::new();
    };
    let mut sql = Vec::new();
    for column in &model.columns {
        if present.column(&column.name).is_some() {
            continue;
        }
        sql.push(comment_line(&format!(
            "table {schema}.{name} exists without column {}, which revision {id} creates it with",
            column.name
        )));
        sql.extend(super::ddl::add_column_fix(after, &schema, &name, column, None).sql);
    }
    sql
}

fn rest_indices(rest: &[OpSql]) -> Vec<usize> {
    rest.iter().map(|op| op.op_index).collect()
}

/// The schema after replaying `targets` and their ancestors.
fn final_schema(revisions: &[Revision], graph: &RevisionGraph, targets: &[usize]) -> Schema {
    crate::replay::replay(revisions, graph, targets).schema
}

/// The absence condition of the first of `ops` (indices into `revision`'s operations) whose
/// effect lasts to `end`: true before the block runs, false after, so it guards the whole block.
fn lasting_condition(
    revisions: &[Revision],
    revision: usize,
    ops: &[usize],
    end: &Schema,
) -> Option<String> {
    let upgrade = &revisions[revision].upgrade;
    ops.iter().find_map(|&index| {
        let op = &upgrade.get(index)?.op;
        if op_present(op, end, end) != Some(true) {
            return None;
        }
        super::upgrade_sql::absent_condition(op, end)
    })
}

/// The tables an operation works on, as `(schema, name)`; both names for a rename.
fn touched_tables(op: &Op) -> Vec<TableKey> {
    match op {
        Op::RenameTable { table, new_name } => {
            let TableKey { schema, name } = table.key();
            vec![
                TableKey::new(schema.clone(), name),
                TableKey::new(schema, truncate_identifier(new_name)),
            ]
        }
        Op::CreateTable { table, .. }
        | Op::DropTable { table }
        | Op::AddColumn { table, .. }
        | Op::DropColumn { table, .. }
        | Op::AlterColumn { table, .. }
        | Op::AddConstraint { table, .. }
        | Op::DropConstraint { table, .. }
        | Op::CreateIndex { table, .. }
        | Op::RenameConstraint { table, .. } => vec![table.key()],
        Op::Guarded { op } => touched_tables(op),
        _ => Vec::new(),
    }
}

/// Whether two tables have the same columns (names, types, nullability, in any order), primary
/// key, unique constraints, foreign keys (by columns) and index names.
fn same_table(a: &crate::schema::model::Table, b: &crate::schema::model::Table) -> bool {
    let columns = |t: &crate::schema::model::Table| {
        let mut c: Vec<(String, String, bool)> = t
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.to_string(), c.nullable))
            .collect();
        c.sort();
        c
    };
    let uniques = |t: &crate::schema::model::Table| {
        let mut u: Vec<Vec<String>> = t.uniques.iter().map(|u| u.columns.clone()).collect();
        u.sort();
        u
    };
    let foreign_keys = |t: &crate::schema::model::Table| {
        let mut f: Vec<Vec<String>> = t.foreign_keys.iter().map(|f| f.columns.clone()).collect();
        f.sort();
        f
    };
    let indexes = |t: &crate::schema::model::Table| {
        let mut i: Vec<String> = t.indexes.iter().map(|i| i.name.clone()).collect();
        i.sort();
        i
    };
    columns(a) == columns(b)
        && a.primary_key.as_ref().map(|k| &k.columns) == b.primary_key.as_ref().map(|k| &k.columns)
        && uniques(a) == uniques(b)
        && foreign_keys(a) == foreign_keys(b)
        && indexes(a) == indexes(b)
}

/// How many of `revision`'s operations reached the database: the longest prefix after which
/// every table the revision touches is, in the replay, exactly as it is live. `None` when no
/// prefix fits.
fn applied_prefix(
    revisions: &[Revision],
    graph: &RevisionGraph,
    revision: usize,
    live: &Schema,
) -> Option<usize> {
    let target = &revisions[revision];
    let touched: BTreeSet<TableKey> = target
        .upgrade
        .iter()
        .flat_map(|op| touched_tables(&op.op))
        .collect();
    if touched.is_empty() {
        return None;
    }
    let matches = |schema: &Schema| {
        touched.iter().all(
            |TableKey {
                 schema: schema_name,
                 name: table,
             }| {
                match (
                    schema.table(schema_name, table),
                    live.table(schema_name, table),
                ) {
                    (None, None) => true,
                    (Some(a), Some(b)) => same_table(a, b),
                    _ => false,
                }
            },
        )
    };
    let mut replayer = Replayer::new();
    let ancestors = graph.ancestors(revision);
    for index in graph.topological_order() {
        if index != revision && ancestors.contains(&index) {
            replayer.apply_revision(index, &revisions[index]);
        }
    }
    let mut best = matches(replayer.schema()).then_some(0);
    for (done, op_at) in target.upgrade.iter().enumerate() {
        replayer.apply(revision, &target.id, op_at);
        if matches(replayer.schema()) {
            best = Some(done + 1);
        }
    }
    best
}

/// For each operation of `revision`, whether the live schema has its effect, and, when it has,
/// what it still lacks ([`completion_of`]).
fn presence_of_ops(
    revisions: &[Revision],
    graph: &RevisionGraph,
    revision: usize,
    live: &Schema,
) -> Vec<(Option<bool>, Vec<String>)> {
    let mut replayer = Replayer::new();
    let ancestors = graph.ancestors(revision);
    for index in graph.topological_order() {
        if index != revision && ancestors.contains(&index) {
            replayer.apply_revision(index, &revisions[index]);
        }
    }
    let target = &revisions[revision];
    target
        .upgrade
        .iter()
        .map(|op_at| {
            replayer.apply(revision, &target.id, op_at);
            let present = op_present(&op_at.op, replayer.schema(), live);
            let completion = if present == Some(true) {
                completion_of(&op_at.op, replayer.schema(), live, &target.id)
            } else {
                Vec::new()
            };
            (present, completion)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(from: &[&str], to: &[&str]) -> VersionChange {
        VersionChange {
            table: TableKey::new("public", "alembic_version"),
            from: from.iter().map(|s| s.to_string()).collect(),
            to: to.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn version_updates_move_delete_and_insert_rows() {
        assert_eq!(
            version_update_sql(&change(&["0002"], &["0004"])),
            ["UPDATE public.alembic_version SET version_num = '0004' WHERE version_num = '0002';"]
        );
        assert_eq!(
            version_update_sql(&change(&["a", "b"], &["m"])),
            [
                "UPDATE public.alembic_version SET version_num = 'm' WHERE version_num = 'a';",
                "DELETE FROM public.alembic_version WHERE version_num = 'b';",
            ]
        );
        assert_eq!(
            version_update_sql(&change(&[], &["x"])),
            [
                "INSERT INTO public.alembic_version (version_num) SELECT 'x' WHERE NOT EXISTS (SELECT 1 FROM public.alembic_version WHERE version_num = 'x');"
            ]
        );
        assert!(version_update_sql(&change(&["x"], &["x"])).is_empty());
    }

    #[test]
    fn the_version_guard_compares_the_whole_table() {
        assert_eq!(
            versions_are_sql(
                &TableKey::new("public", "alembic_version"),
                &["b".into(), "a".into()]
            ),
            "COALESCE((SELECT array_agg(version_num::text ORDER BY version_num COLLATE \"C\") FROM public.alembic_version), ARRAY[]::text[]) = ARRAY['a', 'b']::text[]"
        );
    }
}
