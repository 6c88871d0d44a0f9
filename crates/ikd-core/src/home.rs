//! Where an installed `ikd` finds its plugins and instruments.
//!
//! An installation is one directory, the *home*, holding `plugins/` (one
//! directory per plugin: `plugin.toml` beside its library) and `instruments/`
//! (`<id>/instrument.toml`). The home is `$IKD_HOME` when set, else
//! `<dir of the executable>/../share/ikd` when that exists (the layout
//! `ikd install --prefix P` writes: `P/bin/ikd`, `P/share/ikd/…`). Without a
//! home, `ikd` runs from its build tree and uses the workspace's `plugins/`
//! and `instruments/` — never both, so an installed copy is not shadowed by,
//! or mixed with, the checkout it was built from.

use std::path::{Path, PathBuf};

/// The installation's home, if there is one (see the module docs).
pub fn home() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("IKD_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().ok()?;
    let share = exe.parent()?.parent()?.join("share/ikd");
    share.is_dir().then_some(share)
}

/// The plugin directory: the home's `plugins/`, or the workspace's.
pub fn plugins_dir() -> Option<PathBuf> {
    match home() {
        Some(home) => Some(home.join("plugins")),
        None => workspace_dir("plugins"),
    }
}

/// The directory of bundled instruments: the home's `instruments/`, or the workspace's.
pub fn instruments_dir() -> Option<PathBuf> {
    match home() {
        Some(home) => Some(home.join("instruments")),
        None => workspace_dir("instruments"),
    }
}

/// `<workspace>/<name>`, when this engine was built from a checkout that still exists.
pub fn workspace_dir(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name);
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}
