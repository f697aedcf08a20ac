//! The fixes that are guidance rather than SQL: when the database's version table is missing,
//! empty or names a revision no file defines, the right move is to record the revision the
//! schema really matches, with the project's own tool, after a person has checked it.
//!
//! Invariant: these fixes are `ReviewOnly`; the fix script lists them as comments and never runs
//! them. Commands name real revision ids, never placeholders.

use super::{Fix, Safety, comment_line};

use crate::alembic::Flavor;

/// `database-not-versioned` when the schema matches `revisions` (all their changes present,
/// none of their descendants'): record them with `stamp`. `complete` when they are the heads.
pub fn stamp_fix(flavor: Flavor, revisions: &[String], complete: bool) -> Fix {
    let ids = revisions.join(" ");
    let mut sql = vec![
        comment_line(&format!(
            "the schema has every change of {} and none of the revisions after {}",
            revisions.join(", "),
            if revisions.len() == 1 { "it" } else { "them" }
        )),
        "-- once you have checked that, record it (this creates the version table):".to_owned(),
        comment_line(&flavor.command(&format!("stamp {ids}"))),
    ];
    if !complete {
        sql.push(format!(
            "-- then apply the rest: {}",
            flavor.command("upgrade heads")
        ));
    }
    Fix {
        title: format!("record revision {} with `stamp`", revisions.join(", ")),
        sql,
        safety: Safety::ReviewOnly,
    }
}

/// `database-not-versioned` when nothing the migrations create is there: run them all.
pub fn upgrade_from_empty_fix(flavor: Flavor) -> Fix {
    Fix {
        title: "run every migration".to_owned(),
        sql: vec![
            "-- nothing the migrations create is in the database: run them all".to_owned(),
            format!("-- {}", flavor.command("upgrade heads")),
        ],
        safety: Safety::ReviewOnly,
    }
}

/// `database-unknown-revision`: the version table names `unknown`, which no revision file
/// defines. When the schema matches `matching`, re-record it with `stamp --purge` (plain `stamp`
/// refuses to start from an unknown revision); otherwise say what to look for.
pub fn unknown_revision_fix(
    flavor: Flavor,
    unknown: &[String],
    matching: Option<&[String]>,
) -> Fix {
    let mut sql = vec![comment_line(&format!(
        "the database is stamped {}, which no revision file defines: the code is behind the \
         database, or revision files were deleted",
        unknown.join(", ")
    ))];
    match matching {
        Some(revisions) if !revisions.is_empty() => {
            sql.push(comment_line(&format!(
                "the schema matches {}; once you have checked that this code is the one to \
                 deploy, re-record the version table:",
                revisions.join(", ")
            )));
            sql.push(comment_line(
                &flavor.command(&format!("stamp --purge {}", revisions.join(" "))),
            ));
        }
        _ => sql.push(
            "-- deploy the code that has that revision file, or restore the missing file; \
             no revision of this code matches the schema"
                .to_owned(),
        ),
    }
    Fix {
        title: format!("resolve unknown revision {}", unknown.join(", ")),
        sql,
        safety: Safety::ReviewOnly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guidance_names_the_real_revisions_and_the_projects_tool() {
        let fix = stamp_fix(Flavor::FlaskMigrate, &["0003".into()], false);
        assert_eq!(fix.safety, Safety::ReviewOnly);
        assert_eq!(fix.sql[2], "-- flask db stamp 0003");
        assert_eq!(fix.sql[3], "-- then apply the rest: flask db upgrade heads");
        let unknown = unknown_revision_fix(
            Flavor::Alembic,
            &["deadbeef".into()],
            Some(&["0004".into()]),
        );
        assert_eq!(unknown.sql[2], "-- alembic stamp --purge 0004");
        assert!(unknown.sql.iter().all(|line| line.starts_with("--")));
    }
}
