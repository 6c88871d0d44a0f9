//! Kullback–Leibler interval information (Chang & Ying, 1996): how well an
//! item tells the current θ̂ apart from the values θ̂ may still turn out to
//! be, `∫_{θ̂−δ}^{θ̂+δ} KL_i(θ̂ ‖ θ) dθ` with
//! `KL_i(θ̂ ‖ θ) = Σ_k P_k(θ̂)·log(P_k(θ̂)/P_k(θ))` and `δ = c/√n` (n the
//! items the domain has had, at least 1; c = `kl_radius`, 3 by default).
//! Early in a test, when θ̂ rests on few answers, it prefers items that
//! discriminate over a wide range instead of exactly at θ̂; as n grows it
//! approaches maximum Fisher information (for small δ the integral is
//! `I_i(θ̂)·δ³/3`).

use super::{SelectionContext, Selector, SelectorFault, randomesque};
use crate::quadrature::GaussLegendre;
use ikd_irt::{Item, MAX_CATEGORIES, Model};
use rand::RngCore;

/// Gauss–Legendre nodes for the integral: `4 + 9δ` rounded up, within
/// 8..=32. The integrand is smooth (analytic in θ) but bends over about 1/a,
/// so wider intervals need more nodes; with this rule the reference values
/// of `tests/reference/make_reference.py` (adaptive quadrature, slopes up to
/// 2.7, δ = 0.6, 1.5 and 3) are met within 1e−10 relative.
const MIN_NODES: usize = 8;
const MAX_NODES: usize = 32;

fn nodes_for(half_width: f64) -> usize {
    ((4.0 + 9.0 * half_width).ceil() as usize).clamp(MIN_NODES, MAX_NODES)
}

/// KL interval information at the EAP θ, randomesque among the
/// `randomesque` best candidates.
#[derive(Clone, Debug, PartialEq)]
pub struct KullbackLeibler {
    randomesque: usize,
    radius: f64,
    /// `rules[n − MIN_NODES]`: the n-node rule.
    rules: Vec<GaussLegendre>,
}

impl KullbackLeibler {
    /// `radius` is c in δ = c/√n.
    pub fn new(randomesque: usize, radius: f64) -> Self {
        KullbackLeibler {
            randomesque: randomesque.max(1),
            radius,
            rules: (MIN_NODES..=MAX_NODES).map(GaussLegendre::new).collect(),
        }
    }

    /// δ after `answered` items of the domain.
    pub fn half_width(&self, answered: usize) -> f64 {
        self.radius / (answered.max(1) as f64).sqrt()
    }

    /// `∫_{θ̂−δ}^{θ̂+δ} KL_i(θ̂ ‖ θ) dθ` for `item`: the selection criterion.
    pub fn information(&self, item: &Item, theta_hat: f64, half_width: f64) -> f64 {
        let rule = &self.rules[nodes_for(half_width) - MIN_NODES];
        match item.model() {
            Model::Graded | Model::TwoPl => graded(rule, item, theta_hat, half_width),
            _ => any_model(rule, item, theta_hat, half_width),
        }
    }
}

/// The integral from the definition, for any model: `Σ_k P̂_k·log P̂_k`
/// minus `Σ_k P̂_k·log P_k(θ)` at every node.
fn any_model(rule: &GaussLegendre, item: &Item, theta_hat: f64, half_width: f64) -> f64 {
    let k = item.categories();
    let mut log_hat = [0.0; MAX_CATEGORIES];
    let mut log_p = [0.0; MAX_CATEGORIES];
    let (log_hat, log_p) = (&mut log_hat[..k], &mut log_p[..k]);
    item.log_probs(theta_hat, log_hat);
    let weighted =
        |logs: &[f64]| -> f64 { log_hat.iter().zip(logs).map(|(h, l)| h.exp() * l).sum() };
    let at_hat = weighted(log_hat);
    rule.integrate(theta_hat - half_width, theta_hat + half_width, |theta| {
        item.log_probs(theta, log_p);
        at_hat - weighted(log_p)
    })
}

/// Graded items (and the 2PL, a graded item with one threshold). With
/// `z_j = aθ + d_j`, `log P_k = log σ(z_k) + log σ(−z_{k+1}) + c_k` (the
/// first term absent for k = 0, the second for k = K − 1; `c_k` independent
/// of θ). In `KL(θ̂ ‖ θ)` the `c_k` cancel, and with
/// `log σ(−z) = log σ(z) − z` each threshold contributes
/// `w_j·log σ(z_j) − r_j·z_j`, `w_j = P̂_j + P̂_{j−1}`, `r_j = P̂_{j−1}`:
/// one log-sigmoid per threshold and node instead of every category's
/// log-probability, and the linear part integrates exactly.
fn graded(rule: &GaussLegendre, item: &Item, theta_hat: f64, half_width: f64) -> f64 {
    let (a, d) = (item.a(), item.d());
    let mut p_hat = [0.0; MAX_CATEGORIES];
    let p_hat = &mut p_hat[..d.len() + 1];
    item.probs(theta_hat, p_hat);
    let weight = |j: usize| p_hat[j + 1] + p_hat[j]; // threshold d[j] lies between categories j and j + 1
    let width = 2.0 * half_width;
    let mut total = 0.0;
    for (j, &dj) in d.iter().enumerate() {
        let z_hat = a * theta_hat + dj;
        let at_hat = weight(j) * log_sigmoid(z_hat) - p_hat[j] * z_hat;
        // ∫ r_j·z_j dθ over the interval is r_j·ẑ_j·2δ (z_j is linear in θ).
        let linear = p_hat[j] * z_hat * width;
        let curved = rule.integrate(theta_hat - half_width, theta_hat + half_width, |theta| {
            log_sigmoid(a * theta + dj)
        });
        total += at_hat * width - (weight(j) * curved - linear);
    }
    total
}

/// `log σ(x)` without overflow or cancellation.
fn log_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

impl Selector for KullbackLeibler {
    fn name(&self) -> &str {
        "kl"
    }

    fn select(
        &self,
        context: &SelectionContext<'_>,
        rng: &mut dyn RngCore,
    ) -> Result<usize, SelectorFault> {
        let theta = context.estimate.theta;
        let delta = self.half_width(context.answered);
        Ok(randomesque(
            context.candidates,
            self.randomesque,
            rng,
            |i| self.information(&context.bank.item(i).irt, theta, delta),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ikd_irt::Model;

    #[test]
    fn small_intervals_approach_fisher_information() {
        // KL(θ̂ ‖ θ) = I(θ̂)(θ − θ̂)²/2 + O((θ − θ̂)³), so the integral over
        // ±δ is I(θ̂)·δ³/3 to leading order.
        let kl = KullbackLeibler::new(1, 3.0);
        let item = Item::new("g", Model::Graded, 1.7, vec![1.5, 0.2, -1.1]).unwrap();
        let delta = 1e-2;
        let ratio =
            kl.information(&item, 0.4, delta) / (item.information(0.4) * delta.powi(3) / 3.0);
        assert!((ratio - 1.0).abs() < 1e-3, "{ratio}");
    }

    #[test]
    fn two_pl_by_hand() {
        // 2PL a = 1, d = 0, θ̂ = 0: P(θ̂) = 1/2, so
        // KL(0 ‖ θ) = −½·log σ(θ) − ½·log σ(−θ) − log 2 = ½·log(2 + 2·cosh θ) − log 2;
        // its integral over [−1, 1] by Simpson's rule on 2000 panels.
        let kl = KullbackLeibler::new(1, 3.0);
        let item = Item::new("q", Model::TwoPl, 1.0, vec![0.0]).unwrap();
        let f = |t: f64| 0.5 * (2.0 + 2.0 * t.cosh()).ln() - 2f64.ln();
        let n = 2000;
        let h = 2.0 / n as f64;
        let simpson: f64 = (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * f(-1.0 + i as f64 * h)
            })
            .sum::<f64>()
            * h
            / 3.0;
        let ours = kl.information(&item, 0.0, 1.0);
        assert!((ours - simpson).abs() < 1e-12, "{ours} vs {simpson}");
        assert_eq!(kl.half_width(0), 3.0);
        assert_eq!(kl.half_width(9), 1.0);
    }
}
