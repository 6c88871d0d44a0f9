//! Infit and outfit mean squares per item (Wright & Masters 1982, *Rating
//! Scale Analysis*, ch. 5; mirt's `itemfit(fit_stats = 'infit')`).
//!
//! For person n and item i at the person's θ: expected score
//! `E = Σ_k k P_k`, variance `W = Σ_k (k − E)² P_k`, fourth central moment
//! `C = Σ_k (k − E)⁴ P_k`, residual `y = x − E`. Over the persons who
//! answered the item:
//! * outfit `= Σ (y²/W) / N` — unweighted, sensitive to unexpected answers
//!   far from the item (outliers);
//! * infit `= Σ y² / Σ W` — information-weighted, sensitive to misfit near
//!   the item's location.
//!
//! Both have expectation 1 under the model. The standardised forms use the
//! Wilson–Hilferty cube-root transformation
//! `t = (MS^{1/3} − 1)(3/q) + q/3` with `q² = Σ(C/W²)/N² − 1/N` (outfit) or
//! `Σ(C − W²)/(ΣW)²` (infit); like mirt, q is capped at √2.
//!
//! θ is the caller's: mirt uses EAP (its default `method = 'EAP'`), which
//! [`crate::Scorer`] gives. Persons with a non-finite θ (ML ±∞ for all-top
//! or all-bottom patterns, or no θ) are left out of the item's sums.

use crate::IrtError;
use crate::data::{MISSING, ResponseMatrix};
use crate::model::MAX_CATEGORIES;
use crate::params::ItemBank;

/// Infit and outfit of one item.
#[derive(Clone, Debug, PartialEq)]
pub struct InfitOutfit {
    pub infit: f64,
    pub outfit: f64,
    /// Standardised (t) forms: ≈ N(0, 1) under the model.
    pub z_infit: f64,
    pub z_outfit: f64,
    /// Persons counted: answered the item and have a finite θ.
    pub persons: usize,
}

/// Infit and outfit of every item, at `thetas` (one per person of `data`).
/// Meant for Rasch items, where they have their usual meaning; computed the
/// same way for any model.
pub fn infit_outfit(
    bank: &ItemBank,
    data: &ResponseMatrix,
    thetas: &[f64],
) -> Result<Vec<InfitOutfit>, IrtError> {
    super::check_data(bank, data)?;
    super::check_thetas(data, thetas)?;
    let n = bank.len();
    #[derive(Clone, Copy, Default)]
    struct Sums {
        z2: f64,
        y2: f64,
        w: f64,
        c_over_w2: f64,
        c_minus_w2: f64,
        persons: usize,
    }
    let mut sums = vec![Sums::default(); n];
    let mut p = [0.0; MAX_CATEGORIES];
    for (row, &theta) in data.cells().chunks_exact(n).zip(thetas) {
        if !theta.is_finite() {
            continue;
        }
        for ((item, &x), sum) in bank.items().iter().zip(row).zip(sums.iter_mut()) {
            if x == MISSING {
                continue;
            }
            let p = &mut p[..item.categories()];
            item.probs(theta, p);
            let (e, w, c) = score_moments(p);
            if w.is_nan() || w <= 0.0 {
                continue; // a θ so extreme that the answer is certain
            }
            let y = f64::from(x) - e;
            sum.z2 += y * y / w;
            sum.y2 += y * y;
            sum.w += w;
            sum.c_over_w2 += c / (w * w);
            sum.c_minus_w2 += c - w * w;
            sum.persons += 1;
        }
    }
    Ok(sums
        .iter()
        .map(|s| {
            let count = s.persons as f64;
            let outfit = s.z2 / count;
            let infit = s.y2 / s.w;
            let q_out = (s.c_over_w2 / (count * count) - 1.0 / count)
                .max(0.0)
                .sqrt()
                .min(std::f64::consts::SQRT_2);
            let q_in = (s.c_minus_w2.max(0.0).sqrt() / s.w).min(std::f64::consts::SQRT_2);
            InfitOutfit {
                infit,
                outfit,
                z_infit: wilson_hilferty(infit, q_in),
                z_outfit: wilson_hilferty(outfit, q_out),
                persons: s.persons,
            }
        })
        .collect())
}

/// `(E, W, C)`: mean, variance and fourth central moment of the category
/// score under the probabilities `p`.
pub(crate) fn score_moments(p: &[f64]) -> (f64, f64, f64) {
    let e: f64 = p.iter().enumerate().map(|(k, pk)| k as f64 * pk).sum();
    let (mut w, mut c) = (0.0, 0.0);
    for (k, pk) in p.iter().enumerate() {
        let dev2 = (k as f64 - e).powi(2);
        w += dev2 * pk;
        c += dev2 * dev2 * pk;
    }
    (e, w, c)
}

/// `(MS^{1/3} − 1)(3/q) + q/3`.
fn wilson_hilferty(mean_square: f64, q: f64) -> f64 {
    (mean_square.cbrt() - 1.0) * (3.0 / q) + q / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Item, Model};

    /// One dichotomous item, two persons, by hand. Item a = 1, d = 0 (so
    /// P = σ(θ)); θ = 0 (P = 0.5) answers 1, θ = ln 3 (P = 0.75) answers 0.
    /// Residuals 0.5 and −0.75; W = 0.25 and 0.1875.
    /// outfit = (0.25/0.25 + 0.5625/0.1875)/2 = (1 + 3)/2 = 2;
    /// infit = (0.25 + 0.5625)/(0.25 + 0.1875) = 0.8125/0.4375.
    /// For a Bernoulli, C = pq(1 − 3pq):
    /// 0.25·0.25 = 0.0625 and 0.1875·(1 − 0.5625) = 0.08203125.
    #[test]
    fn two_persons_by_hand() {
        let bank =
            ItemBank::new(vec![Item::new("i", Model::TwoPl, 1.0, vec![0.0]).unwrap()]).unwrap();
        let data = ResponseMatrix::new(vec!["i".into()], vec![1, 0]).unwrap();
        let fit = infit_outfit(&bank, &data, &[0.0, 3f64.ln()]).unwrap();
        let f = &fit[0];
        assert_eq!(f.persons, 2);
        assert!((f.outfit - 2.0).abs() < 1e-12);
        assert!((f.infit - 0.8125 / 0.4375).abs() < 1e-12);
        let c: [f64; 2] = [0.0625, 0.082_031_25];
        let w: [f64; 2] = [0.25, 0.1875];
        let q_out: f64 = ((c[0] / (w[0] * w[0]) + c[1] / (w[1] * w[1])) / 4.0 - 0.5).sqrt();
        let expected = (2f64.cbrt() - 1.0) * 3.0 / q_out + q_out / 3.0;
        assert!((f.z_outfit - expected).abs() < 1e-12);
        let q_in = (c[0] - w[0] * w[0] + c[1] - w[1] * w[1]).sqrt() / (w[0] + w[1]);
        let expected = ((0.8125f64 / 0.4375).cbrt() - 1.0) * 3.0 / q_in + q_in / 3.0;
        assert!((f.z_infit - expected).abs() < 1e-12);
    }

    #[test]
    fn moments_of_a_three_category_item() {
        // p = (0.2, 0.5, 0.3): E = 1.1, W = 0.49, C = 0.2·1.4641 + 0.5·0.0001 + 0.3·0.6561.
        let (e, w, c) = score_moments(&[0.2, 0.5, 0.3]);
        assert!((e - 1.1).abs() < 1e-12);
        assert!((w - 0.49).abs() < 1e-12);
        assert!((c - (0.2 * 1.4641 + 0.5 * 0.0001 + 0.3 * 0.6561)).abs() < 1e-12);
    }
}
