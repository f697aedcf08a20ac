//! The GitHub Action: `action.yml` declares the inputs and runs `scripts/action-run.sh`, which is
//! run here as the runner would, with the built binary on PATH: the report in the log, the
//! annotations, a SARIF file that validates against the SARIF 2.1.0 schema, the output, the
//! fetch of an `against` ref a shallow clone lacks, and the exit status. (The install step is
//! run in `tests/packaging.rs`, next to the wheel it installs.)

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn action_yml_declares_the_inputs_and_passes_each_to_the_scripts() {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    let action: serde_yaml::Value = serde_yaml::from_str(&text).expect("action.yml is YAML");
    let inputs: BTreeSet<&str> = action["inputs"]
        .as_mapping()
        .expect("inputs")
        .keys()
        .filter_map(serde_yaml::Value::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "migrations",
        "expectations",
        "against",
        "database-url",
        "args",
        "sarif-file",
        "version",
    ]
    .into();
    assert_eq!(inputs, expected);
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_sequence().expect("steps");
    let mut passed = BTreeSet::new();
    for step in steps {
        assert_eq!(step["shell"], "bash", "{step:?}");
        let run = step["run"].as_str().expect("run");
        let script = run
            .split('"')
            .find_map(|part| part.strip_prefix("$GITHUB_ACTION_PATH/"))
            .expect("each step runs a script of the action");
        assert!(root().join(script).is_file(), "{script} is missing");
        for value in step["env"]
            .as_mapping()
            .into_iter()
            .flat_map(|m| m.values())
        {
            let value = value.as_str().expect("env values are strings");
            if let Some(name) = value
                .strip_prefix("${{ inputs.")
                .and_then(|rest| rest.strip_suffix(" }}"))
            {
                passed.insert(name.to_owned());
            }
        }
    }
    let passed: BTreeSet<&str> = passed.iter().map(String::as_str).collect();
    assert_eq!(passed, expected, "every input reaches a script");
}

/// Runs the check step's script in `cwd` with the built driftlint first on PATH.
fn action_run(cwd: &Path, env: &[(&str, &str)], outputs: &Path) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_driftlint"))
        .parent()
        .expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .arg(root().join("scripts/action-run.sh"))
        .current_dir(cwd)
        .env("PATH", path)
        .env("GITHUB_OUTPUT", outputs)
        .env("COLUMNS", "100")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("DATABASE_URL");
    for name in [
        "DRIFTLINT_MIGRATIONS",
        "DRIFTLINT_EXPECTATIONS",
        "DRIFTLINT_AGAINST",
        "DRIFTLINT_DATABASE_URL",
        "DRIFTLINT_ARGS",
        "DRIFTLINT_SARIF_FILE",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("bash runs")
}

fn validate_sarif(path: &Path) -> serde_json::Value {
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the SARIF file"))
            .expect("SARIF is JSON");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-2.1.0.json"))
            .expect("the schema"),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    log
}

#[test]
fn the_check_step_reports_annotates_and_writes_sarif() {
    let fixture = root().join("tests/fixtures/graph/two_heads");
    let work = tempfile::tempdir().expect("temporary directory");
    let sarif = work.path().join("out.sarif");
    let outputs = work.path().join("outputs");
    let sarif_text = sarif.to_string_lossy().into_owned();
    let o = action_run(
        &fixture,
        &[
            ("DRIFTLINT_MIGRATIONS", "versions"),
            ("DRIFTLINT_SARIF_FILE", &sarif_text),
            ("DRIFTLINT_ARGS", "--deny-warnings  --timeout 3"),
        ],
        &outputs,
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The readable report, then one annotation per finding.
    assert!(
        stdout.contains("driftlint: 1 error, 0 warnings, 0 info"),
        "{stdout}"
    );
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), 1, "{stdout}");
    assert!(
        annotations[0].starts_with("::error file=versions/3c_add_locked_until.py,line=14,"),
        "{}",
        annotations[0]
    );
    let log = validate_sarif(&sarif);
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "multiple-heads");
    assert_eq!(
        std::fs::read_to_string(&outputs).expect("outputs"),
        format!("sarif-file={sarif_text}\n")
    );

    // driftlint cannot run: exit 2, an error annotation, no SARIF file.
    std::fs::remove_file(&sarif).expect("remove");
    let o = action_run(
        &fixture,
        &[
            ("DRIFTLINT_MIGRATIONS", "no-such-directory"),
            ("DRIFTLINT_SARIF_FILE", &sarif_text),
        ],
        &outputs,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("::error title=driftlint::"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!sarif.exists());
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn write_revision(dir: &Path, file: &str, id: &str, down: Option<&str>) {
    let down = down.map_or("None".to_owned(), |d| format!("{d:?}"));
    let path = dir.join("migrations/versions").join(file);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        path,
        format!("revision = {id:?}\ndown_revision = {down}\n\n\ndef upgrade():\n    pass\n"),
    )
    .expect("write");
}

#[test]
fn the_check_step_fetches_the_against_ref_a_shallow_clone_lacks() {
    let origin = tempfile::tempdir().expect("temporary directory");
    let o = origin.path();
    git(o, &["init", "-q"]);
    write_revision(o, "1_a.py", "a1", None);
    git(o, &["add", "-A"]);
    git(o, &["commit", "-q", "-m", "a"]);
    git(o, &["checkout", "-q", "-b", "feature"]);
    write_revision(o, "2_mine.py", "b2", Some("a1"));
    git(o, &["add", "-A"]);
    git(o, &["commit", "-q", "-m", "mine"]);
    git(o, &["checkout", "-q", "main"]);
    write_revision(o, "2_theirs.py", "c3", Some("a1"));
    git(o, &["add", "-A"]);
    git(o, &["commit", "-q", "-m", "theirs"]);

    let clones = tempfile::tempdir().expect("temporary directory");
    let url = format!("file://{}", o.display());
    git(
        clones.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            "--branch",
            "feature",
            &url,
            "pr",
        ],
    );
    let pr = clones.path().join("pr");
    let outputs = clones.path().join("outputs");
    let out = action_run(
        &pr,
        &[
            ("DRIFTLINT_MIGRATIONS", "migrations/versions"),
            ("DRIFTLINT_AGAINST", "origin/main"),
            ("DRIFTLINT_SARIF_FILE", ""),
        ],
        &outputs,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("driftlint: fetching origin/main"),
        "{stdout}"
    );
    let annotation = stdout
        .lines()
        .find(|l| l.starts_with("::error"))
        .expect("an annotation");
    assert!(
        annotation.starts_with("::error file=migrations/versions/2_mine.py,"),
        "{annotation}"
    );
    assert!(
        annotation.contains("b2 from this branch, c3 from origin/main"),
        "{annotation}"
    );
    assert!(!outputs.exists(), "no SARIF, no output");
}
