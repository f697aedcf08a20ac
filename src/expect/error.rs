//! The one error type of the expectations reader. Every error names the file, and where the file
//! could be read, carries it as miette source code with a label at the line and column at fault
//! and a help line saying what to write instead. The command line turns any of them into exit 2.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource};

use crate::source::{LineCol, line_col};

/// What went wrong, for code that needs to tell errors apart (tests, the command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The path does not exist or cannot be read.
    Io,
    /// The file is not UTF-8 text.
    NotUtf8,
    /// The file is not valid YAML.
    Syntax,
    /// A mapping names the same key twice.
    DuplicateKey,
    /// A key the format does not have.
    UnknownKey,
    /// A value of the wrong kind: a list where a mapping belongs, a number where a name belongs.
    WrongShape,
    /// A column type that is not a PostgreSQL type.
    InvalidType,
    /// A rule name that driftlint does not have.
    UnknownRule,
    /// A value of the right kind that is not allowed (`severity: fatal`, `heads: 0`).
    InvalidValue,
    /// No `version:`.
    MissingVersion,
    /// A `version:` other than 1.
    UnsupportedVersion,
    /// The same table declared twice, in one file or in two.
    DuplicateTable,
    /// `heads`, `schema`, `sequences` or a rule's severity set differently in two files.
    ConflictingSetting,
    /// A directory given as the expectations holds no `*.yaml` or `*.yml` file.
    NoFiles,
}

/// An expectations file that cannot be used, with where and why. Boxed so that the `Result`s of
/// the reader stay small.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<ErrorDetails>);

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(driftlint::expectations))]
struct ErrorDetails {
    kind: ErrorKind,
    message: String,
    path: PathBuf,
    #[source_code]
    source_code: Option<NamedSource<Arc<str>>>,
    #[label(collection)]
    labels: Vec<LabeledSpan>,
    #[help]
    help: Option<String>,
    #[related]
    related: Vec<OtherPlace>,
    location: Option<LineCol>,
    /// The other problems of the same read, after this one: a file's every problem is reported
    /// in one run.
    more: Vec<Error>,
    /// Shown after the first problem of the same read.
    nested: bool,
}

/// The other place in another file that an error involves (the first declaration of a table
/// declared twice).
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(severity(Advice))]
pub struct OtherPlace {
    message: String,
    #[source_code]
    source_code: NamedSource<Arc<str>>,
    #[label(collection)]
    labels: Vec<LabeledSpan>,
}

/// A YAML file as the error needs it: its path, the name users see and its text.
#[derive(Clone, Debug)]
pub(crate) struct ErrorFile {
    pub path: PathBuf,
    pub display: String,
    pub text: Arc<str>,
}

impl ErrorFile {
    fn named_source(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(&self.display, self.text.clone()).with_language("yaml")
    }
}

impl Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        // A problem shown after the first one is one more of the same kind: no header of its own.
        if self.0.nested {
            return None;
        }
        self.0.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.0.severity()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.0.help()
    }

    fn url<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.0.url()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.0.labels()
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        let own = self.0.related().into_iter().flatten();
        let more = self.0.more.iter().map(|error| error as &dyn Diagnostic);
        Some(Box::new(own.chain(more)))
    }
}

impl Error {
    /// The problems of one read as one error: the first in the file, with the others after it
    /// (shown as related diagnostics). `problems` is not empty.
    pub(crate) fn all(mut problems: Vec<Error>) -> Self {
        problems.sort_by_key(|error| error.location().map(|at| (at.line, at.column)));
        let mut problems = problems.into_iter();
        let mut first = problems.next().expect("at least one problem");
        let more: Vec<Error> = problems
            .map(|mut error| {
                error.0.nested = true;
                error
            })
            .collect();
        if !more.is_empty() {
            first.0.message = format!(
                "{} (and {} more problem{} in this file, below)",
                first.0.message,
                more.len(),
                if more.len() == 1 { "" } else { "s" }
            );
        }
        first.0.more = more;
        first
    }

    /// Every problem this error reports, the first included.
    pub fn problems(&self) -> impl Iterator<Item = &Error> {
        std::iter::once(self).chain(self.0.more.iter())
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The sentence saying what is wrong (without the location).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The file at fault.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// The 1-based line and character column of the primary label, when there is one.
    pub fn location(&self) -> Option<LineCol> {
        self.0.location
    }

    /// What to write instead.
    pub fn help_text(&self) -> Option<&str> {
        self.0.help.as_deref()
    }

    /// An error about a path that could not be read at all.
    pub(crate) fn io(kind: ErrorKind, path: &Path, message: String, help: Option<String>) -> Self {
        Error(Box::new(ErrorDetails {
            kind,
            message,
            path: path.to_owned(),
            source_code: None,
            labels: Vec::new(),
            help,
            related: Vec::new(),
            location: None,
            more: Vec::new(),
            nested: false,
        }))
    }

    /// An error at `range` in `file`, with `label` saying what is there.
    pub(crate) fn at(
        kind: ErrorKind,
        file: &ErrorFile,
        range: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> Self {
        let at = line_col(&file.text, range.start);
        let mut message = message.into();
        // A place on a line too long to show (miette cannot draw columns past 65,535, and such a
        // line is unreadable anyway) is named in the message instead of drawn.
        let shown = !on_a_long_line(&file.text, &range);
        if !shown {
            message = format!(
                "{message} (at {}:{}:{}; the line is too long to show)",
                file.display, at.line, at.column
            );
        }
        Error(Box::new(ErrorDetails {
            kind,
            message,
            path: file.path.clone(),
            source_code: shown.then(|| file.named_source()),
            labels: if shown {
                vec![LabeledSpan::new_primary_with_span(
                    Some(label.into()),
                    range.start..range.end.max(range.start),
                )]
            } else {
                Vec::new()
            },
            help,
            related: Vec::new(),
            location: Some(at),
            more: Vec::new(),
            nested: false,
        }))
    }

    /// Adds a secondary label in the same file.
    pub(crate) fn also_at(mut self, range: Range<usize>, label: impl Into<String>) -> Self {
        if self.0.source_code.is_none() {
            return self;
        }
        if let Some(source) = &self.0.source_code
            && on_a_long_line(source.inner(), &range)
        {
            return self;
        }
        self.0.labels.push(LabeledSpan::new_with_span(
            Some(label.into()),
            range.start..range.end.max(range.start),
        ));
        self
    }

    /// Adds a place in another file.
    pub(crate) fn also_in(
        mut self,
        file: &ErrorFile,
        range: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        if on_a_long_line(&file.text, &range) {
            return self;
        }
        self.0.related.push(OtherPlace {
            message: message.into(),
            source_code: file.named_source(),
            labels: vec![LabeledSpan::new_primary_with_span(
                Some(label.into()),
                range.start..range.end.max(range.start),
            )],
        });
        self
    }
}

/// The longest line whose places an error draws, in bytes.
const LONGEST_SHOWN_LINE: usize = 4096;

/// Whether `range` starts or ends on a line longer than [`LONGEST_SHOWN_LINE`].
fn on_a_long_line(text: &str, range: &Range<usize>) -> bool {
    let long = |at: usize| {
        let at = at.min(text.len());
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        end - start > LONGEST_SHOWN_LINE
    };
    text.is_char_boundary(range.start.min(text.len()))
        && text.is_char_boundary(range.end.min(text.len()))
        && (long(range.start) || long(range.end))
}
