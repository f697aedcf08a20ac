//! The files that findings point into (revision files, expectation files), kept in one table so
//! that a finding carries a small `Span` instead of a copy of its file. Line and column numbers
//! are computed only when a report needs them.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// An index into [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub range: Range<u32>,
}

impl Span {
    pub fn new(file: FileId, range: Range<u32>) -> Self {
        Span { file, range }
    }
}

/// One file as read from disk.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given or found (used to read the file).
    pub path: PathBuf,
    /// The path shown to users: relative to the working directory where possible, `/`-separated.
    pub display: String,
    /// The decoded text (BOM removed, line endings untouched so that offsets stay true).
    pub text: Arc<str>,
    /// Where each line starts and how many characters precede each block of bytes, built on
    /// the first [`Sources::line_col`] of this file, so that placing a finding costs a binary
    /// search and a count within two blocks, however many findings share a long line.
    index: OnceLock<LineIndex>,
}

impl SourceFile {
    /// The 1-based line and character column of byte `offset`.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let text = &*self.text;
        let index = self.index.get_or_init(|| LineIndex::new(text));
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        // `line_starts[0]` is 0, so at least one start is at or before `offset`.
        let line = index
            .line_starts
            .partition_point(|&start| start as usize <= offset);
        let line_start = index.line_starts[line - 1] as usize;
        let column = index.chars_before(text, offset) - index.chars_before(text, line_start) + 1;
        LineCol { line, column }
    }
}

/// The bytes per block of [`LineIndex::block_chars`]: a column costs counting at most two
/// blocks; the table costs 1% of the text.
const BLOCK: usize = 1024;

#[derive(Debug)]
struct LineIndex {
    /// The byte offsets where lines start (after each `\n`), the first being 0.
    line_starts: Vec<u32>,
    /// `block_chars[i]`: the characters in the first `i * BLOCK` bytes; empty when the text is
    /// ASCII, where characters are bytes.
    block_chars: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
            )
            .collect();
        let mut block_chars = Vec::new();
        if !text.is_ascii() {
            block_chars.reserve(text.len() / BLOCK + 1);
            let mut chars = 0;
            block_chars.push(0);
            for block in text.as_bytes().chunks(BLOCK) {
                chars += char_starts(block);
                block_chars.push(chars);
            }
        }
        LineIndex {
            line_starts,
            block_chars,
        }
    }

    /// The characters in `text[..offset]`.
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        if self.block_chars.is_empty() {
            return offset;
        }
        let block = offset / BLOCK;
        self.block_chars[block] + char_starts(&text.as_bytes()[block * BLOCK..offset])
    }
}

/// The characters that start in `bytes`: every byte that is not a UTF-8 continuation byte.
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, path: PathBuf, text: Arc<str>) -> FileId {
        let display = display_path(&path);
        self.add_displayed(path, display, text)
    }

    /// [`Sources::add`] with the shown path given: made already by [`display_path_from`] (by
    /// the threads that read the files, rather than one by one here), or a name that is not a
    /// path below the working directory (`origin/main:migrations/versions/x.py` for a file read
    /// from a git commit).
    pub fn add_displayed(&mut self, path: PathBuf, display: String, text: Arc<str>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 source files"));
        self.files.push(SourceFile {
            path,
            display,
            text,
            index: OnceLock::new(),
        });
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The line and column where `offset` falls in `file`.
    pub fn line_col(&self, file: FileId, offset: u32) -> LineCol {
        self.get(file).line_col(offset as usize)
    }
}

/// The 1-based line and character column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> LineCol {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    LineCol { line, column }
}

/// `path` relative to the working directory when it lies below it, with `/` separators;
/// otherwise the path as given.
pub fn display_path(path: &Path) -> String {
    display_path_from(path, std::env::current_dir().ok().as_deref())
}

/// [`display_path`] for the working directory `cwd` (`None` when it is unknown), for callers
/// that show many paths and ask for the working directory once.
pub fn display_path_from(path: &Path, cwd: Option<&Path>) -> String {
    let shown = cwd
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    let shown = shown.strip_prefix(".").unwrap_or(shown);
    let text = shown.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\nçd\r\nef";
        assert_eq!(line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(line_col(text, 3), LineCol { line: 2, column: 1 });
        // 'ç' is two bytes; 'd' is the second character of line 2.
        assert_eq!(line_col(text, 5), LineCol { line: 2, column: 2 });
        assert_eq!(line_col(text, 8), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn indexed_line_col_agrees_with_the_scan() {
        let long = "é".repeat(1500) + "x";
        let text = format!("ab\nçd\r\nef\n\nü\n{long}\n{long}");
        let text = text.as_str();
        let mut sources = Sources::new();
        let file = sources.add(PathBuf::from("x"), Arc::from(text));
        for offset in (0..=text.len() + 2).step_by(3) {
            assert_eq!(
                sources.line_col(file, offset as u32),
                line_col(text, offset),
                "offset {offset}"
            );
        }
        let ascii = format!("ab\ncd\r\n{}\nx", "y".repeat(3000));
        let file = sources.add(PathBuf::from("y"), Arc::from(ascii.as_str()));
        for offset in (0..=ascii.len() + 2).step_by(7) {
            assert_eq!(
                sources.line_col(file, offset as u32),
                line_col(&ascii, offset),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn display_paths_are_relative_below_the_working_directory_and_absolute_elsewhere() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(display_path(&cwd.join("versions/a.py")), "versions/a.py");
        assert_eq!(
            display_path(std::path::Path::new("./versions/a.py")),
            "versions/a.py"
        );
        assert_eq!(
            display_path(std::path::Path::new("/elsewhere/a.py")),
            "/elsewhere/a.py"
        );
    }
}
