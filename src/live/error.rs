//! What can go wrong before driftlint has a picture of the database: a URL that does not parse, a
//! server that cannot be reached or refuses us, a query that fails or times out.
//!
//! Invariant: no message ever contains a password. Connection errors are one line naming the
//! endpoint, database and user, and saying what to do.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tokio_postgres::error::SqlState;

/// An error of the live module; the CLI reports it and exits with 2.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid database URL: {message}")]
    #[diagnostic(code(driftlint::live::invalid_url))]
    InvalidUrl { message: String },

    #[error(
        "no database URL: set DATABASE_URL in the environment or in .env, or pass --database-url"
    )]
    #[diagnostic(code(driftlint::live::no_url))]
    NoDatabaseUrl,

    #[error("cannot read {}: {message}", path.display())]
    #[diagnostic(code(driftlint::live::env_file))]
    EnvFile { path: PathBuf, message: String },

    #[error("cannot set up TLS: {message}")]
    #[diagnostic(code(driftlint::live::tls))]
    Tls { message: String },

    #[error(
        "cannot connect to database \"{database}\" as user \"{user}\" at {endpoints}: {failure}"
    )]
    #[diagnostic(code(driftlint::live::connect))]
    Connect {
        /// `host:port` (or the socket path) of every endpoint tried.
        endpoints: String,
        database: String,
        user: String,
        failure: ConnectFailure,
    },

    #[error("reading the database failed while {step}: {message}")]
    #[diagnostic(code(driftlint::live::query))]
    Query {
        step: &'static str,
        message: String,
        #[help]
        help: Option<String>,
    },
}

/// Why a connection failed, with the advice that goes with it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectFailure {
    Refused,
    HostNotFound,
    Unreachable,
    TimedOut(Duration),
    SocketMissing,
    AuthenticationFailed,
    PasswordMissing,
    /// The server's `pg_hba.conf` rejects this user, host or database, or the role is missing;
    /// carries the server's message.
    NotAllowed(String),
    DatabaseMissing,
    TooManyConnections,
    ServerNotReady(String),
    TlsUnsupported,
    Tls(String),
    Other(String),
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectFailure::Refused => f.write_str(
                "connection refused; check that PostgreSQL is running and accepts TCP \
                 connections on that host and port",
            ),
            ConnectFailure::HostNotFound => {
                f.write_str("the host name does not resolve; check the host in the URL")
            }
            ConnectFailure::Unreachable => f.write_str(
                "the host cannot be reached; check the host, the network and any firewall",
            ),
            ConnectFailure::TimedOut(limit) => write!(
                f,
                "no answer within {} s; check the host, the port and any firewall, or allow \
                 longer with --timeout or connect_timeout",
                limit.as_secs_f64()
            ),
            ConnectFailure::SocketMissing => f.write_str(
                "no server socket there; check that PostgreSQL runs on this machine, or give \
                 the host and port in the URL",
            ),
            ConnectFailure::AuthenticationFailed => f.write_str(
                "password authentication failed; check the user name and the password \
                 (percent-encode special characters in a URL)",
            ),
            ConnectFailure::PasswordMissing => f.write_str(
                "the server asks for a password and none was given; put it in the URL \
                 (postgresql://user:password@host/db) or in PGPASSWORD",
            ),
            ConnectFailure::NotAllowed(message) => write!(
                f,
                "the server refuses this login ({message}); check the user name, or ask for \
                 access in the server's pg_hba.conf"
            ),
            ConnectFailure::DatabaseMissing => f.write_str(
                "the database does not exist; check the database name at the end of the URL",
            ),
            ConnectFailure::TooManyConnections => {
                f.write_str("the server has no free connection slots; try again later")
            }
            ConnectFailure::ServerNotReady(message) => {
                write!(f, "the server is not ready ({message}); try again shortly")
            }
            ConnectFailure::TlsUnsupported => f.write_str(
                "the server does not offer TLS but sslmode demands it; use sslmode=prefer or \
                 enable ssl on the server",
            ),
            ConnectFailure::Tls(message) => write!(
                f,
                "TLS handshake failed ({message}); check sslrootcert and that the certificate \
                 matches the host name, or relax sslmode"
            ),
            ConnectFailure::Other(message) => f.write_str(message),
        }
    }
}

/// Classifies a `tokio_postgres` connection error by its SQLSTATE or its I/O cause.
pub(super) fn classify_connect_error(error: &tokio_postgres::Error) -> ConnectFailure {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        return if *code == SqlState::INVALID_PASSWORD {
            ConnectFailure::AuthenticationFailed
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            ConnectFailure::DatabaseMissing
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            ConnectFailure::NotAllowed(db.message().to_owned())
        } else if *code == SqlState::TOO_MANY_CONNECTIONS {
            ConnectFailure::TooManyConnections
        } else if *code == SqlState::CANNOT_CONNECT_NOW {
            ConnectFailure::ServerNotReady(db.message().to_owned())
        } else {
            ConnectFailure::Other(format!("{} ({})", db.message(), code.code()))
        };
    }
    let mut description = error.to_string();
    let mut source = std::error::Error::source(error);
    let mut io_kind = None;
    while let Some(cause) = source {
        description.push_str(": ");
        description.push_str(&cause.to_string());
        if io_kind.is_none()
            && let Some(io) = cause.downcast_ref::<std::io::Error>()
        {
            io_kind = Some(io.kind());
        }
        source = cause.source();
    }
    let lower = description.to_ascii_lowercase();
    if lower.contains("password missing") {
        return ConnectFailure::PasswordMissing;
    }
    if lower.contains("server does not support tls") {
        return ConnectFailure::TlsUnsupported;
    }
    if lower.starts_with("error performing tls handshake") {
        let detail = description
            .split_once(": ")
            .map_or(description.as_str(), |(_, rest)| rest);
        return ConnectFailure::Tls(detail.to_owned());
    }
    if lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
        || lower.contains("could not resolve any addresses")
        || lower.contains("temporary failure in name resolution")
    {
        return ConnectFailure::HostNotFound;
    }
    use std::io::ErrorKind;
    match io_kind {
        Some(ErrorKind::ConnectionRefused) => ConnectFailure::Refused,
        Some(ErrorKind::NotFound) => ConnectFailure::SocketMissing,
        Some(ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable) => {
            ConnectFailure::Unreachable
        }
        Some(ErrorKind::TimedOut) => ConnectFailure::TimedOut(Duration::ZERO),
        _ => ConnectFailure::Other(description),
    }
}

/// A query error inside the read, with advice for the usual causes.
pub(super) fn query_error(step: &'static str, error: &tokio_postgres::Error) -> Error {
    let (message, help) = match error.as_db_error() {
        Some(db) => {
            let code = db.code();
            let help = if *code == SqlState::QUERY_CANCELED {
                Some(
                    "the statement ran longer than the timeout; raise it with --timeout".to_owned(),
                )
            } else if *code == SqlState::LOCK_NOT_AVAILABLE {
                Some(
                    "another session holds a lock on this table (a migration running?); try \
                     again when it has finished, or raise --timeout"
                        .to_owned(),
                )
            } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
                Some(
                    "the role needs read access: GRANT pg_read_all_data TO the role, or SELECT \
                     on the tables and sequences"
                        .to_owned(),
                )
            } else {
                None
            };
            (format!("{} ({})", db.message(), code.code()), help)
        }
        None => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            (message, None)
        }
    };
    Error::Query {
        step,
        message,
        help,
    }
}
