//! Reliability of the composite index, whose domains are scales of their own:
//! stratified α over the domains, and ω per factor and for the whole
//! composite from a fitted correlated-factor model.
//!
//! Cronbach's α of all the items at once treats every inter-item covariance
//! alike, so the lower covariances *between* domains pull it down although
//! the domains are meant to differ. Both coefficients here respect the
//! domain structure.

use crate::cfa::{Cfa, SampleCovariance};
use crate::limits::{MIN_ITEMS_ALPHA, MIN_PAIR_RESPONDENTS, Note, Statistic, Withheld};
use crate::matrix::Covariance;
use crate::reliability::cronbach_alpha;

/// Stratified α of a composite of strata (domains).
#[derive(Clone, Debug, PartialEq)]
pub struct StratifiedAlpha {
    /// `α_s = 1 − Σ_h σ²_h (1 − α_h) / σ²_X`.
    pub alpha: f64,
    /// α_h of each stratum.
    pub strata: Vec<f64>,
}

/// Stratified α (Cronbach, Schönemann & McKie 1965; Rajaratnam, Cronbach &
/// Gleser 1965): with `σ²_h` the variance of the sum of stratum h's items,
/// `α_h` its α and `σ²_X` the variance of the sum of all of them,
///
/// `α_s = 1 − Σ_h σ²_h (1 − α_h) / σ²_X`.
///
/// Each stratum's error variance `σ²_h(1 − α_h)` is taken from within the
/// stratum, so the covariances between strata count as true variance.
/// `c` holds the covariances of the items (e.g. [`Covariance::pairwise`]),
/// `strata` the items (columns of `c`) of each stratum.
///
/// # Errors
/// The first reason found, as a [`Note`] for [`Statistic::StratifiedAlpha`]:
/// a stratum with fewer than two items, an item without variance, a pair of
/// items answered together by fewer than [`MIN_PAIR_RESPONDENTS`] (for a
/// matrix computed from data), an indefinite C, or a total without variance.
pub fn stratified_alpha(c: &Covariance, strata: &[Vec<usize>]) -> Result<StratifiedAlpha, Note> {
    let withheld = |item, reason| Note {
        statistic: Statistic::StratifiedAlpha,
        item,
        reason,
    };
    let all: Vec<usize> = strata.iter().flatten().copied().collect();
    if let Some(&item) = all
        .iter()
        .find(|&&j| c.get(j, j).is_nan() || c.get(j, j) <= 0.0)
    {
        return Err(withheld(Some(item), Withheld::NoVariance { item }));
    }
    let whole = c.select(&all);
    let from_data = whole.fewest_pairs().is_some_and(|(_, n)| n > 0);
    if from_data
        && let Some(((a, b), have)) = whole.fewest_pairs()
        && have < MIN_PAIR_RESPONDENTS
    {
        let reason = Withheld::TooFewPairs {
            items: (all[a], all[b]),
            have,
            need: MIN_PAIR_RESPONDENTS,
        };
        return Err(withheld(None, reason));
    }
    whole
        .check_positive_semidefinite()
        .map_err(|reason| withheld(None, reason))?;
    let total = whole.total();
    if total.is_nan() || total <= 0.0 {
        return Err(withheld(None, Withheld::NoTotalVariance));
    }
    let mut error = 0.0;
    let mut alphas = Vec::with_capacity(strata.len());
    for stratum in strata {
        if stratum.len() < MIN_ITEMS_ALPHA {
            let reason = Withheld::TooFewItems {
                have: stratum.len(),
                need: MIN_ITEMS_ALPHA,
            };
            return Err(withheld(None, reason));
        }
        let block = c.select(stratum);
        let alpha =
            cronbach_alpha(&block).ok_or_else(|| withheld(None, Withheld::NoTotalVariance))?;
        error += block.total() * (1.0 - alpha);
        alphas.push(alpha);
    }
    Ok(StratifiedAlpha {
        alpha: 1.0 - error / total,
        strata: alphas,
    })
}

/// ω of the factors of a fitted model and of their composite.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorOmega {
    /// Per factor, `(Σλ)² / ((Σλ)² + Σθ)` over its items (McDonald 1999,
    /// *Test Theory: A Unified Treatment*, ch. 6; factor variance 1).
    pub per_factor: Vec<f64>,
    /// The composite of all the model's items:
    /// `1ᵀΛΦΛᵀ1 / (1ᵀΛΦΛᵀ1 + Σθ)` — the common-factor share of the
    /// model-implied variance of the unit-weighted sum, the factors'
    /// covariances included (Raykov & Shrout 2002, *Structural Equation Modeling* 9:195–212;
    /// Bentler 2009, *Psychometrika* 74:137–143).
    pub total: f64,
    /// The same common variance over the *observed* variance of the sum,
    /// `1ᵀS1`; the two agree when the model fits.
    pub total_observed: f64,
}

/// ω per factor and total from `cfa`, fitted to `s`.
///
/// With Heywood cases (negative θ) the ratios can exceed 1; they are
/// computed anyway, and [`Cfa::heywood`] says why.
pub fn factor_omega(cfa: &Cfa, s: &SampleCovariance) -> FactorOmega {
    let m = cfa.factors();
    let mut sums = vec![0.0; m];
    let mut unique = vec![0.0; m];
    for ((&f, &lambda), &theta) in cfa
        .factor_of
        .iter()
        .zip(&cfa.loadings)
        .zip(&cfa.residual_variances)
    {
        sums[f] += lambda;
        unique[f] += theta;
    }
    let per_factor = (0..m)
        .map(|f| sums[f] * sums[f] / (sums[f] * sums[f] + unique[f]))
        .collect();
    let common: f64 = (0..m)
        .flat_map(|f| (0..m).map(move |g| (f, g)))
        .map(|(f, g)| sums[f] * sums[g] * cfa.factor_correlation(f, g))
        .sum();
    let unique_total: f64 = unique.iter().sum();
    let observed: f64 = cfa
        .items
        .iter()
        .flat_map(|&i| cfa.items.iter().map(move |&j| (i, j)))
        .map(|(i, j)| s.get(i, j))
        .sum();
    FactorOmega {
        per_factor,
        total: common / (common + unique_total),
        total_observed: common / observed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::ItemMatrix;

    /// Two strata of two items, covariances worked by hand:
    ///
    /// ```text
    ///        a1  a2 | b1  b2
    ///   a1    2   1 | .5  .5
    ///   a2    1   2 | .5  .5
    ///   b1   .5  .5 |  1  .5
    ///   b2   .5  .5 | .5   1
    /// ```
    /// Stratum a: sum variance 6, α_a = 2·(1 − 4/6) = 2/3, error 6·1/3 = 2.
    /// Stratum b: sum variance 3, α_b = 2·(1 − 2/3) = 2/3, error 3·1/3 = 1.
    /// Total variance 6 + 3 + 2·(4·0.5) = 13: α_s = 1 − 3/13 = 10/13.
    /// Plain α over all four items: 4/3·(1 − 6/13) = 28/39 < 10/13.
    #[test]
    fn stratified_alpha_matches_the_hand_computation() {
        let c = Covariance::from_values(
            4,
            vec![
                2.0, 1.0, 0.5, 0.5, //
                1.0, 2.0, 0.5, 0.5, //
                0.5, 0.5, 1.0, 0.5, //
                0.5, 0.5, 0.5, 1.0,
            ],
        );
        let s = stratified_alpha(&c, &[vec![0, 1], vec![2, 3]]).unwrap();
        assert!((s.alpha - 10.0 / 13.0).abs() < 1e-14, "{s:?}");
        assert!(s.strata.iter().all(|a| (a - 2.0 / 3.0).abs() < 1e-14));
        assert!((cronbach_alpha(&c).unwrap() - 28.0 / 39.0).abs() < 1e-14);
    }

    #[test]
    fn stratified_alpha_names_what_is_missing() {
        let m = ItemMatrix::from_rows(&[
            [1.0, 2.0, 3.0, 1.0],
            [2.0, 1.0, 3.0, 2.0],
            [3.0, 3.0, 3.0, 2.0],
        ]);
        let c = Covariance::pairwise(&m);
        let err = stratified_alpha(&c, &[vec![0, 1], vec![2, 3]]).unwrap_err();
        assert_eq!(err.reason, Withheld::NoVariance { item: 2 });
        assert!(err.to_string().contains("item 2"), "{err}");
        let err = stratified_alpha(&c, &[vec![0, 1, 3], vec![]]).unwrap_err();
        assert!(matches!(err.reason, Withheld::TooFewItems { have: 0, .. }));
    }
}
