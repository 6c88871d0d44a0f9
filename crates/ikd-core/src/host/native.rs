//! Native plugins: opening a library and calling through its C vtable. The
//! only `unsafe` in the engine lives here.

use super::outcome::RawOutcome;
use super::sealed::SealedLibrary;
use ikd_plugin_sdk::abi::{self, ByteView, EntryFnV1, HostApi, OwnedBuf, PluginVTableV1};
use ikd_plugin_sdk::proto::PluginInfo;
use prost::Message;
use std::ffi::c_void;
use std::path::Path;

/// The smallest vtable this host can use: ABI 1.0, every slot up to `destroy`.
/// Later slots are read only when the plugin's `size` covers them.
const MIN_VTABLE_SIZE: usize = abi::VTABLE_SIZE_1_0;

/// A library's checked vtable. Libraries are never closed.
#[derive(Debug)]
pub(super) struct NativePlugin(&'static PluginVTableV1);

impl NativePlugin {
    /// Opens the library whose bytes, read from `library_path`, are `bytes`
    /// (`RTLD_NOW | RTLD_LOCAL`), finds the entry symbol, checks the vtable
    /// and decodes the plugin's info.
    ///
    /// The caller has already checked the manifest and `sha256`, the hash of
    /// `bytes`; on Linux the loader opens those very bytes from a sealed memfd,
    /// never the file again. The same bytes are opened once per process.
    pub(super) fn open(
        name: &str,
        library_path: &Path,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<(NativePlugin, PluginInfo), String> {
        let vtable = opened_once(sha256, || {
            #[cfg(target_os = "linux")]
            super::elf::check_complete(bytes)?;
            let sealed = SealedLibrary::new(name, bytes, library_path)
                .map_err(|e| format!("cannot seal the library bytes in memory: {e}"))?;
            // SAFETY: opening a library runs its initialisers; the manifest and the
            // lock were checked before this point, which is all a host can do.
            let opened = unsafe { open_vtable(&sealed.path()) };
            // The loader knows the library by this path; a closed descriptor's
            // number (and so the path) would be reused by the next library, and
            // `dlopen` would then return the old one. Libraries are never closed.
            sealed.keep_open();
            opened
        })?;
        if vtable.magic != abi::MAGIC {
            return Err(format!(
                "entry symbol returned a table with magic {:#018x}, expected {:#018x}: not an IKD plugin vtable",
                vtable.magic,
                abi::MAGIC
            ));
        }
        if vtable.abi_major != abi::ABI_MAJOR {
            return Err(format!(
                "library speaks plugin ABI {}.{}, this engine speaks ABI {}.x",
                vtable.abi_major,
                vtable.abi_minor,
                abi::ABI_MAJOR
            ));
        }
        if (vtable.size as usize) < MIN_VTABLE_SIZE {
            return Err(format!(
                "vtable is {} bytes, ABI {}.0 needs at least {MIN_VTABLE_SIZE}",
                vtable.size,
                abi::ABI_MAJOR
            ));
        }
        if vtable.create.is_none() || vtable.invoke.is_none() || vtable.free_buf.is_none() {
            return Err("vtable lacks create, invoke or free_buf".into());
        }
        // SAFETY: the plugin guarantees `info` lives as long as the process.
        let info = PluginInfo::decode(unsafe { vtable.info.as_slice() })
            .map_err(|e| format!("cannot decode the plugin info: {e}"))?;
        Ok((NativePlugin(vtable), info))
    }

    /// The ABI version the library speaks (major, minor).
    pub(super) fn abi(&self) -> (u16, u16) {
        (self.0.abi_major, self.0.abi_minor)
    }

    /// Tells a plugin of ABI 1.1 or later the most verbose level the host logs.
    pub(super) fn set_log_level(&self) {
        if let Some(set_log_level) = slot_1_1(self.0) {
            set_log_level(host_max_log_level());
        }
    }

    pub(super) fn create(&self, config: &[u8]) -> RawOutcome<*mut c_void> {
        let vtable = self.0;
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

    pub(super) fn invoke<T>(
        &self,
        instance: *mut c_void,
        method: u32,
        request: &[u8],
        read: impl FnOnce(&[u8]) -> T,
    ) -> RawOutcome<T> {
        let vtable = self.0;
        let mut out = OwnedBuf::EMPTY;
        let invoke = vtable.invoke.expect("checked at load");
        // SAFETY: `instance` came from this plugin's `create` and is alive.
        let code = unsafe { invoke(instance, method, ByteView::new(request), &mut out) };
        read_and_free(vtable, out, |bytes| match code {
            abi::status::OK => RawOutcome::Ok(read(bytes)),
            _ => RawOutcome::failure(code, bytes),
        })
    }

    pub(super) fn destroy(&self, instance: *mut c_void) {
        if let Some(destroy) = self.0.destroy {
            // SAFETY: `instance` came from this plugin's `create` and is dropped once.
            unsafe { destroy(instance) };
        }
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
