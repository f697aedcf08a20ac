//! Raw SQL (from `op.execute`) lowered to [`Op`]s with sqlparser's PostgreSQL dialect, and the
//! small token-level helpers the replay needs for SQL text it keeps (check conditions and index
//! expressions).
//!
//! Invariant: what a statement does to tables is either lowered to ops, or said with an
//! [`Op::Unmodeled`]; only statements that cannot change tables, columns, keys, indexes or
//! sequences (DML, grants, comments, functions, triggers, views, extensions, settings) are
//! dropped quietly. Identifiers are folded as PostgreSQL folds them: unquoted to lower case,
//! quoted as written.

use sqlparser::ast::{
    AlterColumnOperation, AlterIndexOperation, AlterTableOperation, AlterTypeOperation,
    ColumnOption, ColumnOptionDef, CreateIndex, CreateTable, DataType, Expr, Ident, IndexColumn,
    IndexType, ObjectName, ObjectType, ReferentialAction, RenameTableNameKind, SequenceOptions,
    Statement, TableConstraint, TimezoneInfo, UserDefinedTypeRepresentation, Value,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::model::DEFAULT_INDEX_METHOD;
use super::names::{column_names_addition, make_object_name, truncate_identifier};
use super::ops::{Autoincrement, ColumnDef, Constraint, IdentitySpec, IndexDef, Op, QualName};
use super::types::PgType;
use crate::quote::quote_ident;

mod datatypes;
mod statements;
#[cfg(test)]
mod tests;
mod text;

pub use datatypes::pg_type;
use statements::*;
pub(crate) use text::{referenced_identifiers, rename_identifier};

/// The longest SQL text parsed. sqlparser holds every token of the text (a word or number with
/// its own allocation and location, about 100 bytes each) and the statement's tree at once, so
/// memory grows to about 170 times the text (a 1 MB INSERT: 180 MB; a 50 MB string took 4.4 GB
/// and 33 s). At 512 KiB that stays within 100 MB. Longer text is reported as unmodelled, with
/// its length, instead.
pub const MAX_SQL_LENGTH: usize = 512 * 1024;

/// The schema changes made by `sql`, one or more statements separated by `;`. DML and other
/// statements that cannot change tables yield nothing. A statement that does not parse, or that
/// changes tables in a way the model does not follow, yields an [`Op::Unmodeled`] saying so, so
/// the statements around it are still modelled. `Err` carries a short reason when the text cannot
/// even be split into statements (an unterminated string or comment); the caller reports it as
/// unmodelled.
pub fn lower_sql(sql: &str) -> Result<Vec<Op>, String> {
    if sql.len() > MAX_SQL_LENGTH {
        return Err(format!(
            "it is {} bytes long, and driftlint parses SQL of at most {} bytes (a migration's \
             schema changes are far shorter; text this long is data)",
            sql.len(),
            MAX_SQL_LENGTH
        ));
    }
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|error| format!("the SQL cannot be read: {}", error.message))?;
    let mut ops = Vec::new();
    for statement in split_statements(tokens) {
        // sqlparser's parser takes time quadratic in the depth of unclosed parentheses (40,000
        // of them: 0.8 s; 512 KiB of them would take minutes); no schema change nests that deep.
        let parsed = if parenthesis_depth(&statement) > MAX_PARENTHESIS_DEPTH {
            Err(sqlparser::parser::ParserError::RecursionLimitExceeded)
        } else {
            parse_one(&dialect, &statement)
        };
        let before = ops.len();
        match parsed {
            Ok(parsed) => lower_statement(&parsed, &mut ops),
            Err(error) => {
                if let Some(op) = unparsed_statement(&statement, &error.to_string()) {
                    ops.push(op);
                }
            }
        }
        // A statement that changes nothing the model holds is kept as written, so that the
        // upgrade rendered as SQL still runs it.
        if ops.len() == before {
            let text: String = statement.iter().map(|t| t.token.to_string()).collect();
            let text = text.trim();
            ops.push(Op::Passthrough {
                what: format!(
                    "SQL statement `{} ...`",
                    statement_words(&statement)
                        .into_iter()
                        .take(3)
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                sql: Some(format!("{text};")),
            });
        }
    }
    Ok(ops)
}

/// The deepest parenthesis nesting sqlparser is given; deeper statements are reported as not
/// parsed.
const MAX_PARENTHESIS_DEPTH: usize = 256;

/// How deep the statement's parentheses nest at most (unclosed ones count).
fn parenthesis_depth(statement: &[TokenWithSpan]) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for token in statement {
        match token.token {
            Token::LParen => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// One statement parsed, all of its tokens used.
fn parse_one(
    dialect: &PostgreSqlDialect,
    statement: &[TokenWithSpan],
) -> Result<Statement, sqlparser::parser::ParserError> {
    let mut parser = Parser::new(dialect).with_tokens_with_locations(statement.to_vec());
    parser.parse_statement().and_then(|parsed| {
        // A statement must use all of its text: anything after it was not understood.
        match parser.peek_token().token {
            Token::EOF => Ok(parsed),
            extra => Err(sqlparser::parser::ParserError::ParserError(format!(
                "unexpected {extra} after the statement"
            ))),
        }
    })
}

/// The statements of a token stream, split at top-level `;` (the tokenizer has already kept
/// semicolons inside strings, dollar quotes and comments out of the way).
pub(super) fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut statements = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        match token.token {
            Token::SemiColon => statements.push(std::mem::take(&mut current)),
            Token::EOF => {}
            _ => current.push(token),
        }
    }
    statements.push(current);
    statements
        .into_iter()
        .filter(|statement| {
            statement
                .iter()
                .any(|t| !matches!(t.token, Token::Whitespace(_)))
        })
        .collect()
}

/// The statement's words and symbols, upper-cased, without whitespace and comments: what
/// [`unparsed_statement`] recognises a statement by.
pub(super) fn statement_words(statement: &[TokenWithSpan]) -> Vec<String> {
    statement
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .map(|t| match &t.token {
            Token::Word(word) if word.quote_style.is_none() => word.value.to_ascii_uppercase(),
            other => other.to_string(),
        })
        .collect()
}

/// What to do with a statement sqlparser cannot parse: nothing for statements that cannot change
/// tables, an [`Op::Unmodeled`] otherwise.
pub(super) fn unparsed_statement(statement: &[TokenWithSpan], error: &str) -> Option<Op> {
    if let Some(op) = alter_sequence_owned_by(statement) {
        return Some(op);
    }
    let words = statement_words(statement);
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    // `CREATE OR REPLACE x` and `CREATE x` name the same kind of object.
    let created_kind = if word(1) == "OR" && word(2) == "REPLACE" {
        word(3)
    } else {
        word(1)
    };
    let quiet = match word(0) {
        "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "WITH" | "VALUES" | "MERGE" | "COPY"
        | "TRUNCATE" | "COMMENT" | "GRANT" | "REVOKE" | "SET" | "RESET" | "SHOW" | "ANALYZE"
        | "VACUUM" | "CLUSTER" | "REINDEX" | "REFRESH" | "NOTIFY" | "LISTEN" | "UNLISTEN"
        | "LOCK" | "DISCARD" | "CHECKPOINT" | "BEGIN" | "COMMIT" | "END" | "START" | "ROLLBACK"
        | "SAVEPOINT" | "RELEASE" | "SECURITY" | "CALL" => true,
        "CREATE" | "DROP" | "ALTER" => matches!(
            created_kind,
            "FUNCTION"
                | "PROCEDURE"
                | "TRIGGER"
                | "CONSTRAINT"
                | "EVENT"
                | "VIEW"
                | "RECURSIVE"
                | "MATERIALIZED"
                | "EXTENSION"
                | "RULE"
                | "POLICY"
                | "ROLE"
                | "USER"
                | "GROUP"
                | "AGGREGATE"
                | "OPERATOR"
                | "CAST"
                | "LANGUAGE"
                | "TRUSTED"
                | "PROCEDURAL"
                | "COLLATION"
                | "CONVERSION"
                | "TEXT"
                | "PUBLICATION"
                | "SUBSCRIPTION"
                | "STATISTICS"
                | "SERVER"
                | "DEFAULT"
                | "DATABASE"
                | "SYSTEM"
                | "TABLESPACE"
                | "ROUTINE"
        ),
        _ => false,
    };
    if quiet {
        return None;
    }
    // Column settings that only tune storage or the planner change nothing the model holds.
    if word(0) == "ALTER"
        && word(1) == "TABLE"
        && words
            .iter()
            .any(|w| matches!(w.as_str(), "STATISTICS" | "STORAGE" | "COMPRESSION"))
        && !words.iter().any(|w| {
            matches!(
                w.as_str(),
                "ADD" | "DROP" | "TYPE" | "RENAME" | "NOT" | "DEFAULT"
            )
        })
    {
        return None;
    }
    // `ALTER SEQUENCE ... RESTART` (common after bulk loads) moves the sequence's state, which
    // the replay does not hold; anything else it does changes the sequence's definition.
    if word(0) == "ALTER"
        && word(1) == "SEQUENCE"
        && !words.iter().any(|w| {
            matches!(
                w.as_str(),
                "OWNED" | "RENAME" | "INCREMENT" | "AS" | "SET" | "MINVALUE" | "MAXVALUE" | "START"
            )
        })
    {
        return None;
    }
    let head: Vec<String> = statement
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .take(4)
        .map(|t| t.token.to_string())
        .collect();
    Some(Op::Unmodeled {
        what: format!(
            "SQL statement `{} ...` that sqlparser cannot parse ({})",
            head.join(" "),
            short_error(error)
        ),
        tables: table_named_after(&words, statement),
    })
}

/// `ALTER SEQUENCE [IF EXISTS] name OWNED BY {table.column | NONE}`, which sqlparser does not
/// parse, read token by token (pg_dump writes it after every serial column).
pub(super) fn alter_sequence_owned_by(statement: &[TokenWithSpan]) -> Option<Op> {
    let tokens: Vec<&Token> = statement
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let keyword = |token: &Token, expected: Keyword| matches!(token, Token::Word(w) if w.quote_style.is_none() && w.keyword == expected);
    let mut rest: &[&Token] = tokens.as_slice();
    for expected in [Keyword::ALTER, Keyword::SEQUENCE] {
        let (first, tail) = rest.split_first()?;
        if !keyword(first, expected) {
            return None;
        }
        rest = tail;
    }
    let guarded_by_if_exists =
        rest.len() >= 2 && keyword(rest[0], Keyword::IF) && keyword(rest[1], Keyword::EXISTS);
    if guarded_by_if_exists {
        rest = &rest[2..];
    }
    let (sequence, tail) = dotted_name(rest)?;
    rest = tail;
    for expected in [Keyword::OWNED, Keyword::BY] {
        let (first, tail) = rest.split_first()?;
        if !keyword(first, expected) {
            return None;
        }
        rest = tail;
    }
    let owner = match rest {
        [none] if keyword(none, Keyword::NONE) => None,
        _ => {
            let (parts, tail) = dotted_name(rest)?;
            if !tail.is_empty() {
                return None;
            }
            Some(owner_of(&parts)?)
        }
    };
    let name = match sequence.as_slice() {
        [name] => QualName::new(None, name),
        [schema, name] => QualName::new(Some(schema), name),
        _ => return None,
    };
    Some(guarded(
        Op::SetSequenceOwner { name, owner },
        guarded_by_if_exists,
    ))
}

/// `a.b.c` at the start of `tokens`: the folded parts and the tokens after them.
pub(super) fn dotted_name<'t>(tokens: &'t [&'t Token]) -> Option<(Vec<String>, &'t [&'t Token])> {
    let mut parts = Vec::new();
    let mut rest = tokens;
    loop {
        match rest.split_first() {
            Some((Token::Word(word), tail)) => {
                parts.push(fold_word(&word.value, word.quote_style));
                rest = tail;
            }
            _ => return None,
        }
        match rest.split_first() {
            Some((Token::Period, tail)) => rest = tail,
            _ => return Some((parts, rest)),
        }
    }
}

/// `table.column` or `schema.table.column` as the owner of a sequence.
pub(super) fn owner_of(parts: &[String]) -> Option<(QualName, String)> {
    match parts {
        [table, column] => Some((QualName::new(None, table), column.clone())),
        [schema, table, column] => Some((QualName::new(Some(schema), table), column.clone())),
        _ => None,
    }
}

/// The parser's message without its `sql parser error: ` prefix.
pub(super) fn short_error(error: &str) -> &str {
    error.strip_prefix("sql parser error: ").unwrap_or(error)
}

/// For `ALTER TABLE [IF EXISTS] [ONLY] name ...`, the table; what an unparsed statement may touch.
pub(super) fn table_named_after(words: &[String], statement: &[TokenWithSpan]) -> Vec<QualName> {
    if words.first().map(String::as_str) != Some("ALTER")
        || words.get(1).map(String::as_str) != Some("TABLE")
    {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut expect_name = true;
    let significant = statement
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .skip(2);
    for token in significant {
        match &token.token {
            Token::Word(word)
                if word.quote_style.is_none()
                    && matches!(word.keyword, Keyword::IF | Keyword::EXISTS | Keyword::ONLY)
                    && parts.is_empty() => {}
            Token::Word(word) if expect_name => {
                parts.push(fold_word(&word.value, word.quote_style));
                expect_name = false;
            }
            Token::Period if !expect_name => expect_name = true,
            _ => break,
        }
    }
    match parts.as_slice() {
        [name] => vec![QualName::new(None, name)],
        [schema, name] => vec![QualName::new(Some(schema), name)],
        _ => Vec::new(),
    }
}

pub(super) fn fold_word(value: &str, quote_style: Option<char>) -> String {
    truncate_identifier(&if quote_style.is_some() {
        value.to_owned()
    } else {
        value.to_ascii_lowercase()
    })
}

/// An identifier as PostgreSQL stores it.
pub(super) fn ident(ident: &Ident) -> String {
    fold_word(&ident.value, ident.quote_style)
}

/// A possibly qualified name; `Err` for more than two parts or a part that is not a name.
pub(super) fn qual_name(name: &ObjectName) -> Result<QualName, String> {
    let parts: Option<Vec<String>> = name
        .0
        .iter()
        .map(|part| part.as_ident().map(ident))
        .collect();
    match parts.as_deref() {
        Some([name]) => Ok(QualName::new(None, name)),
        Some([schema, name]) => Ok(QualName::new(Some(schema), name)),
        // A database-qualified name must name the current database; its schema and name count.
        Some([_, schema, name]) => Ok(QualName::new(Some(schema), name)),
        _ => Err(format!("the name {name} is not a schema-qualified name")),
    }
}

pub(super) fn unmodeled(what: String, tables: Vec<QualName>) -> Op {
    Op::Unmodeled { what, tables }
}

pub(super) fn guarded(op: Op, guard: bool) -> Op {
    if guard {
        Op::Guarded { op: Box::new(op) }
    } else {
        op
    }
}
