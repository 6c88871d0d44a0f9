//! What several commands share: plugin discovery options, instrument lookup,
//! output files that appear only when complete, progress bars.

use anyhow::{Context, Result, bail};
use ikd_core::host::{LockFile, LockMode, LockPolicy, PluginHost, PluginSearch};
use ikd_core::instrument::{self, Instrument};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where plugins come from and how they are checked.
#[derive(clap::Args, Clone, Debug)]
pub struct PluginArgs {
    /// Another directory of plugins (a `plugin.toml` in it or in its subdirectories); repeatable.
    /// Searched before `IKD_PLUGIN_PATH` and the bundled plugins.
    #[arg(long = "plugin-dir", global = true, value_name = "DIR")]
    pub plugin_dirs: Vec<PathBuf>,
    /// Lock file pinning each plugin library's sha256 (see `ikd plugins lock`).
    #[arg(
        long = "plugin-lock",
        global = true,
        env = "IKD_PLUGIN_LOCK",
        value_name = "FILE"
    )]
    pub lock: Option<PathBuf>,
    /// What to do with a library the lock does not match: off, warn or enforce (the default with a lock).
    #[arg(
        long = "lock-mode",
        global = true,
        env = "IKD_LOCK_MODE",
        value_name = "MODE"
    )]
    pub lock_mode: Option<LockMode>,
}

impl PluginArgs {
    /// Discovers and loads plugins; refused ones are kept with their reason.
    pub fn host(&self) -> Result<PluginHost> {
        let mut search = PluginSearch::standard(&self.plugin_dirs);
        if let Some(path) = &self.lock {
            let mode = self.lock_mode.unwrap_or(LockMode::Enforce);
            if mode != LockMode::Off {
                let lock = LockFile::read(path).map_err(anyhow::Error::msg)?;
                search.lock = Some(LockPolicy {
                    mode,
                    lock,
                    path: path.clone(),
                });
            }
        } else if self.lock_mode == Some(LockMode::Enforce) {
            bail!("--lock-mode enforce needs a lock file (--plugin-lock FILE)");
        }
        Ok(PluginHost::discover(&search))
    }
}

/// Directories searched for bundled instruments (`<dir>/<id>/instrument.toml`):
/// `IKD_INSTRUMENT_PATH`, then the workspace's `instruments/`.
pub fn instrument_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("IKD_INSTRUMENT_PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../instruments"));
    dirs
}

/// Resolves `--instrument`: a path to a TOML file or directory, or a bundled instrument id.
pub fn instrument_path(reference: &str) -> Result<PathBuf> {
    let path = Path::new(reference);
    if path.is_file() {
        return Ok(path.to_owned());
    }
    if path.is_dir() && path.join("instrument.toml").is_file() {
        return Ok(path.join("instrument.toml"));
    }
    for dir in instrument_dirs() {
        let candidate = dir.join(reference).join("instrument.toml");
        if candidate.is_file() {
            return Ok(candidate.canonicalize().unwrap_or(candidate));
        }
    }
    bail!("instrument '{reference}' is neither a file nor a bundled instrument id")
}

/// Loads an instrument by path or bundled id.
pub fn load_instrument(reference: &str) -> Result<Arc<Instrument>> {
    let path = instrument_path(reference)?;
    Ok(Arc::new(instrument::load(&path)?))
}

/// Output to stdout, or to a file that appears only once it is complete: it
/// is written to a temporary file beside it and renamed at the end, so a
/// failed run never leaves a partial file that looks finished.
pub enum Output {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File {
        temp: std::io::BufWriter<tempfile::NamedTempFile>,
        path: PathBuf,
    },
}

impl Output {
    pub fn create(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Output::Stdout(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            )));
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".ikd-partial-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create an output file in {}", dir.display()))?;
        Ok(Output::File {
            temp: std::io::BufWriter::with_capacity(1 << 16, temp),
            path: path.to_owned(),
        })
    }

    /// Flushes and, for a file, moves it into place.
    pub fn commit(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush()?,
            Output::File { temp, path } => {
                let temp = temp.into_inner().map_err(|e| e.into_error())?;
                temp.persist(&path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File { temp, .. } => temp.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File { temp, .. } => temp.flush(),
        }
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub fn progress(total: Option<u64>, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => indicatif::ProgressBar::new(n).with_style(
            indicatif::ProgressStyle::with_template(
                "{msg} {bar:40} {pos}/{len} ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        ),
        None => indicatif::ProgressBar::new_spinner().with_style(
            indicatif::ProgressStyle::with_template("{msg} {pos} ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        ),
    };
    bar.set_message(what.to_owned());
    bar
}
