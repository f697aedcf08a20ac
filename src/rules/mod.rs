//! The rules: one module per rule, each with its `check`, run by [`run_all`] when the inputs the
//! rule's registry row names are present. The registry itself (names, severities, inputs,
//! documentation) is [`crate::diagnostic`]'s, and the table of `check` functions is made here from
//! the same rows.
//!
//! Invariant: rules are pure. A rule's `check` reads the [`Context`] and pushes findings; it does
//! no I/O. Findings that arise while reading input (a revision file that does not parse, an
//! operation the replay cannot model) are made by the reading code with the rule's constructor
//! and handed in through [`Context::input_findings`].

pub use crate::alembic::Flavor;
use crate::alembic::Revision;
pub use crate::diagnostic::{
    Finding, FindingSource, Input, Inputs, Kind, Label, ObjectRef, RULES, Rule, RuleInfo, Severity,
};
pub use crate::expect::AllowedHeads;
use crate::graph::RevisionGraph;
use crate::source::{Sources, Span};

pub mod column_type_mismatch;
pub mod compare;
mod database_behind_head;
mod database_not_versioned;
mod database_unknown_revision;
mod duplicate_revision;
pub mod forbidden_column_present;
mod lint_config;
pub mod live_state;
pub mod migration_snippets;
pub mod missing_column;
mod missing_parent;
pub mod missing_table;
mod multiple_bases;
mod multiple_heads;
pub mod nullability_mismatch;
mod partially_applied_revision;
mod phrases;
pub mod primary_key_mismatch;
mod revision_cycle;
mod sequence_behind;
mod stamped_not_applied;
mod unmodeled_operation;
pub mod unparsable_migration;
mod untracked_column;
mod untracked_table;
pub mod unused_ignore;

/// Everything a rule may look at.
pub struct Context<'a> {
    pub sources: &'a Sources,
    pub revisions: &'a [Revision],
    pub graph: &'a RevisionGraph,
    pub allowed_heads: AllowedHeads,
    /// Where the expectations declared `heads:`, for findings about the number of heads.
    pub allowed_heads_span: Option<Span>,
    pub flavor: Flavor,
    /// Findings made while reading the input, handed to the rule that owns them.
    pub input_findings: &'a [Finding],
    /// The expectations, when a file was found or given.
    pub expectations: Option<&'a crate::expect::Expectations>,
    /// The schema the migrations produce at their heads (the replay), when it was computed.
    pub head_schema: Option<&'a crate::schema::model::Schema>,
    /// Operations the replay to the heads could not fit into the schema built before them.
    pub replay_problems: &'a [crate::replay::ReplayProblem],
    /// The live database and where it stands against the migrations, when the check was given
    /// one (`--database-url`, `--live`).
    pub live: Option<&'a live_state::LiveState>,
}

impl Context<'_> {
    /// The inputs this run has, which decide the rules that run. The `upgrade()` bodies are
    /// read when there is something to compare what they make with: expectations or a database.
    pub fn inputs(&self) -> Inputs {
        Inputs {
            operations: self.expectations.is_some() || self.live.is_some(),
            expectations: self.expectations.is_some(),
            database: self.live.is_some(),
        }
    }
}

type CheckFn = fn(&Context<'_>, &mut Vec<Finding>);

/// A registry row's `check`: a comparison rule's is the comparison driver running the rule's
/// `COMPARISON`, any other rule's is its module's `check`.
macro_rules! check_of {
    (Comparison, $module:ident) => {
        |ctx: &Context<'_>, out: &mut Vec<Finding>| compare::run(ctx, out, &$module::COMPARISON)
    };
    ($kind:ident, $module:ident) => {
        $module::check
    };
}

/// A registry row's comparison, when its kind is `Comparison`.
macro_rules! comparison_of {
    (Comparison, $module:ident) => {
        Some(&$module::COMPARISON)
    };
    ($kind:ident, $module:ident) => {
        None
    };
}

macro_rules! define_checks {
    ($( $variant:ident, $name:literal, $severity:ident, $kind:ident, [$($input:ident),*], $module:ident, $summary:literal; )*) => {
        /// Each rule's `check`, indexed by `Rule as usize` like [`RULES`].
        static CHECKS: &[CheckFn] = &[ $( check_of!($kind, $module), )* ];

        /// Each comparison rule's comparison, indexed by `Rule as usize` like [`RULES`].
        static COMPARISONS: &[Option<&compare::Comparison>] = &[ $( comparison_of!($kind, $module), )* ];
    };
}
crate::diagnostic::for_each_rule!(define_checks);

/// What a comparison rule compares, or `None` for a rule of another kind.
pub fn comparison(rule: Rule) -> Option<&'static compare::Comparison> {
    COMPARISONS[rule as usize]
}

/// Every comparison rule's findings on the expectations against `schema` (the migrations' head
/// or the database, as `source` says), in registry order.
pub fn check_expectations(
    expectations: &crate::expect::Expectations,
    schema: &crate::schema::model::Schema,
    source: FindingSource,
) -> Vec<Finding> {
    RULES
        .iter()
        .filter_map(|info| comparison(info.rule)?.expected)
        .flat_map(|expected| expected(expectations, schema, source))
        .collect()
}

pub use lint_config::apply_lint_config;
pub use unused_ignore::apply_inline_ignores;

/// The branch labels that apply to a revision (its own and its ancestors'), as `alembic heads`
/// shows them.
pub fn branch_labels_of(
    revisions: &[Revision],
    graph: &RevisionGraph,
    index: usize,
) -> std::collections::BTreeSet<String> {
    multiple_heads::labels_of(revisions, graph, index)
}

pub(crate) use missing_parent::edit_distance;

/// Runs one rule's `check`, whatever the inputs.
pub fn run_one(rule: Rule, ctx: &Context<'_>, out: &mut Vec<Finding>) {
    CHECKS[rule as usize](ctx, out);
}

/// Runs every rule whose inputs the context has and returns the findings sorted by file,
/// position and rule.
pub fn run_all(ctx: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let inputs = ctx.inputs();
    for (info, check) in RULES.iter().zip(CHECKS) {
        if info.runs(inputs) {
            check(ctx, &mut findings);
        }
    }
    sort_findings(ctx.sources, &mut findings);
    findings
}

/// A stable order: by file path, then position, then rule name, then message.
pub fn sort_findings(sources: &Sources, findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            f.primary
                .as_ref()
                .map(|l| (sources.get(l.span.file).display.clone(), l.span.range.start))
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.rule.name().cmp(b.rule.name()))
            .then_with(|| a.message.cmp(&b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_doc_has_a_rule_and_every_rule_a_doc() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("rules/ exists")
            .filter_map(|e| {
                let name = e.ok()?.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".md").map(str::to_owned)
            })
            .collect();
        on_disk.sort();
        let mut registered: Vec<String> = RULES.iter().map(|r| r.name.to_owned()).collect();
        registered.sort();
        assert_eq!(on_disk, registered, "rules/*.md and the registry disagree");
    }

    #[test]
    fn docs_have_the_sections() {
        for rule in RULES {
            for section in ["## What it finds", "## Why it matters", "## Fix"] {
                assert!(
                    rule.doc.contains(section),
                    "rules/{}.md lacks a `{section}` section",
                    rule.name
                );
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support;
