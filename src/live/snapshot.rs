//! Reading a live database into the shared schema model, read-only and in a fixed number of
//! round trips.
//!
//! Everything happens in one `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` transaction (one
//! consistent snapshot of the catalogs and the data) with `statement_timeout`, `lock_timeout` and
//! `idle_in_transaction_session_timeout` set locally, `search_path` pinned to `public` so that
//! `format_type()` names types the same way whatever the role's settings, and JIT compilation
//! off (the catalog queries' cost estimates are high enough to trigger it, and compiling them
//! took a second on a database of 1,000 tables while running them takes milliseconds); it is
//! rolled back at the end. The queries
//! are plain `SELECT`s of the catalogs plus, for the data, `SELECT last_value, is_called FROM
//! <sequence>` and `SELECT max(<column>) FROM <table>`: the locks taken are `AccessShareLock`s,
//! those of any `SELECT`. Objects the role may not read (no `SELECT` privilege) are skipped and
//! listed in [`LiveSnapshot::unreadable`], so a role with only `pg_read_all_data` or `SELECT`
//! grants is enough.
//!
//! Round trips: one to open the transaction, one for all catalog queries (pipelined), one for
//! all data queries (pipelined, `relations_per_query` relations per `UNION ALL` statement), one
//! to roll back: four, whatever the number of tables. Invariant: no query is issued per table.
//!
//! The data queries cost the server a relation open and a plan per table, so they are shared
//! between two connections when a second one can be had: it joins the first one's snapshot
//! (`pg_export_snapshot()` / `SET TRANSACTION SNAPSHOT`) while the catalogs are read, and then
//! both take half of the statements. Sequences are not transactional, so their state is the
//! current one, read after the snapshot was taken: a concurrent insert can make a sequence look
//! further ahead of the maxima, never behind them.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::join_all;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, Row, SimpleQueryMessage};

use super::Error;
use super::connect::connect;
use super::error::query_error;
use super::url::DatabaseUrl;
use crate::schema::model::{
    CheckConstraint, Column, ExclusionConstraint, ForeignKey, ForeignKeyAction, IdentityKind,
    Index, PrimaryKey, Schema, Sequence, SequenceState, Table, TableKey, UniqueConstraint,
};
use crate::schema::types::PgType;

/// How to read the database.
#[derive(Clone, Debug)]
pub struct SnapshotOptions {
    /// Connect timeout and `lock_timeout` (`--timeout`, 5 s by default); `statement_timeout` is
    /// one second more.
    pub timeout: Duration,
    /// Alembic's version table (`version_table` in `env.py`); `alembic_version` by default.
    pub version_table: String,
    /// Its schema (`version_table_schema`); by default the first schema of the role's
    /// `search_path` that holds it, as Alembic finds it.
    pub version_table_schema: Option<String>,
    /// How many tables or sequences one `UNION ALL` statement reads. The statements are
    /// pipelined, so this does not change the round trips; it keeps each statement small,
    /// because PostgreSQL's planning of a `UNION ALL` grows faster than its number of branches
    /// (1,000 sequences in one statement plan several times slower than 20 statements of 50).
    pub relations_per_query: usize,
    /// Read the sequences and maxima over two connections sharing one snapshot
    /// (`pg_export_snapshot()`), so that the server works on them with two processes. When the
    /// second connection cannot be had, one is used, silently.
    pub second_connection: bool,
}

impl SnapshotOptions {
    pub fn new(timeout: Duration) -> SnapshotOptions {
        SnapshotOptions {
            timeout,
            version_table: "alembic_version".to_owned(),
            version_table_schema: None,
            relations_per_query: 50,
            second_connection: true,
        }
    }
}

/// What was read from the live database.
#[derive(Clone, Debug)]
pub struct LiveSnapshot {
    /// Tables, columns, constraints, indexes, sequences (with their state) and enums of every
    /// schema except `pg_catalog`, `information_schema`, `pg_toast` and temporary schemas. The
    /// version table is included.
    pub schema: Schema,
    /// The rows of the version table, sorted; `None` when there is no version table.
    pub versions: Option<Vec<String>>,
    /// Where the version table was found, as `(schema, table)`.
    pub version_table: Option<TableKey>,
    /// `max()` of every integer column fed by a sequence (serial, identity or a `nextval()`
    /// default), keyed by `(schema, table, column)`; `None` for an empty table. Columns the role
    /// may not read are absent.
    pub column_max: HashMap<(String, String, String), Option<i64>>,
    /// What the version table is and what its rows hold beyond `versions`.
    pub version_details: VersionDetails,
    /// Sequences and columns that could not be read for lack of privileges, as qualified names
    /// (`public.users_id_seq`, `public.users.id`).
    pub unreadable: Vec<String>,
    /// Round trips to the server after connecting (the handshake not counted): the flights of
    /// requests driftlint waited for, one after the other. With a second connection a flight
    /// goes to both at once and counts once.
    pub round_trips: usize,
    /// Connections the read used: 2 when the second connection helped, else 1.
    pub connections: usize,
    /// `server_version`, as `15.18 (Debian 15.18-0+deb12u1)`.
    pub server_version: String,
}

/// The version table beyond its rows: what kind of relation the name resolves to, and how many
/// rows hold NULL (left out of [`LiveSnapshot::versions`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionDetails {
    /// `None` for an ordinary (or partitioned) table, else what it is instead.
    pub kind: Option<RelationKind>,
    /// Rows whose `version_num` is NULL.
    pub null_rows: usize,
}

/// A relation that is not an ordinary table, as `pg_class.relkind` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationKind {
    View,
    MaterializedView,
    ForeignTable,
}

impl RelationKind {
    fn from_relkind(relkind: &str) -> Option<RelationKind> {
        match relkind {
            "v" => Some(RelationKind::View),
            "m" => Some(RelationKind::MaterializedView),
            "f" => Some(RelationKind::ForeignTable),
            _ => None,
        }
    }

    /// `a view`, `a materialized view`, `a foreign table`.
    pub fn described(self) -> &'static str {
        match self {
            RelationKind::View => "a view",
            RelationKind::MaterializedView => "a materialized view",
            RelationKind::ForeignTable => "a foreign table",
        }
    }
}

/// Reads `url`'s database with default options and the given timeout.
pub async fn snapshot(url: &DatabaseUrl, timeout: Duration) -> Result<LiveSnapshot, Error> {
    snapshot_with(url, &SnapshotOptions::new(timeout)).await
}

/// Reads `url`'s database: connect, open the read-only transaction, read, roll back.
pub async fn snapshot_with(
    url: &DatabaseUrl,
    options: &SnapshotOptions,
) -> Result<LiveSnapshot, Error> {
    let mut session = ReadOnlySession::open(url, options).await?;
    let mut snapshot = session.read().await?;
    snapshot.round_trips = session.close().await?;
    Ok(snapshot)
}

/// A connection inside the read-only transaction. [`snapshot_with`] is the usual way in; the
/// session is public so that callers (and tests) can look at the transaction while it is open.
pub struct ReadOnlySession {
    client: Client,
    /// The second connection, importing the first one's snapshot; see
    /// [`SnapshotOptions::second_connection`].
    helper: Option<Helper>,
    options: SnapshotOptions,
    round_trips: usize,
    /// The role's own `search_path` (`current_schemas(false)`), before the transaction pins
    /// it to `public`; Alembic finds its version table through it.
    search_path: Vec<String>,
    backend_pid: i32,
    server_version: String,
}

struct Helper {
    client: Client,
    /// The first connection's `pg_export_snapshot()`.
    snapshot_id: String,
    /// Set once its transaction is open.
    backend_pid: Option<i32>,
}

/// The `SET LOCAL`s both connections run right after `BEGIN`. Only integers are formatted in.
fn transaction_settings(options: &SnapshotOptions) -> String {
    let lock_ms = options.timeout.as_millis().clamp(1, i32::MAX as u128 / 4);
    // A statement gets one second more than a lock wait, so that waiting for a lock (a
    // migration holding one) is reported as that rather than as a slow statement.
    let statement_ms = lock_ms + 1000;
    // If driftlint dies in the middle, the server ends the session soon after.
    let idle_ms = (statement_ms * 2).max(10_000);
    format!(
        "SET LOCAL statement_timeout = {statement_ms};\n\
         SET LOCAL lock_timeout = {lock_ms};\n\
         SET LOCAL idle_in_transaction_session_timeout = {idle_ms};\n\
         SELECT set_config(name, 'off', true) FROM pg_settings WHERE name = 'jit';\n"
    )
}

const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n";

/// The rows of a simple-protocol reply.
fn simple_rows(
    messages: &[SimpleQueryMessage],
) -> impl Iterator<Item = &tokio_postgres::SimpleQueryRow> {
    messages.iter().filter_map(|message| match message {
        SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    })
}

/// `"name"`, always quoted: these statements name tables as they are, whatever their spelling.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_identifier(schema), quote_identifier(name))
}

/// Schemas that belong to PostgreSQL itself.
const USER_SCHEMAS: &str =
    "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_(catalog$|toast|temp_)'";

impl ReadOnlySession {
    /// Connects and opens the transaction (one round trip after the handshake; the second
    /// connection's handshake runs alongside).
    pub async fn open(url: &DatabaseUrl, options: &SnapshotOptions) -> Result<Self, Error> {
        // The first connection comes first, so that a role allowed a single connection gets it
        // for the part that matters; the second one connects while the first opens its
        // transaction.
        let client = connect(url, options.timeout).await?;
        let second = async {
            if options.second_connection {
                connect(url, options.timeout).await.ok()
            } else {
                None
            }
        };
        let begin = |export: bool| {
            let export = if export {
                "pg_export_snapshot()"
            } else {
                "NULL"
            };
            format!(
                "{BEGIN}{}\
                 SELECT pg_backend_pid()::text, current_setting('server_version'), \
                 current_setting('server_version_num'), \
                 array_to_json(current_schemas(false))::text, {export};\n\
                 SET LOCAL search_path = public",
                transaction_settings(options)
            )
        };
        let export_sql = begin(options.second_connection);
        let (opened, mut helper_client) = tokio::join!(client.simple_query(&export_sql), second);
        let mut round_trips = 1;
        let messages = match opened {
            Ok(messages) => messages,
            Err(_) if options.second_connection => {
                // A server that cannot export snapshots: open again without, on one connection.
                helper_client = None;
                round_trips += 1;
                let _ = client.batch_execute("ROLLBACK").await;
                client
                    .simple_query(&begin(false))
                    .await
                    .map_err(|error| query_error("opening the read-only transaction", &error))?
            }
            Err(error) => return Err(query_error("opening the read-only transaction", &error)),
        };
        // The session facts, not set_config()'s echo.
        let row = simple_rows(&messages)
            .find(|row| row.len() == 5)
            .ok_or_else(|| unexpected("opening the read-only transaction"))?;
        let backend_pid = row
            .get(0)
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| unexpected("opening the read-only transaction"))?;
        let server_version = row.get(1).unwrap_or_default().to_owned();
        let version_num: u32 = row.get(2).and_then(|text| text.parse().ok()).unwrap_or(0);
        let search_path: Vec<String> = row
            .get(3)
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        // pg_sequence and attidentity arrived in PostgreSQL 10.
        if version_num < 100_000 {
            return Err(Error::Query {
                step: "opening the read-only transaction",
                message: format!("PostgreSQL {server_version} is too old"),
                help: Some("driftlint reads PostgreSQL 10 and newer".to_owned()),
            });
        }
        // The id goes into the helper's SQL, so it must look like one (`00000003-0000001B-1`).
        let snapshot_id = row
            .get(4)
            .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
        let helper = match (helper_client, snapshot_id) {
            (Some(client), Some(id)) => Some(Helper {
                client,
                snapshot_id: id.to_owned(),
                backend_pid: None,
            }),
            _ => None,
        };
        Ok(ReadOnlySession {
            client,
            helper,
            options: options.clone(),
            round_trips,
            search_path,
            backend_pid,
            server_version,
        })
    }

    /// The server processes serving this session (`pg_backend_pid()`): the first connection's,
    /// and the second's once it has joined the snapshot.
    pub fn backend_pids(&self) -> Vec<i32> {
        let mut pids = vec![self.backend_pid];
        pids.extend(self.helper.as_ref().and_then(|helper| helper.backend_pid));
        pids
    }

    /// Connections in use: 2 once the second connection has joined the snapshot, else 1.
    pub fn connections(&self) -> usize {
        1 + usize::from(
            self.helper
                .as_ref()
                .is_some_and(|helper| helper.backend_pid.is_some()),
        )
    }

    /// Round trips so far, the handshake not counted.
    pub fn round_trips(&self) -> usize {
        self.round_trips
    }

    /// Runs SQL inside the read-only transaction (simple protocol) and returns its rows as text;
    /// a write fails there with SQLSTATE 25006.
    pub async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Error> {
        self.round_trips += 1;
        let messages = self
            .client
            .simple_query(sql)
            .await
            .map_err(|error| query_error("running a query", &error))?;
        Ok(messages
            .iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|index| row.get(index).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }

    /// Ends the transaction (rolling back: nothing was written) and returns the round trips.
    pub async fn close(mut self) -> Result<usize, Error> {
        self.round_trips += 1;
        let helper = async {
            if let Some(helper) = &self.helper {
                // Its failure changes nothing: closing the connection rolls back as well.
                let _ = helper.client.batch_execute("ROLLBACK").await;
            }
        };
        let (result, ()) = tokio::join!(self.client.batch_execute("ROLLBACK"), helper);
        result.map_err(|error| query_error("closing the read-only transaction", &error))?;
        Ok(self.round_trips)
    }

    /// Opens the second connection's transaction in the first one's snapshot; returns its
    /// backend pid.
    async fn open_helper(&self, helper: &Helper) -> Result<i32, tokio_postgres::Error> {
        let sql = format!(
            "{BEGIN}SET TRANSACTION SNAPSHOT '{}';\n{}SET LOCAL search_path = public;\n\
             SELECT pg_backend_pid()::text, 'helper'",
            helper.snapshot_id,
            transaction_settings(&self.options)
        );
        helper.client.simple_query(&sql).await.map(|messages| {
            simple_rows(&messages)
                .find(|row| row.len() == 2)
                .and_then(|row| row.get(0))
                .and_then(|pid| pid.parse().ok())
                .unwrap_or(0)
        })
    }

    /// Reads the catalogs (one round trip) and then the sequences, the column maxima and the
    /// version table (one more round trip when there is any of them).
    pub async fn read(&mut self) -> Result<LiveSnapshot, Error> {
        self.round_trips += 1;
        let catalog = self.read_catalog().await?;
        let builder = SchemaBuilder::build(
            &catalog.columns,
            &catalog.constraints,
            &catalog.indexes,
            &catalog.sequences,
            &catalog.default_sequences,
            &catalog.enums,
        )?;
        let mut version_kind = None;
        let version_table = match catalog.version_tables.first() {
            Some(row) => {
                let schema: String = get(row, 0, CATALOG)?;
                let readable: bool = get(row, 1, CATALOG)?;
                version_kind = RelationKind::from_relkind(&get::<String>(row, 2, CATALOG)?);
                Some((schema, readable))
            }
            None => None,
        };
        if let Some((schema, false)) = &version_table {
            return Err(Error::Query {
                step: "reading the version table",
                message: format!(
                    "permission denied for {}.{}",
                    schema, self.options.version_table
                ),
                help: Some(format!(
                    "GRANT SELECT ON {} TO the role driftlint connects as",
                    qualified(schema, &self.options.version_table)
                )),
            });
        }
        let data = self
            .read_data(
                &builder,
                version_table.as_ref().map(|(schema, _)| schema.as_str()),
            )
            .await?;
        let mut schema = builder.schema;
        for (key, state) in data.sequence_states {
            if let Some(sequence) = schema.sequences.get_mut(&key) {
                sequence.state = Some(state);
            }
        }
        Ok(LiveSnapshot {
            schema,
            versions: data.versions,
            version_table: version_table
                .map(|(schema, _)| TableKey::new(schema, self.options.version_table.clone())),
            column_max: data.column_max,
            version_details: VersionDetails {
                kind: version_kind,
                null_rows: data.null_versions,
            },
            unreadable: builder.unreadable,
            round_trips: self.round_trips,
            connections: self.connections(),
            server_version: self.server_version.clone(),
        })
    }

    async fn read_catalog(&mut self) -> Result<Catalog, Error> {
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

    async fn read_data(
        &mut self,
        builder: &SchemaBuilder,
        version_schema: Option<&str>,
    ) -> Result<Data, Error> {
        let chunk = self.options.relations_per_query.max(1);
        let sequences: Vec<&TableKey> = builder
            .schema
            .sequences
            .iter()
            .filter(|(key, _)| !builder.unreadable_sequences.contains(*key))
            .map(|(key, _)| key)
            .collect();
        let columns = &builder.max_columns;

        let mut statements: Vec<(DataKind, String)> = Vec::new();
        for (chunk_index, part) in sequences.chunks(chunk).enumerate() {
            let selects: Vec<String> = part
                .iter()
                .enumerate()
                .map(|(offset, TableKey { schema, name })| {
                    format!(
                        "SELECT {}::int8, last_value, is_called FROM {}",
                        chunk_index * chunk + offset,
                        qualified(schema, name)
                    )
                })
                .collect();
            statements.push((DataKind::Sequences, selects.join("\nUNION ALL\n")));
        }
        for (chunk_index, part) in columns.chunks(chunk).enumerate() {
            let selects: Vec<String> = part
                .iter()
                .enumerate()
                .map(|(offset, (schema, table, column))| {
                    format!(
                        "SELECT {}::int8, max({})::int8 FROM {}",
                        chunk_index * chunk + offset,
                        quote_identifier(column),
                        qualified(schema, table)
                    )
                })
                .collect();
            statements.push((DataKind::Maxima, selects.join("\nUNION ALL\n")));
        }
        if let Some(schema) = version_schema {
            statements.push((
                DataKind::Versions,
                format!(
                    "SELECT version_num::text FROM {} ORDER BY 1",
                    qualified(schema, &self.options.version_table)
                ),
            ));
        }

        let mut data = Data {
            sequence_states: Vec::new(),
            column_max: HashMap::new(),
            versions: None,
            null_versions: 0,
        };
        if statements.is_empty() {
            return Ok(data);
        }
        self.round_trips += 1;
        let results = self.run_data_statements(&statements).await?;
        for ((kind, _), result) in statements.iter().zip(results) {
            let step = kind.step();
            let rows = result.map_err(|error| query_error(step, &error))?;
            match kind {
                DataKind::Sequences => {
                    for row in &rows {
                        let index: i64 = get(row, 0, step)?;
                        let key = usize::try_from(index)
                            .ok()
                            .and_then(|index| sequences.get(index))
                            .ok_or_else(|| unexpected(step))?;
                        data.sequence_states.push((
                            (*key).clone(),
                            SequenceState {
                                last_value: get(row, 1, step)?,
                                is_called: get(row, 2, step)?,
                            },
                        ));
                    }
                }
                DataKind::Maxima => {
                    for row in &rows {
                        let index: i64 = get(row, 0, step)?;
                        let key = usize::try_from(index)
                            .ok()
                            .and_then(|index| columns.get(index))
                            .ok_or_else(|| unexpected(step))?;
                        data.column_max.insert(key.clone(), get(row, 1, step)?);
                    }
                }
                DataKind::Versions => {
                    let mut versions = Vec::with_capacity(rows.len());
                    for row in &rows {
                        // A NULL row is counted and reported, not an error.
                        match get::<Option<String>>(row, 0, step)? {
                            Some(version) => versions.push(version),
                            None => data.null_versions += 1,
                        }
                    }
                    data.versions = Some(versions);
                }
            }
        }
        Ok(data)
    }

    /// Sends every data statement at once, alternating between the connections when there are
    /// two, and returns the results in the statements' order.
    async fn run_data_statements(
        &self,
        statements: &[(DataKind, String)],
    ) -> Result<Vec<Result<Vec<Row>, tokio_postgres::Error>>, Error> {
        let first = &self.client;
        let Some(helper) = &self.helper else {
            return self
                .within_deadline(
                    DATA,
                    statements.len(),
                    join_all(
                        statements
                            .iter()
                            .map(|(_, sql)| first.query_typed(sql, &[])),
                    ),
                )
                .await;
        };
        let second = &helper.client;
        let on_first = statements.iter().step_by(2);
        let on_second = statements.iter().skip(1).step_by(2);
        let (first_results, second_results) = self
            .within_deadline(
                DATA,
                statements.len().div_ceil(2),
                futures_util::future::join(
                    join_all(on_first.map(|(_, sql)| first.query_typed(sql, &[]))),
                    join_all(on_second.map(|(_, sql)| second.query_typed(sql, &[]))),
                ),
            )
            .await?;
        let mut first_results = first_results.into_iter();
        let mut second_results = second_results.into_iter();
        (0..statements.len())
            .map(|index| {
                let next = if index % 2 == 0 {
                    first_results.next()
                } else {
                    second_results.next()
                };
                next.ok_or_else(|| unexpected(DATA))
            })
            .collect()
    }

    /// A client-side deadline for a pipelined flight of `statements`, each bounded by the
    /// server's `statement_timeout`; it only matters when the network stalls.
    async fn within_deadline<T>(
        &self,
        step: &'static str,
        statements: usize,
        future: impl Future<Output = T>,
    ) -> Result<T, Error> {
        let per_statement = self.options.timeout + Duration::from_secs(1);
        let deadline =
            per_statement * (statements as u32).saturating_add(1) + Duration::from_secs(5);
        tokio::time::timeout(deadline, future)
            .await
            .map_err(|_| Error::Query {
                step,
                message: format!("no answer within {} s", deadline.as_secs()),
                help: Some(
                    "the server or the network stalled; check them, or raise --timeout".to_owned(),
                ),
            })
    }
}

const CATALOG: &str = "reading the catalogs";
const DATA: &str = "reading sequences and column maxima";

#[derive(Clone, Copy)]
enum DataKind {
    Sequences,
    Maxima,
    Versions,
}

impl DataKind {
    fn step(self) -> &'static str {
        match self {
            DataKind::Sequences => "reading sequence states",
            DataKind::Maxima => "reading the maxima of sequence-fed columns",
            DataKind::Versions => "reading the version table",
        }
    }
}

struct Catalog {
    columns: Vec<Row>,
    constraints: Vec<Row>,
    indexes: Vec<Row>,
    sequences: Vec<Row>,
    default_sequences: Vec<Row>,
    enums: Vec<Row>,
    version_tables: Vec<Row>,
}

struct Data {
    sequence_states: Vec<(TableKey, SequenceState)>,
    column_max: HashMap<(String, String, String), Option<i64>>,
    versions: Option<Vec<String>>,
    null_versions: usize,
}

fn unexpected(step: &'static str) -> Error {
    Error::Query {
        step,
        message: "the server's answer has an unexpected shape".to_owned(),
        help: None,
    }
}

fn get<T: Cell>(row: &impl CatalogRow, index: usize, step: &'static str) -> Result<T, Error> {
    row.cell(index).map_err(|error| Error::Query {
        step,
        message: format!("unexpected value in column {index}: {error}"),
        help: None,
    })
}

/// A `format_type()` text as a [`PgType`]. The transaction pins `search_path` to `public`, so
/// `format_type()` qualifies every user-defined type outside `public`, as the replay does.
fn pg_type(text: &str) -> PgType {
    // format_type() output always parses; keeping the text whole is the safe fallback.
    PgType::parse(text).unwrap_or_else(|_| PgType::simple(text))
}

fn is_integer_type(ty: &PgType) -> bool {
    ty.array_dims == 0 && matches!(ty.name.as_str(), "smallint" | "integer" | "bigint")
}

/// Assembles the model from the catalog rows.
#[derive(Default)]
struct SchemaBuilder {
    schema: Schema,
    /// Columns whose `max()` is read, in a stable order.
    max_columns: Vec<(String, String, String)>,
    unreadable: Vec<String>,
    unreadable_sequences: std::collections::HashSet<TableKey>,
    /// Whether each sequence-fed column may be read, from the columns query.
    column_readable: HashMap<(String, String, String), bool>,
}

impl SchemaBuilder {
    /// Assembles the model from the rows of the catalog queries, in the order `read` needs.
    fn build<R: CatalogRow>(
        columns: &[R],
        constraints: &[R],
        indexes: &[R],
        sequences: &[R],
        default_sequences: &[R],
        enums: &[R],
    ) -> Result<SchemaBuilder, Error> {
        let mut builder = SchemaBuilder::default();
        builder.tables(columns)?;
        builder.constraints(constraints)?;
        builder.indexes(indexes)?;
        builder.sequences(sequences)?;
        builder.default_sequences(default_sequences)?;
        builder.enums(enums)?;
        Ok(builder)
    }

    fn tables<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let name: String = get(row, 1, CATALOG)?;
            let table = self
                .schema
                .tables
                .entry(TableKey::new(schema.clone(), name.clone()))
                .or_insert_with(|| Table::new(&schema, &name));
            // A table without columns comes as one row with NULLs.
            let Some(column_name) = get::<Option<String>>(row, 2, CATALOG)? else {
                continue;
            };
            let type_text: String = get(row, 3, CATALOG)?;
            let identity = match get::<String>(row, 6, CATALOG)?.as_str() {
                "a" => Some(IdentityKind::Always),
                "d" => Some(IdentityKind::ByDefault),
                _ => None,
            };
            if let Some(readable) = get::<Option<bool>>(row, 8, CATALOG)? {
                self.column_readable.insert(
                    (schema.clone(), name.clone(), column_name.clone()),
                    readable,
                );
            }
            table.columns.push(Column {
                name: column_name,
                ty: pg_type(&type_text),
                nullable: !get::<bool>(row, 4, CATALOG)?,
                default: get(row, 5, CATALOG)?,
                identity,
                sequence: None,
                created_by: None,
                type_set_by: None,
                nullable_set_by: None,
                default_set_by: None,
            });
        }
        Ok(())
    }

    fn constraints<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let table_name: String = get(row, 1, CATALOG)?;
            let name: String = get(row, 2, CATALOG)?;
            let kind: String = get(row, 3, CATALOG)?;
            let columns: Vec<String> = get(row, 4, CATALOG)?;
            let Some(table) = self.schema.table_mut(&schema, &table_name) else {
                continue;
            };
            match kind.as_str() {
                "p" => {
                    table.primary_key = Some(PrimaryKey {
                        name,
                        columns,
                        set_by: None,
                    })
                }
                "u" => table.uniques.push(UniqueConstraint {
                    name,
                    columns,
                    created_by: None,
                }),
                "f" => table.foreign_keys.push(ForeignKey {
                    name,
                    columns,
                    ref_schema: get::<Option<String>>(row, 5, CATALOG)?.unwrap_or_default(),
                    ref_table: get::<Option<String>>(row, 6, CATALOG)?.unwrap_or_default(),
                    ref_columns: get(row, 7, CATALOG)?,
                    on_delete: ForeignKeyAction::from_code(&get::<String>(row, 9, CATALOG)?),
                    on_update: ForeignKeyAction::from_code(&get::<String>(row, 10, CATALOG)?),
                    deferrable: get(row, 11, CATALOG)?,
                    initially_deferred: get(row, 12, CATALOG)?,
                    created_by: None,
                }),
                "c" => table.checks.push(CheckConstraint {
                    name,
                    sql: get::<Option<String>>(row, 8, CATALOG)?.unwrap_or_default(),
                    created_by: None,
                }),
                "x" => table.exclusions.push(ExclusionConstraint {
                    name,
                    definition: get::<Option<String>>(row, 13, CATALOG)?.unwrap_or_default(),
                    created_by: None,
                }),
                _ => {}
            }
        }
        Ok(())
    }

    fn indexes<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let table_name: String = get(row, 1, CATALOG)?;
            if let Some(table) = self.schema.table_mut(&schema, &table_name) {
                table.indexes.push(Index {
                    name: get(row, 2, CATALOG)?,
                    unique: get(row, 3, CATALOG)?,
                    columns: get(row, 4, CATALOG)?,
                    method: get(row, 5, CATALOG)?,
                    predicate: get(row, 6, CATALOG)?,
                    include: get(row, 7, CATALOG)?,
                    created_by: None,
                });
            }
        }
        Ok(())
    }

    fn sequences<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let name: String = get(row, 1, CATALOG)?;
            let owner_schema: Option<String> = get(row, 5, CATALOG)?;
            let owner_table: Option<String> = get(row, 6, CATALOG)?;
            let owner_column: Option<String> = get(row, 7, CATALOG)?;
            let dependency: Option<String> = get(row, 8, CATALOG)?;
            let readable: bool = get(row, 9, CATALOG)?;
            let owned_by = match (owner_schema, owner_table, owner_column) {
                (Some(schema), Some(table), Some(column)) => Some((schema, table, column)),
                _ => None,
            };
            // An identity column is fed by its own sequence, whatever its default says.
            if dependency.as_deref() == Some("i")
                && let Some((owner_schema, owner_table, owner_column)) = &owned_by
                && let Some(column) = self
                    .schema
                    .table_mut(owner_schema, owner_table)
                    .and_then(|table| table.column_mut(owner_column))
            {
                column.sequence = Some(TableKey::new(schema.clone(), name.clone()));
            }
            if !readable {
                self.unreadable.push(format!("{schema}.{name}"));
                self.unreadable_sequences
                    .insert(TableKey::new(schema.clone(), name.clone()));
            }
            self.schema.sequences.insert(
                TableKey::new(schema.clone(), name.clone()),
                Sequence {
                    schema,
                    name,
                    data_type: pg_type(&get::<String>(row, 2, CATALOG)?),
                    start: get(row, 3, CATALOG)?,
                    increment: get(row, 4, CATALOG)?,
                    owned_by,
                    state: None,
                },
            );
        }
        Ok(())
    }

    /// Links columns to the sequences their defaults call, then picks the columns whose
    /// maximum is read.
    fn default_sequences<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let table_name: String = get(row, 1, CATALOG)?;
            let column_name: String = get(row, 2, CATALOG)?;
            let sequence = TableKey::new(
                get::<String>(row, 3, CATALOG)?,
                get::<String>(row, 4, CATALOG)?,
            );
            if let Some(column) = self
                .schema
                .table_mut(&schema, &table_name)
                .and_then(|table| table.column_mut(&column_name))
                && column.sequence.is_none()
            {
                column.sequence = Some(sequence);
            }
        }
        for table in self.schema.tables.values() {
            for column in &table.columns {
                if column.sequence.is_none() {
                    continue;
                }
                let key = (
                    table.schema.clone(),
                    table.name.clone(),
                    column.name.clone(),
                );
                // max() of a text column fed by `nextval()::text` compares nothing useful.
                if !is_integer_type(&column.ty) {
                    continue;
                }
                if self.column_readable.get(&key).copied().unwrap_or(false) {
                    self.max_columns.push(key);
                } else {
                    self.unreadable
                        .push(format!("{}.{}.{}", table.schema, table.name, column.name));
                }
            }
        }
        Ok(())
    }

    fn enums<R: CatalogRow>(&mut self, rows: &[R]) -> Result<(), Error> {
        for row in rows {
            let schema: String = get(row, 0, CATALOG)?;
            let name: String = get(row, 1, CATALOG)?;
            self.schema
                .enums
                .insert(TableKey::new(schema, name), get(row, 2, CATALOG)?);
        }
        Ok(())
    }
}

/// One catalog row: tokio-postgres's `Row` as the server sent it, or plain [`CatalogValue`]s.
trait CatalogRow {
    fn cell<T: Cell>(&self, index: usize) -> Result<T, String>;
}

/// The Rust types the catalog columns are read as.
trait Cell: for<'a> FromSql<'a> + Sized {
    fn from_plain(value: &CatalogValue) -> Option<Self>;
}

impl CatalogRow for Row {
    fn cell<T: Cell>(&self, index: usize) -> Result<T, String> {
        self.try_get(index).map_err(|error| error.to_string())
    }
}

impl CatalogRow for Vec<CatalogValue> {
    fn cell<T: Cell>(&self, index: usize) -> Result<T, String> {
        let value = self
            .get(index)
            .ok_or_else(|| format!("the row has no column {index}"))?;
        T::from_plain(value).ok_or_else(|| format!("{value:?} is not of the expected type"))
    }
}

impl Cell for String {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
}

impl Cell for bool {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl Cell for i64 {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl Cell for Vec<String> {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::TextArray(items) => Some(items.clone()),
            _ => None,
        }
    }
}

impl<T: Cell> Cell for Option<T> {
    fn from_plain(value: &CatalogValue) -> Option<Self> {
        match value {
            CatalogValue::Null => Some(None),
            other => T::from_plain(other).map(Some),
        }
    }
}

/// A value in a catalog row given without a server (see [`snapshot_from_catalog_rows`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogValue {
    Null,
    Text(String),
    Bool(bool),
    Int(i64),
    TextArray(Vec<String>),
}

/// The rows of the catalog queries of [`ReadOnlySession::read`], as plain values, one `Vec` per
/// row with the columns those queries select (see `read_catalog` for each query's columns).
#[derive(Clone, Debug, Default)]
pub struct CatalogRows {
    pub columns: Vec<Vec<CatalogValue>>,
    pub constraints: Vec<Vec<CatalogValue>>,
    pub indexes: Vec<Vec<CatalogValue>>,
    pub sequences: Vec<Vec<CatalogValue>>,
    pub default_sequences: Vec<Vec<CatalogValue>>,
    pub enums: Vec<Vec<CatalogValue>>,
}

/// Builds a snapshot from catalog rows given as plain values, with the same code that
/// [`ReadOnlySession::read`] runs on the server's rows, so that the model the live rules and the
/// fixes work on can be built without a server (the fuzzing harness, `tests/fuzz.rs`, feeds it
/// hostile names, types and NULLs). What `read` learns from the data (sequence states, column
/// maxima, the version table's rows) is left empty, for the caller to fill in; a row of the
/// wrong shape is the same error as from the server.
pub fn snapshot_from_catalog_rows(rows: &CatalogRows) -> Result<LiveSnapshot, Error> {
    let builder = SchemaBuilder::build(
        &rows.columns,
        &rows.constraints,
        &rows.indexes,
        &rows.sequences,
        &rows.default_sequences,
        &rows.enums,
    )?;
    Ok(LiveSnapshot {
        schema: builder.schema,
        versions: None,
        version_table: None,
        column_max: HashMap::new(),
        version_details: VersionDetails::default(),
        unreadable: builder.unreadable,
        round_trips: 0,
        connections: 0,
        server_version: String::new(),
    })
}
