//! Person fit by the standardised log-likelihood l_z (Drasgow, Levine &
//! Williams 1985; polytomous form as in mirt's `personfit` `Zh`):
//! `l_0 = Σ_i log P_i(x_i │ θ)`, `E[l_0] = Σ_i Σ_k P_ik log P_ik`,
//! `Var[l_0] = Σ_i (Σ_k P_ik (log P_ik)² − (Σ_k P_ik log P_ik)²)`, and
//! `l_z = (l_0 − E[l_0]) / √Var[l_0]`, summed over the answered items.
//! Large negative values flag response patterns unlikely for the person's
//! θ (guessing, carelessness, copying). At the true θ, l_z has mean 0 and
//! variance 1 exactly; at an estimated θ its variance is somewhat below 1
//! (Snijders 2001).

use crate::IrtError;
use crate::data::{MISSING, ResponseMatrix};
use crate::model::MAX_CATEGORIES;
use crate::params::ItemBank;
use rayon::prelude::*;

/// l_z of one person's answers (`MISSING` for no answer) at θ; NaN when θ
/// is not finite or no answered item carries information (zero variance).
pub fn lz(bank: &ItemBank, responses: &[u8], theta: f64) -> f64 {
    if !theta.is_finite() || responses.len() != bank.len() {
        return f64::NAN;
    }
    let (mut l0, mut mean, mut variance) = (0.0, 0.0, 0.0);
    let mut lp = [0.0; MAX_CATEGORIES];
    for (item, &x) in bank.items().iter().zip(responses) {
        if x == MISSING || usize::from(x) >= item.categories() {
            continue;
        }
        let lp = &mut lp[..item.categories()];
        item.log_probs(theta, lp);
        l0 += lp[usize::from(x)];
        let (mut m1, mut m2) = (0.0, 0.0);
        for &l in lp.iter() {
            // P log P → 0 as P → 0.
            if l > f64::NEG_INFINITY {
                let p = l.exp();
                m1 += p * l;
                m2 += p * l * l;
            }
        }
        mean += m1;
        variance += m2 - m1 * m1;
    }
    if variance > 0.0 {
        (l0 - mean) / variance.sqrt()
    } else {
        f64::NAN
    }
}

/// l_z of every person of `data` at `thetas` (one per person).
pub fn person_lz(
    bank: &ItemBank,
    data: &ResponseMatrix,
    thetas: &[f64],
) -> Result<Vec<f64>, IrtError> {
    super::check_data(bank, data)?;
    super::check_thetas(data, thetas)?;
    Ok(data
        .cells()
        .par_chunks_exact(bank.len())
        .zip(thetas)
        .map(|(row, &theta)| lz(bank, row, theta))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Item, Model};

    /// Two dichotomous items at θ = 0 with P = 0.5 and P = σ(1) = 0.7310586.
    /// Answers (1, 0): l_0 = ln 0.5 + ln(1 − 0.7310586).
    /// E = 2·0.5·ln 0.5 + (p ln p + q ln q). The variance of a Bernoulli's
    /// log-probability is p q (ln(p/q))², 0 at p = 0.5: only the second item
    /// contributes.
    #[test]
    fn two_items_by_hand() {
        let bank = ItemBank::new(vec![
            Item::new("a", Model::TwoPl, 1.0, vec![0.0]).unwrap(),
            Item::new("b", Model::TwoPl, 1.0, vec![1.0]).unwrap(),
        ])
        .unwrap();
        let p: f64 = 1.0 / (1.0 + (-1.0f64).exp());
        let q = 1.0 - p;
        let l0 = 0.5f64.ln() + q.ln();
        let mean = 0.5f64.ln() + p * p.ln() + q * q.ln();
        let var = p * q * (p / q).ln().powi(2);
        let expected = (l0 - mean) / var.sqrt();
        assert!((lz(&bank, &[1, 0], 0.0) - expected).abs() < 1e-12);
        // The missing first item changes nothing but l_0 and E's first term.
        let expected = (q.ln() - (p * p.ln() + q * q.ln())) / var.sqrt();
        assert!((lz(&bank, &[MISSING, 0], 0.0) - expected).abs() < 1e-12);
        assert!(lz(&bank, &[MISSING, MISSING], 0.0).is_nan());
        assert!(lz(&bank, &[1, 1], f64::INFINITY).is_nan());
    }
}
