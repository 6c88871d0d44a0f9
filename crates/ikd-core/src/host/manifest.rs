//! `plugin.toml`: what a plugin claims to be, read before its library is opened.

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Whether a plugin provides a competency domain or a scoring model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKindName {
    Domain,
    ScoringModel,
}

impl std::fmt::Display for PluginKindName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PluginKindName::Domain => "domain",
            PluginKindName::ScoringModel => "scoring-model",
        })
    }
}

/// The manifest beside a plugin library.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginManifest {
    pub name: String,
    pub kind: PluginKindName,
    pub version: Version,
    /// ABI major the library speaks; must equal the host's.
    pub abi_major: u16,
    /// Engine versions the plugin supports.
    pub engine: VersionReq,
    /// Library base name (`ikd_scoring_weighted_index`) or file name
    /// (`libikd_scoring_weighted_index.so`); the platform's prefix and suffix
    /// are added to a base name.
    pub library: String,
    #[serde(default)]
    pub description: String,
}

/// A manifest that cannot be used, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: cannot read the manifest: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl PluginManifest {
    /// Reads and checks a manifest.
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |message: String| ManifestError::Invalid {
            path: path.to_owned(),
            message,
        };
        let manifest: PluginManifest = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            invalid(format!("{at}{}", e.message()))
        })?;
        if manifest.name.trim().is_empty() {
            return Err(invalid("field 'name' is empty".into()));
        }
        if manifest.library.trim().is_empty() || manifest.library.contains(['/', '\\']) {
            return Err(invalid(format!(
                "field 'library' must be a file name beside the manifest, got '{}'",
                manifest.library
            )));
        }
        Ok(manifest)
    }

    /// The library's file name on this platform.
    pub fn library_file_name(&self) -> String {
        let (prefix, suffix) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
        if self.library.ends_with(suffix) {
            self.library.clone()
        } else {
            format!("{prefix}{}{suffix}", self.library)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn a_manifest_names_its_library_per_platform() {
        let (_d, p) = write(
            "name = \"x\"\nkind = \"domain\"\nversion = \"0.1.0\"\nabi_major = 1\nengine = \"^0.1\"\nlibrary = \"ikd_x\"\n",
        );
        let m = PluginManifest::read(&p).unwrap();
        assert_eq!(m.kind, PluginKindName::Domain);
        assert_eq!(
            m.library_file_name(),
            format!(
                "{}ikd_x{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            )
        );
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let (_d, p) = write(
            "name = \"x\"\nkind = \"gadget\"\nversion = \"0.1.0\"\nabi_major = 1\nengine = \"^0.1\"\nlibrary = \"x\"\n",
        );
        let e = PluginManifest::read(&p).unwrap_err().to_string();
        assert!(e.contains("plugin.toml: line 2"), "{e}");
        assert!(e.contains("gadget"), "{e}");
        let (_d, p) = write(
            "name = \"x\"\nkind = \"domain\"\nversion = \"0.1.0\"\nabi_major = 1\nengine = \"^0.1\"\nlibrary = \"../x\"\nextra = 1\n",
        );
        let e = PluginManifest::read(&p).unwrap_err().to_string();
        assert!(e.contains("extra"), "{e}");
    }
}
