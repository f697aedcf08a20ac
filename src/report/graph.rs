//! Renderings of the revision graph for `driftlint graph` and `driftlint heads`.

use std::fmt::Write;

use serde::Serialize;

use super::escape_line;
use crate::alembic::Revision;
use crate::graph::{EdgeKind, RevisionGraph};
use crate::source::Sources;

/// `alembic heads` style: `<revision> (<label>, …) (head)`, the label part only where the head
/// carries branch labels.
pub fn heads(revisions: &[Revision], graph: &RevisionGraph) -> String {
    let mut out = String::new();
    for &h in &graph.heads {
        let r = &revisions[h];
        let labels = crate::rules::branch_labels_of(revisions, graph, h);
        if labels.is_empty() {
            let _ = writeln!(out, "{} (head)", escape_line(&r.id));
        } else {
            let labels: Vec<String> = labels.into_iter().collect();
            let _ = writeln!(
                out,
                "{} ({}) (head)",
                escape_line(&r.id),
                escape_line(&labels.join(", "))
            );
        }
    }
    out
}

/// One line per revision, newest first, as `alembic history` prints it:
/// `<down> -> <rev> (head) (branchpoint) (mergepoint), <message>`.
pub fn text(sources: &Sources, revisions: &[Revision], graph: &RevisionGraph) -> String {
    let mut out = String::new();
    let order = graph.topological_order();
    for &i in order.iter().rev() {
        let r = &revisions[i];
        let down = if r.down_revisions.is_empty() {
            "<base>".to_owned()
        } else {
            r.down_revisions.join(", ")
        };
        let mut tags = String::new();
        if graph.heads.contains(&i) {
            tags.push_str(" (head)");
        }
        if graph.children(i, EdgeKind::Down).len() > 1 {
            tags.push_str(" (branchpoint)");
        }
        if r.down_revisions.len() > 1 {
            tags.push_str(" (mergepoint)");
        }
        if !r.branch_labels.is_empty() {
            let _ = write!(tags, " ({})", r.branch_labels.join(", "));
        }
        let deps = if r.depends_on.is_empty() {
            String::new()
        } else {
            format!(" [depends on {}]", r.depends_on.join(", "))
        };
        let line = format!(
            "{down} -> {}{tags}{deps}, {}  [{}]",
            r.id,
            r.message.as_deref().unwrap_or(""),
            sources.get(r.file).display
        );
        let _ = writeln!(out, "{}", escape_line(&line));
    }
    out
}

fn dot_quote(s: &str) -> String {
    let s = escape_line(s);
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Graphviz: solid edges for `down_revision`, dashed for `depends_on`, heads double-circled.
pub fn dot(revisions: &[Revision], graph: &RevisionGraph) -> String {
    let mut out = String::from("digraph revisions {\n  rankdir=BT;\n  node [shape=box];\n");
    for (i, r) in revisions.iter().enumerate() {
        if graph.index_of(&r.id) != Some(i) {
            continue;
        }
        let mut label = escape_line(&r.id)
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        if let Some(m) = &r.message {
            label.push_str("\\n");
            label.push_str(&escape_line(m).replace('\\', "\\\\").replace('"', "\\\""));
        }
        let style = if graph.heads.contains(&i) {
            ", peripheries=2"
        } else {
            ""
        };
        let _ = writeln!(out, "  {} [label=\"{}\"{style}];", dot_quote(&r.id), label);
    }
    for e in graph.dag.edge_indices() {
        let (a, b) = graph.dag.edge_endpoints(e).expect("edge index is valid");
        let style = match graph.dag[e] {
            EdgeKind::Down => "",
            EdgeKind::DependsOn => " [style=dashed, label=\"depends_on\"]",
        };
        let _ = writeln!(
            out,
            "  {} -> {}{style};",
            dot_quote(&revisions[graph.dag[b]].id),
            dot_quote(&revisions[graph.dag[a]].id)
        );
    }
    out.push_str("}\n");
    out
}

/// Mermaid flowchart, child pointing at parent as in `dot`.
pub fn mermaid(revisions: &[Revision], graph: &RevisionGraph) -> String {
    let node = |i: usize| format!("r{i}");
    let mut out = String::from("flowchart BT\n");
    for (i, r) in revisions.iter().enumerate() {
        if graph.index_of(&r.id) != Some(i) {
            continue;
        }
        let mut label = escape_line(&r.id).into_owned();
        if let Some(m) = &r.message {
            label.push_str("<br/>");
            label.push_str(&escape_line(m));
        }
        let label = label.replace('"', "#quot;");
        if graph.heads.contains(&i) {
            let _ = writeln!(out, "  {}([\"{label}\"])", node(i));
        } else {
            let _ = writeln!(out, "  {}[\"{label}\"]", node(i));
        }
    }
    for e in graph.dag.edge_indices() {
        let (a, b) = graph.dag.edge_endpoints(e).expect("edge index is valid");
        let arrow = match graph.dag[e] {
            EdgeKind::Down => "-->",
            EdgeKind::DependsOn => "-.->|depends_on|",
        };
        let _ = writeln!(
            out,
            "  {} {arrow} {}",
            node(graph.dag[b]),
            node(graph.dag[a])
        );
    }
    out
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    revisions: Vec<JsonRevision<'a>>,
    heads: Vec<&'a str>,
    bases: Vec<&'a str>,
}

#[derive(Serialize)]
struct JsonRevision<'a> {
    revision: &'a str,
    down_revisions: &'a [String],
    branch_labels: &'a [String],
    depends_on: &'a [String],
    path: &'a str,
    message: Option<&'a str>,
}

/// SPEC.md's shape: `{"revisions": [...], "heads": [...], "bases": [...]}`.
pub fn json(sources: &Sources, revisions: &[Revision], graph: &RevisionGraph) -> String {
    let g = JsonGraph {
        revisions: revisions
            .iter()
            .map(|r| JsonRevision {
                revision: &r.id,
                down_revisions: &r.down_revisions,
                branch_labels: &r.branch_labels,
                depends_on: &r.depends_on,
                path: &sources.get(r.file).display,
                message: r.message.as_deref(),
            })
            .collect(),
        heads: graph
            .heads
            .iter()
            .map(|&i| revisions[i].id.as_str())
            .collect(),
        bases: graph
            .bases
            .iter()
            .map(|&i| revisions[i].id.as_str())
            .collect(),
    };
    let mut out =
        super::json_safe(serde_json::to_string_pretty(&g).expect("graph structs serialise"));
    out.push('\n');
    out
}
