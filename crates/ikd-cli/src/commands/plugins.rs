//! `ikd plugins list`, `ikd plugins lock` and `ikd plugins new` (in
//! [`super::plugin_new`]).
//!
//! `ikd plugins lock --out FILE` also appends one JSON line per run to `FILE.audit.jsonl`:
//! when (RFC 3339, UTC), who (the OS user), what (`plugins.lock`) and which plugins were
//! added, removed or changed compared with the lock file it replaced.

use crate::common::{Output, PluginArgs};
use anyhow::Result;
use ikd_core::host::{DiscoveredPlugin, LockEntry, LockFile, PluginStatus};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every plugin found: name, kind, version, ABI, sha256, status, path; exits 1 when any is refused.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Pin the sha256 of every loaded plugin library in a lock file.
    Lock {
        /// Where to write the lock (default: stdout). Each run also appends what changed to
        /// `FILE.audit.jsonl`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Create a plugin crate: Cargo.toml, plugin.toml, a working example, tests and an example instrument.
    New(super::plugin_new::NewArgs),
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
    let host = match command {
        // A new crate needs no plugin directory.
        Command::New(args) => return super::plugin_new::run(args),
        _ => plugins.host()?,
    };
    match command {
        Command::New(_) => unreachable!("handled above"),
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
            // A refused plugin is a broken installation: say so in the exit code too,
            // so a deployment check fails instead of passing with a list.
            let refused = rows.iter().filter(|r| r.reason.is_some()).count();
            if refused > 0 {
                eprintln!("{refused} plugin(s) refused");
                return Ok(ExitCode::FAILURE);
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
            // The lock being replaced, to audit what changed.
            let previous = out.as_deref().filter(|p| p.exists()).and_then(|p| {
                LockFile::read(p)
                    .inspect_err(|e| eprintln!("warning: {e}; auditing every plugin as added"))
                    .ok()
            });
            let mut output = Output::create(out.as_deref())?;
            output.write_all(lock.to_toml().as_bytes())?;
            output.commit()?;
            if let Some(path) = &out {
                audit_lock(path, previous.as_ref(), &lock)?;
            }
            eprintln!("locked {} plugin(s)", lock.plugins.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends one JSON line to `<lock>.audit.jsonl`: when, who, what, and the plugins added,
/// removed or changed (old and new sha256) since `previous` (absent: every plugin is added).
fn audit_lock(lock_path: &Path, previous: Option<&LockFile>, lock: &LockFile) -> Result<()> {
    let empty = LockFile::default();
    let old = previous.unwrap_or(&empty);
    let pin = |e: &LockEntry| serde_json::json!({"name": e.name, "version": e.version, "sha256": e.sha256});
    let added: Vec<_> = lock
        .plugins
        .iter()
        .filter(|e| old.entry(&e.name).is_none())
        .map(pin)
        .collect();
    let removed: Vec<_> = old
        .plugins
        .iter()
        .filter(|e| lock.entry(&e.name).is_none())
        .map(pin)
        .collect();
    let changed: Vec<_> = lock
        .plugins
        .iter()
        .filter_map(|new| {
            let was = old.entry(&new.name)?;
            (was.sha256 != new.sha256 || was.version != new.version).then(|| {
                serde_json::json!({
                    "name": new.name,
                    "old_version": was.version,
                    "new_version": new.version,
                    "old_sha256": was.sha256,
                    "new_sha256": new.sha256,
                })
            })
        })
        .collect();
    let line = serde_json::json!({
        "at": rfc3339_utc(std::time::SystemTime::now()),
        "actor": os_user(),
        "action": "plugins.lock",
        "target": lock_path.display().to_string(),
        "previous_lock": previous.is_some(),
        "plugins": lock.plugins.len(),
        "added": added,
        "removed": removed,
        "changed": changed,
    });
    let mut audit_path = lock_path.as_os_str().to_owned();
    audit_path.push(".audit.jsonl");
    let audit_path = PathBuf::from(audit_path);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&audit_path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", audit_path.display()))?;
    // One write of one line: appends of concurrent runs do not interleave.
    file.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", audit_path.display()))?;
    Ok(())
}

/// The user running the command: `$USER`, `$LOGNAME`, else `uid:<n>`.
fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| {
            // SAFETY: getuid(2) cannot fail and touches no memory of ours.
            let uid = unsafe { libc::getuid() };
            format!("uid:{uid}")
        })
}

/// `time` as RFC 3339 in UTC, whole seconds (`2025-06-01T08:30:00Z`).
fn rfc3339_utc(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn rfc3339_dates() {
        let at = |s| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_748_766_645), "2025-06-01T08:30:45Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
