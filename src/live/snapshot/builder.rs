//! The catalog rows assembled into the schema model, from the server's rows or from plain
//! values ([`snapshot_from_catalog_rows`]) with the same code.

use std::collections::HashMap;

use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

use super::super::Error;
use super::{CATALOG, LiveSnapshot, VersionDetails};
use crate::schema::model::{
    CheckConstraint, Column, ExclusionConstraint, ForeignKey, ForeignKeyAction, IdentityKind,
    Index, PrimaryKey, Schema, Sequence, Table, TableKey, UniqueConstraint,
};
use crate::schema::types::PgType;

pub(super) fn unexpected(step: &'static str) -> Error {
    Error::Query {
        step,
        message: "the server's answer has an unexpected shape".to_owned(),
        help: None,
    }
}

pub(super) fn get<T: Cell>(
    row: &impl CatalogRow,
    index: usize,
    step: &'static str,
) -> Result<T, Error> {
    row.cell(index).map_err(|error| Error::Query {
        step,
        message: format!("unexpected value in column {index}: {error}"),
        help: None,
    })
}

/// A `format_type()` text as a [`PgType`]. The transaction pins `search_path` to `public`, so
/// `format_type()` qualifies every user-defined type outside `public`, as the replay does.
pub(super) fn pg_type(text: &str) -> PgType {
    // format_type() output always parses; keeping the text whole is the safe fallback.
    PgType::parse(text).unwrap_or_else(|_| PgType::simple(text))
}

pub(super) fn is_integer_type(ty: &PgType) -> bool {
    ty.array_dims == 0 && matches!(ty.name.as_str(), "smallint" | "integer" | "bigint")
}

/// Assembles the model from the catalog rows.
#[derive(Default)]
pub(super) struct SchemaBuilder {
    pub(super) schema: Schema,
    /// Columns whose `max()` is read, in a stable order.
    pub(super) max_columns: Vec<(String, String, String)>,
    pub(super) unreadable: Vec<String>,
    pub(super) unreadable_sequences: std::collections::HashSet<TableKey>,
    /// Whether each sequence-fed column may be read, from the columns query.
    pub(super) column_readable: HashMap<(String, String, String), bool>,
}

impl SchemaBuilder {
    /// Assembles the model from the rows of the catalog queries, in the order `read` needs.
    pub(super) fn build<R: CatalogRow>(
        columns: &[R],
        constraints: &[R],
        indexes: &[R],
        sequences: &[R],
        default_sequences: &[R],
        enums: &[R],
    ) -> Result<SchemaBuilder, Error> {
        let mut builder = SchemaBuilder::default();
        builder.tables(columns)?;
        builder.constraints(constraints)?;
        builder.indexes(indexes)?;
        builder.sequences(sequences)?;
        builder.default_sequences(default_sequences)?;
        builder.enums(enums)?;
        Ok(builder)
    }

    fn tables<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let name: String = get(row, 1, CATALOG)?;
            let table = self
                .schema
                .tables
                .entry(TableKey::new(schema.clone(), name.clone()))
                .or_insert_with(|| Table::new(&schema, &name));
            // A table without columns comes as one row with NULLs.
            let Some(column_name) = get::<Option<String>>(row, 2, CATALOG)? else {
                continue;
            };
            let type_text: String = get(row, 3, CATALOG)?;
            let identity = match get::<String>(row, 6, CATALOG)?.as_str() {
                "a" => Some(IdentityKind::Always),
                "d" => Some(IdentityKind::ByDefault),
                _ => None,
            };
            if let Some(readable) = get::<Option<bool>>(row, 8, CATALOG)? {
                self.column_readable.insert(
                    (schema.clone(), name.clone(), column_name.clone()),
                    readable,
                );
            }
            table.columns.push(Column {
                name: column_name,
                ty: pg_type(&type_text),
                nullable: !get::<bool>(row, 4, CATALOG)?,
                default: get(row, 5, CATALOG)?,
                identity,
                sequence: None,
                created_by: None,
                type_set_by: None,
                nullable_set_by: None,
                default_set_by: None,
            });
        }
        Ok(())
    }

    fn constraints<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let table_name: String = get(row, 1, CATALOG)?;
            let name: String = get(row, 2, CATALOG)?;
            let kind: String = get(row, 3, CATALOG)?;
            let columns: Vec<String> = get(row, 4, CATALOG)?;
            let Some(table) = self.schema.table_mut(&schema, &table_name) else {
                continue;
            };
            match kind.as_str() {
                "p" => {
                    table.primary_key = Some(PrimaryKey {
                        name,
                        columns,
                        set_by: None,
                    })
                }
                "u" => table.uniques.push(UniqueConstraint {
                    name,
                    columns,
                    created_by: None,
                }),
                "f" => table.foreign_keys.push(ForeignKey {
                    name,
                    columns,
                    ref_schema: get::<Option<String>>(row, 5, CATALOG)?.unwrap_or_default(),
                    ref_table: get::<Option<String>>(row, 6, CATALOG)?.unwrap_or_default(),
                    ref_columns: get(row, 7, CATALOG)?,
                    on_delete: ForeignKeyAction::from_code(&get::<String>(row, 9, CATALOG)?),
                    on_update: ForeignKeyAction::from_code(&get::<String>(row, 10, CATALOG)?),
                    deferrable: get(row, 11, CATALOG)?,
                    initially_deferred: get(row, 12, CATALOG)?,
                    created_by: None,
                }),
                "c" => table.checks.push(CheckConstraint {
                    name,
                    sql: get::<Option<String>>(row, 8, CATALOG)?.unwrap_or_default(),
                    created_by: None,
                }),
                "x" => table.exclusions.push(ExclusionConstraint {
                    name,
                    definition: get::<Option<String>>(row, 13, CATALOG)?.unwrap_or_default(),
                    created_by: None,
                }),
                _ => {}
            }
        }
        Ok(())
    }

    fn indexes<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let table_name: String = get(row, 1, CATALOG)?;
            if let Some(table) = self.schema.table_mut(&schema, &table_name) {
                table.indexes.push(Index {
                    name: get(row, 2, CATALOG)?,
                    unique: get(row, 3, CATALOG)?,
                    columns: get(row, 4, CATALOG)?,
                    method: get(row, 5, CATALOG)?,
                    predicate: get(row, 6, CATALOG)?,
                    include: get(row, 7, CATALOG)?,
                    created_by: None,
                });
            }
        }
        Ok(())
    }

    fn sequences<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let name: String = get(row, 1, CATALOG)?;
            let owner_schema: Option<String> = get(row, 5, CATALOG)?;
            let owner_table: Option<String> = get(row, 6, CATALOG)?;
            let owner_column: Option<String> = get(row, 7, CATALOG)?;
            let dependency: Option<String> = get(row, 8, CATALOG)?;
            let readable: bool = get(row, 9, CATALOG)?;
            let owned_by = match (owner_schema, owner_table, owner_column) {
                (Some(schema), Some(table), Some(column)) => Some((schema, table, column)),
                _ => None,
            };
            // An identity column is fed by its own sequence, whatever its default says.
            if dependency.as_deref() == Some("i")
                && let Some((owner_schema, owner_table, owner_column)) = &owned_by
                && let Some(column) = self
                    .schema
                    .table_mut(owner_schema, owner_table)
                    .and_then(|table| table.column_mut(owner_column))
            {
                column.sequence = Some(TableKey::new(schema.clone(), name.clone()));
            }
            if !readable {
                self.unreadable.push(format!("{schema}.{name}"));
                self.unreadable_sequences
                    .insert(TableKey::new(schema.clone(), name.clone()));
            }
            self.schema.sequences.insert(
                TableKey::new(schema.clone(), name.clone()),
                Sequence {
                    schema,
                    name,
                    data_type: pg_type(&get::<String>(row, 2, CATALOG)?),
                    start: get(row, 3, CATALOG)?,
                    increment: get(row, 4, CATALOG)?,
                    owned_by,
                    state: None,
                },
            );
        }
        Ok(())
    }

    /// Links columns to the sequences their defaults call, then picks the columns whose
    /// maximum is read.
    fn default_sequences<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let table_name: String = get(row, 1, CATALOG)?;
            let column_name: String = get(row, 2, CATALOG)?;
            let sequence = TableKey::new(
                get::<String>(row, 3, CATALOG)?,
                get::<String>(row, 4, CATALOG)?,
            );
            if let Some(column) = self
                .schema
                .table_mut(&schema, &table_name)
                .and_then(|table| table.column_mut(&column_name))
                && column.sequence.is_none()
            {
                column.sequence = Some(sequence);
            }
        }
        for table in self.schema.tables.values() {
            for column in &table.columns {
                if column.sequence.is_none() {
                    continue;
                }
                let key = (
                    table.schema.clone(),
                    table.name.clone(),
                    column.name.clone(),
                );
                // max() of a text column fed by `nextval()::text` compares nothing useful.
                if !is_integer_type(&column.ty) {
                    continue;
                }
                if self.column_readable.get(&key).copied().unwrap_or(false) {
                    self.max_columns.push(key);
                } else {
                    self.unreadable
                        .push(format!("{}.{}.{}", table.schema, table.name, column.name));
                }
            }
        }
        Ok(())
    }

    fn enums<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let name: String = get(row, 1, CATALOG)?;
            self.schema
                .enums
                .insert(TableKey::new(schema, name), get(row, 2, CATALOG)?);
        }
        Ok(())
    }
}

/// One catalog row: tokio-postgres's `Row` as the server sent it, or plain [`CatalogValue`]s.
pub(super) trait CatalogRow {
    fn cell<T: Cell>(&self, index: usize) -> Result<T, String>;
}

/// The Rust types the catalog columns are read as.
pub(super) trait Cell: for<'a> FromSql<'a> + Sized {
    fn from_plain(value: &CatalogValue) -> Option<Self>;
}

impl CatalogRow for Row {
    fn cell<T: Cell>(&self, index: usize) -> Result<T, String> {
        self.try_get(index).map_err(|error| error.to_string())
    }
}

impl CatalogRow for Vec<CatalogValue> {
    fn cell<T: Cell>(&self, index: usize) -> Result<T, String> {
        let value = self
            .get(index)
            .ok_or_else(|| format!("the row has no column {index}"))?;
        T::from_plain(value).ok_or_else(|| format!("{value:?} is not of the expected type"))
    }
}

impl Cell for String {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
}

impl Cell for bool {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl Cell for i64 {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl Cell for Vec<String> {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::TextArray(items) => Some(items.clone()),
            _ => None,
        }
    }
}

impl<T: Cell> Cell for Option<T> {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::Null => Some(None),
            other => T::from_plain(other).map(Some),
        }
    }
}

/// A value in a catalog row given without a server (see [`snapshot_from_catalog_rows`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogValue {
    Null,
    Text(String),
    Bool(bool),
    Int(i64),
    TextArray(Vec<String>),
}

/// The rows of the catalog queries of [`ReadOnlySession::read`], as plain values, one `Vec` per
/// row with the columns those queries select (see `read_catalog` for each query's columns).
#[derive(Clone, Debug, Default)]
pub struct CatalogRows {
    pub columns: Vec<Vec<CatalogValue>>,
    pub constraints: Vec<Vec<CatalogValue>>,
    pub indexes: Vec<Vec<CatalogValue>>,
    pub sequences: Vec<Vec<CatalogValue>>,
    pub default_sequences: Vec<Vec<CatalogValue>>,
    pub enums: Vec<Vec<CatalogValue>>,
}

/// Builds a snapshot from catalog rows given as plain values, with the same code that
/// [`ReadOnlySession::read`] runs on the server's rows, so that the model the live rules and the
/// fixes work on can be built without a server (the fuzzing harness, `tests/fuzz.rs`, feeds it
/// hostile names, types and NULLs). What `read` learns from the data (sequence states, column
/// maxima, the version table's rows) is left empty, for the caller to fill in; a row of the
/// wrong shape is the same error as from the server.
pub fn snapshot_from_catalog_rows(rows: &CatalogRows) -> Result<LiveSnapshot, Error> {
    let builder = SchemaBuilder::build(
        &rows.columns,
        &rows.constraints,
        &rows.indexes,
        &rows.sequences,
        &rows.default_sequences,
        &rows.enums,
    )?;
    Ok(LiveSnapshot {
        schema: builder.schema,
        versions: None,
        version_table: None,
        column_max: HashMap::new(),
        version_details: VersionDetails::default(),
        unreadable: builder.unreadable,
        round_trips: 0,
        connections: 0,
        server_version: String::new(),
    })
}
