//! The Python front end: a revision file's `upgrade()` read statically and lowered into [`Op`]s:
//! Alembic's `op.*` calls (and the same calls on a `batch_alter_table` handle), SQLAlchemy's
//! `sa.Column(...)` and type expressions, and raw SQL in `op.execute` (handed to
//! [`crate::schema::sql::lower_sql`]), in the order they run.
//!
//! One concern per file. The evaluator ([`eval`]: names bound by imports, assignments and
//! parameters, and the values of expressions), control flow ([`flow`]: statements, conditions,
//! loops, `try`, `with`) and calls ([`calls`]: operations, helper functions followed with their
//! arguments, plain Python) are what reading Python needs; the uses are Alembic's operations
//! ([`ops`]), `op.execute` ([`execute`]), columns ([`columns`]) and SQLAlchemy's types
//! ([`satypes`]). They share one `Lowerer`, defined here.
//!
//! The function body is read the way Python would run it, as far as that can be told without
//! running anything: module-level imports and constants resolve, module-level helper functions are
//! followed (their parameters bound to the caller's arguments), `for` loops over literal lists are
//! unrolled, and conditions on the dialect (`op.get_context().dialect.name == "postgresql"`) are
//! decided for PostgreSQL. Expressions are evaluated lazily, by reference into the syntax tree: the
//! tree is neither copied nor parsed again.
//!
//! Invariant: what cannot be told is said, not guessed. An operation under a condition that cannot
//! be evaluated, in a loop over a computed list, in a `try` block, on a table name computed at run
//! time, with a type the replay does not know, or with SQL that does not parse becomes
//! [`Op::Unmodeled`] at the call's span, naming what it is and the tables it may touch. Plain
//! Python that calls no operation (logging, data fixes through a session) is skipped quietly.

pub mod satypes;
pub mod type_table;

mod calls;
mod columns;
mod eval;
mod execute;
mod flow;
#[cfg(test)]
mod lowering_fixtures;
mod ops;
#[cfg(test)]
mod tests;

use columns::*;
use eval::*;
use flow::*;

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    BoolOp, CmpOp, ConversionFlag, Expr, ExprBinOp, ExprCall, FStringPart,
    InterpolatedStringElement, ModModule, Number, Operator, Stmt, StmtClassDef, StmtFunctionDef,
    UnaryOp,
};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::FxHashMap;

use crate::schema::model::DEFAULT_INDEX_METHOD;
use crate::schema::ops::{
    Autoincrement, ColumnDef, Constraint, ConstraintKind, ForeignKeyRef, IdentitySpec, IndexDef,
    Op, OpAt, QualName,
};
use crate::source::{FileId, Span};
use satypes::{EnumType, MappedType, SaType, TypeArg, TypeModule, map_type, sql_string};

/// The operations of the module's `upgrade()` function, in order. Module-level helper functions
/// and constants in `module` may be followed; what cannot be modelled becomes `Op::Unmodeled`.
pub fn lower_upgrade(module: &ModModule, text: &str, file: FileId) -> Vec<OpAt> {
    lower_function(module, text, file, "upgrade")
}

/// The operations of the module-level function `name` (`upgrade`, `downgrade`), lowered as
/// [`lower_upgrade`] does. A module without that function yields nothing.
pub fn lower_function(module: &ModModule, text: &str, file: FileId, name: &str) -> Vec<OpAt> {
    // Python keeps the last definition of a name.
    let Some(function) = module.body.iter().rev().find_map(|stmt| match stmt {
        Stmt::FunctionDef(def) if def.name.as_str() == name => Some(def),
        _ => None,
    }) else {
        return Vec::new();
    };
    let mut lowerer = Lowerer::new(text, file, crate::schema::sql::lower_sql);
    lowerer.bind_module(&module.body);
    lowerer.lower_entry_function(function);
    lowerer.out
}

/// How deep name lookups may nest before the lowering gives up on them; it protects against
/// self-referencing assignments and keeps evaluation cheap on odd input.
const MAX_DEPTH: u32 = 12;
/// How deep helper functions are followed into one another.
const MAX_HELPER_DEPTH: usize = 16;
/// The most iterations of a literal `for` loop that are unrolled.
const MAX_UNROLL: usize = 1000;

/// A Python value the lowering could compute.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str(String),
    /// SQL text that goes to the server as written: `sa.text("now()")`, `sa.func.now()`.
    Sql(String),
    Int(i64),
    Bool(bool),
    None,
    /// A list, tuple or set.
    Seq(Vec<Value>),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Sql(_) => true,
            Value::Int(n) => *n != 0,
            Value::Bool(b) => *b,
            Value::None => false,
            Value::Seq(items) => !items.is_empty(),
        }
    }

    /// The value as `str()` would print it, for f-strings and `%`/`format` substitution.
    fn to_text(&self) -> Option<String> {
        match self {
            Value::Str(s) | Value::Sql(s) => Some(s.clone()),
            Value::Int(n) => Some(n.to_string()),
            Value::Bool(true) => Some("True".to_owned()),
            Value::Bool(false) => Some("False".to_owned()),
            Value::None => Some("None".to_owned()),
            Value::Seq(_) => None,
        }
    }
}

/// What a name stands for in a scope.
#[derive(Clone, Debug)]
enum Bound<'a> {
    /// An imported module or object, by its dotted path (`sqlalchemy`, `alembic.op`).
    Module(String),
    Value(Value),
    /// An expression, evaluated where it is used, with names resolved in the frame it was bound in.
    Expr(&'a Expr, usize),
    /// A function, with the frame it was defined in (its enclosing scope).
    Function(&'a StmtFunctionDef, usize),
    Class(&'a StmtClassDef),
    /// The handle of `with op.batch_alter_table(...) as batch_op`, with its table when known.
    Batch(Option<QualName>),
    /// A database connection (`op.get_bind()`).
    Bind,
    /// A helper's `*args`: the caller's extra positional arguments, in the caller's frame.
    Args(Vec<&'a Expr>, usize),
    /// Something the lowering does not follow.
    Opaque,
}

/// One scope: the module, a function call, with its enclosing scope.
struct Frame<'a> {
    names: FxHashMap<&'a str, Bound<'a>>,
    parent: Option<usize>,
}

/// An expression together with the frame its names resolve in.
#[derive(Clone, Copy)]
struct At<'a> {
    expr: &'a Expr,
    frame: usize,
}

impl<'a> At<'a> {
    fn child(self, expr: &'a Expr) -> At<'a> {
        At {
            expr,
            frame: self.frame,
        }
    }
}

/// A dotted path, classified by the library it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sym<'p> {
    /// `sqlalchemy.X` (from any of its submodules), or `func.name` for `sqlalchemy.func.name`.
    Sa(&'p str),
    /// `sqlalchemy.dialects.postgresql.X`.
    Pg(&'p str),
    /// Another dialect's `X`: (dialect, X).
    Dialect(&'p str, &'p str),
    /// `alembic.op.X` (`""` for `alembic.op` itself).
    Op(&'p str),
    /// `alembic.context.X` (`""` for `alembic.context` itself).
    Context(&'p str),
    Other,
}

fn classify(path: &str) -> Sym<'_> {
    if path == "alembic.op" {
        return Sym::Op("");
    }
    if let Some(rest) = path.strip_prefix("alembic.op.") {
        return Sym::Op(rest);
    }
    if path == "alembic.context" {
        return Sym::Context("");
    }
    if let Some(rest) = path.strip_prefix("alembic.context.") {
        return Sym::Context(rest);
    }
    if let Some(rest) = path.strip_prefix("sqlalchemy.dialects.") {
        let Some((dialect, tail)) = rest.split_once('.') else {
            return Sym::Other;
        };
        // Dialect submodules (`postgresql.json`, `postgresql.base`) re-export the same names.
        let last = tail.rsplit('.').next().unwrap_or(tail);
        return if dialect == "postgresql" {
            Sym::Pg(last)
        } else {
            Sym::Dialect(dialect, last)
        };
    }
    if let Some(rest) = path.strip_prefix("sqlalchemy.") {
        if let Some(func) = rest
            .strip_prefix("func.")
            .map(|_| rest)
            .or_else(|| rest.find(".func.").map(|i| &rest[i + 1..]))
        {
            return Sym::Sa(func);
        }
        // `sqlalchemy.types.X`, `sqlalchemy.sql.expression.X`, `sqlalchemy.schema.X`: the
        // submodules re-export what `sqlalchemy` itself exports, under the same names.
        return Sym::Sa(rest.rsplit('.').next().unwrap_or(rest));
    }
    Sym::Other
}

/// `op` methods that change nothing by themselves.
const PURE_OP_METHODS: &[&str] = &[
    "f",
    "get_bind",
    "get_context",
    "inline_literal",
    "implementation_for",
    "register_operation",
    "batch_alter_table",
    "schema_obj",
    "impl",
];

/// SQL statements that change nothing the schema model holds; when such SQL is computed at run
/// time it is skipped quietly.
const NON_SCHEMA_SQL: &[&str] = &[
    "insert", "update", "delete", "select", "comment", "grant", "revoke", "analyze", "vacuum",
    "notify", "refresh", "copy", "truncate",
];

/// What a call does, as far as the lowering is concerned.
enum CallKind<'a> {
    /// `op.<method>(...)` (or `alembic.context.execute`).
    Op(String),
    /// `batch_op.<method>(...)` inside `with op.batch_alter_table(...) as batch_op`.
    Batch(Option<QualName>, &'a str),
    /// `connection.execute(...)` on `op.get_bind()`.
    BindExecute,
    /// `<object>.create(bind)` / `.drop(bind)`: an enum type, a sequence, a table.
    ObjectDdl(At<'a>, &'a str),
    /// A function defined in the revision file.
    Helper(&'a StmtFunctionDef, usize),
    /// A function from another module that is handed `op`, a batch handle or a connection.
    External(String),
    /// `globals()[name]()`: a function chosen at run time (Alembic's multidb template).
    Dynamic,
    /// Anything else: it changes nothing the replay models.
    Pure,
}

/// An effectful call found in an expression.
struct Effect<'a> {
    call: &'a ExprCall,
    kind: CallKind<'a>,
    in_comprehension: bool,
}

/// How an unmodelled call is named: its callee as written, or a helper function's name.
#[derive(Clone, Copy)]
enum Label<'s> {
    Source(TextRange),
    Helper(&'s str),
}

/// Why an operation cannot be modelled, and the tables it touches where those are known.
#[derive(Debug)]
struct Why {
    /// Completes the operation's name: `on a table name computed at run time`.
    what: String,
    tables: Vec<QualName>,
}

impl Why {
    fn new(what: impl Into<String>) -> Self {
        Why {
            what: what.into(),
            tables: Vec::new(),
        }
    }

    fn on(mut self, table: &QualName) -> Self {
        if !self.tables.contains(table) {
            self.tables.push(table.clone());
        }
        self
    }
}

/// How a block of statements ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Next,
    /// `return`: nothing after it runs.
    Stop,
    /// A `return` that may or may not have run (under an unknown condition).
    MaybeStop,
    /// `raise`: the migration fails here. The replay models a run that succeeds, so a path that
    /// raises is one that run did not take.
    Raise,
}

/// The table an operation targets: named in the call, or the batch handle's.
struct Target {
    table: QualName,
    /// In batch mode the table argument is absent, so later arguments move one position left.
    batch: bool,
    table_position: usize,
}

impl Target {
    /// The position of an argument that `op.<method>` takes at `position`.
    fn pos(&self, position: usize) -> usize {
        if self.batch && position > self.table_position {
            position - 1
        } else {
            position
        }
    }
}

/// A column lowered from `sa.Column(...)`, with what it brings along.
struct LoweredColumn {
    column: ColumnDef,
    enums: Vec<EnumType>,
    checks: Vec<Constraint>,
}

struct Lowerer<'a> {
    text: &'a str,
    file: FileId,
    /// `frames[0]` is the module.
    frames: Vec<Frame<'a>>,
    /// Modules imported with `from X import *`, for names bound nowhere else.
    star_imports: Vec<String>,
    out: Vec<OpAt>,
    autocommit: bool,
    /// While set, every operation becomes `Op::Unmodeled` with this reason (the outermost wins).
    uncertain: Option<String>,
    /// The helper functions being followed, innermost last.
    following: Vec<&'a StmtFunctionDef>,
    depth: Cell<u32>,
    /// Raw SQL to operations: [`crate::schema::sql::lower_sql`], replaced in tests.
    lower_sql: SqlLowering,
}

/// Raw SQL (one or more statements) to the schema changes it makes.
type SqlLowering = fn(&str) -> Result<Vec<Op>, String>;

impl<'a> Lowerer<'a> {
    fn new(text: &'a str, file: FileId, lower_sql: SqlLowering) -> Self {
        Lowerer {
            lower_sql,
            text,
            file,
            frames: vec![Frame {
                names: FxHashMap::default(),
                parent: None,
            }],
            star_imports: Vec::new(),
            out: Vec::new(),
            autocommit: false,
            uncertain: None,
            following: Vec::new(),
            depth: Cell::new(0),
        }
    }
}
