//! driftlint keeps Alembic migrations, a YAML expectations file and a live PostgreSQL database in
//! agreement. See `ARCHITECTURE.md` for the module map; dependencies point downward:
//! `cli` → `report` → `rules` → (`alembic`, `graph`, `schema`, `expect`, `live`, `fix`) → `source`.

pub mod against;
pub mod alembic;
pub mod check;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod expect;
pub mod fix;
pub mod git;
pub mod graph;
pub mod live;
pub mod python;
pub mod quote;
pub mod replay;
pub mod report;
pub mod rules;
pub mod schema;
pub mod source;
