//! Fixes: what a finding proposes to change, and the one place where SQL identifiers and literals
//! are quoted. Every identifier that reaches generated SQL goes through [`quote_ident`].
//!
//! A fix's `sql` is a psql script fragment: statements, `--` comments, and the psql
//! meta-commands `\if`/`\else`/`\endif`/`\echo` (with `SELECT … \gset`) that make a statement
//! PostgreSQL cannot guard itself safe to run twice. Two comments carry meaning for the fix
//! script ([`script`]): [`DESTRUCTIVE_MARK`] before a statement that can lose data, and
//! [`OUTSIDE_TRANSACTION_MARK`] before one PostgreSQL refuses inside a transaction block.

pub mod ddl;
pub mod guidance;
#[cfg(test)]
mod parse_check;
pub mod revisions;
pub mod script;
pub mod sequence;
pub mod upgrade_sql;

use std::borrow::Cow;

/// How safe a fix is to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// Runnable SQL that loses no data.
    Safe,
    /// Runnable SQL that can lose data (drops a column, a table or a key's column).
    Destructive,
    /// Not SQL to run against the database: a snippet for a new migration, or guidance.
    ReviewOnly,
}

/// A concrete fix: real values, never placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// A short imperative title ("advance the sequence", "write a migration that adds the column").
    pub title: String,
    /// SQL statements, each complete with its terminating semicolon, or for `ReviewOnly` fixes
    /// the snippet's lines.
    pub sql: Vec<String>,
    pub safety: Safety,
}

impl Fix {
    pub fn is_destructive(&self) -> bool {
        self.safety == Safety::Destructive
    }
}

/// The comment that precedes a statement that can lose data; the fix script comments the
/// statement out unless `--allow-destructive` is given.
pub const DESTRUCTIVE_MARK: &str = "-- DESTRUCTIVE";

/// The comment that precedes a statement PostgreSQL refuses inside a transaction block
/// (`CREATE INDEX CONCURRENTLY`, what a revision runs in `autocommit_block()`); the fix script
/// runs it after the transaction.
pub const OUTSIDE_TRANSACTION_MARK: &str = "-- outside a transaction";

/// `SELECT (condition) AS variable \gset` and `\if :variable`: what follows, up to the caller's
/// `\endif`, runs only when the condition holds when the script gets there.
pub fn psql_guard(variable: &str, condition: &str) -> Vec<String> {
    let variable = psql_variable(variable);
    vec![
        format!("SELECT {condition} AS {variable} \\gset"),
        format!("\\if :{variable}"),
    ]
}

/// A psql variable name: letters, digits and underscores only.
fn psql_variable(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `\echo '…'`: a message psql prints when the script runs.
pub fn psql_echo(message: &str) -> String {
    format!("\\echo {}", quote_literal(message))
}

/// PostgreSQL's reserved key words (those `quote_ident` must quote even when lower case).
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// Quotes an identifier the way PostgreSQL's `quote_ident()` does: only where needed.
pub fn quote_ident(name: &str) -> Cow<'_, str> {
    let plain = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !RESERVED.contains(&name);
    if plain {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
    }
}

/// `schema.name`, each part quoted where needed.
pub fn quote_qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// A SQL string literal.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_where_needed() {
        assert_eq!(quote_ident("users"), "users");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("my table"), "\"my table\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1abc"), "\"1abc\"");
        assert_eq!(quote_ident(""), "\"\"");
        assert_eq!(quote_qualified("public", "order"), "public.\"order\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
