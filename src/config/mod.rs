//! `[tool.driftlint]` in `pyproject.toml`: where Python projects keep their tools' settings.
//!
//! ```toml
//! [tool.driftlint]
//! migrations = "app/migrations"        # as --migrations
//! expectations = "expectations/"       # as --expectations
//! database-url-env = "APP_DATABASE_URL" # the variable --live reads instead of DATABASE_URL
//! format = "github"                    # as check --format
//! deny-warnings = true                 # as check --deny-warnings
//! max-file-size = 8388608              # bytes; a larger revision file is not read (a finding)
//! max-expectations-size = 67108864     # bytes; a larger expectations file is an error
//! ```
//!
//! Paths are relative to the directory holding `pyproject.toml`. Flags given on the command
//! line win over these; without either, SPEC.md's discovery order applies.
//!
//! Invariant: an unknown key, a value of the wrong type or a `pyproject.toml` that is not TOML is
//! an error that points at its line; a missing file or table is no configuration, not an error.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// The largest revision file read, in bytes.
    pub max_file_size: Option<u64>,
    /// The largest expectations file read, in bytes.
    pub max_expectations_size: Option<u64>,
}

impl Config {
    /// The size limits these settings give, the defaults where they give none.
    pub fn limits(&self) -> Limits {
        let default = Limits::default();
        Limits {
            max_file_size: self.max_file_size.unwrap_or(default.max_file_size),
            max_expectations_size: self
                .max_expectations_size
                .unwrap_or(default.max_expectations_size),
        }
    }
}

/// How much input driftlint reads: hostile or accidental huge files are refused up front
/// instead of costing gigabytes.
///
/// The defaults are two to three orders of magnitude above real files: the largest revision
/// files of large projects are a few hundred KB (an `op.bulk_insert` of reference data), and an
/// expectations file of 10,000 tables with 20 columns each is about 6 MB. Parsing costs about
/// 20 times the file size in memory at the limit (revision files are parsed two at a time, one
/// per core), so 8 MiB keeps a hostile revision file near 200 MB; the expectations file is
/// parsed once, with about 15 times its size at most, so 64 MiB keeps it near 1 GB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest revision file read, in bytes (`max-file-size`); a larger one is an
    /// `unparsable-migration` finding.
    pub max_file_size: u64,
    /// The largest expectations file read, in bytes (`max-expectations-size`); a larger one is
    /// an error (exit 2).
    pub max_expectations_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 8 * 1024 * 1024,
            max_expectations_size: 64 * 1024 * 1024,
        }
    }
}

static MAX_FILE_SIZE: AtomicU64 = AtomicU64::new(8 * 1024 * 1024);
static MAX_EXPECTATIONS_SIZE: AtomicU64 = AtomicU64::new(64 * 1024 * 1024);

/// Sets the limits for the rest of the process: the command line does it once, after reading
/// `[tool.driftlint]`, so that every reader of revision and expectations files (however deep in
/// the call tree) honours them without each caller passing them down.
pub fn set_limits(limits: Limits) {
    MAX_FILE_SIZE.store(limits.max_file_size, Ordering::Relaxed);
    MAX_EXPECTATIONS_SIZE.store(limits.max_expectations_size, Ordering::Relaxed);
}

/// The limits in force: [`Limits::default`] unless [`set_limits`] said otherwise.
pub fn limits() -> Limits {
    Limits {
        max_file_size: MAX_FILE_SIZE.load(Ordering::Relaxed),
        max_expectations_size: MAX_EXPECTATIONS_SIZE.load(Ordering::Relaxed),
    }
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
         sarif or github), deny-warnings (true or false), max-file-size and \
         max-expectations-size (bytes)"
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
    max_file_size: Option<Spanned<u64>>,
    max_expectations_size: Option<Spanned<u64>>,
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
    for (name, value) in [
        ("max-file-size", &table.max_file_size),
        ("max-expectations-size", &table.max_expectations_size),
    ] {
        if let Some(value) = value
            && *value.get_ref() == 0
        {
            return Err(error(
                path,
                &text,
                value.span(),
                format!("{name} is a size in bytes and must be more than 0"),
            ));
        }
    }
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(Some(Config {
        path: path.to_path_buf(),
        migrations: table.migrations.map(|p| base.join(p)),
        expectations: table.expectations.map(|p| base.join(p)),
        database_url_env: table.database_url_env.map(Spanned::into_inner),
        format: table.format,
        deny_warnings: table.deny_warnings,
        max_file_size: table.max_file_size.map(Spanned::into_inner),
        max_expectations_size: table.max_expectations_size.map(Spanned::into_inner),
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
    fn size_limits_are_read_and_default_where_not_given() {
        let config = read("[tool.driftlint]\nmax-file-size = 1000\n")
            .expect("valid")
            .expect("has the table");
        assert_eq!(config.max_file_size, Some(1000));
        assert_eq!(
            config.limits(),
            Limits {
                max_file_size: 1000,
                max_expectations_size: 64 * 1024 * 1024
            }
        );
        let e = read("[tool.driftlint]\n\nmax-expectations-size = 0\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("more than 0"), "{}", e.message);
        let e = read("[tool.driftlint]\nmax-file-size = \"8MB\"\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn broken_toml_is_an_error_with_its_line() {
        let e = read("[tool.driftlint]\nmigrations = \n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }
}
