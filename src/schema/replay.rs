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

use super::model::{
    CheckConstraint, Column, ForeignKey, IdentityKind, Index, NamePair, Origin, PrimaryKey, Schema,
    Sequence, Table, UniqueConstraint,
};
use super::names::{
    candidate_names, column_names_addition, sqlalchemy_index_name, truncate_identifier,
};
use super::ops::{
    Autoincrement, ColumnDef, Constraint, ConstraintKind, ForeignKeyRef, IndexDef, Op, OpAt,
    QualName,
};
use super::sql::{referenced_identifiers, rename_identifier};
use super::types::PgType;
use crate::alembic::Revision;
use crate::fix::{quote_ident, quote_qualified};
use crate::graph::RevisionGraph;
use crate::source::Span;

/// The schema that unqualified names live in, as PostgreSQL's default `search_path` resolves them.
pub const DEFAULT_SCHEMA: &str = "public";

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RelationKind {
    Table,
    Sequence,
    /// An index made by `CREATE INDEX`.
    Index,
    /// The index behind a primary key or unique constraint, which only dropping the constraint
    /// removes.
    ConstraintIndex,
}

/// An entry of PostgreSQL's `pg_class` in one schema: tables, sequences and indexes share one
/// namespace, which is why `users_email_key` can clash with a table of that name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Relation {
    kind: RelationKind,
    /// The table an index belongs to.
    table: Option<String>,
}

/// The names taken in each schema, and who points at whom, kept in step with the schema so that
/// choosing a default name (`users_id_seq1` when `users_id_seq` is taken), or finding what a
/// drop or rename touches in other tables, costs a lookup, not a scan of the whole schema.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Namespaces {
    relations: FxHashMap<String, FxHashMap<String, Relation>>,
    /// Constraint names and how many constraints carry each (PostgreSQL allows the same foreign
    /// key or check name on two tables).
    constraints: FxHashMap<String, FxHashMap<String, u32>>,
    /// How many foreign keys point at each table, by `(schema, table)`.
    incoming_foreign_keys: FxHashMap<(String, String), u32>,
    /// The sequences owned by each table's columns, by `(schema, table)`.
    owned_sequences: FxHashMap<(String, String), BTreeSet<(String, String)>>,
}

impl Namespaces {
    /// The names of everything in `schema`, as the replay would have recorded them.
    fn of(schema: &Schema) -> Self {
        let mut names = Namespaces::default();
        for ((schema_name, table_name), table) in &schema.tables {
            names.add_relation(schema_name, table_name, RelationKind::Table, None);
            if let Some(pk) = &table.primary_key {
                names.add_relation(
                    schema_name,
                    &pk.name,
                    RelationKind::ConstraintIndex,
                    Some(table_name),
                );
                names.add_constraint(schema_name, &pk.name);
            }
            for unique in &table.uniques {
                names.add_relation(
                    schema_name,
                    &unique.name,
                    RelationKind::ConstraintIndex,
                    Some(table_name),
                );
                names.add_constraint(schema_name, &unique.name);
            }
            for fk in &table.foreign_keys {
                names.add_constraint(schema_name, &fk.name);
                names.foreign_key_added(&fk.ref_schema, &fk.ref_table);
            }
            for check in &table.checks {
                names.add_constraint(schema_name, &check.name);
            }
            for index in &table.indexes {
                names.add_relation(
                    schema_name,
                    &index.name,
                    RelationKind::Index,
                    Some(table_name),
                );
            }
        }
        for ((schema_name, sequence_name), sequence) in &schema.sequences {
            names.add_relation(schema_name, sequence_name, RelationKind::Sequence, None);
            if let Some((owner_schema, owner_table, _)) = &sequence.owned_by {
                names
                    .owned_sequences
                    .entry((owner_schema.clone(), owner_table.clone()))
                    .or_default()
                    .insert((schema_name.clone(), sequence_name.clone()));
            }
        }
        names
    }

    fn foreign_key_added(&mut self, ref_schema: &str, ref_table: &str) {
        *self
            .incoming_foreign_keys
            .entry((ref_schema.to_owned(), ref_table.to_owned()))
            .or_insert(0) += 1;
    }

    fn foreign_key_removed(&mut self, ref_schema: &str, ref_table: &str) {
        let key = (ref_schema.to_owned(), ref_table.to_owned());
        if let Some(count) = self.incoming_foreign_keys.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                self.incoming_foreign_keys.remove(&key);
            }
        }
    }

    fn has_incoming_foreign_keys(&self, schema: &str, table: &str) -> bool {
        self.incoming_foreign_keys
            .contains_key(&(schema, table) as &dyn NamePair)
    }

    fn relation(&self, schema: &str, name: &str) -> Option<&Relation> {
        self.relations.get(schema).and_then(|names| names.get(name))
    }

    fn relation_taken(&self, schema: &str, name: &str) -> bool {
        self.relation(schema, name).is_some()
    }

    fn constraint_taken(&self, schema: &str, name: &str) -> bool {
        self.constraints
            .get(schema)
            .is_some_and(|names| names.contains_key(name))
    }

    fn add_relation(&mut self, schema: &str, name: &str, kind: RelationKind, table: Option<&str>) {
        self.relations.entry(schema.to_owned()).or_default().insert(
            name.to_owned(),
            Relation {
                kind,
                table: table.map(str::to_owned),
            },
        );
    }

    fn remove_relation(&mut self, schema: &str, name: &str) {
        if let Some(names) = self.relations.get_mut(schema) {
            names.remove(name);
            if names.is_empty() {
                self.relations.remove(schema);
            }
        }
    }

    fn add_constraint(&mut self, schema: &str, name: &str) {
        *self
            .constraints
            .entry(schema.to_owned())
            .or_default()
            .entry(name.to_owned())
            .or_insert(0) += 1;
    }

    fn remove_constraint(&mut self, schema: &str, name: &str) {
        if let Some(names) = self.constraints.get_mut(schema)
            && let Some(count) = names.get_mut(name)
        {
            *count -= 1;
            if *count == 0 {
                names.remove(name);
                if names.is_empty() {
                    self.constraints.remove(schema);
                }
            }
        }
    }

    /// PostgreSQL's `ChooseRelationName`: the first candidate that names no relation (and, for
    /// an index behind a constraint, no constraint) in the schema.
    fn choose_relation_name(
        &self,
        schema: &str,
        name1: &str,
        name2: Option<&str>,
        label: &str,
        for_constraint: bool,
    ) -> String {
        candidate_names(name1, name2, label)
            .find(|candidate| {
                let clashes = self.relation_taken(schema, candidate)
                    || (for_constraint && self.constraint_taken(schema, candidate));
                !clashes
            })
            .expect("the candidate names never run out")
    }

    /// PostgreSQL's `ChooseConstraintName`: the first candidate no constraint in the schema uses.
    fn choose_constraint_name(
        &self,
        schema: &str,
        name1: &str,
        name2: Option<&str>,
        label: &str,
    ) -> String {
        candidate_names(name1, name2, label)
            .find(|candidate| !self.constraint_taken(schema, candidate))
            .expect("the candidate names never run out")
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
                let (schema, name) = table_key(table);
                self.require_table(&schema, &name)?;
                self.add_constraint(at, &schema, &name, constraint)
            }
            Op::DropConstraint { table, name, kind } => self.drop_constraint(table, name, *kind),
            Op::CreateIndex { table, index, .. } => {
                let (schema, name) = table_key(table);
                self.require_table(&schema, &name)?;
                self.create_index(&schema, &name, table.schema.as_deref(), index)
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
                let key = table_key(name);
                if self.schema.enums.contains_key(&key) {
                    return Err(format!("type {} already exists", display_key(&key)));
                }
                self.schema.enums.insert(key, values.clone());
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
                let (schema, name) = table_key(table);
                self.names.relation_taken(&schema, &name)
            }
            Op::DropTable { table } => {
                let (schema, name) = table_key(table);
                !self.names.relation_taken(&schema, &name)
            }
            Op::AddColumn { table, column } => {
                let (schema, name) = table_key(table);
                self.schema
                    .table(&schema, &name)
                    .is_some_and(|t| t.column(&truncate_identifier(&column.name)).is_some())
            }
            Op::DropColumn { table, column } => {
                let (schema, name) = table_key(table);
                self.schema
                    .table(&schema, &name)
                    .is_some_and(|t| t.column(&truncate_identifier(column)).is_none())
            }
            Op::DropConstraint { table, name, .. } => {
                let (schema, table_name) = table_key(table);
                self.schema
                    .table(&schema, &table_name)
                    .is_some_and(|t| constraint_kind_of(t, name).is_none())
            }
            Op::CreateIndex { table, index, .. } => {
                let (schema, _) = table_key(table);
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
                let (schema, name) = table_key(name);
                self.names.relation_taken(&schema, &name)
            }
            Op::DropSequence { name } | Op::SetSequenceOwner { name, .. } => {
                !self.schema.sequences.contains_key(&table_key(name))
            }
            Op::CreateEnum { name, .. } => self.schema.enums.contains_key(&table_key(name)),
            Op::DropEnum { name } => !self.schema.enums.contains_key(&table_key(name)),
            Op::Guarded { op } => self.already_done(op),
            _ => false,
        }
    }

    fn require_table(&self, schema: &str, name: &str) -> Misfit {
        if self.schema.table(schema, name).is_some() {
            Ok(())
        } else {
            Err(format!(
                "table {} does not exist",
                quote_qualified(schema, name)
            ))
        }
    }

    // ----- tables -----

    fn create_table(
        &mut self,
        at: At<'_>,
        table: &QualName,
        columns: &[ColumnDef],
        constraints: &[Constraint],
        indexes: &[IndexDef],
    ) -> Misfit {
        let (schema, name) = table_key(table);
        if self.names.relation_taken(&schema, &name) {
            return Err(format!(
                "relation {} already exists",
                quote_qualified(&schema, &name)
            ));
        }
        let mut seen = FxHashSet::default();
        for column in columns {
            if !seen.insert(truncate_identifier(&column.name)) {
                return Err(format!(
                    "column {} is declared twice in table {}",
                    quote_ident(&column.name),
                    quote_qualified(&schema, &name)
                ));
            }
        }

        // SQLAlchemy's primary key: an explicit `PrimaryKeyConstraint` with columns wins over the
        // columns flagged `primary_key=True` (it warns and drops the flags); one without columns
        // takes the flagged ones. The last constraint given replaces any earlier one.
        let explicit = constraints.iter().rev().find_map(|c| match c {
            Constraint::PrimaryKey { name, columns } => Some((name.as_deref(), columns)),
            _ => None,
        });
        let flagged: Vec<&str> = columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_str())
            .collect();
        let (pk_columns, pk_name, implicit): (Vec<&str>, Option<&str>, bool) = match explicit {
            Some((pk_name, pk_cols)) if !pk_cols.is_empty() => {
                (pk_cols.iter().map(String::as_str).collect(), pk_name, false)
            }
            Some((pk_name, _)) => (flagged, pk_name, false),
            None => (flagged, None, true),
        };
        let pk_defs: Vec<&ColumnDef> = pk_columns
            .iter()
            .filter_map(|pk| columns.iter().find(|c| c.name == *pk))
            .collect();
        let autoincrement = autoincrement_column(&pk_defs);
        let mut pk_columns: Vec<String> =
            pk_columns.iter().map(|c| truncate_identifier(c)).collect();
        // A primary key made from column flags lists the autoincrement column first
        // (`PrimaryKeyConstraint.columns_autoinc_first`).
        if implicit && let Some(auto) = autoincrement {
            let auto = truncate_identifier(auto);
            if let Some(position) = pk_columns.iter().position(|c| *c == auto) {
                let column = pk_columns.remove(position);
                pk_columns.insert(0, column);
            }
        }

        self.names
            .add_relation(&schema, &name, RelationKind::Table, None);
        let mut new_table = Table::new(&schema, &name);
        new_table.created_by = Some(at.origin());
        self.schema
            .tables
            .insert((schema.clone(), name.clone()), new_table);

        for def in columns {
            let serial = def.identity.is_none()
                && (def.autoincrement == Autoincrement::Serial
                    || autoincrement.is_some_and(|auto| auto == def.name));
            let column = self.materialize_column(at, &schema, &name, def, serial);
            self.table_mut(&schema, &name).columns.push(column);
        }

        // PostgreSQL builds one index per distinct column list among the primary key and the
        // unique constraints of a CREATE TABLE (`transformIndexConstraints`): a unique constraint
        // over the same columns as the key or as an earlier unique constraint is dropped, and
        // lends its name to the one kept when that has none. SQLAlchemy writes the table's
        // constraints before those of `unique=True` columns.
        let mut key =
            (!pk_columns.is_empty()).then(|| (pk_name.map(truncate_identifier), pk_columns));
        let mut uniques: Vec<(Option<String>, Vec<String>)> = Vec::new();
        let declared_uniques = constraints
            .iter()
            .filter_map(|c| match c {
                Constraint::Unique { name, columns } => Some((
                    name.as_deref().map(truncate_identifier),
                    columns
                        .iter()
                        .map(|c| truncate_identifier(c))
                        .collect::<Vec<_>>(),
                )),
                _ => None,
            })
            .chain(
                columns
                    .iter()
                    .filter(|def| def.unique && !def.index)
                    .map(|def| (None, vec![truncate_identifier(&def.name)])),
            );
        for (unique_name, unique_columns) in declared_uniques {
            let same = match &mut key {
                Some((key_name, key_columns)) if *key_columns == unique_columns => Some(key_name),
                _ => uniques
                    .iter_mut()
                    .find(|(_, earlier)| *earlier == unique_columns)
                    .map(|(earlier_name, _)| earlier_name),
            };
            match same {
                Some(kept_name) => {
                    if kept_name.is_none() {
                        *kept_name = unique_name;
                    }
                }
                None => uniques.push((unique_name, unique_columns)),
            }
        }
        if let Some((key_name, key_columns)) = &key
            && let Err(message) =
                self.add_primary_key(at, &schema, &name, key_name.as_deref(), key_columns)
        {
            self.problem(at, message);
        }
        for (unique_name, unique_columns) in uniques {
            let unique = Constraint::Unique {
                name: unique_name,
                columns: unique_columns,
            };
            if let Err(message) = self.add_constraint(at, &schema, &name, &unique) {
                self.problem(at, message);
            }
        }
        for constraint in constraints {
            if matches!(
                constraint,
                Constraint::PrimaryKey { .. } | Constraint::Unique { .. }
            ) {
                continue;
            }
            if let Err(message) = self.add_constraint(at, &schema, &name, constraint) {
                self.problem(at, message);
            }
        }
        for def in columns {
            if let Err(message) = self.column_side_objects(at, &schema, &name, table, def) {
                self.problem(at, message);
            }
        }
        for index in indexes {
            if let Err(message) = self.create_index(&schema, &name, table.schema.as_deref(), index)
            {
                self.problem(at, message);
            }
        }
        Ok(())
    }

    /// The table the caller has just checked exists.
    fn table_mut(&mut self, schema: &str, name: &str) -> &mut Table {
        self.schema
            .table_mut(schema, name)
            .expect("the caller checked that the table exists")
    }

    /// A column as PostgreSQL stores it, creating the sequence behind a serial or identity
    /// column.
    fn materialize_column(
        &mut self,
        at: At<'_>,
        schema: &str,
        table: &str,
        def: &ColumnDef,
        serial: bool,
    ) -> Column {
        let name = truncate_identifier(&def.name);
        let origin = Origin {
            revision: at.revision.to_owned(),
            span: def.span.clone().unwrap_or_else(|| at.span.clone()),
        };
        let mut column = Column {
            name: name.clone(),
            ty: normalise_type(&def.ty),
            nullable: def.nullable.unwrap_or(!def.primary_key),
            default: def.server_default.clone(),
            identity: None,
            sequence: None,
            created_by: Some(origin.clone()),
            type_set_by: Some(origin.clone()),
            nullable_set_by: Some(origin),
        };
        if let Some(key) = column.default.as_deref().and_then(nextval_sequence)
            && self.schema.sequences.contains_key(&key)
        {
            column.sequence = Some(key);
        }
        if let Some(identity) = &def.identity {
            let sequence_name =
                self.names
                    .choose_relation_name(schema, table, Some(&name), "seq", false);
            let increment = identity.increment.unwrap_or(1);
            let start = identity.start.unwrap_or(if increment < 0 { -1 } else { 1 });
            self.register_sequence(Sequence {
                schema: schema.to_owned(),
                name: sequence_name.clone(),
                data_type: column.ty.clone(),
                start,
                increment,
                owned_by: Some((schema.to_owned(), table.to_owned(), name.clone())),
                state: None,
            });
            column.identity = Some(if identity.always {
                IdentityKind::Always
            } else {
                IdentityKind::ByDefault
            });
            column.nullable = false;
            column.default = None;
            column.sequence = Some((schema.to_owned(), sequence_name));
        } else if serial {
            // `SERIAL` is `integer`, `BIGSERIAL` `bigint` and `SMALLSERIAL` `smallint`; any other
            // type SQLAlchemy lets autoincrement (a numeric primary key) is emitted as `SERIAL`.
            let ty = match column.ty.name.as_str() {
                "bigint" => PgType::simple("bigint"),
                "smallint" => PgType::simple("smallint"),
                _ => PgType::simple("integer"),
            };
            let sequence_name =
                self.names
                    .choose_relation_name(schema, table, Some(&name), "seq", false);
            self.register_sequence(Sequence {
                schema: schema.to_owned(),
                name: sequence_name.clone(),
                data_type: ty.clone(),
                start: 1,
                increment: 1,
                owned_by: Some((schema.to_owned(), table.to_owned(), name.clone())),
                state: None,
            });
            column.ty = ty;
            column.nullable = false;
            column.default = Some(format!(
                "nextval('{}'::regclass)",
                regclass_text(schema, &sequence_name).replace('\'', "''")
            ));
            column.sequence = Some((schema.to_owned(), sequence_name));
        }
        column
    }

    fn register_sequence(&mut self, sequence: Sequence) {
        self.names.add_relation(
            &sequence.schema,
            &sequence.name,
            RelationKind::Sequence,
            None,
        );
        if let Some((owner_schema, owner_table, _)) = &sequence.owned_by {
            self.names
                .owned_sequences
                .entry((owner_schema.clone(), owner_table.clone()))
                .or_default()
                .insert((sequence.schema.clone(), sequence.name.clone()));
        }
        self.schema
            .sequences
            .insert((sequence.schema.clone(), sequence.name.clone()), sequence);
    }

    /// What a column's own flags add besides the column and its unique constraint (which the
    /// callers place): `index=True` an index named by SQLAlchemy's convention (unique when
    /// `unique=True` is given too), `sa.ForeignKey(...)` a foreign key.
    fn column_side_objects(
        &mut self,
        at: At<'_>,
        schema: &str,
        table: &str,
        qualified: &QualName,
        def: &ColumnDef,
    ) -> Misfit {
        let column = truncate_identifier(&def.name);
        if def.index {
            let index = IndexDef {
                name: Some(sqlalchemy_index_name(
                    qualified.schema.as_deref(),
                    &qualified.name,
                    &def.name,
                )),
                columns: vec![column.clone()],
                unique: def.unique,
            };
            self.create_index(schema, table, qualified.schema.as_deref(), &index)?;
        }
        for reference in &def.foreign_keys {
            let ForeignKeyRef {
                name,
                table: ref_table,
                column: ref_column,
                on_delete,
                on_update,
            } = reference;
            let fk = Constraint::ForeignKey {
                name: name.clone(),
                columns: vec![column.clone()],
                ref_table: ref_table.clone(),
                ref_columns: vec![ref_column.clone()],
                on_delete: on_delete.clone(),
                on_update: on_update.clone(),
            };
            if let Err(message) = self.add_constraint(at, schema, table, &fk) {
                self.problem(at, message);
            }
        }
        Ok(())
    }

    fn drop_table(&mut self, table: &QualName) -> Misfit {
        let (schema, name) = table_key(table);
        let Some(dropped) = self.schema.tables.remove(&(schema.clone(), name.clone())) else {
            return Err(format!(
                "table {} does not exist",
                quote_qualified(&schema, &name)
            ));
        };
        self.names.remove_relation(&schema, &name);
        self.forget_table_names(&dropped);
        // Sequences owned by the table's columns go with it (serial and identity sequences, and
        // any other `OWNED BY` one).
        let owned = self
            .names
            .owned_sequences
            .remove(&(schema.clone(), name.clone()))
            .unwrap_or_default();
        for key in owned {
            self.schema.sequences.remove(&key);
            self.names.remove_relation(&key.0, &key.1);
        }
        // PostgreSQL refuses to drop a table other tables' foreign keys point at unless told to
        // cascade; either way, afterwards no foreign key points at it.
        self.drop_foreign_keys_into(&schema, &name, None);
        Ok(())
    }

    /// Forgets the index and constraint names of a table that is gone.
    fn forget_table_names(&mut self, table: &Table) {
        let schema = &table.schema;
        if let Some(pk) = &table.primary_key {
            self.names.remove_relation(schema, &pk.name);
            self.names.remove_constraint(schema, &pk.name);
        }
        for unique in &table.uniques {
            self.names.remove_relation(schema, &unique.name);
            self.names.remove_constraint(schema, &unique.name);
        }
        for index in &table.indexes {
            self.names.remove_relation(schema, &index.name);
        }
        for fk in &table.foreign_keys {
            self.names.remove_constraint(schema, &fk.name);
            self.names
                .foreign_key_removed(&fk.ref_schema, &fk.ref_table);
        }
        for check in &table.checks {
            self.names.remove_constraint(schema, &check.name);
        }
    }

    /// Drops the foreign keys of every table that point at `schema.table` (at `column` only,
    /// when given).
    fn drop_foreign_keys_into(&mut self, schema: &str, table: &str, column: Option<&str>) {
        if !self.names.has_incoming_foreign_keys(schema, table) {
            return;
        }
        let mut dropped = Vec::new();
        for other in self.schema.tables.values_mut() {
            other.foreign_keys.retain(|fk| {
                let hit = fk.ref_schema == schema
                    && fk.ref_table == table
                    && column.is_none_or(|c| fk.ref_columns.iter().any(|r| r == c));
                if hit {
                    dropped.push((other.schema.clone(), fk.name.clone()));
                }
                !hit
            });
        }
        for (fk_schema, fk_name) in dropped {
            self.names.remove_constraint(&fk_schema, &fk_name);
            self.names.foreign_key_removed(schema, table);
        }
    }

    fn rename_table(&mut self, table: &QualName, new_name: &str) -> Misfit {
        let (schema, name) = table_key(table);
        let new_name = truncate_identifier(new_name);
        self.require_table(&schema, &name)?;
        if self.names.relation_taken(&schema, &new_name) {
            return Err(format!(
                "relation {} already exists",
                quote_qualified(&schema, &new_name)
            ));
        }
        let mut moved = self
            .schema
            .tables
            .remove(&(schema.clone(), name.clone()))
            .expect("the table exists: checked above");
        moved.name = new_name.clone();
        self.names.remove_relation(&schema, &name);
        self.names
            .add_relation(&schema, &new_name, RelationKind::Table, None);
        // Indexes and constraints keep their names, as in PostgreSQL, but now belong to the
        // renamed table.
        let index_names = moved
            .primary_key
            .iter()
            .map(|pk| (&pk.name, RelationKind::ConstraintIndex))
            .chain(
                moved
                    .uniques
                    .iter()
                    .map(|u| (&u.name, RelationKind::ConstraintIndex)),
            )
            .chain(moved.indexes.iter().map(|i| (&i.name, RelationKind::Index)));
        for (index_name, kind) in index_names {
            self.names
                .add_relation(&schema, index_name, kind, Some(&new_name));
        }
        self.schema
            .tables
            .insert((schema.clone(), new_name.clone()), moved);
        let old_key = (schema.clone(), name.clone());
        let new_key = (schema.clone(), new_name.clone());
        if let Some(count) = self.names.incoming_foreign_keys.remove(&old_key) {
            self.names
                .incoming_foreign_keys
                .insert(new_key.clone(), count);
            for other in self.schema.tables.values_mut() {
                for fk in &mut other.foreign_keys {
                    if fk.ref_schema == schema && fk.ref_table == name {
                        fk.ref_table = new_name.clone();
                    }
                }
            }
        }
        if let Some(owned) = self.names.owned_sequences.remove(&old_key) {
            for key in &owned {
                if let Some(sequence) = self.schema.sequences.get_mut(key)
                    && let Some((_, s_table, _)) = &mut sequence.owned_by
                {
                    *s_table = new_name.clone();
                }
            }
            self.names.owned_sequences.insert(new_key, owned);
        }
        Ok(())
    }

    // ----- columns -----

    fn add_column(&mut self, at: At<'_>, table: &QualName, def: &ColumnDef) -> Misfit {
        let (schema, name) = table_key(table);
        self.require_table(&schema, &name)?;
        let column_name = truncate_identifier(&def.name);
        if self
            .table_mut(&schema, &name)
            .column(&column_name)
            .is_some()
        {
            return Err(format!(
                "column {} of table {} already exists",
                quote_ident(&column_name),
                quote_qualified(&schema, &name)
            ));
        }
        // Alembic builds a throwaway table holding only this column: a `primary_key=True` integer
        // column is that table's autoincrement column and becomes `SERIAL`, but no primary key
        // constraint is added to the real table.
        let serial = def.identity.is_none()
            && (def.autoincrement == Autoincrement::Serial
                || (def.primary_key && autoincrement_column(&[def]).is_some()));
        let column = self.materialize_column(at, &schema, &name, def, serial);
        self.table_mut(&schema, &name).columns.push(column);
        // Alembic adds a `unique=True` column's constraint with its own ALTER TABLE.
        if def.unique && !def.index {
            let unique = Constraint::Unique {
                name: None,
                columns: vec![column_name],
            };
            self.add_constraint(at, &schema, &name, &unique)?;
        }
        self.column_side_objects(at, &schema, &name, table, def)
    }

    fn drop_column(&mut self, table: &QualName, column: &str) -> Misfit {
        let (schema, name) = table_key(table);
        let column = truncate_identifier(column);
        self.require_table(&schema, &name)?;
        let target = self.table_mut(&schema, &name);
        let Some(position) = target.columns.iter().position(|c| c.name == column) else {
            return Err(format!(
                "column {} of table {} does not exist",
                quote_ident(&column),
                quote_qualified(&schema, &name)
            ));
        };
        target.columns.remove(position);

        // Every index and constraint that uses the column goes with it, as in PostgreSQL.
        let mut gone_relations = Vec::new();
        let mut gone_constraints = Vec::new();
        if target
            .primary_key
            .as_ref()
            .is_some_and(|pk| pk.columns.contains(&column))
            && let Some(pk) = target.primary_key.take()
        {
            gone_relations.push(pk.name.clone());
            gone_constraints.push(pk.name);
        }
        target.uniques.retain(|u| {
            let keep = !u.columns.contains(&column);
            if !keep {
                gone_relations.push(u.name.clone());
                gone_constraints.push(u.name.clone());
            }
            keep
        });
        target.indexes.retain(|index| {
            let keep = !index
                .columns
                .iter()
                .any(|entry| entry_uses_column(entry, &column));
            if !keep {
                gone_relations.push(index.name.clone());
            }
            keep
        });
        let mut gone_references = Vec::new();
        target.foreign_keys.retain(|fk| {
            let keep = !fk.columns.contains(&column);
            if !keep {
                gone_constraints.push(fk.name.clone());
                gone_references.push((fk.ref_schema.clone(), fk.ref_table.clone()));
            }
            keep
        });
        target.checks.retain(|check| {
            let keep = !referenced_identifiers(&check.sql).contains(&column);
            if !keep {
                gone_constraints.push(check.name.clone());
            }
            keep
        });
        for relation in gone_relations {
            self.names.remove_relation(&schema, &relation);
        }
        for constraint in gone_constraints {
            self.names.remove_constraint(&schema, &constraint);
        }
        for (ref_schema, ref_table) in gone_references {
            self.names.foreign_key_removed(&ref_schema, &ref_table);
        }

        let table_key = (schema.clone(), name.clone());
        let owned: Vec<(String, String)> = self
            .names
            .owned_sequences
            .get(&table_key)
            .into_iter()
            .flatten()
            .filter(|key| {
                self.schema.sequences.get(*key).is_some_and(|s| {
                    s.owned_by
                        .as_ref()
                        .is_some_and(|(_, _, s_column)| *s_column == column)
                })
            })
            .cloned()
            .collect();
        for key in owned {
            self.schema.sequences.remove(&key);
            self.names.remove_relation(&key.0, &key.1);
            if let Some(set) = self.names.owned_sequences.get_mut(&table_key) {
                set.remove(&key);
                if set.is_empty() {
                    self.names.owned_sequences.remove(&table_key);
                }
            }
        }
        self.drop_foreign_keys_into(&schema, &name, Some(&column));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn alter_column(
        &mut self,
        at: At<'_>,
        table: &QualName,
        column: &str,
        new_type: Option<&PgType>,
        nullable: Option<bool>,
        server_default: Option<Option<&str>>,
        new_name: Option<&str>,
    ) -> Misfit {
        let (schema, name) = table_key(table);
        let column_name = truncate_identifier(column);
        self.require_table(&schema, &name)?;
        let target = self.table_mut(&schema, &name);
        let in_primary_key = target
            .primary_key
            .as_ref()
            .is_some_and(|pk| pk.columns.contains(&column_name));
        let Some(existing) = target.column_mut(&column_name) else {
            return Err(format!(
                "column {} of table {} does not exist",
                quote_ident(&column_name),
                quote_qualified(&schema, &name)
            ));
        };
        let object = || {
            format!(
                "{}.{}",
                quote_qualified(&schema, &name),
                quote_ident(&column_name)
            )
        };
        let mut misfits = Vec::new();

        // Alembic emits the type, then the nullability, then the default, then the new name.
        let mut identity_sequence_type = None;
        if let Some(ty) = new_type {
            existing.ty = normalise_type(ty);
            existing.type_set_by = Some(at.origin());
            if existing.identity.is_some() {
                identity_sequence_type =
                    existing.sequence.clone().map(|s| (s, existing.ty.clone()));
            }
        }
        match nullable {
            Some(true) if in_primary_key => misfits.push(format!(
                "{} is in the primary key; PostgreSQL refuses to make it nullable",
                object()
            )),
            Some(true) if existing.identity.is_some() => misfits.push(format!(
                "{} is an identity column; PostgreSQL refuses to make it nullable",
                object()
            )),
            Some(nullable) => {
                existing.nullable = nullable;
                existing.nullable_set_by = Some(at.origin());
            }
            None => {}
        }
        let mut default_sequence = None;
        match server_default {
            Some(_) if existing.identity.is_some() => misfits.push(format!(
                "{} is an identity column; PostgreSQL refuses to change its default",
                object()
            )),
            Some(None) => {
                existing.default = None;
                existing.sequence = None;
            }
            Some(Some(expression)) => {
                existing.default = Some(expression.to_owned());
                existing.sequence = None;
                default_sequence = Some(expression.to_owned());
            }
            None => {}
        }
        if let Some((key, ty)) = identity_sequence_type
            && let Some(sequence) = self.schema.sequences.get_mut(&key)
        {
            // PostgreSQL changes an identity column's sequence along with the column's type.
            sequence.data_type = ty;
        }
        if let Some(expression) = default_sequence
            && let Some(key) = nextval_sequence(&expression)
            && self.schema.sequences.contains_key(&key)
        {
            self.table_mut(&schema, &name)
                .column_mut(&column_name)
                .expect("the column exists: found above")
                .sequence = Some(key);
        }
        for message in misfits {
            self.problem(at, message);
        }
        if let Some(new_name) = new_name {
            self.rename_column(&schema, &name, &column_name, &truncate_identifier(new_name))?;
        }
        Ok(())
    }

    fn rename_column(&mut self, schema: &str, table: &str, old: &str, new: &str) -> Misfit {
        if old == new {
            return Ok(());
        }
        let target = self.table_mut(schema, table);
        if target.column(new).is_some() {
            return Err(format!(
                "column {} of table {} already exists",
                quote_ident(new),
                quote_qualified(schema, table)
            ));
        }
        if let Some(column) = target.column_mut(old) {
            column.name = new.to_owned();
        }
        let rename = |names: &mut Vec<String>| {
            for name in names.iter_mut() {
                if name == old {
                    *name = new.to_owned();
                }
            }
        };
        if let Some(pk) = &mut target.primary_key {
            rename(&mut pk.columns);
        }
        for unique in &mut target.uniques {
            rename(&mut unique.columns);
        }
        for fk in &mut target.foreign_keys {
            rename(&mut fk.columns);
        }
        for index in &mut target.indexes {
            for entry in &mut index.columns {
                if entry == old {
                    *entry = new.to_owned();
                } else if entry_uses_column(entry, old) {
                    *entry = rename_identifier(entry, old, new);
                }
            }
        }
        for check in &mut target.checks {
            check.sql = rename_identifier(&check.sql, old, new);
        }
        if self.names.has_incoming_foreign_keys(schema, table) {
            for other in self.schema.tables.values_mut() {
                for fk in &mut other.foreign_keys {
                    if fk.ref_schema == schema && fk.ref_table == table {
                        rename(&mut fk.ref_columns);
                    }
                }
            }
        }
        let owned = self
            .names
            .owned_sequences
            .get(&(schema, table) as &dyn NamePair);
        for key in owned.into_iter().flatten() {
            if let Some(sequence) = self.schema.sequences.get_mut(key)
                && let Some((_, _, s_column)) = &mut sequence.owned_by
                && s_column == old
            {
                *s_column = new.to_owned();
            }
        }
        Ok(())
    }

    // ----- constraints -----

    /// Adds a constraint to an existing table, naming it as PostgreSQL would when unnamed.
    fn add_constraint(
        &mut self,
        at: At<'_>,
        schema: &str,
        table: &str,
        constraint: &Constraint,
    ) -> Misfit {
        let qualified = quote_qualified(schema, table);
        match constraint {
            Constraint::PrimaryKey { name, columns } => {
                let columns: Vec<String> = columns.iter().map(|c| truncate_identifier(c)).collect();
                self.add_primary_key(at, schema, table, name.as_deref(), &columns)
            }
            Constraint::Unique { name, columns } => {
                let columns: Vec<String> = columns.iter().map(|c| truncate_identifier(c)).collect();
                self.require_columns(schema, table, &columns)?;
                let name = match name {
                    Some(name) => {
                        let name = truncate_identifier(name);
                        self.require_free_relation(schema, &name)?;
                        name
                    }
                    None => {
                        let addition = column_names_addition(&columns);
                        self.names
                            .choose_relation_name(schema, table, Some(&addition), "key", true)
                    }
                };
                self.names
                    .add_relation(schema, &name, RelationKind::ConstraintIndex, Some(table));
                self.names.add_constraint(schema, &name);
                self.table_mut(schema, table)
                    .uniques
                    .push(UniqueConstraint { name, columns });
                Ok(())
            }
            Constraint::ForeignKey {
                name,
                columns,
                ref_table,
                ref_columns,
                ..
            } => {
                let columns: Vec<String> = columns.iter().map(|c| truncate_identifier(c)).collect();
                let ref_columns: Vec<String> =
                    ref_columns.iter().map(|c| truncate_identifier(c)).collect();
                self.require_columns(schema, table, &columns)?;
                let (ref_schema, ref_name) = table_key(ref_table);
                let Some(referenced) = self.schema.table(&ref_schema, &ref_name) else {
                    return Err(format!(
                        "foreign key on {qualified} references table {}, which does not exist",
                        quote_qualified(&ref_schema, &ref_name)
                    ));
                };
                // `REFERENCES t` without columns means t's primary key.
                let ref_columns = if ref_columns.is_empty() {
                    match &referenced.primary_key {
                        Some(pk) => pk.columns.clone(),
                        None => {
                            return Err(format!(
                                "foreign key on {qualified} references table {} by its primary \
                                 key, which it does not have",
                                quote_qualified(&ref_schema, &ref_name)
                            ));
                        }
                    }
                } else {
                    ref_columns
                };
                if let Some(missing) = ref_columns.iter().find(|c| referenced.column(c).is_none()) {
                    return Err(format!(
                        "foreign key on {qualified} references column {}.{}, which does not exist",
                        quote_qualified(&ref_schema, &ref_name),
                        quote_ident(missing)
                    ));
                }
                let name = match name {
                    Some(name) => truncate_identifier(name),
                    None => {
                        let addition = column_names_addition(&columns);
                        self.names
                            .choose_constraint_name(schema, table, Some(&addition), "fkey")
                    }
                };
                self.names.add_constraint(schema, &name);
                self.names.foreign_key_added(&ref_schema, &ref_name);
                self.table_mut(schema, table).foreign_keys.push(ForeignKey {
                    name,
                    columns,
                    ref_schema,
                    ref_table: ref_name,
                    ref_columns,
                });
                Ok(())
            }
            Constraint::Check { name, sql } => {
                let name = match name {
                    Some(name) => truncate_identifier(name),
                    None => {
                        // PostgreSQL names a check after the table and, when the condition uses
                        // exactly one column, that column.
                        let target = self.table_mut(schema, table);
                        let mut used: Vec<String> = referenced_identifiers(sql)
                            .into_iter()
                            .filter(|word| target.column(word).is_some())
                            .collect();
                        used.sort();
                        used.dedup();
                        let single = (used.len() == 1).then(|| used.remove(0));
                        self.names
                            .choose_constraint_name(schema, table, single.as_deref(), "check")
                    }
                };
                self.names.add_constraint(schema, &name);
                self.table_mut(schema, table).checks.push(CheckConstraint {
                    name,
                    sql: sql.clone(),
                });
                Ok(())
            }
        }
    }

    fn require_columns(&self, schema: &str, table: &str, columns: &[String]) -> Misfit {
        let Some(found) = self.schema.table(schema, table) else {
            return Err(format!(
                "table {} does not exist",
                quote_qualified(schema, table)
            ));
        };
        match columns.iter().find(|c| found.column(c).is_none()) {
            Some(missing) => Err(format!(
                "column {} of table {} does not exist",
                quote_ident(missing),
                quote_qualified(schema, table)
            )),
            None => Ok(()),
        }
    }

    fn require_free_relation(&self, schema: &str, name: &str) -> Misfit {
        if self.names.relation_taken(schema, name) {
            Err(format!(
                "relation {} already exists",
                quote_qualified(schema, name)
            ))
        } else {
            Ok(())
        }
    }

    fn add_primary_key(
        &mut self,
        at: At<'_>,
        schema: &str,
        table: &str,
        name: Option<&str>,
        columns: &[String],
    ) -> Misfit {
        self.require_columns(schema, table, columns)?;
        if let Some(existing) = &self.table_mut(schema, table).primary_key {
            return Err(format!(
                "table {} already has a primary key ({}); PostgreSQL refuses a second one",
                quote_qualified(schema, table),
                quote_ident(&existing.name)
            ));
        }
        let name = match name {
            Some(name) => {
                let name = truncate_identifier(name);
                self.require_free_relation(schema, &name)?;
                name
            }
            None => self
                .names
                .choose_relation_name(schema, table, None, "pkey", true),
        };
        self.names
            .add_relation(schema, &name, RelationKind::ConstraintIndex, Some(table));
        self.names.add_constraint(schema, &name);
        let origin = at.origin();
        let target = self.table_mut(schema, table);
        // A primary key makes its columns NOT NULL.
        for column in &mut target.columns {
            if columns.contains(&column.name) && column.nullable {
                column.nullable = false;
                column.nullable_set_by = Some(origin.clone());
            }
        }
        target.primary_key = Some(PrimaryKey {
            name,
            columns: columns.to_vec(),
            set_by: Some(origin),
        });
        Ok(())
    }

    fn drop_constraint(
        &mut self,
        table: &QualName,
        name: &str,
        kind: Option<ConstraintKind>,
    ) -> Misfit {
        let (schema, table_name) = table_key(table);
        let name = truncate_identifier(name);
        self.require_table(&schema, &table_name)?;
        let target = self.table_mut(&schema, &table_name);
        // On PostgreSQL, Alembic's `type_=` only matters to other databases: the constraint is
        // dropped by name whatever its kind.
        let _ = kind;
        let Some(found) = constraint_kind_of(target, &name) else {
            return Err(format!(
                "constraint {} of table {} does not exist",
                quote_ident(&name),
                quote_qualified(&schema, &table_name)
            ));
        };
        match found {
            ConstraintKind::PrimaryKey => {
                target.primary_key = None;
                self.names.remove_relation(&schema, &name);
            }
            ConstraintKind::Unique => {
                target.uniques.retain(|u| u.name != name);
                self.names.remove_relation(&schema, &name);
            }
            ConstraintKind::ForeignKey => {
                let mut gone_references = Vec::new();
                target.foreign_keys.retain(|fk| {
                    let keep = fk.name != name;
                    if !keep {
                        gone_references.push((fk.ref_schema.clone(), fk.ref_table.clone()));
                    }
                    keep
                });
                for (ref_schema, ref_table) in gone_references {
                    self.names.foreign_key_removed(&ref_schema, &ref_table);
                }
            }
            ConstraintKind::Check => target.checks.retain(|c| c.name != name),
        }
        self.names.remove_constraint(&schema, &name);
        Ok(())
    }

    fn rename_constraint(&mut self, table: &QualName, name: &str, new_name: &str) -> Misfit {
        let (schema, table_name) = table_key(table);
        let name = truncate_identifier(name);
        let new_name = truncate_identifier(new_name);
        self.require_table(&schema, &table_name)?;
        let target = self.table_mut(&schema, &table_name);
        let Some(kind) = constraint_kind_of(target, &name) else {
            return Err(format!(
                "constraint {} of table {} does not exist",
                quote_ident(&name),
                quote_qualified(&schema, &table_name)
            ));
        };
        let backed_by_index = matches!(kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique);
        if backed_by_index && self.names.relation_taken(&schema, &new_name) {
            return Err(format!(
                "relation {} already exists",
                quote_qualified(&schema, &new_name)
            ));
        }
        let target = self.table_mut(&schema, &table_name);
        match kind {
            ConstraintKind::PrimaryKey => {
                if let Some(pk) = &mut target.primary_key {
                    pk.name = new_name.clone();
                }
            }
            ConstraintKind::Unique => {
                for unique in target.uniques.iter_mut().filter(|u| u.name == name) {
                    unique.name = new_name.clone();
                }
            }
            ConstraintKind::ForeignKey => {
                for fk in target.foreign_keys.iter_mut().filter(|f| f.name == name) {
                    fk.name = new_name.clone();
                }
            }
            ConstraintKind::Check => {
                for check in target.checks.iter_mut().filter(|c| c.name == name) {
                    check.name = new_name.clone();
                }
            }
        }
        if backed_by_index {
            self.names.remove_relation(&schema, &name);
            self.names.add_relation(
                &schema,
                &new_name,
                RelationKind::ConstraintIndex,
                Some(&table_name),
            );
        }
        self.names.remove_constraint(&schema, &name);
        self.names.add_constraint(&schema, &new_name);
        Ok(())
    }

    // ----- indexes -----

    /// Creates an index on an existing table. An index without a name is named by SQLAlchemy's
    /// default convention, as `op.create_index(None, ...)` is (`table_schema` is the schema the
    /// migration wrote, which the convention includes).
    fn create_index(
        &mut self,
        schema: &str,
        table: &str,
        table_schema: Option<&str>,
        index: &IndexDef,
    ) -> Misfit {
        let name = match &index.name {
            Some(name) => truncate_identifier(name),
            None => {
                let first = index.columns.first().map(String::as_str).unwrap_or("");
                sqlalchemy_index_name(table_schema, table, first)
            }
        };
        self.require_free_relation(schema, &name)?;
        let target = self.table_mut(schema, table);
        let columns: Vec<String> = index
            .columns
            .iter()
            .map(|entry| {
                if is_plain_identifier(entry) {
                    truncate_identifier(entry)
                } else {
                    entry.clone()
                }
            })
            .collect();
        if let Some(missing) = columns
            .iter()
            .find(|entry| is_plain_identifier(entry) && target.column(entry).is_none())
        {
            return Err(format!(
                "column {} of table {} does not exist",
                quote_ident(missing),
                quote_qualified(schema, table)
            ));
        }
        target.indexes.push(Index {
            name: name.clone(),
            columns,
            unique: index.unique,
        });
        self.names
            .add_relation(schema, &name, RelationKind::Index, Some(table));
        Ok(())
    }

    fn drop_index(&mut self, schema: Option<&str>, name: &str, table: Option<&QualName>) -> Misfit {
        let schema = index_schema(schema, table);
        let name = truncate_identifier(name);
        let Some(relation) = self.names.relation(&schema, &name).cloned() else {
            return Err(format!(
                "index {} does not exist",
                quote_qualified(&schema, &name)
            ));
        };
        match (relation.kind, relation.table) {
            (RelationKind::Index, Some(owner)) => {
                if let Some(target) = self.schema.table_mut(&schema, &owner) {
                    target.indexes.retain(|index| index.name != name);
                }
                self.names.remove_relation(&schema, &name);
                Ok(())
            }
            (RelationKind::ConstraintIndex, Some(owner)) => Err(format!(
                "index {} belongs to a constraint of table {}; PostgreSQL refuses to drop it \
                 (drop the constraint instead)",
                quote_qualified(&schema, &name),
                quote_qualified(&schema, &owner)
            )),
            _ => Err(format!(
                "{} is not an index",
                quote_qualified(&schema, &name)
            )),
        }
    }

    fn rename_index(&mut self, schema: Option<&str>, name: &str, new_name: &str) -> Misfit {
        let schema = schema.unwrap_or(DEFAULT_SCHEMA).to_owned();
        let name = truncate_identifier(name);
        let new_name = truncate_identifier(new_name);
        let Some(relation) = self.names.relation(&schema, &name).cloned() else {
            return Err(format!(
                "index {} does not exist",
                quote_qualified(&schema, &name)
            ));
        };
        let Some(owner) = relation.table.clone() else {
            return Err(format!(
                "{} is not an index",
                quote_qualified(&schema, &name)
            ));
        };
        self.require_free_relation(&schema, &new_name)?;
        if relation.kind == RelationKind::ConstraintIndex {
            // Renaming the index behind a constraint renames the constraint too.
            return self.rename_constraint(&QualName::new(Some(&schema), &owner), &name, &new_name);
        }
        if let Some(target) = self.schema.table_mut(&schema, &owner) {
            for index in target.indexes.iter_mut().filter(|i| i.name == name) {
                index.name = new_name.clone();
            }
        }
        self.names.remove_relation(&schema, &name);
        self.names
            .add_relation(&schema, &new_name, relation.kind, Some(&owner));
        Ok(())
    }

    // ----- sequences and types -----

    fn create_sequence(
        &mut self,
        name: &QualName,
        start: Option<i64>,
        increment: Option<i64>,
    ) -> Misfit {
        let (schema, name) = table_key(name);
        self.require_free_relation(&schema, &name)?;
        let increment = increment.unwrap_or(1);
        self.register_sequence(Sequence {
            schema,
            name,
            data_type: PgType::simple("bigint"),
            start: start.unwrap_or(if increment < 0 { -1 } else { 1 }),
            increment,
            owned_by: None,
            state: None,
        });
        Ok(())
    }

    fn drop_sequence(&mut self, name: &QualName) -> Misfit {
        let key = table_key(name);
        if !self.schema.sequences.contains_key(&key) {
            return Err(format!(
                "sequence {} does not exist",
                quote_qualified(&key.0, &key.1)
            ));
        }
        let user = self.schema.tables.values().find_map(|table| {
            table
                .columns
                .iter()
                .find(|c| c.sequence.as_ref() == Some(&key))
                .map(|c| (table, c))
        });
        if let Some((table, column)) = user {
            return Err(format!(
                "sequence {} feeds {}.{}; PostgreSQL refuses to drop it",
                quote_qualified(&key.0, &key.1),
                quote_qualified(&table.schema, &table.name),
                quote_ident(&column.name)
            ));
        }
        if let Some(sequence) = self.schema.sequences.remove(&key)
            && let Some((owner_schema, owner_table, _)) = sequence.owned_by
        {
            let owner = (owner_schema, owner_table);
            if let Some(set) = self.names.owned_sequences.get_mut(&owner) {
                set.remove(&key);
                if set.is_empty() {
                    self.names.owned_sequences.remove(&owner);
                }
            }
        }
        self.names.remove_relation(&key.0, &key.1);
        Ok(())
    }

    fn set_sequence_owner(
        &mut self,
        name: &QualName,
        owner: Option<&(QualName, String)>,
    ) -> Misfit {
        let key = table_key(name);
        if !self.schema.sequences.contains_key(&key) {
            return Err(format!(
                "sequence {} does not exist",
                quote_qualified(&key.0, &key.1)
            ));
        }
        let new_owner = match owner {
            Some((table, column)) => {
                let (owner_schema, owner_table) = table_key(table);
                let column = truncate_identifier(column);
                self.require_columns(&owner_schema, &owner_table, std::slice::from_ref(&column))?;
                if owner_schema != key.0 {
                    return Err(format!(
                        "sequence {} and table {} are in different schemas; PostgreSQL refuses \
                         to link them",
                        quote_qualified(&key.0, &key.1),
                        quote_qualified(&owner_schema, &owner_table)
                    ));
                }
                Some((owner_schema, owner_table, column))
            }
            None => None,
        };
        let sequence = self
            .schema
            .sequences
            .get_mut(&key)
            .expect("the sequence exists: checked above");
        if let Some((old_schema, old_table, _)) = sequence.owned_by.take() {
            let old = (old_schema, old_table);
            if let Some(set) = self.names.owned_sequences.get_mut(&old) {
                set.remove(&key);
                if set.is_empty() {
                    self.names.owned_sequences.remove(&old);
                }
            }
        }
        if let Some((owner_schema, owner_table, _)) = &new_owner {
            self.names
                .owned_sequences
                .entry((owner_schema.clone(), owner_table.clone()))
                .or_default()
                .insert(key.clone());
        }
        sequence.owned_by = new_owner;
        Ok(())
    }

    fn drop_enum(&mut self, name: &QualName) -> Misfit {
        let key = table_key(name);
        if !self.schema.enums.contains_key(&key) {
            return Err(format!("type {} does not exist", display_key(&key)));
        }
        let type_name = enum_type_name(&key);
        let user = self.schema.tables.values().find_map(|table| {
            table
                .columns
                .iter()
                .find(|c| c.ty.name == type_name)
                .map(|c| (table, c))
        });
        if let Some((table, column)) = user {
            return Err(format!(
                "type {} is used by {}.{}; PostgreSQL refuses to drop it",
                display_key(&key),
                quote_qualified(&table.schema, &table.name),
                quote_ident(&column.name)
            ));
        }
        self.schema.enums.remove(&key);
        Ok(())
    }
}

/// `(schema, name)` with the default schema filled in and both cut to PostgreSQL's length.
fn table_key(name: &QualName) -> (String, String) {
    (
        truncate_identifier(name.schema.as_deref().unwrap_or(DEFAULT_SCHEMA)),
        truncate_identifier(&name.name),
    )
}

fn display_key(key: &(String, String)) -> String {
    quote_qualified(&key.0, &key.1)
}

/// The name a column's [`PgType`] carries for an enum, as `format_type()` prints it.
fn enum_type_name(key: &(String, String)) -> String {
    PgType::user_defined(Some(&key.0), &key.1).name
}

/// The schema an index is looked up in: the one given, else its table's, else the default.
fn index_schema(schema: Option<&str>, table: Option<&QualName>) -> String {
    schema
        .or_else(|| table.and_then(|t| t.schema.as_deref()))
        .unwrap_or(DEFAULT_SCHEMA)
        .to_owned()
}

/// The kind of the constraint called `name` on `table`, if it has one.
fn constraint_kind_of(table: &Table, name: &str) -> Option<ConstraintKind> {
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
fn normalise_type(ty: &PgType) -> PgType {
    let mut ty = ty.clone();
    ty.array_dims = ty.array_dims.min(1);
    ty
}

/// SQLAlchemy's rule for the column that autoincrements (`PrimaryKeyConstraint.
/// _autoincrement_column`): the lone primary key column when its autoincrement is `"auto"` and it
/// is an integer (or numeric) column without a server default or foreign key; among several
/// primary key columns only one marked `autoincrement=True`.
fn autoincrement_column<'a>(pk_columns: &[&'a ColumnDef]) -> Option<&'a str> {
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
fn can_autoincrement(ty: &PgType) -> bool {
    ty.array_dims == 0
        && matches!(
            ty.name.as_str(),
            "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision"
        )
}

/// How PostgreSQL prints a sequence as `regclass`: bare in the default schema, qualified
/// elsewhere, each part quoted where needed.
fn regclass_text(schema: &str, name: &str) -> String {
    if schema == DEFAULT_SCHEMA {
        quote_ident(name).into_owned()
    } else {
        quote_qualified(schema, name)
    }
}

/// The sequence a `nextval('...')` default draws from, as `(schema, name)`.
fn nextval_sequence(expression: &str) -> Option<(String, String)> {
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
        [name] => Some((DEFAULT_SCHEMA.to_owned(), std::mem::take(name))),
        [schema, name] => Some((std::mem::take(schema), std::mem::take(name))),
        _ => None,
    }
}

/// Splits `schema.name` as PostgreSQL reads a name in text: quoted parts kept as written,
/// unquoted parts folded to lower case.
fn split_qualified_name(text: &str) -> Option<Vec<String>> {
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
fn is_plain_identifier(entry: &str) -> bool {
    let mut chars = entry.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// Whether an index entry (a column name or an expression) uses `column`.
fn entry_uses_column(entry: &str, column: &str) -> bool {
    if is_plain_identifier(entry) {
        entry == column
    } else {
        referenced_identifiers(entry)
            .iter()
            .any(|word| word == column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ops::IdentitySpec;
    use crate::source::FileId;

    /// A span whose start tells the operations of a test apart.
    fn span(n: u32) -> Span {
        Span::new(FileId(0), n..n + 1)
    }

    fn revision(id: &str, down: &[&str], ops: Vec<Op>) -> Revision {
        Revision {
            id: id.to_owned(),
            down_revisions: down.iter().map(|d| (*d).to_owned()).collect(),
            branch_labels: Vec::new(),
            depends_on: Vec::new(),
            message: None,
            file: FileId(0),
            id_span: span(0),
            down_span: None,
            branch_labels_span: None,
            depends_on_span: None,
            upgrade_span: None,
            upgrade: ops
                .into_iter()
                .enumerate()
                .map(|(i, op)| OpAt {
                    op,
                    span: span(100 + i as u32),
                    autocommit: false,
                })
                .collect(),
        }
    }

    /// Replays `ops` as one revision, checking that the name bookkeeping stays in step.
    fn run(ops: Vec<Op>) -> Replay {
        let rev = revision("r1", &[], ops);
        let mut replayer = Replayer::new();
        replayer.apply_revision(0, &rev);
        assert_eq!(
            replayer.names,
            Namespaces::of(&replayer.schema),
            "the namespaces drifted from the schema"
        );
        replayer.finish()
    }

    fn clean(ops: Vec<Op>) -> Schema {
        let replay = run(ops);
        assert!(
            replay.problems.is_empty(),
            "unexpected problems: {:#?}",
            replay.problems
        );
        replay.schema
    }

    fn q(name: &str) -> QualName {
        QualName::new(None, name)
    }

    fn ty(name: &str) -> PgType {
        PgType::simple(name)
    }

    fn col(name: &str, ty_name: &str) -> ColumnDef {
        ColumnDef::new(name, ty(ty_name))
    }

    fn pk(name: &str, ty_name: &str) -> ColumnDef {
        let mut c = col(name, ty_name);
        c.primary_key = true;
        c
    }

    fn create(table: &str, columns: Vec<ColumnDef>) -> Op {
        Op::CreateTable {
            table: q(table),
            columns,
            constraints: Vec::new(),
            indexes: Vec::new(),
        }
    }

    fn create_with(table: &str, columns: Vec<ColumnDef>, constraints: Vec<Constraint>) -> Op {
        Op::CreateTable {
            table: q(table),
            columns,
            constraints,
            indexes: Vec::new(),
        }
    }

    fn alter(table: &str, column: &str) -> (QualName, String) {
        (q(table), column.to_owned())
    }

    fn alter_op(
        target: (QualName, String),
        new_type: Option<PgType>,
        nullable: Option<bool>,
        server_default: Option<Option<String>>,
        new_name: Option<&str>,
    ) -> Op {
        Op::AlterColumn {
            table: target.0,
            column: target.1,
            new_type,
            nullable,
            server_default,
            new_name: new_name.map(str::to_owned),
        }
    }

    fn table<'a>(schema: &'a Schema, name: &str) -> &'a Table {
        schema
            .table("public", name)
            .unwrap_or_else(|| panic!("table {name} is missing"))
    }

    fn column<'a>(schema: &'a Schema, table_name: &str, name: &str) -> &'a Column {
        table(schema, table_name)
            .column(name)
            .unwrap_or_else(|| panic!("column {table_name}.{name} is missing"))
    }

    fn sequence_names(schema: &Schema) -> Vec<String> {
        schema.sequences.keys().map(|(_, n)| n.clone()).collect()
    }

    #[test]
    fn integer_primary_key_becomes_serial() {
        let schema = clean(vec![create(
            "users",
            vec![pk("id", "integer"), col("email", "text")],
        )]);
        let id = column(&schema, "users", "id");
        assert_eq!(id.ty, ty("integer"));
        assert!(!id.nullable);
        assert_eq!(
            id.default.as_deref(),
            Some("nextval('users_id_seq'::regclass)")
        );
        assert_eq!(
            id.sequence,
            Some(("public".to_owned(), "users_id_seq".to_owned()))
        );
        let sequence = &schema.sequences[&("public".to_owned(), "users_id_seq".to_owned())];
        assert_eq!(sequence.data_type, ty("integer"));
        assert_eq!(
            sequence.owned_by,
            Some(("public".into(), "users".into(), "id".into()))
        );
        let key = table(&schema, "users").primary_key.as_ref().expect("a key");
        assert_eq!(key.name, "users_pkey");
        assert_eq!(key.columns, ["id"]);
        assert!(column(&schema, "users", "email").nullable);
    }

    #[test]
    fn serial_flavours_follow_the_integer_type() {
        let schema = clean(vec![
            create("big", vec![pk("id", "bigint")]),
            create("small", vec![pk("id", "smallint")]),
            // SQLAlchemy lets a numeric key autoincrement and emits it as SERIAL.
            create("num", vec![pk("id", "numeric")]),
        ]);
        assert_eq!(column(&schema, "big", "id").ty, ty("bigint"));
        assert_eq!(column(&schema, "small", "id").ty, ty("smallint"));
        assert_eq!(column(&schema, "num", "id").ty, ty("integer"));
        assert_eq!(
            schema.sequences[&("public".to_owned(), "big_id_seq".to_owned())].data_type,
            ty("bigint")
        );
        assert_eq!(
            sequence_names(&schema),
            ["big_id_seq", "num_id_seq", "small_id_seq"]
        );
    }

    #[test]
    fn what_stops_a_key_from_autoincrementing() {
        let mut with_fk = pk("id", "integer");
        with_fk.foreign_keys.push(ForeignKeyRef {
            name: None,
            table: q("users"),
            column: "id".into(),
            on_delete: None,
            on_update: None,
        });
        let mut with_default = pk("id", "integer");
        with_default.server_default = Some("1".into());
        let mut turned_off = pk("id", "integer");
        turned_off.autoincrement = Autoincrement::False;
        let schema = clean(vec![
            create("users", vec![pk("id", "integer")]),
            create("profiles", vec![with_fk]),
            create("defaults", vec![with_default]),
            create("manual", vec![turned_off]),
            create("texts", vec![pk("code", "text")]),
            create("pairs", vec![pk("a", "integer"), pk("b", "integer")]),
        ]);
        for name in ["profiles", "defaults", "manual", "pairs"] {
            let first = &table(&schema, name).columns[0];
            assert_eq!(
                first.sequence, None,
                "{name}.{} must not be serial",
                first.name
            );
            assert!(!first.nullable, "{name}.{} is a key column", first.name);
        }
        assert_eq!(
            column(&schema, "defaults", "id").default.as_deref(),
            Some("1")
        );
        assert_eq!(sequence_names(&schema), ["users_id_seq"]);
        assert_eq!(
            table(&schema, "profiles").foreign_keys[0].name,
            "profiles_id_fkey"
        );
    }

    #[test]
    fn autoincrement_true_in_a_composite_key_goes_first() {
        let mut b = pk("b", "integer");
        b.autoincrement = Autoincrement::True;
        let schema = clean(vec![create("multi", vec![pk("a", "integer"), b])]);
        assert_eq!(
            table(&schema, "multi")
                .primary_key
                .as_ref()
                .map(|k| k.columns.clone()),
            Some(vec!["b".to_owned(), "a".to_owned()])
        );
        assert!(column(&schema, "multi", "b").sequence.is_some());
        assert!(column(&schema, "multi", "a").sequence.is_none());
    }

    #[test]
    fn explicit_primary_key_constraint_wins() {
        let schema = clean(vec![create_with(
            "conflict",
            vec![pk("a", "integer"), col("b", "integer")],
            vec![Constraint::PrimaryKey {
                name: Some("conflict_key".into()),
                columns: vec!["b".into()],
            }],
        )]);
        let t = table(&schema, "conflict");
        let key = t.primary_key.as_ref().expect("a key");
        assert_eq!(
            (key.name.as_str(), key.columns.clone()),
            ("conflict_key", vec!["b".to_owned()])
        );
        assert!(column(&schema, "conflict", "b").sequence.is_some());
        // `primary_key=True` still made `a` NOT NULL.
        assert!(!column(&schema, "conflict", "a").nullable);
    }

    #[test]
    fn identity_columns_get_their_own_sequence() {
        let mut id = pk("id", "bigint");
        id.identity = Some(IdentitySpec {
            always: true,
            start: Some(5),
            increment: None,
        });
        let mut down = col("down", "integer");
        down.identity = Some(IdentitySpec {
            always: false,
            start: None,
            increment: Some(-1),
        });
        let schema = clean(vec![create("events", vec![id, down])]);
        let id = column(&schema, "events", "id");
        assert_eq!(id.identity, Some(IdentityKind::Always));
        assert_eq!(id.default, None);
        assert!(!id.nullable);
        let seq = &schema.sequences[&("public".to_owned(), "events_id_seq".to_owned())];
        assert_eq!((seq.start, seq.increment), (5, 1));
        assert_eq!(seq.data_type, ty("bigint"));
        let down = column(&schema, "events", "down");
        assert_eq!(down.identity, Some(IdentityKind::ByDefault));
        assert!(!down.nullable);
        let seq = &schema.sequences[&("public".to_owned(), "events_down_seq".to_owned())];
        assert_eq!((seq.start, seq.increment), (-1, -1));
    }

    #[test]
    fn default_names_avoid_taken_ones() {
        let mut email = col("email", "text");
        email.unique = true;
        let schema = clean(vec![
            // A table already holds the name the sequence would get.
            create("users_id_seq", vec![col("x", "integer")]),
            create_with(
                "users",
                vec![pk("id", "integer"), email, col("score", "integer")],
                vec![
                    Constraint::Unique {
                        name: None,
                        columns: vec!["email".into()],
                    },
                    Constraint::Check {
                        name: None,
                        sql: "score > 0".into(),
                    },
                    Constraint::Check {
                        name: None,
                        sql: "score < id".into(),
                    },
                ],
            ),
        ]);
        let users = table(&schema, "users");
        assert_eq!(
            column(&schema, "users", "id")
                .sequence
                .as_ref()
                .map(|s| s.1.as_str()),
            Some("users_id_seq1")
        );
        assert_eq!(
            column(&schema, "users", "id").default.as_deref(),
            Some("nextval('users_id_seq1'::regclass)")
        );
        let uniques: Vec<&str> = users.uniques.iter().map(|u| u.name.as_str()).collect();
        // The table-level constraint and the column's flag declare the same key: one index.
        assert_eq!(uniques, ["users_email_key"]);
        let checks: Vec<&str> = users.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(checks, ["users_score_check", "users_check"]);
    }

    #[test]
    fn create_table_keeps_one_index_per_column_list() {
        let mut id = pk("id", "integer");
        id.unique = true;
        let mut code = col("code", "text");
        code.unique = true;
        let schema = clean(vec![create_with(
            "t",
            vec![id, code],
            vec![
                Constraint::Unique {
                    name: None,
                    columns: vec!["code".into()],
                },
                Constraint::Unique {
                    name: Some("t_code_unique".into()),
                    columns: vec!["code".into()],
                },
            ],
        )]);
        let t = table(&schema, "t");
        assert_eq!(
            t.primary_key.as_ref().map(|k| k.name.as_str()),
            Some("t_pkey")
        );
        let uniques: Vec<(&str, &[String])> = t
            .uniques
            .iter()
            .map(|u| (u.name.as_str(), u.columns.as_slice()))
            .collect();
        assert_eq!(uniques, [("t_code_unique", &["code".to_owned()][..])]);
        // Added one by one, two unique constraints over the same column both stay.
        let schema = clean(vec![
            create("u", vec![col("code", "text")]),
            Op::AddConstraint {
                table: q("u"),
                constraint: Constraint::Unique {
                    name: None,
                    columns: vec!["code".into()],
                },
            },
            Op::AddConstraint {
                table: q("u"),
                constraint: Constraint::Unique {
                    name: None,
                    columns: vec!["code".into()],
                },
            },
        ]);
        let names: Vec<&str> = table(&schema, "u")
            .uniques
            .iter()
            .map(|u| u.name.as_str())
            .collect();
        assert_eq!(names, ["u_code_key", "u_code_key1"]);
    }

    #[test]
    fn column_flags_add_indexes_and_constraints() {
        let mut name = col("name", "text");
        name.index = true;
        let mut code = col("code", "text");
        code.index = true;
        code.unique = true;
        let mut email = col("email", "text");
        email.unique = true;
        let schema = clean(vec![Op::CreateTable {
            table: QualName::new(Some("app"), "people"),
            columns: vec![pk("id", "integer"), name, code, email],
            constraints: Vec::new(),
            indexes: vec![IndexDef {
                name: Some("ix_people_lower".into()),
                columns: vec!["lower(name)".into()],
                unique: false,
            }],
        }]);
        let people = schema.table("app", "people").expect("app.people");
        let indexes: Vec<(&str, bool)> = people
            .indexes
            .iter()
            .map(|i| (i.name.as_str(), i.unique))
            .collect();
        assert_eq!(
            indexes,
            [
                ("ix_app_people_name", false),
                ("ix_app_people_code", true),
                ("ix_people_lower", false)
            ]
        );
        let uniques: Vec<&str> = people.uniques.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(uniques, ["people_email_key"]);
        assert_eq!(
            people.columns[0].default.as_deref(),
            Some("nextval('app.people_id_seq'::regclass)")
        );
    }

    #[test]
    fn add_column_with_primary_key_flag_is_serial_without_a_key() {
        let mut newid = pk("newid", "integer");
        newid.span = Some(span(7));
        let schema = clean(vec![
            create("t", vec![col("a", "text")]),
            Op::AddColumn {
                table: q("t"),
                column: newid,
            },
        ]);
        let t = table(&schema, "t");
        assert!(t.primary_key.is_none());
        let newid = column(&schema, "t", "newid");
        assert!(newid.sequence.is_some());
        assert!(!newid.nullable);
        assert_eq!(
            newid.created_by.as_ref().map(|o| o.span.clone()),
            Some(span(7))
        );
    }

    #[test]
    fn primary_key_replacement() {
        let schema = clean(vec![
            create("users", vec![pk("id", "integer"), col("email", "text")]),
            Op::DropConstraint {
                table: q("users"),
                name: "users_pkey".into(),
                kind: Some(ConstraintKind::PrimaryKey),
            },
            Op::AddConstraint {
                table: q("users"),
                constraint: Constraint::PrimaryKey {
                    name: None,
                    columns: vec!["email".into()],
                },
            },
        ]);
        let users = table(&schema, "users");
        let key = users.primary_key.as_ref().expect("a key");
        assert_eq!(
            (key.name.as_str(), key.columns.clone()),
            ("users_pkey", vec!["email".to_owned()])
        );
        assert_eq!(key.set_by.as_ref().map(|o| o.span.clone()), Some(span(102)));
        let email = column(&schema, "users", "email");
        assert!(!email.nullable, "a primary key makes its column NOT NULL");
        assert_eq!(
            email.nullable_set_by.as_ref().map(|o| o.span.clone()),
            Some(span(102))
        );
        // The old key column keeps its NOT NULL and its sequence.
        assert!(!column(&schema, "users", "id").nullable);
        assert!(column(&schema, "users", "id").sequence.is_some());
    }

    #[test]
    fn renames_keep_sequence_and_constraint_names() {
        let mut team = col("team_id", "integer");
        team.foreign_keys.push(ForeignKeyRef {
            name: None,
            table: q("teams"),
            column: "id".into(),
            on_delete: None,
            on_update: None,
        });
        team.index = true;
        let schema = clean(vec![
            create("teams", vec![pk("id", "integer"), col("name", "text")]),
            create("members", vec![pk("id", "integer"), team]),
            Op::RenameTable {
                table: q("teams"),
                new_name: "squads".into(),
            },
            alter_op(alter("squads", "id"), None, None, None, Some("squad_id")),
            alter_op(
                alter("members", "team_id"),
                None,
                None,
                None,
                Some("squad_id"),
            ),
            Op::AddConstraint {
                table: q("squads"),
                constraint: Constraint::Check {
                    name: None,
                    sql: "length(name) > 0".into(),
                },
            },
            alter_op(alter("squads", "name"), None, None, None, Some("title")),
        ]);
        let squads = table(&schema, "squads");
        assert!(schema.table("public", "teams").is_none());
        let key = squads.primary_key.as_ref().expect("a key");
        assert_eq!(
            (key.name.as_str(), key.columns.clone()),
            ("teams_pkey", vec!["squad_id".to_owned()])
        );
        let id = column(&schema, "squads", "squad_id");
        assert_eq!(
            id.default.as_deref(),
            Some("nextval('teams_id_seq'::regclass)")
        );
        let seq = &schema.sequences[&("public".to_owned(), "teams_id_seq".to_owned())];
        assert_eq!(
            seq.owned_by,
            Some(("public".into(), "squads".into(), "squad_id".into()))
        );
        assert_eq!(squads.checks[0].sql, "length(title) > 0");
        assert_eq!(squads.checks[0].name, "squads_name_check");
        let members = table(&schema, "members");
        let fk = &members.foreign_keys[0];
        assert_eq!(fk.name, "members_team_id_fkey");
        assert_eq!(fk.columns, ["squad_id"]);
        assert_eq!(
            (fk.ref_table.as_str(), fk.ref_columns.clone()),
            ("squads", vec!["squad_id".to_owned()])
        );
        assert_eq!(members.indexes[0].name, "ix_members_team_id");
        assert_eq!(members.indexes[0].columns, ["squad_id"]);
    }

    #[test]
    fn drops_take_their_dependents_along() {
        let mut team = col("team_id", "integer");
        team.foreign_keys.push(ForeignKeyRef {
            name: Some("fk_team".into()),
            table: q("teams"),
            column: "id".into(),
            on_delete: None,
            on_update: None,
        });
        let mut code = col("code", "text");
        code.unique = true;
        let schema = clean(vec![
            create(
                "teams",
                vec![pk("id", "integer"), code, col("x", "integer")],
            ),
            create("members", vec![pk("id", "integer"), team]),
            Op::CreateIndex {
                table: q("teams"),
                index: IndexDef {
                    name: Some("ix_teams_code_x".into()),
                    columns: vec!["code".into(), "x".into()],
                    unique: false,
                },
                concurrently: false,
            },
            Op::DropColumn {
                table: q("teams"),
                column: "code".into(),
            },
            Op::DropColumn {
                table: q("members"),
                column: "id".into(),
            },
            Op::DropTable { table: q("teams") },
        ]);
        assert!(schema.table("public", "teams").is_none());
        let members = table(&schema, "members");
        assert!(members.primary_key.is_none());
        assert!(
            members.foreign_keys.is_empty(),
            "the key into teams is gone"
        );
        assert!(schema.sequences.is_empty(), "{:?}", sequence_names(&schema));
    }

    #[test]
    fn a_reference_without_columns_means_the_primary_key() {
        let schema = clean(vec![
            create("teams", vec![pk("id", "integer")]),
            create_with(
                "members",
                vec![col("team", "integer")],
                vec![Constraint::ForeignKey {
                    name: None,
                    columns: vec!["team".into()],
                    ref_table: q("teams"),
                    ref_columns: Vec::new(),
                    on_delete: None,
                    on_update: None,
                }],
            ),
        ]);
        assert_eq!(
            table(&schema, "members").foreign_keys[0].ref_columns,
            ["id"]
        );
    }

    #[test]
    fn drop_column_removes_what_uses_it() {
        let schema = clean(vec![
            create(
                "t",
                vec![pk("id", "integer"), col("a", "text"), col("b", "text")],
            ),
            Op::AddConstraint {
                table: q("t"),
                constraint: Constraint::Unique {
                    name: None,
                    columns: vec!["a".into(), "b".into()],
                },
            },
            Op::AddConstraint {
                table: q("t"),
                constraint: Constraint::Check {
                    name: Some("ck_a".into()),
                    sql: "a <> ''".into(),
                },
            },
            Op::CreateIndex {
                table: q("t"),
                index: IndexDef {
                    name: Some("ix_lower_a".into()),
                    columns: vec!["lower(a)".into()],
                    unique: false,
                },
                concurrently: false,
            },
            Op::CreateIndex {
                table: q("t"),
                index: IndexDef {
                    name: Some("ix_b".into()),
                    columns: vec!["b".into()],
                    unique: false,
                },
                concurrently: false,
            },
            Op::DropColumn {
                table: q("t"),
                column: "a".into(),
            },
        ]);
        let t = table(&schema, "t");
        assert!(t.uniques.is_empty());
        assert!(t.checks.is_empty());
        let indexes: Vec<&str> = t.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(indexes, ["ix_b"]);
    }

    #[test]
    fn alter_column_records_where_state_came_from() {
        let schema = clean(vec![
            create(
                "users",
                vec![
                    pk("id", "integer"),
                    col("locked_until", "timestamp without time zone"),
                ],
            ),
            alter_op(
                alter("users", "locked_until"),
                None,
                Some(false),
                None,
                None,
            ),
            alter_op(alter("users", "locked_until"), None, Some(true), None, None),
            alter_op(
                alter("users", "locked_until"),
                Some(ty("timestamp with time zone")),
                None,
                Some(Some("now()".into())),
                None,
            ),
            alter_op(alter("users", "id"), None, None, Some(None), None),
        ]);
        let locked = column(&schema, "users", "locked_until");
        assert!(locked.nullable);
        assert_eq!(
            locked.nullable_set_by.as_ref().map(|o| o.span.clone()),
            Some(span(102))
        );
        assert_eq!(
            locked.type_set_by.as_ref().map(|o| o.span.clone()),
            Some(span(103))
        );
        assert_eq!(
            locked.created_by.as_ref().map(|o| o.span.clone()),
            Some(span(100))
        );
        assert_eq!(
            locked.nullable_set_by.as_ref().map(|o| o.revision.as_str()),
            Some("r1")
        );
        assert_eq!(locked.ty, ty("timestamp with time zone"));
        assert_eq!(locked.default.as_deref(), Some("now()"));
        let id = column(&schema, "users", "id");
        assert_eq!(id.default, None);
        assert_eq!(id.sequence, None, "the sequence no longer feeds the column");
        assert_eq!(
            schema.sequences.len(),
            1,
            "but it still exists, owned by the column"
        );
    }

    #[test]
    fn misfits_are_problems_not_panics() {
        let replay = run(vec![
            create("t", vec![pk("id", "integer")]),
            create("t", vec![pk("id", "integer")]),
            Op::DropColumn {
                table: q("t"),
                column: "nope".into(),
            },
            Op::DropTable { table: q("gone") },
            alter_op(alter("t", "nope"), None, Some(false), None, None),
            alter_op(alter("t", "id"), None, Some(true), None, None),
            Op::DropConstraint {
                table: q("t"),
                name: "t_nope".into(),
                kind: None,
            },
            Op::DropIndex {
                schema: None,
                name: "t_pkey".into(),
                table: None,
            },
            Op::AddConstraint {
                table: q("t"),
                constraint: Constraint::PrimaryKey {
                    name: None,
                    columns: vec!["id".into()],
                },
            },
            Op::AddColumn {
                table: q("t"),
                column: col("id", "text"),
            },
            Op::Unmodeled {
                what: "op.add_column inside a for loop".into(),
                tables: vec![q("t")],
            },
        ]);
        let messages: Vec<(u32, &str)> = replay
            .problems
            .iter()
            .map(|p| (p.span.range.start, p.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [
                (101, "relation public.t already exists"),
                (102, "column nope of table public.t does not exist"),
                (103, "table public.gone does not exist"),
                (104, "column nope of table public.t does not exist"),
                (
                    105,
                    "public.t.id is in the primary key; PostgreSQL refuses to make it nullable"
                ),
                (106, "constraint t_nope of table public.t does not exist"),
                (
                    107,
                    "index public.t_pkey belongs to a constraint of table public.t; PostgreSQL \
                     refuses to drop it (drop the constraint instead)"
                ),
                (
                    108,
                    "table public.t already has a primary key (t_pkey); PostgreSQL refuses a second one"
                ),
                (109, "column id of table public.t already exists"),
            ]
        );
        assert!(
            replay
                .problems
                .iter()
                .all(|p| p.revision == "r1" && p.revision_index == 0)
        );
        assert!(!column(&replay.schema, "t", "id").nullable);
    }

    #[test]
    fn guarded_operations_are_quiet_when_already_done() {
        let guarded = |op: Op| Op::Guarded { op: Box::new(op) };
        let schema = clean(vec![
            create("t", vec![pk("id", "integer")]),
            guarded(create("t", vec![col("other", "text")])),
            guarded(Op::AddColumn {
                table: q("t"),
                column: col("id", "text"),
            }),
            guarded(Op::AddColumn {
                table: q("t"),
                column: col("name", "text"),
            }),
            guarded(Op::DropColumn {
                table: q("t"),
                column: "nope".into(),
            }),
            guarded(Op::DropTable { table: q("gone") }),
            guarded(Op::DropIndex {
                schema: None,
                name: "ix_gone".into(),
                table: None,
            }),
            guarded(Op::DropConstraint {
                table: q("t"),
                name: "gone".into(),
                kind: None,
            }),
        ]);
        let names: Vec<&str> = table(&schema, "t")
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["id", "name"]);
        assert_eq!(column(&schema, "t", "id").ty, ty("integer"));
    }

    #[test]
    fn indexes_sequences_and_enums() {
        let schema = clean(vec![
            create("t", vec![pk("id", "integer"), col("a", "text")]),
            Op::CreateIndex {
                table: q("t"),
                index: IndexDef {
                    name: None,
                    columns: vec!["a".into()],
                    unique: false,
                },
                concurrently: true,
            },
            Op::RenameIndex {
                schema: None,
                name: "ix_t_a".into(),
                new_name: "ix_t_a2".into(),
            },
            Op::RenameIndex {
                schema: None,
                name: "t_pkey".into(),
                new_name: "t_pk".into(),
            },
            Op::CreateSequence {
                name: q("counter"),
                start: Some(100),
                increment: None,
            },
            Op::CreateEnum {
                name: q("mood"),
                values: vec!["sad".into(), "ok".into()],
            },
            Op::AddColumn {
                table: q("t"),
                column: col("mood", "mood"),
            },
            alter_op(
                alter("t", "a"),
                None,
                None,
                Some(Some("nextval('counter'::regclass)".into())),
                None,
            ),
        ]);
        let t = table(&schema, "t");
        assert_eq!(t.indexes[0].name, "ix_t_a2");
        assert_eq!(
            t.primary_key.as_ref().map(|k| k.name.as_str()),
            Some("t_pk")
        );
        assert_eq!(
            schema.sequences[&("public".to_owned(), "counter".to_owned())].start,
            100
        );
        assert_eq!(
            column(&schema, "t", "a").sequence,
            Some(("public".to_owned(), "counter".to_owned()))
        );
        assert_eq!(
            schema.enums[&("public".to_owned(), "mood".to_owned())],
            ["sad", "ok"]
        );
        let replay = run(vec![
            Op::CreateEnum {
                name: q("mood"),
                values: vec![],
            },
            create("t", vec![col("m", "mood")]),
            Op::DropEnum { name: q("mood") },
            Op::CreateSequence {
                name: q("s"),
                start: None,
                increment: None,
            },
            alter_op(
                alter("t", "m"),
                Some(ty("text")),
                None,
                Some(Some("nextval('s')".into())),
                None,
            ),
            Op::DropSequence { name: q("s") },
        ]);
        let messages: Vec<&str> = replay.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "type public.mood is used by public.t.m; PostgreSQL refuses to drop it",
                "sequence public.s feeds public.t.m; PostgreSQL refuses to drop it"
            ]
        );
    }

    #[test]
    fn long_names_are_cut_as_postgresql_cuts_them() {
        let long = "a_table_name_that_is_far_longer_than_postgresql_allows_for_names_really";
        let schema = clean(vec![create(long, vec![pk("id", "integer")])]);
        let (key, only) = schema.tables.iter().next().expect("one table");
        assert_eq!(key.1.len(), 63);
        assert_eq!(only.name, &long[..63]);
        let seq = only.columns[0].sequence.as_ref().expect("serial").1.clone();
        assert_eq!(seq.len(), 63);
        assert!(seq.ends_with("_id_seq"));
    }

    #[test]
    fn replays_only_what_the_targets_need() {
        let base = revision("base", &[], vec![create("a", vec![pk("id", "integer")])]);
        let left = revision(
            "left",
            &["base"],
            vec![create("b", vec![pk("id", "integer")])],
        );
        let right = revision(
            "right",
            &["base"],
            vec![create("c", vec![pk("id", "integer")])],
        );
        let mut needs_left = revision(
            "after",
            &["right"],
            vec![Op::AddColumn {
                table: q("b"),
                column: col("x", "text"),
            }],
        );
        needs_left.depends_on.push("left".to_owned());
        let revisions = vec![needs_left, right, left, base];
        let graph = RevisionGraph::build(&revisions);
        let only_right = replay(&revisions, &graph, &[1]);
        let tables: Vec<&str> = only_right
            .schema
            .tables
            .keys()
            .map(|(_, n)| n.as_str())
            .collect();
        assert_eq!(tables, ["a", "c"]);
        let heads = replay_heads(&revisions, &graph);
        assert!(heads.problems.is_empty(), "{:#?}", heads.problems);
        let tables: Vec<&str> = heads
            .schema
            .tables
            .keys()
            .map(|(_, n)| n.as_str())
            .collect();
        assert_eq!(tables, ["a", "b", "c"]);
        assert!(column(&heads.schema, "b", "x").nullable);
        assert_eq!(
            column(&heads.schema, "b", "x")
                .created_by
                .as_ref()
                .map(|o| o.revision.as_str()),
            Some("after")
        );
    }

    #[test]
    fn replaying_thousands_of_revisions_is_linear() {
        // 5,000 revisions of five operations each, as the synthetic benchmark tree has.
        let mut revisions = Vec::new();
        for i in 0..5000usize {
            let id = format!("r{i}");
            let down = if i == 0 {
                Vec::new()
            } else {
                vec![format!("r{}", i - 1)]
            };
            let table = format!("t{}", i / 5);
            let ops = if i % 5 == 0 {
                vec![
                    create(&table, vec![pk("id", "integer"), col("a", "text")]),
                    Op::CreateIndex {
                        table: q(&table),
                        index: IndexDef {
                            name: None,
                            columns: vec!["a".into()],
                            unique: false,
                        },
                        concurrently: false,
                    },
                    Op::AddColumn {
                        table: q(&table),
                        column: col("b", "integer"),
                    },
                    alter_op(alter(&table, "b"), None, Some(false), None, None),
                    alter_op(alter(&table, "a"), Some(ty("integer")), None, None, None),
                ]
            } else {
                let n = i % 5;
                vec![
                    Op::AddColumn {
                        table: q(&table),
                        column: col(&format!("c{n}"), "text"),
                    },
                    alter_op(
                        alter(&table, &format!("c{n}")),
                        None,
                        Some(false),
                        None,
                        None,
                    ),
                    Op::AddColumn {
                        table: q(&table),
                        column: col(&format!("d{n}"), "text"),
                    },
                    Op::DropColumn {
                        table: q(&table),
                        column: format!("d{n}"),
                    },
                    alter_op(
                        alter(&table, &format!("c{n}")),
                        None,
                        None,
                        None,
                        Some(&format!("e{n}")),
                    ),
                ]
            };
            let mut rev = revision(&id, &[], ops);
            rev.down_revisions = down;
            revisions.push(rev);
        }
        // Building the graph of a 5,000-long chain recurses once per revision (petgraph's
        // `tarjan_scc`), more than a test thread's default stack holds in a debug build.
        let (result, elapsed) = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || {
                let graph = RevisionGraph::build(&revisions);
                let started = std::time::Instant::now();
                let result = replay_heads(&revisions, &graph);
                (result, started.elapsed())
            })
            .expect("a thread starts")
            .join()
            .expect("the replay does not panic");
        assert!(
            result.problems.is_empty(),
            "{:#?}",
            &result.problems[..3.min(result.problems.len())]
        );
        assert_eq!(result.schema.tables.len(), 1000);
        assert_eq!(table(&result.schema, "t999").columns.len(), 7);
        eprintln!("replayed 5,000 revisions (25,000 operations) in {elapsed:?}");
    }
}
