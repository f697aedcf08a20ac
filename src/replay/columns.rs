//! Columns: adding, dropping (with what uses them), altering and renaming.

use super::*;
use crate::schema::model::TableKey;

impl Replayer {
    pub(super) fn add_column(&mut self, at: At<'_>, table: &QualName, def: &ColumnDef) -> Misfit {
        let TableKey { schema, name } = table.key();
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

    pub(super) fn drop_column(&mut self, table: &QualName, column: &str) -> Misfit {
        let TableKey { schema, name } = table.key();
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

        let table_key = TableKey::new(schema.clone(), name.clone());
        let owned: Vec<TableKey> = self
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
            self.names.remove_relation(&key.schema, &key.name);
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
    pub(super) fn alter_column(
        &mut self,
        at: At<'_>,
        table: &QualName,
        column: &str,
        new_type: Option<&PgType>,
        nullable: Option<bool>,
        server_default: Option<Option<&str>>,
        new_name: Option<&str>,
    ) -> Misfit {
        let TableKey { schema, name } = table.key();
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
                existing.default_set_by = Some(at.origin());
                existing.sequence = None;
            }
            Some(Some(expression)) => {
                existing.default = Some(expression.to_owned());
                existing.default_set_by = Some(at.origin());
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

    pub(super) fn rename_column(
        &mut self,
        schema: &str,
        table: &str,
        old: &str,
        new: &str,
    ) -> Misfit {
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
}
