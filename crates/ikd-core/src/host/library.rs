//! Opening a plugin library and checking its vtable: the only `unsafe` in the engine.

use super::manifest::{PluginKindName, PluginManifest, Transport};
use super::process::ProcessPlugin;
use super::sealed::SealedLibrary;
use ikd_plugin_sdk::abi::{self, ByteView, EntryFnV1, HostApi, OwnedBuf, PluginVTableV1};
use ikd_plugin_sdk::proto::{PluginError, PluginInfo, PluginKind};
use prost::Message;
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Why a library could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("plugin '{plugin}' ({path}): {reason}")]
pub struct LoadError {
    pub plugin: String,
    pub path: PathBuf,
    pub reason: String,
}

/// A library that passed every check. Libraries are never closed: code of a
/// plugin may still run (a thread, a destructor) after its last call.
#[derive(Debug)]
pub struct LoadedPlugin {
    pub manifest: PluginManifest,
    pub info: PluginInfo,
    pub library_path: PathBuf,
    pub sha256: String,
    backend: Backend,
    poisoned: AtomicBool,
}

/// How calls reach the plugin's code.
#[derive(Debug)]
enum Backend {
    Native(&'static PluginVTableV1),
    Process(Box<ProcessPlugin>),
}

/// An instance as the backend knows it: a pointer from a native `create`, or
/// the host's key of a process plugin's instance (stable across restarts).
#[derive(Clone, Copy, Debug)]
pub(super) enum RawInstance {
    Native(*mut c_void),
    Process(u64),
}

/// The smallest vtable this host can use: ABI 1.0, every slot up to `destroy`.
/// Later slots are read only when the plugin's `size` covers them.
const MIN_VTABLE_SIZE: usize = abi::VTABLE_SIZE_1_0;

impl LoadedPlugin {
    /// Opens the library whose bytes, read from `library_path`, are `bytes`
    /// (`RTLD_NOW | RTLD_LOCAL`), finds the entry symbol and checks the vtable
    /// and the plugin's info against its manifest.
    ///
    /// The caller has already checked the manifest and `sha256`, the hash of
    /// `bytes`; on Linux the loader opens those very bytes from a sealed memfd,
    /// never the file again. The same bytes are opened once per process.
    pub fn open(
        manifest: PluginManifest,
        library_path: &Path,
        bytes: &[u8],
        sha256: String,
    ) -> Result<Self, LoadError> {
        let fail = |reason: String| LoadError {
            plugin: manifest.name.clone(),
            path: library_path.to_owned(),
            reason,
        };
        let vtable = opened_once(&sha256, || {
            #[cfg(target_os = "linux")]
            super::elf::check_complete(bytes)?;
            let sealed = SealedLibrary::new(&manifest.name, bytes, library_path)
                .map_err(|e| format!("cannot seal the library bytes in memory: {e}"))?;
            // SAFETY: opening a library runs its initialisers; the manifest and the
            // lock were checked before this point, which is all a host can do.
            let opened = unsafe { open_vtable(&sealed.path()) };
            // The loader knows the library by this path; a closed descriptor's
            // number (and so the path) would be reused by the next library, and
            // `dlopen` would then return the old one. Libraries are never closed.
            sealed.keep_open();
            opened
        })
        .map_err(&fail)?;
        if vtable.magic != abi::MAGIC {
            return Err(fail(format!(
                "entry symbol returned a table with magic {:#018x}, expected {:#018x}: not an IKD plugin vtable",
                vtable.magic,
                abi::MAGIC
            )));
        }
        if vtable.abi_major != abi::ABI_MAJOR {
            return Err(fail(format!(
                "library speaks plugin ABI {}.{}, this engine speaks ABI {}.x",
                vtable.abi_major,
                vtable.abi_minor,
                abi::ABI_MAJOR
            )));
        }
        if (vtable.size as usize) < MIN_VTABLE_SIZE {
            return Err(fail(format!(
                "vtable is {} bytes, ABI {}.0 needs at least {MIN_VTABLE_SIZE}",
                vtable.size,
                abi::ABI_MAJOR
            )));
        }
        if vtable.create.is_none() || vtable.invoke.is_none() || vtable.free_buf.is_none() {
            return Err(fail("vtable lacks create, invoke or free_buf".into()));
        }
        // SAFETY: the plugin guarantees `info` lives as long as the process.
        let info = PluginInfo::decode(unsafe { vtable.info.as_slice() })
            .map_err(|e| fail(format!("cannot decode the plugin info: {e}")))?;
        check_info(&manifest, &info).map_err(fail)?;
        if let Some(set_log_level) = slot_1_1(vtable) {
            set_log_level(host_max_log_level());
        }
        Ok(LoadedPlugin {
            manifest,
            info,
            library_path: library_path.to_owned(),
            sha256,
            backend: Backend::Native(vtable),
            poisoned: AtomicBool::new(false),
        })
    }

    /// Starts a process plugin (`transport = "process"`) in `dir`, asks for its
    /// info and checks it against the manifest. The child keeps running for
    /// later calls; `program` is what `library_path` reports for it.
    pub fn spawn(
        manifest: PluginManifest,
        dir: &Path,
        program: &Path,
        sha256: String,
    ) -> Result<Self, LoadError> {
        let fail = |reason: String| LoadError {
            plugin: manifest.name.clone(),
            path: program.to_owned(),
            reason,
        };
        let (process, info) = ProcessPlugin::start(&manifest, dir).map_err(&fail)?;
        check_info(&manifest, &info).map_err(fail)?;
        Ok(LoadedPlugin {
            manifest,
            info,
            library_path: program.to_owned(),
            sha256,
            backend: Backend::Process(Box::new(process)),
            poisoned: AtomicBool::new(false),
        })
    }

    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The ABI major and minor the library reports (a process plugin speaks the
    /// host's own: the messages are the same, the vtable is the wire).
    pub fn abi(&self) -> (u16, u16) {
        match &self.backend {
            Backend::Native(vtable) => (vtable.abi_major, vtable.abi_minor),
            Backend::Process(_) => (abi::ABI_MAJOR, abi::ABI_MINOR),
        }
    }

    /// How the engine reaches this plugin.
    pub fn transport(&self) -> Transport {
        self.manifest.transport
    }

    /// How many times a process plugin's child was started again after a crash,
    /// a timeout or a panic (always 0 for a native plugin).
    pub fn restarts(&self) -> u64 {
        match &self.backend {
            Backend::Native(_) => 0,
            Backend::Process(p) => p.restarts(),
        }
    }

    /// True once the plugin is disabled: a native plugin after any panic (its
    /// state may be broken and it shares our address space), a process plugin
    /// after [`MAX_CONSECUTIVE_FAILURES`](super::process::MAX_CONSECUTIVE_FAILURES)
    /// failed calls in a row.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    pub(super) fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }

    /// Creates an instance from an encoded configuration.
    pub(super) fn raw_create(&self, config: &[u8]) -> RawOutcome<RawInstance> {
        match &self.backend {
            Backend::Native(vtable) => match self.native_create(vtable, config) {
                RawOutcome::Ok(ptr) => RawOutcome::Ok(RawInstance::Native(ptr)),
                other => other.map_never(),
            },
            Backend::Process(p) => p.create(config).map(RawInstance::Process),
        }
    }

    /// Calls a method of an instance; `read` reads a successful response in
    /// place, before the buffer goes back to the plugin (no copy).
    pub(super) fn raw_invoke<T>(
        &self,
        instance: RawInstance,
        method: u32,
        request: &[u8],
        read: impl FnOnce(&[u8]) -> T,
    ) -> RawOutcome<T> {
        match (&self.backend, instance) {
            (Backend::Native(vtable), RawInstance::Native(ptr)) => {
                self.native_invoke(vtable, ptr, method, request, read)
            }
            (Backend::Process(p), RawInstance::Process(key)) => {
                p.invoke(key, method, request).map(|body| read(&body))
            }
            _ => unreachable!("an instance is only used with the plugin that created it"),
        }
    }

    pub(super) fn raw_destroy(&self, instance: RawInstance) {
        match (&self.backend, instance) {
            (Backend::Native(vtable), RawInstance::Native(ptr)) => {
                if let Some(destroy) = vtable.destroy {
                    // SAFETY: `ptr` came from this plugin's `create` and is dropped once.
                    unsafe { destroy(ptr) };
                }
            }
            (Backend::Process(p), RawInstance::Process(key)) => p.destroy(key),
            _ => unreachable!("an instance is only used with the plugin that created it"),
        }
    }

    /// After a failed call (a panic, a crash, a timeout): a native plugin is
    /// disabled at its first panic; a process plugin, whose child is replaced
    /// on the next call when it died, after too many failures in a row.
    pub(super) fn after_fault(&self, panicked: bool) {
        match &self.backend {
            Backend::Native(_) if panicked => self.poison(),
            Backend::Native(_) => {}
            Backend::Process(p) => {
                if p.record_failure() {
                    self.poison();
                }
            }
        }
    }

    /// After a successful call: resets a process plugin's count of failures in a row.
    pub(super) fn after_success(&self) {
        if let Backend::Process(p) = &self.backend {
            p.record_success();
        }
    }

    fn native_create(&self, vtable: &PluginVTableV1, config: &[u8]) -> RawOutcome<*mut c_void> {
        let host = HostApi {
            size: std::mem::size_of::<HostApi>() as u32,
            log: Some(host_log),
        };
        let mut instance: *mut c_void = std::ptr::null_mut();
        let mut out = OwnedBuf::EMPTY;
        let create = vtable.create.expect("checked at load");
        // SAFETY: arguments follow the ABI: a borrowed view, valid out-pointers.
        let code = unsafe { create(&host, ByteView::new(config), &mut instance, &mut out) };
        read_and_free(vtable, out, |bytes| match code {
            abi::status::OK if instance.is_null() => {
                RawOutcome::Failed(abi::status::ERROR, "create returned no instance".into())
            }
            abi::status::OK => RawOutcome::Ok(instance),
            _ => RawOutcome::failure(code, bytes),
        })
    }

    fn native_invoke<T>(
        &self,
        vtable: &PluginVTableV1,
        instance: *mut c_void,
        method: u32,
        request: &[u8],
        read: impl FnOnce(&[u8]) -> T,
    ) -> RawOutcome<T> {
        let mut out = OwnedBuf::EMPTY;
        let invoke = vtable.invoke.expect("checked at load");
        // SAFETY: `instance` came from this plugin's `create` and is alive.
        let code = unsafe { invoke(instance, method, ByteView::new(request), &mut out) };
        read_and_free(vtable, out, |bytes| match code {
            abi::status::OK => RawOutcome::Ok(read(bytes)),
            _ => RawOutcome::failure(code, bytes),
        })
    }
}

/// The ABI 1.1 slot, when the plugin's vtable is long enough to have it.
fn slot_1_1(vtable: &PluginVTableV1) -> Option<abi::SetLogLevelFn> {
    let end = std::mem::offset_of!(PluginVTableV1, set_log_level)
        + std::mem::size_of::<Option<abi::SetLogLevelFn>>();
    if (vtable.size as usize) < end {
        return None;
    }
    // SAFETY: `size` says the plugin's table extends over this slot; read it
    // through a raw pointer, as a shorter (older) table has no such field.
    unsafe { std::ptr::addr_of!(vtable.set_log_level).read() }
}

/// `tracing`'s most verbose enabled level, as an ABI log level.
fn host_max_log_level() -> u32 {
    use tracing::level_filters::LevelFilter;
    match LevelFilter::current() {
        LevelFilter::OFF => 0,
        LevelFilter::ERROR => abi::level::ERROR,
        LevelFilter::WARN => abi::level::WARN,
        LevelFilter::INFO => abi::level::INFO,
        LevelFilter::DEBUG => abi::level::DEBUG,
        _ => abi::level::TRACE,
    }
}

/// Lets `f` read a plugin-owned buffer, then hands it back to the plugin.
fn read_and_free<R>(vtable: &PluginVTableV1, buf: OwnedBuf, f: impl FnOnce(&[u8]) -> R) -> R {
    if buf.ptr.is_null() {
        return f(&[]);
    }
    // SAFETY: the plugin wrote `len` bytes at `ptr`; they stay valid until `free_buf`.
    let result = f(unsafe { std::slice::from_raw_parts(buf.ptr, buf.len) });
    let free = vtable.free_buf.expect("checked at load");
    // SAFETY: the buffer came from this plugin and is returned once.
    unsafe { free(buf) };
    result
}

/// The plugin's own info against its manifest: name, kind and version must agree.
fn check_info(manifest: &PluginManifest, info: &PluginInfo) -> Result<(), String> {
    let expected_kind = match manifest.kind {
        PluginKindName::Domain => PluginKind::Domain,
        PluginKindName::ScoringModel => PluginKind::ScoringModel,
    };
    let mut mismatches = Vec::new();
    if info.name != manifest.name {
        mismatches.push(format!(
            "name '{}' (manifest: '{}')",
            info.name, manifest.name
        ));
    }
    if info.kind != expected_kind as i32 {
        mismatches.push(format!(
            "kind {:?} (manifest: {})",
            info.kind(),
            manifest.kind
        ));
    }
    if info.version != manifest.version.to_string() {
        mismatches.push(format!(
            "version {} (manifest: {})",
            info.version, manifest.version
        ));
    }
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "library does not match its manifest: it reports {}",
            mismatches.join(", ")
        ))
    }
}

/// What a raw call gave: the value, or a status code with the plugin's error.
pub(super) enum RawOutcome<T> {
    Ok(T),
    Failed(i32, String),
    Refused(PluginError),
    Panicked(String),
    /// A process plugin's child did not answer in time and was killed.
    TimedOut(std::time::Duration),
    /// A process plugin's child died, or broke the framing.
    Lost(String),
}

impl<T> RawOutcome<T> {
    pub(super) fn map<U>(self, f: impl FnOnce(T) -> U) -> RawOutcome<U> {
        match self {
            RawOutcome::Ok(v) => RawOutcome::Ok(f(v)),
            other => other.map_never(),
        }
    }

    /// The same failure for another value type; never called on `Ok`.
    fn map_never<U>(self) -> RawOutcome<U> {
        match self {
            RawOutcome::Ok(_) => unreachable!("map_never on a success"),
            RawOutcome::Failed(c, m) => RawOutcome::Failed(c, m),
            RawOutcome::Refused(e) => RawOutcome::Refused(e),
            RawOutcome::Panicked(m) => RawOutcome::Panicked(m),
            RawOutcome::TimedOut(d) => RawOutcome::TimedOut(d),
            RawOutcome::Lost(m) => RawOutcome::Lost(m),
        }
    }

    /// The outcome of a status other than OK, from the encoded `PluginError`.
    pub(super) fn failure(code: i32, bytes: &[u8]) -> Self {
        let error = || {
            PluginError::decode(bytes)
                .unwrap_or_else(|e| PluginError::msg(format!("undecodable error ({e})")))
        };
        match code {
            abi::status::ERROR => RawOutcome::Refused(error()),
            abi::status::PANIC => RawOutcome::Panicked(error().message),
            other => RawOutcome::Failed(other, error().message),
        }
    }
}

/// The vtable of the library with this sha256, opening it with `open` the first time.
///
/// Libraries are never closed, and opening the same bytes again from a new
/// memfd would load a second copy (new statics, more memory) where `dlopen` of
/// one path used to return the same handle.
fn opened_once(
    sha256: &str,
    open: impl FnOnce() -> Result<&'static PluginVTableV1, String>,
) -> Result<&'static PluginVTableV1, String> {
    static OPENED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, &'static PluginVTableV1>>,
    > = std::sync::OnceLock::new();
    let mut opened = OPENED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(vtable) = opened.get(sha256) {
        return Ok(vtable);
    }
    let vtable = open()?;
    opened.insert(sha256.to_owned(), vtable);
    Ok(vtable)
}

/// # Safety
/// Opens a native library and runs its initialisers.
unsafe fn open_vtable(path: &Path) -> Result<&'static PluginVTableV1, String> {
    #[cfg(unix)]
    let library = {
        use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
        // SAFETY: see the function's contract.
        unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }
            .map_err(|e| format!("cannot open the library: {e}"))?
    };
    #[cfg(not(unix))]
    let library = {
        // SAFETY: see the function's contract.
        unsafe { libloading::Library::new(path) }
            .map_err(|e| format!("cannot open the library: {e}"))?
    };
    // SAFETY: the symbol is declared by the ABI with exactly this signature.
    let entry: EntryFnV1 = unsafe {
        *library
            .get::<EntryFnV1>(abi::ENTRY_SYMBOL_V1)
            .map_err(|e| {
                format!("no entry symbol 'ikd_plugin_entry_v1' (not an IKD plugin of ABI 1?): {e}")
            })?
    };
    // Never unloaded: see `LoadedPlugin`.
    std::mem::forget(library);
    // SAFETY: the entry function takes no arguments and returns a static table or null.
    let table = unsafe { entry() };
    if table.is_null() {
        return Err("entry symbol returned no vtable".into());
    }
    // SAFETY: a non-null table is static per the ABI; its first fields are
    // common to every version, and `size` is checked before later slots are used.
    Ok(unsafe { &*table })
}

/// Receives plugin log records and forwards them to `tracing`.
extern "C" fn host_log(level: u32, target: ByteView, message: ByteView) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the plugin passes views valid for the duration of the call.
        let (target, message) = unsafe { (target.as_slice(), message.as_slice()) };
        let target = String::from_utf8_lossy(target);
        let message = String::from_utf8_lossy(message);
        match level {
            abi::level::ERROR => tracing::error!(plugin = %target, "{message}"),
            abi::level::WARN => tracing::warn!(plugin = %target, "{message}"),
            abi::level::INFO => tracing::info!(plugin = %target, "{message}"),
            abi::level::DEBUG => tracing::debug!(plugin = %target, "{message}"),
            _ => tracing::trace!(plugin = %target, "{message}"),
        }
    });
}
