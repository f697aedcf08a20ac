//! The live check's picture of the database against the migrations, computed once before the
//! live rules run: where the database is in the revision graph (the rows of its version table),
//! the migrations replayed to that position, and, for every revision that position makes
//! applied or pending, the changes the revision makes to the schema and whether each of them is
//! in the database.
//!
//! A revision's *changes* are read off the replayed schema, not guessed from the operations: a
//! table or column counts as the change of the revision that created it (or, after a rename, of
//! the revision that renamed it) and that still explains it in the replay; a type, a nullability
//! or a primary key counts as the change of a later revision that set it (`type_set_by`,
//! `nullable_set_by`, `set_by`); a table or column dropped in the migrations and absent from the
//! replay counts as the change of the last revision that drops it. Each change is then looked up
//! in the live schema: *present*, *absent*, or (when what it is about is itself missing, such as
//! the type of a column that does not exist) not counted. A revision is `Present` when all its
//! counted changes are present, `Absent` when none is, `Partial` when some are, `Empty` when it
//! has none to count (a data migration).
//!
//! From those statuses, over the applied revisions in graph order:
//! - the *absent tail*: an applied revision that is `Absent` and after which (among its applied
//!   descendants) nothing is `Present` or `Partial`, with all its applied descendants. This is
//!   what `alembic stamp` without `upgrade` leaves: `stamped-not-applied`.
//! - a *partial tail* revision: an applied revision that is `Partial` and after which nothing is
//!   `Present` or `Partial`: the newest revision that reached the database, but only in part
//!   (an interrupted migration that was then stamped): `partially-applied-revision`.
//! - anything else that is absent (a revision whose later revisions did reach the database) is
//!   a manual change, reported object by object by the comparison rules.
//!
//! For pending revisions, only changes that do not already hold at the database's revision count;
//! a pending revision that is `Partial` is an interrupted migration (`partially-applied-revision`),
//! one that is `Present` was applied without being recorded (noted by `database-behind-head`).
//!
//! The objects those findings explain (every change of the absent tail, of partial revisions and
//! of pending revisions) are not reported again by the comparison and untracked rules: one
//! finding per problem.
//!
//! Limits, by construction: the schema cannot tell a revision that never ran from one whose
//! changes were all undone by hand, so when the newest applied revision's changes are all
//! absent it is taken for a stamp; and for applied revisions a change that already held before
//! the revision (an `alter_column` to the type the column had) counts as present.
//!
//! Invariant: pure. The state is built from a [`LiveSnapshot`] that `cli` read beforehand; no I/O
//! happens here or in any rule.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::alembic::Revision;
use crate::expect::Expectations;
use crate::graph::{EdgeKind, RevisionGraph};
use crate::live::LiveSnapshot;
use crate::replay::{DEFAULT_SCHEMA, replay};
use crate::schema::model::{Origin, Schema, Table, TableKey};
use crate::schema::names::truncate_identifier;
use crate::schema::ops::{Op, QualName};
use crate::schema::types::PgType;
use crate::source::Span;

mod facts;
mod state;

use facts::*;

/// Where the database stands in the revision graph, from the rows of its version table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// There is no version table.
    NoVersionTable,
    /// The version table exists, as `(schema, table)`, and has no row.
    EmptyVersionTable(TableKey),
    /// At least one row names a revision that no file defines.
    Unknown {
        unknown: Vec<String>,
        /// The rows that the graph does know, as revision indices.
        known: Vec<usize>,
    },
    /// Every row names a known revision (indices into the revisions, in row order).
    At(Vec<usize>),
}

/// How much of a revision's changes is in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Present,
    Absent,
    Partial,
    /// Nothing to count: the revision changes no table, column, type, nullability or key that
    /// the database could show.
    Empty,
}

/// What a revision does to one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    CreatesTable,
    RenamesTable { from: String },
    DropsTable,
    AddsColumn,
    RenamesColumn { from: String },
    DropsColumn,
    SetsType(PgType),
    SetsNullable(bool),
    SetsPrimaryKey(Vec<String>),
}

/// One change of one revision, and whether the database has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    /// The revision's index.
    pub revision: usize,
    pub schema: String,
    pub table: String,
    pub column: Option<String>,
    pub change: Change,
    /// The operation in the revision file that makes the change.
    pub span: Span,
    pub present: bool,
    /// The database's side, in words: `column public.users.is_guest does not exist`,
    /// `column public.users.email is text, not character varying(255)`.
    pub text: String,
}

impl Fact {
    /// `public.users` or `public.users.is_guest`.
    pub fn object_name(&self) -> String {
        match &self.column {
            Some(column) => format!("{}.{}.{column}", self.schema, self.table),
            None => format!("{}.{}", self.schema, self.table),
        }
    }

    /// Whether the change is about a whole table (its existence), rather than a column or a key.
    pub fn is_about_whole_table(&self) -> bool {
        matches!(
            self.change,
            Change::CreatesTable | Change::RenamesTable { .. } | Change::DropsTable
        )
    }
}

/// The changes of one revision and what they add up to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionFacts {
    pub revision: usize,
    pub facts: Vec<Fact>,
}

impl RevisionFacts {
    pub fn status(&self) -> Status {
        let present = self.facts.iter().filter(|fact| fact.present).count();
        match (present, self.facts.len() - present) {
            (0, 0) => Status::Empty,
            (_, 0) => Status::Present,
            (0, _) => Status::Absent,
            _ => Status::Partial,
        }
    }

    pub fn present(&self) -> impl Iterator<Item = &Fact> {
        self.facts.iter().filter(|fact| fact.present)
    }

    pub fn absent(&self) -> impl Iterator<Item = &Fact> {
        self.facts.iter().filter(|fact| !fact.present)
    }
}

/// How a revision made a table or column go away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    Drop,
    Rename,
}

/// The revision (and operation) that removes a table or column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovedBy {
    pub revision: usize,
    pub span: Span,
    pub removal: Removal,
}

/// How to record the database's schema in the version table when it has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StampSuggestion {
    /// Nothing the migrations create is there: run them all.
    UpgradeFromEmpty,
    /// The schema has every change of these revisions (and their ancestors) and none of the
    /// others: stamp them. `complete` when they are the heads.
    Stamp {
        revisions: Vec<usize>,
        complete: bool,
    },
}

/// The database's objects the live findings about revisions already explain, so that the
/// comparison and untracked rules leave them alone.
#[derive(Clone, Debug, Default)]
struct Explained {
    tables: HashSet<TableKey>,
    columns: HashSet<(String, String, String)>,
    primary_keys: HashSet<TableKey>,
}

impl Explained {
    fn add(&mut self, fact: &Fact) {
        let table = TableKey::new(fact.schema.clone(), fact.table.clone());
        if fact.is_about_whole_table() {
            self.tables.insert(table);
            if let Change::RenamesTable { from } = &fact.change {
                self.tables
                    .insert(TableKey::new(fact.schema.clone(), from.clone()));
            }
        } else if let Change::SetsPrimaryKey(_) = fact.change {
            self.primary_keys.insert(table);
        } else if let Some(column) = &fact.column {
            self.columns
                .insert((fact.schema.clone(), fact.table.clone(), column.clone()));
            if let Change::RenamesColumn { from } = &fact.change {
                self.columns
                    .insert((fact.schema.clone(), fact.table.clone(), from.clone()));
            }
        }
    }
}

/// Everything the live rules look at.
#[derive(Debug)]
pub struct LiveState {
    pub snapshot: LiveSnapshot,
    pub position: Position,
    /// The migrations replayed to the database's revisions; `None` when the database records no
    /// revision or one the graph lacks.
    pub schema_at_database: Option<Schema>,
    /// The revisions the database's position includes (its rows and their ancestors through
    /// `down_revision` and `depends_on`), in graph order. Empty unless the position is known.
    pub applied: Vec<usize>,
    /// The revisions not applied, in graph order: what `alembic upgrade heads` would run.
    pub pending: Vec<usize>,
    /// The changes of every applied and pending revision, by revision index.
    pub facts: BTreeMap<usize, RevisionFacts>,
    /// The absent tail (see the module documentation), in graph order.
    pub absent_tail: Vec<usize>,
    /// The revisions whose schema the database really has when the absent tail is set aside:
    /// the newest applied revisions outside it (empty when nothing was applied).
    pub schema_position: Vec<usize>,
    /// Applied revisions that reached the database only in part and are the newest to reach it.
    pub partial_applied: Vec<usize>,
    /// Pending revisions some but not all of whose changes are in the database.
    pub partial_pending: Vec<usize>,
    /// Pending revisions all of whose changes are in the database.
    pub present_pending: Vec<usize>,
    /// When the database records no revision: the revision its schema matches, if one does.
    pub stamp_suggestion: Option<StampSuggestion>,
    /// The schemas whose tables the migrations or the expectations mention; untracked objects
    /// are looked for only there.
    pub tracked_schemas: BTreeSet<String>,
    /// Tables named by an operation the replay cannot model, or by one that did not fit the
    /// schema replayed before it, in an applied revision (in any revision, when the position is
    /// unknown): the replay may be wrong about them, so they are not compared with it.
    pub unsure_tables: HashSet<TableKey>,
    /// Every table and column some revision creates (or renames something to), whatever the
    /// database's position.
    created_tables: HashSet<TableKey>,
    created_columns: HashSet<(String, String, String)>,
    /// The last applied revision dropping (or renaming away) each table (`None` column) or
    /// column.
    dropped_by: HashMap<(String, String, Option<String>), RemovedBy>,
    explained: Explained,
}

/// The rows of the version table, placed in the graph.
pub(super) fn position_of(snapshot: &LiveSnapshot, graph: &RevisionGraph) -> Position {
    let Some(rows) = &snapshot.versions else {
        return Position::NoVersionTable;
    };
    if rows.is_empty() {
        return Position::EmptyVersionTable(
            snapshot
                .version_table
                .clone()
                .unwrap_or_else(|| TableKey::new(DEFAULT_SCHEMA, "alembic_version")),
        );
    }
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for row in rows {
        match graph.index_of(row) {
            Some(index) => {
                if !known.contains(&index) {
                    known.push(index);
                }
            }
            None => unknown.push(row.clone()),
        }
    }
    if unknown.is_empty() {
        Position::At(known)
    } else {
        Position::Unknown { unknown, known }
    }
}

/// The schemas the migrations (any operation's table, or the replayed schema) and the
/// expectations name.
pub(super) fn tracked_schemas(
    revisions: &[Revision],
    head_schema: &Schema,
    expectations: Option<&Expectations>,
) -> BTreeSet<String> {
    let mut schemas: BTreeSet<String> = head_schema
        .tables
        .keys()
        .map(|TableKey { schema, name: _ }| schema.clone())
        .collect();
    for revision in revisions {
        for op in &revision.upgrade {
            if let Some(table) = op_table(&op.op) {
                schemas.insert(table.key().schema);
            }
        }
    }
    if let Some(expectations) = expectations {
        schemas.extend(expectations.tables.iter().map(|table| table.schema.clone()));
    }
    schemas
}

/// The table an operation works on, when it names one.
pub(super) fn op_table(op: &Op) -> Option<&QualName> {
    match op {
        Op::CreateTable { table, .. }
        | Op::DropTable { table }
        | Op::RenameTable { table, .. }
        | Op::AddColumn { table, .. }
        | Op::DropColumn { table, .. }
        | Op::AlterColumn { table, .. }
        | Op::AddConstraint { table, .. }
        | Op::DropConstraint { table, .. }
        | Op::CreateIndex { table, .. }
        | Op::RenameConstraint { table, .. } => Some(table),
        Op::Guarded { op } => op_table(op),
        _ => None,
    }
}

/// Whether two types are the same type: each matches the other, so that a length or precision
/// on one side only is a difference.
pub fn same_type(a: &PgType, b: &PgType) -> bool {
    a.matches(b) && b.matches(a)
}

pub(super) fn nullability(nullable: bool) -> &'static str {
    if nullable { "nullable" } else { "NOT NULL" }
}
#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests;
