//! Builders for hand-written model configurations, parameter files and score requests.
#![allow(dead_code)]

use ikd_plugin_sdk::proto::{DomainLayout, IndicatorLayout, ItemLayout};
use ikd_plugin_sdk::{Band, ModelConfig, PluginError, ScoreInput, Violation};
use std::path::Path;

/// AnswerStatus values.
pub const ANS: u8 = 0;
pub const SKIP: u8 = 1;
pub const NA: u8 = 2;
pub const INV: u8 = 3;
pub const DK: u8 = 4;

/// Four bands on 0–100: [0,40) [40,60) [60,80) [80,100].
pub fn bands() -> Vec<Band> {
    [
        ("rendah", 0.0, 40.0),
        ("sedang", 40.0, 60.0),
        ("tinggi", 60.0, 80.0),
        ("sangat-tinggi", 80.0, 100.0),
    ]
    .iter()
    .map(|&(code, min, max)| Band {
        code: code.into(),
        min,
        max,
    })
    .collect()
}

pub fn domain(
    code: &str,
    weight: f64,
    min_answered: u32,
    min_answered_fraction: f64,
) -> DomainLayout {
    DomainLayout {
        code: code.into(),
        weight,
        indicators: vec![IndicatorLayout {
            code: "K1".into(),
            weight: 1.0,
        }],
        min_answered,
        min_answered_fraction,
    }
}

/// An item of `domain` scored in `[min, max]`; `categories` integer score points (0: continuous).
pub fn item(id: &str, domain: u32, min: f64, max: f64, categories: u32) -> ItemLayout {
    ItemLayout {
        id: id.into(),
        domain,
        indicator: 0,
        weight: 1.0,
        score_min: min,
        score_max: max,
        categories,
    }
}

/// A dichotomous item scored 0/1.
pub fn keyed(id: &str, domain: u32) -> ItemLayout {
    item(id, domain, 0.0, 1.0, 2)
}

/// Writes `text` as `params.csv` in `dir`; returns its file name.
pub fn write_params(dir: &Path, text: &str) -> String {
    std::fs::write(dir.join("params.csv"), text).expect("write params");
    "params.csv".into()
}

pub fn config(
    dir: &Path,
    domains: Vec<DomainLayout>,
    items: Vec<ItemLayout>,
    min_domains: u32,
    settings: serde_json::Value,
) -> ModelConfig {
    ModelConfig {
        instrument_id: "uji".into(),
        instrument_version: "1.0.0".into(),
        domains,
        items,
        bands: bands(),
        min_domains,
        settings_json: settings.to_string(),
        instrument_dir: dir.display().to_string(),
    }
}

/// One row per respondent, one (score, status) per item.
pub fn request(rows: &[&[(f64, u8)]]) -> ScoreInput {
    ScoreInput {
        respondents: rows.len() as u32,
        item_scores: rows.iter().flat_map(|r| r.iter().map(|c| c.0)).collect(),
        item_status: rows.iter().flat_map(|r| r.iter().map(|c| c.1)).collect(),
    }
}

/// The violation on `field` (and `item`, when not empty); panics with the error otherwise.
#[track_caller]
pub fn violation<'a>(err: &'a PluginError, item: &str, field: &str) -> &'a Violation {
    err.violations
        .iter()
        .find(|v| v.field == field && (item.is_empty() || v.item == item))
        .unwrap_or_else(|| panic!("no violation on item '{item}', field '{field}' in:\n{err}"))
}

#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "expected {expected}, got {actual} (tolerance {tol})"
    );
}

/// EAP θ and posterior SD by brute force: 121 equally spaced nodes on
/// [−6, 6], weights ∝ φ(θ), likelihood of 2PL answers `(a, d, x)`.
pub fn eap_2pl(answers: &[(f64, f64, u8)]) -> (f64, f64) {
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    for q in 0..121 {
        let t = -6.0 + 12.0 * q as f64 / 120.0;
        let mut w = (-0.5 * t * t).exp();
        for &(a, d, x) in answers {
            let p = 1.0 / (1.0 + (-(a * t + d)).exp());
            w *= if x == 1 { p } else { 1.0 - p };
        }
        s0 += w;
        s1 += w * t;
        s2 += w * t * t;
    }
    let mean = s1 / s0;
    (mean, (s2 / s0 - mean * mean).sqrt())
}
