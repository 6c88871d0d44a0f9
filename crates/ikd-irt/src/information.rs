//! Test information and the conditional standard error of θ: where on the
//! scale an item bank measures precisely.
//!
//! The Fisher information of an item is `I_i(θ) = Σ_k P_k(θ)·(∂ log P_k/∂θ)²`
//! ([`crate::Item::information`]): `a²·P·(1 − P)` for a dichotomous item,
//! `a²·Var(k | θ)` for partial credit items, and Samejima's
//! `Σ_k P_k'²/P_k` for graded items (Baker & Kim, 2004, ch. 2, 8, 9). Answers
//! are conditionally independent, so the test information is the sum over
//! items, and the standard error of θ at θ is `1/√(I(θ) + prior precision)`:
//! with precision 0 the asymptotic SE of the ML estimate, with 1 (the
//! N(0, 1) prior's) the approximate posterior SD of MAP and EAP.

use crate::params::ItemBank;

/// Item and test information and the conditional SE at a set of θ values.
#[derive(Clone, Debug, PartialEq)]
pub struct InformationCurve {
    pub theta: Vec<f64>,
    /// `items[i][t]`: the information of item i at `theta[t]`.
    pub items: Vec<Vec<f64>>,
    /// The test information, the sum over items.
    pub test: Vec<f64>,
    /// `1/√(test + prior_precision)`.
    pub se: Vec<f64>,
    pub prior_precision: f64,
}

/// θ values scanned by [`ItemBank::precise_ranges`] per unit of θ before
/// bisection: a range shorter than 1/100 can be missed.
const SCAN_PER_UNIT: f64 = 100.0;

impl ItemBank {
    /// `I(θ) = Σ_i I_i(θ)`.
    pub fn test_information(&self, theta: f64) -> f64 {
        self.items().iter().map(|i| i.information(theta)).sum()
    }

    /// The conditional standard error `1/√(I(θ) + prior_precision)`
    /// (`prior_precision`: 0 for ML, 1 for the N(0, 1) prior).
    pub fn conditional_se(&self, theta: f64, prior_precision: f64) -> f64 {
        1.0 / (self.test_information(theta) + prior_precision).sqrt()
    }

    /// Item and test information and the conditional SE at every `theta`.
    pub fn information_curve(&self, theta: &[f64], prior_precision: f64) -> InformationCurve {
        let items: Vec<Vec<f64>> = self
            .items()
            .iter()
            .map(|item| theta.iter().map(|&t| item.information(t)).collect())
            .collect();
        let test: Vec<f64> = (0..theta.len())
            .map(|t| items.iter().map(|row| row[t]).sum())
            .collect();
        let se = test
            .iter()
            .map(|i| 1.0 / (i + prior_precision).sqrt())
            .collect();
        InformationCurve {
            theta: theta.to_vec(),
            items,
            test,
            se,
            prior_precision,
        }
    }

    /// The intervals of `range` where the conditional SE is at most
    /// `se_bound`, i.e. `I(θ) ≥ 1/se_bound² − prior_precision`, in
    /// increasing order. Test information need not be unimodal (graded items
    /// with spread thresholds, a mix of easy and hard items), hence a list.
    /// Found by a scan at steps of 0.01 and bisection of every crossing to
    /// 1e−10; ends that reach `range`'s ends are clipped there.
    pub fn precise_ranges(
        &self,
        se_bound: f64,
        prior_precision: f64,
        range: (f64, f64),
    ) -> Vec<(f64, f64)> {
        let needed = 1.0 / (se_bound * se_bound) - prior_precision;
        let inside = |t: f64| self.test_information(t) >= needed;
        let (lo, hi) = range;
        let steps = ((hi - lo) * SCAN_PER_UNIT).ceil().max(1.0) as usize;
        let at = |s: usize| lo + (hi - lo) * s as f64 / steps as f64;
        let mut ranges = Vec::new();
        let mut start = inside(lo).then_some(lo);
        for s in 1..=steps {
            let (previous, t) = (at(s - 1), at(s));
            match (start, inside(t)) {
                (None, true) => start = Some(crossing(&inside, previous, t)),
                (Some(from), false) => {
                    ranges.push((from, crossing(&inside, previous, t)));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(from) = start {
            ranges.push((from, hi));
        }
        ranges
    }
}

/// Bisection for the point between `a` and `b` where `inside` changes.
fn crossing(inside: &impl Fn(f64) -> bool, mut a: f64, mut b: f64) -> f64 {
    let at_a = inside(a);
    while b - a > 1e-10 {
        let mid = 0.5 * (a + b);
        if inside(mid) == at_a {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}
