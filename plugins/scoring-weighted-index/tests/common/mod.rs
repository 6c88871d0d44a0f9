//! Builders for hand-written model configurations and score requests.
#![allow(dead_code)]

use ikd_plugin_sdk::proto::{DomainLayout, IndicatorLayout, ItemLayout};
use ikd_plugin_sdk::{Band, ModelConfig, ScoreInput};

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
    indicators: &[(&str, f64)],
    min_answered: u32,
    min_answered_fraction: f64,
) -> DomainLayout {
    DomainLayout {
        code: code.into(),
        weight,
        indicators: indicators
            .iter()
            .map(|&(code, weight)| IndicatorLayout {
                code: code.into(),
                weight,
            })
            .collect(),
        min_answered,
        min_answered_fraction,
    }
}

pub fn item(id: &str, domain: u32, indicator: u32, weight: f64, min: f64, max: f64) -> ItemLayout {
    ItemLayout {
        id: id.into(),
        domain,
        indicator,
        weight,
        score_min: min,
        score_max: max,
        categories: 0,
    }
}

pub fn config(domains: Vec<DomainLayout>, items: Vec<ItemLayout>, min_domains: u32) -> ModelConfig {
    ModelConfig {
        instrument_id: "uji".into(),
        instrument_version: "1.0.0".into(),
        domains,
        items,
        bands: bands(),
        min_domains,
        settings_json: String::new(),
        instrument_dir: String::new(),
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

pub fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}

#[track_caller]
pub fn assert_close(actual: f64, expected: f64) {
    assert!(close(actual, expected), "expected {expected}, got {actual}");
}
