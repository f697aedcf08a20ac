//! The modules depend on each other in one direction only: the layer order written in
//! ARCHITECTURE.md (between the `layers` markers), lowest first. A `crate::` path in a module's
//! code (tests aside) may name its own module or one listed before it, never one after.

// Test helpers fail the test by panicking, as the tests themselves do.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The layer order from ARCHITECTURE.md: the module names of the fenced block after the
/// `<!-- layers -->` marker, one per line, lowest first.
fn layers() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let start = text
        .find("<!-- layers -->")
        .expect("ARCHITECTURE.md has a <!-- layers --> block");
    let block = &text[start..];
    let open = block
        .find("```")
        .expect("a fenced block follows the marker");
    let body = &block[open + 3..];
    let body = &body[body.find('\n').expect("a fence line") + 1..];
    let close = body.find("```").expect("the block is closed");
    body[..close]
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The top-level module a file under `src/` belongs to.
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(root().join("src")).expect("under src/");
    let first = relative.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_owned()
}

/// Files that only tests compile: declared right after `#[cfg(test)]` by their parent module.
fn test_only_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("readable");
        let dir = if file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            file.parent().expect("a parent").to_path_buf()
        } else {
            file.with_extension("")
        };
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            if pair[0].trim() == "#[cfg(test)]"
                && let Some(name) = pair[1]
                    .trim()
                    .strip_prefix("mod ")
                    .or_else(|| pair[1].trim().strip_prefix("pub(crate) mod "))
                    .or_else(|| pair[1].trim().strip_prefix("pub(super) mod "))
                    .and_then(|rest| rest.strip_suffix(';'))
            {
                out.push(dir.join(format!("{name}.rs")));
                out.push(dir.join(name).join("mod.rs"));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_reaches_up_the_layer_order() {
    let order = layers();
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_str(), i))
        .collect();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files.sort();
    let tests_only = test_only_files(&files);
    let mut problems = Vec::new();
    for file in &files {
        let module = module_of(file);
        if module == "lib" || module == "main" || tests_only.contains(file) {
            continue;
        }
        let Some(&own) = rank.get(module.as_str()) else {
            problems.push(format!(
                "src/{module}: not in ARCHITECTURE.md's layer order"
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable");
        for (number, line) in text.lines().enumerate() {
            if line.starts_with("#[cfg(test)]") {
                break; // the file's test module, at its end
            }
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name == module || name.is_empty() {
                    continue;
                }
                match rank.get(name.as_str()) {
                    Some(&other) if other > own => problems.push(format!(
                        "{}:{}: {module} uses {name}, which is above it: {}",
                        file.strip_prefix(root())
                            .expect("in the repository")
                            .display(),
                        number + 1,
                        line.trim()
                    )),
                    Some(_) => {}
                    None => problems.push(format!(
                        "{}:{}: crate::{name} is not in the layer order",
                        file.strip_prefix(root())
                            .expect("in the repository")
                            .display(),
                        number + 1
                    )),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
