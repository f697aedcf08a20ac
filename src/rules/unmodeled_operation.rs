//! `unmodeled-operation`: an operation in `upgrade()` that the replay cannot model, so the schema
//! it computes (and every check on the tables involved) may be incomplete.
//!
//! The lowering (`python`) already decided what it could not model and why; this rule
//! only reports each [`Op::Unmodeled`] it left in a revision, at the call's span.

use super::{Context, Finding, FindingSource, Rule};
use crate::schema::ops::{Op, QualName};

pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for revision in ctx.revisions {
        for op_at in &revision.upgrade {
            let Op::Unmodeled { what, tables } = &op_at.op else {
                continue;
            };
            out.push(finding(what, tables, &revision.id, op_at.span.clone()));
        }
    }
    // An operation that does not fit the schema built before it (dropping a column no revision
    // created, say) is skipped by the replay: the schema after it may differ from the database's.
    for problem in ctx.replay_problems {
        out.push(
            Finding::new(
                Rule::UnmodeledOperation,
                FindingSource::Migrations,
                format!(
                    "the replay could not apply this operation: {}",
                    problem.message
                ),
            )
            .at(
                problem.span.clone(),
                "does not fit the schema replayed so far",
            )
            .revision(problem.revision.clone())
            .help(
                "The schema computed after this revision may be incomplete. Usually an earlier \
                 change was made outside the migrations (by hand, or in code the replay cannot \
                 follow); if so, checks on this table may report drift that is not there.",
            ),
        );
    }
}

fn display(table: &QualName) -> String {
    format!(
        "{}.{}",
        table.schema.as_deref().unwrap_or("public"),
        table.name
    )
}

fn finding(what: &str, tables: &[QualName], revision: &str, span: crate::source::Span) -> Finding {
    const REWRITE: &str = "Where you can, call the operation with literal table and column names \
                           outside loops, unknown conditions and try blocks";
    let names: Vec<String> = tables.iter().map(display).collect();
    let (message, help) = match tables {
        [] => (
            format!("the replay cannot model {what}; the tables it may change cannot be told"),
            format!(
                "Checks on the tables this operation changes may be incomplete. {REWRITE}; \
                 otherwise `{{ rule: unmodeled-operation }}` under `lint.ignore` in the \
                 expectations file silences every finding of this rule."
            ),
        ),
        [table] => {
            // An ignore entry names the table as the expectations do: bare in `public`.
            let entry_table = match table.schema.as_deref() {
                None | Some("public") => table.name.clone(),
                Some(schema) => format!("{schema}.{}", table.name),
            };
            (
                format!("the replay cannot model {what}; it may change {}", names[0]),
                format!(
                    "Checks on {} may be incomplete. {REWRITE}; otherwise silence this finding \
                     with `{{ rule: unmodeled-operation, table: {entry_table} }}` under \
                     `lint.ignore` in the expectations file.",
                    names[0]
                ),
            )
        }
        _ => {
            let list = names.join(", ");
            (
                format!("the replay cannot model {what}; it may change {list}"),
                format!(
                    "Checks on {list} may be incomplete. {REWRITE}; otherwise \
                     `{{ rule: unmodeled-operation }}` under `lint.ignore` in the expectations \
                     file silences every finding of this rule."
                ),
            )
        }
    };
    let mut finding = Finding::new(Rule::UnmodeledOperation, FindingSource::Migrations, message)
        .at(span, "not modelled by the replay")
        .revision(revision)
        .help(help);
    // With one table the finding is about it, so `lint.ignore` entries naming it match.
    if let [table] = tables {
        finding = finding.object(
            table.schema.as_deref().unwrap_or("public"),
            &table.name,
            None,
        );
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alembic::Revision;
    use crate::graph::RevisionGraph;
    use crate::rules::{AllowedHeads, Flavor, Severity};
    use crate::schema::ops::OpAt;
    use crate::source::{FileId, Sources, Span};

    fn revision(id: &str, upgrade: Vec<OpAt>) -> Revision {
        Revision {
            id: id.to_owned(),
            down_revisions: Vec::new(),
            branch_labels: Vec::new(),
            depends_on: Vec::new(),
            message: None,
            file: FileId(0),
            id_span: Span::new(FileId(0), 0..1),
            down_span: None,
            branch_labels_span: None,
            depends_on_span: None,
            upgrade_span: None,
            upgrade,
        }
    }

    fn op_at(op: Op, start: u32) -> OpAt {
        OpAt {
            op,
            span: Span::new(FileId(0), start..start + 5),
            autocommit: false,
        }
    }

    fn findings(revisions: &[Revision]) -> Vec<Finding> {
        let sources = Sources::new();
        let graph = RevisionGraph::build(revisions);
        let ctx = Context {
            sources: &sources,
            revisions,
            graph: &graph,
            allowed_heads: AllowedHeads::default(),
            allowed_heads_span: None,
            flavor: Flavor::default(),
            input_findings: &[],
            expectations: None,
            head_schema: None,
            replay_problems: &[],
            live: None,
        };
        let mut out = Vec::new();
        check(&ctx, &mut out);
        out
    }

    #[test]
    fn one_finding_per_unmodeled_operation() {
        let revisions = vec![revision(
            "abc123",
            vec![
                op_at(
                    Op::DropTable {
                        table: QualName::new(None, "modelled"),
                    },
                    0,
                ),
                op_at(
                    Op::Unmodeled {
                        what: "op.add_column inside a for loop over a computed list (`tables`)"
                            .to_owned(),
                        tables: vec![],
                    },
                    10,
                ),
                op_at(
                    Op::Unmodeled {
                        what: "op.drop_column inside a try block".to_owned(),
                        tables: vec![QualName::new(Some("app"), "users")],
                    },
                    20,
                ),
            ],
        )];
        let found = findings(&revisions);
        assert_eq!(found.len(), 2);
        let first = &found[0];
        assert_eq!(first.rule, Rule::UnmodeledOperation);
        assert_eq!(first.severity, Severity::Info);
        assert_eq!(first.source, FindingSource::Migrations);
        assert_eq!(
            first.message,
            "the replay cannot model op.add_column inside a for loop over a computed list \
             (`tables`); the tables it may change cannot be told"
        );
        assert_eq!(first.revision.as_deref(), Some("abc123"));
        assert_eq!(
            first.primary.as_ref().map(|l| l.span.range.clone()),
            Some(10..15)
        );
        assert!(first.object.is_none());
        let second = &found[1];
        assert_eq!(
            second.message,
            "the replay cannot model op.drop_column inside a try block; it may change app.users"
        );
        let object = second.object.as_ref().expect("one table names the object");
        assert_eq!(
            (object.schema.as_str(), object.table.as_str()),
            ("app", "users")
        );
        let help = second.help.as_deref().expect("help");
        assert!(help.starts_with("Checks on app.users may be incomplete."));
        assert!(help.contains("{ rule: unmodeled-operation, table: app.users }"));
        assert!(
            found[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("{ rule: unmodeled-operation }"))
        );
    }

    #[test]
    fn tables_without_a_schema_are_public() {
        let revisions = vec![revision(
            "r",
            vec![op_at(
                Op::Unmodeled {
                    what: "op.execute with SQL computed at run time".to_owned(),
                    tables: vec![QualName::new(None, "a"), QualName::new(None, "b")],
                },
                0,
            )],
        )];
        let found = findings(&revisions);
        assert_eq!(
            found[0].message,
            "the replay cannot model op.execute with SQL computed at run time; it may change \
             public.a, public.b"
        );
        assert!(found[0].object.is_none());
    }

    #[test]
    fn modelled_revisions_have_no_findings() {
        let revisions = vec![revision(
            "r",
            vec![op_at(
                Op::DropTable {
                    table: QualName::new(None, "t"),
                },
                0,
            )],
        )];
        assert!(findings(&revisions).is_empty());
    }
}
