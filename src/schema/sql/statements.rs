//! Parsed statements lowered to operations: tables, columns, constraints, `ALTER TABLE`,
//! indexes, sequences and types.

use super::*;

pub(super) fn lower_statement(statement: &Statement, ops: &mut Vec<Op>) {
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
pub(super) fn lower_column(
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

pub(super) fn referential_action(action: ReferentialAction) -> String {
    action.to_string()
}

pub(super) fn integer_literal(expr: &Expr) -> Option<i64> {
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

pub(super) fn lower_create_table(create: &CreateTable, ops: &mut Vec<Op>) {
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

pub(super) fn index_column_names(columns: &[IndexColumn]) -> Vec<String> {
    columns
        .iter()
        .map(|c| index_entry(&c.column.expr))
        .collect()
}

/// A column name, or an expression's SQL text.
pub(super) fn index_entry(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(name) => ident(name),
        other => other.to_string(),
    }
}

/// A table-level constraint; `Ok(None)` for kinds PostgreSQL does not have.
pub(super) fn lower_table_constraint(
    constraint: &TableConstraint,
) -> Result<Option<Constraint>, String> {
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

pub(super) fn lower_alter_table_operation(
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
pub(super) fn alter_column(table: &QualName, column: String, set: impl FnOnce(&mut Op)) -> Op {
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

pub(super) fn lower_create_index(create: &CreateIndex, ops: &mut Vec<Op>) {
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
                using: create
                    .using
                    .as_ref()
                    .map(|using| match using {
                        IndexType::Custom(name) => ident(name),
                        other => other.to_string().to_ascii_lowercase(),
                    })
                    .filter(|using| using != DEFAULT_INDEX_METHOD),
                predicate: create.predicate.as_ref().map(ToString::to_string),
                include: create.include.iter().map(ident).collect(),
            },
            concurrently: create.concurrently,
        },
        create.if_not_exists,
    ));
}
