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
    ObjectName, ObjectType, ReferentialAction, RenameTableNameKind, SequenceOptions, Statement,
    TableConstraint, TimezoneInfo, UserDefinedTypeRepresentation, Value,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::names::{column_names_addition, make_object_name, truncate_identifier};
use super::ops::{Autoincrement, ColumnDef, Constraint, IdentitySpec, IndexDef, Op, QualName};
use super::types::PgType;
use crate::quote::quote_ident;

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
        let mut parser = Parser::new(&dialect).with_tokens_with_locations(statement.clone());
        let parsed = parser.parse_statement().and_then(|parsed| {
            // A statement must use all of its text: anything after it was not understood.
            match parser.peek_token().token {
                Token::EOF => Ok(parsed),
                extra => Err(sqlparser::parser::ParserError::ParserError(format!(
                    "unexpected {extra} after the statement"
                ))),
            }
        });
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

/// The statements of a token stream, split at top-level `;` (the tokenizer has already kept
/// semicolons inside strings, dollar quotes and comments out of the way).
fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
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
fn statement_words(statement: &[TokenWithSpan]) -> Vec<String> {
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
fn unparsed_statement(statement: &[TokenWithSpan], error: &str) -> Option<Op> {
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
fn alter_sequence_owned_by(statement: &[TokenWithSpan]) -> Option<Op> {
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
fn dotted_name<'t>(tokens: &'t [&'t Token]) -> Option<(Vec<String>, &'t [&'t Token])> {
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
fn owner_of(parts: &[String]) -> Option<(QualName, String)> {
    match parts {
        [table, column] => Some((QualName::new(None, table), column.clone())),
        [schema, table, column] => Some((QualName::new(Some(schema), table), column.clone())),
        _ => None,
    }
}

/// The parser's message without its `sql parser error: ` prefix.
fn short_error(error: &str) -> &str {
    error.strip_prefix("sql parser error: ").unwrap_or(error)
}

/// For `ALTER TABLE [IF EXISTS] [ONLY] name ...`, the table; what an unparsed statement may touch.
fn table_named_after(words: &[String], statement: &[TokenWithSpan]) -> Vec<QualName> {
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

fn fold_word(value: &str, quote_style: Option<char>) -> String {
    truncate_identifier(&if quote_style.is_some() {
        value.to_owned()
    } else {
        value.to_ascii_lowercase()
    })
}

/// An identifier as PostgreSQL stores it.
fn ident(ident: &Ident) -> String {
    fold_word(&ident.value, ident.quote_style)
}

/// A possibly qualified name; `Err` for more than two parts or a part that is not a name.
fn qual_name(name: &ObjectName) -> Result<QualName, String> {
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

fn unmodeled(what: String, tables: Vec<QualName>) -> Op {
    Op::Unmodeled { what, tables }
}

fn guarded(op: Op, guard: bool) -> Op {
    if guard {
        Op::Guarded { op: Box::new(op) }
    } else {
        op
    }
}

fn lower_statement(statement: &Statement, ops: &mut Vec<Op>) {
    match statement {
        Statement::CreateTable(create) => lower_create_table(create, ops),
        Statement::AlterTable(alter) => match qual_name(&alter.name) {
            Ok(table) => {
                for operation in &alter.operations {
                    lower_alter_table_operation(&table, operation, ops);
                }
            }
            Err(reason) => ops.push(unmodeled(format!("ALTER TABLE: {reason}"), Vec::new())),
        },
        Statement::CreateIndex(create) => lower_create_index(create, ops),
        Statement::Drop {
            object_type,
            if_exists,
            names,
            ..
        } => {
            for name in names {
                let name = match qual_name(name) {
                    Ok(name) => name,
                    Err(reason) => {
                        ops.push(unmodeled(
                            format!("DROP {object_type}: {reason}"),
                            Vec::new(),
                        ));
                        continue;
                    }
                };
                let op = match object_type {
                    ObjectType::Table => Op::DropTable { table: name },
                    ObjectType::Index => Op::DropIndex {
                        schema: name.schema,
                        name: name.name,
                        table: None,
                    },
                    ObjectType::Sequence => Op::DropSequence { name },
                    ObjectType::Type => Op::DropEnum { name },
                    ObjectType::Schema => {
                        ops.push(unmodeled(
                            format!(
                                "DROP SCHEMA {} (the tables in it are not followed)",
                                name.name
                            ),
                            Vec::new(),
                        ));
                        continue;
                    }
                    // Views, roles, collations and the like are not tables.
                    _ => continue,
                };
                ops.push(guarded(op, *if_exists));
            }
        }
        Statement::CreateSequence {
            temporary,
            if_not_exists,
            name,
            sequence_options,
        } => {
            if *temporary {
                return;
            }
            let name = match qual_name(name) {
                Ok(name) => name,
                Err(reason) => {
                    ops.push(unmodeled(format!("CREATE SEQUENCE: {reason}"), Vec::new()));
                    return;
                }
            };
            let mut start = None;
            let mut increment = None;
            let mut owned_by = None;
            for option in sequence_options {
                match option {
                    SequenceOptions::StartWith(expr, _) => start = integer_literal(expr),
                    SequenceOptions::IncrementBy(expr, _) => increment = integer_literal(expr),
                    SequenceOptions::OwnedBy(Some(owner)) => {
                        let parts: Option<Vec<String>> = owner
                            .0
                            .iter()
                            .map(|part| part.as_ident().map(ident))
                            .collect();
                        owned_by = Some(parts.as_deref().and_then(owner_of));
                    }
                    _ => {}
                }
            }
            ops.push(guarded(
                Op::CreateSequence {
                    name: name.clone(),
                    start,
                    increment,
                },
                *if_not_exists,
            ));
            match owned_by {
                Some(Some(owner)) => ops.push(Op::SetSequenceOwner {
                    name,
                    owner: Some(owner),
                }),
                Some(None) => ops.push(unmodeled(
                    format!(
                        "CREATE SEQUENCE {} ... OWNED BY a name that is not table.column",
                        name.name
                    ),
                    Vec::new(),
                )),
                None => {}
            }
        }
        Statement::CreateType {
            name,
            representation,
        } => {
            // Composite, range and base types are not tables; only enums are modelled.
            if let Some(UserDefinedTypeRepresentation::Enum { labels }) = representation {
                match qual_name(name) {
                    Ok(name) => ops.push(Op::CreateEnum {
                        name,
                        values: labels.iter().map(|label| label.value.clone()).collect(),
                    }),
                    Err(reason) => {
                        ops.push(unmodeled(format!("CREATE TYPE: {reason}"), Vec::new()))
                    }
                }
            }
        }
        Statement::AlterType(alter) => match &alter.operation {
            AlterTypeOperation::AddValue(_) | AlterTypeOperation::RenameValue(_) => {
                ops.push(unmodeled(
                    format!("ALTER TYPE {} (enum labels are not followed)", alter.name),
                    Vec::new(),
                ));
            }
            AlterTypeOperation::Rename(_) => ops.push(unmodeled(
                format!(
                    "ALTER TYPE {} RENAME (columns of the type are not followed)",
                    alter.name
                ),
                Vec::new(),
            )),
        },
        Statement::AlterIndex { name, operation } => match operation {
            AlterIndexOperation::RenameIndex { index_name } => {
                match (qual_name(name), qual_name(index_name)) {
                    (Ok(old), Ok(new)) => ops.push(Op::RenameIndex {
                        schema: old.schema,
                        name: old.name,
                        new_name: new.name,
                    }),
                    (Err(reason), _) | (_, Err(reason)) => {
                        ops.push(unmodeled(format!("ALTER INDEX: {reason}"), Vec::new()))
                    }
                }
            }
        },
        // Statements that cannot change tables, columns, keys, indexes or sequences.
        Statement::Query(_)
        | Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Merge(_)
        | Statement::Copy { .. }
        | Statement::Truncate(_)
        | Statement::Set(_)
        | Statement::Reset(_)
        | Statement::Comment { .. }
        | Statement::Grant(_)
        | Statement::Revoke(_)
        | Statement::GrantRole(_)
        | Statement::RevokeRole(_)
        | Statement::AlterDefaultPrivileges(_)
        | Statement::CreateView(_)
        | Statement::AlterView(_)
        | Statement::CreateFunction(_)
        | Statement::AlterFunction(_)
        | Statement::DropFunction(_)
        | Statement::CreateProcedure { .. }
        | Statement::DropProcedure { .. }
        | Statement::CreateTrigger(_)
        | Statement::DropTrigger(_)
        | Statement::AlterTrigger(_)
        | Statement::CreateExtension(_)
        | Statement::DropExtension(_)
        | Statement::CreateSchema { .. }
        | Statement::AlterSchema(_)
        | Statement::CreateRole(_)
        | Statement::AlterRole { .. }
        | Statement::CreateUser(_)
        | Statement::AlterUser(_)
        | Statement::CreatePolicy(_)
        | Statement::AlterPolicy(_)
        | Statement::DropPolicy(_)
        | Statement::CreateRule(_)
        | Statement::DropRule(_)
        | Statement::CreateDomain(_)
        | Statement::DropDomain(_)
        | Statement::CreateCollation(_)
        | Statement::AlterCollation(_)
        | Statement::CreateOperator(_)
        | Statement::DropOperator(_)
        | Statement::CreateAggregate(_)
        | Statement::CreateTextSearch(_)
        | Statement::AlterTextSearch(_)
        | Statement::RefreshMaterializedView(_)
        | Statement::Analyze(_)
        | Statement::Vacuum(_)
        | Statement::Call(_)
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. }
        | Statement::Lock(_)
        | Statement::NOTIFY { .. }
        | Statement::LISTEN { .. }
        | Statement::UNLISTEN { .. }
        | Statement::Discard { .. }
        | Statement::Deallocate { .. }
        | Statement::Prepare { .. }
        | Statement::Execute { .. }
        | Statement::Explain { .. }
        | Statement::ShowVariable { .. } => {}
        other => {
            let text = other.to_string();
            let head: String = text
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            ops.push(unmodeled(
                format!("SQL statement `{head} ...` that the replay does not follow"),
                Vec::new(),
            ));
        }
    }
}

/// A column definition's options, sorted into what becomes part of the column and what becomes a
/// table-level constraint (named inline constraints, primary keys, references and checks, which
/// PostgreSQL names exactly as it would a table-level one).
fn lower_column(
    column: &sqlparser::ast::ColumnDef,
    constraints: &mut Vec<Constraint>,
) -> Result<ColumnDef, String> {
    let name = ident(&column.name);
    let (ty, serial) = pg_type(&column.data_type)?;
    let mut def = ColumnDef::new(&name, ty);
    // A raw SQL integer primary key is a plain integer: only `serial` types get a sequence.
    def.autoincrement = if serial {
        Autoincrement::Serial
    } else {
        Autoincrement::False
    };
    for ColumnOptionDef {
        name: constraint_name,
        option,
    } in &column.options
    {
        let constraint_name = constraint_name.as_ref().map(ident);
        match option {
            ColumnOption::Null => def.nullable = Some(true),
            ColumnOption::NotNull => def.nullable = Some(false),
            ColumnOption::Default(expr) => def.server_default = Some(expr.to_string()),
            ColumnOption::PrimaryKey(pk) => constraints.push(Constraint::PrimaryKey {
                name: constraint_name.or_else(|| pk.name.as_ref().map(ident)),
                columns: vec![name.clone()],
            }),
            ColumnOption::Unique(unique) => {
                match constraint_name.or_else(|| unique.name.as_ref().map(ident)) {
                    Some(unique_name) => constraints.push(Constraint::Unique {
                        name: Some(unique_name),
                        columns: vec![name.clone()],
                    }),
                    None => def.unique = true,
                }
            }
            ColumnOption::ForeignKey(fk) => constraints.push(Constraint::ForeignKey {
                name: constraint_name.or_else(|| fk.name.as_ref().map(ident)),
                columns: vec![name.clone()],
                ref_table: qual_name(&fk.foreign_table)?,
                ref_columns: fk.referred_columns.iter().map(ident).collect(),
                on_delete: fk.on_delete.map(referential_action),
                on_update: fk.on_update.map(referential_action),
            }),
            ColumnOption::Check(check) => constraints.push(Constraint::Check {
                name: constraint_name.or_else(|| check.name.as_ref().map(ident)),
                sql: check.expr.to_string(),
            }),
            ColumnOption::Generated {
                generated_as,
                sequence_options,
                generation_expr: None,
                ..
            } => {
                let mut identity = IdentitySpec {
                    always: matches!(generated_as, sqlparser::ast::GeneratedAs::Always),
                    start: None,
                    increment: None,
                };
                for option in sequence_options.iter().flatten() {
                    match option {
                        SequenceOptions::StartWith(expr, _) => {
                            identity.start = integer_literal(expr)
                        }
                        SequenceOptions::IncrementBy(expr, _) => {
                            identity.increment = integer_literal(expr)
                        }
                        _ => {}
                    }
                }
                def.identity = Some(identity);
            }
            // A stored generated column is a column like any other to the model; collations,
            // comments and storage options are not part of it.
            _ => {}
        }
    }
    Ok(def)
}

fn referential_action(action: ReferentialAction) -> String {
    action.to_string()
}

fn integer_literal(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Number(text, _) => text.parse().ok(),
            _ => None,
        },
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => integer_literal(expr).map(|n| -n),
        _ => None,
    }
}

fn lower_create_table(create: &CreateTable, ops: &mut Vec<Op>) {
    let table = match qual_name(&create.name) {
        Ok(table) => table,
        Err(reason) => {
            ops.push(unmodeled(format!("CREATE TABLE: {reason}"), Vec::new()));
            return;
        }
    };
    // Temporary tables are gone at the end of the session that runs the migration.
    if create.temporary {
        return;
    }
    if create.query.is_some()
        || create.like.is_some()
        || create.clone.is_some()
        || create.partition_of.is_some()
        || create.inherits.is_some()
    {
        ops.push(unmodeled(
            format!(
                "CREATE TABLE {} from a query, LIKE, INHERITS or PARTITION OF (its columns are not followed)",
                table.name
            ),
            vec![table],
        ));
        return;
    }
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    for column in &create.columns {
        match lower_column(column, &mut constraints) {
            Ok(def) => columns.push(def),
            Err(reason) => {
                ops.push(unmodeled(
                    format!("CREATE TABLE {}: {reason}", table.name),
                    vec![table],
                ));
                return;
            }
        }
    }
    for constraint in &create.constraints {
        match lower_table_constraint(constraint) {
            Ok(Some(constraint)) => constraints.push(constraint),
            Ok(None) => {}
            Err(reason) => ops.push(unmodeled(
                format!("CREATE TABLE {}: {reason}", table.name),
                vec![table.clone()],
            )),
        }
    }
    ops.push(guarded(
        Op::CreateTable {
            table,
            columns,
            constraints,
            indexes: Vec::new(),
        },
        create.if_not_exists,
    ));
}

fn index_column_names(columns: &[IndexColumn]) -> Vec<String> {
    columns
        .iter()
        .map(|c| index_entry(&c.column.expr))
        .collect()
}

/// A column name, or an expression's SQL text.
fn index_entry(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(name) => ident(name),
        other => other.to_string(),
    }
}

/// A table-level constraint; `Ok(None)` for kinds PostgreSQL does not have.
fn lower_table_constraint(constraint: &TableConstraint) -> Result<Option<Constraint>, String> {
    Ok(Some(match constraint {
        TableConstraint::PrimaryKey(pk) => Constraint::PrimaryKey {
            name: pk.name.as_ref().map(ident),
            columns: index_column_names(&pk.columns),
        },
        TableConstraint::Unique(unique) => Constraint::Unique {
            name: unique.name.as_ref().map(ident),
            columns: index_column_names(&unique.columns),
        },
        TableConstraint::ForeignKey(fk) => Constraint::ForeignKey {
            name: fk.name.as_ref().map(ident),
            columns: fk.columns.iter().map(ident).collect(),
            ref_table: qual_name(&fk.foreign_table)?,
            ref_columns: fk.referred_columns.iter().map(ident).collect(),
            on_delete: fk.on_delete.map(referential_action),
            on_update: fk.on_update.map(referential_action),
        },
        TableConstraint::Check(check) => Constraint::Check {
            name: check.name.as_ref().map(ident),
            sql: check.expr.to_string(),
        },
        TableConstraint::PrimaryKeyUsingIndex(_) | TableConstraint::UniqueUsingIndex(_) => {
            return Err("a constraint USING INDEX is not followed".to_owned());
        }
        TableConstraint::Exclude(_) => {
            return Err("an EXCLUDE constraint is not followed".to_owned());
        }
        TableConstraint::Index(_) | TableConstraint::FulltextOrSpatial(_) => return Ok(None),
    }))
}

fn lower_alter_table_operation(
    table: &QualName,
    operation: &AlterTableOperation,
    ops: &mut Vec<Op>,
) {
    let unmodeled_here = |what: String| unmodeled(what, vec![table.clone()]);
    match operation {
        AlterTableOperation::AddColumn {
            if_not_exists,
            column_def,
            ..
        } => {
            let mut constraints = Vec::new();
            match lower_column(column_def, &mut constraints) {
                Ok(column) => {
                    ops.push(guarded(
                        Op::AddColumn {
                            table: table.clone(),
                            column,
                        },
                        *if_not_exists,
                    ));
                    // With IF NOT EXISTS and the column already there, PostgreSQL skips the
                    // column's constraints too; the model cannot tell, so it adds them only when
                    // the statement is unconditional.
                    if *if_not_exists && !constraints.is_empty() {
                        ops.push(unmodeled_here(format!(
                            "ALTER TABLE {} ADD COLUMN IF NOT EXISTS with constraints (the constraints are not followed)",
                            table.name
                        )));
                    } else {
                        ops.extend(constraints.into_iter().map(|constraint| Op::AddConstraint {
                            table: table.clone(),
                            constraint,
                        }));
                    }
                }
                Err(reason) => ops.push(unmodeled_here(format!(
                    "ALTER TABLE {} ADD COLUMN: {reason}",
                    table.name
                ))),
            }
        }
        AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            ..
        } => {
            for column in column_names {
                ops.push(guarded(
                    Op::DropColumn {
                        table: table.clone(),
                        column: ident(column),
                    },
                    *if_exists,
                ));
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => ops.push(alter_column(table, ident(old_column_name), |op| {
            if let Op::AlterColumn { new_name, .. } = op {
                *new_name = Some(ident(new_column_name));
            }
        })),
        AlterTableOperation::RenameTable { table_name } => {
            let new = match table_name {
                RenameTableNameKind::As(name) | RenameTableNameKind::To(name) => qual_name(name),
            };
            match new {
                Ok(new) => ops.push(Op::RenameTable {
                    table: table.clone(),
                    new_name: new.name,
                }),
                Err(reason) => ops.push(unmodeled_here(format!("ALTER TABLE RENAME: {reason}"))),
            }
        }
        AlterTableOperation::AlterColumn { column_name, op } => {
            let column = ident(column_name);
            match op {
                AlterColumnOperation::SetNotNull => ops.push(alter_column(table, column, |op| {
                    if let Op::AlterColumn { nullable, .. } = op {
                        *nullable = Some(false);
                    }
                })),
                AlterColumnOperation::DropNotNull => ops.push(alter_column(table, column, |op| {
                    if let Op::AlterColumn { nullable, .. } = op {
                        *nullable = Some(true);
                    }
                })),
                AlterColumnOperation::SetDefault { value } => {
                    let text = value.to_string();
                    ops.push(alter_column(table, column, |op| {
                        if let Op::AlterColumn { server_default, .. } = op {
                            *server_default = Some(Some(text));
                        }
                    }))
                }
                AlterColumnOperation::DropDefault => ops.push(alter_column(table, column, |op| {
                    if let Op::AlterColumn { server_default, .. } = op {
                        *server_default = Some(None);
                    }
                })),
                AlterColumnOperation::SetDataType { data_type, .. } => match pg_type(data_type) {
                    Ok((ty, false)) => ops.push(alter_column(table, column, |op| {
                        if let Op::AlterColumn { new_type, .. } = op {
                            *new_type = Some(ty);
                        }
                    })),
                    Ok((_, true)) => ops.push(unmodeled_here(format!(
                        "ALTER TABLE {} ALTER COLUMN {column} TYPE serial (not a type PostgreSQL accepts here)",
                        table.name
                    ))),
                    Err(reason) => ops.push(unmodeled_here(format!(
                        "ALTER TABLE {} ALTER COLUMN {column} TYPE: {reason}",
                        table.name
                    ))),
                },
                AlterColumnOperation::AddGenerated { .. } => ops.push(unmodeled_here(format!(
                    "ALTER TABLE {} ALTER COLUMN {column} ADD GENERATED AS IDENTITY",
                    table.name
                ))),
                // Foreign-data-wrapper options do not change the column.
                AlterColumnOperation::GenericOptions { .. } => {}
            }
        }
        AlterTableOperation::AddConstraint { constraint, .. } => {
            match lower_table_constraint(constraint) {
                Ok(Some(constraint)) => ops.push(Op::AddConstraint {
                    table: table.clone(),
                    constraint,
                }),
                Ok(None) => {}
                Err(reason) => ops.push(unmodeled_here(format!(
                    "ALTER TABLE {} ADD CONSTRAINT: {reason}",
                    table.name
                ))),
            }
        }
        AlterTableOperation::DropConstraint {
            if_exists, name, ..
        } => ops.push(guarded(
            Op::DropConstraint {
                table: table.clone(),
                name: ident(name),
                kind: None,
            },
            *if_exists,
        )),
        AlterTableOperation::RenameConstraint { old_name, new_name } => {
            ops.push(Op::RenameConstraint {
                table: table.clone(),
                name: ident(old_name),
                new_name: ident(new_name),
            })
        }
        // Ownership, row security, triggers, rules, logging and replica identity do not change
        // the table's shape.
        AlterTableOperation::OwnerTo { .. }
        | AlterTableOperation::EnableRowLevelSecurity
        | AlterTableOperation::DisableRowLevelSecurity
        | AlterTableOperation::ForceRowLevelSecurity
        | AlterTableOperation::NoForceRowLevelSecurity
        | AlterTableOperation::EnableTrigger { .. }
        | AlterTableOperation::DisableTrigger { .. }
        | AlterTableOperation::EnableAlwaysTrigger { .. }
        | AlterTableOperation::EnableReplicaTrigger { .. }
        | AlterTableOperation::EnableRule { .. }
        | AlterTableOperation::DisableRule { .. }
        | AlterTableOperation::EnableAlwaysRule { .. }
        | AlterTableOperation::EnableReplicaRule { .. }
        | AlterTableOperation::ReplicaIdentity { .. }
        | AlterTableOperation::SetLogged
        | AlterTableOperation::SetUnlogged => {}
        other => ops.push(unmodeled_here(format!(
            "ALTER TABLE {} {other} (not followed)",
            table.name
        ))),
    }
}

/// An `AlterColumn` op changing nothing yet, given to `set` to fill in.
fn alter_column(table: &QualName, column: String, set: impl FnOnce(&mut Op)) -> Op {
    let mut op = Op::AlterColumn {
        table: table.clone(),
        column,
        new_type: None,
        nullable: None,
        server_default: None,
        new_name: None,
    };
    set(&mut op);
    op
}

fn lower_create_index(create: &CreateIndex, ops: &mut Vec<Op>) {
    let table = match qual_name(&create.table_name) {
        Ok(table) => table,
        Err(reason) => {
            ops.push(unmodeled(format!("CREATE INDEX: {reason}"), Vec::new()));
            return;
        }
    };
    let columns = index_column_names(&create.columns);
    let name = match &create.name {
        Some(name) => match qual_name(name) {
            Ok(name) => name.name,
            Err(reason) => {
                ops.push(unmodeled(format!("CREATE INDEX: {reason}"), vec![table]));
                return;
            }
        },
        // PostgreSQL's own name for an unnamed index (`ChooseIndexName`): the table, the columns
        // (an expression counts by its function's name, or as `expr`), and `idx` or `key`. A
        // clash with an existing name would make PostgreSQL append a number, which this cannot
        // see; unnamed indexes are rare in migrations.
        None => {
            let parts: Vec<String> = create
                .columns
                .iter()
                .map(|c| match &c.column.expr {
                    Expr::Identifier(name) => ident(name),
                    Expr::Function(function) => function
                        .name
                        .0
                        .last()
                        .and_then(|part| part.as_ident())
                        .map(ident)
                        .unwrap_or_else(|| "expr".to_owned()),
                    _ => "expr".to_owned(),
                })
                .collect();
            let label = if create.unique { "key" } else { "idx" };
            make_object_name(
                &table.name,
                Some(&column_names_addition(&parts)),
                Some(label),
            )
        }
    };
    ops.push(guarded(
        Op::CreateIndex {
            table,
            index: IndexDef {
                name: Some(name),
                columns,
                unique: create.unique,
            },
            concurrently: create.concurrently,
        },
        create.if_not_exists,
    ));
}

/// The PostgreSQL type a SQL type name stands for, as `format_type()` prints it, and whether it
/// was written as a `serial` pseudo-type.
pub fn pg_type(data_type: &DataType) -> Result<(PgType, bool), String> {
    let simple = |name: &str| Ok((PgType::simple(name), false));
    let with_length = |name: &str, length: Option<u64>| {
        let mut ty = PgType::simple(name);
        if let Some(length) = length {
            ty.modifiers.push(modifier(length)?);
        }
        Ok((ty, false))
    };
    match data_type {
        DataType::SmallInt(_) | DataType::Int2(_) => simple("smallint"),
        DataType::Int(_) | DataType::Int4(_) | DataType::Integer(_) => simple("integer"),
        DataType::BigInt(_) | DataType::Int8(_) => simple("bigint"),
        DataType::Real | DataType::Float4 => simple("real"),
        DataType::DoublePrecision | DataType::Float8 | DataType::Double(_) => {
            simple("double precision")
        }
        // `float(p)` is `real` up to 24 bits of precision and `double precision` beyond.
        DataType::Float(info) => match info {
            sqlparser::ast::ExactNumberInfo::Precision(p) if *p <= 24 => simple("real"),
            _ => simple("double precision"),
        },
        DataType::Numeric(info) | DataType::Decimal(info) | DataType::Dec(info) => {
            let mut ty = PgType::simple("numeric");
            match info {
                sqlparser::ast::ExactNumberInfo::None => {}
                sqlparser::ast::ExactNumberInfo::Precision(p) => ty.modifiers.push(modifier(*p)?),
                sqlparser::ast::ExactNumberInfo::PrecisionAndScale(p, s) => {
                    ty.modifiers.push(modifier(*p)?);
                    ty.modifiers
                        .push(u32::try_from(*s).map_err(|_| format!("negative scale {s}"))?);
                }
            }
            Ok((ty, false))
        }
        DataType::Bool | DataType::Boolean => simple("boolean"),
        DataType::Text => simple("text"),
        DataType::Varchar(length)
        | DataType::CharacterVarying(length)
        | DataType::CharVarying(length) => {
            with_length("character varying", character_length(length)?)
        }
        // `char` without a length is `char(1)`.
        DataType::Char(length) | DataType::Character(length) => {
            with_length("character", Some(character_length(length)?.unwrap_or(1)))
        }
        DataType::Bytea => simple("bytea"),
        DataType::Uuid => simple("uuid"),
        DataType::JSON => simple("json"),
        DataType::JSONB => simple("jsonb"),
        DataType::Date => simple("date"),
        DataType::Time(precision, tz) => {
            let name = match tz {
                TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => "time with time zone",
                TimezoneInfo::None | TimezoneInfo::WithoutTimeZone => "time without time zone",
            };
            with_length(name, *precision)
        }
        DataType::Timestamp(precision, tz) => {
            let name = match tz {
                TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => "timestamp with time zone",
                TimezoneInfo::None | TimezoneInfo::WithoutTimeZone => "timestamp without time zone",
            };
            with_length(name, *precision)
        }
        DataType::Interval { fields, precision } => {
            let name = match fields {
                Some(fields) => format!("interval {}", fields.to_string().to_ascii_lowercase()),
                None => "interval".to_owned(),
            };
            with_length(&name, *precision)
        }
        // `bit` without a length is `bit(1)`.
        DataType::Bit(length) => with_length("bit", Some(length.unwrap_or(1))),
        DataType::BitVarying(length) | DataType::VarBit(length) => {
            with_length("bit varying", *length)
        }
        DataType::Regclass => simple("regclass"),
        DataType::TsVector => simple("tsvector"),
        DataType::TsQuery => simple("tsquery"),
        DataType::Array(element) => {
            let inner = match element {
                sqlparser::ast::ArrayElemTypeDef::SquareBracket(inner, _)
                | sqlparser::ast::ArrayElemTypeDef::AngleBracket(inner)
                | sqlparser::ast::ArrayElemTypeDef::Parenthesis(inner) => inner,
                _ => return Err(format!("the array type {data_type} is not understood")),
            };
            let (mut ty, serial) = pg_type(inner)?;
            if serial {
                return Err("an array of serial is not a type".to_owned());
            }
            // PostgreSQL keeps no array dimensions: `integer[][]` is `integer[]`.
            ty.array_dims = 1;
            Ok((ty, false))
        }
        DataType::Custom(name, modifiers) => custom_type(name, modifiers),
        other => PgType::parse(&other.to_string())
            .map(|ty| (ty, false))
            .map_err(|_| format!("the type {other} is not a PostgreSQL type")),
    }
}

fn modifier(value: u64) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| format!("type modifier {value} is too large"))
}

fn character_length(
    length: &Option<sqlparser::ast::CharacterLength>,
) -> Result<Option<u64>, String> {
    match length {
        None => Ok(None),
        Some(sqlparser::ast::CharacterLength::IntegerLength { length, .. }) => Ok(Some(*length)),
        Some(sqlparser::ast::CharacterLength::Max) => {
            Err("a length of MAX is not PostgreSQL".to_owned())
        }
    }
}

/// Types sqlparser does not know by name: PostgreSQL's abbreviations (`timestamptz`, `int4`),
/// the `serial` pseudo-types, types it has no variant for (`inet`, `citext`), and user-defined
/// ones (enums), named as `format_type()` names them (quoted where needed, qualified outside
/// `public`); [`PgType::parse`] knows them all but the serials.
fn custom_type(
    name: &ObjectName,
    modifiers: &[sqlparser::ast::TypeModifier],
) -> Result<(PgType, bool), String> {
    let parts: Option<Vec<String>> = name
        .0
        .iter()
        .map(|part| part.as_ident().map(ident))
        .collect();
    let parts = parts.ok_or_else(|| format!("the type {name} is not understood"))?;
    let unqualified = match parts.as_slice() {
        [single] => Some(single.as_str()),
        [schema, single] if schema == "pg_catalog" => Some(single.as_str()),
        _ => None,
    };
    let serial = match unqualified {
        Some("serial" | "serial4") => Some("integer"),
        Some("bigserial" | "serial8") => Some("bigint"),
        Some("smallserial" | "serial2") => Some("smallint"),
        _ => None,
    };
    if let Some(integer) = serial {
        if !modifiers.is_empty() {
            return Err(format!("the type {name} takes no modifiers"));
        }
        return Ok((PgType::simple(integer), true));
    }
    PgType::parse(&DataType::Custom(name.clone(), modifiers.to_vec()).to_string())
        .map(|ty| (ty, false))
}

/// The identifiers a SQL fragment (a check condition, an index expression) uses, folded as
/// PostgreSQL folds them. Function names (a word before `(`) and type names (after `::`) are left
/// out; keywords are not, so the caller matches the result against real column names.
pub(crate) fn referenced_identifiers(sql: &str) -> Vec<String> {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .with_unescape(false)
        .tokenize()
    else {
        return Vec::new();
    };
    let significant: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut found = Vec::new();
    for (i, token) in significant.iter().enumerate() {
        if let Token::Word(word) = token {
            let before_call = matches!(significant.get(i + 1), Some(Token::LParen));
            let after_cast = i > 0 && matches!(significant[i - 1], Token::DoubleColon);
            if !before_call && !after_cast {
                found.push(fold_word(&word.value, word.quote_style));
            }
        }
    }
    found
}

/// `sql` with every use of the identifier `old` replaced by `new` (quoted where needed), as
/// PostgreSQL's stored expressions follow a column rename.
pub(crate) fn rename_identifier(sql: &str, old: &str, new: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .with_unescape(false)
        .tokenize()
    else {
        return sql.to_owned();
    };
    let mut out = String::with_capacity(sql.len());
    let mut previous_significant: Option<&Token> = None;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Word(word)
                if fold_word(&word.value, word.quote_style) == old
                    && !matches!(previous_significant, Some(Token::DoubleColon))
                    && !matches!(
                        tokens[i + 1..]
                            .iter()
                            .find(|t| !matches!(t, Token::Whitespace(_))),
                        Some(Token::LParen)
                    ) =>
            {
                out.push_str(&quote_ident(new));
            }
            other => out.push_str(&other.to_string()),
        }
        if !matches!(token, Token::Whitespace(_)) {
            previous_significant = Some(token);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> Op {
        let ops = lower_sql(sql).expect("the SQL splits into statements");
        assert_eq!(ops.len(), 1, "expected one op from {sql:?}, got {ops:#?}");
        ops.into_iter().next().expect("one op")
    }

    fn ty(name: &str) -> PgType {
        PgType::simple(name)
    }

    fn sized(name: &str, modifiers: &[u32]) -> PgType {
        PgType {
            name: name.to_owned(),
            modifiers: modifiers.to_vec(),
            array_dims: 0,
        }
    }

    fn q(name: &str) -> QualName {
        QualName::new(None, name)
    }

    #[test]
    fn create_table_columns_types_and_constraints() {
        let op = one("CREATE TABLE Users (
                id serial PRIMARY KEY,
                \"Email\" varchar(120) NOT NULL UNIQUE,
                created timestamptz DEFAULT now(),
                score numeric(10, 2) CHECK (score >= 0),
                team_id int REFERENCES teams (id) ON DELETE CASCADE,
                code char,
                CONSTRAINT users_code_key UNIQUE (code)
            )");
        let Op::CreateTable {
            table,
            columns,
            constraints,
            indexes,
        } = op
        else {
            panic!("expected CreateTable, got {op:?}");
        };
        assert_eq!(table, q("users"));
        assert!(indexes.is_empty());
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["id", "Email", "created", "score", "team_id", "code"]
        );
        assert_eq!(columns[0].ty, ty("integer"));
        assert_eq!(columns[0].autoincrement, Autoincrement::Serial);
        assert!(
            !columns[0].primary_key,
            "the key is a table-level constraint"
        );
        assert_eq!(columns[1].ty, sized("character varying", &[120]));
        assert_eq!(columns[1].nullable, Some(false));
        assert!(columns[1].unique);
        assert_eq!(columns[2].ty, ty("timestamp with time zone"));
        assert_eq!(columns[2].server_default.as_deref(), Some("now()"));
        assert_eq!(columns[3].ty, sized("numeric", &[10, 2]));
        assert_eq!(columns[4].autoincrement, Autoincrement::False);
        assert_eq!(columns[5].ty, sized("character", &[1]));
        assert_eq!(
            constraints,
            vec![
                Constraint::PrimaryKey {
                    name: None,
                    columns: vec!["id".into()]
                },
                Constraint::Check {
                    name: None,
                    sql: "score >= 0".into()
                },
                Constraint::ForeignKey {
                    name: None,
                    columns: vec!["team_id".into()],
                    ref_table: q("teams"),
                    ref_columns: vec!["id".into()],
                    on_delete: Some("CASCADE".into()),
                    on_update: None,
                },
                Constraint::Unique {
                    name: Some("users_code_key".into()),
                    columns: vec!["code".into()]
                },
            ]
        );
    }

    #[test]
    fn identity_columns() {
        let Op::CreateTable { columns, .. } = one(
            "CREATE TABLE t (a bigint GENERATED ALWAYS AS IDENTITY (START WITH 5 INCREMENT BY 2),
             b int GENERATED BY DEFAULT AS IDENTITY)",
        ) else {
            panic!("expected CreateTable");
        };
        assert_eq!(
            columns[0].identity,
            Some(IdentitySpec {
                always: true,
                start: Some(5),
                increment: Some(2)
            })
        );
        assert_eq!(
            columns[1].identity,
            Some(IdentitySpec {
                always: false,
                start: None,
                increment: None
            })
        );
    }

    #[test]
    fn type_names_follow_format_type() {
        let cases = [
            ("int", sized("integer", &[])),
            ("int4", sized("integer", &[])),
            ("int8", sized("bigint", &[])),
            ("smallint", sized("smallint", &[])),
            ("float", sized("double precision", &[])),
            ("float(10)", sized("real", &[])),
            ("float4", sized("real", &[])),
            ("double precision", sized("double precision", &[])),
            ("decimal(8,3)", sized("numeric", &[8, 3])),
            ("bool", sized("boolean", &[])),
            ("character varying", sized("character varying", &[])),
            ("timestamp", sized("timestamp without time zone", &[])),
            (
                "timestamp(3) with time zone",
                sized("timestamp with time zone", &[3]),
            ),
            ("time", sized("time without time zone", &[])),
            ("timetz", sized("time with time zone", &[])),
            ("interval", sized("interval", &[])),
            ("bytea", sized("bytea", &[])),
            ("uuid", sized("uuid", &[])),
            ("jsonb", sized("jsonb", &[])),
            ("inet", sized("inet", &[])),
            ("bit varying(3)", sized("bit varying", &[3])),
            ("My_Enum", sized("my_enum", &[])),
            ("\"MyEnum\"", sized("\"MyEnum\"", &[])),
            ("other.mood", sized("other.mood", &[])),
            ("\"Other\".mood", sized("\"Other\".mood", &[])),
            ("public.mood", sized("mood", &[])),
            ("pg_catalog.int4", sized("integer", &[])),
            ("citext", sized("citext", &[])),
        ];
        for (written, expected) in cases {
            let Op::AddColumn { column, .. } =
                one(&format!("ALTER TABLE t ADD COLUMN c {written}"))
            else {
                panic!("expected AddColumn for {written}");
            };
            assert_eq!(column.ty, expected, "type written {written}");
        }
        let Op::AddColumn { column, .. } = one("ALTER TABLE t ADD c text[][]") else {
            panic!("expected AddColumn");
        };
        assert_eq!(column.ty.array_dims, 1);
        assert_eq!(column.ty.name, "text");
    }

    #[test]
    fn alter_table_actions() {
        let ops = lower_sql(
            "ALTER TABLE s.t ADD COLUMN IF NOT EXISTS x int, DROP COLUMN IF EXISTS y CASCADE;
             ALTER TABLE t RENAME COLUMN a TO b;
             ALTER TABLE t RENAME TO u;
             ALTER TABLE t ALTER COLUMN c TYPE bigint USING c::bigint, ALTER c SET NOT NULL;
             ALTER TABLE t ALTER c DROP NOT NULL, ALTER c SET DEFAULT 'x', ALTER d DROP DEFAULT;
             ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u(id), DROP CONSTRAINT IF EXISTS old;
             ALTER TABLE t ADD PRIMARY KEY (id);
             ALTER TABLE t RENAME CONSTRAINT a TO b;",
        )
        .expect("splits");
        let st = QualName::new(Some("s"), "t");
        let t = q("t");
        let base = |column: &str| Op::AlterColumn {
            table: t.clone(),
            column: column.into(),
            new_type: None,
            nullable: None,
            server_default: None,
            new_name: None,
        };
        let with = |op: Op, f: &dyn Fn(&mut Op)| {
            let mut op = op;
            f(&mut op);
            op
        };
        let expected = vec![
            Op::Guarded {
                op: Box::new(Op::AddColumn {
                    table: st.clone(),
                    column: {
                        let mut c = ColumnDef::new("x", ty("integer"));
                        c.autoincrement = Autoincrement::False;
                        c
                    },
                }),
            },
            Op::Guarded {
                op: Box::new(Op::DropColumn {
                    table: st,
                    column: "y".into(),
                }),
            },
            with(base("a"), &|op| {
                if let Op::AlterColumn { new_name, .. } = op {
                    *new_name = Some("b".into());
                }
            }),
            Op::RenameTable {
                table: t.clone(),
                new_name: "u".into(),
            },
            with(base("c"), &|op| {
                if let Op::AlterColumn { new_type, .. } = op {
                    *new_type = Some(ty("bigint"));
                }
            }),
            with(base("c"), &|op| {
                if let Op::AlterColumn { nullable, .. } = op {
                    *nullable = Some(false);
                }
            }),
            with(base("c"), &|op| {
                if let Op::AlterColumn { nullable, .. } = op {
                    *nullable = Some(true);
                }
            }),
            with(base("c"), &|op| {
                if let Op::AlterColumn { server_default, .. } = op {
                    *server_default = Some(Some("'x'".into()));
                }
            }),
            with(base("d"), &|op| {
                if let Op::AlterColumn { server_default, .. } = op {
                    *server_default = Some(None);
                }
            }),
            Op::AddConstraint {
                table: t.clone(),
                constraint: Constraint::ForeignKey {
                    name: Some("fk".into()),
                    columns: vec!["a".into()],
                    ref_table: q("u"),
                    ref_columns: vec!["id".into()],
                    on_delete: None,
                    on_update: None,
                },
            },
            Op::Guarded {
                op: Box::new(Op::DropConstraint {
                    table: t.clone(),
                    name: "old".into(),
                    kind: None,
                }),
            },
            Op::AddConstraint {
                table: t.clone(),
                constraint: Constraint::PrimaryKey {
                    name: None,
                    columns: vec!["id".into()],
                },
            },
            Op::RenameConstraint {
                table: t,
                name: "a".into(),
                new_name: "b".into(),
            },
        ];
        assert_eq!(ops, expected);
    }

    #[test]
    fn add_column_with_inline_key_becomes_a_constraint() {
        let ops = lower_sql("ALTER TABLE t ADD COLUMN id bigserial PRIMARY KEY").expect("splits");
        assert_eq!(ops.len(), 2, "{ops:#?}");
        let Op::AddColumn { column, .. } = &ops[0] else {
            panic!("expected AddColumn, got {:?}", ops[0]);
        };
        assert_eq!(column.ty, ty("bigint"));
        assert_eq!(column.autoincrement, Autoincrement::Serial);
        assert!(matches!(
            &ops[1],
            Op::AddConstraint {
                constraint: Constraint::PrimaryKey { .. },
                ..
            }
        ));
    }

    #[test]
    fn indexes_sequences_types_and_drops() {
        let ops = lower_sql(
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_a ON s.t (a, lower(b));
             CREATE INDEX ON t (lower(email), b);
             DROP INDEX IF EXISTS s.ix_a, ix_b;
             CREATE SEQUENCE seq START WITH 10 INCREMENT BY -2;
             DROP SEQUENCE seq;
             CREATE TYPE mood AS ENUM ('sad', 'ok');
             DROP TYPE mood;
             DROP TABLE IF EXISTS a, s.b CASCADE;
             ALTER INDEX ix_a RENAME TO ix_c;",
        )
        .expect("splits");
        let expected = vec![
            Op::Guarded {
                op: Box::new(Op::CreateIndex {
                    table: QualName::new(Some("s"), "t"),
                    index: IndexDef {
                        name: Some("ix_a".into()),
                        columns: vec!["a".into(), "lower(b)".into()],
                        unique: true,
                    },
                    concurrently: true,
                }),
            },
            Op::CreateIndex {
                table: q("t"),
                index: IndexDef {
                    name: Some("t_lower_b_idx".into()),
                    columns: vec!["lower(email)".into(), "b".into()],
                    unique: false,
                },
                concurrently: false,
            },
            Op::Guarded {
                op: Box::new(Op::DropIndex {
                    schema: Some("s".into()),
                    name: "ix_a".into(),
                    table: None,
                }),
            },
            Op::Guarded {
                op: Box::new(Op::DropIndex {
                    schema: None,
                    name: "ix_b".into(),
                    table: None,
                }),
            },
            Op::CreateSequence {
                name: q("seq"),
                start: Some(10),
                increment: Some(-2),
            },
            Op::DropSequence { name: q("seq") },
            Op::CreateEnum {
                name: q("mood"),
                values: vec!["sad".into(), "ok".into()],
            },
            Op::DropEnum { name: q("mood") },
            Op::Guarded {
                op: Box::new(Op::DropTable { table: q("a") }),
            },
            Op::Guarded {
                op: Box::new(Op::DropTable {
                    table: QualName::new(Some("s"), "b"),
                }),
            },
            Op::RenameIndex {
                schema: None,
                name: "ix_a".into(),
                new_name: "ix_c".into(),
            },
        ];
        assert_eq!(ops, expected);
    }

    #[test]
    fn statements_that_cannot_change_tables_are_quiet() {
        let sql = "
            INSERT INTO t (a) VALUES ('x;y');
            UPDATE t SET a = 1 WHERE b = 2;
            DELETE FROM t;
            SELECT setval('t_id_seq', (SELECT max(id) FROM t));
            COMMENT ON TABLE t IS 'hello';
            GRANT SELECT ON t TO reader;
            SET statement_timeout = 0;
            CREATE EXTENSION IF NOT EXISTS pgcrypto;
            CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN NEW.a := 1; RETURN NEW; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();
            CREATE VIEW v AS SELECT 1;
            ALTER TABLE t ALTER COLUMN c SET STATISTICS 100;
            ALTER SEQUENCE t_id_seq RESTART WITH 5;
            ALTER TABLE t OWNER TO bob;
            -- a comment; with a semicolon
        ";
        // Each is kept as written, to be run by the upgrade rendered as SQL, and changes nothing
        // the replay holds.
        let ops = lower_sql(sql).expect("the SQL splits into statements");
        let passed: Vec<&str> = ops
            .iter()
            .map(|op| match op {
                Op::Passthrough { sql: Some(sql), .. } => sql.as_str(),
                other => panic!("not passed through: {other:?}"),
            })
            .collect();
        assert_eq!(passed.len(), 14);
        assert_eq!(passed[0], "INSERT INTO t (a) VALUES ('x;y');");
        assert_eq!(
            passed[8],
            "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN NEW.a := 1; RETURN NEW; END; $$ LANGUAGE plpgsql;"
        );
        assert_eq!(passed[13], "ALTER TABLE t OWNER TO bob;");
    }

    #[test]
    fn what_is_not_followed_is_said() {
        let ops = lower_sql(
            "DO $$ BEGIN ALTER TABLE t ADD COLUMN x int; END $$;
             ALTER TABLE t ALTER COLUMN a DROP IDENTITY;
             ALTER TYPE mood ADD VALUE 'happy';
             CREATE TABLE t2 AS SELECT * FROM t;
             ALTER TABLE t ADD COLUMN ok int",
        )
        .expect("splits");
        assert_eq!(ops.len(), 5, "{ops:#?}");
        for op in &ops[..4] {
            assert!(
                matches!(op, Op::Unmodeled { .. }),
                "expected Unmodeled, got {op:?}"
            );
        }
        let Op::Unmodeled { what, tables } = &ops[1] else {
            unreachable!()
        };
        assert!(what.contains("ALTER TABLE t ALTER"), "{what}");
        assert_eq!(tables, &vec![q("t")]);
        assert!(matches!(ops[4], Op::AddColumn { .. }));
    }

    #[test]
    fn sequence_ownership() {
        let ops = lower_sql(
            "CREATE SEQUENCE s OWNED BY t.id;
             ALTER SEQUENCE public.s OWNED BY public.t.id;
             ALTER SEQUENCE IF EXISTS s OWNED BY NONE;",
        )
        .expect("splits");
        assert_eq!(
            ops,
            vec![
                Op::CreateSequence {
                    name: q("s"),
                    start: None,
                    increment: None
                },
                Op::SetSequenceOwner {
                    name: q("s"),
                    owner: Some((q("t"), "id".to_owned()))
                },
                Op::SetSequenceOwner {
                    name: QualName::new(Some("public"), "s"),
                    owner: Some((QualName::new(Some("public"), "t"), "id".to_owned()))
                },
                Op::Guarded {
                    op: Box::new(Op::SetSequenceOwner {
                        name: q("s"),
                        owner: None
                    })
                },
            ]
        );
    }

    #[test]
    fn unterminated_text_is_an_error() {
        assert!(lower_sql("INSERT INTO t VALUES ('oops").is_err());
    }

    #[test]
    fn sql_longer_than_the_limit_is_not_parsed() {
        let statement = "CREATE TABLE t (id integer);";
        let mut sql = statement.repeat(MAX_SQL_LENGTH / statement.len());
        assert_eq!(
            lower_sql(&sql).expect("parses").len(),
            MAX_SQL_LENGTH / statement.len()
        );
        sql.push_str(&statement.repeat(2));
        let error = lower_sql(&sql).expect_err("too long");
        assert!(
            error.starts_with(&format!("it is {} bytes long", sql.len())),
            "{error}"
        );
    }

    #[test]
    fn identifiers_in_fragments() {
        assert_eq!(
            referenced_identifiers("lower(Email) <> 'x' AND \"Score\"::text > b"),
            ["email", "and", "Score", "b"]
        );
        assert_eq!(
            rename_identifier("score >= 0 AND score::text <> 'score'", "score", "Points"),
            "\"Points\" >= 0 AND \"Points\"::text <> 'score'"
        );
    }
}
