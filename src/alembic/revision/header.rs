//! The module's header variables (`revision`, `down_revision`, `branch_labels`, `depends_on`)
//! read from its top-level statements, in order, as Python would bind them, and made into a
//! [`Revision`] with their spans.

use ruff_python_ast::{Expr, ModModule, Operator, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::super::Revision;
use super::super::problems as rule;
use super::decode::line_range;
use crate::diagnostic::Finding;
use crate::source::{FileId, Span};

/// A module-level value as far as driftlint can know it without running Python.
#[derive(Clone, Debug)]
pub(super) enum Value {
    None,
    Str(String),
    /// A tuple, list or set, with the range of the whole expression.
    Seq(Vec<Value>, TextRange),
    /// Anything else: a call, an attribute, an imported name. The range is the expression's.
    Unknown(TextRange),
}

/// The last top-level assignment of a header variable.
#[derive(Debug)]
pub(super) struct Binding {
    value: Value,
    statement: TextRange,
}

#[derive(Debug, Default)]
pub(super) struct Header {
    revision: Option<Binding>,
    down_revision: Option<Binding>,
    branch_labels: Option<Binding>,
    depends_on: Option<Binding>,
    message: Option<String>,
    upgrade: Option<TextRange>,
}

impl Header {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Binding>> {
        match name {
            "revision" => Some(&mut self.revision),
            "down_revision" => Some(&mut self.down_revision),
            "branch_labels" => Some(&mut self.branch_labels),
            "depends_on" => Some(&mut self.depends_on),
            _ => None,
        }
    }
}

/// The module's constants, in the order Python binds them: a name maps to its value at the
/// statement being read, so `REV = "ab"; down_revision = REV` resolves.
pub(super) struct Scope<'a> {
    names: Vec<(&'a str, Value)>,
}

impl<'a> Scope<'a> {
    fn lookup(&self, name: &str) -> Option<&Value> {
        self.names
            .iter()
            .rev()
            .find(|(bound, _)| *bound == name)
            .map(|(_, value)| value)
    }

    fn bind(&mut self, name: &'a str, value: Value) {
        match self.names.iter_mut().find(|(bound, _)| *bound == name) {
            Some(slot) => slot.1 = value,
            None => self.names.push((name, value)),
        }
    }

    /// A name bound to something that is not a constant (an import, a function).
    fn forget(&mut self, name: &str) {
        self.names.retain(|(bound, _)| *bound != name);
    }
}

pub(super) fn read_header(module: &ModModule) -> Header {
    let mut header = Header {
        message: docstring_message(module),
        ..Header::default()
    };
    let mut scope = Scope { names: Vec::new() };
    for statement in &module.body {
        match statement {
            Stmt::Assign(assign) => {
                let value = evaluate(&assign.value, &scope);
                for target in &assign.targets {
                    bind_target(target, &value, assign.range, &mut scope, &mut header);
                }
            }
            Stmt::AnnAssign(assign) => {
                // `revision: str` without a value binds nothing.
                if let Some(value) = &assign.value {
                    let value = evaluate(value, &scope);
                    bind_target(
                        &assign.target,
                        &value,
                        assign.range,
                        &mut scope,
                        &mut header,
                    );
                }
            }
            Stmt::AugAssign(assign) => {
                forget_target(&assign.target, assign.range, &mut scope, &mut header);
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    let bound = match &alias.asname {
                        Some(asname) => asname.as_str(),
                        None => alias.name.as_str().split('.').next().unwrap_or_default(),
                    };
                    forget_name(bound, import.range, &mut scope, &mut header);
                }
            }
            Stmt::ImportFrom(import) => {
                for alias in &import.names {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                    forget_name(bound, import.range, &mut scope, &mut header);
                }
            }
            Stmt::FunctionDef(function) => {
                if function.name.as_str() == "upgrade" {
                    header.upgrade = Some(function.name.range);
                }
                forget_name(
                    function.name.as_str(),
                    function.range,
                    &mut scope,
                    &mut header,
                );
            }
            Stmt::ClassDef(class) => {
                forget_name(class.name.as_str(), class.range, &mut scope, &mut header);
            }
            _ => {}
        }
    }
    header
}

pub(super) fn bind_target<'a>(
    target: &'a Expr,
    value: &Value,
    statement: TextRange,
    scope: &mut Scope<'a>,
    header: &mut Header,
) {
    match target {
        Expr::Name(name) => {
            let name = name.id.as_str();
            if let Some(slot) = header.slot(name) {
                *slot = Some(Binding {
                    value: value.clone(),
                    statement,
                });
            }
            scope.bind(name, value.clone());
        }
        // `revision, down_revision = "b", "a"` unpacks element by element.
        Expr::Tuple(ruff_python_ast::ExprTuple { elts: targets, .. })
        | Expr::List(ruff_python_ast::ExprList { elts: targets, .. }) => match value {
            Value::Seq(values, _)
                if values.len() == targets.len()
                    && !targets.iter().any(|t| matches!(t, Expr::Starred(_))) =>
            {
                for (target, value) in targets.iter().zip(values) {
                    bind_target(target, value, statement, scope, header);
                }
            }
            _ => {
                let unknown = Value::Unknown(match value {
                    Value::Unknown(range) | Value::Seq(_, range) => *range,
                    _ => statement,
                });
                for target in targets {
                    bind_target(target, &unknown, statement, scope, header);
                }
            }
        },
        Expr::Starred(starred) => {
            forget_target(&starred.value, statement, scope, header);
        }
        // Attributes and subscripts bind no module name.
        _ => {}
    }
}

pub(super) fn forget_target(
    target: &Expr,
    statement: TextRange,
    scope: &mut Scope<'_>,
    header: &mut Header,
) {
    match target {
        Expr::Name(name) => forget_name(name.id.as_str(), statement, scope, header),
        Expr::Tuple(tuple) => {
            for target in &tuple.elts {
                forget_target(target, statement, scope, header);
            }
        }
        Expr::List(list) => {
            for target in &list.elts {
                forget_target(target, statement, scope, header);
            }
        }
        Expr::Starred(starred) => forget_target(&starred.value, statement, scope, header),
        _ => {}
    }
}

pub(super) fn forget_name(
    name: &str,
    statement: TextRange,
    scope: &mut Scope<'_>,
    header: &mut Header,
) {
    scope.forget(name);
    if let Some(slot) = header.slot(name) {
        *slot = Some(Binding {
            value: Value::Unknown(statement),
            statement,
        });
    }
}

/// The value of `expr` as far as literals, earlier constants and string concatenation go.
pub(super) fn evaluate(expr: &Expr, scope: &Scope<'_>) -> Value {
    match expr {
        Expr::NoneLiteral(_) => Value::None,
        Expr::StringLiteral(literal) => Value::Str(literal.value.to_str().to_owned()),
        Expr::Tuple(tuple) => evaluate_sequence(&tuple.elts, tuple.range, scope),
        Expr::List(list) => evaluate_sequence(&list.elts, list.range, scope),
        Expr::Set(set) => evaluate_sequence(&set.elts, set.range, scope),
        Expr::Name(name) => match scope.lookup(name.id.as_str()) {
            // A constant that was itself unknown is reported at this use, not at its
            // definition, so that the message shows what the header says.
            Some(Value::Unknown(_)) | None => Value::Unknown(name.range),
            Some(value) => value.clone(),
        },
        Expr::BinOp(binop) if binop.op == Operator::Add => evaluate_concatenation(binop, scope),
        other => Value::Unknown(other.range()),
    }
}

/// `"a" + "b" + "c"`: the parser nests the chain to the left, one level per `+`; it is walked
/// in a loop, so that a chain of any length evaluates without recursion.
pub(super) fn evaluate_concatenation(top: &ruff_python_ast::ExprBinOp, scope: &Scope<'_>) -> Value {
    let mut rights = vec![top.right.as_ref()];
    let mut leftmost = top.left.as_ref();
    while let Expr::BinOp(binop) = leftmost
        && binop.op == Operator::Add
    {
        rights.push(&binop.right);
        leftmost = &binop.left;
    }
    let Value::Str(mut out) = evaluate(leftmost, scope) else {
        return Value::Unknown(top.range);
    };
    for right in rights.into_iter().rev() {
        match evaluate(right, scope) {
            Value::Str(right) => out.push_str(&right),
            _ => return Value::Unknown(top.range),
        }
    }
    Value::Str(out)
}

pub(super) fn evaluate_sequence(elements: &[Expr], range: TextRange, scope: &Scope<'_>) -> Value {
    if elements.iter().any(|e| matches!(e, Expr::Starred(_))) {
        return Value::Unknown(range);
    }
    Value::Seq(elements.iter().map(|e| evaluate(e, scope)).collect(), range)
}

/// The first non-empty line of the module docstring: Alembic's message.
pub(super) fn docstring_message(module: &ModModule) -> Option<String> {
    let Some(Stmt::Expr(first)) = module.body.first() else {
        return None;
    };
    let Expr::StringLiteral(literal) = first.value.as_ref() else {
        return None;
    };
    literal
        .value
        .to_str()
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_owned)
}

/// Revision ids as Alembic's `util.to_tuple` reads them: `None` is none, a string is one id, a
/// tuple or list is several. Empty strings name nothing (Alembic skips them as false). The
/// second list holds the ranges of values that could not be resolved.
pub(super) fn id_list(value: &Value) -> (Vec<String>, Vec<TextRange>) {
    let mut ids = Vec::new();
    let mut unresolved = Vec::new();
    match value {
        Value::None => {}
        Value::Str(id) => {
            if !id.is_empty() {
                ids.push(id.clone());
            }
        }
        Value::Seq(items, _) => {
            for item in items {
                match item {
                    Value::Str(id) if !id.is_empty() => ids.push(id.clone()),
                    Value::Str(_) | Value::None => {}
                    Value::Seq(_, range) | Value::Unknown(range) => unresolved.push(*range),
                }
            }
        }
        Value::Unknown(range) => unresolved.push(*range),
    }
    (ids, unresolved)
}

/// The source of `range`, shortened to its first line and 60 characters for a message.
pub(super) fn excerpt(text: &str, range: TextRange) -> String {
    let start = (range.start().to_u32() as usize).min(text.len());
    let end = (range.end().to_u32() as usize).clamp(start, text.len());
    let source = text.get(start..end).unwrap_or_default();
    let first_line = source.lines().next().unwrap_or_default().trim_end();
    let mut short: String = first_line.chars().take(60).collect();
    if short.len() < source.trim_end().len() {
        short.push('…');
    }
    short
}

pub(super) fn header_to_revision(
    header: &Header,
    text: &str,
    file: FileId,
    display: &dyn Fn() -> String,
    findings: &mut Vec<Finding>,
) -> Option<Revision> {
    let span = |range: TextRange| Span::new(file, range_u32(range));

    let Some(revision) = &header.revision else {
        let first_line = Span::new(file, line_range(text, 1));
        findings.push(rule::missing_variable(first_line, &display(), "revision"));
        return None;
    };
    let id = match &revision.value {
        Value::Str(id) if !id.trim().is_empty() => id.clone(),
        other => {
            let detail = match other {
                Value::Str(_) => "it is an empty string".to_owned(),
                Value::None => "it is None".to_owned(),
                Value::Seq(_, range) => format!(
                    "`{}` is a sequence; a revision id is one string",
                    excerpt(text, *range)
                ),
                Value::Unknown(range) => format!("`{}` is not a literal", excerpt(text, *range)),
            };
            findings.push(rule::unresolved_required(
                span(revision.statement),
                &display(),
                "revision",
                &detail,
            ));
            return None;
        }
    };

    let Some(down) = &header.down_revision else {
        let at = span(revision.statement);
        findings.push(rule::missing_variable(at, &display(), "down_revision"));
        return None;
    };
    let (down_revisions, unresolved) = id_list(&down.value);
    if let Some(&first_unresolved) = unresolved.first() {
        let detail = format!("`{}` is not a literal", excerpt(text, first_unresolved));
        findings.push(rule::unresolved_required(
            span(down.statement),
            &display(),
            "down_revision",
            &detail,
        ));
        return None;
    }

    let mut optional_list = |binding: &Option<Binding>, variable: &str| -> Vec<String> {
        let Some(binding) = binding else {
            return Vec::new();
        };
        let (values, unresolved) = id_list(&binding.value);
        if !unresolved.is_empty() {
            let texts: Vec<String> = unresolved.iter().map(|&r| excerpt(text, r)).collect();
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            findings.push(rule::unresolved_optional(
                span(binding.statement),
                &display(),
                &id,
                variable,
                &texts,
            ));
        }
        values
    };
    let branch_labels = optional_list(&header.branch_labels, "branch_labels");
    let depends_on = optional_list(&header.depends_on, "depends_on");

    Some(Revision {
        id: id.clone(),
        down_revisions,
        branch_labels,
        depends_on,
        message: header.message.clone(),
        file,
        id_span: span(revision.statement),
        down_span: Some(span(down.statement)),
        branch_labels_span: header.branch_labels.as_ref().map(|b| span(b.statement)),
        depends_on_span: header.depends_on.as_ref().map(|b| span(b.statement)),
        upgrade_span: header.upgrade.map(span),
        upgrade: Vec::new(),
    })
}

pub(super) fn range_u32(range: TextRange) -> std::ops::Range<u32> {
    range.start().to_u32()..range.end().to_u32()
}
