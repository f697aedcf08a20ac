//! Hand-built expectations and schemas for the rule tests.

use crate::schema::model::TableKey;
use std::path::PathBuf;

use crate::expect::{Expectations, load};
use crate::rules::{Finding, FindingSource, Rule};
use crate::schema::model::{Column, Origin, PrimaryKey, Schema, Table};
use crate::schema::types::PgType;
use crate::source::{FileId, Sources, Span};

/// Expectations read from `yaml`, with their sources.
pub fn expectations(yaml: &str) -> (Expectations, Sources) {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path: PathBuf = directory.path().join("expect.yaml");
    std::fs::write(&path, yaml).expect("write expectations");
    let mut sources = Sources::new();
    let expectations = load(&path, &mut sources).expect("test expectations load");
    (expectations, sources)
}

/// A revision file's span for origins (a made-up file id past the YAML's).
pub fn origin(revision: &str, start: u32) -> Origin {
    Origin {
        revision: revision.to_owned(),
        span: Span::new(FileId(7), start..start + 10),
    }
}

pub fn column(name: &str, ty: &str, nullable: bool) -> Column {
    Column {
        name: name.to_owned(),
        ty: PgType::parse(ty).expect("test type parses"),
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

/// `public.users (id integer NOT NULL PRIMARY KEY, email varchar(120) NOT NULL,
/// locked_until timestamp)` and `public.system_config (key varchar PRIMARY KEY, value text)`,
/// which satisfy [`EXPECTATIONS`].
pub fn matching_schema() -> Schema {
    let mut schema = Schema::default();
    let mut users = Table::new("public", "users");
    users.columns = vec![
        column("id", "integer", false),
        column("email", "varchar(120)", false),
        column("locked_until", "timestamp", true),
    ];
    users.primary_key = Some(PrimaryKey {
        name: "users_pkey".to_owned(),
        columns: vec!["id".to_owned()],
        set_by: None,
    });
    users.created_by = Some(origin("a1", 100));
    let mut config = Table::new("public", "system_config");
    config.columns = vec![
        column("key", "varchar(64)", false),
        column("value", "text", true),
    ];
    config.primary_key = Some(PrimaryKey {
        name: "system_config_pkey".to_owned(),
        columns: vec!["key".to_owned()],
        set_by: None,
    });
    for table in [users, config] {
        schema.tables.insert(
            TableKey::new(table.schema.clone(), table.name.clone()),
            table,
        );
    }
    schema
}

pub const EXPECTATIONS: &str = "version: 1
tables:
  users:
    primary_key: [id]
    columns:
      id: { type: integer, nullable: false }
      email: { type: varchar(120), nullable: false }
      locked_until: timestamp
  system_config:
    primary_key: [key]
    columns: { key: varchar, value: text }
    absent_columns: [id]
";

pub fn users(schema: &mut Schema) -> &mut Table {
    schema.table_mut("public", "users").expect("users exists")
}

/// The findings of `rule` only, from all six comparisons.
pub fn findings_of(
    rule: &str,
    expectations: &Expectations,
    schema: &Schema,
    source: FindingSource,
) -> Vec<Finding> {
    let rule = Rule::from_name(rule).expect("registered rule");
    let all = crate::rules::check_expectations(expectations, schema, source);
    let (mine, others): (Vec<Finding>, Vec<Finding>) =
        all.into_iter().partition(|finding| finding.rule == rule);
    assert!(
        others.is_empty(),
        "expected only {} findings, also got: {:#?}",
        rule.name(),
        others
    );
    mine
}

/// The text a span covers in `sources`.
pub fn text<'a>(sources: &'a Sources, span: &Span) -> &'a str {
    &sources.get(span.file).text[span.range.start as usize..span.range.end as usize]
}

#[test]
fn the_matching_schema_has_no_findings() {
    let (expectations, _) = expectations(EXPECTATIONS);
    for source in [FindingSource::Migrations, FindingSource::Database] {
        let findings = crate::rules::check_expectations(&expectations, &matching_schema(), source);
        assert!(findings.is_empty(), "{findings:#?}");
    }
}
