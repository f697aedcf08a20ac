//! `op.execute(...)` and DDL objects handed to it: raw SQL to the SQL lowering, sequences, and
//! what is data rather than schema.

use super::*;

impl<'a> Lowerer<'a> {
    /// `op.execute(...)` and `connection.execute(...)`.
    pub(super) fn lower_execute(&self, at: At<'a>) -> Result<Vec<Op>, Why> {
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
    pub(super) fn sequence_ddl(&self, at: At<'a>, call: &'a ExprCall) -> Result<Vec<Op>, Why> {
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

    pub(super) fn sequence_name(&self, at: At<'a>, call: &'a ExprCall) -> Result<QualName, Why> {
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
    pub(super) fn lower_object_ddl(
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

    pub(super) fn lower_object_ddl_unguarded(
        &self,
        receiver: At<'a>,
        method: &str,
    ) -> Result<Vec<Op>, Why> {
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
    pub(super) fn is_dml_object(&self, at: At<'a>) -> bool {
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
    pub(super) fn static_prefix(&self, at: At<'a>) -> Option<String> {
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
}

/// The first word of SQL text, after whitespace and comments.
pub(super) fn first_sql_word(sql: &str) -> &str {
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
