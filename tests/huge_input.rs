//! Deep, long and huge input through the built binary: each case once crashed (a stack
//! overflow, exit 134) or took time or memory out of proportion; each must now give findings or
//! a clear error. Sizes are kept small enough for a debug build to run each case in a few
//! seconds; `bench/huge.sh` runs the large sizes on a release build.

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

fn write(root: &Path, relative: &str, text: impl AsRef<[u8]>) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The (rule, message) of each finding of a JSON report.
fn findings(o: &Output) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}), exit {:?}: {}{}",
            o.status.code(),
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
                f["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

const HEADER: &str = "\"\"\"m\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\
                      revision = \"a1\"\ndown_revision = None\n";

const EXPECTATIONS: &str = "version: 1\ntables:\n  users:\n    columns: [id]\n";

/// A project whose one revision file has `upgrade_body` as the body of `upgrade()` (indented
/// already) and `module_tail` after it; `check` with expectations, so that `upgrade()` is
/// lowered.
fn project(upgrade_body: &str, module_tail: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = format!(
        "{HEADER}{module_tail}\n\ndef upgrade():\n{upgrade_body}\n    op.create_table(\"users\", \
         sa.Column(\"id\", sa.Integer))\n"
    );
    write(dir.path(), "versions/a1.py", file);
    write(dir.path(), "expectations.yaml", EXPECTATIONS);
    dir
}

fn check_json(dir: &Path) -> Output {
    driftlint(
        dir,
        &[
            "check",
            "--migrations",
            "versions",
            "--expectations",
            "expectations.yaml",
            "--format",
            "json",
        ],
    )
}

fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_long_operator_chain_in_upgrade_is_read() {
    // 100,000 terms; 20,000 overflowed the stack.
    let chain = vec!["\"x\""; 100_000].join(" + ");
    let dir = project(&format!("    sql = {chain}"), "");
    let o = check_json(dir.path());
    assert_exit(&o, 0);
    assert_eq!(findings(&o), Vec::new());
}

#[test]
fn a_long_string_concatenation_is_evaluated_in_op_execute() {
    // The chain's value reaches the SQL lowering: the table it creates exists.
    let pieces: Vec<String> = std::iter::once("\"CREATE TABLE users (\"".to_owned())
        .chain((0..50_000).map(|_| "\"\"".to_owned()))
        .chain(std::iter::once("\"id integer)\"".to_owned()))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "versions/a1.py",
        format!(
            "{HEADER}\ndef upgrade():\n    op.execute({})\n",
            pieces.join(" + ")
        ),
    );
    write(dir.path(), "expectations.yaml", EXPECTATIONS);
    let o = check_json(dir.path());
    assert_exit(&o, 0);
    assert_eq!(findings(&o), Vec::new());
}

#[test]
fn a_long_chain_at_module_level_is_read_by_every_command() {
    // 100,000 terms in a module constant; 50,000 overflowed the stack in `heads` too.
    let chain = vec!["\"x\""; 100_000].join(" + ");
    let dir = project(
        "    pass",
        &format!("LONG = {chain}\nrevision = \"a\" + \"1\""),
    );
    let o = check_json(dir.path());
    assert_exit(&o, 0);
    let o = driftlint(dir.path(), &["heads", "--migrations", "versions"]);
    assert_exit(&o, 0);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "a1 (head)\n");
}

#[test]
fn a_long_chain_in_a_file_read_for_inline_ignores_is_dropped_without_recursion() {
    // A file that mentions `driftlint:` is parsed again for its ignore comments; dropping
    // that tree overflowed the main thread's stack.
    let chain = vec!["1"; 100_000].join(" + ");
    let dir = project(
        "    pass",
        &format!("NOTE = \"driftlint: none\"\nX = {chain}"),
    );
    let o = check_json(dir.path());
    assert_exit(&o, 0);
}

fn assert_nested_too_deep(upgrade_body: &str, module_tail: &str) {
    let dir = project(upgrade_body, module_tail);
    let o = check_json(dir.path());
    assert_exit(&o, 1);
    let found = findings(&o);
    assert!(
        found
            .iter()
            .any(|(rule, message)| rule == "unparsable-migration"
                && message.contains("nested deeper than 1000 levels")),
        "{found:?}"
    );
    let o = driftlint(dir.path(), &["heads", "--migrations", "versions"]);
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "heads crashed: {:?} {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn deep_unary_operators_are_a_finding() {
    assert_nested_too_deep(&format!("    x = {}1", "-".repeat(100_000)), "");
}

#[test]
fn deep_subscripts_calls_and_attributes_are_a_finding() {
    assert_nested_too_deep(&format!("    x = a{}", "[0]".repeat(30_000)), "");
    assert_nested_too_deep(&format!("    x = f{}", "(0)".repeat(30_000)), "");
    assert_nested_too_deep(&format!("    x = a{}", ".b".repeat(30_000)), "");
}

#[test]
fn deep_brackets_and_module_level_nesting_are_a_finding() {
    let n = 30_000;
    assert_nested_too_deep(&format!("    x = {}{}", "[".repeat(n), "]".repeat(n)), "");
    assert_nested_too_deep("    pass", &format!("X = {}1", "not ".repeat(n)));
}

#[test]
fn nesting_just_below_the_limit_is_read() {
    // Module → assignment → 990 unary operators → the literal.
    let dir = project("    pass", &format!("X = {}1", "-".repeat(990)));
    let o = check_json(dir.path());
    assert_exit(&o, 0);
}

#[test]
fn a_file_of_nul_bytes_is_one_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "versions/a1.py", vec![0u8; 1_000_000]);
    let o = driftlint(
        dir.path(),
        &["check", "--migrations", "versions", "--format", "json"],
    );
    assert_exit(&o, 1);
    let found = findings(&o);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "unparsable-migration");
    assert!(
        found[0]
            .1
            .contains("contains a NUL byte (line 1, column 1): it is not Python source"),
        "{found:?}"
    );
}

#[test]
fn a_revision_file_over_the_size_limit_is_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = format!("{HEADER}\n").into_bytes();
    text.resize(2_000, b'#');
    write(dir.path(), "versions/a1.py", &text);
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.driftlint]\nmax-file-size = 1000\n",
    );
    let o = driftlint(
        dir.path(),
        &["check", "--migrations", "versions", "--format", "json"],
    );
    assert_exit(&o, 1);
    let found = findings(&o);
    assert_eq!(
        found,
        vec![(
            "unparsable-migration".to_owned(),
            "versions/a1.py is 2000 bytes, more than the 1000-byte limit for a revision file; \
             it was not read"
                .to_owned()
        )]
    );
    // Under the default limit the same file is read.
    std::fs::remove_file(dir.path().join("pyproject.toml")).expect("rm");
    let o = driftlint(
        dir.path(),
        &["check", "--migrations", "versions", "--format", "json"],
    );
    assert_exit(&o, 0);
}

#[test]
fn an_expectations_file_over_the_size_limit_is_an_error() {
    let dir = project("    pass", "");
    let mut yaml = EXPECTATIONS.as_bytes().to_vec();
    yaml.extend(std::iter::repeat_n(b'#', 3_000));
    write(dir.path(), "expectations.yaml", &yaml);
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.driftlint]\nmax-expectations-size = 2048\n",
    );
    let o = check_json(dir.path());
    assert_exit(&o, 2);
    // The message is on stderr, or in the JSON error document where there is one.
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        output.contains("is 3046 bytes, more than the 2048-byte limit"),
        "{output}"
    );
}

#[test]
fn deeply_nested_yaml_is_an_error_at_its_line_and_column() {
    let dir = project("    pass", "");
    let n = 100_000;
    write(
        dir.path(),
        "expectations.yaml",
        format!(
            "version: 1\ntables:\n  users: {}{}\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
    );
    let started = std::time::Instant::now();
    let o = driftlint(
        dir.path(),
        &[
            "check",
            "--migrations",
            "versions",
            "--expectations",
            "expectations.yaml",
        ],
    );
    assert_exit(&o, 2);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("nested deeper than 64 levels") && stderr.contains("expectations.yaml:3:"),
        "{stderr}"
    );
    // It took minutes when serde_yaml saw the text first.
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

#[test]
fn billion_laughs_yaml_is_still_refused() {
    // Eleven levels of ten aliases each: 10^12 nodes if the aliases were expanded.
    let dir = project("    pass", "");
    let mut yaml = String::from("version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let previous = format!("*a{}", i - 1);
        yaml.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![previous; 10].join(", ")
        ));
    }
    yaml.push_str("tables:\n  users:\n    columns: *a11\n");
    write(dir.path(), "expectations.yaml", yaml);
    let o = driftlint(
        dir.path(),
        &[
            "check",
            "--migrations",
            "versions",
            "--expectations",
            "expectations.yaml",
        ],
    );
    assert_exit(&o, 2);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("repetition limit exceeded"), "{stderr}");
}

#[test]
fn many_findings_in_one_large_expectations_file_are_placed_in_linear_time() {
    // 5,000 missing tables: every finding needs a line and column in a 150 KB file.
    let dir = project("    pass", "");
    let mut yaml = String::from("version: 1\ntables:\n");
    for i in 0..5_000 {
        yaml.push_str(&format!("  table_{i}:\n    columns: [id, name]\n"));
    }
    write(dir.path(), "expectations.yaml", yaml);
    let started = std::time::Instant::now();
    let o = check_json(dir.path());
    assert_exit(&o, 1);
    assert_eq!(findings(&o).len(), 5_000);
    // Quadratic placement took 23 s for this file in a debug build; it now takes about 1 s.
    assert!(started.elapsed().as_secs() < 12, "{:?}", started.elapsed());
}
