//! Simulation studies end to end: reproducibility and whether the reported
//! precision is honest.

use ikd_cat::simulation::{SimulatedBank, StudyOptions, run_study};
use ikd_cat::{AdaptiveTest, MaxInformation, Settings};
use ikd_irt::Model;

fn grm_bank(items: usize) -> ikd_cat::Bank {
    SimulatedBank {
        items,
        domains: 5,
        indicators_per_domain: 3,
        model: Model::Graded,
        categories: 5,
    }
    .generate(2025)
    .unwrap()
}

#[test]
fn the_same_seed_gives_the_same_report_on_any_number_of_threads() {
    let settings = Settings {
        randomesque: 3,
        ..Settings::default()
    };
    let test = AdaptiveTest::new(grm_bank(100), settings).unwrap();
    let options = StudyOptions {
        persons: 60,
        seed: 11,
    };
    let selector = MaxInformation::new(3);
    // As JSON: empty bins have NaN statistics (null), which `==` would not equate.
    let json = |options: &StudyOptions, threads: usize| {
        let report = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_study(&test, &selector, options).unwrap());
        serde_json::to_string(&report).unwrap()
    };
    let one = json(&options, 1);
    assert_eq!(one, json(&options, 2));
    assert_ne!(
        one,
        json(
            &StudyOptions {
                seed: 12,
                ..options
            },
            2
        )
    );
}

#[test]
fn reported_se_matches_the_empirical_error_and_the_full_bank() {
    let test = AdaptiveTest::new(grm_bank(300), Settings::default()).unwrap();
    let report = run_study(
        &test,
        &MaxInformation::new(1),
        &StudyOptions {
            persons: 400,
            seed: 1,
        },
    )
    .unwrap();
    assert_eq!(report.persons, 400);
    for domain in &report.domains {
        let a = &domain.adaptive;
        // 400 persons: the RMSE is within about ±7% of the true error SD.
        assert!(
            (a.rmse / a.mean_se - 1.0).abs() < 0.2,
            "{}: rmse {} vs mean SE {}",
            domain.domain,
            a.rmse,
            a.mean_se
        );
        assert!(a.bias.abs() < 0.1, "{}: bias {}", domain.domain, a.bias);
        assert!(domain.full_bank.rmse < a.rmse);
        assert!(domain.correlation_with_full_bank > 0.9);
        assert!(domain.length.mean < domain.items as f64);
        let persons: usize = domain.stops.values().sum();
        assert_eq!(persons, 400);
    }
    let pooled: usize = report.conditional.iter().map(|row| row.persons).sum();
    assert_eq!(pooled, 400 * 5);
    assert!(report.exposure.max_rate <= 1.0 && report.exposure.max_rate > 0.0);
}
