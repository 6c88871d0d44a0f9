//! Model settings from a request may only name files inside the instrument's directory.
//!
//! A scoring model reads files its settings name (the IRT model's `params`), resolved
//! against the instrument's directory. When the settings come from a client (a server's
//! `Rescore`), a path such as `/proc/self/environ`, `../../data/pseudonym.key` or a symbolic
//! link out of the directory would let the client make the server read — and, through the
//! plugin's error message, disclose — any file it can read. The engine does not know which
//! settings a plugin reads as files, so it checks every string (object keys included) as if
//! it were one: no absolute path, no `..` component, and whatever part of it exists must
//! resolve (symbolic links followed) inside the instrument's directory. A string that names
//! nothing (`"eap"`) passes. The operator's own settings (the instrument file, the command
//! line) are not checked: they may name any file the operator can read.
//!
//! Errors name the setting (`params`, `reporting.file`, `files[2]`) and the rule broken,
//! never the value: it may be a server path, and no file is ever quoted.

use std::path::{Component, Path, PathBuf};

/// A setting that names a file outside the instrument's directory.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "setting '{setting}' {reason}; settings from a request may only name files inside the instrument's directory, by a relative name"
)]
pub struct OutsideFile {
    /// Where in the settings: `params`, `reporting.file`, `files[2]` (a key is named by its
    /// parent: `reporting` for a key of the `reporting` table).
    pub setting: String,
    /// The rule broken, without the value.
    pub reason: &'static str,
}

/// Checks every string of `settings` (values and keys, at any depth) against
/// `instrument_dir`; the first offending one is returned. `instrument_dir` is canonicalised
/// here (a directory that cannot be is refused as a whole).
pub fn check(settings: &serde_json::Value, instrument_dir: &Path) -> Result<(), OutsideFile> {
    let dir = canonical_dir(instrument_dir).map_err(|reason| OutsideFile {
        setting: String::new(),
        reason,
    })?;
    walk(settings, &mut String::new(), &dir)
}

/// The directory a relative setting is resolved against, with symbolic links resolved
/// (`.` for an instrument file given without a directory).
pub fn canonical_dir(instrument_dir: &Path) -> Result<PathBuf, &'static str> {
    let dir = if instrument_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        instrument_dir
    };
    dir.canonicalize()
        .map_err(|_| "cannot be checked: the instrument's directory cannot be resolved")
}

/// Depth-first over `value`; `at` is the setting's name so far.
fn walk(value: &serde_json::Value, at: &mut String, dir: &Path) -> Result<(), OutsideFile> {
    let outside = |at: &str, reason| OutsideFile {
        setting: if at.is_empty() { "(top level)" } else { at }.to_owned(),
        reason,
    };
    match value {
        serde_json::Value::String(s) => check_one(s, dir).map_err(|r| outside(at, r)),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                walk(item, at, dir)?;
                at.truncate(len);
            }
            Ok(())
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                check_one(key, dir).map_err(|r| outside(at, r))?;
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(key);
                walk(item, at, dir)?;
                at.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// One string read as a path relative to `dir` (canonical): the rule it breaks, if any.
fn check_one(value: &str, dir: &Path) -> Result<(), &'static str> {
    if value.contains('\0') {
        return Err("contains a NUL byte");
    }
    let path = Path::new(value);
    if path.has_root() || path.is_absolute() {
        return Err("is an absolute path");
    }
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err("contains a '..' component");
    }
    let joined = dir.join(path);
    match resolve_existing(&joined) {
        Some(real) if real.starts_with(dir) => Ok(()),
        Some(_) => Err("resolves, through a symbolic link, outside the instrument's directory"),
        None => Err("names a symbolic link that cannot be resolved"),
    }
}

/// `path` with its longest existing prefix resolved (symbolic links followed); what does
/// not exist yet cannot lead elsewhere (no `..` in it). `None` when an existing entry
/// cannot be resolved (a dangling or looping link, no permission).
fn resolve_existing(path: &Path) -> Option<PathBuf> {
    let mut missing = Vec::new();
    let mut existing = path;
    while existing.symlink_metadata().is_err() {
        missing.push(existing.file_name()?);
        existing = existing.parent()?;
    }
    let mut real = existing.canonicalize().ok()?;
    real.extend(missing.iter().rev());
    Some(real)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("instrument");
        std::fs::create_dir_all(dir.join("params")).unwrap();
        std::fs::write(dir.join("irt-params.csv"), "x").unwrap();
        std::fs::write(tmp.path().join("secret.key"), "k").unwrap();
        (tmp, dir)
    }

    fn refused(settings: serde_json::Value, dir: &Path) -> OutsideFile {
        check(&settings, dir).expect_err(&settings.to_string())
    }

    #[test]
    fn relative_names_inside_pass() {
        let (_tmp, dir) = setup();
        for ok in [
            json!({ "params": "irt-params.csv" }),
            json!({ "params": "./irt-params.csv" }),
            json!({ "params": "params/not-yet.csv", "method": "eap", "quadpts": 21 }),
            json!({ "reporting": { "center": 50, "scale": 15 } }),
            json!(null),
            json!({ "list": ["a", "b/c"] }),
        ] {
            check(&ok, &dir).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn absolute_parent_and_links_out_are_refused_without_the_value() {
        let (tmp, dir) = setup();
        let secret = tmp.path().join("secret.key");
        std::os::unix::fs::symlink(&secret, dir.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), dir.join("up")).unwrap();
        std::os::unix::fs::symlink(dir.join("irt-params.csv"), dir.join("inside.csv")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("gone"), dir.join("dangling")).unwrap();
        let secret = secret.display().to_string();
        let cases = [
            (json!({ "params": secret }), "params", "absolute"),
            (
                json!({ "params": "/proc/self/environ" }),
                "params",
                "absolute",
            ),
            (json!({ "params": "../secret.key" }), "params", "'..'"),
            (
                json!({ "params": "params/../../secret.key" }),
                "params",
                "'..'",
            ),
            (json!({ "params": "link.csv" }), "params", "symbolic link"),
            (
                json!({ "params": "up/secret.key" }),
                "params",
                "symbolic link",
            ),
            (
                json!({ "params": "up/nothing/here" }),
                "params",
                "symbolic link",
            ),
            (
                json!({ "params": "dangling" }),
                "params",
                "cannot be resolved",
            ),
            (
                json!({ "a": { "b": [1, "/etc/passwd"] } }),
                "a.b[1]",
                "absolute",
            ),
            (json!({ "a": { "/etc/passwd": 1 } }), "a", "absolute"),
            (json!("/etc/passwd"), "(top level)", "absolute"),
            (json!({ "params": "a\u{0}b" }), "params", "NUL"),
        ];
        for (settings, setting, reason) in cases {
            let err = refused(settings.clone(), &dir);
            assert_eq!(err.setting, setting, "{settings}");
            let text = err.to_string();
            assert!(text.contains(reason), "{settings}: {text}");
            assert!(!text.contains(&secret), "{settings}: {text}");
            assert!(!text.contains("passwd"), "{settings}: {text}");
        }
        // A link that stays inside is fine.
        check(&json!({ "params": "inside.csv" }), &dir).unwrap();
    }

    #[test]
    fn an_instrument_in_the_working_directory_is_checked_against_it() {
        assert!(check(&json!({ "params": "x.csv" }), Path::new("")).is_ok());
        assert!(check(&json!({ "params": "/x.csv" }), Path::new("")).is_err());
    }
}
