//! The lowering's fixture tests: each `tests/fixtures/lowering/<case>.py` is a revision file whose
//! `upgrade()` is lowered, and `<case>.ops` next to it holds the operations it must lower to (each
//! with the byte range of its call, then the operation as `{:#?}` prints it). A case is added with
//! its `.py` alone and `DRIFTLINT_BLESS=1 cargo test --lib lowering_fixtures`, which writes the
//! `.ops` for review; without it, a missing or different `.ops` fails the test.
//!
//! `op.execute`'s SQL goes to the same stand-in as the unit tests' (`tests::fake_sql`): `CREATE
//! TABLE name` and `DROP TABLE name` are lowered, SQL starting `BAD` fails, anything else changes
//! nothing; the SQL lowering has its own tests.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ruff_python_ast::Stmt;

use super::Lowerer;
use super::tests::fake_sql;
use crate::schema::ops::OpAt;
use crate::source::FileId;

fn lower(source: &str) -> Result<Vec<OpAt>, String> {
    let parsed = ruff_python_parser::parse_module(source).map_err(|e| e.to_string())?;
    let module = parsed.syntax();
    let function = module
        .body
        .iter()
        .rev()
        .find_map(|stmt| match stmt {
            Stmt::FunctionDef(def) if def.name.as_str() == "upgrade" => Some(def),
            _ => None,
        })
        .ok_or("no upgrade() defined")?;
    let mut lowerer = Lowerer::new(source, FileId(0), fake_sql);
    lowerer.bind_module(&module.body);
    lowerer.lower_entry_function(function);
    Ok(lowerer.out)
}

/// The snapshot text of the lowered operations.
fn render(ops: &[OpAt]) -> String {
    let mut out = String::new();
    for at in ops {
        let autocommit = if at.autocommit { " autocommit" } else { "" };
        let _ = writeln!(
            out,
            "at {}..{}{autocommit}\n{:#?}",
            at.span.range.start, at.span.range.end, at.op
        );
    }
    if out.is_empty() {
        out.push_str("no operations\n");
    }
    out
}

fn cases() -> Vec<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lowering");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|e| panic!("{}: {e}", directory.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    cases.sort();
    cases
}

#[test]
fn every_fixture_lowers_to_its_snapshot() {
    let bless = std::env::var_os("DRIFTLINT_BLESS").is_some();
    let mut failures = Vec::new();
    let cases = cases();
    assert!(
        !cases.is_empty(),
        "no fixtures under tests/fixtures/lowering"
    );
    for case in &cases {
        let source = std::fs::read_to_string(case).unwrap_or_else(|e| panic!("{case:?}: {e}"));
        let actual = match lower(&source) {
            Ok(ops) => render(&ops),
            Err(error) => format!("error: {error}\n"),
        };
        let snapshot = case.with_extension("ops");
        if bless {
            std::fs::write(&snapshot, &actual).unwrap_or_else(|e| panic!("{snapshot:?}: {e}"));
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{}: lowered differently\n--- expected\n{expected}\n--- actual\n{actual}",
                case.display()
            )),
            Err(_) => failures.push(format!(
                "{}: no snapshot (run with DRIFTLINT_BLESS=1 to write it)",
                case.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
