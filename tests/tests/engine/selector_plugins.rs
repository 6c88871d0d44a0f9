//! Selector plugins through the ABI: the bundled `mfi` and `kl` choose as
//! the in-process selectors do, and every fault of a selector (a panic, a
//! hang, a refusal, an item given already, outside the bank or not offered)
//! fails the step with the plugin's name, leaves the test's state as it was
//! and lets the test go on with the built-in rule.

use ikd_cat::simulation::{SimulatedBank, StudyOptions, run_study};
use ikd_cat::{
    AdaptiveTest, Bank, BankItem, KullbackLeibler, MaxInformation, Next, SelectionError, Selector,
    Settings,
};
use ikd_core::host::{PluginHost, PluginSearch, PluginSelector};
use ikd_irt::{Item, Model};
use ikd_tests::{built_plugin, fixture_dir, install_plugin, workspace};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::{Duration, Instant};

/// A host with one plugin installed: a bundled one (`plugins/<dir>`) or a fixture.
fn host_with(manifest_dir: &std::path::Path, package: &str) -> PluginHost {
    let root = tempfile::tempdir().expect("temp dir").keep();
    install_plugin(&root, manifest_dir, &built_plugin(package));
    PluginHost::discover(&PluginSearch {
        dirs: vec![root],
        ..Default::default()
    })
}

fn bundled(dir: &str, package: &str, name: &str, test: &AdaptiveTest) -> PluginSelector {
    let host = host_with(&workspace().join("plugins").join(dir), package);
    let plugin = host
        .get(name)
        .unwrap_or_else(|| panic!("{name}: {:?}", host.entries()));
    PluginSelector::create(plugin.clone(), test, Duration::from_secs(5)).expect("instance")
}

fn simulated_test(randomesque: usize) -> AdaptiveTest {
    let bank = SimulatedBank {
        items: 60,
        domains: 2,
        indicators_per_domain: 3,
        model: Model::Graded,
        categories: 4,
    }
    .generate(11)
    .expect("bank");
    let settings = Settings {
        se_target: 0.35,
        randomesque,
        ..Settings::default()
    };
    AdaptiveTest::new(bank, settings).expect("settings")
}

/// Every decision of one person's test, answering `answer(item)`.
fn decisions(
    test: &AdaptiveTest,
    selector: &dyn Selector,
    seed: u64,
    answer: impl Fn(usize) -> u8,
) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut state = test.start();
    while let Next::Item(item) = test.next(&state, selector, &mut rng).expect("a decision") {
        test.record(&mut state, item, answer(item)).expect("answer");
    }
    state.administered().to_vec()
}

#[test]
fn bundled_selector_plugins_choose_exactly_as_the_in_process_selectors() {
    let test = simulated_test(1);
    let pairs: [(PluginSelector, Box<dyn Selector>); 2] = [
        (
            bundled("selector-mfi", "ikd-selector-mfi", "mfi", &test),
            Box::new(MaxInformation::new(1)),
        ),
        (
            bundled("selector-kl", "ikd-selector-kl", "kl", &test),
            Box::new(KullbackLeibler::new(1, test.settings().kl_radius)),
        ),
    ];
    for (plugin, in_process) in &pairs {
        let mut steps = 0;
        for person in 0..25u64 {
            // A person somewhere between low and high: answers rise with the item's position.
            let answer = |item: usize| ((item as u64 * 7 + person * 3) % 4) as u8;
            let through_abi = decisions(&test, plugin, person, answer);
            let direct = decisions(&test, in_process.as_ref(), person, answer);
            assert_eq!(through_abi, direct, "{} person {person}", plugin.name());
            steps += direct.len();
        }
        assert!(steps > 100, "{steps} decisions compared");
    }
}

#[test]
fn a_simulation_study_through_the_plugin_reports_what_the_in_process_study_does() {
    let test = simulated_test(1);
    let plugin = bundled("selector-mfi", "ikd-selector-mfi", "mfi", &test);
    let options = StudyOptions {
        persons: 200,
        seed: 2025,
    };
    let report = |selector: &dyn Selector| {
        let mut json = serde_json::to_value(run_study(&test, selector, &options).expect("study"))
            .expect("json");
        json.as_object_mut().unwrap().remove("seconds");
        json
    };
    assert_eq!(report(&plugin), report(&MaxInformation::new(1)));
}

#[test]
fn randomesque_through_the_plugin_is_reproducible_for_a_seed() {
    let test = simulated_test(4);
    let plugin = bundled("selector-mfi", "ikd-selector-mfi", "mfi", &test);
    let answer = |item: usize| (item % 3) as u8;
    let first = decisions(&test, &plugin, 77, answer);
    assert_eq!(decisions(&test, &plugin, 77, answer), first);
    let others: Vec<Vec<usize>> = (0..5)
        .map(|s| decisions(&test, &plugin, s, answer))
        .collect();
    assert!(
        others.iter().any(|d| d != &first),
        "randomesque 4 should vary with the seed"
    );
}

/// A two-domain bank whose first domain's code tells the fixture how to misbehave.
fn faulty(fault: &str, deadline: Duration) -> (AdaptiveTest, PluginSelector, PluginHost) {
    let items = (0..8)
        .map(|i| {
            let id = format!("q{i}");
            BankItem {
                irt: Item::new(
                    &id,
                    Model::TwoPl,
                    1.0 + 0.1 * i as f64,
                    vec![0.2 * i as f64 - 0.7],
                )
                .unwrap(),
                id,
                domain: if i < 4 { fault.into() } else { "other".into() },
                indicator: "i".into(),
            }
        })
        .collect();
    let test = AdaptiveTest::new(Bank::new(items).unwrap(), Settings::default()).unwrap();
    let host = host_with(
        &fixture_dir("faulty-selector"),
        "ikd-fixture-faulty-selector",
    );
    let plugin = host.get("faulty-selector").expect("loaded").clone();
    let selector = PluginSelector::create(plugin, &test, deadline).expect("instance");
    (test, selector, host)
}

/// The step fails with the plugin's name and a message containing `why`;
/// the state is untouched and the built-in rule can take over.
fn assert_contained(test: &AdaptiveTest, selector: &PluginSelector, given: &[usize], why: &str) {
    let mut state = test.start();
    for &item in given {
        test.record(&mut state, item, 1).unwrap();
    }
    let before = state.clone();
    let mut rng = StdRng::seed_from_u64(1);
    match test.next(&state, selector, &mut rng) {
        Err(SelectionError::Fault { selector, message }) => {
            assert_eq!(selector, "faulty-selector");
            assert!(message.contains("faulty-selector"), "{message}");
            assert!(message.contains(why), "{message} lacks {why:?}");
        }
        other => panic!("expected a fault ({why}), got {other:?}"),
    }
    assert_eq!(state, before, "a failed step leaves the state as it was");
    let fallback = test.next(&state, &MaxInformation::new(1), &mut rng);
    assert!(matches!(fallback, Ok(Next::Item(_))), "{fallback:?}");
}

#[test]
fn a_panicking_selector_fails_the_step_and_is_disabled() {
    let (test, selector, host) = faulty("panic", Duration::from_secs(5));
    assert_contained(&test, &selector, &[], "panicked");
    assert!(host.get("faulty-selector").unwrap().is_poisoned());
    assert_contained(&test, &selector, &[], "disabled");
}

#[test]
fn a_hanging_selector_misses_its_deadline_and_is_disabled() {
    let (test, selector, host) = faulty("hang", Duration::from_millis(200));
    let start = Instant::now();
    assert_contained(&test, &selector, &[], "did not answer within 200ms");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(host.get("faulty-selector").unwrap().is_poisoned());
    // Later calls fail at once instead of waiting behind the stuck call.
    let start = Instant::now();
    assert_contained(&test, &selector, &[], "disabled");
    assert!(
        start.elapsed() < Duration::from_millis(150),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_refusing_selector_fails_the_step_but_stays_enabled() {
    let (test, selector, host) = faulty("refuse", Duration::from_secs(5));
    assert_contained(&test, &selector, &[], "refuses on purpose");
    assert!(!host.get("faulty-selector").unwrap().is_poisoned());
}

#[test]
fn a_reply_given_already_is_a_fault() {
    let (test, selector, _host) = faulty("given-again", Duration::from_secs(5));
    let mut state = test.start();
    let mut rng = StdRng::seed_from_u64(1);
    // The first call, with nothing given, is correct.
    let Ok(Next::Item(first)) = test.next(&state, &selector, &mut rng) else {
        panic!("the first decision works")
    };
    test.record(&mut state, first, 1).unwrap();
    assert_contained(
        &test,
        &selector,
        &[first],
        "'q0', which has been given already",
    );
}

#[test]
fn a_reply_outside_the_bank_is_a_fault() {
    let (test, selector, _host) = faulty("outside-bank", Duration::from_secs(5));
    assert_contained(
        &test,
        &selector,
        &[],
        "item 13, which is not in the bank of 8 items",
    );
}

#[test]
fn a_reply_not_among_the_candidates_is_a_fault() {
    let (test, selector, _host) = faulty("not-candidate", Duration::from_secs(5));
    // Sequential order offers the first domain's items; the fixture answers one of the other's.
    assert_contained(
        &test,
        &selector,
        &[],
        "'q4', which is not one of the 4 candidates",
    );
}
