//! `database-unknown-revision`: a row of the version table names a revision no file defines —
//! the database was migrated by code this checkout does not have (a newer release, another
//! branch), or a revision file was deleted. One finding per unknown row. The comparisons with the
//! replay need the database's revision, so they are skipped; the expectations, the sequences and
//! the untracked objects are still checked.

use super::live_state::{Position, StampSuggestion};
use super::{Context, Finding, FindingSource, Rule, edit_distance};
use crate::fix::guidance;
use crate::schema::model::TableKey;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(live) = ctx.live else {
        return;
    };
    let Position::Unknown { unknown, .. } = &live.position else {
        return;
    };
    let TableKey {
        schema: table_schema,
        name: table,
    } = live
        .version_table()
        .cloned()
        .unwrap_or_else(|| TableKey::new("public", "alembic_version"));
    // The revisions whose schema the database has, when exactly some do.
    let matching: Option<Vec<String>> = match &live.stamp_suggestion {
        Some(StampSuggestion::Stamp { revisions, .. }) => Some(
            revisions
                .iter()
                .map(|&index| ctx.revisions[index].id.clone())
                .collect(),
        ),
        _ => None,
    };
    for id in unknown {
        let mut help = format!(
            "deploy (or check out) the code that has revision {id}, or restore its file; if it \
             was abandoned, downgrade it with the code that has it, then `{}`",
            ctx.flavor.command("stamp <the revision the schema has>")
        );
        if let Some(close) = closest_known(ctx, id) {
            help = format!("did you mean {close}? {help}");
        }
        out.push(
            Finding::new(
                Rule::DatabaseUnknownRevision,
                FindingSource::Database,
                format!(
                    "the database is at revision {id} ({table_schema}.{table}), which no revision file defines"
                ),
            )
            .revision(id.clone())
            .help(help)
            .fix(guidance::unknown_revision_fix(
                ctx.flavor,
                std::slice::from_ref(id),
                matching.as_deref(),
            )),
        );
    }
}

/// A known revision id within two edits of `id`, or one that `id` starts or extends (a
/// truncated copy). Short ids are too alike for either to mean anything.
fn closest_known(ctx: &Context<'_>, id: &str) -> Option<String> {
    ctx.revisions
        .iter()
        .filter_map(|revision| {
            let known = revision.id.as_str();
            let shorter = known.len().min(id.len());
            if shorter >= 4 && (known.starts_with(id) || id.starts_with(known)) {
                return Some((0, known));
            }
            let distance = edit_distance(known, id);
            (shorter >= 8 && distance <= 2).then_some((distance, known))
        })
        .min()
        .map(|(_, known)| known.to_owned())
}

#[cfg(test)]
mod tests {
    use crate::rules::live_state::test_support::*;

    #[test]
    fn an_unknown_revision_is_one_finding_and_the_replay_is_not_compared() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        live.versions = Some(vec!["9f1c2d3e4b5a".to_owned()]);
        // The missing revision added a column; no migration here creates it.
        table_mut(&mut live.schema, "users")
            .columns
            .push(plain_column("nickname", "text"));
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            [
                "database-unknown-revision: - (9f1c2d3e4b5a)",
                "untracked-column: public.users.nickname",
            ]
        );
        assert_eq!(
            found[0].message,
            "the database is at revision 9f1c2d3e4b5a (public.alembic_version), which no revision file defines"
        );
    }

    #[test]
    fn a_near_miss_is_suggested_and_short_ids_are_not() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        live.versions = Some(vec!["r4".to_owned()]);
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["database-unknown-revision: - (r4)"]);
        assert!(
            found[0]
                .help
                .as_deref()
                .is_some_and(|help| help.starts_with("deploy")),
            "{:?}",
            found[0].help
        );

        let project = TestProject::new(vec![step("4f2a9c1b7d3e", &[], Vec::new())]);
        for (row, suggested) in [
            ("4f2a9c1b7d3f", true),
            ("4f2a9c1b", true),
            ("0badc0ffee11", false),
        ] {
            let mut live = project.live_at(&["4f2a9c1b7d3e"]);
            live.versions = Some(vec![row.to_owned()]);
            let found = project.findings(live, None);
            let help = found[0].help.as_deref().unwrap_or_default();
            assert_eq!(
                help.starts_with("did you mean 4f2a9c1b7d3e?"),
                suggested,
                "{row}: {help}"
            );
        }
    }
}
