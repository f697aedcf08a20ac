//! `stamped-not-applied`: the database records revisions whose changes are absent from its
//! schema — the signature of `alembic stamp` (or `flask db stamp`) run without the migrations.
//!
//! The finding is made for the *absent tail* (see `live_state`): applied revisions none of whose
//! changes are in the database and after which no applied revision reached it either. It names
//! the earliest such revision, points at its first missing change, lists every missing change of
//! the tail (each with a label at the operation that makes it), and tells how to record the
//! revision the schema really has and run the rest. Those objects are not reported again by
//! `missing-table`, `missing-column` and the other comparisons.

use super::live_state::Fact;
use super::phrases::{and_list, head_word, revision_title, revisions_phrase};
use super::{Context, Finding, FindingSource, Rule};
use crate::fix::revisions::stamped_fix;

/// How many missing changes the message itself names; the labels name them all.
const NAMED_IN_MESSAGE: usize = 3;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(live) = ctx.live else {
        return;
    };
    let Some(rows) = live.database_revisions() else {
        return;
    };
    let Some(&earliest) = live.absent_tail.first() else {
        return;
    };
    let missing: Vec<&Fact> = live
        .absent_tail
        .iter()
        .filter_map(|index| live.facts.get(index))
        .flat_map(|facts| facts.absent())
        .collect();
    let Some(first) = missing
        .iter()
        .find(|fact| fact.revision == earliest)
        .or(missing.first())
    else {
        return;
    };

    let at: Vec<String> = rows
        .iter()
        .map(|&index| ctx.revisions[index].id.clone())
        .collect();
    let earliest_revision = &ctx.revisions[earliest];
    let later = live.absent_tail.len() - 1;
    let whose = match later {
        0 => format!("the changes of {}", revision_title(earliest_revision)),
        1 => format!(
            "the changes of {} and of the revision after it",
            revision_title(earliest_revision)
        ),
        _ => format!(
            "the changes of {} and of the {later} revisions after it",
            revision_title(earliest_revision)
        ),
    };
    let mut named: Vec<String> = missing
        .iter()
        .take(NAMED_IN_MESSAGE)
        .map(|fact| fact.text.clone())
        .collect();
    if missing.len() > NAMED_IN_MESSAGE {
        named.push(format!("{} more", missing.len() - NAMED_IN_MESSAGE));
    }
    let message = format!(
        "the database is stamped at {} but {whose} are not in its schema: {}",
        revisions_phrase(&at),
        and_list(&named)
    );

    let real_position: Vec<String> = live
        .schema_position
        .iter()
        .map(|&index| ctx.revisions[index].id.clone())
        .collect();
    let stamp_target = if real_position.is_empty() {
        "base".to_owned()
    } else {
        real_position.join(" ")
    };
    let help = format!(
        "the version table was set (`stamp`) without running the migrations; record the \
         revision the schema really has and run the rest: `{}`, then `{}`",
        ctx.flavor.command(&format!("stamp {stamp_target}")),
        ctx.flavor.command(&format!("upgrade {}", head_word(ctx)))
    );

    let mut finding = Finding::new(Rule::StampedNotApplied, FindingSource::Database, message)
        .at(first.span.clone(), format!("not applied: {}", first.text))
        .object(&first.schema, &first.table, first.column.as_deref())
        .revision(earliest_revision.id.clone())
        .help(help)
        .fix(stamped_fix(
            ctx.revisions,
            ctx.graph,
            ctx.sources,
            &live.absent_tail,
        ));
    for fact in missing.iter().filter(|fact| fact.span != first.span) {
        finding = finding.related(fact.span.clone(), format!("not applied: {}", fact.text));
    }
    out.push(finding);
}

#[cfg(test)]
mod tests {
    use crate::rules::live_state::test_support::*;

    #[test]
    fn stamp_head_on_a_database_at_r1_names_r2_and_lists_what_is_missing() {
        let mut project = app_project();
        let expectations = project.expectations(
            "version: 1\ntables:\n  users:\n    columns: [id, is_guest, locked_until]\n  system_config:\n    primary_key: [key]\n",
        );
        let mut live = project.live_at(&["r1"]);
        live.versions = Some(vec!["r3".to_owned()]);
        let found = project.findings(live, Some(&expectations));
        assert_eq!(
            lines(&found),
            ["stamped-not-applied: public.users.is_guest (r2)"]
        );
        let finding = &found[0];
        assert_eq!(
            finding.message,
            "the database is stamped at revision r3 but the changes of r2 (revision r2) and of \
             the revision after it are not in its schema: column public.users.is_guest does not \
             exist, column public.users.is_test_account does not exist, column \
             public.users.locked_until does not exist and 1 more"
        );
        let primary = finding.primary.as_ref().expect("labelled");
        assert_eq!(project.place(&primary.span), "versions/r2.py:op_0()");
        let related: Vec<String> = finding
            .related
            .iter()
            .map(|label| format!("{} {}", project.place(&label.span), label.text))
            .collect();
        assert_eq!(
            related,
            [
                "versions/r2.py:op_1() not applied: column public.users.is_test_account does not exist",
                "versions/r3.py:op_0() not applied: column public.users.locked_until does not exist",
                "versions/r3.py:op_1() not applied: table public.system_config does not exist",
            ]
        );
        assert_eq!(
            finding.help.as_deref(),
            Some(
                "the version table was set (`stamp`) without running the migrations; record the \
                 revision the schema really has and run the rest: `alembic stamp r1`, then \
                 `alembic upgrade head`"
            )
        );
    }

    #[test]
    fn the_rendered_finding_labels_every_missing_change() {
        let project = app_project();
        let mut live = project.live_at(&["r2"]);
        live.versions = Some(vec!["r3".to_owned()]);
        let found = project.findings(live, None);
        insta::assert_snapshot!(crate::report::human::render(
            &project.sources,
            &found,
            false,
            100
        ));
    }

    #[test]
    fn a_stamped_empty_database_is_stamped_back_to_base() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        live.schema
            .tables
            .retain(|key, _| key.name == "alembic_version");
        live.schema.sequences.clear();
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["stamped-not-applied: public.users (r1)"]);
        assert!(
            found[0]
                .help
                .as_deref()
                .is_some_and(|help| help.contains("`alembic stamp base`")),
            "{:?}",
            found[0].help
        );
    }

    #[test]
    fn a_column_dropped_by_hand_before_later_revisions_is_not_a_stamp() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        drop_column(&mut live.schema, "users", "is_test_account");
        drop_column(&mut live.schema, "users", "is_guest");
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            [
                "missing-column: public.users.is_guest (r2)",
                "missing-column: public.users.is_test_account (r2)",
            ]
        );
    }
}
