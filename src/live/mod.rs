//! The live database.
