//! Answers given by an adaptive test (`ikd-cat`) scored by this model: the
//! θ and SE the test recorded after every step are the ones the model
//! reports for the same answers, with the items not given marked not
//! applicable. So an adaptive session's running estimate, its stopping rule
//! and its final score are one number.

mod common;

use common::{ANS, NA, config, domain, item};
use ikd_cat::{AdaptiveTest, Bank, BankItem, MaxInformation, Next, Settings};
use ikd_irt::ItemBank;
use ikd_plugin_sdk::{ScoreInput, ScoringModel};
use ikd_scoring_irt::Irt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;

const PARAMS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../instruments/ikd-asn-2025/irt-params.csv"
);
const DOMAINS: [&str; 5] = ["LD", "BD", "PP", "EK", "KD"];

#[test]
fn the_adaptive_estimate_after_every_step_is_the_models_score() {
    // IKD-ASN 2025's parameters; an item's domain is its id's prefix.
    let parameters = ItemBank::read_csv(std::fs::File::open(PARAMS).unwrap()).unwrap();
    let irt_items = parameters.items();
    let bank = Bank::new(
        irt_items
            .iter()
            .map(|irt| BankItem {
                id: irt.name().to_owned(),
                domain: irt.name()[..2].to_owned(),
                indicator: "all".into(),
                irt: irt.clone(),
            })
            .collect(),
    )
    .unwrap();
    let domain_of = |id: &str| DOMAINS.iter().position(|d| id.starts_with(d)).unwrap() as u32;
    let model = Irt::new(&config(
        Path::new(PARAMS).parent().unwrap(),
        DOMAINS.iter().map(|d| domain(d, 0.2, 1, 0.0)).collect(),
        irt_items
            .iter()
            .map(|i| {
                let k = i.categories();
                item(i.name(), domain_of(i.name()), 0.0, (k - 1) as f64, k as u32)
            })
            .collect(),
        1,
        serde_json::json!({ "params": PARAMS, "method": "eap" }),
    ))
    .unwrap();

    // Persons answering at random; one request row per step of each.
    let test = AdaptiveTest::new(bank, Settings::default()).unwrap();
    let mut rng = StdRng::seed_from_u64(16);
    let (mut rows, mut steps) = (Vec::new(), Vec::new());
    for _ in 0..25 {
        let mut state = test.start();
        let mut row = vec![(f64::NAN, NA); irt_items.len()];
        while let Next::Item(i) = test
            .next(&state, &MaxInformation::new(3), &mut rng)
            .unwrap()
        {
            let categories = test.bank().item(i).irt.categories();
            let answer = rng.random_range(0..categories) as u8;
            let estimate = test.record(&mut state, i, answer).unwrap();
            row[i] = (f64::from(answer), ANS);
            rows.push(row.clone());
            steps.push((test.bank().place(i).domain, estimate));
        }
    }
    let output = model
        .score(&ScoreInput {
            respondents: rows.len() as u32,
            item_scores: rows.iter().flatten().map(|c| c.0).collect(),
            item_status: rows.iter().flatten().map(|c| c.1).collect(),
        })
        .unwrap();

    // The model reports 50 + 15·θ (clamped to the bands' 0–100) and 15·SE.
    let mut compared = 0;
    for (r, (d, estimate)) in steps.iter().enumerate() {
        let at = r * DOMAINS.len() + d;
        let score = output.domain_scores[at];
        if !(0.0..=100.0).contains(&(50.0 + 15.0 * estimate.theta)) {
            continue;
        }
        assert!(
            ((score - 50.0) / 15.0 - estimate.theta).abs() < 1e-12,
            "step {r}: model θ {}, adaptive θ {}",
            (score - 50.0) / 15.0,
            estimate.theta
        );
        assert!((output.domain_se[at] / 15.0 - estimate.se).abs() < 1e-12);
        compared += 1;
    }
    assert!(compared > 1000, "{compared} steps compared");
}
