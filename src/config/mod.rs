//! `[tool.driftlint]` in `pyproject.toml`: where Python projects keep their tools' settings.
//!
//! ```toml
//! [tool.driftlint]
//! migrations = "app/migrations"        # as --migrations
//! expectations = "expectations/"       # as --expectations
//! database-url-env = "APP_DATABASE_URL" # the variable --live reads instead of DATABASE_URL
//! format = "github"                    # as check --format
//! deny-warnings = true                 # as check --deny-warnings
//! ```
//!
//! Paths are relative to the directory holding `pyproject.toml`. Flags given on the command
//! line win over these; without either, SPEC.md's discovery order applies.
//!
//! Invariant: an unknown key, a value of the wrong type or a `pyproject.toml` that is not TOML is
//! an error that points at its line; a missing file or table is no configuration, not an error.

use std::path::{Path, PathBuf};

use miette::{NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

/// The settings `[tool.driftlint]` gives. `None` where it says nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The `pyproject.toml` the settings come from.
    pub path: PathBuf,
    pub migrations: Option<PathBuf>,
    pub expectations: Option<PathBuf>,
    /// The environment variable holding the database URL for `--live`.
    pub database_url_env: Option<String>,
    pub format: Option<Format>,
    pub deny_warnings: Option<bool>,
}

/// `check`'s output formats, as `format` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

/// `[tool.driftlint]` could not be read. Returned boxed: it carries the file's text.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{}:{line}: [tool.driftlint] {message}", .path.display())]
#[diagnostic(
    code(driftlint::config_invalid),
    help(
        "[tool.driftlint] takes migrations, expectations, database-url-env, format (human, json, \
         sarif or github) and deny-warnings (true or false)"
    )
)]
pub struct Error {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
    #[source_code]
    source_code: NamedSource<String>,
    #[label("here")]
    span: Option<SourceSpan>,
}

#[derive(Deserialize)]
struct Document {
    tool: Option<Tools>,
}

#[derive(Deserialize)]
struct Tools {
    driftlint: Option<Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Table {
    migrations: Option<String>,
    expectations: Option<String>,
    database_url_env: Option<Spanned<String>>,
    format: Option<Format>,
    deny_warnings: Option<bool>,
}

/// Reads `[tool.driftlint]` from `dir/pyproject.toml`: `None` when there is no such file or no
/// such table.
pub fn load(dir: &Path) -> Result<Option<Config>, Box<Error>> {
    let path = dir.join("pyproject.toml");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // A pyproject.toml that cannot be read (a directory, no permission) holds no settings
        // driftlint can use; discovery reports it if it needs the file.
        Err(_) => return Ok(None),
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // Most pyproject.toml files have no driftlint table; reading them stops here, so that a
    // project's unusual TOML is Alembic's or pip's business, not driftlint's.
    if !text.contains("driftlint") {
        return Ok(None);
    }
    parse(&path, text)
}

fn parse(path: &Path, text: String) -> Result<Option<Config>, Box<Error>> {
    let document: Document = toml::from_str(&text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        error(path, &text, span, e.message().to_owned())
    })?;
    let Some(table) = document.tool.and_then(|tool| tool.driftlint) else {
        return Ok(None);
    };
    if let Some(name) = &table.database_url_env
        && !is_environment_variable_name(name.get_ref())
    {
        return Err(error(
            path,
            &text,
            name.span(),
            format!(
                "database-url-env must name an environment variable (letters, digits and `_`), \
                 not `{}`",
                name.get_ref()
            ),
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(Some(Config {
        path: path.to_path_buf(),
        migrations: table.migrations.map(|p| base.join(p)),
        expectations: table.expectations.map(|p| base.join(p)),
        database_url_env: table.database_url_env.map(Spanned::into_inner),
        format: table.format,
        deny_warnings: table.deny_warnings,
    }))
}

fn is_environment_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn error(path: &Path, text: &str, span: std::ops::Range<usize>, message: String) -> Box<Error> {
    let start = span.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let length = span.end.min(text.len()).saturating_sub(start);
    Box::new(Error {
        path: path.to_path_buf(),
        line,
        message,
        source_code: NamedSource::new(crate::source::display_path(path), text.to_owned())
            .with_language("TOML"),
        span: Some(SourceSpan::new(start.into(), length)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Option<Config>, Box<Error>> {
        parse(Path::new("/p/pyproject.toml"), text.to_owned())
    }

    #[test]
    fn every_key_is_read_and_paths_are_relative_to_the_file() {
        let config = read(
            "[project]\nname = \"app\"\n\n[tool.driftlint]\nmigrations = \"db/migrations\"\n\
             expectations = \"expectations/\"\ndatabase-url-env = \"APP_DB\"\nformat = \"github\"\n\
             deny-warnings = true\n",
        )
        .expect("valid")
        .expect("has the table");
        assert_eq!(config.migrations, Some(PathBuf::from("/p/db/migrations")));
        assert_eq!(config.expectations, Some(PathBuf::from("/p/expectations/")));
        assert_eq!(config.database_url_env.as_deref(), Some("APP_DB"));
        assert_eq!(config.format, Some(Format::Github));
        assert_eq!(config.deny_warnings, Some(true));
    }

    #[test]
    fn no_table_is_no_configuration() {
        assert_eq!(
            read("[tool.black]\nline-length = 100\n").expect("valid"),
            None
        );
        assert_eq!(read("").expect("valid"), None);
    }

    #[test]
    fn an_unknown_key_is_an_error_with_its_line() {
        let e = read("[tool.driftlint]\nmigrations = \"m\"\nmigration = \"x\"\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("unknown field `migration`"),
            "{}",
            e.message
        );
        assert!(e.to_string().starts_with("/p/pyproject.toml:3: "), "{e}");
    }

    #[test]
    fn wrong_types_and_values_are_errors_with_their_lines() {
        let e = read("[tool.driftlint]\n\ndeny-warnings = \"yes\"\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("expected a boolean"), "{}", e.message);
        let e = read("[tool.driftlint]\nformat = \"xml\"\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("xml"), "{}", e.message);
        let e = read("[tool.driftlint]\ndatabase-url-env = \"postgres://x\"\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("environment variable"), "{}", e.message);
    }

    #[test]
    fn broken_toml_is_an_error_with_its_line() {
        let e = read("[tool.driftlint]\nmigrations = \n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }
}
