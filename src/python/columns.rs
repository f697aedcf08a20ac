//! `sa.Column(...)` and SQLAlchemy type expressions: a column's name, type, nullability, key,
//! default, identity and foreign key.

use super::*;

impl<'a> Lowerer<'a> {
    /// `sa.Column(...)` lowered; `Err` completes "op.add_column with ...".
    pub(super) fn lower_column(
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

    pub(super) fn one_type(&self, existing: Option<At<'a>>, new: At<'a>) -> Result<At<'a>, String> {
        match existing {
            None => Ok(new),
            Some(_) => Err(format!(
                "a column argument the replay cannot follow (`{}`)",
                self.snippet(new.expr.range())
            )),
        }
    }

    pub(super) fn column_foreign_key(
        &self,
        at: At<'a>,
        call: &'a ExprCall,
    ) -> Result<ForeignKeyRef, String> {
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

    pub(super) fn identity(&self, at: At<'a>, call: &'a ExprCall) -> Result<IdentitySpec, String> {
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
    pub(super) fn server_default_sql_optional(&self, at: At<'a>) -> Result<Option<String>, String> {
        if self.value(at) == Some(Value::None)
            || self.call_sym_is(self.deref(at), |s| s == Sym::Sa("FetchedValue"))
        {
            return Ok(None);
        }
        self.server_default_sql(at).map(Some)
    }

    pub(super) fn server_default_sql(&self, at: At<'a>) -> Result<String, String> {
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

    pub(super) fn column_type(
        &self,
        at: At<'a>,
        table_schema: Option<&str>,
    ) -> Result<MappedType, String> {
        map_type(&self.sa_type(at)?, table_schema)
    }

    /// A SQLAlchemy type expression with its arguments evaluated.
    pub(super) fn sa_type(&self, at: At<'a>) -> Result<SaType, String> {
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

    pub(super) fn type_arg(&self, at: At<'a>) -> TypeArg {
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

/// `"table.column"` or `"schema.table.column"` split into the table and the column.
pub(super) fn split_column_reference(reference: &str) -> Option<(QualName, String)> {
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

pub(super) fn type_arg_of_value(value: Value) -> TypeArg {
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
pub(super) fn enum_member_names(class: &StmtClassDef) -> Option<Vec<String>> {
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
