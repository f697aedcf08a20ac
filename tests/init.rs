//! `driftlint init`: the starting file it writes is one the next `check` accepts, or it says why
//! not.

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
        .env("COLUMNS", "100")
        .env_remove("DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn two_unlabelled_heads_are_said_with_the_merge_command() {
    let out = driftlint(
        &root(),
        &["init", "--migrations", "examples/flask-app/migrations"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\nheads: 1\n"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the migrations have 2 heads (a7c9e1f3b5d7, f6b8d0e2a4c6)")
            && stderr.contains("flask db merge -m \"merge heads\" a7c9e1f3b5d7 f6b8d0e2a4c6"),
        "{stderr}"
    );
}

#[test]
fn labelled_heads_are_written_as_labels_and_the_next_check_accepts_them() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let fixture = root().join("tests/fixtures/graph/labelled/versions");
    let file = dir.path().join("expectations.yaml");
    let out = driftlint(
        dir.path(),
        &[
            "init",
            "--migrations",
            fixture.to_str().expect("UTF-8 path"),
            "-o",
            file.to_str().expect("UTF-8 path"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("heads ("),
        "{}",
        text(&out.stderr)
    );
    let written = std::fs::read_to_string(&file).expect("the file is written");
    assert!(
        written.contains("\nheads: [contract, expand]\n"),
        "{written}"
    );
    let check = driftlint(
        dir.path(),
        &[
            "check",
            "--migrations",
            fixture.to_str().expect("UTF-8 path"),
            "--expectations",
            file.to_str().expect("UTF-8 path"),
            "--format",
            "json",
        ],
    );
    let report: serde_json::Value =
        serde_json::from_slice(&check.stdout).expect("check prints JSON");
    assert!(
        !report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule"] == "multiple-heads"),
        "{report}"
    );
}

#[test]
fn the_schema_comment_names_a_file_only_where_one_is_written() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let migrations = root().join("examples/flask-app/migrations");
    let migrations = migrations.to_str().expect("UTF-8 path");
    let out = driftlint(dir.path(), &["init", "--migrations", migrations]);
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("$schema="), "{stdout}");
    assert!(!dir.path().join("driftlint.schema.json").exists());
    let file = dir.path().join("app.yaml");
    let out = driftlint(
        dir.path(),
        &[
            "init",
            "--migrations",
            migrations,
            "-o",
            file.to_str().expect("UTF-8 path"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&file).expect("the file is written");
    assert!(
        written.starts_with("# yaml-language-server: $schema=driftlint.schema.json\n"),
        "{written}"
    );
    assert!(dir.path().join("driftlint.schema.json").is_file());
}
