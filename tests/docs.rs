//! The samples in README.md and rules/*.md are the tool's own output, and every rule has a
//! fixture that produces it.
//!
//! A sample is a fenced block preceded by a marker line:
//!
//! - `<!-- output: DIR: ARGS -->`: the block is what `driftlint ARGS` prints (standard output
//!   and standard error, no colour, 100 columns) run in `DIR` (relative to the repository). With
//!   `DIR (database)`, `DIR/database.sql` is loaded with psql into a fresh database first and
//!   `$DATABASE_URL` in ARGS stands for its URL (so the sample needs PostgreSQL).
//! - `<!-- file: PATH -->`: the block is the file's text.
//!
//! `DRIFTLINT_BLESS=1 cargo test --test docs` rewrites the blocks from what the tool prints now;
//! review the diff before committing it.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use driftlint::diagnostic::{Input, RULES, Rule};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blessing() -> bool {
    std::env::var("DRIFTLINT_BLESS").is_ok_and(|value| value == "1")
}

/// One marked block of a document.
struct Sample {
    /// The marker's text between `<!--` and `-->`, trimmed.
    marker: String,
    /// Byte range of the block's contents (between the fence lines) in the document.
    body: std::ops::Range<usize>,
}

fn samples(text: &str) -> Vec<Sample> {
    let mut found = Vec::new();
    let mut offset = 0;
    let mut pending: Option<String> = None;
    let mut fence: Option<(String, usize)> = None;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_end();
        if let Some((marker, body_start)) = &fence {
            if trimmed == "```" {
                found.push(Sample {
                    marker: marker.clone(),
                    body: *body_start..start,
                });
                fence = None;
            }
            continue;
        }
        if let Some(marker) = trimmed
            .strip_prefix("<!-- ")
            .and_then(|rest| rest.strip_suffix(" -->"))
            .filter(|marker| marker.starts_with("output: ") || marker.starts_with("file: "))
        {
            pending = Some(marker.to_owned());
        } else if trimmed.starts_with("```") {
            if let Some(marker) = pending.take() {
                fence = Some((marker, offset));
            }
        } else if !trimmed.is_empty() {
            assert!(
                pending.is_none(),
                "a sample marker must be followed by a fenced block: {pending:?}"
            );
        }
    }
    assert!(fence.is_none(), "a sample's block is not closed");
    found
}

/// What the marker says the block must hold, or `None` when it needs PostgreSQL and there is
/// none (outside CI).
fn expected(marker: &str) -> Option<String> {
    if let Some(path) = marker.strip_prefix("file: ") {
        return Some(
            std::fs::read_to_string(root().join(path))
                .unwrap_or_else(|error| panic!("{path}: {error}")),
        );
    }
    let spec = marker.strip_prefix("output: ").expect("an output marker");
    let (dir, args) = spec
        .split_once(": ")
        .unwrap_or_else(|| panic!("`output: DIR: ARGS` expected, found {marker:?}"));
    let (dir, database) = match dir.strip_suffix(" (database)") {
        Some(dir) => (dir, true),
        None => (dir, false),
    };
    let cwd = root().join(dir);
    let mut url = None;
    let mut db_name = None;
    // Kept until the command has run: dropping it drops the database.
    let mut _db = None;
    if database {
        let db = _db.insert(support::fresh_database("docs")?);
        let setup = std::fs::read_to_string(cwd.join("database.sql"))
            .unwrap_or_else(|error| panic!("{dir}/database.sql: {error}"));
        support::psql(&db.url, &setup);
        url = Some(db.url.clone());
        db_name = Some(db.name.clone());
    }
    let args: Vec<String> = args
        .split_whitespace()
        .map(|arg| match (&url, arg) {
            (Some(url), "$DATABASE_URL") => url.clone(),
            _ => arg.to_owned(),
        })
        .collect();
    let output = Command::new(env!("CARGO_BIN_EXE_driftlint"))
        .args(&args)
        .current_dir(&cwd)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("DATABASE_URL")
        .output()
        .expect("the binary runs");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    // The throwaway database's name and address are not part of the sample.
    if let (Some(url), Some(name)) = (&url, &db_name) {
        text = text.replace(url.as_str(), "postgresql://app@db.internal/app");
        text = text.replace(name.as_str(), "app");
    }
    Some(text)
}

fn check_document(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("the document is readable");
    let mut problems = Vec::new();
    let mut rewritten = String::new();
    let mut copied = 0;
    for sample in samples(&text) {
        let Some(want) = expected(&sample.marker) else {
            continue;
        };
        let have = &text[sample.body.clone()];
        if have != want {
            problems.push(format!(
                "{}: the block after <!-- {} --> is not what the tool prints now.\n--- the document\n{have}--- the tool\n{want}",
                path.display(),
                sample.marker
            ));
        }
        rewritten.push_str(&text[copied..sample.body.start]);
        rewritten.push_str(&want);
        copied = sample.body.end;
    }
    rewritten.push_str(&text[copied..]);
    if blessing() && rewritten != text {
        std::fs::write(path, rewritten).expect("the document is writable");
        return Vec::new();
    }
    problems
}

#[test]
fn the_readme_samples_are_the_tools_output() {
    let problems = check_document(&root().join("README.md"));
    assert!(
        problems.is_empty(),
        "{}\n(DRIFTLINT_BLESS=1 rewrites them)",
        problems.join("\n")
    );
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn the_rule_docs_samples_are_the_tools_output() {
    let mut problems = Vec::new();
    let mut docs: Vec<_> = std::fs::read_dir(root().join("rules"))
        .expect("rules/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    docs.sort();
    for doc in docs {
        problems.extend(check_document(&doc));
    }
    assert!(
        problems.is_empty(),
        "{}\n(DRIFTLINT_BLESS=1 rewrites them)",
        problems.join("\n")
    );
}

/// Each rule has `tests/fixtures/rules/<rule>/`, its page shows that fixture's output, and the
/// output has that rule's finding and no other rule's, but for those the fixture's `also` file
/// lists (a root cause reported together with it).
#[test]
#[ignore = "needs PostgreSQL (scripts/test runs it)"]
fn every_rule_has_a_fixture_whose_output_its_page_shows() {
    let rules: Vec<&str> = RULES.iter().map(|info| info.name).collect();
    for rule in &rules {
        let fixture = format!("tests/fixtures/rules/{rule}");
        assert!(
            root().join(&fixture).is_dir(),
            "{rule}: no fixture {fixture}/"
        );
        let info = Rule::from_name(rule).expect("a registered rule").info();
        assert_eq!(
            root().join(&fixture).join("database.sql").is_file(),
            info.runs_with == [Input::Database],
            "{fixture}: a rule that runs only against a database has a database.sql, and only such a rule"
        );
        let doc = std::fs::read_to_string(root().join(format!("rules/{rule}.md")))
            .unwrap_or_else(|error| panic!("rules/{rule}.md: {error}"));
        let markers: Vec<String> = samples(&doc)
            .into_iter()
            .map(|sample| sample.marker)
            .filter(|marker| marker.starts_with(&format!("output: {fixture}")))
            .collect();
        assert!(
            !markers.is_empty(),
            "rules/{rule}.md shows no output of {fixture}/"
        );
        let also = std::fs::read_to_string(root().join(&fixture).join("also")).unwrap_or_default();
        let allowed: Vec<&str> = also.lines().map(str::trim).chain([*rule]).collect();
        for marker in markers {
            let Some(output) = expected(&marker) else {
                continue;
            };
            let headers: Vec<&str> = output.lines().filter(|line| rules.contains(line)).collect();
            assert!(
                headers.contains(rule) && headers.iter().all(|header| allowed.contains(header)),
                "{fixture}: the output should hold {rule} findings (and {also:?}), found {headers:?}:\n{output}"
            );
        }
    }
}
