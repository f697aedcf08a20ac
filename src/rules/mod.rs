//! The rules: one module per rule, one registry table ([`RULES`]) that names each rule, gives its
//! default severity and embeds its documentation from `rules/<name>.md`.
//!
//! Invariant: rules are pure. A rule's `check` reads the [`Context`] and pushes findings; it does
//! no I/O. Findings that arise while reading input (a revision file that does not parse, an
//! operation the replay cannot model) are made by the reading code with the rule's constructor
//! and handed in through [`Context::input_findings`].

use std::fmt;

use crate::alembic::Revision;
use crate::fix::Fix;
use crate::graph::RevisionGraph;
use crate::source::{Sources, Span};

pub mod column_type_mismatch;
mod database_behind_head;
mod database_not_versioned;
mod database_unknown_revision;
mod duplicate_revision;
pub mod expectation_checks;
pub mod forbidden_column_present;
mod lint_config;
mod live_checks;
pub mod live_state;
pub mod migration_snippets;
pub mod missing_column;
mod missing_parent;
pub mod missing_table;
mod multiple_bases;
mod multiple_heads;
pub mod nullability_mismatch;
mod partially_applied_revision;
pub mod primary_key_mismatch;
mod revision_cycle;
mod sequence_behind;
mod stamped_not_applied;
mod unmodeled_operation;
pub mod unparsable_migration;
mod untracked_column;
mod untracked_table;
pub mod unused_ignore;

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding is about: the revision files (and the schema they produce), the live
/// database, or the expectations file itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingSource {
    Migrations,
    Database,
    Expectations,
}

impl FindingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingSource::Migrations => "migrations",
            FindingSource::Database => "database",
            FindingSource::Expectations => "expectations",
        }
    }
}

/// A place in a source file with a short text saying what is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// The database object a finding is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub schema: String,
    pub table: String,
    pub column: Option<String>,
}

/// One disagreement between migrations, expectations and database.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    pub source: FindingSource,
    /// States the fact and names the object, for example
    /// `column public.users.locked_until does not exist`.
    pub message: String,
    /// Where the finding is: the operation, the header line, the expectation.
    pub primary: Option<Label>,
    /// Context in other places (or other files): the other file defining a duplicate id, the
    /// revision that created a column.
    pub related: Vec<Label>,
    pub object: Option<ObjectRef>,
    pub revision: Option<String>,
    pub fix: Option<Fix>,
    /// What to change, in a sentence or two.
    pub help: Option<String>,
}

impl Finding {
    /// A finding of `rule` at its default severity.
    pub fn new(rule: Rule, source: FindingSource, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.info().severity,
            source,
            message: message.into(),
            primary: None,
            related: Vec::new(),
            object: None,
            revision: None,
            fix: None,
            help: None,
        }
    }

    pub fn at(mut self, span: Span, text: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn related(mut self, span: Span, text: impl Into<String>) -> Self {
        self.related.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn object(mut self, schema: &str, table: &str, column: Option<&str>) -> Self {
        self.object = Some(ObjectRef {
            schema: schema.to_owned(),
            table: table.to_owned(),
            column: column.map(str::to_owned),
        });
        self
    }

    pub fn revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = Some(revision.into());
        self
    }

    pub fn fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// How many heads the graph may have: a number, or a list of branch labels each of which may
/// carry one head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedHeads {
    Count(usize),
    Labels(Vec<String>),
}

impl Default for AllowedHeads {
    fn default() -> Self {
        AllowedHeads::Count(1)
    }
}

/// Which tool the project drives Alembic through; it decides how fix commands are spelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Flavor {
    #[default]
    Alembic,
    FlaskMigrate,
}

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
    pub replay_problems: &'a [crate::schema::replay::ReplayProblem],
    /// The live database and where it stands against the migrations, when the check was given
    /// one (`--database-url`, `--live`).
    pub live: Option<&'a live_state::LiveState>,
}

type CheckFn = fn(&Context<'_>, &mut Vec<Finding>);

/// One row of the registry.
pub struct RuleInfo {
    pub rule: Rule,
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// The rule's documentation, `rules/<name>.md`.
    pub doc: &'static str,
    pub check: CheckFn,
}

macro_rules! registry {
    ($( $variant:ident, $name:literal, $severity:ident, $module:ident, $summary:literal; )*) => {
        /// Every rule driftlint knows.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule { $( $variant, )* }

        /// The registry: one row per rule, in the order `explain --list` prints them.
        pub static RULES: &[RuleInfo] = &[
            $( RuleInfo {
                rule: Rule::$variant,
                name: $name,
                severity: Severity::$severity,
                summary: $summary,
                doc: include_str!(concat!("../../rules/", $name, ".md")),
                check: $module::check,
            }, )*
        ];
    };
}

registry! {
    MultipleHeads, "multiple-heads", Error, multiple_heads,
        "more heads than the expectations allow (default 1)";
    MissingParent, "missing-parent", Error, missing_parent,
        "a down_revision or depends_on naming a revision that no file defines";
    DuplicateRevision, "duplicate-revision", Error, duplicate_revision,
        "two files defining the same revision id";
    RevisionCycle, "revision-cycle", Error, revision_cycle,
        "a cycle in the revision graph";
    MultipleBases, "multiple-bases", Warning, multiple_bases,
        "more than one root revision outside named branches";
    UnparsableMigration, "unparsable-migration", Error, unparsable_migration,
        "a revision file that is not valid Python or defines no revision";
    UnmodeledOperation, "unmodeled-operation", Info, unmodeled_operation,
        "an operation in upgrade() the replay cannot model";
    MissingTable, "missing-table", Error, missing_table,
        "an expected table does not exist";
    MissingColumn, "missing-column", Error, missing_column,
        "an expected column does not exist";
    ForbiddenColumnPresent, "forbidden-column-present", Error, forbidden_column_present,
        "a column listed in absent_columns exists";
    PrimaryKeyMismatch, "primary-key-mismatch", Error, primary_key_mismatch,
        "the primary key's columns differ from what is expected";
    ColumnTypeMismatch, "column-type-mismatch", Error, column_type_mismatch,
        "a column's type differs from what is expected";
    NullabilityMismatch, "nullability-mismatch", Warning, nullability_mismatch,
        "a column's nullability differs from what is expected";
    DatabaseNotVersioned, "database-not-versioned", Error, database_not_versioned,
        "the database has no alembic_version table, or it is empty";
    DatabaseBehindHead, "database-behind-head", Error, database_behind_head,
        "the database's revision is an ancestor of a head: migrations are pending";
    DatabaseUnknownRevision, "database-unknown-revision", Error, database_unknown_revision,
        "the database's revision is not in the graph";
    StampedNotApplied, "stamped-not-applied", Error, stamped_not_applied,
        "the database claims a revision whose changes are absent from its schema";
    PartiallyAppliedRevision, "partially-applied-revision", Error, partially_applied_revision,
        "some but not all changes of one revision are present";
    SequenceBehind, "sequence-behind", Error, sequence_behind,
        "a serial or identity sequence would hand out a value at or below the column's maximum";
    UntrackedTable, "untracked-table", Warning, untracked_table,
        "a table in the database that no migration creates";
    UntrackedColumn, "untracked-column", Warning, untracked_column,
        "a column in the database that no migration creates";
    UnusedIgnore, "unused-ignore", Info, unused_ignore,
        "a `# driftlint: ignore[...]` comment that matches no finding, or names no rule";
}

pub use expectation_checks::check_expectations;
pub use lint_config::apply_lint_config;
pub use unused_ignore::{HEADER_RULES, LIVE_ONLY_RULES, apply_inline_ignores};

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

impl Rule {
    pub fn info(self) -> &'static RuleInfo {
        RULES
            .iter()
            .find(|r| r.rule == self)
            .expect("every Rule variant has a registry row")
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn from_name(name: &str) -> Option<Rule> {
        RULES.iter().find(|r| r.name == name).map(|r| r.rule)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs every rule and returns the findings sorted by file, position and rule.
pub fn run_all(ctx: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in RULES {
        (rule.check)(ctx, &mut findings);
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
