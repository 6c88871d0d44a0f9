//! `plugin.toml`: what a plugin claims to be, read before its library is opened.

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Whether a plugin provides a competency domain, a scoring model or an
/// adaptive test's item selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKindName {
    Domain,
    ScoringModel,
    Selector,
}

impl std::fmt::Display for PluginKindName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PluginKindName::Domain => "domain",
            PluginKindName::ScoringModel => "scoring-model",
            PluginKindName::Selector => "selector",
        })
    }
}

/// How the engine talks to a plugin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// A native library in the engine's address space, through the C ABI (the fast path).
    #[default]
    Native,
    /// A child process speaking length-prefixed protobuf on stdin/stdout
    /// (`proto/ikd/plugin/v1/process.proto`): any language, and a crash stays in the child.
    Process,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Native => "native",
            Transport::Process => "process",
        })
    }
}

/// The manifest beside a plugin library (or a process plugin's program).
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
    #[serde(default)]
    pub transport: Transport,
    /// Native: the library base name (`ikd_scoring_weighted_index`) or file name
    /// (`libikd_scoring_weighted_index.so`); the platform's prefix and suffix
    /// are added to a base name.
    #[serde(default)]
    pub library: String,
    /// Process: the program and its arguments, run in the manifest's directory.
    #[serde(default)]
    pub command: Vec<String>,
    /// Process: how long one call may take before the child is killed (and
    /// restarted for the next call). Default [`DEFAULT_CALL_TIMEOUT`].
    #[serde(default)]
    pub call_timeout_seconds: Option<f64>,
    #[serde(default)]
    pub description: String,
}

/// Deadline of one call into a process plugin when its manifest sets none.
pub const DEFAULT_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

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
        match manifest.transport {
            Transport::Native => {
                if manifest.library.trim().is_empty() || manifest.library.contains(['/', '\\']) {
                    return Err(invalid(format!(
                        "field 'library' must be a file name beside the manifest, got '{}'",
                        manifest.library
                    )));
                }
                if !manifest.command.is_empty() {
                    return Err(invalid(
                        "field 'command' is for transport = \"process\"; a native plugin names its 'library'".into(),
                    ));
                }
            }
            Transport::Process => {
                if manifest.command.first().is_none_or(|p| p.trim().is_empty()) {
                    return Err(invalid(
                        "transport = \"process\" needs field 'command' (the program and its arguments)".into(),
                    ));
                }
                if !manifest.library.is_empty() {
                    return Err(invalid(
                        "field 'library' is for native plugins; a process plugin gives its 'command'".into(),
                    ));
                }
            }
        }
        if let Some(t) = manifest.call_timeout_seconds
            && !(t.is_finite() && t > 0.0)
        {
            return Err(invalid(format!(
                "field 'call_timeout_seconds' must be a positive number of seconds, got {t}"
            )));
        }
        Ok(manifest)
    }

    /// The deadline of one call into a process plugin.
    pub fn call_timeout(&self) -> std::time::Duration {
        self.call_timeout_seconds
            .map(std::time::Duration::from_secs_f64)
            .unwrap_or(DEFAULT_CALL_TIMEOUT)
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
