//! Human output: each finding rendered by miette with the revision or expectations file as
//! its source, the offending span labelled, and the help and fix below it.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, GraphicalReportHandler, LabeledSpan, NamedSource, SourceSpan};

use super::{Summary, rule_url};
use crate::rules::{Finding, Label, Severity};
use crate::source::{FileId, Sources};

/// A finding (or one of its related places in another file) as a miette diagnostic.
struct View {
    message: String,
    code: Option<String>,
    url: Option<String>,
    severity: miette::Severity,
    source: Option<NamedSource<Arc<str>>>,
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

fn named_source(sources: &Sources, file: FileId) -> NamedSource<Arc<str>> {
    let f = sources.get(file);
    let language = if f.display.ends_with(".py") {
        "Python"
    } else {
        "YAML"
    };
    NamedSource::new(f.display.clone(), f.text.clone()).with_language(language)
}

fn labeled(label: &Label, primary: bool) -> LabeledSpan {
    let span = SourceSpan::from(
        label.span.range.start as usize..label.span.range.end.max(label.span.range.start) as usize,
    );
    if primary {
        LabeledSpan::new_primary_with_span(Some(label.text.clone()), span)
    } else {
        LabeledSpan::new_with_span(Some(label.text.clone()), span)
    }
}

fn view(sources: &Sources, f: &Finding) -> View {
    let severity = match f.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    };
    let mut labels = Vec::new();
    let mut related = Vec::new();
    let primary_file = f.primary.as_ref().map(|l| l.span.file);
    if let Some(p) = &f.primary {
        labels.push(labeled(p, true));
    }
    for r in &f.related {
        if Some(r.span.file) == primary_file {
            labels.push(labeled(r, false));
        } else {
            related.push(View {
                message: r.text.clone(),
                code: None,
                url: None,
                severity: miette::Severity::Advice,
                source: Some(named_source(sources, r.span.file)),
                labels: vec![labeled(r, true)],
                help: None,
                related: Vec::new(),
            });
        }
    }
    View {
        message: f.message.clone(),
        code: Some(f.rule.name().to_owned()),
        url: Some(rule_url(f.rule.name())),
        severity,
        source: primary_file.map(|file| named_source(sources, file)),
        labels,
        help: f.help.clone(),
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
    let mut out = String::new();
    for f in findings {
        let v = view(sources, f);
        if handler.render_report(&mut out, &v).is_err() {
            out.push_str(&format!("{}: {}\n", f.rule.name(), f.message));
        }
        // The fix goes below the diagnostic, unwrapped: SQL and Python must stay copyable.
        if let Some(fix) = &f.fix {
            let kind = match fix.safety {
                crate::fix::Safety::Safe => "fix",
                crate::fix::Safety::Destructive => "fix (DESTRUCTIVE: can lose data)",
                crate::fix::Safety::ReviewOnly => "fix (for review)",
            };
            out.push_str(&format!("  {kind}: {}\n", fix.title));
            for line in &fix.sql {
                for l in line.lines() {
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
