//! Scoring and calibration speed.
//!
//! * `eap/grm_60x5`: EAP (121 nodes) for persons answering 60 graded items of
//!   5 categories, one thread: persons per second per core.
//! * `map/grm_60x5`: the same with MAP, for comparison.
//! * `calibrate/grm_5000x20x5`: MML-EM of a GRM on 5000 persons × 20 items ×
//!   5 categories with the defaults (61 nodes, TOL 1e−4), both cores.
//!
//! Run: `cargo bench -p ikd-irt --bench irt`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ikd_irt::{
    CalibrationOptions, Item, ItemBank, Method, Model, ResponseMatrix, Score, Scorer,
    ScoringOptions, calibrate,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::hint::black_box;

fn graded_items(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            let shift = 1.0 - 2.0 * t;
            let d = vec![2.4 + shift, 0.9 + shift, -0.6 + shift, -2.2 + shift];
            Item::new(format!("g{i}"), Model::Graded, 0.8 + 1.4 * t, d).unwrap()
        })
        .collect()
}

fn simulate(items: &[Item], persons: usize, seed: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cells = Vec::with_capacity(persons * items.len());
    let mut p = [0.0; 5];
    for _ in 0..persons {
        let theta: f64 = rng.sample(StandardNormal);
        for item in items {
            item.probs(theta, &mut p);
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let x = p.iter().position(|pk| {
                acc += pk;
                u < acc
            });
            cells.push(x.unwrap_or(4) as u8);
        }
    }
    cells
}

fn scoring(c: &mut Criterion) {
    let items = graded_items(60);
    let bank = ItemBank::new(items.clone()).unwrap();
    let persons = 20_000;
    let responses = simulate(&items, persons, 1);
    let mut out = vec![Score::MISSING; persons];
    let mut group = c.benchmark_group("eap");
    group.throughput(Throughput::Elements(persons as u64));
    let eap = Scorer::new(bank.clone(), &ScoringOptions::default()).unwrap();
    group.bench_function("grm_60x5", |b| {
        b.iter(|| eap.score_batch(black_box(&responses), &mut out).unwrap())
    });
    group.finish();
    let mut group = c.benchmark_group("map");
    let few = 2_000;
    group.throughput(Throughput::Elements(few as u64));
    let map = Scorer::new(
        bank,
        &ScoringOptions {
            method: Method::Map,
            ..Default::default()
        },
    )
    .unwrap();
    group.bench_function("grm_60x5", |b| {
        b.iter(|| {
            map.score_batch(black_box(&responses[..few * 60]), &mut out[..few])
                .unwrap()
        })
    });
    group.finish();
}

fn calibration(c: &mut Criterion) {
    let items = graded_items(20);
    let names = items.iter().map(|i| i.name().to_owned()).collect();
    let data = ResponseMatrix::new(names, simulate(&items, 5000, 2)).unwrap();
    let options = CalibrationOptions::new(Model::Graded);
    let fit = calibrate(&data, &options).unwrap();
    eprintln!(
        "calibrate/grm_5000x20x5: {} cycles, converged {}, loglik {:.3}",
        fit.cycles, fit.converged, fit.loglik
    );
    let mut group = c.benchmark_group("calibrate");
    group.sample_size(10);
    group.bench_function("grm_5000x20x5", |b| {
        b.iter(|| calibrate(black_box(&data), &options).unwrap())
    });
    group.finish();
}

criterion_group!(benches, scoring, calibration);
criterion_main!(benches);
