//! Revisions' `upgrade()` rendered as the SQL PostgreSQL runs for it, the way
//! `alembic upgrade --sql` prints it: `CREATE TABLE` with `SERIAL`, identity, defaults and
//! constraints, `ALTER TABLE … ADD COLUMN`, `ALTER COLUMN … TYPE / SET NOT NULL / SET DEFAULT`,
//! constraints, indexes, renames, enum types and sequences, in the order the revision runs them.
//!
//! Each operation is rendered against the schema the replay has built up to it: whether a column
//! becomes `SERIAL`, which columns make the primary key, whether an index entry is a column or an
//! expression are read from the schema right after the operation, so the SQL and the replay
//! never disagree. Names are written as the migration writes them (a table without `schema=`
//! stays unqualified, as Alembic leaves it to the `search_path`).
//!
//! Invariant: nothing is dropped silently. An operation the replay cannot model becomes a
//! `-- not rendered: …` comment naming the revision, file and line, and so does data-changing SQL
//! that only exists at run time; SQL that `op.execute` passes through unmodelled (data, schemas,
//! functions) is rendered as written. A statement PostgreSQL
//! refuses inside a transaction (`CONCURRENTLY`, or anything inside
//! `op.get_context().autocommit_block()`) is marked [`Statement::outside_transaction`]. Every
//! identifier goes through [`quote_ident`], every string through [`quote_literal`].

use std::collections::BTreeSet;

use super::{quote_ident, quote_literal, quote_qualified};
use crate::alembic::Revision;
use crate::graph::RevisionGraph;
use crate::replay::{DEFAULT_SCHEMA, Replayer};
use crate::schema::model::{Column, Schema, Table, TableKey};
use crate::schema::names::{sqlalchemy_index_name, truncate_identifier};
use crate::schema::ops::{ColumnDef, Constraint, ConstraintKind, IndexDef, Op, OpAt, QualName};
use crate::source::{FileId, Sources, Span};

/// One statement of rendered SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// A complete statement ending in `;`, or a comment (`-- …`) saying what was not rendered.
    pub sql: String,
    /// PostgreSQL refuses it inside a transaction block (`CREATE INDEX CONCURRENTLY`, or an
    /// operation the revision runs in `autocommit_block()`).
    pub outside_transaction: bool,
}

impl Statement {
    fn sql(sql: String) -> Self {
        Statement {
            sql,
            outside_transaction: false,
        }
    }

    /// A comment rather than SQL to run.
    pub fn is_comment(&self) -> bool {
        self.sql.starts_with("--")
    }
}

/// The statements of one operation of a revision, and how to tell whether the database lacks
/// what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpSql {
    /// The operation's index in the revision's `upgrade`.
    pub op_index: usize,
    pub statements: Vec<Statement>,
    /// A SQL boolean expression that is true while the database does not have the operation's
    /// effect (`to_regclass('public.users') IS NULL` for a `CREATE TABLE`); `None` where no
    /// catalog query tells (a default, an unnamed constraint, an unmodelled operation).
    pub absent_condition: Option<String>,
}

/// A revision's `upgrade()` as SQL, operation by operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionSql {
    /// The revision's index in the revisions slice.
    pub revision: usize,
    pub ops: Vec<OpSql>,
}

impl RevisionSql {
    /// Every statement, in order.
    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        self.ops.iter().flat_map(|op| op.statements.iter())
    }
}

/// The DDL PostgreSQL runs for `op` when applied to a database shaped like `before`. An
/// [`Op::Unmodeled`] becomes a `-- not rendered: …` comment.
pub fn ops_sql(op: &Op, before: &Schema) -> Vec<Statement> {
    let mut replayer = Replayer::from_schema(before.clone());
    let op_at = OpAt {
        op: op.clone(),
        span: Span::new(FileId(0), 0..0),
        autocommit: false,
    };
    replayer.apply(0, "", &op_at);
    render_op(op, replayer.schema(), false)
        .into_iter()
        .map(|sql| Statement {
            outside_transaction: must_run_outside_transaction(op),
            sql,
        })
        .collect()
}

/// The `upgrade()` of each revision in `wanted`, in the order `alembic upgrade` runs them
/// (topological order), each rendered against the schema its ancestors build. Ancestors not in
/// `wanted` are replayed without being rendered.
pub fn render_revisions(
    revisions: &[Revision],
    graph: &RevisionGraph,
    sources: &Sources,
    wanted: &[usize],
) -> Vec<RevisionSql> {
    let mut needed = vec![false; revisions.len()];
    for &target in wanted {
        for ancestor in graph.ancestors(target) {
            if let Some(slot) = needed.get_mut(ancestor) {
                *slot = true;
            }
        }
    }
    let wanted: BTreeSet<usize> = wanted.iter().copied().collect();
    let mut replayer = Replayer::new();
    let mut rendered = Vec::new();
    for index in graph.topological_order() {
        if !needed.get(index).copied().unwrap_or(false) {
            continue;
        }
        let revision = &revisions[index];
        if !wanted.contains(&index) {
            replayer.apply_revision(index, revision);
            continue;
        }
        let mut ops = Vec::new();
        for (op_index, op_at) in revision.upgrade.iter().enumerate() {
            replayer.apply(index, &revision.id, op_at);
            let statements = match &op_at.op {
                Op::Unmodeled { what, .. } | Op::Passthrough { sql: None, what } => {
                    let place = sources.line_col(op_at.span.file, op_at.span.range.start);
                    vec![Statement::sql(super::comment_line(&format!(
                        "not rendered: {} (revision {}, {}:{})",
                        one_line(what),
                        revision.id,
                        sources.get(op_at.span.file).display,
                        place.line
                    )))]
                }
                op => render_op(op, replayer.schema(), false)
                    .into_iter()
                    .map(|sql| Statement {
                        outside_transaction: op_at.autocommit || must_run_outside_transaction(op),
                        sql,
                    })
                    .collect(),
            };
            ops.push(OpSql {
                op_index,
                statements,
                absent_condition: absent_condition(&op_at.op, replayer.schema()),
            });
        }
        rendered.push(RevisionSql {
            revision: index,
            ops,
        });
    }
    rendered
}

/// A comment stays on one line whatever the text it quotes.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn must_run_outside_transaction(op: &Op) -> bool {
    match op {
        Op::CreateIndex { concurrently, .. } => *concurrently,
        Op::Guarded { op } => must_run_outside_transaction(op),
        _ => false,
    }
}

/// A table, sequence or type name as the migration writes it: qualified only when it names a
/// schema.
fn written(name: &QualName) -> String {
    match &name.schema {
        Some(schema) => quote_qualified(schema, &name.name),
        None => quote_ident(&name.name).into_owned(),
    }
}

fn ident_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `IF NOT EXISTS ` / `IF EXISTS ` for an operation written with a guard.
fn guard(guarded: bool, exists: bool) -> &'static str {
    match (guarded, exists) {
        (false, _) => "",
        (true, true) => "IF EXISTS ",
        (true, false) => "IF NOT EXISTS ",
    }
}

/// The statements of one modelled operation; `after` is the schema with the operation applied.
fn render_op(op: &Op, after: &Schema, guarded: bool) -> Vec<String> {
    match op {
        Op::CreateTable {
            table,
            columns,
            constraints,
            indexes,
        } => create_table(table, columns, constraints, indexes, after, guarded),
        Op::DropTable { table } => vec![format!(
            "DROP TABLE {}{};",
            guard(guarded, true),
            written(table)
        )],
        Op::RenameTable { table, new_name } => vec![format!(
            "ALTER TABLE {} RENAME TO {};",
            written(table),
            quote_ident(new_name)
        )],
        Op::AddColumn { table, column } => add_column(table, column, after, guarded),
        Op::DropColumn { table, column } => vec![format!(
            "ALTER TABLE {} DROP COLUMN {}{};",
            written(table),
            guard(guarded, true),
            quote_ident(column)
        )],
        Op::AlterColumn {
            table,
            column,
            new_type,
            nullable,
            server_default,
            new_name,
        } => {
            // Alembic's order: the type, the nullability, the default, then the new name.
            let target = written(table);
            let column_sql = quote_ident(column);
            let mut out = Vec::new();
            if let Some(ty) = new_type {
                out.push(format!(
                    "ALTER TABLE {target} ALTER COLUMN {column_sql} TYPE {ty};"
                ));
            }
            if let Some(nullable) = nullable {
                out.push(format!(
                    "ALTER TABLE {target} ALTER COLUMN {column_sql} {} NOT NULL;",
                    if *nullable { "DROP" } else { "SET" }
                ));
            }
            match server_default {
                Some(Some(expression)) => out.push(format!(
                    "ALTER TABLE {target} ALTER COLUMN {column_sql} SET DEFAULT {expression};"
                )),
                Some(None) => out.push(format!(
                    "ALTER TABLE {target} ALTER COLUMN {column_sql} DROP DEFAULT;"
                )),
                None => {}
            }
            if let Some(new_name) = new_name {
                out.push(format!(
                    "ALTER TABLE {target} RENAME {column_sql} TO {};",
                    quote_ident(new_name)
                ));
            }
            out
        }
        Op::AddConstraint { table, constraint } => vec![format!(
            "ALTER TABLE {} ADD {};",
            written(table),
            constraint_sql(constraint)
        )],
        Op::DropConstraint { table, name, .. } => vec![format!(
            "ALTER TABLE {} DROP CONSTRAINT {}{};",
            written(table),
            guard(guarded, true),
            quote_ident(name)
        )],
        Op::CreateIndex {
            table,
            index,
            concurrently,
        } => vec![create_index(table, index, *concurrently, after, guarded)],
        Op::DropIndex { schema, name, .. } => vec![format!(
            "DROP INDEX {}{};",
            guard(guarded, true),
            match schema {
                Some(schema) => quote_qualified(schema, name),
                None => quote_ident(name).into_owned(),
            }
        )],
        Op::CreateSequence {
            name,
            start,
            increment,
        } => {
            let mut sql = format!("CREATE SEQUENCE {}{}", guard(guarded, false), written(name));
            if let Some(increment) = increment {
                sql.push_str(&format!(" INCREMENT BY {increment}"));
            }
            if let Some(start) = start {
                sql.push_str(&format!(" START WITH {start}"));
            }
            sql.push(';');
            vec![sql]
        }
        Op::DropSequence { name } => vec![format!(
            "DROP SEQUENCE {}{};",
            guard(guarded, true),
            written(name)
        )],
        Op::CreateEnum { name, values } => {
            let labels: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
            vec![format!(
                "CREATE TYPE {} AS ENUM ({});",
                written(name),
                labels.join(", ")
            )]
        }
        Op::DropEnum { name } => vec![format!(
            "DROP TYPE {}{};",
            guard(guarded, true),
            written(name)
        )],
        Op::RenameIndex {
            schema,
            name,
            new_name,
        } => vec![format!(
            "ALTER INDEX {} RENAME TO {};",
            match schema {
                Some(schema) => quote_qualified(schema, name),
                None => quote_ident(name).into_owned(),
            },
            quote_ident(new_name)
        )],
        Op::RenameConstraint {
            table,
            name,
            new_name,
        } => vec![format!(
            "ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
            written(table),
            quote_ident(name),
            quote_ident(new_name)
        )],
        Op::SetSequenceOwner { name, owner } => vec![format!(
            "ALTER SEQUENCE {} OWNED BY {};",
            written(name),
            match owner {
                Some((table, column)) => format!("{}.{}", written(table), quote_ident(column)),
                None => "NONE".to_owned(),
            }
        )],
        Op::Guarded { op } => render_op(op, after, true),
        Op::Passthrough { sql: Some(sql), .. } => vec![sql.clone()],
        Op::Unmodeled { what, .. } | Op::Passthrough { sql: None, what } => {
            vec![super::comment_line(&format!(
                "not rendered: {}",
                one_line(what)
            ))]
        }
    }
}

/// A constraint as `ALTER TABLE … ADD` and `CREATE TABLE` write it, named only when the migration
/// names it (PostgreSQL then picks the name the replay picked).
fn constraint_sql(constraint: &Constraint) -> String {
    let named = |name: &Option<String>| match name {
        Some(name) => format!("CONSTRAINT {} ", quote_ident(name)),
        None => String::new(),
    };
    match constraint {
        Constraint::PrimaryKey { name, columns } => {
            format!("{}PRIMARY KEY ({})", named(name), ident_list(columns))
        }
        Constraint::Unique { name, columns } => {
            format!("{}UNIQUE ({})", named(name), ident_list(columns))
        }
        Constraint::ForeignKey {
            name,
            columns,
            ref_table,
            ref_columns,
            on_delete,
            on_update,
        } => {
            let mut sql = format!(
                "{}FOREIGN KEY({}) REFERENCES {}",
                named(name),
                ident_list(columns),
                written(ref_table)
            );
            if !ref_columns.is_empty() {
                sql.push_str(&format!(" ({})", ident_list(ref_columns)));
            }
            if let Some(action) = on_delete {
                sql.push_str(&format!(" ON DELETE {action}"));
            }
            if let Some(action) = on_update {
                sql.push_str(&format!(" ON UPDATE {action}"));
            }
            sql
        }
        Constraint::Check { name, sql } => format!("{}CHECK ({sql})", named(name)),
    }
}

/// Whether the model's column is fed by a sequence through `nextval()` as its default, without
/// the migration giving that default: SQLAlchemy wrote it as `SERIAL`.
fn is_serial(def: &ColumnDef, model: &Column) -> bool {
    def.identity.is_none()
        && def.server_default.is_none()
        && model.identity.is_none()
        && model.sequence.is_some()
        && model
            .default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("))
}

/// A column definition: name, type (`SERIAL` where SQLAlchemy makes one), identity, default and
/// `NOT NULL`, as SQLAlchemy's PostgreSQL dialect writes it.
fn column_sql(def: &ColumnDef, model: Option<&Column>) -> String {
    let mut sql = format!("{} ", quote_ident(&def.name));
    let ty = model.map_or(&def.ty, |m| &m.ty);
    match model {
        Some(model) if is_serial(def, model) => sql.push_str(match ty.name.as_str() {
            "bigint" => "BIGSERIAL",
            "smallint" => "SMALLSERIAL",
            _ => "SERIAL",
        }),
        _ => sql.push_str(&ty.to_string()),
    }
    if let Some(identity) = &def.identity {
        sql.push_str(if identity.always {
            " GENERATED ALWAYS AS IDENTITY"
        } else {
            " GENERATED BY DEFAULT AS IDENTITY"
        });
        let mut options = Vec::new();
        if let Some(increment) = identity.increment {
            options.push(format!("INCREMENT BY {increment}"));
        }
        if let Some(start) = identity.start {
            options.push(format!("START WITH {start}"));
        }
        if !options.is_empty() {
            sql.push_str(&format!(" ({})", options.join(" ")));
        }
    } else if let Some(default) = &def.server_default {
        sql.push_str(" DEFAULT ");
        sql.push_str(default);
    }
    let nullable = match model {
        Some(model) => model.nullable,
        None => def.nullable.unwrap_or(!def.primary_key),
    };
    if !nullable && def.identity.is_none() {
        sql.push_str(" NOT NULL");
    }
    sql
}

fn model_table<'a>(after: &'a Schema, table: &QualName) -> Option<&'a Table> {
    let TableKey { schema, name } = table.key();
    after.table(&schema, &name)
}

fn create_table(
    table: &QualName,
    columns: &[ColumnDef],
    constraints: &[Constraint],
    indexes: &[IndexDef],
    after: &Schema,
    guarded: bool,
) -> Vec<String> {
    let model = model_table(after, table);
    let model_column =
        |def: &ColumnDef| model.and_then(|t| t.column(&truncate_identifier(&def.name)));
    let mut elements: Vec<String> = columns
        .iter()
        .map(|def| column_sql(def, model_column(def)))
        .collect();

    // The primary key as the replay settled it (explicit constraint or column flags, the
    // autoincrement column first), under the name the migration gives, if any.
    let pk_name = constraints.iter().rev().find_map(|c| match c {
        Constraint::PrimaryKey { name, .. } => Some(name.clone()),
        _ => None,
    });
    let pk_columns: Vec<String> = match model.and_then(|t| t.primary_key.as_ref()) {
        Some(pk) => pk.columns.clone(),
        None => columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect(),
    };
    if !pk_columns.is_empty() {
        elements.push(constraint_sql(&Constraint::PrimaryKey {
            name: pk_name.flatten(),
            columns: pk_columns,
        }));
    }
    for constraint in constraints {
        if constraint.kind() != ConstraintKind::PrimaryKey {
            elements.push(constraint_sql(constraint));
        }
    }
    // Constraints from column flags come after the ones given to `create_table`: SQLAlchemy
    // creates them when the column joins the table, after the arguments were built.
    for def in columns {
        if def.unique && !def.index {
            elements.push(constraint_sql(&Constraint::Unique {
                name: None,
                columns: vec![def.name.clone()],
            }));
        }
        for reference in &def.foreign_keys {
            elements.push(constraint_sql(&Constraint::ForeignKey {
                name: reference.name.clone(),
                columns: vec![def.name.clone()],
                ref_table: reference.table.clone(),
                ref_columns: vec![reference.column.clone()],
                on_delete: reference.on_delete.clone(),
                on_update: reference.on_update.clone(),
            }));
        }
    }
    let mut out = vec![format!(
        "CREATE TABLE {}{} (\n    {}\n);",
        guard(guarded, false),
        written(table),
        elements.join(",\n    ")
    )];
    for def in columns.iter().filter(|def| def.index) {
        out.push(create_index(
            table,
            &flag_index(table, def),
            false,
            after,
            false,
        ));
    }
    for index in indexes {
        out.push(create_index(table, index, false, after, false));
    }
    out
}

/// The index `index=True` on a column makes, named by SQLAlchemy's convention.
fn flag_index(table: &QualName, def: &ColumnDef) -> IndexDef {
    IndexDef {
        name: Some(sqlalchemy_index_name(
            table.schema.as_deref(),
            &table.name,
            &def.name,
        )),
        columns: vec![def.name.clone()],
        unique: def.unique,
        ..Default::default()
    }
}

fn add_column(table: &QualName, def: &ColumnDef, after: &Schema, guarded: bool) -> Vec<String> {
    let model = model_table(after, table).and_then(|t| t.column(&truncate_identifier(&def.name)));
    let target = written(table);
    let mut out = vec![format!(
        "ALTER TABLE {target} ADD COLUMN {}{};",
        guard(guarded, false),
        column_sql(def, model)
    )];
    // Alembic adds what the column's flags make with their own statements.
    if def.index {
        out.push(create_index(
            table,
            &flag_index(table, def),
            false,
            after,
            false,
        ));
    } else if def.unique {
        out.push(format!(
            "ALTER TABLE {target} ADD {};",
            constraint_sql(&Constraint::Unique {
                name: None,
                columns: vec![def.name.clone()],
            })
        ));
    }
    for reference in &def.foreign_keys {
        out.push(format!(
            "ALTER TABLE {target} ADD {};",
            constraint_sql(&Constraint::ForeignKey {
                name: reference.name.clone(),
                columns: vec![def.name.clone()],
                ref_table: reference.table.clone(),
                ref_columns: vec![reference.column.clone()],
                on_delete: reference.on_delete.clone(),
                on_update: reference.on_update.clone(),
            })
        ));
    }
    out
}

fn create_index(
    table: &QualName,
    index: &IndexDef,
    concurrently: bool,
    after: &Schema,
    guarded: bool,
) -> String {
    let columns: BTreeSet<&str> = model_table(after, table)
        .map(|t| t.columns.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    let entries: Vec<String> = index
        .columns
        .iter()
        .map(|entry| {
            if columns.contains(entry.as_str()) || columns.is_empty() && is_plain_name(entry) {
                quote_ident(entry).into_owned()
            } else {
                entry.clone()
            }
        })
        .collect();
    let name = index
        .name
        .as_deref()
        .map(|n| format!("{} ", quote_ident(n)))
        .unwrap_or_default();
    format!(
        "CREATE {}INDEX {}{}{name}ON {} ({});",
        if index.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        guard(guarded, false),
        written(table),
        entries.join(", ")
    )
}

fn is_plain_name(entry: &str) -> bool {
    entry.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `to_regclass('schema.name')`: the relation, or NULL where there is none.
fn regclass(schema: &str, name: &str) -> String {
    format!(
        "to_regclass({})",
        quote_literal(&quote_qualified(schema, name))
    )
}

/// A SQL boolean: the column exists.
pub fn column_exists_sql(schema: &str, table: &str, column: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = {} AND attname = {} \
         AND attnum > 0 AND NOT attisdropped)",
        regclass(schema, table),
        quote_literal(column)
    )
}

/// A SQL boolean: the table has a constraint of that name.
fn constraint_exists_sql(schema: &str, table: &str, name: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = {} AND conname = {})",
        regclass(schema, table),
        quote_literal(name)
    )
}

/// A SQL boolean that holds while the database lacks the effect of `op` (read in `after`, the
/// schema with the operation applied).
pub(crate) fn absent_condition(op: &Op, after: &Schema) -> Option<String> {
    match op {
        Op::CreateTable { table, .. } => {
            let TableKey { schema, name } = table.key();
            Some(format!("{} IS NULL", regclass(&schema, &name)))
        }
        Op::DropTable { table } => {
            let TableKey { schema, name } = table.key();
            Some(format!("{} IS NOT NULL", regclass(&schema, &name)))
        }
        Op::RenameTable { table, new_name } => {
            let TableKey { schema, name: _ } = table.key();
            Some(format!(
                "{} IS NULL",
                regclass(&schema, &truncate_identifier(new_name))
            ))
        }
        Op::AddColumn { table, column } => {
            let TableKey { schema, name } = table.key();
            Some(format!(
                "NOT {}",
                column_exists_sql(&schema, &name, &truncate_identifier(&column.name))
            ))
        }
        Op::DropColumn { table, column } => {
            let TableKey { schema, name } = table.key();
            Some(column_exists_sql(
                &schema,
                &name,
                &truncate_identifier(column),
            ))
        }
        Op::AlterColumn {
            table,
            column,
            new_type,
            nullable,
            new_name,
            ..
        } => {
            let TableKey { schema, name } = table.key();
            let final_name = truncate_identifier(new_name.as_deref().unwrap_or(column));
            if new_name.is_some() {
                return Some(format!(
                    "NOT {}",
                    column_exists_sql(&schema, &name, &final_name)
                ));
            }
            let attribute = |what: &str| {
                format!(
                    "(SELECT {what} FROM pg_catalog.pg_attribute WHERE attrelid = {} AND \
                     attname = {} AND attnum > 0 AND NOT attisdropped)",
                    regclass(&schema, &name),
                    quote_literal(&final_name)
                )
            };
            let model_type = after
                .table(&schema, &name)
                .and_then(|t| t.column(&final_name))
                .map(|c| c.ty.to_string());
            let mut parts = Vec::new();
            if new_type.is_some()
                && let Some(ty) = model_type
            {
                parts.push(format!(
                    "{} IS DISTINCT FROM {}",
                    attribute("format_type(atttypid, atttypmod)"),
                    quote_literal(&ty)
                ));
            }
            if let Some(nullable) = nullable {
                parts.push(format!(
                    "{} IS DISTINCT FROM {}",
                    attribute("attnotnull"),
                    !nullable
                ));
            }
            (!parts.is_empty()).then(|| parts.join(" OR "))
        }
        Op::AddConstraint { table, constraint } => {
            let TableKey { schema, name } = table.key();
            let constraint_name = match constraint {
                Constraint::PrimaryKey { name, .. }
                | Constraint::Unique { name, .. }
                | Constraint::ForeignKey { name, .. }
                | Constraint::Check { name, .. } => name.as_deref()?,
            };
            Some(format!(
                "NOT {}",
                constraint_exists_sql(&schema, &name, &truncate_identifier(constraint_name))
            ))
        }
        Op::DropConstraint {
            table,
            name: constraint,
            ..
        } => {
            let TableKey { schema, name } = table.key();
            Some(constraint_exists_sql(
                &schema,
                &name,
                &truncate_identifier(constraint),
            ))
        }
        Op::CreateIndex { table, index, .. } => {
            let TableKey { schema, name: _ } = table.key();
            let name = index.name.as_deref()?;
            Some(format!(
                "{} IS NULL",
                regclass(&schema, &truncate_identifier(name))
            ))
        }
        Op::DropIndex {
            schema,
            name,
            table,
        } => {
            let schema = schema
                .clone()
                .or_else(|| table.as_ref().and_then(|t| t.schema.clone()))
                .unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
            Some(format!(
                "{} IS NOT NULL",
                regclass(&schema, &truncate_identifier(name))
            ))
        }
        Op::CreateSequence { name, .. } => {
            let TableKey { schema, name } = name.key();
            Some(format!("{} IS NULL", regclass(&schema, &name)))
        }
        Op::DropSequence { name } => {
            let TableKey { schema, name } = name.key();
            Some(format!("{} IS NOT NULL", regclass(&schema, &name)))
        }
        Op::CreateEnum { name, .. } => {
            let TableKey { schema, name } = name.key();
            Some(format!(
                "to_regtype({}) IS NULL",
                quote_literal(&quote_qualified(&schema, &name))
            ))
        }
        Op::DropEnum { name } => {
            let TableKey { schema, name } = name.key();
            Some(format!(
                "to_regtype({}) IS NOT NULL",
                quote_literal(&quote_qualified(&schema, &name))
            ))
        }
        Op::Guarded { op } => absent_condition(op, after),
        Op::RenameIndex { .. }
        | Op::RenameConstraint { .. }
        | Op::SetSequenceOwner { .. }
        | Op::Passthrough { .. }
        | Op::Unmodeled { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ops::{ForeignKeyRef, IdentitySpec};
    use crate::schema::types::PgType;

    fn col(name: &str, ty: &str) -> ColumnDef {
        ColumnDef::new(name, PgType::parse(ty).expect("test type parses"))
    }

    fn sql(op: Op, before: &Schema) -> Vec<String> {
        ops_sql(&op, before).into_iter().map(|s| s.sql).collect()
    }

    fn schema_after(ops: Vec<Op>) -> Schema {
        let mut replayer = Replayer::new();
        for op in ops {
            replayer.apply(
                0,
                "r",
                &OpAt {
                    op,
                    span: Span::new(FileId(0), 0..0),
                    autocommit: false,
                },
            );
        }
        replayer.finish().schema
    }

    fn users() -> Op {
        let mut id = col("id", "bigint");
        id.primary_key = true;
        let mut email = col("email", "varchar(120)");
        email.nullable = Some(false);
        email.unique = true;
        let mut team = col("team_id", "integer");
        team.foreign_keys.push(ForeignKeyRef {
            name: None,
            table: QualName::new(None, "teams"),
            column: "id".into(),
            on_delete: Some("CASCADE".into()),
            on_update: None,
        });
        team.index = true;
        let mut guest = col("is_guest", "boolean");
        guest.server_default = Some("false".into());
        guest.nullable = Some(false);
        Op::CreateTable {
            table: QualName::new(None, "users"),
            columns: vec![id, email, team, guest],
            constraints: vec![Constraint::Check {
                name: Some("ck_email".into()),
                sql: "email <> ''".into(),
            }],
            indexes: vec![IndexDef {
                name: Some("ix_lower_email".into()),
                columns: vec!["lower(email)".into()],
                unique: true,
                ..Default::default()
            }],
        }
    }

    #[test]
    fn create_table_reads_serial_and_key_from_the_replay() {
        let teams = Op::CreateTable {
            table: QualName::new(None, "teams"),
            columns: vec![{
                let mut id = col("id", "integer");
                id.primary_key = true;
                id
            }],
            constraints: vec![],
            indexes: vec![],
        };
        let before = schema_after(vec![teams]);
        assert_eq!(
            sql(users(), &before),
            [
                "CREATE TABLE users (\n    id BIGSERIAL NOT NULL,\n    email character varying(120) NOT NULL,\n    team_id integer,\n    is_guest boolean DEFAULT false NOT NULL,\n    PRIMARY KEY (id),\n    CONSTRAINT ck_email CHECK (email <> ''),\n    UNIQUE (email),\n    FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE CASCADE\n);",
                "CREATE INDEX ix_users_team_id ON users (team_id);",
                "CREATE UNIQUE INDEX ix_lower_email ON users (lower(email));",
            ]
        );
    }

    #[test]
    fn identity_columns_keep_their_options() {
        let mut id = col("id", "bigint");
        id.primary_key = true;
        id.identity = Some(IdentitySpec {
            always: true,
            start: Some(100),
            increment: Some(-2),
        });
        let op = Op::CreateTable {
            table: QualName::new(Some("Audit"), "events"),
            columns: vec![id],
            constraints: vec![],
            indexes: vec![],
        };
        assert_eq!(
            sql(op, &Schema::default()),
            [
                "CREATE TABLE \"Audit\".events (\n    id bigint GENERATED ALWAYS AS IDENTITY (INCREMENT BY -2 START WITH 100),\n    PRIMARY KEY (id)\n);"
            ]
        );
    }

    #[test]
    fn alter_column_follows_alembics_order() {
        let before = schema_after(vec![users()]);
        let op = Op::AlterColumn {
            table: QualName::new(None, "users"),
            column: "email".into(),
            new_type: Some(PgType::parse("text").expect("type")),
            nullable: Some(true),
            server_default: Some(Some("'x'".into())),
            new_name: Some("user".into()),
        };
        assert_eq!(
            sql(op, &before),
            [
                "ALTER TABLE users ALTER COLUMN email TYPE text;",
                "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;",
                "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x';",
                "ALTER TABLE users RENAME email TO \"user\";",
            ]
        );
    }

    #[test]
    fn concurrent_indexes_run_outside_the_transaction() {
        let before = schema_after(vec![users()]);
        let statements = ops_sql(
            &Op::CreateIndex {
                table: QualName::new(None, "users"),
                index: IndexDef {
                    name: Some("ix_users_guest".into()),
                    columns: vec!["is_guest".into()],
                    unique: false,
                    ..Default::default()
                },
                concurrently: true,
            },
            &before,
        );
        assert_eq!(
            statements,
            [Statement {
                sql: "CREATE INDEX CONCURRENTLY ix_users_guest ON users (is_guest);".into(),
                outside_transaction: true
            }]
        );
    }

    #[test]
    fn guarded_operations_keep_their_guard() {
        let before = schema_after(vec![users()]);
        let op = Op::Guarded {
            op: Box::new(Op::AddColumn {
                table: QualName::new(None, "users"),
                column: col("note", "text"),
            }),
        };
        assert_eq!(
            sql(op, &before),
            ["ALTER TABLE users ADD COLUMN IF NOT EXISTS note text;"]
        );
    }

    #[test]
    fn unmodeled_operations_become_comments() {
        let op = Op::Unmodeled {
            what: "op.add_column inside a\nfor loop".into(),
            tables: vec![],
        };
        let statements = ops_sql(&op, &Schema::default());
        assert_eq!(
            statements[0].sql,
            "-- not rendered: op.add_column inside a for loop"
        );
        assert!(statements[0].is_comment());
    }

    #[test]
    fn absent_conditions_name_the_catalog_objects() {
        let after = schema_after(vec![users()]);
        assert_eq!(
            absent_condition(&users(), &after).as_deref(),
            Some("to_regclass('public.users') IS NULL")
        );
        let add = Op::AddColumn {
            table: QualName::new(None, "users"),
            column: col("Note", "text"),
        };
        assert_eq!(
            absent_condition(&add, &after).as_deref(),
            Some(
                "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = \
                 to_regclass('public.users') AND attname = 'Note' AND attnum > 0 AND NOT \
                 attisdropped)"
            )
        );
    }
}
