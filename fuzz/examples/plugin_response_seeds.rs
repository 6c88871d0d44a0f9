//! Writes real plugin responses as seeds for the `plugin_responses` target:
//! the bytes a domain plugin (the SDK's Likert and single-choice kinds) and
//! the weighted-index model return for the hand-computed fixture instrument,
//! the plugin info a library exports, a refusal, and each wrapped in the
//! process transport's `PluginMessage`.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --target-dir fuzz/target \
//!         --example plugin_response_seeds -- fuzz/seeds/plugin_responses

use ikd_plugin_sdk::domain::{DomainInstance, answer_batch};
use ikd_plugin_sdk::prelude::*;
use ikd_plugin_sdk::proto::{
    Band, DomainConfig, DomainLayout, IndicatorLayout, InterpretRequest, ItemLayout, ItemOption,
    PluginMessage, SimulateRequest,
};
use ikd_plugin_sdk::{ScoreInput, ScoringModel};
use ikd_scoring_weighted_index::WeightedIndex;
use prost::Message;
use std::path::PathBuf;

struct Seeds;

impl DomainPlugin for Seeds {
    const NAME: &'static str = "seeds";
    const DESCRIPTION: &'static str = "The SDK's standard kinds";

    fn item_kinds() -> Vec<Box<dyn ItemKind>> {
        vec![Box::new(Likert), Box::new(SingleChoice)]
    }

    fn new(_setup: &DomainSetup) -> Result<Self, PluginError> {
        Ok(Seeds)
    }

    fn feedback(&self, level: &LevelRef) -> Feedback {
        let name = level.name.clone().unwrap_or_default();
        Feedback::new(
            (
                &format!("Tingkat {}", name.id),
                &format!("Level {}", name.en),
            ),
            ("Pertahankan.", "Keep it up."),
        )
    }
}

fn likert(id: &str, indicator: &str, reverse: bool) -> ItemSpec {
    ItemSpec {
        id: id.into(),
        kind: "likert".into(),
        indicator: indicator.into(),
        weight: 1.0,
        reverse,
        scale_min: Some(1),
        scale_max: Some(5),
        ..Default::default()
    }
}

fn choice(
    id: &str,
    indicator: &str,
    options: &[(&str, Option<f64>, bool)],
    key: &[&str],
) -> ItemSpec {
    ItemSpec {
        id: id.into(),
        kind: "single-choice".into(),
        indicator: indicator.into(),
        weight: 1.0,
        options: options
            .iter()
            .map(|&(code, credit, dont_know)| ItemOption {
                code: code.into(),
                credit,
                dont_know,
                ..Default::default()
            })
            .collect(),
        key: key.iter().map(|k| k.to_string()).collect(),
        ..Default::default()
    }
}

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).expect("an output directory"));
    std::fs::create_dir_all(&out).unwrap();
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();

    // The hand-computed instrument's two domains.
    let alpha = DomainConfig {
        domain: "alpha".into(),
        items: vec![
            likert("A1", "a1", false),
            likert("A2", "a1", true),
            choice(
                "A3",
                "a2",
                &[
                    ("a", None, false),
                    ("b", None, false),
                    ("c", None, false),
                    ("x", None, true),
                ],
                &["b"],
            ),
        ],
        settings_json: String::new(),
    };
    let beta = DomainConfig {
        domain: "beta".into(),
        items: vec![
            likert("B1", "b1", false),
            choice(
                "B2",
                "b1",
                &[
                    ("a", Some(1.0), false),
                    ("b", Some(0.5), false),
                    ("c", Some(0.0), false),
                ],
                &[],
            ),
        ],
        settings_json: String::new(),
    };
    let a = DomainInstance::<Seeds>::new(&alpha).unwrap();
    let b = DomainInstance::<Seeds>::new(&beta).unwrap();

    let alpha_rows = [
        ["5", "2", "b"],
        ["1", "5", "x"],
        ["NA", "NA", "a"],
        ["3", "", "c"],
    ];
    let beta_rows = [["3", "b"], ["", ""], ["5", ""], ["4", "a"]];
    let alpha_scores = a.score_items(&answer_batch(alpha_rows)).unwrap();
    let beta_scores = b.score_items(&answer_batch(beta_rows)).unwrap();
    seeds.push(("item-scores-alpha".into(), alpha_scores.encode_to_vec()));
    seeds.push(("item-scores-beta".into(), beta_scores.encode_to_vec()));
    // Invalid answers: item scores with violations.
    let invalid = a
        .score_items(&answer_batch([["7", "2", "z"], ["5", "x", "b"]]))
        .unwrap();
    assert!(!invalid.violations.is_empty());
    seeds.push(("item-scores-violations".into(), invalid.encode_to_vec()));

    let description = a.describe();
    seeds.push(("describe".into(), description.encode_to_vec()));
    let levels: Vec<LevelRef> = [
        ("rendah", 0.0, 50.0),
        ("sedang", 50.0, 81.25),
        ("tinggi", 81.25, 100.0),
    ]
    .iter()
    .map(|&(code, min, max)| LevelRef {
        code: code.into(),
        name: Some(Text::new(code, code)),
        min,
        max,
    })
    .collect();
    let interpret = a.interpret(&InterpretRequest {
        levels: levels.clone(),
    });
    seeds.push(("interpret".into(), interpret.encode_to_vec()));
    let simulated = a.simulate(&SimulateRequest {
        theta: vec![-1.0, 0.0, 1.5],
        seed: 7,
        first_respondent: 0,
    });
    seeds.push(("simulate".into(), simulated.encode_to_vec()));

    // A refusal: a Likert item without a scale.
    let mut bad = alpha.clone();
    bad.items[0].scale_min = None;
    let refusal = DomainInstance::<Seeds>::new(&bad).err().expect("refused");
    seeds.push(("plugin-error".into(), refusal.encode_to_vec()));

    // The model over both domains' item scores.
    let layout = |id: &str,
                  domain: u32,
                  indicator: u32,
                  d: &ikd_plugin_sdk::proto::DomainDescription,
                  k: usize| ItemLayout {
        id: id.into(),
        domain,
        indicator,
        weight: 1.0,
        score_min: d.score_min[k],
        score_max: d.score_max[k],
        categories: d.categories[k],
    };
    let (da, db) = (a.describe(), b.describe());
    let config = ModelConfig {
        instrument_id: "hand".into(),
        instrument_version: "1.0.0".into(),
        domains: vec![
            DomainLayout {
                code: "alpha".into(),
                weight: 0.75,
                indicators: vec![
                    IndicatorLayout {
                        code: "a1".into(),
                        weight: 2.0,
                    },
                    IndicatorLayout {
                        code: "a2".into(),
                        weight: 1.0,
                    },
                ],
                min_answered: 1,
                min_answered_fraction: 0.5,
            },
            DomainLayout {
                code: "beta".into(),
                weight: 0.25,
                indicators: vec![IndicatorLayout {
                    code: "b1".into(),
                    weight: 1.0,
                }],
                min_answered: 1,
                min_answered_fraction: 0.5,
            },
        ],
        items: vec![
            layout("A1", 0, 0, &da, 0),
            layout("A2", 0, 0, &da, 1),
            layout("A3", 0, 1, &da, 2),
            layout("B1", 1, 0, &db, 0),
            layout("B2", 1, 0, &db, 1),
        ],
        bands: levels
            .iter()
            .map(|l| Band {
                code: l.code.clone(),
                min: l.min,
                max: l.max,
            })
            .collect(),
        min_domains: 1,
        settings_json: String::new(),
        instrument_dir: String::new(),
    };
    let model = WeightedIndex::new(&config).unwrap();
    let n = alpha_rows.len();
    let mut input = ScoreInput {
        respondents: n as u32,
        ..Default::default()
    };
    for r in 0..n {
        for k in 0..3 {
            input.item_scores.push(alpha_scores.scores[r * 3 + k]);
            input.item_status.push(alpha_scores.status[r * 3 + k]);
        }
        for k in 0..2 {
            input.item_scores.push(beta_scores.scores[r * 2 + k]);
            input.item_status.push(beta_scores.status[r * 2 + k]);
        }
    }
    let output = model.score(&input).unwrap();
    seeds.push(("model-scores".into(), output.encode_to_vec()));
    let mut request = Vec::new();
    input.encode_into(&mut request);
    // The plugin_responses target reads the item count from the first byte.
    seeds.push(("model-request".into(), [&[5u8][..], &request].concat()));
    let mut refused = config.clone();
    refused.bands.clear();
    let refusal = WeightedIndex::new(&refused).expect_err("refused");
    seeds.push(("model-refusal".into(), refusal.encode_to_vec()));

    // Plugin info as a library exports it.
    let vtable = ikd_plugin_sdk::export::domain_vtable::<Seeds>("0.1.0");
    // SAFETY: the info bytes are leaked by the SDK and live for the program.
    let info = unsafe { vtable.info.as_slice() }.to_vec();
    seeds.push(("plugin-info-domain".into(), info));
    let vtable = ikd_plugin_sdk::export::model_vtable::<WeightedIndex>("0.1.0");
    // SAFETY: as above.
    let info = unsafe { vtable.info.as_slice() }.to_vec();
    seeds.push(("plugin-info-model".into(), info));

    // Each again as a process plugin's answer.
    let wrapped: Vec<(String, Vec<u8>)> = seeds
        .iter()
        .enumerate()
        .map(|(call, (name, body))| {
            let status = if name.contains("error") || name.contains("refusal") {
                1
            } else {
                0
            };
            let message = PluginMessage {
                call: call as u64 + 1,
                status,
                body: body.clone().into(),
                instance: if name.starts_with("plugin-info") {
                    0
                } else {
                    3
                },
            };
            (format!("process-{name}"), message.encode_to_vec())
        })
        .collect();
    seeds.extend(wrapped);

    for (name, bytes) in &seeds {
        std::fs::write(out.join(format!("seed-{name}")), bytes).unwrap();
    }
    eprintln!("{} seeds written to {}", seeds.len(), out.display());
}
