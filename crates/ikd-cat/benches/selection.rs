//! Next-item selection and the EAP update, on IKD-ASN 2025's 60-item bank
//! and a simulated 2,000-item bank (5 domains of 400 graded items). A
//! decision is `AdaptiveTest::next`: content balancing, the domain's
//! candidates and the selector over them. Percentiles (the p99 targets):
//! `cargo run --release -p ikd-cat --example selection_latency`.

mod common;

use common::{ikd_bank, mid_test, simulated_bank, test};
use criterion::{Criterion, criterion_group, criterion_main};
use ikd_cat::{AdaptiveTest, KullbackLeibler, MaxInformation, Selector};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;

fn decisions(c: &mut Criterion, name: &str, test: &AdaptiveTest) {
    let mut group = c.benchmark_group(name);
    let mfi = MaxInformation::new(1);
    let randomesque = MaxInformation::new(5);
    let kl = KullbackLeibler::new(1, 3.0);
    let selectors: [(&str, &dyn Selector); 3] = [
        ("mfi", &mfi),
        ("mfi-randomesque5", &randomesque),
        ("kl", &kl),
    ];
    for (at, state) in [("start", test.start()), ("after 5", mid_test(test, 5))] {
        for (label, selector) in selectors {
            let mut rng = StdRng::seed_from_u64(1);
            group.bench_function(format!("next {label}, {at}"), |b| {
                b.iter(|| test.next(black_box(&state), selector, &mut rng).unwrap())
            });
        }
    }
    let state = mid_test(test, 5);
    let item = test.bank().domains()[0].items[5];
    group.bench_function("record answer (EAP update)", |b| {
        b.iter(|| {
            let mut next = state.clone();
            test.record(&mut next, black_box(item), 2).unwrap()
        })
    });
    group.finish();
}

fn selection(c: &mut Criterion) {
    decisions(c, "ikd-asn-2025 (60 items)", &test(ikd_bank()));
    decisions(c, "simulated (2000 items)", &test(simulated_bank(2000)));
}

criterion_group!(benches, selection);
criterion_main!(benches);
