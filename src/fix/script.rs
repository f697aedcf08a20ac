//! The fix script (`check --fix-sql`): every finding's fix gathered into one psql script for a
//! person to review and then run once: a header saying what was checked and when, the `pg_dump`
//! command for a backup, `\set ON_ERROR_STOP on`, one `BEGIN; … COMMIT;` holding the fixes in
//! dependency order (tables, columns, keys, data-dependent steps, sequences, then the revisions
//! rendered as SQL, then the version table), each under a comment naming its rule and finding;
//! then the statements
//! PostgreSQL refuses inside a transaction, each on its own; then the review-only fixes as
//! comments.
//!
//! Invariant: the script never runs what can lose data unless told to: a statement after a
//! [`DESTRUCTIVE_MARK`] (or every statement of a destructive fix without one) is commented out
//! and marked unless `allow_destructive`. The database URL shown has no password. The script is
//! built from the findings alone (this module reads the rules' `Finding` type and nothing else
//! above it).
//!
//! Invariant: no outside text (a name, a revision id, a message, a path) can end a comment or
//! start a meta-command. Every comment line the script holds, its own and the fixes', goes
//! through [`super::comment`]'s escaping on the way out; each guard's psql variable gets a
//! number of the script's own (`driftlint_guard_1`, …); and the rendered script is read once
//! more the way psql reads it ([`super::psql_lex`]): a meta-command outside the allowed set, or
//! an interpolation of a variable the script did not set, makes rendering fail instead.

use miette::Diagnostic;

use super::psql_lex::{ALLOWED_META_COMMANDS, Violation, check_script};
use super::{
    DESTRUCTIVE_MARK, Fix, GUARD_VARIABLE, OUTSIDE_TRANSACTION_MARK, Safety, comment_line,
    escape_text,
};
use crate::diagnostic::Finding;

/// The rendered script failed its last check: it would make psql run something other than the
/// fixes. Not expected to happen; when it does, no script is written.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("the fix script was not written: {violation}")]
#[diagnostic(
    code(driftlint::fix_script_unsafe),
    help(
        "a name or text from the database or the migrations would reach psql outside a comment \
         or a string (a fix script may only use the meta-commands {allowed}); please report \
         this, with the names involved"
    )
)]
pub struct UnsafeScript {
    pub violation: Violation,
    allowed: String,
}

/// What the script's header says was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptMeta {
    /// The migrations directory, as shown to the user.
    pub migrations: String,
    /// The expectations file or directory, when there was one.
    pub expectations: Option<String>,
    /// The database, as `DatabaseUrl`'s `Display` shows it (the password replaced by `***`).
    pub database: Option<String>,
    /// When the check ran, in UTC: `2026-11-29 10:40:12 UTC`.
    pub generated_at: String,
    /// driftlint's version.
    pub version: String,
}

/// The order fixes run in, so each finds what it needs. The fixes of single objects name them as
/// the database has them now, so they run first; the revisions rendered as SQL (which may rename
/// those objects) follow, and the version table is moved last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Tables,
    Columns,
    Keys,
    /// Steps that depend on the data: type changes, nullability, drops.
    Data,
    Sequences,
    /// Revisions rendered as SQL, building what the migrations build from the database's
    /// revision on.
    Revisions,
}

fn phase_of(rule: &str) -> Phase {
    match rule {
        "database-behind-head" | "stamped-not-applied" | "partially-applied-revision" => {
            Phase::Revisions
        }
        "missing-table" => Phase::Tables,
        "missing-column" => Phase::Columns,
        "primary-key-mismatch" => Phase::Keys,
        "sequence-behind" => Phase::Sequences,
        _ => Phase::Data,
    }
}

/// `2026-11-29 10:40:12 UTC` for a number of seconds since the Unix epoch.
pub fn format_utc(seconds_since_epoch: u64) -> String {
    let days = seconds_since_epoch / 86_400;
    let rest = seconds_since_epoch % 86_400;
    // Howard Hinnant's days-to-civil-date algorithm.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// One line, whatever the text.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every line of `text` (split at `\n`) as a comment, with every control character escaped: a
/// line that is already a comment keeps its `--`, any other gets `-- ` in front.
fn commented(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            if line.starts_with("--") {
                escape_text(line).into_owned()
            } else {
                format!("-- {}", escape_text(line))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fix's line as the script emits it: a comment made safe with [`commented`] (a line break or
/// carriage return inside it can no longer end it), anything else as it is.
fn emitted(line: &str) -> String {
    if line.trim_start().starts_with("--") {
        commented(line)
    } else {
        line.to_owned()
    }
}

/// A fix's lines with each guard's variable numbered for the script: the `SELECT … AS
/// driftlint_guard \gset` of [`super::psql_guard`] sets `driftlint_guard_<n>` and the `\if`
/// after it reads it, so a guard repeated after the transaction reads its own value.
fn number_guards(lines: &[String], counter: &mut usize) -> Vec<String> {
    let set_suffix = format!(" AS {GUARD_VARIABLE} \\gset");
    let test = format!("\\if :{GUARD_VARIABLE}");
    let mut current = None;
    lines
        .iter()
        .map(|line| {
            if let Some(select) = line.strip_suffix(&set_suffix) {
                *counter += 1;
                let name = format!("{GUARD_VARIABLE}_{counter}");
                let numbered = format!("{select} AS {name} \\gset");
                current = Some(name);
                numbered
            } else if *line == test
                && let Some(name) = &current
            {
                format!("\\if :{name}")
            } else {
                line.clone()
            }
        })
        .collect()
}

fn is_version_statement(line: &str) -> bool {
    let upper = line.trim_start().to_ascii_uppercase();
    (upper.starts_with("UPDATE ")
        || upper.starts_with("DELETE FROM ")
        || upper.starts_with("INSERT INTO "))
        && line.contains("version_num")
}

/// The parts of one fix as the script places them.
#[derive(Default)]
struct Placed {
    /// Inside the transaction, in the fix's phase.
    main: Vec<String>,
    /// Version table statements, run last in the transaction.
    version: Vec<String>,
    /// A new table's foreign keys, run with the keys: the table they reference may be created by
    /// a later fix.
    keys: Vec<String>,
    /// After the transaction, each with the guard it sat under.
    outside: Vec<String>,
    /// Statements left commented out as destructive.
    destructive_left_out: usize,
}

/// Splits a fix's lines into where they go, commenting out destructive statements unless
/// `allow_destructive`.
fn place(lines: &[String], safety: Safety, phase: Phase, allow_destructive: bool) -> Placed {
    let mut placed = Placed::default();
    let marks_present = lines.iter().any(|l| l.starts_with(DESTRUCTIVE_MARK));
    let whole_fix_destructive = safety == Safety::Destructive && !marks_present;
    let mut next_destructive = false;
    let mut next_outside = false;
    // The `\if` lines the current line sits under, to repeat around statements moved out.
    let mut guards: Vec<String> = Vec::new();
    for line in lines {
        if line.starts_with(DESTRUCTIVE_MARK) {
            next_destructive = true;
            placed.main.push(emitted(line));
            continue;
        }
        if line.starts_with(OUTSIDE_TRANSACTION_MARK) {
            next_outside = true;
            continue;
        }
        if line.starts_with("\\if ") {
            guards.push(line.clone());
        } else if line.starts_with("\\endif") {
            guards.pop();
        }
        let is_statement =
            !line.starts_with("--") && !line.starts_with('\\') && !line.contains("\\gset");
        if !is_statement {
            placed.main.push(emitted(line));
            continue;
        }
        let destructive = next_destructive || whole_fix_destructive;
        next_destructive = false;
        let text = if destructive && !allow_destructive {
            placed.destructive_left_out += 1;
            format!(
                "-- DESTRUCTIVE (re-run with --allow-destructive to include):\n{}",
                commented(line)
            )
        } else {
            line.clone()
        };
        if std::mem::take(&mut next_outside) {
            let mut block = String::new();
            for guard in &guards {
                block.push_str(guard);
                block.push('\n');
            }
            block.push_str(&text);
            for _ in &guards {
                block.push_str("\n\\endif");
            }
            placed.outside.push(block);
        } else if phase == Phase::Revisions && guards.is_empty() && is_version_statement(line) {
            placed.version.push(text);
        } else if phase == Phase::Tables && guards.is_empty() && line.starts_with("ALTER TABLE ") {
            placed.keys.push(text);
        } else {
            placed.main.push(text);
        }
    }
    placed
}

/// The fix script for `findings`; see the module documentation. Fails only when the rendered
/// script does not pass its last check ([`super::psql_lex::check_script`]).
pub fn render_script(
    findings: &[Finding],
    meta: &ScriptMeta,
    allow_destructive: bool,
) -> Result<String, UnsafeScript> {
    let script = render_unchecked(findings, meta, allow_destructive);
    match check_script(&script) {
        Ok(()) => Ok(script),
        Err(violation) => Err(UnsafeScript {
            violation,
            allowed: ALLOWED_META_COMMANDS
                .iter()
                .map(|name| format!("\\{name}"))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn render_unchecked(findings: &[Finding], meta: &ScriptMeta, allow_destructive: bool) -> String {
    let mut runnable: Vec<(Phase, usize, &Finding, &Fix)> = Vec::new();
    let mut review_only: Vec<(&Finding, &Fix)> = Vec::new();
    let mut without_fix: Vec<&Finding> = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        match &finding.fix {
            Some(fix) if fix.safety == Safety::ReviewOnly => review_only.push((finding, fix)),
            Some(fix) => runnable.push((phase_of(finding.rule.name()), index, finding, fix)),
            None => without_fix.push(finding),
        }
    }
    runnable.sort_by_key(|(phase, index, _, _)| (*phase, *index));

    let mut body = String::new();
    let mut version = Vec::new();
    let mut outside = Vec::new();
    let mut left_out = 0;
    let mut deferred_keys: Vec<(String, String)> = Vec::new();
    let mut keys_emitted = false;
    let mut guards = 0;
    let emit_keys = |body: &mut String, deferred: &[(String, String)]| {
        for (heading, statement) in deferred {
            body.push('\n');
            body.push_str(heading);
            body.push_str(statement);
            body.push('\n');
        }
    };
    for (phase, _, finding, fix) in &runnable {
        if *phase >= Phase::Keys && !keys_emitted {
            emit_keys(&mut body, &deferred_keys);
            keys_emitted = true;
        }
        let lines = number_guards(&fix.sql, &mut guards);
        let placed = place(&lines, fix.safety, *phase, allow_destructive);
        left_out += placed.destructive_left_out;
        let heading = format!(
            "{}\n{}\n",
            comment_line(&format!(
                "{}: {}",
                finding.rule.name(),
                one_line(&finding.message)
            )),
            comment_line(&format!("fix: {}", one_line(&fix.title)))
        );
        body.push('\n');
        body.push_str(&heading);
        for line in &placed.main {
            body.push_str(line);
            body.push('\n');
        }
        for statement in placed.version {
            version.push((heading.clone(), statement));
        }
        for statement in placed.outside {
            outside.push((heading.clone(), statement));
        }
        for statement in placed.keys {
            deferred_keys.push((format!("{}-- (its foreign keys)\n", heading), statement));
        }
    }
    if !keys_emitted {
        emit_keys(&mut body, &deferred_keys);
    }

    let mut out = String::new();
    out.push_str("-- driftlint fix script: review every statement before running it.\n");
    let mut line = |text: String| {
        out.push_str(&comment_line(&text));
        out.push('\n');
    };
    line(format!(
        "generated {} by driftlint {}",
        meta.generated_at, meta.version
    ));
    line(format!("migrations:   {}", meta.migrations));
    line(format!(
        "expectations: {}",
        meta.expectations.as_deref().unwrap_or("none")
    ));
    // `DatabaseUrl` shows a password as `***`; the script leaves it out altogether, and pg_dump
    // and psql find the real one in PGPASSWORD, ~/.pgpass or by asking.
    let database = meta
        .database
        .as_ref()
        .map(|url| url.replacen(":***@", "@", 1));
    out.push_str(&comment_line(&format!(
        "database:     {}",
        database.as_deref().unwrap_or("none (no live check)")
    )));
    out.push('\n');
    out.push_str(&format!(
        "-- {} fix{} to run, {} review-only, {} finding{} without a fix{}\n",
        runnable.len(),
        if runnable.len() == 1 { "" } else { "es" },
        review_only.len(),
        without_fix.len(),
        if without_fix.len() == 1 { "" } else { "s" },
        if left_out > 0 {
            format!(
                "; {left_out} destructive statement{} commented out",
                if left_out == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        }
    ));
    out.push_str("--\n");
    match &database {
        Some(without_password) => {
            let shell_url = format!("'{}'", without_password.replace('\'', "'\\''"));
            out.push_str("-- Take a backup first:\n");
            out.push_str(&comment_line(&format!(
                "  pg_dump --format=custom --file=driftlint-backup.dump {shell_url}"
            )));
            out.push_str("\n-- then run the script as a whole, and check again:\n");
            out.push_str(&comment_line(&format!(
                "  psql -X -v ON_ERROR_STOP=1 -f <this file> {shell_url}"
            )));
            out.push('\n');
        }
        None => {
            out.push_str("-- Take a backup first (pg_dump --format=custom --file=driftlint-backup.dump <database>),\n");
            out.push_str("-- then run the script as a whole with psql -X -v ON_ERROR_STOP=1 -f <this file> <database>.\n");
        }
    }
    out.push_str("-- Every step is written to be harmless when run a second time.\n\n");
    out.push_str("\\set ON_ERROR_STOP on\n\n");

    out.push_str("BEGIN;\n");
    out.push_str(&body);
    if !version.is_empty() {
        out.push_str("\n-- The version table, last: where the migrations above leave it.\n");
        for (heading, statement) in &version {
            out.push_str(heading);
            out.push_str(statement);
            out.push('\n');
        }
    }
    out.push_str("\nCOMMIT;\n");

    if !outside.is_empty() {
        out.push_str(
            "\n-- After the transaction: statements PostgreSQL refuses inside a transaction \
             block, each on its own.\n",
        );
        for (heading, statement) in &outside {
            out.push('\n');
            out.push_str(heading);
            out.push_str(statement);
            out.push('\n');
        }
    }

    if !review_only.is_empty() {
        out.push_str("\n-- Review only, not run: snippets for a new migration, and guidance.\n");
        for (finding, fix) in &review_only {
            out.push_str(&format!(
                "\n{}\n{}\n",
                comment_line(&format!(
                    "{}: {}",
                    finding.rule.name(),
                    one_line(&finding.message)
                )),
                comment_line(&one_line(&fix.title))
            ));
            for line in &fix.sql {
                out.push_str(&commented(line));
                out.push('\n');
            }
        }
    }
    if !without_fix.is_empty() {
        out.push_str("\n-- Findings this script does not fix:\n");
        for finding in &without_fix {
            out.push_str(&comment_line(&format!(
                "  {}: {}",
                finding.rule.name(),
                one_line(&finding.message)
            )));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{FindingSource, Rule};

    fn meta() -> ScriptMeta {
        ScriptMeta {
            migrations: "migrations".into(),
            expectations: Some("expectations/app.yaml".into()),
            database: Some("postgresql://app:***@db.internal:5432/app?sslmode=prefer".into()),
            generated_at: "2026-11-29 10:40:12 UTC".into(),
            version: "0.1.0".into(),
        }
    }

    fn finding(rule: Rule, message: &str, fix: Fix) -> Finding {
        Finding::new(rule, FindingSource::Database, message).fix(fix)
    }

    fn fix(safety: Safety, sql: &[&str]) -> Fix {
        Fix {
            title: "do it".into(),
            sql: sql.iter().map(|s| s.to_string()).collect(),
            safety,
        }
    }

    #[test]
    fn utc_times_are_civil_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_795_689_612), "2026-11-26 10:40:12 UTC");
    }

    #[test]
    fn fixes_run_in_dependency_order_with_the_version_table_last() {
        let findings = vec![
            finding(
                Rule::NullabilityMismatch,
                "n",
                fix(
                    Safety::Safe,
                    &["ALTER TABLE t ALTER COLUMN c DROP NOT NULL;"],
                ),
            ),
            finding(
                Rule::MissingColumn,
                "column public.t.c does not exist",
                fix(
                    Safety::Safe,
                    &["ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;"],
                ),
            ),
            finding(
                Rule::MissingTable,
                "m",
                fix(Safety::Safe, &["CREATE TABLE IF NOT EXISTS t (id int);"]),
            ),
        ];
        let script = render_script(&findings, &meta(), false).expect("renders");
        let create = script.find("CREATE TABLE").expect("table");
        let add = script.find("ADD COLUMN").expect("column");
        let drop = script.find("DROP NOT NULL").expect("nullability");
        assert!(create < add && add < drop, "{script}");
        assert!(script.contains("-- missing-column: column public.t.c does not exist\n-- fix: do it\nALTER TABLE t ADD COLUMN"));
        assert!(script.contains("pg_dump --format=custom --file=driftlint-backup.dump 'postgresql://app@db.internal:5432/app?sslmode=prefer'"));
        assert!(!script.contains("***"));
        assert!(script.contains("\\set ON_ERROR_STOP on\n\nBEGIN;\n"));
        assert!(script.trim_end().ends_with("COMMIT;"));
    }

    #[test]
    fn a_new_tables_foreign_keys_wait_for_every_new_table() {
        let findings = vec![
            finding(
                Rule::MissingTable,
                "a",
                fix(
                    Safety::Safe,
                    &[
                        "CREATE TABLE IF NOT EXISTS a (id int PRIMARY KEY, b_id int);",
                        "ALTER TABLE a DROP CONSTRAINT IF EXISTS a_b_id_fkey;",
                        "ALTER TABLE a ADD CONSTRAINT a_b_id_fkey FOREIGN KEY (b_id) REFERENCES b (id);",
                    ],
                ),
            ),
            finding(
                Rule::MissingTable,
                "b",
                fix(
                    Safety::Safe,
                    &["CREATE TABLE IF NOT EXISTS b (id int PRIMARY KEY);"],
                ),
            ),
        ];
        let script = render_script(&findings, &meta(), false).expect("renders");
        let create_b = script.find("CREATE TABLE IF NOT EXISTS b").expect("b");
        let foreign_key = script.find("ADD CONSTRAINT a_b_id_fkey").expect("fk");
        assert!(create_b < foreign_key, "{script}");
    }

    #[test]
    fn destructive_statements_are_commented_out_unless_allowed() {
        let findings = vec![finding(
            Rule::PrimaryKeyMismatch,
            "k",
            fix(
                Safety::Destructive,
                &[
                    "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (key);",
                    "-- DESTRUCTIVE: drops column public.t.id",
                    "ALTER TABLE t DROP COLUMN IF EXISTS id;",
                ],
            ),
        )];
        let script = render_script(&findings, &meta(), false).expect("renders");
        assert!(script.contains("\nALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (key);\n"));
        assert!(script.contains(
            "-- DESTRUCTIVE (re-run with --allow-destructive to include):\n-- ALTER TABLE t DROP COLUMN IF EXISTS id;"
        ));
        assert!(script.contains("1 destructive statement commented out"));
        let allowed = render_script(&findings, &meta(), true).expect("renders");
        assert!(allowed.contains("\nALTER TABLE t DROP COLUMN IF EXISTS id;\n"));
        // A destructive fix without marks is commented out whole.
        let unmarked = vec![finding(
            Rule::ColumnTypeMismatch,
            "t",
            fix(
                Safety::Destructive,
                &["ALTER TABLE t ALTER COLUMN c TYPE int;"],
            ),
        )];
        assert!(
            render_script(&unmarked, &meta(), false)
                .expect("renders")
                .contains("-- ALTER TABLE t ALTER COLUMN c TYPE int;")
        );
    }

    #[test]
    fn outside_statements_follow_the_commit_under_their_guard() {
        let findings = vec![finding(
            Rule::MissingParent,
            "behind",
            fix(
                Safety::Safe,
                &[
                    "SELECT true AS driftlint_upgrade \\gset",
                    "\\if :driftlint_upgrade",
                    "ALTER TABLE t ADD COLUMN x int;",
                    "-- outside a transaction: PostgreSQL refuses it inside a transaction block",
                    "CREATE INDEX CONCURRENTLY ix_t_x ON t (x);",
                    "\\endif",
                ],
            ),
        )];
        let script = render_script(&findings, &meta(), false).expect("renders");
        let commit = script.find("COMMIT;").expect("commit");
        let index = script.find("CREATE INDEX CONCURRENTLY").expect("index");
        assert!(index > commit, "{script}");
        assert!(script.contains(
            "\\if :driftlint_upgrade\nCREATE INDEX CONCURRENTLY ix_t_x ON t (x);\n\\endif"
        ));
    }

    #[test]
    fn review_only_fixes_are_comments_at_the_end() {
        let findings = vec![
            finding(
                Rule::MissingColumn,
                "c",
                fix(
                    Safety::ReviewOnly,
                    &["op.add_column(\"t\", sa.Column(\"c\", sa.Integer()))"],
                ),
            ),
            Finding::new(Rule::MultipleHeads, FindingSource::Migrations, "two heads"),
        ];
        let script = render_script(&findings, &meta(), false).expect("renders");
        let commit = script.find("COMMIT;").expect("commit");
        let snippet = script
            .find("-- op.add_column(\"t\", sa.Column(\"c\", sa.Integer()))")
            .expect("snippet");
        assert!(snippet > commit);
        assert!(script.contains("--   multiple-heads: two heads"));
    }
}
