//! The evaluator: names bound by imports, assignments and parameters, and the values of
//! expressions, as far as they can be told without running anything.

use super::*;

impl<'a> Lowerer<'a> {
    /// Binds the module's imports, constants, functions and classes. Module-level code runs
    /// before `upgrade()`, so all of it is visible there; only the body of a module-level `try`
    /// or `if` is read (its `except ImportError` fallback would otherwise override the import).
    pub(super) fn bind_module(&mut self, body: &'a [Stmt]) {
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
    pub(super) fn bind_statement(&mut self, stmt: &'a Stmt, frame: usize) {
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

    pub(super) fn bind(&mut self, frame: usize, name: &'a str, bound: Bound<'a>) {
        if let Some(f) = self.frames.get_mut(frame) {
            f.names.insert(name, bound);
        }
    }

    /// Binds an assignment target to a value, evaluating constants now (as Python does) and
    /// keeping other expressions to be evaluated where they are used.
    pub(super) fn bind_target(&mut self, target: &'a Expr, value: At<'a>, frame: usize) {
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

    pub(super) fn bind_unpacking(&mut self, targets: &'a [Expr], value: At<'a>, frame: usize) {
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

    pub(super) fn bind_value(&mut self, target: &'a Expr, value: Value, frame: usize) {
        match target {
            Expr::Name(name) => self.bind(frame, name.id.as_str(), Bound::Value(value)),
            Expr::Tuple(t) => self.bind_value_seq(&t.elts, value, frame),
            Expr::List(l) => self.bind_value_seq(&l.elts, value, frame),
            _ => {}
        }
    }

    pub(super) fn bind_value_seq(&mut self, targets: &'a [Expr], value: Value, frame: usize) {
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

    pub(super) fn bind_value_opaque(&mut self, target: &'a Expr, frame: usize) {
        match target {
            Expr::Name(name) => self.bind(frame, name.id.as_str(), Bound::Opaque),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.bind_value_opaque(e, frame)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.bind_value_opaque(e, frame)),
            Expr::Starred(s) => self.bind_value_opaque(&s.value, frame),
            _ => {}
        }
    }

    /// What a name assigned `value` stands for.
    pub(super) fn binding_for(&self, value: At<'a>) -> Bound<'a> {
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

    pub(super) fn lookup(&self, name: &str, frame: usize) -> Option<&Bound<'a>> {
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
    pub(super) fn deref(&self, mut at: At<'a>) -> At<'a> {
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
    pub(super) fn guarded<T>(&self, f: impl FnOnce() -> Option<T>) -> Option<T> {
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
    pub(super) fn path(&self, at: At<'a>) -> Option<String> {
        let mut path = String::new();
        self.write_path(at, &mut path).then_some(path)
    }

    /// Appends the dotted path `at` names to `out`; false (with `out` in any state) when it
    /// names none. One buffer for the whole path: the lowering asks for thousands of them.
    pub(super) fn write_path(&self, at: At<'a>, out: &mut String) -> bool {
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
    pub(super) fn sym_is(&self, at: At<'a>, pred: impl Fn(Sym<'_>) -> bool) -> bool {
        self.path(at).is_some_and(|p| pred(classify(&p)))
    }

    /// The call's callee classified, when `at` is a call.
    pub(super) fn call_sym_is(&self, at: At<'a>, pred: impl Fn(Sym<'_>) -> bool) -> bool {
        match at.expr {
            Expr::Call(call) => self.sym_is(at.child(&call.func), pred),
            _ => false,
        }
    }

    pub(super) fn snippet(&self, range: TextRange) -> String {
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

    pub(super) fn span(&self, range: TextRange) -> Span {
        Span::new(self.file, range.start().to_u32()..range.end().to_u32())
    }

    // ----------------------------------------------------------------------------------------
    // Evaluation
    // ----------------------------------------------------------------------------------------

    /// The value of an expression, when it can be computed without running anything.
    pub(super) fn value(&self, at: At<'a>) -> Option<Value> {
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
    pub(super) fn binary(&self, at: At<'a>, b: &'a ExprBinOp, left: Value) -> Result<Value, Value> {
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

    pub(super) fn sequence(&self, at: At<'a>, elements: &'a [Expr]) -> Option<Value> {
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

    pub(super) fn call_value(&self, at: At<'a>, call: &'a ExprCall) -> Option<Value> {
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
    pub(super) fn format_call(
        &self,
        at: At<'a>,
        template: &str,
        call: &'a ExprCall,
    ) -> Option<String> {
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
    pub(super) fn render_function(
        &self,
        at: At<'a>,
        name: &str,
        call: &'a ExprCall,
    ) -> Option<Value> {
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
    pub(super) fn truth(&self, at: At<'a>) -> Option<bool> {
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
    pub(super) fn is_context(&self, at: At<'a>) -> bool {
        let at = self.deref(at);
        self.sym_is(at, |s| s == Sym::Context(""))
            || self.call_sym_is(at, |s| {
                matches!(s, Sym::Op("get_context") | Sym::Context("get_context"))
            })
    }

    /// A connection: `op.get_bind()`, `op.get_context().bind`, or a name bound to one.
    pub(super) fn is_bind(&self, at: At<'a>) -> bool {
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
    pub(super) fn is_dialect(&self, at: At<'a>) -> bool {
        let at = self.deref(at);
        match at.expr {
            Expr::Attribute(attr) if matches!(attr.attr.as_str(), "dialect" | "engine") => {
                let handle = at.child(&attr.value);
                self.is_bind(handle) || self.is_context(handle)
            }
            _ => false,
        }
    }

    pub(super) fn string(&self, at: At<'a>) -> Option<String> {
        match self.value(at)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An optional string argument: absent and `None` are `Ok(None)`.
    /// `what` names the argument in the reason; it is formatted only when there is one.
    pub(super) fn optional_string(
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
    pub(super) fn optional_bool(
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
    pub(super) fn string_list(&self, at: At<'a>, what: &str) -> Result<Vec<String>, Why> {
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
}

pub(super) fn compare(op: CmpOp, left: &Value, right: &Value) -> Option<bool> {
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
pub(super) fn percent_format(template: &str, args: &[Value]) -> Option<String> {
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
