//! The check pipeline, for the command line and any other caller: every rule whose inputs are
//! present, inline ignores (and `unused-ignore`), which side of a merge brought each head, a
//! stable order, and the expectations' `lint:` settings. The caller loads the inputs into a
//! [`Context`] and prints the result; nothing here reads files, the environment or a database.

use crate::against::{AfterMerge, explain_after_merge};
use crate::diagnostic::{Finding, Rule};
use crate::rules::{self, Context};

/// The findings of a check, in their final order and severities.
pub fn run(ctx: &Context<'_>, after_merge: Option<&AfterMerge>) -> Vec<Finding> {
    let mut findings = rules::run_all(ctx);
    // An ignore of a rule that did not run is not stale: the live rules run only against a
    // database, and the rules on `upgrade()` only when it was read (with expectations or a
    // database to compare it with).
    let inputs = ctx.inputs();
    let ran = |rule: Rule| rule.info().runs(inputs);
    let revision_files = ctx.revisions.iter().map(|revision| revision.file);
    rules::apply_inline_ignores(ctx.sources, revision_files, &mut findings, &ran);
    if let Some(after_merge) = after_merge {
        explain_after_merge(after_merge, ctx.revisions, ctx.graph, &mut findings);
    }
    rules::sort_findings(ctx.sources, &mut findings);
    if let Some(expectations) = ctx.expectations {
        rules::apply_lint_config(expectations, &mut findings);
    }
    findings
}
