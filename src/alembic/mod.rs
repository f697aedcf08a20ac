//! Alembic projects as files: finding the versions directories (`discover`), and reading each
//! revision file into a [`Revision`] (`revision`) with the spans of its header variables and the
//! operations of its `upgrade()` lowered to [`crate::schema::ops::Op`]s (by [`crate::python`]).
//!
//! Invariant: Python is parsed, never run. A file that cannot be read as a revision becomes an
//! `unparsable-migration` finding and the run goes on.

use std::path::PathBuf;

use crate::schema::ops::OpAt;
use crate::source::{FileId, Span};

pub(crate) mod deep;
mod discover;
mod ini;
pub mod problems;
mod revision;

pub use discover::{Flavor, OutsideLink, Project, discover, links_outside_project, revision_files};
pub(crate) use discover::{is_revision_file_name, is_skipped_name};
pub use revision::{
    LoadOptions, Loaded, RevisionInput, load, load_files, load_files_with, load_inputs, load_with,
};

/// One revision file, as its module-level variables define it.
#[derive(Clone, Debug)]
pub struct Revision {
    /// The `revision` variable.
    pub id: String,
    /// The `down_revision` variable: empty for a base, two or more for a merge.
    pub down_revisions: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    /// The first line of the module docstring, Alembic's message.
    pub message: Option<String>,
    pub file: FileId,
    /// The whole `revision = ...` statement.
    pub id_span: Span,
    /// The whole `down_revision = ...` statement, where there is one.
    pub down_span: Option<Span>,
    pub branch_labels_span: Option<Span>,
    pub depends_on_span: Option<Span>,
    /// The `def upgrade` line (its name), where there is one.
    pub upgrade_span: Option<Span>,
    /// The operations of `upgrade()`, in order, as far as they could be modelled.
    pub upgrade: Vec<OpAt>,
}

/// Why driftlint could not find or read the migrations directory. A problem with one revision
/// file is not an error but an `unparsable-migration` finding.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    #[error("no Alembic migrations found in {}; tried:\n{}", .cwd.display(), bullet_list(.tried))]
    #[diagnostic(
        code(driftlint::migrations_not_found),
        help(
            "run driftlint from the directory holding alembic.ini (or pyproject.toml with \
             [tool.alembic]), or pass --migrations with the Alembic script directory (the one \
             holding env.py and versions/) or the versions directory itself"
        )
    )]
    NotFound { cwd: PathBuf, tried: Vec<String> },

    #[error("{origin} names {}, which does not exist", .path.display())]
    #[diagnostic(
        code(driftlint::migrations_path_missing),
        help(
            "correct {origin}, or pass --migrations with the directory that holds the revision files"
        )
    )]
    MissingPath { path: PathBuf, origin: String },

    #[error("{origin} names {}, which is not a directory", .path.display())]
    #[diagnostic(
        code(driftlint::migrations_path_not_a_directory),
        help(
            "give the Alembic script directory (holding env.py and versions/) or the versions directory itself"
        )
    )]
    NotADirectory { path: PathBuf, origin: String },

    #[error(
        "--migrations names {}, a project directory rather than an Alembic script directory or a versions directory",
        .path.display()
    )]
    #[diagnostic(
        code(driftlint::migrations_project_directory),
        help("did you mean {suggestion}?")
    )]
    ProjectDirectory { path: PathBuf, suggestion: String },

    #[error("{} holds env.py but no versions/ directory", .path.display())]
    #[diagnostic(
        code(driftlint::migrations_without_versions),
        help("create {}/versions, or pass --migrations with the directory that holds the revision files", .path.display())
    )]
    NoVersionsDirectory { path: PathBuf },

    #[error("none of the version directories from {origin} exists: {}", display_paths(.paths))]
    #[diagnostic(
        code(driftlint::version_locations_missing),
        help(
            "correct {origin}, or pass --migrations with the directory that holds the revision files"
        )
    )]
    NoVersionLocation { paths: Vec<PathBuf>, origin: String },

    #[error("cannot read {}: {source}", .path.display())]
    #[diagnostic(
        code(driftlint::migrations_unreadable),
        help("check that the path exists and that driftlint may read it")
    )]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}{}: {message}", .path.display(), .line.map(|l| format!(":{l}")).unwrap_or_default())]
    #[diagnostic(
        code(driftlint::alembic_config_invalid),
        help("fix the configuration file; Alembic itself would refuse it too")
    )]
    Config {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    #[error(
        "{origin} names the package resource `{location}`, which driftlint cannot resolve without importing Python; looked for the package in {}",
        display_paths(.searched)
    )]
    #[diagnostic(
        code(driftlint::package_location_unresolved),
        help("pass --migrations with the directory the resource points to, or write {origin} as a path (for example `%(here)s/{}`)", .location.replace([':', '.'], "/"))
    )]
    PackageLocation {
        location: String,
        origin: String,
        searched: Vec<PathBuf>,
    },
}

fn bullet_list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("  - {item}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
