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
use crate::source::Sources;

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

pub(crate) fn place<'a>(sources: &'a Sources, label: &crate::rules::Label) -> Place<'a> {
    let file = sources.get(label.span.file);
    let start = sources.line_col(label.span.file, label.span.range.start);
    let end = sources.line_col(label.span.file, label.span.range.end);
    Place {
        path: &file.display,
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}
