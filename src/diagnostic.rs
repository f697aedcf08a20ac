//! What a finding is, with no checks in it: the rule ids and their registry rows (name, default
//! severity, what the rule needs to run, the documentation), severities, the finding with its
//! labels, object and fix. Every module that makes findings (the readers, the replay, the rules)
//! depends on this one, and this one on nothing above it.
//!
//! Invariant: one row per rule, in [`for_each_rule!`]. The `Rule` enum and [`RULES`] are made
//! from it here, and the rules module makes its table of `check` functions from the same row, so
//! a rule is added by adding its row, its module, its `rules/<name>.md` and its fixture.

use std::fmt;

use crate::source::Span;

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

/// How safe a fix is to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// Runnable SQL that loses no data.
    Safe,
    /// Runnable SQL that can lose data (drops a column, a table or a key's column).
    Destructive,
    /// Not SQL to run against the database: a snippet for a new migration, or guidance.
    ReviewOnly,
}

/// A concrete fix: real values, never placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// A short imperative title ("advance the sequence", "write a migration that adds the column").
    pub title: String,
    /// SQL statements, each complete with its terminating semicolon, or for `ReviewOnly` fixes
    /// the snippet's lines.
    pub sql: Vec<String>,
    pub safety: Safety,
}

/// A fix split into what can run against the database and what belongs in a new migration
/// (machine formats carry them apart: `sql` never holds Python).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixParts {
    /// SQL statements (and the `--` comments and psql guards around them), or `None`.
    pub sql: Option<String>,
    /// The Alembic operation(s) for a new migration, or `None`.
    pub migration: Option<String>,
}

/// The prefix under which a review-only snippet lists the SQL its operation amounts to.
pub const SNIPPET_SQL_PREFIX: &str = "# SQL: ";

impl Fix {
    /// The fix as SQL and migration apart. A review-only fix is a snippet for a new migration:
    /// its Python lines are the migration, the statements it lists under
    /// [`SNIPPET_SQL_PREFIX`] the SQL; a review-only fix of `--` lines alone (guidance) is
    /// comments, not Python. Other fixes are SQL.
    pub fn parts(&self) -> FixParts {
        let joined = |lines: Vec<&str>| (!lines.is_empty()).then(|| lines.join("\n"));
        if self.safety != Safety::ReviewOnly {
            return FixParts {
                sql: joined(self.sql.iter().map(String::as_str).collect()),
                migration: None,
            };
        }
        let mut sql = Vec::new();
        let mut migration = Vec::new();
        for line in &self.sql {
            if let Some(statement) = line.strip_prefix(SNIPPET_SQL_PREFIX) {
                sql.push(statement);
            } else if line.starts_with("--") {
                sql.push(line.as_str());
            } else {
                migration.push(line.as_str());
            }
        }
        FixParts {
            sql: joined(sql),
            migration: joined(migration),
        }
    }
}

impl Fix {
    pub fn is_destructive(&self) -> bool {
        self.safety == Safety::Destructive
    }
}

/// The comment that precedes a statement that can lose data; the fix script comments the
/// statement out unless `--allow-destructive` is given.
pub const DESTRUCTIVE_MARK: &str = "-- DESTRUCTIVE";

/// The comment that precedes a statement PostgreSQL refuses inside a transaction block
/// (`CREATE INDEX CONCURRENTLY`, what a revision runs in `autocommit_block()`); the fix script
/// runs it after the transaction.
pub const OUTSIDE_TRANSACTION_MARK: &str = "-- outside a transaction";

/// What a rule needs in order to run at all. The driver skips a rule when none of the inputs it
/// runs with is present, and an inline ignore of a rule that did not run is not reported as
/// unused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The revision files' headers and the graph they make: always there.
    Headers,
    /// The operations of every `upgrade()`, lowered and replayed (read when there are
    /// expectations or a database to compare them with).
    Operations,
    /// An expectations file.
    Expectations,
    /// A live database.
    Database,
}

/// When a rule's findings are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// By the rule's `check`, from the inputs.
    Check,
    /// By the comparison driver (`rules::compare`), from the comparison the rule's module
    /// states: the expectations against the migrations' head and the database, the database
    /// against the migrations replayed to its revision.
    Comparison,
    /// By the code that reads the input (a revision file that cannot be read), handed to the
    /// rule through the context.
    Reading,
    /// After every other rule, from their findings (`unused-ignore`).
    PostPass,
}

/// Which inputs a run has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    pub operations: bool,
    pub expectations: bool,
    pub database: bool,
}

impl Inputs {
    pub fn has(self, input: Input) -> bool {
        match input {
            Input::Headers => true,
            Input::Operations => self.operations,
            Input::Expectations => self.expectations,
            Input::Database => self.database,
        }
    }
}

/// One row of the registry.
pub struct RuleInfo {
    pub rule: Rule,
    pub name: &'static str,
    pub severity: Severity,
    pub kind: Kind,
    /// The rule runs when any one of these inputs is present.
    pub runs_with: &'static [Input],
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// The rule's documentation, `rules/<name>.md`.
    pub doc: &'static str,
}

impl RuleInfo {
    /// The documentation as a reader sees it: without the `<!-- … -->` lines that mark its
    /// samples for the test that keeps them true (`tests/docs.rs`).
    pub fn doc_text(&self) -> String {
        let mut text = String::with_capacity(self.doc.len());
        for line in self.doc.split_inclusive('\n') {
            let trimmed = line.trim();
            if !(trimmed.starts_with("<!--") && trimmed.ends_with("-->")) {
                text.push_str(line);
            }
        }
        text
    }

    /// Whether the rule runs with these inputs.
    pub fn runs(&self, inputs: Inputs) -> bool {
        self.runs_with.iter().any(|&input| inputs.has(input))
    }
}

/// The registry's rows, handed to the macro `$m`: variant, name, default severity, kind, the
/// inputs it runs with, its module under `src/rules/`, and its one-line summary.
macro_rules! for_each_rule {
    ($m:ident) => {
        $m! {
            MultipleHeads, "multiple-heads", Error, Check, [Headers], multiple_heads,
                "more heads than the expectations allow (default 1)";
            MissingParent, "missing-parent", Error, Check, [Headers], missing_parent,
                "a down_revision or depends_on naming a revision that no file defines";
            DuplicateRevision, "duplicate-revision", Error, Check, [Headers], duplicate_revision,
                "two files defining the same revision id";
            RevisionCycle, "revision-cycle", Error, Check, [Headers], revision_cycle,
                "a cycle in the revision graph";
            MultipleBases, "multiple-bases", Warning, Check, [Headers], multiple_bases,
                "more than one root revision outside named branches";
            UnparsableMigration, "unparsable-migration", Error, Reading, [Headers], unparsable_migration,
                "a revision file that is not valid Python or defines no revision";
            UnmodeledOperation, "unmodeled-operation", Info, Check, [Operations], unmodeled_operation,
                "an operation in upgrade() the replay cannot model";
            MissingTable, "missing-table", Error, Comparison, [Expectations, Database], missing_table,
                "an expected table does not exist";
            MissingColumn, "missing-column", Error, Comparison, [Expectations, Database], missing_column,
                "an expected column does not exist";
            ForbiddenColumnPresent, "forbidden-column-present", Error, Comparison, [Expectations], forbidden_column_present,
                "a column listed in absent_columns exists";
            PrimaryKeyMismatch, "primary-key-mismatch", Error, Comparison, [Expectations, Database], primary_key_mismatch,
                "the primary key's columns differ from what is expected";
            ColumnTypeMismatch, "column-type-mismatch", Error, Comparison, [Expectations, Database], column_type_mismatch,
                "a column's type differs from what is expected";
            NullabilityMismatch, "nullability-mismatch", Warning, Comparison, [Expectations, Database], nullability_mismatch,
                "a column's nullability differs from what is expected";
            DatabaseNotVersioned, "database-not-versioned", Error, Check, [Database], database_not_versioned,
                "the database has no alembic_version table, or it is empty";
            DatabaseBehindHead, "database-behind-head", Error, Check, [Database], database_behind_head,
                "the database's revision is an ancestor of a head: migrations are pending";
            DatabaseUnknownRevision, "database-unknown-revision", Error, Check, [Database], database_unknown_revision,
                "the database's revision is not in the graph";
            StampedNotApplied, "stamped-not-applied", Error, Check, [Database], stamped_not_applied,
                "the database claims a revision whose changes are absent from its schema";
            PartiallyAppliedRevision, "partially-applied-revision", Error, Check, [Database], partially_applied_revision,
                "some but not all changes of one revision are present";
            SequenceBehind, "sequence-behind", Error, Check, [Database], sequence_behind,
                "a serial or identity sequence would hand out a value at or below the column's maximum";
            UntrackedTable, "untracked-table", Warning, Check, [Database], untracked_table,
                "a table in the database that no migration creates";
            UntrackedColumn, "untracked-column", Warning, Check, [Database], untracked_column,
                "a column in the database that no migration creates";
            UnusedIgnore, "unused-ignore", Info, PostPass, [Headers], unused_ignore,
                "a `# driftlint: ignore[...]` comment that matches no finding, or names no rule";
        }
    };
}
pub(crate) use for_each_rule;

macro_rules! define_rules {
    ($( $variant:ident, $name:literal, $severity:ident, $kind:ident, [$($input:ident),*], $module:ident, $summary:literal; )*) => {
        /// Every rule driftlint knows, in registry order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule { $( $variant, )* }

        /// The registry: one row per rule, in the order `explain --list` prints them, indexed by
        /// `Rule as usize`.
        pub static RULES: &[RuleInfo] = &[
            $( RuleInfo {
                rule: Rule::$variant,
                name: $name,
                severity: Severity::$severity,
                kind: Kind::$kind,
                runs_with: &[$(Input::$input),*],
                summary: $summary,
                doc: include_str!(concat!("../rules/", $name, ".md")),
            }, )*
        ];
    };
}
for_each_rule!(define_rules);

impl Rule {
    pub fn info(self) -> &'static RuleInfo {
        &RULES[self as usize]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_indexed_by_their_rule() {
        for (index, row) in RULES.iter().enumerate() {
            assert_eq!(row.rule as usize, index, "{}", row.name);
            assert_eq!(Rule::from_name(row.name), Some(row.rule));
            assert!(!row.runs_with.is_empty(), "{} runs with nothing", row.name);
        }
    }

    #[test]
    fn review_only_snippets_split_into_migration_and_sql() {
        let snippet = Fix {
            title: "t".to_owned(),
            sql: vec![
                "# SET NOT NULL fails while rows hold NULL: backfill email first".to_owned(),
                "op.alter_column(\"users\", \"email\", nullable=False)".to_owned(),
                "# SQL: ALTER TABLE public.users ALTER COLUMN email SET NOT NULL;".to_owned(),
            ],
            safety: Safety::ReviewOnly,
        };
        let parts = snippet.parts();
        assert_eq!(
            parts.sql.as_deref(),
            Some("ALTER TABLE public.users ALTER COLUMN email SET NOT NULL;")
        );
        assert_eq!(
            parts.migration.as_deref(),
            Some(
                "# SET NOT NULL fails while rows hold NULL: backfill email first\nop.alter_column(\"users\", \"email\", nullable=False)"
            )
        );
        let guidance = Fix {
            title: "t".to_owned(),
            sql: vec!["-- alembic stamp a1".to_owned()],
            safety: Safety::ReviewOnly,
        };
        assert_eq!(guidance.parts().migration, None);
        let safe = Fix {
            title: "t".to_owned(),
            sql: vec!["SELECT 1;".to_owned()],
            safety: Safety::Safe,
        };
        assert_eq!(safe.parts().sql.as_deref(), Some("SELECT 1;"));
        assert_eq!(safe.parts().migration, None);
    }

    #[test]
    fn docs_are_shown_without_sample_markers() {
        for row in RULES {
            assert!(!row.doc_text().contains("<!--"), "{}", row.name);
            assert!(row.doc_text().contains("## What it finds"), "{}", row.name);
        }
    }

    #[test]
    fn a_rule_runs_with_any_of_its_inputs() {
        let static_check = Inputs {
            operations: true,
            expectations: true,
            database: false,
        };
        assert!(Rule::MissingColumn.info().runs(static_check));
        assert!(!Rule::SequenceBehind.info().runs(static_check));
        assert!(Rule::MultipleHeads.info().runs(Inputs::default()));
        assert!(!Rule::UnmodeledOperation.info().runs(Inputs::default()));
        let live_only = Inputs {
            operations: true,
            expectations: false,
            database: true,
        };
        assert!(Rule::MissingColumn.info().runs(live_only));
        assert!(!Rule::ForbiddenColumnPresent.info().runs(live_only));
    }
}
