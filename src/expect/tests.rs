use std::path::{Path, PathBuf};

use super::*;
use crate::schema::model::{Column, PrimaryKey, Schema, Table};
use crate::source::LineCol;

/// Writes `files` (name, text) into a fresh directory and returns it.
fn directory_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let directory = tempfile::tempdir().expect("temporary directory");
    for (name, text) in files {
        std::fs::write(directory.path().join(name), text).expect("write file");
    }
    directory
}

fn load_one(text: &str) -> (Result<Expectations, Error>, Sources) {
    let directory = directory_with(&[("expect.yaml", text)]);
    let mut sources = Sources::new();
    let result = load(&directory.path().join("expect.yaml"), &mut sources);
    (result, sources)
}

fn loads(text: &str) -> (Expectations, Sources) {
    match load_one(text) {
        (Ok(expectations), sources) => (expectations, sources),
        (Err(error), _) => panic!("expected the file to load, got: {error:?}"),
    }
}

fn fails(text: &str) -> Error {
    match load_one(text).0 {
        Ok(expectations) => panic!("expected an error, loaded: {expectations:#?}"),
        Err(error) => error,
    }
}

/// The text a span covers.
fn spanned<'a>(sources: &'a Sources, span: &Span) -> &'a str {
    &sources.get(span.file).text[span.range.start as usize..span.range.end as usize]
}

const SPEC_EXAMPLE: &str = r#"# yaml-language-server: $schema=driftlint.schema.json
version: 1
schema: public
heads: 1
tables:
  users:
    primary_key: [id]
    columns:
      id: { type: integer, nullable: false }
      email: { type: varchar(120), nullable: false }
      is_guest: boolean
      is_test_account: boolean
      locked_until: timestamp
  submissions:
    columns: [id, score]
  system_config:
    primary_key: [key]
    columns: { key: varchar, value: text }
    absent_columns: [id]
sequences: all
lint:
  severity: { nullability-mismatch: warning, multiple-heads: error }
  ignore:
    - { rule: missing-table, table: spatial_ref_sys }
"#;

#[test]
fn reads_the_format_with_spans() {
    let (expectations, sources) = loads(SPEC_EXAMPLE);
    assert_eq!(expectations.default_schema, "public");
    assert_eq!(expectations.allowed_heads(), AllowedHeads::Count(1));
    let heads_span = expectations.allowed_heads_span().expect("heads is set");
    assert_eq!(spanned(&sources, &heads_span), "1");
    assert_eq!(
        sources.line_col(heads_span.file, heads_span.range.start),
        LineCol { line: 4, column: 8 }
    );

    let names: Vec<String> = expectations
        .tables
        .iter()
        .map(TableExpectation::qualified_name)
        .collect();
    assert_eq!(
        names,
        ["public.users", "public.submissions", "public.system_config"]
    );

    let users = expectations.table("public", "users").expect("users");
    assert_eq!(spanned(&sources, &users.spans.key), "users");
    let primary_key = users.primary_key.as_ref().expect("primary key");
    assert_eq!(primary_key.column_names(), ["id"]);
    assert_eq!(spanned(&sources, &primary_key.spans.key), "primary_key");
    assert_eq!(spanned(&sources, &primary_key.spans.value), "[id]");
    assert_eq!(spanned(&sources, &primary_key.columns[0].span), "id");

    let email = users.column("email").expect("email");
    assert_eq!(spanned(&sources, &email.spans.key), "email");
    assert_eq!(
        spanned(&sources, &email.spans.value),
        "{ type: varchar(120), nullable: false }"
    );
    let email_type = email.ty.as_ref().expect("typed");
    assert_eq!(email_type.ty.to_string(), "character varying(120)");
    assert_eq!(email_type.written, "varchar(120)");
    assert_eq!(spanned(&sources, &email_type.span), "varchar(120)");
    let email_nullable = email.nullable.as_ref().expect("nullability given");
    assert!(!email_nullable.nullable);
    assert_eq!(spanned(&sources, &email_nullable.span), "false");

    let is_guest = users.column("is_guest").expect("is_guest");
    assert_eq!(
        is_guest.ty.as_ref().map(|ty| ty.ty.to_string()),
        Some("boolean".to_owned())
    );
    assert_eq!(is_guest.nullable, None);
    let locked_until = users.column("locked_until").expect("locked_until");
    assert_eq!(
        locked_until.ty.as_ref().map(|ty| ty.ty.to_string()),
        Some("timestamp without time zone".to_owned())
    );

    let submissions = expectations.table("public", "submissions").expect("table");
    assert_eq!(submissions.columns.len(), 2);
    assert!(submissions.columns.iter().all(|c| c.ty.is_none()));
    assert_eq!(
        spanned(&sources, &submissions.columns[1].spans.key),
        "score"
    );

    let config = expectations
        .table("public", "system_config")
        .expect("table");
    assert_eq!(config.absent_columns.len(), 1);
    assert_eq!(spanned(&sources, &config.absent_columns[0].span), "id");

    assert_eq!(expectations.sequences, SequencesExpectation::All);
    assert_eq!(
        expectations.severity_override(Rule::from_name("nullability-mismatch").expect("rule")),
        Some(Severity::Warning)
    );
    let severity = &expectations.lint.severity[0];
    assert_eq!(
        spanned(&sources, &severity.spans.key),
        "nullability-mismatch"
    );
    assert_eq!(spanned(&sources, &severity.spans.value), "warning");
    let ignore = &expectations.lint.ignore[0];
    assert_eq!(ignore.rule.name(), "missing-table");
    assert_eq!(
        ignore.table,
        Some(TableKey::new("public", "spatial_ref_sys"))
    );
    assert_eq!(spanned(&sources, &ignore.rule_span), "missing-table");
    assert_eq!(
        spanned(&sources, &ignore.span),
        "{ rule: missing-table, table: spatial_ref_sys }"
    );
}

#[test]
fn qualified_names_heads_labels_and_sequence_lists() {
    let (expectations, _) = loads(
        r#"version: 1
schema: app
heads: [main, analytics]
tables:
  users: {}
  audit.events:
  "public.flags":
sequences: [users, audit.events]
"#,
    );
    assert_eq!(
        expectations.allowed_heads(),
        AllowedHeads::Labels(vec!["main".to_owned(), "analytics".to_owned()])
    );
    let names: Vec<String> = expectations
        .tables
        .iter()
        .map(TableExpectation::qualified_name)
        .collect();
    assert_eq!(names, ["app.users", "audit.events", "public.flags"]);
    assert!(expectations.sequences.includes("app", "users"));
    assert!(expectations.sequences.includes("audit", "events"));
    assert!(!expectations.sequences.includes("public", "users"));
}

#[test]
fn defaults_when_settings_are_left_out() {
    let (expectations, _) = loads("version: 1\n");
    assert_eq!(expectations.default_schema, "public");
    assert_eq!(expectations.allowed_heads(), AllowedHeads::Count(1));
    assert_eq!(expectations.allowed_heads_span(), None);
    assert!(expectations.tables.is_empty());
    assert_eq!(expectations.sequences, SequencesExpectation::All);
    assert_eq!(expectations.lint, LintConfig::default());
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_read() {
    let (expectations, sources) =
        loads("\u{feff}version: 1\r\ntables:\r\n  users:\r\n    columns: [id]\r\n");
    let users = expectations.table("public", "users").expect("users");
    assert_eq!(spanned(&sources, &users.columns[0].spans.key), "id");
}

/// One invalid file: what it says, and where.
struct ErrorCase {
    name: &'static str,
    yaml: &'static str,
    kind: ErrorKind,
    message: &'static str,
    help: &'static str,
    line: usize,
    column: usize,
}

#[test]
fn invalid_files_are_reported_at_their_line_and_column() {
    let cases = [
        ErrorCase {
            name: "bad indentation",
            yaml: "version: 1\ntables:\n  users:\n    columns: [id]\n   bad: 1\n",
            kind: ErrorKind::Syntax,
            message: "invalid YAML: did not find expected key",
            help: "indentation",
            line: 5,
            column: 4,
        },
        ErrorCase {
            name: "unclosed flow list",
            yaml: "version: 1\ntables:\n  users:\n    columns: [id, name\n",
            kind: ErrorKind::Syntax,
            message: "invalid YAML: did not find expected ',' or ']', while parsing a flow sequence",
            help: "close the list with `]`",
            line: 5,
            column: 1,
        },
        ErrorCase {
            name: "tab indentation",
            yaml: "version: 1\ntables:\n\tusers: {}\n",
            kind: ErrorKind::Syntax,
            message: "invalid YAML",
            help: "spaces",
            line: 3,
            column: 1,
        },
        ErrorCase {
            name: "a table key with a trailing space",
            yaml: "version: 1\ntables:\n  \"trail \":\n    columns: [id]\n",
            kind: ErrorKind::WrongShape,
            message: "a key of `tables`, \"trail \", starts or ends with whitespace",
            help: "PostgreSQL reads \"trail \" and \"trail\" as different names",
            line: 3,
            column: 3,
        },
        ErrorCase {
            name: "a column key with a leading space",
            yaml: "version: 1\ntables:\n  users:\n    columns:\n      \" id\": integer\n",
            kind: ErrorKind::WrongShape,
            message: "a key of `columns`, \" id\", starts or ends with whitespace",
            help: "driftlint does not trim names",
            line: 5,
            column: 7,
        },
        ErrorCase {
            name: "a column name in a list with a trailing tab",
            yaml: "version: 1\ntables:\n  users:\n    columns: [id, \"name\\t\"]\n",
            kind: ErrorKind::WrongShape,
            message: "starts or ends with whitespace",
            help: "driftlint does not trim names",
            line: 4,
            column: 19,
        },
        ErrorCase {
            name: "a schema with a trailing space",
            yaml: "version: 1\nschema: \"public \"\ntables: {}\n",
            kind: ErrorKind::WrongShape,
            message: "`schema`, \"public \", starts or ends with whitespace",
            help: "remove the whitespace",
            line: 2,
            column: 9,
        },
        ErrorCase {
            name: "a schema-qualified table with a space after the dot",
            yaml: "version: 1\ntables:\n  \"public. users\": {}\n",
            kind: ErrorKind::InvalidValue,
            message: "whitespace around a part of the name",
            help: "",
            line: 3,
            column: 3,
        },
        ErrorCase {
            name: "unknown top-level key",
            yaml: "version: 1\ntabels:\n  users: {}\n",
            kind: ErrorKind::UnknownKey,
            message: "unknown key `tabels` in the expectations file",
            help: "did you mean `tables`? the keys of the expectations file are `version`, `schema`, `heads`, `tables`, `sequences` and `lint`",
            line: 2,
            column: 1,
        },
        ErrorCase {
            name: "unknown table key",
            yaml: "version: 1\ntables:\n  users:\n    primary_keys: [id]\n",
            kind: ErrorKind::UnknownKey,
            message: "unknown key `primary_keys` in table `users`",
            help: "did you mean `primary_key`?",
            line: 4,
            column: 5,
        },
        ErrorCase {
            name: "unknown column key",
            yaml: "version: 1\ntables:\n  users:\n    columns:\n      email: { type: text, null: true }\n",
            kind: ErrorKind::UnknownKey,
            message: "unknown key `null` in column `users.email`",
            help: "the keys of column `users.email` are `type` and `nullable`",
            line: 5,
            column: 28,
        },
        ErrorCase {
            name: "unknown type",
            yaml: "version: 1\ntables:\n  users:\n    columns:\n      id: { type: integr }\n",
            kind: ErrorKind::InvalidType,
            message: "invalid type `integr` for column `users.id`",
            help: "did you mean `integer`?",
            line: 5,
            column: 19,
        },
        ErrorCase {
            name: "bad length in shorthand",
            yaml: "version: 1\ntables:\n  users:\n    columns:\n      email: varchar(abc)\n",
            kind: ErrorKind::InvalidType,
            message: "invalid type `varchar(abc)`",
            help: "write a whole number, as in `varchar(120)`",
            line: 5,
            column: 14,
        },
        ErrorCase {
            name: "empty type",
            yaml: "version: 1\ntables:\n  users:\n    columns:\n      email: { type: '' }\n",
            kind: ErrorKind::InvalidType,
            message: "invalid type ``",
            help: "the type is empty",
            line: 5,
            column: 22,
        },
        ErrorCase {
            name: "columns as a number",
            yaml: "version: 1\ntables:\n  users:\n    columns: 3\n",
            kind: ErrorKind::WrongShape,
            message: "`columns` must be a mapping of column names to types, or a list of names, found the number `3`",
            help: "write it as in",
            line: 4,
            column: 14,
        },
        ErrorCase {
            name: "nullable not a boolean",
            yaml: "version: 1\ntables:\n  users:\n    columns:\n      email: { nullable: sometimes }\n",
            kind: ErrorKind::WrongShape,
            message: "`nullable` must be `true` or `false`, found the text `sometimes`",
            help: "nullable: false",
            line: 5,
            column: 26,
        },
        ErrorCase {
            name: "table as a list",
            yaml: "version: 1\ntables:\n  users: [id, email]\n",
            kind: ErrorKind::WrongShape,
            message: "table `users` must be a mapping with `primary_key`, `columns` or `absent_columns`",
            help: "columns:",
            line: 3,
            column: 10,
        },
        ErrorCase {
            name: "unknown rule in severity",
            yaml: "version: 1\nlint:\n  severity:\n    missing-colum: warning\n",
            kind: ErrorKind::UnknownRule,
            message: "unknown rule `missing-colum`",
            help: "did you mean `missing-column`?",
            line: 4,
            column: 5,
        },
        ErrorCase {
            name: "unknown severity",
            yaml: "version: 1\nlint:\n  severity: { missing-column: fatal }\n",
            kind: ErrorKind::InvalidValue,
            message: "unknown severity `fatal` for rule `missing-column`",
            help: "write `error`, `warning` or `info`",
            line: 3,
            column: 31,
        },
        ErrorCase {
            name: "unknown rule in ignore",
            yaml: "version: 1\nlint:\n  ignore:\n    - { rule: no-such-rule }\n",
            kind: ErrorKind::UnknownRule,
            message: "unknown rule `no-such-rule`",
            help: "`driftlint explain --list` lists every rule",
            line: 4,
            column: 15,
        },
        ErrorCase {
            name: "ignore entry without a rule",
            yaml: "version: 1\nlint:\n  ignore:\n    - { table: users }\n",
            kind: ErrorKind::InvalidValue,
            message: "an entry of `lint.ignore` names no rule",
            help: "name the rule to ignore",
            line: 4,
            column: 7,
        },
        ErrorCase {
            name: "unknown ignore key",
            yaml: "version: 1\nlint:\n  ignore:\n    - { rule: missing-table, tables: users }\n",
            kind: ErrorKind::UnknownKey,
            message: "unknown key `tables` in an entry of `lint.ignore`",
            help: "did you mean `table`?",
            line: 4,
            column: 30,
        },
        ErrorCase {
            name: "table declared twice in one mapping",
            yaml: "version: 1\ntables:\n  users: {}\n  orders: {}\n  users: {}\n",
            kind: ErrorKind::DuplicateTable,
            message: "table `users` is declared twice",
            help: "merge the two entries into one",
            line: 5,
            column: 3,
        },
        ErrorCase {
            name: "table declared twice, once qualified",
            yaml: "version: 1\ntables:\n  users: {}\n  public.users: {}\n",
            kind: ErrorKind::DuplicateTable,
            message: "table public.users is declared twice",
            help: "merge the two entries into one",
            line: 4,
            column: 3,
        },
        ErrorCase {
            name: "duplicate key elsewhere",
            yaml: "version: 1\nheads: 1\nheads: 2\n",
            kind: ErrorKind::DuplicateKey,
            message: "key `heads` appears twice in the same mapping",
            help: "keep one",
            line: 3,
            column: 1,
        },
        ErrorCase {
            name: "column listed twice",
            yaml: "version: 1\ntables:\n  users:\n    columns: [id, email, id]\n",
            kind: ErrorKind::DuplicateKey,
            message: "`id` appears twice in `columns`",
            help: "list each name once",
            line: 4,
            column: 26,
        },
        ErrorCase {
            name: "column both expected and absent",
            yaml: "version: 1\ntables:\n  users:\n    columns: [id, legacy]\n    absent_columns: [legacy]\n",
            kind: ErrorKind::InvalidValue,
            message: "column `legacy` of table `users` is both expected and listed in `absent_columns`",
            help: "keep the column in one of the two places",
            line: 5,
            column: 22,
        },
        ErrorCase {
            name: "missing version",
            yaml: "# expectations\ntables:\n  users: {}\n",
            kind: ErrorKind::MissingVersion,
            message: "the expectations file has no `version`",
            help: "start the file with `version: 1`",
            line: 2,
            column: 1,
        },
        ErrorCase {
            name: "empty file",
            yaml: "",
            kind: ErrorKind::MissingVersion,
            message: "the expectations file has no `version`",
            help: "version: 1",
            line: 1,
            column: 1,
        },
        ErrorCase {
            name: "version 2",
            yaml: "version: 2\n",
            kind: ErrorKind::UnsupportedVersion,
            message: "expectations version 2 is not supported",
            help: "write `version: 1`",
            line: 1,
            column: 10,
        },
        ErrorCase {
            name: "version as text",
            yaml: "version: one\n",
            kind: ErrorKind::WrongShape,
            message: "`version` must be the number 1, found the text `one`",
            help: "version: 1",
            line: 1,
            column: 10,
        },
        ErrorCase {
            name: "zero heads",
            yaml: "version: 1\nheads: 0\n",
            kind: ErrorKind::InvalidValue,
            message: "`heads` must be 1 or more, found 0",
            help: "heads: 1",
            line: 2,
            column: 8,
        },
        ErrorCase {
            name: "heads as a mapping",
            yaml: "version: 1\nheads: { main: 1 }\n",
            kind: ErrorKind::WrongShape,
            message: "`heads` must be a number or a list of branch labels, found a mapping",
            help: "heads: 1",
            line: 2,
            column: 8,
        },
        ErrorCase {
            name: "sequences word",
            yaml: "version: 1\nsequences: some\n",
            kind: ErrorKind::InvalidValue,
            message: "`sequences` must be `all`, `none` or a list of tables, found `some`",
            help: "sequences: none",
            line: 2,
            column: 12,
        },
        ErrorCase {
            name: "table name with two dots",
            yaml: "version: 1\ntables:\n  db.public.users: {}\n",
            kind: ErrorKind::InvalidValue,
            message: "`db.public.users` is not a table name; write `table` or `schema.table`",
            help: "audit.events",
            line: 3,
            column: 3,
        },
        ErrorCase {
            name: "numeric column name in a list",
            yaml: "version: 1\ntables:\n  users:\n    columns: [id, 2]\n",
            kind: ErrorKind::WrongShape,
            message: "each entry of `columns` must be a name, found the number `2`",
            help: "quote it",
            line: 4,
            column: 19,
        },
        ErrorCase {
            name: "top level is a list",
            yaml: "- version: 1\n",
            kind: ErrorKind::WrongShape,
            message: "the expectations file must be a mapping",
            help: "version: 1",
            line: 1,
            column: 1,
        },
        ErrorCase {
            name: "two documents",
            yaml: "version: 1\n---\nversion: 1\n",
            kind: ErrorKind::Syntax,
            message: "more than one document",
            help: "one YAML document per file",
            line: 1,
            column: 1,
        },
        ErrorCase {
            name: "schema with a dot",
            yaml: "version: 1\nschema: a.b\n",
            kind: ErrorKind::InvalidValue,
            message: "`a.b` is not a schema name",
            help: "schema: public",
            line: 2,
            column: 9,
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let error = fails(case.yaml);
        let location = error.location();
        let help = error.help_text().unwrap_or("");
        let ok = error.kind() == case.kind
            && error.message().contains(case.message)
            && help.contains(case.help)
            && location
                == Some(LineCol {
                    line: case.line,
                    column: case.column,
                });
        if !ok {
            failures.push(format!(
                "{}: got {:?} `{}` (help `{}`) at {:?}; expected {:?} containing `{}` (help containing `{}`) at {}:{}",
                case.name,
                error.kind(),
                error.message(),
                help,
                location,
                case.kind,
                case.message,
                case.help,
                case.line,
                case.column
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_missing_path_and_an_empty_directory_are_errors() {
    let directory = directory_with(&[("notes.txt", "not yaml")]);
    let mut sources = Sources::new();
    let missing = load(&directory.path().join("nope.yaml"), &mut sources)
        .expect_err("a missing file is an error");
    assert_eq!(missing.kind(), ErrorKind::Io);
    assert!(missing.message().contains("does not exist"), "{missing}");
    assert!(
        missing
            .help_text()
            .is_some_and(|help| help.contains("init"))
    );
    let empty = load(directory.path(), &mut sources).expect_err("no yaml files");
    assert_eq!(empty.kind(), ErrorKind::NoFiles);
}

#[test]
fn a_file_that_is_not_utf8_is_an_error_at_the_bad_byte() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("bad.yaml");
    std::fs::write(&path, b"version: 1\ntables:\n  us\xffers: {}\n").expect("write");
    let error = load(&path, &mut Sources::new()).expect_err("not UTF-8");
    assert_eq!(error.kind(), ErrorKind::NotUtf8);
    assert_eq!(error.location(), Some(LineCol { line: 3, column: 5 }));
}

#[test]
fn a_directory_merges_its_files_in_name_order() {
    let directory = directory_with(&[
        ("b_billing.yml", "version: 1\ntables:\n  invoices: {}\n"),
        (
            "a_core.yaml",
            "version: 1\nheads: 2\ntables:\n  users: {}\nlint:\n  ignore:\n    - { rule: missing-table, table: legacy }\n",
        ),
        (".hidden.yaml", "not: [valid"),
        ("README.md", "# not read"),
    ]);
    let mut sources = Sources::new();
    let expectations = load(directory.path(), &mut sources).expect("loads");
    let names: Vec<&str> = expectations
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["users", "invoices"]);
    assert_eq!(expectations.files.len(), 2);
    assert_eq!(sources.len(), 2);
    assert_eq!(expectations.allowed_heads(), AllowedHeads::Count(2));
    assert_eq!(expectations.lint.ignore.len(), 1);
    let invoices = expectations.table("public", "invoices").expect("invoices");
    assert!(
        sources
            .get(invoices.spans.key.file)
            .display
            .ends_with("b_billing.yml")
    );
}

#[test]
fn a_table_declared_in_two_files_points_at_both() {
    let directory = directory_with(&[
        ("a.yaml", "version: 1\ntables:\n  users: {}\n"),
        (
            "b.yaml",
            "version: 1\ntables:\n  orders: {}\n  public.users:\n    columns: [id]\n",
        ),
    ]);
    let error = load(directory.path(), &mut Sources::new()).expect_err("declared twice");
    assert_eq!(error.kind(), ErrorKind::DuplicateTable);
    assert!(error.path().ends_with("b.yaml"));
    assert_eq!(error.location(), Some(LineCol { line: 4, column: 3 }));
    let related: Vec<_> = miette::Diagnostic::related(&error)
        .expect("points at the other file")
        .collect();
    assert_eq!(related.len(), 1);
    let labels: Vec<_> = related[0].labels().expect("labelled").collect();
    assert_eq!(labels[0].offset(), "version: 1\ntables:\n  ".len());
}

#[test]
fn conflicting_settings_across_files_are_errors() {
    for (first, second, expected) in [
        ("heads: 1\n", "heads: 2\n", "`heads` is set differently"),
        (
            "schema: app\n",
            "schema: public\n",
            "`schema` is set to `public`",
        ),
        (
            "sequences: all\n",
            "sequences: none\n",
            "`sequences` is set differently",
        ),
        (
            "lint: { severity: { missing-table: warning } }\n",
            "lint: { severity: { missing-table: info } }\n",
            "the severity of `missing-table` is set to info",
        ),
    ] {
        let directory = directory_with(&[
            ("a.yaml", &format!("version: 1\n{first}")),
            ("b.yaml", &format!("version: 1\n{second}")),
        ]);
        let error = load(directory.path(), &mut Sources::new()).expect_err("conflict");
        assert_eq!(error.kind(), ErrorKind::ConflictingSetting, "{expected}");
        assert!(error.message().contains(expected), "{}", error.message());
        assert_eq!(error.location().map(|l| l.line), Some(2));
    }
    // The same value twice is no conflict, and sequence lists add up.
    let directory = directory_with(&[
        ("a.yaml", "version: 1\nheads: 1\nsequences: [users]\n"),
        ("b.yaml", "version: 1\nheads: 1\nsequences: [orders]\n"),
    ]);
    let expectations = load(directory.path(), &mut Sources::new()).expect("agrees");
    assert!(expectations.sequences.includes("public", "orders"));
    assert!(expectations.sequences.includes("public", "users"));
}

#[test]
fn find_default_prefers_the_directory() {
    let nothing = tempfile::tempdir().expect("temporary directory");
    assert_eq!(find_default(nothing.path()), None);

    let file_only = directory_with(&[("expectations.yaml", "version: 1\n")]);
    assert_eq!(
        find_default(file_only.path()),
        Some(file_only.path().join("expectations.yaml"))
    );

    let both = directory_with(&[("expectations.yaml", "version: 1\n")]);
    std::fs::create_dir(both.path().join("expectations")).expect("mkdir");
    // A directory without YAML files (only the JSON Schema, say) does not count.
    std::fs::write(both.path().join("expectations/driftlint.schema.json"), "{}").expect("write");
    assert_eq!(
        find_default(both.path()),
        Some(both.path().join("expectations.yaml"))
    );
    std::fs::write(both.path().join("expectations/app.yaml"), "version: 1\n").expect("write");
    assert_eq!(
        find_default(both.path()),
        Some(both.path().join("expectations"))
    );
}

#[test]
fn the_published_example_and_schema_agree_with_the_reader() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("expectations");
    let mut sources = Sources::new();
    let example = load(&root.join("example.yaml"), &mut sources).expect("example.yaml loads");
    let users = example.table("public", "users").expect("users");
    assert_eq!(users.columns.len(), 5);
    assert!(example.table("public", "system_config").is_some());
    // Loading the whole directory reads the YAML files and skips the JSON Schema.
    load(&root, &mut sources).expect("the expectations directory loads");

    // The JSON Schema is valid JSON, closed to unknown keys, and names the same keys the
    // reader accepts.
    let schema: serde_json::Value = serde_json::from_str(JSON_SCHEMA).expect("JSON");
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
    let mut top_keys: Vec<&str> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .map(String::as_str)
        .collect();
    top_keys.sort_unstable();
    assert_eq!(
        top_keys,
        ["heads", "lint", "schema", "sequences", "tables", "version"]
    );
    let table_keys = &schema["$defs"]["table"]["oneOf"][1]["properties"];
    for key in ["primary_key", "columns", "absent_columns"] {
        assert!(
            table_keys.get(key).is_some(),
            "schema lacks table key {key}"
        );
    }
    let rule_names: Vec<&str> = schema["$defs"]["rule"]["enum"]
        .as_array()
        .expect("rule enum")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    for rule in crate::diagnostic::RULES {
        assert!(
            rule_names.contains(&rule.name),
            "the JSON Schema does not list rule {}",
            rule.name
        );
    }
}

fn column(name: &str, ty: &str, nullable: bool) -> Column {
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

#[test]
fn the_starting_file_reads_back_to_the_same_schema() {
    let mut schema = Schema::default();
    let mut users = Table::new("public", "users");
    users.columns = vec![
        column("id", "integer", false),
        column("email", "varchar(120)", false),
        column("balance", "numeric(10,2)", true),
        column("tags", "text[]", true),
        column("seen_at", "timestamp(3) with time zone", true),
        column("mood", "\"Mood\"", true),
        column("dates", "public.dates", true),
        column("yes", "boolean", true),
        column("order", "interval day to second", true),
    ];
    users.primary_key = Some(PrimaryKey {
        name: "users_pkey".to_owned(),
        columns: vec!["id".to_owned()],
        set_by: None,
    });
    let mut events = Table::new("audit", "events");
    events.columns = vec![column("at", "timestamptz", false)];
    let empty = Table::new("public", "empty");
    let alembic = Table::new("public", "alembic_version");
    for table in [users, events, empty, alembic] {
        schema.tables.insert(
            TableKey::new(table.schema.clone(), table.name.clone()),
            table,
        );
    }

    let text = render_starting_file(&schema, AllowedHeads::Labels(vec!["main".to_owned()]), true);
    assert!(text.starts_with("# yaml-language-server: $schema=driftlint.schema.json\n"));
    let (expectations, _) = loads(&text);
    assert_eq!(
        expectations.allowed_heads(),
        AllowedHeads::Labels(vec!["main".to_owned()])
    );
    assert!(expectations.table("public", "alembic_version").is_none());
    assert!(expectations.table("public", "empty").is_some());
    for (
        TableKey {
            schema: schema_name,
            name: table_name,
        },
        table,
    ) in &schema.tables
    {
        if table_name == "alembic_version" {
            continue;
        }
        let expected = expectations
            .table(schema_name, table_name)
            .unwrap_or_else(|| panic!("{schema_name}.{table_name} is in the file:\n{text}"));
        assert_eq!(
            expected
                .primary_key
                .as_ref()
                .map(|key| key.column_names().join(",")),
            table.primary_key.as_ref().map(|key| key.columns.join(","))
        );
        assert_eq!(expected.columns.len(), table.columns.len());
        for column in &table.columns {
            let read = expected
                .column(&column.name)
                .expect("column is in the file");
            let ty = &read.ty.as_ref().expect("typed").ty;
            assert_eq!(ty, &column.ty, "type of {}:\n{text}", column.name);
            assert_eq!(
                read.nullable.as_ref().map(|n| n.nullable),
                Some(column.nullable)
            );
        }
    }
}

#[test]
fn the_starting_file_for_a_small_schema() {
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
    schema
        .tables
        .insert(TableKey::new("public", "users"), users);
    insta::assert_snapshot!(render_starting_file(&schema, AllowedHeads::Count(1), true));
}

/// The diagnostic as a terminal shows it, with the temporary directory's name left out.
fn rendered_in(directory: &Path, error: &Error) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, error)
        .expect("render");
    let shown_directory = crate::source::display_path(directory);
    out.replace(&format!("{shown_directory}/"), "")
}

/// Loads `yaml` as `expect.yaml` and renders the error it must give.
fn rendered_error(yaml: &str) -> String {
    let directory = directory_with(&[("expect.yaml", yaml)]);
    let error = load(&directory.path().join("expect.yaml"), &mut Sources::new())
        .expect_err("the file is invalid");
    rendered_in(directory.path(), &error)
}

#[test]
fn diagnostic_unknown_type() {
    insta::assert_snapshot!(rendered_error(
        "version: 1\ntables:\n  users:\n    columns:\n      id: { type: integr, nullable: false }\n"
    ));
}

#[test]
fn diagnostic_unknown_key() {
    insta::assert_snapshot!(rendered_error(
        "version: 1\ntables:\n  users:\n    primary_keys: [id]\n"
    ));
}

#[test]
fn diagnostic_bad_yaml() {
    insta::assert_snapshot!(rendered_error(
        "version: 1\ntables:\n  users:\n    columns: [id, name\n  orders: {}\n"
    ));
}

#[test]
fn diagnostic_table_declared_in_two_files() {
    let directory = directory_with(&[
        ("a.yaml", "version: 1\ntables:\n  users: {}\n"),
        (
            "b.yaml",
            "version: 1\ntables:\n  public.users:\n    columns: [id]\n",
        ),
    ]);
    let error = load(directory.path(), &mut Sources::new()).expect_err("declared twice");
    insta::assert_snapshot!(rendered_in(directory.path(), &error));
}
