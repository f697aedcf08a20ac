//! Constraints and indexes: primary keys, unique, foreign key and check constraints, indexes,
//! with the names PostgreSQL and SQLAlchemy give them.

use super::*;

impl Replayer {
    /// Adds a constraint to an existing table, naming it as PostgreSQL would when unnamed.
    pub(super) fn add_constraint(
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
                    .push(UniqueConstraint {
                        name,
                        columns,
                        created_by: Some(at.origin()),
                    });
                Ok(())
            }
            Constraint::ForeignKey {
                name,
                columns,
                ref_table,
                ref_columns,
                on_delete,
                on_update,
            } => {
                let action = |text: &Option<String>| match text {
                    None => Ok(ForeignKeyAction::NoAction),
                    Some(text) => ForeignKeyAction::parse(text)
                        .ok_or_else(|| format!("foreign key action {text:?} is not PostgreSQL's")),
                };
                let on_delete = action(on_delete)?;
                let on_update = action(on_update)?;
                let columns: Vec<String> = columns.iter().map(|c| truncate_identifier(c)).collect();
                let ref_columns: Vec<String> =
                    ref_columns.iter().map(|c| truncate_identifier(c)).collect();
                self.require_columns(schema, table, &columns)?;
                let TableKey {
                    schema: ref_schema,
                    name: ref_name,
                } = ref_table.key();
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
                    on_delete,
                    on_update,
                    deferrable: false,
                    initially_deferred: false,
                    created_by: Some(at.origin()),
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
                    created_by: Some(at.origin()),
                });
                Ok(())
            }
        }
    }

    pub(super) fn require_columns(&self, schema: &str, table: &str, columns: &[String]) -> Misfit {
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

    pub(super) fn require_free_relation(&self, schema: &str, name: &str) -> Misfit {
        if self.names.relation_taken(schema, name) {
            Err(format!(
                "relation {} already exists",
                quote_qualified(schema, name)
            ))
        } else {
            Ok(())
        }
    }

    pub(super) fn add_primary_key(
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

    pub(super) fn drop_constraint(
        &mut self,
        table: &QualName,
        name: &str,
        kind: Option<ConstraintKind>,
    ) -> Misfit {
        let TableKey {
            schema,
            name: table_name,
        } = table.key();
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

    pub(super) fn rename_constraint(
        &mut self,
        table: &QualName,
        name: &str,
        new_name: &str,
    ) -> Misfit {
        let TableKey {
            schema,
            name: table_name,
        } = table.key();
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
    pub(super) fn create_index(
        &mut self,
        at: At<'_>,
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
            method: index
                .using
                .clone()
                .unwrap_or_else(|| DEFAULT_INDEX_METHOD.to_owned()),
            predicate: index.predicate.clone(),
            include: index
                .include
                .iter()
                .map(|c| truncate_identifier(c))
                .collect(),
            created_by: Some(at.origin()),
        });
        self.names
            .add_relation(schema, &name, RelationKind::Index, Some(table));
        Ok(())
    }

    pub(super) fn drop_index(
        &mut self,
        schema: Option<&str>,
        name: &str,
        table: Option<&QualName>,
    ) -> Misfit {
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

    pub(super) fn rename_index(
        &mut self,
        schema: Option<&str>,
        name: &str,
        new_name: &str,
    ) -> Misfit {
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
}
