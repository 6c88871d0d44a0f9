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

/// Directories searched for instruments by id (`<dir>/<id>/instrument.toml`):
/// `IKD_INSTRUMENTS` (the variable the server reads too), then the
/// installation's or the workspace's `instruments/` (`ikd_core::home`).
/// `IKD_INSTRUMENT_PATH`, the old name, is still read after `IKD_INSTRUMENTS`.
pub fn instrument_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for name in ["IKD_INSTRUMENTS", "IKD_INSTRUMENT_PATH"] {
        if let Some(paths) = std::env::var_os(name) {
            dirs.extend(std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty()));
        }
    }
    dirs.extend(ikd_core::home::instruments_dir());
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
        /// Removes the temporary file if SIGTERM or SIGINT ends the run.
        _interrupt: interrupt::Guard,
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
            _interrupt: interrupt::Guard::new(temp.path()),
            temp: std::io::BufWriter::with_capacity(1 << 16, temp),
            path: path.to_owned(),
        })
    }

    /// Flushes and, for a file, moves it into place.
    pub fn commit(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush()?,
            Output::File { temp, path, .. } => {
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

pub use ikd_research::answers::violation_line;

/// An answers file that could not be analysed, as the command's error: the
/// located invalid answers go to stderr first (`what` says what did not
/// happen, e.g. "nothing analysed").
pub fn report_read_error(err: ikd_research::answers::ReadError, what: &str) -> anyhow::Error {
    use ikd_research::answers::ReadError;
    match err {
        ReadError::Invalid(invalid) => {
            for line in &invalid.listed {
                eprintln!("{line}");
            }
            if invalid.count > invalid.listed.len() {
                eprintln!("... and {} more", invalid.count - invalid.listed.len());
            }
            anyhow::anyhow!(
                "{} invalid answer(s) in {}; {what}",
                invalid.count,
                invalid.file.display()
            )
        }
        other => other.into(),
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

/// Temporary output removed when SIGTERM or SIGINT ends the process: the
/// handler unlinks every registered path, says so on stderr and dies of the
/// same signal (exit status 143 or 130 in a shell), as if it had no handler.
///
/// A signal handler may only call async-signal-safe functions (`unlink`,
/// `write`, `sigaction`, `raise`), so the paths live in a fixed table of
/// atomic pointers to C strings, never freed (one per output file of a run).
mod interrupt {
    use std::ffi::{CString, c_char};
    use std::path::Path;
    use std::ptr::null_mut;
    use std::sync::Once;
    use std::sync::atomic::{AtomicPtr, Ordering};

    const SLOTS: usize = 16;
    static PATHS: [AtomicPtr<c_char>; SLOTS] = [const { AtomicPtr::new(null_mut()) }; SLOTS];
    static INSTALL: Once = Once::new();

    /// Keeps a path registered for removal on a signal while it lives.
    #[derive(Debug)]
    pub struct Guard {
        slot: Option<usize>,
    }

    impl Guard {
        /// Registers `path` (best effort: with every slot taken, or a path
        /// holding a NUL byte, it is not registered).
        pub fn new(path: &Path) -> Guard {
            INSTALL.call_once(install);
            use std::os::unix::ffi::OsStrExt;
            let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
                return Guard { slot: None };
            };
            let raw = c_path.into_raw();
            for (k, slot) in PATHS.iter().enumerate() {
                if slot
                    .compare_exchange(null_mut(), raw, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    return Guard { slot: Some(k) };
                }
            }
            // SAFETY: `raw` came from `into_raw` above and was not shared.
            drop(unsafe { CString::from_raw(raw) });
            Guard { slot: None }
        }
    }

    impl Drop for Guard {
        /// Unregisters the path. The string is leaked, not freed: a handler
        /// running on another thread may have read the pointer already.
        fn drop(&mut self) {
            if let Some(k) = self.slot {
                PATHS[k].store(null_mut(), Ordering::SeqCst);
            }
        }
    }

    fn install() {
        for signal in [libc::SIGTERM, libc::SIGINT] {
            // SAFETY: a zeroed `sigaction` is valid; the handler only calls
            // async-signal-safe functions.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, null_mut());
            }
        }
    }

    extern "C" fn on_signal(signal: libc::c_int) {
        for slot in &PATHS {
            let path = slot.swap(null_mut(), Ordering::SeqCst);
            if !path.is_null() {
                // SAFETY: registered pointers are NUL-terminated and never freed.
                unsafe { libc::unlink(path) };
            }
        }
        let message = b"ikd: interrupted; the partial output file was removed\n";
        // SAFETY: write, sigaction and raise are async-signal-safe; with the
        // default action restored, raise ends the process by `signal`.
        unsafe {
            libc::write(2, message.as_ptr().cast(), message.len());
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &action, null_mut());
            libc::raise(signal);
        }
    }
}
