//! The fixes of the expectation rules: the new migration to write, as a ready `op.…` snippet,
//! followed by the SQL it amounts to as comment lines. The snippet is review-only: it belongs in a
//! new revision's `upgrade()`, not in the database.
//!
//! Invariant: snippets use the real names and types of the finding; every SQL identifier goes
//! through [`crate::fix::quote_ident`], every Python string through [`python_string`]. Where
//! SQLAlchemy has no spelling for a type (`citext`, an enum, `xml`), the snippet is an
//! `op.execute(...)` of the SQL itself, so it is never a guess.

use crate::diagnostic::SNIPPET_SQL_PREFIX;
use crate::expect::{ColumnExpectation, TableExpectation};
use crate::fix::ddl::converts_without_using;
use crate::fix::{Fix, Safety, quote_ident, quote_qualified};
pub use crate::python::type_table::{python_string, sqlalchemy_type};
use crate::schema::types::PgType;

/// `, schema="audit"` for tables outside `public`, nothing otherwise.
fn schema_argument(schema: &str) -> String {
    if schema == "public" {
        String::new()
    } else {
        format!(", schema={}", python_string(schema))
    }
}

/// The lines of a review-only fix: the snippet (with the dialect import it needs), then the SQL
/// as comments.
fn review_only_fix(title: String, snippet: Vec<String>, sql: Vec<String>) -> Fix {
    let mut lines = Vec::new();
    if snippet.iter().any(|line| line.contains("postgresql.")) {
        lines.push("from sqlalchemy.dialects import postgresql".to_owned());
    }
    lines.extend(snippet);
    for statement in sql {
        lines.push(format!("{SNIPPET_SQL_PREFIX}{statement}"));
    }
    Fix {
        title,
        sql: lines,
        safety: Safety::ReviewOnly,
    }
}

/// `op.execute("...")` of a SQL statement, for what SQLAlchemy cannot spell.
fn op_execute(statement: &str) -> String {
    let without_semicolon = statement.strip_suffix(';').unwrap_or(statement);
    format!("op.execute({})", python_string(without_semicolon))
}

/// The fix for `missing-table`: a migration that creates the table with the columns whose types
/// the expectations give, and the primary key.
pub fn create_table_fix(table: &TableExpectation) -> Fix {
    let primary_key: Vec<&str> = table
        .primary_key
        .as_ref()
        .map(|key| key.column_names())
        .unwrap_or_default();
    let typed: Vec<(&ColumnExpectation, &PgType)> = table
        .columns
        .iter()
        .filter_map(|column| column.ty.as_ref().map(|ty| (column, &ty.ty)))
        .collect();
    let untyped: Vec<&str> = table
        .columns
        .iter()
        .filter(|column| column.ty.is_none())
        .map(|column| column.name.as_str())
        .collect();
    let nullable = |column: &ColumnExpectation| {
        column
            .nullable
            .as_ref()
            .map_or(!primary_key.contains(&column.name.as_str()), |n| n.nullable)
    };
    // SQLAlchemy makes a lone integer primary key column serial, so the SQL says so too.
    let serial_column = match (primary_key.as_slice(), typed.as_slice()) {
        ([only], _) => typed
            .iter()
            .find(|(column, ty)| column.name == *only && ty.is_integer())
            .map(|(column, _)| column.name.as_str()),
        _ => None,
    };

    let mut definitions: Vec<String> = typed
        .iter()
        .map(|(column, ty)| {
            let shown_type = if Some(column.name.as_str()) == serial_column {
                match ty.name.as_str() {
                    "bigint" => "bigserial".to_owned(),
                    "smallint" => "smallserial".to_owned(),
                    _ => "serial".to_owned(),
                }
            } else {
                ty.to_string()
            };
            let not_null = if nullable(column) { "" } else { " NOT NULL" };
            format!("{} {shown_type}{not_null}", quote_ident(&column.name))
        })
        .collect();
    if !primary_key.is_empty() {
        let columns: Vec<String> = primary_key
            .iter()
            .map(|column| quote_ident(column).into_owned())
            .collect();
        definitions.push(format!("PRIMARY KEY ({})", columns.join(", ")));
    }
    let statement = format!(
        "CREATE TABLE {} ({});",
        quote_qualified(&table.schema, &table.name),
        definitions.join(", ")
    );

    let sqlalchemy_types: Option<Vec<String>> =
        typed.iter().map(|(_, ty)| sqlalchemy_type(ty)).collect();
    let mut snippet = Vec::new();
    match sqlalchemy_types {
        Some(types) => {
            snippet.push("op.create_table(".to_owned());
            snippet.push(format!("    {},", python_string(&table.name)));
            for ((column, _), expression) in typed.iter().zip(types) {
                snippet.push(format!(
                    "    sa.Column({}, {expression}, nullable={}),",
                    python_string(&column.name),
                    python_bool(nullable(column))
                ));
            }
            if !primary_key.is_empty() {
                let columns: Vec<String> = primary_key
                    .iter()
                    .map(|column| python_string(column))
                    .collect();
                snippet.push(format!(
                    "    sa.PrimaryKeyConstraint({}),",
                    columns.join(", ")
                ));
            }
            if table.schema != "public" {
                snippet.push(format!("    schema={},", python_string(&table.schema)));
            }
            snippet.push(")".to_owned());
        }
        None => snippet.push(op_execute(&statement)),
    }
    if !untyped.is_empty() {
        snippet.push(format!(
            "# not included, the expectations give no type for: {}",
            untyped.join(", ")
        ));
    }
    review_only_fix(
        format!(
            "write a migration that creates table {}",
            table.qualified_name()
        ),
        snippet,
        vec![statement],
    )
}

fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// The fix for `missing-column`, when the expectation gives the column's type.
pub fn add_column_fix(table: &TableExpectation, column: &ColumnExpectation) -> Option<Fix> {
    let ty = &column.ty.as_ref()?.ty;
    let nullable = column.nullable.as_ref().is_none_or(|n| n.nullable);
    let statement = format!(
        "ALTER TABLE {} ADD COLUMN {} {ty}{};",
        quote_qualified(&table.schema, &table.name),
        quote_ident(&column.name),
        if nullable { "" } else { " NOT NULL" }
    );
    let mut snippet = vec![match sqlalchemy_type(ty) {
        Some(expression) => format!(
            "op.add_column({}, sa.Column({}, {expression}, nullable={}){})",
            python_string(&table.name),
            python_string(&column.name),
            python_bool(nullable),
            schema_argument(&table.schema)
        ),
        None => op_execute(&statement),
    }];
    if !nullable {
        snippet.push(
            "# a NOT NULL column needs a server_default or a backfill when the table has rows"
                .to_owned(),
        );
    }
    Some(review_only_fix(
        format!(
            "write a migration that adds column {}.{}",
            table.qualified_name(),
            column.name
        ),
        snippet,
        vec![statement],
    ))
}

/// The fix for `forbidden-column-present`.
pub fn drop_column_fix(schema: &str, table: &str, column: &str) -> Fix {
    let statement = format!(
        "ALTER TABLE {} DROP COLUMN {};",
        quote_qualified(schema, table),
        quote_ident(column)
    );
    review_only_fix(
        format!("write a migration that drops column {schema}.{table}.{column}"),
        vec![
            "# DESTRUCTIVE: drops the column and its data".to_owned(),
            format!(
                "op.drop_column({}, {}{})",
                python_string(table),
                python_string(column),
                schema_argument(schema)
            ),
        ],
        vec![statement],
    )
}

/// The fix for `primary-key-mismatch`: drop the present key (if any) and create the expected one
/// under the same name (`<table>_pkey` when there is none).
pub fn replace_primary_key_fix(
    schema: &str,
    table: &str,
    present_constraint: Option<&str>,
    expected: &[&str],
) -> Fix {
    let default_name = format!("{table}_pkey");
    let name = present_constraint.unwrap_or(&default_name);
    let qualified = quote_qualified(schema, table);
    let mut snippet = Vec::new();
    let mut sql = Vec::new();
    if let Some(present) = present_constraint {
        snippet.push(format!(
            "op.drop_constraint({}, {}, type_=\"primary\"{})",
            python_string(present),
            python_string(table),
            schema_argument(schema)
        ));
        sql.push(format!(
            "ALTER TABLE {qualified} DROP CONSTRAINT {};",
            quote_ident(present)
        ));
    }
    let python_columns: Vec<String> = expected.iter().map(|c| python_string(c)).collect();
    snippet.push(format!(
        "op.create_primary_key({}, {}, [{}]{})",
        python_string(name),
        python_string(table),
        python_columns.join(", "),
        schema_argument(schema)
    ));
    let sql_columns: Vec<String> = expected
        .iter()
        .map(|column| quote_ident(column).into_owned())
        .collect();
    sql.push(format!(
        "ALTER TABLE {qualified} ADD CONSTRAINT {} PRIMARY KEY ({});",
        quote_ident(name),
        sql_columns.join(", ")
    ));
    review_only_fix(
        format!(
            "write a migration that makes ({}) the primary key of {schema}.{table}",
            expected.join(", ")
        ),
        snippet,
        sql,
    )
}

/// The fix for `column-type-mismatch`.
pub fn alter_type_fix(
    schema: &str,
    table: &str,
    column: &str,
    present: &PgType,
    expected: &PgType,
    nullable: bool,
) -> Fix {
    let using = if converts_without_using(present, expected) {
        None
    } else {
        Some(format!("{}::{expected}", quote_ident(column)))
    };
    let statement = format!(
        "ALTER TABLE {} ALTER COLUMN {} TYPE {expected}{};",
        quote_qualified(schema, table),
        quote_ident(column),
        using
            .as_ref()
            .map(|using| format!(" USING {using}"))
            .unwrap_or_default()
    );
    let snippet = match sqlalchemy_type(expected) {
        Some(expression) => {
            let mut arguments = vec![
                python_string(table),
                python_string(column),
                format!("type_={expression}"),
            ];
            if let Some(existing) = sqlalchemy_type(present) {
                arguments.push(format!("existing_type={existing}"));
            }
            arguments.push(format!("existing_nullable={}", python_bool(nullable)));
            if let Some(using) = &using {
                arguments.push(format!("postgresql_using={}", python_string(using)));
            }
            if schema != "public" {
                arguments.push(format!("schema={}", python_string(schema)));
            }
            format!("op.alter_column({})", arguments.join(", "))
        }
        None => op_execute(&statement),
    };
    review_only_fix(
        format!(
            "write a migration that changes the type of {schema}.{table}.{column} to {expected}"
        ),
        vec![snippet],
        vec![statement],
    )
}

/// The fix for `nullability-mismatch`.
pub fn alter_nullability_fix(
    schema: &str,
    table: &str,
    column: &str,
    present_type: &PgType,
    nullable: bool,
) -> Fix {
    let statement = format!(
        "ALTER TABLE {} ALTER COLUMN {} {};",
        quote_qualified(schema, table),
        quote_ident(column),
        if nullable {
            "DROP NOT NULL"
        } else {
            "SET NOT NULL"
        }
    );
    let mut arguments = vec![python_string(table), python_string(column)];
    if let Some(existing) = sqlalchemy_type(present_type) {
        arguments.push(format!("existing_type={existing}"));
    }
    arguments.push(format!("nullable={}", python_bool(nullable)));
    if schema != "public" {
        arguments.push(format!("schema={}", python_string(schema)));
    }
    let mut snippet = Vec::new();
    if !nullable {
        snippet.push(format!(
            "# SET NOT NULL fails while rows hold NULL: backfill {column} first"
        ));
    }
    snippet.push(format!("op.alter_column({})", arguments.join(", ")));
    review_only_fix(
        format!(
            "write a migration that makes {schema}.{table}.{column} {}",
            if nullable { "nullable" } else { "NOT NULL" }
        ),
        snippet,
        vec![statement],
    )
}

/// A `sa.Column(...)` for a column as the database has it, or `None` when SQLAlchemy has no
/// spelling for its type.
fn column_expression(column: &crate::schema::model::Column) -> Option<String> {
    let mut arguments = vec![python_string(&column.name), sqlalchemy_type(&column.ty)?];
    if let Some(default) = &column.default
        && column.identity.is_none()
        && !default.starts_with("nextval(")
    {
        arguments.push(format!(
            "server_default=sa.text({})",
            python_string(default)
        ));
    }
    arguments.push(format!("nullable={}", python_bool(column.nullable)));
    Some(format!("sa.Column({})", arguments.join(", ")))
}

/// The migration lines that adopt a column added to the database by hand: `op.add_column(...)`
/// as the database has it (an `op.execute` of the SQL where SQLAlchemy cannot spell the type).
pub fn adopt_column_snippet(
    schema: &str,
    table: &str,
    column: &crate::schema::model::Column,
) -> Vec<String> {
    match column_expression(column) {
        Some(expression) => vec![format!(
            "op.add_column({}, {expression}{})",
            python_string(table),
            schema_argument(schema)
        )],
        None => vec![op_execute(&format!(
            "ALTER TABLE {} ADD COLUMN {} {}{};",
            quote_qualified(schema, table),
            quote_ident(&column.name),
            column.ty,
            if column.nullable { "" } else { " NOT NULL" }
        ))],
    }
}

/// The migration lines that adopt a table created by hand: `op.create_table(...)` with its
/// columns and primary key as the database has them.
pub fn adopt_table_snippet(table: &crate::schema::model::Table) -> Vec<String> {
    let columns: Option<Vec<String>> = table.columns.iter().map(column_expression).collect();
    let Some(columns) = columns else {
        return vec![format!(
            "# SQLAlchemy cannot spell every column type of {}.{}: copy its definition from \
             `pg_dump --schema-only --table {}` into op.execute(...)",
            table.schema,
            table.name,
            quote_qualified(&table.schema, &table.name)
        )];
    };
    let mut lines = vec![
        "op.create_table(".to_owned(),
        format!("    {},", python_string(&table.name)),
    ];
    lines.extend(columns.into_iter().map(|c| format!("    {c},")));
    if let Some(key) = &table.primary_key {
        let names: Vec<String> = key.columns.iter().map(|c| python_string(c)).collect();
        lines.push(format!(
            "    sa.PrimaryKeyConstraint({}, name={}),",
            names.join(", "),
            python_string(&key.name)
        ));
    }
    if table.schema != "public" {
        lines.push(format!("    schema={},", python_string(&table.schema)));
    }
    lines.push(")".to_owned());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(ty: &str) -> Option<String> {
        sqlalchemy_type(&PgType::parse(ty).expect("test type parses"))
    }

    #[test]
    fn types_map_to_what_sqlalchemy_emits() {
        assert_eq!(sa("integer").as_deref(), Some("sa.Integer()"));
        assert_eq!(sa("varchar(120)").as_deref(), Some("sa.String(length=120)"));
        assert_eq!(sa("varchar").as_deref(), Some("sa.String()"));
        assert_eq!(
            sa("numeric(10,2)").as_deref(),
            Some("sa.Numeric(precision=10, scale=2)")
        );
        assert_eq!(sa("timestamp").as_deref(), Some("sa.DateTime()"));
        assert_eq!(
            sa("timestamptz").as_deref(),
            Some("sa.DateTime(timezone=True)")
        );
        assert_eq!(
            sa("timestamp(3) with time zone").as_deref(),
            Some("postgresql.TIMESTAMP(timezone=True, precision=3)")
        );
        assert_eq!(sa("text[]").as_deref(), Some("postgresql.ARRAY(sa.Text())"));
        assert_eq!(
            sa("interval day to second").as_deref(),
            Some("postgresql.INTERVAL(fields=\"DAY TO SECOND\")")
        );
        assert_eq!(sa("citext"), None);
        assert_eq!(sa("public.status"), None);
    }

    #[test]
    fn python_strings_escape() {
        assert_eq!(python_string("users"), "\"users\"");
        assert_eq!(python_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }

    #[test]
    fn incompatible_type_changes_get_a_using_clause() {
        let parse = |ty: &str| PgType::parse(ty).expect("test type parses");
        let fix = alter_type_fix(
            "public",
            "users",
            "score",
            &parse("text"),
            &parse("integer"),
            true,
        );
        assert_eq!(
            fix.sql,
            [
                "op.alter_column(\"users\", \"score\", type_=sa.Integer(), existing_type=sa.Text(), existing_nullable=True, postgresql_using=\"score::integer\")",
                "# SQL: ALTER TABLE public.users ALTER COLUMN score TYPE integer USING score::integer;",
            ]
        );
        let fix = alter_type_fix(
            "audit",
            "user",
            "email",
            &parse("varchar(80)"),
            &parse("citext"),
            false,
        );
        assert_eq!(
            fix.sql,
            [
                "op.execute(\"ALTER TABLE audit.\\\"user\\\" ALTER COLUMN email TYPE citext USING email::citext\")",
                "# SQL: ALTER TABLE audit.\"user\" ALTER COLUMN email TYPE citext USING email::citext;",
            ]
        );
    }
}
