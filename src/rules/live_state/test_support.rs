//! Hand-built projects and databases for the live rules' tests: revisions written as lists of
//! operations (each on its own line of a made-up revision file, so labels point somewhere
//! real), and live snapshots made by replaying some of them and then changing the result the
//! way a person with `psql` would.

use crate::schema::model::TableKey;
use std::collections::HashMap;
use std::sync::Arc;

use super::LiveState;
use crate::alembic::Revision;
use crate::expect::Expectations;
use crate::graph::RevisionGraph;
use crate::live::LiveSnapshot;
use crate::replay::{replay, replay_heads};
use crate::rules::{AllowedHeads, Context, Finding, Flavor, run_all};
use crate::schema::model::{Column, PrimaryKey, Schema, SequenceState, Table};
use crate::schema::ops::{ColumnDef, Constraint, ConstraintKind, Op, OpAt, QualName};
use crate::schema::types::PgType;
use crate::source::{Sources, Span};

fn table_name(name: &str) -> QualName {
    match name.split_once('.') {
        Some((schema, table)) => QualName::new(Some(schema), table),
        None => QualName::new(None, name),
    }
}

/// `sa.Column(name, ty)`, nullable unless made otherwise.
pub fn col(name: &str, ty: &str) -> ColumnDef {
    ColumnDef::new(name, PgType::parse(ty).expect("test type parses"))
}

pub trait ColumnDefExt {
    fn pk(self) -> Self;
    fn not_null(self) -> Self;
    fn default(self, sql: &str) -> Self;
}

impl ColumnDefExt for ColumnDef {
    fn pk(mut self) -> Self {
        self.primary_key = true;
        self.nullable = Some(false);
        self
    }
    fn not_null(mut self) -> Self {
        self.nullable = Some(false);
        self
    }
    fn default(mut self, sql: &str) -> Self {
        self.server_default = Some(sql.to_owned());
        self
    }
}

pub fn create_table(name: &str, columns: Vec<ColumnDef>) -> Op {
    Op::CreateTable {
        table: table_name(name),
        columns,
        constraints: Vec::new(),
        indexes: Vec::new(),
    }
}

pub fn add_column(table: &str, column: ColumnDef) -> Op {
    Op::AddColumn {
        table: table_name(table),
        column,
    }
}

pub fn drop_column_op(table: &str, column: &str) -> Op {
    Op::DropColumn {
        table: table_name(table),
        column: column.to_owned(),
    }
}

pub fn drop_table_op(table: &str) -> Op {
    Op::DropTable {
        table: table_name(table),
    }
}

pub fn alter_type(table: &str, column: &str, ty: &str) -> Op {
    Op::AlterColumn {
        table: table_name(table),
        column: column.to_owned(),
        new_type: Some(PgType::parse(ty).expect("test type parses")),
        nullable: None,
        server_default: None,
        new_name: None,
    }
}

pub fn alter_nullable(table: &str, column: &str, nullable: bool) -> Op {
    Op::AlterColumn {
        table: table_name(table),
        column: column.to_owned(),
        new_type: None,
        nullable: Some(nullable),
        server_default: None,
        new_name: None,
    }
}

pub fn rename_column_op(table: &str, column: &str, new_name: &str) -> Op {
    Op::AlterColumn {
        table: table_name(table),
        column: column.to_owned(),
        new_type: None,
        nullable: None,
        server_default: None,
        new_name: Some(new_name.to_owned()),
    }
}

pub fn rename_table_op(table: &str, new_name: &str) -> Op {
    Op::RenameTable {
        table: table_name(table),
        new_name: new_name.to_owned(),
    }
}

pub fn drop_primary_key_op(table: &str, name: &str) -> Op {
    Op::DropConstraint {
        table: table_name(table),
        name: name.to_owned(),
        kind: Some(ConstraintKind::PrimaryKey),
    }
}

pub fn create_primary_key_op(table: &str, name: &str, columns: &[&str]) -> Op {
    Op::AddConstraint {
        table: table_name(table),
        constraint: Constraint::PrimaryKey {
            name: Some(name.to_owned()),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        },
    }
}

/// One revision of a test project.
pub struct Step<'a> {
    pub id: &'a str,
    pub down: &'a [&'a str],
    pub depends_on: &'a [&'a str],
    pub ops: Vec<Op>,
}

pub fn step<'a>(id: &'a str, down: &'a [&'a str], ops: Vec<Op>) -> Step<'a> {
    Step {
        id,
        down,
        depends_on: &[],
        ops,
    }
}

/// Revisions, their graph and their head replay, with the files they point into.
pub struct TestProject {
    pub sources: Sources,
    pub revisions: Vec<Revision>,
    pub graph: RevisionGraph,
    pub head: Schema,
    pub flavor: Flavor,
}

impl TestProject {
    pub fn new(steps: Vec<Step<'_>>) -> TestProject {
        let mut sources = Sources::new();
        let mut revisions = Vec::new();
        for step in steps {
            let mut text = format!(
                "\"\"\"revision {id}\"\"\"\nrevision = {id:?}\ndown_revision = {:?}\n\n\ndef upgrade():\n",
                step.down,
                id = step.id
            );
            let id_start = text.find("revision =").expect("written above") as u32;
            let id_end = id_start + format!("revision = {:?}", step.id).len() as u32;
            let mut op_ranges = Vec::new();
            for (n, _) in step.ops.iter().enumerate() {
                let line = format!("    op_{n}()");
                let start = text.len() as u32;
                text.push_str(&line);
                text.push('\n');
                op_ranges.push(start + 4..start + line.len() as u32);
            }
            let file = sources.add(
                std::path::PathBuf::from(format!("versions/{}.py", step.id)),
                Arc::from(text),
            );
            revisions.push(Revision {
                id: step.id.to_owned(),
                down_revisions: step.down.iter().map(|d| (*d).to_owned()).collect(),
                branch_labels: Vec::new(),
                depends_on: step.depends_on.iter().map(|d| (*d).to_owned()).collect(),
                message: Some(format!("revision {}", step.id)),
                file,
                id_span: Span::new(file, id_start..id_end),
                down_span: None,
                branch_labels_span: None,
                depends_on_span: None,
                upgrade_span: None,
                upgrade: step
                    .ops
                    .into_iter()
                    .zip(op_ranges)
                    .map(|(op, range)| OpAt {
                        op,
                        span: Span::new(file, range),
                        autocommit: false,
                    })
                    .collect(),
            });
        }
        let graph = RevisionGraph::build(&revisions);
        let head = replay_heads(&revisions, &graph).schema;
        TestProject {
            sources,
            revisions,
            graph,
            head,
            flavor: Flavor::Alembic,
        }
    }

    pub fn index(&self, id: &str) -> usize {
        self.graph
            .index_of(id)
            .expect("a revision of the test project")
    }

    /// The database `alembic upgrade` to `at` builds: the replay with its origins removed, an
    /// `alembic_version` table holding `at`, and every sequence fresh (never called).
    pub fn live_at(&self, at: &[&str]) -> LiveSnapshot {
        let targets: Vec<usize> = at.iter().map(|id| self.index(id)).collect();
        let mut schema = replay(&self.revisions, &self.graph, &targets).schema;
        for table in schema.tables.values_mut() {
            table.created_by = None;
            if let Some(key) = &mut table.primary_key {
                key.set_by = None;
            }
            for column in &mut table.columns {
                column.created_by = None;
                column.type_set_by = None;
                column.nullable_set_by = None;
            }
        }
        for sequence in schema.sequences.values_mut() {
            sequence.state = Some(SequenceState {
                last_value: sequence.start,
                is_called: false,
            });
        }
        let mut version = Table::new("public", "alembic_version");
        version.columns.push(Column {
            name: "version_num".to_owned(),
            ty: PgType::parse("varchar(32)").expect("type"),
            nullable: false,
            default: None,
            identity: None,
            sequence: None,
            created_by: None,
            type_set_by: None,
            nullable_set_by: None,
            default_set_by: None,
        });
        version.primary_key = Some(PrimaryKey {
            name: "alembic_version_pkc".to_owned(),
            columns: vec!["version_num".to_owned()],
            set_by: None,
        });
        schema
            .tables
            .insert(TableKey::new("public", "alembic_version"), version);
        let mut versions: Vec<String> = at.iter().map(|id| (*id).to_owned()).collect();
        versions.sort();
        LiveSnapshot {
            schema,
            versions: Some(versions),
            version_table: Some(TableKey::new("public", "alembic_version")),
            column_max: HashMap::new(),
            version_details: Default::default(),
            unreadable: Vec::new(),
            round_trips: 4,
            connections: 1,
            server_version: "15.0".to_owned(),
        }
    }

    /// Expectations read from `yaml`, registered in this project's sources.
    pub fn expectations(&mut self, yaml: &str) -> Expectations {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("expect.yaml");
        std::fs::write(&path, yaml).expect("write expectations");
        crate::expect::load(&path, &mut self.sources).expect("test expectations load")
    }

    pub fn state(&self, live: LiveSnapshot, expectations: Option<&Expectations>) -> LiveState {
        LiveState::new(live, &self.revisions, &self.graph, &self.head, expectations)
    }

    /// Every rule's findings (static and live), sorted as the report sorts them.
    pub fn findings(
        &self,
        live: LiveSnapshot,
        expectations: Option<&Expectations>,
    ) -> Vec<Finding> {
        let state = self.state(live, expectations);
        let ctx = Context {
            sources: &self.sources,
            revisions: &self.revisions,
            graph: &self.graph,
            allowed_heads: expectations.map_or_else(AllowedHeads::default, |e| e.allowed_heads()),
            allowed_heads_span: None,
            flavor: self.flavor,
            input_findings: &[],
            expectations,
            head_schema: Some(&self.head),
            replay_problems: &[],
            live: Some(&state),
        };
        run_all(&ctx)
    }

    /// The text a label covers.
    pub fn text(&self, span: &Span) -> &str {
        &self.sources.get(span.file).text[span.range.start as usize..span.range.end as usize]
    }

    /// `versions/r2.py:op_1()` for a label.
    pub fn place(&self, span: &Span) -> String {
        format!(
            "{}:{}",
            self.sources.get(span.file).display,
            self.text(span)
        )
    }
}

/// `rule: object (revision)` for each finding, `-` where there is no object.
pub fn lines(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|finding| {
            let object = finding.object.as_ref().map_or_else(
                || "-".to_owned(),
                |object| match &object.column {
                    Some(column) => format!("{}.{}.{column}", object.schema, object.table),
                    None => format!("{}.{}", object.schema, object.table),
                },
            );
            match &finding.revision {
                Some(revision) => format!("{}: {object} ({revision})", finding.rule),
                None => format!("{}: {object}", finding.rule),
            }
        })
        .collect()
}

pub fn table_mut<'a>(schema: &'a mut Schema, name: &str) -> &'a mut Table {
    let (schema_name, table) = match name.split_once('.') {
        Some((schema_name, table)) => (schema_name, table),
        None => ("public", name),
    };
    schema
        .table_mut(schema_name, table)
        .expect("the table exists")
}

pub fn drop_column(schema: &mut Schema, table: &str, column: &str) {
    table_mut(schema, table)
        .columns
        .retain(|present| present.name != column);
}

pub fn drop_table(schema: &mut Schema, name: &str) {
    let (schema_name, table) = match name.split_once('.') {
        Some((schema_name, table)) => (schema_name, table),
        None => ("public", name),
    };
    schema.tables.remove(&TableKey::new(schema_name, table));
}

/// A plain column as `ALTER TABLE ... ADD COLUMN` by hand makes it.
pub fn plain_column(name: &str, ty: &str) -> Column {
    Column {
        name: name.to_owned(),
        ty: PgType::parse(ty).expect("test type parses"),
        nullable: true,
        default: None,
        identity: None,
        sequence: None,
        created_by: None,
        type_set_by: None,
        nullable_set_by: None,
        default_set_by: None,
    }
}

/// The project most tests use:
/// - `r1` creates `users (id serial PRIMARY KEY, email varchar(120) NOT NULL)` and
///   `submissions (id serial PRIMARY KEY, user_id integer NOT NULL, score integer)`;
/// - `r2` adds `users.is_guest boolean NOT NULL DEFAULT false` and `users.is_test_account`;
/// - `r3` adds `users.locked_until timestamp` and creates `system_config (key varchar(64)
///   PRIMARY KEY, value text)`.
pub fn app_project() -> TestProject {
    TestProject::new(vec![
        step(
            "r1",
            &[],
            vec![
                create_table(
                    "users",
                    vec![
                        col("id", "integer").pk(),
                        col("email", "varchar(120)").not_null(),
                    ],
                ),
                create_table(
                    "submissions",
                    vec![
                        col("id", "integer").pk(),
                        col("user_id", "integer").not_null(),
                        col("score", "integer"),
                    ],
                ),
            ],
        ),
        step(
            "r2",
            &["r1"],
            vec![
                add_column(
                    "users",
                    col("is_guest", "boolean").not_null().default("false"),
                ),
                add_column("users", col("is_test_account", "boolean")),
            ],
        ),
        step(
            "r3",
            &["r2"],
            vec![
                add_column("users", col("locked_until", "timestamp")),
                create_table(
                    "system_config",
                    vec![col("key", "varchar(64)").pk(), col("value", "text")],
                ),
            ],
        ),
    ])
}
