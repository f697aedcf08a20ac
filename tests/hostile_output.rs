//! The built binary on hostile input: long lines, control characters in revision ids and file
//! names, revision files that cannot be read by `schema`, `heads` and `graph`, symlinks out of
//! the project, and secrets in URLs and settings.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

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

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_finding_past_column_65536_is_rendered_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "versions/a1.py",
        &format!(
            "revision = 'a1'\nx = '{}'; down_revision = 'missing'\n",
            "a".repeat(70_000)
        ),
    );
    let o = driftlint(dir.path(), &["check", "--migrations", "versions"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("[versions/a1.py:2:70009]"), "{out}");
    assert!(out.contains("…"), "{out}");
    assert!(out.len() < 2_000, "{} bytes", out.len());
}

#[test]
fn ten_thousand_missing_parents_in_one_line_render_in_bounded_output() {
    let dir = tempfile::tempdir().unwrap();
    let parents: Vec<String> = (0..10_000).map(|i| format!("'m{i:05}'")).collect();
    write(
        dir.path(),
        "versions/a1.py",
        &format!(
            "revision = 'a1'\ndown_revision = ({})\n",
            parents.join(", ")
        ),
    );
    let o = driftlint(dir.path(), &["check", "--migrations", "versions"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("driftlint: 10000 errors"),
        "{}",
        &out[out.len() - 200..]
    );
    // Each finding shows a window of the 100 KB line, not the line.
    assert!(out.len() < 10_000 * 1_500, "{} bytes", out.len());
}

#[test]
fn control_characters_in_revision_ids_and_names_are_escaped_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    // A raw CR would end the Python string literal; the file name has one.
    let nasty = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}\u{9b}";
    write(
        dir.path(),
        "versions/a1.py",
        &format!("revision = 'a1{nasty}'\ndown_revision = 'gone{nasty}'\n"),
    );
    write(
        dir.path(),
        &format!("versions/b{nasty}\r.py"),
        "revision = 'b1'\ndown_revision = 'a1'\n",
    );
    for format in ["human", "github", "json", "sarif"] {
        let o = driftlint(
            dir.path(),
            &["check", "--migrations", "versions", "--format", format],
        );
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("gone"), "{format}: {out}");
        for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\r', '\u{202e}'] {
            assert!(!out.contains(bad), "{format}: {bad:?} in {out:?}");
        }
        if format == "json" || format == "sarif" {
            let value: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert!(
                value.to_string().contains("\\u001b]0;owned"),
                "{format}: {out}"
            );
        }
        if format != "json" && format != "sarif" {
            assert!(out.contains("\\x1b]0;owned\\x07"), "{format}: {out}");
        }
        if format == "github" {
            for line in out.lines() {
                assert!(
                    line.starts_with("::"),
                    "a line that is not a command: {line:?}"
                );
            }
        }
    }
    for command in [
        &["heads"][..],
        &["graph"][..],
        &["graph", "--format", "dot"][..],
        &["graph", "--format", "json"][..],
    ] {
        let mut args = command.to_vec();
        args.extend(["--migrations", "versions"]);
        let o = driftlint(dir.path(), &args);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\r', '\u{202e}'] {
            assert!(!all.contains(bad), "{args:?}: {bad:?} in {all:?}");
        }
    }
}

#[test]
fn schema_heads_and_graph_name_a_skipped_revision_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    write(
        dir.path(),
        "versions/b2.py",
        "revision = 'b2'\ndown_revision = 'a1'\n\ndef upgrade(:\n",
    );
    for command in ["schema", "heads", "graph"] {
        let o = driftlint(dir.path(), &[command, "--migrations", "versions"]);
        assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("driftlint: skipped: versions/b2.py is not valid Python")
                && err.contains("(at versions/b2.py:4:"),
            "{command}: {err}"
        );
        assert!(
            err.contains("1 revision file could not be read and is left out of"),
            "{command}: {err}"
        );
    }
    // What could be read is still printed.
    let heads = driftlint(dir.path(), &["heads", "--migrations", "versions"]);
    assert_eq!(stdout(&heads), "a1 (head)\n");
    // Without the broken file all three are clean.
    std::fs::remove_file(dir.path().join("versions/b2.py")).unwrap();
    for command in ["schema", "heads", "graph"] {
        let o = driftlint(dir.path(), &[command, "--migrations", "versions"]);
        assert_eq!(o.status.code(), Some(0), "{command}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{command}");
    }
}

#[test]
fn a_url_without_at_does_not_print_its_password() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    for url in [
        "postgresql://app:S3cret-db.internal/app",
        "postgresql://app:S3cret-db.internal:5432/app",
        "postgresql+psycopg2://app:S3cret@db/app?sslmode=S3cret",
        "host=db password=S3cret port=S3cret",
    ] {
        let o = driftlint(
            dir.path(),
            &["check", "--migrations", "versions", "--database-url", url],
        );
        assert_eq!(o.status.code(), Some(2), "{url}");
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(all.contains("invalid database URL"), "{url}: {all}");
        assert!(!all.contains("S3cret"), "{url}: {all}");
    }
}

#[test]
fn a_database_url_in_pyproject_is_not_echoed_by_the_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    for setting in [
        "database-url = \"postgresql://app:S3cret@db.internal/app\"",
        "format = \"postgresql://app:S3cret@db.internal/app\"",
        "migrations = [\"host=db password=S3cret\"]",
    ] {
        write(
            dir.path(),
            "pyproject.toml",
            &format!("[tool.driftlint]\n{setting}\n"),
        );
        let o = driftlint(dir.path(), &["check", "--migrations", "versions"]);
        assert_eq!(o.status.code(), Some(2), "{setting}");
        let err = stderr(&o);
        assert!(err.contains("[tool.driftlint]"), "{setting}: {err}");
        assert!(err.contains("pyproject.toml:2"), "{setting}: {err}");
        assert!(!err.contains("S3cret"), "{setting}: {err}");
        assert!(!err.contains("db.internal"), "{setting}: {err}");
    }
}

#[test]
fn revision_files_linked_outside_the_project_are_skipped_with_a_warning() {
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "secret.py",
        "revision = 'leak'\ndown_revision = 'TOKEN_hunter2'\n",
    );
    write(
        outside.path(),
        "elsewhere/e5.py",
        "revision = 'e5'\ndown_revision = 'TOKEN_hunter2'\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    write(
        project,
        "migrations/versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    write(
        project,
        "shared/b2.py",
        "revision = 'b2'\ndown_revision = 'a1'\n",
    );
    std::fs::write(project.join("migrations/env.py"), "").unwrap();
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, project.join(name)).unwrap();
    };
    link(
        &outside.path().join("secret.py"),
        "migrations/versions/c3.py",
    );
    link(Path::new("/proc/self/environ"), "migrations/versions/d4.py");
    // Inside the project: read as before.
    link(&project.join("shared/b2.py"), "migrations/versions/b2.py");
    let o = Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args(["check", "--migrations", "migrations", "--format", "json"])
        .current_dir(project)
        .env("SECRET_TOKEN", "TOKEN_hunter2")
        .output()
        .unwrap();
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        !out.contains("hunter2") && !err.contains("hunter2"),
        "{out}{err}"
    );
    for name in ["c3.py", "d4.py"] {
        assert!(
            err.contains(&format!(
                "driftlint: warning: skipped migrations/versions/{name}: a symbolic link to"
            )),
            "{err}"
        );
    }
    assert!(!err.contains("b2.py"), "{err}");
    let heads = driftlint(project, &["heads", "--migrations", "migrations"]);
    assert_eq!(stdout(&heads), "b2 (head)\n", "{}", stderr(&heads));

    // A version directory that is itself a link out of the project.
    let elsewhere = tempfile::tempdir().unwrap();
    let linked = elsewhere.path();
    write(
        linked,
        "alembic.ini",
        "[alembic]\nscript_location = migrations\nversion_locations = %(here)s/migrations/versions %(here)s/more\n",
    );
    write(linked, "migrations/env.py", "");
    write(
        linked,
        "migrations/versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    std::os::unix::fs::symlink(outside.path().join("elsewhere"), linked.join("more")).unwrap();
    let o = driftlint(linked, &["heads"]);
    assert_eq!(stdout(&o), "a1 (head)\n", "{}", stderr(&o));
    assert!(
        stderr(&o).contains("driftlint: warning: skipped more: a symbolic link to"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn errors_on_standard_error_escape_control_characters_too() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    for args in [
        &["check", "--migrations", "v\u{1b}]0;x\u{7}"][..],
        &[
            "check",
            "--migrations",
            "versions",
            "--expectations",
            "e\u{1b}[2J.yaml",
        ][..],
        &[
            "check",
            "--migrations",
            "versions",
            "--database-url",
            "postgresql://u@h/d?sslmode=x\u{1b}[2J",
        ][..],
    ] {
        let o = driftlint(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains("\\x1b"), "{args:?}: {err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{7}'),
            "{args:?}: {err:?}"
        );
    }
}
