//! The live database: parsing the database URL, connecting (TLS with rustls), and reading the
//! schema, the sequences and Alembic's version table into the same model the replay produces.
//!
//! Invariants: this is the only module that talks to the network; it never writes (one
//! read-only transaction, rolled back) and never takes more than the locks of a plain `SELECT`;
//! the number of round trips does not grow with the number of tables; and no password appears
//! in any `Display`, `Debug` or error text.

mod connect;
mod env_file;
mod error;
mod snapshot;
mod tls;
mod url;

pub use connect::connect;
pub use env_file::{UrlOrigin, database_url_from_environment, read_env_file_value};
pub use error::{ConnectFailure, Error};
pub use snapshot::{
    CatalogRows, CatalogValue, LiveSnapshot, ReadOnlySession, RelationKind, SnapshotOptions,
    VersionDetails, snapshot, snapshot_from_catalog_rows, snapshot_with,
};
pub use url::{ConnectionDefaults, DatabaseUrl, Endpoint, Host, RootCertificates, SslMode};
