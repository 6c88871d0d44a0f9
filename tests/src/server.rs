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
}

impl ServerOptions {
    pub fn new(data_dir: &Path) -> Self {
        ServerOptions {
            data_dir: data_dir.to_owned(),
            database_url: None,
            env: Vec::new(),
            args: Vec::new(),
        }
    }
}

/// A running `ikd serve`; killed on drop.
pub struct TestServer {
    child: Child,
    pub addr: SocketAddr,
    pub options: ServerOptions,
    /// What the server printed on stderr so far is collected here by a thread.
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl TestServer {
    /// Starts `ikd serve` and waits until it listens.
    pub fn start(options: ServerOptions) -> TestServer {
        let mut command = Command::new(crate::ikd_binary());
        command
            .arg("serve")
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&options.data_dir)
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
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("ikd serve: listening on ") {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => addr.parse().expect("a socket address"),
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
            options,
            stderr,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's peak resident memory so far (`VmHWM`, Linux), in KiB.
    pub fn peak_memory_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
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
        assert!(
            status.success(),
            "ikd serve exited with {status} after SIGTERM; stderr:\n{}",
            self.stderr()
        );
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
