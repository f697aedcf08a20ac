//! Control flow of a function body: statements, `if`/`for`/`match`/`try`/`with`, and the
//! conditions the lowering can decide (the dialect, offline mode) and those it cannot.

use super::*;

impl<'a> Lowerer<'a> {
    pub(super) fn lower_entry_function(&mut self, def: &'a StmtFunctionDef) {
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

    pub(super) fn lower_body(&mut self, body: &'a [Stmt], frame: usize) -> Flow {
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

    pub(super) fn with_uncertainty<T>(
        &mut self,
        reason: String,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        if self.uncertain.is_some() {
            return f(self);
        }
        self.uncertain = Some(reason);
        let result = f(self);
        self.uncertain = None;
        result
    }

    pub(super) fn lower_statement(&mut self, stmt: &'a Stmt, frame: usize) -> Flow {
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

    pub(super) fn lower_if(&mut self, stmt: &'a ruff_python_ast::StmtIf, frame: usize) -> Flow {
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

    pub(super) fn lower_for(&mut self, stmt: &'a ruff_python_ast::StmtFor, frame: usize) -> Flow {
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

    pub(super) fn lower_match(
        &mut self,
        stmt: &'a ruff_python_ast::StmtMatch,
        frame: usize,
    ) -> Flow {
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

    pub(super) fn lower_cases_uncertain(
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

    pub(super) fn lower_try(&mut self, stmt: &'a ruff_python_ast::StmtTry, frame: usize) -> Flow {
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

    pub(super) fn lower_with(&mut self, stmt: &'a ruff_python_ast::StmtWith, frame: usize) -> Flow {
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
    pub(super) fn batch_table(&self, at: At<'a>) -> Option<Option<QualName>> {
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
}

/// Finds the effectful calls in an expression (or a body), not descending into the arguments of
/// one (they are its data) nor into lambdas (they run later, if at all).
pub(super) struct EffectFinder<'l, 'a> {
    pub(super) lowerer: &'l Lowerer<'a>,
    pub(super) frame: usize,
    pub(super) comprehension: u32,
    pub(super) found: Vec<Effect<'a>>,
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
pub(super) fn merge_uncertain(a: Flow, b: Flow) -> Flow {
    let may_return = |f: Flow| matches!(f, Flow::Stop | Flow::MaybeStop);
    if may_return(a) || may_return(b) {
        Flow::MaybeStop
    } else {
        Flow::Next
    }
}

/// Whether a `case` pattern matches a known subject: `Some(true/false)`, or `None` when the
/// pattern is one the lowering does not evaluate (classes, mappings, sequences).
pub(super) fn pattern_matches(
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
pub(super) fn has_loop_jump(body: &[Stmt]) -> bool {
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
pub(super) fn is_autocommit_block(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(call)
        if matches!(&*call.func, Expr::Attribute(attr) if attr.attr.as_str() == "autocommit_block"))
}
