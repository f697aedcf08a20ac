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
//!
//! Here: the session (connections, the transaction, the round trips) and [`LiveSnapshot`];
//! `catalog.rs` the catalog queries, `data.rs` the data queries, `builder.rs` the rows assembled
//! into the schema model (also from plain values, [`snapshot_from_catalog_rows`]).

use std::collections::HashMap;
use std::time::Duration;

use tokio_postgres::{Client, SimpleQueryMessage};

use super::Error;
use super::connect::connect;
use super::error::query_error;
use super::url::DatabaseUrl;
use crate::schema::model::{Schema, TableKey};

mod builder;
mod catalog;
mod data;

pub use builder::{CatalogRows, CatalogValue, snapshot_from_catalog_rows};
use builder::{SchemaBuilder, get, unexpected};

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
