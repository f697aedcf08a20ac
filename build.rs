//! Records the commit the binary is built from, for `driftlint --version`: `0.1.0 (1a2b3c4d5)`.
//!
//! The commit comes from `git rev-parse` when the package root is the top of a git checkout,
//! else from `DRIFTLINT_COMMIT` (set it when building from a tarball or an sdist that knows its
//! commit), else there is none and the version stands alone. A build never fails for want of
//! git.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DRIFTLINT_COMMIT");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commit = std::env::var("DRIFTLINT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(commit_from_git);
    let long = match commit {
        Some(commit) => format!("{version} ({})", commit.trim()),
        None => version,
    };
    println!("cargo:rustc-env=DRIFTLINT_LONG_VERSION={long}");
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn commit_from_git() -> Option<String> {
    // Only this package's own checkout: a copy vendored inside another project's repository
    // would otherwise report that project's commit.
    let prefix = Command::new("git")
        .args(["rev-parse", "--show-prefix"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    if !String::from_utf8_lossy(&prefix.stdout).trim().is_empty() {
        return None;
    }
    let commit = git(&["rev-parse", "--short=9", "HEAD"])?;
    // Build again when HEAD moves: a commit, a checkout, a fetch that updates packed refs.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    for path in watched.into_iter().flatten() {
        // A path that does not exist would make cargo run this script on every build.
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(commit)
}
