//! From YAML text to [`Expectations`]: serde_yaml reads the values (the YAML 1.2 reading of
//! scalars, anchors and aliases), [`SpanIndex`] says where each one is, and this module checks
//! the shape of every entry and turns it into the typed model, one file at a time ([`read_file`])
//! and then all files together ([`merge`]).
//!
//! Invariant: every error points at the key or value at fault and says what to write instead;
//! nothing here panics on any input.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use rustc_hash::FxHashMap;

use serde_yaml::Value;

use super::AllowedHeads;
use super::error::{Error, ErrorFile, ErrorKind};
use super::spans::{self, BuildError, PathId, PathSegment, ROOT, SpanIndex};
use super::{
    ColumnExpectation, EntrySpans, Expectations, HeadsExpectation, IgnoreEntry, LintConfig, NameAt,
    NullableExpectation, PrimaryKeyExpectation, SequencesExpectation, SeverityOverride,
    TableExpectation, TableNameAt, TypeExpectation,
};
use crate::diagnostic::{RULES, Rule, Severity};
use crate::schema::types::{PgType, closest_name};
use crate::source::{FileId, Span};

mod document;
mod merge;
mod settings;

pub(crate) use merge::merge;

pub(super) const TOP_LEVEL_KEYS: &[&str] =
    &["version", "schema", "heads", "tables", "sequences", "lint"];
pub(super) const TABLE_KEYS: &[&str] = &["primary_key", "columns", "absent_columns"];
pub(super) const COLUMN_KEYS: &[&str] = &["type", "nullable"];
pub(super) const LINT_KEYS: &[&str] = &["severity", "ignore"];
pub(super) const IGNORE_KEYS: &[&str] = &["rule", "table", "column"];

/// A table name as written: with its schema when written `schema.table`.
#[derive(Clone, Debug)]
pub(super) struct WrittenTableName {
    pub(super) schema: Option<String>,
    pub(super) name: String,
    pub(super) span: Span,
}

/// A table entry before the default schema is known.
#[derive(Debug)]
pub(super) struct ReadTable {
    pub(super) written_schema: Option<String>,
    pub(super) table: TableExpectation,
}

/// An ignore entry before the default schema is known.
#[derive(Debug)]
pub(super) struct ReadIgnore {
    pub(super) table: Option<WrittenTableName>,
    pub(super) entry: IgnoreEntry,
}

#[derive(Debug)]
pub(super) enum ReadSequences {
    All,
    None,
    Tables(Vec<WrittenTableName>),
}

/// One file's expectations, before merging.
#[derive(Debug)]
pub(crate) struct FileExpectations {
    file_id: FileId,
    schema: Option<(String, EntrySpans)>,
    heads: Option<HeadsExpectation>,
    tables: Vec<ReadTable>,
    sequences: Option<(ReadSequences, EntrySpans)>,
    severity: Vec<SeverityOverride>,
    ignore: Vec<ReadIgnore>,
}

/// A value with its place in the [`SpanIndex`].
#[derive(Clone, Copy)]
pub(super) struct Node<'v> {
    pub(super) value: &'v Value,
    /// The value's path from the document root, when the span pass saw that path.
    pub(super) path: Option<PathId>,
    /// The path of the value or of its nearest ancestor that the span pass could place.
    pub(super) placed: Option<PathId>,
}

pub(super) struct Reader<'a> {
    pub(super) file: &'a ErrorFile,
    pub(super) file_id: FileId,
    pub(super) spans: SpanIndex<'a>,
    /// The types parsed so far, by their text as written.
    pub(super) parsed_types: RefCell<FxHashMap<String, PgType>>,
    /// Problems found so far in parts of the file that were skipped to read the rest, so that
    /// one run reports every problem of the file.
    pub(super) problems: RefCell<Vec<Error>>,
}

/// `column `users.email``, as messages name a column; made only when a message is.
pub(super) struct ColumnContext<'a> {
    pub(super) table: &'a str,
    pub(super) name: &'a str,
}

impl fmt::Display for ColumnContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column `{}.{}`", self.table, self.name)
    }
}

/// Reads one file's text (already registered as `file_id`).
pub(crate) fn read_file(file: &ErrorFile, file_id: FileId) -> Result<FileExpectations, Error> {
    let text: &str = &file.text;
    // serde_yaml's parser slows down with the square of the flow nesting depth (`[[[...]]]`),
    // and checks its own limit only after reading the whole document; the span pass refuses
    // nesting deeper than `spans::MAX_DEPTH` in linear time. When the bytes allow deep flow
    // nesting, the span pass runs first.
    let (spans, value) = if flow_depth_bound(text) <= spans::MAX_DEPTH {
        // The flow nesting is shallow whatever the brackets in strings or comments mean, so
        // the two passes read the text at once; each takes about as long as the other.
        rayon::join(
            || SpanIndex::build(text),
            || serde_yaml::from_str::<Value>(text),
        )
    } else {
        let spans = SpanIndex::build(text);
        if let Err(BuildError::TooDeep { offset }) = &spans {
            return Err(too_deep(file, *offset));
        }
        (spans, serde_yaml::from_str::<Value>(text))
    };
    if let Err(BuildError::TooDeep { offset }) = &spans {
        return Err(too_deep(file, *offset));
    }
    let value = match value {
        Ok(value) => value,
        Err(error) => {
            if let Ok(spans) = &spans
                && let Some(duplicate) = spans.duplicate_keys.first()
            {
                return Err(duplicate_key_error(file, duplicate));
            }
            return Err(syntax_error(file, &error));
        }
    };
    let spans = match spans {
        Ok(spans) => spans,
        Err(BuildError::TooDeep { offset }) => return Err(too_deep(file, offset)),
        Err(BuildError::Scan(scan_error)) => {
            // serde_yaml accepted what saphyr-parser rejects; report the latter's complaint so
            // the user can still find the place.
            let marker = scan_error.marker();
            let offset = offset_of(text, marker.line(), marker.col() + 1);
            return Err(Error::at(
                ErrorKind::Syntax,
                file,
                offset..offset,
                format!("invalid YAML: {}", scan_error.info()),
                "here",
                Some(
                    "write plain YAML: block or flow mappings and lists of names and numbers"
                        .to_owned(),
                ),
            ));
        }
    };
    if let Some(duplicate) = spans.duplicate_keys.first() {
        return Err(duplicate_key_error(file, duplicate));
    }
    let mut value = value;
    // `<<: *defaults` merge keys are resolved as YAML 1.1 tools do; the merged entries have no
    // position of their own and are reported at the mapping that merges them.
    value
        .apply_merge()
        .map_err(|error| syntax_error(file, &error))?;
    let reader = Reader {
        file,
        file_id,
        spans,
        parsed_types: RefCell::new(FxHashMap::default()),
        problems: RefCell::new(Vec::new()),
    };
    let read = reader.read_root(&reader.root(&value));
    let mut problems = reader.problems.into_inner();
    match read {
        Ok(file) if problems.is_empty() => Ok(file),
        Ok(_) => Err(Error::all(problems)),
        Err(error) => {
            problems.push(error);
            Err(Error::all(problems))
        }
    }
}

/// An upper bound of the flow nesting depth of `text`: the most `[` and `{` open at once,
/// counting every bracket byte (those in strings and comments too).
pub(super) fn flow_depth_bound(text: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0;
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The error for nesting deeper than [`spans::MAX_DEPTH`], at the collection that opens the
/// level too many.
pub(super) fn too_deep(file: &ErrorFile, offset: usize) -> Error {
    Error::at(
        ErrorKind::Syntax,
        file,
        offset..offset,
        format!(
            "the YAML is nested deeper than {} levels; an expectations file needs six",
            spans::MAX_DEPTH
        ),
        "this level is too deep",
        Some(
            "write the expectations as tables → columns → settings; deeper nesting is not part \
             of the format"
                .to_owned(),
        ),
    )
}

/// The byte offset of a 1-based line and 1-based character column in `text`.
pub(super) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut line_start = 0;
    for _ in 1..line {
        match text[line_start..].find('\n') {
            Some(newline) => line_start += newline + 1,
            None => return text.len(),
        }
    }
    let line_text = text[line_start..].split('\n').next().unwrap_or("");
    let within = line_text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_text.len(), |(index, _)| index);
    line_start + within
}

pub(super) fn syntax_error(file: &ErrorFile, error: &serde_yaml::Error) -> Error {
    let full = error.to_string();
    let offset = error.location().map_or(0, |location| {
        offset_of(&file.text, location.line(), location.column())
    });
    // The report shows the place, so the message need not repeat it; another place the message
    // names (where the unclosed list began) becomes a second label.
    let primary_location = error
        .location()
        .map(|location| (location.line(), location.column()));
    let (message, other_places) = take_locations(&full, primary_location);
    let line_of_error = error.location().map_or("", |location| {
        file.text
            .lines()
            .nth(location.line().saturating_sub(1))
            .unwrap_or("")
    });
    let indented_with_tabs = line_of_error
        .chars()
        .take_while(|c| c.is_whitespace())
        .any(|c| c == '\t');
    let help = if indented_with_tabs {
        "YAML indents with spaces; replace the tab characters with spaces"
    } else if message.contains("flow sequence") {
        "close the list with `]` on the line where it starts, as in `columns: [id, name]`"
    } else if message.contains("flow mapping") {
        "close the mapping with `}`, as in `email: { type: text, nullable: false }`"
    } else if message.contains("more than one document") {
        "keep one YAML document per file (no second `---`), or split the expectations into \
         several files in an expectations/ directory"
    } else {
        "check the indentation and the quoting here; values with `:`, `#`, `{` or `[` need quotes"
    };
    let mut reported = Error::at(
        ErrorKind::Syntax,
        file,
        offset..offset,
        format!("invalid YAML: {message}"),
        "here",
        Some(help.to_owned()),
    );
    for (line, column) in other_places {
        let other = offset_of(&file.text, line, column);
        reported = reported.also_at(other..other, "started here");
    }
    reported
}

/// Removes every " at line L column C" from a serde_yaml message. Returns the message and the
/// places other than `primary` that it named.
pub(super) fn take_locations(
    message: &str,
    primary: Option<(usize, usize)>,
) -> (String, Vec<(usize, usize)>) {
    const MARKER: &str = " at line ";
    let mut out = String::with_capacity(message.len());
    let mut others = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find(MARKER) {
        let after = &rest[start + MARKER.len()..];
        let parsed = after.split_once(" column ").and_then(|(line, tail)| {
            let line: usize = line.parse().ok()?;
            let digits = tail.chars().take_while(char::is_ascii_digit).count();
            let column: usize = tail[..digits].parse().ok()?;
            Some((line, column, &tail[digits..]))
        });
        match parsed {
            Some((line, column, tail)) => {
                out.push_str(&rest[..start]);
                if Some((line, column)) != primary {
                    others.push((line, column));
                }
                rest = tail;
            }
            None => {
                out.push_str(&rest[..start + MARKER.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, others)
}

pub(super) fn duplicate_key_error(
    file: &ErrorFile,
    duplicate: &super::spans::DuplicateKey,
) -> Error {
    let is_table = duplicate.parent == [PathSegment::Key("tables".to_owned())];
    let (kind, message, help) = if is_table {
        (
            ErrorKind::DuplicateTable,
            format!("table `{}` is declared twice", duplicate.key),
            "merge the two entries into one".to_owned(),
        )
    } else {
        (
            ErrorKind::DuplicateKey,
            format!("key `{}` appears twice in the same mapping", duplicate.key),
            "keep one of the two entries".to_owned(),
        )
    };
    Error::at(
        kind,
        file,
        duplicate.second.clone(),
        message,
        "declared again here",
        Some(help),
    )
    .also_at(duplicate.first.clone(), "first declared here")
}

/// How a value is described in "found ..." messages.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(flag) => format!("`{flag}`"),
        Value::Number(number) => format!("the number `{number}`"),
        Value::String(text) => format!("the text `{text}`"),
        Value::Sequence(_) => "a list".to_owned(),
        Value::Mapping(_) => "a mapping".to_owned(),
        Value::Tagged(tagged) => format!("a value tagged `{}`", tagged.tag),
    }
}

/// `one`, `two` and `three`, each in backticks.
pub(super) fn backticked_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Whether `name` starts or ends with whitespace.
pub(super) fn has_surrounding_whitespace(name: &str) -> bool {
    name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace)
}

/// Splits `schema.table` (or `table`). Quoting is not needed: table names with dots are not
/// supported.
pub(super) fn split_table_name(written: &str) -> Result<(Option<String>, String), String> {
    let parts: Vec<&str> = written.split('.').collect();
    if parts.iter().any(|part| has_surrounding_whitespace(part)) {
        return Err(format!(
            "`{written}` has whitespace around a part of the name; PostgreSQL reads it as a \
             different name, and driftlint does not trim names"
        ));
    }
    match parts.as_slice() {
        [name] if !name.is_empty() => Ok((None, (*name).to_owned())),
        [schema, name] if !schema.is_empty() && !name.is_empty() => {
            Ok((Some((*schema).to_owned()), (*name).to_owned()))
        }
        _ => Err(format!(
            "`{written}` is not a table name; write `table` or `schema.table`"
        )),
    }
}

impl Reader<'_> {
    /// The value, or `None` after recording the problem, so that reading goes on with the rest
    /// of the file.
    pub(super) fn keep<T>(&self, result: Result<T, Error>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.problems.borrow_mut().push(error);
                None
            }
        }
    }

    pub(super) fn span(&self, range: Range<usize>) -> Span {
        let start = u32::try_from(range.start).unwrap_or(u32::MAX);
        let end = u32::try_from(range.end).unwrap_or(u32::MAX);
        Span::new(self.file_id, start..end)
    }

    /// The document's root value.
    pub(super) fn root<'v>(&self, value: &'v Value) -> Node<'v> {
        Node {
            value,
            path: Some(ROOT),
            placed: self.spans.spans(ROOT).map(|_| ROOT),
        }
    }

    /// The value of the entry `key` of the mapping `parent`.
    pub(super) fn entry<'v>(&self, parent: &Node<'_>, key: &str, value: &'v Value) -> Node<'v> {
        let path = parent.path.and_then(|id| self.spans.child_key(id, key));
        self.child(parent, path, value)
    }

    /// Item `index` of the sequence `parent`.
    pub(super) fn item<'v>(&self, parent: &Node<'_>, index: usize, value: &'v Value) -> Node<'v> {
        let path = parent.path.and_then(|id| self.spans.child_index(id, index));
        self.child(parent, path, value)
    }

    pub(super) fn child<'v>(
        &self,
        parent: &Node<'_>,
        path: Option<PathId>,
        value: &'v Value,
    ) -> Node<'v> {
        let placed = match path {
            Some(id) if self.spans.spans(id).is_some() => Some(id),
            _ => parent.placed,
        };
        Node {
            value,
            path,
            placed,
        }
    }

    /// The value's range, or the nearest ancestor's when the span pass could not place it.
    pub(super) fn value_range(&self, node: &Node<'_>) -> Range<usize> {
        node.placed
            .and_then(|id| self.spans.spans(id))
            .map_or(0..0, |spans| spans.value.clone())
    }

    /// The key's range for a mapping entry, the value's otherwise.
    pub(super) fn key_range(&self, node: &Node<'_>) -> Range<usize> {
        node.path
            .and_then(|id| self.spans.spans(id))
            .and_then(|spans| spans.key.clone())
            .unwrap_or_else(|| self.value_range(node))
    }

    /// The first line of a value's range, so that a label on a block mapping stays short.
    pub(super) fn first_line_of_value(&self, node: &Node<'_>) -> Range<usize> {
        let range = self.value_range(node);
        let text = &self.file.text[range.clone()];
        match text.find('\n') {
            Some(newline) => range.start..range.start + text[..newline].trim_end().len(),
            None => range,
        }
    }

    pub(super) fn entry_spans(&self, node: &Node<'_>) -> EntrySpans {
        EntrySpans {
            key: self.span(self.key_range(node)),
            value: self.span(self.value_range(node)),
        }
    }

    pub(super) fn error(
        &self,
        kind: ErrorKind,
        range: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Error {
        Error::at(kind, self.file, range, message, label, Some(help.into()))
    }

    /// The error for a name written with spaces (or other whitespace) around it. PostgreSQL
    /// reads `"trail "` and `trail` as two names, so neither trimming it (checking another name
    /// than the one written) nor keeping it (a finding about a name that looks like a correct
    /// one) would be what the user meant: the file must say.
    pub(super) fn surrounding_whitespace(
        &self,
        range: Range<usize>,
        what: &str,
        name: &str,
    ) -> Error {
        self.error(
            ErrorKind::WrongShape,
            range,
            format!("{what}, {name:?}, starts or ends with whitespace"),
            "whitespace around the name",
            format!(
                "PostgreSQL reads {name:?} and {:?} as different names, and driftlint does not \
                 trim names; remove the whitespace (or, for a name that really has it, rename \
                 the object)",
                name.trim()
            ),
        )
    }

    pub(super) fn wrong_shape(
        &self,
        node: &Node<'_>,
        what: &(impl fmt::Display + ?Sized),
        expected: &str,
        example: &str,
    ) -> Error {
        self.error(
            ErrorKind::WrongShape,
            self.first_line_of_value(node),
            format!("{what} must be {expected}, found {}", describe(node.value)),
            format!("expected {expected}"),
            format!("write it as in `{example}`"),
        )
    }

    pub(super) fn unknown_key(
        &self,
        node: &Node<'_>,
        key: &str,
        allowed: &[&str],
        context: &(impl fmt::Display + ?Sized),
    ) -> Error {
        let suggestion = closest_name(key, allowed.iter().copied())
            .map(|name| format!("did you mean `{name}`? "))
            .unwrap_or_default();
        self.error(
            ErrorKind::UnknownKey,
            self.key_range(node),
            format!("unknown key `{key}` in {context}"),
            "not a key of this mapping",
            format!(
                "{suggestion}the keys of {context} are {}",
                backticked_list(allowed)
            ),
        )
    }

    /// The entries of a mapping (nothing for an empty value), each key a name.
    pub(super) fn entries<'v>(
        &self,
        node: &Node<'v>,
        what: &(impl fmt::Display + ?Sized),
        example: &str,
    ) -> Result<Vec<(Cow<'v, str>, Node<'v>)>, Error> {
        let mapping = match node.value {
            Value::Mapping(mapping) => mapping,
            Value::Null => return Ok(Vec::new()),
            _ => return Err(self.wrong_shape(node, what, "a mapping", example)),
        };
        let mut entries = Vec::with_capacity(mapping.len());
        for (key, value) in mapping {
            // A key YAML reads as a number, boolean or null (`1:`, `true:`, `null:`) is still a
            // name the user wrote; it is checked like any other key.
            let key_text = match key {
                Value::String(text) => Cow::Borrowed(text.as_str()),
                Value::Number(number) => Cow::Owned(number.to_string()),
                Value::Bool(flag) => Cow::Owned(flag.to_string()),
                Value::Null => Cow::Borrowed("null"),
                _ => {
                    return Err(self.error(
                        ErrorKind::WrongShape,
                        self.first_line_of_value(node),
                        format!("the keys of {what} must be names, found {}", describe(key)),
                        "a key here is not a name",
                        format!("write it as in `{example}`"),
                    ));
                }
            };
            let child = self.entry(node, &key_text, value);
            if has_surrounding_whitespace(&key_text) {
                return Err(self.surrounding_whitespace(
                    self.key_range(&child),
                    &format!("a key of {what}"),
                    &key_text,
                ));
            }
            entries.push((key_text, child));
        }
        Ok(entries)
    }

    /// A name: a non-empty string.
    pub(super) fn name(&self, node: &Node<'_>, what: &str, example: &str) -> Result<NameAt, Error> {
        match node.value {
            Value::String(text) if has_surrounding_whitespace(text) && !text.trim().is_empty() => {
                Err(self.surrounding_whitespace(self.value_range(node), what, text))
            }
            Value::String(text) if !text.trim().is_empty() => Ok(NameAt {
                name: text.clone(),
                span: self.span(self.value_range(node)),
            }),
            Value::Number(number) => Err(self.error(
                ErrorKind::WrongShape,
                self.value_range(node),
                format!("{what} must be a name, found {}", describe(node.value)),
                "expected a name",
                format!("quote it if it is a name: `\"{number}\"`"),
            )),
            _ => Err(self.wrong_shape(node, what, "a name", example)),
        }
    }

    /// A list of names, or a single name standing for a list of one.
    pub(super) fn names(
        &self,
        node: &Node<'_>,
        what: &str,
        example: &str,
    ) -> Result<Vec<NameAt>, Error> {
        let items = match node.value {
            Value::Sequence(items) => items,
            Value::String(_) => return Ok(vec![self.name(node, what, example)?]),
            _ => return Err(self.wrong_shape(node, what, "a list of names", example)),
        };
        let mut names: Vec<NameAt> = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let item = self.item(node, index, item);
            let name = self.name(&item, &format!("each entry of {what}"), example)?;
            if let Some(first) = names.iter().find(|seen| seen.name == name.name) {
                let first_range = first.span.range.start as usize..first.span.range.end as usize;
                return Err(self
                    .error(
                        ErrorKind::DuplicateKey,
                        self.value_range(&item),
                        format!("`{}` appears twice in {what}", name.name),
                        "listed again here",
                        "list each name once",
                    )
                    .also_at(first_range, "first listed here"));
            }
            names.push(name);
        }
        Ok(names)
    }

    pub(super) fn table_name(
        &self,
        written: &str,
        range: Range<usize>,
    ) -> Result<WrittenTableName, Error> {
        split_table_name(written)
            .map(|(schema, name)| WrittenTableName {
                schema,
                name,
                span: self.span(range.clone()),
            })
            .map_err(|message| {
                self.error(
                    ErrorKind::InvalidValue,
                    range,
                    message,
                    "not a table name",
                    "write `users` for a table in the default schema or `audit.events` for one in another schema",
                )
            })
    }
}
