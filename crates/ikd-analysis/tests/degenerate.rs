//! Small samples and degenerate data: every statistic stays in its range or
//! is withheld with a reason (docs/analysis.md, "Small samples and
//! degenerate data").

use ikd_analysis::cfa::{CfaError, CfaModel, CfaOptions, SampleCovariance, fit_cfa};
use ikd_analysis::limits::{Statistic, Withheld};
use ikd_analysis::{Covariance, ItemMatrix, ReliabilityOptions, reliability};
use proptest::prelude::*;

const NA: f64 = f64::NAN;

/// Four respondents, two of whom skipped items — the shape of the case in
/// which `ikd analyze` used to print α = 1.03 and an item–total r above 1.
/// R 4.2.2 with psych 2.2.9 on the same matrix: `alpha(x)` gives raw_alpha
/// 1.02, r.drop 1.171080087538, 0.980580675691, 1.040531963429 and a Feldt
/// interval [1.13, 1] (inverted), warning that the matrix is not positive
/// definite; `eigen(cov(x, use = "pairwise"))` gives 5.64147726621,
/// 0.09718279785, −0.40532673073.
#[test]
fn four_respondents_with_gaps_get_reasons_not_alpha_above_one() {
    let m = ItemMatrix::from_rows(&[
        [5.0, 4.0, 4.0],
        [3.0, 2.0, 2.0],
        [4.0, NA, NA],
        [2.0, 2.0, 1.0],
    ]);
    let c = Covariance::pairwise(&m);
    assert!((c.smallest_eigenvalue() + 0.405_326_730_73).abs() < 1e-9);
    // What the old code reported, straight from C: α = 3/2·(1 − tr/total) = 1.02.
    assert!((1.5 * (1.0 - c.trace() / c.total()) - 1.02).abs() < 1e-12);

    let r = reliability(
        &m,
        &ReliabilityOptions {
            bootstrap: 100,
            ..Default::default()
        },
    );
    assert_eq!(r.alpha, None);
    assert_eq!(r.standardized_alpha, None);
    assert_eq!(r.feldt, None);
    assert_eq!(r.bootstrap, None);
    for item in &r.items {
        // The note says "item-rest r, alpha if deleted and loading": all three are withheld.
        assert_eq!(
            (item.item_rest, item.alpha_if_deleted, item.loading),
            (None, None, None)
        );
        assert!(item.mean.is_some() && item.sd.is_some());
    }
    for statistic in [
        Statistic::Alpha,
        Statistic::StandardizedAlpha,
        Statistic::FeldtInterval,
        Statistic::BootstrapInterval,
        Statistic::ItemInScale,
    ] {
        let reason = r
            .withheld(statistic, Some(0))
            .unwrap_or_else(|| panic!("{statistic:?} withheld without a reason: {:?}", r.notes));
        assert!(
            matches!(reason, Withheld::NotPositiveSemidefinite { .. }),
            "{reason:?}"
        );
    }
    let text = r.notes[0].to_string();
    assert!(
        text.starts_with("alpha: ") && text.contains("not positive semidefinite"),
        "{text}"
    );
}

/// Complete answers of four respondents: C is a proper covariance matrix, so
/// α is reported, but not its interval.
#[test]
fn four_complete_respondents_get_alpha_but_no_interval() {
    let m = ItemMatrix::from_rows(&[
        [1.0, 2.0, 1.0],
        [2.0, 2.0, 3.0],
        [3.0, 4.0, 3.0],
        [4.0, 4.0, 5.0],
    ]);
    let r = reliability(&m, &ReliabilityOptions::default());
    assert!((r.alpha.unwrap() - 42.0 / 45.0).abs() < 1e-12);
    assert_eq!(r.feldt, None);
    assert_eq!(
        r.withheld(Statistic::FeldtInterval, None),
        Some(&Withheld::TooFewRespondents { have: 4, need: 10 })
    );
}

#[test]
fn a_pair_answered_together_by_two_gets_a_reason_naming_the_items() {
    // Items 0 and 2 share only persons 1 and 2.
    let m = ItemMatrix::from_rows(&[
        [1.0, 2.0, NA],
        [2.0, 3.0, 3.0],
        [3.0, 3.0, 4.0],
        [4.0, 5.0, NA],
        [NA, 1.0, 1.0],
        [NA, 2.0, 2.0],
    ]);
    let r = reliability(&m, &ReliabilityOptions::default());
    assert_eq!(r.alpha, None);
    let reason = r.withheld(Statistic::Alpha, None).unwrap();
    assert_eq!(
        reason,
        &Withheld::TooFewPairs {
            items: (0, 2),
            have: 2,
            need: 3
        }
    );
    assert!(reason.to_string().contains("items 0 and 2"));
}

#[test]
fn an_item_without_variance_is_named() {
    let m = ItemMatrix::from_rows(&[[1.0, 3.0, 2.0], [2.0, 3.0, 1.0], [3.0, 3.0, 3.0]]);
    let r = reliability(&m, &ReliabilityOptions::default());
    let reason = r.withheld(Statistic::ItemInScale, Some(1)).unwrap();
    assert_eq!(reason, &Withheld::NoVariance { item: 1 });
    assert!(reason.to_string().contains("item 1"));
    // Two items left: no ω, and the note says how many it needs.
    assert_eq!(
        r.withheld(Statistic::Omega, None),
        Some(&Withheld::TooFewItems { have: 2, need: 3 })
    );
}

#[test]
fn a_cfa_on_too_few_respondents_or_a_constant_item_is_refused() {
    let model = CfaModel::one_factor("f", vec![0, 1, 2]).unwrap();
    let s =
        SampleCovariance::new(3, vec![1.0, 0.5, 0.5, 0.5, 1.0, 0.5, 0.5, 0.5, 1.0], 20).unwrap();
    // 6 parameters × 5 = 30 respondents needed.
    let err = fit_cfa(&s, &model, &CfaOptions::default()).unwrap_err();
    assert_eq!(err, CfaError::TooFewRespondents { have: 20, need: 30 });
    assert!(err.to_string().contains("needs at least 30"));

    let constant =
        SampleCovariance::new(3, vec![1.0, 0.5, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0, 0.0], 100).unwrap();
    let err = fit_cfa(&constant, &model, &CfaOptions::default()).unwrap_err();
    assert_eq!(err, CfaError::NoVariance { item: 2 });

    // An item that is the sum of two others: S is singular.
    let m = ItemMatrix::from_rows(
        &(0..40)
            .map(|p| {
                let (a, b) = ((p % 5) as f64, ((p * 7) % 3) as f64);
                [a, b, a + b, (p % 4) as f64]
            })
            .collect::<Vec<_>>(),
    );
    let singular = SampleCovariance::from_complete_cases(&m);
    let model = CfaModel::one_factor("f", vec![0, 1, 2, 3]).unwrap();
    let err = fit_cfa(&singular, &model, &CfaOptions::default()).unwrap_err();
    assert!(
        matches!(err, CfaError::SampleNotPositiveDefinite { .. }),
        "{err:?}"
    );
}

/// A persons × items matrix of scores 1–5 (or 0/1) with arbitrary holes.
fn sparse_matrix() -> impl Strategy<Value = ItemMatrix> {
    (2usize..14, 2usize..7).prop_flat_map(|(persons, items)| {
        (
            proptest::collection::vec(0u8..6, persons * items),
            proptest::collection::vec(0u8..100, persons * items),
            0u8..80,
        )
            .prop_map(move |(scores, holes, missing)| {
                let values = scores
                    .iter()
                    .zip(&holes)
                    .map(|(&s, &h)| if h < missing { NA } else { f64::from(s) })
                    .collect();
                ItemMatrix::new(persons, items, values)
            })
    })
}

fn in_range(x: Option<f64>, lo: f64, hi: f64) -> bool {
    x.is_none_or(|v| v >= lo - 1e-12 && v <= hi + 1e-12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever the holes, no correlation exceeds 1 in absolute value, α and
    /// its relatives stay at or below 1, intervals are ordered, and a missing
    /// α or interval comes with a reason.
    #[test]
    fn statistics_stay_in_range_under_any_missing_pattern(m in sparse_matrix()) {
        let r = Covariance::pairwise_correlation(&m);
        for j in 0..r.k() {
            for l in 0..r.k() {
                let v = r.get(j, l);
                prop_assert!(v.is_nan() || v.abs() <= 1.0, "r[{j},{l}] = {v}");
            }
        }
        let rel = reliability(&m, &ReliabilityOptions { bootstrap: 20, ..Default::default() });
        prop_assert!(in_range(rel.alpha, f64::NEG_INFINITY, 1.0), "alpha {:?}", rel.alpha);
        prop_assert!(in_range(rel.standardized_alpha, f64::NEG_INFINITY, 1.0));
        prop_assert!(in_range(rel.average_r, -1.0, 1.0), "average r {:?}", rel.average_r);
        for item in &rel.items {
            prop_assert!(in_range(item.item_rest, -1.0, 1.0), "item-rest {:?}", item.item_rest);
            prop_assert!(in_range(item.alpha_if_deleted, f64::NEG_INFINITY, 1.0));
            prop_assert!(in_range(item.loading, -1.0, 1.0));
        }
        if let Some(f) = rel.feldt {
            prop_assert!(f.lower <= f.upper && f.upper <= 1.0 + 1e-12, "{f:?}");
        } else {
            prop_assert!(rel.withheld(Statistic::FeldtInterval, None).is_some(), "{:?}", rel.notes);
        }
        if let Some(b) = rel.bootstrap {
            prop_assert!(b.interval.lower <= b.interval.upper && b.interval.upper <= 1.0 + 1e-12);
        }
        if rel.alpha.is_none() {
            prop_assert!(rel.withheld(Statistic::Alpha, None).is_some(), "{:?}", rel.notes);
        }
        if let Some(o) = &rel.omega {
            prop_assert!(o.total <= 1.0 + 1e-12 && o.total_observed <= 1.0 + 1e-12, "{o:?}");
        } else {
            prop_assert!(rel.withheld(Statistic::Omega, None).is_some(), "{:?}", rel.notes);
        }
    }
}
