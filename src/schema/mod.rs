//! The schema model: `types` (PostgreSQL type names, normalised), `ops` (the operations an
//! `upgrade()` performs), `model` (tables, columns, keys, sequences), `names` (the names
//! PostgreSQL and SQLAlchemy give unnamed objects), `sql` (raw SQL lowered to operations) and
//! `render` (a schema as YAML or SQL). Applying operations in revision order is
//! [`crate::replay`]'s, a layer above.
//!
//! Invariant: no I/O. The live database and the replay produce the same [`model::Schema`], so
//! every comparison is between two values of one type.

pub mod model;
pub mod names;
pub mod ops;
pub mod render;

pub mod sql;
pub mod types;
