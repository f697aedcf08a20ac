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

const TOP_LEVEL_KEYS: &[&str] = &["version", "schema", "heads", "tables", "sequences", "lint"];
const TABLE_KEYS: &[&str] = &["primary_key", "columns", "absent_columns"];
const COLUMN_KEYS: &[&str] = &["type", "nullable"];
const LINT_KEYS: &[&str] = &["severity", "ignore"];
const IGNORE_KEYS: &[&str] = &["rule", "table", "column"];

/// A table name as written: with its schema when written `schema.table`.
#[derive(Clone, Debug)]
struct WrittenTableName {
    schema: Option<String>,
    name: String,
    span: Span,
}

/// A table entry before the default schema is known.
#[derive(Debug)]
struct ReadTable {
    written_schema: Option<String>,
    table: TableExpectation,
}

/// An ignore entry before the default schema is known.
#[derive(Debug)]
struct ReadIgnore {
    table: Option<WrittenTableName>,
    entry: IgnoreEntry,
}

#[derive(Debug)]
enum ReadSequences {
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
struct Node<'v> {
    value: &'v Value,
    /// The value's path from the document root, when the span pass saw that path.
    path: Option<PathId>,
    /// The path of the value or of its nearest ancestor that the span pass could place.
    placed: Option<PathId>,
}

struct Reader<'a> {
    file: &'a ErrorFile,
    file_id: FileId,
    spans: SpanIndex<'a>,
    /// The types parsed so far, by their text as written.
    parsed_types: RefCell<FxHashMap<String, PgType>>,
    /// Problems found so far in parts of the file that were skipped to read the rest, so that
    /// one run reports every problem of the file.
    problems: RefCell<Vec<Error>>,
}

/// `column `users.email``, as messages name a column; made only when a message is.
struct ColumnContext<'a> {
    table: &'a str,
    name: &'a str,
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
fn flow_depth_bound(text: &str) -> usize {
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
fn too_deep(file: &ErrorFile, offset: usize) -> Error {
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
fn offset_of(text: &str, line: usize, column: usize) -> usize {
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

fn syntax_error(file: &ErrorFile, error: &serde_yaml::Error) -> Error {
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
fn take_locations(message: &str, primary: Option<(usize, usize)>) -> (String, Vec<(usize, usize)>) {
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

fn duplicate_key_error(file: &ErrorFile, duplicate: &super::spans::DuplicateKey) -> Error {
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
fn describe(value: &Value) -> String {
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
fn backticked_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Whether `name` starts or ends with whitespace.
fn has_surrounding_whitespace(name: &str) -> bool {
    name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace)
}

/// Splits `schema.table` (or `table`). Quoting is not needed: table names with dots are not
/// supported.
fn split_table_name(written: &str) -> Result<(Option<String>, String), String> {
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
    fn keep<T>(&self, result: Result<T, Error>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.problems.borrow_mut().push(error);
                None
            }
        }
    }

    fn span(&self, range: Range<usize>) -> Span {
        let start = u32::try_from(range.start).unwrap_or(u32::MAX);
        let end = u32::try_from(range.end).unwrap_or(u32::MAX);
        Span::new(self.file_id, start..end)
    }

    /// The document's root value.
    fn root<'v>(&self, value: &'v Value) -> Node<'v> {
        Node {
            value,
            path: Some(ROOT),
            placed: self.spans.spans(ROOT).map(|_| ROOT),
        }
    }

    /// The value of the entry `key` of the mapping `parent`.
    fn entry<'v>(&self, parent: &Node<'_>, key: &str, value: &'v Value) -> Node<'v> {
        let path = parent.path.and_then(|id| self.spans.child_key(id, key));
        self.child(parent, path, value)
    }

    /// Item `index` of the sequence `parent`.
    fn item<'v>(&self, parent: &Node<'_>, index: usize, value: &'v Value) -> Node<'v> {
        let path = parent.path.and_then(|id| self.spans.child_index(id, index));
        self.child(parent, path, value)
    }

    fn child<'v>(&self, parent: &Node<'_>, path: Option<PathId>, value: &'v Value) -> Node<'v> {
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
    fn value_range(&self, node: &Node<'_>) -> Range<usize> {
        node.placed
            .and_then(|id| self.spans.spans(id))
            .map_or(0..0, |spans| spans.value.clone())
    }

    /// The key's range for a mapping entry, the value's otherwise.
    fn key_range(&self, node: &Node<'_>) -> Range<usize> {
        node.path
            .and_then(|id| self.spans.spans(id))
            .and_then(|spans| spans.key.clone())
            .unwrap_or_else(|| self.value_range(node))
    }

    /// The first line of a value's range, so that a label on a block mapping stays short.
    fn first_line_of_value(&self, node: &Node<'_>) -> Range<usize> {
        let range = self.value_range(node);
        let text = &self.file.text[range.clone()];
        match text.find('\n') {
            Some(newline) => range.start..range.start + text[..newline].trim_end().len(),
            None => range,
        }
    }

    fn entry_spans(&self, node: &Node<'_>) -> EntrySpans {
        EntrySpans {
            key: self.span(self.key_range(node)),
            value: self.span(self.value_range(node)),
        }
    }

    fn error(
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
    fn surrounding_whitespace(&self, range: Range<usize>, what: &str, name: &str) -> Error {
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

    fn wrong_shape(
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

    fn unknown_key(
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
    fn entries<'v>(
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
    fn name(&self, node: &Node<'_>, what: &str, example: &str) -> Result<NameAt, Error> {
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
    fn names(&self, node: &Node<'_>, what: &str, example: &str) -> Result<Vec<NameAt>, Error> {
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

    fn table_name(&self, written: &str, range: Range<usize>) -> Result<WrittenTableName, Error> {
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

    fn read_root(&self, root: &Node<'_>) -> Result<FileExpectations, Error> {
        if !matches!(root.value, Value::Mapping(_) | Value::Null) {
            return Err(self.wrong_shape(
                root,
                "the expectations file",
                "a mapping with `version`, `tables` and the other settings",
                "version: 1",
            ));
        }
        let mut file = FileExpectations {
            file_id: self.file_id,
            schema: None,
            heads: None,
            tables: Vec::new(),
            sequences: None,
            severity: Vec::new(),
            ignore: Vec::new(),
        };
        let mut version_seen = false;
        for (key, node) in self.entries(root, "the expectations file", "version: 1")? {
            let read: Result<(), Error> = (|| {
                match key.as_ref() {
                    "version" => {
                        version_seen = true;
                        self.read_version(&node)?;
                    }
                    "schema" => {
                        let name = self.name(&node, "`schema`", "schema: public")?;
                        if name.name.contains('.') {
                            return Err(self.error(
                                ErrorKind::InvalidValue,
                                self.value_range(&node),
                                format!("`{}` is not a schema name", name.name),
                                "a schema name has no dot",
                                "write the schema alone, as in `schema: public`",
                            ));
                        }
                        file.schema = Some((name.name, self.entry_spans(&node)));
                    }
                    "heads" => file.heads = Some(self.read_heads(&node)?),
                    "tables" => file.tables = self.read_tables(&node)?,
                    "sequences" => file.sequences = Some(self.read_sequences(&node)?),
                    "lint" => self.read_lint(&node, &mut file)?,
                    _ => {
                        return Err(self.unknown_key(
                            &node,
                            &key,
                            TOP_LEVEL_KEYS,
                            "the expectations file",
                        ));
                    }
                }
                Ok(())
            })();
            self.keep(read);
        }
        if !version_seen {
            let first_line = self.first_line_of_value(root);
            return Err(self.error(
                ErrorKind::MissingVersion,
                first_line.start..first_line.start,
                "the expectations file has no `version`",
                "`version: 1` belongs here",
                "start the file with `version: 1`",
            ));
        }
        Ok(file)
    }

    fn read_version(&self, node: &Node<'_>) -> Result<(), Error> {
        match node.value {
            Value::Number(number) if number.as_u64() == Some(1) => Ok(()),
            Value::Number(number) => Err(self.error(
                ErrorKind::UnsupportedVersion,
                self.value_range(node),
                format!("expectations version {number} is not supported"),
                "this driftlint reads version 1",
                "write `version: 1`",
            )),
            _ => Err(self.wrong_shape(node, "`version`", "the number 1", "version: 1")),
        }
    }

    fn read_heads(&self, node: &Node<'_>) -> Result<HeadsExpectation, Error> {
        let example = "heads: 1";
        let allowed = match node.value {
            Value::Number(number) => match number.as_u64() {
                Some(count) if count >= 1 => {
                    AllowedHeads::Count(usize::try_from(count).unwrap_or(usize::MAX))
                }
                _ => {
                    return Err(self.error(
                        ErrorKind::InvalidValue,
                        self.value_range(node),
                        format!("`heads` must be 1 or more, found {number}"),
                        "not a number of heads",
                        "write the number of heads the revision graph may have, usually `heads: 1`",
                    ));
                }
            },
            Value::Sequence(items) if !items.is_empty() => AllowedHeads::Labels(
                self.names(node, "`heads`", "heads: [main, analytics]")?
                    .into_iter()
                    .map(|label| label.name)
                    .collect(),
            ),
            Value::Sequence(_) => {
                return Err(self.error(
                    ErrorKind::InvalidValue,
                    self.value_range(node),
                    "`heads` lists no branch label",
                    "an empty list",
                    "write a number (`heads: 1`) or the branch labels that may each have a head (`heads: [main, analytics]`)",
                ));
            }
            _ => {
                return Err(self.wrong_shape(
                    node,
                    "`heads`",
                    "a number or a list of branch labels",
                    example,
                ));
            }
        };
        Ok(HeadsExpectation {
            allowed,
            spans: self.entry_spans(node),
        })
    }

    fn read_tables(&self, node: &Node<'_>) -> Result<Vec<ReadTable>, Error> {
        let example = "tables: { users: { primary_key: [id] } }";
        let mut tables = Vec::new();
        for (written, table_node) in self.entries(node, "`tables`", example)? {
            let table = self
                .table_name(&written, self.key_range(&table_node))
                .and_then(|name| self.read_table(&table_node, name));
            tables.extend(self.keep(table));
        }
        Ok(tables)
    }

    fn read_table(&self, node: &Node<'_>, name: WrittenTableName) -> Result<ReadTable, Error> {
        let context = format!("table `{}`", name.name);
        let example = "users: { primary_key: [id], columns: { id: integer } }";
        if !matches!(node.value, Value::Mapping(_) | Value::Null) {
            return Err(self.wrong_shape(
                node,
                &context,
                "a mapping with `primary_key`, `columns` or `absent_columns` (or nothing, for presence only)",
                example,
            ));
        }
        let mut table = TableExpectation {
            // The schema is filled in when all files are merged and the default is known.
            schema: String::new(),
            name: name.name.clone(),
            spans: self.entry_spans(node),
            primary_key: None,
            columns: Vec::new(),
            absent_columns: Vec::new(),
        };
        for (key, child) in self.entries(node, &context, example)? {
            let read: Result<(), Error> = (|| {
                match key.as_ref() {
                    "primary_key" => {
                        let columns = self.names(&child, "`primary_key`", "primary_key: [id]")?;
                        if columns.is_empty() {
                            return Err(self.error(
                                ErrorKind::InvalidValue,
                                self.value_range(&child),
                                format!("`primary_key` of table `{}` lists no column", name.name),
                                "an empty list",
                                "list the key's columns, as in `primary_key: [id]`",
                            ));
                        }
                        table.primary_key = Some(PrimaryKeyExpectation {
                            columns,
                            spans: self.entry_spans(&child),
                        });
                    }
                    "columns" => table.columns = self.read_columns(&child, &name.name)?,
                    "absent_columns" => {
                        table.absent_columns =
                            self.names(&child, "`absent_columns`", "absent_columns: [legacy_id]")?;
                    }
                    _ => return Err(self.unknown_key(&child, &key, TABLE_KEYS, &context)),
                }
                Ok(())
            })();
            self.keep(read);
        }
        for absent in &table.absent_columns {
            if let Some(column) = table.column(&absent.name) {
                let absent_range = absent.span.range.start as usize..absent.span.range.end as usize;
                let column_range =
                    column.spans.key.range.start as usize..column.spans.key.range.end as usize;
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        absent_range,
                        format!(
                            "column `{}` of table `{}` is both expected and listed in `absent_columns`",
                            absent.name, name.name
                        ),
                        "must not exist, says this",
                        "keep the column in one of the two places",
                    )
                    .also_at(column_range, "must exist, says this"));
            }
        }
        Ok(ReadTable {
            written_schema: name.schema,
            table,
        })
    }

    fn read_columns(&self, node: &Node<'_>, table: &str) -> Result<Vec<ColumnExpectation>, Error> {
        let example = "columns: { id: { type: integer, nullable: false }, email: text }";
        match node.value {
            Value::Sequence(_) => {
                // `columns: [id, score]`: the names alone, presence only.
                let names = self.names(node, "`columns`", "columns: [id, score]")?;
                Ok(names
                    .into_iter()
                    .map(|name| ColumnExpectation {
                        name: name.name,
                        spans: EntrySpans {
                            key: name.span.clone(),
                            value: name.span,
                        },
                        ty: None,
                        nullable: None,
                    })
                    .collect())
            }
            Value::Mapping(_) | Value::Null => {
                let mut columns = Vec::new();
                for (name, child) in self.entries(node, "`columns`", example)? {
                    columns.extend(self.keep(self.read_column(&child, table, name.into_owned())));
                }
                Ok(columns)
            }
            _ => Err(self.wrong_shape(
                node,
                "`columns`",
                "a mapping of column names to types, or a list of names",
                example,
            )),
        }
    }

    fn read_column(
        &self,
        node: &Node<'_>,
        table: &str,
        name: String,
    ) -> Result<ColumnExpectation, Error> {
        let context = ColumnContext { table, name: &name };
        let example = "email: { type: varchar(120), nullable: false }";
        let spans = self.entry_spans(node);
        let mut ty = None;
        let mut nullable = None;
        match node.value {
            // `email:` alone: presence only.
            Value::Null => {}
            // `email: varchar(120)`: the type alone.
            Value::String(_) => ty = Some(self.read_type(node, &context)?),
            Value::Mapping(_) => {
                for (key, child) in self.entries(node, &context, example)? {
                    match key.as_ref() {
                        "type" => ty = Some(self.read_type(&child, &context)?),
                        "nullable" => match child.value {
                            Value::Bool(flag) => {
                                nullable = Some(NullableExpectation {
                                    nullable: *flag,
                                    span: self.span(self.value_range(&child)),
                                });
                            }
                            _ => {
                                return Err(self.wrong_shape(
                                    &child,
                                    "`nullable`",
                                    "`true` or `false`",
                                    "nullable: false",
                                ));
                            }
                        },
                        _ => return Err(self.unknown_key(&child, &key, COLUMN_KEYS, &context)),
                    }
                }
            }
            _ => {
                return Err(self.wrong_shape(
                    node,
                    &context,
                    "a type name or a mapping with `type` and `nullable`",
                    example,
                ));
            }
        }
        Ok(ColumnExpectation {
            name,
            spans,
            ty,
            nullable,
        })
    }

    fn read_type(
        &self,
        node: &Node<'_>,
        context: &(impl fmt::Display + ?Sized),
    ) -> Result<TypeExpectation, Error> {
        let written = match node.value {
            Value::String(text) => text.clone(),
            _ => {
                return Err(self.wrong_shape(
                    node,
                    &format!("the type of {context}"),
                    "a PostgreSQL type name",
                    "type: varchar(120)",
                ));
            }
        };
        let range = self.value_range(node);
        // The same few types are written thousands of times; each is parsed once.
        let known = self.parsed_types.borrow().get(&written).cloned();
        let parsed = known.map_or_else(|| PgType::parse(&written), Ok);
        if let Ok(ty) = &parsed {
            self.parsed_types
                .borrow_mut()
                .entry(written.clone())
                .or_insert_with(|| ty.clone());
        }
        match parsed {
            Ok(ty) => Ok(TypeExpectation {
                ty,
                written,
                span: self.span(range),
            }),
            Err(reason) => {
                // The message already says the type is unknown; the help keeps the suggestion.
                let help = match reason.strip_prefix("unknown type `") {
                    Some(rest) => rest
                        .split_once("; ")
                        .map_or(reason.clone(), |(_, suggestion)| suggestion.to_owned()),
                    None => reason,
                };
                Err(self.error(
                    ErrorKind::InvalidType,
                    range,
                    format!("invalid type `{}` for {context}", written.trim()),
                    "not a PostgreSQL type",
                    help,
                ))
            }
        }
    }

    fn read_sequences(&self, node: &Node<'_>) -> Result<(ReadSequences, EntrySpans), Error> {
        let example = "sequences: all";
        let sequences = match node.value {
            Value::String(word) if word == "all" => ReadSequences::All,
            Value::String(word) if word == "none" => ReadSequences::None,
            Value::String(word) => {
                return Err(self.error(
                    ErrorKind::InvalidValue,
                    self.value_range(node),
                    format!(
                        "`sequences` must be `all`, `none` or a list of tables, found `{word}`"
                    ),
                    "not `all` or `none`",
                    "write `sequences: all`, `sequences: none` or `sequences: [users, orders]`",
                ));
            }
            Value::Sequence(_) => {
                let names = self.names(node, "`sequences`", "sequences: [users, orders]")?;
                let mut tables = Vec::with_capacity(names.len());
                for name in names {
                    let range = name.span.range.start as usize..name.span.range.end as usize;
                    tables.push(self.table_name(&name.name, range)?);
                }
                ReadSequences::Tables(tables)
            }
            _ => {
                return Err(self.wrong_shape(
                    node,
                    "`sequences`",
                    "`all`, `none` or a list of tables",
                    example,
                ));
            }
        };
        Ok((sequences, self.entry_spans(node)))
    }

    fn read_lint(&self, node: &Node<'_>, file: &mut FileExpectations) -> Result<(), Error> {
        let example = "lint: { severity: { nullability-mismatch: error } }";
        for (key, child) in self.entries(node, "`lint`", example)? {
            match key.as_ref() {
                "severity" => {
                    let example = "severity: { nullability-mismatch: error }";
                    for (rule_name, entry) in self.entries(&child, "`lint.severity`", example)? {
                        let rule = self.rule(&rule_name, self.key_range(&entry))?;
                        let severity = match entry.value {
                            Value::String(word) => match Severity::parse(word) {
                                Some(severity) => severity,
                                None => {
                                    return Err(self.error(
                                        ErrorKind::InvalidValue,
                                        self.value_range(&entry),
                                        format!("unknown severity `{word}` for rule `{rule_name}`"),
                                        "not a severity",
                                        "write `error`, `warning` or `info`; to silence a rule, list it under `lint.ignore`",
                                    ));
                                }
                            },
                            _ => {
                                return Err(self.wrong_shape(
                                    &entry,
                                    &format!("the severity of `{rule_name}`"),
                                    "`error`, `warning` or `info`",
                                    "nullability-mismatch: error",
                                ));
                            }
                        };
                        file.severity.push(SeverityOverride {
                            rule,
                            severity,
                            spans: self.entry_spans(&entry),
                        });
                    }
                }
                "ignore" => {
                    let items = match child.value {
                        Value::Sequence(items) => items,
                        Value::Null => continue,
                        _ => {
                            return Err(self.wrong_shape(
                                &child,
                                "`lint.ignore`",
                                "a list of `{ rule, table, column }` entries",
                                "ignore: [{ rule: untracked-table, table: spatial_ref_sys }]",
                            ));
                        }
                    };
                    for (index, item) in items.iter().enumerate() {
                        let item = self.item(&child, index, item);
                        file.ignore.push(self.read_ignore(&item)?);
                    }
                }
                _ => return Err(self.unknown_key(&child, &key, LINT_KEYS, "`lint`")),
            }
        }
        Ok(())
    }

    fn read_ignore(&self, node: &Node<'_>) -> Result<ReadIgnore, Error> {
        let example = "{ rule: untracked-table, table: spatial_ref_sys }";
        if !matches!(node.value, Value::Mapping(_)) {
            return Err(self.wrong_shape(
                node,
                "an entry of `lint.ignore`",
                "a mapping with `rule` and optionally `table` and `column`",
                example,
            ));
        }
        let mut rule = None;
        let mut table = None;
        let mut column = None;
        for (key, child) in self.entries(node, "an entry of `lint.ignore`", example)? {
            match key.as_ref() {
                "rule" => {
                    let name = self.name(&child, "`rule`", "rule: untracked-table")?;
                    let range = self.value_range(&child);
                    rule = Some((self.rule(&name.name, range)?, name.span));
                }
                "table" => {
                    let name = self.name(&child, "`table`", "table: spatial_ref_sys")?;
                    let range = self.value_range(&child);
                    table = Some(self.table_name(&name.name, range)?);
                }
                "column" => column = Some(self.name(&child, "`column`", "column: legacy_id")?.name),
                _ => {
                    return Err(self.unknown_key(
                        &child,
                        &key,
                        IGNORE_KEYS,
                        "an entry of `lint.ignore`",
                    ));
                }
            }
        }
        let Some((rule, rule_span)) = rule else {
            return Err(self.error(
                ErrorKind::InvalidValue,
                self.first_line_of_value(node),
                "an entry of `lint.ignore` names no rule",
                "`rule` is missing",
                format!("name the rule to ignore, as in `{example}`"),
            ));
        };
        Ok(ReadIgnore {
            table,
            entry: IgnoreEntry {
                rule,
                table: None,
                column,
                span: self.span(self.value_range(node)),
                rule_span,
            },
        })
    }

    fn rule(&self, name: &str, range: Range<usize>) -> Result<Rule, Error> {
        Rule::from_name(name).ok_or_else(|| {
            let suggestion = closest_name(name, RULES.iter().map(|rule| rule.name))
                .map(|rule| format!("did you mean `{rule}`? "))
                .unwrap_or_default();
            self.error(
                ErrorKind::UnknownRule,
                range,
                format!("unknown rule `{name}`"),
                "no rule has this name",
                format!("{suggestion}`driftlint explain --list` lists every rule"),
            )
        })
    }
}

/// The files, for errors that involve places in two of them.
struct MergeFiles<'a> {
    files: &'a [ErrorFile],
    ids: Vec<FileId>,
}

impl MergeFiles<'_> {
    fn file(&self, id: FileId) -> &ErrorFile {
        let index = self
            .ids
            .iter()
            .position(|candidate| *candidate == id)
            .expect("every span being merged points into a file being merged");
        &self.files[index]
    }

    /// An error at `second` that also shows `first`, in the same file or another.
    #[allow(clippy::too_many_arguments)]
    fn two_places(
        &self,
        kind: ErrorKind,
        second: &Span,
        first: &Span,
        message: String,
        second_label: &str,
        first_label: &str,
        help: &str,
    ) -> Error {
        let range = |span: &Span| span.range.start as usize..span.range.end as usize;
        let error = Error::at(
            kind,
            self.file(second.file),
            range(second),
            message,
            second_label,
            Some(help.to_owned()),
        );
        if first.file == second.file {
            error.also_at(range(first), first_label)
        } else {
            let first_file = self.file(first.file);
            error.also_in(
                first_file,
                range(first),
                format!("the other place is in {}", first_file.display),
                first_label,
            )
        }
    }
}

/// Merges the files' expectations, in the order given: one default schema, one `heads`, every
/// table once.
pub(crate) fn merge(
    parsed: Vec<FileExpectations>,
    files: &[ErrorFile],
) -> Result<Expectations, Error> {
    let places = MergeFiles {
        files,
        ids: parsed.iter().map(|file| file.file_id).collect(),
    };

    let mut schema: Option<(String, EntrySpans)> = None;
    for (name, spans) in parsed.iter().filter_map(|file| file.schema.as_ref()) {
        match &schema {
            Some((first, first_spans)) if first != name => {
                return Err(places.two_places(
                    ErrorKind::ConflictingSetting,
                    &spans.value,
                    &first_spans.value,
                    format!("`schema` is set to `{name}` here but to `{first}` in another place"),
                    "set here",
                    "and set differently here",
                    "set the default schema once, in one file",
                ));
            }
            Some(_) => {}
            None => schema = Some((name.clone(), spans.clone())),
        }
    }
    let default_schema = schema
        .as_ref()
        .map_or_else(|| "public".to_owned(), |(name, _)| name.clone());

    let mut heads: Option<HeadsExpectation> = None;
    for candidate in parsed.iter().filter_map(|file| file.heads.as_ref()) {
        match &heads {
            Some(first) if first.allowed != candidate.allowed => {
                return Err(places.two_places(
                    ErrorKind::ConflictingSetting,
                    &candidate.spans.value,
                    &first.spans.value,
                    "`heads` is set differently in two places".to_owned(),
                    "set here",
                    "and set differently here",
                    "set `heads` once, in one file",
                ));
            }
            Some(_) => {}
            None => heads = Some(candidate.clone()),
        }
    }

    let qualify = |written: &WrittenTableName| TableNameAt {
        schema: written
            .schema
            .clone()
            .unwrap_or_else(|| default_schema.clone()),
        name: written.name.clone(),
        span: written.span.clone(),
    };

    let mut sequences: Option<(SequencesExpectation, EntrySpans)> = None;
    for (read, spans) in parsed.iter().filter_map(|file| file.sequences.as_ref()) {
        let this = match read {
            ReadSequences::All => SequencesExpectation::All,
            ReadSequences::None => SequencesExpectation::None,
            ReadSequences::Tables(tables) => {
                SequencesExpectation::Tables(tables.iter().map(qualify).collect())
            }
        };
        sequences = Some(match sequences.take() {
            None => (this, spans.clone()),
            // Lists from several files add up.
            Some((SequencesExpectation::Tables(mut first), first_spans)) => match this {
                SequencesExpectation::Tables(more) => {
                    first.extend(more);
                    (SequencesExpectation::Tables(first), first_spans)
                }
                _ => {
                    return Err(places.two_places(
                        ErrorKind::ConflictingSetting,
                        &spans.value,
                        &first_spans.value,
                        "`sequences` is set differently in two places".to_owned(),
                        "set here",
                        "and set differently here",
                        "set `sequences` once, in one file",
                    ));
                }
            },
            Some((first, first_spans)) => {
                if first != this {
                    return Err(places.two_places(
                        ErrorKind::ConflictingSetting,
                        &spans.value,
                        &first_spans.value,
                        "`sequences` is set differently in two places".to_owned(),
                        "set here",
                        "and set differently here",
                        "set `sequences` once, in one file",
                    ));
                }
                (first, first_spans)
            }
        });
    }

    let mut tables: Vec<TableExpectation> = Vec::new();
    let mut table_index: HashMap<(String, String), usize> = HashMap::new();
    let mut severity: Vec<SeverityOverride> = Vec::new();
    let mut ignore = Vec::new();
    for file in parsed {
        for read in file.tables {
            let mut table = read.table;
            table.schema = read
                .written_schema
                .unwrap_or_else(|| default_schema.clone());
            let key = (table.schema.clone(), table.name.clone());
            if let Some(&first) = table_index.get(&key) {
                let first: &TableExpectation = &tables[first];
                return Err(places.two_places(
                    ErrorKind::DuplicateTable,
                    &table.spans.key,
                    &first.spans.key,
                    format!("table {} is declared twice", table.qualified_name()),
                    "declared again here",
                    "first declared here",
                    "merge the two entries into one",
                ));
            }
            table_index.insert(key, tables.len());
            tables.push(table);
        }
        for entry in file.severity {
            if let Some(first) = severity.iter().find(|seen| seen.rule == entry.rule) {
                if first.severity != entry.severity {
                    return Err(places.two_places(
                        ErrorKind::ConflictingSetting,
                        &entry.spans.value,
                        &first.spans.value,
                        format!(
                            "the severity of `{}` is set to {} here but to {} in another place",
                            entry.rule, entry.severity, first.severity
                        ),
                        "set here",
                        "and set differently here",
                        "set each rule's severity once",
                    ));
                }
                continue;
            }
            severity.push(entry);
        }
        for read in file.ignore {
            let mut entry = read.entry;
            entry.table = read.table.as_ref().map(|written| {
                let qualified = qualify(written);
                (qualified.schema, qualified.name)
            });
            ignore.push(entry);
        }
    }

    Ok(Expectations {
        files: places.ids.clone(),
        default_schema,
        default_schema_spans: schema.map(|(_, spans)| spans),
        heads,
        tables,
        sequences_spans: sequences.as_ref().map(|(_, spans)| spans.clone()),
        sequences: sequences
            .map(|(sequences, _)| sequences)
            .unwrap_or_default(),
        lint: LintConfig { severity, ignore },
    })
}
