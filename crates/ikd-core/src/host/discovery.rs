//! Finding plugins: `plugin.toml` manifests in the plugin directories, each
//! checked (and its library hashed) before the library is opened.

use super::loaded::LoadedPlugin;
use super::lock::LockPolicy;
use super::manifest::{PluginKindName, PluginManifest, Transport};
use super::{ENGINE_VERSION, sha256_bytes, sha256_file};
use crate::instrument::{PluginFacts, PluginRole};
use semver::Version;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where to look for plugins, and how to check them.
#[derive(Clone, Debug, Default)]
pub struct PluginSearch {
    /// Directories holding a `plugin.toml`, or whose subdirectories do; searched in order.
    pub dirs: Vec<PathBuf>,
    /// Where else a manifest's library may be (e.g. cargo's `target/debug`).
    pub library_dirs: Vec<PathBuf>,
    pub lock: Option<LockPolicy>,
}

impl PluginSearch {
    /// The usual search: `extra` directories (e.g. `--plugin-dir`), then
    /// `IKD_PLUGIN_PATH`, then the installation's `plugins/` ([`crate::home`])
    /// or, when `ikd` runs from its build tree, the bundled plugins of the
    /// workspace; libraries beside their manifests or beside the running
    /// executable.
    pub fn standard(extra: &[PathBuf]) -> Self {
        let mut dirs = extra.to_vec();
        if let Some(path) = std::env::var_os("IKD_PLUGIN_PATH") {
            dirs.extend(std::env::split_paths(&path).filter(|p| !p.as_os_str().is_empty()));
        }
        if let Some(bundled) = crate::home::plugins_dir() {
            dirs.push(bundled);
        }
        PluginSearch {
            dirs,
            library_dirs: executable_dirs(),
            lock: None,
        }
    }
}

/// The workspace's `plugins/` directory, when this engine was built from a checkout that still exists.
pub fn bundled_plugin_dir() -> Option<PathBuf> {
    crate::home::workspace_dir("plugins")
}

/// The running executable's directory, and its parent when that is cargo's
/// `deps/` (test binaries), so that libraries built by cargo are found.
fn executable_dirs() -> Vec<PathBuf> {
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_owned))
    else {
        return Vec::new();
    };
    let mut dirs = vec![dir.clone()];
    if matches!(
        dir.file_name().and_then(|n| n.to_str()),
        Some("deps" | "examples")
    ) && let Some(parent) = dir.parent()
    {
        dirs.push(parent.to_owned());
    }
    dirs
}

/// The outcome of discovering one manifest.
#[derive(Clone, Debug)]
pub enum PluginStatus {
    Loaded(Arc<LoadedPlugin>),
    /// Not loaded; the reason names the check that failed.
    Refused(String),
}

/// One manifest found, whatever became of it.
#[derive(Clone, Debug)]
pub struct DiscoveredPlugin {
    pub manifest_path: PathBuf,
    pub manifest: Option<PluginManifest>,
    pub library_path: Option<PathBuf>,
    pub sha256: Option<String>,
    pub status: PluginStatus,
}

impl DiscoveredPlugin {
    /// `loaded`, `poisoned` or `refused`.
    pub fn status_name(&self) -> &'static str {
        match &self.status {
            PluginStatus::Loaded(p) if p.is_poisoned() => "poisoned",
            PluginStatus::Loaded(_) => "loaded",
            PluginStatus::Refused(_) => "refused",
        }
    }
}

/// Every plugin found, loaded or refused.
#[derive(Clone, Debug, Default)]
pub struct PluginHost {
    entries: Vec<DiscoveredPlugin>,
}

impl PluginHost {
    /// Finds, checks and loads every plugin the search reaches. Problems with
    /// one plugin never stop the others; they are kept as `Refused` entries.
    pub fn discover(search: &PluginSearch) -> Self {
        let mut entries: Vec<DiscoveredPlugin> = Vec::new();
        for manifest_path in search.dirs.iter().flat_map(|d| manifests_in(d)) {
            if entries
                .iter()
                .any(|e| same_file(&e.manifest_path, &manifest_path))
            {
                continue;
            }
            let loaded_first = |name: &str| {
                entries
                    .iter()
                    .find(|e| loaded_name(e).is_some_and(|n| n == name))
                    .map(|e| e.manifest_path.clone())
            };
            let entry = examine(&manifest_path, search, loaded_first);
            match &entry.status {
                PluginStatus::Loaded(p) => {
                    tracing::debug!(plugin = p.name(), path = %manifest_path.display(), "plugin loaded")
                }
                PluginStatus::Refused(why) => {
                    tracing::warn!(path = %manifest_path.display(), "plugin refused: {why}")
                }
            }
            entries.push(entry);
        }
        PluginHost { entries }
    }

    /// Every manifest found, in search order.
    pub fn entries(&self) -> &[DiscoveredPlugin] {
        &self.entries
    }

    /// Loaded plugins.
    pub fn loaded(&self) -> impl Iterator<Item = &Arc<LoadedPlugin>> {
        self.entries.iter().filter_map(|e| match &e.status {
            PluginStatus::Loaded(p) => Some(p),
            PluginStatus::Refused(_) => None,
        })
    }

    /// The loaded plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedPlugin>> {
        self.loaded().find(|p| p.name() == name)
    }

    /// Why no plugin called `name` is loaded, when a manifest of that name was refused.
    pub fn refusal(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find_map(|e| match (&e.manifest, &e.status) {
                (Some(m), PluginStatus::Refused(why)) if m.name == name => Some(why.as_str()),
                _ => None,
            })
    }

    /// What instrument checks need to know about the loaded plugins.
    pub fn facts(&self) -> Vec<PluginFacts> {
        self.loaded()
            .map(|p| PluginFacts {
                name: p.name().to_owned(),
                role: match p.manifest.kind {
                    PluginKindName::Domain => PluginRole::Domain,
                    PluginKindName::ScoringModel => PluginRole::ScoringModel,
                    PluginKindName::Selector => PluginRole::Selector,
                },
                version: p.manifest.version.clone(),
                item_kinds: p.info.item_kinds.iter().map(|k| k.name.clone()).collect(),
            })
            .collect()
    }
}

fn loaded_name(e: &DiscoveredPlugin) -> Option<&String> {
    match (&e.manifest, &e.status) {
        (Some(m), PluginStatus::Loaded(_)) => Some(&m.name),
        _ => None,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `dir/plugin.toml`, or `dir/*/plugin.toml` in name order.
fn manifests_in(dir: &Path) -> Vec<PathBuf> {
    let direct = dir.join("plugin.toml");
    if direct.is_file() {
        return vec![direct];
    }
    let Ok(read) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "plugin directory cannot be read");
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = read
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("plugin.toml"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
}

/// Runs every check on one manifest, opening the library only if all pass.
///
/// `loaded_first` tells where a plugin of the same name was already loaded:
/// the first one found wins, and a later one is never opened.
fn examine(
    manifest_path: &Path,
    search: &PluginSearch,
    loaded_first: impl Fn(&str) -> Option<PathBuf>,
) -> DiscoveredPlugin {
    let mut entry = DiscoveredPlugin {
        manifest_path: manifest_path.to_owned(),
        manifest: None,
        library_path: None,
        sha256: None,
        status: PluginStatus::Refused(String::new()),
    };
    let refuse = |mut e: DiscoveredPlugin, why: String| {
        e.status = PluginStatus::Refused(why);
        e
    };
    let manifest = match PluginManifest::read(manifest_path) {
        Ok(m) => m,
        Err(e) => return refuse(entry, e.to_string()),
    };
    entry.manifest = Some(manifest.clone());
    if let Some(first) = loaded_first(&manifest.name) {
        return refuse(
            entry,
            format!(
                "shadowed by the plugin of the same name at {}",
                first.display()
            ),
        );
    }
    if manifest.abi_major != ikd_plugin_sdk::abi::ABI_MAJOR {
        return refuse(
            entry,
            format!(
                "manifest declares plugin ABI {}, this engine speaks ABI {}",
                manifest.abi_major,
                ikd_plugin_sdk::abi::ABI_MAJOR
            ),
        );
    }
    let engine = Version::parse(ENGINE_VERSION).expect("the crate version is semver");
    if !manifest.engine.matches(&engine) {
        return refuse(
            entry,
            format!(
                "supports engine {} but this engine is {engine}",
                manifest.engine
            ),
        );
    }
    if manifest.transport == Transport::Process {
        return examine_process(entry, manifest_path, manifest, search);
    }
    let Some(library) = find_library(manifest_path, &manifest, &search.library_dirs) else {
        return refuse(
            entry,
            format!(
                "library '{}' not found beside the manifest or in {} (build it with `cargo build -p <crate>`)",
                manifest.library_file_name(),
                search
                    .library_dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    };
    entry.library_path = Some(library.clone());
    // Read once: these bytes are hashed, checked and then loaded (see `sealed`).
    let bytes = match std::fs::read(&library) {
        Ok(b) => b,
        Err(e) => return refuse(entry, format!("cannot read {}: {e}", library.display())),
    };
    let sha256 = sha256_bytes(&bytes);
    entry.sha256 = Some(sha256.clone());
    if let Some(lock) = &search.lock
        && let Err(why) = lock.check(&manifest.name, &sha256)
    {
        return refuse(entry, format!("refused before opening: {why}"));
    }
    match LoadedPlugin::open(manifest, &library, &bytes, sha256) {
        Ok(p) => {
            entry.status = PluginStatus::Loaded(Arc::new(p));
            entry
        }
        Err(e) => refuse(entry, e.reason),
    }
}

/// A process plugin: hashes what it runs (see [`process_sha256`]), checks the
/// lock, then starts the child and checks its info.
fn examine_process(
    mut entry: DiscoveredPlugin,
    manifest_path: &Path,
    manifest: PluginManifest,
    search: &PluginSearch,
) -> DiscoveredPlugin {
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let files = process_files(manifest_path, &manifest);
    let program = files.get(1).unwrap_or(&files[0]).clone();
    entry.library_path = Some(program.clone());
    let refuse = |mut e: DiscoveredPlugin, why: String| {
        e.status = PluginStatus::Refused(why);
        e
    };
    let sha256 = match process_sha256(&files) {
        Ok(h) => h,
        Err(e) => return refuse(entry, e),
    };
    entry.sha256 = Some(sha256.clone());
    if let Some(lock) = &search.lock
        && let Err(why) = lock.check(&manifest.name, &sha256)
    {
        return refuse(entry, format!("refused before starting: {why}"));
    }
    match LoadedPlugin::spawn(manifest, dir, &program, sha256) {
        Ok(p) => {
            entry.status = PluginStatus::Loaded(Arc::new(p));
            entry
        }
        Err(e) => refuse(entry, e.reason),
    }
}

/// What a process plugin's identity covers: its manifest (the command line and
/// limits), then every command argument that names a file in its directory
/// (the script, say `model.py`), in command order.
fn process_files(manifest_path: &Path, manifest: &PluginManifest) -> Vec<PathBuf> {
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let mut files = vec![manifest_path.to_owned()];
    files.extend(
        manifest
            .command
            .iter()
            .map(|arg| dir.join(arg))
            .filter(|p| p.is_file()),
    );
    files
}

/// sha256 over the sha256 of each file, so that a lock pins the manifest and
/// the program together.
fn process_sha256(files: &[PathBuf]) -> Result<String, String> {
    use sha2::{Digest, Sha256};
    let mut all = Sha256::new();
    for file in files {
        let one = sha256_file(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        all.update(one.as_bytes());
    }
    Ok(hex::encode(all.finalize()))
}

fn find_library(
    manifest_path: &Path,
    manifest: &PluginManifest,
    library_dirs: &[PathBuf],
) -> Option<PathBuf> {
    let file = manifest.library_file_name();
    manifest_path
        .parent()
        .into_iter()
        .chain(library_dirs.iter().map(PathBuf::as_path))
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
}
