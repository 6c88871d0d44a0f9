//! Parameter recovery: simulate 5000 persons from known parameters, fit, and
//! require every estimate within 4 standard errors of the truth, the SE being
//! the asymptotic one from the observed information matrix at the estimate. Under correct asymptotics each error is ≈ N(0, SE²), so a 4-SE
//! miss has probability 6e−5 per parameter: about 0.3% for a model's ~50
//! parameters. The seeds are fixed, so the test is deterministic; a real bias
//! (a wrong derivative, a wrong sign) shows up as errors of many SEs. As a
//! check that the SEs are not inflated to pass, the root mean square of the
//! standardised errors must also be near 1 (below 1.6).

mod common;

use common::simulate;
use ikd_irt::*;

fn check(truth: Vec<Item>, model: Model, seed: u64) {
    let data = simulate(&truth, 5000, seed);
    let options = CalibrationOptions {
        tol: 1e-6,
        ..CalibrationOptions::new(model)
    };
    let fit = calibrate(&data, &options).unwrap();
    assert!(fit.converged, "{model}: {} cycles", fit.cycles);
    let errors = standard_errors(&fit.bank, &data, CALIBRATION_QUADPTS).unwrap();
    let mut z2 = Vec::new();
    for ((est, tru), se) in fit.bank.items().iter().zip(&truth).zip(&errors) {
        let pairs = std::iter::once((est.a(), tru.a(), se.a)).chain(
            est.d()
                .iter()
                .zip(tru.d())
                .zip(&se.d)
                .map(|((e, t), s)| (*e, *t, *s)),
        );
        for (e, t, s) in pairs {
            let z = (e - t) / s;
            assert!(
                z.abs() < 4.0,
                "{model} {}: estimate {e:.4}, truth {t:.4}, SE {s:.4} (z = {z:.2})",
                est.name()
            );
            z2.push(z * z);
        }
    }
    let rms = (z2.iter().sum::<f64>() / z2.len() as f64).sqrt();
    assert!(
        rms < 1.6 && rms > 0.4,
        "{model}: RMS of standardised errors {rms}"
    );
}

fn graded(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            let shift = 1.0 - 2.0 * t;
            let d = vec![2.4 + shift, 0.9 + shift, -0.6 + shift, -2.2 + shift];
            Item::new(format!("g{i}"), Model::Graded, 0.8 + 1.4 * t, d).unwrap()
        })
        .collect()
}

#[test]
fn graded_response_model() {
    check(graded(10), Model::Graded, 11);
}

#[test]
fn generalized_partial_credit_model() {
    let truth = (0..10)
        .map(|i| {
            let t = i as f64 / 9.0;
            // d_k = −a·Σ b_v with step difficulties b = (−1.2, 0, 1.1) + shift.
            let a = 0.6 + 1.2 * t;
            let shift = 0.8 - 1.6 * t;
            let b = [-1.2 + shift, shift, 1.1 + shift];
            let d = vec![-a * b[0], -a * (b[0] + b[1]), -a * (b[0] + b[1] + b[2])];
            Item::new(format!("p{i}"), Model::PartialCredit, a, d).unwrap()
        })
        .collect();
    check(truth, Model::PartialCredit, 12);
}

#[test]
fn two_parameter_logistic() {
    let truth = (0..15)
        .map(|i| {
            let t = i as f64 / 14.0;
            Item::new(
                format!("t{i}"),
                Model::TwoPl,
                0.6 + 1.5 * t,
                vec![1.8 - 3.6 * ((i * 7) % 15) as f64 / 14.0],
            )
            .unwrap()
        })
        .collect();
    check(truth, Model::TwoPl, 13);
}

#[test]
fn rasch_common_slope() {
    let truth = (0..10)
        .map(|i| {
            Item::new(
                format!("r{i}"),
                Model::Rasch,
                1.4,
                vec![2.0 - 0.45 * i as f64],
            )
            .unwrap()
        })
        .collect();
    check(truth, Model::Rasch, 14);
}

/// 3PL: 20 items, true g between 0.15 and 0.25, difficulties b from −1 to
/// 2 (where guessing is identified), calibrated with BILOG-MG's prior for 5
/// options (Beta(5, 17), mode 0.2). The SEs are those of the likelihood
/// alone, so the prior's pull only makes the check stricter; g must also
/// have moved off its start (the prior's mode) and stay clear of 0 and 1.
#[test]
fn three_parameter_logistic() {
    let n = 20;
    let truth: Vec<Item> = (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            let a = 1.0 + 1.2 * ((i * 7) % n) as f64 / (n - 1) as f64;
            let b = -1.0 + 3.0 * t;
            let g = 0.15 + 0.1 * ((i * 3) % 5) as f64 / 4.0;
            Item::three_pl(format!("m{i}"), a, -a * b, g).unwrap()
        })
        .collect();
    let data = simulate(&truth, 5000, 2024);
    let options = CalibrationOptions {
        tol: 1e-5,
        max_cycles: 3000,
        guessing_prior: GuessingPrior::for_options(5).unwrap(),
        ..CalibrationOptions::new(Model::ThreePl)
    };
    let fit = calibrate(&data, &options).unwrap();
    assert!(fit.converged, "3pl: {} cycles", fit.cycles);
    let errors = standard_errors(&fit.bank, &data, CALIBRATION_QUADPTS).unwrap();
    let mut z2 = Vec::new();
    for ((est, tru), se) in fit.bank.items().iter().zip(&truth).zip(&errors) {
        let (g, g_true, se_g) = (est.g().unwrap(), tru.g().unwrap(), se.g.unwrap());
        assert!(g > 0.02 && g < 0.6, "{}: g = {g}", est.name());
        assert!(
            (g - 0.2).abs() > 1e-6,
            "{}: g stayed at its start",
            est.name()
        );
        let triples = [
            (est.a(), tru.a(), se.a, "a"),
            (est.d()[0], tru.d()[0], se.d[0], "d"),
            (g, g_true, se_g, "g"),
        ];
        for (e, t, s, what) in triples {
            assert!(s.is_finite() && s > 0.0, "{} {what}: SE {s}", est.name());
            let z = (e - t) / s;
            assert!(
                z.abs() < 4.0,
                "3pl {} {what}: estimate {e:.4}, truth {t:.4}, SE {s:.4} (z = {z:.2})",
                est.name()
            );
            z2.push(z * z);
        }
    }
    let rms = (z2.iter().sum::<f64>() / z2.len() as f64).sqrt();
    let rms_of = |j: usize| {
        let v: Vec<f64> = z2.iter().skip(j).step_by(3).copied().collect();
        (v.iter().sum::<f64>() / v.len() as f64).sqrt()
    };
    eprintln!(
        "3pl: {} cycles, RMS of standardised errors {rms:.3} (a {:.3}, d {:.3}, g {:.3})",
        fit.cycles,
        rms_of(0),
        rms_of(1),
        rms_of(2)
    );
    assert!(
        rms < 1.6 && rms > 0.4,
        "3pl: RMS of standardised errors {rms}"
    );
}
