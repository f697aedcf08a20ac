//! Database URLs: every form a Flask or Alembic project keeps its connection string in, parsed
//! into one [`DatabaseUrl`] and turned into a `tokio_postgres::Config`.
//!
//! Accepted: `postgresql://` and `postgres://` URIs, SQLAlchemy's `postgresql+<driver>://` (the
//! driver part is dropped), and libpq `key=value` strings. What the text leaves out is filled in
//! the way libpq does, from `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`,
//! `PGSSLMODE`, `PGSSLROOTCERT` and `PGCONNECT_TIMEOUT`, a password from `PGPASSFILE` or
//! `~/.pgpass`, then built-in defaults: port 5432, the OS user (`$USER`) as user, the user name
//! as database, `sslmode=prefer`, and as host the first of `/var/run/postgresql` and `/tmp`
//! holding the server's socket, else `localhost`.
//!
//! Invariant: the password never leaves this type except into the connection config.
//! `Display` and `Debug` print `***` in its place, and parse errors never quote the input.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::Error;

/// How much TLS a connection insists on, with libpq's meanings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// libpq tries plain text first; driftlint treats it as `Prefer` (try TLS, fall back),
    /// which reaches the same servers.
    Allow,
    /// TLS when the server offers it, without checking the certificate; the default.
    Prefer,
    /// TLS or nothing; the certificate is checked only when a root certificate is given (or
    /// `~/.postgresql/root.crt` exists), as libpq does.
    Require,
    /// TLS with a certificate signed by a trusted root; the host name is not checked.
    VerifyCa,
    /// TLS with a trusted certificate issued for the host name.
    VerifyFull,
}

impl SslMode {
    pub fn parse(text: &str) -> Option<SslMode> {
        Some(match text.to_ascii_lowercase().as_str() {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where a server listens: a TCP host name or address, or a directory holding its unix socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Tcp(String),
    Socket(PathBuf),
}

impl Host {
    fn from_text(text: &str) -> Host {
        if text.starts_with('/') {
            Host::Socket(PathBuf::from(text))
        } else {
            Host::Tcp(text.to_owned())
        }
    }
}

/// One server to try: a host and its port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub host: Host,
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Tcp(name) if name.contains(':') => write!(f, "[{name}]:{}", self.port),
            Host::Tcp(name) => write!(f, "{name}:{}", self.port),
            Host::Socket(dir) => write!(f, "{}/.s.PGSQL.{}", dir.display(), self.port),
        }
    }
}

/// Where the root certificates for `verify-ca` and `verify-full` come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootCertificates {
    /// A PEM file (`sslrootcert=/path/root.crt`).
    File(PathBuf),
    /// The operating system's trust store (`sslrootcert=system`, as in libpq 16).
    System,
}

/// The environment values that fill in what a URL leaves out; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct ConnectionDefaults {
    pub host: Option<String>,
    pub port: Option<String>,
    pub user: Option<String>,
    pub dbname: Option<String>,
    pub password: Option<String>,
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
    pub connect_timeout: Option<String>,
    /// The operating system user, libpq's last resort for the user name.
    pub os_user: Option<String>,
    /// The directory of `~/.postgresql/root.crt`, libpq's default root certificate.
    pub home: Option<PathBuf>,
    /// Where to look for a server's unix socket when no host is given, in order.
    pub socket_dirs: Vec<PathBuf>,
    /// The password file (`PGPASSFILE`, else `~/.pgpass`), consulted when no password is given.
    pub passfile: Option<PathBuf>,
}

impl ConnectionDefaults {
    /// The defaults of this process: its `PG*` variables, `$USER`, `$HOME`, and the usual socket
    /// directories.
    pub fn from_process() -> ConnectionDefaults {
        let mut defaults = ConnectionDefaults::from_lookup(|name| std::env::var(name).ok());
        defaults.socket_dirs = vec![PathBuf::from("/var/run/postgresql"), PathBuf::from("/tmp")];
        defaults
    }

    /// Defaults read through `lookup` (an environment in tests), with no socket directories.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> ConnectionDefaults {
        let get = |name: &str| lookup(name).filter(|value| !value.is_empty());
        ConnectionDefaults {
            host: get("PGHOST"),
            port: get("PGPORT"),
            user: get("PGUSER"),
            dbname: get("PGDATABASE"),
            password: get("PGPASSWORD"),
            sslmode: get("PGSSLMODE"),
            sslrootcert: get("PGSSLROOTCERT"),
            connect_timeout: get("PGCONNECT_TIMEOUT"),
            os_user: get("USER").or_else(|| get("LOGNAME")),
            home: get("HOME").map(PathBuf::from),
            socket_dirs: Vec::new(),
            passfile: get("PGPASSFILE")
                .map(PathBuf::from)
                .or_else(|| get("HOME").map(|home| PathBuf::from(home).join(".pgpass"))),
        }
    }
}

/// A parsed database URL. Build it with [`DatabaseUrl::parse`].
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    endpoints: Vec<Endpoint>,
    hostaddrs: Vec<IpAddr>,
    user: String,
    password: Option<String>,
    dbname: String,
    ssl_mode: SslMode,
    root_certificates: Option<RootCertificates>,
    connect_timeout: Option<Duration>,
    options: Option<String>,
    ignored_parameters: Vec<String>,
}

/// The parameters as written, before defaults; shared by both syntaxes.
#[derive(Default)]
struct Written {
    hosts: Option<Vec<String>>,
    hostaddrs: Option<String>,
    ports: Option<String>,
    user: Option<String>,
    password: Option<String>,
    dbname: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    connect_timeout: Option<String>,
    options: Option<String>,
    ignored: Vec<String>,
}

impl Written {
    /// Records one `key=value` parameter (from a URI's query or a libpq string).
    fn set(&mut self, key: &str, value: String) -> Result<(), Error> {
        match key {
            "host" => self.hosts = Some(value.split(',').map(str::to_owned).collect()),
            "hostaddr" => self.hostaddrs = Some(value),
            "port" => self.ports = Some(value),
            "user" => self.user = Some(value),
            "password" => self.password = Some(value),
            "dbname" => self.dbname = Some(value),
            // asyncpg spells it `ssl`.
            "sslmode" | "ssl" => self.sslmode = Some(value),
            "sslrootcert" => self.sslrootcert = Some(value),
            "connect_timeout" => self.connect_timeout = Some(value),
            "options" => self.options = Some(value),
            "sslcert" | "sslkey" | "sslpassword" => {
                return Err(invalid(
                    "client certificates (sslcert, sslkey) are not supported; connect with a \
                     password instead",
                ));
            }
            // driftlint always announces itself as `driftlint`; other libpq and driver
            // parameters do not change what it reads.
            _ => self.ignored.push(key.to_owned()),
        }
        Ok(())
    }
}

/// Not the port's text: in `postgresql://app:S3cret-db.internal/app` (the `@` forgotten) the
/// "port" is the password.
const INVALID_PORT: &str = "invalid port: a port is a number from 1 to 65535 (the text after \
     `:` in the host part is not shown, since it may be a password: if the URL has no `@` \
     between user:password and the host, add it: postgresql://user:password@host:5432/database)";

/// The error with every piece of `text` that may be a password written `***`: the text after
/// `user:` up to the last `@` (or, without an `@`, up to the next `/`, `?` or the end) in a URL,
/// and the value of `password=` in a libpq string. Messages are written not to quote such parts;
/// this is the guard for those that quote a value (an sslmode, a hostaddr) which a mistyped
/// URL turned into a piece of the password.
fn without_secrets(error: Error, text: &str) -> Error {
    let Error::InvalidUrl { message } = error else {
        return error;
    };
    let secrets: Vec<String> = secret_candidates(text)
        .into_iter()
        .filter(|secret| !secret.is_empty() && message.contains(secret.as_str()))
        .collect();
    if secrets.is_empty() {
        return invalid(message);
    }
    // A quoted value that holds one goes whole; elsewhere (the message's own words) only an
    // occurrence long enough not to be a common word's letters.
    let mut redacted = String::with_capacity(message.len());
    for (index, part) in message.split('`').enumerate() {
        if index > 0 {
            redacted.push('`');
        }
        let quoted_secret =
            index % 2 == 1 && secrets.iter().any(|secret| part.contains(secret.as_str()));
        redacted.push_str(if quoted_secret { "***" } else { part });
    }
    for secret in secrets.iter().filter(|secret| secret.chars().count() >= 3) {
        redacted = redacted.replace(secret.as_str(), "***");
    }
    invalid(redacted)
}

/// The parts of a URL or libpq string that may hold a password (see [`without_secrets`]).
fn secret_candidates(text: &str) -> Vec<String> {
    let mut candidates = Vec::new();
    if let Some(at) = text.find("://") {
        let rest = &text[at + 3..];
        let userinfo_end = rest
            .rfind('@')
            .unwrap_or_else(|| rest.find(['/', '?']).unwrap_or(rest.len()));
        if let Some((_, password)) = rest[..userinfo_end].split_once(':') {
            candidates.push(password.to_owned());
            if let Ok(decoded) = percent_decode(password, "password") {
                candidates.push(decoded);
            }
        }
    }
    // `password=...` anywhere (a libpq string, or a URL's query).
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("password") {
        let start = from + found + "password".len();
        let value = text[start..].trim_start();
        if let Some(value) = value.strip_prefix('=') {
            let value = value.trim_start();
            let value = value.strip_prefix('\'').unwrap_or(value);
            let end = value
                .find(|c: char| c.is_whitespace() || c == '\'' || c == '&')
                .unwrap_or(value.len());
            candidates.push(value[..end].to_owned());
        }
        from = start;
    }
    // Longest first, so that a shorter candidate inside a longer one does not leave a tail.
    candidates.sort_by_key(|candidate| std::cmp::Reverse(candidate.len()));
    candidates
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidUrl {
        message: message.into(),
    }
}

impl DatabaseUrl {
    /// Parses a URL or libpq string, filling gaps from this process's environment.
    pub fn parse(text: &str) -> Result<DatabaseUrl, Error> {
        DatabaseUrl::parse_with(text, &ConnectionDefaults::from_process())
    }

    /// Parses a URL or libpq string, filling gaps from `defaults`.
    pub fn parse_with(text: &str, defaults: &ConnectionDefaults) -> Result<DatabaseUrl, Error> {
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid("the database URL is empty"));
        }
        let parsed = if let Some(at) = text.find("://") {
            parse_uri(&text[..at], &text[at + 3..])
        } else if text.contains('=') {
            parse_key_values(text)
        } else {
            Err(invalid(
                "expected a URL (postgresql://user@host:5432/database) or libpq key=value \
                 pairs (host=... dbname=...)",
            ))
        };
        parsed
            .and_then(|written| DatabaseUrl::resolve(written, defaults))
            .map_err(|error| without_secrets(error, text))
    }

    fn resolve(written: Written, defaults: &ConnectionDefaults) -> Result<DatabaseUrl, Error> {
        let ports: Vec<u16> = match written.ports.or_else(|| defaults.port.clone()) {
            Some(text) => text
                .split(',')
                .map(|port| match port.trim() {
                    "" => Ok(5432),
                    port => port
                        .parse::<u16>()
                        .ok()
                        .filter(|port| *port != 0)
                        .ok_or_else(|| invalid(INVALID_PORT)),
                })
                .collect::<Result<_, _>>()?,
            None => vec![5432],
        };
        let host_texts: Vec<String> = match written.hosts {
            Some(hosts) => hosts,
            None => match &defaults.host {
                Some(hosts) => hosts.split(',').map(str::to_owned).collect(),
                None => vec![String::new()],
            },
        };
        if ports.len() != 1 && ports.len() != host_texts.len() {
            return Err(invalid(format!(
                "{} hosts but {} ports: give one port, or one per host",
                host_texts.len(),
                ports.len()
            )));
        }
        let mut endpoints = Vec::with_capacity(host_texts.len());
        for (index, host) in host_texts.iter().enumerate() {
            let port = ports[if ports.len() == 1 { 0 } else { index }];
            let host = if host.is_empty() {
                default_host(defaults, port)
            } else {
                Host::from_text(host)
            };
            endpoints.push(Endpoint { host, port });
        }

        let hostaddrs = match written.hostaddrs {
            Some(text) => text
                .split(',')
                .map(|addr| {
                    addr.trim()
                        .parse::<IpAddr>()
                        .map_err(|_| invalid(format!("invalid hostaddr `{addr}`")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        if !hostaddrs.is_empty() && hostaddrs.len() != endpoints.len() {
            return Err(invalid("give one hostaddr per host"));
        }

        let user = written
            .user
            .filter(|user| !user.is_empty())
            .or_else(|| defaults.user.clone())
            .or_else(|| defaults.os_user.clone())
            .unwrap_or_else(|| "postgres".to_owned());
        let dbname = written
            .dbname
            .filter(|name| !name.is_empty())
            .or_else(|| defaults.dbname.clone())
            .unwrap_or_else(|| user.clone());
        let password = written
            .password
            .or_else(|| defaults.password.clone())
            .filter(|password| !password.is_empty())
            .or_else(|| {
                let passfile = defaults.passfile.as_ref()?;
                let endpoint = endpoints.first()?;
                password_from_passfile(passfile, endpoint, &dbname, &user)
            });

        let ssl_mode = match written.sslmode.or_else(|| defaults.sslmode.clone()) {
            Some(text) => match text.to_ascii_lowercase().as_str() {
                // asyncpg and JDBC write booleans.
                "true" | "on" | "1" => SslMode::Require,
                "false" | "off" | "0" => SslMode::Disable,
                lower => SslMode::parse(lower).ok_or_else(|| {
                    invalid(format!(
                        "invalid sslmode `{text}`: use disable, allow, prefer, require, \
                         verify-ca or verify-full"
                    ))
                })?,
            },
            None => SslMode::Prefer,
        };
        let explicit_root = written
            .sslrootcert
            .or_else(|| defaults.sslrootcert.clone())
            .filter(|path| !path.is_empty());
        let root_certificates = match explicit_root.as_deref() {
            Some("system") => Some(RootCertificates::System),
            Some(path) => Some(RootCertificates::File(expand_home(path, defaults))),
            None => defaults
                .home
                .as_ref()
                .map(|home| home.join(".postgresql").join("root.crt"))
                .filter(|path| path.is_file())
                .map(RootCertificates::File),
        };
        // libpq's `verify-*` modes without a root certificate fail rather than trust nothing.
        if matches!(ssl_mode, SslMode::VerifyCa | SslMode::VerifyFull)
            && root_certificates.is_none()
        {
            return Err(invalid(format!(
                "sslmode={} needs root certificates: give sslrootcert=/path/to/root.crt, \
                 sslrootcert=system for the system's trusted roots, or place them in \
                 ~/.postgresql/root.crt",
                ssl_mode.as_str()
            )));
        }

        let connect_timeout = match written
            .connect_timeout
            .or_else(|| defaults.connect_timeout.clone())
        {
            Some(text) => {
                let seconds: i64 = text
                    .trim()
                    .parse()
                    .map_err(|_| invalid(format!("invalid connect_timeout `{text}`")))?;
                // libpq: zero or negative waits forever; below 2 seconds counts as 2.
                (seconds > 0).then(|| Duration::from_secs(seconds.max(2) as u64))
            }
            None => None,
        };

        Ok(DatabaseUrl {
            endpoints,
            hostaddrs,
            user,
            password,
            dbname,
            ssl_mode,
            root_certificates,
            connect_timeout,
            options: written.options.filter(|options| !options.is_empty()),
            ignored_parameters: written.ignored,
        })
    }

    /// The servers to try, in order (usually one).
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn dbname(&self) -> &str {
        &self.dbname
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    pub fn root_certificates(&self) -> Option<&RootCertificates> {
        self.root_certificates.as_ref()
    }

    /// `connect_timeout` from the URL or `PGCONNECT_TIMEOUT`, if any.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// Parameters driftlint does not use (`application_name`, driver options, ...).
    pub fn ignored_parameters(&self) -> &[String] {
        &self.ignored_parameters
    }

    /// `host:port` of every endpoint, joined with commas, for messages.
    pub fn endpoints_text(&self) -> String {
        let texts: Vec<String> = self.endpoints.iter().map(Endpoint::to_string).collect();
        texts.join(",")
    }

    /// The `tokio_postgres` configuration: every parameter plus `application_name=driftlint`
    /// and a connect timeout (the URL's own `connect_timeout` wins over `default_timeout`).
    /// TLS is set up separately by the connector; the mode here only says whether to ask.
    pub fn to_config(&self, default_timeout: Duration) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        for endpoint in &self.endpoints {
            match &endpoint.host {
                Host::Tcp(name) => config.host(name),
                Host::Socket(dir) => config.host_path(dir),
            };
            config.port(endpoint.port);
        }
        for addr in &self.hostaddrs {
            config.hostaddr(*addr);
        }
        config.user(&self.user);
        config.dbname(&self.dbname);
        if let Some(password) = &self.password {
            config.password(password);
        }
        if let Some(options) = &self.options {
            config.options(options);
        }
        config.application_name("driftlint");
        config.connect_timeout(self.connect_timeout.unwrap_or(default_timeout));
        // A server that stops answering mid-read must not hang the check forever.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        // The server never speaks TLS on a unix socket, and libpq does not ask there.
        let all_sockets = self
            .endpoints
            .iter()
            .all(|endpoint| matches!(endpoint.host, Host::Socket(_)));
        config.ssl_mode(if all_sockets {
            tokio_postgres::config::SslMode::Disable
        } else {
            match self.ssl_mode {
                SslMode::Disable => tokio_postgres::config::SslMode::Disable,
                SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
                SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                    tokio_postgres::config::SslMode::Require
                }
            }
        });
        config
    }
}

/// The password for `endpoint`, `dbname` and `user` from a libpq password file: lines of
/// `host:port:database:user:password`, `*` matching anything, `\:` and `\\` escapes, the first
/// matching line winning; a unix socket host matches `localhost`. As libpq does, a file that
/// others may read is ignored, and so is an unreadable one.
fn password_from_passfile(
    passfile: &std::path::Path,
    endpoint: &Endpoint,
    dbname: &str,
    user: &str,
) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(passfile).ok()?;
    if !metadata.is_file() || metadata.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(passfile).ok()?;
    let host = match &endpoint.host {
        Host::Tcp(name) => name.clone(),
        Host::Socket(_) => "localhost".to_owned(),
    };
    let port = endpoint.port.to_string();
    let wanted = [host.as_str(), port.as_str(), dbname, user];
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = split_passfile_line(line)?;
            let matches = fields[..4]
                .iter()
                .zip(wanted)
                .all(|(field, wanted)| field == "*" || field == wanted);
            matches.then(|| fields[4].clone())
        })
}

/// The five fields of a password file line, unescaped; `None` for a malformed line.
fn split_passfile_line(line: &str) -> Option<Vec<String>> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut()?.push(chars.next().unwrap_or('\\')),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    (fields.len() == 5).then_some(fields)
}

/// libpq's default host: the first socket directory where the server's socket exists, else
/// `localhost`.
fn default_host(defaults: &ConnectionDefaults, port: u16) -> Host {
    defaults
        .socket_dirs
        .iter()
        .find(|dir| dir.join(format!(".s.PGSQL.{port}")).exists())
        .map(|dir| Host::Socket(dir.clone()))
        .unwrap_or_else(|| Host::Tcp("localhost".to_owned()))
}

fn expand_home(path: &str, defaults: &ConnectionDefaults) -> PathBuf {
    match (path.strip_prefix("~/"), &defaults.home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// `scheme://[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`.
fn parse_uri(scheme: &str, rest: &str) -> Result<Written, Error> {
    let scheme = scheme.to_ascii_lowercase();
    let (base, driver) = match scheme.split_once('+') {
        Some((base, driver)) => (base, Some(driver)),
        None => (scheme.as_str(), None),
    };
    if !matches!(base, "postgresql" | "postgres")
        || driver.is_some_and(|driver| {
            driver.is_empty()
                || !driver
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    {
        // The scheme is shown only when it looks like one: text before `://` may be anything.
        let shown = if scheme.len() <= 32
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_'))
        {
            format!(" `{scheme}://`")
        } else {
            String::new()
        };
        return Err(invalid(format!(
            "unsupported scheme{shown}: driftlint reads PostgreSQL only (postgresql://, \
             postgres://, postgresql+psycopg2://, postgresql+psycopg://, postgresql+asyncpg://)"
        )));
    }

    let mut written = Written::default();
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    // Like libpq and SQLAlchemy, the credentials end at the first `@`; the password may hold
    // `/` and `:` but an `@` in it must be written `%40`.
    let (userinfo, after_userinfo) = match before_query.split_once('@') {
        Some((userinfo, after))
            if !userinfo
                .split_once(':')
                .map_or(userinfo, |(user, _)| user)
                .contains('/') =>
        {
            (Some(userinfo), after)
        }
        _ => (None, before_query),
    };
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            written.user = Some(percent_decode(user, "user name")?);
        }
        if let Some(password) = password {
            written.password = Some(percent_decode(password, "password")?);
        }
    }
    let (hostspec, path) = match after_userinfo.split_once('/') {
        Some((hostspec, path)) => (hostspec, Some(path)),
        None => (after_userinfo, None),
    };
    if hostspec.contains('@') {
        return Err(invalid(
            "the host part contains `@`; write an `@` inside the user name or password as %40",
        ));
    }
    if !hostspec.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for part in hostspec.split(',') {
            let (host, port) = split_host_port(part)?;
            hosts.push(percent_decode(host, "host")?);
            ports.push(port.to_owned());
        }
        written.hosts = Some(hosts);
        if ports.iter().any(|port| !port.is_empty()) {
            written.ports = Some(ports.join(","));
        }
    }
    if let Some(path) = path
        && !path.is_empty()
    {
        written.dbname = Some(percent_decode(path, "database name")?);
    }
    for pair in query.into_iter().flat_map(|query| query.split('&')) {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| invalid("a query parameter has no `=`: write ?key=value&key=value"))?;
        let key = percent_decode(key, "parameter name")?;
        let value = percent_decode(value, "parameter value")?;
        written.set(&key, value)?;
    }
    Ok(written)
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(part: &str) -> Result<(&str, &str), Error> {
    if let Some(bracketed) = part.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("an IPv6 host misses its closing `]`"))?;
        let port = match after {
            "" => "",
            after => after
                .strip_prefix(':')
                .ok_or_else(|| invalid("expected `:port` after an IPv6 host in brackets"))?,
        };
        return Ok((host, port));
    }
    Ok(part.split_once(':').unwrap_or((part, "")))
}

fn percent_decode(text: &str, what: &str) -> Result<String, Error> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let high = bytes.get(index + 1).and_then(|b| (*b as char).to_digit(16));
            let low = bytes.get(index + 2).and_then(|b| (*b as char).to_digit(16));
            match (high, low) {
                (Some(high), Some(low)) => {
                    decoded.push((high * 16 + low) as u8);
                    index += 3;
                }
                _ => {
                    return Err(invalid(format!(
                        "invalid percent-encoding in the {what}: `%` must be followed by two \
                         hex digits (write `%` itself as %25)"
                    )));
                }
            }
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| {
        invalid(format!(
            "the {what} is not valid UTF-8 once percent-decoded"
        ))
    })
}

/// libpq's `key = value` syntax: values are bare (a backslash escapes the next character) or in
/// single quotes (where `\'` and `\\` are escapes).
fn parse_key_values(text: &str) -> Result<Written, Error> {
    let mut written = Written::default();
    let chars: Vec<char> = text.chars().collect();
    let mut index = 0;
    let skip_space = |index: &mut usize| {
        while *index < chars.len() && chars[*index].is_whitespace() {
            *index += 1;
        }
    };
    loop {
        skip_space(&mut index);
        if index >= chars.len() {
            break;
        }
        let key_start = index;
        while index < chars.len() && chars[index] != '=' && !chars[index].is_whitespace() {
            index += 1;
        }
        let key: String = chars[key_start..index].iter().collect();
        skip_space(&mut index);
        // The key is not echoed: with a mistyped string it may be a piece of the password.
        if index >= chars.len() || chars[index] != '=' {
            return Err(invalid(format!(
                "expected `key=value` at character {} of the connection string",
                key_start + 1
            )));
        }
        index += 1;
        skip_space(&mut index);
        let mut value = String::new();
        if index < chars.len() && chars[index] == '\'' {
            index += 1;
            loop {
                match chars.get(index) {
                    None => {
                        return Err(invalid(
                            "unterminated quoted value in the connection string",
                        ));
                    }
                    Some('\'') => {
                        index += 1;
                        break;
                    }
                    Some('\\') if index + 1 < chars.len() => {
                        value.push(chars[index + 1]);
                        index += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        index += 1;
                    }
                }
            }
        } else {
            while index < chars.len() && !chars[index].is_whitespace() {
                if chars[index] == '\\' && index + 1 < chars.len() {
                    index += 1;
                }
                value.push(chars[index]);
                index += 1;
            }
        }
        written.set(&key, value)?;
    }
    Ok(written)
}

/// Percent-encodes a URI component, keeping only unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A URI with `***` for the password; what every message shows.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "postgresql://{}", percent_encode(&self.user))?;
        if self.password.is_some() {
            f.write_str(":***")?;
        }
        f.write_str("@")?;
        for (index, endpoint) in self.endpoints.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            match &endpoint.host {
                Host::Tcp(name) if name.contains(':') => write!(f, "[{name}]")?,
                Host::Tcp(name) => f.write_str(name)?,
                Host::Socket(dir) => f.write_str(&percent_encode(&dir.to_string_lossy()))?,
            }
            write!(f, ":{}", endpoint.port)?;
        }
        write!(f, "/{}", percent_encode(&self.dbname))?;
        write!(f, "?sslmode={}", self.ssl_mode.as_str())?;
        match &self.root_certificates {
            Some(RootCertificates::System) => f.write_str("&sslrootcert=system")?,
            Some(RootCertificates::File(path)) => write!(
                f,
                "&sslrootcert={}",
                percent_encode(&path.to_string_lossy())
            )?,
            None => {}
        }
        Ok(())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("endpoints", &self.endpoints)
            .field("hostaddrs", &self.hostaddrs)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("dbname", &self.dbname)
            .field("ssl_mode", &self.ssl_mode)
            .field("root_certificates", &self.root_certificates)
            .field("connect_timeout", &self.connect_timeout)
            .field("options", &self.options)
            .field("ignored_parameters", &self.ignored_parameters)
            .finish()
    }
}

impl DatabaseUrl {
    /// The password, which only the tests look at.
    #[cfg(test)]
    fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ConnectionDefaults {
        ConnectionDefaults {
            os_user: Some("osuser".to_owned()),
            ..ConnectionDefaults::default()
        }
    }

    fn parse(text: &str) -> DatabaseUrl {
        DatabaseUrl::parse_with(text, &defaults())
            .unwrap_or_else(|error| panic!("{text} should parse: {error}"))
    }

    fn parse_error(text: &str) -> String {
        match DatabaseUrl::parse_with(text, &defaults()) {
            Ok(url) => panic!("{text} should not parse, got {url:?}"),
            Err(error) => error.to_string(),
        }
    }

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint {
            host: Host::Tcp(host.to_owned()),
            port,
        }
    }

    #[test]
    fn a_plain_uri_gives_every_part() {
        let url = parse("postgresql://alice:s3cret@db.example.com:6543/app?sslmode=require");
        assert_eq!(url.endpoints(), &[tcp("db.example.com", 6543)]);
        assert_eq!(url.user(), "alice");
        assert_eq!(url.password(), Some("s3cret"));
        assert_eq!(url.dbname(), "app");
        assert_eq!(url.ssl_mode(), SslMode::Require);
    }

    #[test]
    fn postgres_scheme_and_sqlalchemy_drivers_are_the_same_url() {
        let expected = parse("postgresql://u:p@h:5433/d");
        for text in [
            "postgres://u:p@h:5433/d",
            "postgresql+psycopg2://u:p@h:5433/d",
            "postgresql+psycopg://u:p@h:5433/d",
            "postgresql+asyncpg://u:p@h:5433/d",
            "POSTGRESQL+PSYCOPG2://u:p@h:5433/d",
        ] {
            assert_eq!(parse(text), expected, "{text}");
        }
    }

    #[test]
    fn other_schemes_are_refused_by_name() {
        let message = parse_error("mysql://u:p@h/d");
        assert!(message.contains("mysql://"), "{message}");
        parse_error("postgresql+://u@h/d");
    }

    #[test]
    fn defaults_are_port_5432_the_os_user_and_a_database_named_after_the_user() {
        let url = parse("postgresql://db.internal");
        assert_eq!(url.endpoints(), &[tcp("db.internal", 5432)]);
        assert_eq!(url.user(), "osuser");
        assert_eq!(url.dbname(), "osuser");
        assert_eq!(url.ssl_mode(), SslMode::Prefer);
        assert!(!url.has_password());
        let url = parse("postgresql:///mydb");
        assert_eq!(url.endpoints(), &[tcp("localhost", 5432)]);
        assert_eq!(url.dbname(), "mydb");
    }

    #[test]
    fn pg_environment_variables_fill_the_gaps_but_the_url_wins() {
        let env = ConnectionDefaults::from_lookup(|name| {
            Some(
                match name {
                    "PGHOST" => "envhost",
                    "PGPORT" => "7777",
                    "PGUSER" => "envuser",
                    "PGDATABASE" => "envdb",
                    "PGPASSWORD" => "envpw",
                    "PGSSLMODE" => "disable",
                    "USER" => "osuser",
                    _ => return None,
                }
                .to_owned(),
            )
        });
        let url = DatabaseUrl::parse_with("postgresql://", &env).expect("parses");
        assert_eq!(url.endpoints(), &[tcp("envhost", 7777)]);
        assert_eq!(url.user(), "envuser");
        assert_eq!(url.dbname(), "envdb");
        assert_eq!(url.password(), Some("envpw"));
        assert_eq!(url.ssl_mode(), SslMode::Disable);
        let url = DatabaseUrl::parse_with("postgresql://me:pw@there:1/db?sslmode=require", &env)
            .expect("parses");
        assert_eq!(url.endpoints(), &[tcp("there", 1)]);
        assert_eq!(url.user(), "me");
        assert_eq!(url.password(), Some("pw"));
        assert_eq!(url.ssl_mode(), SslMode::Require);
    }

    #[test]
    fn percent_encoded_credentials_are_decoded() {
        let url = parse("postgresql://us%40er:p%40ss%3Aw%2Fo%25rd@h/d%20b");
        assert_eq!(url.user(), "us@er");
        assert_eq!(url.password(), Some("p@ss:w/o%rd"));
        assert_eq!(url.dbname(), "d b");
        // A raw `/` or `:` in the password works as in SQLAlchemy.
        let url = parse("postgresql://u:pa/ss:x@h/d");
        assert_eq!(url.password(), Some("pa/ss:x"));
        assert_eq!(url.endpoints(), &[tcp("h", 5432)]);
    }

    #[test]
    fn a_raw_at_sign_in_the_password_is_an_error_that_does_not_echo_it() {
        let message = parse_error("postgresql://u:p@ssw0rd@h/d");
        assert!(message.contains("%40"), "{message}");
        assert!(!message.contains("ssw0rd"), "{message}");
        let message = parse_error("postgresql://u:bad%zzsecret@h/d");
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn ipv6_hosts_and_several_hosts() {
        let url = parse("postgresql://u@[::1]:6000/d");
        assert_eq!(url.endpoints(), &[tcp("::1", 6000)]);
        assert_eq!(
            url.to_string(),
            "postgresql://u@[::1]:6000/d?sslmode=prefer"
        );
        let url = parse("postgresql://u@[2001:db8::7]/d");
        assert_eq!(url.endpoints(), &[tcp("2001:db8::7", 5432)]);
        let url = parse("postgresql://u@one:5433,two/d");
        assert_eq!(url.endpoints(), &[tcp("one", 5433), tcp("two", 5432)]);
    }

    #[test]
    fn a_unix_socket_directory_as_host() {
        let socket = Endpoint {
            host: Host::Socket(PathBuf::from("/var/run/postgresql")),
            port: 5432,
        };
        assert_eq!(
            parse("postgresql://u@%2Fvar%2Frun%2Fpostgresql/d").endpoints(),
            std::slice::from_ref(&socket)
        );
        assert_eq!(
            parse("postgresql:///d?host=/var/run/postgresql").endpoints(),
            std::slice::from_ref(&socket)
        );
        assert_eq!(
            parse("host=/var/run/postgresql dbname=d").endpoints(),
            std::slice::from_ref(&socket)
        );
        let config = parse("host=/var/run/postgresql sslmode=require").to_config(Duration::ZERO);
        assert_eq!(
            config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable,
            "no TLS over a unix socket"
        );
    }

    #[test]
    fn a_missing_host_finds_the_socket_directory_that_has_the_socket() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(".s.PGSQL.5999"), "").expect("fake socket");
        let defaults = ConnectionDefaults {
            socket_dirs: vec![PathBuf::from("/nonexistent"), dir.path().to_owned()],
            ..defaults()
        };
        let url = DatabaseUrl::parse_with("postgresql://:5999/d", &defaults).expect("parses");
        assert_eq!(url.endpoints()[0].host, Host::Socket(dir.path().to_owned()));
        let url = DatabaseUrl::parse_with("postgresql:///d", &defaults).expect("parses");
        assert_eq!(url.endpoints()[0].host, Host::Tcp("localhost".to_owned()));
    }

    #[test]
    fn libpq_key_value_strings_with_quoting() {
        let url = parse(r"host=db port = 5444 dbname='my app' user=al\ ice sslmode=disable");
        assert_eq!(url.endpoints(), &[tcp("db", 5444)]);
        assert_eq!(url.dbname(), "my app");
        assert_eq!(url.user(), "al ice");
        assert_eq!(url.ssl_mode(), SslMode::Disable);
        let url = parse(r"password='it\'s a \\ secret' user=u");
        assert_eq!(url.password(), Some(r"it's a \ secret"));
        let url = parse("dbname=x password=");
        assert!(!url.has_password());
    }

    /// Malformed URLs of many shapes, each holding the password `Pw0rd-s3cret` somewhere a
    /// mistake can move it (the port, the host, the scheme, a query value): no error quotes it,
    /// nor its percent-encoded or decoded form.
    #[test]
    fn no_parse_error_shows_the_password() {
        let secret = "Pw0rd-s3cret";
        let encoded = "Pw0rd%2Ds3cret";
        let shapes = [
            "postgresql://app:{s}-db.internal/app",
            "postgresql://app:{s}db.internal:5432/app",
            "postgresql://app:{s}/app",
            "postgresql://app:{s}",
            "postgresql://app:{s}?sslmode=require",
            "postgresql://app:{s}@",
            "postgresql://app:{s}@@db/app",
            "postgresql://app:{s}@db:notaport/app",
            "postgresql://app:{s}@db:99999/app",
            "postgresql://app:{s}@[::1/app",
            "postgresql://app:{s}@[::1]x/app",
            "postgresql://app:{s}%@db/app",
            "postgresql://app:{s}%zz@db/app",
            "postgresql://app:{s}%ff@db/app",
            "postgresql://app:{s}@db/app?sslmode={s}",
            "postgresql://app:{s}@db/app?sslmode=bogus",
            "postgresql://app:{s}@db/app?connect_timeout={s}",
            "postgresql://app:{s}@db/app?hostaddr={s}",
            "postgresql://app:{s}@db/app?sslcert=x",
            "postgresql://app:{s}@db/app?noequals",
            "postgresql://app:{s}@db/app?sslmode=verify-full",
            "postgresql://app:{s}@db1,db2:1,2,3/app",
            "postgresql://app:{s}@db:5432,db2:x/app",
            "postgresql://app:{e}-db.internal/app",
            "postgresql://app:{e}@db:x/app",
            "mysql://app:{s}@db/app",
            "app:{s}@db://x",
            "postgresql+bad driver://app:{s}@db/app",
            "postgresql:/app:{s}@db/app",
            "app:{s}@db.internal/app",
            "host=db password={s} port={s}",
            "host=db password={s} sslmode={s}",
            "host=db password={s} hostaddr={s}",
            "host=db password={s} connect_timeout={s}",
            "host=db password='{s}",
            "host=db password={s} junk",
            "host=db password = {s} port=x",
            "host=db PASSWORD={s} sslmode={s}",
            "password={s} sslcert=/x",
            "host=db port={s}",
            "host=db sslmode={s} password={s}",
        ];
        for shape in shapes {
            let text = shape.replace("{s}", secret).replace("{e}", encoded);
            let Err(error) = DatabaseUrl::parse_with(&text, &ConnectionDefaults::default()) else {
                continue;
            };
            let shown = format!("{error} {error:?}");
            for part in [secret, encoded, "s3cret"] {
                assert!(!shown.contains(part), "{text}: {shown}");
            }
        }
        // The typical mistake says what is wrong without the password.
        let message = parse_error("postgresql://app:S3cret-db.internal/app");
        assert!(message.contains("invalid port"), "{message}");
        assert!(message.contains("no `@`"), "{message}");
        assert!(!message.contains("S3cret"), "{message}");
        // A plain mistake still quotes its value.
        let message = parse_error("postgresql://u@db/app?sslmode=requried");
        assert!(message.contains("`requried`"), "{message}");
    }

    proptest::proptest! {
        /// A password followed by random URL punctuation (a forgotten `@`, a stray `]`, `%`,
        /// `:`, `?`): whatever error comes out does not hold the password.
        #[test]
        fn no_parse_error_shows_a_random_password(
            scheme in "(postgresql|postgres|postgresql\\+psycopg2|mysql|)",
            user in "[a-z]{0,4}",
            secret in "[A-Za-z0-9]{6,14}",
            tail in "[@:/?&=%\\[\\],.a-z0-9 ']{0,24}",
            libpq in proptest::bool::ANY,
        ) {
            let text = if libpq {
                format!("host=db user={user} password={secret}{tail}")
            } else {
                format!("{scheme}://{user}:{secret}{tail}")
            };
            if let Err(error) = DatabaseUrl::parse_with(&text, &ConnectionDefaults::default()) {
                let shown = format!("{error} {error:?}");
                proptest::prop_assert!(!shown.contains(&secret), "{}: {}", text, shown);
            }
        }
    }

    #[test]
    fn key_value_errors_do_not_echo_the_text() {
        let message = parse_error("user=u password=my secretword");
        assert!(message.contains("character"), "{message}");
        assert!(!message.contains("secretword"), "{message}");
        let message = parse_error("password='unterminated secret");
        assert!(!message.contains("secret'"), "{message}");
        parse_error("just-a-name");
        parse_error("   ");
    }

    #[test]
    fn query_parameters_sslmode_sslrootcert_and_timeouts() {
        let url = parse(
            "postgresql://u@h/d?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=7\
             &application_name=flask&options=-c%20search_path%3Dapp",
        );
        assert_eq!(url.ssl_mode(), SslMode::VerifyFull);
        assert_eq!(
            url.root_certificates(),
            Some(&RootCertificates::File(PathBuf::from("/etc/ca.pem")))
        );
        assert_eq!(url.connect_timeout(), Some(Duration::from_secs(7)));
        assert_eq!(url.ignored_parameters(), &["application_name".to_owned()]);
        let config = url.to_config(Duration::from_secs(3));
        assert_eq!(config.get_application_name(), Some("driftlint"));
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(7)));
        assert_eq!(config.get_options(), Some("-c search_path=app"));
        assert_eq!(
            parse("postgresql://u@h/d?sslmode=verify-ca&sslrootcert=system").root_certificates(),
            Some(&RootCertificates::System)
        );
        for mode in ["disable", "allow", "prefer", "require"] {
            let url = parse(&format!("postgresql://u@h/d?sslmode={mode}"));
            assert_eq!(url.ssl_mode().as_str(), mode);
        }
        assert_eq!(
            parse("postgresql+asyncpg://u@h/d?ssl=require").ssl_mode(),
            SslMode::Require
        );
        let message = parse_error("postgresql://u@h/d?sslmode=strict");
        assert!(message.contains("verify-full"), "{message}");
        let message = parse_error("postgresql://u@h/d?sslmode=verify-full");
        assert!(message.contains("sslrootcert"), "{message}");
        parse_error("postgresql://u@h/d?sslcert=/x.crt");
    }

    #[test]
    fn the_default_timeout_applies_when_the_url_has_none() {
        let config = parse("postgresql://u@h/d").to_config(Duration::from_secs(4));
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(4)));
        assert_eq!(
            config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Prefer
        );
        assert_eq!(config.get_password(), None);
    }

    #[test]
    fn invalid_ports_are_errors() {
        parse_error("postgresql://u@h:notaport/d");
        parse_error("postgresql://u@h:0/d");
        parse_error("postgresql://u@h:70000/d");
        parse_error("host=a,b port=1,2,3");
    }

    #[test]
    fn a_password_file_supplies_the_missing_password() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let passfile = dir.path().join("pgpass");
        std::fs::write(
            &passfile,
            "# comment\n\
             other:5432:*:alice:wrong\n\
             db.internal:6543:app:alice:pa\\:ss\\\\word\n\
             localhost:*:*:*:socket-secret\n\
             *:*:*:bob:bobs\n",
        )
        .expect("write");
        std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let defaults = ConnectionDefaults {
            passfile: Some(passfile.clone()),
            ..defaults()
        };
        let parse = |text: &str| DatabaseUrl::parse_with(text, &defaults).expect("parses");
        assert_eq!(
            parse("postgresql://alice@db.internal:6543/app").password(),
            Some(r"pa:ss\word")
        );
        assert_eq!(
            parse("postgresql://alice@db.internal:6543/other").password(),
            None
        );
        assert_eq!(
            parse("host=/var/run/postgresql user=carol dbname=x").password(),
            Some("socket-secret")
        );
        assert_eq!(
            parse("postgresql://bob@anywhere/x").password(),
            Some("bobs")
        );
        assert_eq!(
            parse("postgresql://bob:given@anywhere/x").password(),
            Some("given"),
            "a password in the URL wins"
        );
        std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(
            parse("postgresql://bob@anywhere/x").password(),
            None,
            "a file others can read is ignored, as libpq does"
        );
    }

    #[test]
    fn display_and_debug_never_show_the_password() {
        let url = parse("postgresql+psycopg2://alice:hunter2-very-secret@db:5432/app");
        let shown = url.to_string();
        assert_eq!(shown, "postgresql://alice:***@db:5432/app?sslmode=prefer");
        let debugged = format!("{url:?}");
        assert!(!debugged.contains("hunter2"), "{debugged}");
        assert!(debugged.contains("***"), "{debugged}");
        let url = parse("user=alice password='hunter2 x' host=db");
        assert!(!url.to_string().contains("hunter2"));
        assert!(!format!("{url:#?}").contains("hunter2"));
    }
}
