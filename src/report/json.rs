//! `--format json`: SPEC.md's shape. New fields may be added; none renamed or removed.

use serde::Serialize;

use super::{Positions, Summary, VERSION};
use crate::rules::Finding;
use crate::source::Sources;

#[derive(Serialize)]
struct Report<'a> {
    driftlint: &'static str,
    findings: Vec<JsonFinding<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    severity: &'static str,
    source: &'static str,
    message: &'a str,
    location: Option<Location<'a>>,
    object: Option<Object<'a>>,
    revision: Option<&'a str>,
    fix: Option<JsonFix>,
    help: Option<&'a str>,
    related: Vec<Related<'a>>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct Related<'a> {
    message: &'a str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Object<'a> {
    schema: &'a str,
    table: &'a str,
    column: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonFix {
    title: String,
    /// SQL (statements, comments, psql guards), or null: never Python.
    sql: Option<String>,
    /// The operation for a new migration, or null.
    migration: Option<String>,
    destructive: bool,
    /// `safe`, `destructive` or `review` (a snippet for a new migration, not SQL to run).
    safety: &'static str,
}

#[derive(Serialize)]
struct JsonSummary {
    error: usize,
    warning: usize,
    info: usize,
}

fn location<'a>(positions: &Positions<'a>, label: &crate::rules::Label) -> Location<'a> {
    let p = positions.place(label);
    Location {
        path: p.path,
        line: p.line,
        column: p.column,
        end_line: p.end_line,
        end_column: p.end_column,
    }
}

pub fn render(sources: &Sources, findings: &[Finding]) -> String {
    let summary = Summary::of(findings);
    let positions = Positions::new(sources);
    let report = Report {
        driftlint: VERSION,
        findings: findings
            .iter()
            .map(|f| JsonFinding {
                rule: f.rule.name(),
                severity: f.severity.as_str(),
                source: f.source.as_str(),
                message: &f.message,
                location: f.primary.as_ref().map(|l| location(&positions, l)),
                object: f.object.as_ref().map(|o| Object {
                    schema: &o.schema,
                    table: &o.table,
                    column: o.column.as_deref(),
                }),
                revision: f.revision.as_deref(),
                fix: f.fix.as_ref().map(|fix| {
                    let parts = fix.parts();
                    JsonFix {
                        title: fix.title.clone(),
                        sql: parts.sql,
                        migration: parts.migration,
                        destructive: fix.is_destructive(),
                        safety: match fix.safety {
                            crate::fix::Safety::Safe => "safe",
                            crate::fix::Safety::Destructive => "destructive",
                            crate::fix::Safety::ReviewOnly => "review",
                        },
                    }
                }),
                help: f.help.as_deref(),
                related: f
                    .related
                    .iter()
                    .map(|l| Related {
                        message: &l.text,
                        location: location(&positions, l),
                    })
                    .collect(),
            })
            .collect(),
        summary: JsonSummary {
            error: summary.error,
            warning: summary.warning,
            info: summary.info,
        },
    };
    let mut out =
        super::json_safe(serde_json::to_string_pretty(&report).expect("report structs serialise"));
    out.push('\n');
    out
}
