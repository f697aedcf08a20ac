//! Every statement the fix builders generate parses with sqlparser's PostgreSQL dialect: a test
//! over all of them, with the psql meta-commands (`\if`, `\echo`, the `\gset` that ends a guard's
//! `SELECT`) and comments set aside, since psql and not the server reads those.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::Fix;

/// The SQL statements of a fix, without comments and psql meta-commands.
pub(crate) fn statements_of(fix: &Fix) -> Vec<String> {
    fix.sql
        .iter()
        .filter(|line| !line.starts_with("--") && !line.starts_with('\\'))
        .map(|line| match line.strip_suffix(" \\gset") {
            Some(select) => format!("{select};"),
            None => line.clone(),
        })
        .collect()
}

/// Parses `statement` as exactly one PostgreSQL statement. sqlparser has no `ALTER SEQUENCE`;
/// that one statement counts as parsed when the raw SQL lowering (which reads it from sqlparser's
/// tokens) understands it as the operation it is.
pub(crate) fn parse_one(statement: &str) -> Result<(), String> {
    match Parser::parse_sql(&PostgreSqlDialect {}, statement) {
        Ok(parsed) if parsed.len() == 1 => Ok(()),
        Ok(parsed) => Err(format!("{} statements where one was meant", parsed.len())),
        Err(error) => match crate::schema::sql::lower_sql(statement).as_deref() {
            Ok([crate::schema::ops::Op::SetSequenceOwner { .. }]) => Ok(()),
            _ => Err(error.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alembic::Flavor;
    use crate::fix::ddl::*;
    use crate::fix::guidance::*;
    use crate::fix::revisions::{VersionChange, version_update_sql};
    use crate::fix::sequence::{SequenceFacts, setval_fix};
    use crate::fix::upgrade_sql::ops_sql;
    use crate::schema::model::TableKey;
    use crate::schema::model::{Column, IdentityKind, PrimaryKey, Schema, Table};
    use crate::schema::ops::{
        ColumnDef, Constraint, ForeignKeyRef, IdentitySpec, IndexDef, Op, QualName,
    };
    use crate::schema::types::PgType;

    fn ty(text: &str) -> PgType {
        PgType::parse(text).expect("test type parses")
    }

    fn column(name: &str, type_text: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty: ty(type_text),
            nullable,
            default: None,
            identity: None,
            sequence: None,
            created_by: None,
            type_set_by: None,
            nullable_set_by: None,
            default_set_by: None,
        }
    }

    fn every_builder() -> Vec<Fix> {
        let mut table = Table::new("public", "order");
        let mut id = column("id", "bigint", false);
        id.identity = Some(IdentityKind::ByDefault);
        let mut serial = column("number", "integer", false);
        serial.default = Some("nextval('order_number_seq'::regclass)".into());
        serial.sequence = Some(TableKey::new("public", "order_number_seq"));
        table.columns = vec![id, serial, column("User", "text", true)];
        table.primary_key = Some(PrimaryKey {
            name: "order_pkey".into(),
            columns: vec!["id".into()],
            set_by: None,
        });
        table.uniques.push(crate::schema::model::UniqueConstraint {
            name: "order_User_key".into(),
            columns: vec!["User".into()],
            created_by: None,
        });
        table.indexes.push(crate::schema::model::Index::new(
            "ix_order_lower_user",
            vec!["lower(\"User\")".into()],
            true,
        ));
        let mut with_order = Schema::default();
        with_order
            .tables
            .insert(TableKey::new("public", "order"), table.clone());
        let key = PrimaryKey {
            name: "system_config_pkey".into(),
            columns: vec!["key".into()],
            set_by: None,
        };
        let facts = SequenceFacts {
            sequence_schema: "public",
            sequence_name: "users_id_seq",
            table_schema: "public",
            table_name: "users",
            column: "id",
            increment: -3,
            start: -1,
            extreme_found: Some(-90),
            next_found: Some(-4),
        };
        vec![
            setval_fix(&facts),
            add_column_fix(
                &Schema::default(),
                "public",
                "users",
                &column("tier", "integer", false),
                Some("0002"),
            ),
            add_column_fix(
                &Schema::default(),
                "public",
                "users",
                &table.columns[1],
                None,
            ),
            create_table_fix(&Schema::default(), &table, Some("0001")),
            add_column_fix(&with_order, "public", "order", &table.columns[2], None),
            replace_primary_key_fix(
                "public",
                "system_config",
                table.primary_key.as_ref(),
                &key,
                &["id".into()],
            ),
            alter_type_fix("public", "t", "n", &ty("text"), &ty("numeric(10,2)")),
            alter_type_fix("public", "t", "n", &ty("varchar(10)"), &ty("text")),
            alter_nullability_fix("public", "users", "email", false),
            alter_nullability_fix("public", "users", "email", true),
            untracked_column_fix("public", "users", "nickname", &[]),
            untracked_table_fix("Audit", "scratch", &[]),
            Fix {
                title: "version".into(),
                sql: version_update_sql(&VersionChange {
                    table: TableKey::new("public", "alembic_version"),
                    from: vec!["a".into(), "b".into()],
                    to: vec!["m".into(), "n".into(), "o".into()],
                }),
                safety: crate::fix::Safety::Safe,
            },
            stamp_fix(Flavor::Alembic, &["0003".into()], false),
            unknown_revision_fix(Flavor::FlaskMigrate, &["dead".into()], None),
        ]
    }

    #[test]
    fn every_fix_statement_parses() {
        let mut failures = Vec::new();
        let mut count = 0;
        for fix in every_builder() {
            for statement in statements_of(&fix) {
                count += 1;
                if let Err(error) = parse_one(&statement) {
                    failures.push(format!("{statement}\n  {error}"));
                }
            }
        }
        assert!(count >= 20, "only {count} statements were checked");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn every_rendered_operation_parses() {
        let mut id = ColumnDef::new("id", ty("bigint"));
        id.primary_key = true;
        id.identity = Some(IdentitySpec {
            always: false,
            start: Some(10),
            increment: Some(2),
        });
        let mut team = ColumnDef::new("team_id", ty("integer"));
        team.foreign_keys.push(ForeignKeyRef {
            name: Some("fk_team".into()),
            table: QualName::new(Some("other"), "teams"),
            column: "id".into(),
            on_delete: Some("SET NULL".into()),
            on_update: None,
        });
        team.index = true;
        team.unique = true;
        let users = QualName::new(None, "users");
        let ops = vec![
            Op::CreateEnum {
                name: QualName::new(None, "mood"),
                values: vec!["it's".into(), "ok".into()],
            },
            Op::CreateTable {
                table: users.clone(),
                columns: vec![id, team],
                constraints: vec![Constraint::Check {
                    name: None,
                    sql: "id > 0".into(),
                }],
                indexes: vec![],
            },
            Op::AddColumn {
                table: users.clone(),
                column: ColumnDef::new("note", ty("varchar(20)")),
            },
            Op::AlterColumn {
                table: users.clone(),
                column: "note".into(),
                new_type: Some(ty("text")),
                nullable: Some(false),
                server_default: Some(None),
                new_name: Some("remark".into()),
            },
            Op::AddConstraint {
                table: users.clone(),
                constraint: Constraint::Unique {
                    name: Some("uq".into()),
                    columns: vec!["remark".into()],
                },
            },
            Op::DropConstraint {
                table: users.clone(),
                name: "uq".into(),
                kind: None,
            },
            Op::CreateIndex {
                table: users.clone(),
                index: IndexDef {
                    name: Some("ix_lower".into()),
                    columns: vec!["lower(remark)".into()],
                    unique: true,
                    ..Default::default()
                },
                concurrently: true,
            },
            Op::DropIndex {
                schema: None,
                name: "ix_lower".into(),
                table: None,
            },
            Op::RenameIndex {
                schema: Some("public".into()),
                name: "a".into(),
                new_name: "b".into(),
            },
            Op::RenameConstraint {
                table: users.clone(),
                name: "a".into(),
                new_name: "b".into(),
            },
            Op::CreateSequence {
                name: QualName::new(None, "counter"),
                start: Some(5),
                increment: Some(5),
            },
            Op::SetSequenceOwner {
                name: QualName::new(None, "counter"),
                owner: Some((users.clone(), "id".into())),
            },
            Op::DropSequence {
                name: QualName::new(None, "counter"),
            },
            Op::RenameTable {
                table: users.clone(),
                new_name: "members".into(),
            },
            Op::Guarded {
                op: Box::new(Op::DropColumn {
                    table: QualName::new(None, "members"),
                    column: "remark".into(),
                }),
            },
            Op::Guarded {
                op: Box::new(Op::DropTable {
                    table: QualName::new(None, "members"),
                }),
            },
            Op::DropEnum {
                name: QualName::new(None, "mood"),
            },
        ];
        let mut schema = Schema::default();
        let mut failures = Vec::new();
        let mut conditions = vec![crate::fix::revisions::versions_are_sql(
            &TableKey::new("public", "alembic_version"),
            &["a".into(), "b".into()],
        )];
        for op in &ops {
            for statement in ops_sql(op, &schema) {
                if let Err(error) = parse_one(&statement.sql) {
                    failures.push(format!("{}\n  {error}", statement.sql));
                }
            }
            conditions.extend(crate::fix::upgrade_sql::absent_condition(op, &schema));
            let mut replayer = crate::replay::Replayer::from_schema(schema);
            replayer.apply(
                0,
                "r",
                &crate::schema::ops::OpAt {
                    op: op.clone(),
                    span: crate::source::Span::new(crate::source::FileId(0), 0..0),
                    autocommit: false,
                },
            );
            schema = replayer.finish().schema;
        }
        // The guards' conditions, as the `SELECT … \gset` of a guard runs them.
        assert!(conditions.len() > 10, "{conditions:#?}");
        for condition in conditions {
            let select = format!("SELECT {condition} AS driftlint_apply;");
            if let Err(error) = parse_one(&select) {
                failures.push(format!("{select}\n  {error}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
