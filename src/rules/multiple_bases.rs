//! `multiple-bases`: more than one root revision outside named branches. A second root usually
//! means a revision lost its `down_revision` (set to `None` by hand or by a bad rebase), so it
//! starts a history of its own that `alembic upgrade head` will also try to apply.

use super::{Context, Finding, FindingSource, Rule};

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    // Alembic's documented way to start an independent branch is a base with a branch label.
    let unlabeled: Vec<usize> = ctx
        .graph
        .bases
        .iter()
        .copied()
        .filter(|&b| ctx.revisions[b].branch_labels.is_empty())
        .collect();
    let Some((&first, rest)) = unlabeled.split_first() else {
        return;
    };
    for &b in rest {
        let rev = &ctx.revisions[b];
        out.push(
            Finding::new(
                Rule::MultipleBases,
                FindingSource::Migrations,
                format!(
                    "revision {} is a second root (its down_revision is None) besides {}",
                    rev.id, ctx.revisions[first].id
                ),
            )
            .at(
                rev.down_span.clone().unwrap_or_else(|| rev.id_span.clone()),
                "no down_revision: a new root",
            )
            .related(
                ctx.revisions[first].id_span.clone(),
                format!("the first root, {}", ctx.revisions[first].id),
            )
            .revision(rev.id.clone())
            .help(
                "set down_revision to the revision this one follows; if it really starts an \
                 independent branch, give it a branch_labels entry",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, render, rev};
    use super::*;

    #[test]
    fn a_second_unlabelled_root_is_reported() {
        let specs = [rev("a", &[]), rev("b", &["a"]), rev("c", &[])];
        let f = findings(Rule::MultipleBases, &specs);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.starts_with("revision c is a second root"));
        insta::assert_snapshot!(render(&specs, &f));
    }

    #[test]
    fn a_labelled_root_starts_a_named_branch() {
        let specs = [rev("a", &[]), rev("c", &[]).labels(&["reporting"])];
        assert!(findings(Rule::MultipleBases, &specs).is_empty());
    }
}
