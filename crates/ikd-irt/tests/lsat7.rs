//! LSAT7 (Bock & Lieberman, 1970; 1000 examinees, 5 items) against published
//! estimates from R's mirt.
//!
//! Sources (all from the mirt package, Chalmers 2012, whose defaults we share:
//! 61 nodes on [−6, 6], N(0, 1) latent density):
//! * `coef(mirt(expand.table(LSAT7), 1))`, the LSAT7 example of mirt's
//!   documentation (TOL 1e−4, Ramsay acceleration): logLik −2658.805,
//!   a = 0.988 1.081 1.706 0.765 0.736, d = 1.856 0.808 1.804 0.486 1.855.
//! * mirt's test suite, `tests/testthat/test-01-mirtOne.R` (`modm1`,
//!   `SE.type = 'SEM'`, which tightens TOL to 1e−5): estimates to 4 decimals
//!   with 95% intervals, the EAP, MAP and EAP-sum scores quoted below, and the
//!   common-slope model (`CONSTRAIN = (1-5, a1)`, `modm4`, crossprod SEs) with
//!   its ML scores.
//!
//! Tolerances are fractions of the published standard errors (SE = interval
//! width / 3.92): a difference of a few percent of an SE is far below the
//! sampling error, yet wider than the rounding of the published values.

mod common;

use common::{lsat7, lsat7_patterns};
use ikd_irt::*;

/// (a, a_lo, a_hi, d, d_lo, d_hi) per item: mirt `modm1` (SEM run).
const PUBLISHED_2PL: [(f64, f64, f64, f64, f64, f64); 5] = [
    (0.9876, 0.6367, 1.3384, 1.8559, 1.5978, 2.1139),
    (1.0808, 0.7604, 1.4013, 0.8080, 0.6335, 0.9825),
    (1.7075, 1.0868, 2.3281, 1.8052, 1.4028, 2.2076),
    (0.7650, 0.5065, 1.0235, 0.4860, 0.3114, 0.6606),
    (0.7357, 0.4246, 1.0467, 1.8545, 1.6332, 2.0757),
];

/// mirt's documented default run (3 decimals).
const DOCUMENTED_2PL: [(f64, f64); 5] = [
    (0.988, 1.856),
    (1.081, 0.808),
    (1.706, 1.804),
    (0.765, 0.486),
    (0.736, 1.855),
];

const PUBLISHED_LOGLIK_2PL: f64 = -2658.805;

/// Common slope (`modm4`): a with its interval, then (d, lo, hi) per item.
const PUBLISHED_COMMON_SLOPE: (f64, f64, f64) = (1.011, 0.885, 1.138);
const PUBLISHED_COMMON_D: [(f64, f64, f64); 5] = [
    (1.868, 1.670, 2.067),
    (0.791, 0.631, 0.951),
    (1.461, 1.277, 1.644),
    (0.521, 0.367, 0.676),
    (1.993, 1.793, 2.193),
];

fn se(lo: f64, hi: f64) -> f64 {
    (hi - lo) / (2.0 * 1.959_964)
}

fn fit(model: Model, tol: f64) -> Calibration {
    let options = CalibrationOptions {
        tol,
        ..CalibrationOptions::new(model)
    };
    let fit = calibrate(&lsat7(), &options).unwrap();
    assert!(fit.converged);
    fit
}

#[test]
fn data_match_the_published_sum_score_counts() {
    // mirt's EAP-sum output lists the observed sum-score counts.
    let data = lsat7();
    assert_eq!(data.persons(), 1000);
    let mut counts = [0usize; 6];
    for p in 0..1000 {
        counts[data.person(p).iter().map(|&x| x as usize).sum::<usize>()] += 1;
    }
    assert_eq!(counts, [12, 40, 114, 205, 321, 308]);
}

/// Tight convergence against the SEM run (TOL 1e−5): within 2% of an SE.
#[test]
fn two_pl_matches_mirt() {
    let fit = fit(Model::TwoPl, 1e-6);
    assert!(
        (fit.loglik - PUBLISHED_LOGLIK_2PL).abs() < 1e-3,
        "{}",
        fit.loglik
    );
    for (item, &(a, a_lo, a_hi, d, d_lo, d_hi)) in fit.bank.items().iter().zip(&PUBLISHED_2PL) {
        let (ours_a, ours_d) = (item.a(), item.d()[0]);
        assert!(
            (ours_a - a).abs() <= 0.02 * se(a_lo, a_hi),
            "{}: a {ours_a} vs {a}",
            item.name()
        );
        assert!(
            (ours_d - d).abs() <= 0.02 * se(d_lo, d_hi),
            "{}: d {ours_d} vs {d}",
            item.name()
        );
        // The IRT metric: b = −d/a (mirt's IRTpars b for item 1 is −1.879).
        assert_eq!(item.b(), vec![-ours_d / ours_a]);
    }
    assert!((fit.bank.items()[0].b()[0] + 1.879).abs() < 2e-3);
}

/// mirt's own defaults (TOL 1e−4) on both sides: within 10% of an SE; both
/// stop short of the exact maximum by about 1e−3.
#[test]
fn two_pl_with_default_settings_matches_mirt_defaults() {
    let fit = fit(Model::TwoPl, DEFAULT_TOL);
    assert!(
        (fit.loglik - PUBLISHED_LOGLIK_2PL).abs() < 1e-3,
        "{}",
        fit.loglik
    );
    for ((item, &(a, d)), &(_, a_lo, a_hi, _, d_lo, d_hi)) in fit
        .bank
        .items()
        .iter()
        .zip(&DOCUMENTED_2PL)
        .zip(&PUBLISHED_2PL)
    {
        assert!(
            (item.a() - a).abs() <= 0.1 * se(a_lo, a_hi),
            "{}: a {} vs {a}",
            item.name(),
            item.a()
        );
        assert!(
            (item.d()[0] - d).abs() <= 0.1 * se(d_lo, d_hi),
            "{}: d {:?} vs {d}",
            item.name(),
            item.d()
        );
    }
}

/// The likelihood itself, at mirt's published (rounded) estimates: close to
/// its logLik, and not above our maximum.
#[test]
fn loglik_at_published_estimates() {
    let items = PUBLISHED_2PL
        .iter()
        .enumerate()
        .map(|(i, p)| Item::new(format!("item{}", i + 1), Model::TwoPl, p.0, vec![p.3]).unwrap())
        .collect();
    let bank = ItemBank::new(items).unwrap();
    let at_published = marginal_loglik(&bank, &lsat7(), 61).unwrap();
    assert!(
        (at_published - PUBLISHED_LOGLIK_2PL).abs() < 2e-3,
        "{at_published}"
    );
    let ours = fit(Model::TwoPl, 1e-6).loglik;
    assert!(ours >= at_published - 1e-9, "{ours} < {at_published}");
}

/// Rasch (one shared slope, θ ~ N(0, 1)) against mirt's common-slope model,
/// estimates and crossprod SEs. mirt's `itemtype = 'Rasch'` is the same model
/// with a = 1 and latent variance a² (its test checks the two likelihoods are
/// equal), so its d are these and its COV_11 is a².
#[test]
fn rasch_matches_mirt_common_slope() {
    let fit = fit(Model::Rasch, 1e-6);
    let a = fit.bank.common_slope().unwrap();
    let (pa, lo, hi) = PUBLISHED_COMMON_SLOPE;
    assert!((a - pa).abs() <= 0.02 * se(lo, hi), "a {a} vs {pa}");
    let errors = standard_errors_with(&fit.bank, &lsat7(), 61, SeMethod::CrossProduct).unwrap();
    assert!(
        (errors[0].a / se(lo, hi) - 1.0).abs() < 0.03,
        "SE(a) {} vs {}",
        errors[0].a,
        se(lo, hi)
    );
    for ((item, err), &(d, lo, hi)) in fit
        .bank
        .items()
        .iter()
        .zip(&errors)
        .zip(&PUBLISHED_COMMON_D)
    {
        assert_eq!(item.a(), a);
        assert!(
            (item.d()[0] - d).abs() <= 0.02 * se(lo, hi),
            "{}: d {:?} vs {d}",
            item.name(),
            item.d()
        );
        assert!(
            (err.d[0] / se(lo, hi) - 1.0).abs() < 0.03,
            "{}: SE(d) {} vs {}",
            item.name(),
            err.d[0],
            se(lo, hi)
        );
    }
    // Nested in the 2PL: its likelihood cannot be higher.
    assert!(fit.loglik < PUBLISHED_LOGLIK_2PL);
}

/// EAP and MAP for the first six response patterns (mirt `fscores`,
/// `full.scores = FALSE`), and EAP by sum score with expected counts.
///
/// The quoted EAP values were recorded with an older `fscores` default grid,
/// 40 nodes on [−4, 4] (`quadpts = ceiling(40/nfact^1.5)`, `seq(-4, 4, …)`),
/// so they are checked on that grid: pattern 00000 has sum score 0, and on one
/// grid its EAP must equal the EAP-sum θ for 0 — the quoted −1.8666 and
/// −1.86979 differ by 0.003, the effect of the grid. With today's default
/// (121 nodes on [−6, 6]) our EAP for 00000 is the published EAP-sum value.
#[test]
fn person_scores_match_mirt() {
    const EAP: [f64; 6] = [
        -1.8665957, -1.5266920, -1.5134024, -1.1852276, -1.0946830, -0.7666992,
    ];
    const MAP: [f64; 6] = [
        -1.8165552, -1.4946906, -1.4822982, -1.1789899, -1.0958928, -0.7951026,
    ];
    const SUM_THETA: [f64; 6] = [
        -1.86979, -1.431861, -0.9488463, -0.4131963, 0.1517289, 0.7271877,
    ];
    const SUM_SE: [f64; 6] = [
        0.6927032, 0.6838697, 0.6942298, 0.7210951, 0.758772, 0.8009335,
    ];
    const SUM_EXPECTED: [f64; 6] = [10.08994, 44.65882, 109.773, 207.7391, 319.1854, 308.5536];
    let bank = fit(Model::TwoPl, 1e-6).bank;
    let patterns = lsat7_patterns();
    let old_grid = ScoringOptions {
        method: Method::Eap,
        quadpts: 40,
        range: (-4.0, 4.0),
    };
    let eap = Scorer::new(bank.clone(), &old_grid).unwrap();
    let eap_now = Scorer::new(bank.clone(), &ScoringOptions::default()).unwrap();
    assert!((eap_now.score(&patterns[0]).unwrap().theta - SUM_THETA[0]).abs() < 1e-4);
    let map = Scorer::new(
        bank.clone(),
        &ScoringOptions {
            method: Method::Map,
            ..Default::default()
        },
    )
    .unwrap();
    for (i, pattern) in patterns.iter().take(6).enumerate() {
        let e = eap.score(pattern).unwrap();
        let m = map.score(pattern).unwrap();
        assert!(
            (e.theta - EAP[i]).abs() < 2e-3,
            "EAP {pattern:?}: {} vs {}",
            e.theta,
            EAP[i]
        );
        assert!(
            (m.theta - MAP[i]).abs() < 2e-3,
            "MAP {pattern:?}: {} vs {}",
            m.theta,
            MAP[i]
        );
        assert!(m.se < e.se + 0.05 && m.se > 0.5, "{m:?} {e:?}");
    }
    let sum = Scorer::new(
        bank,
        &ScoringOptions {
            method: Method::EapSum,
            ..Default::default()
        },
    )
    .unwrap();
    let table = sum.sum_score_table(&[true; 5]);
    for s in 0..6 {
        assert!(
            (table.theta[s] - SUM_THETA[s]).abs() < 2e-3,
            "θ({s}) {} vs {}",
            table.theta[s],
            SUM_THETA[s]
        );
        assert!(
            (table.se[s] - SUM_SE[s]).abs() < 2e-3,
            "SE({s}) {} vs {}",
            table.se[s],
            SUM_SE[s]
        );
        let expected = 1000.0 * table.probability[s];
        assert!(
            (expected - SUM_EXPECTED[s]).abs() < 0.1,
            "E({s}) {expected} vs {}",
            SUM_EXPECTED[s]
        );
    }
}

/// ML under the common-slope model (mirt `modm4`, rows 13, 34 and 40 of the
/// expanded data: patterns 00001, 00011, 00100); the all-0 and all-1
/// patterns are −∞ and +∞, as in mirt.
#[test]
fn ml_scores_match_mirt() {
    let fit = fit(Model::Rasch, 1e-6);
    let ml = Scorer::new(
        fit.bank,
        &ScoringOptions {
            method: Method::Ml,
            ..Default::default()
        },
    )
    .unwrap();
    let cases: [([u8; 5], f64); 3] = [
        ([0, 0, 0, 0, 1], -2.783489),
        ([0, 0, 0, 1, 1], -1.750890),
        ([0, 0, 1, 0, 0], -2.783489),
    ];
    for (pattern, published) in cases {
        let got = ml.score(&pattern).unwrap();
        assert!(
            (got.theta - published).abs() < 2e-3,
            "{pattern:?}: {} vs {published}",
            got.theta
        );
    }
    assert_eq!(ml.score(&[0; 5]).unwrap().theta, f64::NEG_INFINITY);
    assert_eq!(ml.score(&[1; 5]).unwrap().theta, f64::INFINITY);
}

/// Model-fit summary of the 2PL: mirt reports logLik −2658.805, AIC 5337.61
/// and BIC 5386.688 for LSAT7 (10 parameters, 1000 persons). By the
/// formulas: −2ℓ = 5317.61, + 2·10 = 5337.61, + 10·ln 1000 = 5386.688; and
/// SABIC = 5317.61 + 10·ln(1002/24) = 5354.927. The common-slope model has
/// 6 parameters.
#[test]
fn information_criteria_match_mirt() {
    let ic = fit(Model::TwoPl, DEFAULT_TOL).information_criteria();
    assert_eq!((ic.parameters, ic.persons), (10, 1000));
    assert!((ic.loglik - PUBLISHED_LOGLIK_2PL).abs() < 1e-3, "{ic:?}");
    assert!((ic.aic - 5337.61).abs() < 5e-3, "{ic:?}");
    assert!((ic.bic - 5386.688).abs() < 5e-3, "{ic:?}");
    assert!((ic.sabic - 5354.927).abs() < 5e-3, "{ic:?}");
    let rasch = fit(Model::Rasch, DEFAULT_TOL).information_criteria();
    assert_eq!(rasch.parameters, 6);
    // The 2PL's four extra slopes gain 6.1 in log-likelihood: AIC prefers
    // the 2PL (12.2 > 8), BIC the common slope (12.2 < 4·ln 1000 = 27.6).
    assert!(ic.aic < rasch.aic && ic.bic > rasch.bic, "{ic:?} {rasch:?}");
}

/// By hand: with n = 22, n* = (22 + 2)/24 = 1, so SABIC is the deviance.
#[test]
fn information_criteria_by_hand() {
    let ic = InformationCriteria::new(-100.0, 3, 22);
    assert_eq!(ic.aic, 206.0);
    assert!((ic.bic - (200.0 + 3.0 * 22f64.ln())).abs() < 1e-12);
    assert!((ic.sabic - 200.0).abs() < 1e-12);
}
