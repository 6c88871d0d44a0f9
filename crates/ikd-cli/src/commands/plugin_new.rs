//! `ikd plugins new`: a standalone plugin crate that builds, loads and scores
//! as generated, so that a plugin author starts from something that works.
//!
//! The files are templates under `crates/ikd-cli/templates/` (see the README
//! there), embedded in the binary so that `ikd` needs no data files at run time.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct NewArgs {
    /// What the plugin provides.
    #[arg(long, value_enum)]
    kind: Kind,
    /// Plugin name: lowercase letters, digits and '-', starting with a letter (e.g. `data-ethics`).
    #[arg(value_name = "NAME")]
    name: String,
    /// Directory of the new crate (default: ./NAME); must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
    /// Depend on the SDK at this path (default: the SDK of the checkout `ikd` was built from).
    #[arg(long, value_name = "PATH", conflicts_with = "sdk_version")]
    sdk_path: Option<PathBuf>,
    /// Depend on this version of `ikd-plugin-sdk` from a registry instead of a path.
    #[arg(long, value_name = "VER")]
    sdk_version: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Domain,
    ScoringModel,
    Selector,
}

impl Kind {
    /// The kind as manifests write it.
    fn as_str(self) -> &'static str {
        match self {
            Kind::Domain => "domain",
            Kind::ScoringModel => "scoring-model",
            Kind::Selector => "selector",
        }
    }
}

/// The plugin ABI major the generated manifest declares. The engine refuses a
/// manifest of another major, so `tests/tests/engine/plugin_new.rs` (which loads a
/// generated plugin) fails if this ever differs from `ikd_plugin_sdk::abi::ABI_MAJOR`.
const ABI_MAJOR: u16 = 1;

/// The version of this workspace, shared by the engine and the SDK.
const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A generated crate starts at this version.
const NEW_PLUGIN_VERSION: &str = "0.1.0";

/// (path in the new crate, template text).
type Template = (&'static str, &'static str);

macro_rules! templates {
    ($dir:literal: $($path:literal => $file:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../templates/", $dir, "/", $file)))),*]
    };
}

const DOMAIN: &[Template] = templates!("plugin-domain":
    "Cargo.toml" => "Cargo.toml.tmpl",
    "plugin.toml" => "plugin.toml.tmpl",
    "README.md" => "README.md.tmpl",
    ".gitignore" => "gitignore.tmpl",
    "src/lib.rs" => "src/lib.rs.tmpl",
    "src/true_false.rs" => "src/true_false.rs.tmpl",
    "src/feedback.rs" => "src/feedback.rs.tmpl",
    "tests/plugin.rs" => "tests/plugin.rs.tmpl",
    "examples/instrument.toml" => "examples/instrument.toml.tmpl",
    "examples/answers.csv" => "examples/answers.csv.tmpl",
);

const SCORING_MODEL: &[Template] = templates!("plugin-scoring-model":
    "Cargo.toml" => "Cargo.toml.tmpl",
    "plugin.toml" => "plugin.toml.tmpl",
    "README.md" => "README.md.tmpl",
    ".gitignore" => "gitignore.tmpl",
    "src/lib.rs" => "src/lib.rs.tmpl",
    "tests/model.rs" => "tests/model.rs.tmpl",
    "examples/instrument.toml" => "examples/instrument.toml.tmpl",
    "examples/answers.csv" => "examples/answers.csv.tmpl",
);

const SELECTOR: &[Template] = templates!("plugin-selector":
    "Cargo.toml" => "Cargo.toml.tmpl",
    "plugin.toml" => "plugin.toml.tmpl",
    "README.md" => "README.md.tmpl",
    ".gitignore" => "gitignore.tmpl",
    "src/lib.rs" => "src/lib.rs.tmpl",
    "tests/selector.rs" => "tests/selector.rs.tmpl",
);

/// Writes the crate `args` describe.
pub fn run(args: NewArgs) -> Result<ExitCode> {
    check_name(&args.name)?;
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    check_target_dir(&dir)?;
    let sdk = match (&args.sdk_path, &args.sdk_version) {
        (_, Some(version)) => SdkSource::Version(check_sdk_version(version)?),
        (Some(path), None) => SdkSource::Path(sdk_path(path)?),
        (None, None) => SdkSource::Path(sdk_path(&bundled_sdk_dir())?),
    };
    let values = Values::new(&args.name, args.kind, &sdk);
    let templates = match args.kind {
        Kind::Domain => DOMAIN,
        Kind::ScoringModel => SCORING_MODEL,
        Kind::Selector => SELECTOR,
    };
    let files = templates
        .iter()
        .map(|&(path, text)| {
            let text =
                render(text, &values.pairs()).with_context(|| format!("template of {path}"))?;
            Ok((path, text))
        })
        .collect::<Result<Vec<_>>>()?;
    write_files(&dir, &files)?;
    print_next_steps(args.kind, &values, &dir);
    Ok(ExitCode::SUCCESS)
}

/// Writes every file only after all rendered, so a template error leaves nothing behind.
fn write_files(dir: &Path, files: &[(&str, String)]) -> Result<()> {
    for (path, text) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, text)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

/// What to run next, on stderr (like every diagnostic of `ikd`).
fn print_next_steps(kind: Kind, values: &Values, dir: &Path) {
    if let Some(root) = enclosing_workspace(dir) {
        eprintln!(
            "note: {} is inside the cargo workspace {}. If that workspace's members include it, cargo there fails with \"multiple workspace roots\" until the new crate either becomes a member (delete its [workspace] table, depend on the workspace's ikd-plugin-sdk) or is listed in the workspace's `exclude`.\n",
            dir.display(),
            root.display()
        );
    }
    let library = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        values.lib_name,
        std::env::consts::DLL_SUFFIX
    );
    let try_it = match kind {
        Kind::Selector => format!(
            "ikd --plugin-dir . cat simulate --simulated-bank 300 -n 1000 --selector-plugin {}",
            values.name
        ),
        Kind::Domain | Kind::ScoringModel => {
            "ikd --plugin-dir . score --instrument examples/instrument.toml examples/answers.csv"
                .to_owned()
        }
    };
    eprintln!(
        "created {kind} plugin '{name}' (crate {krate}) in {dir}\n\nnext:\n  cd {dir}\n  cargo build --release && cp target/release/{library} .\n  ikd --plugin-dir . plugins list\n  {try_it}\n  cargo test",
        kind = kind.as_str(),
        name = values.name,
        krate = values.crate_name,
        dir = dir.display(),
    );
}

/// A plugin name: lowercase letters, digits and '-', starting with a letter
/// and not ending with '-'. It becomes a domain code, a crate name and a Rust
/// identifier, so it must be valid as each of them.
fn check_name(name: &str) -> Result<()> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !valid_chars || !starts_with_letter || name.ends_with('-') || name.contains("--") {
        bail!(
            "invalid plugin name '{name}': use lowercase letters, digits and single '-' between them, starting with a letter (e.g. 'data-ethics')"
        );
    }
    if name.len() > 64 {
        bail!("invalid plugin name '{name}': at most 64 characters");
    }
    Ok(())
}

/// The crate goes into a new or empty directory, never over existing files.
fn check_target_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        bail!("{} exists and is not a directory", dir.display());
    }
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if entries.next().is_some() {
        bail!(
            "{} is not empty: choose another --path, or remove what is there",
            dir.display()
        );
    }
    Ok(())
}

/// The `Cargo.toml` of a cargo workspace above `dir`, if any: the generated
/// crate is a workspace of its own, which clashes with one that globs it in.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    let dir = dir.canonicalize().ok()?;
    dir.ancestors()
        .skip(1)
        .map(|d| d.join("Cargo.toml"))
        .find(|manifest| {
            std::fs::read_to_string(manifest)
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        })
}

/// Where the new crate gets the SDK from.
enum SdkSource {
    /// An absolute path, so that the crate builds wherever it is moved on this machine.
    Path(PathBuf),
    Version(String),
}

/// `crates/ikd-plugin-sdk` of the checkout this `ikd` was built from.
fn bundled_sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ikd-plugin-sdk")
}

/// Checks that `path` holds the SDK's Cargo.toml and makes it absolute.
fn sdk_path(path: &Path) -> Result<PathBuf> {
    let manifest = path.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).with_context(|| {
        format!(
            "no SDK at {}: cannot read {} (give --sdk-path DIR of crates/ikd-plugin-sdk, or --sdk-version VER)",
            path.display(),
            manifest.display()
        )
    })?;
    if !text
        .lines()
        .any(|l| l.trim() == r#"name = "ikd-plugin-sdk""#)
    {
        bail!(
            "{} is not the manifest of ikd-plugin-sdk (no `name = \"ikd-plugin-sdk\"`)",
            manifest.display()
        );
    }
    path.canonicalize()
        .with_context(|| format!("cannot resolve {}", path.display()))
}

/// A version requirement as cargo reads it (`0.1`, `^0.1.0`, `=0.1.2`, `>=0.1, <0.3`).
fn check_sdk_version(version: &str) -> Result<String> {
    let version = version.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".^~=<>*, -+".contains(c);
    if version.is_empty()
        || !version.chars().all(allowed)
        || !version.contains(|c: char| c.is_ascii_digit())
    {
        bail!("--sdk-version '{version}' is not a version requirement (e.g. 0.1 or ^0.1.0)");
    }
    Ok(version.to_owned())
}

/// The values of the placeholders.
struct Values {
    name: String,
    crate_name: String,
    lib_name: String,
    type_name: String,
    engine: String,
    sdk_dependency: String,
    sdk_dev_dependency: String,
}

impl Values {
    fn new(name: &str, kind: Kind, sdk: &SdkSource) -> Self {
        let (prefix, suffix) = match kind {
            Kind::Domain => ("ikd-domain-", "Domain"),
            Kind::ScoringModel => ("ikd-scoring-", "Model"),
            Kind::Selector => ("ikd-selector-", "Selector"),
        };
        let crate_name = format!("{prefix}{name}");
        let source = match sdk {
            SdkSource::Path(path) => format!("path = {}", toml_string(&path.to_string_lossy())),
            SdkSource::Version(version) => format!("version = {}", toml_string(version)),
        };
        Values {
            name: name.to_owned(),
            lib_name: crate_name.replace('-', "_"),
            crate_name,
            type_name: format!("{}{suffix}", camel_case(name)),
            engine: engine_requirement(ikd_core::host::ENGINE_VERSION),
            sdk_dependency: format!("ikd-plugin-sdk = {{ {source} }}"),
            sdk_dev_dependency: format!(
                "ikd-plugin-sdk = {{ {source}, features = [\"testing\"] }}"
            ),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name", self.name.clone()),
            ("crate_name", self.crate_name.clone()),
            ("lib_name", self.lib_name.clone()),
            ("type_name", self.type_name.clone()),
            ("version", NEW_PLUGIN_VERSION.to_owned()),
            ("engine", self.engine.clone()),
            ("abi_major", ABI_MAJOR.to_string()),
            ("sdk_version", SDK_VERSION.to_owned()),
            ("sdk_dependency", self.sdk_dependency.clone()),
            ("sdk_dev_dependency", self.sdk_dev_dependency.clone()),
        ]
    }
}

/// `data-ethics-2` → `DataEthics2`.
fn camel_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The engines a new plugin supports: those compatible with this one by
/// cargo's rules (`0.1.x` → `^0.1`, `1.2.x` → `^1`).
fn engine_requirement(engine: &str) -> String {
    let mut parts = engine.split('.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some(minor)) => format!("^0.{minor}"),
        (Some(major), _) => format!("^{major}"),
        _ => format!("^{engine}"),
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Replaces every `{{key}}`; a placeholder left without a value is an error
/// naming it, so a typo in a template cannot reach a generated file.
fn render(template: &str, values: &[(&str, String)]) -> Result<String> {
    let mut out = template.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    let mut rest = out.as_str();
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        if let Some(end) = after.find("}}") {
            let key = &after[..end];
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                bail!("unknown placeholder {{{{{key}}}}}");
            }
        }
        rest = after;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(kind: Kind) -> Values {
        Values::new(
            "data-ethics-2",
            kind,
            &SdkSource::Path(PathBuf::from("/sdk \"x\"")),
        )
    }

    #[test]
    fn names_must_be_lowercase_words_joined_by_single_hyphens() {
        for good in ["a", "data-ethics", "digcomp-safety", "model2", "x-1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Data",
            "1data",
            "-data",
            "data-",
            "data--ethics",
            "data_ethics",
            "data ethics",
            "dätä",
        ] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(
                err.contains(&format!("invalid plugin name '{bad}'")),
                "{err}"
            );
        }
    }

    #[test]
    fn names_become_crate_library_and_type_names() {
        let v = values(Kind::Domain);
        assert_eq!(v.crate_name, "ikd-domain-data-ethics-2");
        assert_eq!(v.lib_name, "ikd_domain_data_ethics_2");
        assert_eq!(v.type_name, "DataEthics2Domain");
        let v = values(Kind::ScoringModel);
        assert_eq!(
            (v.crate_name.as_str(), v.type_name.as_str()),
            ("ikd-scoring-data-ethics-2", "DataEthics2Model")
        );
        assert_eq!(
            v.sdk_dependency,
            r#"ikd-plugin-sdk = { path = "/sdk \"x\"" }"#
        );
        assert_eq!(
            v.sdk_dev_dependency,
            r#"ikd-plugin-sdk = { path = "/sdk \"x\"", features = ["testing"] }"#
        );
        let v = Values::new("m", Kind::ScoringModel, &SdkSource::Version("^0.1".into()));
        assert_eq!(v.sdk_dependency, r#"ikd-plugin-sdk = { version = "^0.1" }"#);
    }

    #[test]
    fn the_engine_range_follows_cargo_compatibility() {
        assert_eq!(engine_requirement("0.1.0"), "^0.1");
        assert_eq!(engine_requirement("0.12.3"), "^0.12");
        assert_eq!(engine_requirement("2.4.1"), "^2");
    }

    #[test]
    fn every_template_renders_without_a_placeholder_left() {
        for (kind, templates) in [(Kind::Domain, DOMAIN), (Kind::ScoringModel, SCORING_MODEL)] {
            let pairs = values(kind).pairs();
            for (path, text) in templates {
                let out = render(text, &pairs).unwrap_or_else(|e| panic!("{path}: {e}"));
                assert!(!out.contains("{{"), "{path}: {out}");
            }
        }
    }

    #[test]
    fn an_unknown_placeholder_is_an_error_naming_it() {
        let err = render("a {{name}} {{nmae}}", &[("name", "x".into())]).unwrap_err();
        assert_eq!(err.to_string(), "unknown placeholder {{nmae}}");
        // Braces that are not a placeholder (e.g. Rust or TOML) pass.
        assert_eq!(render("{ {a} } {{ }}", &[]).unwrap(), "{ {a} } {{ }}");
    }

    #[test]
    fn sdk_versions_and_paths_are_checked() {
        assert_eq!(check_sdk_version(" ^0.1 ").unwrap(), "^0.1");
        assert!(check_sdk_version(">=0.1, <0.3").is_ok());
        for bad in ["", "latest", "0.1\"", "0.1; rm"] {
            assert!(check_sdk_version(bad).is_err(), "{bad}");
        }
        assert!(sdk_path(&bundled_sdk_dir()).unwrap().is_absolute());
        let dir = tempfile::tempdir().unwrap();
        let err = sdk_path(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no SDK at"), "{err}");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"other\"\n",
        )
        .unwrap();
        let err = sdk_path(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not the manifest of ikd-plugin-sdk"), "{err}");
    }

    #[test]
    fn a_workspace_above_the_new_crate_is_found() {
        let root = tempfile::tempdir().unwrap();
        let inner = root.path().join("plugins/new");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(inner.join("Cargo.toml"), "[workspace]\n").unwrap();
        assert_eq!(enclosing_workspace(&inner), None);
        let manifest = root.path().join("Cargo.toml");
        std::fs::write(&manifest, "[workspace]\nmembers = [\"plugins/*\"]\n").unwrap();
        assert_eq!(
            enclosing_workspace(&inner),
            Some(manifest.canonicalize().unwrap())
        );
    }

    #[test]
    fn only_a_new_or_empty_directory_is_used() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_target_dir(&dir.path().join("new")).is_ok());
        assert!(check_target_dir(dir.path()).is_ok());
        std::fs::write(dir.path().join("x"), "").unwrap();
        let err = check_target_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not empty"), "{err}");
        let err = check_target_dir(&dir.path().join("x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a directory"), "{err}");
    }
}
