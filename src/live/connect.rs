//! Opening a connection: TLS as the URL asks, a deadline on the whole handshake, and every
//! failure turned into one [`Error::Connect`] line.

use std::time::Duration;

use super::error::{ConnectFailure, classify_connect_error};
use super::url::DatabaseUrl;
use super::{Error, tls};

/// Connects to `url`; `timeout` bounds the TCP connect (unless the URL sets `connect_timeout`)
/// and the whole startup, authentication included. Needs a running tokio runtime, which drives
/// the connection in a spawned task until the returned client is dropped.
pub async fn connect(
    url: &DatabaseUrl,
    timeout: Duration,
) -> Result<tokio_postgres::Client, Error> {
    let config = url.to_config(timeout);
    let connector = tls::connector(url)?;
    // The config's timeout covers each TCP connect; a server that accepts the connection but
    // never answers (a wrong port, a stuck proxy) needs a deadline on the whole handshake.
    let per_host = url.connect_timeout().unwrap_or(timeout);
    let deadline = per_host * (url.endpoints().len().max(1) as u32) + Duration::from_secs(1);
    let failure = match tokio::time::timeout(deadline, config.connect(connector)).await {
        Ok(Ok((client, connection))) => {
            tokio::spawn(async move {
                // Errors surface through the client's calls; nothing to do with them here.
                let _ = connection.await;
            });
            return Ok(client);
        }
        Ok(Err(error)) => match classify_connect_error(&error) {
            ConnectFailure::TimedOut(_) => ConnectFailure::TimedOut(per_host),
            failure => failure,
        },
        Err(_) => ConnectFailure::TimedOut(deadline),
    };
    Err(connect_error(url, failure))
}

pub(super) fn connect_error(url: &DatabaseUrl, failure: ConnectFailure) -> Error {
    Error::Connect {
        endpoints: url.endpoints_text(),
        database: url.dbname().to_owned(),
        user: url.user().to_owned(),
        failure,
    }
}
