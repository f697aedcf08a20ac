//! Mistakes a new user makes in the first hour, each caught by name with what to do instead.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn driftlint(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .env_remove("DATABASE_URL")
        .output()
        .expect("the binary runs")
}

/// Asserts the exit code and that standard error says `needle`.
fn exits_saying(out: &Output, code: i32, needle: &str) {
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{said}");
    assert!(said.contains(needle), "{needle:?} missing from:\n{said}");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn migrations_pointing_at_the_project_directory_suggests_the_script_directory() {
    for (given, suggested) in [
        (
            "examples/flask-app",
            "--migrations examples/flask-app/migrations",
        ),
        ("examples", "--migrations examples/flask-app/migrations"),
    ] {
        let out = driftlint(&root(), &["check", "--migrations", given]);
        assert_eq!(out.status.code(), Some(2), "{given}: {}", text(&out.stdout));
        let said = text(&out.stderr);
        assert!(
            said.contains(&format!("--migrations names {given}, a project directory"))
                && said.contains(&format!("did you mean `{suggested}`?")),
            "{given}: {said}"
        );
        assert!(!said.contains("env.py"), "{said}");
        assert!(
            !said.contains("driftlint::"),
            "no internal code as a title: {said}"
        );
    }
}

#[test]
fn a_directory_with_alembic_ini_is_run_from() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("alembic.ini"),
        "[alembic]\nscript_location = db\n",
    )
    .expect("written");
    std::fs::create_dir(dir.path().join("src")).expect("created");
    let out = driftlint(
        &root(),
        &["check", "--migrations", dir.path().to_str().expect("UTF-8")],
    );
    exits_saying(&out, 2, "it reads alembic.ini there");
}

#[test]
fn env_py_is_never_a_revision() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A copy of a script directory left inside versions/, as happens when one is moved by hand.
    let versions = dir.path().join("versions");
    std::fs::create_dir_all(versions.join("old")).expect("created");
    std::fs::write(versions.join("old/env.py"), "from alembic import context\n").expect("written");
    std::fs::write(
        versions.join("1a2b_first.py"),
        "revision = '1a2b'\ndown_revision = None\n\ndef upgrade():\n    pass\n",
    )
    .expect("written");
    let out = driftlint(dir.path(), &["check", "--migrations", "versions"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// On exit 2 the machine formats still print a document on standard output that CI can parse;
/// the human message stays on standard error.
#[test]
fn machine_formats_print_an_error_document_when_driftlint_cannot_run() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-2.1.0.json"))
            .expect("the SARIF schema is readable"),
    )
    .expect("the SARIF schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let cases: &[(&[&str], &str)] = &[
        (
            &["check", "--migrations", "nowhere"],
            "migrations-path-missing",
        ),
        (&["check", "--no-such-flag"], "usage"),
        (
            &[
                "check",
                "--migrations",
                "examples/flask-app/migrations",
                "--database-url",
                "postgresql://app:S3cret@127.0.0.1:1/app",
            ],
            "live-connect",
        ),
    ];
    for (args, kind) in cases {
        let json = driftlint(&root(), &[args, &["--format", "json"][..]].concat());
        assert_eq!(json.status.code(), Some(2), "{args:?}");
        let document: serde_json::Value = serde_json::from_slice(&json.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", text(&json.stdout)));
        assert_eq!(document["error"]["kind"], *kind, "{document}");
        assert!(document["error"]["message"].is_string(), "{document}");
        assert!(!text(&json.stdout).contains("S3cret"));
        assert!(
            !text(&json.stderr).is_empty(),
            "the human message stays on stderr"
        );

        let sarif = driftlint(&root(), &[args, &["--format", "sarif"][..]].concat());
        assert_eq!(sarif.status.code(), Some(2));
        let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("SARIF is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{args:?}: {errors:#?}");
        assert_eq!(
            log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["descriptor"]["id"],
            *kind
        );

        let github = driftlint(&root(), &[args, &["--format", "github"][..]].concat());
        assert_eq!(github.status.code(), Some(2));
        let annotation = text(&github.stdout);
        assert!(
            annotation.starts_with(&format!("::error title=driftlint%3A {kind}::")),
            "{annotation}"
        );
    }
}

/// An expectations file with several mistakes gets them all in one run, in file order, each with
/// its line; still exit 2.
#[test]
fn every_problem_of_an_expectations_file_in_one_run() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("expectations.yaml");
    std::fs::write(
        &file,
        "version: 1\ntables:\n  users:\n    primary_keys: [id]\n    columns:\n      id: integr\n  orders:\n    absent: [x]\nlintt: {}\n",
    )
    .expect("written");
    let out = driftlint(
        &root(),
        &[
            "check",
            "--migrations",
            "examples/flask-app/migrations",
            "--expectations",
            file.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    let places: Vec<usize> = [
        "unknown key `primary_keys` in table `users` (and 3 more problems in this file, below)",
        "invalid type `integr` for column `users.id`",
        "unknown key `absent` in table `orders`",
        "unknown key `lintt` in the expectations file",
    ]
    .iter()
    .map(|message| {
        said.find(message)
            .unwrap_or_else(|| panic!("{message:?} missing from:\n{said}"))
    })
    .collect();
    assert!(
        places.windows(2).all(|w| w[0] < w[1]),
        "in file order:\n{said}"
    );
    for line in [
        "expectations.yaml:4:5",
        "expectations.yaml:6:11",
        "expectations.yaml:8:5",
        "expectations.yaml:9:1",
    ] {
        assert!(said.contains(line), "{line} missing from:\n{said}");
    }
}

/// Alembic reads `path_separator` only where there is something to split, so an inline comment
/// after it (the old default template's `version_path_separator = os  # Use os.pathsep.`) is
/// no error unless `version_locations` needs it.
#[test]
fn a_separator_alembic_never_reads_is_no_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("alembic.ini"),
        "[alembic]\nscript_location = migrations\nversion_path_separator = os  # Use os.pathsep.\n",
    )
    .expect("written");
    let versions = dir.path().join("migrations/versions");
    std::fs::create_dir_all(&versions).expect("created");
    std::fs::write(dir.path().join("migrations/env.py"), "").expect("written");
    std::fs::write(
        versions.join("1a2b_first.py"),
        "revision = '1a2b'\ndown_revision = None\n\ndef upgrade():\n    pass\n",
    )
    .expect("written");
    let out = driftlint(dir.path(), &["heads"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "1a2b (head)\n");

    // With version_locations to split, the same value is refused, as Alembic refuses it.
    std::fs::write(
        dir.path().join("alembic.ini"),
        "[alembic]\nscript_location = migrations\nversion_locations = migrations/versions\nversion_path_separator = os  # Use os.pathsep.\n",
    )
    .expect("written");
    let out = driftlint(dir.path(), &["heads"]);
    exits_saying(&out, 2, "is not a valid value for version_path_separator");
}

/// JSON's `fix.sql` never holds Python: a review-only snippet's operation is `fix.migration`,
/// the SQL it amounts to `fix.sql`.
#[test]
fn json_fixes_keep_sql_and_migration_apart() {
    let out = driftlint(
        &root(),
        &[
            "check",
            "--migrations",
            "examples/flask-app/migrations",
            "--expectations",
            "expectations/example.yaml",
            "--format",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let fixes: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["fix"].as_object().map(|_| &f["fix"]))
        .collect();
    assert!(!fixes.is_empty());
    for fix in fixes {
        if let Some(sql) = fix["sql"].as_str() {
            assert!(!sql.contains("op.") && !sql.contains("sa."), "{fix}");
        }
        if fix["safety"] == "review" {
            let migration = fix["migration"].as_str().expect("a snippet");
            assert!(migration.contains("op."), "{fix}");
        } else {
            assert!(fix["migration"].is_null(), "{fix}");
        }
    }
}

/// An expectations error on a line too long to draw (miette cannot draw columns past 65,535) is
/// named by line and column, never a panic.
#[test]
fn an_expectations_error_far_along_a_line_is_named_not_drawn() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("expectations.yaml");
    let padding = " ".repeat(70_000);
    std::fs::write(
        &file,
        format!("version: 1\ntables: {{{padding}users: {{ colums: [id] }} }}\n"),
    )
    .expect("written");
    let out = driftlint(
        &root(),
        &[
            "check",
            "--migrations",
            "examples/flask-app/migrations",
            "--expectations",
            file.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains("unknown key `colums`") && said.contains("the line is too long to show"),
        "{said}"
    );
}
