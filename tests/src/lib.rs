//! Helpers for the end-to-end tests: built artifacts obtained from cargo
//! itself (never guessed paths under `target/`), and plugin directories
//! assembled from a manifest and a library.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

pub mod adaptive;
pub mod browser;
pub mod grpc;
pub mod http;
pub mod metrics;
pub mod postgres;
pub mod server;
pub mod web;

/// A respondent of the bundled example answers
/// (`instruments/ikd-asn-2025/examples/answers.csv`).
pub struct ExampleRespondent {
    pub id: String,
    pub org_unit: String,
    /// (item id, answer) for every non-empty cell, in column order.
    pub answers: Vec<(String, String)>,
    pub duration: Option<f64>,
}

/// The bundled example respondents, read once per call.
pub fn example_respondents() -> Vec<ExampleRespondent> {
    let path = workspace().join("instruments/ikd-asn-2025/examples/answers.csv");
    let mut reader = csv::Reader::from_path(&path).expect("the example answers");
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|record| {
            let cells = record.expect("a well-formed example row");
            let mut r = ExampleRespondent {
                id: cells[0].to_owned(),
                org_unit: cells[1].to_owned(),
                answers: Vec::new(),
                duration: None,
            };
            for (name, value) in header.iter().zip(cells.iter()).skip(2) {
                if name == "duration_seconds" {
                    r.duration = value.parse().ok();
                } else if !value.is_empty() {
                    r.answers.push((name.clone(), value.to_owned()));
                }
            }
            r
        })
        .collect()
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds with cargo and returns the artifacts it reports, by target kind
/// (`cdylib`, `bin`): the paths come from cargo's `compiler-artifact` messages.
///
/// Artifacts are built in the profile of the caller: `cargo bench` (optimised)
/// gets optimised plugins, so the engine and the plugins are compared fairly.
fn build(args: &[&str], dir: &Path) -> Vec<(String, PathBuf)> {
    let profile: &[&str] = if cfg!(debug_assertions) {
        &[]
    } else {
        &["--release"]
    };
    let output = cargo()
        .args(["build", "--message-format=json"])
        .args(profile)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo build {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut artifacts = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let kinds: Vec<&str> = msg["target"]["kind"]
            .as_array()
            .map(|k| k.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        if let Some(exe) = msg["executable"].as_str() {
            artifacts.push(("bin".to_owned(), PathBuf::from(exe)));
        }
        if kinds.contains(&"cdylib") {
            for file in msg["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str())
            {
                if file.ends_with(std::env::consts::DLL_SUFFIX) {
                    artifacts.push(("cdylib".to_owned(), PathBuf::from(file)));
                }
            }
        }
    }
    artifacts
}

/// Builds once per key and test process. The map lock is held only to find
/// the key's cell, so a build may itself ask for another (nested) artifact.
fn cached(key: &str, make: impl FnOnce() -> PathBuf) -> PathBuf {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<OnceLock<PathBuf>>>>> = OnceLock::new();
    let cell = {
        let mut map = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(key.to_owned()).or_default().clone()
    };
    cell.get_or_init(make).clone()
}

/// The cdylib of a workspace package, built by cargo (cached per test process).
pub fn built_plugin(package: &str) -> PathBuf {
    cached(package, || {
        build(&["-p", package], &workspace())
            .into_iter()
            .find(|(k, _)| k == "cdylib")
            .unwrap_or_else(|| panic!("cargo reported no cdylib for {package}"))
            .1
    })
}

/// The `ikd` executable, built by cargo, along with every bundled plugin.
pub fn ikd_binary() -> PathBuf {
    cached("ikd-cli", || {
        // The bundled plugins are found beside the executable after a workspace build.
        for package in bundled_plugin_packages() {
            built_plugin(&package);
        }
        build(&["-p", "ikd-cli", "--bin", "ikd"], &workspace())
            .into_iter()
            .find(|(k, _)| k == "bin")
            .expect("cargo reported the ikd binary")
            .1
    })
}

/// Package names of the plugins under `plugins/`.
pub fn bundled_plugin_packages() -> Vec<String> {
    bundled_plugins()
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// (package name, directory) of every plugin under `plugins/`, by name.
fn bundled_plugins() -> Vec<(String, PathBuf)> {
    let mut plugins = Vec::new();
    for entry in std::fs::read_dir(workspace().join("plugins"))
        .expect("plugins/")
        .flatten()
    {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if let Some(name) = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("name = "))
            .map(|n| n.trim_matches('"').to_owned())
        {
            plugins.push((name, entry.path()));
        }
    }
    plugins.sort();
    plugins
}

/// A plugin host with every bundled plugin installed (built by cargo).
pub fn bundled_host() -> ikd_core::host::PluginHost {
    let root = tempfile::tempdir().expect("temp dir").keep();
    for (package, dir) in bundled_plugins() {
        install_plugin(&root, &dir, &built_plugin(&package));
    }
    ikd_core::host::PluginHost::discover(&ikd_core::host::PluginSearch {
        dirs: vec![root],
        ..Default::default()
    })
}

/// A plugin built by its own `cargo build` outside the workspace.
pub fn built_external_plugin() -> PathBuf {
    cached("external-plugin", || {
        let dir = workspace().join("tests/fixtures/external-plugin");
        let target = workspace().join("target/external-plugin");
        build(
            &["--target-dir", target.to_str().expect("utf-8 path")],
            &dir,
        )
        .into_iter()
        .find(|(k, _)| k == "cdylib")
        .expect("cargo reported the external cdylib")
        .1
    })
}

/// A fixture plugin's source directory (holding its `plugin.toml`).
pub fn fixture_dir(name: &str) -> PathBuf {
    workspace().join("tests/fixtures/plugins").join(name)
}

/// A fixture instrument.
pub fn fixture_instrument(name: &str) -> PathBuf {
    workspace().join("tests/fixtures/instruments").join(name)
}

/// Lays out `<root>/<name>/plugin.toml` + library, as an installed plugin would be.
pub fn install_plugin(root: &Path, manifest_dir: &Path, library: &Path) -> PathBuf {
    let name = manifest_dir.file_name().expect("a directory name");
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("plugin dir");
    std::fs::copy(manifest_dir.join("plugin.toml"), dir.join("plugin.toml"))
        .expect("copy manifest");
    std::fs::copy(
        library,
        dir.join(library.file_name().expect("library file")),
    )
    .expect("copy library");
    dir
}
