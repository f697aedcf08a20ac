//! `missing-parent`: a `down_revision` or `depends_on` that names a revision no file defines.

use super::{Context, Finding, FindingSource, Rule};
use crate::graph::EdgeKind;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for missing in &ctx.graph.missing {
        let rev = &ctx.revisions[missing.child];
        let (key, span) = match missing.kind {
            EdgeKind::Down => ("down_revision", rev.down_span.clone()),
            EdgeKind::DependsOn => ("depends_on", rev.depends_on_span.clone()),
        };
        let mut f = Finding::new(
            Rule::MissingParent,
            FindingSource::Migrations,
            format!(
                "revision {} names {key} {:?}, but no revision file defines it",
                rev.id, missing.missing
            ),
        )
        .at(
            span.unwrap_or_else(|| rev.id_span.clone()),
            format!("{:?} is not defined by any revision file", missing.missing),
        )
        .revision(rev.id.clone());
        let suggestion = similar_id(ctx, &missing.missing);
        f = f.help(match suggestion {
            Some(id) => format!(
                "did you mean {id:?}? Otherwise restore the revision file that defines {:?}",
                missing.missing
            ),
            None => format!(
                "restore the revision file that defines {:?} (was it deleted, or not yet \
                 merged from another branch?), or point {key} at an existing revision",
                missing.missing
            ),
        });
        out.push(f);
    }
}

/// An existing revision id the missing one was probably meant to be: one that starts with it
/// (a truncated id) or differs from it by at most two characters.
fn similar_id<'a>(ctx: &'a Context<'_>, missing: &str) -> Option<&'a str> {
    let mut prefixed = ctx
        .revisions
        .iter()
        .filter(|r| missing.len() >= 4 && r.id.starts_with(missing));
    if let (Some(one), None) = (prefixed.next(), prefixed.next()) {
        return Some(&one.id);
    }
    ctx.revisions
        .iter()
        .map(|r| (edit_distance(&r.id, missing), &r.id))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, id)| id.as_str())
}

/// Levenshtein distance, for short identifiers.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{all_findings, findings, render, rev};
    use super::*;

    #[test]
    fn a_missing_down_revision_is_a_missing_parent_and_nothing_else() {
        let specs = [rev("1a2b3c4d5e6f", &[]), rev("2b3c", &["0f0f0f0f0f0f"])];
        let f = findings(Rule::MissingParent, &specs);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "revision 2b3c names down_revision \"0f0f0f0f0f0f\", but no revision file defines it"
        );
        assert_eq!(all_findings(&specs).len(), 1, "{:?}", all_findings(&specs));
        insta::assert_snapshot!(render(&specs, &f));
    }

    #[test]
    fn a_truncated_id_gets_a_suggestion() {
        let specs = [rev("3c4d5e6f7081", &[]), rev("b", &["3c4d5e6f708"])];
        let f = findings(Rule::MissingParent, &specs);
        assert!(
            f[0].help
                .as_deref()
                .unwrap()
                .starts_with("did you mean \"3c4d5e6f7081\"")
        );
    }

    #[test]
    fn a_missing_depends_on_is_reported_as_such() {
        let specs = [rev("a", &[]), rev("b", &["a"]).depends_on(&["gone"])];
        let f = findings(Rule::MissingParent, &specs);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("depends_on \"gone\""));
    }

    #[test]
    fn depends_on_may_name_a_branch_label() {
        let specs = [
            rev("a", &[]).labels(&["accounts"]),
            rev("b", &[]).labels(&["shop"]),
            rev("c", &["b"]).depends_on(&["accounts"]),
        ];
        assert!(findings(Rule::MissingParent, &specs).is_empty());
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }
}
