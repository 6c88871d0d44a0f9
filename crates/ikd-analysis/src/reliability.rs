//! How consistently a set of items measures one thing: Cronbach's α with an
//! interval, McDonald's ω, and the item statistics a researcher reads to see
//! which item weakens a scale.
//!
//! Everything is computed from **pairwise** covariances (each from the
//! respondents who answered both items), as R's `psych::alpha` does by default
//! (`use = "pairwise"`): with skipped items, complete cases alone would drop
//! most respondents. Items without variance are left out of the scale, as
//! `psych::alpha` does (`delete = TRUE`), and still get their statistics.
//!
//! Statistics the data cannot support — too few respondents, items answered
//! together by too few, pairwise covariances no complete data set could have
//! (`crate::limits`) — are withheld (`None`) with a [`Note`] saying why,
//! instead of being reported out of their range.
//! Definitions and the comparison with `psych`: `docs/analysis.md`.

use crate::factor::{OneFactor, one_factor};
use crate::limits::{
    MIN_ITEMS_ALPHA, MIN_ITEMS_OMEGA, MIN_PAIR_RESPONDENTS, MIN_RESPONDENTS_INTERVAL, Note,
    Statistic, Withheld,
};
use crate::matrix::{Covariance, ItemMatrix, Moments};
use crate::rng::SplitMix64;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

/// What [`reliability`] computes besides the point estimates.
#[derive(Clone, Debug, PartialEq)]
pub struct ReliabilityOptions {
    /// Confidence level of the intervals (0.95 by default).
    pub level: f64,
    /// Bootstrap replicates for a percentile interval of α; 0 (the default) for none.
    pub bootstrap: usize,
    /// Seed of the bootstrap: the same seed gives the same interval.
    pub seed: u64,
}

impl Default for ReliabilityOptions {
    fn default() -> Self {
        ReliabilityOptions {
            level: 0.95,
            bootstrap: 0,
            seed: 1,
        }
    }
}

/// A two-sided confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub level: f64,
    pub lower: f64,
    pub upper: f64,
}

/// A bootstrap percentile interval of α.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bootstrap {
    pub interval: Interval,
    /// Replicates drawn.
    pub replicates: usize,
    /// Replicates in which α was defined (the others are left out).
    pub used: usize,
    pub seed: u64,
}

/// McDonald's ω total from a one-factor model of the item correlations.
#[derive(Clone, Debug, PartialEq)]
pub struct Omega {
    /// `(Σλ)² / ((Σλ)² + Σψ)`: the share of the (model-implied) variance of
    /// the sum of standardised items that the common factor explains.
    pub total: f64,
    /// `(1ᵀR1 − Σψ) / 1ᵀR1`: the same with the *observed* variance of that
    /// sum in the denominator — `psych::omega`'s `omega.tot`. Equal to
    /// [`Omega::total`] when the model fits exactly.
    pub total_observed: f64,
    /// The fitted model (loadings in scale order).
    pub model: OneFactor,
}

/// The statistics of one item.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemStats {
    /// Respondents with a score on the item.
    pub answered: usize,
    /// `1 − answered / persons`.
    pub missing_rate: f64,
    pub mean: Option<f64>,
    /// Standard deviation (denominator n − 1).
    pub sd: Option<f64>,
    /// Whether the item is in the scale (it has a variance); an item left out
    /// has no item–rest correlation, α if deleted or loading.
    pub in_scale: bool,
    /// Corrected item–total correlation: the item against the sum of the
    /// *other* items of the scale (`psych`'s `r.drop`).
    pub item_rest: Option<f64>,
    /// α of the scale without this item.
    pub alpha_if_deleted: Option<f64>,
    /// The item's loading in the one-factor model of ω.
    pub loading: Option<f64>,
}

/// Reliability of the unit-weighted sum of a set of items.
#[derive(Clone, Debug, PartialEq)]
pub struct Reliability {
    /// Rows of the matrix.
    pub persons: usize,
    /// Persons with at least one score on the scale's items: the `n` of the Feldt interval.
    pub respondents: usize,
    /// Persons with a score on every item of the scale.
    pub complete_cases: usize,
    /// The items in the scale (those with a variance), as matrix columns.
    pub scale: Vec<usize>,
    /// Cronbach's α on the pairwise covariances (`psych`'s `raw_alpha`).
    pub alpha: Option<f64>,
    /// α of the standardised items (`psych`'s `std.alpha`): every item weighs
    /// the same whatever its score range.
    pub standardized_alpha: Option<f64>,
    /// Mean correlation between two items of the scale (`psych`'s `average_r`).
    pub average_r: Option<f64>,
    /// Feldt's analytic interval of α.
    pub feldt: Option<Interval>,
    /// The bootstrap percentile interval of α, when asked for.
    pub bootstrap: Option<Bootstrap>,
    /// McDonald's ω total (needs three items).
    pub omega: Option<Omega>,
    /// One per matrix column.
    pub items: Vec<ItemStats>,
    /// The statistics withheld (`None` above), each with its reason. A note
    /// with `item: None` for [`Statistic::ItemInScale`] concerns every item
    /// of the scale.
    pub notes: Vec<Note>,
}

impl Reliability {
    /// Why `statistic` (of `item`, for item statistics) is not reported, if it is not.
    pub fn withheld(&self, statistic: Statistic, item: Option<usize>) -> Option<&Withheld> {
        self.notes
            .iter()
            .find(|n| n.statistic == statistic && (n.item == item || n.item.is_none()))
            .map(|n| &n.reason)
    }
}

/// Cronbach's α of a covariance matrix:
/// `α = k/(k − 1) · (1 − Σ_j C_jj / Σ_jl C_jl)`.
///
/// `None` with fewer than two items, a missing entry, a sum of items
/// without variance, or a matrix that is not positive semidefinite (a
/// pairwise matrix of few respondents can be indefinite, and then α can
/// exceed 1; for a semidefinite matrix `1ᵀC1 ≤ k·tr C`, so α ≤ 1).
pub fn cronbach_alpha(c: &Covariance) -> Option<f64> {
    let k = c.k();
    if k < 2 || !c.is_finite() || c.check_positive_semidefinite().is_err() {
        return None;
    }
    let total = c.total();
    if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let k = k as f64;
    Some(k / (k - 1.0) * (1.0 - c.trace() / total))
}

/// Feldt's (1965) interval of α for `n` persons and `k` items, as in Feldt,
/// Woodruff & Salih (1987): with `F_p` the p-quantile of F(n − 1, (n − 1)(k − 1)),
/// `lower = 1 − (1 − α)·F_{1−(1−level)/2}` and `upper = 1 − (1 − α)·F_{(1−level)/2}`.
///
/// The interval assumes complete data on k parallel-enough items; with pairwise
/// covariances it is an approximation (`docs/analysis.md`). `None` for
/// α > 1, where the bounds would come out inverted. [`reliability`] asks
/// for [`MIN_RESPONDENTS_INTERVAL`] respondents as well.
pub fn feldt_interval(alpha: f64, n: usize, k: usize, level: f64) -> Option<Interval> {
    if n < 2 || k < 2 || !(alpha.is_finite() && alpha <= 1.0) || !(level > 0.0 && level < 1.0) {
        return None;
    }
    let df1 = (n - 1) as f64;
    let f = FisherSnedecor::new(df1, df1 * (k - 1) as f64).ok()?;
    let tail = (1.0 - level) / 2.0;
    Some(Interval {
        level,
        lower: 1.0 - (1.0 - alpha) * f.inverse_cdf(1.0 - tail),
        upper: 1.0 - (1.0 - alpha) * f.inverse_cdf(tail),
    })
}

/// A bootstrap percentile interval of α: persons resampled with replacement
/// `replicates` times, α recomputed on the pairwise covariances of each sample
/// (as `psych::alpha`'s `n.iter`), and the `(1 ± level)/2` quantiles taken
/// (R's default quantile, type 7). Replicates in which α is undefined are left
/// out and counted.
pub fn bootstrap_alpha(
    m: &ItemMatrix,
    replicates: usize,
    seed: u64,
    level: f64,
) -> Option<Bootstrap> {
    let n = m.persons();
    if replicates == 0 || n < 2 || !(level > 0.0 && level < 1.0) {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    // How many times each person is drawn into the sample.
    let mut draws = vec![0u32; n];
    let mut alphas = Vec::with_capacity(replicates);
    for _ in 0..replicates {
        draws.iter_mut().for_each(|w| *w = 0);
        for _ in 0..n {
            draws[rng.below(n)] += 1;
        }
        let sample = draws.iter().enumerate().map(|(p, &w)| (p, w));
        if let Some(a) = cronbach_alpha(&Moments::of_weighted_rows(m, sample).covariance()) {
            alphas.push(a);
        }
    }
    if alphas.is_empty() {
        return None;
    }
    alphas.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some(Bootstrap {
        interval: Interval {
            level,
            lower: quantile(&alphas, tail),
            upper: quantile(&alphas, 1.0 - tail),
        },
        replicates,
        used: alphas.len(),
        seed,
    })
}

/// McDonald's ω total of a correlation matrix, from a one-factor minimum
/// residual fit ([`one_factor`]). `None` with fewer than three items or a
/// missing correlation.
pub fn omega_total(r: &Covariance) -> Option<Omega> {
    let model = one_factor(r)?;
    let common = model.loadings.iter().sum::<f64>().powi(2);
    let unique: f64 = model.uniquenesses.iter().sum();
    let observed = r.total();
    Some(Omega {
        total: common / (common + unique),
        total_observed: (observed - unique) / observed,
        model,
    })
}

/// Every reliability statistic of the items of `m` (see [`Reliability`]).
pub fn reliability(m: &ItemMatrix, options: &ReliabilityOptions) -> Reliability {
    let persons = m.persons();
    let all = Covariance::pairwise(m);
    let scale: Vec<usize> = (0..m.items()).filter(|&j| all.get(j, j) > 0.0).collect();
    let mut notes: Vec<Note> = (0..m.items())
        .filter(|j| !scale.contains(j))
        .map(|item| Note {
            statistic: Statistic::ItemInScale,
            item: Some(item),
            reason: Withheld::NoVariance { item },
        })
        .collect();
    let mut note = |statistic, reason| {
        notes.push(Note {
            statistic,
            item: None,
            reason,
        })
    };
    let c = all.select(&scale);
    let k = scale.len();
    let present = |p: usize| scale.iter().filter(|&&j| m.get(p, j).is_finite()).count();
    let respondents = (0..persons).filter(|&p| present(p) > 0).count();
    let complete_cases = if k == 0 {
        0
    } else {
        (0..persons).filter(|&p| present(p) == k).count()
    };

    // α and everything computed from C need a consistent C.
    let usable = scale_support(&c, &scale);
    let alpha_result = usable
        .clone()
        .and_then(|()| cronbach_alpha(&c).ok_or(Withheld::NoTotalVariance));
    if let Err(reason) = &alpha_result {
        note(Statistic::Alpha, reason.clone());
    }
    if let Err(reason) = &usable {
        for statistic in [
            Statistic::StandardizedAlpha,
            Statistic::AverageR,
            Statistic::ItemInScale,
        ] {
            note(statistic, reason.clone());
        }
    }
    let alpha = alpha_result.clone().ok();
    let standardized = c.standardized();
    let standardized_alpha = usable
        .is_ok()
        .then(|| cronbach_alpha(&standardized))
        .flatten();
    let average_r = (usable.is_ok() && standardized.is_finite()).then(|| {
        let k = k as f64;
        (standardized.total() - k) / (k * (k - 1.0))
    });

    // The intervals need α and enough respondents.
    let interval_alpha = alpha_result.and_then(|a| {
        if respondents >= MIN_RESPONDENTS_INTERVAL {
            Ok(a)
        } else {
            Err(Withheld::TooFewRespondents {
                have: respondents,
                need: MIN_RESPONDENTS_INTERVAL,
            })
        }
    });
    let feldt = match &interval_alpha {
        Ok(a) => feldt_interval(*a, respondents, k, options.level),
        Err(reason) => {
            note(Statistic::FeldtInterval, reason.clone());
            None
        }
    };
    let sub = m.select_items(&scale);
    let bootstrap = match interval_alpha {
        _ if options.bootstrap == 0 => None,
        Ok(_) => bootstrap_alpha(&sub, options.bootstrap, options.seed, options.level),
        Err(reason) => {
            note(Statistic::BootstrapInterval, reason);
            None
        }
    };
    let omega = match omega_support(&sub, &c, &scale) {
        Ok(r) => omega_total(&r),
        Err(reason) => {
            note(Statistic::Omega, reason);
            None
        }
    };

    let items = (0..m.items())
        .map(|j| {
            let (sum, answered) = m.column(j).fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
            let mean = (answered > 0).then(|| sum / answered as f64);
            let sd = (answered > 1).then(|| all.get(j, j).sqrt());
            let position = scale.iter().position(|&s| s == j);
            let rest: Vec<usize> = (0..k).filter(|&s| Some(s) != position).collect();
            let scale_position = position.filter(|_| usable.is_ok());
            ItemStats {
                answered,
                missing_rate: if persons > 0 {
                    1.0 - answered as f64 / persons as f64
                } else {
                    0.0
                },
                mean,
                sd,
                in_scale: position.is_some(),
                item_rest: scale_position.and_then(|s| item_rest(&c, s, &rest)),
                alpha_if_deleted: scale_position.and_then(|_| cronbach_alpha(&c.select(&rest))),
                loading: scale_position.and_then(|s| omega.as_ref().map(|o| o.model.loadings[s])),
            }
        })
        .collect();

    Reliability {
        persons,
        respondents,
        complete_cases,
        scale,
        alpha,
        standardized_alpha,
        average_r,
        feldt,
        bootstrap,
        omega,
        items,
        notes,
    }
}

/// Whether the scale's covariances `c` (of the matrix columns `scale`)
/// support α and the statistics derived from C: enough items, every pair
/// answered together by enough respondents, C positive semidefinite.
fn scale_support(c: &Covariance, scale: &[usize]) -> Result<(), Withheld> {
    if c.k() < MIN_ITEMS_ALPHA {
        return Err(Withheld::TooFewItems {
            have: c.k(),
            need: MIN_ITEMS_ALPHA,
        });
    }
    pair_support(c, scale)?;
    c.check_positive_semidefinite()
}

/// The pairwise correlations ω is fitted to, when they support it: three
/// items, pairs as for α, a positive semidefinite correlation matrix.
fn omega_support(
    sub: &ItemMatrix,
    c: &Covariance,
    scale: &[usize],
) -> Result<Covariance, Withheld> {
    if c.k() < MIN_ITEMS_OMEGA {
        return Err(Withheld::TooFewItems {
            have: c.k(),
            need: MIN_ITEMS_OMEGA,
        });
    }
    pair_support(c, scale)?;
    let r = Covariance::pairwise_correlation(sub);
    r.check_positive_semidefinite()?;
    Ok(r)
}

/// Every pair of the scale answered together by [`MIN_PAIR_RESPONDENTS`].
fn pair_support(c: &Covariance, scale: &[usize]) -> Result<(), Withheld> {
    match c.fewest_pairs() {
        Some(((a, b), have)) if have < MIN_PAIR_RESPONDENTS => Err(Withheld::TooFewPairs {
            items: (scale[a], scale[b]),
            have,
            need: MIN_PAIR_RESPONDENTS,
        }),
        _ => Ok(()),
    }
}

/// `Σ_{l∈rest} C_sl / √(C_ss · Σ_{l,m∈rest} C_lm)`: the correlation of item
/// `s` with the sum of the items `rest`, from the covariances alone.
fn item_rest(c: &Covariance, s: usize, rest: &[usize]) -> Option<f64> {
    if rest.is_empty() || !c.is_finite() {
        return None;
    }
    let cross: f64 = rest.iter().map(|&l| c.get(s, l)).sum();
    let rest_var = c.select(rest).total();
    let denominator = (c.get(s, s) * rest_var).sqrt();
    // Within ±1 for a semidefinite C (the correlation of two sums of its
    // items); the clamp removes rounding beyond it.
    (denominator > 0.0).then(|| (cross / denominator).clamp(-1.0, 1.0))
}

/// R's type-7 quantile of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    const NA: f64 = f64::NAN;

    fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < tol)
    }

    /// Four persons × three items, worked by hand:
    ///
    /// ```text
    ///        i1 i2 i3 | total
    ///   p1    1  2  1 |   4
    ///   p2    2  2  3 |   7
    ///   p3    3  4  3 |  10
    ///   p4    4  4  5 |  13
    /// ```
    /// Variances (n − 1): i1 5/3, i2 4/3, i3 8/3 (sum 17/3); total: deviations
    /// ∓4.5, ∓1.5 → 45/3 = 15. α = 3/2 · (1 − (17/3)/15) = 42/45 = 0.9333….
    /// i1 against the rest (i2 + i3 = 3, 5, 7, 9): a straight line, r = 1.
    /// i2 against the rest (i1 + i3 = 2, 5, 6, 9): Σdd = 8, SS 4 and 25 → r = 0.8.
    /// Without i1: var 4/3 and 8/3, cov 4/3 → total 20/3; α = 2·(1 − 4/(20/3)) = 0.8.
    fn hand() -> ItemMatrix {
        ItemMatrix::from_rows(&[
            [1.0, 2.0, 1.0],
            [2.0, 2.0, 3.0],
            [3.0, 4.0, 3.0],
            [4.0, 4.0, 5.0],
        ])
    }

    #[test]
    fn a_small_matrix_matches_the_hand_computation() {
        let r = reliability(&hand(), &ReliabilityOptions::default());
        assert!(close(r.alpha, 42.0 / 45.0, 1e-12), "{:?}", r.alpha);
        assert!(close(r.items[0].item_rest, 1.0, 1e-12));
        assert!(close(r.items[1].item_rest, 0.8, 1e-12));
        assert!(close(r.items[0].alpha_if_deleted, 0.8, 1e-12));
        assert!(close(r.items[2].mean, 3.0, 1e-12));
        assert!(close(r.items[2].sd, (8.0f64 / 3.0).sqrt(), 1e-12));
        assert_eq!((r.respondents, r.complete_cases, r.scale.len()), (4, 4, 3));
        assert_eq!(r.items[0].missing_rate, 0.0);
        let omega = r.omega.as_ref().unwrap();
        assert!(omega.total > 0.8 && omega.total <= 1.0, "{omega:?}");
    }

    /// A published value: pingouin's `cronbach_alpha` example (15 persons ×
    /// 10 items, its dataset `cronbach_alpha`), documented as α = 0.591719 with
    /// a Feldt 95 % interval [0.195, 0.84] and checked there against R's psych.
    #[test]
    fn the_pingouin_example_gives_its_published_alpha_and_interval() {
        let columns: [[f64; 15]; 10] = [
            [3., 5., 7., 2., 6., 1., 4., 2., 6., 5., 4., 4., 5., 6., 4.],
            [2., 4., 3., 4., 5., 2., 3., 4., 5., 4., 3., 2., 5., 5., 3.],
            [4., 6., 5., 3., 6., 3., 5., 4., 5., 6., 5., 3., 6., 5., 5.],
            [1., 3., 5., 3., 5., 4., 3., 3., 5., 4., 2., 2., 2., 4., 5.],
            [4., 5., 6., 2., 4., 2., 5., 7., 1., 3., 5., 5., 3., 2., 3.],
            [5., 1., 4., 2., 4., 5., 2., 2., 6., 5., 3., 3., 3., 2., 1.],
            [1., 2., 3., 2., 4., 2., 1., 2., 5., 3., 2., 4., 2., 1., 3.],
            [4., 5., 3., 6., 6., 3., 2., 4., 2., 1., 3., 2., 4., 4., 2.],
            [3., 5., 6., 6., 7., 5., 4., 6., 3., 7., 4., 3., 4., 6., 3.],
            [2., 5., 5., 3., 5., 2., 3., 5., 2., 2., 1., 4., 5., 5., 4.],
        ];
        let rows: Vec<Vec<f64>> = (0..15)
            .map(|p| columns.iter().map(|c| c[p]).collect())
            .collect();
        let r = reliability(
            &ItemMatrix::from_rows(&rows),
            &ReliabilityOptions::default(),
        );
        assert!(close(r.alpha, 0.591719, 5e-7), "{:?}", r.alpha);
        let feldt = r.feldt.unwrap();
        assert!((feldt.lower - 0.195).abs() < 5e-4, "{feldt:?}");
        assert!((feldt.upper - 0.840).abs() < 5e-4, "{feldt:?}");
    }

    #[test]
    fn f_quantiles_match_the_tables() {
        // F tables: F_.975(10, 20) = 2.7737, F_.95(5, 10) = 3.3258,
        // F_.95(1, 10) = t_.975(10)² = 2.2281² = 4.9646, F_.05(5, 10) = 1/F_.95(10, 5) = 1/4.7351.
        let q = |p: f64, a: f64, b: f64| FisherSnedecor::new(a, b).unwrap().inverse_cdf(p);
        assert!((q(0.975, 10.0, 20.0) - 2.7737).abs() < 1e-4);
        assert!((q(0.95, 5.0, 10.0) - 3.3258).abs() < 1e-4);
        assert!((q(0.95, 1.0, 10.0) - 4.9646).abs() < 1e-4);
        assert!((q(0.05, 5.0, 10.0) - 1.0 / 4.7351).abs() < 1e-4);
        // Large samples (2000 persons × 12 items) stay accurate.
        let f = FisherSnedecor::new(1999.0, 1999.0 * 11.0).unwrap();
        assert!((f.cdf(f.inverse_cdf(0.975)) - 0.975).abs() < 1e-9);
    }

    #[test]
    fn identical_items_have_alpha_one() {
        // Ten persons: an interval needs MIN_RESPONDENTS_INTERVAL.
        let rows: Vec<[f64; 4]> = [1.0, 3.0, 2.0, 5.0, 4.0, 2.0, 1.0, 4.0, 3.0, 5.0]
            .iter()
            .map(|&x| [x; 4])
            .collect();
        let r = reliability(
            &ItemMatrix::from_rows(&rows),
            &ReliabilityOptions::default(),
        );
        assert!(close(r.alpha, 1.0, 1e-12));
        assert!(close(r.standardized_alpha, 1.0, 1e-12));
        let feldt = r.feldt.unwrap();
        assert!((feldt.lower - 1.0).abs() < 1e-12 && (feldt.upper - 1.0).abs() < 1e-12);
    }

    #[test]
    fn independent_items_have_alpha_near_zero() {
        let mut rng = SplitMix64::new(11);
        let mut uniform = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let rows: Vec<Vec<f64>> = (0..5000)
            .map(|_| (0..6).map(|_| (uniform() * 5.0).floor() + 1.0).collect())
            .collect();
        let r = reliability(
            &ItemMatrix::from_rows(&rows),
            &ReliabilityOptions {
                bootstrap: 100,
                seed: 3,
                ..Default::default()
            },
        );
        let alpha = r.alpha.unwrap();
        assert!(alpha.abs() < 0.05, "{alpha}");
        let feldt = r.feldt.unwrap();
        assert!(feldt.lower < 0.0 && 0.0 < feldt.upper, "{feldt:?}");
        let boot = r.bootstrap.unwrap();
        assert_eq!((boot.replicates, boot.used), (100, 100));
        assert!(boot.interval.lower < alpha && alpha < boot.interval.upper);
        assert!(r.omega.unwrap().total < 0.3);
    }

    /// Forty persons × four items: a common part plus noise.
    fn noisy() -> ItemMatrix {
        let mut rng = SplitMix64::new(2);
        let rows: Vec<Vec<f64>> = (0..40)
            .map(|_| {
                let common = rng.below(5) as f64;
                (0..4).map(|_| common + rng.below(3) as f64).collect()
            })
            .collect();
        ItemMatrix::from_rows(&rows)
    }

    #[test]
    fn the_bootstrap_is_reproducible_from_its_seed() {
        let options = |seed| ReliabilityOptions {
            bootstrap: 50,
            seed,
            ..Default::default()
        };
        let a = reliability(&noisy(), &options(5)).bootstrap.unwrap();
        let b = reliability(&noisy(), &options(5)).bootstrap.unwrap();
        let c = reliability(&noisy(), &options(6)).bootstrap.unwrap();
        assert_eq!(a, b);
        assert_ne!(a.interval, c.interval);
        assert!(a.interval.lower <= a.interval.upper);
    }

    /// Ten persons, one score missing; the pairwise covariance matrix is
    /// positive definite (eigenvalues 5.370, 0.517, 0.068 in R).
    fn ten_with_a_gap() -> ItemMatrix {
        ItemMatrix::from_rows(&[
            [1.0, 2.0, 1.0],
            [2.0, 2.0, 3.0],
            [3.0, 4.0, 3.0],
            [4.0, NA, 5.0],
            [2.0, 3.0, 2.0],
            [5.0, 4.0, 4.0],
            [3.0, 3.0, 4.0],
            [4.0, 5.0, 4.0],
            [1.0, 1.0, 2.0],
            [5.0, 5.0, 5.0],
        ])
    }

    /// R 4.2.2, psych 2.2.9: `a <- alpha(x)` (default `use = "pairwise"`) on
    /// [`ten_with_a_gap`] prints raw_alpha 0.942054129077, std.alpha
    /// 0.941599829821, average_r 0.843122799837 and r.drop 0.973843584313,
    /// 0.847292359433, 0.827501215549.
    #[test]
    fn missing_scores_are_handled_pairwise_as_psych_does() {
        let r = reliability(&ten_with_a_gap(), &ReliabilityOptions::default());
        assert_eq!((r.respondents, r.complete_cases), (10, 9));
        assert_eq!(r.items[1].answered, 9);
        assert!((r.items[1].missing_rate - 0.1).abs() < 1e-12);
        assert!(close(r.alpha, 0.942054129077, 1e-11), "{:?}", r.alpha);
        assert!(close(r.standardized_alpha, 0.941599829821, 1e-11));
        assert!(close(r.average_r, 0.843122799837, 1e-11));
        for (item, want) in r
            .items
            .iter()
            .zip([0.973843584313, 0.847292359433, 0.827501215549])
        {
            assert!(close(item.item_rest, want, 1e-11), "{item:?}");
        }
        assert!(r.feldt.is_some() && r.notes.is_empty(), "{:?}", r.notes);
    }

    /// The 4 × 3 hand matrix with p4's i2 missing. Pairwise, var(i2) = 4/3 and
    /// cov(i1, i2) = 1 over p1–p3 (i2 = 2, 2, 4), cov(i2, i3) = 2/3, while
    /// var(i1) = 5/3, var(i3) = 8/3 and cov(i1, i3) = 2 come from all four:
    /// the determinant is 5/3·(32/9 − 4/9) − (8/3 − 4/3) + 2·(2/3 − 8/3) = −4/27,
    /// so no data set has these covariances (R: smallest eigenvalue
    /// −0.02993903; psych still reports α = 0.846 and warns "Matrix was not
    /// positive definite"). ikd withholds α and says why.
    #[test]
    fn an_indefinite_pairwise_matrix_withholds_alpha() {
        let m = ItemMatrix::from_rows(&[
            [1.0, 2.0, 1.0],
            [2.0, 2.0, 3.0],
            [3.0, 4.0, 3.0],
            [4.0, NA, 5.0],
        ]);
        let c = Covariance::pairwise(&m);
        assert!((c.get(1, 1) - 4.0 / 3.0).abs() < 1e-12);
        assert!((c.get(0, 1) - 1.0).abs() < 1e-12);
        assert!((c.get(1, 2) - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.smallest_eigenvalue() + 0.029_939_03).abs() < 1e-8);
        let r = reliability(&m, &ReliabilityOptions::default());
        assert_eq!((r.respondents, r.complete_cases), (4, 3));
        assert!(r.alpha.is_none() && r.standardized_alpha.is_none() && r.feldt.is_none());
        assert!(
            r.items
                .iter()
                .all(|i| i.item_rest.is_none() && i.alpha_if_deleted.is_none())
        );
        let reason = r.withheld(Statistic::Alpha, None).unwrap();
        assert!(
            matches!(reason, Withheld::NotPositiveSemidefinite { smallest_eigenvalue }
                if (smallest_eigenvalue + 0.029_939_03).abs() < 1e-8),
            "{reason:?}"
        );
        assert!(r.withheld(Statistic::ItemInScale, Some(0)).is_some());
        // The item statistics that need no covariance remain.
        assert!(close(r.items[1].mean, 8.0 / 3.0, 1e-12));
    }

    #[test]
    fn items_without_variance_are_left_out_of_the_scale() {
        let m = ItemMatrix::from_rows(&[
            [1.0, 2.0, 1.0, 3.0],
            [2.0, 2.0, 3.0, 3.0],
            [3.0, 4.0, 3.0, 3.0],
            [4.0, 4.0, 5.0, 3.0],
        ]);
        let r = reliability(&m, &ReliabilityOptions::default());
        assert_eq!(r.scale, vec![0, 1, 2]);
        assert!(close(r.alpha, 42.0 / 45.0, 1e-12));
        let constant = &r.items[3];
        assert!(!constant.in_scale && constant.item_rest.is_none());
        assert_eq!((constant.mean, constant.sd), (Some(3.0), Some(0.0)));
    }

    #[test]
    fn too_little_data_gives_no_alpha() {
        let one_item = ItemMatrix::from_rows(&[[1.0], [2.0], [3.0]]);
        let r = reliability(&one_item, &ReliabilityOptions::default());
        assert!(r.alpha.is_none() && r.feldt.is_none() && r.omega.is_none());
        let empty = ItemMatrix::new(0, 3, Vec::new());
        let r = reliability(&empty, &ReliabilityOptions::default());
        assert!(r.alpha.is_none() && r.items.iter().all(|i| i.mean.is_none()));
        // Two items that no one answered together: their covariance is unknown.
        let apart = ItemMatrix::from_rows(&[[1.0, NA], [2.0, NA], [NA, 1.0], [NA, 3.0]]);
        assert!(
            reliability(&apart, &ReliabilityOptions::default())
                .alpha
                .is_none()
        );
    }
}
