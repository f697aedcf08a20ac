//! Tables: creating them with their implicit objects (serial sequences, key and index names),
//! dropping and renaming them.

use super::*;

impl Replayer {
    pub(super) fn require_table(&self, schema: &str, name: &str) -> Misfit {
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

    pub(super) fn create_table(
        &mut self,
        at: At<'_>,
        table: &QualName,
        columns: &[ColumnDef],
        constraints: &[Constraint],
        indexes: &[IndexDef],
    ) -> Misfit {
        let TableKey { schema, name } = table.key();
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
            .insert(TableKey::new(schema.clone(), name.clone()), new_table);

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
            if let Err(message) =
                self.create_index(at, &schema, &name, table.schema.as_deref(), index)
            {
                self.problem(at, message);
            }
        }
        Ok(())
    }

    /// The table the caller has just checked exists.
    pub(super) fn table_mut(&mut self, schema: &str, name: &str) -> &mut Table {
        self.schema
            .table_mut(schema, name)
            .expect("the caller checked that the table exists")
    }

    /// A column as PostgreSQL stores it, creating the sequence behind a serial or identity
    /// column.
    pub(super) fn materialize_column(
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
            nullable_set_by: Some(origin.clone()),
            default_set_by: Some(origin),
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
            column.sequence = Some(TableKey::new(schema, sequence_name));
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
            column.sequence = Some(TableKey::new(schema, sequence_name));
        }
        column
    }

    pub(super) fn register_sequence(&mut self, sequence: Sequence) {
        self.names.add_relation(
            &sequence.schema,
            &sequence.name,
            RelationKind::Sequence,
            None,
        );
        if let Some((owner_schema, owner_table, _)) = &sequence.owned_by {
            self.names
                .owned_sequences
                .entry(TableKey::new(owner_schema.clone(), owner_table.clone()))
                .or_default()
                .insert(TableKey::new(
                    sequence.schema.clone(),
                    sequence.name.clone(),
                ));
        }
        self.schema.sequences.insert(
            TableKey::new(sequence.schema.clone(), sequence.name.clone()),
            sequence,
        );
    }

    /// What a column's own flags add besides the column and its unique constraint (which the
    /// callers place): `index=True` an index named by SQLAlchemy's convention (unique when
    /// `unique=True` is given too), `sa.ForeignKey(...)` a foreign key.
    pub(super) fn column_side_objects(
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
                ..Default::default()
            };
            self.create_index(at, schema, table, qualified.schema.as_deref(), &index)?;
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

    pub(super) fn drop_table(&mut self, table: &QualName) -> Misfit {
        let TableKey { schema, name } = table.key();
        let Some(dropped) = self
            .schema
            .tables
            .remove(&TableKey::new(schema.clone(), name.clone()))
        else {
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
            .remove(&TableKey::new(schema.clone(), name.clone()))
            .unwrap_or_default();
        for key in owned {
            self.schema.sequences.remove(&key);
            self.names.remove_relation(&key.schema, &key.name);
        }
        // PostgreSQL refuses to drop a table other tables' foreign keys point at unless told to
        // cascade; either way, afterwards no foreign key points at it.
        self.drop_foreign_keys_into(&schema, &name, None);
        Ok(())
    }

    /// Forgets the index and constraint names of a table that is gone.
    pub(super) fn forget_table_names(&mut self, table: &Table) {
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
    pub(super) fn drop_foreign_keys_into(
        &mut self,
        schema: &str,
        table: &str,
        column: Option<&str>,
    ) {
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

    pub(super) fn rename_table(&mut self, table: &QualName, new_name: &str) -> Misfit {
        let TableKey { schema, name } = table.key();
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
            .remove(&TableKey::new(schema.clone(), name.clone()))
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
            .insert(TableKey::new(schema.clone(), new_name.clone()), moved);
        let old_key = TableKey::new(schema.clone(), name.clone());
        let new_key = TableKey::new(schema.clone(), new_name.clone());
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
}
