//! `unparsable-migration`: a revision file driftlint cannot read as a revision — not valid
//! Python, not decodable, or without a `revision` (or `down_revision`) it can resolve. A
//! `branch_labels` or `depends_on` value that is not a literal is the same rule at warning
//! severity: the file is read, but the graph may miss what that value holds.
//!
//! The findings are made while the files are read, by `crate::alembic::problems` (the reader
//! says what it could not read; this module does not reach into it), and handed to [`check`]
//! through [`Context::input_findings`].

use super::{Context, Finding, Rule};

/// Copies the findings of this rule that reading the revision files produced.
pub fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    out.extend(
        ctx.input_findings
            .iter()
            .filter(|finding| finding.rule == Rule::UnparsableMigration)
            .cloned(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alembic::problems::*;
    use crate::diagnostic::{FindingSource, Severity};
    use crate::graph::RevisionGraph;
    use crate::rules::{AllowedHeads, Flavor};
    use crate::source::Span;
    use crate::source::{FileId, Sources};

    #[test]
    fn check_passes_on_its_own_findings_only() {
        let span = Span::new(FileId(0), 0..1);
        let input = vec![
            missing_variable(span.clone(), "versions/a.py", "revision"),
            Finding::new(Rule::MultipleHeads, FindingSource::Migrations, "two heads"),
            unresolved_optional(span, "versions/b.py", "b", "depends_on", &["deps.X"]),
        ];
        let sources = Sources::new();
        let graph = RevisionGraph::build(&[]);
        let ctx = Context {
            sources: &sources,
            revisions: &[],
            graph: &graph,
            allowed_heads: AllowedHeads::default(),
            allowed_heads_span: None,
            flavor: Flavor::Alembic,
            input_findings: &input,
            expectations: None,
            head_schema: None,
            replay_problems: &[],
            live: None,
        };
        let mut out = Vec::new();
        check(&ctx, &mut out);
        let messages: Vec<&str> = out.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(out.iter().all(|f| f.rule == Rule::UnparsableMigration));
        assert_eq!(out[1].severity, Severity::Warning);
    }

    #[test]
    fn optional_values_are_warnings_and_the_rest_errors() {
        let span = Span::new(FileId(0), 0..4);
        let warning = unresolved_optional(
            span.clone(),
            "versions/a.py",
            "abc",
            "branch_labels",
            &["cli.EXPAND_BRANCH"],
        );
        assert_eq!(warning.severity, Severity::Warning);
        assert_eq!(warning.revision.as_deref(), Some("abc"));
        assert!(
            warning.message.contains("`cli.EXPAND_BRANCH`"),
            "{}",
            warning.message
        );

        let error = syntax_error(span, "versions/a.py", "Expected an expression");
        assert_eq!(error.severity, Severity::Error);
        assert_eq!(error.rule, Rule::UnparsableMigration);
        assert!(
            error
                .message
                .starts_with("versions/a.py is not valid Python")
        );
    }
}
