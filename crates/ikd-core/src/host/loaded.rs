//! A loaded plugin, whichever its transport: a native library ([`super::native`])
//! or a child process ([`super::process`]). Domains and models call it without
//! knowing which; it also disables a plugin after faults.

use super::manifest::{PluginKindName, PluginManifest, Transport};
use super::native::NativePlugin;
use super::outcome::RawOutcome;
use super::process::ProcessPlugin;
use ikd_plugin_sdk::abi;
use ikd_plugin_sdk::proto::{PluginInfo, PluginKind};
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

/// A plugin that passed every check. Libraries are never closed: code of a
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
    Native(NativePlugin),
    Process(Box<ProcessPlugin>),
}

/// An instance as the backend knows it: a pointer from a native `create`, or
/// the host's key of a process plugin's instance (stable across restarts).
#[derive(Clone, Copy, Debug)]
pub(super) enum RawInstance {
    Native(*mut c_void),
    Process(u64),
}

impl LoadedPlugin {
    /// Opens a native library (dlopen of the hashed bytes, vtable checks) and checks the
    /// plugin's info against its manifest.
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
        let (native, info) =
            NativePlugin::open(&manifest.name, library_path, bytes, &sha256).map_err(&fail)?;
        check_info(&manifest, &info).map_err(fail)?;
        native.set_log_level();
        Ok(LoadedPlugin {
            manifest,
            info,
            library_path: library_path.to_owned(),
            sha256,
            backend: Backend::Native(native),
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
            Backend::Native(native) => native.abi(),
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
            Backend::Native(native) => match native.create(config) {
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
            (Backend::Native(native), RawInstance::Native(ptr)) => {
                native.invoke(ptr, method, request, read)
            }
            (Backend::Process(p), RawInstance::Process(key)) => {
                p.invoke(key, method, request).map(|body| read(&body))
            }
            _ => unreachable!("an instance is only used with the plugin that created it"),
        }
    }

    pub(super) fn raw_destroy(&self, instance: RawInstance) {
        match (&self.backend, instance) {
            (Backend::Native(native), RawInstance::Native(ptr)) => native.destroy(ptr),
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
}

/// The plugin's own info against its manifest: name, kind and version must agree.
fn check_info(manifest: &PluginManifest, info: &PluginInfo) -> Result<(), String> {
    let expected_kind = match manifest.kind {
        PluginKindName::Domain => PluginKind::Domain,
        PluginKindName::ScoringModel => PluginKind::ScoringModel,
        PluginKindName::Selector => PluginKind::Selector,
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
