//! The engine knows no instrument: no bundled instrument's id, domain or
//! indicator code, item id or level code appears as a string literal in the
//! production code of an engine crate. Instruments are data; a name in the
//! engine would make a second instrument second-class.

use ikd_tests::workspace;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The crates that must stay instrument-agnostic (the CLI and the plugins
/// may name the bundled instruments).
const ENGINE_CRATES: &[&str] = &[
    "ikd-analysis",
    "ikd-cat",
    "ikd-core",
    "ikd-irt",
    "ikd-plugin-sdk",
    "ikd-proto",
    "ikd-report",
    "ikd-research",
    "ikd-server",
    "ikd-store",
];

/// Known debt, each with the issue that removes it. The list may only shrink
/// (it is empty: issue 13 gave plugins each level's position instead of the
/// SDK's copy of the IKD level codes).
const KNOWN: &[(&str, &str)] = &[];

/// Every name the bundled instruments define.
fn instrument_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(workspace().join("instruments")).unwrap() {
        let file = entry.unwrap().path().join("instrument.toml");
        let instrument =
            ikd_core::instrument::load(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        names.insert(instrument.id.clone());
        for domain in &instrument.domains {
            names.insert(domain.code.clone());
            names.extend(domain.indicators.iter().map(|i| i.code.clone()));
        }
        names.extend(instrument.items.iter().map(|i| i.id.clone()));
        names.extend(instrument.levels.iter().map(|l| l.code.clone()));
    }
    names
}

/// Production source files: not under `tests/`, not test-support modules.
fn production_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" {
                production_sources(&path, out);
            }
        } else if name.ends_with(".rs") && name != "testing.rs" && name != "tests.rs" {
            out.push(path);
        }
    }
}

/// The string literals of a file's code before its `#[cfg(test)]` module,
/// comments left out.
fn string_literals(text: &str) -> Vec<(usize, String)> {
    let mut literals = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut parts = code.split('"');
        parts.next();
        while let (Some(inside), _) = (parts.next(), parts.next()) {
            literals.push((n + 1, inside.to_owned()));
        }
    }
    literals
}

#[test]
fn no_engine_crate_names_an_instrument() {
    let names = instrument_names();
    assert!(
        names.contains("literasi-digital") && names.contains("LD01"),
        "the bundled instruments were not read"
    );
    let root = workspace();
    let mut found = Vec::new();
    let mut known_seen = BTreeSet::new();
    for krate in ENGINE_CRATES {
        let mut files = Vec::new();
        production_sources(&root.join("crates").join(krate).join("src"), &mut files);
        for file in files {
            let relative = file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, literal) in string_literals(&text) {
                if !names.contains(&literal) {
                    continue;
                }
                if KNOWN.contains(&(relative.as_str(), literal.as_str())) {
                    known_seen.insert((relative.clone(), literal));
                } else {
                    found.push(format!("{relative}:{line}: \"{literal}\""));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "instrument names in engine code:\n{}",
        found.join("\n")
    );
    // A fixed debt must leave the list, so the list stays true.
    for (file, literal) in KNOWN {
        assert!(
            known_seen.contains(&(file.to_string(), literal.to_string())),
            "{file} no longer names \"{literal}\": remove it from KNOWN"
        );
    }
}
