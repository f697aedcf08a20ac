//! `database-behind-head`: the database's revisions are ancestors of the heads, so migrations
//! are pending. The finding lists every pending revision with its file, in the order
//! `alembic upgrade` runs them, and points at the first. Pending revisions whose changes are
//! already in the database (run by hand, never recorded) are called out, since `upgrade` would
//! fail on them.

use super::phrases::{and_list, head_word, revision_title, revisions_phrase};
use super::{Context, Finding, FindingSource, Rule};
use crate::fix::revisions::pending_upgrade_fix;
use crate::schema::model::TableKey;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(live) = ctx.live else {
        return;
    };
    let Some(rows) = live.database_revisions() else {
        return;
    };
    let Some(&first) = live.pending.first() else {
        return;
    };
    let at: Vec<String> = rows
        .iter()
        .map(|&index| ctx.revisions[index].id.clone())
        .collect();
    let listed: Vec<String> = live
        .pending
        .iter()
        .map(|&index| {
            let revision = &ctx.revisions[index];
            format!(
                "{} ({})",
                revision.id,
                ctx.sources.get(revision.file).display
            )
        })
        .collect();
    let count = live.pending.len();
    let message = format!(
        "the database is at {}, {count} revision{} behind: {}",
        revisions_phrase(&at),
        if count == 1 { "" } else { "s" },
        listed.join(", ")
    );

    let upgrade = ctx.flavor.command(&format!("upgrade {}", head_word(ctx)));
    let mut help = format!("apply the pending migrations with `{upgrade}`");
    let ids = |indices: &[usize]| -> Vec<String> {
        indices
            .iter()
            .map(|&index| ctx.revisions[index].id.clone())
            .collect()
    };
    if !live.present_pending.is_empty() {
        let present = ids(&live.present_pending);
        help = format!(
            "the changes of {} are already in the database but not recorded, so `upgrade` \
             would fail on them: record them with `{}`, then {help}",
            and_list(&present),
            ctx.flavor.command(&format!("stamp {}", present.join(" ")))
        );
    }
    if !live.partial_pending.is_empty() {
        help.push_str(&format!(
            "; first finish or undo {} (see partially-applied-revision)",
            and_list(&ids(&live.partial_pending))
        ));
    }

    let first_revision = &ctx.revisions[first];
    let mut finding = Finding::new(Rule::DatabaseBehindHead, FindingSource::Database, message)
        .at(
            first_revision.id_span.clone(),
            format!(
                "pending: {} is not applied to the database",
                revision_title(first_revision)
            ),
        )
        .revision(first_revision.id.clone())
        .help(help);
    // The pending revisions as SQL; those already in the database (run by hand) are skipped. A
    // revision that stopped part way has its own fix (`partially-applied-revision`), after
    // which this one applies.
    if live.partial_pending.is_empty() {
        let version_table = live
            .version_table()
            .cloned()
            .unwrap_or_else(|| TableKey::new("public", "alembic_version"));
        finding = finding.fix(pending_upgrade_fix(
            ctx.revisions,
            ctx.graph,
            ctx.sources,
            rows,
            &live.pending,
            &live.present_pending,
            &version_table,
        ));
    }
    for &index in live.pending.iter().skip(1) {
        let revision = &ctx.revisions[index];
        finding = finding.related(revision.id_span.clone(), "pending as well");
    }
    out.push(finding);
}

#[cfg(test)]
mod tests {
    use crate::rules::live_state::test_support::*;

    #[test]
    fn a_database_two_revisions_behind_lists_them_in_order_with_their_files() {
        let project = app_project();
        let found = project.findings(project.live_at(&["r1"]), None);
        assert_eq!(lines(&found), ["database-behind-head: - (r2)"]);
        let finding = &found[0];
        assert_eq!(
            finding.message,
            "the database is at revision r1, 2 revisions behind: r2 (versions/r2.py), r3 (versions/r3.py)"
        );
        let primary = finding.primary.as_ref().expect("labelled");
        assert_eq!(project.text(&primary.span), "revision = \"r2\"");
        assert_eq!(finding.related.len(), 1);
        assert_eq!(
            finding.help.as_deref(),
            Some("apply the pending migrations with `alembic upgrade head`")
        );
    }

    #[test]
    fn expected_objects_that_pending_revisions_add_are_not_reported_again() {
        let mut project = app_project();
        let expectations = project.expectations(
            "version: 1\ntables:\n  users:\n    columns: [id, email, is_guest, locked_until]\n  system_config:\n    primary_key: [key]\n",
        );
        let found = project.findings(project.live_at(&["r1"]), Some(&expectations));
        assert_eq!(lines(&found), ["database-behind-head: - (r2)"]);
    }

    #[test]
    fn a_pending_revision_already_applied_by_hand_is_called_out() {
        let project = app_project();
        let mut live = project.live_at(&["r2"]);
        // Someone ran r3's SQL by hand and never recorded it.
        live.schema = project.live_at(&["r3"]).schema;
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["database-behind-head: - (r3)"]);
        assert_eq!(
            found[0].help.as_deref(),
            Some(
                "the changes of r3 are already in the database but not recorded, so `upgrade` \
                 would fail on them: record them with `alembic stamp r3`, then apply the pending \
                 migrations with `alembic upgrade head`"
            )
        );
    }

    #[test]
    fn flask_migrate_projects_get_flask_commands() {
        let mut project = app_project();
        project.flavor = crate::rules::Flavor::FlaskMigrate;
        let found = project.findings(project.live_at(&["r2"]), None);
        assert_eq!(
            found[0].help.as_deref(),
            Some("apply the pending migrations with `flask db upgrade head`")
        );
    }
}
