//! The stable C ABI between the engine and a plugin library.
//!
//! A plugin exports one symbol, [`ENTRY_SYMBOL_V1`], a function returning a
//! pointer to a static [`PluginVTableV1`]. Only `#[repr(C)]` values cross the
//! boundary; all structure travels as protobuf bytes of `ikd.plugin.v1`.
//!
//! Ownership never changes hands: requests are [`ByteView`]s borrowed from the
//! host for the duration of a call; responses are [`OwnedBuf`]s allocated by the
//! plugin and returned to the plugin's `free_buf`, so each side may use any
//! allocator.
//!
//! Compatibility: slots are only ever appended to the vtable and the host reads
//! a slot only when `size` says it is there (a minor bump). A breaking change
//! renames the entry symbol (`ikd_plugin_entry_v2`) and bumps the major.

use std::ffi::c_void;

/// Name of the entry symbol of ABI major 1 (NUL-terminated for `dlsym`).
pub const ENTRY_SYMBOL_V1: &[u8] = b"ikd_plugin_entry_v1\0";

/// First field of every vtable: the bytes `IKDPLUG1` read as a little-endian u64.
pub const MAGIC: u64 = u64::from_le_bytes(*b"IKDPLUG1");

/// ABI major version this SDK speaks; a different major cannot be loaded.
pub const ABI_MAJOR: u16 = 1;
/// ABI minor version: the host accepts any plugin minor, reading only the slots it has.
///
/// * 1.0 — `create`, `invoke`, `free_buf`, `destroy`.
/// * 1.1 — `set_log_level` appended (optional).
/// * 1.2 — method `DOMAIN_PRESENT` (no new slot; an older plugin answers
///   `UNKNOWN_METHOD` and its items cannot be delivered).
/// * 1.3 — the selector plugin kind: `create` takes a `SelectorConfig`,
///   method `SELECTOR_SELECT` (no new slot).
pub const ABI_MINOR: u16 = 3;

/// Status codes returned by `create` and `invoke`.
pub mod status {
    /// Success: the output buffer holds the encoded response.
    pub const OK: i32 = 0;
    /// The plugin refused the request: the output holds an encoded `PluginError`.
    pub const ERROR: i32 = 1;
    /// The plugin panicked: the output holds an encoded `PluginError` with the panic message.
    pub const PANIC: i32 = 2;
    /// The method id is not known to this plugin.
    pub const UNKNOWN_METHOD: i32 = 3;
    /// The request bytes could not be decoded.
    pub const BAD_REQUEST: i32 = 4;
}

/// Method ids for `invoke`. New methods get new ids; ids are never reused.
pub mod method {
    /// Domain: `()` → `DomainDescription` (score range per configured item).
    pub const DOMAIN_DESCRIBE: u32 = 1;
    /// Domain: `AnswerBatch` → `ItemScores`.
    pub const DOMAIN_SCORE_ITEMS: u32 = 2;
    /// Domain: `InterpretRequest` → `InterpretResponse`.
    pub const DOMAIN_INTERPRET: u32 = 3;
    /// Domain: `SimulateRequest` → `AnswerBatch` (synthetic answers).
    pub const DOMAIN_SIMULATE: u32 = 4;
    /// Domain: `()` → `DomainPresentation` (how each item is shown; ABI 1.2).
    pub const DOMAIN_PRESENT: u32 = 5;
    /// Scoring model: `ScoreRequest` → `ScoreResponse`.
    pub const MODEL_SCORE: u32 = 16;
    /// Selector: `SelectRequest` → `SelectResponse` (ABI 1.3).
    pub const SELECTOR_SELECT: u32 = 32;
}

/// Log levels passed to the host's log callback.
pub mod level {
    pub const ERROR: u32 = 1;
    pub const WARN: u32 = 2;
    pub const INFO: u32 = 3;
    pub const DEBUG: u32 = 4;
    pub const TRACE: u32 = 5;
}

/// Bytes borrowed for the duration of one call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ByteView {
    pub ptr: *const u8,
    pub len: usize,
}

impl ByteView {
    pub const EMPTY: ByteView = ByteView {
        ptr: std::ptr::null(),
        len: 0,
    };

    pub fn new(bytes: &[u8]) -> Self {
        ByteView {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }

    /// # Safety
    /// `ptr` must point to `len` readable bytes that outlive the returned slice.
    pub unsafe fn as_slice<'a>(&self) -> &'a [u8] {
        if self.ptr.is_null() || self.len == 0 {
            &[]
        } else {
            // SAFETY: guaranteed by the caller.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

/// A buffer allocated by the plugin; the host reads it, then hands it back to
/// the plugin's `free_buf`.
#[repr(C)]
#[derive(Debug)]
pub struct OwnedBuf {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl OwnedBuf {
    pub const EMPTY: OwnedBuf = OwnedBuf {
        ptr: std::ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    /// Gives up a `Vec` so it can cross the boundary; reclaim it with [`OwnedBuf::into_vec`].
    pub fn from_vec(v: Vec<u8>) -> Self {
        let mut v = std::mem::ManuallyDrop::new(v);
        OwnedBuf {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            cap: v.capacity(),
        }
    }

    /// # Safety
    /// The buffer must come from [`OwnedBuf::from_vec`] in this same library.
    pub unsafe fn into_vec(self) -> Vec<u8> {
        if self.ptr.is_null() {
            Vec::new()
        } else {
            // SAFETY: guaranteed by the caller.
            unsafe { Vec::from_raw_parts(self.ptr, self.len, self.cap) }
        }
    }
}

/// Receives a log record from a plugin.
pub type LogFn = extern "C" fn(level: u32, target: ByteView, message: ByteView);

/// What the host offers a plugin; passed to `create`.
#[repr(C)]
pub struct HostApi {
    /// `size_of::<HostApi>()` as the host knows it; fields are only appended.
    pub size: u32,
    pub log: Option<LogFn>,
}

/// Creates an instance from an encoded configuration (`DomainConfig`, `ModelConfig`
/// or `SelectorConfig`).
pub type CreateFn = unsafe extern "C" fn(
    host: *const HostApi,
    config: ByteView,
    instance: *mut *mut c_void,
    out: *mut OwnedBuf,
) -> i32;
/// Calls a method of an instance.
pub type InvokeFn = unsafe extern "C" fn(
    instance: *mut c_void,
    method: u32,
    request: ByteView,
    out: *mut OwnedBuf,
) -> i32;
/// Returns a buffer to the plugin that allocated it.
pub type FreeBufFn = unsafe extern "C" fn(buf: OwnedBuf);
/// Drops an instance.
pub type DestroyFn = unsafe extern "C" fn(instance: *mut c_void);
/// Tells the plugin the most verbose [`level`] the host will record, so that it
/// need not format messages that would be dropped (ABI 1.1).
pub type SetLogLevelFn = extern "C" fn(max_level: u32);

/// The table a plugin's entry symbol returns. Its layout is frozen for ABI major 1:
/// new slots are appended and the host checks `size` before reading one.
#[repr(C)]
#[derive(Debug)]
pub struct PluginVTableV1 {
    pub magic: u64,
    pub size: u32,
    pub abi_major: u16,
    pub abi_minor: u16,
    /// Encoded `PluginInfo`, valid for the life of the process.
    pub info: ByteView,
    pub create: Option<CreateFn>,
    pub invoke: Option<InvokeFn>,
    pub free_buf: Option<FreeBufFn>,
    pub destroy: Option<DestroyFn>,
    // ---- ABI 1.1 ----
    pub set_log_level: Option<SetLogLevelFn>,
}

/// Size of an ABI 1.0 vtable: every slot up to `destroy`. The host needs at least this.
pub const VTABLE_SIZE_1_0: usize = std::mem::offset_of!(PluginVTableV1, set_log_level);

// SAFETY: the vtable is immutable after construction and `info` points to
// bytes that live for the rest of the process.
unsafe impl Sync for PluginVTableV1 {}
unsafe impl Send for PluginVTableV1 {}

/// Signature of the entry symbol.
pub type EntryFnV1 = unsafe extern "C" fn() -> *const PluginVTableV1;
