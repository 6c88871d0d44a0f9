//! `ikd serve`: the gRPC server (see `docs/server.md`).

use crate::common::{PluginArgs, instrument_dirs};
use anyhow::{Context, Result};
use ikd_server::{Server, ServerConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Server configuration file (TOML); `IKD_*` variables and these flags override it.
    #[arg(long, value_name = "FILE", env = "IKD_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:50051; port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    addr: Option<SocketAddr>,
    /// Also make one invitation link of a made-up respondent (unit `demo`) to
    /// this instrument and print it, to try the web app at once.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "ikd-asn-2025")]
    demo: Option<String>,
    /// Address of the respondent web app (default 127.0.0.1:8080; `off`: none).
    #[arg(long, value_name = "ADDR")]
    web_addr: Option<String>,
    /// Address of the Prometheus metrics listener, `GET /metrics` without a
    /// token: keep it internal (default 127.0.0.1:9464; `off`: none).
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<String>,
    /// `sqlite://FILE` or `postgres://…` (default: an SQLite file in the data directory).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Directory for the default database, the pseudonym key and the first-run token hash.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Instrument file or directory of instruments; repeatable (default: the bundled ones).
    #[arg(long = "instrument", value_name = "PATH")]
    instruments: Vec<PathBuf>,
}

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let mut config = ServerConfig::load(args.config.as_deref())?;
    if let Some(addr) = args.addr {
        config.addr = addr;
    }
    if let Some(web) = args.web_addr {
        config.web_addr = match web.as_str() {
            "off" => None,
            addr => Some(
                addr.parse()
                    .context("--web-addr: not an address (or `off`)")?,
            ),
        };
    }
    if let Some(metrics) = args.metrics_addr {
        config.metrics_addr = match metrics.as_str() {
            "off" => None,
            addr => Some(
                addr.parse()
                    .context("--metrics-addr: not an address (or `off`)")?,
            ),
        };
    }
    if let Some(url) = args.database_url {
        config.database_url = Some(url);
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if !args.instruments.is_empty() {
        config.instruments = args.instruments;
    }
    if config.instruments.is_empty() {
        config.instruments = instrument_dirs()
            .into_iter()
            .filter(|d| d.is_dir())
            .collect();
    }
    let mut plugins = plugins.clone();
    plugins
        .plugin_dirs
        .extend(config.plugin_dirs.iter().cloned());
    let host = plugins.host()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        // Before anything listens: a SIGTERM that comes as soon as the port
        // is known must stop the server gracefully, never kill it.
        let shutdown = Shutdown::listen().context("cannot handle SIGTERM and SIGINT")?;
        let server = Server::start(config, host).await?;
        // Tests and scripts read this line to find the port.
        println!("ikd serve: listening on {}", server.local_addr());
        if let Some(metrics) = server.metrics_addr() {
            println!("ikd serve: metrics on http://{metrics}/metrics");
        }
        if let Some(web) = server.web_addr() {
            println!("ikd serve: web app on http://{web}/");
            if let Some(instrument) = &args.demo {
                let path = server
                    .demo_invitation(instrument)
                    .await
                    .map_err(|e| anyhow::anyhow!("--demo: {e}"))?;
                println!("ikd serve: open http://{web}{path} to answer the instrument (a demo link, valid for a day)");
            } else {
                println!("ikd serve: invitation links come from `ikd invite` (or `ikd serve --demo` for one to try)");
            }
        }
        server.run(shutdown.requested()).await?;
        eprintln!("ikd serve: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// SIGTERM or Ctrl-C (SIGINT), handled from the moment it is created: the
/// handlers are registered at once, not when the server first waits.
struct Shutdown {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Shutdown {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Shutdown {})
    }

    /// Completes when either signal arrives.
    async fn requested(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
