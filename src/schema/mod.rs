//! The schema model and how migrations change it: `types` (PostgreSQL type names, normalised),
//! `ops` (the operations an `upgrade()` performs), `model` (tables, columns, keys, sequences) and
//! `replay` (applying operations in revision order).
//!
//! Invariant: no I/O. The live database and the replay produce the same [`model::Schema`], so
//! every comparison is between two values of one type.

pub mod model;
pub mod names;
pub mod ops;
pub mod render;
pub mod replay;
pub mod sql;
pub mod types;
