//! IKD-ASN 2025 as an adaptive instrument, for the tests of adaptive delivery: the bundled
//! instrument with the `irt` model as its own (its provisional parameters, same sha256
//! pin), a `[delivery]` table, and its two "not applicable" items made plain (an adaptive
//! test needs an answer to each item it gives). docs/adaptive.md shows the same changes.

use crate::workspace;
use std::path::{Path, PathBuf};

/// The adaptive instrument's id.
pub const ADAPTIVE_ID: &str = "ikd-asn-2025-cat";

/// Writes the adaptive instrument into `dir/ikd-asn-2025-cat/` with `settings` as its
/// `[delivery.settings]` body and returns the instrument file.
pub fn adaptive_ikd_asn(dir: &Path, selector: &str, settings: &str) -> PathBuf {
    let source = workspace().join("instruments/ikd-asn-2025");
    let text = std::fs::read_to_string(source.join("instrument.toml")).unwrap();
    let text = replace_once(
        &text,
        "id = \"ikd-asn-2025\"",
        &format!("id = \"{ADAPTIVE_ID}\""),
    );
    let text = replace_once(&text, "model = \"weighted-index\"", "model = \"irt\"");
    let text = replace_once(&text, "[scoring.alternatives.irt]", "[scoring.settings]");
    let text = text.replace("not_applicable = true\n", "");
    let text = format!(
        "{text}\n[delivery]\nmode = \"adaptive\"\nselector = \"{selector}\"\n\n\
         [delivery.settings]\n{settings}\n"
    );
    let target = dir.join(ADAPTIVE_ID);
    std::fs::create_dir_all(&target).unwrap();
    std::fs::copy(source.join("irt-params.csv"), target.join("irt-params.csv")).unwrap();
    let file = target.join("instrument.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "'{from}' once in the bundled instrument"
    );
    text.replacen(from, to, 1)
}
