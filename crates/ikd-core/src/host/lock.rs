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
    /// Reads and checks a lock file; errors name the file (and the line, where there is one).
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the plugin lock: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}{e}", path.display()))
    }

    /// Parses a lock's text. A plugin pinned twice is refused: which of two
    /// hashes would be enforced is not something a reader can tell. Errors
    /// start with `:line: ` when they have a line, else `: `.
    pub fn parse(text: &str) -> Result<Self, String> {
        let lock: LockFile = toml::from_str(text).map_err(|e| format!(": {}", e.message()))?;
        let names: SpannedNames = toml::from_str(text).map_err(|e| format!(": {}", e.message()))?;
        let line = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
        let mut first_lines = std::collections::HashMap::new();
        for entry in &names.plugin {
            let at = line(entry.name.span().start);
            if let Some(first) = first_lines.insert(entry.name.get_ref().as_str(), at) {
                return Err(format!(
                    ":{at}: plugin {} is pinned twice (first at line {first})",
                    crate::quote::quote(entry.name.get_ref())
                ));
            }
        }
        Ok(lock)
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("# sha256 of every plugin library, written by `ikd plugins lock`.\n\n{body}")
    }

    pub fn entry(&self, name: &str) -> Option<&LockEntry> {
        self.plugins.iter().find(|e| e.name == name)
    }
}

/// The plugin names of a lock with where they stand, to report duplicates by line.
#[derive(Deserialize)]
struct SpannedNames {
    #[serde(default)]
    plugin: Vec<SpannedName>,
}

#[derive(Deserialize)]
struct SpannedName {
    name: toml::Spanned<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "[[plugin]]\nname = \"likert\"\nversion = \"0.1.0\"\nsha256 = \"ab\"\n\n";

    #[test]
    fn a_plugin_pinned_twice_is_refused_naming_the_line() {
        let once = format!("# lock\n\n{ENTRY}");
        assert_eq!(LockFile::parse(&once).unwrap().plugins.len(), 1);
        let twice = format!("{once}{ENTRY}");
        assert_eq!(
            LockFile::parse(&twice).unwrap_err(),
            ":9: plugin 'likert' is pinned twice (first at line 4)"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ikd-plugins.lock");
        std::fs::write(&path, &twice).unwrap();
        let err = LockFile::read(&path).unwrap_err();
        assert!(err.starts_with(&format!("{}:9: ", path.display())), "{err}");
    }

    #[test]
    fn syntax_errors_still_name_the_file() {
        let err = LockFile::parse("[[plugin]]\nname = ").unwrap_err();
        assert!(err.starts_with(": "), "{err}");
    }
}
