//! Shared by the integration tests: the LSAT7 data and a simulator.

#![allow(dead_code)]

use ikd_irt::{Item, ResponseMatrix};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// LSAT7 (Bock & Lieberman, 1970) expanded from pattern counts to one row per
/// examinee, in the order of the counts file (patterns 00000, 00001, …).
pub fn lsat7() -> ResponseMatrix {
    let text = include_str!("../data/lsat7-counts.csv");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(header[5], "count");
    let mut cells = Vec::new();
    for line in lines {
        let v: Vec<u32> = line.split(',').map(|x| x.trim().parse().unwrap()).collect();
        for _ in 0..v[5] {
            cells.extend(v[..5].iter().map(|&x| x as u8));
        }
    }
    ResponseMatrix::new(header[..5].to_vec(), cells).unwrap()
}

/// The 32 LSAT7 patterns in the file's order (mirt's `tabdata` order).
pub fn lsat7_patterns() -> Vec<[u8; 5]> {
    include_str!("../data/lsat7-counts.csv")
        .lines()
        .skip(1)
        .map(|line| {
            let v: Vec<u8> = line
                .split(',')
                .take(5)
                .map(|x| x.trim().parse().unwrap())
                .collect();
            [v[0], v[1], v[2], v[3], v[4]]
        })
        .collect()
}

/// `persons` answers to `items`, θ ~ N(0, 1), from a seeded generator.
pub fn simulate(items: &[Item], persons: usize, seed: u64) -> ResponseMatrix {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cells = Vec::with_capacity(persons * items.len());
    let mut p = vec![0.0; 256];
    for _ in 0..persons {
        let theta: f64 = rng.sample(StandardNormal);
        for item in items {
            let k = item.categories();
            item.probs(theta, &mut p[..k]);
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let mut x = k - 1;
            for (cat, pk) in p[..k].iter().enumerate() {
                acc += pk;
                if u < acc {
                    x = cat;
                    break;
                }
            }
            cells.push(x as u8);
        }
    }
    let names = items.iter().map(|i| i.name().to_owned()).collect();
    ResponseMatrix::new(names, cells).unwrap()
}
