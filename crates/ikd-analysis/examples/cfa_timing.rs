//! Times a confirmatory factor analysis the size of the IKD instrument:
//! 60 items in 5 correlated domains of 12, 100 000 respondents.
//!
//! ```text
//! cargo run --release -p ikd-analysis --example cfa_timing [-- --csv PATH]
//! ```
//!
//! With `--csv PATH` the simulated answers are also written to PATH, for
//! `tests/reference/cfa-timing.R` to time lavaan on the same data. The data
//! are generated deterministically (SplitMix64, Box–Muller), so every run
//! and both programs see the same numbers.

use ikd_analysis::ItemMatrix;
use ikd_analysis::cfa::{CfaModel, CfaOptions, Factor, SampleCovariance, fit_cfa};
use ikd_analysis::composite::factor_omega;
use std::io::Write;
use std::time::Instant;

const RESPONDENTS: usize = 100_000;
const DOMAINS: usize = 5;
const ITEMS_PER_DOMAIN: usize = 12;

/// SplitMix64 (Steele, Lea & Flood 2014): a fixed, documented stream.
struct Stream(u64);

impl Stream {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box–Muller, one of the pair).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Domains correlated 0.5 through a general factor (√0.5 each), items
/// loading 0.5–0.8 on their domain, cut into five ordered categories.
fn simulate() -> ItemMatrix {
    let mut rng = Stream(2025);
    let p = DOMAINS * ITEMS_PER_DOMAIN;
    let cuts = [-1.3, -0.5, 0.3, 1.1];
    let mut values = Vec::with_capacity(RESPONDENTS * p);
    for _ in 0..RESPONDENTS {
        let general = rng.normal();
        let domains: Vec<f64> = (0..DOMAINS)
            .map(|_| 0.5f64.sqrt() * general + 0.5f64.sqrt() * rng.normal())
            .collect();
        for (d, eta) in domains.iter().enumerate() {
            for i in 0..ITEMS_PER_DOMAIN {
                let lambda = 0.5 + 0.1 * ((i + d) % 4) as f64;
                let y = lambda * eta + (1.0 - lambda * lambda).sqrt() * rng.normal();
                values.push(1.0 + cuts.iter().filter(|&&c| y > c).count() as f64);
            }
        }
    }
    ItemMatrix::new(RESPONDENTS, p, values)
}

fn write_csv(m: &ItemMatrix, path: &str) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let names: Vec<String> = (0..m.items()).map(|i| format!("y{}", i + 1)).collect();
    writeln!(out, "{}", names.join(","))?;
    for r in 0..m.persons() {
        let row: Vec<String> = m.row(r).iter().map(|x| format!("{x}")).collect();
        writeln!(out, "{}", row.join(","))?;
    }
    out.flush()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = simulate();
    if let Some(i) = args.iter().position(|a| a == "--csv") {
        write_csv(&data, &args[i + 1]).expect("writing the CSV");
    }
    let model = CfaModel::new(
        (0..DOMAINS)
            .map(|d| Factor {
                name: format!("D{}", d + 1),
                items: (d * ITEMS_PER_DOMAIN..(d + 1) * ITEMS_PER_DOMAIN).collect(),
            })
            .collect(),
    )
    .expect("a valid model");

    let started = Instant::now();
    let s = SampleCovariance::from_complete_cases(&data);
    let covariance_time = started.elapsed();

    let options = CfaOptions::default();
    let mut fit_times = Vec::new();
    let mut fit = None;
    for _ in 0..5 {
        let started = Instant::now();
        fit = Some(fit_cfa(&s, &model, &options).expect("a fit"));
        fit_times.push(started.elapsed());
    }
    fit_times.sort();
    let fit = fit.unwrap();
    let m = &fit.fit;
    println!(
        "{RESPONDENTS} respondents × {} items, {DOMAINS} factors, {} parameters",
        data.items(),
        model.parameters()
    );
    println!(
        "covariance matrix: {:.1} ms",
        covariance_time.as_secs_f64() * 1e3
    );
    println!(
        "CFA fit: median {:.1} ms of 5 (min {:.1}), {} iterations, converged {}",
        fit_times[2].as_secs_f64() * 1e3,
        fit_times[0].as_secs_f64() * 1e3,
        fit.iterations,
        fit.converged
    );
    println!(
        "chi2 {:.3} on {} df, CFI {:.4}, TLI {:.4}, RMSEA {:.4}, SRMR {:.4}",
        m.chi_square,
        m.df,
        m.cfi,
        m.tli.unwrap_or(f64::NAN),
        m.rmsea,
        m.srmr
    );
    println!(
        "first loading {:.6}, phi(2,1) {:.6}, omega total {:.6}",
        fit.loadings[0],
        fit.factor_correlation(1, 0),
        factor_omega(&fit, &s).total
    );
}
