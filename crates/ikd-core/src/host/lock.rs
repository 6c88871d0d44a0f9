//! The plugin lock: sha256 of each library, pinned by `ikd plugins lock`.
//!
//! In `enforce` mode a library whose bytes differ from the lock (or that the
//! lock does not list) is refused *before* it is opened, because opening a
//! library runs its code.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How the host uses a lock file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockMode {
    /// No pinning.
    #[default]
    Off,
    /// Log a mismatch and load anyway.
    Warn,
    /// Refuse a library that is not pinned or whose sha256 differs.
    Enforce,
}

impl std::str::FromStr for LockMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(LockMode::Off),
            "warn" => Ok(LockMode::Warn),
            "enforce" => Ok(LockMode::Enforce),
            other => Err(format!(
                "unknown lock mode '{other}' (expected off, warn or enforce)"
            )),
        }
    }
}

/// One pinned library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    pub name: String,
    pub version: String,
    pub sha256: String,
    /// Library file name, for people reading the lock.
    #[serde(default)]
    pub library: String,
}

/// The whole lock file (`ikd-plugins.lock`, TOML).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    #[serde(default, rename = "plugin")]
    pub plugins: Vec<LockEntry>,
}

impl LockFile {
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the plugin lock: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("# sha256 of every plugin library, written by `ikd plugins lock`.\n\n{body}")
    }

    pub fn entry(&self, name: &str) -> Option<&LockEntry> {
        self.plugins.iter().find(|e| e.name == name)
    }
}

/// The lock a host checks libraries against.
#[derive(Clone, Debug)]
pub struct LockPolicy {
    pub mode: LockMode,
    pub lock: LockFile,
    pub path: PathBuf,
}

impl LockPolicy {
    /// `Err` with the reason when `enforce` refuses the library.
    pub fn check(&self, name: &str, sha256: &str) -> Result<(), String> {
        let verdict = match self.lock.entry(name) {
            None => Some(format!("not pinned in the lock {}", self.path.display())),
            Some(e) if !e.sha256.eq_ignore_ascii_case(sha256) => Some(format!(
                "library sha256 {sha256} differs from {} pinned in {}",
                e.sha256,
                self.path.display()
            )),
            Some(_) => None,
        };
        match (verdict, self.mode) {
            (Some(reason), LockMode::Enforce) => Err(reason),
            (Some(reason), _) => {
                tracing::warn!(plugin = name, "{reason}; loading anyway (lock mode warn)");
                Ok(())
            }
            (None, _) => Ok(()),
        }
    }
}
