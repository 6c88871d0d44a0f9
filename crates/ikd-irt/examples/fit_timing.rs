//! Timing of the fit statistics on a long instrument:
//! `cargo run --release -p ikd-irt --example fit_timing [persons]`.
//! 60 items (2PL, then graded with 5 categories), 100 000 persons by
//! default, true parameters (no calibration). Prints wall time per
//! statistic; the figures are in docs/irt.md.

use ikd_irt::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Instant;

fn simulate(items: &[Item], persons: usize, seed: u64) -> ResponseMatrix {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cells = Vec::with_capacity(persons * items.len());
    let mut p = [0.0; 8];
    for _ in 0..persons {
        let theta: f64 = rng.sample(StandardNormal);
        for item in items {
            let k = item.categories();
            item.probs(theta, &mut p[..k]);
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let mut x = k - 1;
            for (c, pc) in p[..k].iter().enumerate() {
                acc += pc;
                if u < acc {
                    x = c;
                    break;
                }
            }
            cells.push(x as u8);
        }
    }
    let names = items.iter().map(|i| i.name().to_owned()).collect();
    ResponseMatrix::new(names, cells).unwrap()
}

fn time<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    println!("{what}: {:.2} s", start.elapsed().as_secs_f64());
    out
}

fn main() {
    let persons: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |a| a.parse().expect("persons"));
    let n = 60;
    let two_pl: Vec<Item> = (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            Item::new(format!("i{i}"), Model::TwoPl, 0.7 + t, vec![2.0 - 4.0 * t]).unwrap()
        })
        .collect();
    let graded: Vec<Item> = (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            let s = 1.0 - 2.0 * t;
            let d = vec![2.4 + s, 0.9 + s, -0.6 + s, -2.2 + s];
            Item::new(format!("g{i}"), Model::Graded, 0.8 + t, d).unwrap()
        })
        .collect();
    for (label, items) in [("2PL", two_pl), ("graded K=5", graded)] {
        let data = simulate(&items, persons, 1);
        let bank = ItemBank::new(items).unwrap();
        println!(
            "{label}, {n} items, {persons} persons, {} threads",
            rayon::current_num_threads()
        );
        let sx2 = time("  S-X²", || {
            s_x2(&bank, &data, &SumScoreFitOptions::default()).unwrap()
        });
        let flagged = sx2.items.iter().filter(|i| i.p_value < 0.05).count();
        println!("    items with p < 0.05: {flagged} of {n}");
        let m = time("  M2* with null model (CFI/TLI)", || {
            m2(&bank, &data, &M2Options::default()).unwrap()
        });
        println!(
            "    M2* = {:.2}, df {}, p = {:.3}, RMSEA = {:.4}, SRMSR = {:.4}, CFI = {:?}",
            m.statistic, m.df, m.p_value, m.rmsea, m.srmsr, m.cfi
        );
        let options = M2Options {
            null_model: false,
            ..M2Options::default()
        };
        time("  M2* without null model", || {
            m2(&bank, &data, &options).unwrap()
        });
        let thetas: Vec<f64> = vec![0.0; data.persons()];
        time("  infit/outfit", || {
            infit_outfit(&bank, &data, &thetas).unwrap()
        });
        time("  l_z", || person_lz(&bank, &data, &thetas).unwrap());
    }
}
