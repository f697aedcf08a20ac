//! A starting expectations file written from a schema (`driftlint init`): every table with its
//! primary key and its columns' types and nullability, ready to be trimmed by hand.
//!
//! Invariant: the text is one that [`super::load`] accepts and that reads back to the same
//! tables, columns, types, nullability and primary keys.

use std::fmt::Write as _;

use super::AllowedHeads;
use crate::schema::model::{Schema, Table};
use crate::schema::types::PgType;

/// The JSON Schema of the expectations format, as published in `expectations/`.
pub const JSON_SCHEMA: &str = include_str!("../../expectations/driftlint.schema.json");

/// Where the `# yaml-language-server: $schema=` line of a written file points: the JSON Schema
/// saved beside the expectations file under this name, as `init` writes it.
pub const JSON_SCHEMA_REFERENCE: &str = "driftlint.schema.json";

/// Alembic's own bookkeeping table, which no expectation should mention.
const ALEMBIC_VERSION_TABLE: &str = "alembic_version";

/// An expectations file declaring everything `schema` has: each table's primary key and each
/// column's type and nullability, with `heads` as given. Tables outside `public` are written
/// `schema.table`. With `schema_beside`, the file's first line points editors at the JSON Schema
/// written beside it ([`JSON_SCHEMA_REFERENCE`]); without, it says how to get that file.
pub fn render_starting_file(schema: &Schema, heads: AllowedHeads, schema_beside: bool) -> String {
    let mut out = String::new();
    if schema_beside {
        out.push_str(&format!(
            "# yaml-language-server: $schema={JSON_SCHEMA_REFERENCE}\n"
        ));
    } else {
        out.push_str(&format!(
            "# `driftlint init -o FILE` also writes {JSON_SCHEMA_REFERENCE} beside FILE, for editors\n"
        ));
    }
    out.push_str(
        "# driftlint expectations: what must be true of the schema. Written from the current\n\
         # schema; keep what must hold, delete what need not, then commit it.\n",
    );
    out.push_str("version: 1\n");
    out.push_str("schema: public\n");
    match heads {
        AllowedHeads::Count(count) => {
            let _ = writeln!(out, "heads: {count}");
        }
        AllowedHeads::Labels(labels) => {
            let labels: Vec<String> = labels.iter().map(|label| yaml_scalar(label)).collect();
            let _ = writeln!(out, "heads: [{}]", labels.join(", "));
        }
    }
    let tables: Vec<&Table> = schema
        .tables
        .values()
        .filter(|table| table.name != ALEMBIC_VERSION_TABLE)
        .collect();
    if tables.is_empty() {
        out.push_str("tables: {}\n");
    } else {
        out.push_str("tables:\n");
        for table in tables {
            render_table(&mut out, table);
        }
    }
    out.push_str("sequences: all\n");
    out
}

fn render_table(out: &mut String, table: &Table) {
    let name = if table.schema == "public" {
        yaml_scalar(&table.name)
    } else {
        yaml_scalar(&format!("{}.{}", table.schema, table.name))
    };
    if table.primary_key.is_none() && table.columns.is_empty() {
        let _ = writeln!(out, "  {name}: {{}}");
        return;
    }
    let _ = writeln!(out, "  {name}:");
    if let Some(primary_key) = &table.primary_key {
        let columns: Vec<String> = primary_key
            .columns
            .iter()
            .map(|column| yaml_scalar(column))
            .collect();
        let _ = writeln!(out, "    primary_key: [{}]", columns.join(", "));
    }
    if !table.columns.is_empty() {
        out.push_str("    columns:\n");
        for column in &table.columns {
            let _ = writeln!(
                out,
                "      {}: {{ type: {}, nullable: {} }}",
                yaml_scalar(&column.name),
                yaml_scalar(&type_as_written(&column.ty)),
                column.nullable
            );
        }
    }
}

/// The type as the file should spell it: `format_type()`'s spelling, qualified with `public.`
/// when the bare name of a user-defined type would read back as something else (an enum named
/// `dates` reads as a misspelt `date`).
fn type_as_written(ty: &PgType) -> String {
    let shown = ty.to_string();
    if PgType::parse(&shown).as_ref() == Ok(ty) {
        shown
    } else {
        format!("public.{shown}")
    }
}

/// `text` as a YAML scalar that reads back as exactly that string: plain where YAML would read it
/// so in a flow collection, double-quoted (JSON escaping, which YAML reads) otherwise.
fn yaml_scalar(text: &str) -> String {
    let reserved = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    let plain = text
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | ' ' | '(' | ')' | '.' | '-' | '$')
        })
        && !text.ends_with(' ')
        && !reserved.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        text.to_owned()
    } else {
        serde_json::Value::String(text.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_only_where_yaml_needs_it() {
        assert_eq!(yaml_scalar("users"), "users");
        assert_eq!(
            yaml_scalar("character varying(120)"),
            "character varying(120)"
        );
        assert_eq!(yaml_scalar("numeric(10,2)"), "\"numeric(10,2)\"");
        assert_eq!(yaml_scalar("text[]"), "\"text[]\"");
        assert_eq!(yaml_scalar("\"MyEnum\""), "\"\\\"MyEnum\\\"\"");
        assert_eq!(yaml_scalar("yes"), "\"yes\"");
        assert_eq!(yaml_scalar("Null"), "\"Null\"");
        assert_eq!(yaml_scalar("1st"), "\"1st\"");
        assert_eq!(yaml_scalar("a: b"), "\"a: b\"");
        assert_eq!(yaml_scalar(""), "\"\"");
    }
}
