//! A real `ikd serve` process for the gRPC tests: started on a free loopback
//! port with tokens passed through the environment, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Tokens every test server accepts (clear text here; the server keeps hashes).
pub mod tokens {
    pub const SERVICE: &str = "test-service-token-000000000001";
    /// A service token limited to `36.72` (Kota Cilegon).
    pub const SERVICE_CILEGON: &str = "test-service-token-cilegon-0002";
    pub const ANALYST: &str = "test-analyst-token-000000000003";
    /// An analyst token limited to `36.72`.
    pub const ANALYST_CILEGON: &str = "test-analyst-token-cilegon-0004";
    pub const ADMIN: &str = "test-admin-token-00000000000005";
    pub const EXPIRED: &str = "test-expired-token-000000000006";
    /// A data steward: per-person exports and results.
    pub const STEWARD: &str = "test-steward-token-000000000007";
    /// A data steward limited to `36.72`.
    pub const STEWARD_CILEGON: &str = "test-steward-token-cilegon-0008";
}

/// The `IKD_TOKENS` value for [`tokens`].
pub fn tokens_json() -> String {
    use tokens::*;
    serde_json::json!([
        {"name": "service", "roles": ["service"], "token": SERVICE},
        {"name": "service-cilegon", "roles": ["service"], "org_prefix": "36.72", "token": SERVICE_CILEGON},
        {"name": "analyst", "roles": ["analyst"], "token": ANALYST},
        {"name": "analyst-cilegon", "roles": ["analyst"], "org_prefix": "36.72", "token": ANALYST_CILEGON},
        {"name": "admin", "roles": ["admin"], "token": ADMIN},
        {"name": "expired", "roles": ["service"], "token": EXPIRED, "expires_at": 1},
        {"name": "steward", "roles": ["steward"], "token": STEWARD},
        {"name": "steward-cilegon", "roles": ["steward"], "org_prefix": "36.72", "token": STEWARD_CILEGON},
    ])
    .to_string()
}

/// How to start a test server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub data_dir: PathBuf,
    /// Default: SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Extra `IKD_*` variables.
    pub env: Vec<(String, String)>,
    /// Extra command-line arguments after `serve`.
    pub args: Vec<String>,
    /// `RLIMIT_NOFILE` (soft and hard) for the server process.
    pub max_open_files: Option<u64>,
}

impl ServerOptions {
    pub fn new(data_dir: &Path) -> Self {
        ServerOptions {
            data_dir: data_dir.to_owned(),
            database_url: None,
            env: Vec::new(),
            args: Vec::new(),
            max_open_files: None,
        }
    }
}

/// A running `ikd serve`; killed on drop.
pub struct TestServer {
    child: Child,
    pub addr: SocketAddr,
    web_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    pub options: ServerOptions,
    /// What the server printed on stderr so far is collected here by a thread.
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl TestServer {
    /// Starts `ikd serve` and waits until it listens. The web app and the
    /// metrics listener get free ports unless `options` say otherwise
    /// (`--web-addr`, `--metrics-addr` or `IKD_METRICS_ADDR`).
    pub fn start(options: ServerOptions) -> TestServer {
        let metrics_set = options.args.iter().any(|a| a == "--metrics-addr")
            || options.env.iter().any(|(k, _)| k == "IKD_METRICS_ADDR");
        let mut command = Command::new(crate::ikd_binary());
        command
            .arg("serve")
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&options.data_dir)
            .args(if options.args.iter().any(|a| a == "--web-addr") {
                &[][..]
            } else {
                &["--web-addr", "127.0.0.1:0"][..]
            })
            .args(if metrics_set {
                &[][..]
            } else {
                &["--metrics-addr", "127.0.0.1:0"][..]
            })
            .args(&options.args)
            .env("IKD_TOKENS", tokens_json())
            .env("RUST_LOG", "warn")
            .env_remove("IKD_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = &options.database_url {
            command.arg("--database-url").arg(url);
        }
        for (k, v) in &options.env {
            command.env(k, v);
        }
        if let Some(n) = options.max_open_files {
            use std::os::unix::process::CommandExt;
            let limit = libc::rlimit {
                rlim_cur: n as libc::rlim_t,
                rlim_max: n as libc::rlim_t,
            };
            // SAFETY: setrlimit is async-signal-safe and touches only this struct.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = command.spawn().expect("ikd serve starts");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        {
            let pipe = child.stderr.take().expect("stderr piped");
            let sink = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut s = sink.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            });
        }
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = std::sync::mpsc::channel();
        let web_off = options.args.windows(2).any(|w| w == ["--web-addr", "off"]);
        let metrics_off = options
            .args
            .windows(2)
            .any(|w| w == ["--metrics-addr", "off"])
            || options
                .env
                .iter()
                .any(|(k, v)| k == "IKD_METRICS_ADDR" && v == "off");
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            let (mut grpc, mut web, mut metrics) = (None, None, None);
            for line in lines.by_ref() {
                if let Some(addr) = line.strip_prefix("ikd serve: listening on ") {
                    grpc = Some(addr.trim().to_owned());
                } else if let Some(addr) = line.strip_prefix("ikd serve: metrics on http://") {
                    metrics = Some(addr.trim().trim_end_matches("/metrics").to_owned());
                } else if let Some(addr) = line.strip_prefix("ikd serve: web app on http://") {
                    web = Some(addr.trim().trim_end_matches('/').to_owned());
                }
                // Once every address the server will print is known.
                if grpc.is_some()
                    && (web_off || web.is_some())
                    && (metrics_off || metrics.is_some())
                {
                    let _ = tx.send((grpc.take().expect("checked"), web.take(), metrics.take()));
                    break;
                }
            }
            // Keep reading so the server never blocks on a full pipe.
            lines.for_each(drop);
        });
        let (addr, web_addr, metrics_addr) = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok((addr, web, metrics)) => (
                addr.parse().expect("a socket address"),
                web.map(|w| w.parse().expect("a web app address")),
                metrics.map(|m| m.parse().expect("a metrics address")),
            ),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "ikd serve did not start; stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        TestServer {
            child,
            addr,
            web_addr,
            metrics_addr,
            options,
            stderr,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The respondent web app's address (the harness starts it on a free port).
    pub fn web_addr(&self) -> SocketAddr {
        self.web_addr
            .expect("the server was started with its web app")
    }

    /// The metrics listener's address (the harness starts it on a free port
    /// unless told otherwise).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
            .expect("the server was started with its metrics listener")
    }

    /// The TCP ports the server process listens on (`/proc`, Linux): its
    /// sockets in state LISTEN.
    pub fn listening_ports(&self) -> std::collections::BTreeSet<u16> {
        let inodes: std::collections::HashSet<String> =
            std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter_map(|link| {
                    let link = link.to_string_lossy().into_owned();
                    Some(link.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
                })
                .collect();
        let mut ports = std::collections::BTreeSet::new();
        for table in ["tcp", "tcp6"] {
            let text = std::fs::read_to_string(format!("/proc/{}/net/{table}", self.child.id()))
                .unwrap_or_default();
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 the inode.
                if fields.len() > 9
                    && fields[3] == "0A"
                    && inodes.contains(fields[9])
                    && let Some(port) = fields[1]
                        .rsplit_once(':')
                        .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                {
                    ports.insert(port);
                }
            }
        }
        ports
    }

    /// The server's peak resident memory so far (`VmHWM`, Linux), in KiB.
    pub fn peak_memory_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Sockets the server process has open (`/proc/PID/fd`, Linux).
    pub fn open_sockets(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .filter(|link| link.to_string_lossy().starts_with("socket:"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// CPU time the server process has used so far (user + system, `/proc/PID/stat`).
    pub fn cpu_time(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start at ')'.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
            .sum();
        // SAFETY: sysconf has no memory effects.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_millis(ticks * 1000 / per_second)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server with SIGKILL (no chance to finish a request, flush or clean up) and
    /// reaps it; returns how it ended (signal 9, unless it had already died of something else).
    pub fn kill_hard(&mut self) -> std::process::ExitStatus {
        // Child::kill sends SIGKILL on Unix; it is a no-op if the child was already reaped.
        let _ = self.child.kill();
        self.child.wait().expect("wait for ikd serve")
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Stops the server with SIGTERM (graceful) and waits for it; panics with
    /// the server's stderr unless it exits successfully.
    pub fn stop(mut self) {
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let status = self.child.wait().expect("wait for ikd serve");
        // Let the reader thread take the last lines.
        std::thread::sleep(Duration::from_millis(100));
        // The last lines only: CI logs keep the head and tail of a run, and
        // a long stderr would push the reason out of both.
        let stderr = self.stderr();
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(
            status.success(),
            "ikd serve exited with {status} after SIGTERM; last lines of stderr:\n{}",
            lines[lines.len().saturating_sub(15)..].join("\n")
        );
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `ikd serve ARGS --data-dir <fresh dir>` with no token configured, which must fail
/// to start (a port it is given is busy, say), and returns its stderr, after checking that
/// the failure came first: no first-run token was generated and no data directory created.
pub fn serve_fails_before_creating_anything(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(crate::ikd_binary())
        .args(["serve"])
        .args(args)
        .arg("--data-dir")
        .arg(&data)
        .env("IKD_TOKENS", "[]")
        .env_remove("IKD_CONFIG")
        .output()
        .expect("ikd serve runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    assert!(!stderr.contains("ikd_"), "a token was generated: {stderr}");
    assert!(!data.exists(), "the data directory was created");
    stderr
}
