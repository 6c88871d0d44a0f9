//! Item selection against independent implementations
//! (`tests/reference/make_reference.py`, numbers committed as
//! `reference.json`; no Python is needed to run this test):
//!
//! * 2PL and 3PL Fisher information and the item maximum information
//!   chooses, against catsim 0.21.0;
//! * GRM and GPCM Fisher information against numpy implementations of the
//!   textbook closed forms;
//! * Kullback–Leibler interval information and the item it chooses,
//!   against scipy's adaptive quadrature of the definition.

use ikd_cat::{Bank, BankItem, KullbackLeibler, MaxInformation, SelectionContext, Selector};
use ikd_irt::{Item, Model, Score};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

const REFERENCE: &str = include_str!("reference/reference.json");

fn reference() -> Value {
    serde_json::from_str(REFERENCE).expect("reference.json is JSON")
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

/// catsim's (a, b, c) as ikd-irt items: d = −a·b, g = c.
fn dichotomous_items(reference: &Value) -> Vec<Item> {
    reference["dichotomous"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (a, b, c) = (f(&p["a"]), f(&p["b"]), f(&p["c"]));
            let name = format!("i{i}");
            if c == 0.0 {
                Item::new(name, Model::TwoPl, a, vec![-a * b]).unwrap()
            } else {
                Item::three_pl(name, a, -a * b, c).unwrap()
            }
        })
        .collect()
}

fn polytomous_items(reference: &Value) -> Vec<Item> {
    reference["polytomous"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let model = match p["model"].as_str().unwrap() {
                "grm" => Model::Graded,
                "gpcm" => Model::PartialCredit,
                other => panic!("unknown model {other}"),
            };
            let d = p["d"].as_array().unwrap().iter().map(f).collect();
            Item::new(format!("p{i}"), model, f(&p["a"]), d).unwrap()
        })
        .collect()
}

fn bank(items: &[Item]) -> Bank {
    Bank::new(
        items
            .iter()
            .map(|irt| BankItem {
                id: irt.name().to_owned(),
                domain: "d".into(),
                indicator: "i".into(),
                irt: irt.clone(),
            })
            .collect(),
    )
    .unwrap()
}

/// The difference, relative above 1.
fn difference(ours: f64, theirs: f64) -> f64 {
    (ours - theirs).abs() / theirs.abs().max(1.0)
}

/// Agreement to 1e−9, relative above 1.
fn close(ours: f64, theirs: f64) -> bool {
    difference(ours, theirs) <= 1e-9
}

fn check_information(set: &str, items: &[Item], reference: &Value) {
    let thetas = reference[set]["thetas"].as_array().unwrap();
    let table = reference[set]["information"].as_array().unwrap();
    let (mut checked, mut worst) = (0, 0.0f64);
    for (theta, row) in thetas.iter().zip(table) {
        for (item, expected) in items.iter().zip(row.as_array().unwrap()) {
            let (ours, theirs) = (MaxInformation::information(item, f(theta)), f(expected));
            worst = worst.max(difference(ours, theirs));
            assert!(
                close(ours, theirs),
                "{set} {} at θ = {theta}: ours {ours}, reference {theirs}",
                item.name()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, thetas.len() * items.len());
    eprintln!("{set} information: {checked} values, largest difference {worst:.1e}");
}

/// The selector's choice at `theta` among the items not `administered`.
fn choice(selector: &dyn Selector, bank: &Bank, theta: f64, administered: &[usize]) -> usize {
    let candidates: Vec<usize> = (0..bank.len())
        .filter(|i| !administered.contains(i))
        .collect();
    let context = SelectionContext {
        bank,
        domain: 0,
        candidates: &candidates,
        estimate: Score { theta, se: 0.5 },
        answered: administered.len(),
        administered,
    };
    selector
        .select(&context, &mut StdRng::seed_from_u64(0))
        .unwrap()
}

fn indices(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn dichotomous_information_matches_catsim() {
    let reference = reference();
    check_information("dichotomous", &dichotomous_items(&reference), &reference);
}

#[test]
fn polytomous_information_matches_the_closed_forms() {
    let reference = reference();
    check_information("polytomous", &polytomous_items(&reference), &reference);
}

#[test]
fn maximum_information_chooses_the_item_catsim_chooses() {
    let reference = reference();
    let bank = bank(&dichotomous_items(&reference));
    let cases = reference["dichotomous"]["max_info"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    for case in cases {
        let (theta, administered) = (f(&case["theta"]), indices(&case["administered"]));
        let expected = case["chosen"].as_u64().unwrap() as usize;
        let ours = choice(&MaxInformation::new(1), &bank, theta, &administered);
        assert_eq!(ours, expected, "θ = {theta}, administered {administered:?}");
    }
}

#[test]
fn kullback_leibler_information_matches_adaptive_quadrature() {
    let reference = reference();
    let sets = [
        ("dichotomous", dichotomous_items(&reference)),
        ("polytomous", polytomous_items(&reference)),
    ];
    let kl = KullbackLeibler::new(1, 3.0);
    let values = reference["kl"]["values"].as_array().unwrap();
    assert_eq!(values.len(), 552);
    let mut worst = 0.0f64;
    for case in values {
        let items = &sets
            .iter()
            .find(|(name, _)| case["set"] == *name)
            .unwrap()
            .1;
        let item = &items[case["item"].as_u64().unwrap() as usize];
        let (theta, h) = (f(&case["theta"]), f(&case["half_width"]));
        let (ours, theirs) = (kl.information(item, theta, h), f(&case["value"]));
        worst = worst.max(difference(ours, theirs));
        assert!(
            close(ours, theirs),
            "{} at θ = {theta} ± {h}: ours {ours}, reference {theirs}",
            item.name()
        );
    }
    eprintln!(
        "KL information: {} values, largest difference {worst:.1e}",
        values.len()
    );
}

#[test]
fn kullback_leibler_chooses_the_reference_item() {
    let reference = reference();
    let bank = bank(&dichotomous_items(&reference));
    for case in reference["kl"]["selection"].as_array().unwrap() {
        let (theta, h, administered) = (
            f(&case["theta"]),
            f(&case["half_width"]),
            indices(&case["administered"]),
        );
        // δ = c/√n: with n = 1 the radius is the half-width itself.
        let selector = KullbackLeibler::new(1, h);
        let candidates: Vec<usize> = (0..bank.len())
            .filter(|i| !administered.contains(i))
            .collect();
        let context = SelectionContext {
            bank: &bank,
            domain: 0,
            candidates: &candidates,
            estimate: Score { theta, se: 0.5 },
            answered: 1,
            administered: &administered,
        };
        let ours = selector
            .select(&context, &mut StdRng::seed_from_u64(0))
            .unwrap();
        let expected = case["chosen"].as_u64().unwrap() as usize;
        assert_eq!(
            ours, expected,
            "θ = {theta} ± {h}, administered {administered:?}"
        );
    }
}
