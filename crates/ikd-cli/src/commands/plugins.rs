//! `ikd plugins list` and `ikd plugins lock`.

use crate::common::{Output, PluginArgs};
use anyhow::Result;
use ikd_core::host::{DiscoveredPlugin, LockEntry, LockFile, PluginStatus};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every plugin found: name, kind, version, ABI, sha256, status, path.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Pin the sha256 of every loaded plugin library in a lock file.
    Lock {
        /// Where to write the lock (default: stdout).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Serialize)]
struct Row {
    name: String,
    kind: String,
    version: String,
    abi: String,
    /// `native` (a library in the engine) or `process` (a child process).
    transport: String,
    sha256: String,
    status: &'static str,
    path: String,
    item_kinds: Vec<String>,
    reason: Option<String>,
}

fn row(entry: &DiscoveredPlugin) -> Row {
    let manifest = entry.manifest.as_ref();
    let (abi, item_kinds, reason) = match &entry.status {
        PluginStatus::Loaded(p) => (
            format!("{}.{}", p.abi().0, p.abi().1),
            p.info.item_kinds.iter().map(|k| k.name.clone()).collect(),
            None,
        ),
        PluginStatus::Refused(why) => (
            manifest
                .map(|m| m.abi_major.to_string())
                .unwrap_or_default(),
            Vec::new(),
            Some(why.clone()),
        ),
    };
    Row {
        name: manifest
            .map(|m| m.name.clone())
            .unwrap_or_else(|| "?".into()),
        kind: manifest.map(|m| m.kind.to_string()).unwrap_or_default(),
        version: manifest.map(|m| m.version.to_string()).unwrap_or_default(),
        abi,
        transport: manifest
            .map(|m| m.transport.to_string())
            .unwrap_or_default(),
        sha256: entry.sha256.clone().unwrap_or_default(),
        status: entry.status_name(),
        path: entry
            .library_path
            .as_ref()
            .unwrap_or(&entry.manifest_path)
            .display()
            .to_string(),
        item_kinds,
        reason,
    }
}

pub fn run(plugins: &PluginArgs, command: Command) -> Result<ExitCode> {
    let host = plugins.host()?;
    match command {
        Command::List { json } => {
            let rows: Vec<Row> = host.entries().iter().map(row).collect();
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &rows)?;
                writeln!(out)?;
            } else {
                writeln!(out, "name\tkind\tversion\tabi\tsha256\tstatus\tpath")?;
                for r in &rows {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        r.name, r.kind, r.version, r.abi, r.sha256, r.status, r.path
                    )?;
                    if let Some(reason) = &r.reason {
                        eprintln!("{} refused: {reason}", r.name);
                    }
                }
            }
        }
        Command::Lock { out } => {
            let lock = LockFile {
                plugins: host
                    .loaded()
                    .map(|p| LockEntry {
                        name: p.name().to_owned(),
                        version: p.manifest.version.to_string(),
                        sha256: p.sha256.clone(),
                        library: p.manifest.library_file_name(),
                    })
                    .collect(),
            };
            for entry in host.entries() {
                if let PluginStatus::Refused(why) = &entry.status {
                    eprintln!(
                        "warning: not locked: {}: {why}",
                        entry.manifest_path.display()
                    );
                }
            }
            let mut output = Output::create(out.as_deref())?;
            output.write_all(lock.to_toml().as_bytes())?;
            output.commit()?;
            eprintln!("locked {} plugin(s)", lock.plugins.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
