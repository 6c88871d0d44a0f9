//! Content constraints and stopping rules hold for every simulated person,
//! over generated banks (2PL and graded items, 1–3 domains of 1–3
//! indicators), generated settings and every selector:
//!
//! * no item is given twice, and every item given was admissible when given
//!   (`record` refuses any other), to a domain that was still open;
//! * at the end every domain and indicator has at least its minimum and at
//!   most its maximum, and the test at most `max_items`;
//! * the stop reason and each domain's status are consistent: `se_target`
//!   only with the SE at the target, `max_items` only at the maximum,
//!   `bank_exhausted` only with no admissible item left, an open domain only
//!   when the test's `max_items` ended it.

use ikd_cat::{
    AdaptiveTest, Bank, BankItem, DomainOrder, DomainStatus, DomainStop, Next, SelectorKind,
    Settings, StopReason,
};
use ikd_irt::{Item, Model};
use proptest::prelude::*;
use proptest::test_runner::Config;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// Items per indicator, indicators per domain, domains.
fn layout() -> impl Strategy<Value = Vec<Vec<usize>>> {
    prop::collection::vec(prop::collection::vec(1usize..=5, 1..=3), 1..=3)
}

/// A bank of that layout, parameters drawn from `seed`.
fn bank(layout: &[Vec<usize>], seed: u64) -> Bank {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut items = Vec::new();
    for (d, indicators) in layout.iter().enumerate() {
        for (j, &size) in indicators.iter().enumerate() {
            for n in 0..size {
                let id = format!("d{d}i{j}n{n}");
                let a = rng.random_range(0.5..2.5);
                let location: f64 = rng.sample(StandardNormal);
                let irt = if rng.random_bool(0.5) {
                    Item::new(&id, Model::TwoPl, a, vec![location]).unwrap()
                } else {
                    let k = rng.random_range(3..=4);
                    let d = (1..k).map(|c| location + 1.5 - c as f64).collect();
                    Item::new(&id, Model::Graded, a, d).unwrap()
                };
                items.push(BankItem {
                    id,
                    domain: format!("D{d}"),
                    indicator: format!("I{j}"),
                    irt,
                });
            }
        }
    }
    Bank::new(items).unwrap()
}

prop_compose! {
    fn settings()(
        se_target in 0.2f64..0.9,
        min_domain in 0usize..=3,
        max_domain in prop::option::of(1usize..=8),
        max_items in prop::option::of(1usize..=20),
        min_indicator in 0usize..=2,
        max_indicator in prop::option::of(1usize..=4),
        randomesque in 1usize..=3,
        interleaved in any::<bool>(),
    ) -> Settings {
        Settings {
            se_target,
            min_items_per_domain: min_domain,
            max_items_per_domain: max_domain,
            max_items,
            min_items_per_indicator: min_indicator,
            max_items_per_indicator: max_indicator,
            randomesque,
            domain_order: if interleaved { DomainOrder::Interleaved } else { DomainOrder::Sequential },
            ..Settings::default()
        }
    }
}

fn selector() -> impl Strategy<Value = SelectorKind> {
    prop_oneof![
        Just(SelectorKind::Mfi),
        Just(SelectorKind::Kl),
        Just(SelectorKind::Random),
    ]
}

/// One simulated person through the test, checking as it goes.
fn person(test: &AdaptiveTest, kind: SelectorKind, seed: u64) -> Result<(), TestCaseError> {
    let bank = test.bank();
    let limits = test.constraints();
    let selector = kind.build(test.settings());
    let mut rng = StdRng::seed_from_u64(seed);
    let truth: Vec<f64> = bank
        .domains()
        .iter()
        .map(|_| rng.sample(StandardNormal))
        .collect();
    let mut state = test.start();
    let reason = loop {
        match test.next(&state, selector.as_ref(), &mut rng).unwrap() {
            Next::Item(item) => {
                prop_assert!(!state.is_given(item));
                let domain = bank.place(item).domain;
                prop_assert_eq!(test.progress(&state).domains[domain], DomainStatus::Open);
                let irt = &bank.item(item).irt;
                let mut p = vec![0.0; irt.categories()];
                irt.probs(truth[domain], &mut p);
                let u: f64 = rng.random();
                let category = p
                    .iter()
                    .scan(0.0, |c, q| {
                        *c += q;
                        Some(*c)
                    })
                    .position(|c| u < c)
                    .unwrap_or(p.len() - 1);
                // Refused (and the property failed) if not admissible now.
                test.record(&mut state, item, category as u8).unwrap();
            }
            Next::Stop(reason) => break reason,
        }
    };

    let progress = test.progress(&state);
    prop_assert_eq!(progress.stopped, Some(reason));
    prop_assert!(state.total() <= limits.max_items);
    if reason == StopReason::MaxItems {
        prop_assert_eq!(state.total(), limits.max_items);
    }
    for (d, domain) in bank.domains().iter().enumerate() {
        let dl = &limits.domains[d];
        let count = state.domain_count(d);
        prop_assert!(
            (dl.min_items..=dl.max_items).contains(&count),
            "domain {}: {}",
            d,
            count
        );
        for (j, il) in dl.indicators.iter().enumerate() {
            let n = state.indicator_count(d, j);
            prop_assert!(
                (il.min..=il.max).contains(&n),
                "domain {} indicator {}: {}",
                d,
                j,
                n
            );
        }
        match progress.domains[d] {
            DomainStatus::Done(DomainStop::SeTarget) => {
                prop_assert!(state.estimate(d).se <= dl.se_target)
            }
            DomainStatus::Done(DomainStop::MaxItems) => prop_assert_eq!(count, dl.max_items),
            DomainStatus::Done(DomainStop::BankExhausted) => {
                let left = domain.items.iter().any(|&i| {
                    let j = bank.place(i).indicator;
                    !state.is_given(i) && state.indicator_count(d, j) < dl.indicators[j].max
                });
                prop_assert!(!left);
                prop_assert!(state.estimate(d).se > dl.se_target);
            }
            DomainStatus::Open => prop_assert_eq!(reason, StopReason::MaxItems),
        }
    }
    let mut given: Vec<usize> = state.steps().iter().map(|s| s.item).collect();
    given.sort_unstable();
    given.dedup();
    prop_assert_eq!(given.len(), state.total());
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 400, failure_persistence: None, ..Config::default() })]

    #[test]
    fn constraints_and_stopping_rules_hold_for_every_person(
        layout in layout(),
        bank_seed in any::<u64>(),
        settings in settings(),
        kind in selector(),
        seed in any::<u64>(),
    ) {
        // Limits the bank cannot meet are refused (and tested elsewhere).
        let Ok(test) = AdaptiveTest::new(bank(&layout, bank_seed), settings) else {
            return Ok(());
        };
        for person_seed in seed..seed.saturating_add(4) {
            person(&test, kind, person_seed)?;
        }
    }
}

/// The generated settings are accepted often enough for the property to
/// test something.
#[test]
fn most_generated_settings_are_usable() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (layout(), any::<u64>(), settings());
    let usable = (0..400)
        .filter(|_| {
            let (layout, seed, settings) = strategy.new_tree(&mut runner).unwrap().current();
            settings.check(&bank(&layout, seed)).is_ok()
        })
        .count();
    eprintln!("{usable} of 400 generated settings usable");
    assert!(usable >= 100, "{usable} of 400");
}
