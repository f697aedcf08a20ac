//! The catalog queries: every table, column, constraint, index, sequence, enum type and
//! candidate version table the role can see, read in one pipelined flight.

use futures_util::future::join_all;
use tokio_postgres::Row;
use tokio_postgres::types::Type;

use super::super::Error;
use super::super::error::query_error;
use super::{CATALOG, ReadOnlySession, USER_SCHEMAS, unexpected};

impl ReadOnlySession {
    pub(super) async fn read_catalog(&mut self) -> Result<Catalog, Error> {
        let columns_sql = format!(
            "SELECT n.nspname::text, c.relname::text, a.attname::text, \
                    format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                    pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, \
                    CASE WHEN d.oid IS NOT NULL OR a.attidentity <> '' \
                         THEN has_schema_privilege(n.oid, 'USAGE') \
                              AND has_column_privilege(c.oid, a.attnum, 'SELECT') END \
             FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attribute a \
                    ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
             WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMAS} \
             ORDER BY n.nspname, c.relname, a.attnum"
        );
        let constraints_sql = format!(
            "SELECT n.nspname::text, c.relname::text, k.conname::text, k.contype::text, \
                    ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(num, ord) \
                          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num \
                          ORDER BY u.ord), \
                    rn.nspname::text, rc.relname::text, \
                    ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(num, ord) \
                          JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num \
                          ORDER BY u.ord), \
                    CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid) END, \
                    k.confdeltype::text, k.confupdtype::text, k.condeferrable, k.condeferred, \
                    CASE WHEN k.contype = 'x' THEN pg_get_constraintdef(k.oid) END \
             FROM pg_constraint k \
             JOIN pg_class c ON c.oid = k.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class rc ON rc.oid = k.confrelid \
             LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
             WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND c.relkind IN ('r', 'p') \
               AND {USER_SCHEMAS} \
             ORDER BY n.nspname, c.relname, k.conname"
        );
        // Indexes that back a primary key, unique or exclusion constraint belong to the
        // constraint, as in the replay.
        let indexes_sql = format!(
            "SELECT n.nspname::text, c.relname::text, i.relname::text, x.indisunique, \
                    ARRAY(SELECT CASE WHEN x.indkey[k - 1] <> 0 \
                                      THEN (SELECT a.attname::text FROM pg_attribute a \
                                            WHERE a.attrelid = x.indrelid \
                                              AND a.attnum = x.indkey[k - 1]) \
                                      ELSE pg_get_indexdef(x.indexrelid, k, true) END \
                          FROM generate_series(1, x.indnkeyatts::int) AS k ORDER BY k), \
                    am.amname::text, pg_get_expr(x.indpred, x.indrelid), \
                    ARRAY(SELECT a.attname::text \
                          FROM generate_series(x.indnkeyatts::int + 1, x.indnatts::int) AS k \
                          JOIN pg_attribute a \
                            ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1] \
                          ORDER BY k) \
             FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_am am ON am.oid = i.relam \
             JOIN pg_class c ON c.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMAS} \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k \
                               WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x')) \
             ORDER BY n.nspname, c.relname, i.relname"
        );
        let sequences_sql = format!(
            "SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), \
                    s.seqstart, s.seqincrement, \
                    tn.nspname::text, t.relname::text, a.attname::text, d.deptype::text, \
                    has_schema_privilege(n.oid, 'USAGE') \
                    AND has_sequence_privilege(c.oid, 'SELECT') \
             FROM pg_sequence s \
             JOIN pg_class c ON c.oid = s.seqrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_depend d \
                    ON d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
             LEFT JOIN pg_class t ON t.oid = d.refobjid \
             LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace \
             LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
             WHERE {USER_SCHEMAS} \
             ORDER BY n.nspname, c.relname"
        );
        // Which sequence a column default calls, from the default's dependencies rather than
        // by parsing `nextval('...')` text.
        let default_sequences_sql = format!(
            "SELECT n.nspname::text, c.relname::text, a.attname::text, \
                    sn.nspname::text, s.relname::text \
             FROM pg_attrdef ad \
             JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid \
                             AND d.refclassid = 'pg_class'::regclass \
             JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S' \
             JOIN pg_namespace sn ON sn.oid = s.relnamespace \
             JOIN pg_class c ON c.oid = ad.adrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum \
             WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMAS} \
             ORDER BY 1, 2, 3, 4, 5"
        );
        let enums_sql = format!(
            "SELECT n.nspname::text, t.typname::text, \
                    array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
             FROM pg_type t \
             JOIN pg_enum e ON e.enumtypid = t.oid \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE {USER_SCHEMAS} \
             GROUP BY n.nspname, t.typname ORDER BY 1, 2"
        );
        // Whatever relation the name resolves to (a view or a materialized view is read as
        // well, and said to be one), as Alembic's `SELECT` from it would find it.
        let version_table_sql = format!(
            "SELECT n.nspname::text, \
                    has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'), \
                    c.relkind::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {USER_SCHEMAS} \
               AND ($2::text IS NULL OR n.nspname = $2::text) \
             ORDER BY array_position($3::text[], n.nspname::text) NULLS LAST, n.nspname"
        );

        let version_table = self.options.version_table.clone();
        let version_schema = self.options.version_table_schema.clone();
        let no_params: &[(&(dyn tokio_postgres::types::ToSql + Sync), Type)] = &[];
        let search_path = self.search_path.clone();
        let version_params: &[(&(dyn tokio_postgres::types::ToSql + Sync), Type)] = &[
            (&version_table, Type::TEXT),
            (&version_schema, Type::TEXT),
            (&search_path, Type::TEXT_ARRAY),
        ];
        let statements = [
            (columns_sql.as_str(), no_params),
            (constraints_sql.as_str(), no_params),
            (indexes_sql.as_str(), no_params),
            (sequences_sql.as_str(), no_params),
            (default_sequences_sql.as_str(), no_params),
            (enums_sql.as_str(), no_params),
            (version_table_sql.as_str(), version_params),
        ];
        // All requests are written before any response is read: one round trip. With a second
        // connection, it gets its BEGIN (joining the snapshot) and, right behind it, the
        // constraints, indexes and default-sequence queries; the first takes the rest.
        const ON_SECOND: [usize; 3] = [1, 2, 4];
        let first = &self.client;
        let helper = self.helper.as_ref();
        let on_first = statements
            .iter()
            .enumerate()
            .filter(|(index, _)| helper.is_none() || !ON_SECOND.contains(index));
        let second_part = async {
            let helper = helper?;
            let queries = join_all(ON_SECOND.iter().map(|index| {
                helper
                    .client
                    .query_typed(statements[*index].0, statements[*index].1)
            }));
            Some(futures_util::future::join(self.open_helper(helper), queries).await)
        };
        let (first_results, second_results) = self
            .within_deadline(
                CATALOG,
                statements.len(),
                futures_util::future::join(
                    join_all(on_first.map(|(index, (sql, params))| async move {
                        (index, first.query_typed(sql, params).await)
                    })),
                    second_part,
                ),
            )
            .await?;
        let mut results: Vec<Option<Result<Vec<Row>, tokio_postgres::Error>>> =
            (0..statements.len()).map(|_| None).collect();
        for (index, result) in first_results {
            results[index] = Some(result);
        }
        let joined = match second_results {
            Some((Ok(pid), second)) if pid > 0 && second.iter().all(Result::is_ok) => {
                for (index, result) in ON_SECOND.iter().zip(second) {
                    results[*index] = Some(result);
                }
                Some(pid)
            }
            _ => None,
        };
        match (joined, self.helper.as_mut()) {
            (Some(pid), Some(helper)) => helper.backend_pid = Some(pid),
            (None, Some(_)) => {
                // It could not join the snapshot (a pooler, an old server) or failed on its
                // part: go on with one connection, which reads that part now.
                self.helper = None;
                self.round_trips += 1;
                let first = &self.client;
                let retried = self
                    .within_deadline(
                        CATALOG,
                        ON_SECOND.len(),
                        join_all(ON_SECOND.iter().map(|index| {
                            first.query_typed(statements[*index].0, statements[*index].1)
                        })),
                    )
                    .await?;
                for (index, result) in ON_SECOND.iter().zip(retried) {
                    results[*index] = Some(result);
                }
            }
            _ => {}
        }
        let mut results = results
            .into_iter()
            .map(|result| {
                result
                    .ok_or_else(|| unexpected(CATALOG))?
                    .map_err(|error| query_error(CATALOG, &error))
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter();
        let mut next = || results.next().ok_or_else(|| unexpected(CATALOG));
        Ok(Catalog {
            columns: next()?,
            constraints: next()?,
            indexes: next()?,
            sequences: next()?,
            default_sequences: next()?,
            enums: next()?,
            version_tables: next()?,
        })
    }
}

pub(super) struct Catalog {
    pub(super) columns: Vec<Row>,
    pub(super) constraints: Vec<Row>,
    pub(super) indexes: Vec<Row>,
    pub(super) sequences: Vec<Row>,
    pub(super) default_sequences: Vec<Row>,
    pub(super) enums: Vec<Row>,
    pub(super) version_tables: Vec<Row>,
}
