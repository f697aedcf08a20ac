//! `database-not-versioned`: the database has no `alembic_version` table, or it is empty, so
//! Alembic cannot tell which migrations it has. When the schema has exactly the changes of some
//! revisions and none of the rest, the help names the `alembic stamp` that records them.

use super::live_state::{Position, StampSuggestion};
use super::phrases::{and_list, head_word};
use super::{Context, Finding, FindingSource, Rule};
use crate::fix::guidance;
use crate::schema::model::TableKey;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(live) = ctx.live else {
        return;
    };
    let details = &live.snapshot.version_details;
    let nulls = details.null_rows;
    let null_rows = |n: usize| {
        if n == 1 {
            "a NULL row".to_owned()
        } else {
            format!("{n} NULL rows")
        }
    };
    let mut finding = match &live.position {
        Position::NoVersionTable => Finding::new(
            Rule::DatabaseNotVersioned,
            FindingSource::Database,
            "the database has no alembic_version table: Alembic cannot tell which migrations it has",
        ),
        Position::EmptyVersionTable(TableKey {
            schema,
            name: table,
        }) => {
            let what = match details.kind {
                Some(kind) => format!("{schema}.{table} ({})", kind.described()),
                None => format!("{schema}.{table}"),
            };
            let state = if nulls > 0 {
                format!("holds only {} and no revision", null_rows(nulls))
            } else {
                "is empty".to_owned()
            };
            Finding::new(
                Rule::DatabaseNotVersioned,
                FindingSource::Database,
                format!("{what} {state}: Alembic cannot tell which migrations the database has"),
            )
            .object(schema, table, None)
        }
        Position::Unknown { .. } | Position::At(_) => {
            if let Some(TableKey {
                schema,
                name: table,
            }) = live.snapshot.version_table.as_ref()
            {
                if nulls > 0 {
                    out.push(
                        Finding::new(
                            Rule::DatabaseNotVersioned,
                            FindingSource::Database,
                            format!(
                                "{schema}.{table} holds {} beside its revisions: a NULL \
                                 version_num is no revision",
                                null_rows(nulls)
                            ),
                        )
                        .object(schema, table, None)
                        .help(format!(
                            "delete it: `DELETE FROM {} WHERE version_num IS NULL;`",
                            crate::fix::quote_qualified(schema, table)
                        )),
                    );
                }
                if let Some(kind) = details.kind {
                    let mut finding = Finding::new(
                        Rule::DatabaseNotVersioned,
                        FindingSource::Database,
                        format!(
                            "{schema}.{table} is {}, not a table: driftlint read the database's \
                             revision from it, but Alembic writes to it on every upgrade and \
                             stamp",
                            kind.described()
                        ),
                    )
                    .object(schema, table, None)
                    .help(not_a_table_help(schema, table, kind));
                    finding.severity = super::Severity::Warning;
                    out.push(finding);
                }
            }
            return;
        }
    };
    // A relation that is not a table: `stamp` cannot create the table (the name is taken) and
    // may not be able to write to what is there, so no stamp is offered.
    if let (
        Position::EmptyVersionTable(TableKey {
            schema,
            name: table,
        }),
        Some(kind),
    ) = (&live.position, details.kind)
    {
        out.push(finding.help(not_a_table_help(schema, table, kind)));
        return;
    }
    let upgrade = ctx.flavor.command(&format!("upgrade {}", head_word(ctx)));
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
                    ctx.flavor.command(&format!("stamp {}", head_word(ctx)))
                )
            } else {
                let stamp = ctx.flavor.command(&format!("stamp {}", ids.join(" ")));
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
            ctx.flavor.command("stamp REV")
        ),
    };
    let tool = ctx.flavor;
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
    let help = match (&live.position, nulls) {
        (
            Position::EmptyVersionTable(TableKey {
                schema,
                name: table,
            }),
            1..,
        ) => format!(
            "delete the NULL rows (`DELETE FROM {} WHERE version_num IS NULL;`), then: {help}",
            crate::fix::quote_qualified(schema, table)
        ),
        _ => help,
    };
    finding = finding.help(help);
    if let Some(fix) = fix {
        finding = finding.fix(fix);
    }
    out.push(finding);
}

/// What to do about a version table that is a view (or another relation that is not a table).
fn not_a_table_help(schema: &str, table: &str, kind: crate::live::RelationKind) -> String {
    format!(
        "{schema}.{table} is {}; Alembic keeps the revision in a table it updates (`stamp` and \
         `upgrade` write to it, and the name is taken, so it cannot create one): replace it with \
         a table holding the revision (`CREATE TABLE … (version_num varchar(32) NOT NULL \
         PRIMARY KEY)`), or point version_table (and version_table_schema) in env.py at the \
         table it reads from",
        kind.described()
    )
}

#[cfg(test)]
mod tests {
    use crate::rules::live_state::test_support::*;
    use crate::schema::model::TableKey;

    #[test]
    fn no_version_table_at_head_suggests_stamping_head() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        live.versions = None;
        live.version_table = None;
        live.schema
            .tables
            .remove(&TableKey::new("public", "alembic_version"));
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

    #[test]
    fn null_rows_are_reported_alone_or_beside_revisions() {
        let project = app_project();
        let mut live = project.live_at(&["r2"]);
        live.versions = Some(Vec::new());
        live.version_details.null_rows = 1;
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            ["database-not-versioned: public.alembic_version"]
        );
        assert_eq!(
            found[0].message,
            "public.alembic_version holds only a NULL row and no revision: Alembic cannot tell \
             which migrations the database has"
        );
        let help = found[0].help.as_deref().expect("help");
        assert!(
            help.starts_with(
                "delete the NULL rows (`DELETE FROM public.alembic_version WHERE version_num IS \
                 NULL;`), then: the schema has the changes of r2"
            ),
            "{help}"
        );

        let mut live = project.live_at(&["r3"]);
        live.version_details.null_rows = 2;
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            ["database-not-versioned: public.alembic_version"]
        );
        assert_eq!(
            found[0].message,
            "public.alembic_version holds 2 NULL rows beside its revisions: a NULL version_num \
             is no revision"
        );
    }

    #[test]
    fn a_view_is_said_to_be_one_and_no_stamp_is_offered() {
        let project = app_project();
        let mut live = project.live_at(&["r2"]);
        live.versions = Some(Vec::new());
        live.version_details.kind = Some(crate::live::RelationKind::View);
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            ["database-not-versioned: public.alembic_version"]
        );
        assert_eq!(
            found[0].message,
            "public.alembic_version (a view) is empty: Alembic cannot tell which migrations the \
             database has"
        );
        let help = found[0].help.as_deref().expect("help");
        assert!(!help.contains("stamp r2"), "{help}");
        assert!(help.contains("is a view"), "{help}");
        assert!(found[0].fix.is_none());

        // With its revision in it: read, and the view named as such.
        let mut live = project.live_at(&["r3"]);
        live.version_details.kind = Some(crate::live::RelationKind::MaterializedView);
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            ["database-not-versioned: public.alembic_version"]
        );
        assert_eq!(found[0].severity, crate::rules::Severity::Warning);
        assert!(
            found[0]
                .message
                .starts_with("public.alembic_version is a materialized view, not a table"),
            "{}",
            found[0].message
        );
    }
}
