//! The banks the benchmarks and the latency example run on.
// Shared by the benchmark and the latency example, which each use a part.
#![allow(dead_code)]

use ikd_cat::simulation::SimulatedBank;
use ikd_cat::{AdaptiveTest, Bank, Settings, TestState};
use ikd_irt::{ItemBank, Model};

const INSTRUMENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../instruments/ikd-asn-2025"
);

/// IKD-ASN 2025: its 60 items with their domains and indicators (from
/// instrument.toml) and the `irt` model's parameters (irt-params.csv).
pub fn ikd_bank() -> Bank {
    let text = std::fs::read_to_string(format!("{INSTRUMENT}/instrument.toml")).unwrap();
    let instrument: toml::Table = toml::from_str(&text).unwrap();
    let items = instrument["items"].as_array().unwrap();
    let layout: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|item| {
            let field = |key: &str| item[key].as_str().unwrap();
            (field("id"), field("domain"), field("indicator"))
        })
        .collect();
    let file = std::fs::File::open(format!("{INSTRUMENT}/irt-params.csv")).unwrap();
    Bank::from_parameters(layout, &ItemBank::read_csv(file).unwrap()).unwrap()
}

/// A simulated bank: 5 domains × 3 indicators of 5-category graded items.
pub fn simulated_bank(items: usize) -> Bank {
    SimulatedBank {
        items,
        domains: 5,
        indicators_per_domain: 3,
        model: Model::Graded,
        categories: 5,
    }
    .generate(2025)
    .unwrap()
}

/// The default settings: SE ≤ 0.3 per domain, no other limit.
pub fn test(bank: Bank) -> AdaptiveTest {
    AdaptiveTest::new(bank, Settings::default()).unwrap()
}

/// A state `answers` items into the first domain, answered in the middle
/// category: a decision as it looks mid-test.
pub fn mid_test(test: &AdaptiveTest, answers: usize) -> TestState {
    let mut state = test.start();
    for &item in test.bank().domains()[0].items.iter().take(answers) {
        let middle = (test.bank().item(item).irt.categories() / 2) as u8;
        test.record(&mut state, item, middle).unwrap();
    }
    state
}
