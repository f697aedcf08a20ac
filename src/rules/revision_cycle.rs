//! `revision-cycle`: revisions that (through `down_revision` or `depends_on`) descend from
//! themselves. Alembic cannot order them and fails on every command.

use super::{Context, Finding, FindingSource, Rule};

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for cycle in &ctx.graph.cycles {
        let ids: Vec<&str> = cycle
            .iter()
            .map(|&i| ctx.revisions[i].id.as_str())
            .collect();
        let (&first, rest) = cycle
            .split_first()
            .expect("a cycle has at least one revision");
        let rev = &ctx.revisions[first];
        let mut f = Finding::new(
            Rule::RevisionCycle,
            FindingSource::Migrations,
            format!(
                "revisions {} form a cycle: each descends from the others",
                ids.join(", ")
            ),
        )
        .at(
            rev.down_span.clone().unwrap_or_else(|| rev.id_span.clone()),
            format!("{} is part of the cycle", rev.id),
        )
        .revision(rev.id.clone())
        .help(
            "one down_revision (or depends_on) in the cycle points at a newer revision; make it \
             point at the revision that really came before",
        );
        for &i in rest {
            let r = &ctx.revisions[i];
            f = f.related(
                r.down_span.clone().unwrap_or_else(|| r.id_span.clone()),
                format!("{} is part of the cycle", r.id),
            );
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{all_findings, findings, rev};
    use super::*;

    #[test]
    fn a_two_revision_cycle_is_one_finding() {
        let specs = [rev("base", &[]), rev("a", &["base", "b"]), rev("b", &["a"])];
        let f = findings(Rule::RevisionCycle, &specs);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "revisions a, b form a cycle: each descends from the others"
        );
        assert_eq!(all_findings(&specs).len(), 1, "{:?}", all_findings(&specs));
    }

    #[test]
    fn a_revision_that_is_its_own_parent_is_a_cycle() {
        let specs = [rev("a", &["a"])];
        assert_eq!(findings(Rule::RevisionCycle, &specs).len(), 1);
    }

    #[test]
    fn a_depends_on_cycle_counts() {
        let specs = [rev("a", &[]).depends_on(&["b"]), rev("b", &["a"])];
        assert_eq!(findings(Rule::RevisionCycle, &specs).len(), 1);
    }
}
