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
use crate::schema::model::{Origin, Schema, Table};
use crate::schema::names::truncate_identifier;
use crate::schema::ops::{Op, QualName};
use crate::schema::types::PgType;
use crate::source::Span;

/// Where the database stands in the revision graph, from the rows of its version table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// There is no version table.
    NoVersionTable,
    /// The version table exists, as `(schema, table)`, and has no row.
    EmptyVersionTable((String, String)),
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
    tables: HashSet<(String, String)>,
    columns: HashSet<(String, String, String)>,
    primary_keys: HashSet<(String, String)>,
}

impl Explained {
    fn add(&mut self, fact: &Fact) {
        let table = (fact.schema.clone(), fact.table.clone());
        if fact.is_about_whole_table() {
            self.tables.insert(table);
            if let Change::RenamesTable { from } = &fact.change {
                self.tables.insert((fact.schema.clone(), from.clone()));
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
    pub unsure_tables: HashSet<(String, String)>,
    /// Every table and column some revision creates (or renames something to), whatever the
    /// database's position.
    created_tables: HashSet<(String, String)>,
    created_columns: HashSet<(String, String, String)>,
    /// The last applied revision dropping (or renaming away) each table (`None` column) or
    /// column.
    dropped_by: HashMap<(String, String, Option<String>), RemovedBy>,
    explained: Explained,
}

impl LiveState {
    /// Works out the database's position and the status of every revision. `head_schema` is the
    /// replay to every head, as the static rules use it.
    pub fn new(
        snapshot: LiveSnapshot,
        revisions: &[Revision],
        graph: &RevisionGraph,
        head_schema: &Schema,
        expectations: Option<&Expectations>,
    ) -> LiveState {
        let scope = Scope::new(revisions, graph);
        let position = position_of(&snapshot, graph);
        let mut state = LiveState {
            position: position.clone(),
            schema_at_database: None,
            applied: Vec::new(),
            pending: Vec::new(),
            facts: BTreeMap::new(),
            absent_tail: Vec::new(),
            schema_position: Vec::new(),
            partial_applied: Vec::new(),
            partial_pending: Vec::new(),
            present_pending: Vec::new(),
            stamp_suggestion: None,
            tracked_schemas: tracked_schemas(revisions, head_schema, expectations),
            unsure_tables: HashSet::new(),
            created_tables: HashSet::new(),
            created_columns: HashSet::new(),
            dropped_by: HashMap::new(),
            explained: Explained::default(),
            snapshot,
        };
        state.record_created_objects(&scope);
        match position {
            Position::At(rows) => state.analyse_position(&scope, &rows, head_schema),
            Position::NoVersionTable | Position::EmptyVersionTable(_) => {
                state.unsure_tables = scope.unmodeled_tables(&|_| true);
                state.stamp_suggestion = state.suggest_stamp(&scope, head_schema);
            }
            Position::Unknown { .. } => {
                state.unsure_tables = scope.unmodeled_tables(&|_| true);
                // Which revision the schema matches tells what to re-record the version table as.
                state.stamp_suggestion = state.suggest_stamp(&scope, head_schema);
            }
        }
        state
    }

    /// The live schema.
    pub fn live(&self) -> &Schema {
        &self.snapshot.schema
    }

    /// The version table, as `(schema, table)`, when there is one.
    pub fn version_table(&self) -> Option<&(String, String)> {
        self.snapshot.version_table.as_ref()
    }

    /// The revision indices the version table names, when all are known.
    pub fn database_revisions(&self) -> Option<&[usize]> {
        match &self.position {
            Position::At(rows) => Some(rows),
            _ => None,
        }
    }

    /// Whether a finding about the table as a whole is already made by a revision-level finding.
    pub fn explains_table(&self, schema: &str, table: &str) -> bool {
        self.explained
            .tables
            .contains(&(schema.to_owned(), table.to_owned()))
    }

    /// Whether a finding about the column is already made by a revision-level finding.
    pub fn explains_column(&self, schema: &str, table: &str, column: &str) -> bool {
        self.explains_table(schema, table)
            || self.explained.columns.contains(&(
                schema.to_owned(),
                table.to_owned(),
                column.to_owned(),
            ))
    }

    /// Whether a finding about the table's primary key is already made by a revision-level
    /// finding.
    pub fn explains_primary_key(&self, schema: &str, table: &str) -> bool {
        self.explains_table(schema, table)
            || self
                .explained
                .primary_keys
                .contains(&(schema.to_owned(), table.to_owned()))
    }

    /// Whether some revision creates this table (or renames another to it).
    pub fn some_migration_creates_table(&self, schema: &str, table: &str) -> bool {
        self.created_tables
            .contains(&(schema.to_owned(), table.to_owned()))
    }

    /// Whether some revision creates this column (or renames another to it).
    pub fn some_migration_creates_column(&self, schema: &str, table: &str, column: &str) -> bool {
        self.created_columns
            .contains(&(schema.to_owned(), table.to_owned(), column.to_owned()))
    }

    /// The last applied revision that drops (or renames away) the table (`column` `None`) or
    /// column.
    pub fn dropped_by(
        &self,
        schema: &str,
        table: &str,
        column: Option<&str>,
    ) -> Option<&RemovedBy> {
        self.dropped_by.get(&(
            schema.to_owned(),
            table.to_owned(),
            column.map(str::to_owned),
        ))
    }

    /// The change of an applied or pending revision that renames something to this table
    /// (`column` `None`) or column, if one explains it.
    pub fn renamed_by(&self, schema: &str, table: &str, column: Option<&str>) -> Option<&Fact> {
        self.facts
            .values()
            .flat_map(|facts| &facts.facts)
            .find(|fact| {
                matches!(
                    fact.change,
                    Change::RenamesTable { .. } | Change::RenamesColumn { .. }
                ) && fact.schema == schema
                    && fact.table == table
                    && fact.column.as_deref() == column
            })
    }

    /// Whether the replay may be wrong about the table (an unmodelled operation touches it).
    pub fn replay_unsure_about(&self, schema: &str, table: &str) -> bool {
        self.unsure_tables
            .contains(&(schema.to_owned(), table.to_owned()))
    }

    pub fn status(&self, revision: usize) -> Status {
        self.facts
            .get(&revision)
            .map_or(Status::Empty, RevisionFacts::status)
    }

    fn record_created_objects(&mut self, scope: &Scope<'_>) {
        for (_, op, _) in scope.ops(&|_| true) {
            match op {
                Op::CreateTable { table, columns, .. } => {
                    let (schema, name) = table_key(table);
                    for column in columns {
                        self.created_columns.insert((
                            schema.clone(),
                            name.clone(),
                            truncate_identifier(&column.name),
                        ));
                    }
                    self.created_tables.insert((schema, name));
                }
                Op::RenameTable { table, new_name } => {
                    let (schema, old) = table_key(table);
                    let new_name = truncate_identifier(new_name);
                    // The renamed table's columns are created under the new name too.
                    let moved: Vec<String> = self
                        .created_columns
                        .iter()
                        .filter(|(s, t, _)| *s == schema && *t == old)
                        .map(|(_, _, column)| column.clone())
                        .collect();
                    for column in moved {
                        self.created_columns
                            .insert((schema.clone(), new_name.clone(), column));
                    }
                    self.created_tables.insert((schema, new_name));
                }
                Op::AddColumn { table, column } => {
                    let (schema, name) = table_key(table);
                    self.created_columns
                        .insert((schema, name, truncate_identifier(&column.name)));
                }
                Op::AlterColumn {
                    table,
                    new_name: Some(new_name),
                    ..
                } => {
                    let (schema, name) = table_key(table);
                    self.created_columns
                        .insert((schema, name, truncate_identifier(new_name)));
                }
                _ => {}
            }
        }
    }

    fn analyse_position(&mut self, scope: &Scope<'_>, rows: &[usize], head_schema: &Schema) {
        let mut is_applied = vec![false; scope.revisions.len()];
        for &row in rows {
            for ancestor in scope.graph.ancestors(row) {
                if let Some(slot) = is_applied.get_mut(ancestor) {
                    *slot = true;
                }
            }
        }
        for &index in &scope.order {
            if is_applied[index] {
                self.applied.push(index);
            } else {
                self.pending.push(index);
            }
        }
        let replayed = replay(scope.revisions, scope.graph, rows);
        let applied = |index: usize| is_applied.get(index).copied().unwrap_or(false);
        let pending = |index: usize| !applied(index);
        self.unsure_tables = scope.unmodeled_tables(&applied);
        for problem in &replayed.problems {
            let misfit = scope
                .revisions
                .get(problem.revision_index)
                .and_then(|revision| revision.upgrade.iter().find(|op| op.span == problem.span))
                .and_then(|op| op_table(&op.op));
            if let Some(table) = misfit {
                self.unsure_tables.insert(table_key(table));
            }
        }
        let at_database = replayed.schema;
        for (revision, op, span) in scope.ops(&applied) {
            let (key, removal) = match op {
                Op::DropTable { table } => {
                    let (schema, name) = table_key(table);
                    ((schema, name, None), Removal::Drop)
                }
                Op::DropColumn { table, column } => {
                    let (schema, name) = table_key(table);
                    (
                        (schema, name, Some(truncate_identifier(column))),
                        Removal::Drop,
                    )
                }
                Op::RenameTable { table, .. } => {
                    let (schema, name) = table_key(table);
                    ((schema, name, None), Removal::Rename)
                }
                Op::AlterColumn {
                    table,
                    column,
                    new_name: Some(_),
                    ..
                } => {
                    let (schema, name) = table_key(table);
                    (
                        (schema, name, Some(truncate_identifier(column))),
                        Removal::Rename,
                    )
                }
                _ => continue,
            };
            self.dropped_by.insert(
                key,
                RemovedBy {
                    revision,
                    span: span.clone(),
                    removal,
                },
            );
        }

        let live = &self.snapshot.schema;
        let applied_facts = scope.facts(&at_database, &applied, live, None);
        let pending_facts = scope.facts(head_schema, &pending, live, Some(&at_database));
        for (revision, facts) in applied_facts.into_iter().chain(pending_facts) {
            self.facts
                .insert(revision, RevisionFacts { revision, facts });
        }

        // Walking the applied revisions newest first, note which have an applied descendant
        // that reached the database (in full or in part).
        let mut reached_later = vec![false; scope.revisions.len()];
        for &index in self.applied.iter().rev() {
            let reached = scope.children(index).into_iter().any(|child| {
                applied(child)
                    && (matches!(self.status(child), Status::Present | Status::Partial)
                        || reached_later[child])
            });
            reached_later[index] = reached;
        }
        // In graph order, a revision is in the absent tail when it starts one (absent, nothing
        // after it reached the database) or follows a revision in it.
        let mut in_tail = vec![false; scope.revisions.len()];
        let mut partial_applied = Vec::new();
        for &index in &self.applied {
            let status = self.status(index);
            let starts = !reached_later[index] && status == Status::Absent;
            let follows = scope
                .parents(index)
                .into_iter()
                .any(|parent| in_tail[parent]);
            in_tail[index] = starts || follows;
            if !reached_later[index] && status == Status::Partial {
                partial_applied.push(index);
            }
        }
        self.partial_applied = partial_applied;
        self.absent_tail = self
            .applied
            .iter()
            .copied()
            .filter(|&index| in_tail[index])
            .collect();
        // The revisions the schema really has: applied ones outside the tail that no other
        // applied revision outside the tail follows.
        self.schema_position = self
            .applied
            .iter()
            .copied()
            .filter(|&index| {
                !in_tail[index]
                    && !scope
                        .children(index)
                        .into_iter()
                        .any(|child| applied(child) && !in_tail[child])
            })
            .collect();
        let (mut partial_pending, mut present_pending) = (Vec::new(), Vec::new());
        for &index in &self.pending {
            match self.status(index) {
                Status::Partial => partial_pending.push(index),
                Status::Present => present_pending.push(index),
                Status::Absent | Status::Empty => {}
            }
        }
        self.partial_pending = partial_pending;
        self.present_pending = present_pending;

        // A revision-level finding explains what it names: every change of the absent tail and
        // of the pending revisions; of a partially applied revision, what is missing, and (when
        // it is pending) the part that ran, but not the whole of a table it created that is
        // there: that table's other problems (a retyped column, a column added by hand) are
        // reported as they are.
        let mut explained = Explained::default();
        for index in self.absent_tail.iter().chain(&self.pending) {
            let partial = self.partial_pending.contains(index);
            if let Some(facts) = self.facts.get(index) {
                for fact in &facts.facts {
                    if !(partial && fact.present && fact.change == Change::CreatesTable) {
                        explained.add(fact);
                    }
                }
            }
        }
        for index in &self.partial_applied {
            if let Some(facts) = self.facts.get(index) {
                for fact in facts.absent() {
                    explained.add(fact);
                }
            }
        }
        self.explained = explained;
        self.schema_at_database = Some(at_database);
    }

    /// When the database records no revision: the revisions whose changes its schema has, if
    /// they form a clean cut of the graph (all their ancestors there, nothing after them).
    fn suggest_stamp(&self, scope: &Scope<'_>, head_schema: &Schema) -> Option<StampSuggestion> {
        let mut statuses = vec![Status::Empty; scope.revisions.len()];
        for (revision, facts) in scope.facts(head_schema, &|_| true, &self.snapshot.schema, None) {
            statuses[revision] = RevisionFacts { revision, facts }.status();
        }
        let present = |index: usize| statuses[index] == Status::Present;
        if !scope.order.iter().any(|&index| present(index)) {
            let nothing_there = scope
                .order
                .iter()
                .all(|&index| matches!(statuses[index], Status::Absent | Status::Empty));
            return nothing_there.then_some(StampSuggestion::UpgradeFromEmpty);
        }
        // Walking the graph newest first: whether a present revision follows each revision. A
        // revision is an ancestor of a present one when it is present or one follows it.
        let mut present_below = vec![false; scope.revisions.len()];
        for &index in scope.order.iter().rev() {
            let below = scope
                .children(index)
                .into_iter()
                .any(|child| present(child) || present_below[child]);
            present_below[index] = below;
        }
        let in_closure = |index: usize| present(index) || present_below[index];
        let clean = scope.order.iter().all(|&index| {
            if in_closure(index) {
                matches!(statuses[index], Status::Present | Status::Empty)
            } else {
                matches!(statuses[index], Status::Absent | Status::Empty)
            }
        });
        if !clean {
            return None;
        }
        let newest: Vec<usize> = scope
            .order
            .iter()
            .copied()
            .filter(|&index| present(index) && !present_below[index])
            .collect();
        // Revisions with nothing to look at (data migrations) after the newest present ones may
        // or may not have run: stamping before them and upgrading runs them, which is the safer
        // guess, so the stamp is complete only when nothing follows.
        let complete = scope.order.iter().all(|&index| in_closure(index));
        Some(StampSuggestion::Stamp {
            revisions: newest,
            complete,
        })
    }
}

/// The rows of the version table, placed in the graph.
fn position_of(snapshot: &LiveSnapshot, graph: &RevisionGraph) -> Position {
    let Some(rows) = &snapshot.versions else {
        return Position::NoVersionTable;
    };
    if rows.is_empty() {
        return Position::EmptyVersionTable(
            snapshot
                .version_table
                .clone()
                .unwrap_or_else(|| (DEFAULT_SCHEMA.to_owned(), "alembic_version".to_owned())),
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

/// `public` for unqualified names, as the replay places them; names truncated as PostgreSQL
/// truncates them.
fn table_key(name: &QualName) -> (String, String) {
    (
        truncate_identifier(name.schema.as_deref().unwrap_or(DEFAULT_SCHEMA)),
        truncate_identifier(&name.name),
    )
}

/// The schemas the migrations (any operation's table, or the replayed schema) and the
/// expectations name.
fn tracked_schemas(
    revisions: &[Revision],
    head_schema: &Schema,
    expectations: Option<&Expectations>,
) -> BTreeSet<String> {
    let mut schemas: BTreeSet<String> = head_schema
        .tables
        .keys()
        .map(|(schema, _)| schema.clone())
        .collect();
    for revision in revisions {
        for op in &revision.upgrade {
            if let Some(table) = op_table(&op.op) {
                schemas.insert(table_key(table).0);
            }
        }
    }
    if let Some(expectations) = expectations {
        schemas.extend(expectations.tables.iter().map(|table| table.schema.clone()));
    }
    schemas
}

/// The table an operation works on, when it names one.
fn op_table(op: &Op) -> Option<&QualName> {
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

fn nullability(nullable: bool) -> &'static str {
    if nullable { "nullable" } else { "NOT NULL" }
}

/// The revisions and graph, with each revision's place in graph order.
struct Scope<'a> {
    revisions: &'a [Revision],
    graph: &'a RevisionGraph,
    /// Revision indices in graph order (parents first).
    order: Vec<usize>,
    /// Each revision's place in `order`; `usize::MAX` for a revision outside the graph (a
    /// duplicate id's second file).
    place: Vec<usize>,
}

/// A change read off the replayed schema, before it is looked up in the database.
struct Candidate {
    revision: usize,
    schema: String,
    table: String,
    column: Option<String>,
    change: Change,
    span: Span,
}

impl<'a> Scope<'a> {
    fn new(revisions: &'a [Revision], graph: &'a RevisionGraph) -> Self {
        let order = graph.topological_order();
        let mut place = vec![usize::MAX; revisions.len()];
        for (position, &index) in order.iter().enumerate() {
            if let Some(slot) = place.get_mut(index) {
                *slot = position;
            }
        }
        Scope {
            revisions,
            graph,
            order,
            place,
        }
    }

    /// The operations of the revisions `include` accepts, in graph order, with `IF EXISTS`
    /// guards looked through.
    fn ops<'s>(
        &'s self,
        include: &'s dyn Fn(usize) -> bool,
    ) -> impl Iterator<Item = (usize, &'a Op, &'a Span)> + 's {
        let revisions = self.revisions;
        self.order
            .iter()
            .copied()
            .filter(move |&index| include(index))
            .flat_map(move |index| {
                revisions[index].upgrade.iter().map(move |op| {
                    let mut inner = &op.op;
                    while let Op::Guarded { op } = inner {
                        inner = op;
                    }
                    (index, inner, &op.span)
                })
            })
    }

    /// Tables named by operations the replay cannot model, in the revisions `include` accepts.
    fn unmodeled_tables(&self, include: &dyn Fn(usize) -> bool) -> HashSet<(String, String)> {
        let mut tables = HashSet::new();
        for (_, op, _) in self.ops(include) {
            if let Op::Unmodeled { tables: named, .. } = op {
                tables.extend(named.iter().map(table_key));
            }
        }
        tables
    }

    fn children(&self, index: usize) -> Vec<usize> {
        let mut children = self.graph.children(index, EdgeKind::Down);
        children.extend(self.graph.children(index, EdgeKind::DependsOn));
        children
    }

    fn parents(&self, index: usize) -> Vec<usize> {
        let mut parents = self.graph.parents(index, EdgeKind::Down);
        parents.extend(self.graph.parents(index, EdgeKind::DependsOn));
        parents
    }

    fn index_of_origin(&self, origin: Option<&Origin>) -> Option<usize> {
        origin.and_then(|origin| self.graph.index_of(&origin.revision))
    }

    fn later(&self, a: usize, b: usize) -> bool {
        self.place.get(a).copied().unwrap_or(0) > self.place.get(b).copied().unwrap_or(0)
    }

    /// The changes of the revisions `include` accepts that explain something in `reference`,
    /// each looked up in `database`, grouped by revision. With a `baseline`, changes that
    /// already hold there are left out (they change nothing).
    fn facts(
        &self,
        reference: &Schema,
        include: &dyn Fn(usize) -> bool,
        database: &Schema,
        baseline: Option<&Schema>,
    ) -> BTreeMap<usize, Vec<Fact>> {
        let mut grouped: BTreeMap<usize, Vec<Fact>> = BTreeMap::new();
        for candidate in self.candidates(reference, include) {
            if let Some(baseline) = baseline
                && evaluate(&candidate, baseline).is_some_and(|(holds, _)| holds)
            {
                continue;
            }
            let Some((present, text)) = evaluate(&candidate, database) else {
                continue;
            };
            grouped.entry(candidate.revision).or_default().push(Fact {
                revision: candidate.revision,
                schema: candidate.schema,
                table: candidate.table,
                column: candidate.column,
                change: candidate.change,
                span: candidate.span,
                present,
                text,
            });
        }
        for facts in grouped.values_mut() {
            facts.sort_by_key(|fact| fact.span.range.start);
        }
        grouped
    }

    fn candidates(&self, reference: &Schema, include: &dyn Fn(usize) -> bool) -> Vec<Candidate> {
        // Renames and drops are read from the operations: the replay keeps a renamed object's
        // creator, and a dropped one is no longer there to carry an origin.
        let mut table_renames: HashMap<(String, String), (usize, Span, String)> = HashMap::new();
        let mut column_renames: HashMap<(String, String, String), (usize, Span, String)> =
            HashMap::new();
        let mut drops: BTreeMap<(String, String, Option<String>), (usize, Span)> = BTreeMap::new();
        for (revision, op, span) in self.ops(include) {
            match op {
                Op::RenameTable { table, new_name } => {
                    let (schema, old) = table_key(table);
                    table_renames.insert(
                        (schema, truncate_identifier(new_name)),
                        (revision, span.clone(), old),
                    );
                }
                Op::AlterColumn {
                    table,
                    column,
                    new_name: Some(new_name),
                    ..
                } => {
                    let (schema, name) = table_key(table);
                    column_renames.insert(
                        (schema, name, truncate_identifier(new_name)),
                        (revision, span.clone(), truncate_identifier(column)),
                    );
                }
                Op::DropTable { table } => {
                    let (schema, name) = table_key(table);
                    drops.insert((schema, name, None), (revision, span.clone()));
                }
                Op::DropColumn { table, column } => {
                    let (schema, name) = table_key(table);
                    drops.insert(
                        (schema, name, Some(truncate_identifier(column))),
                        (revision, span.clone()),
                    );
                }
                _ => {}
            }
        }

        let mut out = Vec::new();
        for table in reference.tables.values() {
            self.table_candidates(table, include, &table_renames, &column_renames, &mut out);
        }
        for ((schema, table, column), (revision, span)) in drops {
            let change = match &column {
                None if reference.table(&schema, &table).is_none() => Change::DropsTable,
                Some(column)
                    if reference
                        .table(&schema, &table)
                        .is_some_and(|present| present.column(column).is_none()) =>
                {
                    Change::DropsColumn
                }
                _ => continue,
            };
            out.push(Candidate {
                revision,
                schema,
                table,
                column,
                change,
                span,
            });
        }
        out
    }

    fn table_candidates(
        &self,
        table: &Table,
        include: &dyn Fn(usize) -> bool,
        table_renames: &HashMap<(String, String), (usize, Span, String)>,
        column_renames: &HashMap<(String, String, String), (usize, Span, String)>,
        out: &mut Vec<Candidate>,
    ) {
        let candidate =
            |revision: usize, column: Option<&str>, change: Change, span: &Span| Candidate {
                revision,
                schema: table.schema.clone(),
                table: table.name.clone(),
                column: column.map(str::to_owned),
                change,
                span: span.clone(),
            };
        let creator = self.index_of_origin(table.created_by.as_ref());
        let renamed = table_renames.get(&(table.schema.clone(), table.name.clone()));
        match (creator, renamed) {
            (Some(creator), Some((renamer, span, from))) if self.later(*renamer, creator) => {
                if include(*renamer) {
                    let change = Change::RenamesTable { from: from.clone() };
                    out.push(candidate(*renamer, None, change, span));
                }
            }
            (Some(creator), _) => {
                if include(creator)
                    && let Some(origin) = &table.created_by
                {
                    out.push(candidate(creator, None, Change::CreatesTable, &origin.span));
                }
            }
            (None, _) => {}
        }

        for column in &table.columns {
            let name = Some(column.name.as_str());
            let column_creator = self.index_of_origin(column.created_by.as_ref());
            let renamed = column_renames.get(&(
                table.schema.clone(),
                table.name.clone(),
                column.name.clone(),
            ));
            match (column_creator, renamed) {
                (Some(creator), Some((renamer, span, from))) if self.later(*renamer, creator) => {
                    if include(*renamer) {
                        let change = Change::RenamesColumn { from: from.clone() };
                        out.push(candidate(*renamer, name, change, span));
                    }
                }
                (Some(creator), _) => {
                    if include(creator)
                        && let Some(origin) = &column.created_by
                    {
                        out.push(candidate(creator, name, Change::AddsColumn, &origin.span));
                    }
                }
                (None, _) => {}
            }
            // A type or nullability set when the column was created is part of creating it.
            if let Some(origin) = &column.type_set_by
                && let Some(setter) = self.index_of_origin(Some(origin))
                && Some(setter) != column_creator
                && include(setter)
            {
                let change = Change::SetsType(column.ty.clone());
                out.push(candidate(setter, name, change, &origin.span));
            }
            if let Some(origin) = &column.nullable_set_by
                && let Some(setter) = self.index_of_origin(Some(origin))
                && Some(setter) != column_creator
                && include(setter)
            {
                let change = Change::SetsNullable(column.nullable);
                out.push(candidate(setter, name, change, &origin.span));
            }
        }

        if let Some(key) = &table.primary_key
            && let Some(origin) = &key.set_by
            && let Some(setter) = self.index_of_origin(Some(origin))
            && Some(setter) != creator
            && include(setter)
        {
            let change = Change::SetsPrimaryKey(key.columns.clone());
            out.push(candidate(setter, None, change, &origin.span));
        }
    }
}

/// Whether the change holds in `database`, and the database's side in words; `None` when it
/// cannot tell (the column a type is about does not exist).
fn evaluate(candidate: &Candidate, database: &Schema) -> Option<(bool, String)> {
    let qualified_table = format!("{}.{}", candidate.schema, candidate.table);
    let table = database.table(&candidate.schema, &candidate.table);
    let column_name = candidate.column.as_deref().unwrap_or_default();
    let qualified_column = format!("{qualified_table}.{column_name}");
    let column = table.and_then(|table| table.column(column_name));
    match &candidate.change {
        Change::CreatesTable | Change::RenamesTable { .. } => Some(match table {
            Some(_) => (true, format!("table {qualified_table} exists")),
            None => (false, format!("table {qualified_table} does not exist")),
        }),
        Change::DropsTable => Some(match table {
            Some(_) => (false, format!("table {qualified_table} still exists")),
            None => (true, format!("table {qualified_table} is gone")),
        }),
        Change::AddsColumn | Change::RenamesColumn { .. } => {
            table?;
            Some(match column {
                Some(_) => (true, format!("column {qualified_column} exists")),
                None => (false, format!("column {qualified_column} does not exist")),
            })
        }
        Change::DropsColumn => {
            table?;
            Some(match column {
                Some(_) => (false, format!("column {qualified_column} still exists")),
                None => (true, format!("column {qualified_column} is gone")),
            })
        }
        Change::SetsType(expected) => {
            let column = column?;
            Some(if same_type(&column.ty, expected) {
                (true, format!("column {qualified_column} is {expected}"))
            } else {
                (
                    false,
                    format!("column {qualified_column} is {}, not {expected}", column.ty),
                )
            })
        }
        Change::SetsNullable(expected) => {
            let column = column?;
            Some(if column.nullable == *expected {
                (
                    true,
                    format!("column {qualified_column} is {}", nullability(*expected)),
                )
            } else {
                (
                    false,
                    format!(
                        "column {qualified_column} is {}, not {}",
                        nullability(column.nullable),
                        nullability(*expected)
                    ),
                )
            })
        }
        Change::SetsPrimaryKey(expected) => {
            let table = table?;
            let present = table.primary_key.as_ref().map(|key| &key.columns);
            Some(if present == Some(expected) {
                (
                    true,
                    format!(
                        "the primary key of {qualified_table} is ({})",
                        expected.join(", ")
                    ),
                )
            } else {
                let actual = present.map_or_else(
                    || "none".to_owned(),
                    |columns| format!("({})", columns.join(", ")),
                );
                (
                    false,
                    format!(
                        "the primary key of {qualified_table} is {actual}, not ({})",
                        expected.join(", ")
                    ),
                )
            })
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests;
