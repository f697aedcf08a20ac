//! Calls: what a call is (an operation, a helper function to follow, plain Python), following
//! helper functions with their arguments bound, and emitting the operations found.

use super::*;

impl<'a> Lowerer<'a> {
    /// Runs the effectful calls in an expression, in source order.
    pub(super) fn run_effects(&mut self, at: At<'a>) {
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

    pub(super) fn classify_call(&self, call: &'a ExprCall, frame: usize) -> CallKind<'a> {
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
    pub(super) fn hands_over_operations(&self, call: &'a ExprCall, frame: usize) -> bool {
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

    pub(super) fn run_call(&mut self, effect: Effect<'a>, frame: usize) {
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

    pub(super) fn label_text(&self, label: Label<'_>) -> String {
        match label {
            Label::Source(range) => self.snippet(range),
            Label::Helper(name) => format!("{name}()"),
        }
    }

    /// Records the outcome of one call.
    pub(super) fn emit(
        &mut self,
        range: TextRange,
        label: Label<'_>,
        result: Result<Vec<Op>, Why>,
    ) {
        let span = self.span(range);
        if let Some(reason) = &self.uncertain {
            let tables = match &result {
                // An operation that does nothing the replay models stays quiet anywhere.
                Ok(ops) if ops.is_empty() => return,
                Ok(ops) => {
                    let mut tables = Vec::new();
                    for op in ops {
                        for table in op.tables().into_iter().cloned() {
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

    pub(super) fn follow_helper(
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
    pub(super) fn bind_arguments(
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
    pub(super) fn contains_effects(&self, body: &'a [Stmt], frame: usize) -> bool {
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
    pub(super) fn target(
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
}
