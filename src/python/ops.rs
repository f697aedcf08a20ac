//! Alembic's `op.*` operations (and a batch handle's) lowered to [`Op`]s: tables, constraints,
//! indexes, column changes.

use super::*;

impl<'a> Lowerer<'a> {
    pub(super) fn lower_operation(
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

    pub(super) fn lower_operation_unguarded(
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
                let mut index = IndexDef {
                    name,
                    columns,
                    unique,
                    ..Default::default()
                };
                self.postgresql_index_options(&call.arguments, frame, &mut index)
                    .map_err(on)?;
                Ok(vec![Op::CreateIndex {
                    table: target.table,
                    index,
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

    pub(super) fn lower_create_table(
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

    pub(super) fn constraint_name(
        &self,
        at: At<'a>,
        call: &'a ExprCall,
    ) -> Result<Option<String>, Why> {
        self.optional_string(
            call.arguments
                .find_keyword("name")
                .map(|k| at.child(&k.value)),
            "a constraint name",
        )
    }

    pub(super) fn foreign_key_constraint(
        &self,
        at: At<'a>,
        call: &'a ExprCall,
    ) -> Result<Constraint, Why> {
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

    pub(super) fn check_constraint(
        &self,
        at: At<'a>,
        call: &'a ExprCall,
    ) -> Result<Constraint, Why> {
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

    pub(super) fn table_index(&self, at: At<'a>, call: &'a ExprCall) -> Result<IndexDef, Why> {
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
        let mut index = IndexDef {
            name,
            columns,
            unique,
            ..Default::default()
        };
        self.postgresql_index_options(args, at.frame, &mut index)?;
        Ok(index)
    }

    /// `postgresql_using=`, `postgresql_where=` and `postgresql_include=` of an index.
    fn postgresql_index_options(
        &self,
        args: &'a ruff_python_ast::Arguments,
        frame: usize,
        index: &mut IndexDef,
    ) -> Result<(), Why> {
        let keyword = |name: &str| {
            args.find_keyword(name).map(|k| At {
                expr: &k.value,
                frame,
            })
        };
        index.using = self
            .optional_string(keyword("postgresql_using"), "postgresql_using=")?
            .map(|using| using.to_ascii_lowercase())
            .filter(|using| using != DEFAULT_INDEX_METHOD);
        if let Some(condition) = keyword("postgresql_where") {
            index.predicate = Some(self.sql_text(condition).ok_or_else(|| {
                Why::new("with a postgresql_where= built from SQLAlchemy expressions")
            })?);
        }
        if let Some(include) = keyword("postgresql_include") {
            index.include = self.string_list(include, "postgresql_include= columns")?;
        }
        Ok(())
    }

    pub(super) fn index_columns(&self, at: At<'a>) -> Result<Vec<String>, Why> {
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
    pub(super) fn index_column(&self, at: At<'a>) -> Result<String, Why> {
        match self.value(at) {
            Some(Value::Str(s) | Value::Sql(s)) => Ok(s),
            _ => Err(Why::new(format!(
                "with an index element the replay cannot follow (`{}`)",
                self.snippet(at.expr.range())
            ))),
        }
    }

    /// A condition or statement given as a string or `sa.text(...)`.
    pub(super) fn sql_text(&self, at: At<'a>) -> Option<String> {
        match self.value(at)? {
            Value::Str(s) | Value::Sql(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn lower_alter_column(
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
}
