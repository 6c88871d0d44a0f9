//! A throw-away `ikd serve` (this executable) in a child process, as the
//! benchmarks' subject: measured from another process, a server shows the
//! socket-level delays that an in-process client hides.

use crate::common::instrument_path;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// What the server is started with.
pub(super) struct ServeOptions<'a> {
    /// Instrument file or bundled instrument id.
    pub instrument: &'a str,
    /// Store (default: SQLite in `data_dir`).
    pub database_url: Option<&'a str>,
    /// Data directory: the default database, the pseudonym key, the server's log.
    pub data_dir: &'a Path,
    /// The one admin token the server accepts.
    pub token: &'a str,
    /// Serve the web app too (on a loopback port of its own).
    pub web: bool,
    /// Certificate and key files (PEM): serve gRPC over TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// A running `ikd serve`, killed when dropped.
pub(super) struct Served {
    pub child: Child,
    pub grpc: SocketAddr,
    /// The web app's address, when started with `web`.
    pub web: Option<SocketAddr>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token for a started server that lives as long as one bench run.
pub(super) fn throwaway_token() -> String {
    format!("bench-{}", std::process::id()).repeat(3)
}

/// The SQLite URL `ikd serve` uses by default in `data_dir`.
pub(super) fn default_database_url(data_dir: &Path) -> String {
    ikd_server::ServerConfig {
        data_dir: data_dir.to_owned(),
        ..Default::default()
    }
    .database_url()
}

/// Starts the server and waits until it listens on every address asked for.
/// Its log goes to `serve.log` in the data directory, quoted when it fails to start.
pub(super) fn start(options: &ServeOptions) -> Result<Served> {
    let log_path = options.data_dir.join("serve.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--web-addr"])
        .arg(if options.web { "127.0.0.1:0" } else { "off" })
        // Measured as deployed, with metrics recorded, on a port of its own.
        .args(["--metrics-addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(options.data_dir)
        .arg("--instrument")
        .arg(instrument_path(options.instrument)?)
        .env(
            "IKD_TOKENS",
            serde_json::json!([{ "name": "bench", "roles": ["admin"], "token": options.token }])
                .to_string(),
        )
        .env("IKD_MAX_CONCURRENT_REQUESTS", "8192")
        .env("IKD_MAX_CONCURRENT_PER_CONNECTION", "8192")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    if let Some(url) = options.database_url {
        command.arg("--database-url").arg(url);
    }
    if let Some((cert, key)) = &options.tls {
        command.env("IKD_TLS_CERT", cert).env("IKD_TLS_KEY", key);
    }
    let mut child = command.spawn().context("starting ikd serve")?;
    let stdout = child.stdout.take().expect("piped");
    let (mut grpc, mut web) = (None, None);
    let mut lines = BufReader::new(stdout).lines();
    while grpc.is_none() || (options.web && web.is_none()) {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            bail!(
                "ikd serve stopped before it listened; its log ends:\n{}",
                lines[lines.len().saturating_sub(10)..].join("\n")
            );
        };
        if let Some(a) = line.strip_prefix("ikd serve: listening on ") {
            grpc = Some(a.trim().parse()?);
        } else if let Some(a) = line.strip_prefix("ikd serve: web app on http://") {
            web = Some(a.trim().trim_end_matches('/').parse()?);
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Served {
        child,
        grpc: grpc.expect("set above"),
        web,
    })
}
