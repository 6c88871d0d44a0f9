//! The plugin host: finds plugins by their `plugin.toml` manifests, checks
//! them before their code runs, loads them through the C ABI and calls them
//! safely.
//!
//! Order of checks for each plugin, cheapest and safest first: the manifest
//! (name, kind, ABI major, engine range), the lock file (sha256 of the library
//! bytes, before opening it), then — after `dlopen` — the vtable's magic, size
//! and ABI, and the plugin's own info against its manifest.

mod discovery;
#[cfg(target_os = "linux")]
mod elf;
mod instance;
mod loaded;
mod lock;
mod manifest;
mod native;
mod outcome;
mod process;
mod sealed;
mod selector;

pub use discovery::{DiscoveredPlugin, PluginHost, PluginSearch, PluginStatus, bundled_plugin_dir};
pub use instance::{DomainHandle, ModelHandle, PluginCallError};
pub use loaded::{LoadError, LoadedPlugin};
pub use lock::{LockEntry, LockFile, LockMode, LockPolicy};
pub use manifest::{
    DEFAULT_CALL_TIMEOUT, ManifestError, PluginKindName, PluginManifest, Transport,
};
pub use process::MAX_CONSECUTIVE_FAILURES;
pub use selector::{DEFAULT_SELECT_DEADLINE, PluginSelector, SelectorHandle};

/// Version of the engine, checked against each manifest's `engine` range.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Hex sha256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Hex sha256 of a file's bytes.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}
