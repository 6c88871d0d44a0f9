//! Item response functions in slope-intercept form, with the derivatives that
//! scoring (with respect to θ) and calibration (with respect to the item's
//! parameters) need.
//!
//! Three families cover the five models:
//! * *divide-by-total* (Rasch, 2PL, GPCM): `P(k) ∝ exp(k·a·θ + d_k)`, `d_0 = 0`,
//!   scoring coefficients `0..K−1` (mirt's `gpcm`; with `K = 2` it is the 2PL);
//! * *cumulative* (GRM): `P(X ≥ k) = logistic(a·θ + d_k)`, `d_1 > … > d_{K−1}`;
//! * *guessing* (3PL): `P(1) = g + (1 − g)·logistic(a·θ + d)`, dichotomous.
//!
//! The low-level functions take an item's slope and a parameter slice `d`:
//! the intercepts, except for the 3PL, whose slice is `(d, γ)` with
//! `γ = logit(g)` (the scale on which g is estimated, so that it stays in
//! (0, 1)). A K-category item therefore has `d.len() + 1` parameters, which
//! is K except for the 3PL (2 categories, 3 parameters): see
//! [`n_categories`].
//!
//! Everything is computed in the log domain, so long tests and extreme θ do
//! not underflow.

use crate::IrtError;
use std::fmt;
use std::str::FromStr;

/// The item response model of one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Model {
    /// Common slope: every Rasch item of an item bank shares one slope `a`
    /// (estimated) and the latent trait is N(0, 1). This is mirt's
    /// `itemtype = 'Rasch'` (slope fixed to 1, latent variance free)
    /// reparameterised: the intercepts are the same and mirt's latent
    /// variance is `a²`. Dichotomous items are logistic; items with more
    /// categories are partial credit items (divide-by-total) with that slope.
    Rasch,
    /// Two-parameter logistic: `P(1) = logistic(a·θ + d)`. Dichotomous only.
    TwoPl,
    /// Samejima's graded response model.
    Graded,
    /// Generalized partial credit model (mirt's `gpcm` parameterisation).
    PartialCredit,
    /// Three-parameter logistic for keyed multiple-choice items:
    /// `P(1) = g + (1 − g)·logistic(a·θ + d)`, `0 < g < 1` the lower
    /// asymptote. Dichotomous only; calibrated with a Beta prior on g
    /// ([`crate::GuessingPrior`]).
    ThreePl,
}

impl Model {
    /// The name used on the command line and in PARAMS.csv.
    pub fn name(self) -> &'static str {
        match self {
            Model::Rasch => "rasch",
            Model::TwoPl => "2pl",
            Model::Graded => "grm",
            Model::PartialCredit => "gpcm",
            Model::ThreePl => "3pl",
        }
    }

    pub(crate) fn kind(self) -> Kind {
        match self {
            Model::Graded => Kind::Cumulative,
            Model::ThreePl => Kind::Guessing,
            _ => Kind::Adjacent,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Model {
    type Err = IrtError;
    fn from_str(s: &str) -> Result<Self, IrtError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rasch" => Ok(Model::Rasch),
            "2pl" => Ok(Model::TwoPl),
            "grm" | "graded" => Ok(Model::Graded),
            "gpcm" => Ok(Model::PartialCredit),
            "3pl" => Ok(Model::ThreePl),
            other => Err(IrtError::Options(format!(
                "unknown model '{other}' (expected rasch, 2pl, 3pl, grm or gpcm)"
            ))),
        }
    }
}

/// The three functional forms behind the five models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Divide-by-total: Rasch, 2PL, GPCM.
    Adjacent,
    /// Differences of cumulative logistics: GRM.
    Cumulative,
    /// A logistic with a lower asymptote: 3PL; parameters `(a, d, γ)`,
    /// `g = logistic(γ)`.
    Guessing,
}

/// K, the number of categories of an item of this kind whose parameter
/// slice (after the slope) is `d`: `d.len() + 1`, except 2 for the 3PL.
#[inline]
pub(crate) fn n_categories(kind: Kind, d: &[f64]) -> usize {
    match kind {
        Kind::Guessing => 2,
        _ => d.len() + 1,
    }
}

/// `logit(g) = log(g/(1 − g))`.
pub(crate) fn logit(g: f64) -> f64 {
    g.ln() - (-g).ln_1p()
}

/// The largest number of categories: category codes are `u8`, and `u8::MAX`
/// marks a missing answer.
pub const MAX_CATEGORIES: usize = u8::MAX as usize;

/// One item: its model, slope `a` and intercepts `d_1..d_{K−1}` (mirt's
/// slope-intercept convention), for categories `0..K−1`, and for a 3PL item
/// its lower asymptote `g`.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    name: String,
    model: Model,
    a: f64,
    /// The intercepts; for a 3PL item `(d, logit(g))`.
    d: Vec<f64>,
    /// The lower asymptote of a 3PL item.
    g: Option<f64>,
}

impl Item {
    /// Checks the parameters: finite values, at least two categories, one
    /// intercept for a 2PL item, strictly decreasing intercepts for a graded
    /// item (otherwise some category would have a negative probability).
    pub fn new(
        name: impl Into<String>,
        model: Model,
        a: f64,
        d: Vec<f64>,
    ) -> Result<Self, IrtError> {
        let name = name.into();
        let fail = |reason: String| IrtError::InvalidItem {
            item: name.clone(),
            reason,
        };
        if d.is_empty() {
            return Err(fail("needs at least one intercept (two categories)".into()));
        }
        if d.len() + 1 > MAX_CATEGORIES {
            return Err(fail(format!(
                "{} categories; at most {MAX_CATEGORIES} are supported",
                d.len() + 1
            )));
        }
        if model == Model::ThreePl {
            return Err(fail(
                "a 3pl item also needs its lower asymptote g: use Item::three_pl".into(),
            ));
        }
        if model == Model::TwoPl && d.len() != 1 {
            return Err(fail(format!(
                "a 2pl item has one intercept, not {} (use grm or gpcm for polytomous items)",
                d.len()
            )));
        }
        if !a.is_finite() {
            return Err(fail(format!("slope a = {a} is not finite")));
        }
        if let Some(bad) = d.iter().find(|v| !v.is_finite()) {
            return Err(fail(format!("intercept {bad} is not finite")));
        }
        if model == Model::Graded
            && let Some(k) = (1..d.len()).find(|&k| d[k] >= d[k - 1])
        {
            return Err(fail(format!(
                "graded intercepts must decrease: d{} = {} is not below d{} = {}",
                k + 1,
                d[k],
                k,
                d[k - 1]
            )));
        }
        Ok(Item {
            name,
            model,
            a,
            d,
            g: None,
        })
    }

    /// A 3PL item: `P(1 | θ) = g + (1 − g)·logistic(a·θ + d)`; `a` and `d`
    /// finite, `0 < g < 1`.
    pub fn three_pl(name: impl Into<String>, a: f64, d: f64, g: f64) -> Result<Self, IrtError> {
        let name = name.into();
        let fail = |reason: String| IrtError::InvalidItem {
            item: name.clone(),
            reason,
        };
        if !a.is_finite() {
            return Err(fail(format!("slope a = {a} is not finite")));
        }
        if !d.is_finite() {
            return Err(fail(format!("intercept {d} is not finite")));
        }
        if g.is_nan() || g <= 0.0 || g >= 1.0 {
            return Err(fail(format!(
                "lower asymptote g = {g} is not strictly between 0 and 1"
            )));
        }
        Ok(Item {
            name,
            model: Model::ThreePl,
            a,
            d: vec![d, logit(g)],
            g: Some(g),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn model(&self) -> Model {
        self.model
    }

    /// The slope.
    pub fn a(&self) -> f64 {
        self.a
    }

    /// The intercepts `d_1..d_{K−1}` (one for a 3PL item).
    pub fn d(&self) -> &[f64] {
        match self.g {
            Some(_) => &self.d[..1],
            None => &self.d,
        }
    }

    /// The lower asymptote of a 3PL item; `None` for the other models.
    pub fn g(&self) -> Option<f64> {
        self.g
    }

    /// The parameters after the slope as the low-level functions take them:
    /// the intercepts, and for a 3PL item `logit(g)` after its intercept.
    pub(crate) fn kernel_d(&self) -> &[f64] {
        &self.d
    }

    /// K: the number of response categories, `0..K−1`.
    pub fn categories(&self) -> usize {
        n_categories(self.model.kind(), &self.d)
    }

    /// The item's own parameters: `a`, the intercepts and, for a 3PL item,
    /// `g` (K for every model but the 3PL, which has 3 for 2 categories).
    pub fn parameters(&self) -> usize {
        self.d.len() + 1
    }

    /// `log P(X = k | θ)` for every category `k`; `out.len()` must be K.
    pub fn log_probs(&self, theta: f64, out: &mut [f64]) {
        log_probs(self.model.kind(), self.a, &self.d, theta, out);
    }

    /// `P(X = k | θ)` for every category `k`; `out.len()` must be K.
    pub fn probs(&self, theta: f64, out: &mut [f64]) {
        self.log_probs(theta, out);
        for p in out.iter_mut() {
            *p = p.exp();
        }
    }

    /// First and second derivatives of `log P(X = k | θ)` with respect to θ.
    pub fn theta_derivatives(&self, theta: f64, k: usize) -> (f64, f64) {
        theta_derivatives(self.model.kind(), self.a, &self.d, theta, k)
    }

    /// Fisher information of the item at θ: `Σ_k P_k (∂ log P_k/∂θ)²`, in
    /// closed form (the crate's private `information`, per model kind).
    pub fn information(&self, theta: f64) -> f64 {
        information(self.model.kind(), self.a, &self.d, theta)
    }

    /// The IRT metric (θ ~ N(0, 1)): for 2PL and GRM the category thresholds
    /// `b_k = −d_k/a`; for GPCM and Rasch the step difficulties
    /// `b_k = −(d_k − d_{k−1})/a` with `d_0 = 0` (for a dichotomous item both
    /// are `−d/a`).
    /// For a 3PL item `b = −d/a`, where `P(1) = (1 + g)/2`.
    pub fn b(&self) -> Vec<f64> {
        match self.model.kind() {
            Kind::Cumulative | Kind::Guessing => self.d().iter().map(|d| -d / self.a).collect(),
            Kind::Adjacent => {
                let mut previous = 0.0;
                self.d
                    .iter()
                    .map(|&d| {
                        let step = -(d - previous) / self.a;
                        previous = d;
                        step
                    })
                    .collect()
            }
        }
    }
}

/// `log(logistic(x))` without overflow or cancellation.
#[inline]
pub(crate) fn log_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

/// `log(e^x + e^y)` without overflow.
#[inline]
pub(crate) fn log_add_exp(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// What the 3PL derivatives share at `z = aθ + d` (`d = (d, γ)`):
/// `log P_1`, the share `w = (1 − g)σ(z)/P_1` of `P_1` that is not
/// guessing, and `1 − w = g/P_1`, each computed without cancellation.
pub(crate) struct GuessingTerms {
    pub log_p1: f64,
    pub w: f64,
    pub one_minus_w: f64,
}

#[inline]
pub(crate) fn guessing_terms(d: &[f64], z: f64) -> GuessingTerms {
    let (log_g, log_1mg) = (log_sigmoid(d[1]), log_sigmoid(-d[1]));
    let lz = log_sigmoid(z);
    let log_p1 = log_add_exp(lz, log_g + log_sigmoid(-z));
    GuessingTerms {
        log_p1,
        w: (log_1mg + lz - log_p1).exp(),
        one_minus_w: (log_g - log_p1).exp(),
    }
}

/// `logistic(x)` without overflow.
#[inline]
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The θ-independent terms of a graded item, for each middle category k
/// (`1 ≤ k ≤ K−2`): `log(1 − e^{d_{k+1} − d_k})` into `log_gap[k]` and its
/// derivative factor `1/(e^{d_k − d_{k+1}} − 1)` into `inv_gap[k]`; other
/// entries are 0. Computed once per item instead of once per node.
pub(crate) fn graded_gaps(d: &[f64], log_gap: &mut [f64], inv_gap: &mut [f64]) {
    let k_count = d.len() + 1;
    log_gap[..k_count].fill(0.0);
    inv_gap[..k_count].fill(0.0);
    for k in 1..k_count.saturating_sub(1) {
        log_gap[k] = (-(d[k] - d[k - 1]).exp_m1()).ln();
        inv_gap[k] = 1.0 / (d[k - 1] - d[k]).exp_m1();
    }
}

/// `(σ(x), σ(−x))` from one exp, each without cancellation.
#[inline]
pub(crate) fn sigmoid_pair(x: f64) -> (f64, f64) {
    let e = (-x.abs()).exp();
    let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
    if x >= 0.0 { (big, small) } else { (small, big) }
}

/// `log P(X = k | θ)` for `k = 0..K−1` (`out.len() == d.len() + 1`).
///
/// Graded: `P_k = P*_k − P*_{k+1} = σ(u)·σ(−v)·(1 − e^{d_{k+1} − d_k})` with
/// `u = aθ + d_k`, `v = aθ + d_{k+1}`, so the log is a sum of stable terms and
/// the last one does not depend on θ. Unordered intercepts give NaN.
pub(crate) fn log_probs(kind: Kind, a: f64, d: &[f64], theta: f64, out: &mut [f64]) {
    match kind {
        // The gap terms computed as they are needed: filling the tables of
        // `graded_gaps` would zero two 255-entry arrays on every call.
        Kind::Cumulative => {
            graded_log_probs(a, d, theta, out, |k| (-(d[k] - d[k - 1]).exp_m1()).ln())
        }
        _ => log_probs_with(kind, a, d, &[], theta, out),
    }
}

/// [`log_probs`] with the graded gap terms precomputed ([`graded_gaps`]).
pub(crate) fn log_probs_with(
    kind: Kind,
    a: f64,
    d: &[f64],
    log_gap: &[f64],
    theta: f64,
    out: &mut [f64],
) {
    let k_count = n_categories(kind, d);
    debug_assert_eq!(out.len(), k_count);
    let at = a * theta;
    match kind {
        Kind::Guessing => {
            // P_0 = (1 − g)·σ(−z), P_1 = σ(z) + g·σ(−z), z = aθ + d.
            let z = at + d[0];
            let (log_g, log_1mg) = (log_sigmoid(d[1]), log_sigmoid(-d[1]));
            let lz_neg = log_sigmoid(-z);
            out[0] = log_1mg + lz_neg;
            out[1] = log_add_exp(log_sigmoid(z), log_g + lz_neg);
        }
        Kind::Adjacent => {
            out[0] = 0.0;
            let mut max = 0.0f64;
            for k in 1..k_count {
                let eta = k as f64 * at + d[k - 1];
                out[k] = eta;
                max = max.max(eta);
            }
            let sum: f64 = out.iter().map(|&eta| (eta - max).exp()).sum();
            let lse = max + sum.ln();
            for v in out.iter_mut() {
                *v -= lse;
            }
        }
        Kind::Cumulative => graded_log_probs(a, d, theta, out, |k| log_gap[k]),
    }
}

/// Graded `log P_k` with `gap(k) = log(1 − e^{d_k − d_{k−1}})` for the middle
/// categories `1 ≤ k ≤ K − 2`.
#[inline(always)]
fn graded_log_probs(a: f64, d: &[f64], theta: f64, out: &mut [f64], gap: impl Fn(usize) -> f64) {
    let k_count = d.len() + 1;
    debug_assert_eq!(out.len(), k_count);
    let at = a * theta;
    // One log σ per threshold: log σ(−v) = log σ(v) − v.
    let mut lower = 0.0; // log σ(u) of the category's lower threshold (0 for k = 0)
    for k in 0..k_count {
        if k + 1 < k_count {
            let v = at + d[k];
            let ls = log_sigmoid(v);
            let gap = if k == 0 { 0.0 } else { gap(k) };
            out[k] = lower + (ls - v) + gap;
            lower = ls;
        } else {
            out[k] = lower;
        }
    }
}

/// `(∂/∂θ, ∂²/∂θ²) log P(X = k | θ)`.
pub(crate) fn theta_derivatives(kind: Kind, a: f64, d: &[f64], theta: f64, k: usize) -> (f64, f64) {
    let (_, g, h) = theta_terms(kind, a, d, theta, k);
    (g, h)
}

/// `(log P_k, ∂/∂θ log P_k, ∂²/∂θ² log P_k)` in one pass: what Newton
/// iterations on θ (MAP, ML) need per answered item.
pub(crate) fn theta_terms(kind: Kind, a: f64, d: &[f64], theta: f64, k: usize) -> (f64, f64, f64) {
    let k_count = n_categories(kind, d);
    let at = a * theta;
    match kind {
        Kind::Guessing => {
            let z = at + d[0];
            let (s, s_neg) = sigmoid_pair(z);
            if k == 0 {
                (
                    log_sigmoid(-d[1]) + log_sigmoid(-z),
                    -a * s,
                    -a * a * s * s_neg,
                )
            } else {
                let t = guessing_terms(d, z);
                // ∂ log P_1/∂z = σ(−z)·w, ∂²/∂z² = σ(−z)·w·(σ(−z)·(1 − w) − σ(z)).
                (
                    t.log_p1,
                    a * s_neg * t.w,
                    a * a * s_neg * t.w * (s_neg * t.one_minus_w - s),
                )
            }
        }
        Kind::Adjacent => {
            let mut lp = [0.0; MAX_CATEGORIES];
            let lp = &mut lp[..k_count];
            log_probs(kind, a, d, theta, lp);
            let mean: f64 = lp.iter().enumerate().map(|(j, l)| j as f64 * l.exp()).sum();
            let var: f64 = lp
                .iter()
                .enumerate()
                .map(|(j, l)| (j as f64 - mean).powi(2) * l.exp())
                .sum();
            (lp[k], a * (k as f64 - mean), -a * a * var)
        }
        Kind::Cumulative => {
            // log P_k = log σ(u) + log σ(−v) + const: each term is log-concave.
            let (mut l, mut g, mut h) = (0.0, 0.0, 0.0);
            if k >= 1 {
                let u = at + d[k - 1];
                l += log_sigmoid(u);
                g += a * sigmoid(-u);
                h -= a * a * sigmoid(u) * sigmoid(-u);
            }
            if k + 1 < k_count {
                let v = at + d[k];
                l += log_sigmoid(-v);
                g -= a * sigmoid(v);
                h -= a * a * sigmoid(v) * sigmoid(-v);
            }
            if k >= 1 && k + 1 < k_count {
                l += (-(d[k] - d[k - 1]).exp_m1()).ln();
            }
            (l, g, h)
        }
    }
}

/// Fisher information `Σ_k P_k (∂ log P_k/∂θ)²` at θ in closed form, from
/// one logistic per threshold instead of the general sum over categories
/// (item selection in adaptive testing evaluates it for every candidate at
/// every step):
/// * divide-by-total: `a²·Var(k | θ)`;
/// * graded: `Σ_k P_k·a²·(σ(−u_k) − σ(v_k))²` with `u_k = aθ + d_k`,
///   `v_k = aθ + d_{k+1}` (the first term absent for k = 0, the second for
///   k = K − 1), and `P_k = σ(u_k)·σ(−v_k)·(1 − e^{d_{k+1} − d_k})` without
///   cancellation;
/// * 3PL: `a²·(1 − g)·σ(z)²·σ(−z)/P_1`, Lord's `a²(P − g)²Q/((1 − g)²P)`
///   with `P − g` and `Q` written as products.
pub(crate) fn information(kind: Kind, a: f64, d: &[f64], theta: f64) -> f64 {
    let at = a * theta;
    match kind {
        Kind::Guessing => {
            let (s, s_neg) = sigmoid_pair(at + d[0]);
            let (g, one_minus_g) = sigmoid_pair(d[1]);
            a * a * one_minus_g * s * s * s_neg / (g + one_minus_g * s)
        }
        Kind::Adjacent => {
            let k_count = d.len() + 1;
            let eta = |k: usize| {
                if k == 0 {
                    0.0
                } else {
                    k as f64 * at + d[k - 1]
                }
            };
            // Moments about the modal category m: `Var = E[(k − m)²] − (E[k] − m)²`
            // with both terms computed as sums, so a concentrated distribution
            // (θ far from the item) loses nothing to cancellation.
            let (mode, max) =
                (0..k_count)
                    .map(|k| (k, eta(k)))
                    .fold((0, f64::NEG_INFINITY), |best, (k, e)| {
                        if e > best.1 { (k, e) } else { best }
                    });
            let (mut total, mut first, mut second) = (0.0, 0.0, 0.0);
            for k in 0..k_count {
                let w = (eta(k) - max).exp();
                let offset = k as f64 - mode as f64;
                total += w;
                first += w * offset;
                second += w * offset * offset;
            }
            let shift = first / total;
            let var = second / total - shift * shift;
            a * a * var
        }
        Kind::Cumulative => {
            let k_count = d.len() + 1;
            // (σ, σ(−·)) at u_k = aθ + d_k for the thresholds k = 1..K−1.
            let mut above = (1.0, 0.0); // threshold k: P(X ≥ k), P(X < k)
            let mut total = 0.0;
            for k in 0..k_count {
                let below = if k + 1 < k_count {
                    sigmoid_pair(at + d[k])
                } else {
                    (0.0, 1.0)
                };
                // P_k = P(X ≥ k) − P(X ≥ k + 1) = σ(u)·σ(−v)·(1 − e^{d_{k+1} − d_k}).
                let p = match (k, k + 1 < k_count) {
                    (0, _) => below.1,
                    (_, false) => above.0,
                    _ => above.0 * below.1 * -(d[k] - d[k - 1]).exp_m1(),
                };
                let score = a * (above.1 - below.0);
                total += p * score * score;
                above = below;
            }
            total
        }
    }
}

/// Gradients of `log P(X = k | θ)` with respect to the item parameters
/// `(a, d_1..d_{K−1})`, one row of K values per category: `out` is K×K,
/// row-major. `probs` are the category probabilities at θ.
#[cfg(test)]
pub(crate) fn param_scores(
    kind: Kind,
    a: f64,
    d: &[f64],
    theta: f64,
    probs: &[f64],
    out: &mut [f64],
) {
    let mut log_gap = [0.0; MAX_CATEGORIES];
    let mut inv_gap = [0.0; MAX_CATEGORIES];
    graded_gaps(d, &mut log_gap, &mut inv_gap);
    param_scores_with(kind, a, d, &inv_gap, theta, probs, out);
}

/// [`param_scores`] with the graded gap factors precomputed ([`graded_gaps`]).
pub(crate) fn param_scores_with(
    kind: Kind,
    a: f64,
    d: &[f64],
    inv_gap: &[f64],
    theta: f64,
    probs: &[f64],
    out: &mut [f64],
) {
    let k_count = n_categories(kind, d);
    debug_assert_eq!(out.len(), k_count * (d.len() + 1));
    out.fill(0.0);
    match kind {
        Kind::Guessing => {
            // Parameters (a, d, γ), g = σ(γ), ∂g/∂γ = g(1 − g).
            // log P_0 = log σ(−γ) + log σ(−z);
            // log P_1 = log(σ(z) + g·σ(−z)): ∂/∂z = σ(−z)·w,
            // ∂/∂γ = g(1 − g)σ(−z)/P_1 = (1 − g)·σ(−z)·(1 − w).
            let z = a * theta + d[0];
            let (s, s_neg) = sigmoid_pair(z);
            let g = sigmoid(d[1]);
            out[0] = -theta * s;
            out[1] = -s;
            out[2] = -g;
            let t = guessing_terms(d, z);
            out[3] = theta * s_neg * t.w;
            out[4] = s_neg * t.w;
            out[5] = (1.0 - g) * s_neg * t.one_minus_w;
        }
        Kind::Adjacent => {
            // log P_k = k·aθ + d_k − log Σ_j exp(j·aθ + d_j)
            let mean: f64 = probs.iter().enumerate().map(|(j, p)| j as f64 * p).sum();
            for k in 0..k_count {
                let row = &mut out[k * k_count..(k + 1) * k_count];
                row[0] = theta * (k as f64 - mean);
                for j in 1..k_count {
                    row[j] = -probs[j];
                }
                if k >= 1 {
                    row[k] += 1.0;
                }
            }
        }
        Kind::Cumulative => {
            let at = a * theta;
            // σ(u_j) and σ(−u_j) per threshold j = 1..K−1, one exp each.
            let mut sig = [0.0; MAX_CATEGORIES];
            let mut sig_neg = [0.0; MAX_CATEGORIES];
            for j in 1..k_count {
                (sig[j], sig_neg[j]) = sigmoid_pair(at + d[j - 1]);
            }
            for k in 0..k_count {
                let row = &mut out[k * k_count..(k + 1) * k_count];
                if k >= 1 {
                    let s = sig_neg[k];
                    row[0] += theta * s;
                    row[k] += s;
                }
                if k + 1 < k_count {
                    let s = sig[k + 1];
                    row[0] -= theta * s;
                    row[k + 1] -= s;
                }
                if k >= 1 && k + 1 < k_count {
                    // ∂/∂d_k log(1 − e^{d_{k+1} − d_k}) = 1/(e^{d_k − d_{k+1}} − 1)
                    row[k] += inv_gap[k];
                    row[k + 1] -= inv_gap[k];
                }
            }
        }
    }
}

/// Second derivatives of `log P(X = k | θ)` with respect to `(a, d_1..d_{K−1})`
/// for every category k: `out` holds K blocks of K×K (block k is category k,
/// row-major). The observed information of the marginal likelihood needs
/// them (Louis's identity); the M-step does not, because for divide-by-total
/// models the Hessian equals minus the expected information.
///
/// `scores` are the first derivatives from [`param_scores_with`] at the same
/// θ. Divide-by-total: `log P_k` is linear in the parameters minus a
/// log-sum-exp, so the Hessian is `−Σ_j P_j s_j s_jᵀ`, the same for every k.
/// Graded: `log P_k = log σ(u) + log σ(−v) + log(1 − e^{d_{k+1} − d_k})`
/// with `u = aθ + d_k`, `v = aθ + d_{k+1}`; `(log σ)'' = −σ(x)σ(−x)`, and
/// `g(δ) = log(1 − e^{−δ})` has `g'' = −(c + c²)` with `c = 1/(e^δ − 1)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn param_hessians_with(
    kind: Kind,
    a: f64,
    d: &[f64],
    inv_gap: &[f64],
    theta: f64,
    probs: &[f64],
    scores: &[f64],
    out: &mut [f64],
) {
    let kc = d.len() + 1;
    debug_assert_eq!(out.len(), n_categories(kind, d) * kc * kc);
    out.fill(0.0);
    match kind {
        Kind::Guessing => {
            // Blocks of 3×3 in (a, d, γ); z = aθ + d is linear in (a, d).
            let z = a * theta + d[0];
            let (s, s_neg) = sigmoid_pair(z);
            let g = sigmoid(d[1]);
            let zz = |h: &mut [f64], c: f64| {
                h[0] += c * theta * theta;
                h[1] += c * theta;
                h[3] += c * theta;
                h[4] += c;
            };
            let (h0, h1) = out.split_at_mut(9);
            zz(h0, -s * s_neg);
            h0[8] = -g * (1.0 - g);
            let t = guessing_terms(d, z);
            let (w, v) = (t.w, t.one_minus_w);
            zz(h1, s_neg * w * (s_neg * v - s));
            let cross = -s_neg * w * v;
            h1[2] = theta * cross;
            h1[6] = theta * cross;
            h1[5] = cross;
            h1[7] = cross;
            let s_gamma = (1.0 - g) * s_neg * v;
            h1[8] = s_gamma * ((1.0 - 2.0 * g) - s_gamma);
        }
        Kind::Adjacent => {
            let (first, rest) = out.split_at_mut(kc * kc);
            for (j, &p) in probs.iter().enumerate() {
                let s = &scores[j * kc..(j + 1) * kc];
                for x in 0..kc {
                    for y in 0..kc {
                        first[x * kc + y] -= p * s[x] * s[y];
                    }
                }
            }
            for block in rest.chunks_exact_mut(kc * kc) {
                block.copy_from_slice(first);
            }
        }
        Kind::Cumulative => {
            // A logistic term in `x = aθ + d_j` adds −σ(x)σ(−x)·(θ, 1)(θ, 1)ᵀ
            // on the rows and columns (a, d_j).
            let logistic = |h: &mut [f64], j: usize| {
                let (s, s_neg) = sigmoid_pair(a * theta + d[j - 1]);
                let c = -s * s_neg;
                h[0] += c * theta * theta;
                h[j] += c * theta;
                h[j * kc] += c * theta;
                h[j * kc + j] += c;
            };
            for k in 0..kc {
                let h = &mut out[k * kc * kc..(k + 1) * kc * kc];
                if k >= 1 {
                    logistic(h, k);
                }
                if k + 1 < kc {
                    logistic(h, k + 1);
                }
                if k >= 1 && k + 1 < kc {
                    let c = inv_gap[k];
                    let g2 = -(c + c * c);
                    h[k * kc + k] += g2;
                    h[(k + 1) * kc + k + 1] += g2;
                    h[k * kc + k + 1] -= g2;
                    h[(k + 1) * kc + k] -= g2;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_theta(item: &Item, theta: f64, k: usize) -> (f64, f64) {
        let h = 1e-4;
        let mut lp = vec![0.0; item.categories()];
        let mut at = |t: f64| {
            item.log_probs(t, &mut lp);
            lp[k]
        };
        let (m, c, p) = (at(theta - h), at(theta), at(theta + h));
        ((p - m) / (2.0 * h), (p - 2.0 * c + m) / (h * h))
    }

    fn items() -> Vec<Item> {
        vec![
            Item::new("r", Model::Rasch, 1.3, vec![0.4]).unwrap(),
            Item::new("t", Model::TwoPl, 0.7, vec![-1.1]).unwrap(),
            Item::new("g", Model::Graded, 1.6, vec![2.0, 0.5, -0.3, -2.2]).unwrap(),
            Item::new("p", Model::PartialCredit, 0.9, vec![1.0, 0.7, -0.8]).unwrap(),
            Item::three_pl("c", 1.4, -0.6, 0.22).unwrap(),
            Item::three_pl("c2", 0.6, 1.5, 0.05).unwrap(),
        ]
    }

    #[test]
    fn probabilities_sum_to_one_even_far_out() {
        for item in items() {
            for theta in [-40.0, -6.0, -0.3, 0.0, 2.5, 6.0, 40.0] {
                let mut p = vec![0.0; item.categories()];
                item.probs(theta, &mut p);
                let sum: f64 = p.iter().sum();
                assert!(
                    (sum - 1.0).abs() < 1e-12,
                    "{} θ={theta}: {sum}",
                    item.name()
                );
                assert!(p.iter().all(|&v| v >= 0.0));
            }
        }
    }

    /// GRM category probabilities by hand: a = 1, d = (1, −1) at θ = 0:
    /// P*_1 = σ(1) = 0.7310586, P*_2 = σ(−1) = 0.2689414, so
    /// P_0 = 1 − 0.7310586 = 0.2689414, P_1 = 0.7310586 − 0.2689414 = 0.4621172,
    /// P_2 = 0.2689414.
    #[test]
    fn graded_probabilities_by_hand() {
        let item = Item::new("g", Model::Graded, 1.0, vec![1.0, -1.0]).unwrap();
        let mut p = [0.0; 3];
        item.probs(0.0, &mut p);
        assert!((p[0] - 0.268_941_4).abs() < 1e-7);
        assert!((p[1] - 0.462_117_2).abs() < 1e-7);
        assert!((p[2] - 0.268_941_4).abs() < 1e-7);
        // θ = 1, a = 2: P*_1 = σ(3) = 0.9525741, P*_2 = σ(1) = 0.7310586.
        let item = Item::new("g", Model::Graded, 2.0, vec![1.0, -1.0]).unwrap();
        item.probs(1.0, &mut p);
        assert!((p[0] - (1.0 - 0.952_574_1)).abs() < 1e-7);
        assert!((p[1] - (0.952_574_1 - 0.731_058_6)).abs() < 1e-7);
        assert!((p[2] - 0.731_058_6).abs() < 1e-7);
    }

    /// GPCM by hand: a = 1, d = (0.5, 0) at θ = 1: numerators exp(0) = 1,
    /// exp(1 + 0.5) = 4.481689, exp(2 + 0) = 7.389056; total 12.870745.
    #[test]
    fn partial_credit_probabilities_by_hand() {
        let item = Item::new("p", Model::PartialCredit, 1.0, vec![0.5, 0.0]).unwrap();
        let mut p = [0.0; 3];
        item.probs(1.0, &mut p);
        let total = 1.0 + 4.481_689 + 7.389_056;
        assert!((p[0] - 1.0 / total).abs() < 1e-6);
        assert!((p[1] - 4.481_689 / total).abs() < 1e-6);
        assert!((p[2] - 7.389_056 / total).abs() < 1e-6);
        // Step difficulties: −(0.5 − 0)/1 and −(0 − 0.5)/1.
        assert_eq!(item.b(), vec![-0.5, 0.5]);
    }

    #[test]
    fn theta_derivatives_match_finite_differences() {
        for item in items() {
            for theta in [-2.5, -0.4, 0.0, 1.3] {
                for k in 0..item.categories() {
                    let (g, h) = item.theta_derivatives(theta, k);
                    let (ng, nh) = numeric_theta(&item, theta, k);
                    assert!(
                        (g - ng).abs() < 1e-6,
                        "{} k={k} θ={theta}: {g} vs {ng}",
                        item.name()
                    );
                    assert!(
                        (h - nh).abs() < 1e-4,
                        "{} k={k} θ={theta}: {h} vs {nh}",
                        item.name()
                    );
                }
            }
        }
    }

    /// `(a, d..)` as the low-level functions take them (for a 3PL item
    /// `(a, d, logit g)`).
    fn flat(item: &Item) -> Vec<f64> {
        std::iter::once(item.a())
            .chain(item.kernel_d().iter().copied())
            .collect()
    }

    #[test]
    fn parameter_scores_match_finite_differences() {
        for item in items() {
            let (kc, np) = (item.categories(), item.parameters());
            for theta in [-1.7, 0.2, 2.1] {
                let mut probs = vec![0.0; kc];
                item.probs(theta, &mut probs);
                let mut scores = vec![0.0; kc * np];
                let kind = item.model().kind();
                param_scores(kind, item.a(), item.kernel_d(), theta, &probs, &mut scores);
                let mut params = flat(&item);
                for j in 0..np {
                    let h = 1e-6;
                    let mut lp_at = |delta: f64| {
                        params[j] += delta;
                        let mut lp = vec![0.0; kc];
                        log_probs(kind, params[0], &params[1..], theta, &mut lp);
                        params[j] -= delta;
                        lp
                    };
                    let (plus, minus) = (lp_at(h), lp_at(-h));
                    for k in 0..kc {
                        let numeric = (plus[k] - minus[k]) / (2.0 * h);
                        let analytic = scores[k * np + j];
                        assert!(
                            (numeric - analytic).abs() < 1e-6,
                            "{} θ={theta} k={k} param {j}: {analytic} vs {numeric}",
                            item.name()
                        );
                    }
                }
            }
        }
    }

    /// Every entry of the parameter Hessian of `log P_k` against central
    /// differences of the analytic scores (themselves checked above).
    #[test]
    fn parameter_hessians_match_finite_differences() {
        for item in items() {
            let (kc, np) = (item.categories(), item.parameters());
            let kind = item.model().kind();
            let scores_at = |params: &[f64], theta: f64| {
                let mut probs = vec![0.0; kc];
                let mut lp = vec![0.0; kc];
                log_probs(kind, params[0], &params[1..], theta, &mut lp);
                for (p, l) in probs.iter_mut().zip(&lp) {
                    *p = l.exp();
                }
                let mut s = vec![0.0; kc * np];
                param_scores(kind, params[0], &params[1..], theta, &probs, &mut s);
                (probs, s)
            };
            for theta in [-1.7, 0.2, 2.1] {
                let params = flat(&item);
                let (probs, scores) = scores_at(&params, theta);
                let (mut log_gap, mut inv_gap) = (vec![0.0; kc], vec![0.0; kc]);
                graded_gaps(item.d(), &mut log_gap, &mut inv_gap);
                let mut hess = vec![0.0; kc * np * np];
                param_hessians_with(
                    kind,
                    item.a(),
                    item.kernel_d(),
                    &inv_gap,
                    theta,
                    &probs,
                    &scores,
                    &mut hess,
                );
                for y in 0..np {
                    let h = 1e-6;
                    let (mut plus, mut minus) = (params.clone(), params.clone());
                    plus[y] += h;
                    minus[y] -= h;
                    let (sp, sm) = (scores_at(&plus, theta).1, scores_at(&minus, theta).1);
                    for k in 0..kc {
                        for x in 0..np {
                            let numeric = (sp[k * np + x] - sm[k * np + x]) / (2.0 * h);
                            let analytic = hess[k * np * np + x * np + y];
                            assert!(
                                (numeric - analytic).abs() < 1e-6,
                                "{} θ={theta} k={k} ({x}, {y}): {analytic} vs {numeric}",
                                item.name()
                            );
                        }
                    }
                }
            }
        }
    }

    /// 3PL by hand: a = 1.2, d = −0.5, g = 0.2 at θ = 1: z = 0.7,
    /// σ(0.7) = 0.6681878, P_1 = 0.2 + 0.8·0.6681878 = 0.7345502; and the
    /// information `a²·(P − g)²·Q / ((1 − g)²·P)`.
    #[test]
    fn three_pl_probabilities_and_information_by_hand() {
        let item = Item::three_pl("c", 1.2, -0.5, 0.2).unwrap();
        assert_eq!(item.categories(), 2);
        assert_eq!(item.parameters(), 3);
        assert_eq!(item.d(), &[-0.5]);
        assert_eq!(item.g(), Some(0.2));
        let mut p = [0.0; 2];
        item.probs(1.0, &mut p);
        assert!((p[1] - 0.734_550_2).abs() < 1e-7, "{p:?}");
        assert!((p[0] - (1.0 - 0.734_550_2)).abs() < 1e-7, "{p:?}");
        for theta in [-30.0, -3.0, -0.4, 0.0, 1.0, 2.5, 30.0] {
            item.probs(theta, &mut p);
            let (g, a) = (0.2, 1.2);
            let p1 = g + (1.0 - g) * sigmoid(a * theta - 0.5);
            assert!((p[1] - p1).abs() < 1e-14, "θ={theta}");
            let q = 1.0 - p1;
            let expected = a * a * (p1 - g).powi(2) * q / ((1.0 - g).powi(2) * p1);
            let info = item.information(theta);
            assert!(
                (info - expected).abs() < 1e-12 * (1.0 + expected),
                "θ={theta}: {info} vs {expected}"
            );
        }
        // Far below, P_1 tends to g and log P_0 to log(1 − g).
        item.probs(-60.0, &mut p);
        assert!((p[1] - 0.2).abs() < 1e-15);
        assert_eq!(item.b(), vec![0.5 / 1.2]);
        assert!(Item::three_pl("x", 1.0, 0.0, 0.0).is_err());
        assert!(Item::three_pl("x", 1.0, 0.0, 1.0).is_err());
        assert!(Item::three_pl("x", 1.0, f64::NAN, 0.2).is_err());
        assert!(Item::new("x", Model::ThreePl, 1.0, vec![0.0]).is_err());
        assert_eq!("3PL".parse::<Model>().unwrap(), Model::ThreePl);
    }

    /// The closed forms against the definition `Σ_k P_k (∂ log P_k/∂θ)²`
    /// from `log_probs` and `theta_derivatives`, over models, category counts
    /// and θ far into the tails.
    #[test]
    fn closed_form_information_is_the_definition() {
        let items = [
            Item::new("2pl", Model::TwoPl, 1.7, vec![-0.4]).unwrap(),
            Item::new("neg", Model::TwoPl, -0.9, vec![0.6]).unwrap(),
            Item::new("r", Model::Rasch, 1.1, vec![0.5, -0.3, 0.2]).unwrap(),
            Item::new("pc", Model::PartialCredit, 0.8, vec![1.2, 0.7, -0.5, -2.0]).unwrap(),
            Item::new("g2", Model::Graded, 2.3, vec![0.4]).unwrap(),
            Item::new("g5", Model::Graded, 1.6, vec![2.9, 1.3, -0.2, -1.8]).unwrap(),
            Item::new("close", Model::Graded, 2.8, vec![0.51, 0.5, 0.49]).unwrap(),
            Item::three_pl("3pl", 1.4, -0.6, 0.22).unwrap(),
        ];
        for item in &items {
            for theta in [-12.0, -5.0, -2.2, -0.7, 0.0, 0.31, 1.9, 4.0, 12.0] {
                let mut lp = vec![0.0; item.categories()];
                item.log_probs(theta, &mut lp);
                let definition: f64 = lp
                    .iter()
                    .enumerate()
                    .map(|(k, &l)| l.exp() * item.theta_derivatives(theta, k).0.powi(2))
                    .sum();
                let closed = item.information(theta);
                assert!(
                    (closed - definition).abs() <= 1e-12 * definition.max(1e-300) + 1e-300,
                    "{} θ={theta}: {closed} vs {definition}",
                    item.name()
                );
            }
        }
    }

    #[test]
    fn information_of_a_2pl_item_is_a2_p_q() {
        let item = Item::new("t", Model::TwoPl, 1.5, vec![0.3]).unwrap();
        let p = sigmoid(1.5 * 0.8 + 0.3);
        assert!((item.information(0.8) - 2.25 * p * (1.0 - p)).abs() < 1e-12);
    }

    #[test]
    fn invalid_parameters_are_refused_with_the_item_named() {
        let err = Item::new("q7", Model::Graded, 1.0, vec![0.5, 0.9]).unwrap_err();
        assert!(err.to_string().contains("q7"), "{err}");
        assert!(Item::new("x", Model::TwoPl, 1.0, vec![0.1, 0.2]).is_err());
        assert!(Item::new("x", Model::TwoPl, f64::NAN, vec![0.1]).is_err());
        assert!(Item::new("x", Model::PartialCredit, 1.0, vec![]).is_err());
    }

    #[test]
    fn irt_metric_of_graded_items() {
        let item = Item::new("g", Model::Graded, 2.0, vec![1.0, -3.0]).unwrap();
        assert_eq!(item.b(), vec![-0.5, 1.5]);
    }
}
