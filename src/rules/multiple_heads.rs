//! `multiple-heads`: more heads than the expectations allow.
//!
//! Two branches that revise the same parent leave Alembic with several heads, and
//! `alembic upgrade head` refuses to run. The finding names every head with its file, the
//! revision where the branches split, and the exact merge command.

use std::collections::BTreeSet;

use super::{AllowedHeads, Context, Finding, FindingSource, Rule};
use crate::alembic::Revision;
use crate::graph::{EdgeKind, RevisionGraph};

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let heads = &counted_heads(ctx);
    let offending: Vec<usize> = match &ctx.allowed_heads {
        AllowedHeads::Count(n) if heads.len() > *n => heads.clone(),
        AllowedHeads::Count(_) => return,
        AllowedHeads::Labels(allowed) => {
            // Each allowed label may carry one head; a head without an allowed label, or a
            // second head on the same label, is one too many.
            let mut seen = BTreeSet::new();
            let mut bad = Vec::new();
            for &h in heads {
                let labels = labels_of(ctx.revisions, ctx.graph, h);
                match labels.iter().find(|l| allowed.contains(l)) {
                    Some(l) if seen.insert(l.clone()) => {}
                    _ => bad.push(h),
                }
            }
            if bad.is_empty() {
                return;
            }
            heads.clone()
        }
    };
    out.push(finding(ctx, &offending));
}

fn finding(ctx: &Context<'_>, heads: &[usize]) -> Finding {
    let revs = ctx.revisions;
    let describe = |i: usize| {
        let r = &revs[i];
        let labels = labels_of(revs, ctx.graph, i);
        let label_part = if labels.is_empty() {
            String::new()
        } else {
            format!(" ({})", labels.into_iter().collect::<Vec<_>>().join(", "))
        };
        format!("{}{label_part}", r.id)
    };
    let allowed = match &ctx.allowed_heads {
        AllowedHeads::Count(1) => "only one is".to_owned(),
        AllowedHeads::Count(n) => format!("at most {n} are"),
        AllowedHeads::Labels(l) => format!("one per branch label in [{}] is", l.join(", ")),
    };
    let split = split_point_of(ctx.graph, heads);
    let mut message = format!(
        "the migrations have {} heads ({}), but {} allowed",
        heads.len(),
        heads
            .iter()
            .map(|&h| describe(h))
            .collect::<Vec<_>>()
            .join(", "),
        allowed,
    );
    if let Some(s) = split {
        message.push_str(&format!("; the branches split at {}", revs[s].id));
    }
    let ids: Vec<&str> = heads.iter().map(|&h| revs[h].id.as_str()).collect();
    let command = ctx
        .flavor
        .command(&format!("merge -m \"merge heads\" {}", ids.join(" ")));
    let mut help = format!(
        "merge the heads into one with `{command}`, review the new merge revision and commit it"
    );
    if matches!(ctx.allowed_heads, AllowedHeads::Count(_)) {
        help.push_str(
            "; if the branches are meant to stay apart, give each a branch label and list the \
             labels under `heads:` in the expectations",
        );
    }

    // Point at the newest head's `down_revision` line: that is where the second branch grew.
    let (&primary, others) = heads
        .split_last()
        .expect("a multiple-heads finding has at least two heads");
    let primary_rev = &revs[primary];
    let mut f = Finding::new(Rule::MultipleHeads, FindingSource::Migrations, message)
        .at(
            head_span(primary_rev),
            format!("head {} (one of {})", primary_rev.id, heads.len()),
        )
        .revision(primary_rev.id.clone())
        .help(help);
    for &h in others {
        f = f.related(head_span(&revs[h]), format!("head {}", revs[h].id));
    }
    if let Some(s) = split {
        f = f.related(
            revs[s].id_span.clone(),
            format!("the branches split here, at {}", revs[s].id),
        );
    }
    if let Some(span) = &ctx.allowed_heads_span {
        f = f.related(span.clone(), "the number of heads allowed");
    }
    f
}

/// The heads whose history is whole. A head that descends from a missing parent or a cycle is
/// an artefact of that problem, which its own rule reports; counting it here would report one
/// mistake twice.
fn counted_heads(ctx: &Context<'_>) -> Vec<usize> {
    let broken: std::collections::HashSet<usize> = ctx
        .graph
        .missing
        .iter()
        .filter(|m| m.kind == EdgeKind::Down)
        .map(|m| m.child)
        .chain(ctx.graph.cycles.iter().flatten().copied())
        .collect();
    if broken.is_empty() {
        return ctx.graph.heads.clone();
    }
    ctx.graph
        .heads
        .iter()
        .copied()
        .filter(|&h| ctx.graph.ancestors(h).is_disjoint(&broken))
        .collect()
}

fn head_span(rev: &Revision) -> crate::source::Span {
    rev.down_span.clone().unwrap_or_else(|| rev.id_span.clone())
}

/// The newest revision every head descends from, if any.
fn split_point_of(graph: &RevisionGraph, heads: &[usize]) -> Option<usize> {
    let (&first, rest) = heads.split_first()?;
    rest.iter()
        .try_fold(first, |acc, &h| graph.split_point(acc, h))
}

/// The branch labels that apply to a revision: its own and those of its ancestors through
/// `down_revision`, as Alembic lets a label name the whole branch that follows it.
pub(crate) fn labels_of(
    revisions: &[Revision],
    graph: &RevisionGraph,
    index: usize,
) -> BTreeSet<String> {
    let mut labels = BTreeSet::new();
    let mut stack = vec![index];
    let mut seen = std::collections::HashSet::new();
    while let Some(i) = stack.pop() {
        if !seen.insert(i) {
            continue;
        }
        labels.extend(revisions[i].branch_labels.iter().cloned());
        stack.extend(graph.parents(i, EdgeKind::Down));
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{all_findings, findings, findings_with, render, rev};
    use super::*;

    #[test]
    fn one_head_is_clean() {
        let specs = [rev("a", &[]), rev("b", &["a"]), rev("c", &["b"])];
        assert!(findings(Rule::MultipleHeads, &specs).is_empty());
    }

    #[test]
    fn two_heads_on_one_parent_name_the_split_and_the_merge_command() {
        let specs = [rev("a", &[]), rev("b", &["a"]), rev("c", &["a"])];
        let f = findings(Rule::MultipleHeads, &specs);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("2 heads (b, c)"), "{}", f[0].message);
        assert!(f[0].message.contains("split at a"), "{}", f[0].message);
        assert!(
            f[0].help
                .as_deref()
                .unwrap()
                .contains("alembic merge -m \"merge heads\" b c")
        );
        assert_eq!(all_findings(&specs).len(), 1, "only multiple-heads fires");
        insta::assert_snapshot!(render(&specs, &f));
    }

    #[test]
    fn a_merge_revision_in_list_or_tuple_form_leaves_one_head() {
        let specs = [
            rev("a", &[]),
            rev("b", &["a"]),
            rev("c", &["a"]),
            rev("m", &["b", "c"]),
        ];
        assert!(all_findings(&specs).is_empty());
    }

    #[test]
    fn depends_on_does_not_end_a_head() {
        // As `alembic heads` shows: a revision another branch depends on is still a head.
        let specs = [
            rev("a", &[]).labels(&["main"]),
            rev("x", &[]).labels(&["other"]),
            rev("b", &["a"]).depends_on(&["x"]),
        ];
        let f = findings(Rule::MultipleHeads, &specs);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("2 heads (x (other), b (main))"),
            "{}",
            f[0].message
        );
        assert!(
            !f[0].message.contains("split"),
            "no shared history: {}",
            f[0].message
        );
        let allowed = findings_with(
            Rule::MultipleHeads,
            &specs,
            AllowedHeads::Labels(vec!["main".into(), "other".into()]),
        );
        assert!(allowed.is_empty(), "{allowed:?}");
    }

    #[test]
    fn labelled_heads_are_allowed_when_listed_and_counted_otherwise() {
        let specs = [
            rev("base", &[]),
            rev("e1", &["base"]).labels(&["expand"]),
            rev("c1", &["base"]).labels(&["contract"]),
            rev("e2", &["e1"]),
        ];
        let labels = |l: &[&str]| AllowedHeads::Labels(l.iter().map(|s| s.to_string()).collect());
        assert!(
            findings_with(Rule::MultipleHeads, &specs, labels(&["expand", "contract"])).is_empty()
        );
        assert!(findings_with(Rule::MultipleHeads, &specs, AllowedHeads::Count(2)).is_empty());
        assert_eq!(
            findings_with(Rule::MultipleHeads, &specs, labels(&["expand"])).len(),
            1
        );
        assert_eq!(findings(Rule::MultipleHeads, &specs).len(), 1);
    }

    #[test]
    fn two_heads_on_one_label_are_one_too_many() {
        let specs = [
            rev("base", &[]).labels(&["expand"]),
            rev("e1", &["base"]),
            rev("e2", &["base"]),
        ];
        let allowed = AllowedHeads::Labels(vec!["expand".into(), "contract".into()]);
        assert_eq!(findings_with(Rule::MultipleHeads, &specs, allowed).len(), 1);
    }
}
