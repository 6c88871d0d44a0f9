//! Maximum Fisher information (Lord, 1980): the candidate whose information
//! `I_i(θ̂) = Σ_k P_k(θ̂)·(∂ log P_k/∂θ)²` is largest at the domain's current
//! EAP θ̂ — for a 2PL item `a²·P·(1 − P)` — which most reduces the SE of θ
//! if θ̂ is right. ikd-irt's `Item::information` computes it for every model.

use super::{SelectionContext, Selector, SelectorFault, randomesque};
use ikd_irt::Item;
use rand::RngCore;

/// Maximum Fisher information at the EAP θ, randomesque among the
/// `randomesque` most informative candidates.
#[derive(Clone, Debug, PartialEq)]
pub struct MaxInformation {
    randomesque: usize,
}

impl MaxInformation {
    /// `randomesque` = 1 takes the most informative candidate.
    pub fn new(randomesque: usize) -> Self {
        MaxInformation {
            randomesque: randomesque.max(1),
        }
    }

    /// The item's Fisher information at θ: the selection criterion.
    pub fn information(item: &Item, theta: f64) -> f64 {
        item.information(theta)
    }
}

impl Selector for MaxInformation {
    fn name(&self) -> &str {
        "mfi"
    }

    fn select(
        &self,
        context: &SelectionContext<'_>,
        rng: &mut dyn RngCore,
    ) -> Result<usize, SelectorFault> {
        let theta = context.estimate.theta;
        Ok(randomesque(
            context.candidates,
            self.randomesque,
            rng,
            |i| Self::information(&context.bank.item(i).irt, theta),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ikd_irt::Model;

    #[test]
    fn two_pl_information_is_a_squared_p_q() {
        // a = 1.5, d = −0.75 (b = 0.5), θ = 1.2: z = 1.5·1.2 − 0.75 = 1.05,
        // P = 1/(1 + e^−1.05) = 0.740774899…, I = 2.25·P·(1 − P) = 0.43206176…
        let item = Item::new("q", Model::TwoPl, 1.5, vec![-0.75]).unwrap();
        let p = 1.0 / (1.0 + (-1.05f64).exp());
        let by_hand = 2.25 * p * (1.0 - p);
        assert!((p - 0.740_774_899).abs() < 1e-9);
        assert!((by_hand - 0.432_061_76).abs() < 1e-8, "{by_hand}");
        let ours = MaxInformation::information(&item, 1.2);
        assert!((ours - by_hand).abs() < 1e-14, "{ours} vs {by_hand}");
        // At θ = b the information is at its maximum a²/4.
        assert!((MaxInformation::information(&item, 0.5) - 2.25 / 4.0).abs() < 1e-15);
    }
}
