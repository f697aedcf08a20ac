//! A revision's changes as facts (an object that must exist, or must not, after it), read off
//! the replayed schema's origins, renames and drops, and looked up in the database.

use super::*;
use crate::schema::model::TableKey;

/// The revisions and graph, with each revision's place in graph order.
pub(super) struct Scope<'a> {
    pub(super) revisions: &'a [Revision],
    pub(super) graph: &'a RevisionGraph,
    /// Revision indices in graph order (parents first).
    pub(super) order: Vec<usize>,
    /// Each revision's place in `order`; `usize::MAX` for a revision outside the graph (a
    /// duplicate id's second file).
    pub(super) place: Vec<usize>,
}

/// A change read off the replayed schema, before it is looked up in the database.
pub(super) struct Candidate {
    pub(super) revision: usize,
    pub(super) schema: String,
    pub(super) table: String,
    pub(super) column: Option<String>,
    pub(super) change: Change,
    pub(super) span: Span,
}

impl<'a> Scope<'a> {
    pub(super) fn new(revisions: &'a [Revision], graph: &'a RevisionGraph) -> Self {
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
    pub(super) fn ops<'s>(
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
    pub(super) fn unmodeled_tables(&self, include: &dyn Fn(usize) -> bool) -> HashSet<TableKey> {
        let mut tables = HashSet::new();
        for (_, op, _) in self.ops(include) {
            if let Op::Unmodeled { tables: named, .. } = op {
                tables.extend(named.iter().map(QualName::key));
            }
        }
        tables
    }

    pub(super) fn children(&self, index: usize) -> Vec<usize> {
        let mut children = self.graph.children(index, EdgeKind::Down);
        children.extend(self.graph.children(index, EdgeKind::DependsOn));
        children
    }

    pub(super) fn parents(&self, index: usize) -> Vec<usize> {
        let mut parents = self.graph.parents(index, EdgeKind::Down);
        parents.extend(self.graph.parents(index, EdgeKind::DependsOn));
        parents
    }

    pub(super) fn index_of_origin(&self, origin: Option<&Origin>) -> Option<usize> {
        origin.and_then(|origin| self.graph.index_of(&origin.revision))
    }

    pub(super) fn later(&self, a: usize, b: usize) -> bool {
        self.place.get(a).copied().unwrap_or(0) > self.place.get(b).copied().unwrap_or(0)
    }

    /// The changes of the revisions `include` accepts that explain something in `reference`,
    /// each looked up in `database`, grouped by revision. With a `baseline`, changes that
    /// already hold there are left out (they change nothing).
    pub(super) fn facts(
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

    pub(super) fn candidates(
        &self,
        reference: &Schema,
        include: &dyn Fn(usize) -> bool,
    ) -> Vec<Candidate> {
        // Renames and drops are read from the operations: the replay keeps a renamed object's
        // creator, and a dropped one is no longer there to carry an origin.
        let mut table_renames: HashMap<TableKey, (usize, Span, String)> = HashMap::new();
        let mut column_renames: HashMap<(String, String, String), (usize, Span, String)> =
            HashMap::new();
        let mut drops: BTreeMap<(String, String, Option<String>), (usize, Span)> = BTreeMap::new();
        for (revision, op, span) in self.ops(include) {
            match op {
                Op::RenameTable { table, new_name } => {
                    let TableKey { schema, name: old } = table.key();
                    table_renames.insert(
                        TableKey::new(schema, truncate_identifier(new_name)),
                        (revision, span.clone(), old),
                    );
                }
                Op::AlterColumn {
                    table,
                    column,
                    new_name: Some(new_name),
                    ..
                } => {
                    let TableKey { schema, name } = table.key();
                    column_renames.insert(
                        (schema, name, truncate_identifier(new_name)),
                        (revision, span.clone(), truncate_identifier(column)),
                    );
                }
                Op::DropTable { table } => {
                    let TableKey { schema, name } = table.key();
                    drops.insert((schema, name, None), (revision, span.clone()));
                }
                Op::DropColumn { table, column } => {
                    let TableKey { schema, name } = table.key();
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

    pub(super) fn table_candidates(
        &self,
        table: &Table,
        include: &dyn Fn(usize) -> bool,
        table_renames: &HashMap<TableKey, (usize, Span, String)>,
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
        let renamed = table_renames.get(&TableKey::new(table.schema.clone(), table.name.clone()));
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
pub(super) fn evaluate(candidate: &Candidate, database: &Schema) -> Option<(bool, String)> {
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
