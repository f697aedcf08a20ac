//! The built binary with what a project keeps around it: inline ignores in revision files,
//! `[tool.driftlint]` in `pyproject.toml`, shell completions and `--version`.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

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

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn findings(o: &Output) -> Vec<(String, u64, String)> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_owned(),
                f["location"]["line"].as_u64().unwrap_or(0),
                f["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

const IGNORED: &str = r#""""audit tables"""
# driftlint: ignore-file[multiple-bases] -- this file starts a second history on purpose
from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = None


def upgrade():
    op.execute(build_sql())  # driftlint: ignore[unmodeled-operation] -- generated from models
    # driftlint: ignore[unmodeled-operation] -- stale: the loop below was unrolled
    op.create_table("audit", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute(other_sql())
    op.execute("SELECT 1  # driftlint: ignore[unmodeled-operation]")
    op.execute(more_sql())  # driftlint: ignore[unmodelled-operation]
"#;

#[test]
fn inline_ignores_drop_findings_and_stale_ones_are_reported() {
    let project = tempfile::tempdir().expect("temporary directory");
    write(project.path(), "versions/1_a.py", IGNORED);
    // With expectations, `upgrade()` is read and unmodeled-operation runs.
    write(project.path(), "expectations.yaml", "version: 1\n");
    let o = driftlint(
        project.path(),
        &["check", "--migrations", "versions", "--format", "json"],
    );
    let mut found = findings(&o);
    found.sort();
    let rules_and_lines: Vec<(&str, u64)> = found
        .iter()
        .map(|(rule, line, _)| (rule.as_str(), *line))
        .collect();
    assert_eq!(
        rules_and_lines,
        [
            ("unmodeled-operation", 14),
            ("unmodeled-operation", 16),
            ("unused-ignore", 2),
            ("unused-ignore", 12),
            ("unused-ignore", 16),
        ],
        "{found:#?}"
    );
    let messages: Vec<&str> = found.iter().map(|(_, _, m)| m.as_str()).collect();
    assert!(messages.contains(&"the ignore of unmodeled-operation on line 13 matches no finding"));
    assert!(
        messages.contains(&"the ignore of multiple-bases for the whole file matches no finding")
    );
    assert!(
        messages
            .contains(&"the ignore names `unmodelled-operation`, which is not a driftlint rule")
    );
    // Infos only: the check passes.
    assert_eq!(o.status.code(), Some(0));
}

const PYPROJECT: &str = r#"[project]
name = "app"

[tool.driftlint]
migrations = "db/migrations"
format = "json"
deny-warnings = true
"#;

fn base_revision(id: &str) -> String {
    format!("revision = {id:?}\ndown_revision = None\n\ndef upgrade():\n    pass\n")
}

#[test]
fn ignores_of_rules_that_did_not_run_are_not_stale() {
    let project = tempfile::tempdir().expect("temporary directory");
    write(project.path(), "versions/1_a.py", IGNORED);
    // No expectations and no database: only the graph rules run, so the ignores of
    // unmodeled-operation are neither used nor stale; the ignore-file of multiple-bases is.
    let o = driftlint(
        project.path(),
        &["check", "--migrations", "versions", "--format", "json"],
    );
    let found = findings(&o);
    let rules_and_lines: Vec<(&str, u64)> = found
        .iter()
        .map(|(rule, line, _)| (rule.as_str(), *line))
        .collect();
    assert_eq!(
        rules_and_lines,
        [("unused-ignore", 2), ("unused-ignore", 16)],
        "{found:#?}"
    );
}

#[test]
fn pyproject_settings_apply_and_flags_win() {
    let project = tempfile::tempdir().expect("temporary directory");
    write(project.path(), "pyproject.toml", PYPROJECT);
    // Two bases merged into one head: a warning, which deny-warnings turns into a failure.
    write(
        project.path(),
        "db/migrations/versions/1_a.py",
        &base_revision("a1"),
    );
    write(
        project.path(),
        "db/migrations/versions/1_b.py",
        &base_revision("b1"),
    );
    write(
        project.path(),
        "db/migrations/versions/2_merge.py",
        "revision = \"c1\"\ndown_revision = (\"a1\", \"b1\")\n",
    );
    let o = driftlint(project.path(), &["check"]);
    let found = findings(&o);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "multiple-bases");
    assert_eq!(
        o.status.code(),
        Some(1),
        "deny-warnings from pyproject.toml"
    );

    let o = driftlint(project.path(), &["check", "--no-deny-warnings"]);
    assert_eq!(o.status.code(), Some(0));
    let o = driftlint(project.path(), &["check", "--format", "human"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("warning[multiple-bases]") || out.contains("multiple-bases"),
        "{out}"
    );
    assert!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).is_err(),
        "{out}"
    );
    // `heads` and `graph` find the migrations through the setting too.
    let o = driftlint(project.path(), &["heads"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "c1 (head)\n");
    // A flag names other migrations.
    write(
        project.path(),
        "other/versions/1_a.py",
        &base_revision("a1"),
    );
    let o = driftlint(project.path(), &["check", "--migrations", "other/versions"]);
    assert_eq!(findings(&o), []);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn live_reads_the_database_url_from_the_configured_variable() {
    let project = tempfile::tempdir().expect("temporary directory");
    write(
        project.path(),
        "pyproject.toml",
        "[tool.driftlint]\nmigrations = \"versions\"\ndatabase-url-env = \"DRIFTLINT_TEST_APP_DB\"\n",
    );
    write(project.path(), "versions/1_a.py", &base_revision("a1"));
    // DATABASE_URL would name another server; the configured variable wins.
    write(
        project.path(),
        ".env",
        "DATABASE_URL=postgresql://other@127.0.0.1:2/elsewhere\nDRIFTLINT_TEST_APP_DB=postgresql://app@127.0.0.1:1/appdb\n",
    );
    let o = driftlint(project.path(), &["check", "--live", "--timeout", "2"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("elsewhere"), "{stderr}");

    write(
        project.path(),
        ".env",
        "DATABASE_URL=postgresql://other@127.0.0.1:2/elsewhere\n",
    );
    let o = driftlint(project.path(), &["check", "--live"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("reads the database URL from DRIFTLINT_TEST_APP_DB"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_pyproject_key_is_exit_2_with_its_line() {
    let project = tempfile::tempdir().expect("temporary directory");
    write(
        project.path(),
        "pyproject.toml",
        "[tool.driftlint]\nmigrations = \"m\"\nexpectation = \"e.yaml\"\n",
    );
    let o = driftlint(project.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("pyproject.toml:3: [tool.driftlint] unknown field `expectation`"),
        "{stderr}"
    );
    // Commands that take no setting do not read it.
    let o = driftlint(project.path(), &["explain", "--list"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn completions_for_each_shell() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = driftlint(dir.path(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(script.contains("driftlint"), "{shell}: {script}");
        assert!(
            script.contains("against"),
            "{shell}: no --against in {script}"
        );
    }
    let o = driftlint(dir.path(), &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let o = driftlint(dir.path(), &["--version"]);
    let version = String::from_utf8_lossy(&o.stdout);
    assert!(
        version.starts_with(&format!("driftlint {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    // Built from a git checkout, the version names the commit.
    let in_git = Command::new("git")
        .args(["rev-parse", "--short=9", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(head) = in_git {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        assert!(
            version.trim_end().ends_with(&format!("({head})")),
            "{version} vs {head}"
        );
    }
    let o = driftlint(dir.path(), &["--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.contains("driftlint check --against origin/main"),
        "{help}"
    );
    assert!(help.lines().count() < 40, "short help: {help}");
}
