//! Replaying migrations: every revision's `upgrade()` operations, applied in topological order to
//! a [`Schema`], with the implicit objects SQLAlchemy's PostgreSQL dialect and PostgreSQL itself
//! create (serial sequences, identity sequences, default constraint and index names).
//!
//! Invariant: replay never panics and never guesses silently. An operation that does not fit the
//! model built so far (dropping a column that does not exist, creating a table twice, making a
//! primary key column nullable) is skipped, or applied as far as it can be, and recorded as a
//! [`ReplayProblem`] with the revision and span of the operation. The schema is changed in place:
//! nothing is cloned per revision, so replaying thousands of revisions stays cheap.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::alembic::Revision;
use crate::graph::RevisionGraph;
use crate::quote::{quote_ident, quote_qualified};
use crate::schema::model::{
    CheckConstraint, Column, DEFAULT_INDEX_METHOD, ForeignKey, ForeignKeyAction, IdentityKind,
    Index, NamePair, Origin, PrimaryKey, Schema, Sequence, Table, TableKey, UniqueConstraint,
};
use crate::schema::names::{
    candidate_names, column_names_addition, sqlalchemy_index_name, truncate_identifier,
};
use crate::schema::ops::{
    Autoincrement, ColumnDef, Constraint, ConstraintKind, ForeignKeyRef, IndexDef, Op, OpAt,
    QualName,
};
use crate::schema::sql::{referenced_identifiers, rename_identifier};
use crate::schema::types::PgType;
use crate::source::Span;

mod columns;
mod constraints;
mod namespace;
mod sequences;
mod tables;
#[cfg(test)]
mod tests;

use namespace::*;

pub use crate::schema::model::DEFAULT_SCHEMA;

/// An operation that does not fit the schema built by the revisions before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayProblem {
    /// The id of the revision holding the operation.
    pub revision: String,
    /// The index of that revision in the slice given to [`replay`].
    pub revision_index: usize,
    /// The operation.
    pub span: Span,
    /// What does not fit, naming the object: `public.users.email does not exist`.
    pub message: String,
}

/// The schema the migrations produce, and what in them did not fit.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    pub schema: Schema,
    pub problems: Vec<ReplayProblem>,
}

/// Replays every revision that `targets` need (their ancestors through `down_revision` and
/// `depends_on`, the targets included) in topological order, and nothing else.
pub fn replay(revisions: &[Revision], graph: &RevisionGraph, targets: &[usize]) -> Replay {
    let mut wanted = vec![false; revisions.len()];
    for &target in targets {
        for ancestor in graph.ancestors(target) {
            if let Some(slot) = wanted.get_mut(ancestor) {
                *slot = true;
            }
        }
    }
    let mut replayer = Replayer::new();
    for index in graph.topological_order() {
        if wanted.get(index).copied().unwrap_or(false) {
            replayer.apply_revision(index, &revisions[index]);
        }
    }
    replayer.finish()
}

/// Replays up to every head of the graph.
pub fn replay_heads(revisions: &[Revision], graph: &RevisionGraph) -> Replay {
    replay(revisions, graph, &graph.heads)
}

/// Where the operation being applied is written.
#[derive(Clone, Copy)]
struct At<'a> {
    revision: &'a str,
    revision_index: usize,
    span: &'a Span,
}

impl At<'_> {
    fn origin(&self) -> Origin {
        Origin {
            revision: self.revision.to_owned(),
            span: self.span.clone(),
        }
    }
}

/// Applies operations one at a time to a schema it owns. [`replay`] drives it over a graph;
/// callers that need the schema between revisions can drive it themselves.
#[derive(Debug, Default)]
pub struct Replayer {
    schema: Schema,
    problems: Vec<ReplayProblem>,
    names: Namespaces,
}

/// A short way of saying "the operation does not fit": the message of a [`ReplayProblem`].
type Misfit = Result<(), String>;

impl Replayer {
    /// A replayer starting from an empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// A replayer starting from `schema` (for instance the schema at some earlier revision).
    pub fn from_schema(schema: Schema) -> Self {
        let names = Namespaces::of(&schema);
        Replayer {
            schema,
            problems: Vec::new(),
            names,
        }
    }

    /// The schema as far as it has been replayed.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The problems found so far.
    pub fn problems(&self) -> &[ReplayProblem] {
        &self.problems
    }

    pub fn finish(self) -> Replay {
        Replay {
            schema: self.schema,
            problems: self.problems,
        }
    }

    /// Applies every operation of `revision`'s `upgrade()`; `index` is its index in the
    /// revisions slice, for the problems it may raise.
    pub fn apply_revision(&mut self, index: usize, revision: &Revision) {
        for op in &revision.upgrade {
            self.apply(index, &revision.id, op);
        }
    }

    /// Applies one operation.
    pub fn apply(&mut self, revision_index: usize, revision_id: &str, op: &OpAt) {
        let at = At {
            revision: revision_id,
            revision_index,
            span: &op.span,
        };
        if let Err(message) = self.apply_op(at, &op.op) {
            self.problem(at, message);
        }
    }

    fn problem(&mut self, at: At<'_>, message: String) {
        self.problems.push(ReplayProblem {
            revision: at.revision.to_owned(),
            revision_index: at.revision_index,
            span: at.span.clone(),
            message,
        });
    }

    fn apply_op(&mut self, at: At<'_>, op: &Op) -> Misfit {
        match op {
            Op::CreateTable {
                table,
                columns,
                constraints,
                indexes,
            } => self.create_table(at, table, columns, constraints, indexes),
            Op::DropTable { table } => self.drop_table(table),
            Op::RenameTable { table, new_name } => self.rename_table(table, new_name),
            Op::AddColumn { table, column } => self.add_column(at, table, column),
            Op::DropColumn { table, column } => self.drop_column(table, column),
            Op::AlterColumn {
                table,
                column,
                new_type,
                nullable,
                server_default,
                new_name,
            } => self.alter_column(
                at,
                table,
                column,
                new_type.as_ref(),
                *nullable,
                server_default.as_ref().map(Option::as_deref),
                new_name.as_deref(),
            ),
            Op::AddConstraint { table, constraint } => {
                let TableKey { schema, name } = table.key();
                self.require_table(&schema, &name)?;
                self.add_constraint(at, &schema, &name, constraint)
            }
            Op::DropConstraint { table, name, kind } => self.drop_constraint(table, name, *kind),
            Op::CreateIndex { table, index, .. } => {
                let TableKey { schema, name } = table.key();
                self.require_table(&schema, &name)?;
                self.create_index(at, &schema, &name, table.schema.as_deref(), index)
            }
            Op::DropIndex {
                schema,
                name,
                table,
            } => self.drop_index(schema.as_deref(), name, table.as_ref()),
            Op::RenameIndex {
                schema,
                name,
                new_name,
            } => self.rename_index(schema.as_deref(), name, new_name),
            Op::RenameConstraint {
                table,
                name,
                new_name,
            } => self.rename_constraint(table, name, new_name),
            Op::CreateSequence {
                name,
                start,
                increment,
            } => self.create_sequence(name, *start, *increment),
            Op::DropSequence { name } => self.drop_sequence(name),
            Op::SetSequenceOwner { name, owner } => self.set_sequence_owner(name, owner.as_ref()),
            Op::CreateEnum { name, values } => {
                let key = name.key();
                if self.schema.enums.contains_key(&key) {
                    return Err(format!("type {} already exists", display_key(&key)));
                }
                self.schema.enums.insert(key.clone(), values.clone());
                self.schema.enum_origins.insert(key, at.origin());
                Ok(())
            }
            Op::DropEnum { name } => self.drop_enum(name),
            Op::Guarded { op } => {
                if self.already_done(op) {
                    Ok(())
                } else {
                    self.apply_op(at, op)
                }
            }
            // Another rule reports what the replay cannot follow; passed-through SQL changes
            // nothing the model holds.
            Op::Unmodeled { .. } | Op::Passthrough { .. } => Ok(()),
        }
    }

    /// Whether an operation written with `IF [NOT] EXISTS` finds its work already done.
    fn already_done(&self, op: &Op) -> bool {
        match op {
            Op::CreateTable { table, .. } => {
                let TableKey { schema, name } = table.key();
                self.names.relation_taken(&schema, &name)
            }
            Op::DropTable { table } => {
                let TableKey { schema, name } = table.key();
                !self.names.relation_taken(&schema, &name)
            }
            Op::AddColumn { table, column } => {
                let TableKey { schema, name } = table.key();
                self.schema
                    .table(&schema, &name)
                    .is_some_and(|t| t.column(&truncate_identifier(&column.name)).is_some())
            }
            Op::DropColumn { table, column } => {
                let TableKey { schema, name } = table.key();
                self.schema
                    .table(&schema, &name)
                    .is_some_and(|t| t.column(&truncate_identifier(column)).is_none())
            }
            Op::DropConstraint { table, name, .. } => {
                let TableKey {
                    schema,
                    name: table_name,
                } = table.key();
                self.schema
                    .table(&schema, &table_name)
                    .is_some_and(|t| constraint_kind_of(t, name).is_none())
            }
            Op::CreateIndex { table, index, .. } => {
                let TableKey { schema, name: _ } = table.key();
                index
                    .name
                    .as_deref()
                    .is_some_and(|name| self.names.relation_taken(&schema, name))
            }
            Op::DropIndex {
                schema,
                name,
                table,
            } => {
                let schema = index_schema(schema.as_deref(), table.as_ref());
                !self.names.relation_taken(&schema, name)
            }
            Op::CreateSequence { name, .. } => {
                let TableKey { schema, name } = name.key();
                self.names.relation_taken(&schema, &name)
            }
            Op::DropSequence { name } | Op::SetSequenceOwner { name, .. } => {
                !self.schema.sequences.contains_key(&name.key())
            }
            Op::CreateEnum { name, .. } => self.schema.enums.contains_key(&name.key()),
            Op::DropEnum { name } => !self.schema.enums.contains_key(&name.key()),
            Op::Guarded { op } => self.already_done(op),
            _ => false,
        }
    }
}

pub(super) fn display_key(key: &TableKey) -> String {
    quote_qualified(&key.schema, &key.name)
}

/// The name a column's [`PgType`] carries for an enum, as `format_type()` prints it.
pub(super) fn enum_type_name(key: &TableKey) -> String {
    PgType::user_defined(Some(&key.schema), &key.name).name
}

/// The schema an index is looked up in: the one given, else its table's, else the default.
pub(super) fn index_schema(schema: Option<&str>, table: Option<&QualName>) -> String {
    schema
        .or_else(|| table.and_then(|t| t.schema.as_deref()))
        .unwrap_or(DEFAULT_SCHEMA)
        .to_owned()
}

/// The kind of the constraint called `name` on `table`, if it has one.
pub(super) fn constraint_kind_of(table: &Table, name: &str) -> Option<ConstraintKind> {
    if table.primary_key.as_ref().is_some_and(|pk| pk.name == name) {
        Some(ConstraintKind::PrimaryKey)
    } else if table.uniques.iter().any(|u| u.name == name) {
        Some(ConstraintKind::Unique)
    } else if table.foreign_keys.iter().any(|fk| fk.name == name) {
        Some(ConstraintKind::ForeignKey)
    } else if table.checks.iter().any(|c| c.name == name) {
        Some(ConstraintKind::Check)
    } else {
        None
    }
}

/// A type as PostgreSQL records it: it keeps no array dimensions, so `integer[][]` is
/// `integer[]`.
pub(super) fn normalise_type(ty: &PgType) -> PgType {
    let mut ty = ty.clone();
    ty.array_dims = ty.array_dims.min(1);
    ty
}

/// SQLAlchemy's rule for the column that autoincrements (`PrimaryKeyConstraint.
/// _autoincrement_column`): the lone primary key column when its autoincrement is `"auto"` and it
/// is an integer (or numeric) column without a server default or foreign key; among several
/// primary key columns only one marked `autoincrement=True`.
pub(super) fn autoincrement_column<'a>(pk_columns: &[&'a ColumnDef]) -> Option<&'a str> {
    match pk_columns {
        [only] => match only.autoincrement {
            Autoincrement::True if can_autoincrement(&only.ty) => Some(&only.name),
            Autoincrement::Auto
                if can_autoincrement(&only.ty)
                    && only.server_default.is_none()
                    && only.foreign_keys.is_empty() =>
            {
                Some(&only.name)
            }
            _ => None,
        },
        several => several
            .iter()
            .find(|c| c.autoincrement == Autoincrement::True && can_autoincrement(&c.ty))
            .map(|c| c.name.as_str()),
    }
}

/// Whether SQLAlchemy lets a column of this type autoincrement: its type's affinity is
/// `Integer` or `Numeric` (floats included).
pub(super) fn can_autoincrement(ty: &PgType) -> bool {
    ty.array_dims == 0
        && matches!(
            ty.name.as_str(),
            "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision"
        )
}

/// How PostgreSQL prints a sequence as `regclass`: bare in the default schema, qualified
/// elsewhere, each part quoted where needed.
pub(super) fn regclass_text(schema: &str, name: &str) -> String {
    if schema == DEFAULT_SCHEMA {
        quote_ident(name).into_owned()
    } else {
        quote_qualified(schema, name)
    }
}

/// The sequence a `nextval('...')` default draws from, as `(schema, name)`.
pub(super) fn nextval_sequence(expression: &str) -> Option<TableKey> {
    let expression = expression.trim_start();
    let head = expression.get(..7)?;
    if !head.eq_ignore_ascii_case("nextval") {
        return None;
    }
    let after = expression[7..].trim_start().strip_prefix('(')?;
    let after = after.trim_start().strip_prefix('\'')?;
    let mut literal = String::new();
    let mut chars = after.chars().peekable();
    loop {
        match chars.next()? {
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                literal.push('\'');
            }
            '\'' => break,
            c => literal.push(c),
        }
    }
    match split_qualified_name(&literal)?.as_mut_slice() {
        [name] => Some(TableKey::new(DEFAULT_SCHEMA, std::mem::take(name))),
        [schema, name] => Some(TableKey::new(std::mem::take(schema), std::mem::take(name))),
        _ => None,
    }
}

/// Splits `schema.name` as PostgreSQL reads a name in text: quoted parts kept as written,
/// unquoted parts folded to lower case.
pub(super) fn split_qualified_name(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.extend(c.to_lowercase());
                chars.next();
            }
        }
        parts.push(truncate_identifier(part.trim()));
        match chars.next() {
            Some('.') => continue,
            None => return Some(parts),
            Some(_) => return None,
        }
    }
}

/// Whether an index entry is a column name rather than an expression.
pub(super) fn is_plain_identifier(entry: &str) -> bool {
    let mut chars = entry.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// Whether an index entry (a column name or an expression) uses `column`.
pub(super) fn entry_uses_column(entry: &str, column: &str) -> bool {
    if is_plain_identifier(entry) {
        entry == column
    } else {
        referenced_identifiers(entry)
            .iter()
            .any(|word| word == column)
    }
}
