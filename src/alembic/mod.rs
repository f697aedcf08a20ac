//! Alembic projects as files: finding the versions directories (`discover`), and reading each
//! revision file into a [`Revision`] (`revision`) with the spans of its header variables and the
//! operations of its `upgrade()` lowered to [`crate::schema::ops::Op`]s (`lower`).
//!
//! Invariant: Python is parsed, never run. A file that cannot be read as a revision becomes an
//! `unparsable-migration` finding and the run goes on.

use crate::schema::ops::OpAt;
use crate::source::{FileId, Span};

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

pub mod lower;
