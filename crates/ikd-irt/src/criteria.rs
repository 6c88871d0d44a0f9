//! Information criteria of a calibration, for comparing models fitted to the
//! same responses (e.g. Rasch against 2PL): smaller is better.

use crate::calibrate::Calibration;
use crate::model::Model;
use crate::params::ItemBank;

/// Penalised log-likelihoods of a fitted model with `k` free parameters on
/// `n` persons.
///
/// * `AIC = −2ℓ + 2k` (Akaike, 1974);
/// * `BIC = −2ℓ + k·ln n` (Schwarz, 1978);
/// * `SABIC = −2ℓ + k·ln n*`, `n* = (n + 2)/24`: the sample-size adjusted
///   BIC (Sclove, 1987), as mirt reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InformationCriteria {
    /// The marginal log-likelihood ℓ.
    pub loglik: f64,
    /// Free parameters k (a shared Rasch slope counts once).
    pub parameters: usize,
    /// Persons n: those with at least one answer (the others add nothing to
    /// the likelihood).
    pub persons: usize,
    pub aic: f64,
    pub bic: f64,
    pub sabic: f64,
}

impl InformationCriteria {
    pub fn new(loglik: f64, parameters: usize, persons: usize) -> Self {
        let (k, n) = (parameters as f64, persons as f64);
        let deviance = -2.0 * loglik;
        InformationCriteria {
            loglik,
            parameters,
            persons,
            aic: deviance + 2.0 * k,
            bic: deviance + k * n.ln(),
            sabic: deviance + k * ((n + 2.0) / 24.0).ln(),
        }
    }
}

impl ItemBank {
    /// The number of free item parameters: `a` and `d_1..d_{K−1}` per item
    /// (and `g` per 3PL item), except that the Rasch items share one slope.
    pub fn free_parameters(&self) -> usize {
        let intercepts: usize = self.items().iter().map(|i| i.parameters() - 1).sum();
        let own_slopes = self
            .items()
            .iter()
            .filter(|i| i.model() != Model::Rasch)
            .count();
        let shared_slope = usize::from(self.common_slope().is_some());
        intercepts + own_slopes + shared_slope
    }
}

impl Calibration {
    /// AIC, BIC and SABIC of the fitted model (see [`InformationCriteria`]).
    pub fn information_criteria(&self) -> InformationCriteria {
        InformationCriteria::new(self.loglik, self.bank.free_parameters(), self.persons)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Item, ItemBank, Model};

    #[test]
    fn a_shared_rasch_slope_counts_once() {
        let bank = ItemBank::new(vec![
            Item::new("r1", Model::Rasch, 1.2, vec![0.1]).unwrap(),
            Item::new("r2", Model::Rasch, 1.2, vec![0.3, -0.2]).unwrap(),
            Item::new("g", Model::Graded, 0.9, vec![1.0, 0.0, -1.0]).unwrap(),
            Item::new("t", Model::TwoPl, 0.7, vec![0.4]).unwrap(),
            Item::three_pl("c", 1.1, 0.2, 0.25).unwrap(),
        ])
        .unwrap();
        // Shared slope 1, intercepts 1 + 2, graded 1 + 3, 2PL 1 + 1,
        // 3PL 1 + 1 + 1 (a, d, g).
        assert_eq!(bank.free_parameters(), 13);
    }
}
