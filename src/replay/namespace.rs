//! The names taken in each schema (relations and constraints share PostgreSQL's namespaces), so
//! that a default name avoids a taken one as PostgreSQL's and SQLAlchemy's own choices do.

use super::*;
use crate::schema::model::TableKey;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RelationKind {
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
pub(super) struct Relation {
    pub(super) kind: RelationKind,
    /// The table an index belongs to.
    pub(super) table: Option<String>,
}

/// The names taken in each schema, and who points at whom, kept in step with the schema so that
/// choosing a default name (`users_id_seq1` when `users_id_seq` is taken), or finding what a
/// drop or rename touches in other tables, costs a lookup, not a scan of the whole schema.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Namespaces {
    pub(super) relations: FxHashMap<String, FxHashMap<String, Relation>>,
    /// Constraint names and how many constraints carry each (PostgreSQL allows the same foreign
    /// key or check name on two tables).
    pub(super) constraints: FxHashMap<String, FxHashMap<String, u32>>,
    /// How many foreign keys point at each table, by `(schema, table)`.
    pub(super) incoming_foreign_keys: FxHashMap<TableKey, u32>,
    /// The sequences owned by each table's columns, by `(schema, table)`.
    pub(super) owned_sequences: FxHashMap<TableKey, BTreeSet<TableKey>>,
}

impl Namespaces {
    /// The names of everything in `schema`, as the replay would have recorded them.
    pub(super) fn of(schema: &Schema) -> Self {
        let mut names = Namespaces::default();
        for (
            TableKey {
                schema: schema_name,
                name: table_name,
            },
            table,
        ) in &schema.tables
        {
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
        for (
            TableKey {
                schema: schema_name,
                name: sequence_name,
            },
            sequence,
        ) in &schema.sequences
        {
            names.add_relation(schema_name, sequence_name, RelationKind::Sequence, None);
            if let Some((owner_schema, owner_table, _)) = &sequence.owned_by {
                names
                    .owned_sequences
                    .entry(TableKey::new(owner_schema.clone(), owner_table.clone()))
                    .or_default()
                    .insert(TableKey::new(schema_name.clone(), sequence_name.clone()));
            }
        }
        names
    }

    pub(super) fn foreign_key_added(&mut self, ref_schema: &str, ref_table: &str) {
        *self
            .incoming_foreign_keys
            .entry(TableKey::new(ref_schema, ref_table))
            .or_insert(0) += 1;
    }

    pub(super) fn foreign_key_removed(&mut self, ref_schema: &str, ref_table: &str) {
        let key = TableKey::new(ref_schema, ref_table);
        if let Some(count) = self.incoming_foreign_keys.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                self.incoming_foreign_keys.remove(&key);
            }
        }
    }

    pub(super) fn has_incoming_foreign_keys(&self, schema: &str, table: &str) -> bool {
        self.incoming_foreign_keys
            .contains_key(&(schema, table) as &dyn NamePair)
    }

    pub(super) fn relation(&self, schema: &str, name: &str) -> Option<&Relation> {
        self.relations.get(schema).and_then(|names| names.get(name))
    }

    pub(super) fn relation_taken(&self, schema: &str, name: &str) -> bool {
        self.relation(schema, name).is_some()
    }

    pub(super) fn constraint_taken(&self, schema: &str, name: &str) -> bool {
        self.constraints
            .get(schema)
            .is_some_and(|names| names.contains_key(name))
    }

    pub(super) fn add_relation(
        &mut self,
        schema: &str,
        name: &str,
        kind: RelationKind,
        table: Option<&str>,
    ) {
        self.relations.entry(schema.to_owned()).or_default().insert(
            name.to_owned(),
            Relation {
                kind,
                table: table.map(str::to_owned),
            },
        );
    }

    pub(super) fn remove_relation(&mut self, schema: &str, name: &str) {
        if let Some(names) = self.relations.get_mut(schema) {
            names.remove(name);
            if names.is_empty() {
                self.relations.remove(schema);
            }
        }
    }

    pub(super) fn add_constraint(&mut self, schema: &str, name: &str) {
        *self
            .constraints
            .entry(schema.to_owned())
            .or_default()
            .entry(name.to_owned())
            .or_insert(0) += 1;
    }

    pub(super) fn remove_constraint(&mut self, schema: &str, name: &str) {
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
    pub(super) fn choose_relation_name(
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
    pub(super) fn choose_constraint_name(
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
