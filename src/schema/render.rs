//! The schema model written out for people and for PostgreSQL: [`to_sql`] gives DDL that
//! PostgreSQL accepts as it is and that builds the same tables, and [`to_yaml`] a readable
//! description (what `driftlint schema` prints).
//!
//! Invariant: the output depends only on the schema, in a stable order (schemas, tables and
//! sequences sorted by name; columns in table order), and every identifier in the SQL goes
//! through [`quote_ident`] / [`quote_qualified`]. The YAML is built from this module's own
//! serialisable structs, so the model itself stays free of serde.

use std::collections::BTreeSet;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::model::DEFAULT_SCHEMA;
use super::model::{Column, IdentityKind, Schema, Sequence, Table, TableKey};
use crate::quote::{quote_ident, quote_literal, quote_qualified};

/// DDL that builds `schema` in an empty database: schemas, enum types, sequences, tables with
/// their columns, primary keys and check constraints, unique constraints, sequence ownership,
/// indexes, and last the foreign keys (so that tables can be created in any order).
pub fn to_sql(schema: &Schema) -> String {
    let mut out = String::new();

    let schemas: BTreeSet<&str> = schema
        .tables
        .keys()
        .map(|key| key.schema.as_str())
        .chain(schema.sequences.keys().map(|key| key.schema.as_str()))
        .chain(schema.enums.keys().map(|key| key.schema.as_str()))
        .filter(|s| *s != DEFAULT_SCHEMA)
        .collect();
    for name in schemas {
        out.push_str(&format!(
            "CREATE SCHEMA IF NOT EXISTS {};\n",
            quote_ident(name)
        ));
    }

    for (
        TableKey {
            schema: enum_schema,
            name: enum_name,
        },
        labels,
    ) in &schema.enums
    {
        let labels: Vec<String> = labels.iter().map(|l| quote_literal(l)).collect();
        out.push_str(&format!(
            "CREATE TYPE {} AS ENUM ({});\n",
            quote_qualified(enum_schema, enum_name),
            labels.join(", ")
        ));
    }

    // Identity sequences come with their column; every other one is created up front.
    let identity_sequences: BTreeSet<(&str, &str)> = schema
        .tables
        .values()
        .flat_map(|t| t.columns.iter())
        .filter(|c| c.identity.is_some())
        .filter_map(|c| c.sequence.as_ref())
        .map(|TableKey { schema: s, name: n }| (s.as_str(), n.as_str()))
        .collect();
    let plain_sequences: Vec<&Sequence> = schema
        .sequences
        .values()
        .filter(|s| !identity_sequences.contains(&(s.schema.as_str(), s.name.as_str())))
        .collect();
    for sequence in &plain_sequences {
        out.push_str(&format!(
            "CREATE SEQUENCE {} AS {} START WITH {} INCREMENT BY {};\n",
            quote_qualified(&sequence.schema, &sequence.name),
            sequence.data_type,
            sequence.start,
            sequence.increment
        ));
    }

    for table in schema.tables.values() {
        out.push_str(&create_table(schema, table));
    }

    // Unique constraints follow their table: inside CREATE TABLE, PostgreSQL keeps only one of
    // two constraints over the same columns (and none beside a primary key on them), while the
    // migrations may well have added both.
    for table in schema.tables.values() {
        for unique in &table.uniques {
            out.push_str(&format!(
                "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});\n",
                quote_qualified(&table.schema, &table.name),
                quote_ident(&unique.name),
                ident_list(&unique.columns)
            ));
        }
    }

    for sequence in &plain_sequences {
        if let Some((owner_schema, owner_table, owner_column)) = &sequence.owned_by {
            out.push_str(&format!(
                "ALTER SEQUENCE {} OWNED BY {}.{};\n",
                quote_qualified(&sequence.schema, &sequence.name),
                quote_qualified(owner_schema, owner_table),
                quote_ident(owner_column)
            ));
        }
    }

    for table in schema.tables.values() {
        let columns: BTreeSet<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        for index in &table.indexes {
            let entries: Vec<String> = index
                .columns
                .iter()
                .map(|entry| index_entry(entry, &columns))
                .collect();
            out.push_str(&format!(
                "CREATE {}INDEX {} ON {} ({});\n",
                if index.unique { "UNIQUE " } else { "" },
                quote_ident(&index.name),
                quote_qualified(&table.schema, &table.name),
                entries.join(", ")
            ));
        }
    }

    for table in schema.tables.values() {
        for fk in &table.foreign_keys {
            let references = if fk.ref_columns.is_empty() {
                String::new()
            } else {
                format!(" ({})", ident_list(&fk.ref_columns))
            };
            out.push_str(&format!(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}{};\n",
                quote_qualified(&table.schema, &table.name),
                quote_ident(&fk.name),
                ident_list(&fk.columns),
                quote_qualified(&fk.ref_schema, &fk.ref_table),
                references
            ));
        }
    }
    out
}

fn create_table(schema: &Schema, table: &Table) -> String {
    create_table_spelled(schema, table, SequenceSpelling::Named, false)
}

/// `CREATE TABLE` with the columns, primary key, unique and check constraints (foreign keys and
/// indexes are separate statements), `IF NOT EXISTS` when asked.
pub(crate) fn create_table_spelled(
    schema: &Schema,
    table: &Table,
    spelling: SequenceSpelling,
    if_not_exists: bool,
) -> String {
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .map(|column| column_definition_spelled(schema, column, spelling))
        .collect();
    if let Some(pk) = &table.primary_key {
        lines.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            quote_ident(&pk.name),
            ident_list(&pk.columns)
        ));
    }
    for check in &table.checks {
        lines.push(format!(
            "CONSTRAINT {} CHECK ({})",
            quote_ident(&check.name),
            check.sql
        ));
    }
    let guard = if if_not_exists { "IF NOT EXISTS " } else { "" };
    if lines.is_empty() {
        return format!(
            "CREATE TABLE {guard}{} ();\n",
            quote_qualified(&table.schema, &table.name)
        );
    }
    format!(
        "CREATE TABLE {guard}{} (\n    {}\n);\n",
        quote_qualified(&table.schema, &table.name),
        lines.join(",\n    ")
    )
}

/// How a column fed by a sequence is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SequenceSpelling {
    /// The sequence by name: `DEFAULT nextval('…')` for a serial column (the sequence is created
    /// beforehand), `SEQUENCE NAME` for an identity column. What [`to_sql`] writes.
    Named,
    /// As a migration declares it: `SERIAL`/`BIGSERIAL`/`SMALLSERIAL` for a serial column, which
    /// creates its sequence, and identity options without the sequence's name, which PostgreSQL
    /// then names as it did the first time. What fixes that re-create a column write.
    Implicit,
}

/// Whether the column is a serial column: its default is `nextval()` of the sequence that feeds
/// it, and it is not an identity column.
pub(crate) fn is_serial_column(column: &Column) -> bool {
    column.identity.is_none()
        && column.sequence.is_some()
        && column
            .default
            .as_deref()
            .is_some_and(|default| default.starts_with("nextval("))
}

/// A column's definition (`name type [identity | DEFAULT …] [NOT NULL]`) as `CREATE TABLE` and
/// `ADD COLUMN` take it.
pub(crate) fn column_definition_spelled(
    schema: &Schema,
    column: &Column,
    spelling: SequenceSpelling,
) -> String {
    if spelling == SequenceSpelling::Implicit && is_serial_column(column) && column.ty.is_integer()
    {
        let serial = match column.ty.name.as_str() {
            "bigint" => "BIGSERIAL",
            "smallint" => "SMALLSERIAL",
            _ => "SERIAL",
        };
        return format!("{} {serial} NOT NULL", quote_ident(&column.name));
    }
    let mut line = format!("{} {}", quote_ident(&column.name), column.ty);
    if let Some(kind) = column.identity {
        line.push_str(match kind {
            IdentityKind::Always => " GENERATED ALWAYS AS IDENTITY",
            IdentityKind::ByDefault => " GENERATED BY DEFAULT AS IDENTITY",
        });
        if let Some(sequence) = column
            .sequence
            .as_ref()
            .and_then(|key| schema.sequences.get(key))
        {
            match spelling {
                SequenceSpelling::Named => line.push_str(&format!(
                    " (SEQUENCE NAME {} START WITH {} INCREMENT BY {})",
                    quote_qualified(&sequence.schema, &sequence.name),
                    sequence.start,
                    sequence.increment
                )),
                SequenceSpelling::Implicit => line.push_str(&format!(
                    " (START WITH {} INCREMENT BY {})",
                    sequence.start, sequence.increment
                )),
            }
        }
    } else if let Some(default) = &column.default {
        line.push_str(" DEFAULT ");
        line.push_str(default);
    }
    if !column.nullable && column.identity.is_none() {
        line.push_str(" NOT NULL");
    }
    line
}

/// An index entry: a column by its quoted name, an expression in parentheses.
pub(crate) fn index_entry(entry: &str, columns: &BTreeSet<&str>) -> String {
    if columns.contains(entry) {
        quote_ident(entry).into_owned()
    } else {
        format!("({entry})")
    }
}

pub(crate) fn ident_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A readable YAML description of `schema`: tables (unqualified in the default schema) with
/// their columns in order, keys, constraints and indexes; sequences; enum types.
pub fn to_yaml(schema: &Schema) -> String {
    let document = YamlSchema {
        tables: Ordered(
            schema
                .tables
                .values()
                .map(|table| (display_name(&table.schema, &table.name), yaml_table(table)))
                .collect(),
        ),
        sequences: Ordered(
            schema
                .sequences
                .values()
                .map(|s| (display_name(&s.schema, &s.name), yaml_sequence(s)))
                .collect(),
        ),
        enums: Ordered(
            schema
                .enums
                .iter()
                .map(|(key, labels)| (display_name(&key.schema, &key.name), labels.clone()))
                .collect(),
        ),
    };
    serde_yaml::to_string(&document).unwrap_or_else(|error| {
        // Plain strings, numbers and lists always serialise; this is not expected to happen.
        format!("# the schema could not be written as YAML: {error}\n")
    })
}

/// `name` in the default schema, `schema.name` elsewhere (as the expectations file writes
/// tables).
fn display_name(schema: &str, name: &str) -> String {
    if schema == DEFAULT_SCHEMA {
        name.to_owned()
    } else {
        format!("{schema}.{name}")
    }
}

/// A map that keeps its entries in the order given.
struct Ordered<V>(Vec<(String, V)>);

impl<V> Ordered<V> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct YamlSchema {
    tables: Ordered<YamlTable>,
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    sequences: Ordered<YamlSequence>,
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    enums: Ordered<Vec<String>>,
}

#[derive(Serialize)]
struct YamlTable {
    columns: Ordered<YamlColumn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_key: Option<YamlKey>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    uniques: Vec<YamlKey>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    foreign_keys: Vec<YamlForeignKey>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checks: Vec<YamlCheck>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    indexes: Vec<YamlIndex>,
}

#[derive(Serialize)]
struct YamlColumn {
    #[serde(rename = "type")]
    ty: String,
    nullable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence: Option<String>,
}

#[derive(Serialize)]
struct YamlKey {
    name: String,
    columns: Vec<String>,
}

#[derive(Serialize)]
struct YamlForeignKey {
    name: String,
    columns: Vec<String>,
    references: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ref_columns: Vec<String>,
}

#[derive(Serialize)]
struct YamlCheck {
    name: String,
    check: String,
}

#[derive(Serialize)]
struct YamlIndex {
    name: String,
    columns: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unique: bool,
}

#[derive(Serialize)]
struct YamlSequence {
    #[serde(rename = "type")]
    ty: String,
    start: i64,
    increment: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    owned_by: Option<String>,
}

fn yaml_table(table: &Table) -> YamlTable {
    YamlTable {
        columns: Ordered(
            table
                .columns
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        YamlColumn {
                            ty: c.ty.to_string(),
                            nullable: c.nullable,
                            default: c.default.clone(),
                            identity: c.identity.map(|kind| match kind {
                                IdentityKind::Always => "always",
                                IdentityKind::ByDefault => "by default",
                            }),
                            sequence: c
                                .sequence
                                .as_ref()
                                .map(|key| display_name(&key.schema, &key.name)),
                        },
                    )
                })
                .collect(),
        ),
        primary_key: table.primary_key.as_ref().map(|pk| YamlKey {
            name: pk.name.clone(),
            columns: pk.columns.clone(),
        }),
        uniques: table
            .uniques
            .iter()
            .map(|u| YamlKey {
                name: u.name.clone(),
                columns: u.columns.clone(),
            })
            .collect(),
        foreign_keys: table
            .foreign_keys
            .iter()
            .map(|fk| YamlForeignKey {
                name: fk.name.clone(),
                columns: fk.columns.clone(),
                references: display_name(&fk.ref_schema, &fk.ref_table),
                ref_columns: fk.ref_columns.clone(),
            })
            .collect(),
        checks: table
            .checks
            .iter()
            .map(|c| YamlCheck {
                name: c.name.clone(),
                check: c.sql.clone(),
            })
            .collect(),
        indexes: table
            .indexes
            .iter()
            .map(|i| YamlIndex {
                name: i.name.clone(),
                columns: i.columns.clone(),
                unique: i.unique,
            })
            .collect(),
    }
}

fn yaml_sequence(sequence: &Sequence) -> YamlSequence {
    YamlSequence {
        ty: sequence.data_type.to_string(),
        start: sequence.start,
        increment: sequence.increment,
        owned_by: sequence
            .owned_by
            .as_ref()
            .map(|(s, t, c)| format!("{}.{c}", display_name(s, t))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::Replayer;
    use crate::schema::ops::{ColumnDef, Constraint, IdentitySpec, IndexDef, Op, OpAt, QualName};
    use crate::schema::sql::lower_sql;
    use crate::schema::types::PgType;
    use crate::source::{FileId, Span};

    fn replay_ops(ops: Vec<Op>) -> Schema {
        let mut replayer = Replayer::new();
        for op in ops {
            replayer.apply(
                0,
                "r1",
                &OpAt {
                    op,
                    span: Span::new(FileId(0), 0..1),
                    autocommit: false,
                },
            );
        }
        assert!(replayer.problems().is_empty(), "{:#?}", replayer.problems());
        replayer.finish().schema
    }

    fn sample() -> Schema {
        replay_ops(sample_ops())
    }

    fn sample_ops() -> Vec<Op> {
        let mut id = ColumnDef::new("id", PgType::simple("integer"));
        id.primary_key = true;
        let mut email = ColumnDef::new(
            "email",
            PgType {
                name: "character varying".into(),
                modifiers: vec![120],
                array_dims: 0,
            },
        );
        email.nullable = Some(false);
        email.unique = true;
        let mut mood = ColumnDef::new("mood", PgType::simple("mood"));
        mood.server_default = Some("'ok'".into());
        let mut event_id = ColumnDef::new("id", PgType::simple("bigint"));
        event_id.primary_key = true;
        event_id.identity = Some(IdentitySpec {
            always: true,
            start: Some(10),
            increment: None,
        });
        let mut user_id = ColumnDef::new("user", PgType::simple("integer"));
        user_id.index = true;
        vec![
            Op::CreateEnum {
                name: QualName::new(None, "mood"),
                values: vec!["sad".into(), "ok".into()],
            },
            Op::CreateTable {
                table: QualName::new(None, "users"),
                columns: vec![id, email, mood],
                constraints: vec![Constraint::Check {
                    name: None,
                    sql: "email <> ''".into(),
                }],
                indexes: vec![IndexDef {
                    name: Some("ix_users_lower_email".into()),
                    columns: vec!["lower((email)::text)".into()],
                    unique: true,
                    ..Default::default()
                }],
            },
            Op::CreateTable {
                table: QualName::new(Some("audit"), "events"),
                columns: vec![event_id, user_id],
                constraints: vec![Constraint::ForeignKey {
                    name: None,
                    columns: vec!["user".into()],
                    ref_table: QualName::new(None, "users"),
                    ref_columns: vec!["id".into()],
                    on_delete: None,
                    on_update: None,
                }],
                indexes: Vec::new(),
            },
        ]
    }

    #[test]
    fn sql_has_every_object_in_order() {
        insta::assert_snapshot!(to_sql(&sample()));
    }

    #[test]
    fn yaml_describes_the_schema() {
        insta::assert_snapshot!(to_yaml(&sample()));
    }

    #[test]
    fn rendered_sql_replays_to_the_same_schema() {
        // The rendered DDL, read back through the raw SQL lowering and replayed, gives the same
        // tables, columns, types, nullability, defaults, keys and constraints.
        // sqlparser does not read an identity column's `SEQUENCE NAME`, so the identity column
        // of the sample becomes a plain bigint here; PostgreSQL itself reads it in the
        // differential test against real Alembic.
        let mut ops = sample_ops();
        for op in &mut ops {
            if let Op::CreateTable { columns, .. } = op {
                for column in columns {
                    column.identity = None;
                    column.autoincrement = crate::schema::ops::Autoincrement::False;
                }
            }
        }
        let original = replay_ops(ops);
        let sql = to_sql(&original);
        let ops = lower_sql(&sql).expect("the rendered SQL splits into statements");
        assert!(
            !ops.iter().any(|op| matches!(op, Op::Unmodeled { .. })),
            "every rendered statement is understood: {ops:#?}"
        );
        let again = replay_ops(ops);
        for (key, table) in &original.tables {
            let other = &again.tables[key];
            assert_eq!(
                table
                    .columns
                    .iter()
                    .map(|c| (&c.name, &c.ty, c.nullable, c.identity))
                    .collect::<Vec<_>>(),
                other
                    .columns
                    .iter()
                    .map(|c| (&c.name, &c.ty, c.nullable, c.identity))
                    .collect::<Vec<_>>(),
                "columns of {key:?}"
            );
            assert_eq!(
                table.primary_key.as_ref().map(|k| (&k.name, &k.columns)),
                other.primary_key.as_ref().map(|k| (&k.name, &k.columns))
            );
            assert_eq!(table.uniques, other.uniques);
            assert_eq!(table.foreign_keys, other.foreign_keys);
            assert_eq!(table.indexes.len(), other.indexes.len());
        }
        assert_eq!(
            original.sequences.keys().collect::<Vec<_>>(),
            again.sequences.keys().collect::<Vec<_>>()
        );
        assert_eq!(original.enums, again.enums);
    }
}
