//! The expectations file: what must be true of the schema (tables, columns, types, primary keys),
//! how many heads the revision graph may have, which sequences to check, and how to adjust the
//! rules (`lint.severity`, `lint.ignore`). [`load`] reads one YAML file or a directory of them
//! into [`Expectations`]; [`find_default`] looks for one in the working directory;
//! [`render_starting_file`] writes one from a schema.
//!
//! Invariant: every value in [`Expectations`] is valid (types parsed, rule names known, tables
//! qualified with their schema, no table declared twice) and carries the span of its key and
//! value in a file registered in [`Sources`], so findings can point at the line that set the
//! expectation. Anything else is an [`Error`] with the file, line and column. serde_yaml, which
//! reads the values, stays private to this module.

mod error;
mod read;
mod render;
mod spans;

use crate::schema::model::TableKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::{Error, ErrorKind, OtherPlace};
pub use render::{JSON_SCHEMA, JSON_SCHEMA_REFERENCE, render_starting_file};

use crate::diagnostic::{Rule, Severity};
use crate::schema::types::PgType;
use crate::source::{FileId, Sources, Span};
use error::ErrorFile;

/// How many heads the graph may have: a number, or a list of branch labels each of which may
/// carry one head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedHeads {
    Count(usize),
    Labels(Vec<String>),
}

impl Default for AllowedHeads {
    fn default() -> Self {
        AllowedHeads::Count(1)
    }
}

/// Where an entry of a mapping is: its key (`email:`) and its value (`{ type: text }`). For a
/// list item (a column named in `columns: [id, score]`) both are the item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntrySpans {
    pub key: Span,
    pub value: Span,
}

/// A name written in the file (a column in `primary_key` or `absent_columns`) and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAt {
    pub name: String,
    pub span: Span,
}

/// A table name with its schema (`public` unless written `schema.table` or set by `schema:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableNameAt {
    pub schema: String,
    pub name: String,
    pub span: Span,
}

/// Everything the expectations declare, merged from all files.
#[derive(Clone, Debug)]
pub struct Expectations {
    /// The files read, in the order they were merged.
    pub files: Vec<FileId>,
    /// The schema of unqualified table names (`schema:`, default `public`).
    pub default_schema: String,
    /// Where `schema:` was set, when it was.
    pub default_schema_spans: Option<EntrySpans>,
    /// `heads:`, when given.
    pub heads: Option<HeadsExpectation>,
    /// The tables, in the order the files declare them.
    pub tables: Vec<TableExpectation>,
    pub sequences: SequencesExpectation,
    /// Where `sequences:` was set, when it was.
    pub sequences_spans: Option<EntrySpans>,
    pub lint: LintConfig,
}

/// `heads: 2` or `heads: [main, analytics]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadsExpectation {
    pub allowed: AllowedHeads,
    pub spans: EntrySpans,
}

/// One entry of `tables:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableExpectation {
    pub schema: String,
    pub name: String,
    /// The table's key (`users:`) and its mapping.
    pub spans: EntrySpans,
    pub primary_key: Option<PrimaryKeyExpectation>,
    /// Columns that must exist, in the order written.
    pub columns: Vec<ColumnExpectation>,
    /// Columns that must not exist.
    pub absent_columns: Vec<NameAt>,
}

impl TableExpectation {
    /// `schema.table`, as messages name it.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    pub fn column(&self, name: &str) -> Option<&ColumnExpectation> {
        self.columns.iter().find(|column| column.name == name)
    }
}

/// `primary_key: [id]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryKeyExpectation {
    pub columns: Vec<NameAt>,
    pub spans: EntrySpans,
}

impl PrimaryKeyExpectation {
    pub fn column_names(&self) -> Vec<&str> {
        self.columns
            .iter()
            .map(|column| column.name.as_str())
            .collect()
    }
}

/// One column under `columns:`. `ty` and `nullable` are `None` where the file does not say
/// (`columns: [id]`, `email: text`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnExpectation {
    pub name: String,
    pub spans: EntrySpans,
    pub ty: Option<TypeExpectation>,
    pub nullable: Option<NullableExpectation>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeExpectation {
    pub ty: PgType,
    /// The type as written (`varchar(120)`), for messages.
    pub written: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NullableExpectation {
    pub nullable: bool,
    pub span: Span,
}

/// Which serial and identity columns' sequences the live check examines.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum SequencesExpectation {
    /// `sequences: all` (the default).
    #[default]
    All,
    /// `sequences: none`.
    None,
    /// `sequences: [users, audit.events]`.
    Tables(Vec<TableNameAt>),
}

impl SequencesExpectation {
    /// Whether the sequences feeding `schema.table` are to be checked.
    pub fn includes(&self, schema: &str, table: &str) -> bool {
        match self {
            SequencesExpectation::All => true,
            SequencesExpectation::None => false,
            SequencesExpectation::Tables(tables) => tables
                .iter()
                .any(|entry| entry.schema == schema && entry.name == table),
        }
    }
}

/// `lint:`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LintConfig {
    pub severity: Vec<SeverityOverride>,
    pub ignore: Vec<IgnoreEntry>,
}

/// `lint.severity: { untracked-column: warning }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeverityOverride {
    pub rule: Rule,
    pub severity: Severity,
    pub spans: EntrySpans,
}

/// `lint.ignore: [{ rule: untracked-table, table: spatial_ref_sys }]`: findings of `rule` about
/// the table (in any column, unless `column` is given) are dropped. Without `table`, every
/// finding of the rule (about that column name, if given) is dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreEntry {
    pub rule: Rule,
    /// `(schema, table)`, qualified with the default schema when written without one.
    pub table: Option<TableKey>,
    pub column: Option<String>,
    /// The whole entry.
    pub span: Span,
    /// The `rule:` value.
    pub rule_span: Span,
}

impl Expectations {
    /// How many heads the revision graph may have (one when `heads:` is not given).
    pub fn allowed_heads(&self) -> AllowedHeads {
        self.heads
            .as_ref()
            .map(|heads| heads.allowed.clone())
            .unwrap_or_default()
    }

    /// Where `heads:` was set (its value), for findings about the number of heads.
    pub fn allowed_heads_span(&self) -> Option<Span> {
        self.heads.as_ref().map(|heads| heads.spans.value.clone())
    }

    pub fn table(&self, schema: &str, name: &str) -> Option<&TableExpectation> {
        self.tables
            .iter()
            .find(|table| table.schema == schema && table.name == name)
    }

    /// The severity `lint.severity` gives `rule`, if it changes it.
    pub fn severity_override(&self, rule: Rule) -> Option<Severity> {
        self.lint
            .severity
            .iter()
            .find(|entry| entry.rule == rule)
            .map(|entry| entry.severity)
    }
}

/// Reads the expectations at `path`: one YAML file, or every `*.yaml`/`*.yml` file directly in a
/// directory, merged in file-name order. Each file read is registered in `sources`.
pub fn load(path: &Path, sources: &mut Sources) -> Result<Expectations, Error> {
    let first_id = FileId(u32::try_from(sources.len()).expect("fewer than 2^32 source files"));
    Ok(load_detached(path, first_id)?.register(sources))
}

/// Expectations read by [`load_detached`], with the files their spans point into.
#[derive(Debug)]
pub struct DetachedExpectations {
    pub expectations: Expectations,
    /// The files read, in order; the first was given the id `first_id`, the next one more.
    pub files: Vec<DetachedFile>,
}

impl DetachedExpectations {
    /// Registers the files in `sources`, which must have given out the ids before them.
    pub fn register(self, sources: &mut Sources) -> Expectations {
        for file in self.files {
            let id = sources.add_displayed(file.path, file.display, file.text);
            debug_assert!(
                self.expectations.files.contains(&id),
                "expectations files are registered at the ids they were read with"
            );
        }
        self.expectations
    }
}

/// One expectations file, read but not yet registered in [`Sources`].
#[derive(Debug)]
pub struct DetachedFile {
    pub path: PathBuf,
    /// The path as [`Sources`] shows it.
    pub display: String,
    pub text: Arc<str>,
}

/// [`load`] without a [`Sources`] at hand, so that the expectations can be read while the
/// revision files are: the files get the ids `first_id`, `first_id + 1`, ..., and the caller
/// registers them in that order once the files before them are.
pub fn load_detached(path: &Path, first_id: FileId) -> Result<DetachedExpectations, Error> {
    let metadata = std::fs::metadata(path).map_err(|error| {
        let message = if error.kind() == std::io::ErrorKind::NotFound {
            format!("expectations path `{}` does not exist", path.display())
        } else {
            format!(
                "cannot read expectations path `{}`: {error}",
                path.display()
            )
        };
        Error::io(
            ErrorKind::Io,
            path,
            message,
            Some(
                "give --expectations a YAML file or a directory of *.yaml files, or run \
                 `driftlint init --from-migrations` to write one"
                    .to_owned(),
            ),
        )
    })?;
    let paths = if metadata.is_dir() {
        let found = yaml_files_in(path)?;
        if found.is_empty() {
            return Err(Error::io(
                ErrorKind::NoFiles,
                path,
                format!(
                    "expectations directory `{}` holds no *.yaml or *.yml file",
                    path.display()
                ),
                Some("put the expectations in a .yaml file in that directory".to_owned()),
            ));
        }
        found
    } else {
        vec![path.to_owned()]
    };
    let mut files = Vec::new();
    let mut parsed = Vec::new();
    for (index, file_path) in paths.into_iter().enumerate() {
        let file = read_text(&file_path)?;
        let offset = u32::try_from(index).expect("fewer than 2^32 expectations files");
        let file_id = FileId(first_id.0 + offset);
        let file = ErrorFile {
            display: crate::source::display_path(&file_path),
            path: file_path,
            text: file.text,
        };
        parsed.push(read::read_file(&file, file_id)?);
        files.push(file);
    }
    let expectations = read::merge(parsed, &files)?;
    let files = files
        .into_iter()
        .map(|file| DetachedFile {
            path: file.path,
            display: file.display,
            text: file.text,
        })
        .collect();
    Ok(DetachedExpectations {
        expectations,
        files,
    })
}

/// The expectations in `cwd` when none are given: the `expectations/` directory when it holds a
/// YAML file, then `expectations.yaml`, then `expectations.yml`.
pub fn find_default(cwd: &Path) -> Option<PathBuf> {
    let directory = cwd.join("expectations");
    if directory.is_dir() && yaml_files_in(&directory).is_ok_and(|files| !files.is_empty()) {
        return Some(directory);
    }
    ["expectations.yaml", "expectations.yml"]
        .into_iter()
        .map(|name| cwd.join(name))
        .find(|candidate| candidate.is_file())
}

/// The `*.yaml` and `*.yml` files directly in `directory`, hidden ones skipped, sorted by path.
fn yaml_files_in(directory: &Path) -> Result<Vec<PathBuf>, Error> {
    let unreadable = |error: std::io::Error| {
        Error::io(
            ErrorKind::Io,
            directory,
            format!(
                "cannot list expectations directory `{}`: {error}",
                directory.display()
            ),
            None,
        )
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(directory).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        if is_yaml && !name.starts_with('.') && path.is_file() {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

struct TextFile {
    text: Arc<str>,
}

/// Reads a file as UTF-8 text without a byte-order mark.
fn read_text(path: &Path) -> Result<TextFile, Error> {
    let limit = crate::config::limits().max_expectations_size;
    let size = std::fs::metadata(path).map_or(0, |metadata| metadata.len());
    if size > limit {
        return Err(Error::io(
            ErrorKind::Io,
            path,
            format!(
                "expectations file `{}` is {size} bytes, more than the {limit}-byte limit",
                crate::source::display_path(path)
            ),
            Some(format!(
                "an expectations file this large is not hand-written; split it into a directory \
                 of *.yaml files, or raise the limit with `max-expectations-size = {}` in \
                 [tool.driftlint] of pyproject.toml (in bytes)",
                size.next_power_of_two()
            )),
        ));
    }
    let bytes = std::fs::read(path).map_err(|error| {
        Error::io(
            ErrorKind::Io,
            path,
            format!(
                "cannot read expectations file `{}`: {error}",
                path.display()
            ),
            None,
        )
    })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(TextFile {
            text: Arc::from(text),
        }),
        Err(error) => {
            // Show the file as far as it decodes, with the label on the first bad byte.
            let text: Arc<str> = Arc::from(String::from_utf8_lossy(bytes).as_ref());
            let offset = error.valid_up_to();
            let file = ErrorFile {
                path: path.to_owned(),
                display: crate::source::display_path(path),
                text,
            };
            Err(Error::at(
                ErrorKind::NotUtf8,
                &file,
                offset..offset + char::REPLACEMENT_CHARACTER.len_utf8(),
                format!(
                    "expectations file `{}` is not UTF-8 text",
                    crate::source::display_path(path)
                ),
                "this byte is not UTF-8",
                Some("save the file as UTF-8".to_owned()),
            ))
        }
    }
}

#[cfg(test)]
mod tests;
