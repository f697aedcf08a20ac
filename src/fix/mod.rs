//! Fixes: what a finding proposes to change, and the one place where SQL identifiers, literals
//! and comments are written. Every identifier that reaches generated SQL goes through
//! [`quote_ident`], every literal through [`quote_literal`], and every outside text (a name, a
//! revision id, a message, a path) that reaches a comment through [`comment`] or
//! [`comment_line`]; a guard's psql variable never derives from a name ([`psql_guard`]).
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
pub mod psql_lex;
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

/// The psql variable every guard sets: `SELECT … AS driftlint_guard \gset`, then
/// `\if :driftlint_guard`. The fix script ([`script`]) numbers each guard of a script
/// (`driftlint_guard_1`, `driftlint_guard_2`, …) so that a guard repeated after the transaction
/// still reads its own value; the name never derives from an identifier or a revision id, so it
/// is short (PostgreSQL cuts a column alias at 63 bytes) and plain.
pub const GUARD_VARIABLE: &str = "driftlint_guard";

/// [`DESTRUCTIVE_MARK`] and what the statement after it loses, as one comment line.
pub fn destructive_mark(what: &str) -> String {
    format!("{DESTRUCTIVE_MARK}: {}", escape_text(what))
}

/// `SELECT COALESCE((condition), false) AS driftlint_guard \gset` and `\if :driftlint_guard`:
/// what follows, up to the caller's `\endif`, runs only when the condition holds when the script
/// gets there. The condition is never NULL for `\if` (a NULL would leave the variable empty,
/// which `\if` refuses with an error that does not stop psql).
pub fn psql_guard(condition: &str) -> Vec<String> {
    vec![
        format!("SELECT COALESCE(({condition}), false) AS {GUARD_VARIABLE} \\gset"),
        format!("\\if :{GUARD_VARIABLE}"),
    ]
}

/// `\echo '…'`: a message psql prints when the script runs. Control characters are escaped
/// visibly (a line break would end the meta-command), and the quoting is psql's own for
/// meta-command arguments, where a backslash escapes.
pub fn psql_echo(message: &str) -> String {
    let visible = escape_text(message);
    format!(
        "\\echo '{}'",
        visible.replace('\\', "\\\\").replace('\'', "''")
    )
}

/// Whether psql, a terminal or an editor may take `c` for a line break or a control sequence:
/// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidirectional
/// overrides and isolates (which reorder what a reviewer sees).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

/// `text` with every character [`needs_escape`] names written visibly: `\n`, `\r`, `\t`,
/// `\x1b`, `\u{2028}`. Everything else, backslashes included, is kept.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` as comment lines: one `-- ` line per line of `text` (split at `\n`), every other
/// control character escaped ([`escape_text`]). The one way outside text (names, revision ids,
/// messages, paths) reaches a comment of a fix script: no line of the result can end the comment
/// early.
pub fn comment(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|line| format!("-- {}", escape_text(line)))
        .collect()
}

/// [`comment`] of a text that is one line by construction, as a single line: a line break in it
/// (from a name) is escaped too.
pub fn comment_line(text: &str) -> String {
    format!("-- {}", escape_text(text))
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

/// A SQL string literal, as PostgreSQL's `quote_literal()` writes it: a value with a backslash
/// becomes an `E'…'` literal with the backslashes doubled, which means the same whatever
/// `standard_conforming_strings` says.
pub fn quote_literal(value: &str) -> String {
    let quoted = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
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
        assert_eq!(quote_literal("a\\b'c"), "E'a\\\\b''c'");
    }

    #[test]
    fn comments_escape_every_line_break_and_control_character() {
        assert_eq!(
            comment("x\n\\! id > pwned.txt\n"),
            ["-- x", "-- \\! id > pwned.txt", "-- "]
        );
        assert_eq!(
            comment("a\rb\u{2028}c\u{1b}[31m\u{7}\u{85}\u{202e}d\te"),
            ["-- a\\rb\\u{2028}c\\x1b[31m\\x07\\x85\\u{202e}d\\te"]
        );
        assert_eq!(comment_line("a\nb"), "-- a\\nb");
        assert_eq!(comment("Ünïcödé \\ name"), ["-- Ünïcödé \\ name"]);
    }

    #[test]
    fn guards_use_one_short_name_and_are_never_null() {
        assert_eq!(
            psql_guard("x IS NULL"),
            [
                "SELECT COALESCE((x IS NULL), false) AS driftlint_guard \\gset",
                "\\if :driftlint_guard"
            ]
        );
        assert_eq!(psql_echo("it's a\nb\\c"), "\\echo 'it''s a\\\\nb\\\\c'");
    }
}
