//! `missing-parent`: a `down_revision` or `depends_on` that names a revision no file defines.

use super::{Context, Finding, FindingSource, Rule};
use rustc_hash::FxHashMap;

use crate::graph::EdgeKind;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if ctx.graph.missing.is_empty() {
        return;
    }
    let similar = SimilarIds::new(ctx.revisions.iter().map(|r| r.id.as_str()));
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
        let suggestion = similar.find(&missing.missing);
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

/// The existing revision ids, indexed to find the one a missing id was probably meant to be:
/// one that starts with it (a truncated id) or differs from it by at most two characters. A
/// lookup costs about the same whatever the number of revisions, so that thousands of missing
/// parents are reported in time linear in their number.
struct SimilarIds<'a> {
    /// Every id, sorted (duplicates kept), for the prefix lookup.
    sorted: Vec<&'a str>,
    /// Every string made by deleting up to two characters from a short id, with the ids it
    /// comes from: two ids within edit distance 2 share such a string (symmetric deletion).
    by_deletion: FxHashMap<String, Vec<&'a str>>,
    /// Ids longer than [`INDEXED_LENGTH`] characters, compared one by one.
    long: Vec<&'a str>,
}

/// The longest id whose deletions are indexed: a revision id is 12 hex digits, or a short
/// hand-written name; the number of deletions grows with the square of the length.
const INDEXED_LENGTH: usize = 64;

impl<'a> SimilarIds<'a> {
    fn new(ids: impl Iterator<Item = &'a str>) -> Self {
        let mut sorted = Vec::new();
        let mut by_deletion: FxHashMap<String, Vec<&'a str>> = FxHashMap::default();
        let mut long = Vec::new();
        for id in ids {
            sorted.push(id);
            if id.chars().count() > INDEXED_LENGTH {
                long.push(id);
                continue;
            }
            for variant in deletions(id) {
                let ids = by_deletion.entry(variant).or_default();
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
        }
        sorted.sort_unstable();
        SimilarIds {
            sorted,
            by_deletion,
            long,
        }
    }

    fn find(&self, missing: &str) -> Option<&'a str> {
        if missing.len() >= 4 {
            let first = self.sorted.partition_point(|id| *id < missing);
            let mut prefixed = self.sorted[first..]
                .iter()
                .take_while(|id| id.starts_with(missing));
            if let (Some(one), None) = (prefixed.next(), prefixed.next()) {
                return Some(one);
            }
        }
        let length = missing.chars().count();
        let mut candidates: Vec<&'a str> = self
            .long
            .iter()
            .copied()
            .filter(|id| id.chars().count().abs_diff(length) <= 2)
            .collect();
        if length <= INDEXED_LENGTH + 2 {
            for variant in deletions(missing) {
                if let Some(ids) = self.by_deletion.get(&variant) {
                    candidates.extend(ids.iter().copied());
                }
            }
        }
        candidates
            .into_iter()
            .map(|id| (edit_distance(id, missing), id))
            .filter(|(d, _)| *d <= 2)
            .min()
            .map(|(_, id)| id)
    }
}

/// `text` with up to two characters deleted, in every way (with repeats).
fn deletions(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let without = |skip: &[usize]| -> String {
        chars
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, c)| *c)
            .collect()
    };
    let mut out = vec![text.to_owned()];
    for i in 0..chars.len() {
        out.push(without(&[i]));
        for j in i + 1..chars.len() {
            out.push(without(&[i, j]));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
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

    /// The lookup the index replaces: every revision compared with the missing id.
    fn similar_by_brute_force<'a>(ids: &[&'a str], missing: &str) -> Option<&'a str> {
        let mut prefixed = ids
            .iter()
            .filter(|id| missing.len() >= 4 && id.starts_with(missing));
        if let (Some(one), None) = (prefixed.next(), prefixed.next()) {
            return Some(one);
        }
        ids.iter()
            .map(|id| (edit_distance(id, missing), *id))
            .filter(|(d, _)| *d <= 2)
            .min()
            .map(|(_, id)| id)
    }

    #[test]
    fn the_index_finds_what_comparing_every_id_finds() {
        let long = "x".repeat(70);
        let long_edit = format!("{}y", "x".repeat(69));
        let ids = [
            "3c4d5e6f7081",
            "3c4d5e6f7082",
            "ae1027a6acf",
            "ae1027a6acf",
            "accounts",
            "shop",
            "é1b2",
            long.as_str(),
        ];
        let index = SimilarIds::new(ids.iter().copied());
        for missing in [
            "3c4d5e6f708",
            "3c4d5e6f70",
            "3c4d5e6f7080",
            "ae1027a6ac",
            "ae1027a6acff",
            "ea1027a6acf",
            "acounts",
            "accountz",
            "shopp",
            "hop",
            "xyz",
            "é1b3",
            "e1b2",
            "",
            long_edit.as_str(),
            "unrelated-id",
        ] {
            assert_eq!(
                index.find(missing),
                similar_by_brute_force(&ids, missing),
                "{missing:?}"
            );
        }
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }
}
