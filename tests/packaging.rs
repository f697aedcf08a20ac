//! driftlint as Python projects install it: the wheel maturin builds (installed into a fresh
//! virtualenv and run on the bundled example), and the pre-commit hook (installed and run by the
//! `pre-commit` tool on a sample repository).
//!
//! maturin and pre-commit come from the virtualenv `scripts/test` creates
//! (`$DRIFTLINT_PYTHON_BIN`, else `./.venv/bin`). Without them a test prints `skipped:` and
//! passes, unless `CI` is set, where it fails.
//!
//! Both builds share this test run's target directory and use the dev profile, so they compile
//! only driftlint itself and the few dependencies whose features differ outside tests, not a
//! release build of everything. A build of the hook's copy of the sources replaces
//! `target/debug/driftlint` with a binary built from the same sources and told the same commit.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// The two builds run one after the other: they share the target directory, and two at once
/// only wait for each other's lock on it.
static BUILDS: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory this test binary was built in.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_driftlint"))
        .parent()
        .and_then(Path::parent)
        .expect("the binary lies in <target>/<profile>/")
        .to_path_buf()
}

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// A program from the test virtualenv, or `None` after saying why the test is skipped (a
/// failure when `CI` is set).
fn python_tool(name: &str) -> Option<PathBuf> {
    let bin = std::env::var_os("DRIFTLINT_PYTHON_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin"));
    let tool = bin.join(name);
    if tool.is_file() {
        return Some(tool);
    }
    let reason = format!(
        "{} not found (scripts/test installs it into .venv)",
        tool.display()
    );
    assert!(
        !running_in_ci(),
        "{reason}; CI is set, so this is a failure rather than a skip"
    );
    eprintln!("skipped: {reason}");
    None
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the program runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn must(command: &mut Command) -> Output {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        text(&output)
    );
    output
}

fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
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
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    command
}

/// The commit the sources are at, so that builds of copies report the same `--version`.
fn source_commit() -> Option<String> {
    let output = git(&root())
        .args(["rev-parse", "--short=9", "HEAD"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[test]
#[ignore = "needs maturin and pre-commit (scripts/test runs it)"]
fn the_wheel_installs_into_a_fresh_virtualenv_and_runs() {
    let Some(maturin) = python_tool("maturin") else {
        return;
    };
    let _build = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let work = tempfile::tempdir().expect("temporary directory");
    let wheels = work.path().join("wheels");
    let started = std::time::Instant::now();
    must(
        Command::new(&maturin)
            .args(["build", "--profile", "dev", "--out"])
            .arg(&wheels)
            .current_dir(root())
            .env("CARGO_TARGET_DIR", target_dir()),
    );
    eprintln!("wheel built in {:.1?}", started.elapsed());
    let wheel = std::fs::read_dir(&wheels)
        .expect("the wheel directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .expect("maturin wrote a wheel");
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!(
            "driftlint-{}-py3-none-",
            env!("CARGO_PKG_VERSION")
        )),
        "{name}"
    );

    // Installed the way the GitHub Action installs a release: action-install.sh makes a fresh
    // virtualenv and pip-installs `driftlint==<version>`, found here among the wheels just built.
    let runner_temp = work.path().join("runner");
    std::fs::create_dir_all(&runner_temp).expect("mkdir");
    let github_path = work.path().join("github_path");
    must(
        Command::new("bash")
            .arg(root().join("scripts/action-install.sh"))
            .env("DRIFTLINT_VERSION", env!("CARGO_PKG_VERSION"))
            .env("PIP_FIND_LINKS", &wheels)
            .env("PIP_NO_INDEX", "1")
            .env("RUNNER_TEMP", &runner_temp)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_ACTION_PATH", root()),
    );
    let venv = runner_temp.join("driftlint-venv");
    assert_eq!(
        std::fs::read_to_string(&github_path).expect("GITHUB_PATH written"),
        format!("{}\n", venv.join("bin").display())
    );
    let installed = venv.join("bin/driftlint");
    let output = run(Command::new(&installed)
        .args([
            "check",
            "--migrations",
            "examples/flask-app/migrations",
            "--expectations",
            "expectations/example.yaml",
        ])
        .current_dir(root())
        .env("NO_COLOR", "1"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        stdout.ends_with("driftlint: 4 errors, 0 warnings, 0 info\n"),
        "{stdout}"
    );
    let version = must(Command::new(&installed).arg("--version"));
    assert!(
        String::from_utf8_lossy(&version.stdout)
            .starts_with(&format!("driftlint {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&version)
    );
}

/// A revision file creating `table`.
fn revision(id: &str, down: Option<&str>, table: &str) -> String {
    let down = down.map_or("None".to_owned(), |d| format!("{d:?}"));
    format!(
        "\"\"\"create {table}\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = {id:?}\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.create_table({table:?}, sa.Column(\"id\", sa.Integer(), primary_key=True))\n\n\ndef downgrade():\n    op.drop_table({table:?})\n"
    )
}

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A git repository holding the project's files as they are on disk (tracked, and new files
/// not ignored), committed, as pre-commit would clone the project from its host.
fn hook_repository(into: &Path) -> String {
    let listed = must(git(&root()).args([
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
    ]));
    for relative in listed
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
    {
        let from = root().join(&relative);
        // Listed but deleted in the working tree.
        if !from.is_file() {
            continue;
        }
        let to = into.join(&relative);
        std::fs::create_dir_all(to.parent().expect("has a parent")).expect("mkdir");
        std::fs::copy(&from, &to).expect("copy");
    }
    must(git(into).args(["init", "-q"]));
    must(git(into).args(["add", "-A"]));
    must(git(into).args(["commit", "-q", "-m", "driftlint"]));
    let head = must(git(into).args(["rev-parse", "HEAD"]));
    String::from_utf8_lossy(&head.stdout).trim().to_owned()
}

#[test]
#[ignore = "needs maturin and pre-commit (scripts/test runs it)"]
fn the_pre_commit_hook_installs_and_checks_the_migrations() {
    let Some(pre_commit) = python_tool("pre-commit") else {
        return;
    };
    let _build = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let work = tempfile::tempdir().expect("temporary directory");
    let hooks = work.path().join("hooks");
    let rev = hook_repository(&hooks);

    let sample = work.path().join("sample");
    write(
        &sample,
        "migrations/env.py",
        "# Flask-Migrate's env.py: current_app\n",
    );
    write(
        &sample,
        "migrations/versions/1a_users.py",
        &revision("1a0000000001", None, "users"),
    );
    write(&sample, "README.md", "sample\n");
    write(
        &sample,
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: driftlint\n",
            hooks.display()
        ),
    );
    must(git(&sample).args(["init", "-q"]));
    must(git(&sample).args(["add", "-A"]));

    let pre_commit_run = |args: &[&str]| {
        let mut command = Command::new(&pre_commit);
        command
            .args(["run", "--color", "never"])
            .args(args)
            .current_dir(&sample)
            .env("PRE_COMMIT_HOME", work.path().join("cache"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            // pre-commit installs the hook with pip, which builds the wheel with maturin: in
            // the dev profile, in this run's target directory.
            .env("MATURIN_PEP517_ARGS", "--profile dev")
            .env("CARGO_TARGET_DIR", target_dir())
            .env("NO_COLOR", "1")
            .env_remove("DATABASE_URL");
        if let Some(commit) = source_commit() {
            command.env("DRIFTLINT_COMMIT", commit);
        }
        run(&mut command)
    };

    let started = std::time::Instant::now();
    let output = pre_commit_run(&["--all-files"]);
    eprintln!("hook installed and run in {:.1?}", started.elapsed());
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("driftlint") && out.contains("Passed"), "{out}");

    // A second revision on the same parent: two heads, and the hook fails saying so.
    write(
        &sample,
        "migrations/versions/2b_orders.py",
        &revision("2b0000000002", Some("1a0000000001"), "orders"),
    );
    write(
        &sample,
        "migrations/versions/2c_invoices.py",
        &revision("2c0000000003", Some("1a0000000001"), "invoices"),
    );
    must(git(&sample).args(["add", "-A"]));
    let output = pre_commit_run(&[]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("multiple-heads"), "{out}");
    assert!(
        out.contains("flask db merge -m \"merge heads\" 2b0000000002 2c0000000003"),
        "{out}"
    );

    // A change to no revision or expectations file does not run the hook.
    must(git(&sample).args(["commit", "-q", "--no-verify", "-m", "sample"]));
    write(&sample, "README.md", "sample, edited\n");
    must(git(&sample).args(["add", "-A"]));
    let output = pre_commit_run(&[]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("Skipped"), "{out}");
}
