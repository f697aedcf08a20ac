//! Human output: each finding rendered by miette with the revision or expectations file as
//! its source, the offending span labelled, and the help and fix below it.

use miette::{Diagnostic, GraphicalReportHandler, LabeledSpan, SourceSpan};
use std::fmt;

use super::{
    Positions, Summary, escape_line, escape_text, escaped_char, floor_char_boundary,
    is_unsafe_char, rule_url,
};
use crate::rules::{Finding, Label, Severity};
use crate::source::{FileId, Sources};

/// A finding (or one of its related places in another file) as a miette diagnostic.
struct View {
    message: String,
    code: Option<String>,
    url: Option<String>,
    severity: miette::Severity,
    source: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    related: Vec<View>,
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View {}

impl Diagnostic for View {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.url
            .as_ref()
            .map(|u| Box::new(u) as Box<dyn fmt::Display>)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|v| v as &dyn Diagnostic)))
        }
    }
}

/// Longest stretch of one source line shown, in characters: a longer line is shown as a window
/// around the labelled span, with `…` where it was cut. This keeps the output of a finding
/// bounded whatever the line (a 100 KB `down_revision` tuple), and every column small enough
/// for the formatter.
const WINDOW_CHARS: usize = 120;
/// Characters kept before the labelled span when a line is cut.
const WINDOW_BEFORE: usize = 40;
/// Lines of a multi-line span shown; the label is cut after them.
const MAX_SPAN_LINES: usize = 8;
const ELLIPSIS: &str = "…";

/// The part of a file a diagnostic shows: the lines around its labels (one line of context on
/// either side), long lines cut to a window, control characters written visibly. Labels are
/// given offsets into this text; line numbers and the header's line and column are the file's.
struct Excerpt {
    name: String,
    language: &'static str,
    text: String,
    /// Runs of consecutive file lines, in the order they appear in `text`.
    segments: Vec<Segment>,
    /// The file position of each label's start, by its offset in `text`.
    anchors: Vec<(usize, crate::source::LineCol)>,
}

struct Segment {
    /// Where the segment starts in `text`, and its length (its lines with their `\n`).
    base: usize,
    len: usize,
    /// The 0-based file line of its first line.
    first_line: usize,
}

/// One file line as shown: the byte window `[from, to)` of the file's text, and where it
/// starts in the excerpt (after the `…` when the window does not start at the line's start).
struct ShownLine {
    from: usize,
    to: usize,
    at: usize,
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let offset = span.offset();
        let segment = self
            .segments
            .iter()
            .rev()
            .find(|segment| segment.base <= offset)
            .ok_or(miette::MietteError::OutOfBounds)?;
        let text = &self.text[segment.base..segment.base + segment.len];
        let local_offset = (offset - segment.base).min(text.len());
        let local = SourceSpan::from(local_offset..(local_offset + span.len()).min(text.len()));
        let inner = text.read_span(&local, context_lines_before, context_lines_after)?;
        let (line, column) = match self.anchors.iter().find(|(at, _)| *at == offset) {
            Some((_, position)) if context_lines_before == 0 && context_lines_after == 0 => {
                (position.line - 1, position.column - 1)
            }
            _ => (inner.line() + segment.first_line, inner.column()),
        };
        let contents = miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::from(
                inner.span().offset() + segment.base
                    ..inner.span().offset() + segment.base + inner.span().len(),
            ),
            line,
            column,
            inner.line_count(),
        )
        .with_language(self.language);
        Ok(Box::new(contents))
    }
}

/// Builds the excerpt of `file` for `labels` (each a label and whether it is the primary one),
/// and the labels with offsets into it.
fn excerpt(
    positions: &Positions<'_>,
    file: FileId,
    labels: &[(&Label, bool)],
) -> (Excerpt, Vec<LabeledSpan>) {
    let source = positions.sources().get(file);
    let text: &str = &source.text;
    let index = positions.index(file);
    // A final line break ends the last line; it does not start an empty one.
    let last_line = if text.ends_with('\n') && index.lines() > 1 {
        index.lines() - 2
    } else {
        index.lines() - 1
    };
    // Each label's byte range, cut after MAX_SPAN_LINES lines, and its lines.
    let spans: Vec<(usize, usize, usize, usize)> = labels
        .iter()
        .map(|(label, _)| {
            let start = floor_char_boundary(text, label.span.range.start as usize);
            let mut end = floor_char_boundary(text, label.span.range.end as usize).max(start);
            let first = index.line_of(start).min(last_line);
            let mut last = index.line_of(end).min(last_line);
            if last >= first + MAX_SPAN_LINES {
                last = first + MAX_SPAN_LINES - 1;
                end = index.line_range(text, last).end;
            }
            (start, end, first, last)
        })
        .collect();
    // The lines to show: each label's, with one line of context, merged where they touch.
    let mut ranges: Vec<(usize, usize)> = spans
        .iter()
        .map(|&(_, _, first, last)| (first.saturating_sub(1), (last + 1).min(last_line)))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (from, to) in ranges {
        match merged.last_mut() {
            Some(last) if from <= last.1 + 1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    let mut out = String::new();
    let mut segments = Vec::new();
    let mut shown: std::collections::HashMap<usize, ShownLine> = Default::default();
    for (from, to) in merged {
        let base = out.len();
        for line in from..=to {
            let range = index.line_range(text, line);
            let (window_from, window_to) = window(text, &index, range.clone(), line, &spans);
            if window_from > range.start {
                out.push_str(ELLIPSIS);
            }
            let at = out.len();
            push_escaped(&mut out, &text[window_from..window_to]);
            if window_to < range.end {
                out.push_str(ELLIPSIS);
            }
            out.push('\n');
            shown.insert(
                line,
                ShownLine {
                    from: window_from,
                    to: window_to,
                    at,
                },
            );
        }
        segments.push(Segment {
            base,
            len: out.len() - base,
            first_line: from,
        });
    }
    let map = |offset: usize, line: usize| -> usize {
        let shown = &shown[&line];
        let offset = offset.clamp(shown.from, shown.to);
        shown.at + escaped_len(&text[shown.from..offset])
    };
    let mut anchors = Vec::new();
    let mut labeled_spans = Vec::new();
    for ((label, primary), &(start, end, first, last)) in labels.iter().zip(&spans) {
        let from = map(start, first);
        let to = map(end, last).max(from);
        anchors.push((from, positions.line_col(file, start as u32)));
        let span = SourceSpan::from(from..to);
        let text = Some(escape_text(&label.text).into_owned());
        labeled_spans.push(if *primary {
            LabeledSpan::new_primary_with_span(text, span)
        } else {
            LabeledSpan::new_with_span(text, span)
        });
    }
    let language = if source.display.ends_with(".py") {
        "Python"
    } else {
        "YAML"
    };
    (
        Excerpt {
            name: escape_line(&source.display).into_owned(),
            language,
            text: out,
            segments,
            anchors,
        },
        labeled_spans,
    )
}

/// The byte window of `line` (byte range `range`) to show: the whole line when it is short,
/// otherwise WINDOW_CHARS characters starting a little before the first label that starts (or
/// else ends) on it.
fn window(
    text: &str,
    index: &crate::report::LineIndex,
    range: std::ops::Range<usize>,
    line: usize,
    spans: &[(usize, usize, usize, usize)],
) -> (usize, usize) {
    let chars = index.chars_to(text, range.end) - index.chars_to(text, range.start);
    if chars <= WINDOW_CHARS {
        return (range.start, range.end);
    }
    let focus = spans
        .iter()
        .filter(|span| span.2 == line)
        .map(|span| span.0)
        .min()
        .or_else(|| {
            spans
                .iter()
                .filter(|span| span.3 == line)
                .map(|span| span.1)
                .min()
        })
        .unwrap_or(range.start)
        .clamp(range.start, range.end);
    let line_text = &text[range.clone()];
    let focus_local = focus - range.start;
    // Up to WINDOW_BEFORE characters before the focus.
    let from = line_text[..focus_local]
        .char_indices()
        .rev()
        .nth(WINDOW_BEFORE - 1)
        .map_or(0, |(at, _)| at);
    let to = line_text[from..]
        .char_indices()
        .nth(WINDOW_CHARS)
        .map_or(line_text.len(), |(at, _)| from + at);
    // Near the end of the line, show a full window all the same.
    let from = if to == line_text.len() {
        line_text[..to]
            .char_indices()
            .rev()
            .nth(WINDOW_CHARS - 1)
            .map_or(0, |(at, _)| at)
            .min(from)
    } else {
        from
    };
    (range.start + from, range.start + to)
}

/// `text` with unsafe characters written visibly (tabs kept: the renderer expands them).
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        if c != '\t' && is_unsafe_char(c) {
            out.push_str(&escaped_char(c));
        } else {
            out.push(c);
        }
    }
}

fn escaped_len(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if c != '\t' && is_unsafe_char(c) {
                escaped_char(c).len()
            } else {
                c.len_utf8()
            }
        })
        .sum()
}

fn view(positions: &Positions<'_>, f: &Finding) -> View {
    let severity = match f.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    };
    let primary_file = f.primary.as_ref().map(|l| l.span.file);
    let mut in_primary: Vec<(&Label, bool)> = Vec::new();
    let mut related = Vec::new();
    if let Some(p) = &f.primary {
        in_primary.push((p, true));
    }
    for r in &f.related {
        if Some(r.span.file) == primary_file {
            in_primary.push((r, false));
        } else {
            let (source, labels) = excerpt(positions, r.span.file, &[(r, true)]);
            related.push(View {
                message: escape_text(&r.text).into_owned(),
                code: None,
                url: None,
                severity: miette::Severity::Advice,
                source: Some(source),
                labels,
                help: None,
                related: Vec::new(),
            });
        }
    }
    let (source, labels) = match primary_file {
        Some(file) => {
            let (source, labels) = excerpt(positions, file, &in_primary);
            (Some(source), labels)
        }
        None => (None, Vec::new()),
    };
    View {
        message: escape_text(&f.message).into_owned(),
        code: Some(f.rule.name().to_owned()),
        url: Some(rule_url(f.rule.name())),
        severity,
        source,
        labels,
        help: f.help.as_deref().map(|help| escape_text(help).into_owned()),
        related,
    }
}

/// Renders findings for a terminal; `color` picks colours and Unicode art, otherwise plain
/// ASCII-safe output. `width` is the terminal width.
pub fn render(sources: &Sources, findings: &[Finding], color: bool, width: usize) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false)
        .with_urls(false);
    let positions = Positions::new(sources);
    let mut out = String::new();
    for f in findings {
        let v = view(&positions, f);
        if handler.render_report(&mut out, &v).is_err() {
            out.push_str(&format!("{}: {}\n", f.rule.name(), escape_text(&f.message)));
        }
        // The fix goes below the diagnostic, unwrapped: SQL and Python must stay copyable.
        if let Some(fix) = &f.fix {
            let kind = match fix.safety {
                crate::fix::Safety::Safe => "fix",
                crate::fix::Safety::Destructive => "fix (DESTRUCTIVE: can lose data)",
                crate::fix::Safety::ReviewOnly => "fix (for review)",
            };
            out.push_str(&format!("  {kind}: {}\n", escape_line(&fix.title)));
            for line in &fix.sql {
                for l in escape_text(line).lines() {
                    out.push_str("      ");
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        out.push('\n');
    }
    let s = Summary::of(findings);
    if findings.is_empty() {
        out.push_str("driftlint: no findings\n");
    } else {
        out.push_str(&format!(
            "driftlint: {} error{}, {} warning{}, {} info\n",
            s.error,
            if s.error == 1 { "" } else { "s" },
            s.warning,
            if s.warning == 1 { "" } else { "s" },
            s.info
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{FindingSource, Rule};
    use crate::source::Span;
    use std::sync::Arc;

    fn sources_with(name: &str, text: &str) -> (Sources, FileId) {
        let mut sources = Sources::new();
        let file = sources.add_displayed(name.into(), name.to_owned(), Arc::from(text));
        (sources, file)
    }

    fn finding_at(file: FileId, range: std::ops::Range<usize>, message: &str) -> Finding {
        Finding::new(Rule::MissingParent, FindingSource::Migrations, message).at(
            Span::new(file, range.start as u32..range.end as u32),
            "here",
        )
    }

    #[test]
    fn a_span_past_column_65536_renders_a_window_with_the_true_column() {
        let text = format!(
            "revision = 'a1'\nx = '{}'; down_revision = 'missing'\n",
            "a".repeat(70_000)
        );
        let start = text.find("'missing'").unwrap();
        let (sources, file) = sources_with("versions/a1.py", &text);
        let out = render(
            &sources,
            &[finding_at(file, start..start + 9, "no such parent")],
            false,
            100,
        );
        let column = crate::source::line_col(&text, start).column;
        assert!(column > 65_536);
        assert!(
            out.contains(&format!("[versions/a1.py:2:{column}]")),
            "{out}"
        );
        assert!(out.contains("…"), "{out}");
        assert!(out.contains("down_revision = 'missing'"), "{out}");
        assert!(out.len() < 2_000, "{} bytes:\n{out}", out.len());
    }

    #[test]
    fn many_findings_in_one_long_line_give_output_linear_in_the_findings() {
        let ids: Vec<String> = (0..2_000).map(|i| format!("'m{i:05}'")).collect();
        let text = format!("revision = 'a1'\ndown_revision = ({})\n", ids.join(", "));
        let (sources, file) = sources_with("versions/a1.py", &text);
        let findings: Vec<Finding> = ids
            .iter()
            .map(|id| {
                let at = text.find(id.as_str()).unwrap();
                finding_at(file, at..at + id.len(), &format!("parent {id} is missing"))
            })
            .collect();
        let out = render(&sources, &findings, false, 100);
        // Each finding shows at most a window of the 20 KB line.
        assert!(
            out.len() < findings.len() * 1_500,
            "{} bytes for {} findings",
            out.len(),
            findings.len()
        );
        let last = out.rfind("parent 'm01999' is missing").unwrap();
        assert!(out[last..].contains("'m01999')"), "{}", &out[last..]);
        assert!(out.contains("[versions/a1.py:2:"), "{}", &out[..2000]);
    }

    #[test]
    fn a_multi_line_span_shows_a_bounded_number_of_lines() {
        let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let (sources, file) = sources_with("big.yaml", &text);
        let out = render(
            &sources,
            &[finding_at(file, 0..text.len(), "all")],
            false,
            100,
        );
        assert!(out.contains("line 7"), "{out}");
        assert!(!out.contains("line 9 "), "{out}");
        assert!(out.lines().count() < 30, "{out}");
    }

    #[test]
    fn labels_far_apart_in_one_file_keep_their_line_numbers() {
        let text: String = (1..=200).map(|i| format!("line {i}\n")).collect();
        let at = |n: usize| text.find(&format!("line {n}\n")).unwrap();
        let (sources, file) = sources_with("v.py", &text);
        let finding = finding_at(file, at(10)..at(10) + 7, "first").related(
            Span::new(file, at(150) as u32..at(150) as u32 + 8),
            "second",
        );
        let out = render(&sources, &[finding], false, 100);
        assert!(out.contains("[v.py:10:1]"), "{out}");
        assert!(out.contains(" 10 │ line 10\n"), "{out}");
        assert!(out.contains("150 │ line 150\n"), "{out}");
        assert!(out.contains("151 │ line 151\n"), "{out}");
        assert!(!out.contains("line 100"), "{out}");
    }

    #[test]
    fn control_characters_from_outside_text_are_escaped_in_human_output() {
        let text = "revision = 'a\u{1b}[2J\u{7}'\ndown_revision = 'x\u{202e}y'\n";
        let (sources, file) = sources_with("versions/\u{1b}]0;t\u{7}.py", text);
        let finding = finding_at(
            file,
            17..30,
            "revision a\u{1b}[2J\u{7} names x\u{202e}y\u{9b}\u{7f}\r",
        )
        .help("restore \u{1b}[31m");
        let out = render(&sources, &[finding], true, 100);
        // The colour theme's own escapes are there; none of the input's.
        for bad in [
            "\u{1b}[2J",
            "\u{1b}]0;",
            "\u{7}",
            "\u{202e}",
            "\u{9b}",
            "\u{7f}",
            "\r",
        ] {
            assert!(!out.contains(bad), "{bad:?} reached the output: {out:?}");
        }
        let plain = render(&sources, &[finding_at(file, 17..30, "m")], false, 100);
        assert!(plain.contains("versions/\\x1b]0;t\\x07.py"), "{plain}");
        assert!(plain.contains("'a\\x1b[2J\\x07'"), "{plain}");
        assert!(plain.contains("x\\u{202e}y"), "{plain}");
        assert!(out.contains("\\x9b\\x7f\\x0d"), "{out}");
    }
}
