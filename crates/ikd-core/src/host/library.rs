//! Opening a plugin library and checking its vtable: the only `unsafe` in the engine.

use super::manifest::{PluginKindName, PluginManifest};
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
    vtable: &'static PluginVTableV1,
    poisoned: AtomicBool,
}

/// The smallest vtable this host can use: every slot up to `destroy`.
const MIN_VTABLE_SIZE: usize = std::mem::size_of::<PluginVTableV1>();

impl LoadedPlugin {
    /// Opens `library_path` (`RTLD_NOW | RTLD_LOCAL`), finds the entry symbol
    /// and checks the vtable and the plugin's info against its manifest.
    ///
    /// The caller has already checked the manifest and the library's sha256.
    pub fn open(
        manifest: PluginManifest,
        library_path: &Path,
        sha256: String,
    ) -> Result<Self, LoadError> {
        let fail = |reason: String| LoadError {
            plugin: manifest.name.clone(),
            path: library_path.to_owned(),
            reason,
        };
        // SAFETY: opening a library runs its initialisers; the manifest and the
        // lock were checked before this point, which is all a host can do.
        let vtable = unsafe { open_vtable(library_path) }.map_err(&fail)?;
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
        if !mismatches.is_empty() {
            return Err(fail(format!(
                "library does not match its manifest: it reports {}",
                mismatches.join(", ")
            )));
        }
        Ok(LoadedPlugin {
            manifest,
            info,
            library_path: library_path.to_owned(),
            sha256,
            vtable,
            poisoned: AtomicBool::new(false),
        })
    }

    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// True once any call into the plugin panicked; a poisoned plugin is not called again.
    /// The ABI major and minor the library reports.
    pub fn abi(&self) -> (u16, u16) {
        (self.vtable.abi_major, self.vtable.abi_minor)
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    pub(super) fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }

    /// Calls `create`; on success returns the raw instance pointer.
    pub(super) fn raw_create(&self, config: &[u8]) -> RawOutcome<*mut c_void> {
        let host = HostApi {
            size: std::mem::size_of::<HostApi>() as u32,
            log: Some(host_log),
        };
        let mut instance: *mut c_void = std::ptr::null_mut();
        let mut out = OwnedBuf::EMPTY;
        let create = self.vtable.create.expect("checked at load");
        // SAFETY: arguments follow the ABI: a borrowed view, valid out-pointers.
        let code = unsafe { create(&host, ByteView::new(config), &mut instance, &mut out) };
        self.read_and_free(out, |bytes| match code {
            abi::status::OK if instance.is_null() => {
                RawOutcome::Failed(abi::status::ERROR, "create returned no instance".into())
            }
            abi::status::OK => RawOutcome::Ok(instance),
            _ => RawOutcome::failure(code, bytes),
        })
    }

    /// Calls `invoke` on an instance; `read` reads a successful response in
    /// place, before the buffer goes back to the plugin (no copy).
    pub(super) fn raw_invoke<T>(
        &self,
        instance: *mut c_void,
        method: u32,
        request: &[u8],
        read: impl FnOnce(&[u8]) -> T,
    ) -> RawOutcome<T> {
        let mut out = OwnedBuf::EMPTY;
        let invoke = self.vtable.invoke.expect("checked at load");
        // SAFETY: `instance` came from this plugin's `create` and is alive.
        let code = unsafe { invoke(instance, method, ByteView::new(request), &mut out) };
        self.read_and_free(out, |bytes| match code {
            abi::status::OK => RawOutcome::Ok(read(bytes)),
            _ => RawOutcome::failure(code, bytes),
        })
    }

    pub(super) fn raw_destroy(&self, instance: *mut c_void) {
        if let Some(destroy) = self.vtable.destroy {
            // SAFETY: `instance` came from this plugin's `create` and is dropped once.
            unsafe { destroy(instance) };
        }
    }

    /// Lets `f` read a plugin-owned buffer, then hands it back to the plugin.
    fn read_and_free<R>(&self, buf: OwnedBuf, f: impl FnOnce(&[u8]) -> R) -> R {
        if buf.ptr.is_null() {
            return f(&[]);
        }
        // SAFETY: the plugin wrote `len` bytes at `ptr`; they stay valid until `free_buf`.
        let result = f(unsafe { std::slice::from_raw_parts(buf.ptr, buf.len) });
        let free = self.vtable.free_buf.expect("checked at load");
        // SAFETY: the buffer came from this plugin and is returned once.
        unsafe { free(buf) };
        result
    }
}

/// What a raw call gave: the value, or a status code with the plugin's error.
pub(super) enum RawOutcome<T> {
    Ok(T),
    Failed(i32, String),
    Refused(PluginError),
    Panicked(String),
}

impl<T> RawOutcome<T> {
    /// The outcome of a status other than OK, from the encoded `PluginError`.
    fn failure(code: i32, bytes: &[u8]) -> Self {
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
