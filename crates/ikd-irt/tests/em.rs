//! EM must never lower the marginal log-likelihood, cycle by cycle. These
//! tests run plain EM (acceleration off); the only slack allowed is
//! floating-point noise in summing the log-likelihood: 1e−12 relative.

mod common;

use common::{lsat7, simulate};
use ikd_irt::*;

fn assert_monotone(fit: &Calibration, what: &str) {
    assert!(fit.trace.len() >= 4, "{what}: {} cycles", fit.trace.len());
    // The objective: the log-likelihood plus the log prior of 3PL asymptotes.
    assert_eq!(fit.trace.last(), Some(&(fit.loglik + fit.log_prior)));
    for (cycle, pair) in fit.trace.windows(2).enumerate() {
        let slack = 1e-12 * pair[0].abs();
        assert!(
            pair[1] >= pair[0] - slack,
            "{what}: log-likelihood fell from {} to {} after cycle {}",
            pair[0],
            pair[1],
            cycle + 1
        );
    }
    assert!(
        fit.trace[0] < fit.loglik + fit.log_prior,
        "{what}: no progress"
    );
}

fn items(model: Model, n: usize, categories: usize) -> Vec<Item> {
    (0..n)
        .map(|i| {
            let t = i as f64 / n as f64;
            let a = 0.7 + 1.3 * t;
            let d: Vec<f64> = (1..categories)
                .map(|k| {
                    let spread = 4.0 * (k as f64 - categories as f64 / 2.0) / categories as f64;
                    match model {
                        Model::Graded => -spread + 0.8 - 1.6 * t,
                        _ => 0.6 - 0.4 * k as f64 + t,
                    }
                })
                .collect();
            if model == Model::ThreePl {
                return Item::three_pl(format!("i{i}"), a, d[0] - 0.5, 0.15 + 0.1 * t).unwrap();
            }
            Item::new(
                format!("i{i}"),
                model,
                if model == Model::Rasch { 1.2 } else { a },
                d,
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn lsat7_two_pl_is_monotone() {
    let options = CalibrationOptions {
        tol: 1e-7,
        acceleration: Acceleration::None,
        ..CalibrationOptions::new(Model::TwoPl)
    };
    let fit = calibrate(&lsat7(), &options).unwrap();
    assert_eq!(fit.trace.len(), fit.cycles + 1);
    assert_monotone(&fit, "LSAT7 2PL");
}

/// SQUAREM keeps an extrapolation only if it is not less likely, so its
/// trace is monotone too; it needs fewer cycles and reaches the same
/// maximum.
#[test]
fn squarem_is_monotone_and_reaches_the_same_maximum() {
    let plain = CalibrationOptions {
        tol: 1e-7,
        acceleration: Acceleration::None,
        ..CalibrationOptions::new(Model::TwoPl)
    };
    let fast = CalibrationOptions {
        acceleration: Acceleration::Squarem,
        ..plain.clone()
    };
    let (slow, quick) = (
        calibrate(&lsat7(), &plain).unwrap(),
        calibrate(&lsat7(), &fast).unwrap(),
    );
    assert_monotone(&quick, "LSAT7 2PL, SQUAREM");
    assert!(
        quick.cycles < slow.cycles,
        "{} vs {}",
        quick.cycles,
        slow.cycles
    );
    assert!((quick.loglik - slow.loglik).abs() < 1e-8);
    for (a, b) in quick.bank.items().iter().zip(slow.bank.items()) {
        assert!((a.a() - b.a()).abs() < 1e-5 && (a.d()[0] - b.d()[0]).abs() < 1e-5);
    }
}

#[test]
fn every_model_is_monotone_with_missing_answers() {
    for (model, k) in [
        (Model::Graded, 5),
        (Model::PartialCredit, 4),
        (Model::Rasch, 3),
        (Model::TwoPl, 2),
        (Model::ThreePl, 2),
    ] {
        let truth = items(model, 8, k);
        let data = simulate(&truth, 1500, 7);
        // Knock out every 9th answer.
        let cells: Vec<u8> = data
            .cells()
            .iter()
            .enumerate()
            .map(|(j, &x)| if j % 9 == 4 { MISSING } else { x })
            .collect();
        let data = ResponseMatrix::new(data.items().to_vec(), cells).unwrap();
        let options = CalibrationOptions {
            tol: 1e-6,
            acceleration: Acceleration::None,
            max_cycles: 5000,
            ..CalibrationOptions::new(model)
        };
        let fit = calibrate(&data, &options).unwrap();
        assert!(fit.converged, "{model}");
        assert_monotone(&fit, model.name());
        if model == Model::ThreePl {
            // The prior is in the objective: the trace is not the likelihood.
            assert!(fit.log_prior != 0.0);
            let prior = GuessingPrior::default();
            let expected: f64 = fit
                .bank
                .items()
                .iter()
                .map(|i| prior.log_density(i.g().unwrap()))
                .sum();
            assert!((fit.log_prior - expected).abs() < 1e-9 * expected.abs());
        }
    }
}

/// A fixed chunking of the E-step makes results independent of threads.
#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let truth = items(Model::Graded, 6, 4);
    let data = simulate(&truth, 9000, 3);
    let options = CalibrationOptions::new(Model::Graded);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| calibrate(&data, &options).unwrap());
    let many = calibrate(&data, &options).unwrap();
    assert_eq!(one.loglik.to_bits(), many.loglik.to_bits());
    assert_eq!(one.bank, many.bank);
}

#[test]
fn non_convergence_is_reported() {
    let options = CalibrationOptions {
        max_cycles: 3,
        tol: 1e-12,
        ..CalibrationOptions::new(Model::TwoPl)
    };
    let fit = calibrate(&lsat7(), &options).unwrap();
    assert!(!fit.converged);
    assert_eq!(fit.cycles, 3);
    assert!(fit.trace.len() >= 4);
    assert!(fit.max_change >= 1e-12);
}

#[test]
fn unusable_data_is_refused_with_the_item_named() {
    let names = vec!["a".to_owned(), "b".to_owned()];
    let gap = ResponseMatrix::from_rows(
        names.clone(),
        [[Some(0), Some(0)], [Some(2), Some(1)], [Some(0), Some(1)]],
    )
    .unwrap();
    let err = calibrate(&gap, &CalibrationOptions::new(Model::Graded))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("item 'a': category 1 is never observed"),
        "{err}"
    );
    let poly = ResponseMatrix::from_rows(
        names.clone(),
        [[Some(0), Some(0)], [Some(1), Some(1)], [Some(2), Some(1)]],
    )
    .unwrap();
    let err = calibrate(&poly, &CalibrationOptions::new(Model::TwoPl))
        .unwrap_err()
        .to_string();
    assert!(err.contains("item 'a' has 3 categories"), "{err}");
    let flat = ResponseMatrix::from_rows(names, [[Some(0), Some(0)], [Some(0), Some(1)]]).unwrap();
    let err = calibrate(&flat, &CalibrationOptions::new(Model::TwoPl))
        .unwrap_err()
        .to_string();
    assert!(err.contains("item 'a': every answer is 0"), "{err}");
}
