//! `partially-applied-revision`: some but not all changes of one revision are in the database —
//! an interrupted migration, or its SQL run in part by hand. Two shapes are reported:
//!
//! - the database records the revision, and it is the newest applied revision to have reached
//!   the database at all (nothing after it did), yet only part of it is there: the migration
//!   stopped part way and the revision was recorded anyway (`stamp`), or statements were undone
//!   by hand afterwards;
//! - the database does not record the revision (it is pending), yet part of it is there: the
//!   migration stopped part way before Alembic could record it.
//!
//! A revision with missing changes whose later revisions did reach the database is not this:
//! its missing objects are manual changes, reported one by one by `missing-column` and the
//! other comparisons. The finding lists what is there and what is not, each labelled in the
//! revision file, and, where every missing change has a plain statement, the SQL that finishes
//! the revision.

use super::live_state::{Change, Fact, LiveState, RevisionFacts};
use super::phrases::{and_list, head_word, revision_title, revisions_phrase};
use super::{Context, Finding, FindingSource, Rule};
use crate::fix::revisions::{VersionChange, partial_fix, versions_after};
use crate::schema::model::TableKey;

/// How many changes the message itself names; the labels name them all.
const NAMED_IN_MESSAGE: usize = 3;

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(live) = ctx.live else {
        return;
    };
    let (Some(rows), Some(_)) = (live.database_revisions(), &live.schema_at_database) else {
        return;
    };
    let at: Vec<String> = rows
        .iter()
        .map(|&index| ctx.revisions[index].id.clone())
        .collect();
    for &index in &live.partial_applied {
        if let Some(facts) = live.facts.get(&index) {
            out.push(finding(ctx, live, facts, None));
        }
    }
    if ctx.head_schema.is_some() {
        for &index in &live.partial_pending {
            if let Some(facts) = live.facts.get(&index) {
                out.push(finding(ctx, live, facts, Some(&at)));
            }
        }
    }
}

fn named(facts: &[&Fact]) -> String {
    let mut names: Vec<String> = facts
        .iter()
        .take(NAMED_IN_MESSAGE)
        .map(|fact| fact.text.clone())
        .collect();
    if facts.len() > NAMED_IN_MESSAGE {
        names.push(format!("{} more", facts.len() - NAMED_IN_MESSAGE));
    }
    and_list(&names)
}

/// `pending_at` is the database's position when the revision is pending, `None` when it is
/// recorded as applied.
fn finding(
    ctx: &Context<'_>,
    live: &LiveState,
    facts: &RevisionFacts,
    pending_at: Option<&[String]>,
) -> Finding {
    let revision = &ctx.revisions[facts.revision];
    let present: Vec<&Fact> = facts.present().collect();
    let absent: Vec<&Fact> = facts.absent().collect();
    let total = facts.facts.len();
    let message = match pending_at {
        None => format!(
            "revision {} is recorded as applied, but only {} of its {total} changes are in the \
             database: {}",
            revision_title(revision),
            present.len(),
            named(&absent)
        ),
        Some(at) => format!(
            "revision {} is not recorded as applied (the database is at {}), yet {} of its \
             {total} changes are in the database: {}",
            revision_title(revision),
            revisions_phrase(at),
            present.len(),
            named(&present)
        ),
    };
    let upgrade = ctx.flavor.command(&format!("upgrade {}", head_word(ctx)));
    let help = match pending_at {
        None => "the migration stopped part way (or its SQL was run in part) and the revision \
                 was recorded anyway: run the missing statements (the fix below) after checking \
                 them against the revision file"
            .to_owned(),
        Some(_) => format!(
            "the migration stopped part way: finish it by hand (the fix below) and record it \
             with `{}`, then `{upgrade}`; or undo what it did and run `{upgrade}`",
            ctx.flavor.command(&format!("stamp {}", revision.id))
        ),
    };

    // The primary label goes on the first missing change: that is what needs doing.
    let first = absent.first().copied().unwrap_or(&facts.facts[0]);
    let mut finding = Finding::new(
        Rule::PartiallyAppliedRevision,
        FindingSource::Database,
        message,
    )
    .at(first.span.clone(), format!("not applied: {}", first.text))
    .object(&first.schema, &first.table, first.column.as_deref())
    .revision(revision.id.clone())
    .help(help);
    // A present table's own columns go without saying.
    let created_and_present = |schema: &str, table: &str| {
        facts.facts.iter().any(|fact| {
            fact.present
                && fact.change == Change::CreatesTable
                && fact.schema == schema
                && fact.table == table
        })
    };
    for fact in &facts.facts {
        if fact.span == first.span && fact.text == first.text {
            continue;
        }
        if fact.present
            && fact.change == Change::AddsColumn
            && created_and_present(&fact.schema, &fact.table)
        {
            continue;
        }
        let text = if fact.present {
            format!("applied: {}", fact.text)
        } else {
            format!("not applied: {}", fact.text)
        };
        finding = finding.related(fact.span.clone(), text);
    }
    // A revision never recorded is recorded once finished, where `alembic upgrade` would put it.
    let version = pending_at.map(|_| {
        let rows = live.database_revisions().unwrap_or_default();
        VersionChange {
            table: live
                .version_table()
                .cloned()
                .unwrap_or_else(|| TableKey::new("public", "alembic_version")),
            from: rows.iter().map(|&i| ctx.revisions[i].id.clone()).collect(),
            to: versions_after(ctx.graph, rows, &[facts.revision])
                .into_iter()
                .map(|i| ctx.revisions[i].id.clone())
                .collect(),
        }
    });
    match partial_fix(
        ctx.revisions,
        ctx.graph,
        ctx.sources,
        facts.revision,
        live.live(),
        version.as_ref(),
    ) {
        Some(fix) => finding.fix(fix),
        // Never an empty fix: say why there is none.
        None => {
            let help = finding.help.take().unwrap_or_default();
            finding.help(format!(
                "{help}; driftlint cannot write the SQL for what is missing ({}): write it by \
                 hand from the revision file",
                named(&absent)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::live_state::test_support::*;
    use crate::schema::model::TableKey;

    #[test]
    fn the_newest_revision_recorded_but_only_half_there() {
        let mut project = app_project();
        let expectations = project
            .expectations("version: 1\ntables:\n  users:\n    columns: [id, locked_until]\n");
        let mut live = project.live_at(&["r3"]);
        // r3's create_table ran; the add_column did not.
        drop_column(&mut live.schema, "users", "locked_until");
        let found = project.findings(live, Some(&expectations));
        assert_eq!(
            lines(&found),
            ["partially-applied-revision: public.users.locked_until (r3)"]
        );
        let finding = &found[0];
        assert_eq!(
            finding.message,
            "revision r3 (revision r3) is recorded as applied, but only 3 of its 4 changes are in \
             the database: column public.users.locked_until does not exist"
        );
        assert_eq!(
            project.place(&finding.primary.as_ref().expect("labelled").span),
            "versions/r3.py:op_0()"
        );
        assert_eq!(
            finding.fix.as_ref().expect("fix").sql,
            [
                "-- Running upgrade r2 -> r3 (versions/r3.py) — only what is missing",
                "SELECT COALESCE((NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass('public.users') AND attname = 'locked_until' AND attnum > 0 AND NOT attisdropped)), false) AS driftlint_guard \\gset",
                "\\if :driftlint_guard",
                "ALTER TABLE users ADD COLUMN locked_until timestamp without time zone;",
                "\\endif",
            ]
        );
    }

    #[test]
    fn the_rendered_finding_marks_what_is_applied_and_what_is_not() {
        let project = app_project();
        let mut live = project.live_at(&["r3"]);
        drop_column(&mut live.schema, "users", "locked_until");
        let found = project.findings(live, None);
        insta::assert_snapshot!(crate::report::human::render(
            &project.sources,
            &found,
            false,
            100
        ));
    }

    #[test]
    fn a_pending_revision_half_there_is_reported_with_the_database_behind() {
        let project = app_project();
        let mut live = project.live_at(&["r1"]);
        // `alembic upgrade` stopped inside r2, after its first statement.
        let r2 = project.live_at(&["r2"]).schema;
        let guest = r2
            .table("public", "users")
            .and_then(|users| users.column("is_guest"))
            .expect("r2 adds is_guest")
            .clone();
        table_mut(&mut live.schema, "users").columns.push(guest);
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            [
                "database-behind-head: - (r2)",
                "partially-applied-revision: public.users.is_test_account (r2)",
            ]
        );
        assert_eq!(
            found[1].message,
            "revision r2 (revision r2) is not recorded as applied (the database is at revision \
             r1), yet 1 of its 2 changes are in the database: column public.users.is_guest exists"
        );
        assert_eq!(
            found[1].fix.as_ref().expect("fix").sql,
            [
                "-- Running upgrade r1 -> r2 (versions/r2.py) — only what is missing",
                "-- the first 1 operation of r2 reached the database; the rest follows",
                "SELECT COALESCE((COALESCE((SELECT array_agg(version_num::text ORDER BY version_num COLLATE \"C\") FROM public.alembic_version), ARRAY[]::text[]) = ARRAY['r1']::text[]), false) AS driftlint_guard \\gset",
                "\\if :driftlint_guard",
                "ALTER TABLE users ADD COLUMN is_test_account boolean;",
                "\\endif",
                "UPDATE public.alembic_version SET version_num = 'r2' WHERE version_num = 'r1';",
            ]
        );
        assert!(
            found[0]
                .help
                .as_deref()
                .is_some_and(|help| help
                    .ends_with("first finish or undo r2 (see partially-applied-revision)")),
            "{:?}",
            found[0].help
        );
    }

    /// `a1` creates `audit (id, actor, at)`; the database records it, and has the table without
    /// `at`, its `actor` retyped and made nullable by hand, and a column added by hand.
    fn audit_project() -> TestProject {
        TestProject::new(vec![
            step(
                "r1",
                &[],
                vec![create_table(
                    "users",
                    vec![col("id", "integer").pk(), col("email", "text")],
                )],
            ),
            step(
                "a1",
                &["r1"],
                vec![create_table(
                    "audit",
                    vec![
                        col("id", "integer").pk(),
                        col("actor", "varchar(64)").not_null(),
                        col("at", "timestamp").not_null().default("now()"),
                    ],
                )],
            ),
        ])
    }

    #[test]
    fn a_created_table_without_one_column_gets_the_column_and_other_drift_is_reported() {
        let project = audit_project();
        let mut live = project.live_at(&["a1"]);
        drop_column(&mut live.schema, "audit", "at");
        let audit = table_mut(&mut live.schema, "audit");
        let actor = audit
            .columns
            .iter_mut()
            .find(|c| c.name == "actor")
            .expect("actor");
        actor.ty = crate::schema::types::PgType::parse("text").expect("type");
        actor.nullable = true;
        audit.columns.push(plain_column("note", "text"));
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            [
                "untracked-column: public.audit.note",
                "column-type-mismatch: public.audit.actor (a1)",
                "nullability-mismatch: public.audit.actor (a1)",
                "partially-applied-revision: public.audit.at (a1)",
            ]
        );
        let partial = &found[3];
        let fix = partial.fix.as_ref().expect("a fix");
        assert_eq!(fix.title, "finish revision a1 (1 missing operation)");
        assert_eq!(
            fix.sql,
            [
                "-- Running upgrade r1 -> a1 (versions/a1.py) — only what is missing",
                "-- table public.audit exists without column at, which revision a1 creates it with",
                "ALTER TABLE public.audit ADD COLUMN IF NOT EXISTS at timestamp without time zone DEFAULT now() NOT NULL;",
            ]
        );
    }

    #[test]
    fn a_pending_revision_whose_table_lacks_a_column_is_finished() {
        let project = audit_project();
        let mut live = project.live_at(&["r1"]);
        let a1 = project.live_at(&["a1"]).schema;
        let mut audit = a1
            .table("public", "audit")
            .expect("a1 creates audit")
            .clone();
        audit.columns.retain(|column| column.name != "at");
        live.schema
            .tables
            .insert(TableKey::new("public", "audit"), audit);
        let found = project.findings(live, None);
        assert_eq!(
            lines(&found),
            [
                "database-behind-head: - (a1)",
                "partially-applied-revision: public.audit.at (a1)",
            ]
        );
        let fix = found[1].fix.as_ref().expect("a fix");
        assert_eq!(fix.title, "finish revision a1 (1 missing operation)");
        assert!(
            fix.sql.iter().any(|line| line
                == "ALTER TABLE public.audit ADD COLUMN IF NOT EXISTS at timestamp without time zone DEFAULT now() NOT NULL;"),
            "{:#?}",
            fix.sql
        );
        assert_eq!(
            fix.sql.last().map(String::as_str),
            Some("UPDATE public.alembic_version SET version_num = 'a1' WHERE version_num = 'r1';")
        );
    }
}
