//! The command line's side of the live check: which database (`--database-url`, or `--live`
//! with `DATABASE_URL` from the environment or `.env`), how long to wait (`--timeout`), and
//! reading it on a current-thread runtime. Everything the live rules need is read here, before
//! any rule runs.

use std::path::Path;
use std::time::Duration;

use super::Failure;
use crate::live::{self, DatabaseUrl, LiveSnapshot, SnapshotOptions};

/// The database to check: `--database-url`, or with `--live` the `DATABASE_URL` of the
/// environment or of `.env` in `cwd`; `None` when neither flag is given.
pub(super) fn database_url(
    cwd: &Path,
    given: Option<&str>,
    live: bool,
) -> Result<Option<DatabaseUrl>, Failure> {
    if let Some(text) = given {
        return Ok(Some(DatabaseUrl::parse(text).map_err(Failure::Live)?));
    }
    if !live {
        return Ok(None);
    }
    match live::database_url_from_environment(cwd, |key| std::env::var(key).ok()) {
        Ok(Some((url, _origin))) => Ok(Some(url)),
        Ok(None) => Err(Failure::Live(live::Error::NoDatabaseUrl)),
        Err(error) => Err(Failure::Live(error)),
    }
}

/// `--timeout` as a duration: a positive number of seconds.
pub(super) fn timeout(seconds: f64) -> Result<Duration, Failure> {
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err(Failure::Line(format!(
            "--timeout must be a positive number of seconds, not {seconds}"
        ))),
    }
}

/// Connects, reads the database in one read-only transaction, and disconnects.
pub(super) fn read(url: &DatabaseUrl, timeout: Duration) -> Result<LiveSnapshot, Failure> {
    // One connection and a few pipelined queries: a current-thread runtime is all it takes.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Failure::Io)?;
    runtime
        .block_on(live::snapshot_with(url, &SnapshotOptions::new(timeout)))
        .map_err(Failure::Live)
}

/// The one or two lines a live error prints: the message (which names the host, port, database
/// and user, never the password), and the help when there is one.
pub(super) fn error_lines(error: &live::Error) -> String {
    let mut text = format!("driftlint: {error}\n");
    if let live::Error::Query {
        help: Some(help), ..
    } = error
    {
        text.push_str(&format!("  help: {help}\n"));
    }
    text
}
