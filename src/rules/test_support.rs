//! Test helpers for rules: small revision sets written as Python-like headers, so that spans
//! and rendered diagnostics are realistic without parsing real files.

use std::sync::Arc;

use super::{AllowedHeads, Context, Finding, Flavor, RULES, Rule};
use crate::alembic::Revision;
use crate::graph::RevisionGraph;
use crate::source::{Sources, Span};

/// A revision in a test: its id, its down revisions, its depends_on and its branch labels.
pub struct Spec<'a> {
    pub id: &'a str,
    pub down: &'a [&'a str],
    pub depends_on: &'a [&'a str],
    pub labels: &'a [&'a str],
}

pub fn rev<'a>(id: &'a str, down: &'a [&'a str]) -> Spec<'a> {
    Spec {
        id,
        down,
        depends_on: &[],
        labels: &[],
    }
}

impl<'a> Spec<'a> {
    pub fn depends_on(mut self, d: &'a [&'a str]) -> Self {
        self.depends_on = d;
        self
    }
    pub fn labels(mut self, l: &'a [&'a str]) -> Self {
        self.labels = l;
        self
    }
}

fn py_list(items: &[&str]) -> String {
    match items {
        [] => "None".to_owned(),
        [one] => format!("{one:?}"),
        many => format!(
            "({})",
            many.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Builds the sources and revisions of a test project: one file per spec, named
/// `versions/<n>_<id>.py`.
pub fn project(specs: &[Spec<'_>]) -> (Sources, Vec<Revision>) {
    let mut sources = Sources::new();
    let mut revisions = Vec::new();
    for (n, s) in specs.iter().enumerate() {
        let header = [
            format!("\"\"\"revision {}\"\"\"\n", s.id),
            format!("revision = {:?}\n", s.id),
            format!("down_revision = {}\n", py_list(s.down)),
            format!("branch_labels = {}\n", py_list(s.labels)),
            format!("depends_on = {}\n", py_list(s.depends_on)),
        ];
        let text: String = header.concat();
        let mut spans = Vec::new();
        let mut offset = 0u32;
        for line in &header {
            let len = line.len() as u32 - 1;
            spans.push(offset..offset + len);
            offset += line.len() as u32;
        }
        let file = sources.add(
            std::path::PathBuf::from(format!("versions/{n:02}_{}.py", s.id)),
            Arc::from(text),
        );
        let span = |i: usize| Span::new(file, spans[i].clone());
        revisions.push(Revision {
            id: s.id.to_owned(),
            down_revisions: s.down.iter().map(|x| x.to_string()).collect(),
            branch_labels: s.labels.iter().map(|x| x.to_string()).collect(),
            depends_on: s.depends_on.iter().map(|x| x.to_string()).collect(),
            message: Some(format!("revision {}", s.id)),
            file,
            id_span: span(1),
            down_span: Some(span(2)),
            branch_labels_span: Some(span(3)),
            depends_on_span: Some(span(4)),
            upgrade_span: None,
            upgrade: Vec::new(),
        });
    }
    (sources, revisions)
}

/// The findings of one rule on a project.
pub fn findings_with(rule: Rule, specs: &[Spec<'_>], allowed: AllowedHeads) -> Vec<Finding> {
    let (sources, revisions) = project(specs);
    let graph = RevisionGraph::build(&revisions);
    let ctx = Context {
        sources: &sources,
        revisions: &revisions,
        graph: &graph,
        allowed_heads: allowed,
        allowed_heads_span: None,
        flavor: Flavor::Alembic,
        input_findings: &[],
        expectations: None,
        head_schema: None,
        replay_problems: &[],
        live: None,
    };
    let mut out = Vec::new();
    super::run_one(rule, &ctx, &mut out);
    out
}

pub fn findings(rule: Rule, specs: &[Spec<'_>]) -> Vec<Finding> {
    findings_with(rule, specs, AllowedHeads::default())
}

/// Every rule's findings on a project, as `rule: message` lines, for asserting that a case gives
/// exactly its own finding and nothing else.
pub fn all_findings(specs: &[Spec<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for r in RULES {
        for f in findings(r.rule, specs) {
            out.push(format!("{}: {}", f.rule, f.message));
        }
    }
    out
}

/// Renders findings as the human report does, without colour, at a fixed width.
pub fn render(specs: &[Spec<'_>], findings: &[Finding]) -> String {
    let (sources, _) = project(specs);
    crate::report::human::render(&sources, findings, false, 100)
}
