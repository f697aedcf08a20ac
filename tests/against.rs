//! `check --against <ref>` and `heads --against <ref>` on git repositories built by each test:
//! two branches that each add a revision on the same parent, a rebased branch, a renamed file, a
//! file deleted on either side, the same revision id with different content, a shallow clone
//! with and without the ref fetched, and the SARIF and annotation output of a merge finding.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A git repository in a temporary directory, with an Alembic `migrations/` directory.
struct Repo {
    dir: tempfile::TempDir,
}

fn git_in(dir: &Path, args: &[&str]) -> String {
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
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A revision file creating table `table`, revising `down` (`None` for a base).
fn revision(id: &str, down: Option<&str>, table: &str) -> String {
    let down_repr = down.map_or("None".to_owned(), |d| format!("{d:?}"));
    format!(
        "\"\"\"create {table}\n\nRevision ID: {id}\nRevises: {}\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = {id:?}\ndown_revision = {down_repr}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.create_table({table:?}, sa.Column(\"id\", sa.Integer(), primary_key=True))\n\n\ndef downgrade():\n    op.drop_table({table:?})\n",
        down.unwrap_or("")
    )
}

impl Repo {
    /// A repository on `main` with a base revision `a000000000a1` and `b000000000b2` after it.
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        repo.git(&["init", "-q"]);
        repo.write("migrations/env.py", "# env.py\n");
        repo.write(
            "migrations/versions/1_a.py",
            &revision("a000000000a1", None, "users"),
        );
        repo.write(
            "migrations/versions/2_b.py",
            &revision("b000000000b2", Some("a000000000a1"), "orders"),
        );
        repo.commit("a and b");
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// `main` gains `c000000000c3` on `b`; `feature`, branched before that, gains
    /// `d000000000d4` on `b` too. `feature` is checked out.
    fn two_branches_on_one_parent(&self) {
        self.git(&["checkout", "-q", "-b", "feature"]);
        self.git(&["checkout", "-q", "main"]);
        self.write(
            "migrations/versions/3_c.py",
            &revision("c000000000c3", Some("b000000000b2"), "invoices"),
        );
        self.commit("c on main");
        self.git(&["checkout", "-q", "feature"]);
        self.write(
            "migrations/versions/3_d.py",
            &revision("d000000000d4", Some("b000000000b2"), "payments"),
        );
        self.commit("d on feature");
    }
}

fn driftlint(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn json_check(cwd: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["check", "--migrations", "migrations", "--format", "json"];
    args.extend_from_slice(extra);
    let o = driftlint(cwd, &args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{stderr}",
            String::from_utf8_lossy(&o.stdout)
        )
    });
    (o.status.code().expect("exit code"), v, stderr)
}

fn rules_of(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .expect("findings is a list")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule").to_owned())
        .collect()
}

#[test]
fn two_branches_on_one_parent_have_two_heads_only_after_merge() {
    let repo = Repo::new();
    repo.two_branches_on_one_parent();
    let (code, v, _) = json_check(repo.path(), &[]);
    assert_eq!(
        (code, rules_of(&v)),
        (0, vec![]),
        "the branch alone is fine"
    );

    let (code, v, stderr) = json_check(repo.path(), &["--against", "main"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(rules_of(&v), ["multiple-heads"], "{v:#}");
    assert!(stderr.is_empty(), "a full clone has a merge base: {stderr}");
    let f = &v["findings"][0];
    let message = f["message"].as_str().expect("message");
    assert!(
        message
            .contains("after merging main: c000000000c3 from main, d000000000d4 from this branch"),
        "{message}"
    );
    assert!(
        message.contains("only once this branch and main are merged"),
        "{message}"
    );
    let help = f["help"].as_str().expect("help");
    assert!(help.starts_with("bring main into this branch (`git merge main`), then merge the heads into one with `alembic merge -m \"merge heads\" c000000000c3 d000000000d4`"), "{help}");
    assert!(
        help.contains("set its down_revision to 'c000000000c3'"),
        "{help}"
    );
    // The finding points at this branch's file, the one the pull request changes.
    assert_eq!(f["location"]["path"], "migrations/versions/3_d.py");
    assert_eq!(f["revision"], "d000000000d4");

    // The human report shows the other head in main's file, named as git names it.
    let o = driftlint(
        repo.path(),
        &["check", "--migrations", "migrations", "--against", "main"],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("main:migrations/versions/3_c.py"), "{out}");
    // Nothing in the working tree or the index changed.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(
        repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "feature"
    );

    // `heads` lists both, says where each comes from, and fails.
    let o = driftlint(
        repo.path(),
        &["heads", "--migrations", "migrations", "--against", "main"],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "c000000000c3 (head)\nd000000000d4 (head)\n"
    );
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("c000000000c3 from main"), "{stderr}");
}

#[test]
fn a_rebased_branch_has_one_head() {
    let repo = Repo::new();
    repo.two_branches_on_one_parent();
    repo.git(&["rebase", "-q", "main"]);
    repo.write(
        "migrations/versions/3_d.py",
        &revision("d000000000d4", Some("c000000000c3"), "payments"),
    );
    repo.commit("d now follows c");
    let (code, v, stderr) = json_check(repo.path(), &["--against", "main"]);
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#} {stderr}");
}

#[test]
fn the_same_file_unchanged_on_both_sides_is_one_revision() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let (code, v, _) = json_check(repo.path(), &["--against", "main"]);
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#}");
    // Edited on this branch, the file is still one revision: the working tree's copy is read.
    repo.write(
        "migrations/versions/2_b.py",
        &revision("b000000000b2", Some("a000000000a1"), "orders_renamed"),
    );
    let (code, v, _) = json_check(repo.path(), &["--against", "main"]);
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#}");
}

#[test]
fn a_renamed_file_is_not_a_duplicate() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    // Renamed in the working tree only, then committed.
    repo.git(&[
        "mv",
        "migrations/versions/2_b.py",
        "migrations/versions/2_b_orders.py",
    ]);
    let (code, v, _) = json_check(repo.path(), &["--against", "main"]);
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#}");
    repo.commit("rename b");
    let (code, v, _) = json_check(repo.path(), &["--against", "main"]);
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#}");
}

#[test]
fn the_same_revision_id_with_different_content_is_a_duplicate() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "migrations/versions/3_mine.py",
        &revision("c000000000c3", Some("b000000000b2"), "payments"),
    );
    repo.commit("c on feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        "migrations/versions/3_theirs.py",
        &revision("c000000000c3", Some("b000000000b2"), "invoices"),
    );
    repo.commit("another c on main");
    repo.git(&["checkout", "-q", "feature"]);
    let (code, v, _) = json_check(repo.path(), &["--against", "main"]);
    assert_eq!(code, 1);
    assert_eq!(rules_of(&v), ["duplicate-revision"], "{v:#}");
    let f = &v["findings"][0];
    assert_eq!(f["location"]["path"], "migrations/versions/3_mine.py");
    let message = f["message"].as_str().expect("message");
    assert!(
        message.contains("main:migrations/versions/3_theirs.py"),
        "{message}"
    );
}

#[test]
fn files_deleted_on_either_side_stay_deleted() {
    let repo = Repo::new();
    repo.write(
        "migrations/versions/3_c.py",
        &revision("c000000000c3", Some("b000000000b2"), "invoices"),
    );
    repo.commit("c");
    // This branch squashes c away; main leaves it alone. After the merge, c is gone.
    repo.git(&["checkout", "-q", "-b", "squash"]);
    repo.git(&["rm", "-q", "migrations/versions/3_c.py"]);
    repo.commit("drop c");
    let (code, v, _) = json_check(repo.path(), &["--against", "main"]);
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#}");

    // Main deletes c, and a branch made before that adds d on b: after the merge only d is a
    // head, since c goes with main's deletion.
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["rm", "-q", "migrations/versions/3_c.py"]);
    repo.commit("main drops c");
    repo.git(&["checkout", "-q", "feature"]);
    repo.write(
        "migrations/versions/3_d.py",
        &revision("d000000000d4", Some("b000000000b2"), "payments"),
    );
    repo.commit("d");
    let (code, v, _) = json_check(repo.path(), &[]);
    assert_eq!(
        rules_of(&v),
        ["multiple-heads"],
        "c and d on the branch alone"
    );
    assert_eq!(code, 1);
    let (code, v, _) = json_check(repo.path(), &["--against", "main"]);
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#}");
}

#[test]
fn a_shallow_clone_without_the_ref_says_what_to_fetch() {
    let origin = Repo::new();
    origin.two_branches_on_one_parent();
    let clones = tempfile::tempdir().expect("temporary directory");
    let url = format!("file://{}", origin.path().display());
    git_in(
        clones.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            "--single-branch",
            "--branch",
            "feature",
            &url,
            "shallow",
        ],
    );
    let shallow = clones.path().join("shallow");
    let o = driftlint(
        &shallow,
        &[
            "check",
            "--migrations",
            "migrations",
            "--against",
            "origin/main",
        ],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`origin/main` does not name a commit in this shallow repository"),
        "{stderr}"
    );
    // The command in the help is the one to run, and it works in a single-branch clone.
    let command = stderr
        .split('`')
        .find(|part| part.starts_with("git fetch"))
        .unwrap_or_else(|| panic!("no fetch command in: {stderr}"));
    assert_eq!(
        command,
        "git fetch --depth=1 origin main:refs/remotes/origin/main"
    );
    let words: Vec<&str> = command.split(' ').skip(1).collect();
    git_in(&shallow, &words);
    let (code, v, stderr) = json_check(&shallow, &["--against", "origin/main"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(rules_of(&v), ["multiple-heads"], "{v:#}");
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("c000000000c3 from origin/main, d000000000d4 from this branch"),
        "{v:#}"
    );
    // Without history back to the merge base, driftlint says how it merged.
    assert!(stderr.contains("no common history"), "{stderr}");
}

#[test]
fn a_shallow_clone_of_a_rename_is_not_a_duplicate() {
    let origin = Repo::new();
    origin.git(&["checkout", "-q", "-b", "feature"]);
    origin.git(&[
        "mv",
        "migrations/versions/2_b.py",
        "migrations/versions/2_b_orders.py",
    ]);
    origin.commit("rename b");
    let clones = tempfile::tempdir().expect("temporary directory");
    let url = format!("file://{}", origin.path().display());
    git_in(
        clones.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            "--no-single-branch",
            &url,
            "shallow",
        ],
    );
    let shallow = clones.path().join("shallow");
    git_in(&shallow, &["checkout", "-q", "feature"]);
    let (code, v, stderr) = json_check(&shallow, &["--against", "origin/main"]);
    assert!(stderr.contains("no common history"), "{stderr}");
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#}");
}

#[test]
fn outside_a_repository_or_with_an_unknown_ref_is_exit_2() {
    let plain = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir_all(plain.path().join("migrations/versions")).expect("mkdir");
    let o = driftlint(
        plain.path(),
        &["check", "--migrations", "migrations", "--against", "main"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not inside a git repository"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let repo = Repo::new();
    let o = driftlint(
        repo.path(),
        &[
            "check",
            "--migrations",
            "migrations",
            "--against",
            "nosuchbranch",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("`nosuchbranch` does not name a commit in this repository"),
        "{stderr}"
    );
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn sarif_and_annotations_of_a_merge_finding() {
    let repo = Repo::new();
    repo.two_branches_on_one_parent();
    let o = driftlint(
        repo.path(),
        &[
            "check",
            "--migrations",
            "migrations",
            "--against",
            "main",
            "--format",
            "sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).expect("SARIF is JSON");
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
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "multiple-heads");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "migrations/versions/3_d.py"
    );
    // main's file is a related location; its `:` is escaped so that the URI stays relative.
    let related: Vec<&str> = result["relatedLocations"]
        .as_array()
        .expect("related locations")
        .iter()
        .map(|l| {
            l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri")
        })
        .collect();
    assert!(
        related.contains(&"main%3Amigrations/versions/3_c.py"),
        "{related:?}"
    );

    let o = driftlint(
        repo.path(),
        &[
            "check",
            "--migrations",
            "migrations",
            "--against",
            "main",
            "--format",
            "github",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let first = out.lines().next().expect("one annotation");
    assert!(
        first.starts_with(
            "::error file=migrations/versions/3_d.py,line=10,col=1,endLine=10,endColumn=31,title=multiple-heads::the migrations have 2 heads"
        ),
        "{first}"
    );
    assert!(first.contains("d000000000d4 from this branch"), "{first}");
}
