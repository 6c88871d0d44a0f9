//! Instruments for the unit tests: a small one written here, and the bundled
//! IKD-ASN 2025 (loading needs no plugins).

use ikd_core::instrument::{Instrument, load, load_str};
use std::path::Path;

const SMALL: &str = r#"
[instrument]
id = "small"
version = "1.0.0"
title = { id = "Kecil", en = "Small" }
description = { id = "Untuk pengembangan, bukan seleksi.", en = "For development, not selection." }

[scoring]
model = "weighted-index"

[[scales]]
id = "s5"
min = 1
max = 5

[[domains]]
code = "alpha"
name = { id = "Alfa", en = "Alpha" }
plugin = "minimal-domain"
weight = 0.5
  [[domains.indicators]]
  code = "a1"
  name = { id = "A satu", en = "A one" }
  [[domains.indicators]]
  code = "a2"
  name = { id = "A dua", en = "A two" }

[[domains]]
code = "beta"
name = { id = "Beta", en = "Beta" }
plugin = "minimal-domain"
weight = 0.5
  [[domains.indicators]]
  code = "b1"
  name = { id = "B satu", en = "B one" }

[[items]]
id = "A1"
domain = "alpha"
indicator = "a1"
kind = "likert"
scale = "s5"
text = { id = "A1", en = "A1" }

[[items]]
id = "A2"
domain = "alpha"
indicator = "a2"
kind = "likert"
scale = "s5"
text = { id = "A2", en = "A2" }

[[items]]
id = "B1"
domain = "beta"
indicator = "b1"
kind = "likert"
scale = "s5"
text = { id = "B1", en = "B1" }

[[levels]]
code = "lo"
name = { id = "Rendah", en = "Low" }
min = 0
max = 50

[[levels]]
code = "hi"
name = { id = "Tinggi", en = "High" }
min = 50
max = 100
"#;

/// Two domains (alpha: indicators a1, a2; beta: b1), one item per
/// indicator, levels `lo` [0, 50) and `hi` [50, 100].
pub fn instrument() -> Instrument {
    load_str(SMALL, Path::new("small.toml")).expect("the test instrument is valid")
}

/// The bundled IKD-ASN 2025 instrument.
pub fn ikd_asn() -> Instrument {
    load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../instruments/ikd-asn-2025/instrument.toml"),
    )
    .expect("the bundled instrument is valid")
}
