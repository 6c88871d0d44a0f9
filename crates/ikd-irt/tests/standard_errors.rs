//! Standard errors from the observed information, checked two ways.
//!
//! 1. Against the inverse of a numerical Hessian: central second differences
//!    of `marginal_loglik` (nothing shared with the analytic code but the
//!    likelihood itself), for the 2PL and the common-slope model on LSAT7 and
//!    for graded and partial credit items on simulated data: within 1e−4
//!    relative.
//! 2. Against mirt on LSAT7 (2PL, `test-01-mirtOne.R` of mirt's test suite,
//!    95% intervals, SE = width / 3.92): `SE.type = 'Richardson'` (`modm2`,
//!    a Richardson-extrapolated numerical Hessian of the observed
//!    log-likelihood, the same matrix as ours) within 1% (they differ by at
//!    most 0.2%), and `SE.type = 'SEM'` (`modm1`, the supplemented EM's
//!    approximation of it) within 20% (SEM itself is up to 16% off the
//!    Richardson values here).

mod common;

use common::{lsat7, simulate};
use ikd_irt::*;

/// The free parameters of a bank, in the order `standard_errors` uses: a
/// shared Rasch slope once, where the first Rasch item has it.
fn free_parameters(bank: &ItemBank) -> Vec<f64> {
    let mut out = Vec::new();
    let mut rasch_seen = false;
    for item in bank.items() {
        if item.model() != Model::Rasch || !rasch_seen {
            out.push(item.a());
        }
        rasch_seen |= item.model() == Model::Rasch;
        out.extend_from_slice(item.d());
    }
    out
}

/// The bank with its free parameters replaced by `free`.
fn with_free(bank: &ItemBank, free: &[f64]) -> ItemBank {
    let mut at = 0;
    let mut shared = None;
    let items = bank
        .items()
        .iter()
        .map(|item| {
            let a = if item.model() == Model::Rasch {
                *shared.get_or_insert_with(|| {
                    at += 1;
                    free[at - 1]
                })
            } else {
                at += 1;
                free[at - 1]
            };
            let d = free[at..at + item.d().len()].to_vec();
            at += d.len();
            Item::new(item.name(), item.model(), a, d).unwrap()
        })
        .collect();
    ItemBank::new(items).unwrap()
}

/// `−∂²ℓ` by central second differences of the marginal log-likelihood.
fn numerical_information(bank: &ItemBank, data: &ResponseMatrix, quadpts: usize) -> Vec<Vec<f64>> {
    let x0 = free_parameters(bank);
    let n = x0.len();
    let h = 1e-4;
    let loglik = |moves: &[(usize, f64)]| {
        let mut x = x0.clone();
        for &(j, delta) in moves {
            x[j] += delta;
        }
        marginal_loglik(&with_free(bank, &x), data, quadpts).unwrap()
    };
    let mut info = vec![vec![0.0; n]; n];
    for (a, b) in (0..n).flat_map(|a| (a..n).map(move |b| (a, b))) {
        let v =
            -(loglik(&[(a, h), (b, h)]) - loglik(&[(a, h), (b, -h)]) - loglik(&[(a, -h), (b, h)])
                + loglik(&[(a, -h), (b, -h)]))
                / (4.0 * h * h);
        info[a][b] = v;
        info[b][a] = v;
    }
    info
}

/// The diagonal of the inverse by Gauss–Jordan elimination with partial
/// pivoting (independent of the crate's Cholesky).
fn inverse_diagonal(mut m: Vec<Vec<f64>>) -> Vec<f64> {
    let n = m.len();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| m[x][col].abs().total_cmp(&m[y][col].abs()))
            .unwrap();
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let p = m[col][col];
        for j in 0..n {
            m[col][j] /= p;
            inv[col][j] /= p;
        }
        for row in 0..n {
            if row != col {
                let f = m[row][col];
                for j in 0..n {
                    m[row][j] -= f * m[col][j];
                    inv[row][j] -= f * inv[col][j];
                }
            }
        }
    }
    (0..n).map(|i| inv[i][i]).collect()
}

fn flatten(errors: &[ItemErrors], bank: &ItemBank) -> Vec<f64> {
    let mut out = Vec::new();
    let mut rasch_seen = false;
    for (e, item) in errors.iter().zip(bank.items()) {
        if item.model() != Model::Rasch || !rasch_seen {
            out.push(e.a);
        }
        rasch_seen |= item.model() == Model::Rasch;
        out.extend_from_slice(&e.d);
    }
    out
}

fn check_against_numerical_hessian(bank: &ItemBank, data: &ResponseMatrix, what: &str) {
    let quadpts = CALIBRATION_QUADPTS;
    let ours = flatten(&standard_errors(bank, data, quadpts).unwrap(), bank);
    let numeric: Vec<f64> = inverse_diagonal(numerical_information(bank, data, quadpts))
        .into_iter()
        .map(f64::sqrt)
        .collect();
    assert_eq!(ours.len(), numeric.len());
    for (j, (o, n)) in ours.iter().zip(&numeric).enumerate() {
        assert!(
            ((o - n) / n).abs() < 1e-4,
            "{what}, parameter {j}: SE {o} vs numerical {n}"
        );
    }
}

fn fit(data: &ResponseMatrix, model: Model) -> Calibration {
    let options = CalibrationOptions {
        tol: 1e-6,
        ..CalibrationOptions::new(model)
    };
    let fit = calibrate(data, &options).unwrap();
    assert!(fit.converged);
    fit
}

#[test]
fn observed_information_matches_a_numerical_hessian_on_lsat7() {
    let data = lsat7();
    check_against_numerical_hessian(&fit(&data, Model::TwoPl).bank, &data, "2pl");
    check_against_numerical_hessian(&fit(&data, Model::Rasch).bank, &data, "rasch");
}

#[test]
fn observed_information_matches_a_numerical_hessian_for_polytomous_items() {
    let truth: Vec<Item> = (0..4)
        .map(|i| {
            let s = 0.4 * i as f64 - 0.6;
            Item::new(
                format!("g{i}"),
                Model::Graded,
                0.8 + 0.3 * i as f64,
                vec![1.6 + s, 0.2 + s, -1.3 + s],
            )
            .unwrap()
        })
        .collect();
    let data = simulate(&truth, 800, 21);
    check_against_numerical_hessian(&fit(&data, Model::Graded).bank, &data, "grm");
    check_against_numerical_hessian(&fit(&data, Model::PartialCredit).bank, &data, "gpcm");
}

/// 95% intervals (lo, hi) of a and d per item.
type Intervals = [((f64, f64), (f64, f64)); 5];

/// mirt `modm2`, `SE.type = 'Richardson'`.
const RICHARDSON: Intervals = [
    ((0.6406, 1.3354), (1.5984, 2.1138)),
    ((0.7501, 1.4119), (0.6291, 0.9869)),
    ((1.0779, 2.3340), (1.4036, 2.2050)),
    ((0.5022, 1.0280), (0.3392, 0.6328)),
    ((0.4395, 1.0320), (1.6302, 2.0787)),
];

/// mirt `modm1`, `SE.type = 'SEM'`.
const SEM: Intervals = [
    ((0.6367, 1.3384), (1.5978, 2.1139)),
    ((0.7604, 1.4013), (0.6335, 0.9825)),
    ((1.0868, 2.3281), (1.4028, 2.2076)),
    ((0.5065, 1.0235), (0.3114, 0.6606)),
    ((0.4246, 1.0467), (1.6332, 2.0757)),
];

fn se((lo, hi): (f64, f64)) -> f64 {
    (hi - lo) / (2.0 * 1.959_964)
}

#[test]
fn two_pl_standard_errors_match_mirt() {
    let data = lsat7();
    let bank = fit(&data, Model::TwoPl).bank;
    let errors = standard_errors(&bank, &data, CALIBRATION_QUADPTS).unwrap();
    for (published, tolerance, what) in [(RICHARDSON, 0.01, "Richardson"), (SEM, 0.2, "SEM")] {
        for (i, (e, &(a, d))) in errors.iter().zip(&published).enumerate() {
            for (ours, theirs, name) in [(e.a, se(a), "a"), (e.d[0], se(d), "d")] {
                assert!(
                    ((ours - theirs) / theirs).abs() < tolerance,
                    "item {}: SE({name}) {ours} vs mirt {what} {theirs}",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn methods_are_named_and_observed_is_the_default() {
    assert_eq!(SeMethod::default(), SeMethod::Observed);
    assert_eq!("oakes".parse::<SeMethod>().unwrap(), SeMethod::Observed);
    assert_eq!(
        "crossprod".parse::<SeMethod>().unwrap(),
        SeMethod::CrossProduct
    );
    assert!("sem".parse::<SeMethod>().is_err());
    let data = lsat7();
    let bank = fit(&data, Model::TwoPl).bank;
    assert_eq!(
        standard_errors(&bank, &data, 61).unwrap(),
        standard_errors_with(&bank, &data, 61, SeMethod::Observed).unwrap()
    );
}
