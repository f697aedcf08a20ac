//! `database-not-versioned`: the database has no `alembic_version` table, or it is empty, so
//! Alembic cannot tell which migrations it has. When the schema has exactly the changes of some
//! revisions and none of the rest, the help names the `alembic stamp` that records them.

use super::live_checks::{and_list, head_word, tool_command};
use super::live_state::{Position, StampSuggestion};
use super::{Context, Finding, FindingSource, Rule};
use crate::fix::guidance;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(live) = ctx.live else {
        return;
    };
    let mut finding = match &live.position {
        Position::NoVersionTable => Finding::new(
            Rule::DatabaseNotVersioned,
            FindingSource::Database,
            "the database has no alembic_version table: Alembic cannot tell which migrations it has",
        ),
        Position::EmptyVersionTable((schema, table)) => Finding::new(
            Rule::DatabaseNotVersioned,
            FindingSource::Database,
            format!(
                "{schema}.{table} is empty: Alembic cannot tell which migrations the database has"
            ),
        )
        .object(schema, table, None),
        Position::Unknown { .. } | Position::At(_) => return,
    };
    let upgrade = tool_command(ctx.flavor, &format!("upgrade {}", head_word(ctx)));
    let help = match &live.stamp_suggestion {
        Some(StampSuggestion::UpgradeFromEmpty) => {
            format!("none of the migrations' tables is there: build the schema with `{upgrade}`")
        }
        Some(StampSuggestion::Stamp {
            revisions,
            complete,
        }) => {
            let ids: Vec<String> = revisions
                .iter()
                .map(|&index| ctx.revisions[index].id.clone())
                .collect();
            if *complete {
                format!(
                    "the schema has every change of the migrations: record that with `{}`",
                    tool_command(ctx.flavor, &format!("stamp {}", head_word(ctx)))
                )
            } else {
                let stamp = tool_command(ctx.flavor, &format!("stamp {}", ids.join(" ")));
                format!(
                    "the schema has the changes of {} and nothing after: record that with \
                     `{stamp}`, then run the rest with `{upgrade}`",
                    and_list(&ids)
                )
            }
        }
        None => format!(
            "find the revision whose schema the database has (`driftlint schema --revision REV`), \
             record it with `{}`, then check again: what still differs is reported",
            tool_command(ctx.flavor, "stamp REV")
        ),
    };
    let tool = tool_of(ctx.flavor);
    let fix = match &live.stamp_suggestion {
        Some(StampSuggestion::UpgradeFromEmpty) => Some(guidance::upgrade_from_empty_fix(tool)),
        Some(StampSuggestion::Stamp {
            revisions,
            complete,
        }) => {
            let ids: Vec<String> = revisions
                .iter()
                .map(|&index| ctx.revisions[index].id.clone())
                .collect();
            Some(guidance::stamp_fix(tool, &ids, *complete))
        }
        None => None,
    };
    finding = finding.help(help);
    if let Some(fix) = fix {
        finding = finding.fix(fix);
    }
    out.push(finding);
}

/// The tool whose commands the guidance names.
pub(super) fn tool_of(flavor: super::Flavor) -> guidance::Tool {
    match flavor {
        super::Flavor::Alembic => guidance::Tool::Alembic,
        super::Flavor::FlaskMigrate => guidance::Tool::FlaskMigrate,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::live_state::test_support::*;

    #[test]
    fn no_version_table_at_head_suggests_stamping_head() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        live.versions = None;
        live.version_table = None;
        live.schema
            .tables
            .remove(&("public".to_owned(), "alembic_version".to_owned()));
        let found = project.findings(live, None);
        assert_eq!(lines(&found), ["database-not-versioned: -"]);
        assert_eq!(
            found[0].message,
            "the database has no alembic_version table: Alembic cannot tell which migrations it has"
        );
        assert_eq!(
            found[0].help.as_deref(),
            Some(
                "the schema has every change of the migrations: record that with `alembic stamp head`"
            )
        );
    }

    #[test]
    fn an_empty_version_table_part_way_suggests_stamp_then_upgrade() {
        let project = app_project();
        let mut live = project.live_at(&["r2"]);
        live.versions = Some(Vec::new());
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            ["database-not-versioned: public.alembic_version"]
        );
        assert_eq!(
            found[0].help.as_deref(),
            Some(
                "the schema has the changes of r2 and nothing after: record that with \
                 `alembic stamp r2`, then run the rest with `alembic upgrade head`"
            )
        );
    }

    #[test]
    fn an_empty_database_is_told_to_upgrade_and_a_mixed_one_to_find_its_revision() {
        let project = app_project();
        let mut empty = project.live_at(&[]);
        empty.versions = None;
        empty.version_table = None;
        empty.schema = crate::schema::model::Schema::default();
        let found = project.findings(empty, None);
        assert_eq!(
            found[0].help.as_deref(),
            Some(
                "none of the migrations' tables is there: build the schema with `alembic upgrade head`"
            )
        );

        // r3's change is there but r2's is not: no clean cut.
        let mut mixed = project.live_at(&["r3"]);
        mixed.versions = None;
        drop_column(&mut mixed.schema, "users", "is_guest");
        let found = project.findings(mixed, None);
        assert!(
            found[0]
                .help
                .as_deref()
                .is_some_and(|help| help.contains("alembic stamp REV")),
            "{:?}",
            found[0].help
        );
    }
}
