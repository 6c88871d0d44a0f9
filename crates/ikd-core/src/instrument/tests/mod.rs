//! Tests of the loader, the validator and the plugin checks, over one small
//! valid instrument that each error test breaks in one place.

mod delivery;
mod errors;
mod plugins;
mod valid;

use super::{Diagnostic, Instrument, InstrumentError, load_str};
use std::path::Path;

/// A valid instrument using most features; error tests change one line of it.
const BASE: &str = r#"[instrument]
id = "ikd-test"
version = "1.2.3"
title = { id = "Uji", en = "Test" }

[scoring]
model = "weighted-index"
weights_sum = 1.0

[[scales]]
id = "setuju-5"
min = 1
max = 5

[[domains]]
code = "literasi-digital"
name = { id = "Literasi Digital", en = "Digital Literacy" }
plugin = "literasi-digital"
weight = 0.6

  [[domains.indicators]]
  code = "informasi"
  name = { id = "Informasi", en = "Information" }

[[domains]]
code = "budaya-data"
name = { id = "Budaya Data", en = "Data Culture" }
plugin = "budaya-data"
weight = 0.4
settings = { threshold = 2 }

  [[domains.indicators]]
  code = "berbagi"
  name = { id = "Berbagi", en = "Sharing" }
  weight = 2.0

[[items]]
id = "LD01"
domain = "literasi-digital"
indicator = "informasi"
kind = "likert"
scale = "setuju-5"
reverse = true
text = { id = "Saya mencari.", en = "I search." }

[[items]]
id = "BD01"
domain = "budaya-data"
indicator = "berbagi"
kind = "single-choice"
key = "b"
weight = 2.0
text = { id = "Pilih.", en = "Choose." }
options = [{ code = "a" }, { code = "b", label = { id = "Bi", en = "Bee" }, credit = 1.0 }, { code = "x", dont_know = true }]
tolerance = 0.5
table = [[1, 2], [3, 4]]

[[levels]]
code = "rendah"
name = { id = "Rendah", en = "Low" }
min = 0
max = 50

[[levels]]
code = "tinggi"
name = { id = "Tinggi", en = "High" }
min = 50
max = 100
"#;

const FILE: &str = "instruments/test.toml";

fn load_text(text: &str) -> Result<Instrument, InstrumentError> {
    load_str(text, Path::new(FILE))
}

fn load_base() -> Instrument {
    load_text(BASE).unwrap_or_else(|error| panic!("the base instrument is valid, got: {error}"))
}

/// `BASE` with `from` (which must occur exactly once) replaced by `to`.
fn base_with(from: &str, to: &str) -> String {
    with(BASE, from, to)
}

fn with(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "'{from}' must occur exactly once"
    );
    text.replacen(from, to, 1)
}

/// Every diagnostic of a text that must fail.
fn diagnostics(text: &str) -> Vec<Diagnostic> {
    match load_text(text) {
        Ok(_) => panic!("the instrument should have been refused"),
        Err(error) => {
            assert!(
                error.diagnostics.iter().all(|d| d.file == Path::new(FILE)),
                "{error}"
            );
            error.diagnostics
        }
    }
}

/// 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("'{needle}' not in the text"));
    text[..offset].matches('\n').count() + 1
}

/// The one diagnostic about `subject`/`field`; fails listing them all otherwise.
fn the<'a>(diagnostics: &'a [Diagnostic], subject: &str, field: &str) -> &'a Diagnostic {
    let matching: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.subject == subject && d.field == field)
        .collect();
    match matching.as_slice() {
        [one] => one,
        _ => panic!(
            "expected one diagnostic about {subject} / '{field}', got:\n{}",
            render(diagnostics)
        ),
    }
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().map(|d| format!("  {d}\n")).collect()
}

/// Asserts one diagnostic about `subject`/`field` on the line of `needle`,
/// whose message contains `says`.
fn expect(text: &str, subject: &str, field: &str, needle: &str, says: &str) {
    let all = diagnostics(text);
    let diagnostic = the(&all, subject, field);
    let line = diagnostic.location.map(|location| location.line);
    assert_eq!(
        line,
        Some(line_of(text, needle)),
        "wrong line for {diagnostic}"
    );
    assert!(
        diagnostic.message.contains(says),
        "'{says}' not in: {diagnostic}"
    );
}
