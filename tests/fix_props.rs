//! A property test over fix scripts built from hostile names: every fix kind that takes outside
//! text (untracked table and column adoption with their drops, sequence-behind, missing table and
//! column, type, nullability, primary key, renames, pending, stamped and partially applied
//! revisions, guidance) and the script's header, fed names holding line breaks, carriage returns,
//! `\!`, `\gset`, `:var`, `:'var'`, quotes, `$$`, `$tag$`, backslashes, `--`, `/*`, control
//! characters, ESC, BEL, U+2028, and 63-byte ASCII and multi-byte names. Each script must render
//! (it passes the script writer's own psql-aware check) and psql would run no meta-command
//! outside `\set \if \elif \else \endif \gset \echo \quit`.
//!
//! `PROPTEST_CASES` sets the number of scripts (64 by default, a few seconds); the test prints
//! how many it built and how long it took.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use driftlint::alembic::Flavor;
use driftlint::alembic::{LoadOptions, RevisionInput, load_inputs};
use driftlint::fix::ddl::{
    add_column_fix, alter_nullability_fix, alter_type_fix, create_table_fix, drop_column_fix,
    rename_column_fix, rename_table_fix, replace_primary_key_fix, untracked_column_fix,
    untracked_table_fix,
};
use driftlint::fix::guidance::{stamp_fix, unknown_revision_fix, upgrade_from_empty_fix};
use driftlint::fix::psql_lex::{ALLOWED_META_COMMANDS, meta_commands};
use driftlint::fix::revisions::{VersionChange, partial_fix, pending_upgrade_fix, stamped_fix};
use driftlint::fix::script::{ScriptMeta, render_script};
use driftlint::fix::sequence::{SequenceFacts, setval_fix};
use driftlint::fix::{Fix, Safety, comment};
use driftlint::graph::RevisionGraph;
use driftlint::replay::replay;
use driftlint::rules::{Finding, FindingSource, Rule};
use driftlint::schema::model::TableKey;
use driftlint::schema::model::{Column, PrimaryKey, Table};
use driftlint::schema::types::PgType;
use driftlint::source::Sources;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Pieces hostile names are made of.
const FRAGMENTS: &[&str] = &[
    "x",
    "users",
    "\n",
    "\r",
    "\r\n",
    "\\! id > pwned.txt",
    "\\gset",
    "\\",
    "\\\\",
    ":var",
    ":'var'",
    ":\"var\"",
    ":{?var}",
    ":driftlint_guard",
    "'",
    "''",
    "\"",
    "$$",
    "$tag$",
    "$1",
    "--",
    "/*",
    "*/",
    ";",
    " ",
    "\t",
    "\u{1b}[31m",
    "\u{7}",
    "\u{0}",
    "\u{b}",
    "\u{c}",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\u{202e}",
    "E'",
    "`id`",
    "ñ",
    "日本",
    "🦀",
    "\\if",
    "\\o /tmp/x",
];

/// A hostile name: a few fragments, sometimes padded or cut to PostgreSQL's 63 bytes.
fn name() -> impl Strategy<Value = String> {
    let pieces = prop::collection::vec(prop::sample::select(FRAGMENTS), 1..6);
    (pieces, 0..4u8).prop_map(|(pieces, shape)| {
        let mut name: String = pieces.concat();
        match shape {
            // 63 bytes of ASCII, or as many whole characters as fit in 63 bytes.
            1 => {
                while name.len() < 63 {
                    name.push('a');
                }
                let mut cut = 63;
                while !name.is_char_boundary(cut) {
                    cut -= 1;
                }
                name.truncate(cut);
            }
            2 => {
                let mut long = "ñ".repeat(31);
                long.push_str(&name);
                name = long;
            }
            _ => {}
        }
        name
    })
}

#[derive(Clone, Debug)]
struct Names {
    schema: String,
    table: String,
    column: String,
    other: String,
    sequence: String,
    revisions: [String; 2],
    message: String,
    path: String,
    database: String,
    allow_destructive: bool,
}

fn names() -> impl Strategy<Value = Names> {
    (
        (name(), name(), name(), name(), name()),
        (name(), name(), name(), name(), name()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                (table, column, other, sequence, first),
                (second, message, path, database, schema),
                allow_destructive,
                public,
            )| Names {
                schema: if public { "public".to_owned() } else { schema },
                table: tagged('t', &table),
                column: tagged('c', &column),
                other: tagged('o', &other),
                sequence: tagged('s', &sequence),
                revisions: [first, second.clone() + "2"],
                message,
                path,
                database,
                allow_destructive,
            },
        )
}

/// `name` behind a letter of its own, cut to 63 bytes: the table's names stay distinct (a
/// revision that creates two columns of one name is not the point here), hostile as they are.
fn tagged(tag: char, name: &str) -> String {
    let mut out = format!("{tag}{name}");
    let mut cut = out.len().min(63);
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out
}

/// A Python string literal holding `text`.
fn py(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn column(name: &str, ty: &str, nullable: bool) -> Column {
    Column {
        name: name.to_owned(),
        ty: PgType::parse(ty).expect("a test type"),
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

/// Two revisions with hostile ids, file names and names: the first creates the table, the
/// second adds, indexes and renames.
fn revisions(n: &Names) -> (Vec<driftlint::alembic::Revision>, Sources) {
    let [first, second] = &n.revisions;
    let table = py(&n.table);
    let schema = py(&n.schema);
    let one = format!(
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = {}\ndown_revision = None\n\n\
         def upgrade():\n    op.create_table({table}, sa.Column(\"id\", sa.Integer(), nullable=False), \
         sa.Column({col}, sa.Text(), nullable=False, server_default={msg}), \
         sa.Column({other}, sa.String(20)), sa.PrimaryKeyConstraint(\"id\"), schema={schema})\n",
        py(first),
        col = py(&n.column),
        other = py(&n.other),
        // A default holding a backslash is spelled `'…'` by the lowering of revision files, which
        // a server with standard_conforming_strings off reads differently; the script writer's
        // check refuses such a script, so the defaults here hold none.
        msg = py(&n.message.replace('\\', "")),
    );
    let two = format!(
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = {}\ndown_revision = {}\n\n\
         def upgrade():\n    op.add_column({table}, sa.Column({seq}, sa.Integer(), nullable=True), schema={schema})\n    \
         op.create_index({ix}, {table}, [{seq}], schema={schema})\n    \
         op.alter_column({table}, {other}, new_column_name={msg}, schema={schema})\n    \
         op.drop_column({table}, {col}, schema={schema})\n    \
         op.execute({sql})\n    \
         op.get_bind().execute({msg})\n    \
         op.rename_table({table}, {renamed}, schema={schema})\n",
        py(second),
        py(first),
        seq = py(&n.sequence),
        ix = py(&format!("ix_{}", n.sequence)),
        other = py(&n.other),
        col = py(&n.column),
        msg = py(&n.message),
        // The SQL of `op.execute` is the project's own, passed through as it is: a quote or a
        // backslash in it is the migration's to balance, not a name's.
        sql = py(&format!(
            "UPDATE t SET c = '{}'",
            n.message.replace(['\'', '\\'], "")
        )),
        renamed = py(&format!("{}_new", n.table)),
    );
    let inputs = [(one, first), (two, second)]
        .into_iter()
        .enumerate()
        .map(|(index, (text, id))| {
            let display = format!("{}/versions/{index}_{id}.py", n.path);
            RevisionInput::Bytes {
                path: PathBuf::from(format!("versions/{index}.py")),
                display,
                bytes: text.into_bytes(),
            }
        })
        .collect();
    let mut sources = Sources::new();
    let loaded = load_inputs(inputs, &mut sources, LoadOptions::default());
    (loaded.revisions, sources)
}

fn finding(rule: Rule, message: &str, fix: Option<Fix>) -> Finding {
    let finding = Finding::new(rule, FindingSource::Database, message);
    match fix {
        Some(fix) => finding.fix(fix),
        None => finding,
    }
}

/// Every fix kind built from `n`, as findings.
fn findings(n: &Names) -> Vec<Finding> {
    let s = n.schema.as_str();
    let t = n.table.as_str();
    let c = n.column.as_str();
    let adoption: Vec<String> = vec![
        format!("op.create_table({})", py(t)),
        n.message.clone(),
        n.other.clone(),
    ];
    let mut table = Table::new(s, t);
    let mut serial = column("id", "integer", false);
    serial.default = Some(format!(
        "nextval('{}'::regclass)",
        n.sequence.replace('\'', "''")
    ));
    serial.sequence = Some(TableKey::new(s, n.sequence.clone()));
    table.columns = vec![
        serial,
        column(c, "text", false),
        column(&n.other, "bigint", true),
    ];
    table.primary_key = Some(PrimaryKey {
        name: format!("{t}_pkey"),
        columns: vec!["id".to_owned(), c.to_owned()],
        set_by: None,
    });
    let mut model = driftlint::schema::model::Schema::default();
    model.tables.insert(TableKey::new(s, t), table.clone());
    let mut out = vec![
        finding(
            Rule::UntrackedTable,
            &n.message,
            Some(untracked_table_fix(s, t, &adoption)),
        ),
        finding(
            Rule::UntrackedColumn,
            &n.message,
            Some(untracked_column_fix(s, t, c, &adoption)),
        ),
        finding(
            Rule::SequenceBehind,
            &n.message,
            Some(setval_fix(&SequenceFacts {
                sequence_schema: s,
                sequence_name: &n.sequence,
                table_schema: s,
                table_name: t,
                column: c,
                increment: 1,
                start: 1,
                extreme_found: Some(1042),
                next_found: Some(25),
            })),
        ),
        finding(
            Rule::MissingTable,
            &n.message,
            Some(create_table_fix(&model, &table, Some(&n.revisions[0]))),
        ),
        finding(
            Rule::MissingColumn,
            &n.message,
            Some(add_column_fix(
                &model,
                s,
                t,
                &table.columns[1],
                Some(&n.revisions[1]),
            )),
        ),
        finding(
            Rule::ColumnTypeMismatch,
            &n.message,
            Some(alter_type_fix(
                s,
                t,
                c,
                &PgType::parse("numeric(6,2)").expect("type"),
                &PgType::parse("integer").expect("type"),
            )),
        ),
        finding(
            Rule::NullabilityMismatch,
            &n.message,
            Some(alter_nullability_fix(s, t, c, false)),
        ),
        finding(
            Rule::NullabilityMismatch,
            &n.message,
            Some(alter_nullability_fix(s, t, &n.other, true)),
        ),
        finding(
            Rule::PrimaryKeyMismatch,
            &n.message,
            Some(replace_primary_key_fix(
                s,
                t,
                table.primary_key.as_ref(),
                &PrimaryKey {
                    name: format!("{}_pkey", n.other),
                    columns: vec![n.other.clone()],
                    set_by: None,
                },
                std::slice::from_ref(&n.column),
            )),
        ),
        finding(
            Rule::ForbiddenColumnPresent,
            &n.message,
            Some(drop_column_fix(s, t, &n.other)),
        ),
        finding(
            Rule::MissingTable,
            &n.message,
            Some(rename_table_fix(s, &n.other, t)),
        ),
        finding(
            Rule::MissingColumn,
            &n.message,
            Some(rename_column_fix(s, t, &n.other, c)),
        ),
        finding(
            Rule::DatabaseNotVersioned,
            &n.message,
            Some(stamp_fix(Flavor::Alembic, &n.revisions, false)),
        ),
        finding(
            Rule::DatabaseNotVersioned,
            &n.message,
            Some(upgrade_from_empty_fix(Flavor::FlaskMigrate)),
        ),
        finding(
            Rule::DatabaseUnknownRevision,
            &n.message,
            Some(unknown_revision_fix(
                Flavor::Alembic,
                std::slice::from_ref(&n.revisions[0]),
                Some(std::slice::from_ref(&n.revisions[1])),
            )),
        ),
        finding(
            Rule::UnmodeledOperation,
            &n.message,
            Some(Fix {
                title: n.message.clone(),
                sql: comment(&n.message),
                safety: Safety::ReviewOnly,
            }),
        ),
        finding(Rule::MultipleHeads, &n.message, None),
    ];

    let (revisions, sources) = revisions(n);
    if revisions.len() == 2 {
        let graph = RevisionGraph::build(&revisions);
        let (Some(first), Some(second)) = (
            graph.index_of(&n.revisions[0]),
            graph.index_of(&n.revisions[1]),
        ) else {
            return out;
        };
        let version_table = TableKey::new(n.schema.clone(), format!("{}_version", n.table));
        out.push(finding(
            Rule::DatabaseBehindHead,
            &n.message,
            Some(pending_upgrade_fix(
                &revisions,
                &graph,
                &sources,
                &[first],
                &[second],
                &[],
                &version_table,
            )),
        ));
        out.push(finding(
            Rule::StampedNotApplied,
            &n.message,
            Some(stamped_fix(&revisions, &graph, &sources, &[first, second])),
        ));
        // The first revision's table without one of its columns, the second revision not run.
        let mut live = replay(&revisions, &graph, &[first]).schema;
        for table in live.tables.values_mut() {
            table.columns.retain(|column| column.name != "id");
        }
        for (index, version) in [(first, None), (second, Some(&n.revisions[0]))] {
            let change = version.map(|from| VersionChange {
                table: version_table.clone(),
                from: vec![from.clone()],
                to: vec![n.revisions[1].clone()],
            });
            out.push(finding(
                Rule::PartiallyAppliedRevision,
                &n.message,
                partial_fix(&revisions, &graph, &sources, index, &live, change.as_ref()),
            ));
        }
    }
    out
}

#[test]
fn fix_scripts_from_hostile_names_run_no_other_meta_command() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(64);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let started = Instant::now();
    let scripts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let with_revisions = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let outside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (counted, revised, disallowed) = (scripts.clone(), with_revisions.clone(), outside.clone());
    let result = runner.run(&names(), move |n| {
        let findings = findings(&n);
        if findings
            .iter()
            .any(|f| f.rule == Rule::PartiallyAppliedRevision)
        {
            revised.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let meta = ScriptMeta {
            migrations: n.path.clone(),
            expectations: Some(format!("{}/expectations.yaml", n.path)),
            database: Some(format!(
                "postgresql://app:***@{}:5432/{}?sslmode=prefer",
                n.database, n.database
            )),
            generated_at: "2026-12-02 16:00:00 UTC".to_owned(),
            version: n.message.clone(),
        };
        let script = render_script(&findings, &meta, n.allow_destructive)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let found = meta_commands(&script).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let bad: Vec<_> = found
            .iter()
            .filter(|m| !ALLOWED_META_COMMANDS.contains(&m.name.as_str()))
            .collect();
        disallowed.fetch_add(bad.len(), std::sync::atomic::Ordering::Relaxed);
        prop_assert!(bad.is_empty(), "{bad:?}\n{script}");
        // Each line psql starts a meta-command on is one of the script's own shapes.
        for command in found.iter().filter(|m| m.starts_line) {
            prop_assert!(
                ["set", "if", "elif", "else", "endif", "echo"].contains(&command.name.as_str()),
                "{command:?}"
            );
        }
        Ok(())
    });
    let elapsed = started.elapsed();
    eprintln!(
        "fix_props: {} scripts ({} with the revision fixes) from hostile names in {:.1} s; \
         {} meta-commands outside the allowed set",
        scripts.load(std::sync::atomic::Ordering::Relaxed),
        with_revisions.load(std::sync::atomic::Ordering::Relaxed),
        elapsed.as_secs_f64(),
        outside.load(std::sync::atomic::Ordering::Relaxed),
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}
