//! Where `--live` finds its URL: `DATABASE_URL` in the environment, else in a `.env` file in the
//! working directory (the environment wins, as with python-dotenv and Flask's `load_dotenv`).
//!
//! `.env` files are read with `dotenvy`: they are written for Docker Compose, python-dotenv and
//! Flask, with quoting, escapes, `export` prefixes, comments and `${VAR}` substitution, and a
//! hand-written reader would get some of that wrong. The file is only read, never loaded into
//! the process environment. Invariant: no error quotes a line of the file, which may hold a
//! password.

use std::path::{Path, PathBuf};

use super::Error;
use super::url::DatabaseUrl;

/// Where a URL came from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlOrigin {
    Environment,
    EnvFile(PathBuf),
}

/// The `DATABASE_URL` from `lookup` (the process environment in real use), else from
/// `<dir>/.env`; `Ok(None)` when neither has one.
pub fn database_url_from_environment(
    dir: &Path,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<(DatabaseUrl, UrlOrigin)>, Error> {
    if let Some(text) = lookup("DATABASE_URL").filter(|text| !text.trim().is_empty()) {
        return Ok(Some((DatabaseUrl::parse(&text)?, UrlOrigin::Environment)));
    }
    let path = dir.join(".env");
    if !path.is_file() {
        return Ok(None);
    }
    match read_env_file_value(&path, "DATABASE_URL")? {
        Some(text) if !text.trim().is_empty() => {
            let url = DatabaseUrl::parse(&text).map_err(|error| match error {
                Error::InvalidUrl { message } => Error::InvalidUrl {
                    message: format!("{message} (DATABASE_URL in {})", path.display()),
                },
                other => other,
            })?;
            Ok(Some((url, UrlOrigin::EnvFile(path))))
        }
        _ => Ok(None),
    }
}

/// The last value of `key` in the `.env` file at `path`.
pub fn read_env_file_value(path: &Path, key: &str) -> Result<Option<String>, Error> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::EnvFile {
        path: path.to_owned(),
        message: error.to_string(),
    })?;
    let iter = dotenvy::from_read_iter(text.as_bytes());
    let mut value = None;
    for item in iter {
        match item {
            Ok((name, found)) => {
                if name == key {
                    value = Some(found);
                }
            }
            Err(dotenvy::Error::LineParse(line, _)) => {
                let number = text
                    .lines()
                    .position(|candidate| candidate.contains(line.lines().next().unwrap_or("")))
                    .map_or_else(String::new, |index| format!(" on line {}", index + 1));
                return Err(Error::EnvFile {
                    path: path.to_owned(),
                    message: format!("a line cannot be parsed{number}"),
                });
            }
            Err(_) => {
                return Err(Error::EnvFile {
                    path: path.to_owned(),
                    message: "the file cannot be parsed".to_owned(),
                });
            }
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_env(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(".env"), text).expect("write .env");
        dir
    }

    #[test]
    fn the_environment_wins_over_the_env_file() {
        let dir = write_env("DATABASE_URL=postgresql://file@h/filedb\n");
        let (url, origin) = database_url_from_environment(dir.path(), |name| {
            (name == "DATABASE_URL").then(|| "postgresql://env@h/envdb".to_owned())
        })
        .expect("reads")
        .expect("found");
        assert_eq!(url.dbname(), "envdb");
        assert_eq!(origin, UrlOrigin::Environment);
    }

    #[test]
    fn the_env_file_with_quotes_export_and_comments() {
        let dir = write_env(
            "# settings\nFLASK_APP=app.py\nexport DATABASE_URL=\"postgresql+psycopg2://app:p%40ss@db:5433/shop\" # main\nOTHER='x'\n",
        );
        let (url, origin) = database_url_from_environment(dir.path(), |_| None)
            .expect("reads")
            .expect("found");
        assert_eq!(url.dbname(), "shop");
        assert_eq!(url.user(), "app");
        assert_eq!(origin, UrlOrigin::EnvFile(dir.path().join(".env")));
    }

    #[test]
    fn no_url_anywhere_is_none() {
        let dir = write_env("FLASK_APP=app.py\n");
        assert!(
            database_url_from_environment(dir.path(), |_| None)
                .expect("reads")
                .is_none()
        );
        let empty = tempfile::tempdir().expect("temp dir");
        assert!(
            database_url_from_environment(empty.path(), |_| Some(String::new()))
                .expect("reads")
                .is_none()
        );
    }

    #[test]
    fn a_broken_env_file_is_an_error_that_does_not_quote_the_line() {
        let dir = write_env("A=1\nDATABASE_URL='postgresql://u:topsecret@h/d\n");
        let error =
            database_url_from_environment(dir.path(), |_| None).expect_err("unterminated quote");
        let message = error.to_string();
        assert!(!message.contains("topsecret"), "{message}");
        assert!(message.contains(".env"), "{message}");
    }
}
