//! Fixes: what a finding proposes to change, and the one place where SQL comments are written;
//! identifiers and literals are quoted by [`crate::quote`] (re-exported here), and the `Fix` type
//! is [`crate::diagnostic`]'s, since findings carry it. Every identifier that reaches generated SQL goes through
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

pub use crate::diagnostic::{DESTRUCTIVE_MARK, Fix, OUTSIDE_TRANSACTION_MARK, Safety};
pub use crate::quote::{quote_ident, quote_literal, quote_qualified};

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

#[cfg(test)]
mod tests {
    use super::*;

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
