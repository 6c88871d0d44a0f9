//! Simulated item banks, drawn reproducibly from a seed.
//!
//! Domains `D1..Dn` get equal shares of the items (the first ones one more
//! when it does not divide), each domain's items are dealt round-robin to
//! its indicators `D1.1, D1.2, …`. Parameters follow the recipes of mirt's
//! `simdata` examples (Chalmers, 2012):
//!
//! * slope `a ~ lognormal(0.2, 0.3)` (median 1.22, 95% within 0.68–2.2);
//! * 2PL: intercept `d ~ N(0, 1)`;
//! * GRM: K − 1 gaps `~ U(0.3, 1)`, cumulated and centred, negated, plus a
//!   location `~ N(0, 1)`: strictly decreasing intercepts;
//! * GPCM: the same centred thresholds plus location as step difficulties
//!   `b_k`, and `d_k = −a·Σ_{j≤k} b_j`.

use crate::bank::{Bank, BankItem};
use ikd_irt::{Item, Model};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, StandardNormal};
use thiserror::Error;

/// The shape of a simulated bank.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimulatedBank {
    pub items: usize,
    pub domains: usize,
    pub indicators_per_domain: usize,
    /// `TwoPl`, `Graded` or `PartialCredit`.
    pub model: Model,
    /// K for polytomous models (2 for the 2PL).
    pub categories: usize,
}

/// A bank shape that cannot be drawn.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("simulated bank: {0}")]
pub struct SimulatedBankError(String);

impl SimulatedBank {
    /// Draws the bank; the same seed gives the same bank.
    pub fn generate(&self, seed: u64) -> Result<Bank, SimulatedBankError> {
        self.check()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let slope = LogNormal::new(0.2, 0.3).expect("valid lognormal");
        let mut items = Vec::with_capacity(self.items);
        for domain in 0..self.domains {
            let size = self.items / self.domains + usize::from(domain < self.items % self.domains);
            for j in 0..size {
                let id = format!("D{}-{:03}", domain + 1, j + 1);
                let a: f64 = slope.sample(&mut rng);
                let irt = self.draw_item(&id, a, &mut rng);
                items.push(BankItem {
                    id,
                    domain: format!("D{}", domain + 1),
                    indicator: format!("D{}.{}", domain + 1, j % self.indicators_per_domain + 1),
                    irt,
                });
            }
        }
        Bank::new(items).map_err(|e| SimulatedBankError(e.to_string()))
    }

    fn check(&self) -> Result<(), SimulatedBankError> {
        let fail = |m: String| Err(SimulatedBankError(m));
        if self.domains == 0 || self.indicators_per_domain == 0 {
            return fail("needs at least one domain and one indicator per domain".into());
        }
        if self.items < self.domains * self.indicators_per_domain {
            return fail(format!(
                "{} items cannot fill {} domains × {} indicators",
                self.items, self.domains, self.indicators_per_domain
            ));
        }
        match self.model {
            Model::TwoPl if self.categories != 2 => fail("a 2pl bank has 2 categories".into()),
            Model::TwoPl => Ok(()),
            Model::Graded | Model::PartialCredit if (2..=20).contains(&self.categories) => Ok(()),
            Model::Graded | Model::PartialCredit => {
                fail(format!("{} categories; use 2 to 20", self.categories))
            }
            other => fail(format!(
                "model {other} is not simulated (use 2pl, grm or gpcm)"
            )),
        }
    }

    fn draw_item(&self, id: &str, a: f64, rng: &mut StdRng) -> Item {
        let location: f64 = rng.sample(StandardNormal);
        let item = match self.model {
            Model::TwoPl => Item::new(id, Model::TwoPl, a, vec![location]),
            Model::Graded => {
                let thresholds = centred_thresholds(self.categories - 1, rng);
                let d = thresholds.iter().map(|t| -t + location).collect();
                Item::new(id, Model::Graded, a, d)
            }
            _ => {
                let thresholds = centred_thresholds(self.categories - 1, rng);
                let mut sum = 0.0;
                let d = thresholds
                    .iter()
                    .map(|t| {
                        sum += t + location;
                        -a * sum
                    })
                    .collect();
                Item::new(id, Model::PartialCredit, a, d)
            }
        };
        item.expect("drawn parameters are valid")
    }
}

/// `n` increasing thresholds with gaps ~ U(0.3, 1), centred on 0.
fn centred_thresholds(n: usize, rng: &mut StdRng) -> Vec<f64> {
    let mut sum = 0.0;
    let mut thresholds: Vec<f64> = (0..n)
        .map(|_| {
            sum += rng.random_range(0.3..1.0);
            sum
        })
        .collect();
    let mean = thresholds.iter().sum::<f64>() / n as f64;
    for t in &mut thresholds {
        *t -= mean;
    }
    thresholds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(model: Model, categories: usize) -> SimulatedBank {
        SimulatedBank {
            items: 302,
            domains: 5,
            indicators_per_domain: 3,
            model,
            categories,
        }
    }

    #[test]
    fn splits_items_evenly_and_is_reproducible() {
        let bank = shape(Model::Graded, 5).generate(9).unwrap();
        let sizes: Vec<usize> = bank.domains().iter().map(|d| d.items.len()).collect();
        assert_eq!(sizes, [61, 61, 60, 60, 60]);
        assert_eq!(bank.domains()[0].indicators.len(), 3);
        assert_eq!(bank.item(0).id, "D1-001");
        assert_eq!(bank.item(0).indicator, "D1.1");
        assert_eq!(bank.item(1).indicator, "D1.2");
        let again = shape(Model::Graded, 5).generate(9).unwrap();
        assert_eq!(bank.items(), again.items());
        let other = shape(Model::Graded, 5).generate(10).unwrap();
        assert_ne!(bank.items(), other.items());
    }

    #[test]
    fn parameters_follow_the_documented_distributions() {
        for (model, k) in [
            (Model::TwoPl, 2),
            (Model::Graded, 5),
            (Model::PartialCredit, 4),
        ] {
            let bank = SimulatedBank {
                items: 4000,
                ..shape(model, k)
            }
            .generate(1)
            .unwrap();
            let log_a: Vec<f64> = bank.items().iter().map(|i| i.irt.a().ln()).collect();
            let mean = log_a.iter().sum::<f64>() / log_a.len() as f64;
            let sd =
                (log_a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / log_a.len() as f64).sqrt();
            assert!(
                (mean - 0.2).abs() < 0.02 && (sd - 0.3).abs() < 0.02,
                "{model}: {mean} {sd}"
            );
            assert!(bank.items().iter().all(|i| i.irt.categories() == k));
            // Item locations (mean threshold in θ) centre on 0 with SD ≈ 1/a.
            let location: f64 = bank
                .items()
                .iter()
                .map(|i| i.irt.b().iter().sum::<f64>() / (k - 1) as f64)
                .sum::<f64>()
                / bank.len() as f64;
            assert!(location.abs() < 0.1, "{model}: {location}");
        }
    }

    #[test]
    fn impossible_shapes_are_refused() {
        let err = SimulatedBank {
            items: 10,
            ..shape(Model::Graded, 5)
        }
        .generate(1)
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "simulated bank: 10 items cannot fill 5 domains × 3 indicators"
        );
        assert!(shape(Model::TwoPl, 3).generate(1).is_err());
        assert!(shape(Model::Graded, 1).generate(1).is_err());
        assert!(shape(Model::Rasch, 2).generate(1).is_err());
    }
}
