//! Output formats: `human` (miette diagnostics), `json` (SPEC.md's stable shape), `sarif`
//! (SARIF 2.1.0) and `github` (workflow annotations).
//!
//! Invariant: this is the only module that knows output formats. It owns its serialisable
//! structs, so the JSON shape does not freeze the core types (which are not `Serialize`).

pub mod error;
pub mod github;
pub mod graph;
pub mod human;
pub mod json;
pub mod sarif;

use crate::rules::{Finding, Severity};
use crate::source::{FileId, LineCol, Sources};

/// The version printed in reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where a rule's documentation lives on the web (for SARIF `helpUri` and diagnostic URLs).
pub fn rule_url(rule_name: &str) -> String {
    format!(
        "{}/blob/main/rules/{rule_name}.md",
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// Counts of findings by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Self {
        let mut s = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Error => s.error += 1,
                Severity::Warning => s.warning += 1,
                Severity::Info => s.info += 1,
            }
        }
        s
    }
}

/// A finding's primary location as path, 1-based line and column, and end line and column.
pub(crate) struct Place<'a> {
    pub path: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Line and column lookups for many findings: each file is indexed once (line starts and a
/// character count every [`CHECKPOINT`] bytes), so a lookup costs a binary search plus at most
/// `CHECKPOINT` bytes, whatever the length of the line or the number of findings in it.
pub(crate) struct Positions<'a> {
    sources: &'a Sources,
    indexes: std::cell::RefCell<std::collections::HashMap<FileId, std::rc::Rc<LineIndex>>>,
}

const CHECKPOINT: usize = 256;

/// The index of one file's text.
pub(crate) struct LineIndex {
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// Characters in `text[..k * CHECKPOINT]`, for each `k`.
    chars_before: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(memchr_newlines(bytes));
        let mut chars_before = Vec::with_capacity(bytes.len() / CHECKPOINT + 1);
        let mut count = 0;
        for block in bytes.chunks(CHECKPOINT) {
            chars_before.push(count);
            count += char_starts(block);
        }
        chars_before.push(count);
        LineIndex {
            line_starts,
            chars_before,
        }
    }

    /// Characters in `text[..offset]` (`offset` on a character boundary).
    pub(crate) fn chars_to(&self, text: &str, offset: usize) -> usize {
        let block = offset / CHECKPOINT;
        self.chars_before[block] + char_starts(&text.as_bytes()[block * CHECKPOINT..offset])
    }

    /// The 0-based line holding `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    /// The byte range of 0-based `line`, without its line break.
    pub(crate) fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.line_starts[line];
        let mut end = self
            .line_starts
            .get(line + 1)
            .map_or(text.len(), |next| next - 1);
        if end > start && text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    pub(crate) fn lines(&self) -> usize {
        self.line_starts.len()
    }

    /// The 1-based line and character column of byte `offset`, as [`crate::source::line_col`].
    pub(crate) fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset);
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        LineCol {
            line: line + 1,
            column: self.chars_to(text, offset) - self.chars_to(text, start) + 1,
        }
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
}

/// How many characters start in `bytes` (UTF-8 bytes that are not continuation bytes).
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

/// `offset` clamped to `text` and moved back to a character boundary.
pub(crate) fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl<'a> Positions<'a> {
    pub(crate) fn new(sources: &'a Sources) -> Positions<'a> {
        Positions {
            sources,
            indexes: Default::default(),
        }
    }

    pub(crate) fn sources(&self) -> &'a Sources {
        self.sources
    }

    pub(crate) fn index(&self, file: FileId) -> std::rc::Rc<LineIndex> {
        self.indexes
            .borrow_mut()
            .entry(file)
            .or_insert_with(|| std::rc::Rc::new(LineIndex::new(&self.sources.get(file).text)))
            .clone()
    }

    pub(crate) fn line_col(&self, file: FileId, offset: u32) -> LineCol {
        self.index(file)
            .line_col(&self.sources.get(file).text, offset as usize)
    }

    pub(crate) fn place(&self, label: &crate::rules::Label) -> Place<'a> {
        let file = self.sources.get(label.span.file);
        let start = self.line_col(label.span.file, label.span.range.start);
        let end = self.line_col(label.span.file, label.span.range.end);
        Place {
            path: &file.display,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

/// Whether `c` must not reach a terminal or a log raw: C0 controls, DEL, C1 controls and the
/// bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), which can hide or
/// reorder what a reader sees.
pub fn is_unsafe_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The visible form of an unsafe character: `\x1b` for those below U+0100, `\u{202e}` above.
pub fn escaped_char(c: char) -> String {
    if (c as u32) < 0x100 {
        format!("\\x{:02x}", c as u32)
    } else {
        format!("\\u{{{:04x}}}", c as u32)
    }
}

/// Outside text (revision ids, names from a database, paths, messages that quote them) made
/// safe for a terminal: every unsafe character (see [`is_unsafe_char`]) written visibly, line
/// breaks and tabs kept.
pub fn escape_text(text: &str) -> std::borrow::Cow<'_, str> {
    escape_with(text, |c| c != '\n' && c != '\t' && is_unsafe_char(c))
}

/// [`escape_text`] for text that must stay on one line (a path, a label): line breaks and tabs
/// are escaped too.
pub fn escape_line(text: &str) -> std::borrow::Cow<'_, str> {
    escape_with(text, is_unsafe_char)
}

/// Serialised JSON with the unsafe characters serde_json leaves raw (DEL, C1 controls, the
/// bidirectional overrides and isolates; it escapes C0 itself) written as `\uXXXX` escapes:
/// the same document, but safe to print on a terminal. Outside strings JSON is ASCII, so every
/// such character is inside a string, where the escape means the same character. (The line
/// breaks of pretty printing are the only C0 characters left, and they are outside strings.)
pub fn json_safe(json: String) -> String {
    let unsafe_in_json = |c: char| c >= '\u{7f}' && is_unsafe_char(c);
    if !json.chars().any(unsafe_in_json) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_in_json(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn escape_with(text: &str, unsafe_char: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(&unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&escaped_char(c));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_agrees_with_line_col() {
        let mut text = String::from("ab\nçd\r\nef\n\n");
        for i in 0..700 {
            text.push(if i % 7 == 0 { 'é' } else { 'x' });
        }
        text.push_str("\r\nend");
        let index = LineIndex::new(&text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(
                index.line_col(&text, offset),
                crate::source::line_col(&text, offset),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn control_and_bidi_characters_are_escaped_visibly() {
        assert_eq!(escape_text("a\u{1b}[31mb\u{7}"), "a\\x1b[31mb\\x07");
        assert_eq!(
            escape_text("x\u{202e}y\u{2066}\u{9b}\u{7f}"),
            "x\\u{202e}y\\u{2066}\\x9b\\x7f"
        );
        assert_eq!(escape_text("line\nnext\tcol\r"), "line\nnext\tcol\\x0d");
        assert_eq!(escape_line("line\nnext\t"), "line\\x0anext\\x09");
        assert!(matches!(
            escape_text("plain é"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn json_keeps_its_meaning_with_c1_and_bidi_characters_escaped() {
        let value = serde_json::json!({ "id": "a\u{1b}b\u{9b}c\u{202e}d\u{7f}é\n" });
        let pretty = json_safe(serde_json::to_string_pretty(&value).unwrap());
        assert_eq!(
            pretty,
            "{\n  \"id\": \"a\\u001bb\\u009bc\\u202ed\\u007fé\\n\"\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back, value);
    }
}
