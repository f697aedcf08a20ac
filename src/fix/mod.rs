//! Fixes: what a finding proposes to change, as psql script fragments. Every identifier that
//! reaches generated SQL goes through [`quote_ident`] ([`crate::quote`], re-exported here); the
//! `Fix` type itself is [`crate::diagnostic`]'s, since findings carry it.
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

pub use crate::diagnostic::{DESTRUCTIVE_MARK, Fix, OUTSIDE_TRANSACTION_MARK, Safety};
pub use crate::quote::{quote_ident, quote_literal, quote_qualified};

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
