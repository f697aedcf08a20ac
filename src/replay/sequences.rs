//! Sequences and enum types.

use super::*;

impl Replayer {
    pub(super) fn create_sequence(
        &mut self,
        name: &QualName,
        start: Option<i64>,
        increment: Option<i64>,
    ) -> Misfit {
        let TableKey { schema, name } = name.key();
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

    pub(super) fn drop_sequence(&mut self, name: &QualName) -> Misfit {
        let key = name.key();
        if !self.schema.sequences.contains_key(&key) {
            return Err(format!(
                "sequence {} does not exist",
                quote_qualified(&key.schema, &key.name)
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
                quote_qualified(&key.schema, &key.name),
                quote_qualified(&table.schema, &table.name),
                quote_ident(&column.name)
            ));
        }
        if let Some(sequence) = self.schema.sequences.remove(&key)
            && let Some((owner_schema, owner_table, _)) = sequence.owned_by
        {
            let owner = TableKey::new(owner_schema, owner_table);
            if let Some(set) = self.names.owned_sequences.get_mut(&owner) {
                set.remove(&key);
                if set.is_empty() {
                    self.names.owned_sequences.remove(&owner);
                }
            }
        }
        self.names.remove_relation(&key.schema, &key.name);
        Ok(())
    }

    pub(super) fn set_sequence_owner(
        &mut self,
        name: &QualName,
        owner: Option<&(QualName, String)>,
    ) -> Misfit {
        let key = name.key();
        if !self.schema.sequences.contains_key(&key) {
            return Err(format!(
                "sequence {} does not exist",
                quote_qualified(&key.schema, &key.name)
            ));
        }
        let new_owner = match owner {
            Some((table, column)) => {
                let TableKey {
                    schema: owner_schema,
                    name: owner_table,
                } = table.key();
                let column = truncate_identifier(column);
                self.require_columns(&owner_schema, &owner_table, std::slice::from_ref(&column))?;
                if owner_schema != key.schema {
                    return Err(format!(
                        "sequence {} and table {} are in different schemas; PostgreSQL refuses \
                         to link them",
                        quote_qualified(&key.schema, &key.name),
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
            let old = TableKey::new(old_schema, old_table);
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
                .entry(TableKey::new(owner_schema.clone(), owner_table.clone()))
                .or_default()
                .insert(key.clone());
        }
        sequence.owned_by = new_owner;
        Ok(())
    }

    pub(super) fn drop_enum(&mut self, name: &QualName) -> Misfit {
        let key = name.key();
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
        self.schema.enum_origins.remove(&key);
        Ok(())
    }
}
