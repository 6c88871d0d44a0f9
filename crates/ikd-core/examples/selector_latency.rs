//! Next-item selection through the selector plugin ABI, against the same
//! selector in-process: latency percentiles over every decision of
//! simulated adaptive tests, for issue 16's targets (p99 ≤ 1 ms on
//! IKD-ASN 2025's 60 items, ≤ 5 ms on a 2,000-item bank).
//!
//! A decision is `AdaptiveTest::next` — content balancing, then the
//! selector — timed with the wall clock; through the ABI it includes
//! encoding the request, the hand-off to the selector's thread (the
//! deadline), the plugin's decode, its selection and the reply checks.
//! Both paths see the same persons and make the same decisions.
//!
//! ```text
//! cargo build --release -p ikd-selector-mfi -p ikd-selector-kl
//! cargo run --release -p ikd-core --example selector_latency [PERSONS]
//! ```

use ikd_cat::simulation::{SimulatedBank, draw_category};
use ikd_cat::{AdaptiveTest, Bank, KullbackLeibler, MaxInformation, Next, Selector, Settings};
use ikd_core::host::{DEFAULT_SELECT_DEADLINE, PluginHost, PluginSearch, PluginSelector};
use ikd_irt::{ItemBank, Model};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::{Duration, Instant};

const INSTRUMENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../instruments/ikd-asn-2025"
);

fn main() {
    let persons: usize = std::env::args()
        .nth(1)
        .map_or(200, |n| n.parse().expect("PERSONS is a number"));
    let host = PluginHost::discover(&PluginSearch::standard(&[]));
    println!("{persons} simulated persons per row; one sample per next-item decision (wall time)");
    println!(
        "{:<34} {:>9}  {:>10} {:>10}  {:>10} {:>10} {:>10} {:>10}",
        "bank, selector", "decisions", "direct p50", "p99 µs", "ABI p50", "p99 µs", "p99.9", "max"
    );
    let settings = Settings::default();
    let banks = [
        ("ikd-asn-2025, 60 items", ikd_bank()),
        ("simulated, 2000 items", simulated_bank(2000)),
    ];
    for (name, bank) in banks {
        let test = AdaptiveTest::new(bank, settings.clone()).expect("settings");
        let direct: [(&str, Box<dyn Selector>); 2] = [
            ("mfi", Box::new(MaxInformation::new(1))),
            ("kl", Box::new(KullbackLeibler::new(1, settings.kl_radius))),
        ];
        for (plugin, in_process) in direct {
            let loaded = host
                .get(plugin)
                .unwrap_or_else(|| panic!("plugin {plugin} not loaded: build it (see above)"));
            let through_abi =
                PluginSelector::create(loaded.clone(), &test, DEFAULT_SELECT_DEADLINE)
                    .expect("selector instance");
            let (d, items_direct) = latencies(&test, in_process.as_ref(), persons);
            let (a, items_abi) = latencies(&test, &through_abi, persons);
            assert_eq!(items_direct, items_abi, "the same decisions both ways");
            let (d, a) = (Percentiles::of(d), Percentiles::of(a));
            println!(
                "{:<34} {:>9}  {:>10.1} {:>10.1}  {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                format!("{name}, {plugin}"),
                a.count,
                d.p50,
                d.p99,
                a.p50,
                a.p99,
                a.p999,
                a.max
            );
        }
    }
}

/// IKD-ASN 2025: its 60 items (instrument.toml) with the `irt` model's parameters.
fn ikd_bank() -> Bank {
    let text = std::fs::read_to_string(format!("{INSTRUMENT}/instrument.toml")).unwrap();
    let instrument: toml::Table = toml::from_str(&text).unwrap();
    let layout: Vec<(&str, &str, &str)> = instrument["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let field = |key: &str| item[key].as_str().unwrap();
            (field("id"), field("domain"), field("indicator"))
        })
        .collect();
    let file = std::fs::File::open(format!("{INSTRUMENT}/irt-params.csv")).unwrap();
    Bank::from_parameters(layout, &ItemBank::read_csv(file).unwrap()).unwrap()
}

/// 5 domains × 3 indicators of 5-category graded items (as ikd-cat's benchmarks).
fn simulated_bank(items: usize) -> Bank {
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

/// Mean, median and tail percentiles, in microseconds.
struct Percentiles {
    count: usize,
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

impl Percentiles {
    fn of(mut times: Vec<Duration>) -> Self {
        times.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let at = |q: f64| us(times[((times.len() - 1) as f64 * q).round() as usize]);
        Percentiles {
            count: times.len(),
            p50: at(0.5),
            p99: at(0.99),
            p999: at(0.999),
            max: us(*times.last().unwrap()),
        }
    }
}

/// The wall time of every `next` call while `persons` simulated persons
/// take the test, and every item given (to compare the two paths).
fn latencies(
    test: &AdaptiveTest,
    selector: &dyn Selector,
    persons: usize,
) -> (Vec<Duration>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(7);
    let (mut wall, mut given) = (Vec::new(), Vec::new());
    for _ in 0..persons {
        let truth: Vec<f64> = test
            .bank()
            .domains()
            .iter()
            .map(|_| rng.sample(StandardNormal))
            .collect();
        let mut choices = StdRng::seed_from_u64(rng.random());
        let mut state = test.start();
        loop {
            let started = Instant::now();
            let next = test.next(&state, selector, &mut choices).unwrap();
            wall.push(started.elapsed());
            let Next::Item(item) = next else { break };
            let irt = &test.bank().item(item).irt;
            let category = draw_category(irt, truth[test.bank().place(item).domain], &mut rng);
            test.record(&mut state, item, category).unwrap();
            given.push(item);
        }
    }
    (wall, given)
}
