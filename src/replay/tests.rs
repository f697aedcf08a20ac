use super::*;
use crate::schema::ops::IdentitySpec;
use crate::source::FileId;

/// A span whose start tells the operations of a test apart.
fn span(n: u32) -> Span {
    Span::new(FileId(0), n..n + 1)
}

fn revision(id: &str, down: &[&str], ops: Vec<Op>) -> Revision {
    Revision {
        id: id.to_owned(),
        down_revisions: down.iter().map(|d| (*d).to_owned()).collect(),
        branch_labels: Vec::new(),
        depends_on: Vec::new(),
        message: None,
        file: FileId(0),
        id_span: span(0),
        down_span: None,
        branch_labels_span: None,
        depends_on_span: None,
        upgrade_span: None,
        upgrade: ops
            .into_iter()
            .enumerate()
            .map(|(i, op)| OpAt {
                op,
                span: span(100 + i as u32),
                autocommit: false,
            })
            .collect(),
    }
}

/// Replays `ops` as one revision, checking that the name bookkeeping stays in step.
fn run(ops: Vec<Op>) -> Replay {
    let rev = revision("r1", &[], ops);
    let mut replayer = Replayer::new();
    replayer.apply_revision(0, &rev);
    assert_eq!(
        replayer.names,
        Namespaces::of(&replayer.schema),
        "the namespaces drifted from the schema"
    );
    replayer.finish()
}

fn clean(ops: Vec<Op>) -> Schema {
    let replay = run(ops);
    assert!(
        replay.problems.is_empty(),
        "unexpected problems: {:#?}",
        replay.problems
    );
    replay.schema
}

fn q(name: &str) -> QualName {
    QualName::new(None, name)
}

fn ty(name: &str) -> PgType {
    PgType::simple(name)
}

fn col(name: &str, ty_name: &str) -> ColumnDef {
    ColumnDef::new(name, ty(ty_name))
}

fn pk(name: &str, ty_name: &str) -> ColumnDef {
    let mut c = col(name, ty_name);
    c.primary_key = true;
    c
}

fn create(table: &str, columns: Vec<ColumnDef>) -> Op {
    Op::CreateTable {
        table: q(table),
        columns,
        constraints: Vec::new(),
        indexes: Vec::new(),
    }
}

fn create_with(table: &str, columns: Vec<ColumnDef>, constraints: Vec<Constraint>) -> Op {
    Op::CreateTable {
        table: q(table),
        columns,
        constraints,
        indexes: Vec::new(),
    }
}

fn alter(table: &str, column: &str) -> (QualName, String) {
    (q(table), column.to_owned())
}

fn alter_op(
    target: (QualName, String),
    new_type: Option<PgType>,
    nullable: Option<bool>,
    server_default: Option<Option<String>>,
    new_name: Option<&str>,
) -> Op {
    Op::AlterColumn {
        table: target.0,
        column: target.1,
        new_type,
        nullable,
        server_default,
        new_name: new_name.map(str::to_owned),
    }
}

fn table<'a>(schema: &'a Schema, name: &str) -> &'a Table {
    schema
        .table("public", name)
        .unwrap_or_else(|| panic!("table {name} is missing"))
}

fn column<'a>(schema: &'a Schema, table_name: &str, name: &str) -> &'a Column {
    table(schema, table_name)
        .column(name)
        .unwrap_or_else(|| panic!("column {table_name}.{name} is missing"))
}

fn sequence_names(schema: &Schema) -> Vec<String> {
    schema
        .sequences
        .keys()
        .map(|key| key.name.clone())
        .collect()
}

#[test]
fn integer_primary_key_becomes_serial() {
    let schema = clean(vec![create(
        "users",
        vec![pk("id", "integer"), col("email", "text")],
    )]);
    let id = column(&schema, "users", "id");
    assert_eq!(id.ty, ty("integer"));
    assert!(!id.nullable);
    assert_eq!(
        id.default.as_deref(),
        Some("nextval('users_id_seq'::regclass)")
    );
    assert_eq!(id.sequence, Some(TableKey::new("public", "users_id_seq")));
    let sequence = &schema.sequences[&TableKey::new("public", "users_id_seq")];
    assert_eq!(sequence.data_type, ty("integer"));
    assert_eq!(
        sequence.owned_by,
        Some(("public".into(), "users".into(), "id".into()))
    );
    let key = table(&schema, "users").primary_key.as_ref().expect("a key");
    assert_eq!(key.name, "users_pkey");
    assert_eq!(key.columns, ["id"]);
    assert!(column(&schema, "users", "email").nullable);
}

#[test]
fn serial_flavours_follow_the_integer_type() {
    let schema = clean(vec![
        create("big", vec![pk("id", "bigint")]),
        create("small", vec![pk("id", "smallint")]),
        // SQLAlchemy lets a numeric key autoincrement and emits it as SERIAL.
        create("num", vec![pk("id", "numeric")]),
    ]);
    assert_eq!(column(&schema, "big", "id").ty, ty("bigint"));
    assert_eq!(column(&schema, "small", "id").ty, ty("smallint"));
    assert_eq!(column(&schema, "num", "id").ty, ty("integer"));
    assert_eq!(
        schema.sequences[&TableKey::new("public", "big_id_seq")].data_type,
        ty("bigint")
    );
    assert_eq!(
        sequence_names(&schema),
        ["big_id_seq", "num_id_seq", "small_id_seq"]
    );
}

#[test]
fn what_stops_a_key_from_autoincrementing() {
    let mut with_fk = pk("id", "integer");
    with_fk.foreign_keys.push(ForeignKeyRef {
        name: None,
        table: q("users"),
        column: "id".into(),
        on_delete: None,
        on_update: None,
    });
    let mut with_default = pk("id", "integer");
    with_default.server_default = Some("1".into());
    let mut turned_off = pk("id", "integer");
    turned_off.autoincrement = Autoincrement::False;
    let schema = clean(vec![
        create("users", vec![pk("id", "integer")]),
        create("profiles", vec![with_fk]),
        create("defaults", vec![with_default]),
        create("manual", vec![turned_off]),
        create("texts", vec![pk("code", "text")]),
        create("pairs", vec![pk("a", "integer"), pk("b", "integer")]),
    ]);
    for name in ["profiles", "defaults", "manual", "pairs"] {
        let first = &table(&schema, name).columns[0];
        assert_eq!(
            first.sequence, None,
            "{name}.{} must not be serial",
            first.name
        );
        assert!(!first.nullable, "{name}.{} is a key column", first.name);
    }
    assert_eq!(
        column(&schema, "defaults", "id").default.as_deref(),
        Some("1")
    );
    assert_eq!(sequence_names(&schema), ["users_id_seq"]);
    assert_eq!(
        table(&schema, "profiles").foreign_keys[0].name,
        "profiles_id_fkey"
    );
}

#[test]
fn autoincrement_true_in_a_composite_key_goes_first() {
    let mut b = pk("b", "integer");
    b.autoincrement = Autoincrement::True;
    let schema = clean(vec![create("multi", vec![pk("a", "integer"), b])]);
    assert_eq!(
        table(&schema, "multi")
            .primary_key
            .as_ref()
            .map(|k| k.columns.clone()),
        Some(vec!["b".to_owned(), "a".to_owned()])
    );
    assert!(column(&schema, "multi", "b").sequence.is_some());
    assert!(column(&schema, "multi", "a").sequence.is_none());
}

#[test]
fn explicit_primary_key_constraint_wins() {
    let schema = clean(vec![create_with(
        "conflict",
        vec![pk("a", "integer"), col("b", "integer")],
        vec![Constraint::PrimaryKey {
            name: Some("conflict_key".into()),
            columns: vec!["b".into()],
        }],
    )]);
    let t = table(&schema, "conflict");
    let key = t.primary_key.as_ref().expect("a key");
    assert_eq!(
        (key.name.as_str(), key.columns.clone()),
        ("conflict_key", vec!["b".to_owned()])
    );
    assert!(column(&schema, "conflict", "b").sequence.is_some());
    // `primary_key=True` still made `a` NOT NULL.
    assert!(!column(&schema, "conflict", "a").nullable);
}

#[test]
fn identity_columns_get_their_own_sequence() {
    let mut id = pk("id", "bigint");
    id.identity = Some(IdentitySpec {
        always: true,
        start: Some(5),
        increment: None,
    });
    let mut down = col("down", "integer");
    down.identity = Some(IdentitySpec {
        always: false,
        start: None,
        increment: Some(-1),
    });
    let schema = clean(vec![create("events", vec![id, down])]);
    let id = column(&schema, "events", "id");
    assert_eq!(id.identity, Some(IdentityKind::Always));
    assert_eq!(id.default, None);
    assert!(!id.nullable);
    let seq = &schema.sequences[&TableKey::new("public", "events_id_seq")];
    assert_eq!((seq.start, seq.increment), (5, 1));
    assert_eq!(seq.data_type, ty("bigint"));
    let down = column(&schema, "events", "down");
    assert_eq!(down.identity, Some(IdentityKind::ByDefault));
    assert!(!down.nullable);
    let seq = &schema.sequences[&TableKey::new("public", "events_down_seq")];
    assert_eq!((seq.start, seq.increment), (-1, -1));
}

#[test]
fn default_names_avoid_taken_ones() {
    let mut email = col("email", "text");
    email.unique = true;
    let schema = clean(vec![
        // A table already holds the name the sequence would get.
        create("users_id_seq", vec![col("x", "integer")]),
        create_with(
            "users",
            vec![pk("id", "integer"), email, col("score", "integer")],
            vec![
                Constraint::Unique {
                    name: None,
                    columns: vec!["email".into()],
                },
                Constraint::Check {
                    name: None,
                    sql: "score > 0".into(),
                },
                Constraint::Check {
                    name: None,
                    sql: "score < id".into(),
                },
            ],
        ),
    ]);
    let users = table(&schema, "users");
    assert_eq!(
        column(&schema, "users", "id")
            .sequence
            .as_ref()
            .map(|s| s.name.as_str()),
        Some("users_id_seq1")
    );
    assert_eq!(
        column(&schema, "users", "id").default.as_deref(),
        Some("nextval('users_id_seq1'::regclass)")
    );
    let uniques: Vec<&str> = users.uniques.iter().map(|u| u.name.as_str()).collect();
    // The table-level constraint and the column's flag declare the same key: one index.
    assert_eq!(uniques, ["users_email_key"]);
    let checks: Vec<&str> = users.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(checks, ["users_score_check", "users_check"]);
}

#[test]
fn create_table_keeps_one_index_per_column_list() {
    let mut id = pk("id", "integer");
    id.unique = true;
    let mut code = col("code", "text");
    code.unique = true;
    let schema = clean(vec![create_with(
        "t",
        vec![id, code],
        vec![
            Constraint::Unique {
                name: None,
                columns: vec!["code".into()],
            },
            Constraint::Unique {
                name: Some("t_code_unique".into()),
                columns: vec!["code".into()],
            },
        ],
    )]);
    let t = table(&schema, "t");
    assert_eq!(
        t.primary_key.as_ref().map(|k| k.name.as_str()),
        Some("t_pkey")
    );
    let uniques: Vec<(&str, &[String])> = t
        .uniques
        .iter()
        .map(|u| (u.name.as_str(), u.columns.as_slice()))
        .collect();
    assert_eq!(uniques, [("t_code_unique", &["code".to_owned()][..])]);
    // Added one by one, two unique constraints over the same column both stay.
    let schema = clean(vec![
        create("u", vec![col("code", "text")]),
        Op::AddConstraint {
            table: q("u"),
            constraint: Constraint::Unique {
                name: None,
                columns: vec!["code".into()],
            },
        },
        Op::AddConstraint {
            table: q("u"),
            constraint: Constraint::Unique {
                name: None,
                columns: vec!["code".into()],
            },
        },
    ]);
    let names: Vec<&str> = table(&schema, "u")
        .uniques
        .iter()
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(names, ["u_code_key", "u_code_key1"]);
}

#[test]
fn column_flags_add_indexes_and_constraints() {
    let mut name = col("name", "text");
    name.index = true;
    let mut code = col("code", "text");
    code.index = true;
    code.unique = true;
    let mut email = col("email", "text");
    email.unique = true;
    let schema = clean(vec![Op::CreateTable {
        table: QualName::new(Some("app"), "people"),
        columns: vec![pk("id", "integer"), name, code, email],
        constraints: Vec::new(),
        indexes: vec![IndexDef {
            name: Some("ix_people_lower".into()),
            columns: vec!["lower(name)".into()],
            unique: false,
            ..Default::default()
        }],
    }]);
    let people = schema.table("app", "people").expect("app.people");
    let indexes: Vec<(&str, bool)> = people
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.unique))
        .collect();
    assert_eq!(
        indexes,
        [
            ("ix_app_people_name", false),
            ("ix_app_people_code", true),
            ("ix_people_lower", false)
        ]
    );
    let uniques: Vec<&str> = people.uniques.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(uniques, ["people_email_key"]);
    assert_eq!(
        people.columns[0].default.as_deref(),
        Some("nextval('app.people_id_seq'::regclass)")
    );
}

#[test]
fn add_column_with_primary_key_flag_is_serial_without_a_key() {
    let mut newid = pk("newid", "integer");
    newid.span = Some(span(7));
    let schema = clean(vec![
        create("t", vec![col("a", "text")]),
        Op::AddColumn {
            table: q("t"),
            column: newid,
        },
    ]);
    let t = table(&schema, "t");
    assert!(t.primary_key.is_none());
    let newid = column(&schema, "t", "newid");
    assert!(newid.sequence.is_some());
    assert!(!newid.nullable);
    assert_eq!(
        newid.created_by.as_ref().map(|o| o.span.clone()),
        Some(span(7))
    );
}

#[test]
fn primary_key_replacement() {
    let schema = clean(vec![
        create("users", vec![pk("id", "integer"), col("email", "text")]),
        Op::DropConstraint {
            table: q("users"),
            name: "users_pkey".into(),
            kind: Some(ConstraintKind::PrimaryKey),
        },
        Op::AddConstraint {
            table: q("users"),
            constraint: Constraint::PrimaryKey {
                name: None,
                columns: vec!["email".into()],
            },
        },
    ]);
    let users = table(&schema, "users");
    let key = users.primary_key.as_ref().expect("a key");
    assert_eq!(
        (key.name.as_str(), key.columns.clone()),
        ("users_pkey", vec!["email".to_owned()])
    );
    assert_eq!(key.set_by.as_ref().map(|o| o.span.clone()), Some(span(102)));
    let email = column(&schema, "users", "email");
    assert!(!email.nullable, "a primary key makes its column NOT NULL");
    assert_eq!(
        email.nullable_set_by.as_ref().map(|o| o.span.clone()),
        Some(span(102))
    );
    // The old key column keeps its NOT NULL and its sequence.
    assert!(!column(&schema, "users", "id").nullable);
    assert!(column(&schema, "users", "id").sequence.is_some());
}

#[test]
fn renames_keep_sequence_and_constraint_names() {
    let mut team = col("team_id", "integer");
    team.foreign_keys.push(ForeignKeyRef {
        name: None,
        table: q("teams"),
        column: "id".into(),
        on_delete: None,
        on_update: None,
    });
    team.index = true;
    let schema = clean(vec![
        create("teams", vec![pk("id", "integer"), col("name", "text")]),
        create("members", vec![pk("id", "integer"), team]),
        Op::RenameTable {
            table: q("teams"),
            new_name: "squads".into(),
        },
        alter_op(alter("squads", "id"), None, None, None, Some("squad_id")),
        alter_op(
            alter("members", "team_id"),
            None,
            None,
            None,
            Some("squad_id"),
        ),
        Op::AddConstraint {
            table: q("squads"),
            constraint: Constraint::Check {
                name: None,
                sql: "length(name) > 0".into(),
            },
        },
        alter_op(alter("squads", "name"), None, None, None, Some("title")),
    ]);
    let squads = table(&schema, "squads");
    assert!(schema.table("public", "teams").is_none());
    let key = squads.primary_key.as_ref().expect("a key");
    assert_eq!(
        (key.name.as_str(), key.columns.clone()),
        ("teams_pkey", vec!["squad_id".to_owned()])
    );
    let id = column(&schema, "squads", "squad_id");
    assert_eq!(
        id.default.as_deref(),
        Some("nextval('teams_id_seq'::regclass)")
    );
    let seq = &schema.sequences[&TableKey::new("public", "teams_id_seq")];
    assert_eq!(
        seq.owned_by,
        Some(("public".into(), "squads".into(), "squad_id".into()))
    );
    assert_eq!(squads.checks[0].sql, "length(title) > 0");
    assert_eq!(squads.checks[0].name, "squads_name_check");
    let members = table(&schema, "members");
    let fk = &members.foreign_keys[0];
    assert_eq!(fk.name, "members_team_id_fkey");
    assert_eq!(fk.columns, ["squad_id"]);
    assert_eq!(
        (fk.ref_table.as_str(), fk.ref_columns.clone()),
        ("squads", vec!["squad_id".to_owned()])
    );
    assert_eq!(members.indexes[0].name, "ix_members_team_id");
    assert_eq!(members.indexes[0].columns, ["squad_id"]);
}

#[test]
fn drops_take_their_dependents_along() {
    let mut team = col("team_id", "integer");
    team.foreign_keys.push(ForeignKeyRef {
        name: Some("fk_team".into()),
        table: q("teams"),
        column: "id".into(),
        on_delete: None,
        on_update: None,
    });
    let mut code = col("code", "text");
    code.unique = true;
    let schema = clean(vec![
        create(
            "teams",
            vec![pk("id", "integer"), code, col("x", "integer")],
        ),
        create("members", vec![pk("id", "integer"), team]),
        Op::CreateIndex {
            table: q("teams"),
            index: IndexDef {
                name: Some("ix_teams_code_x".into()),
                columns: vec!["code".into(), "x".into()],
                unique: false,
                ..Default::default()
            },
            concurrently: false,
        },
        Op::DropColumn {
            table: q("teams"),
            column: "code".into(),
        },
        Op::DropColumn {
            table: q("members"),
            column: "id".into(),
        },
        Op::DropTable { table: q("teams") },
    ]);
    assert!(schema.table("public", "teams").is_none());
    let members = table(&schema, "members");
    assert!(members.primary_key.is_none());
    assert!(
        members.foreign_keys.is_empty(),
        "the key into teams is gone"
    );
    assert!(schema.sequences.is_empty(), "{:?}", sequence_names(&schema));
}

#[test]
fn a_reference_without_columns_means_the_primary_key() {
    let schema = clean(vec![
        create("teams", vec![pk("id", "integer")]),
        create_with(
            "members",
            vec![col("team", "integer")],
            vec![Constraint::ForeignKey {
                name: None,
                columns: vec!["team".into()],
                ref_table: q("teams"),
                ref_columns: Vec::new(),
                on_delete: None,
                on_update: None,
            }],
        ),
    ]);
    assert_eq!(
        table(&schema, "members").foreign_keys[0].ref_columns,
        ["id"]
    );
}

#[test]
fn drop_column_removes_what_uses_it() {
    let schema = clean(vec![
        create(
            "t",
            vec![pk("id", "integer"), col("a", "text"), col("b", "text")],
        ),
        Op::AddConstraint {
            table: q("t"),
            constraint: Constraint::Unique {
                name: None,
                columns: vec!["a".into(), "b".into()],
            },
        },
        Op::AddConstraint {
            table: q("t"),
            constraint: Constraint::Check {
                name: Some("ck_a".into()),
                sql: "a <> ''".into(),
            },
        },
        Op::CreateIndex {
            table: q("t"),
            index: IndexDef {
                name: Some("ix_lower_a".into()),
                columns: vec!["lower(a)".into()],
                unique: false,
                ..Default::default()
            },
            concurrently: false,
        },
        Op::CreateIndex {
            table: q("t"),
            index: IndexDef {
                name: Some("ix_b".into()),
                columns: vec!["b".into()],
                unique: false,
                ..Default::default()
            },
            concurrently: false,
        },
        Op::DropColumn {
            table: q("t"),
            column: "a".into(),
        },
    ]);
    let t = table(&schema, "t");
    assert!(t.uniques.is_empty());
    assert!(t.checks.is_empty());
    let indexes: Vec<&str> = t.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(indexes, ["ix_b"]);
}

#[test]
fn alter_column_records_where_state_came_from() {
    let schema = clean(vec![
        create(
            "users",
            vec![
                pk("id", "integer"),
                col("locked_until", "timestamp without time zone"),
            ],
        ),
        alter_op(
            alter("users", "locked_until"),
            None,
            Some(false),
            None,
            None,
        ),
        alter_op(alter("users", "locked_until"), None, Some(true), None, None),
        alter_op(
            alter("users", "locked_until"),
            Some(ty("timestamp with time zone")),
            None,
            Some(Some("now()".into())),
            None,
        ),
        alter_op(alter("users", "id"), None, None, Some(None), None),
    ]);
    let locked = column(&schema, "users", "locked_until");
    assert!(locked.nullable);
    assert_eq!(
        locked.nullable_set_by.as_ref().map(|o| o.span.clone()),
        Some(span(102))
    );
    assert_eq!(
        locked.type_set_by.as_ref().map(|o| o.span.clone()),
        Some(span(103))
    );
    assert_eq!(
        locked.created_by.as_ref().map(|o| o.span.clone()),
        Some(span(100))
    );
    assert_eq!(
        locked.nullable_set_by.as_ref().map(|o| o.revision.as_str()),
        Some("r1")
    );
    assert_eq!(locked.ty, ty("timestamp with time zone"));
    assert_eq!(locked.default.as_deref(), Some("now()"));
    let id = column(&schema, "users", "id");
    assert_eq!(id.default, None);
    assert_eq!(id.sequence, None, "the sequence no longer feeds the column");
    assert_eq!(
        schema.sequences.len(),
        1,
        "but it still exists, owned by the column"
    );
}

#[test]
fn misfits_are_problems_not_panics() {
    let replay = run(vec![
        create("t", vec![pk("id", "integer")]),
        create("t", vec![pk("id", "integer")]),
        Op::DropColumn {
            table: q("t"),
            column: "nope".into(),
        },
        Op::DropTable { table: q("gone") },
        alter_op(alter("t", "nope"), None, Some(false), None, None),
        alter_op(alter("t", "id"), None, Some(true), None, None),
        Op::DropConstraint {
            table: q("t"),
            name: "t_nope".into(),
            kind: None,
        },
        Op::DropIndex {
            schema: None,
            name: "t_pkey".into(),
            table: None,
        },
        Op::AddConstraint {
            table: q("t"),
            constraint: Constraint::PrimaryKey {
                name: None,
                columns: vec!["id".into()],
            },
        },
        Op::AddColumn {
            table: q("t"),
            column: col("id", "text"),
        },
        Op::Unmodeled {
            what: "op.add_column inside a for loop".into(),
            tables: vec![q("t")],
        },
    ]);
    let messages: Vec<(u32, &str)> = replay
        .problems
        .iter()
        .map(|p| (p.span.range.start, p.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            (101, "relation public.t already exists"),
            (102, "column nope of table public.t does not exist"),
            (103, "table public.gone does not exist"),
            (104, "column nope of table public.t does not exist"),
            (
                105,
                "public.t.id is in the primary key; PostgreSQL refuses to make it nullable"
            ),
            (106, "constraint t_nope of table public.t does not exist"),
            (
                107,
                "index public.t_pkey belongs to a constraint of table public.t; PostgreSQL \
                     refuses to drop it (drop the constraint instead)"
            ),
            (
                108,
                "table public.t already has a primary key (t_pkey); PostgreSQL refuses a second one"
            ),
            (109, "column id of table public.t already exists"),
        ]
    );
    assert!(
        replay
            .problems
            .iter()
            .all(|p| p.revision == "r1" && p.revision_index == 0)
    );
    assert!(!column(&replay.schema, "t", "id").nullable);
}

#[test]
fn guarded_operations_are_quiet_when_already_done() {
    let guarded = |op: Op| Op::Guarded { op: Box::new(op) };
    let schema = clean(vec![
        create("t", vec![pk("id", "integer")]),
        guarded(create("t", vec![col("other", "text")])),
        guarded(Op::AddColumn {
            table: q("t"),
            column: col("id", "text"),
        }),
        guarded(Op::AddColumn {
            table: q("t"),
            column: col("name", "text"),
        }),
        guarded(Op::DropColumn {
            table: q("t"),
            column: "nope".into(),
        }),
        guarded(Op::DropTable { table: q("gone") }),
        guarded(Op::DropIndex {
            schema: None,
            name: "ix_gone".into(),
            table: None,
        }),
        guarded(Op::DropConstraint {
            table: q("t"),
            name: "gone".into(),
            kind: None,
        }),
    ]);
    let names: Vec<&str> = table(&schema, "t")
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["id", "name"]);
    assert_eq!(column(&schema, "t", "id").ty, ty("integer"));
}

#[test]
fn indexes_sequences_and_enums() {
    let schema = clean(vec![
        create("t", vec![pk("id", "integer"), col("a", "text")]),
        Op::CreateIndex {
            table: q("t"),
            index: IndexDef {
                name: None,
                columns: vec!["a".into()],
                unique: false,
                ..Default::default()
            },
            concurrently: true,
        },
        Op::RenameIndex {
            schema: None,
            name: "ix_t_a".into(),
            new_name: "ix_t_a2".into(),
        },
        Op::RenameIndex {
            schema: None,
            name: "t_pkey".into(),
            new_name: "t_pk".into(),
        },
        Op::CreateSequence {
            name: q("counter"),
            start: Some(100),
            increment: None,
        },
        Op::CreateEnum {
            name: q("mood"),
            values: vec!["sad".into(), "ok".into()],
        },
        Op::AddColumn {
            table: q("t"),
            column: col("mood", "mood"),
        },
        alter_op(
            alter("t", "a"),
            None,
            None,
            Some(Some("nextval('counter'::regclass)".into())),
            None,
        ),
    ]);
    let t = table(&schema, "t");
    assert_eq!(t.indexes[0].name, "ix_t_a2");
    assert_eq!(
        t.primary_key.as_ref().map(|k| k.name.as_str()),
        Some("t_pk")
    );
    assert_eq!(
        schema.sequences[&TableKey::new("public", "counter")].start,
        100
    );
    assert_eq!(
        column(&schema, "t", "a").sequence,
        Some(TableKey::new("public", "counter"))
    );
    assert_eq!(
        schema.enums[&TableKey::new("public", "mood")],
        ["sad", "ok"]
    );
    let replay = run(vec![
        Op::CreateEnum {
            name: q("mood"),
            values: vec![],
        },
        create("t", vec![col("m", "mood")]),
        Op::DropEnum { name: q("mood") },
        Op::CreateSequence {
            name: q("s"),
            start: None,
            increment: None,
        },
        alter_op(
            alter("t", "m"),
            Some(ty("text")),
            None,
            Some(Some("nextval('s')".into())),
            None,
        ),
        Op::DropSequence { name: q("s") },
    ]);
    let messages: Vec<&str> = replay.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "type public.mood is used by public.t.m; PostgreSQL refuses to drop it",
            "sequence public.s feeds public.t.m; PostgreSQL refuses to drop it"
        ]
    );
}

#[test]
fn long_names_are_cut_as_postgresql_cuts_them() {
    let long = "a_table_name_that_is_far_longer_than_postgresql_allows_for_names_really";
    let schema = clean(vec![create(long, vec![pk("id", "integer")])]);
    let (key, only) = schema.tables.iter().next().expect("one table");
    assert_eq!(key.name.len(), 63);
    assert_eq!(only.name, &long[..63]);
    let seq = only.columns[0]
        .sequence
        .as_ref()
        .expect("serial")
        .name
        .clone();
    assert_eq!(seq.len(), 63);
    assert!(seq.ends_with("_id_seq"));
}

#[test]
fn replays_only_what_the_targets_need() {
    let base = revision("base", &[], vec![create("a", vec![pk("id", "integer")])]);
    let left = revision(
        "left",
        &["base"],
        vec![create("b", vec![pk("id", "integer")])],
    );
    let right = revision(
        "right",
        &["base"],
        vec![create("c", vec![pk("id", "integer")])],
    );
    let mut needs_left = revision(
        "after",
        &["right"],
        vec![Op::AddColumn {
            table: q("b"),
            column: col("x", "text"),
        }],
    );
    needs_left.depends_on.push("left".to_owned());
    let revisions = vec![needs_left, right, left, base];
    let graph = RevisionGraph::build(&revisions);
    let only_right = replay(&revisions, &graph, &[1]);
    let tables: Vec<&str> = only_right
        .schema
        .tables
        .keys()
        .map(|key| key.name.as_str())
        .collect();
    assert_eq!(tables, ["a", "c"]);
    let heads = replay_heads(&revisions, &graph);
    assert!(heads.problems.is_empty(), "{:#?}", heads.problems);
    let tables: Vec<&str> = heads
        .schema
        .tables
        .keys()
        .map(|key| key.name.as_str())
        .collect();
    assert_eq!(tables, ["a", "b", "c"]);
    assert!(column(&heads.schema, "b", "x").nullable);
    assert_eq!(
        column(&heads.schema, "b", "x")
            .created_by
            .as_ref()
            .map(|o| o.revision.as_str()),
        Some("after")
    );
}

#[test]
fn replaying_thousands_of_revisions_is_linear() {
    // 5,000 revisions of five operations each, as the synthetic benchmark tree has.
    let mut revisions = Vec::new();
    for i in 0..5000usize {
        let id = format!("r{i}");
        let down = if i == 0 {
            Vec::new()
        } else {
            vec![format!("r{}", i - 1)]
        };
        let table = format!("t{}", i / 5);
        let ops = if i % 5 == 0 {
            vec![
                create(&table, vec![pk("id", "integer"), col("a", "text")]),
                Op::CreateIndex {
                    table: q(&table),
                    index: IndexDef {
                        name: None,
                        columns: vec!["a".into()],
                        unique: false,
                        ..Default::default()
                    },
                    concurrently: false,
                },
                Op::AddColumn {
                    table: q(&table),
                    column: col("b", "integer"),
                },
                alter_op(alter(&table, "b"), None, Some(false), None, None),
                alter_op(alter(&table, "a"), Some(ty("integer")), None, None, None),
            ]
        } else {
            let n = i % 5;
            vec![
                Op::AddColumn {
                    table: q(&table),
                    column: col(&format!("c{n}"), "text"),
                },
                alter_op(
                    alter(&table, &format!("c{n}")),
                    None,
                    Some(false),
                    None,
                    None,
                ),
                Op::AddColumn {
                    table: q(&table),
                    column: col(&format!("d{n}"), "text"),
                },
                Op::DropColumn {
                    table: q(&table),
                    column: format!("d{n}"),
                },
                alter_op(
                    alter(&table, &format!("c{n}")),
                    None,
                    None,
                    None,
                    Some(&format!("e{n}")),
                ),
            ]
        };
        let mut rev = revision(&id, &[], ops);
        rev.down_revisions = down;
        revisions.push(rev);
    }
    // Building the graph of a 5,000-long chain recurses once per revision (petgraph's
    // `tarjan_scc`), more than a test thread's default stack holds in a debug build.
    let (result, elapsed) = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let graph = RevisionGraph::build(&revisions);
            let started = std::time::Instant::now();
            let result = replay_heads(&revisions, &graph);
            (result, started.elapsed())
        })
        .expect("a thread starts")
        .join()
        .expect("the replay does not panic");
    assert!(
        result.problems.is_empty(),
        "{:#?}",
        &result.problems[..3.min(result.problems.len())]
    );
    assert_eq!(result.schema.tables.len(), 1000);
    assert_eq!(table(&result.schema, "t999").columns.len(), 7);
    eprintln!("replayed 5,000 revisions (25,000 operations) in {elapsed:?}");
}
