//! Reading revision files: bytes → text (BOM, PEP 263 coding line) → Python AST → the module's
//! `revision`, `down_revision`, `branch_labels` and `depends_on` with their spans, the message
//! and the lowered `upgrade()`.
//!
//! Files are read and parsed in parallel; each worker lowers its file's `upgrade()` and drops
//! the AST before the next file, so memory holds one AST per thread. The files are registered
//! in [`Sources`] afterwards, on the calling thread, in path order; their [`FileId`]s are
//! reserved up front so that the workers can put them in spans.
//!
//! Only top-level statements are read, in order, as Python would run them: the last assignment
//! of a header variable wins, a name is a constant until an import, `def` or `class` rebinds it,
//! and assignments inside `if`/`try` blocks are not followed.
//!
//! Invariant: a bad file never stops the run. It becomes an `unparsable-migration` finding (an
//! error when the file yields no revision, a warning when a `branch_labels` or `depends_on`
//! value could not be resolved) and reading goes on. Only the module variables count: a
//! docstring's `Revises:` line is never read, since real projects' docstrings go stale.
//!
//! Here: reading files (in parallel, bounded in size) and parsing; `decode.rs` turns bytes into
//! text, `header.rs` reads the header variables into a [`Revision`].

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use ruff_python_ast::{ModModule, PySourceType};

use super::discover::Project;
use super::problems as rule;
use super::{Error, Revision, deep};
use crate::diagnostic::Finding;
use crate::source::{FileId, Sources, Span, display_path_from, line_col};

mod decode;
mod header;

use decode::{UTF8_BOM, decode, to_u32};
use header::{header_to_revision, range_u32, read_header};

/// The revisions read from a project, and the findings reading them produced.
#[derive(Debug, Default)]
pub struct Loaded {
    /// In path order, one per file that yielded a revision.
    pub revisions: Vec<Revision>,
    /// `unparsable-migration` findings, in path order.
    pub findings: Vec<Finding>,
    /// Symbolic links among the revision files (or version directories) that point outside the
    /// project and were skipped, found by the same walk that found the files.
    pub outside_links: Vec<super::OutsideLink>,
}

/// What reading revision files includes.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    /// Lower each `upgrade()` into operations. Commands that only need the revision graph
    /// (`heads`, `graph`, a check without expectations or database) skip it: it costs about as
    /// much as parsing.
    pub lower_upgrade: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            lower_upgrade: true,
        }
    }
}

/// Reads every revision file of `project` into `sources` and returns the revisions. An error
/// only when a version directory cannot be listed; a bad file is a finding.
pub fn load(project: &Project, sources: &mut Sources) -> Result<Loaded, Error> {
    load_with(project, sources, LoadOptions::default())
}

/// [`load`], with a choice of what to read.
pub fn load_with(
    project: &Project,
    sources: &mut Sources,
    options: LoadOptions,
) -> Result<Loaded, Error> {
    let (files, outside_links) = super::discover::revision_files_and_outside_links(project)?;
    let mut loaded = load_files_with(files, sources, options);
    loaded.outside_links = outside_links;
    Ok(loaded)
}

/// Reads the given revision files, in the given order, into `sources`.
pub fn load_files(files: Vec<PathBuf>, sources: &mut Sources) -> Loaded {
    load_files_with(files, sources, LoadOptions::default())
}

/// [`load_files`], with a choice of what to read.
pub fn load_files_with(files: Vec<PathBuf>, sources: &mut Sources, options: LoadOptions) -> Loaded {
    let inputs = files.into_iter().map(RevisionInput::Disk).collect();
    load_inputs(inputs, sources, options)
}

/// Where a revision file's bytes come from.
#[derive(Clone, Debug)]
pub enum RevisionInput {
    /// A file on disk, shown by its path relative to the working directory.
    Disk(PathBuf),
    /// Bytes read elsewhere (a file as a git commit holds it), with the name shown for them,
    /// for example `origin/main:migrations/versions/x.py`. `path` is that name as a path: it
    /// names no file on disk.
    Bytes {
        path: PathBuf,
        display: String,
        bytes: Vec<u8>,
    },
}

/// Reads revision files from disk or from memory, in the given order, into `sources`.
pub fn load_inputs(
    inputs: Vec<RevisionInput>,
    sources: &mut Sources,
    options: LoadOptions,
) -> Loaded {
    let first_id = sources.len();
    let cwd = std::env::current_dir().ok();
    let max_size = crate::config::limits().max_file_size;
    // Parsing, lowering and dropping a tree recurse; the threads that do it have a large
    // stack (see `deep`).
    let read: Vec<ReadFile> = deep::on_large_stack(|| {
        inputs
            .par_iter()
            .enumerate()
            .map(|(index, input)| {
                let file = FileId(u32::try_from(first_id + index).expect("fewer than 2^32 files"));
                match input {
                    RevisionInput::Disk(path) => read_revision_file(
                        path,
                        display_path_from(path, cwd.as_deref()),
                        file,
                        options,
                        max_size,
                    ),
                    RevisionInput::Bytes { display, bytes, .. } => {
                        let shown = || display.clone();
                        let mut read = if bytes.len() as u64 > max_size {
                            too_large(file, &shown(), bytes.len() as u64, max_size)
                        } else {
                            read_revision(bytes, file, &shown, options)
                        };
                        read.display = display.clone();
                        read
                    }
                }
            })
            .collect()
    });

    let mut loaded = Loaded {
        revisions: Vec::with_capacity(read.len()),
        findings: Vec::new(),
        outside_links: Vec::new(),
    };
    for (input, file) in inputs.into_iter().zip(read) {
        let path = match input {
            RevisionInput::Disk(path) | RevisionInput::Bytes { path, .. } => path,
        };
        let id = sources.add_displayed(path, file.display, file.text);
        assert_eq!(
            id, file.file,
            "file ids are reserved in the order the files are added"
        );
        loaded.revisions.extend(file.revision);
        loaded.findings.extend(file.findings);
    }
    loaded
}

/// One file, read: its text as registered in [`Sources`], its revision if it yields one, and
/// the findings about it.
#[derive(Debug)]
struct ReadFile {
    file: FileId,
    /// The path as [`Sources`] shows it.
    display: String,
    text: Arc<str>,
    revision: Option<Revision>,
    findings: Vec<Finding>,
}

fn read_revision_file(
    path: &Path,
    display: String,
    file: FileId,
    options: LoadOptions,
    max_size: u64,
) -> ReadFile {
    let shown = || display.clone();
    let mut read = match read_bounded(path, max_size) {
        Ok(Bounded::Read(bytes)) => read_revision(&bytes, file, &shown, options),
        Ok(Bounded::TooLarge(size)) => too_large(file, &shown(), size, max_size),
        Err(error) => ReadFile {
            file,
            display: String::new(),
            text: Arc::from(""),
            revision: None,
            findings: vec![rule::unreadable(Span::new(file, 0..0), &shown(), &error)],
        },
    };
    read.display = display;
    read
}

/// A file's bytes, or its size when that is over the limit.
enum Bounded {
    Read(Vec<u8>),
    TooLarge(u64),
}

/// Reads `path` unless it holds more than `max_size` bytes; never reads more than `max_size + 1`
/// bytes (the file may grow while it is read).
fn read_bounded(path: &Path, max_size: u64) -> std::io::Result<Bounded> {
    use std::io::Read;
    let file = fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > max_size {
        return Ok(Bounded::TooLarge(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_size.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_size {
        return Ok(Bounded::TooLarge(bytes.len() as u64));
    }
    Ok(Bounded::Read(bytes))
}

/// A file over the size limit: not read, one finding.
fn too_large(file: FileId, display: &str, size: u64, max_size: u64) -> ReadFile {
    ReadFile {
        file,
        display: String::new(),
        text: Arc::from(""),
        revision: None,
        findings: vec![rule::too_large(
            Span::new(file, 0..0),
            display,
            size,
            max_size,
        )],
    }
}

/// Reads one revision file's bytes. `display` names the file in messages; it is called only
/// when a finding is made.
fn read_revision(
    bytes: &[u8],
    file: FileId,
    display: &dyn Fn() -> String,
    options: LoadOptions,
) -> ReadFile {
    // Python refuses a NUL byte anywhere in source; such a file is binary or truncated, and
    // the parser's error recovery would make an error (and memory) per byte of it.
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    // `contains` on bytes is a memchr; the position is looked for only when there is one.
    if let Some(offset) = body
        .contains(&0)
        .then(|| body.iter().position(|&b| b == 0))
        .flatten()
    {
        // The text is registered without its BOM, as `decode` does.
        let text = String::from_utf8_lossy(body);
        // The lossy text has the same prefix up to the first invalid sequence; point at the
        // NUL where it is still at its byte offset, else at the start.
        let at = if text.as_bytes().get(offset) == Some(&0) {
            offset
        } else {
            0
        };
        let position = line_col(&text, at);
        let span = Span::new(file, to_u32(at)..to_u32(at + usize::from(at == offset)));
        let finding = rule::nul_byte(span, &display(), position.line, position.column);
        return ReadFile {
            file,
            display: String::new(),
            text: Arc::from(text.as_ref()),
            revision: None,
            findings: vec![finding],
        };
    }
    let (text, problem) = decode(bytes, file, display);
    let text: Arc<str> = Arc::from(text.as_ref());
    if let Some(finding) = problem {
        return ReadFile {
            file,
            display: String::new(),
            text,
            revision: None,
            findings: vec![finding],
        };
    }
    let mut findings = Vec::new();
    let revision = parse_revision(&text, file, display, options, &mut findings);
    ReadFile {
        file,
        display: String::new(),
        text,
        revision,
        findings,
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing, then the header (`header.rs`) and the lowered `upgrade()`

fn parse_revision(
    text: &str,
    file: FileId,
    display: &dyn Fn() -> String,
    options: LoadOptions,
    findings: &mut Vec<Finding>,
) -> Option<Revision> {
    if let Some(offset) = deep::tokens_beyond_limit(text) {
        let span = Span::new(
            file,
            to_u32(offset)..to_u32(offset + 1).min(to_u32(text.len())),
        );
        findings.push(rule::nested_too_deep(span, &display(), deep::MAX_NESTING));
        return None;
    }
    // `parse_module` would drop the tree of a file with errors itself, recursively; parsed
    // unchecked, every tree is dropped by `deep::drop_tree`, without recursion when the file is
    // large enough to nest deep.
    let parsed = ruff_python_parser::parse_unchecked_source(text, PySourceType::Python);
    let first_error = parsed.errors().first().cloned();
    // The tokens are not needed: keep only the tree.
    let module = parsed.into_syntax();
    if let Some(error) = first_error {
        deep::drop_tree(module, text.len());
        let span = Span::new(file, range_u32(error.location));
        findings.push(rule::syntax_error(
            span,
            &display(),
            &error.error.to_string(),
        ));
        return None;
    }
    if let Some(range) = deep::nesting_beyond_limit(&module) {
        deep::drop_tree(module, text.len());
        let span = Span::new(file, range_u32(range));
        findings.push(rule::nested_too_deep(span, &display(), deep::MAX_NESTING));
        return None;
    }
    let revision = read_module(&module, text, file, display, options, findings);
    deep::drop_tree(module, text.len());
    revision
}

fn read_module(
    module: &ModModule,
    text: &str,
    file: FileId,
    display: &dyn Fn() -> String,
    options: LoadOptions,
    findings: &mut Vec<Finding>,
) -> Option<Revision> {
    let header = read_header(module);
    let revision = header_to_revision(&header, text, file, display, findings)?;
    if !options.lower_upgrade {
        return Some(revision);
    }
    let upgrade = crate::python::lower_upgrade(module, text, file);
    Some(Revision {
        upgrade,
        ..revision
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alembic::discover;
    use crate::diagnostic::{Rule, Severity};

    fn load_case(case: &str) -> (Loaded, Sources) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/parse")
            .join(case);
        let project = discover(&root, Some(Path::new("versions")))
            .unwrap_or_else(|error| panic!("{case}: {error}"));
        let mut sources = Sources::new();
        let loaded = load(&project, &mut sources).unwrap_or_else(|error| panic!("{case}: {error}"));
        (loaded, sources)
    }

    fn span_text<'a>(sources: &'a Sources, span: &Span) -> &'a str {
        &sources.get(span.file).text[span.range.start as usize..span.range.end as usize]
    }

    /// What a revision file's header should read as.
    struct Expected {
        id: &'static str,
        down: &'static [&'static str],
        labels: &'static [&'static str],
        depends: &'static [&'static str],
        message: &'static str,
    }

    const fn rev(
        id: &'static str,
        down: &'static [&'static str],
        message: &'static str,
    ) -> Expected {
        Expected {
            id,
            down,
            labels: &[],
            depends: &[],
            message,
        }
    }

    fn assert_case(case: &str, expected: &[Expected]) {
        let (loaded, sources) = load_case(case);
        let errors: Vec<&str> = loaded.findings.iter().map(|f| f.message.as_str()).collect();
        assert!(errors.is_empty(), "{case}: unexpected findings {errors:#?}");
        assert_eq!(
            loaded.revisions.len(),
            expected.len(),
            "{case}: number of revisions"
        );
        for (revision, expected) in loaded.revisions.iter().zip(expected) {
            assert_eq!(revision.id, expected.id, "{case}: revision");
            assert_eq!(
                revision.down_revisions, expected.down,
                "{case}: down_revision of {}",
                expected.id
            );
            assert_eq!(
                revision.branch_labels, expected.labels,
                "{case}: branch_labels of {}",
                expected.id
            );
            assert_eq!(
                revision.depends_on, expected.depends,
                "{case}: depends_on of {}",
                expected.id
            );
            assert_eq!(
                revision.message.as_deref(),
                Some(expected.message),
                "{case}: message of {}",
                expected.id
            );

            let id_text = span_text(&sources, &revision.id_span);
            assert!(
                id_text.starts_with("revision"),
                "{case}: id span reads {id_text:?}"
            );
            let down_span = revision.down_span.as_ref().expect("down_revision span");
            let down_text = span_text(&sources, down_span);
            assert!(
                down_text.starts_with("down_revision"),
                "{case}: down span reads {down_text:?}"
            );
            if let Some(span) = &revision.branch_labels_span {
                assert!(span_text(&sources, span).starts_with("branch_labels"));
            }
            if let Some(span) = &revision.depends_on_span {
                assert!(span_text(&sources, span).starts_with("depends_on"));
            }
            let upgrade = revision.upgrade_span.as_ref().expect("def upgrade");
            assert_eq!(span_text(&sources, upgrade), "upgrade", "{case}");
        }
    }

    #[test]
    fn bom_is_stripped_and_offsets_match_the_stored_text() {
        assert_case("bom", &[rev("3f1c2a9b7d10", &[], "create accounts table")]);
        let (loaded, sources) = load_case("bom");
        let text = &sources.get(loaded.revisions[0].file).text;
        assert!(
            text.starts_with("\"\"\"create accounts"),
            "BOM kept: {:?}",
            &text[..8]
        );
        let position = sources.line_col(
            loaded.revisions[0].file,
            loaded.revisions[0].id_span.range.start,
        );
        assert_eq!((position.line, position.column), (13, 1));
    }

    #[test]
    fn crlf_files() {
        assert_case(
            "crlf",
            &[rev("a7d2e4c19b33", &["5b0e6f1a2c44"], "Add email to users")],
        );
        assert_case(
            "bom_crlf",
            &[rev("0c9d8e7f6a5b", &["a7d2e4c19b33"], "add locale column")],
        );
        let (loaded, sources) = load_case("crlf");
        assert!(
            sources.get(loaded.revisions[0].file).text.contains("\r\n"),
            "line endings are kept"
        );
    }

    #[test]
    fn coding_cookies() {
        assert_case(
            "coding_latin1",
            &[rev(
                "1975d3b0a0b2",
                &["88c1f0e2d3a4"],
                "Ajout des catégories de dépenses",
            )],
        );
        assert_case(
            "coding_cp1252",
            &[rev(
                "b44e1f5a6c70",
                &["1975d3b0a0b2"],
                "Add “notes” to orders – free text",
            )],
        );
        assert_case(
            "coding_utf8",
            &[rev(
                "c0d1e2f3a4b5",
                &["b44e1f5a6c70"],
                "Rename straße to street",
            )],
        );
        assert_case(
            "coding_ascii_only",
            &[rev(
                "79a0b1c2d3e4",
                &["68f9a0b1c2d3"],
                "plain ascii under a euc-jp declaration",
            )],
        );
    }

    #[test]
    fn python_syntax_real_files_use() {
        assert_case(
            "no_final_newline",
            &[rev("4e5f6a7b8c9d", &["c0d1e2f3a4b5"], "drop legacy flag")],
        );
        assert_case(
            "fstring_column0",
            &[rev("9a8b7c6d5e4f", &["4e5f6a7b8c9d"], "backfill slugs")],
        );
        assert_case(
            "walrus",
            &[rev("e1f2a3b4c5d6", &["9a8b7c6d5e4f"], "dedupe emails")],
        );
        assert_case(
            "async_await",
            &[rev(
                "5d6e7f8091a2",
                &["e1f2a3b4c5d6"],
                "add audit table (async engine project)",
            )],
        );
        assert_case(
            "generators",
            &[rev("71b2c3d4e5f6", &["5d6e7f8091a2"], "seed roles")],
        );
        assert_case(
            "match_statement",
            &[rev(
                "2b3c4d5e6f70",
                &["71b2c3d4e5f6"],
                "status enum per dialect",
            )],
        );
        assert_case(
            "global_statement",
            &[rev("8c9d0e1f2a3b", &["2b3c4d5e6f70"], "add counters")],
        );
        assert_case(
            "star_import",
            &[rev(
                "d4e5f6071829",
                &["8c9d0e1f2a3b"],
                "add index on created_at",
            )],
        );
        assert_case(
            "op_parameter",
            &[rev(
                "1f2e3d4c5b6a",
                &["d4e5f6071829"],
                "Add domain to tenants",
            )],
        );
        assert_case(
            "try_imports",
            &[rev("6a7b8c9d0e1f", &["1f2e3d4c5b6a"], "jsonb settings")],
        );
    }

    #[test]
    fn ids_need_not_be_hex() {
        assert_case(
            "non_hex_ids",
            &[
                rev(
                    "normalize_locked_text_default",
                    &["Ibac91d24da2"],
                    "Normalize the default of users.locked_text",
                ),
                rev("Ibac91d24da2", &["kilo"], "add tags to images"),
                rev("kilo", &["juliet"], "add notifications"),
            ],
        );
    }

    #[test]
    fn empty_strings_name_nothing() {
        assert_case(
            "depends_on_empty",
            &[rev("0a1b2c3d4e5f", &["6a7b8c9d0e1f"], "add reports")],
        );
    }

    #[test]
    fn annotated_headers_merges_labels_and_dependencies() {
        assert_case(
            "annotated_headers",
            &[
                Expected {
                    id: "33aa44bb55cc",
                    down: &["f0e1d2c3b4a5"],
                    labels: &["expand"],
                    depends: &["0a1b2c3d4e5f", "kilo"],
                    message: "expand: add orders.total_cents",
                },
                Expected {
                    id: "77dd88ee99ff",
                    down: &["33aa44bb55cc", "f0e1d2c3b4a5"],
                    labels: &["contract"],
                    depends: &["kilo"],
                    message: "merge in list form, label as a plain string",
                },
                rev(
                    "f0e1d2c3b4a5",
                    &["0a1b2c3d4e5f", "6a7b8c9d0e1f"],
                    "merge heads",
                ),
            ],
        );
    }

    #[test]
    fn constants_resolve_and_the_docstring_is_never_read_for_ids() {
        assert_case(
            "constant_reference",
            &[rev("ab12", &["77dd88ee99ff"], "split full_name")],
        );
        assert_case(
            "stale_docstring",
            &[rev("5e5e5e5e5e5e", &["ab12"], "add phone")],
        );
    }

    #[test]
    fn non_literal_labels_and_dependencies_are_warnings_and_the_rest_is_kept() {
        let (loaded, sources) = load_case("branch_labels_attribute");
        assert_eq!(loaded.revisions.len(), 1);
        let revision = &loaded.revisions[0];
        assert_eq!(revision.id, "2a7f6b3c9d01");
        assert_eq!(revision.down_revisions, ["5e5e5e5e5e5e"]);
        assert!(revision.branch_labels.is_empty());
        assert_eq!(revision.depends_on, ["5e5e5e5e5e5e"]);
        assert_eq!(loaded.findings.len(), 2, "{:#?}", loaded.findings);
        for (finding, (variable, value, line)) in loaded.findings.iter().zip([
            ("branch_labels", "cli.EXPAND_BRANCH", 16),
            ("depends_on", "cli.CONTRACT_HEAD", 17),
        ]) {
            assert_eq!(finding.rule, Rule::UnparsableMigration);
            assert_eq!(finding.severity, Severity::Warning);
            assert_eq!(finding.revision.as_deref(), Some("2a7f6b3c9d01"));
            assert!(
                finding.message.contains(&format!("`{variable}`")),
                "{}",
                finding.message
            );
            assert!(
                finding.message.contains(&format!("`{value}`")),
                "{}",
                finding.message
            );
            assert!(
                finding.message.contains("may be incomplete"),
                "{}",
                finding.message
            );
            let label = finding.primary.as_ref().expect("located");
            assert_eq!(
                sources
                    .line_col(label.span.file, label.span.range.start)
                    .line,
                line
            );
        }
    }

    /// The one finding a broken case gives: its message and its 1-based line and column.
    fn broken_case(case: &str) -> (String, usize, usize) {
        let (loaded, sources) = load_case(case);
        assert!(
            loaded.revisions.is_empty(),
            "{case}: {:#?}",
            loaded.revisions
        );
        assert_eq!(loaded.findings.len(), 1, "{case}: {:#?}", loaded.findings);
        let finding = &loaded.findings[0];
        assert_eq!(finding.rule, Rule::UnparsableMigration);
        assert_eq!(finding.severity, Severity::Error);
        assert!(finding.help.is_some());
        let label = finding.primary.as_ref().expect("located");
        let position = sources.line_col(label.span.file, label.span.range.start);
        let display = &sources.get(label.span.file).display;
        assert!(
            finding.message.contains(display.as_str()),
            "{case}: {} lacks {display}",
            finding.message
        );
        (finding.message.clone(), position.line, position.column)
    }

    #[test]
    fn syntax_error_is_located_with_the_parsers_message() {
        let (message, line, _) = broken_case("broken_syntax");
        // The unclosed parenthesis of line 14 shows where the next line's statement begins.
        assert!(
            message.contains("is not valid Python: Expected `,`"),
            "{message}"
        );
        assert_eq!(line, 15, "{message}");
    }

    #[test]
    fn non_utf8_without_cookie_names_the_byte() {
        let (message, line, column) = broken_case("broken_not_utf8");
        assert_eq!((line, column), (2, 4), "{message}");
        assert!(
            message.contains("byte 0xE9 at line 2, column 4 (byte offset 21)"),
            "{message}"
        );
        assert!(message.contains("declares no other encoding"), "{message}");
    }

    #[test]
    fn a_nul_byte_is_one_finding_at_its_place_after_a_bom() {
        let mut sources = Sources::new();
        let bytes = b"\xEF\xBB\xBFrevision = 'a'\ndown_revision = None\nx = '\0'\n".to_vec();
        let loaded = load_inputs(
            vec![RevisionInput::Bytes {
                path: PathBuf::from("a.py"),
                display: "a.py".to_owned(),
                bytes,
            }],
            &mut sources,
            LoadOptions::default(),
        );
        assert!(loaded.revisions.is_empty());
        assert_eq!(loaded.findings.len(), 1, "{:#?}", loaded.findings);
        let finding = &loaded.findings[0];
        assert_eq!(
            finding.message,
            "a.py contains a NUL byte (line 3, column 6): it is not Python source"
        );
        let span = &finding.primary.as_ref().expect("located").span;
        let text = &sources.get(span.file).text;
        assert!(!text.starts_with('\u{feff}'));
        assert_eq!(
            &text[span.range.start as usize..span.range.end as usize],
            "\0"
        );
    }

    #[test]
    fn unsupported_encoding_points_at_the_coding_line() {
        let (message, line, _) = broken_case("broken_unsupported_encoding");
        assert_eq!(line, 1);
        assert!(message.contains("`shift_jis`"), "{message}");
    }

    #[test]
    fn a_file_without_revision() {
        let (message, line, _) = broken_case("broken_no_revision");
        assert_eq!(line, 1);
        assert!(message.contains("defines no `revision`"), "{message}");
    }

    #[test]
    fn unresolvable_revision_and_down_revision() {
        let (message, line, _) = broken_case("broken_unresolved_revision");
        assert_eq!(line, 9, "{message}");
        assert!(
            message.contains("`uuid.uuid4().hex[:12]` is not a literal"),
            "{message}"
        );
        let (message, line, _) = broken_case("broken_unresolved_down_revision");
        assert_eq!(line, 10, "{message}");
        assert!(
            message.contains("`latest_revision()` is not a literal"),
            "{message}"
        );
    }

    // Finer points, on bytes rather than fixture files.

    fn read(bytes: &[u8]) -> ReadFile {
        read_revision(
            bytes,
            FileId(0),
            &|| "versions/x.py".to_owned(),
            LoadOptions::default(),
        )
    }

    fn read_ok(source: &str) -> Revision {
        let file = read(source.as_bytes());
        assert!(file.findings.is_empty(), "{:#?}", file.findings);
        file.revision.expect("a revision")
    }

    #[test]
    fn tuple_unpacking_reassignment_and_imports() {
        let revision = read_ok("revision, down_revision = 'b', ('a',)\n");
        assert_eq!(
            (revision.id.as_str(), revision.down_revisions.as_slice()),
            ("b", &["a".to_owned()][..])
        );

        // The last assignment wins, as when Python runs the module.
        let revision = read_ok("revision = 'old'\ndown_revision = None\nrevision = 'new'\n");
        assert_eq!(revision.id, "new");

        // A name rebound by an import is no longer the constant.
        let file =
            read(b"BASE = 'a'\nfrom ids import BASE\nrevision = 'b'\ndown_revision = BASE\n");
        assert!(file.revision.is_none());
        assert!(
            file.findings[0].message.contains("`BASE` is not a literal"),
            "{}",
            file.findings[0].message
        );
    }

    #[test]
    fn partly_resolvable_depends_on_keeps_what_resolves() {
        let file = read(
            b"import deps\nrevision = 'b'\ndown_revision = 'a'\ndepends_on = ['x', deps.Y, \"\"]\n",
        );
        let revision = file.revision.expect("revision");
        assert_eq!(revision.depends_on, ["x"]);
        assert_eq!(file.findings.len(), 1);
        assert_eq!(file.findings[0].severity, Severity::Warning);
    }

    #[test]
    fn missing_down_revision_is_an_error() {
        let file = read(b"revision = 'b'\n");
        assert!(file.revision.is_none());
        assert!(
            file.findings[0]
                .message
                .contains("defines no `down_revision`")
        );
    }

    #[test]
    fn cookie_rules_follow_pep_263() {
        // The second line counts only after a blank or comment first line.
        let latin1 = b"#!/usr/bin/env python\n# coding: latin-1\n\"\"\"caf\xe9\"\"\"\nrevision = 'a'\ndown_revision = None\n";
        assert_eq!(
            read(latin1).revision.expect("latin-1").message.as_deref(),
            Some("café")
        );
        let too_late = b"import os\n# coding: latin-1\n\"\"\"caf\xe9\"\"\"\nrevision = 'a'\ndown_revision = None\n";
        assert!(
            read(too_late).revision.is_none(),
            "a cookie after code is ignored"
        );

        let bom_and_latin1 =
            b"\xEF\xBB\xBF# coding: latin-1\nrevision = 'a'\ndown_revision = None\n";
        let file = read(bom_and_latin1);
        assert!(
            file.findings[0].message.contains("byte order mark"),
            "{}",
            file.findings[0].message
        );

        // 0x81 is undefined in cp1252; the offset is the raw byte's.
        let cp1252 = b"# coding: cp1252\n\"\"\"x\x81\"\"\"\n";
        let file = read(cp1252);
        let message = &file.findings[0].message;
        assert!(
            message.contains("byte 0x81 at line 2, column 5 (byte offset 21)"),
            "{message}"
        );
        assert!(
            message.contains("the encoding its coding line declares (cp1252)"),
            "{message}"
        );
    }

    #[test]
    fn bad_utf8_offsets_count_the_bom() {
        let file = read(b"\xEF\xBB\xBFrevision = '\xff'\n");
        let message = &file.findings[0].message;
        assert!(
            message.contains("byte 0xFF at line 1, column 13 (byte offset 15)"),
            "{message}"
        );
        let label = file.findings[0].primary.as_ref().expect("located");
        assert_eq!(
            &file.text[label.span.range.start as usize..label.span.range.end as usize],
            "\u{fffd}"
        );
    }

    #[test]
    fn message_is_the_first_non_empty_docstring_line() {
        let revision = read_ok(
            "\"\"\"\n\n   Add users  \n\nRevision ID: a\n\"\"\"\nrevision = 'a'\ndown_revision = None\n",
        );
        assert_eq!(revision.message.as_deref(), Some("Add users"));
        let revision = read_ok("revision = 'a'\ndown_revision = None\n");
        assert_eq!(revision.message, None);
        assert_eq!(revision.upgrade_span, None);
    }

    #[test]
    fn an_empty_file_is_not_a_revision() {
        let file = read(b"");
        assert!(file.revision.is_none());
        assert_eq!(file.findings.len(), 1);
        assert!(file.findings[0].message.contains("defines no `revision`"));
    }
}
