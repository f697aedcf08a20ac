//! Starting the throwaway cluster, or describing the external server named by
//! `DRIFTLINT_TEST_DATABASE_URL`.
//!
//! Lifetime: the cluster lives in a temporary directory (`data/`, `server.log` and the unix
//! socket). Before the server starts, a watchdog (`sh`, run as the cluster's owner, in its own
//! process group so a terminal's Ctrl-C does not reach it) blocks reading a pipe from the test
//! process. Only the test process holds the write end (Rust opens pipes close-on-exec, so no
//! child inherits it), and the [`Server`] in the harness's static keeps it open until the process
//! ends. When the test process ends in any way, the kernel closes the pipe, `cat` sees end of
//! file, and the watchdog runs `pg_ctl stop -m immediate` and removes the directory, typically
//! within a fraction of a second. Statics are never dropped in Rust, so a `Drop`-based cleanup
//! would never run; this needs nothing from the test process at exit.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::LazyLock;
use std::time::Instant;

/// The role of our own cluster that must log in with a password (SCRAM) over TCP, and that
/// password. Roles a test adds to `driftlint_password_users` need a password too.
pub const PASSWORD_USER: &str = "driftlint_password_user";
pub const PASSWORD_USER_PASSWORD: &str = "driftlint-test-password";
pub const PASSWORD_GROUP: &str = "driftlint_password_users";

/// A PostgreSQL server the tests may create databases and roles on.
pub struct Server {
    /// A URL to the maintenance database (`postgres`), as the superuser.
    pub admin_url: String,
    pub host: String,
    pub port: u16,
    pub superuser: String,
    pub superuser_password: Option<String>,
    /// Extra URL parameters (`?sslmode=...`) of an external server, appended to every URL.
    pub query: String,
    /// A role that must authenticate with a password, as `(user, password)`; our cluster only.
    pub password_login: Option<(String, String)>,
    /// The directory holding the unix socket; our cluster only.
    pub socket_dir: Option<PathBuf>,
    /// The directory of the server binaries, when installed.
    pub bindir: Option<PathBuf>,
    /// The write end of the watchdog's pipe; its only job is to stay open until the process ends.
    _watchdog: Option<ChildStdin>,
}

impl Server {
    /// The external server, our own fresh cluster, or `None` when PostgreSQL is not installed.
    pub(super) fn from_environment() -> Result<Option<Server>, String> {
        if let Ok(url) = std::env::var("DRIFTLINT_TEST_DATABASE_URL")
            && !url.trim().is_empty()
        {
            return external_server(url.trim()).map(Some);
        }
        match &*BINDIR {
            Some(bindir) => start_cluster(bindir, None).map(Some),
            None => Ok(None),
        }
    }

    /// `postgresql://user[:password]@host:port/database`, percent-encoding user and password.
    pub fn url_for(&self, database: &str, user: &str, password: Option<&str>) -> String {
        let credentials = match password {
            Some(password) => format!("{}:{}", encode(user), encode(password)),
            None => encode(user),
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "postgresql://{credentials}@{host}:{}/{}{}",
            self.port,
            encode(database),
            self.query
        )
    }
}

/// The directory of the PostgreSQL server binaries: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/<major>/bin`, else the directory of `initdb` on `PATH`.
pub(super) static BINDIR: LazyLock<Option<PathBuf>> = LazyLock::new(find_bindir);

fn find_bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_server(&dir) {
            return Some(dir);
        }
    }
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(u32, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
                Some((major, entry.path().join("bin")))
            })
            .filter(|(_, dir)| has_server(dir))
            .collect();
        versions.sort();
        if let Some((_, dir)) = versions.pop() {
            return Some(dir);
        }
    }
    std::env::split_paths(&std::env::var_os("PATH")?).find(|dir| has_server(dir))
}

/// A client program (`psql`, `pg_dump`, ...) from the server's bin directory, else from `PATH`.
pub fn client_program(name: &str) -> PathBuf {
    match &*BINDIR {
        Some(dir) if dir.join(name).is_file() => dir.join(name),
        _ => PathBuf::from(name),
    }
}

fn external_server(url: &str) -> Result<Server, String> {
    let parts = parse_uri(url).ok_or_else(|| {
        "DRIFTLINT_TEST_DATABASE_URL must be a URI: postgresql://user[:password]@host[:port]/database"
            .to_owned()
    })?;
    super::try_psql(url, "SELECT 1")
        .map_err(|error| format!("cannot reach DRIFTLINT_TEST_DATABASE_URL's server: {error}"))?;
    Ok(Server {
        admin_url: url.to_owned(),
        host: parts.host,
        port: parts.port,
        superuser: parts.user,
        superuser_password: parts.password,
        query: parts.query,
        password_login: None,
        socket_dir: None,
        bindir: BINDIR.clone(),
        _watchdog: None,
    })
}

/// Who owns and runs the cluster.
enum Owner {
    /// Not root: the server runs as whoever runs the tests.
    CurrentUser,
    /// Root: the server runs as the `postgres` OS user.
    Postgres { uid: u32, gid: u32 },
}

impl Owner {
    fn detect() -> Result<Owner, String> {
        // The owner of /proc/self is the process's effective user.
        let euid = std::fs::metadata("/proc/self")
            .map(|meta| meta.uid())
            .or_else(|_| id(&["-u"]))
            .map_err(|error| format!("cannot tell which user runs the tests: {error}"))?;
        if euid != 0 {
            return Ok(Owner::CurrentUser);
        }
        let uid = id(&["-u", "postgres"]);
        let gid = id(&["-g", "postgres"]);
        match (uid, gid) {
            (Ok(uid), Ok(gid)) => Ok(Owner::Postgres { uid, gid }),
            _ => Err(
                "the tests run as root and PostgreSQL refuses to; a `postgres` OS user is \
                      needed to own the test cluster (Debian's postgresql package creates it)"
                    .to_owned(),
            ),
        }
    }

    /// A command running `program` as the owner: directly, or through `runuser` (else `su`).
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        match self {
            Owner::CurrentUser => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
            Owner::Postgres { .. } => {
                if Path::new("/usr/sbin/runuser").is_file() || Path::new("/sbin/runuser").is_file()
                {
                    let mut command = Command::new("runuser");
                    command
                        .args(["-u", "postgres", "--"])
                        .arg(program)
                        .args(args);
                    command
                } else {
                    // util-linux and shadow `su` both hand arguments after `-c CMD` to the shell.
                    let mut command = Command::new("su");
                    command
                        .args(["-s", "/bin/sh", "postgres", "-c", "exec \"$0\" \"$@\""])
                        .arg(program)
                        .args(args);
                    command
                }
            }
        }
    }
}

fn id(args: &[&str]) -> Result<u32, String> {
    let output = Command::new("id")
        .args(args)
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| "unexpected output from id".to_owned())
}

/// The certificate and key a TLS cluster serves, as PEM text.
pub struct ServerCertificate {
    pub certificate_pem: String,
    pub key_pem: String,
}

/// Our own cluster with `ssl = on`, serving `certificate`; `None` without the server binaries.
pub(super) fn start_tls_cluster(certificate: &ServerCertificate) -> Result<Option<Server>, String> {
    match &*BINDIR {
        Some(bindir) => start_cluster(bindir, Some(certificate)).map(Some),
        None => Ok(None),
    }
}

fn start_cluster(bindir: &Path, tls: Option<&ServerCertificate>) -> Result<Server, String> {
    let started = Instant::now();
    let owner = Owner::detect()?;
    // The `postgres` user must be able to reach the directory, which a root-only $TMPDIR would
    // forbid, and a unix socket path is limited to 107 bytes.
    let parent = match owner {
        Owner::Postgres { .. } => PathBuf::from("/tmp"),
        Owner::CurrentUser => {
            let dir = std::env::temp_dir();
            if dir.as_os_str().len() > 60 {
                PathBuf::from("/tmp")
            } else {
                dir
            }
        }
    };
    let base = tempfile::Builder::new()
        .prefix("driftlint-pg-")
        .tempdir_in(&parent)
        .map_err(|error| format!("cannot create a directory in {}: {error}", parent.display()))?
        .keep();
    if let Owner::Postgres { uid, gid } = owner {
        std::os::unix::fs::chown(&base, Some(uid), Some(gid))
            .map_err(|error| format!("cannot hand {} to postgres: {error}", base.display()))?;
    }
    let data = base.join("data");
    let log = base.join("server.log");
    let pg_ctl = bindir.join("pg_ctl");

    // The watchdog goes first so that even a failed start leaves nothing behind.
    let mut watchdog = owner
        .command(
            Path::new("/bin/sh"),
            &[
                "-c",
                "cat >/dev/null; \"$0\" stop -D \"$1\" -m immediate -w >/dev/null 2>&1; rm -rf \"$2\"",
                path_str(&pg_ctl)?,
                path_str(&data)?,
                path_str(&base)?,
            ],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|error| format!("cannot start the cluster's watchdog: {error}"))?;
    let watchdog_pipe = watchdog
        .stdin
        .take()
        .expect("the watchdog's stdin was configured as a pipe");

    run(
        owner.command(
            &bindir.join("initdb"),
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        ),
        "initdb",
    )?;

    // Durability is worthless for a cluster that is thrown away, and turning it off makes
    // CREATE DATABASE and DDL-heavy tests several times faster.
    let socket_dir = path_str(&base)?.replace('\'', "''");
    let settings = format!(
        "\n# driftlint test cluster\nlisten_addresses = '127.0.0.1'\n\
         unix_socket_directories = '{socket_dir}'\nfsync = off\nsynchronous_commit = off\n\
         full_page_writes = off\nmax_connections = 200\nlog_min_messages = warning\n"
    );
    append(&data.join("postgresql.conf"), &settings)?;
    if let Some(certificate) = tls {
        let certificate_path = data.join("server.crt");
        let key_path = data.join("server.key");
        std::fs::write(&certificate_path, &certificate.certificate_pem)
            .map_err(|error| format!("cannot write server.crt: {error}"))?;
        std::fs::write(&key_path, &certificate.key_pem)
            .map_err(|error| format!("cannot write server.key: {error}"))?;
        // The server refuses a key that others can read.
        std::fs::set_permissions(
            &key_path,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .map_err(|error| format!("cannot protect server.key: {error}"))?;
        if let Owner::Postgres { uid, gid } = owner {
            for path in [&certificate_path, &key_path] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|error| {
                    format!("cannot hand {} to postgres: {error}", path.display())
                })?;
            }
        }
        append(
            &data.join("postgresql.conf"),
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        )?;
    }
    // Members of the password group must authenticate with SCRAM over TCP; everyone else is
    // trusted, so tests can create roles freely.
    let hba = format!(
        "local all all trust\nhost all +{PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n\
         host all all 127.0.0.1/32 trust\n"
    );
    std::fs::write(data.join("pg_hba.conf"), hba)
        .map_err(|error| format!("cannot write pg_hba.conf: {error}"))?;

    // Another process may take the free port between our probe and the server's bind; try again
    // with a new port when that happens.
    let mut last_error = String::new();
    let mut port = None;
    for _attempt in 0..5 {
        let candidate = free_port()?;
        let options = format!("-p {candidate}");
        let result = run(
            owner.command(
                &pg_ctl,
                &[
                    "start",
                    "-D",
                    path_str(&data)?,
                    "-l",
                    path_str(&log)?,
                    "-w",
                    "-t",
                    "60",
                    "-s",
                    "-o",
                    &options,
                ],
            ),
            "pg_ctl start",
        );
        match result {
            Ok(()) => {
                port = Some(candidate);
                break;
            }
            Err(error) => {
                let server_log = std::fs::read_to_string(&log).unwrap_or_default();
                last_error = format!("{error}\nserver log:\n{server_log}");
                if !server_log.contains("could not bind") && !server_log.contains("in use") {
                    break;
                }
            }
        }
    }
    let port = port.ok_or(last_error)?;

    let server = Server {
        admin_url: format!("postgresql://postgres@127.0.0.1:{port}/postgres"),
        host: "127.0.0.1".to_owned(),
        port,
        superuser: "postgres".to_owned(),
        superuser_password: None,
        query: String::new(),
        password_login: Some((PASSWORD_USER.to_owned(), PASSWORD_USER_PASSWORD.to_owned())),
        socket_dir: Some(base.clone()),
        bindir: Some(bindir.to_owned()),
        _watchdog: Some(watchdog_pipe),
    };
    super::psql(
        &server.admin_url,
        &format!(
            "CREATE ROLE {PASSWORD_GROUP} NOLOGIN;\n\
             CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD_USER_PASSWORD}' \
             IN ROLE {PASSWORD_GROUP};"
        ),
    );
    eprintln!(
        "test cluster: PostgreSQL on 127.0.0.1:{port} in {} ms ({})",
        started.elapsed().as_millis(),
        base.display()
    );
    // The watchdog is left running on purpose; dropping `Child` neither waits nor kills.
    drop(watchdog);
    Ok(server)
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {what}: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|error| format!("cannot find a free port: {error}"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|error| format!("cannot find a free port: {error}"))
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("{} is not valid UTF-8", path.display()))
}

/// Percent-encodes everything but unreserved characters.
fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 3 <= bytes.len()
            && bytes[index + 1].is_ascii_hexdigit()
            && bytes[index + 2].is_ascii_hexdigit()
        {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("00");
            decoded.push(u8::from_str_radix(hex, 16).unwrap_or(0));
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

struct UriParts {
    user: String,
    password: Option<String>,
    host: String,
    port: u16,
    query: String,
}

/// Just enough of a `postgresql://` URI to build sibling URLs for other databases and roles.
fn parse_uri(url: &str) -> Option<UriParts> {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))?;
    let (rest, query) = match rest.find('?') {
        Some(at) => (&rest[..at], rest[at..].to_owned()),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (credentials, host_port) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let (user, password) = match credentials {
        Some(credentials) => match credentials.split_once(':') {
            Some((user, password)) => (decode(user), Some(decode(password))),
            None => (decode(credentials), None),
        },
        None => (
            std::env::var("USER").unwrap_or_else(|_| "postgres".to_owned()),
            None,
        ),
    };
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        (host.to_owned(), after.strip_prefix(':').unwrap_or(""))
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), port),
            None => (host_port.to_owned(), ""),
        }
    };
    let port = if port.is_empty() {
        5432
    } else {
        port.parse().ok()?
    };
    let host = if host.is_empty() {
        "localhost".to_owned()
    } else {
        host
    };
    Some(UriParts {
        user,
        password,
        host,
        port,
        query,
    })
}
