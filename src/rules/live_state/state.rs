//! The live state built: the database's position, the replay to it, and each revision's facts
//! looked up in the database, from which the absent tail and the partially applied revisions follow.

use super::*;
use crate::schema::model::TableKey;

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
    pub fn version_table(&self) -> Option<&TableKey> {
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
            .contains(&TableKey::new(schema, table))
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
                .contains(&TableKey::new(schema, table))
    }

    /// Whether some revision creates this table (or renames another to it).
    pub fn some_migration_creates_table(&self, schema: &str, table: &str) -> bool {
        self.created_tables.contains(&TableKey::new(schema, table))
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
        self.unsure_tables.contains(&TableKey::new(schema, table))
    }

    pub fn status(&self, revision: usize) -> Status {
        self.facts
            .get(&revision)
            .map_or(Status::Empty, RevisionFacts::status)
    }

    pub(super) fn record_created_objects(&mut self, scope: &Scope<'_>) {
        for (_, op, _) in scope.ops(&|_| true) {
            match op {
                Op::CreateTable { table, columns, .. } => {
                    let TableKey { schema, name } = table.key();
                    for column in columns {
                        self.created_columns.insert((
                            schema.clone(),
                            name.clone(),
                            truncate_identifier(&column.name),
                        ));
                    }
                    self.created_tables.insert(TableKey::new(schema, name));
                }
                Op::RenameTable { table, new_name } => {
                    let TableKey { schema, name: old } = table.key();
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
                    self.created_tables.insert(TableKey::new(schema, new_name));
                }
                Op::AddColumn { table, column } => {
                    let TableKey { schema, name } = table.key();
                    self.created_columns
                        .insert((schema, name, truncate_identifier(&column.name)));
                }
                Op::AlterColumn {
                    table,
                    new_name: Some(new_name),
                    ..
                } => {
                    let TableKey { schema, name } = table.key();
                    self.created_columns
                        .insert((schema, name, truncate_identifier(new_name)));
                }
                _ => {}
            }
        }
    }

    pub(super) fn analyse_position(
        &mut self,
        scope: &Scope<'_>,
        rows: &[usize],
        head_schema: &Schema,
    ) {
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
                self.unsure_tables.insert(table.key());
            }
        }
        let at_database = replayed.schema;
        for (revision, op, span) in scope.ops(&applied) {
            let (key, removal) = match op {
                Op::DropTable { table } => {
                    let TableKey { schema, name } = table.key();
                    ((schema, name, None), Removal::Drop)
                }
                Op::DropColumn { table, column } => {
                    let TableKey { schema, name } = table.key();
                    (
                        (schema, name, Some(truncate_identifier(column))),
                        Removal::Drop,
                    )
                }
                Op::RenameTable { table, .. } => {
                    let TableKey { schema, name } = table.key();
                    ((schema, name, None), Removal::Rename)
                }
                Op::AlterColumn {
                    table,
                    column,
                    new_name: Some(_),
                    ..
                } => {
                    let TableKey { schema, name } = table.key();
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
    pub(super) fn suggest_stamp(
        &self,
        scope: &Scope<'_>,
        head_schema: &Schema,
    ) -> Option<StampSuggestion> {
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
