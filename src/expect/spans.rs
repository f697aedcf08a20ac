//! Where each node of a YAML document is, by path. serde_yaml reads the values but keeps no
//! positions, so this second, light pass walks the same text with saphyr-parser's event stream
//! and records, for every mapping entry and sequence item, the byte range of its key and of its
//! value. The reader joins the two by path (`tables` → `users` → `columns` → `email`).
//!
//! Invariant: ranges are byte offsets into the text given to [`SpanIndex::build`], on character
//! boundaries. The pass never decides what a value means; a node it cannot place (under an
//! alias, a merge key or a complex key) simply has no entry, and callers fall back to the nearest
//! ancestor that has one.

use std::borrow::Cow;
use std::ops::Range;

use rustc_hash::FxHashMap;
use saphyr_parser::{Event, Parser, ScanError};

/// One step in a path from the document root.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum PathSegment {
    Key(String),
    Index(usize),
}

/// A [`PathSegment`] whose key borrows the YAML text where the parser could hand it out without
/// unescaping, so that indexing a large file does not copy every key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Step<'t> {
    Key(Cow<'t, str>),
    Index(usize),
}

/// A path from the document root, as an index into [`SpanIndex`]'s table of paths. Every prefix
/// of a path in the table is in the table too.
pub(crate) type PathId = u32;

/// The empty path: the document's root node.
pub(crate) const ROOT: PathId = 0;

/// Where one node is: its key (for a mapping entry) and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeSpans {
    pub key: Option<Range<usize>>,
    pub value: Range<usize>,
}

/// A key written twice in one mapping, which YAML forbids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DuplicateKey {
    /// The path of the mapping that holds the key twice.
    pub parent: Vec<PathSegment>,
    pub key: String,
    pub first: Range<usize>,
    pub second: Range<usize>,
}

/// One path of the table: its parent, its last step, and the spans recorded for it (none when
/// the path was only passed through).
#[derive(Debug)]
struct PathEntry<'t> {
    parent: PathId,
    step: Step<'t>,
    spans: Option<NodeSpans>,
}

/// The spans of a document by path. Paths are interned as (parent, step) pairs, so that a
/// lookup costs one hash of a key rather than of the whole path, and a path is never copied.
#[derive(Debug)]
pub(crate) struct SpanIndex<'t> {
    /// `paths[ROOT]` is the empty path; its step is never read.
    paths: Vec<PathEntry<'t>>,
    children: FxHashMap<(PathId, Step<'t>), PathId>,
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// The deepest nesting of mappings and sequences an expectations file may have. The format
/// itself needs six levels (`tables` → table → `columns` → column → settings → a list); the
/// limit stops hostile nesting before serde_yaml's parser, whose time grows with the square of
/// the depth (100,000 levels took minutes) and which checks its own limit (128) only after
/// reading the whole document.
pub(crate) const MAX_DEPTH: usize = 64;

/// Why [`SpanIndex::build`] stopped.
#[derive(Debug)]
pub(crate) enum BuildError {
    /// The text is not YAML.
    Scan(ScanError),
    /// A mapping or sequence at byte `offset` opens level [`MAX_DEPTH`] + 1.
    TooDeep { offset: usize },
}

/// Where the parser stands inside one open mapping or sequence.
enum Frame<'t> {
    Mapping {
        path: PathId,
        start: usize,
        /// The key just read, waiting for its value: its text and range.
        pending_key: Option<(Cow<'t, str>, Range<usize>)>,
        /// Set while a complex key (a mapping or sequence used as a key) is being read.
        reading_complex_key: bool,
        keys_seen: FxHashMap<Cow<'t, str>, Range<usize>>,
    },
    Sequence {
        path: PathId,
        start: usize,
        next_index: usize,
    },
}

/// Converts saphyr's character indices to byte offsets.
enum Offsets {
    /// In ASCII text every character is one byte.
    Ascii {
        len: usize,
    },
    Table {
        char_starts: Vec<usize>,
        len: usize,
    },
}

impl Offsets {
    fn new(text: &str) -> Self {
        if text.is_ascii() {
            Offsets::Ascii { len: text.len() }
        } else {
            Offsets::Table {
                char_starts: text.char_indices().map(|(index, _)| index).collect(),
                len: text.len(),
            }
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match self {
            Offsets::Ascii { len } => char_index.min(*len),
            Offsets::Table { char_starts, len } => {
                char_starts.get(char_index).copied().unwrap_or(*len)
            }
        }
    }
}

impl<'t> SpanIndex<'t> {
    fn new() -> Self {
        SpanIndex {
            paths: vec![PathEntry {
                parent: ROOT,
                step: Step::Index(0),
                spans: None,
            }],
            children: FxHashMap::default(),
            duplicate_keys: Vec::new(),
        }
    }

    /// Walks the first document of `text`. Returns the scanner's error when the text is not
    /// YAML; the caller normally reports serde_yaml's own error for that instead.
    pub fn build(text: &'t str) -> Result<SpanIndex<'t>, BuildError> {
        let offsets = Offsets::new(text);
        let mut index = SpanIndex::new();
        let mut stack: Vec<Frame<'t>> = Vec::new();
        let mut documents_seen = 0usize;
        for event in Parser::new_from_str(text) {
            let (event, span) = event.map_err(|error| {
                // The scanner counts flow levels in a byte and refuses the 256th: that is
                // nesting too deep, not a syntax error.
                if error.info() == "recursion limit exceeded" {
                    BuildError::TooDeep {
                        offset: offsets.byte(error.marker().index()),
                    }
                } else {
                    BuildError::Scan(error)
                }
            })?;
            let range = offsets.byte(span.start.index())..offsets.byte(span.end.index());
            if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..))
                && stack.len() >= MAX_DEPTH
            {
                return Err(BuildError::TooDeep {
                    offset: range.start,
                });
            }
            match event {
                Event::DocumentStart(_) => {
                    documents_seen += 1;
                    if documents_seen > 1 {
                        break;
                    }
                }
                Event::Scalar(value, ..) => {
                    index.node(&mut stack, Some(value), range);
                }
                Event::Alias(_) => index.node(&mut stack, None, range),
                Event::MappingStart(..) => {
                    let path = index.open_child(&mut stack);
                    stack.push(Frame::Mapping {
                        path: path.unwrap_or(ROOT),
                        start: range.start,
                        pending_key: None,
                        reading_complex_key: false,
                        keys_seen: FxHashMap::default(),
                    });
                }
                Event::SequenceStart(..) => {
                    let path = index.open_child(&mut stack);
                    stack.push(Frame::Sequence {
                        path: path.unwrap_or(ROOT),
                        start: range.start,
                        next_index: 0,
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    let start = match stack.pop() {
                        Some(Frame::Mapping { start, .. })
                        | Some(Frame::Sequence { start, .. }) => start,
                        None => continue,
                    };
                    // A block collection ends where the next token starts, which may be lines
                    // below; the end of the last non-blank text before it is the honest end.
                    let end = trim_trailing_space(text, start, range.end.max(start));
                    index.node(&mut stack, None, start..end);
                }
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        Ok(index)
    }

    /// The spans of the node at `path`, if the pass could place it.
    #[cfg(test)]
    pub fn get(&self, path: &[PathSegment]) -> Option<&NodeSpans> {
        let mut id = ROOT;
        for segment in path {
            id = match segment {
                PathSegment::Key(key) => self.child_key(id, key)?,
                PathSegment::Index(index) => self.child_index(id, *index)?,
            };
        }
        self.spans(id)
    }

    /// The spans recorded for the path `id`, if the pass could place its node.
    pub fn spans(&self, id: PathId) -> Option<&NodeSpans> {
        self.paths.get(id as usize)?.spans.as_ref()
    }

    /// The path of the entry `key` of the mapping at `parent`, if the pass saw that path.
    pub fn child_key(&self, parent: PathId, key: &str) -> Option<PathId> {
        self.children
            .get(&(parent, Step::Key(Cow::Borrowed(key))))
            .copied()
    }

    /// The path of item `index` of the sequence at `parent`, if the pass saw that path.
    pub fn child_index(&self, parent: PathId, index: usize) -> Option<PathId> {
        self.children.get(&(parent, Step::Index(index))).copied()
    }

    /// The path `parent` extended by `step`, added to the table when new.
    fn intern(&mut self, parent: PathId, step: Step<'t>) -> PathId {
        let borrowed = match &step {
            Step::Key(key) => Step::Key(Cow::Borrowed(key.as_ref())),
            Step::Index(index) => Step::Index(*index),
        };
        if let Some(&id) = self.children.get(&(parent, borrowed)) {
            return id;
        }
        let id = PathId::try_from(self.paths.len()).expect("fewer than 2^32 YAML nodes");
        self.paths.push(PathEntry {
            parent,
            step: step.clone(),
            spans: None,
        });
        self.children.insert((parent, step), id);
        id
    }

    /// The segments of the path `id`, from the root.
    fn segments(&self, mut id: PathId) -> Vec<PathSegment> {
        let mut segments = Vec::new();
        while id != ROOT {
            let entry = &self.paths[id as usize];
            segments.push(match &entry.step {
                Step::Key(key) => PathSegment::Key(key.clone().into_owned()),
                Step::Index(index) => PathSegment::Index(*index),
            });
            id = entry.parent;
        }
        segments.reverse();
        segments
    }

    /// Records `spans` for the path `id`; `replace` says whether an earlier record gives way.
    fn record(&mut self, id: PathId, spans: NodeSpans, replace: bool) {
        let slot = &mut self.paths[id as usize].spans;
        if replace || slot.is_none() {
            *slot = Some(spans);
        }
    }

    /// Called when a collection opens: when it is a mapping's key, marks the mapping as reading
    /// a complex key. Returns the path the new collection will have, `None` under a complex key.
    fn open_child(&mut self, stack: &mut [Frame<'t>]) -> Option<PathId> {
        match stack.last_mut() {
            None => Some(ROOT),
            Some(Frame::Mapping {
                path,
                pending_key,
                reading_complex_key,
                ..
            }) => {
                if *reading_complex_key {
                    return None;
                }
                match pending_key {
                    Some((key, _)) => Some(self.intern(*path, Step::Key(key.clone()))),
                    None => {
                        *reading_complex_key = true;
                        None
                    }
                }
            }
            Some(Frame::Sequence {
                path, next_index, ..
            }) => Some(self.intern(*path, Step::Index(*next_index))),
        }
    }

    /// Records a finished node (a scalar, an alias or a closed collection) in its parent.
    /// `scalar` is the scalar's text, used when the node turns out to be a key.
    fn node(&mut self, stack: &mut [Frame<'t>], scalar: Option<Cow<'t, str>>, range: Range<usize>) {
        match stack.last_mut() {
            None => {
                let spans = NodeSpans {
                    key: None,
                    value: range,
                };
                self.record(ROOT, spans, true);
            }
            Some(Frame::Mapping {
                path,
                pending_key,
                reading_complex_key,
                keys_seen,
                ..
            }) => {
                if *reading_complex_key {
                    // The complex key is complete; its value follows and cannot be addressed.
                    *reading_complex_key = false;
                    *pending_key = Some((Cow::Borrowed("\u{0}complex key"), range));
                    return;
                }
                match pending_key.take() {
                    None => {
                        let key = scalar.unwrap_or(Cow::Borrowed("\u{0}alias key"));
                        if let Some(first) = keys_seen.get(&key) {
                            let duplicate = DuplicateKey {
                                parent: self.segments(*path),
                                key: key.clone().into_owned(),
                                first: first.clone(),
                                second: range.clone(),
                            };
                            self.duplicate_keys.push(duplicate);
                        } else {
                            keys_seen.insert(key.clone(), range.clone());
                        }
                        *pending_key = Some((key, range));
                    }
                    Some((key, key_range)) => {
                        let child = self.intern(*path, Step::Key(key));
                        // The first occurrence of a duplicated key keeps its entry.
                        let spans = NodeSpans {
                            key: Some(key_range),
                            value: range,
                        };
                        self.record(child, spans, false);
                    }
                }
            }
            Some(Frame::Sequence {
                path, next_index, ..
            }) => {
                let child = self.intern(*path, Step::Index(*next_index));
                *next_index += 1;
                let spans = NodeSpans {
                    key: None,
                    value: range,
                };
                self.record(child, spans, true);
            }
        }
    }
}

/// `end` moved back over trailing whitespace and comment lines, but not before `start`.
fn trim_trailing_space(text: &str, start: usize, end: usize) -> usize {
    let end = end.min(text.len());
    let mut cut = end;
    // Walk back line by line past blank lines and lines that hold only a comment.
    loop {
        let before = &text[start..cut];
        let trimmed = before.trim_end();
        let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        let last_line = &trimmed[line_start..];
        if last_line.trim_start().starts_with('#') && line_start > 0 {
            cut = start + line_start;
            continue;
        }
        return start + trimmed.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> PathSegment {
        PathSegment::Key(name.to_owned())
    }

    fn text_at<'a>(text: &'a str, range: &Range<usize>) -> &'a str {
        &text[range.clone()]
    }

    #[test]
    fn records_keys_and_values_by_path() {
        let text = "version: 1\ntables:\n  users:\n    columns:\n      email: { type: varchar(120), nullable: false }\n      id: integer\n    absent_columns: [legacy, \"old\"]\n";
        let index = SpanIndex::build(text).expect("valid YAML");
        let email = index
            .get(&[key("tables"), key("users"), key("columns"), key("email")])
            .expect("email is indexed");
        assert_eq!(
            text_at(text, email.key.as_ref().expect("has a key")),
            "email"
        );
        assert_eq!(
            text_at(text, &email.value),
            "{ type: varchar(120), nullable: false }"
        );
        let ty = index
            .get(&[
                key("tables"),
                key("users"),
                key("columns"),
                key("email"),
                key("type"),
            ])
            .expect("type is indexed");
        assert_eq!(text_at(text, &ty.value), "varchar(120)");
        let old = index
            .get(&[
                key("tables"),
                key("users"),
                key("absent_columns"),
                PathSegment::Index(1),
            ])
            .expect("second absent column is indexed");
        assert_eq!(text_at(text, &old.value), "\"old\"");
        let version = index.get(&[key("version")]).expect("version is indexed");
        assert_eq!(text_at(text, &version.value), "1");
    }

    #[test]
    fn block_collections_end_at_their_last_text() {
        let text = "tables:\n  users:\n    columns: [id]\n\n# trailing comment\n\nlint: {}\n";
        let index = SpanIndex::build(text).expect("valid YAML");
        let users = index
            .get(&[key("tables"), key("users")])
            .expect("users is indexed");
        assert_eq!(text_at(text, &users.value), "columns: [id]");
    }

    #[test]
    fn finds_duplicate_keys_with_both_places() {
        let text = "tables:\n  users: {}\n  orders: {}\n  users: {}\n";
        let index = SpanIndex::build(text).expect("valid YAML");
        assert_eq!(index.duplicate_keys.len(), 1);
        let duplicate = &index.duplicate_keys[0];
        assert_eq!(duplicate.key, "users");
        assert_eq!(duplicate.parent, vec![key("tables")]);
        assert_eq!(duplicate.first.start, text.find("users").expect("present"));
        assert_eq!(
            duplicate.second.start,
            text.rfind("users").expect("present")
        );
    }

    #[test]
    fn offsets_are_bytes_after_multibyte_characters() {
        let text = "# café ☕\ntables:\n  naïve: {}\n";
        let index = SpanIndex::build(text).expect("valid YAML");
        let naive = index.get(&[key("tables"), key("naïve")]).expect("indexed");
        assert_eq!(
            text_at(text, naive.key.as_ref().expect("has a key")),
            "naïve"
        );
    }

    #[test]
    fn complex_keys_and_aliases_do_not_confuse_paths() {
        let text =
            "base: &b { type: text }\n? [a, b]\n: ignored\ncolumns:\n  x: *b\n  y: integer\n";
        let index = SpanIndex::build(text).expect("valid YAML");
        let y = index
            .get(&[key("columns"), key("y")])
            .expect("y is indexed");
        assert_eq!(text_at(text, &y.value), "integer");
        let x = index
            .get(&[key("columns"), key("x")])
            .expect("x is indexed");
        assert_eq!(text_at(text, &x.value), "*b");
    }

    #[test]
    fn reports_scan_errors() {
        assert!(SpanIndex::build("a: [1, 2\n").is_err());
    }
}
