//! The built binary, run on fixture trees: exit codes, every output format, and that each
//! graph case gives exactly its own finding.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(case: &str) -> PathBuf {
    root().join("tests/fixtures/graph").join(case)
}

/// Runs driftlint in `cwd` with `args`, without colour and at a fixed width.
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

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_check(case: &str) -> (i32, serde_json::Value) {
    let o = driftlint(
        &fixture(case),
        &["check", "--migrations", "versions", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{case}: not JSON ({e}): {}{}", stdout(&o), stderr(&o)));
    (o.status.code().expect("exit code"), v)
}

fn rules_of(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .expect("findings is a list")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule is a string").to_owned())
        .collect()
}

#[test]
fn each_graph_case_gives_exactly_its_own_finding() {
    let cases: &[(&str, &[&str], i32)] = &[
        ("linear", &[], 0),
        ("merge_tuple", &[], 0),
        ("merge_list", &[], 0),
        ("two_heads", &["multiple-heads"], 1),
        ("duplicate", &["duplicate-revision"], 1),
        ("missing_parent", &["missing-parent"], 1),
        ("cycle", &["revision-cycle"], 1),
        ("multiple_bases", &["multiple-bases"], 0),
    ];
    for (case, expected, code) in cases {
        let (exit, v) = json_check(case);
        assert_eq!(rules_of(&v), *expected, "{case}: {v:#}");
        assert_eq!(exit, *code, "{case}: exit code");
    }
}

#[test]
fn json_output_has_the_documented_shape() {
    let (_, v) = json_check("two_heads");
    assert_eq!(v["driftlint"], env!("CARGO_PKG_VERSION"));
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "multiple-heads");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["source"], "migrations");
    assert_eq!(f["location"]["path"], "versions/3c_add_locked_until.py");
    assert_eq!(f["location"]["line"], 14);
    assert_eq!(f["location"]["column"], 1);
    assert_eq!(f["revision"], "3c00aa11bb22");
    assert!(f["object"].is_null());
    assert!(f["fix"].is_null());
    assert!(
        f["help"]
            .as_str()
            .unwrap()
            .contains("alembic merge -m \"merge heads\" 2b00aa11bb22 3c00aa11bb22")
    );
    assert_eq!(
        v["summary"],
        serde_json::json!({"error": 1, "warning": 0, "info": 0})
    );
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    let dir = fixture("multiple_bases");
    assert_eq!(
        driftlint(&dir, &["check", "--migrations", "versions"])
            .status
            .code(),
        Some(0)
    );
    let o = driftlint(
        &dir,
        &["check", "--migrations", "versions", "--deny-warnings"],
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn human_output_shows_the_file_line_and_help() {
    let o = driftlint(
        &fixture("duplicate"),
        &["check", "--migrations", "versions"],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(out.contains("duplicate-revision"), "{out}");
    assert!(
        out.contains("[versions/2b_add_index_copy.py:13:1]"),
        "{out}"
    );
    assert!(
        out.contains("help: give one of the files a new revision id"),
        "{out}"
    );
    assert!(
        out.ends_with("driftlint: 1 error, 0 warnings, 0 info\n"),
        "{out}"
    );
}

#[test]
fn github_annotations_point_at_the_file() {
    let o = driftlint(
        &fixture("missing_parent"),
        &["check", "--migrations", "versions", "--format", "github"],
    );
    let out = stdout(&o);
    let first = out.lines().next().expect("one annotation");
    assert!(
        first.starts_with(
            "::error file=versions/2b.py,line=14,col=1,endLine=14,endColumn=30,title=missing-parent::revision 2b00aa11bb22 names down_revision \"1a00aa11bb2\""
        ),
        "{first}"
    );
    assert!(
        first.contains("%0A%0Ahelp: did you mean \"1a00aa11bb22\"?"),
        "{first}"
    );
    assert_eq!(out.lines().count(), 1);
}

/// `tests/schemas/sarif-2.1.0.json` is the OASIS SARIF 2.1.0 (rtm.5) schema with one change: the
/// two `language` patterns `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$` have a stray `]` that
/// Rust's regex engines reject, so they read `^[a-zA-Z]{2}(-[a-zA-Z]{2})?$`, the tag they mean.
#[test]
fn sarif_output_validates_against_the_sarif_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    for case in ["two_heads", "duplicate", "cycle", "linear"] {
        let o = driftlint(
            &fixture(case),
            &["check", "--migrations", "versions", "--format", "sarif"],
        );
        let log: serde_json::Value = serde_json::from_slice(&o.stdout).expect("SARIF is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{case}: {errors:#?}");
        let results = log["runs"][0]["results"].as_array().unwrap();
        if case != "linear" {
            // The validator is not vacuous: a level SARIF does not know is refused.
            let mut broken = log.clone();
            broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
            assert!(
                !validator.is_valid(&broken),
                "{case}: an invalid level passed"
            );
            let r = &results[0];
            let rule_index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(
                log["runs"][0]["tool"]["driver"]["rules"][rule_index]["id"],
                r["ruleId"]
            );
            assert!(
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap()
                    > 0
            );
        } else {
            assert!(results.is_empty());
        }
    }
}

#[test]
fn heads_prints_alembic_style_lines_and_fails_on_too_many() {
    let o = driftlint(
        &fixture("two_heads"),
        &["heads", "--migrations", "versions"],
    );
    assert_eq!(stdout(&o), "2b00aa11bb22 (head)\n3c00aa11bb22 (head)\n");
    assert_eq!(o.status.code(), Some(1));
    let o = driftlint(
        &fixture("merge_tuple"),
        &["heads", "--migrations", "versions"],
    );
    assert_eq!(stdout(&o), "4d00aa11bb22 (head)\n");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn graph_json_has_the_documented_shape() {
    let o = driftlint(
        &fixture("merge_tuple"),
        &["graph", "--migrations", "versions", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["heads"], serde_json::json!(["4d00aa11bb22"]));
    assert_eq!(v["bases"], serde_json::json!(["1a00aa11bb22"]));
    let merge = v["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["revision"] == "4d00aa11bb22")
        .unwrap();
    assert_eq!(
        merge["down_revisions"],
        serde_json::json!(["2b00aa11bb22", "3c00aa11bb22"])
    );
    assert_eq!(merge["branch_labels"], serde_json::json!([]));
    assert_eq!(merge["depends_on"], serde_json::json!([]));
    assert_eq!(merge["path"], "versions/4d_merge.py");
}

#[test]
fn graph_renders_dot_mermaid_and_text() {
    let dir = fixture("labelled");
    let dot = stdout(&driftlint(
        &dir,
        &["graph", "--migrations", "versions", "--format", "dot"],
    ));
    assert!(dot.starts_with("digraph revisions {"), "{dot}");
    assert!(
        dot.contains("\"c1contract01\" -> \"e1expand0001\" [style=dashed"),
        "{dot}"
    );
    let mermaid = stdout(&driftlint(
        &dir,
        &["graph", "--migrations", "versions", "--format", "mermaid"],
    ));
    assert!(mermaid.starts_with("flowchart BT\n"), "{mermaid}");
    assert!(mermaid.contains("-.->|depends_on|"), "{mermaid}");
    let text = stdout(&driftlint(&dir, &["graph", "--migrations", "versions"]));
    assert!(
        text.contains("base00000000 -> e1expand0001 (expand)"),
        "{text}"
    );
}

#[test]
fn explain_prints_rule_docs_and_lists_rules() {
    let o = driftlint(&root(), &["explain", "multiple-heads"]);
    assert!(stdout(&o).starts_with("# multiple-heads"));
    let o = driftlint(&root(), &["explain", "--list"]);
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.starts_with("multiple-heads") && l.contains("error"))
    );
    let o = driftlint(&root(), &["explain", "multiple-head"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `multiple-heads`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_migrations_directory_is_a_clear_error_with_exit_2() {
    let o = driftlint(&root(), &["check", "--migrations", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("no/such/dir"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_arguments_exit_2() {
    let o = driftlint(&root(), &["check", "--format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_operation_that_does_not_fit_the_replayed_schema_is_reported() {
    let dir = root().join("tests/fixtures/check/replay_problem");
    let o = driftlint(
        &dir,
        &["check", "--migrations", "versions", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(rules_of(&v), ["unmodeled-operation"], "{v:#}");
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "info");
    assert_eq!(f["revision"], "2b00aa11bb22");
    assert_eq!(f["location"]["path"], "versions/2b_drop_legacy.py");
    assert_eq!(f["location"]["line"], 12);
    assert!(
        f["message"].as_str().unwrap().contains("legacy_flag"),
        "{f:#}"
    );
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn init_writes_a_starting_file_that_check_accepts() {
    let example = root().join("examples/flask-app/migrations");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("expectations.yaml");
    let o = driftlint(
        &root(),
        &[
            "init",
            "--migrations",
            example.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.path().join("driftlint.schema.json").exists());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("  system_config:\n    primary_key: [id]\n"),
        "{text}"
    );
    // The schema the migrations produce meets the file written from it; only the two heads of
    // the example remain.
    let o = driftlint(
        &root(),
        &[
            "check",
            "--migrations",
            example.to_str().unwrap(),
            "--expectations",
            out.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(rules_of(&v), ["multiple-heads"], "{v:#}");
}

#[test]
fn schema_prints_the_replay_at_a_revision() {
    let example = root().join("examples/flask-app/migrations");
    let o = driftlint(
        &root(),
        &[
            "schema",
            "--migrations",
            example.to_str().unwrap(),
            "--revision",
            "8b1d",
            "--format",
            "sql",
        ],
    );
    let sql = stdout(&o);
    assert!(sql.contains("CREATE TABLE public.users ("), "{sql}");
    assert!(
        sql.contains("is_guest boolean DEFAULT false NOT NULL"),
        "{sql}"
    );
    assert!(
        !sql.contains("analysis_results"),
        "a later revision leaked in: {sql}"
    );
    let o = driftlint(
        &root(),
        &[
            "schema",
            "--migrations",
            example.to_str().unwrap(),
            "--revision",
            "nope",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no revision is named `nope`"),
        "{}",
        stderr(&o)
    );
}
