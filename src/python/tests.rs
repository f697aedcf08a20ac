use super::*;
use crate::schema::types::PgType;

/// Stands in for the SQL lowering: `CREATE TABLE name` becomes a `CreateTable` of `name`,
/// `DROP TABLE name` a `DropTable`, SQL starting `BAD` fails, anything else changes nothing.
pub(super) fn fake_sql(sql: &str) -> Result<Vec<Op>, String> {
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
                ..Default::default()
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
                    ..Default::default()
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
                        ..Default::default()
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
                what: "op.execute with SQL that could not be parsed: syntax error at BAD".into(),
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
            "op.create_table with column `x` without a type, for which SQLAlchemy cannot emit DDL"
                .to_owned(),
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
                    ..Default::default()
                },
                concurrently: false,
            },
        ]
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
                "op.add_column inside a for loop over a computed list (`get_tables()`)".to_owned(),
                vec![]
            ),
            (
                "op.drop_column inside a for loop over a computed list (`get_tables()`)".to_owned(),
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
                ..Default::default()
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
