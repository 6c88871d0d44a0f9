//! θ and SE after every step are the `irt` model's EAP on the items given
//! so far: equal to ikd-irt's scorer with the model's defaults (N(0, 1)
//! prior, 121 nodes on [−6, 6]), and within the EAP kernel's documented
//! 2e−5 of a brute-force f64 posterior computed here.

use ikd_cat::simulation::SimulatedBank;
use ikd_cat::{
    AdaptiveTest, Bank, BankItem, DomainOrder, MaxInformation, Next, Settings, TestState,
};
use ikd_irt::{ItemBank, MISSING, Model, ScoringOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// IKD-ASN 2025's calibrated parameters; the domain is the id's prefix.
fn ikd_bank() -> Bank {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../instruments/ikd-asn-2025/irt-params.csv"
    );
    let parameters = ItemBank::read_csv(std::fs::File::open(path).unwrap()).unwrap();
    let items = parameters
        .items()
        .iter()
        .map(|irt| BankItem {
            id: irt.name().to_owned(),
            domain: irt.name()[..2].to_owned(),
            indicator: "all".into(),
            irt: irt.clone(),
        })
        .collect();
    Bank::new(items).unwrap()
}

/// Runs one person who answers at random, returning the final state.
fn run(test: &AdaptiveTest, seed: u64) -> TestState {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut state = test.start();
    let selector = MaxInformation::new(2);
    while let Next::Item(item) = test.next(&state, &selector, &mut rng).unwrap() {
        let categories = test.bank().item(item).irt.categories();
        test.record(&mut state, item, rng.random_range(0..categories) as u8)
            .unwrap();
    }
    state
}

/// EAP by brute force in f64: 121 nodes on [−6, 6], weights ∝ φ.
fn brute_force_eap(bank: &Bank, answers: &[(usize, u8)]) -> (f64, f64) {
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    for q in 0..121 {
        let t = -6.0 + 12.0 * q as f64 / 120.0;
        let mut log_w = -0.5 * t * t;
        for &(item, category) in answers {
            let irt = &bank.item(item).irt;
            let mut lp = vec![0.0; irt.categories()];
            irt.log_probs(t, &mut lp);
            log_w += lp[category as usize];
        }
        let w = log_w.exp();
        s0 += w;
        s1 += w * t;
        s2 += w * t * t;
    }
    let mean = s1 / s0;
    (mean, (s2 / s0 - mean * mean).sqrt())
}

fn check_every_step(test: &AdaptiveTest, state: &TestState) {
    let bank = test.bank();
    let scorers: Vec<ikd_irt::Scorer> = (0..bank.domains().len())
        .map(|d| {
            ikd_irt::Scorer::new(
                bank.domain_parameters(d).clone(),
                &ScoringOptions::default(),
            )
            .unwrap()
        })
        .collect();
    let mut codes: Vec<Vec<u8>> = bank
        .domains()
        .iter()
        .map(|d| vec![MISSING; d.items.len()])
        .collect();
    let mut given: Vec<Vec<(usize, u8)>> = vec![Vec::new(); bank.domains().len()];
    for step in state.steps() {
        let place = bank.place(step.item);
        codes[place.domain][place.position] = step.category;
        given[place.domain].push((step.item, step.category));
        let scorer = scorers[place.domain].score(&codes[place.domain]).unwrap();
        assert_eq!(step.estimate, scorer, "step {step:?}");
        let (theta, se) = brute_force_eap(bank, &given[place.domain]);
        assert!(
            (step.estimate.theta - theta).abs() < 2e-5,
            "{step:?}: θ {theta}"
        );
        assert!((step.estimate.se - se).abs() < 2e-5, "{step:?}: SE {se}");
    }
}

#[test]
fn every_step_is_the_irt_models_eap_on_the_ikd_bank() {
    let test = AdaptiveTest::new(ikd_bank(), Settings::default()).unwrap();
    assert_eq!(test.bank().domains().len(), 5);
    for seed in 0..20 {
        let state = run(&test, seed);
        assert!(state.total() > 0);
        check_every_step(&test, &state);
    }
}

#[test]
fn every_step_is_the_eap_on_mixed_models() {
    let mut items = Vec::new();
    for (model, k) in [
        (Model::TwoPl, 2),
        (Model::Graded, 4),
        (Model::PartialCredit, 3),
    ] {
        let bank = SimulatedBank {
            items: 30,
            domains: 2,
            indicators_per_domain: 2,
            model,
            categories: k,
        }
        .generate(7)
        .unwrap();
        items.extend(bank.items().iter().map(|item| {
            BankItem {
                id: format!("{model}-{}", item.id),
                irt: ikd_irt::Item::new(
                    format!("{model}-{}", item.id),
                    item.irt.model(),
                    item.irt.a(),
                    item.irt.d().to_vec(),
                )
                .unwrap(),
                ..item.clone()
            }
        }));
    }
    let settings = Settings {
        se_target: 0.25,
        domain_order: DomainOrder::Interleaved,
        ..Settings::default()
    };
    let test = AdaptiveTest::new(Bank::new(items).unwrap(), settings).unwrap();
    for seed in 0..10 {
        check_every_step(&test, &run(&test, seed));
    }
}
