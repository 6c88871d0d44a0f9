//! The `extern "C"` side of the ABI, generic over the plugin type; the export
//! macros instantiate it in the plugin crate. Every function here catches
//! panics so that none unwinds into the host.

use crate::abi::{
    self, ABI_MAJOR, ABI_MINOR, ByteView, HostApi, MAGIC, OwnedBuf, PluginVTableV1, status,
};
use crate::domain::{DomainInstance, DomainPlugin};
use crate::model::{ScoreInput, ScoringModel};
use crate::proto::{
    AnswerBatch, DomainConfig, InterpretRequest, ItemKindInfo, ModelConfig, PluginError,
    PluginInfo, PluginKind, SelectRequest, SelectResponse, SelectorConfig, SimulateRequest,
};
use crate::selector::SelectorPlugin;
use prost::Message;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

fn leak_info(info: PluginInfo) -> ByteView {
    let bytes: &'static [u8] = Vec::leak(info.encode_to_vec());
    ByteView::new(bytes)
}

fn vtable(info: PluginInfo, create: abi::CreateFn, invoke: abi::InvokeFn) -> PluginVTableV1 {
    PluginVTableV1 {
        magic: MAGIC,
        size: std::mem::size_of::<PluginVTableV1>() as u32,
        abi_major: ABI_MAJOR,
        abi_minor: ABI_MINOR,
        info: leak_info(info),
        create: Some(create),
        invoke: Some(invoke),
        free_buf: Some(free_buf),
        destroy: None,
        set_log_level: Some(crate::log::set_max_level),
    }
}

/// The vtable of a domain plugin.
pub fn domain_vtable<P: DomainPlugin>(version: &str) -> PluginVTableV1 {
    let info = PluginInfo {
        name: P::NAME.into(),
        version: version.into(),
        kind: PluginKind::Domain as i32,
        description: P::DESCRIPTION.into(),
        item_kinds: P::item_kinds()
            .iter()
            .map(|k| ItemKindInfo {
                name: k.name().into(),
                description: k.description().into(),
            })
            .collect(),
        sdk_version: crate::SDK_VERSION.into(),
    };
    PluginVTableV1 {
        destroy: Some(destroy::<DomainInstance<P>>),
        ..vtable(info, create_domain::<P>, invoke_domain::<P>)
    }
}

/// The vtable of a scoring model plugin.
pub fn model_vtable<M: ScoringModel>(version: &str) -> PluginVTableV1 {
    let info = PluginInfo {
        name: M::NAME.into(),
        version: version.into(),
        kind: PluginKind::ScoringModel as i32,
        description: M::DESCRIPTION.into(),
        item_kinds: Vec::new(),
        sdk_version: crate::SDK_VERSION.into(),
    };
    PluginVTableV1 {
        destroy: Some(destroy::<ModelInstance<M>>),
        ..vtable(info, create_model::<M>, invoke_model::<M>)
    }
}

/// The vtable of a selector plugin.
pub fn selector_vtable<S: SelectorPlugin>(version: &str) -> PluginVTableV1 {
    let info = PluginInfo {
        name: S::NAME.into(),
        version: version.into(),
        kind: PluginKind::Selector as i32,
        description: S::DESCRIPTION.into(),
        item_kinds: Vec::new(),
        sdk_version: crate::SDK_VERSION.into(),
    };
    PluginVTableV1 {
        destroy: Some(destroy::<S>),
        ..vtable(info, create_selector::<S>, invoke_selector::<S>)
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Runs `f`, writes its encoded result or error to `out`, and returns the status.
///
/// # Safety
/// `out` must be a valid pointer to write an [`OwnedBuf`] to.
unsafe fn guarded(
    out: *mut OwnedBuf,
    f: impl FnOnce() -> Result<Vec<u8>, (i32, PluginError)>,
) -> i32 {
    let (code, bytes) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(bytes)) => (status::OK, bytes),
        Ok(Err((code, err))) => (code, err.encode_to_vec()),
        Err(payload) => (
            status::PANIC,
            PluginError::msg(format!("plugin panicked: {}", panic_message(&*payload)))
                .encode_to_vec(),
        ),
    };
    if !out.is_null() {
        // SAFETY: `out` is valid per the caller's contract.
        unsafe { out.write(OwnedBuf::from_vec(bytes)) };
    }
    code
}

fn decode<T: Message + Default>(bytes: ByteView) -> Result<T, (i32, PluginError)> {
    // SAFETY: the host guarantees the view is valid for this call.
    let slice = unsafe { bytes.as_slice() };
    T::decode(slice).map_err(|e| {
        (
            status::BAD_REQUEST,
            PluginError::msg(format!("cannot decode the request: {e}")),
        )
    })
}

fn refused(err: PluginError) -> (i32, PluginError) {
    (status::ERROR, err)
}

fn bad_request(err: PluginError) -> (i32, PluginError) {
    (status::BAD_REQUEST, err)
}

/// A model and the number of items its configuration has (to read dense requests).
struct ModelInstance<M> {
    model: M,
    items: usize,
    /// The last request's buffers, reused: batches are the same size every
    /// time, and fresh multi-megabyte buffers cost page faults on each call.
    scratch: Mutex<ScoreInput>,
}

unsafe fn install_logger(host: *const HostApi) {
    if host.is_null() {
        return;
    }
    // SAFETY: the host passes a valid HostApi; fields past `size` are not read.
    let host = unsafe { &*host };
    if host.size as usize >= std::mem::size_of::<HostApi>()
        && let Some(log) = host.log
    {
        crate::log::set_host_logger(log);
    }
}

unsafe extern "C" fn create_domain<P: DomainPlugin>(
    host: *const HostApi,
    config: ByteView,
    instance: *mut *mut c_void,
    out: *mut OwnedBuf,
) -> i32 {
    // SAFETY: pointers come from the host per the ABI contract.
    unsafe {
        guarded(out, || {
            install_logger(host);
            let config: DomainConfig = decode(config)?;
            let built = DomainInstance::<P>::new(&config).map_err(refused)?;
            instance.write(Box::into_raw(Box::new(built)).cast());
            Ok(Vec::new())
        })
    }
}

unsafe extern "C" fn invoke_domain<P: DomainPlugin>(
    instance: *mut c_void,
    method: u32,
    request: ByteView,
    out: *mut OwnedBuf,
) -> i32 {
    // SAFETY: `instance` was created by `create_domain::<P>` and is not yet destroyed.
    let this = unsafe { &*(instance as *const DomainInstance<P>) };
    let call = || match method {
        abi::method::DOMAIN_DESCRIBE => Ok(this.describe().encode_to_vec()),
        abi::method::DOMAIN_SCORE_ITEMS => {
            let batch: AnswerBatch = decode(request)?;
            Ok(this
                .score_items(&batch)
                .map_err(refused)?
                .to_wire()
                .encode_to_vec())
        }
        abi::method::DOMAIN_INTERPRET => {
            let req: InterpretRequest = decode(request)?;
            Ok(this.interpret(&req).encode_to_vec())
        }
        abi::method::DOMAIN_SIMULATE => {
            let req: SimulateRequest = decode(request)?;
            Ok(this.simulate(&req).encode_to_vec())
        }
        abi::method::DOMAIN_PRESENT => Ok(this.present().encode_to_vec()),
        other => Err(unknown_method(other)),
    };
    // SAFETY: `out` is valid per the ABI contract.
    unsafe { guarded(out, call) }
}

unsafe extern "C" fn create_model<M: ScoringModel>(
    host: *const HostApi,
    config: ByteView,
    instance: *mut *mut c_void,
    out: *mut OwnedBuf,
) -> i32 {
    // SAFETY: pointers come from the host per the ABI contract.
    unsafe {
        guarded(out, || {
            install_logger(host);
            let config: ModelConfig = decode(config)?;
            let model = ModelInstance {
                model: M::new(&config).map_err(refused)?,
                items: config.items.len(),
                scratch: Mutex::default(),
            };
            instance.write(Box::into_raw(Box::new(model)).cast());
            Ok(Vec::new())
        })
    }
}

unsafe extern "C" fn invoke_model<M: ScoringModel>(
    instance: *mut c_void,
    method: u32,
    request: ByteView,
    out: *mut OwnedBuf,
) -> i32 {
    // SAFETY: `instance` was created by `create_model::<M>` and is not yet destroyed.
    let this = unsafe { &*(instance as *const ModelInstance<M>) };
    let call = || match method {
        abi::method::MODEL_SCORE => {
            // A concurrent call finds the scratch taken and uses its own buffers.
            let mut own = ScoreInput::default();
            let mut guard = this.scratch.try_lock();
            let input = match guard.as_deref_mut() {
                Ok(scratch) => scratch,
                Err(_) => &mut own,
            };
            // SAFETY: the host guarantees the view is valid for this call.
            let bytes = unsafe { request.as_slice() };
            input.decode_from(bytes, this.items).map_err(bad_request)?;
            let output = this.model.score(input).map_err(refused)?;
            Ok(output.encode_to_vec())
        }
        other => Err(unknown_method(other)),
    };
    // SAFETY: `out` is valid per the ABI contract.
    unsafe { guarded(out, call) }
}

unsafe extern "C" fn create_selector<S: SelectorPlugin>(
    host: *const HostApi,
    config: ByteView,
    instance: *mut *mut c_void,
    out: *mut OwnedBuf,
) -> i32 {
    // SAFETY: pointers come from the host per the ABI contract.
    unsafe {
        guarded(out, || {
            install_logger(host);
            let config: SelectorConfig = decode(config)?;
            let selector = S::new(&config).map_err(refused)?;
            instance.write(Box::into_raw(Box::new(selector)).cast());
            Ok(Vec::new())
        })
    }
}

unsafe extern "C" fn invoke_selector<S: SelectorPlugin>(
    instance: *mut c_void,
    method: u32,
    request: ByteView,
    out: *mut OwnedBuf,
) -> i32 {
    // SAFETY: `instance` was created by `create_selector::<S>` and is not yet destroyed.
    let this = unsafe { &*(instance as *const S) };
    let call = || match method {
        abi::method::SELECTOR_SELECT => {
            let request: SelectRequest = decode(request)?;
            let item = this.select(&request).map_err(refused)?;
            Ok(SelectResponse { item }.encode_to_vec())
        }
        other => Err(unknown_method(other)),
    };
    // SAFETY: `out` is valid per the ABI contract.
    unsafe { guarded(out, call) }
}

fn unknown_method(method: u32) -> (i32, PluginError) {
    (
        status::UNKNOWN_METHOD,
        PluginError::msg(format!("unknown method id {method}")),
    )
}

unsafe extern "C" fn free_buf(buf: OwnedBuf) {
    // SAFETY: every buffer handed out was made by `OwnedBuf::from_vec` in this library.
    let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { buf.into_vec() })));
}

unsafe extern "C" fn destroy<T>(instance: *mut c_void) {
    if instance.is_null() {
        return;
    }
    // SAFETY: `instance` came from `Box::into_raw` of a `T` in `create_*`.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        drop(unsafe { Box::from_raw(instance as *mut T) })
    }));
}

/// Exports a [`DomainPlugin`](crate::DomainPlugin) as the plugin of this `cdylib`.
#[macro_export]
macro_rules! export_domain_plugin {
    ($plugin:ty) => {
        $crate::__export_entry!($crate::export::domain_vtable::<$plugin>);
    };
}

/// Exports a [`ScoringModel`](crate::ScoringModel) as the plugin of this `cdylib`.
#[macro_export]
macro_rules! export_scoring_model {
    ($model:ty) => {
        $crate::__export_entry!($crate::export::model_vtable::<$model>);
    };
}

/// Exports a [`SelectorPlugin`](crate::SelectorPlugin) as the plugin of this `cdylib`.
#[macro_export]
macro_rules! export_selector {
    ($selector:ty) => {
        $crate::__export_entry!($crate::export::selector_vtable::<$selector>);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_entry {
    ($make:path) => {
        #[cfg(panic = "abort")]
        compile_error!(
            "an IKD plugin must be built with panic = \"unwind\" so that its panics can be contained"
        );

        /// The plugin's entry point (ABI major 1).
        #[unsafe(no_mangle)]
        pub extern "C" fn ikd_plugin_entry_v1() -> *const $crate::abi::PluginVTableV1 {
            static VTABLE: ::std::sync::OnceLock<$crate::abi::PluginVTableV1> =
                ::std::sync::OnceLock::new();
            ::std::panic::catch_unwind(|| {
                VTABLE.get_or_init(|| $make(env!("CARGO_PKG_VERSION"))) as *const _
            })
            .unwrap_or(::std::ptr::null())
        }
    };
}
