//! `duplicate-revision`: two files defining the same revision id. Alembic keeps one of them
//! silently (with a warning at best), so the other file's changes never run.

use super::{Context, Finding, FindingSource, Rule};

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (id, defs) in &ctx.graph.duplicates {
        let files: Vec<&str> = defs
            .iter()
            .map(|&i| ctx.sources.get(ctx.revisions[i].file).display.as_str())
            .collect();
        let (&first, rest) = defs
            .split_first()
            .expect("a duplicate group has at least two definitions");
        for &dup in rest {
            let rev = &ctx.revisions[dup];
            out.push(
                Finding::new(
                    Rule::DuplicateRevision,
                    FindingSource::Migrations,
                    format!(
                        "revision {id} is defined by {} files: {}",
                        defs.len(),
                        files.join(", ")
                    ),
                )
                .at(rev.id_span.clone(), format!("{id} is defined here again"))
                .related(
                    ctx.revisions[first].id_span.clone(),
                    format!("{id} is first defined here"),
                )
                .revision(id.clone())
                .help(
                    "give one of the files a new revision id (and update any down_revision that \
                     should point at it), or delete the copy if it is one",
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{all_findings, findings, render, rev};
    use super::*;

    #[test]
    fn a_duplicate_id_is_a_duplicate_not_two_heads() {
        let specs = [rev("a", &[]), rev("b", &["a"]), rev("b", &["a"])];
        let f = findings(Rule::DuplicateRevision, &specs);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.starts_with("revision b is defined by 2 files"));
        assert_eq!(all_findings(&specs).len(), 1, "{:?}", all_findings(&specs));
        insta::assert_snapshot!(render(&specs, &f));
    }

    #[test]
    fn three_copies_give_two_findings() {
        let specs = [rev("a", &[]), rev("a", &[]), rev("a", &[])];
        assert_eq!(findings(Rule::DuplicateRevision, &specs).len(), 2);
    }
}
