//! What the reader could not read in a revision file, as `unparsable-migration` findings: the
//! file is not valid Python, not decodable, too large, too deep, or has no `revision` (or
//! `down_revision`) that can be resolved. A `branch_labels` or `depends_on` value that is not a
//! literal is the same rule at warning severity: the file is read, but the graph may miss what
//! that value holds. The rule (`rules::unparsable_migration`) hands these findings on.

use crate::diagnostic::{Finding, FindingSource, Rule, Severity};
use crate::source::Span;

fn finding(message: String) -> Finding {
    Finding::new(
        Rule::UnparsableMigration,
        FindingSource::Migrations,
        message,
    )
}

/// The parser refused the file; `parser_message` is its explanation.
pub fn syntax_error(span: Span, path: &str, parser_message: &str) -> Finding {
    finding(format!("{path} is not valid Python: {parser_message}"))
        .at(span, parser_message.to_owned())
        .help(
            "fix the syntax error; Alembic cannot import this file either, so `alembic upgrade` \
             fails on it too",
        )
}

/// Where a file stops being decodable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadByte {
    pub byte: u8,
    /// Bytes from the start of the file.
    pub offset: usize,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

/// The file's bytes are not valid in the encoding it declares (UTF-8 when it declares none).
pub fn undecodable(
    span: Span,
    path: &str,
    encoding: &str,
    declared: bool,
    bad: BadByte,
) -> Finding {
    let BadByte {
        byte,
        offset,
        line,
        column,
    } = bad;
    let declaration = if declared {
        format!("the encoding its coding line declares ({encoding})")
    } else {
        format!("{encoding}, and it declares no other encoding")
    };
    finding(format!(
        "{path} is not valid {declaration}: byte 0x{byte:02X} at line {line}, column {column} \
         (byte offset {offset})"
    ))
    .at(span, format!("byte 0x{byte:02X} is not valid {encoding}"))
    .help(
        "save the file as UTF-8, or declare its real encoding in its first or second line, for \
         example `# -*- coding: latin-1 -*-`",
    )
}

/// The file declares an encoding driftlint does not decode.
pub fn unsupported_encoding(span: Span, path: &str, encoding: &str) -> Finding {
    finding(format!(
        "{path} declares the encoding `{encoding}`, which driftlint cannot decode"
    ))
    .at(span, "this coding line")
    .help("save the file as UTF-8 and remove the coding line (or declare utf-8, latin-1 or cp1252)")
}

/// The file starts with a UTF-8 byte order mark but declares another encoding, which Python
/// refuses.
pub fn bom_with_other_encoding(span: Span, path: &str, encoding: &str) -> Finding {
    finding(format!(
        "{path} starts with a UTF-8 byte order mark but declares the encoding `{encoding}`"
    ))
    .at(span, "this coding line")
    .help("remove the byte order mark or declare `coding: utf-8`; Python refuses the file as it is")
}

/// The file could not be read at all.
pub fn unreadable(span: Span, path: &str, error: &std::io::Error) -> Finding {
    finding(format!("{path} cannot be read: {error}"))
        .at(span, "this file")
        .help("check that the file exists and that driftlint may read it")
}

/// The file is larger than the `max-file-size` setting allows; it was not read.
pub fn too_large(span: Span, path: &str, size: u64, limit: u64) -> Finding {
    finding(format!(
        "{path} is {} bytes, more than the {limit}-byte limit for a revision file; it was not read",
        size
    ))
    .at(span, "this file")
    .help(format!(
        "a revision file this large is almost certainly not a migration (generated data?); move \
         the data out of it, or raise the limit with `max-file-size = {}` in [tool.driftlint] of \
         pyproject.toml (in bytes)",
        size.next_power_of_two()
    ))
}

/// The file holds a NUL byte, which Python source never does ("source code cannot contain null
/// bytes").
pub fn nul_byte(span: Span, path: &str, line: usize, column: usize) -> Finding {
    finding(format!(
        "{path} contains a NUL byte (line {line}, column {column}): it is not Python source"
    ))
    .at(span, "a NUL byte")
    .help(
        "Python refuses source code that contains null bytes, so Alembic cannot import this \
         file either; restore the file from version control, or move it out of the versions \
         directory if it is not a revision",
    )
}

/// The file nests statements or expressions deeper than driftlint reads.
pub fn nested_too_deep(span: Span, path: &str, limit: usize) -> Finding {
    finding(format!(
        "{path} has an expression nested deeper than {limit} levels; driftlint does not read it"
    ))
    .at(span, format!("nested deeper than {limit} levels"))
    .help(
        "Python itself refuses to compile much deeper nesting (\"maximum recursion depth \
         exceeded during compilation\"); write the expression in steps, or build the data with \
         a loop",
    )
}

/// The module assigns no `revision` (or `down_revision`) at its top level.
pub fn missing_variable(span: Span, path: &str, variable: &str) -> Finding {
    finding(format!(
        "{path} defines no `{variable}` at module level, so it is not an Alembic revision"
    ))
    .at(span, format!("no `{variable} = ...` in this file"))
    .help(format!(
        "add `{variable} = \"...\"` at the top level of the file (Alembic reads the module \
         variable, not the docstring), or move the file out of the versions directory if it \
         is not a revision"
    ))
}

/// `revision` or `down_revision` holds something driftlint cannot turn into revision ids
/// without running Python, or something of the wrong shape; `detail` says what, naming the
/// expression (`` `make_id()` is not a literal``).
pub fn unresolved_required(span: Span, path: &str, variable: &str, detail: &str) -> Finding {
    finding(format!("{path}: cannot read `{variable}`: {detail}"))
        .at(span, format!("`{variable}` is assigned here"))
        .help(format!(
            "write `{variable}` as a string literal (a tuple of string literals for a merge), as \
             `alembic revision` generates it"
        ))
}

/// `branch_labels` or `depends_on` holds values driftlint cannot resolve; the rest of the file
/// is read, at warning severity, since the graph may lack what those values name.
pub fn unresolved_optional(
    span: Span,
    path: &str,
    revision: &str,
    variable: &str,
    unresolved: &[&str],
) -> Finding {
    let values = unresolved
        .iter()
        .map(|text| format!("`{text}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut f = finding(format!(
        "{path}: `{variable}` of revision {revision} cannot be fully read without running \
         Python ({values} is not a literal); the revision graph may be incomplete"
    ))
    .at(span, format!("`{variable}` is not a literal here"))
    .revision(revision.to_owned())
    .help(format!(
        "write `{variable}` with string literals (for example `{variable} = (\"expand\",)`) so \
         that tools that read revision files without importing them see its values"
    ));
    f.severity = Severity::Warning;
    f
}
