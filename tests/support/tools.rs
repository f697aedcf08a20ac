//! Running the command-line tools the tests drive: `psql` for SQL, and Alembic from the Python
//! virtualenv that `scripts/test` creates (`$DRIFTLINT_PYTHON_BIN`, else `./.venv/bin`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::cluster::client_program;

/// Runs an SQL script with `psql` (`-v ON_ERROR_STOP=1`, unaligned, tuples only) and returns its
/// standard output; panics with psql's message when any statement fails.
pub fn psql(url: &str, sql: &str) -> String {
    match try_psql(url, sql) {
        Ok(stdout) => stdout,
        Err(error) => panic!("psql failed: {error}\nSQL:\n{sql}"),
    }
}

/// Like [`psql`], returning the error output instead of panicking.
pub fn try_psql(url: &str, sql: &str) -> Result<String, String> {
    // The script goes through standard input so that statements run one by one, as in a file,
    // rather than as one multi-statement query string.
    let mut child = Command::new(client_program("psql"))
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-f",
            "-",
        ])
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGPASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run psql: {error}"))?;
    let mut stdin = child
        .stdin
        .take()
        .expect("psql's stdin was configured as a pipe");
    let written = stdin.write_all(sql.as_bytes());
    drop(stdin);
    let output = child
        .wait_with_output()
        .map_err(|error| format!("psql did not finish: {error}"))?;
    written.map_err(|error| format!("cannot send SQL to psql: {error}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The directory of the virtualenv's executables.
fn python_bin() -> PathBuf {
    match std::env::var_os("DRIFTLINT_PYTHON_BIN") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".venv")
            .join("bin"),
    }
}

/// `true` when Alembic is installed; otherwise fails the test under `CI` or prints a `skipped:`
/// line. A test that needs Alembic begins with `if !support::alembic_available() { return; }`.
pub fn alembic_available() -> bool {
    let available = python_bin().join("alembic").is_file();
    if !available {
        super::skip_or_fail(&format!(
            "alembic not found in {} (run scripts/test, which creates .venv, or set \
             DRIFTLINT_PYTHON_BIN)",
            python_bin().display()
        ));
    }
    available
}

/// Runs `alembic ARGS` in `project_dir` against `url` (given to the project's `env.py` as
/// `DATABASE_URL`) and returns its standard output; panics with Alembic's output on failure.
pub fn alembic(project_dir: &Path, args: &[&str], url: &str) -> String {
    let output = try_alembic(project_dir, args, url);
    if !output.status.success() {
        panic!(
            "alembic {} failed in {} ({}):\n{}{}",
            args.join(" "),
            project_dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Like [`alembic`], returning the whole output whatever the exit status.
pub fn try_alembic(project_dir: &Path, args: &[&str], url: &str) -> Output {
    let program = python_bin().join("alembic");
    Command::new(&program)
        .args(args)
        .current_dir(project_dir)
        .env("DATABASE_URL", url)
        // Fixture trees stay clean of __pycache__ directories.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", program.display()))
}
