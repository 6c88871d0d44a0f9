//! Times DIF on 60 items × 100 000 respondents × 3 regions (the figures in
//! docs/analysis.md):
//!
//! ```text
//! cargo run --release -p ikd-analysis --example dif_bench [-- PERSONS ITEMS]
//! ```
//!
//! Rasch 0/1 items for Mantel–Haenszel and partial-credit items scored 0–4
//! for the ordinal logistic regression, one item with planted DIF in each.

use ikd_analysis::ItemMatrix;
use ikd_analysis::dif::{DifOptions, Groups, logistic_dif, mantel_haenszel};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use std::time::Instant;

const REGIONS: [&str; 3] = ["Cilegon", "Gunungkidul", "Samarinda"];

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("PERSONS ITEMS"))
        .collect();
    let persons = args.first().copied().unwrap_or(100_000);
    let k = args.get(1).copied().unwrap_or(60);
    let mut rng = StdRng::seed_from_u64(42);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let mu = [0.0, -0.4, 0.3];
    let labels: Vec<&str> = (0..persons).map(|p| REGIONS[p % 3]).collect();
    let thetas: Vec<f64> = (0..persons)
        .map(|p| mu[p % 3] + normal.sample(&mut rng))
        .collect();
    let b: Vec<f64> = (0..k)
        .map(|i| -1.5 + 3.0 * i as f64 / (k - 1) as f64)
        .collect();
    let mut binary = Vec::with_capacity(persons * k);
    let mut ordinal = Vec::with_capacity(persons * k);
    for (p, theta) in thetas.iter().enumerate() {
        for (i, bi) in b.iter().enumerate() {
            let shift = if i == 7 && p % 3 == 2 { 0.6 } else { 0.0 };
            let pr = 1.0 / (1.0 + (-(theta - bi - shift)).exp());
            binary.push(if rng.random::<f64>() < pr { 1.0 } else { 0.0 });
            let mut logits = [0.0f64; 5];
            for s in 1..5 {
                logits[s] = logits[s - 1] + theta - bi - shift - (-1.2 + 0.8 * (s - 1) as f64);
            }
            let w: Vec<f64> = logits.iter().map(|l| l.exp()).collect();
            let mut u = rng.random::<f64>() * w.iter().sum::<f64>();
            let mut score = 4.0;
            for (s, ws) in w.iter().enumerate() {
                if u < *ws {
                    score = s as f64;
                    break;
                }
                u -= ws;
            }
            ordinal.push(score);
        }
    }
    let binary = ItemMatrix::new(persons, k, binary);
    let ordinal = ItemMatrix::new(persons, k, ordinal);
    let groups = Groups::from_labels(&labels);
    let options = DifOptions::default();

    let start = Instant::now();
    let mh = mantel_haenszel(&binary, &groups, "Cilegon", &options).unwrap();
    let mh_time = start.elapsed();
    let flagged: Vec<(usize, Vec<ikd_analysis::dif::DifClass>)> = mh
        .items
        .iter()
        .filter(|it| {
            it.comparisons
                .iter()
                .any(|c| c.as_ref().is_ok_and(|c| c.p_adjusted < 0.05))
        })
        .map(|it| {
            let classes: Vec<_> = it
                .comparisons
                .iter()
                .filter_map(|c| c.as_ref().ok().map(|c| c.class))
                .collect();
            (it.item, classes)
        })
        .collect();
    let item7 = mh.items[7].comparisons[1].as_ref().unwrap();
    println!(
        "Mantel-Haenszel: {persons} respondents x {k} items x 3 groups in {:.3} s \
         (items with a BH-adjusted p < 0.05, with their classes per focal region: {flagged:?}; planted item 7: delta {:.3}, class {:?})",
        mh_time.as_secs_f64(),
        item7.delta,
        item7.class
    );

    let start = Instant::now();
    let lr = logistic_dif(&ordinal, &groups, "Cilegon", &options).unwrap();
    let lr_time = start.elapsed();
    let flagged = lr
        .items
        .iter()
        .filter(|it| it.result.as_ref().is_ok_and(|d| d.both.p_adjusted < 0.05))
        .count();
    let uniform = lr
        .items
        .iter()
        .filter(|it| {
            it.result
                .as_ref()
                .is_ok_and(|d| d.uniform.p_adjusted < 0.05)
        })
        .count();
    let not_a = lr
        .items
        .iter()
        .filter(|it| {
            it.result
                .as_ref()
                .is_ok_and(|d| d.class != ikd_analysis::dif::DifClass::A)
        })
        .count();
    let iterations: usize = lr
        .items
        .iter()
        .filter_map(|it| it.result.as_ref().ok())
        .flat_map(|d| d.models.iter().map(|m| m.iterations))
        .sum();
    let item7 = lr.items[7].result.as_ref().unwrap();
    println!(
        "Ordinal logistic: {persons} respondents x {k} items x 3 groups in {:.3} s \
         ({iterations} Newton steps over {} fits; {flagged} items with a BH-adjusted p < 0.05 for any DIF, \
         {uniform} for uniform DIF, {not_a} classed B or C; planted item: uniform chi2 {:.1}, delta R2 {:.4}, class {:?})",
        lr_time.as_secs_f64(),
        3 * k,
        item7.uniform.chi_square,
        item7.delta_r2,
        item7.class
    );
}
