//! A throw-away PostgreSQL server for tests, started from Debian's binaries.
//!
//! One server per test process, started on first use ([`server`]); every test gets a fresh
//! database of its own ([`TestPostgres::new_database`]). The server runs from a temporary
//! directory (data + unix socket) on a free TCP port of 127.0.0.1, with `fsync` on (the
//! durability tests rely on it). It dies with the test process, even one that panics or is
//! killed: it is started by a small shell wrapper that waits on a pipe held by this process
//! and, when the pipe closes, stops the server (fast shutdown) and removes the directory.
//!
//! Missing binaries fail the tests with a message naming what to install: a missing
//! PostgreSQL must never turn into silently skipped tests.
//!
//! As root (CI containers), `initdb` refuses to run: the directory is then given to the
//! `postgres` system user (created by Debian's `postgresql` package) and everything runs
//! through `runuser -u postgres --`.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Role created by `initdb -U`, trusted without a password.
pub const USER: &str = "ikd";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running test server.
pub struct TestPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    run_as_postgres: bool,
    /// Held open: closing it (process exit) stops the server.
    _guard: Mutex<(Child, ChildStdin)>,
    databases: AtomicUsize,
}

/// The server of this test process, started on first use.
///
/// # Panics
/// When PostgreSQL's server binaries are missing or the server does not start; the message
/// says what to install or shows the server log.
pub fn server() -> &'static TestPostgres {
    static SERVER: OnceLock<TestPostgres> = OnceLock::new();
    SERVER.get_or_init(TestPostgres::start)
}

impl TestPostgres {
    /// `postgres://ikd@127.0.0.1:PORT/postgres`: the maintenance database.
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's data and socket directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates a database with a name unique in this process and returns its URL.
    ///
    /// # Panics
    /// When `CREATE DATABASE` fails (with psql's output).
    pub fn new_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("ikd_test_{n}");
        self.psql(&format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    /// Runs one SQL command on the maintenance database with `psql`.
    ///
    /// # Panics
    /// When psql fails (with its output).
    pub fn psql(&self, sql: &str) {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                USER,
            ])
            .args(["-p", &self.port.to_string(), "-d", "postgres", "-c", sql])
            .output()
            .unwrap_or_else(|e| panic!("running {}/psql: {e}", self.bin.display()));
        assert!(
            output.status.success(),
            "psql `{sql}` failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `pg_dump` of database `name`: every row of every table as SQL text.
    ///
    /// # Panics
    /// When pg_dump fails (with its output).
    pub fn dump(&self, name: &str) -> String {
        let output = Command::new(self.bin.join("pg_dump"))
            .args(["-h", "127.0.0.1", "-U", USER, "--inserts"])
            .args(["-p", &self.port.to_string(), "-d", name])
            .output()
            .unwrap_or_else(|e| panic!("running {}/pg_dump: {e}", self.bin.display()));
        assert!(
            output.status.success(),
            "pg_dump {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn start() -> TestPostgres {
        let bin = bin_dir();
        let run_as_postgres = is_root();
        let mut last_log = String::new();
        // A free port can be taken between probing and binding: try a few.
        for _ in 0..3 {
            let dir = temp_dir(run_as_postgres);
            initdb(&bin, &dir, run_as_postgres);
            let port = free_port();
            match spawn(&bin, &dir, port, run_as_postgres) {
                Ok(guard) => {
                    return TestPostgres {
                        bin,
                        dir,
                        port,
                        run_as_postgres,
                        _guard: Mutex::new(guard),
                        databases: AtomicUsize::new(0),
                    };
                }
                Err(log) => last_log = log,
            }
        }
        panic!("the test PostgreSQL server did not start; its log:\n{last_log}");
    }

    /// Whether the server runs as the `postgres` user (the tests run as root).
    pub fn runs_as_postgres(&self) -> bool {
        self.run_as_postgres
    }
}

/// Debian's server binaries: `pg_config --bindir` if it holds `initdb`, else the highest
/// `/usr/lib/postgresql/*/bin`.
fn bin_dir() -> PathBuf {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file());
    if let Some(dir) = from_pg_config {
        return dir;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file())
                .then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries not found (no `initdb` under `pg_config --bindir` or \
             /usr/lib/postgresql/*/bin): the PostgreSQL store tests need them; install Debian's \
             postgresql package (`apt-get install -y postgresql`)"
        ),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A fresh directory for the data and the socket, owned by whoever runs the server.
fn temp_dir(run_as_postgres: bool) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("ikd-test-pg-")
        .tempdir()
        .expect("a temporary directory for PostgreSQL")
        .keep();
    if run_as_postgres {
        let (uid, gid) = postgres_user();
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {} to postgres: {e}", dir.display()));
    }
    dir
}

/// uid and gid of the `postgres` system user.
fn postgres_user() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let output = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("running id");
        assert!(
            output.status.success(),
            "the tests run as root, so PostgreSQL must run as the `postgres` system user, which \
             does not exist; install Debian's postgresql package (`apt-get install -y \
             postgresql`), which creates it"
        );
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("a numeric id")
    };
    (id("-u"), id("-g"))
}

/// `program args…`, through `runuser -u postgres --` when running as root.
fn command(program: &Path, run_as_postgres: bool) -> Command {
    if run_as_postgres {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn initdb(bin: &Path, dir: &Path, run_as_postgres: bool) {
    let output = command(&bin.join("initdb"), run_as_postgres)
        .args(["-A", "trust", "-U", USER, "--no-sync", "-E", "UTF8"])
        // Collation of a typical production database (not "C"): the store must not depend on
        // the database's default collation.
        .args([
            "--locale-provider=icu",
            "--icu-locale=en-US",
            "--locale=C.UTF-8",
        ])
        .arg("-D")
        .arg(dir.join("data"))
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("running {}/initdb: {e}", bin.display()));
    assert!(
        output.status.success(),
        "initdb failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// Starts the server under the wrapper; `Err(log)` if it exits or never accepts connections.
fn spawn(
    bin: &Path,
    dir: &Path,
    port: u16,
    run_as_postgres: bool,
) -> Result<(Child, ChildStdin), String> {
    // `read` returns when the pipe closes (this process exits, however it exits); the server
    // then gets SIGINT (fast shutdown) and the directory is removed. The server's own stdin is
    // /dev/null, as for any background job of a non-interactive shell.
    let script = r#"
        "$1/postgres" -D "$2/data" -k "$2" -p "$3" \
            -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200 \
            >"$2/server.log" 2>&1 </dev/null &
        pid=$!
        read _ignored
        kill -INT "$pid" 2>/dev/null
        wait "$pid"
        rm -rf "$2"
    "#;
    let mut child = command(Path::new("sh"), run_as_postgres)
        .args(["-c", script, "ikd-test-postgres"])
        .arg(bin)
        .arg(dir)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting sh to run {}/postgres: {e}", bin.display()))?;
    let stdin = child.stdin.take().expect("piped stdin");
    let log = || {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(dir.join("server.log")) {
            let _ = f.read_to_string(&mut text);
        }
        text
    };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-U", USER, "-d", "postgres"])
            .args(["-p", &port.to_string(), "-t", "2"])
            .status()
            .map_err(|e| format!("running {}/pg_isready: {e}", bin.display()))?;
        if ready.success() {
            return Ok((child, stdin));
        }
        let exited = child
            .try_wait()
            .map_err(|e| format!("waiting for the server wrapper: {e}"))?;
        // The wrapper runs until the pipe closes: if it ended, or the server's log says it
        // gave up, it is not going to come up.
        let text = log();
        if exited.is_some() || text.contains("FATAL") {
            drop(stdin);
            let _ = child.wait();
            return Err(text);
        }
        if Instant::now() > deadline {
            drop(stdin);
            let _ = child.wait();
            return Err(format!(
                "not accepting connections after {START_TIMEOUT:?}:\n{text}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
