//! Lowering a revision file's `upgrade()` into [`Op`]s: Alembic's `op.*` calls (and the same calls
//! on a `batch_alter_table` handle), SQLAlchemy's `sa.Column(...)` and type expressions, and raw
//! SQL in `op.execute` (handed to [`crate::schema::sql::lower_sql`]), in the order they run.
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

#[path = "satypes.rs"]
pub mod satypes;

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

    // ----------------------------------------------------------------------------------------
    // Scopes and names
    // ----------------------------------------------------------------------------------------

    /// Binds the module's imports, constants, functions and classes. Module-level code runs
    /// before `upgrade()`, so all of it is visible there; only the body of a module-level `try`
    /// or `if` is read (its `except ImportError` fallback would otherwise override the import).
    fn bind_module(&mut self, body: &'a [Stmt]) {
        for stmt in body {
            match stmt {
                Stmt::If(s) => self.bind_module(&s.body),
                Stmt::Try(s) => self.bind_module(&s.body),
                Stmt::Expr(_) => {}
                _ => self.bind_statement(stmt, 0),
            }
        }
    }

    /// Binds what a simple statement defines, without lowering anything.
    fn bind_statement(&mut self, stmt: &'a Stmt, frame: usize) {
        match stmt {
            Stmt::Import(s) => {
                for alias in &s.names {
                    let full = alias.name.as_str();
                    match &alias.asname {
                        Some(asname) => {
                            self.bind(frame, asname.as_str(), Bound::Module(full.into()))
                        }
                        None => {
                            // `import a.b` binds `a`.
                            let first = full.split('.').next().unwrap_or(full);
                            let first_name = &alias.name.as_str()[..first.len()];
                            self.bind(frame, first_name, Bound::Module(first.to_owned()));
                        }
                    }
                }
            }
            Stmt::ImportFrom(s) => {
                let base = format!(
                    "{}{}",
                    ".".repeat(s.level as usize),
                    s.module.as_ref().map_or("", |m| m.as_str())
                );
                for alias in &s.names {
                    if alias.name.as_str() == "*" {
                        self.star_imports.push(base.clone());
                        continue;
                    }
                    let local = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                    let path = if base.is_empty() || base.ends_with('.') {
                        format!("{base}{}", alias.name.as_str())
                    } else {
                        format!("{base}.{}", alias.name.as_str())
                    };
                    self.bind(frame, local, Bound::Module(path));
                }
            }
            Stmt::Assign(s) => {
                for target in &s.targets {
                    self.bind_target(
                        target,
                        At {
                            expr: &s.value,
                            frame,
                        },
                        frame,
                    );
                }
            }
            Stmt::AnnAssign(s) => {
                if let Some(value) = &s.value {
                    self.bind_target(&s.target, At { expr: value, frame }, frame);
                }
            }
            Stmt::AugAssign(s) => {
                if let Expr::Name(name) = &*s.target {
                    let current = self.value(At {
                        expr: &s.target,
                        frame,
                    });
                    let added = self.value(At {
                        expr: &s.value,
                        frame,
                    });
                    let bound = match (s.op, current, added) {
                        (Operator::Add, Some(Value::Str(a)), Some(Value::Str(b))) => {
                            Bound::Value(Value::Str(a + &b))
                        }
                        (Operator::Add, Some(Value::Int(a)), Some(Value::Int(b))) => a
                            .checked_add(b)
                            .map_or(Bound::Opaque, |n| Bound::Value(Value::Int(n))),
                        _ => Bound::Opaque,
                    };
                    self.bind(frame, name.id.as_str(), bound);
                }
            }
            Stmt::FunctionDef(def) => {
                self.bind(frame, def.name.as_str(), Bound::Function(def, frame))
            }
            Stmt::ClassDef(class) => self.bind(frame, class.name.as_str(), Bound::Class(class)),
            _ => {}
        }
    }

    fn bind(&mut self, frame: usize, name: &'a str, bound: Bound<'a>) {
        if let Some(f) = self.frames.get_mut(frame) {
            f.names.insert(name, bound);
        }
    }

    /// Binds an assignment target to a value, evaluating constants now (as Python does) and
    /// keeping other expressions to be evaluated where they are used.
    fn bind_target(&mut self, target: &'a Expr, value: At<'a>, frame: usize) {
        match target {
            Expr::Name(name) => {
                let bound = self.binding_for(value);
                self.bind(frame, name.id.as_str(), bound);
            }
            Expr::Tuple(ast_tuple) => self.bind_unpacking(&ast_tuple.elts, value, frame),
            Expr::List(ast_list) => self.bind_unpacking(&ast_list.elts, value, frame),
            _ => {}
        }
    }

    fn bind_unpacking(&mut self, targets: &'a [Expr], value: At<'a>, frame: usize) {
        let value = self.deref(value);
        let elements = match value.expr {
            Expr::Tuple(t) => Some(&t.elts),
            Expr::List(l) => Some(&l.elts),
            _ => None,
        };
        if let Some(elements) = elements.filter(|e| e.len() == targets.len()) {
            for (target, element) in targets.iter().zip(elements.iter()) {
                self.bind_target(target, value.child(element), frame);
            }
            return;
        }
        match self.value(value) {
            Some(Value::Seq(items)) if items.len() == targets.len() => {
                for (target, item) in targets.iter().zip(items) {
                    self.bind_value(target, item, frame);
                }
            }
            _ => {
                for target in targets {
                    self.bind_value_opaque(target, frame);
                }
            }
        }
    }

    fn bind_value(&mut self, target: &'a Expr, value: Value, frame: usize) {
        match target {
            Expr::Name(name) => self.bind(frame, name.id.as_str(), Bound::Value(value)),
            Expr::Tuple(t) => self.bind_value_seq(&t.elts, value, frame),
            Expr::List(l) => self.bind_value_seq(&l.elts, value, frame),
            _ => {}
        }
    }

    fn bind_value_seq(&mut self, targets: &'a [Expr], value: Value, frame: usize) {
        match value {
            Value::Seq(items) if items.len() == targets.len() => {
                for (target, item) in targets.iter().zip(items) {
                    self.bind_value(target, item, frame);
                }
            }
            _ => {
                for target in targets {
                    self.bind_value_opaque(target, frame);
                }
            }
        }
    }

    fn bind_value_opaque(&mut self, target: &'a Expr, frame: usize) {
        match target {
            Expr::Name(name) => self.bind(frame, name.id.as_str(), Bound::Opaque),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.bind_value_opaque(e, frame)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.bind_value_opaque(e, frame)),
            Expr::Starred(s) => self.bind_value_opaque(&s.value, frame),
            _ => {}
        }
    }

    /// What a name assigned `value` stands for.
    fn binding_for(&self, value: At<'a>) -> Bound<'a> {
        if let Expr::Name(name) = value.expr {
            match self.lookup(name.id.as_str(), value.frame) {
                Some(
                    bound @ (Bound::Module(_)
                    | Bound::Value(_)
                    | Bound::Function(..)
                    | Bound::Class(_)
                    | Bound::Batch(_)
                    | Bound::Bind
                    | Bound::Args(..)
                    | Bound::Opaque),
                ) => return bound.clone(),
                Some(Bound::Expr(..)) | None => {}
            }
        }
        if self.is_bind(value) {
            return Bound::Bind;
        }
        match self.value(value) {
            Some(v) => Bound::Value(v),
            None => Bound::Expr(value.expr, value.frame),
        }
    }

    fn lookup(&self, name: &str, frame: usize) -> Option<&Bound<'a>> {
        let mut current = Some(frame);
        while let Some(index) = current {
            let f = self.frames.get(index)?;
            if let Some(bound) = f.names.get(name) {
                return Some(bound);
            }
            current = f.parent;
        }
        None
    }

    /// Follows names bound to expressions to the expression itself.
    fn deref(&self, mut at: At<'a>) -> At<'a> {
        for _ in 0..MAX_DEPTH {
            let Expr::Name(name) = at.expr else { break };
            match self.lookup(name.id.as_str(), at.frame) {
                Some(Bound::Expr(expr, frame)) => {
                    at = At {
                        expr,
                        frame: *frame,
                    }
                }
                _ => break,
            }
        }
        at
    }

    /// Runs `f` one level deeper, or gives up when too deep.
    fn guarded<T>(&self, f: impl FnOnce() -> Option<T>) -> Option<T> {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return None;
        }
        self.depth.set(depth + 1);
        let result = f();
        self.depth.set(depth);
        result
    }

    /// The dotted path an expression names (`sa.Column` → `sqlalchemy.Column`).
    fn path(&self, at: At<'a>) -> Option<String> {
        let mut path = String::new();
        self.write_path(at, &mut path).then_some(path)
    }

    /// Appends the dotted path `at` names to `out`; false (with `out` in any state) when it
    /// names none. One buffer for the whole path: the lowering asks for thousands of them.
    fn write_path(&self, at: At<'a>, out: &mut String) -> bool {
        match at.expr {
            Expr::Name(name) => match self.lookup(name.id.as_str(), at.frame) {
                Some(Bound::Module(path)) => {
                    out.push_str(path);
                    true
                }
                Some(Bound::Expr(expr, frame)) => {
                    let (expr, frame) = (*expr, *frame);
                    self.guarded(|| self.write_path(At { expr, frame }, out).then_some(()))
                        .is_some()
                }
                Some(_) => false,
                None => match self.star_imports.first() {
                    Some(module) => {
                        out.push_str(module);
                        out.push('.');
                        out.push_str(name.id.as_str());
                        true
                    }
                    None => false,
                },
            },
            Expr::Attribute(attr) => {
                if !self.write_path(at.child(&attr.value), out) {
                    return false;
                }
                out.push('.');
                out.push_str(attr.attr.as_str());
                true
            }
            _ => false,
        }
    }

    /// Whether `at` names something in the library `pred` accepts.
    fn sym_is(&self, at: At<'a>, pred: impl Fn(Sym<'_>) -> bool) -> bool {
        self.path(at).is_some_and(|p| pred(classify(&p)))
    }

    /// The call's callee classified, when `at` is a call.
    fn call_sym_is(&self, at: At<'a>, pred: impl Fn(Sym<'_>) -> bool) -> bool {
        match at.expr {
            Expr::Call(call) => self.sym_is(at.child(&call.func), pred),
            _ => false,
        }
    }

    fn snippet(&self, range: TextRange) -> String {
        let raw = self
            .text
            .get(range.start().to_usize()..range.end().to_usize())
            .unwrap_or("");
        let collapsed: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.chars().count() > 60 {
            let cut: String = collapsed.chars().take(57).collect();
            format!("{cut}...")
        } else {
            collapsed
        }
    }

    fn span(&self, range: TextRange) -> Span {
        Span::new(self.file, range.start().to_u32()..range.end().to_u32())
    }

    // ----------------------------------------------------------------------------------------
    // Evaluation
    // ----------------------------------------------------------------------------------------

    /// The value of an expression, when it can be computed without running anything.
    fn value(&self, at: At<'a>) -> Option<Value> {
        match at.expr {
            Expr::StringLiteral(s) => Some(Value::Str(s.value.to_str().to_owned())),
            Expr::NumberLiteral(n) => match &n.value {
                Number::Int(i) => i.as_i64().map(Value::Int),
                _ => None,
            },
            Expr::BooleanLiteral(b) => Some(Value::Bool(b.value)),
            Expr::NoneLiteral(_) => Some(Value::None),
            Expr::UnaryOp(u) => match (u.op, self.value(at.child(&u.operand))?) {
                (UnaryOp::USub, Value::Int(n)) => n.checked_neg().map(Value::Int),
                (UnaryOp::Not, v) => Some(Value::Bool(!v.truthy())),
                _ => None,
            },
            Expr::List(l) => self.sequence(at, &l.elts),
            Expr::Tuple(t) => self.sequence(at, &t.elts),
            Expr::Set(s) => self.sequence(at, &s.elts),
            Expr::Name(name) => match self.lookup(name.id.as_str(), at.frame)? {
                Bound::Value(v) => Some(v.clone()),
                Bound::Args(exprs, frame) => {
                    let (exprs, frame) = (exprs.clone(), *frame);
                    let values: Option<Vec<Value>> = exprs
                        .into_iter()
                        .map(|expr| self.value(At { expr, frame }))
                        .collect();
                    values.map(Value::Seq)
                }
                Bound::Expr(expr, frame) => {
                    let (expr, frame) = (*expr, *frame);
                    self.guarded(|| self.value(At { expr, frame }))
                }
                _ => None,
            },
            Expr::FString(f) => {
                let mut out = String::new();
                for part in &f.value {
                    match part {
                        FStringPart::Literal(lit) => out.push_str(lit.as_str()),
                        FStringPart::FString(fs) => {
                            for element in &fs.elements {
                                match element {
                                    InterpolatedStringElement::Literal(lit) => out.push_str(lit),
                                    InterpolatedStringElement::Interpolation(i) => {
                                        if i.format_spec.is_some()
                                            || !matches!(
                                                i.conversion,
                                                ConversionFlag::None | ConversionFlag::Str
                                            )
                                        {
                                            return None;
                                        }
                                        out.push_str(
                                            &self.value(at.child(&i.expression))?.to_text()?,
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
                Some(Value::Str(out))
            }
            Expr::BinOp(b) => {
                // The parser nests `a + b + c` to the left, one level per operator: walk the
                // chain in a loop, so that a chain of any length evaluates without recursion.
                let mut chain = vec![b];
                let mut leftmost = &*b.left;
                while let Expr::BinOp(inner) = leftmost {
                    chain.push(inner);
                    leftmost = &inner.left;
                }
                let mut value = self.value(at.child(leftmost))?;
                for b in chain.into_iter().rev() {
                    value = self.binary(at, b, value).ok()?;
                }
                Some(value)
            }
            Expr::If(i) => {
                if self.truth(at.child(&i.test))? {
                    self.value(at.child(&i.body))
                } else {
                    self.value(at.child(&i.orelse))
                }
            }
            Expr::Compare(_) | Expr::BoolOp(_) => self.truth(at).map(Value::Bool),
            Expr::Subscript(s) => match (
                self.value(at.child(&s.value))?,
                self.value(at.child(&s.slice))?,
            ) {
                (Value::Seq(items), Value::Int(i)) => {
                    let index = if i < 0 {
                        items
                            .len()
                            .checked_sub(usize::try_from(i.unsigned_abs()).ok()?)?
                    } else {
                        usize::try_from(i).ok()?
                    };
                    items.get(index).cloned()
                }
                _ => None,
            },
            Expr::Attribute(attr) => {
                let name = attr.attr.as_str();
                // `<connection or context>.dialect.name` is the dialect the replay stands for.
                if name == "name" && self.is_dialect(at.child(&attr.value)) {
                    return Some(Value::Str("postgresql".to_owned()));
                }
                // The replay models running against a database, not `alembic upgrade --sql`.
                if name == "as_sql" && self.is_context(at.child(&attr.value)) {
                    return Some(Value::Bool(false));
                }
                None
            }
            Expr::Call(call) => self.call_value(at, call),
            _ => None,
        }
    }

    /// `left <op> b.right`, for the operators the evaluation models; `Err` hands `left` back
    /// when the result cannot be computed.
    fn binary(&self, at: At<'a>, b: &'a ExprBinOp, left: Value) -> Result<Value, Value> {
        match (b.op, left) {
            (Operator::Add, Value::Str(mut l)) => match self.value(at.child(&b.right)) {
                Some(Value::Str(r)) => {
                    l.push_str(&r);
                    Ok(Value::Str(l))
                }
                _ => Err(Value::Str(l)),
            },
            (Operator::Add, Value::Int(l)) => match self.value(at.child(&b.right)) {
                Some(Value::Int(r)) => l.checked_add(r).map(Value::Int).ok_or(Value::Int(l)),
                _ => Err(Value::Int(l)),
            },
            (Operator::Mod, Value::Str(template)) => {
                let Some(right) = self.value(at.child(&b.right)) else {
                    return Err(Value::Str(template));
                };
                let args = match right {
                    Value::Seq(items) => items,
                    single => vec![single],
                };
                percent_format(&template, &args)
                    .map(Value::Str)
                    .ok_or(Value::Str(template))
            }
            (_, left) => Err(left),
        }
    }

    fn sequence(&self, at: At<'a>, elements: &'a [Expr]) -> Option<Value> {
        let mut items = Vec::with_capacity(elements.len());
        for element in elements {
            if let Expr::Starred(starred) = element {
                match self.value(at.child(&starred.value))? {
                    Value::Seq(inner) => items.extend(inner),
                    _ => return None,
                }
            } else {
                items.push(self.value(at.child(element))?);
            }
        }
        Some(Value::Seq(items))
    }

    fn call_value(&self, at: At<'a>, call: &'a ExprCall) -> Option<Value> {
        let args = &call.arguments;
        let first = || args.args.first().map(|a| at.child(a));
        if let Expr::Attribute(attr) = &*call.func {
            let method = attr.attr.as_str();
            let receiver = at.child(&attr.value);
            // String methods on computable strings.
            if let Some(Value::Str(s)) = self.value(receiver) {
                return match method {
                    "lower" => Some(Value::Str(s.to_lowercase())),
                    "upper" => Some(Value::Str(s.to_uppercase())),
                    "strip" if args.is_empty() => Some(Value::Str(s.trim().to_owned())),
                    "startswith" => match self.value(first()?)? {
                        Value::Str(prefix) => Some(Value::Bool(s.starts_with(&prefix))),
                        _ => None,
                    },
                    "endswith" => match self.value(first()?)? {
                        Value::Str(suffix) => Some(Value::Bool(s.ends_with(&suffix))),
                        _ => None,
                    },
                    "join" => match self.value(first()?)? {
                        Value::Seq(items) => {
                            let parts: Option<Vec<String>> = items
                                .into_iter()
                                .map(|v| match v {
                                    Value::Str(s) => Some(s),
                                    _ => None,
                                })
                                .collect();
                            Some(Value::Str(parts?.join(&s)))
                        }
                        _ => None,
                    },
                    "format" => self.format_call(at, &s, call).map(Value::Str),
                    _ => None,
                };
            }
            // `batch_op.f("name")`, like `op.f`, marks a name as final: it is the name.
            if method == "f"
                && let Expr::Name(name) = &*attr.value
                && let Some(Bound::Batch(_)) = self.lookup(name.id.as_str(), at.frame)
            {
                return self.value(first()?);
            }
            // `sa.text(...).bindparams(...)` is still the same SQL.
            if matches!(method, "bindparams" | "execution_options" | "columns")
                && let Some(Value::Sql(sql)) = self.value(receiver)
            {
                return Some(Value::Sql(sql));
            }
        }
        if let Expr::Name(name) = &*call.func
            && name.id.as_str() == "str"
            && self.lookup("str", at.frame).is_none()
        {
            return Some(Value::Str(self.value(first()?)?.to_text()?));
        }
        let path = self.path(at.child(&call.func))?;
        match classify(&path) {
            Sym::Op("f") => self.value(first()?),
            Sym::Context("is_offline_mode") => Some(Value::Bool(false)),
            Sym::Sa("text" | "literal_column" | "DDL") => match self.value(first()?)? {
                Value::Str(s) => Some(Value::Sql(s)),
                _ => None,
            },
            Sym::Sa("DefaultClause") => self.value(first()?),
            Sym::Sa("false") => Some(Value::Sql("false".to_owned())),
            Sym::Sa("true") => Some(Value::Sql("true".to_owned())),
            Sym::Sa("null") => Some(Value::Sql("NULL".to_owned())),
            Sym::Sa(func) if func.starts_with("func.") => {
                self.render_function(at, &func["func.".len()..], call)
            }
            _ => None,
        }
    }

    /// `"...".format(...)` with plain `{}`, `{0}` and `{name}` fields.
    fn format_call(&self, at: At<'a>, template: &str, call: &'a ExprCall) -> Option<String> {
        let mut positional = Vec::new();
        for arg in &call.arguments.args {
            positional.push(self.value(at.child(arg))?.to_text()?);
        }
        let mut named = HashMap::new();
        for keyword in &call.arguments.keywords {
            let key = keyword.arg.as_ref()?.as_str();
            named.insert(key, self.value(at.child(&keyword.value))?.to_text()?);
        }
        let mut out = String::new();
        let mut next = 0;
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            out.push_str(&rest[..open]);
            let brace = rest.as_bytes()[open];
            let after = &rest[open + 1..];
            if after.as_bytes().first() == Some(&brace) {
                out.push(brace as char);
                rest = &after[1..];
                continue;
            }
            if brace == b'}' {
                return None;
            }
            let close = after.find('}')?;
            let field = &after[..close];
            let text = if field.is_empty() {
                next += 1;
                positional.get(next - 1)?
            } else if let Ok(index) = field.parse::<usize>() {
                positional.get(index)?
            } else {
                named.get(field)?
            };
            out.push_str(text);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// `sa.func.name(args)` as SQLAlchemy renders it for PostgreSQL.
    fn render_function(&self, at: At<'a>, name: &str, call: &'a ExprCall) -> Option<Value> {
        if !call.arguments.keywords.is_empty() {
            return None;
        }
        // The ANSI functions SQLAlchemy renders without parentheses (verified with 2.0.58).
        const ANSI: &[&str] = &[
            "current_timestamp",
            "current_date",
            "current_time",
            "localtime",
            "localtimestamp",
            "current_user",
            "session_user",
            "user",
        ];
        if call.arguments.args.is_empty() && ANSI.contains(&name.to_ascii_lowercase().as_str()) {
            return Some(Value::Sql(name.to_ascii_uppercase()));
        }
        let mut rendered = Vec::new();
        for arg in &call.arguments.args {
            rendered.push(match self.value(at.child(arg))? {
                Value::Str(s) => sql_string(&s),
                Value::Sql(s) => s,
                Value::Int(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::None => "NULL".to_owned(),
                Value::Seq(_) => return None,
            });
        }
        Some(Value::Sql(format!("{name}({})", rendered.join(", "))))
    }

    /// Whether an expression is true, false, or cannot be told (`None`).
    fn truth(&self, at: At<'a>) -> Option<bool> {
        match at.expr {
            Expr::BoolOp(b) => {
                let values: Vec<Option<bool>> =
                    b.values.iter().map(|v| self.truth(at.child(v))).collect();
                match b.op {
                    BoolOp::And if values.contains(&Some(false)) => Some(false),
                    BoolOp::And if values.iter().all(Option::is_some) => Some(true),
                    BoolOp::Or if values.contains(&Some(true)) => Some(true),
                    BoolOp::Or if values.iter().all(Option::is_some) => Some(false),
                    _ => None,
                }
            }
            Expr::UnaryOp(u) if u.op == UnaryOp::Not => {
                self.truth(at.child(&u.operand)).map(|b| !b)
            }
            Expr::Compare(c) => {
                let mut left = self.value(at.child(&c.left))?;
                for (op, right) in c.ops.iter().zip(c.comparators.iter()) {
                    let right = self.value(at.child(right))?;
                    if !compare(*op, &left, &right)? {
                        return Some(false);
                    }
                    left = right;
                }
                Some(true)
            }
            _ => self.value(at).map(|v| v.truthy()),
        }
    }

    /// `op.get_context()`, `alembic.context`, or a name bound to one.
    fn is_context(&self, at: At<'a>) -> bool {
        let at = self.deref(at);
        self.sym_is(at, |s| s == Sym::Context(""))
            || self.call_sym_is(at, |s| {
                matches!(s, Sym::Op("get_context") | Sym::Context("get_context"))
            })
    }

    /// A connection: `op.get_bind()`, `op.get_context().bind`, or a name bound to one.
    fn is_bind(&self, at: At<'a>) -> bool {
        let at = self.deref(at);
        match at.expr {
            Expr::Name(name) => {
                matches!(self.lookup(name.id.as_str(), at.frame), Some(Bound::Bind))
            }
            Expr::Call(_) => self.call_sym_is(at, |s| {
                matches!(s, Sym::Op("get_bind") | Sym::Context("get_bind"))
            }),
            Expr::Attribute(attr) => {
                matches!(attr.attr.as_str(), "bind" | "connection")
                    && self.is_context(at.child(&attr.value))
            }
            _ => false,
        }
    }

    /// `<connection or context>.dialect` (or `.engine`, whose `.name` is the dialect's too).
    fn is_dialect(&self, at: At<'a>) -> bool {
        let at = self.deref(at);
        match at.expr {
            Expr::Attribute(attr) if matches!(attr.attr.as_str(), "dialect" | "engine") => {
                let handle = at.child(&attr.value);
                self.is_bind(handle) || self.is_context(handle)
            }
            _ => false,
        }
    }

    fn string(&self, at: At<'a>) -> Option<String> {
        match self.value(at)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An optional string argument: absent and `None` are `Ok(None)`.
    /// `what` names the argument in the reason; it is formatted only when there is one.
    fn optional_string(
        &self,
        at: Option<At<'a>>,
        what: impl fmt::Display,
    ) -> Result<Option<String>, Why> {
        let Some(at) = at else { return Ok(None) };
        match self.value(at) {
            Some(Value::None) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            _ => Err(Why::new(format!(
                "with {what} computed at run time (`{}`)",
                self.snippet(at.expr.range())
            ))),
        }
    }

    /// An optional boolean argument.
    fn optional_bool(
        &self,
        at: Option<At<'a>>,
        what: impl fmt::Display,
    ) -> Result<Option<bool>, Why> {
        let Some(at) = at else { return Ok(None) };
        match self.value(at) {
            Some(Value::None) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::Int(n)) => Ok(Some(n != 0)),
            _ => Err(Why::new(format!(
                "with {what} computed at run time (`{}`)",
                self.snippet(at.expr.range())
            ))),
        }
    }

    /// A list or tuple of strings.
    fn string_list(&self, at: At<'a>, what: &str) -> Result<Vec<String>, Why> {
        match self.value(at) {
            Some(Value::Seq(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::Str(s) => Ok(s),
                    _ => Err(Why::new(format!("with {what} that are not all names"))),
                })
                .collect(),
            _ => Err(Why::new(format!(
                "with {what} computed at run time (`{}`)",
                self.snippet(at.expr.range())
            ))),
        }
    }

    // ----------------------------------------------------------------------------------------
    // Statements
    // ----------------------------------------------------------------------------------------

    fn lower_entry_function(&mut self, def: &'a StmtFunctionDef) {
        let mut names = FxHashMap::default();
        for param in def.parameters.iter_non_variadic_params() {
            let name = param.parameter.name.as_str();
            // `def upgrade(op, ...)`: Alembic's operations handed in as a parameter.
            let bound = if name == "op" {
                Bound::Module("alembic.op".to_owned())
            } else if let Some(default) = &param.default {
                Bound::Expr(default, 0)
            } else {
                Bound::Opaque
            };
            names.insert(name, bound);
        }
        for variadic in [&def.parameters.vararg, &def.parameters.kwarg]
            .into_iter()
            .flatten()
        {
            names.insert(variadic.name.as_str(), Bound::Opaque);
        }
        self.frames.push(Frame {
            names,
            parent: Some(0),
        });
        let frame = self.frames.len() - 1;
        self.lower_body(&def.body, frame);
        self.frames.pop();
    }

    fn lower_body(&mut self, body: &'a [Stmt], frame: usize) -> Flow {
        for (index, stmt) in body.iter().enumerate() {
            match self.lower_statement(stmt, frame) {
                Flow::Next => {}
                Flow::Stop => return Flow::Stop,
                Flow::Raise => return Flow::Raise,
                Flow::MaybeStop => {
                    let rest = &body[index + 1..];
                    let reason = "after a `return` that may have run".to_owned();
                    let flow = self.with_uncertainty(reason, |s| s.lower_body(rest, frame));
                    return match flow {
                        Flow::Stop | Flow::Raise => flow,
                        Flow::Next | Flow::MaybeStop => Flow::MaybeStop,
                    };
                }
            }
        }
        Flow::Next
    }

    fn with_uncertainty<T>(&mut self, reason: String, f: impl FnOnce(&mut Self) -> T) -> T {
        if self.uncertain.is_some() {
            return f(self);
        }
        self.uncertain = Some(reason);
        let result = f(self);
        self.uncertain = None;
        result
    }

    fn lower_statement(&mut self, stmt: &'a Stmt, frame: usize) -> Flow {
        match stmt {
            Stmt::Expr(s) => {
                self.run_effects(At {
                    expr: &s.value,
                    frame,
                });
                Flow::Next
            }
            Stmt::Assign(s) => {
                self.run_effects(At {
                    expr: &s.value,
                    frame,
                });
                self.bind_statement(stmt, frame);
                Flow::Next
            }
            Stmt::AnnAssign(s) => {
                if let Some(value) = &s.value {
                    self.run_effects(At { expr: value, frame });
                }
                self.bind_statement(stmt, frame);
                Flow::Next
            }
            Stmt::AugAssign(s) => {
                self.run_effects(At {
                    expr: &s.value,
                    frame,
                });
                self.bind_statement(stmt, frame);
                Flow::Next
            }
            Stmt::Return(s) => {
                if let Some(value) = &s.value {
                    self.run_effects(At { expr: value, frame });
                }
                Flow::Stop
            }
            Stmt::Raise(_) => Flow::Raise,
            Stmt::If(s) => self.lower_if(s, frame),
            Stmt::For(s) => self.lower_for(s, frame),
            Stmt::While(s) => {
                let reason = format!(
                    "inside a while loop (`while {}`)",
                    self.snippet(s.test.range())
                );

                self.with_uncertainty(reason, |this| {
                    let body = this.lower_body(&s.body, frame);
                    let orelse = this.lower_body(&s.orelse, frame);
                    merge_uncertain(body, orelse)
                })
            }
            Stmt::With(s) => self.lower_with(s, frame),
            Stmt::Try(s) => self.lower_try(s, frame),
            Stmt::Match(s) => self.lower_match(s, frame),
            Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {
                self.bind_statement(stmt, frame);
                Flow::Next
            }
            _ => Flow::Next,
        }
    }

    fn lower_if(&mut self, stmt: &'a ruff_python_ast::StmtIf, frame: usize) -> Flow {
        let branches: Vec<(Option<&'a Expr>, &'a [Stmt])> =
            std::iter::once((Some(&*stmt.test), &stmt.body[..]))
                .chain(
                    stmt.elif_else_clauses
                        .iter()
                        .map(|clause| (clause.test.as_ref(), &clause.body[..])),
                )
                .collect();
        for (index, (test, body)) in branches.iter().enumerate() {
            let truth = match test {
                None => Some(true),
                Some(test) => self.truth(At { expr: test, frame }),
            };
            match truth {
                Some(true) => return self.lower_body(body, frame),
                Some(false) => {}
                None => {
                    let test = test.expect("an else branch is always true");
                    let reason = format!(
                        "under a condition that cannot be evaluated (`{}`)",
                        self.snippet(test.range())
                    );
                    let remaining = &branches[index..];
                    return self.with_uncertainty(reason, |this| {
                        let mut flow = Flow::Next;
                        for (_, body) in remaining {
                            flow = merge_uncertain(flow, this.lower_body(body, frame));
                        }
                        flow
                    });
                }
            }
        }
        Flow::Next
    }

    fn lower_for(&mut self, stmt: &'a ruff_python_ast::StmtFor, frame: usize) -> Flow {
        let iter = At {
            expr: &stmt.iter,
            frame,
        };
        let items = match self.value(iter) {
            Some(Value::Seq(items)) if items.len() <= MAX_UNROLL => Some(items),
            _ => None,
        };
        // A literal list of expressions that are not constants (`[sa.Column(...), ...]`) is
        // unrolled too, each element bound as an expression.
        let literal = self.deref(iter);
        let elements = match literal.expr {
            Expr::List(l) => Some(&l.elts),
            Expr::Tuple(t) => Some(&t.elts),
            _ => None,
        }
        .filter(|elts| elts.len() <= MAX_UNROLL && !elts.iter().any(Expr::is_starred_expr));
        match (items, elements) {
            (Some(items), _) if !has_loop_jump(&stmt.body) => {
                for item in items {
                    self.bind_value(&stmt.target, item, frame);
                    let flow = self.lower_body(&stmt.body, frame);
                    if matches!(flow, Flow::Stop | Flow::Raise) {
                        return flow;
                    }
                }
                self.lower_body(&stmt.orelse, frame)
            }
            (None, Some(elements)) if !has_loop_jump(&stmt.body) => {
                for element in elements {
                    self.bind_target(&stmt.target, literal.child(element), frame);
                    let flow = self.lower_body(&stmt.body, frame);
                    if matches!(flow, Flow::Stop | Flow::Raise) {
                        return flow;
                    }
                }
                self.lower_body(&stmt.orelse, frame)
            }
            _ => {
                self.bind_value_opaque(&stmt.target, frame);
                let reason = format!(
                    "inside a for loop over a computed list (`{}`)",
                    self.snippet(stmt.iter.range())
                );
                self.with_uncertainty(reason, |this| {
                    let body = this.lower_body(&stmt.body, frame);
                    let orelse = this.lower_body(&stmt.orelse, frame);
                    merge_uncertain(body, orelse)
                })
            }
        }
    }

    fn lower_match(&mut self, stmt: &'a ruff_python_ast::StmtMatch, frame: usize) -> Flow {
        let subject = self.value(At {
            expr: &stmt.subject,
            frame,
        });
        if let Some(subject) = subject {
            for (index, case) in stmt.cases.iter().enumerate() {
                let matched = pattern_matches(self, &case.pattern, &subject, frame);
                let guard = match (&matched, &case.guard) {
                    (Some(true), Some(guard)) => self.truth(At { expr: guard, frame }),
                    (Some(true), None) => Some(true),
                    _ => matched,
                };
                match guard {
                    Some(true) => {
                        if let ruff_python_ast::Pattern::MatchAs(p) = &case.pattern
                            && let Some(name) = &p.name
                        {
                            self.bind(frame, name.as_str(), Bound::Value(subject.clone()));
                        }
                        return self.lower_body(&case.body, frame);
                    }
                    Some(false) => {}
                    None => return self.lower_cases_uncertain(stmt, &stmt.cases[index..], frame),
                }
            }
            return Flow::Next;
        }
        self.lower_cases_uncertain(stmt, &stmt.cases, frame)
    }

    fn lower_cases_uncertain(
        &mut self,
        stmt: &'a ruff_python_ast::StmtMatch,
        cases: &'a [ruff_python_ast::MatchCase],
        frame: usize,
    ) -> Flow {
        let reason = format!(
            "inside a match statement (`match {}`)",
            self.snippet(stmt.subject.range())
        );
        self.with_uncertainty(reason, |this| {
            let mut flow = Flow::Next;
            for case in cases {
                flow = merge_uncertain(flow, this.lower_body(&case.body, frame));
            }
            flow
        })
    }

    fn lower_try(&mut self, stmt: &'a ruff_python_ast::StmtTry, frame: usize) -> Flow {
        let mut flow = if stmt.handlers.is_empty() {
            // Without a handler an exception ends the migration, so the body runs as written.
            self.lower_body(&stmt.body, frame)
        } else {
            let body = self.with_uncertainty("inside a try block".to_owned(), |this| {
                this.lower_body(&stmt.body, frame)
            });
            let mut flow = merge_uncertain(Flow::Next, body);
            for handler in &stmt.handlers {
                let ruff_python_ast::ExceptHandler::ExceptHandler(handler) = handler;
                let handled = self.with_uncertainty("inside an except block".to_owned(), |this| {
                    this.lower_body(&handler.body, frame)
                });
                flow = merge_uncertain(flow, handled);
            }
            let orelse = self
                .with_uncertainty("inside the else block of a try".to_owned(), |this| {
                    this.lower_body(&stmt.orelse, frame)
                });
            merge_uncertain(flow, orelse)
        };
        let finally = self.lower_body(&stmt.finalbody, frame);
        if matches!(finally, Flow::Stop | Flow::Raise) {
            flow = finally;
        }
        flow
    }

    fn lower_with(&mut self, stmt: &'a ruff_python_ast::StmtWith, frame: usize) -> Flow {
        let mut autocommit = false;
        for item in &stmt.items {
            let context = At {
                expr: &item.context_expr,
                frame,
            };
            let bound = if let Some(table) = self.batch_table(context) {
                Bound::Batch(table)
            } else if is_autocommit_block(context.expr) {
                autocommit = true;
                Bound::Opaque
            } else {
                self.run_effects(context);
                Bound::Opaque
            };
            if let Some(target) = &item.optional_vars {
                match &**target {
                    Expr::Name(name) => self.bind(frame, name.id.as_str(), bound),
                    other => self.bind_value_opaque(other, frame),
                }
            }
        }
        let saved = self.autocommit;
        self.autocommit |= autocommit;
        let flow = self.lower_body(&stmt.body, frame);
        self.autocommit = saved;
        flow
    }

    /// For `op.batch_alter_table("t", schema=...)`: `Some(table)`, `Some(None)` when the table
    /// name is computed at run time; `None` for any other expression.
    fn batch_table(&self, at: At<'a>) -> Option<Option<QualName>> {
        let Expr::Call(call) = at.expr else {
            return None;
        };
        if !self.sym_is(at.child(&call.func), |s| s == Sym::Op("batch_alter_table")) {
            return None;
        }
        let args = &call.arguments;
        let name = args
            .find_argument_value("table_name", 0)
            .and_then(|e| self.string(at.child(e)));
        let schema = match args.find_argument_value("schema", 1) {
            None => Some(None),
            Some(e) => match self.value(at.child(e)) {
                Some(Value::None) => Some(None),
                Some(Value::Str(s)) => Some(Some(s)),
                _ => None,
            },
        };
        Some(match (name, schema) {
            (Some(name), Some(schema)) => Some(QualName { schema, name }),
            _ => None,
        })
    }

    // ----------------------------------------------------------------------------------------
    // Calls
    // ----------------------------------------------------------------------------------------

    /// Runs the effectful calls in an expression, in source order.
    fn run_effects(&mut self, at: At<'a>) {
        let mut finder = EffectFinder {
            lowerer: self,
            frame: at.frame,
            comprehension: 0,
            found: Vec::new(),
        };
        finder.visit_expr(at.expr);
        let found = finder.found;
        for effect in found {
            if effect.in_comprehension {
                let reason = "inside a comprehension".to_owned();
                self.with_uncertainty(reason, |this| this.run_call(effect, at.frame));
            } else {
                self.run_call(effect, at.frame);
            }
        }
    }

    fn classify_call(&self, call: &'a ExprCall, frame: usize) -> CallKind<'a> {
        let func = At {
            expr: &call.func,
            frame,
        };
        if let Expr::Attribute(attr) = &*call.func {
            let method = attr.attr.as_str();
            let receiver = func.child(&attr.value);
            if let Expr::Name(name) = &*attr.value
                && let Some(Bound::Batch(table)) = self.lookup(name.id.as_str(), frame)
            {
                return CallKind::Batch(table.clone(), method);
            }
            if matches!(method, "execute" | "exec_driver_sql") && self.is_bind(receiver) {
                return CallKind::BindExecute;
            }
            if matches!(method, "create" | "drop" | "create_all" | "drop_all") {
                let args = &call.arguments;
                let bind_argument = args
                    .find_argument_value("bind", 0)
                    .is_some_and(|b| self.is_bind(func.child(b)));
                if bind_argument {
                    return CallKind::ObjectDdl(receiver, method);
                }
            }
        }
        if let Expr::Name(name) = &*call.func
            && let Some(Bound::Function(def, def_frame)) = self.lookup(name.id.as_str(), frame)
        {
            return CallKind::Helper(def, *def_frame);
        }
        if let Expr::Subscript(sub) = &*call.func
            && let Expr::Call(inner) = &*sub.value
            && let Expr::Name(n) = &*inner.func
            && matches!(n.id.as_str(), "globals" | "locals")
        {
            return CallKind::Dynamic;
        }
        let path = self.path(func);
        match path.as_deref().map(classify) {
            Some(Sym::Op(method)) if !method.is_empty() && !method.contains('.') => {
                if PURE_OP_METHODS.contains(&method) {
                    CallKind::Pure
                } else {
                    CallKind::Op(method.to_owned())
                }
            }
            Some(Sym::Context("execute")) => CallKind::Op("execute".to_owned()),
            // Code outside SQLAlchemy and Alembic that is handed `op` or a batch handle (a
            // function from another module, a method of a local object) may run operations the
            // replay cannot see. Code handed only a connection usually moves data, and is left
            // alone like other data fixes.
            Some(Sym::Other) | None if self.hands_over_operations(call, frame) => {
                CallKind::External(path.unwrap_or_else(|| self.snippet(call.func.range())))
            }
            _ => CallKind::Pure,
        }
    }

    /// Whether a call passes `op` or a batch handle along.
    fn hands_over_operations(&self, call: &'a ExprCall, frame: usize) -> bool {
        let args = &call.arguments;
        args.args
            .iter()
            .chain(args.keywords.iter().map(|k| &k.value))
            .any(|arg| {
                let at = At { expr: arg, frame };
                self.sym_is(at, |s| s == Sym::Op(""))
                    || matches!(arg, Expr::Name(n)
                        if matches!(self.lookup(n.id.as_str(), frame), Some(Bound::Batch(_))))
            })
    }

    fn run_call(&mut self, effect: Effect<'a>, frame: usize) {
        let call = effect.call;
        let label = Label::Source(call.func.range());
        let range = call.range();
        match effect.kind {
            CallKind::Op(method) => {
                let result = self.lower_operation(&method, call, frame, None);
                self.emit(range, label, result);
            }
            CallKind::Batch(table, method) => {
                let result = self.lower_operation(method, call, frame, Some(&table));
                self.emit(range, label, result);
            }
            CallKind::BindExecute => {
                let result = match call.arguments.args.first() {
                    Some(sql) => self.lower_execute(At { expr: sql, frame }),
                    None => Err(Why::new("without SQL")),
                };
                self.emit(range, label, result);
            }
            CallKind::ObjectDdl(receiver, method) => {
                let result = self.lower_object_ddl(call, receiver, method);
                self.emit(range, label, result);
            }
            CallKind::Helper(def, def_frame) => self.follow_helper(call, frame, def, def_frame),
            CallKind::External(path) => {
                let why = Why::new(format!(
                    "is handed Alembic's operations, but its code ({path}) is not in the revision file; it is not followed"
                ));
                self.emit(range, label, Err(why));
            }
            CallKind::Dynamic => {
                let why = Why::new("calls a function chosen at run time; it is not followed");
                self.emit(range, label, Err(why));
            }
            CallKind::Pure => {}
        }
    }

    fn label_text(&self, label: Label<'_>) -> String {
        match label {
            Label::Source(range) => self.snippet(range),
            Label::Helper(name) => format!("{name}()"),
        }
    }

    /// Records the outcome of one call.
    fn emit(&mut self, range: TextRange, label: Label<'_>, result: Result<Vec<Op>, Why>) {
        let span = self.span(range);
        if let Some(reason) = &self.uncertain {
            let tables = match &result {
                // An operation that does nothing the replay models stays quiet anywhere.
                Ok(ops) if ops.is_empty() => return,
                Ok(ops) => {
                    let mut tables = Vec::new();
                    for op in ops {
                        for table in tables_of(op) {
                            if !tables.contains(&table) {
                                tables.push(table);
                            }
                        }
                    }
                    tables
                }
                Err(why) => why.tables.clone(),
            };
            let op = Op::Unmodeled {
                what: format!("{} {reason}", self.label_text(label)),
                tables,
            };
            self.out.push(OpAt {
                op,
                span,
                autocommit: self.autocommit,
            });
            return;
        }
        match result {
            Ok(ops) => {
                for op in ops {
                    self.out.push(OpAt {
                        op,
                        span: span.clone(),
                        autocommit: self.autocommit,
                    });
                }
            }
            Err(why) => self.out.push(OpAt {
                op: Op::Unmodeled {
                    what: format!("{} {}", self.label_text(label), why.what),
                    tables: why.tables,
                },
                span,
                autocommit: self.autocommit,
            }),
        }
    }

    fn follow_helper(
        &mut self,
        call: &'a ExprCall,
        frame: usize,
        def: &'a StmtFunctionDef,
        def_frame: usize,
    ) {
        let label = Label::Helper(def.name.as_str());
        if self.following.iter().any(|f| std::ptr::eq(*f, def))
            || self.following.len() >= MAX_HELPER_DEPTH
        {
            if self.contains_effects(&def.body, def_frame) {
                let why = Why::new("calls itself; the recursion is not followed");
                self.emit(call.range(), label, Err(why));
            }
            return;
        }
        match self.bind_arguments(def, call, frame) {
            Ok(names) => {
                self.frames.push(Frame {
                    names,
                    parent: Some(def_frame),
                });
                let helper_frame = self.frames.len() - 1;
                self.following.push(def);
                // A `return` in the helper ends the helper, not the caller.
                self.lower_body(&def.body, helper_frame);
                self.following.pop();
                self.frames.pop();
            }
            Err(reason) => {
                if self.contains_effects(&def.body, def_frame) {
                    self.emit(call.range(), label, Err(Why::new(reason)));
                }
            }
        }
    }

    /// The helper's parameters bound to the call's arguments (evaluated in the caller's frame).
    fn bind_arguments(
        &self,
        def: &'a StmtFunctionDef,
        call: &'a ExprCall,
        frame: usize,
    ) -> Result<FxHashMap<&'a str, Bound<'a>>, String> {
        let params = &def.parameters;
        let args = &call.arguments;
        if args.args.iter().any(|a| matches!(a, Expr::Starred(_)))
            || args.keywords.iter().any(|k| k.arg.is_none())
        {
            return Err(
                "is called with *args or **kwargs, which cannot be matched to its parameters"
                    .to_owned(),
            );
        }
        let positional: Vec<_> = params.posonlyargs.iter().chain(&params.args).collect();
        let mut names = FxHashMap::default();
        let mut extra = Vec::new();
        for (index, arg) in args.args.iter().enumerate() {
            match positional.get(index) {
                Some(param) => {
                    names.insert(
                        param.parameter.name.as_str(),
                        self.binding_for(At { expr: arg, frame }),
                    );
                }
                None if params.vararg.is_some() => extra.push(arg),
                None => return Err("is called with more arguments than it takes".to_owned()),
            }
        }
        for keyword in &args.keywords {
            let Some(key) = &keyword.arg else { continue };
            let param = params
                .iter_non_variadic_params()
                .find(|p| p.parameter.name.as_str() == key.as_str());
            match param {
                Some(param) => {
                    names.insert(
                        param.parameter.name.as_str(),
                        self.binding_for(At {
                            expr: &keyword.value,
                            frame,
                        }),
                    );
                }
                None if params.kwarg.is_some() => {}
                None => return Err(format!("is called with an unknown argument `{key}`")),
            }
        }
        for param in params.iter_non_variadic_params() {
            let name = param.parameter.name.as_str();
            if names.contains_key(name) {
                continue;
            }
            match &param.default {
                // Defaults are evaluated where the function is defined.
                Some(default) => {
                    names.insert(name, Bound::Expr(default, 0));
                }
                None => return Err(format!("is called without its argument `{name}`")),
            }
        }
        if let Some(vararg) = &params.vararg {
            names.insert(vararg.name.as_str(), Bound::Args(extra, frame));
        }
        if let Some(kwarg) = &params.kwarg {
            names.insert(kwarg.name.as_str(), Bound::Opaque);
        }
        Ok(names)
    }

    /// Whether statements contain a call the lowering would act on.
    fn contains_effects(&self, body: &'a [Stmt], frame: usize) -> bool {
        let mut finder = EffectFinder {
            lowerer: self,
            frame,
            comprehension: 0,
            found: Vec::new(),
        };
        finder.visit_body(body);
        !finder.found.is_empty()
    }

    // ----------------------------------------------------------------------------------------
    // Operations
    // ----------------------------------------------------------------------------------------

    /// Resolves the table an operation targets.
    fn target(
        &self,
        call: &'a ExprCall,
        frame: usize,
        batch: Option<&Option<QualName>>,
        table_keyword: &str,
        table_position: usize,
        schema_keyword: &str,
    ) -> Result<Target, Why> {
        match batch {
            Some(Some(table)) => Ok(Target {
                table: table.clone(),
                batch: true,
                table_position,
            }),
            Some(None) => Err(Why::new(
                "on a batch table whose name is computed at run time",
            )),
            None => {
                let args = &call.arguments;
                let Some(name_expr) = args.find_argument_value(table_keyword, table_position)
                else {
                    return Err(Why::new("without a table name"));
                };
                let Some(name) = self.string(At {
                    expr: name_expr,
                    frame,
                }) else {
                    return Err(Why::new(format!(
                        "on a table name computed at run time (`{}`)",
                        self.snippet(name_expr.range())
                    )));
                };
                let schema = self.optional_string(
                    args.find_keyword(schema_keyword).map(|k| At {
                        expr: &k.value,
                        frame,
                    }),
                    format_args!("{schema_keyword}="),
                )?;
                Ok(Target {
                    table: QualName { schema, name },
                    batch: false,
                    table_position,
                })
            }
        }
    }

    fn lower_operation(
        &self,
        method: &str,
        call: &'a ExprCall,
        frame: usize,
        batch: Option<&Option<QualName>>,
    ) -> Result<Vec<Op>, Why> {
        let ops = self.lower_operation_unguarded(method, call, frame, batch)?;
        // Alembic renders `if_not_exists=True` / `if_exists=True` as `IF [NOT] EXISTS` on the
        // operation's own statement only (not on the enum types or indexes it brings along).
        let guard_keyword = match method {
            "create_table" | "add_column" | "create_index" => "if_not_exists",
            "drop_table" | "drop_column" | "drop_index" | "drop_constraint" => "if_exists",
            _ => return Ok(ops),
        };
        let guarded = self
            .optional_bool(
                call.arguments.find_keyword(guard_keyword).map(|k| At {
                    expr: &k.value,
                    frame,
                }),
                format_args!("{guard_keyword}="),
            )?
            .unwrap_or(false);
        if !guarded {
            return Ok(ops);
        }
        Ok(ops
            .into_iter()
            .map(|op| match op {
                Op::CreateTable { .. }
                | Op::AddColumn { .. }
                | Op::CreateIndex { .. }
                | Op::DropTable { .. }
                | Op::DropColumn { .. }
                | Op::DropIndex { .. }
                | Op::DropConstraint { .. } => Op::Guarded { op: Box::new(op) },
                other => other,
            })
            .collect())
    }

    fn lower_operation_unguarded(
        &self,
        method: &str,
        call: &'a ExprCall,
        frame: usize,
        batch: Option<&Option<QualName>>,
    ) -> Result<Vec<Op>, Why> {
        let args = &call.arguments;
        let at = |expr: &'a Expr| At { expr, frame };
        let arg = |name: &str, position: usize| args.find_argument_value(name, position).map(at);
        let keyword = |name: &str| args.find_keyword(name).map(|k| at(&k.value));
        if (args.args.iter().any(|a| matches!(a, Expr::Starred(_)))
            || args.keywords.iter().any(|k| k.arg.is_none()))
            && method != "create_table"
        {
            return Err(Why::new("with *args or **kwargs computed at run time"));
        }
        match method {
            "create_table" => {
                let target = self.target(call, frame, None, "table_name", 0, "schema")?;
                self.lower_create_table(call, frame, target.table)
            }
            "drop_table" => {
                let target = self.target(call, frame, batch, "table_name", 0, "schema")?;
                Ok(vec![Op::DropTable {
                    table: target.table,
                }])
            }
            "rename_table" => {
                let target = self.target(call, frame, batch, "old_table_name", 0, "schema")?;
                let new_name = arg("new_table_name", 1)
                    .and_then(|a| self.string(a))
                    .ok_or_else(|| {
                        Why::new("with a new name computed at run time").on(&target.table)
                    })?;
                Ok(vec![Op::RenameTable {
                    table: target.table,
                    new_name,
                }])
            }
            "add_column" => {
                let target = self.target(call, frame, batch, "table_name", 0, "schema")?;
                let column = arg("column", target.pos(1))
                    .ok_or_else(|| Why::new("without a column").on(&target.table))?;
                let lowered = self
                    .lower_column(column, target.table.schema.as_deref())
                    .map_err(|e| Why::new(format!("with {e}")).on(&target.table))?;
                // Alembic's add_column does not create enum types (only create_table does), so
                // the type must exist already.
                let mut ops = vec![Op::AddColumn {
                    table: target.table.clone(),
                    column: lowered.column,
                }];
                ops.extend(
                    lowered
                        .checks
                        .into_iter()
                        .map(|constraint| Op::AddConstraint {
                            table: target.table.clone(),
                            constraint,
                        }),
                );
                Ok(ops)
            }
            "drop_column" => {
                let target = self.target(call, frame, batch, "table_name", 0, "schema")?;
                let column = arg("column_name", target.pos(1))
                    .and_then(|a| self.string(a))
                    .ok_or_else(|| {
                        Why::new("with a column name computed at run time").on(&target.table)
                    })?;
                Ok(vec![Op::DropColumn {
                    table: target.table,
                    column,
                }])
            }
            "alter_column" => {
                let target = self.target(call, frame, batch, "table_name", 0, "schema")?;
                self.lower_alter_column(call, frame, target)
            }
            "create_primary_key" | "create_unique_constraint" => {
                let target = self.target(call, frame, batch, "table_name", 1, "schema")?;
                let on = |why: Why| why.on(&target.table);
                let name = self
                    .optional_string(arg("constraint_name", 0), "a constraint name")
                    .map_err(on)?;
                let columns = arg("columns", target.pos(2))
                    .ok_or_else(|| on(Why::new("without columns")))
                    .and_then(|c| self.string_list(c, "columns").map_err(on))?;
                let constraint = if method == "create_primary_key" {
                    Constraint::PrimaryKey { name, columns }
                } else {
                    Constraint::Unique { name, columns }
                };
                Ok(vec![Op::AddConstraint {
                    table: target.table,
                    constraint,
                }])
            }
            "create_foreign_key" => {
                let target = self.target(call, frame, batch, "source_table", 1, "source_schema")?;
                let on = |why: Why| why.on(&target.table);
                let name = self
                    .optional_string(arg("constraint_name", 0), "a constraint name")
                    .map_err(on)?;
                let referent = arg("referent_table", target.pos(2))
                    .and_then(|a| self.string(a))
                    .ok_or_else(|| on(Why::new("with a referenced table computed at run time")))?;
                let referent_schema = self
                    .optional_string(keyword("referent_schema"), "referent_schema=")
                    .map_err(on)?;
                let columns = arg("local_cols", target.pos(3))
                    .ok_or_else(|| on(Why::new("without local columns")))
                    .and_then(|c| self.string_list(c, "local columns").map_err(on))?;
                let ref_columns = arg("remote_cols", target.pos(4))
                    .ok_or_else(|| on(Why::new("without remote columns")))
                    .and_then(|c| self.string_list(c, "remote columns").map_err(on))?;
                let on_delete = self
                    .optional_string(keyword("ondelete"), "ondelete=")
                    .map_err(on)?;
                let on_update = self
                    .optional_string(keyword("onupdate"), "onupdate=")
                    .map_err(on)?;
                Ok(vec![Op::AddConstraint {
                    table: target.table,
                    constraint: Constraint::ForeignKey {
                        name,
                        columns,
                        ref_table: QualName {
                            schema: referent_schema,
                            name: referent,
                        },
                        ref_columns,
                        on_delete,
                        on_update,
                    },
                }])
            }
            "create_check_constraint" => {
                let target = self.target(call, frame, batch, "table_name", 1, "schema")?;
                let on = |why: Why| why.on(&target.table);
                let name = self
                    .optional_string(arg("constraint_name", 0), "a constraint name")
                    .map_err(on)?;
                let condition = arg("condition", target.pos(2))
                    .ok_or_else(|| on(Why::new("without a condition")))?;
                let sql = self.sql_text(condition).ok_or_else(|| {
                    on(Why::new(
                        "with a condition built from SQLAlchemy expressions rather than SQL text",
                    ))
                })?;
                Ok(vec![Op::AddConstraint {
                    table: target.table,
                    constraint: Constraint::Check { name, sql },
                }])
            }
            "drop_constraint" => {
                let target = self.target(call, frame, batch, "table_name", 1, "schema")?;
                let on = |why: Why| why.on(&target.table);
                let name = arg("constraint_name", 0)
                    .and_then(|a| self.string(a))
                    .ok_or_else(|| on(Why::new("with a constraint name computed at run time")))?;
                let kind = match self
                    .optional_string(arg("type_", target.pos(2)), "type_=")
                    .map_err(on)?
                    .as_deref()
                {
                    None => None,
                    Some("primary") => Some(ConstraintKind::PrimaryKey),
                    Some("unique") => Some(ConstraintKind::Unique),
                    Some("foreignkey") => Some(ConstraintKind::ForeignKey),
                    Some("check") => Some(ConstraintKind::Check),
                    Some(other) => {
                        return Err(on(Why::new(format!(
                            "with type_={other:?}, which Alembic does not know"
                        ))));
                    }
                };
                Ok(vec![Op::DropConstraint {
                    table: target.table,
                    name,
                    kind,
                }])
            }
            "create_index" => {
                let target = self.target(call, frame, batch, "table_name", 1, "schema")?;
                let on = |why: Why| why.on(&target.table);
                let name = self
                    .optional_string(arg("index_name", 0), "an index name")
                    .map_err(on)?;
                let columns_at =
                    arg("columns", target.pos(2)).ok_or_else(|| on(Why::new("without columns")))?;
                let columns = self.index_columns(columns_at).map_err(on)?;
                let unique = self
                    .optional_bool(keyword("unique"), "unique=")
                    .map_err(on)?
                    .unwrap_or(false);
                let concurrently = self
                    .optional_bool(
                        keyword("postgresql_concurrently"),
                        "postgresql_concurrently=",
                    )
                    .map_err(on)?
                    .unwrap_or(false);
                Ok(vec![Op::CreateIndex {
                    table: target.table,
                    index: IndexDef {
                        name,
                        columns,
                        unique,
                    },
                    concurrently,
                }])
            }
            "drop_index" => {
                let name = arg("index_name", 0)
                    .and_then(|a| self.string(a))
                    .ok_or_else(|| Why::new("with an index name computed at run time"))?;
                let (schema, table) = match batch {
                    Some(Some(table)) => (table.schema.clone(), Some(table.clone())),
                    Some(None) => {
                        return Err(Why::new(
                            "on a batch table whose name is computed at run time",
                        ));
                    }
                    None => {
                        let schema = self.optional_string(keyword("schema"), "schema=")?;
                        let table = self
                            .optional_string(arg("table_name", 1), "a table name")?
                            .map(|name| QualName {
                                schema: schema.clone(),
                                name,
                            });
                        (schema, table)
                    }
                };
                Ok(vec![Op::DropIndex {
                    schema,
                    name,
                    table,
                }])
            }
            "create_table_comment" | "drop_table_comment" => {
                let target = self.target(call, frame, batch, "table_name", 0, "schema")?;
                Err(
                    Why::new("is not modelled (table comments are not part of the schema model)")
                        .on(&target.table),
                )
            }
            "create_exclude_constraint" => {
                let target = self.target(call, frame, batch, "table_name", 1, "schema")?;
                Err(Why::new(
                    "is not modelled (exclusion constraints are not part of the schema model)",
                )
                .on(&target.table))
            }
            // Data, not schema: the replay has nothing to do.
            "bulk_insert" => Ok(Vec::new()),
            "execute" => match arg("sqltext", 0) {
                Some(sql) => self.lower_execute(sql),
                None => Err(Why::new("without SQL")),
            },
            _ => Err(Why::new("is not an operation the replay models")),
        }
    }

    fn lower_create_table(
        &self,
        call: &'a ExprCall,
        frame: usize,
        table: QualName,
    ) -> Result<Vec<Op>, Why> {
        let on = |why: Why| why.on(&table);
        if call.arguments.keywords.iter().any(|k| k.arg.is_none()) {
            return Err(on(Why::new("with **kwargs computed at run time")));
        }
        let mut items: Vec<At<'a>> = Vec::new();
        for arg in call.arguments.args.iter().skip(1) {
            let arg_at = At { expr: arg, frame };
            if let Expr::Starred(starred) = arg {
                let inner = self.deref(arg_at.child(&starred.value));
                let forwarded = match inner.expr {
                    Expr::Name(name) => match self.lookup(name.id.as_str(), inner.frame) {
                        Some(Bound::Args(exprs, args_frame)) => Some((exprs.clone(), *args_frame)),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some((exprs, args_frame)) = forwarded {
                    // A helper's `*columns`, forwarded as they were passed to it.
                    items.extend(exprs.into_iter().map(|expr| At {
                        expr,
                        frame: args_frame,
                    }));
                    continue;
                }
                match inner.expr {
                    Expr::List(l) => items.extend(l.elts.iter().map(|e| inner.child(e))),
                    Expr::Tuple(t) => items.extend(t.elts.iter().map(|e| inner.child(e))),
                    _ => {
                        return Err(on(Why::new(format!(
                            "with columns computed at run time (`{}`)",
                            self.snippet(arg.range())
                        ))));
                    }
                }
            } else {
                items.push(arg_at);
            }
        }
        let mut columns = Vec::new();
        let mut constraints = Vec::new();
        let mut indexes = Vec::new();
        let mut enums: Vec<EnumType> = Vec::new();
        let mut unmodeled = Vec::new();
        for item in items {
            let item = self.deref(item);
            let Expr::Call(item_call) = item.expr else {
                return Err(on(Why::new(format!(
                    "with a table element the replay cannot follow (`{}`)",
                    self.snippet(item.expr.range())
                ))));
            };
            let path = self.path(item.child(&item_call.func));
            match path.as_deref().map(classify) {
                Some(Sym::Sa("Column")) => {
                    let lowered = self
                        .lower_column(item, table.schema.as_deref())
                        .map_err(|e| on(Why::new(format!("with {e}"))))?;
                    for e in lowered.enums {
                        if !enums.iter().any(|known| known.name == e.name) {
                            enums.push(e);
                        }
                    }
                    constraints.extend(lowered.checks);
                    columns.push(lowered.column);
                }
                Some(Sym::Sa("PrimaryKeyConstraint" | "UniqueConstraint")) => {
                    let name = self.constraint_name(item, item_call).map_err(on)?;
                    let mut names = Vec::new();
                    for column in &item_call.arguments.args {
                        match self.value(item.child(column)) {
                            Some(Value::Str(s)) => names.push(s),
                            _ => {
                                return Err(on(Why::new(format!(
                                    "with a constraint on columns computed at run time (`{}`)",
                                    self.snippet(item_call.range())
                                ))));
                            }
                        }
                    }
                    let primary = path.as_deref().map(classify)
                        == Some(Sym::Sa("PrimaryKeyConstraint"));
                    constraints.push(if primary {
                        Constraint::PrimaryKey {
                            name,
                            columns: names,
                        }
                    } else {
                        Constraint::Unique {
                            name,
                            columns: names,
                        }
                    });
                }
                Some(Sym::Sa("ForeignKeyConstraint")) => {
                    constraints.push(self.foreign_key_constraint(item, item_call).map_err(on)?);
                }
                Some(Sym::Sa("CheckConstraint")) => {
                    constraints.push(self.check_constraint(item, item_call).map_err(on)?);
                }
                Some(Sym::Sa("Index")) => {
                    indexes.push(self.table_index(item, item_call).map_err(on)?);
                }
                Some(Sym::Pg("ExcludeConstraint")) => unmodeled.push(Op::Unmodeled {
                    what: format!(
                        "an exclusion constraint in op.create_table (`{}`), which the schema model does not hold",
                        self.snippet(item_call.range())
                    ),
                    tables: vec![table.clone()],
                }),
                _ => {
                    return Err(on(Why::new(format!(
                        "with a table element the replay cannot follow (`{}`)",
                        self.snippet(item_call.range())
                    ))));
                }
            }
        }
        let mut ops: Vec<Op> = enums
            .into_iter()
            .map(|e| Op::CreateEnum {
                name: e.name,
                values: e.values,
            })
            .collect();
        ops.push(Op::CreateTable {
            table,
            columns,
            constraints,
            indexes,
        });
        ops.extend(unmodeled);
        Ok(ops)
    }

    fn constraint_name(&self, at: At<'a>, call: &'a ExprCall) -> Result<Option<String>, Why> {
        self.optional_string(
            call.arguments
                .find_keyword("name")
                .map(|k| at.child(&k.value)),
            "a constraint name",
        )
    }

    fn foreign_key_constraint(&self, at: At<'a>, call: &'a ExprCall) -> Result<Constraint, Why> {
        let args = &call.arguments;
        let columns = args
            .find_argument_value("columns", 0)
            .ok_or_else(|| Why::new("with a ForeignKeyConstraint without columns"))
            .and_then(|c| self.string_list(at.child(c), "foreign key columns"))?;
        let targets = args
            .find_argument_value("refcolumns", 1)
            .ok_or_else(|| Why::new("with a ForeignKeyConstraint without referenced columns"))
            .and_then(|c| self.string_list(at.child(c), "referenced columns"))?;
        let mut ref_table: Option<QualName> = None;
        let mut ref_columns = Vec::new();
        for target in &targets {
            let (table, column) = split_column_reference(target).ok_or_else(|| {
                Why::new(format!(
                    "with a foreign key to `{target}`, which names no table"
                ))
            })?;
            if ref_table.as_ref().is_some_and(|t| *t != table) {
                return Err(Why::new(
                    "with a ForeignKeyConstraint referencing more than one table",
                ));
            }
            ref_table = Some(table);
            ref_columns.push(column);
        }
        let ref_table =
            ref_table.ok_or_else(|| Why::new("with a ForeignKeyConstraint without columns"))?;
        let keyword = |name: &str| args.find_keyword(name).map(|k| at.child(&k.value));
        Ok(Constraint::ForeignKey {
            name: self.constraint_name(at, call)?,
            columns,
            ref_table,
            ref_columns,
            on_delete: self.optional_string(keyword("ondelete"), "ondelete=")?,
            on_update: self.optional_string(keyword("onupdate"), "onupdate=")?,
        })
    }

    fn check_constraint(&self, at: At<'a>, call: &'a ExprCall) -> Result<Constraint, Why> {
        let condition = call
            .arguments
            .find_argument_value("sqltext", 0)
            .ok_or_else(|| Why::new("with a CheckConstraint without a condition"))?;
        let sql = self.sql_text(at.child(condition)).ok_or_else(|| {
            Why::new(
                "with a CheckConstraint built from SQLAlchemy expressions rather than SQL text",
            )
        })?;
        Ok(Constraint::Check {
            name: self.constraint_name(at, call)?,
            sql,
        })
    }

    fn table_index(&self, at: At<'a>, call: &'a ExprCall) -> Result<IndexDef, Why> {
        let args = &call.arguments;
        let name = self.optional_string(
            args.find_argument_value("name", 0).map(|e| at.child(e)),
            "an index name",
        )?;
        let mut columns = Vec::new();
        for column in args.args.iter().skip(1) {
            columns.push(self.index_column(at.child(column))?);
        }
        let unique = self
            .optional_bool(
                args.find_keyword("unique").map(|k| at.child(&k.value)),
                "unique=",
            )?
            .unwrap_or(false);
        Ok(IndexDef {
            name,
            columns,
            unique,
        })
    }

    fn index_columns(&self, at: At<'a>) -> Result<Vec<String>, Why> {
        let at = self.deref(at);
        let elements = match at.expr {
            Expr::List(l) => &l.elts,
            Expr::Tuple(t) => &t.elts,
            _ => {
                return match self.value(at) {
                    Some(Value::Seq(items)) => items
                        .into_iter()
                        .map(|v| match v {
                            Value::Str(s) | Value::Sql(s) => Ok(s),
                            _ => Err(Why::new("with index columns that are not names")),
                        })
                        .collect(),
                    _ => Err(Why::new(format!(
                        "with index columns computed at run time (`{}`)",
                        self.snippet(at.expr.range())
                    ))),
                };
            }
        };
        elements
            .iter()
            .map(|e| self.index_column(at.child(e)))
            .collect()
    }

    /// An index element: a column name, or an expression as SQL text (`sa.text("lower(x)")`).
    fn index_column(&self, at: At<'a>) -> Result<String, Why> {
        match self.value(at) {
            Some(Value::Str(s) | Value::Sql(s)) => Ok(s),
            _ => Err(Why::new(format!(
                "with an index element the replay cannot follow (`{}`)",
                self.snippet(at.expr.range())
            ))),
        }
    }

    /// A condition or statement given as a string or `sa.text(...)`.
    fn sql_text(&self, at: At<'a>) -> Option<String> {
        match self.value(at)? {
            Value::Str(s) | Value::Sql(s) => Some(s),
            _ => None,
        }
    }

    fn lower_alter_column(
        &self,
        call: &'a ExprCall,
        frame: usize,
        target: Target,
    ) -> Result<Vec<Op>, Why> {
        let args = &call.arguments;
        let on = |why: Why| why.on(&target.table);
        let keyword = |name: &str| {
            args.find_keyword(name).map(|k| At {
                expr: &k.value,
                frame,
            })
        };
        let column = args
            .find_argument_value("column_name", target.pos(1))
            .and_then(|c| self.string(At { expr: c, frame }))
            .ok_or_else(|| on(Why::new("with a column name computed at run time")))?;
        let nullable = self
            .optional_bool(keyword("nullable"), "nullable=")
            .map_err(on)?;
        let server_default = match keyword("server_default") {
            None => None,
            Some(at) => match self.value(at) {
                // `server_default=False` (Alembic's default) leaves the default alone.
                Some(Value::Bool(false)) => None,
                Some(Value::None) => Some(None),
                _ => Some(Some(
                    self.server_default_sql(at)
                        .map_err(|e| on(Why::new(format!("with {e}"))))?,
                )),
            },
        };
        let new_name = self
            .optional_string(keyword("new_column_name"), "new_column_name=")
            .map_err(on)?;
        let new_type = match keyword("type_") {
            None => None,
            Some(at) if self.value(at) == Some(Value::None) => None,
            Some(at) => {
                // Alembic's alter_column does not create enum types; only the type changes.
                let mapped = self
                    .column_type(at, target.table.schema.as_deref())
                    .map_err(|e| {
                        on(Why::new(format!(
                            "with a type that cannot be mapped ({column}: {e})"
                        )))
                    })?;
                Some(mapped.ty)
            }
        };
        if new_type.is_none()
            && nullable.is_none()
            && server_default.is_none()
            && new_name.is_none()
        {
            // Only comments or `existing_*` hints: nothing the schema model holds changes.
            return Ok(Vec::new());
        }
        Ok(vec![Op::AlterColumn {
            table: target.table,
            column,
            new_type,
            nullable,
            server_default,
            new_name,
        }])
    }

    /// `op.execute(...)` and `connection.execute(...)`.
    fn lower_execute(&self, at: At<'a>) -> Result<Vec<Op>, Why> {
        let at = self.deref(at);
        if let Some(Value::Str(sql) | Value::Sql(sql)) = self.value(at) {
            return (self.lower_sql)(&sql).map_err(|reason| {
                Why::new(format!("with SQL that could not be parsed: {reason}"))
            });
        }
        if let Expr::Call(call) = at.expr {
            match self.path(at.child(&call.func)).as_deref().map(classify) {
                Some(Sym::Sa("CreateSequence" | "DropSequence")) => {
                    return self.sequence_ddl(at, call);
                }
                Some(Sym::Sa(
                    "CreateTable" | "DropTable" | "CreateIndex" | "DropIndex" | "AddConstraint"
                    | "DropConstraint" | "CreateSchema" | "DropSchema" | "CreateColumn",
                )) => {
                    return Err(Why::new(
                        "with a SQLAlchemy DDL construct the replay does not follow",
                    ));
                }
                _ => {}
            }
        }
        // Data changes leave the schema alone; they are kept (without SQL text, which only
        // exists at run time) so that the upgrade rendered as SQL can say what it leaves out.
        if self.is_dml_object(at) {
            return Ok(vec![Op::Passthrough {
                sql: None,
                what: format!(
                    "op.execute with a SQLAlchemy statement (`{}`)",
                    self.snippet(at.expr.range())
                ),
            }]);
        }
        if let Some(prefix) = self.static_prefix(at) {
            let first_word = first_sql_word(&prefix).to_ascii_lowercase();
            if NON_SCHEMA_SQL.contains(&first_word.as_str()) {
                return Ok(vec![Op::Passthrough {
                    sql: None,
                    what: format!(
                        "op.execute with SQL computed at run time (`{}`)",
                        self.snippet(at.expr.range())
                    ),
                }]);
            }
        }
        Err(Why::new(format!(
            "with SQL computed at run time (`{}`)",
            self.snippet(at.expr.range())
        )))
    }

    /// `op.execute(sa.schema.CreateSequence(sa.Sequence("s", start=1, increment=1)))`.
    fn sequence_ddl(&self, at: At<'a>, call: &'a ExprCall) -> Result<Vec<Op>, Why> {
        let create = self.call_sym_is(at, |s| s == Sym::Sa("CreateSequence"));
        let sequence = call
            .arguments
            .args
            .first()
            .map(|s| self.deref(at.child(s)))
            .ok_or_else(|| Why::new("without a sequence"))?;
        let Expr::Call(seq_call) = sequence.expr else {
            return Err(Why::new("with a sequence the replay cannot follow"));
        };
        if !self.sym_is(sequence.child(&seq_call.func), |s| s == Sym::Sa("Sequence")) {
            return Err(Why::new("with a sequence the replay cannot follow"));
        }
        let name = self.sequence_name(sequence, seq_call)?;
        if !create {
            return Ok(vec![Op::DropSequence { name }]);
        }
        let int = |keyword: &str| -> Result<Option<i64>, Why> {
            match seq_call.arguments.find_keyword(keyword) {
                None => Ok(None),
                Some(k) => match self.value(sequence.child(&k.value)) {
                    Some(Value::Int(n)) => Ok(Some(n)),
                    Some(Value::None) => Ok(None),
                    _ => Err(Why::new(format!(
                        "with a sequence {keyword}= computed at run time"
                    ))),
                },
            }
        };
        Ok(vec![Op::CreateSequence {
            name,
            start: int("start")?,
            increment: int("increment")?,
        }])
    }

    fn sequence_name(&self, at: At<'a>, call: &'a ExprCall) -> Result<QualName, Why> {
        let name = call
            .arguments
            .find_argument_value("name", 0)
            .and_then(|n| self.string(at.child(n)))
            .ok_or_else(|| Why::new("with a sequence name computed at run time"))?;
        let schema = self.optional_string(
            call.arguments
                .find_keyword("schema")
                .map(|k| at.child(&k.value)),
            "a sequence schema",
        )?;
        Ok(QualName { schema, name })
    }

    /// `<enum>.create(op.get_bind())`, `<sequence>.drop(bind)` and similar.
    fn lower_object_ddl(
        &self,
        call: &'a ExprCall,
        receiver: At<'a>,
        method: &str,
    ) -> Result<Vec<Op>, Why> {
        let ops = self.lower_object_ddl_unguarded(receiver, method)?;
        // `checkfirst=True` creates only what is missing and drops only what is there. Its
        // default differs: True for `postgresql.ENUM` and `sa.Sequence`, False for `sa.Enum`.
        let object = self.deref(receiver);
        let default = object.expr.as_call_expr().is_some_and(|object_call| {
            self.sym_is(object.child(&object_call.func), |s| {
                matches!(s, Sym::Pg("ENUM") | Sym::Sa("Sequence"))
            })
        });
        let checkfirst = match call.arguments.find_argument_value("checkfirst", 1) {
            None => default,
            Some(value) => self
                .optional_bool(Some(receiver.child(value)), "checkfirst=")?
                .unwrap_or(default),
        };
        if !checkfirst {
            return Ok(ops);
        }
        Ok(ops
            .into_iter()
            .map(|op| Op::Guarded { op: Box::new(op) })
            .collect())
    }

    fn lower_object_ddl_unguarded(&self, receiver: At<'a>, method: &str) -> Result<Vec<Op>, Why> {
        if matches!(method, "create_all" | "drop_all") {
            return Err(Why::new(
                "creates or drops the tables of a MetaData, which the replay does not follow",
            ));
        }
        let object = self.deref(receiver);
        if let Expr::Call(call) = object.expr
            && self.sym_is(object.child(&call.func), |s| s == Sym::Sa("Sequence"))
        {
            let name = self.sequence_name(object, call)?;
            if method == "drop" {
                return Ok(vec![Op::DropSequence { name }]);
            }
            let int = |keyword: &str| match call.arguments.find_keyword(keyword) {
                None => Some(None),
                Some(k) => match self.value(object.child(&k.value)) {
                    Some(Value::Int(n)) => Some(Some(n)),
                    Some(Value::None) => Some(None),
                    _ => None,
                },
            };
            let (Some(start), Some(increment)) = (int("start"), int("increment")) else {
                return Err(Why::new(
                    "with a sequence start or increment computed at run time",
                ));
            };
            return Ok(vec![Op::CreateSequence {
                name,
                start,
                increment,
            }]);
        }
        let sa_type = self
            .sa_type(object)
            .map_err(|_| Why::new("on an object the replay cannot follow"))?;
        if !matches!(sa_type.class.as_str(), "Enum" | "ENUM") {
            return Err(Why::new("on an object the replay cannot follow"));
        }
        // `.create()` runs CREATE TYPE whatever create_type= says; map the enum as if it did.
        let mut for_creation = sa_type.clone();
        for_creation.kwargs.retain(|(k, _)| k != "create_type");
        let mapped = map_type(&for_creation, None)
            .map_err(|e| Why::new(format!("on an enum type that cannot be mapped: {e}")))?;
        let Some(created) = mapped.created_enums.into_iter().next() else {
            return Err(Why::new(
                "on an enum type that is not a named PostgreSQL enum",
            ));
        };
        Ok(vec![if method == "create" {
            Op::CreateEnum {
                name: created.name,
                values: created.values,
            }
        } else {
            Op::DropEnum { name: created.name }
        }])
    }

    /// `table.insert()`, `sa.update(t).where(...)`, `sa.select(...)`: data, not schema.
    fn is_dml_object(&self, at: At<'a>) -> bool {
        let mut current = self.deref(at);
        for _ in 0..MAX_DEPTH {
            let Expr::Call(call) = current.expr else {
                return false;
            };
            if self.call_sym_is(current, |s| {
                matches!(s, Sym::Sa("insert" | "update" | "delete" | "select"))
            }) {
                return true;
            }
            let Expr::Attribute(attr) = &*call.func else {
                return false;
            };
            if matches!(
                attr.attr.as_str(),
                "insert" | "update" | "delete" | "select"
            ) {
                return true;
            }
            current = self.deref(current.child(&attr.value));
        }
        false
    }

    /// The start of a string that is computed at run time: the literal text before the first
    /// interpolation of an f-string, the left side of a concatenation, a template before `%`.
    fn static_prefix(&self, at: At<'a>) -> Option<String> {
        let at = self.deref(at);
        match at.expr {
            Expr::FString(f) => {
                let mut out = String::new();
                for part in &f.value {
                    match part {
                        FStringPart::Literal(lit) => out.push_str(lit.as_str()),
                        FStringPart::FString(fs) => {
                            for element in &fs.elements {
                                match element {
                                    InterpolatedStringElement::Literal(lit) => out.push_str(lit),
                                    InterpolatedStringElement::Interpolation(_) => {
                                        return Some(out);
                                    }
                                }
                            }
                        }
                    }
                }
                Some(out)
            }
            Expr::BinOp(b) => {
                // The longest constant string the chain `a + b + ...` starts with: the value
                // of the highest left operand that evaluates, walked without recursion.
                let mut chain = vec![(at, b)];
                let mut leftmost = self.deref(at.child(&b.left));
                while let Expr::BinOp(inner) = leftmost.expr {
                    chain.push((leftmost, inner));
                    leftmost = self.deref(leftmost.child(&inner.left));
                }
                // `chain` runs from the top down; the left operand of `chain[i]` is
                // `chain[i + 1]`, and that of the last is `leftmost`. The top's own value is
                // not needed: its left operand's is the prefix.
                let Some(mut value) = self.value(leftmost) else {
                    return self.static_prefix(leftmost);
                };
                for &(level, inner) in chain.iter().skip(1).rev() {
                    match self.binary(level, inner, value) {
                        Ok(next) => value = next,
                        Err(left) => {
                            value = left;
                            break;
                        }
                    }
                }
                match value {
                    Value::Str(s) => Some(s),
                    _ => self.static_prefix(leftmost),
                }
            }
            Expr::Call(call) => {
                if let Expr::Attribute(attr) = &*call.func {
                    if attr.attr.as_str() == "format" {
                        return self.string(at.child(&attr.value));
                    }
                    if matches!(attr.attr.as_str(), "bindparams" | "execution_options") {
                        return self.static_prefix(at.child(&attr.value));
                    }
                }
                if self.call_sym_is(at, |s| matches!(s, Sym::Sa("text" | "DDL"))) {
                    return call
                        .arguments
                        .args
                        .first()
                        .and_then(|a| self.static_prefix(at.child(a)));
                }
                None
            }
            _ => self.string(at),
        }
    }

    // ----------------------------------------------------------------------------------------
    // Columns and types
    // ----------------------------------------------------------------------------------------

    /// `sa.Column(...)` lowered; `Err` completes "op.add_column with ...".
    fn lower_column(
        &self,
        at: At<'a>,
        table_schema: Option<&str>,
    ) -> Result<LoweredColumn, String> {
        let at = self.deref(at);
        let Expr::Call(call) = at.expr else {
            return Err(format!(
                "a column the replay cannot follow (`{}`)",
                self.snippet(at.expr.range())
            ));
        };
        if !self.sym_is(at.child(&call.func), |s| s == Sym::Sa("Column")) {
            return Err(format!(
                "a column the replay cannot follow (`{}`)",
                self.snippet(call.range())
            ));
        }
        let args = &call.arguments;
        if args.args.iter().any(|a| matches!(a, Expr::Starred(_)))
            || args.keywords.iter().any(|k| k.arg.is_none())
        {
            return Err("an sa.Column(...) with *args or **kwargs".to_owned());
        }
        let mut name: Option<String> = None;
        let mut type_expr: Option<At<'a>> = None;
        let mut foreign_keys = Vec::new();
        let mut identity = None;
        let mut has_sequence = false;
        let mut checks = Vec::new();
        for (index, arg) in args.args.iter().enumerate() {
            let arg_at = at.child(arg);
            if index == 0
                && let Some(Value::Str(s)) = self.value(arg_at)
            {
                name = Some(s);
                continue;
            }
            let inner = self.deref(arg_at);
            let sym = match inner.expr {
                Expr::Call(c) => self.path(inner.child(&c.func)),
                _ => None,
            };
            // Without `name=`, a first argument that is not a string and names nothing from
            // SQLAlchemy is the column's name, computed at run time (a loop variable, an f-string).
            if index == 0 && args.find_keyword("name").is_none() {
                let names_library_object = match inner.expr {
                    Expr::Call(_) => sym.as_deref().is_some_and(|p| classify(p) != Sym::Other),
                    _ => self.path(inner).is_some_and(|p| classify(&p) != Sym::Other),
                };
                if !names_library_object {
                    return Err(format!(
                        "a column name computed at run time (`{}`)",
                        self.snippet(arg.range())
                    ));
                }
            }
            let Expr::Call(inner_call) = inner.expr else {
                type_expr = Some(self.one_type(type_expr, arg_at)?);
                continue;
            };
            match sym.as_deref().map(classify) {
                Some(Sym::Sa("ForeignKey")) => {
                    foreign_keys.push(self.column_foreign_key(inner, inner_call)?);
                }
                Some(Sym::Sa("Identity")) => identity = Some(self.identity(inner, inner_call)?),
                Some(Sym::Sa("Sequence")) => {
                    // Alembic does not create a column's Sequence, and a non-optional one stops
                    // SQLAlchemy from making the column `serial` (verified with `--sql`).
                    let optional = inner_call
                        .arguments
                        .find_keyword("optional")
                        .and_then(|k| self.value(inner.child(&k.value)));
                    has_sequence = optional != Some(Value::Bool(true));
                }
                Some(Sym::Sa("CheckConstraint")) => checks.push(
                    self.check_constraint(inner, inner_call)
                        .map_err(|why| why.what.trim_start_matches("with ").to_owned())?,
                ),
                // A generated column or a server-side value: the column and its type are unchanged.
                Some(Sym::Sa("Computed" | "FetchedValue")) => {}
                _ => type_expr = Some(self.one_type(type_expr, arg_at)?),
            }
        }
        let keyword = |k: &str| args.find_keyword(k).map(|kw| at.child(&kw.value));
        if let Some(n) = keyword("name") {
            name = Some(
                self.string(n)
                    .ok_or_else(|| "a column name computed at run time".to_owned())?,
            );
        }
        if let Some(t) = keyword("type_") {
            type_expr = Some(self.one_type(type_expr, t)?);
        }
        let name = name.ok_or_else(|| "a column without a name".to_owned())?;
        let type_expr = type_expr.ok_or_else(|| {
            format!("column `{name}` without a type, for which SQLAlchemy cannot emit DDL")
        })?;
        let mapped = self
            .column_type(type_expr, table_schema)
            .map_err(|e| format!("column `{name}` of a type that cannot be mapped: {e}"))?;
        let flag = |k: &str| -> Result<Option<bool>, String> {
            self.optional_bool(keyword(k), format_args!("{k}="))
                .map_err(|why| format!("column `{name}` {}", why.what))
        };
        let nullable = flag("nullable")?;
        let primary_key = flag("primary_key")?.unwrap_or(false);
        let unique = flag("unique")?.unwrap_or(false);
        let index = flag("index")?.unwrap_or(false);
        let mut autoincrement = match keyword("autoincrement").map(|a| self.value(a)) {
            None => Autoincrement::Auto,
            Some(Some(Value::Bool(true))) => Autoincrement::True,
            Some(Some(Value::Bool(false))) => Autoincrement::False,
            Some(Some(Value::Str(s))) if s == "auto" => Autoincrement::Auto,
            // "ignore_fk" asks for autoincrement even on a column with a foreign key.
            Some(Some(Value::Str(s))) if s == "ignore_fk" => Autoincrement::True,
            Some(_) => {
                return Err(format!(
                    "column `{name}` with autoincrement= that cannot be evaluated"
                ));
            }
        };
        if has_sequence {
            autoincrement = Autoincrement::False;
        }
        let server_default = match keyword("server_default") {
            None => None,
            Some(d) => self
                .server_default_sql_optional(d)
                .map_err(|e| format!("column `{name}` with {e}"))?,
        };
        if let Some(check) = &mapped.check {
            checks.push(Constraint::Check {
                name: check.name.clone(),
                sql: check.sql(&name),
            });
        }
        let mut column = ColumnDef::new(&name, mapped.ty);
        column.nullable = nullable;
        column.primary_key = primary_key;
        column.autoincrement = autoincrement;
        column.identity = identity;
        column.server_default = server_default;
        column.unique = unique;
        column.index = index;
        column.foreign_keys = foreign_keys;
        column.span = Some(self.span(call.range()));
        Ok(LoweredColumn {
            column,
            enums: mapped.created_enums,
            checks,
        })
    }

    fn one_type(&self, existing: Option<At<'a>>, new: At<'a>) -> Result<At<'a>, String> {
        match existing {
            None => Ok(new),
            Some(_) => Err(format!(
                "a column argument the replay cannot follow (`{}`)",
                self.snippet(new.expr.range())
            )),
        }
    }

    fn column_foreign_key(&self, at: At<'a>, call: &'a ExprCall) -> Result<ForeignKeyRef, String> {
        let args = &call.arguments;
        let target = args
            .find_argument_value("column", 0)
            .and_then(|c| self.string(at.child(c)))
            .ok_or_else(|| {
                format!(
                    "a foreign key the replay cannot follow (`{}`)",
                    self.snippet(call.range())
                )
            })?;
        let (table, column) = split_column_reference(&target)
            .ok_or_else(|| format!("a foreign key to `{target}`, which names no table"))?;
        let keyword = |k: &str| args.find_keyword(k).map(|kw| at.child(&kw.value));
        let text = |k: &str| {
            self.optional_string(keyword(k), format_args!("{k}="))
                .map_err(|why| format!("a foreign key {}", why.what))
        };
        Ok(ForeignKeyRef {
            name: text("name")?,
            table,
            column,
            on_delete: text("ondelete")?,
            on_update: text("onupdate")?,
        })
    }

    fn identity(&self, at: At<'a>, call: &'a ExprCall) -> Result<IdentitySpec, String> {
        let args = &call.arguments;
        let keyword = |k: &str| args.find_keyword(k).map(|kw| at.child(&kw.value));
        let always = self
            .optional_bool(
                args.find_argument_value("always", 0).map(|e| at.child(e)),
                "always=",
            )
            .map_err(|why| format!("an identity {}", why.what))?
            .unwrap_or(false);
        let int = |k: &str| -> Result<Option<i64>, String> {
            match keyword(k).map(|a| self.value(a)) {
                None | Some(Some(Value::None)) => Ok(None),
                Some(Some(Value::Int(n))) => Ok(Some(n)),
                Some(_) => Err(format!("an identity with {k}= computed at run time")),
            }
        };
        Ok(IdentitySpec {
            always,
            start: int("start")?,
            increment: int("increment")?,
        })
    }

    /// A `server_default=` value as the SQL PostgreSQL receives; `None` for no default.
    fn server_default_sql_optional(&self, at: At<'a>) -> Result<Option<String>, String> {
        if self.value(at) == Some(Value::None)
            || self.call_sym_is(self.deref(at), |s| s == Sym::Sa("FetchedValue"))
        {
            return Ok(None);
        }
        self.server_default_sql(at).map(Some)
    }

    fn server_default_sql(&self, at: At<'a>) -> Result<String, String> {
        match self.value(at) {
            // A plain string is a literal: SQLAlchemy quotes it (`'0'`, `'it''s'`).
            Some(Value::Str(s)) => Ok(sql_string(&s)),
            Some(Value::Sql(s)) => Ok(s),
            // SQLAlchemy refuses anything but a string or a SQL expression here.
            Some(Value::Int(_) | Value::Bool(_) | Value::Seq(_)) => Err(format!(
                "a server_default SQLAlchemy refuses (`{}`: not a string or SQL expression)",
                self.snippet(at.expr.range())
            )),
            Some(Value::None) | None => Err(format!(
                "a server_default computed at run time (`{}`)",
                self.snippet(at.expr.range())
            )),
        }
    }

    fn column_type(&self, at: At<'a>, table_schema: Option<&str>) -> Result<MappedType, String> {
        map_type(&self.sa_type(at)?, table_schema)
    }

    /// A SQLAlchemy type expression with its arguments evaluated.
    fn sa_type(&self, at: At<'a>) -> Result<SaType, String> {
        let at = self.deref(at);
        let unknown = || {
            format!(
                "`{}` is not a SQLAlchemy type the replay knows",
                self.snippet(at.expr.range())
            )
        };
        let (func, call) = match at.expr {
            Expr::Call(call) => {
                if let Expr::Attribute(attr) = &*call.func {
                    match attr.attr.as_str() {
                        "with_variant" => {
                            let mut base = self.sa_type(at.child(&attr.value))?;
                            let args = &call.arguments;
                            let dialects = args
                                .find_argument_value("dialect_names", 1)
                                .and_then(|d| self.value(at.child(d)));
                            let for_postgresql = match dialects {
                                Some(Value::Str(d)) => d == "postgresql",
                                Some(Value::Seq(ds)) => {
                                    ds.contains(&Value::Str("postgresql".to_owned()))
                                }
                                _ => return Err(unknown()),
                            };
                            if for_postgresql {
                                let variant =
                                    args.find_argument_value("type_", 0).ok_or_else(unknown)?;
                                base.postgresql_variant =
                                    Some(Box::new(self.sa_type(at.child(variant))?));
                            }
                            return Ok(base);
                        }
                        "evaluates_none" => return self.sa_type(at.child(&attr.value)),
                        _ => {}
                    }
                }
                (at.child(&call.func), Some(call))
            }
            Expr::Name(_) | Expr::Attribute(_) => (at, None),
            _ => return Err(unknown()),
        };
        let path = self.path(func).ok_or_else(unknown)?;
        let (module, class) = match classify(&path) {
            Sym::Sa(class) => (TypeModule::Generic, class),
            Sym::Pg(class) => (TypeModule::Postgresql, class),
            Sym::Dialect(dialect, class) => {
                return Err(format!(
                    "{dialect}.{class} is a {dialect} dialect type, not a PostgreSQL one"
                ));
            }
            _ => return Err(unknown()),
        };
        let mut t = SaType::bare(module, class);
        let Some(call) = call else { return Ok(t) };
        for arg in &call.arguments.args {
            if let Expr::Starred(starred) = arg {
                match self.value(at.child(&starred.value)) {
                    Some(Value::Seq(items)) => {
                        t.args.extend(items.into_iter().map(type_arg_of_value))
                    }
                    _ => t.args.push(TypeArg::Unknown(self.snippet(arg.range()))),
                }
            } else {
                t.args.push(self.type_arg(at.child(arg)));
            }
        }
        for keyword in &call.arguments.keywords {
            let Some(key) = &keyword.arg else {
                return Err(format!(
                    "`{}` has **kwargs computed at run time",
                    self.snippet(call.range())
                ));
            };
            t.kwargs.push((
                key.as_str().to_owned(),
                self.type_arg(at.child(&keyword.value)),
            ));
        }
        Ok(t)
    }

    fn type_arg(&self, at: At<'a>) -> TypeArg {
        if let Some(v) = self.value(at) {
            return type_arg_of_value(v);
        }
        let target = self.deref(at);
        if let Expr::Name(name) = target.expr
            && let Some(Bound::Class(class)) = self.lookup(name.id.as_str(), target.frame)
        {
            return match enum_member_names(class) {
                Some(names) => TypeArg::EnumClass(names),
                None => TypeArg::Unknown(self.snippet(at.expr.range())),
            };
        }
        match self.sa_type(at) {
            Ok(t) => TypeArg::Type(Box::new(t)),
            Err(_) => TypeArg::Unknown(self.snippet(at.expr.range())),
        }
    }
}

/// Finds the effectful calls in an expression (or a body), not descending into the arguments of
/// one (they are its data) nor into lambdas (they run later, if at all).
struct EffectFinder<'l, 'a> {
    lowerer: &'l Lowerer<'a>,
    frame: usize,
    comprehension: u32,
    found: Vec<Effect<'a>>,
}

impl<'a> Visitor<'a> for EffectFinder<'_, 'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(call) => {
                let kind = self.lowerer.classify_call(call, self.frame);
                if matches!(kind, CallKind::Pure) {
                    visitor::walk_expr(self, expr);
                } else {
                    self.found.push(Effect {
                        call,
                        kind,
                        in_comprehension: self.comprehension > 0,
                    });
                }
            }
            Expr::Lambda(_) => {}
            // A chain `a + b + c` nests to the left, one level per operator: visit its
            // operands in source order without recursing down the chain.
            Expr::BinOp(top) => {
                let mut rights = vec![&*top.right];
                let mut leftmost = &*top.left;
                while let Expr::BinOp(inner) = leftmost {
                    rights.push(&inner.right);
                    leftmost = &inner.left;
                }
                self.visit_expr(leftmost);
                for right in rights.into_iter().rev() {
                    self.visit_expr(right);
                }
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                self.comprehension += 1;
                visitor::walk_expr(self, expr);
                self.comprehension -= 1;
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// How blocks that may or may not have run end for the code after them: a `return` in one of
/// them may have run; a `raise` did not (the run that succeeds took another path).
fn merge_uncertain(a: Flow, b: Flow) -> Flow {
    let may_return = |f: Flow| matches!(f, Flow::Stop | Flow::MaybeStop);
    if may_return(a) || may_return(b) {
        Flow::MaybeStop
    } else {
        Flow::Next
    }
}

/// Whether a `case` pattern matches a known subject: `Some(true/false)`, or `None` when the
/// pattern is one the lowering does not evaluate (classes, mappings, sequences).
fn pattern_matches(
    lowerer: &Lowerer<'_>,
    pattern: &ruff_python_ast::Pattern,
    subject: &Value,
    frame: usize,
) -> Option<bool> {
    use ruff_python_ast::Pattern;
    match pattern {
        Pattern::MatchValue(p) => {
            let value = lowerer.value(At {
                expr: &p.value,
                frame,
            })?;
            compare(CmpOp::Eq, subject, &value)
        }
        Pattern::MatchOr(p) => {
            let mut unknown = false;
            for alternative in &p.patterns {
                match pattern_matches(lowerer, alternative, subject, frame) {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            if unknown { None } else { Some(false) }
        }
        // `case _:` and `case name:` match anything; `case <pattern> as name:` as its pattern.
        Pattern::MatchAs(p) => match &p.pattern {
            None => Some(true),
            Some(inner) => pattern_matches(lowerer, inner, subject, frame),
        },
        _ => None,
    }
}

/// Whether a loop body has a `break` or `continue` of its own (not of a nested loop), which
/// unrolling would have to model.
fn has_loop_jump(body: &[Stmt]) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Break(_) | Stmt::Continue(_) => true,
        Stmt::If(s) => {
            has_loop_jump(&s.body) || s.elif_else_clauses.iter().any(|c| has_loop_jump(&c.body))
        }
        Stmt::With(s) => has_loop_jump(&s.body),
        Stmt::Try(s) => {
            has_loop_jump(&s.body)
                || has_loop_jump(&s.orelse)
                || has_loop_jump(&s.finalbody)
                || s.handlers.iter().any(|h| {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    has_loop_jump(&h.body)
                })
        }
        Stmt::Match(s) => s.cases.iter().any(|c| has_loop_jump(&c.body)),
        _ => false,
    })
}

/// `with op.get_context().autocommit_block():` (on any context handle).
fn is_autocommit_block(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(call)
        if matches!(&*call.func, Expr::Attribute(attr) if attr.attr.as_str() == "autocommit_block"))
}

fn compare(op: CmpOp, left: &Value, right: &Value) -> Option<bool> {
    let equal = |a: &Value, b: &Value| match (a, b) {
        (Value::Int(x), Value::Bool(y)) | (Value::Bool(y), Value::Int(x)) => *x == i64::from(*y),
        _ => a == b,
    };
    match op {
        CmpOp::Eq => Some(equal(left, right)),
        CmpOp::NotEq => Some(!equal(left, right)),
        CmpOp::Is => Some(left == right),
        CmpOp::IsNot => Some(left != right),
        CmpOp::In | CmpOp::NotIn => {
            let contained = match (left, right) {
                (_, Value::Seq(items)) => items.iter().any(|item| equal(left, item)),
                (Value::Str(needle), Value::Str(haystack)) => haystack.contains(needle.as_str()),
                _ => return None,
            };
            Some(if op == CmpOp::In {
                contained
            } else {
                !contained
            })
        }
        CmpOp::Lt | CmpOp::LtE | CmpOp::Gt | CmpOp::GtE => {
            let (Value::Int(a), Value::Int(b)) = (left, right) else {
                return None;
            };
            Some(match op {
                CmpOp::Lt => a < b,
                CmpOp::LtE => a <= b,
                CmpOp::Gt => a > b,
                _ => a >= b,
            })
        }
    }
}

/// `"... %s ..." % args` with `%s` and `%%` only.
fn percent_format(template: &str, args: &[Value]) -> Option<String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' => out.push_str(&args.next()?.to_text()?),
            _ => return None,
        }
    }
    if args.next().is_some() {
        return None;
    }
    Some(out)
}

/// The first word of SQL text, after whitespace and comments.
fn first_sql_word(sql: &str) -> &str {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(rest.len());
    &rest[..end]
}

/// `"table.column"` or `"schema.table.column"` split into the table and the column.
fn split_column_reference(reference: &str) -> Option<(QualName, String)> {
    let (table, column) = reference.rsplit_once('.')?;
    let (schema, table) = match table.rsplit_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, table),
    };
    if table.is_empty() || column.is_empty() {
        return None;
    }
    Some((QualName::new(schema, table), column.to_owned()))
}

fn type_arg_of_value(value: Value) -> TypeArg {
    match value {
        Value::Str(s) => TypeArg::Str(s),
        Value::Int(n) => TypeArg::Int(n),
        Value::Bool(b) => TypeArg::Bool(b),
        Value::None => TypeArg::None,
        Value::Sql(s) => TypeArg::Unknown(s),
        Value::Seq(_) => TypeArg::Unknown("a list".to_owned()),
    }
}

/// The member names of a Python enum class written as `NAME = value` lines.
fn enum_member_names(class: &StmtClassDef) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for stmt in &class.body {
        match stmt {
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    let Expr::Name(name) = target else {
                        return None;
                    };
                    let name = name.id.as_str();
                    // Names like `_ignore_` configure the enum rather than define members.
                    if !(name.starts_with('_') && name.ends_with('_')) {
                        names.push(name.to_owned());
                    }
                }
            }
            Stmt::AnnAssign(assign) if assign.value.is_some() => {
                let Expr::Name(name) = &*assign.target else {
                    return None;
                };
                names.push(name.id.as_str().to_owned());
            }
            Stmt::Expr(_) | Stmt::Pass(_) | Stmt::FunctionDef(_) => {}
            _ => return None,
        }
    }
    (!names.is_empty()).then_some(names)
}

/// The tables an operation touches.
fn tables_of(op: &Op) -> Vec<QualName> {
    match op {
        Op::CreateTable { table, .. }
        | Op::DropTable { table }
        | Op::RenameTable { table, .. }
        | Op::AddColumn { table, .. }
        | Op::DropColumn { table, .. }
        | Op::AlterColumn { table, .. }
        | Op::AddConstraint { table, .. }
        | Op::DropConstraint { table, .. }
        | Op::CreateIndex { table, .. }
        | Op::RenameConstraint { table, .. } => vec![table.clone()],
        Op::DropIndex { table, .. } => table.iter().cloned().collect(),
        Op::SetSequenceOwner { owner, .. } => owner.iter().map(|(t, _)| t.clone()).collect(),
        Op::Guarded { op } => tables_of(op),
        Op::Unmodeled { tables, .. } => tables.clone(),
        Op::RenameIndex { .. }
        | Op::CreateSequence { .. }
        | Op::DropSequence { .. }
        | Op::CreateEnum { .. }
        | Op::DropEnum { .. }
        | Op::Passthrough { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::types::PgType;

    /// Stands in for the SQL lowering: `CREATE TABLE name` becomes a `CreateTable` of `name`,
    /// `DROP TABLE name` a `DropTable`, SQL starting `BAD` fails, anything else changes nothing.
    fn fake_sql(sql: &str) -> Result<Vec<Op>, String> {
        let mut ops = Vec::new();
        for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let words: Vec<&str> = statement.split_whitespace().collect();
            match words.as_slice() {
                ["BAD", ..] => return Err("syntax error at BAD".to_owned()),
                ["CREATE", "TABLE", name, ..] => ops.push(Op::CreateTable {
                    table: QualName::new(None, name),
                    columns: Vec::new(),
                    constraints: Vec::new(),
                    indexes: Vec::new(),
                }),
                ["DROP", "TABLE", name] => ops.push(Op::DropTable {
                    table: QualName::new(None, name),
                }),
                _ => {}
            }
        }
        Ok(ops)
    }

    fn lower_at(src: &str) -> Vec<OpAt> {
        let parsed = ruff_python_parser::parse_module(src).expect("test input parses");
        let module = parsed.syntax();
        let function = module
            .body
            .iter()
            .rev()
            .find_map(|stmt| match stmt {
                Stmt::FunctionDef(def) if def.name.as_str() == "upgrade" => Some(def),
                _ => None,
            })
            .expect("test input defines upgrade()");
        let mut lowerer = Lowerer::new(src, FileId(0), fake_sql);
        lowerer.bind_module(&module.body);
        lowerer.lower_entry_function(function);
        lowerer.out
    }

    fn lower(src: &str) -> Vec<Op> {
        lower_at(src).into_iter().map(|o| o.op).collect()
    }

    const HEADER: &str = "from alembic import op\nimport sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n\n";

    /// Lowers `body` as the body of `upgrade()` under the usual imports.
    fn up(body: &str) -> Vec<Op> {
        lower(&upgrade_source(body))
    }

    fn upgrade_source(body: &str) -> String {
        let indented: Vec<String> = body.lines().map(|l| format!("    {l}")).collect();
        format!("{HEADER}def upgrade():\n{}\n", indented.join("\n"))
    }

    fn t(name: &str) -> QualName {
        QualName::new(None, name)
    }

    fn ty(name: &str) -> PgType {
        PgType::simple(name)
    }

    fn ty_mod(name: &str, modifiers: &[u32]) -> PgType {
        PgType {
            name: name.to_owned(),
            modifiers: modifiers.to_vec(),
            array_dims: 0,
        }
    }

    /// A column as the lowering makes it, with its span cleared for comparison.
    fn col(name: &str, pg: PgType) -> ColumnDef {
        ColumnDef::new(name, pg)
    }

    fn without_spans(mut ops: Vec<Op>) -> Vec<Op> {
        for op in &mut ops {
            match op {
                Op::CreateTable { columns, .. } => columns.iter_mut().for_each(|c| c.span = None),
                Op::AddColumn { column, .. } => column.span = None,
                _ => {}
            }
        }
        ops
    }

    fn unmodeled(ops: &[Op]) -> Vec<(String, Vec<QualName>)> {
        ops.iter()
            .filter_map(|op| match op {
                Op::Unmodeled { what, tables } => Some((what.clone(), tables.clone())),
                _ => None,
            })
            .collect()
    }

    /// The single added column's type, as `format_type()` prints it, or the unmodelled reason.
    fn column_type(type_expr: &str) -> String {
        let ops = up(&format!("op.add_column('t', sa.Column('c', {type_expr}))"));
        match ops.as_slice() {
            [Op::AddColumn { column, .. }] => column.ty.to_string(),
            [Op::Unmodeled { what, .. }] => format!("unmodeled: {what}"),
            other => panic!("unexpected ops for {type_expr}: {other:?}"),
        }
    }

    #[test]
    fn no_upgrade_means_no_ops() {
        let parsed = ruff_python_parser::parse_module("x = 1\n").expect("parses");
        assert!(lower_upgrade(parsed.syntax(), "x = 1\n", FileId(0)).is_empty());
    }

    #[test]
    fn create_table_with_columns_and_table_arguments() {
        let ops = up(r#"op.create_table(
    "users",
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("email", sa.String(length=120), nullable=False, unique=True, index=True),
    sa.Column("status", sa.String(20), server_default="active"),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("orgs.id", ondelete="CASCADE", name="fk_org")),
    sa.Column("n", sa.Integer, autoincrement=False),
    sa.PrimaryKeyConstraint("id", name="users_pk"),
    sa.UniqueConstraint("email", "org_id", name="uq_email_org"),
    sa.ForeignKeyConstraint(["org_id"], ["app.orgs.id"], name="fk2", onupdate="SET NULL"),
    sa.CheckConstraint("n > 0", name="ck_n"),
    sa.Index("ix_status", "status", sa.text("lower(email)"), unique=True),
    schema="app",
)"#);
        let table = QualName::new(Some("app"), "users");
        let mut id = col("id", ty("integer"));
        id.primary_key = true;
        let mut email = col("email", ty_mod("character varying", &[120]));
        email.nullable = Some(false);
        email.unique = true;
        email.index = true;
        let mut status = col("status", ty_mod("character varying", &[20]));
        status.server_default = Some("'active'".into());
        let mut created = col("created_at", ty("timestamp with time zone"));
        created.server_default = Some("now()".into());
        let mut org = col("org_id", ty("bigint"));
        org.foreign_keys = vec![ForeignKeyRef {
            name: Some("fk_org".into()),
            table: t("orgs"),
            column: "id".into(),
            on_delete: Some("CASCADE".into()),
            on_update: None,
        }];
        let mut n = col("n", ty("integer"));
        n.autoincrement = Autoincrement::False;
        assert_eq!(
            without_spans(ops),
            vec![Op::CreateTable {
                table,
                columns: vec![id, email, status, created, org, n],
                constraints: vec![
                    Constraint::PrimaryKey {
                        name: Some("users_pk".into()),
                        columns: vec!["id".into()],
                    },
                    Constraint::Unique {
                        name: Some("uq_email_org".into()),
                        columns: vec!["email".into(), "org_id".into()],
                    },
                    Constraint::ForeignKey {
                        name: Some("fk2".into()),
                        columns: vec!["org_id".into()],
                        ref_table: QualName::new(Some("app"), "orgs"),
                        ref_columns: vec!["id".into()],
                        on_delete: None,
                        on_update: Some("SET NULL".into()),
                    },
                    Constraint::Check {
                        name: Some("ck_n".into()),
                        sql: "n > 0".into(),
                    },
                ],
                indexes: vec![IndexDef {
                    name: Some("ix_status".into()),
                    columns: vec!["status".into(), "lower(email)".into()],
                    unique: true,
                }],
            }]
        );
    }

    #[test]
    fn columns_carry_identity_sequences_checks_and_their_span() {
        let src = upgrade_source(
            r#"op.create_table("t",
    sa.Column("id", sa.Integer, sa.Identity(always=True, start=5, increment=2), primary_key=True),
    sa.Column("s", sa.Integer, sa.Sequence("s_seq")),
    sa.Column("o", sa.Integer, sa.Sequence("o_seq", optional=True)),
    sa.Column("c", sa.Boolean, sa.CheckConstraint("c"), server_default=sa.false()),
    sa.Column("g", sa.Integer, sa.Computed("id + 1")),
)"#,
        );
        let ops = lower_at(&src);
        let Op::CreateTable {
            columns,
            constraints,
            ..
        } = &ops[0].op
        else {
            panic!("expected a CreateTable, got {ops:?}");
        };
        assert_eq!(
            columns[0].identity,
            Some(IdentitySpec {
                always: true,
                start: Some(5),
                increment: Some(2),
            })
        );
        assert_eq!(columns[1].autoincrement, Autoincrement::False);
        assert_eq!(columns[2].autoincrement, Autoincrement::Auto);
        assert_eq!(columns[3].server_default.as_deref(), Some("false"));
        assert_eq!(columns[4].ty, ty("integer"));
        assert_eq!(
            constraints,
            &vec![Constraint::Check {
                name: None,
                sql: "c".into(),
            }]
        );
        let span = columns[0].span.clone().expect("a span");
        let text = &src[span.range.start as usize..span.range.end as usize];
        assert!(text.starts_with("sa.Column(\"id\"") && text.ends_with("primary_key=True)"));
        let call = &src[ops[0].span.range.start as usize..ops[0].span.range.end as usize];
        assert!(call.starts_with("op.create_table(") && call.ends_with(')'));
    }

    #[test]
    fn create_table_creates_its_enums_first_but_add_column_does_not() {
        let ops = up(r#"op.create_table("t",
    sa.Column("a", sa.Enum("x", "y", name="kind")),
    sa.Column("b", sa.Enum("x", "y", name="kind")),
    sa.Column("c", postgresql.ENUM("p", name="existing", create_type=False)),
    sa.Column("d", postgresql.ARRAY(sa.Enum("m", name="tag"))),
)
op.add_column("t", sa.Column("e", sa.Enum("u", name="later")))"#);
        assert_eq!(
            ops[..2],
            [
                Op::CreateEnum {
                    name: t("kind"),
                    values: vec!["x".into(), "y".into()],
                },
                Op::CreateEnum {
                    name: t("tag"),
                    values: vec!["m".into()],
                },
            ]
        );
        let Op::CreateTable { columns, .. } = &ops[2] else {
            panic!("expected a CreateTable: {ops:?}");
        };
        let types: Vec<String> = columns.iter().map(|c| c.ty.to_string()).collect();
        assert_eq!(types, ["kind", "kind", "existing", "tag[]"]);
        assert!(matches!(&ops[3], Op::AddColumn { column, .. } if column.ty == ty("later")));
        assert_eq!(ops.len(), 4);
    }

    #[test]
    fn enum_objects_created_and_dropped_on_the_connection() {
        let ops = up(
            r#"status = postgresql.ENUM("a", "b", name="status", create_type=False)
status.create(op.get_bind(), checkfirst=True)
bind = op.get_bind()
sa.Enum("q", name="other").create(bind=bind)
op.add_column("t", sa.Column("s", status))
status.drop(op.get_bind())
op.execute(sa.schema.CreateSequence(sa.Sequence("counter", start=10, increment=5)))
sa.Sequence("seq2", schema="app").create(bind)
op.execute(sa.schema.DropSequence(sa.Sequence("counter")))"#,
        );
        let guarded = |op: Op| Op::Guarded { op: Box::new(op) };
        assert_eq!(
            without_spans(ops),
            vec![
                // checkfirst=True (postgresql.ENUM's default too) creates only a missing type.
                guarded(Op::CreateEnum {
                    name: t("status"),
                    values: vec!["a".into(), "b".into()],
                }),
                // sa.Enum's create() does not check first.
                Op::CreateEnum {
                    name: t("other"),
                    values: vec!["q".into()],
                },
                Op::AddColumn {
                    table: t("t"),
                    column: col("s", ty("status")),
                },
                guarded(Op::DropEnum { name: t("status") }),
                Op::CreateSequence {
                    name: t("counter"),
                    start: Some(10),
                    increment: Some(5),
                },
                // A Sequence's create() checks first unless told otherwise.
                guarded(Op::CreateSequence {
                    name: QualName::new(Some("app"), "seq2"),
                    start: None,
                    increment: None,
                }),
                Op::DropSequence { name: t("counter") },
            ]
        );
    }

    #[test]
    fn table_and_column_operations() {
        let ops = up(r#"op.drop_table("old", schema="app")
op.rename_table("a", "b")
op.add_column("users", sa.Column("age", sa.Integer(), nullable=True), schema="app")
op.drop_column("users", "age")
op.alter_column("users", "email", existing_type=sa.String(50), type_=sa.String(120), nullable=False)
op.alter_column("users", "status", server_default=None)
op.alter_column("users", "status", server_default="x", new_column_name="state", schema="app")
op.alter_column("users", "n", server_default=sa.text("0"))
op.alter_column("users", "n", comment="just a comment", existing_nullable=True)"#);
        let mut age = col("age", ty("integer"));
        age.nullable = Some(true);
        assert_eq!(
            without_spans(ops),
            vec![
                Op::DropTable {
                    table: QualName::new(Some("app"), "old"),
                },
                Op::RenameTable {
                    table: t("a"),
                    new_name: "b".into(),
                },
                Op::AddColumn {
                    table: QualName::new(Some("app"), "users"),
                    column: age,
                },
                Op::DropColumn {
                    table: t("users"),
                    column: "age".into(),
                },
                Op::AlterColumn {
                    table: t("users"),
                    column: "email".into(),
                    new_type: Some(ty_mod("character varying", &[120])),
                    nullable: Some(false),
                    server_default: None,
                    new_name: None,
                },
                Op::AlterColumn {
                    table: t("users"),
                    column: "status".into(),
                    new_type: None,
                    nullable: None,
                    server_default: Some(None),
                    new_name: None,
                },
                Op::AlterColumn {
                    table: QualName::new(Some("app"), "users"),
                    column: "status".into(),
                    new_type: None,
                    nullable: None,
                    server_default: Some(Some("'x'".into())),
                    new_name: Some("state".into()),
                },
                Op::AlterColumn {
                    table: t("users"),
                    column: "n".into(),
                    new_type: None,
                    nullable: None,
                    server_default: Some(Some("0".into())),
                    new_name: None,
                },
            ]
        );
    }

    #[test]
    fn if_exists_and_if_not_exists_guard_the_operation_itself() {
        let ops = up(
            r#"op.create_table("g", sa.Column("e", sa.Enum("a", name="genum")), if_not_exists=True)
op.add_column("g", sa.Column("x", sa.Integer), if_not_exists=True)
op.drop_column("g", "x", if_exists=True)
op.create_index("ix_g", "g", ["e"], if_not_exists=True)
op.drop_index("ix_g", table_name="g", if_exists=True)
op.drop_constraint("c", "g", if_exists=True)
op.drop_table("g", if_exists=False)
with op.batch_alter_table("h") as b:
    b.drop_column("y", if_exists=True)
sa.Enum("k", name="kinds").create(op.get_bind(), checkfirst=True)
postgresql.ENUM("k", name="kinds2").create(op.get_bind(), checkfirst=False)"#,
        );
        let shape: Vec<String> = ops
            .iter()
            .map(|op| match op {
                Op::Guarded { op } => format!("guarded {}", variant(op)),
                other => variant(other).to_owned(),
            })
            .collect();
        assert_eq!(
            shape,
            [
                // CREATE TYPE is not guarded: Alembic emits it plainly before the table.
                "CreateEnum",
                "guarded CreateTable",
                "guarded AddColumn",
                "guarded DropColumn",
                "guarded CreateIndex",
                "guarded DropIndex",
                "guarded DropConstraint",
                "DropTable",
                "guarded DropColumn",
                "guarded CreateEnum",
                "CreateEnum",
            ]
        );
    }

    fn variant(op: &Op) -> &'static str {
        match op {
            Op::CreateEnum { .. } => "CreateEnum",
            Op::CreateTable { .. } => "CreateTable",
            Op::AddColumn { .. } => "AddColumn",
            Op::DropColumn { .. } => "DropColumn",
            Op::CreateIndex { .. } => "CreateIndex",
            Op::DropIndex { .. } => "DropIndex",
            Op::DropConstraint { .. } => "DropConstraint",
            Op::DropTable { .. } => "DropTable",
            _ => "other",
        }
    }

    #[test]
    fn constraint_operations() {
        let ops = up(
            r#"op.create_primary_key("pk_t", "t", ["a", "b"], schema="s")
op.create_unique_constraint(op.f("uq_t_c"), "t", ["c"])
op.create_unique_constraint(None, "t", ("d",))
op.create_foreign_key("fk", "t", "u", ["u_id"], ["id"], ondelete="CASCADE", source_schema="s", referent_schema="r")
op.create_check_constraint("ck", "t", "a > 0")
op.create_check_constraint("ck2", "t", sa.text("b > 0"))
op.drop_constraint("pk_t", "t", type_="primary")
op.drop_constraint("uq_t_c", "t", type_="unique")
op.drop_constraint("fk", "t", "foreignkey", schema="s")
op.drop_constraint("ck", "t", type_="check")
op.drop_constraint("whatever", "t")"#,
        );
        let add = |table: QualName, constraint| Op::AddConstraint { table, constraint };
        let drop = |name: &str, kind, table: QualName| Op::DropConstraint {
            table,
            name: name.into(),
            kind,
        };
        assert_eq!(
            ops,
            vec![
                add(
                    QualName::new(Some("s"), "t"),
                    Constraint::PrimaryKey {
                        name: Some("pk_t".into()),
                        columns: vec!["a".into(), "b".into()],
                    }
                ),
                add(
                    t("t"),
                    Constraint::Unique {
                        name: Some("uq_t_c".into()),
                        columns: vec!["c".into()],
                    }
                ),
                add(
                    t("t"),
                    Constraint::Unique {
                        name: None,
                        columns: vec!["d".into()],
                    }
                ),
                add(
                    QualName::new(Some("s"), "t"),
                    Constraint::ForeignKey {
                        name: Some("fk".into()),
                        columns: vec!["u_id".into()],
                        ref_table: QualName::new(Some("r"), "u"),
                        ref_columns: vec!["id".into()],
                        on_delete: Some("CASCADE".into()),
                        on_update: None,
                    }
                ),
                add(
                    t("t"),
                    Constraint::Check {
                        name: Some("ck".into()),
                        sql: "a > 0".into(),
                    }
                ),
                add(
                    t("t"),
                    Constraint::Check {
                        name: Some("ck2".into()),
                        sql: "b > 0".into(),
                    }
                ),
                drop("pk_t", Some(ConstraintKind::PrimaryKey), t("t")),
                drop("uq_t_c", Some(ConstraintKind::Unique), t("t")),
                drop(
                    "fk",
                    Some(ConstraintKind::ForeignKey),
                    QualName::new(Some("s"), "t")
                ),
                drop("ck", Some(ConstraintKind::Check), t("t")),
                drop("whatever", None, t("t")),
            ]
        );
    }

    #[test]
    fn index_operations() {
        let ops = up(r#"op.create_index(op.f("ix_t_a"), "t", ["a"], unique=False)
op.create_index("ix_lower", "t", [sa.text("lower(email)")], unique=True, postgresql_concurrently=True, if_not_exists=True, schema="s")
op.drop_index("ix_t_a", table_name="t")
op.drop_index("ix_lower", "t", schema="s", postgresql_concurrently=True)
op.drop_index("ix_plain")"#);
        assert_eq!(
            ops,
            vec![
                Op::CreateIndex {
                    table: t("t"),
                    index: IndexDef {
                        name: Some("ix_t_a".into()),
                        columns: vec!["a".into()],
                        unique: false,
                    },
                    concurrently: false,
                },
                Op::Guarded {
                    op: Box::new(Op::CreateIndex {
                        table: QualName::new(Some("s"), "t"),
                        index: IndexDef {
                            name: Some("ix_lower".into()),
                            columns: vec!["lower(email)".into()],
                            unique: true,
                        },
                        concurrently: true,
                    }),
                },
                Op::DropIndex {
                    schema: None,
                    name: "ix_t_a".into(),
                    table: Some(t("t")),
                },
                Op::DropIndex {
                    schema: Some("s".into()),
                    name: "ix_lower".into(),
                    table: Some(QualName::new(Some("s"), "t")),
                },
                Op::DropIndex {
                    schema: None,
                    name: "ix_plain".into(),
                    table: None,
                },
            ]
        );
    }

    #[test]
    fn operations_outside_the_model_are_said() {
        let ops = up(r#"op.create_table_comment("t", "a table")
op.drop_table_comment("t")
op.create_exclude_constraint("ex", "t", ("period", "&&"))
op.create_view("v", "select 1")
op.bulk_insert(sa.table("t", sa.column("a")), [{"a": 1}])
op.create_table("r", sa.Column("id", sa.Integer), postgresql.ExcludeConstraint(("id", "=")))"#);
        assert_eq!(
            unmodeled(&ops),
            vec![
                (
                    "op.create_table_comment is not modelled (table comments are not part of the schema model)".to_owned(),
                    vec![t("t")]
                ),
                (
                    "op.drop_table_comment is not modelled (table comments are not part of the schema model)".to_owned(),
                    vec![t("t")]
                ),
                (
                    "op.create_exclude_constraint is not modelled (exclusion constraints are not part of the schema model)".to_owned(),
                    vec![t("t")]
                ),
                (
                    "op.create_view is not an operation the replay models".to_owned(),
                    vec![]
                ),
                (
                    "an exclusion constraint in op.create_table (`postgresql.ExcludeConstraint((\"id\", \"=\"))`), which the schema model does not hold".to_owned(),
                    vec![t("r")]
                ),
            ]
        );
        // The table itself is still created.
        assert!(matches!(&ops[4], Op::CreateTable { table, .. } if *table == t("r")));
        assert_eq!(ops.len(), 6);
    }

    #[test]
    fn batch_mode_targets_the_batch_table() {
        let ops = up(
            r#"with op.batch_alter_table("users", schema="app") as batch_op:
    batch_op.add_column(sa.Column("age", sa.Integer))
    batch_op.drop_column("old")
    batch_op.alter_column("email", nullable=False, type_=sa.Text())
    batch_op.create_primary_key("pk", ["id"])
    batch_op.create_unique_constraint("uq", ["email"])
    batch_op.create_foreign_key("fk", "orgs", ["org_id"], ["id"], referent_schema="app", ondelete="CASCADE")
    batch_op.create_check_constraint("ck", "age > 0")
    batch_op.drop_constraint("uq", type_="unique")
    batch_op.create_index("ix_email", ["email"], unique=True)
    batch_op.drop_index("ix_email")
op.add_column("other", sa.Column("x", sa.Integer))"#,
        );
        let users = QualName::new(Some("app"), "users");
        assert_eq!(
            without_spans(ops),
            vec![
                Op::AddColumn {
                    table: users.clone(),
                    column: col("age", ty("integer")),
                },
                Op::DropColumn {
                    table: users.clone(),
                    column: "old".into(),
                },
                Op::AlterColumn {
                    table: users.clone(),
                    column: "email".into(),
                    new_type: Some(ty("text")),
                    nullable: Some(false),
                    server_default: None,
                    new_name: None,
                },
                Op::AddConstraint {
                    table: users.clone(),
                    constraint: Constraint::PrimaryKey {
                        name: Some("pk".into()),
                        columns: vec!["id".into()],
                    },
                },
                Op::AddConstraint {
                    table: users.clone(),
                    constraint: Constraint::Unique {
                        name: Some("uq".into()),
                        columns: vec!["email".into()],
                    },
                },
                Op::AddConstraint {
                    table: users.clone(),
                    constraint: Constraint::ForeignKey {
                        name: Some("fk".into()),
                        columns: vec!["org_id".into()],
                        ref_table: QualName::new(Some("app"), "orgs"),
                        ref_columns: vec!["id".into()],
                        on_delete: Some("CASCADE".into()),
                        on_update: None,
                    },
                },
                Op::AddConstraint {
                    table: users.clone(),
                    constraint: Constraint::Check {
                        name: Some("ck".into()),
                        sql: "age > 0".into(),
                    },
                },
                Op::DropConstraint {
                    table: users.clone(),
                    name: "uq".into(),
                    kind: Some(ConstraintKind::Unique),
                },
                Op::CreateIndex {
                    table: users.clone(),
                    index: IndexDef {
                        name: Some("ix_email".into()),
                        columns: vec!["email".into()],
                        unique: true,
                    },
                    concurrently: false,
                },
                Op::DropIndex {
                    schema: Some("app".into()),
                    name: "ix_email".into(),
                    table: Some(users),
                },
                Op::AddColumn {
                    table: t("other"),
                    column: col("x", ty("integer")),
                },
            ]
        );
    }

    #[test]
    fn batch_on_a_computed_table_is_unmodeled() {
        let ops = up(r#"name = get_table_name()
with op.batch_alter_table(name) as b:
    b.drop_column("x")"#);
        assert_eq!(
            unmodeled(&ops),
            vec![(
                "b.drop_column on a batch table whose name is computed at run time".to_owned(),
                vec![]
            )]
        );
    }

    #[test]
    fn autocommit_block_marks_its_operations() {
        let ops = lower_at(&upgrade_source(
            r#"op.add_column("t", sa.Column("a", sa.Integer))
with op.get_context().autocommit_block():
    op.create_index("ix", "t", ["a"], postgresql_concurrently=True)
op.drop_column("t", "a")"#,
        ));
        let flags: Vec<bool> = ops.iter().map(|o| o.autocommit).collect();
        assert_eq!(flags, [false, true, false]);
    }

    #[test]
    fn raw_sql_goes_to_the_sql_lowering_with_the_call_span() {
        let src = upgrade_source(
            r#"op.execute("CREATE TABLE a (id int); DROP TABLE b")
op.execute(sa.text("""
    CREATE TABLE
    multi (id int)
"""))
conn = op.get_bind()
conn.execute(sa.text("CREATE TABLE c (id int)"))
op.get_bind().exec_driver_sql("DROP TABLE d")
op.execute("UPDATE users SET a = 1")
op.execute("BAD SQL")"#,
        );
        let ops = lower_at(&src);
        let kinds: Vec<Op> = ops.iter().map(|o| o.op.clone()).collect();
        let created = |name: &str| Op::CreateTable {
            table: t(name),
            columns: vec![],
            constraints: vec![],
            indexes: vec![],
        };
        assert_eq!(
            kinds,
            vec![
                created("a"),
                Op::DropTable { table: t("b") },
                created("multi"),
                created("c"),
                Op::DropTable { table: t("d") },
                Op::Unmodeled {
                    what: "op.execute with SQL that could not be parsed: syntax error at BAD"
                        .into(),
                    tables: vec![],
                },
            ]
        );
        // Both statements of the first call share its span.
        assert_eq!(ops[0].span, ops[1].span);
        let first = &src[ops[0].span.range.start as usize..ops[0].span.range.end as usize];
        assert_eq!(
            first,
            r#"op.execute("CREATE TABLE a (id int); DROP TABLE b")"#
        );
    }

    #[test]
    fn computed_sql_is_unmodeled_unless_it_is_data() {
        let ops = up(r#"for_real = compute()
op.execute(f"ALTER TABLE {for_real} ADD COLUMN x int")
op.execute(sa.text(f"UPDATE {for_real} SET a = 1"))
op.execute(f"  -- fix data\n  delete from {for_real}")
op.execute("INSERT INTO t VALUES (%s)" % for_real)
op.execute(users.update().where(users.c.id == 1).values(name="x"))
op.execute(sa.insert(users).values(a=1))
op.execute(sa.schema.CreateTable(users))"#);
        assert_eq!(
            unmodeled(&ops),
            vec![
                (
                    "op.execute with SQL computed at run time (`f\"ALTER TABLE {for_real} ADD COLUMN x int\"`)".to_owned(),
                    vec![]
                ),
                (
                    "op.execute with a SQLAlchemy DDL construct the replay does not follow".to_owned(),
                    vec![]
                ),
            ]
        );
        // The data changes are kept, without SQL (it only exists at run time), so that the
        // upgrade rendered as SQL can say what it leaves out.
        let passed: Vec<&str> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Passthrough { sql: None, what } => Some(what.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            passed,
            [
                "op.execute with SQL computed at run time (`sa.text(f\"UPDATE {for_real} SET a = 1\")`)",
                "op.execute with SQL computed at run time (`f\" -- fix data\\n delete from {for_real}\"`)",
                "op.execute with SQL computed at run time (`\"INSERT INTO t VALUES (%s)\" % for_real`)",
                "op.execute with a SQLAlchemy statement (`users.update().where(users.c.id == 1).values(name=\"x\")`)",
                "op.execute with a SQLAlchemy statement (`sa.insert(users).values(a=1)`)",
            ]
        );
        assert_eq!(ops.len(), 7);
    }

    #[test]
    fn sql_built_from_constants_is_evaluated() {
        let ops = lower(&format!(
            r#"{HEADER}TABLE = "things"
PREFIX = "CREATE TABLE "

def upgrade():
    op.execute(f"CREATE TABLE {{TABLE}}_a (id int)")
    op.execute(PREFIX + TABLE + "_b (id int)")
    op.execute("CREATE TABLE %s_c (id int)" % TABLE)
    op.execute("CREATE TABLE {{}}_d (id int)".format(TABLE))
    op.execute("CREATE TABLE {{t}}_e (id int)".format(t=TABLE))
    sql = "CREATE TABLE "
    sql += TABLE + "_f"
    op.execute(sql)
"#
        ));
        let names: Vec<String> = ops
            .iter()
            .map(|op| match op {
                Op::CreateTable { table, .. } => table.name.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            names,
            [
                "things_a", "things_b", "things_c", "things_d", "things_e", "things_f"
            ]
        );
    }

    #[test]
    fn server_defaults_render_as_sqlalchemy_does() {
        let default = |expr: &str| -> String {
            let ops = up(&format!(
                "op.add_column('t', sa.Column('c', sa.Integer, server_default={expr}))"
            ));
            match ops.as_slice() {
                [Op::AddColumn { column, .. }] => column
                    .server_default
                    .clone()
                    .unwrap_or_else(|| "<none>".into()),
                [Op::Unmodeled { what, .. }] => format!("unmodeled: {what}"),
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(default("\"it's\""), "'it''s'");
        assert_eq!(default("\"0\""), "'0'");
        assert_eq!(default("sa.text(\"now()\")"), "now()");
        assert_eq!(default("sa.func.now()"), "now()");
        assert_eq!(default("sa.func.current_timestamp()"), "CURRENT_TIMESTAMP");
        assert_eq!(
            default("sa.func.timezone('utc', sa.func.now())"),
            "timezone('utc', now())"
        );
        assert_eq!(default("sa.sql.expression.true()"), "true");
        assert_eq!(default("sa.false()"), "false");
        assert_eq!(default("sa.literal_column(\"42\")"), "42");
        assert_eq!(default("None"), "<none>");
        assert_eq!(default("sa.FetchedValue()"), "<none>");
        assert!(default("0").starts_with(
            "unmodeled: op.add_column with column `c` with a server_default SQLAlchemy refuses"
        ));
        assert!(default("compute()").contains("server_default computed at run time"));
    }

    #[test]
    fn types_map_as_sqlalchemy_emits_them() {
        let cases = [
            ("sa.String(120)", "character varying(120)"),
            ("sa.String", "character varying"),
            ("sa.Unicode(50)", "character varying(50)"),
            ("sa.Text()", "text"),
            ("sa.UnicodeText", "text"),
            ("sa.Boolean()", "boolean"),
            ("sa.Integer", "integer"),
            ("sa.BigInteger()", "bigint"),
            ("sa.SmallInteger", "smallint"),
            ("sa.Float()", "double precision"),
            ("sa.Float(precision=24)", "real"),
            ("sa.REAL", "real"),
            ("sa.Numeric(10, 2)", "numeric(10,2)"),
            ("sa.DECIMAL(10, 2)", "numeric(10,2)"),
            ("sa.Date()", "date"),
            ("sa.DateTime()", "timestamp without time zone"),
            ("sa.DateTime(timezone=True)", "timestamp with time zone"),
            ("sa.TIMESTAMP(timezone=True)", "timestamp with time zone"),
            (
                "postgresql.TIMESTAMP(precision=3)",
                "timestamp(3) without time zone",
            ),
            ("sa.Time()", "time without time zone"),
            ("sa.Interval()", "interval"),
            ("sa.LargeBinary()", "bytea"),
            ("sa.JSON()", "json"),
            ("postgresql.JSONB(astext_type=sa.Text())", "jsonb"),
            ("sa.UUID()", "uuid"),
            ("sa.Uuid", "uuid"),
            ("postgresql.UUID(as_uuid=True)", "uuid"),
            ("sa.ARRAY(sa.Integer)", "integer[]"),
            (
                "postgresql.ARRAY(sa.String(20), dimensions=2)",
                "character varying(20)[]",
            ),
            ("sa.CHAR(3)", "character(3)"),
            ("sa.VARCHAR(10)", "character varying(10)"),
            ("postgresql.INET()", "inet"),
            ("postgresql.CIDR", "cidr"),
            ("postgresql.CITEXT()", "citext"),
            ("postgresql.BYTEA", "bytea"),
            ("sa.TEXT", "text"),
            ("sa.INTEGER()", "integer"),
            ("sa.BIGINT", "bigint"),
            ("sa.SMALLINT", "smallint"),
            ("sa.BOOLEAN", "boolean"),
            ("sa.types.String(5)", "character varying(5)"),
            ("sa.dialects.postgresql.JSONB", "jsonb"),
            (
                "sa.Integer().with_variant(sa.BigInteger(), 'postgresql')",
                "bigint",
            ),
            (
                "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')",
                "jsonb",
            ),
            (
                "sa.String(10).with_variant(mysql.VARCHAR(10), 'mysql')",
                "character varying(10)",
            ),
            ("postgresql.ENUM(name='mood', create_type=False)", "mood"),
            (
                "sa.Enum('a', 'bb', native_enum=False)",
                "character varying(2)",
            ),
        ];
        for (expr, expected) in cases {
            assert_eq!(column_type(expr), expected, "{expr}");
        }
    }

    #[test]
    fn types_from_other_import_styles() {
        let ops = lower(
            r#"from alembic import op
from sqlalchemy import Column, String, Integer as Int
from sqlalchemy.dialects.postgresql import JSONB, ARRAY
import sqlalchemy
from sqlalchemy.dialects import postgresql as pg

LEN = 40
Money = sqlalchemy.Numeric(12, 2)

def upgrade():
    op.add_column("t", Column("a", String(LEN)))
    op.add_column("t", Column("b", Int))
    op.add_column("t", Column("c", JSONB))
    op.add_column("t", Column("d", ARRAY(sqlalchemy.types.Text)))
    op.add_column("t", sqlalchemy.Column("e", pg.INTERVAL(fields="DAY")))
    op.add_column("t", Column("f", Money))
"#,
        );
        let types: Vec<String> = ops
            .iter()
            .map(|op| match op {
                Op::AddColumn { column, .. } => column.ty.to_string(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            types,
            [
                "character varying(40)",
                "integer",
                "jsonb",
                "text[]",
                "interval day",
                "numeric(12,2)"
            ]
        );
    }

    #[test]
    fn star_imports_resolve_bare_names() {
        let ops = lower(
            r#"from alembic.op import *
from sqlalchemy import *

def upgrade():
    add_column("t", Column("a", Integer))
"#,
        );
        // `from alembic.op import *` comes first, so only names bound elsewhere resolve through
        // it: the bare SQLAlchemy names here are not followed.
        assert_eq!(ops.len(), 1);
        let ops = lower(
            r#"from alembic import op
from sqlalchemy import *

def upgrade():
    op.add_column("t", Column("a", Integer))
"#,
        );
        assert!(matches!(&ops[..], [Op::AddColumn { column, .. }] if column.ty == ty("integer")));
    }

    #[test]
    fn unknown_types_make_the_operation_unmodeled() {
        assert_eq!(
            column_type("mysql.VARCHAR(10)"),
            "unmodeled: op.add_column with column `c` of a type that cannot be mapped: `mysql.VARCHAR(10)` is not a SQLAlchemy type the replay knows"
        );
        assert!(column_type("sa.DATETIME()").contains("PostgreSQL rejects"));
        assert!(column_type("sa.Enum('a', 'b')").contains("without name="));
        assert!(column_type("MyType()").contains("`MyType()` is not a SQLAlchemy type"));
        let ops = up(r#"op.add_column("t", sa.Column("x", sqlalchemy_utils.UUIDType()))"#);
        assert_eq!(unmodeled(&ops)[0].1, vec![t("t")]);
        let ops = up(
            r#"op.create_table("t", sa.Column("id", sa.Integer), sa.Column("x", sa.ForeignKey("o.id")))"#,
        );
        assert_eq!(
            unmodeled(&ops),
            vec![(
                "op.create_table with column `x` without a type, for which SQLAlchemy cannot emit DDL".to_owned(),
                vec![t("t")]
            )]
        );
    }

    #[test]
    fn mysql_dialect_import_names_the_dialect() {
        let ops = lower(
            r#"from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

def upgrade():
    op.add_column("t", sa.Column("x", mysql.TINYINT(1)))
"#,
        );
        assert_eq!(
            unmodeled(&ops)[0].0,
            "op.add_column with column `x` of a type that cannot be mapped: mysql.TINYINT is a mysql dialect type, not a PostgreSQL one"
        );
    }

    #[test]
    fn python_enum_classes_contribute_member_names() {
        let ops = lower(&format!(
            r#"{HEADER}import enum

class Color(str, enum.Enum):
    """Colours."""
    RED = "r"
    GREEN = "g"

def upgrade():
    op.create_table("t", sa.Column("c", sa.Enum(Color, name="color")))
"#
        ));
        assert_eq!(
            ops[0],
            Op::CreateEnum {
                name: t("color"),
                values: vec!["RED".into(), "GREEN".into()],
            }
        );
    }

    #[test]
    fn dialect_conditions_are_decided_for_postgresql() {
        let ops = up(r#"if op.get_context().dialect.name == "postgresql":
    op.add_column("pg", sa.Column("a", sa.Integer))
else:
    op.add_column("other", sa.Column("a", sa.Integer))
if op.get_bind().dialect.name != "postgresql":
    op.drop_table("not_pg")
bind = op.get_bind()
if bind.dialect.name in ("postgresql", "mysql"):
    op.drop_table("pg_or_mysql")
if bind.dialect.name == "sqlite":
    op.drop_table("sqlite")
elif bind.dialect.name == "mysql":
    op.drop_table("mysql")
elif bind.engine.name.startswith("postgres"):
    op.drop_table("elif_pg")
else:
    op.drop_table("else")
ctx = op.get_context()
is_pg = ctx.dialect.name == "postgresql"
if not is_pg:
    op.drop_table("not_is_pg")
from alembic import context
if is_pg and not context.is_offline_mode():
    op.drop_table("online_pg")
if op.get_context().dialect.name not in ["sqlite"]:
    op.drop_table("not_sqlite")"#);
        let names: Vec<String> = ops
            .iter()
            .map(|op| match op {
                Op::AddColumn { table, .. } | Op::DropTable { table } => table.name.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            names,
            ["pg", "pg_or_mysql", "elif_pg", "online_pg", "not_sqlite"]
        );
    }

    #[test]
    fn dialect_guard_with_early_return() {
        let ops = up(r#"if op.get_bind().dialect.name == "sqlite":
    return
op.drop_table("a")
if op.get_bind().dialect.name == "postgresql":
    return
op.drop_table("never")"#);
        assert_eq!(ops, vec![Op::DropTable { table: t("a") }]);
    }

    #[test]
    fn unknown_conditions_make_their_operations_unmodeled() {
        let ops = up(r#"inspector = sa.inspect(op.get_bind())
if "users" not in inspector.get_table_names():
    op.create_table("users", sa.Column("id", sa.Integer))
else:
    op.add_column("users", sa.Column("x", sa.Integer))
    print("already there")
if has_column("a", "b"):
    log.info("plain Python under an unknown condition is ignored")"#);
        assert_eq!(
            unmodeled(&ops),
            vec![
                (
                    "op.create_table under a condition that cannot be evaluated (`\"users\" not in inspector.get_table_names()`)".to_owned(),
                    vec![t("users")]
                ),
                (
                    "op.add_column under a condition that cannot be evaluated (`\"users\" not in inspector.get_table_names()`)".to_owned(),
                    vec![t("users")]
                ),
            ]
        );
        assert_eq!(ops.len(), 2);
    }

    #[test]
    fn a_return_under_an_unknown_condition_makes_the_rest_unmodeled() {
        let ops = up(r#"op.drop_table("before")
if not needs_migration():
    return
op.drop_table("after")"#);
        assert_eq!(ops[0], Op::DropTable { table: t("before") });
        assert_eq!(
            unmodeled(&ops[1..]),
            vec![(
                "op.drop_table after a `return` that may have run".to_owned(),
                vec![t("after")]
            )]
        );
    }

    #[test]
    fn raise_stops_the_lowering() {
        let ops = up(r#"op.drop_table("a")
raise NotImplementedError("irreversible")
op.drop_table("b")"#);
        assert_eq!(ops, vec![Op::DropTable { table: t("a") }]);
    }

    #[test]
    fn a_raise_under_an_unknown_condition_leaves_the_rest_certain() {
        let ops = up(
            r#"rows = op.get_bind().execute(sa.text("SELECT 1")).fetchall()
if (dupes := [r for r in rows if r]):
    raise RuntimeError(f"merge {dupes} first")
op.create_unique_constraint("uq", "users", ["email"])"#,
        );
        assert_eq!(
            ops,
            vec![Op::AddConstraint {
                table: t("users"),
                constraint: Constraint::Unique {
                    name: Some("uq".into()),
                    columns: vec!["email".into()],
                },
            }]
        );
    }

    #[test]
    fn match_on_the_dialect_is_decided() {
        let ops = up(r#"match op.get_bind().dialect.name:
    case "sqlite" | "mysql":
        status = sa.String(20)
    case "postgresql" if True:
        status = postgresql.ENUM("draft", "published", name="post_status")
        status.create(op.get_bind(), checkfirst=True)
    case _:
        raise NotImplementedError
op.add_column("posts", sa.Column("status", status))
match compute():
    case 1:
        op.drop_table("one")
    case _:
        pass
match "x":
    case str(s):
        op.drop_table("class_pattern")"#);
        assert_eq!(
            without_spans(ops.clone())[..2],
            [
                Op::Guarded {
                    op: Box::new(Op::CreateEnum {
                        name: t("post_status"),
                        values: vec!["draft".into(), "published".into()],
                    }),
                },
                Op::AddColumn {
                    table: t("posts"),
                    column: col("status", ty("post_status")),
                },
            ]
        );
        assert_eq!(
            unmodeled(&ops[2..]),
            vec![
                (
                    "op.drop_table inside a match statement (`match compute()`)".to_owned(),
                    vec![t("one")]
                ),
                (
                    "op.drop_table inside a match statement (`match \"x\"`)".to_owned(),
                    vec![t("class_pattern")]
                ),
            ]
        );
    }

    #[test]
    fn loops_over_literal_lists_are_unrolled() {
        let ops = lower(&format!(
            r#"{HEADER}TABLES = ("a", "b")

def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column("created_at", sa.DateTime()))
    for table, column in [("c", "x"), ("d", "y")]:
        op.drop_column(table, column)
    for name in ["e"]:
        op.create_index(f"ix_{{name}}_id", name, ["id"])
"#
        ));
        assert_eq!(
            without_spans(ops),
            vec![
                Op::AddColumn {
                    table: t("a"),
                    column: col("created_at", ty("timestamp without time zone")),
                },
                Op::AddColumn {
                    table: t("b"),
                    column: col("created_at", ty("timestamp without time zone")),
                },
                Op::DropColumn {
                    table: t("c"),
                    column: "x".into(),
                },
                Op::DropColumn {
                    table: t("d"),
                    column: "y".into(),
                },
                Op::CreateIndex {
                    table: t("e"),
                    index: IndexDef {
                        name: Some("ix_e_id".into()),
                        columns: vec!["id".into()],
                        unique: false,
                    },
                    concurrently: false,
                },
            ]
        );
    }

    #[test]
    fn loops_over_literal_lists_of_expressions_are_unrolled() {
        let ops = up(
            r#"for column in [sa.Column("a", sa.Integer), sa.Column("b", sa.Text)]:
    op.add_column("t", column)
for table, ty in (("x", sa.Integer()), ("y", sa.Boolean())):
    op.add_column(table, sa.Column("flag", ty))"#,
        );
        let added: Vec<(String, String, String)> = ops
            .iter()
            .map(|op| match op {
                Op::AddColumn { table, column } => (
                    table.name.clone(),
                    column.name.clone(),
                    column.ty.to_string(),
                ),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let expected = [
            ("t", "a", "integer"),
            ("t", "b", "text"),
            ("x", "flag", "integer"),
            ("y", "flag", "boolean"),
        ];
        assert_eq!(
            added,
            expected.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
        );
    }

    #[test]
    fn metadata_create_all_is_said() {
        let ops = up(r#"meta = sa.MetaData()
sa.Table("t", meta, sa.Column("id", sa.Integer))
meta.create_all(op.get_bind())"#);
        assert_eq!(
            unmodeled(&ops),
            vec![(
                "meta.create_all creates or drops the tables of a MetaData, which the replay does not follow".to_owned(),
                vec![]
            )]
        );
    }

    #[test]
    fn loops_over_computed_lists_while_and_comprehensions_are_unmodeled() {
        let ops = up(r#"for table in get_tables():
    op.add_column(table, sa.Column("x", sa.Integer))
    op.drop_column("fixed", "y")
for t in ["a", "b"]:
    if t == "b":
        break
    op.drop_table(t)
while more():
    op.drop_table("w")
[op.drop_index(name) for name in names]"#);
        assert_eq!(
            unmodeled(&ops),
            vec![
                (
                    "op.add_column inside a for loop over a computed list (`get_tables()`)"
                        .to_owned(),
                    vec![]
                ),
                (
                    "op.drop_column inside a for loop over a computed list (`get_tables()`)"
                        .to_owned(),
                    vec![t("fixed")]
                ),
                (
                    "op.drop_table inside a for loop over a computed list (`[\"a\", \"b\"]`)"
                        .to_owned(),
                    vec![]
                ),
                (
                    "op.drop_table inside a while loop (`while more()`)".to_owned(),
                    vec![t("w")]
                ),
                ("op.drop_index inside a comprehension".to_owned(), vec![]),
            ]
        );
        assert_eq!(ops.len(), 5);
    }

    #[test]
    fn try_blocks_are_unmodeled_but_finally_runs() {
        let ops = up(r#"try:
    op.drop_constraint("uq", "t", type_="unique")
except Exception:
    op.drop_index("ix_uq", table_name="t")
else:
    op.drop_table("e")
finally:
    op.drop_table("f")
try:
    op.drop_table("g")
finally:
    pass"#);
        assert_eq!(
            unmodeled(&ops),
            vec![
                (
                    "op.drop_constraint inside a try block".to_owned(),
                    vec![t("t")]
                ),
                (
                    "op.drop_index inside an except block".to_owned(),
                    vec![t("t")]
                ),
                (
                    "op.drop_table inside the else block of a try".to_owned(),
                    vec![t("e")]
                ),
            ]
        );
        assert_eq!(
            ops[3..],
            [
                Op::DropTable { table: t("f") },
                Op::DropTable { table: t("g") }
            ]
        );
    }

    #[test]
    fn helpers_are_followed_with_their_arguments() {
        let ops = lower(&format!(
            r#"{HEADER}def _timestamps(table, tz=False, *, schema=None):
    op.add_column(table, sa.Column("created_at", sa.DateTime(timezone=tz)), schema=schema)

def _drop(batch_op):
    batch_op.drop_column("legacy")

def _plain():
    print("nothing to do")

def upgrade():
    _timestamps("users")
    _timestamps("orders", tz=True, schema="shop")
    with op.batch_alter_table("accounts") as b:
        _drop(b)
    _plain()
    column = sa.Column("note", sa.Text())
    _add("notes", column)

def _add(table, column):
    op.add_column(table, column)
"#
        ));
        assert_eq!(
            without_spans(ops),
            vec![
                Op::AddColumn {
                    table: t("users"),
                    column: col("created_at", ty("timestamp without time zone")),
                },
                Op::AddColumn {
                    table: QualName::new(Some("shop"), "orders"),
                    column: col("created_at", ty("timestamp with time zone")),
                },
                Op::DropColumn {
                    table: t("accounts"),
                    column: "legacy".into(),
                },
                Op::AddColumn {
                    table: t("notes"),
                    column: col("note", ty("text")),
                },
            ]
        );
    }

    #[test]
    fn helpers_forward_their_star_arguments() {
        let ops = lower(&format!(
            r#"{HEADER}_created = 0

def _create(name, *columns):
    global _created
    _created += 1
    op.create_table(name, *columns)

def _drop_all(*names):
    for name in names:
        op.drop_table(name)

def upgrade():
    _create("counters", sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.BigInteger(), nullable=False))
    _drop_all("a", "b")
"#
        ));
        let Op::CreateTable { table, columns, .. } = &ops[0] else {
            panic!("expected CreateTable: {ops:?}");
        };
        assert_eq!(table, &t("counters"));
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["key", "value"]);
        assert_eq!(
            ops[1..],
            [
                Op::DropTable { table: t("a") },
                Op::DropTable { table: t("b") }
            ]
        );
    }

    #[test]
    fn helpers_with_unknown_arguments_recursion_and_dynamic_calls() {
        let ops = lower(&format!(
            r#"{HEADER}from myapp.migrations import add_audit

def _add(table):
    op.add_column(table, sa.Column("x", sa.Integer))

def _loop(n):
    op.drop_table("t")
    _loop(n - 1)

def _log(message):
    print(message)

def upgrade(engine_name=""):
    _add(current_table())
    _add()
    _log(compute())
    _loop(3)
    add_audit(op, "users")
    globals()["upgrade_%s" % engine_name]()
"#
        ));
        assert_eq!(
            unmodeled(&ops),
            vec![
                (
                    "op.add_column on a table name computed at run time (`table`)".to_owned(),
                    vec![]
                ),
                (
                    "_add() is called without its argument `table`".to_owned(),
                    vec![]
                ),
                (
                    "_loop() calls itself; the recursion is not followed".to_owned(),
                    vec![]
                ),
                (
                    "add_audit is handed Alembic's operations, but its code (myapp.migrations.add_audit) is not in the revision file; it is not followed".to_owned(),
                    vec![]
                ),
                (
                    "globals()[\"upgrade_%s\" % engine_name] calls a function chosen at run time; it is not followed".to_owned(),
                    vec![]
                ),
            ]
        );
        // The first level of the recursive helper is followed.
        assert!(ops.contains(&Op::DropTable { table: t("t") }));
    }

    #[test]
    fn code_handed_op_is_said_but_code_handed_a_connection_is_data() {
        let ops = lower(&format!(
            r#"{HEADER}from myapp.data import backfill

class Migrator:
    def apply(self, op):
        op.drop_table("x")

def upgrade():
    backfill(op.get_bind())
    migrator = Migrator()
    migrator.apply(op)
    with op.batch_alter_table("t") as batch_op:
        tweak(batch_op)
"#
        ));
        assert_eq!(
            unmodeled(&ops),
            vec![
                (
                    "migrator.apply is handed Alembic's operations, but its code (migrator.apply) is not in the revision file; it is not followed".to_owned(),
                    vec![]
                ),
                (
                    "tweak is handed Alembic's operations, but its code (tweak) is not in the revision file; it is not followed".to_owned(),
                    vec![]
                ),
            ]
        );
    }

    #[test]
    fn upgrade_taking_op_as_a_parameter() {
        let ops = lower(
            r#"import sqlalchemy as sa

def upgrade(op, tables, tester):
    op.add_column("users", sa.Column("flag", sa.Boolean(), server_default=sa.true(), nullable=False))
    tables.users.insert()
"#,
        );
        let mut flag = col("flag", ty("boolean"));
        flag.server_default = Some("true".into());
        flag.nullable = Some(false);
        assert_eq!(
            without_spans(ops),
            vec![Op::AddColumn {
                table: t("users"),
                column: flag,
            }]
        );
    }

    #[test]
    fn alembic_op_spelled_in_full_and_imported_names() {
        let ops = lower(
            r#"import alembic
from alembic.op import drop_table
from alembic import op as migration_op
import sqlalchemy

def upgrade():
    alembic.op.drop_table("a")
    drop_table("b")
    migration_op.drop_table("c")
    alembic.context.execute("DROP TABLE d")
"#,
        );
        let names: Vec<String> = ops
            .iter()
            .map(|op| match op {
                Op::DropTable { table } => table.name.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
    }

    #[test]
    fn plain_python_and_data_fixes_are_ignored_quietly() {
        let ops = up(r#"import logging
log = logging.getLogger(__name__)
log.info("starting")
session = sa.orm.Session(bind=op.get_bind())
for user in session.query(User).all():
    user.name = user.name.strip()
session.commit()
users = sa.table("users", sa.column("id"), sa.column("name"))
op.bulk_insert(users, [{"id": 1, "name": "a"}])
conn = op.get_bind()
conn.execute(users.update().values(name="b"))
rows = conn.execute(sa.text("SELECT id FROM users")).fetchall()
print(rows)"#);
        // Nothing changes the schema; the data change is only passed through, and reading
        // rows into a variable is not an operation at all.
        assert_eq!(
            ops,
            vec![Op::Passthrough {
                sql: None,
                what:
                    "op.execute with a SQLAlchemy statement (`users.update().values(name=\"b\")`)"
                        .into()
            }]
        );
    }

    #[test]
    fn messy_real_world_file() {
        let ops = lower(
            r#""""add accounts

Revision ID: 1a2b3c4d5e6f
Revises: 0f9e8d7c6b5a
Create Date: 2024-01-01 00:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "1a2b3c4d5e6f"
down_revision: Union[str, None] = "0f9e8d7c6b5a"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ACCOUNT_TABLE = "accounts"
STATES = ("open", "closed")


def _create_accounts() -> None:
    op.create_table(
        ACCOUNT_TABLE,
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("state", sa.Enum(*STATES, name="account_state"), nullable=False),
        sa.Column("meta", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    _create_accounts()
    with op.batch_alter_table(ACCOUNT_TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_state"), ["state"], unique=False)
    try:
        op.execute("DROP TABLE legacy_accounts")
    except Exception:
        pass
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table(ACCOUNT_TABLE)
"#,
        );
        assert_eq!(
            ops[0],
            Op::CreateEnum {
                name: t("account_state"),
                values: vec!["open".into(), "closed".into()],
            }
        );
        let Op::CreateTable {
            table,
            columns,
            constraints,
            ..
        } = &ops[1]
        else {
            panic!("expected CreateTable: {ops:?}");
        };
        assert_eq!(table, &t("accounts"));
        assert_eq!(columns.len(), 3);
        assert_eq!(columns[0].autoincrement, Autoincrement::True);
        assert_eq!(
            constraints,
            &vec![Constraint::PrimaryKey {
                name: Some("pk_accounts".into()),
                columns: vec!["id".into()],
            }]
        );
        assert_eq!(
            ops[2],
            Op::CreateIndex {
                table: t("accounts"),
                index: IndexDef {
                    name: Some("ix_accounts_state".into()),
                    columns: vec!["state".into()],
                    unique: false,
                },
                concurrently: false,
            }
        );
        assert_eq!(
            unmodeled(&ops[3..]),
            vec![(
                "op.execute inside a try block".to_owned(),
                vec![t("legacy_accounts")]
            )]
        );
        assert_eq!(ops.len(), 4);
    }

    #[test]
    fn names_computed_at_run_time_are_said() {
        let ops = up(r#"table_name = settings.TABLE
op.add_column(table_name, sa.Column("x", sa.Integer))
op.drop_column("t", column_for())
op.create_index("ix", "t", columns)
op.create_foreign_key("fk", "t", other, ["a"], ["id"])"#);
        assert_eq!(
            unmodeled(&ops),
            vec![
                (
                    "op.add_column on a table name computed at run time (`table_name`)".to_owned(),
                    vec![]
                ),
                (
                    "op.drop_column with a column name computed at run time".to_owned(),
                    vec![t("t")]
                ),
                (
                    "op.create_index with index columns computed at run time (`columns`)"
                        .to_owned(),
                    vec![t("t")]
                ),
                (
                    "op.create_foreign_key with a referenced table computed at run time".to_owned(),
                    vec![t("t")]
                ),
            ]
        );
    }

    #[test]
    fn column_names_computed_at_run_time_are_said() {
        let ops = up(r#"name = pick()
op.add_column("t", sa.Column(name, sa.Integer))
op.add_column("t", sa.Column(f"{name}_at", sa.DateTime))"#);
        assert_eq!(
            unmodeled(&ops),
            vec![
                (
                    "op.add_column with a column name computed at run time (`name`)".to_owned(),
                    vec![t("t")]
                ),
                (
                    "op.add_column with a column name computed at run time (`f\"{name}_at\"`)"
                        .to_owned(),
                    vec![t("t")]
                ),
            ]
        );
    }

    #[test]
    fn assignments_from_operations_still_run() {
        let ops = up(
            r#"accounts = op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True))
op.bulk_insert(accounts, [{"id": 1}])"#,
        );
        assert!(matches!(&ops[..], [Op::CreateTable { table, .. }] if *table == t("accounts")));
    }
}
