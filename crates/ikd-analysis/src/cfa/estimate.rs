//! Maximum-likelihood estimation of a simple-structure factor model by
//! Fisher scoring.
//!
//! The model covariance is `Σ = ΛΦΛᵀ + Θ`: item i loads `λ_i` on its factor
//! f(i), factors have variance 1 and correlations `φ_fg`, `Θ` is diagonal.
//! The fit function is the normal-theory discrepancy
//!
//! `F(Σ) = log|Σ| + tr(SΣ⁻¹) − log|S| − p`,
//!
//! with gradient `∂F/∂x_a = tr(M(Σ − S)M·Σ_a)` (`M = Σ⁻¹`, `Σ_a = ∂Σ/∂x_a`)
//! and expected second derivatives (Fisher information) `H_ab = tr(MΣ_aMΣ_b)`
//! (e.g. Bollen, *Structural Equations with Latent Variables*, 1989, ch. 4;
//! Lee & Jennrich 1979, *Psychometrika* 44, 99–113). Each `Σ_a` here is a symmetric rank-two matrix
//! `u_a v_aᵀ + v_a u_aᵀ`:
//!
//! | parameter | u | v |
//! |---|---|---|
//! | loading λ_i | e_i | column f(i) of ΛΦ |
//! | residual variance θ_i | e_i | e_i / 2 |
//! | correlation φ_fg | column f of Λ | column g of Λ |
//!
//! so that `tr(EΣ_a) = 2·u_aᵀE v_a` and
//! `H_ab = 2[(u_aᵀMu_b)(v_aᵀMv_b) + (u_aᵀMv_b)(v_aᵀMu_b)]`: the whole
//! information matrix costs a few products of `p × q` matrices, not `q²`
//! traces of `p × p` ones.
//!
//! Each iteration solves `H·δ = −g` and halves the step until F falls with Σ
//! positive definite. It stops when the squared Newton decrement `gᵀH⁻¹g`
//! (about twice the distance of F from its minimum) is below the tolerance.
//!
//! **Starting values** (they choose the start, not the end point): residual
//! variances `θ_i = s_ii/2`, loadings `λ_i = ±√(s_ii/2)` with the sign of the
//! item's summed covariance with the other items of its factor, factor
//! correlations 0. Σ is then positive definite, which is all the scoring needs.

use super::model::CfaModel;
use crate::linalg;

/// The estimates and how the search ended.
pub(crate) struct Estimates {
    pub(crate) lambda: Vec<f64>,
    pub(crate) theta: Vec<f64>,
    /// `m × m`, unit diagonal.
    pub(crate) phi: Vec<f64>,
    /// `Σ` at the estimates (`p × p`).
    pub(crate) sigma: Vec<f64>,
    /// F at the estimates.
    pub(crate) f: f64,
    pub(crate) iterations: usize,
    pub(crate) converged: bool,
}

/// The parameters as one vector `x = (λ_1..λ_p, θ_1..θ_p, φ_21, φ_31, φ_32, …)`.
struct Layout {
    p: usize,
    m: usize,
    factor_of: Vec<usize>,
    /// The factor pairs (f, g), f > g, in the order of `x`.
    pairs: Vec<(usize, usize)>,
}

impl Layout {
    fn q(&self) -> usize {
        2 * self.p + self.pairs.len()
    }

    fn split<'a>(&self, x: &'a [f64]) -> (&'a [f64], &'a [f64], Vec<f64>) {
        let (lambda, rest) = x.split_at(self.p);
        let (theta, correlations) = rest.split_at(self.p);
        let mut phi = vec![0.0; self.m * self.m];
        for f in 0..self.m {
            phi[f * self.m + f] = 1.0;
        }
        for (&(f, g), &r) in self.pairs.iter().zip(correlations) {
            phi[f * self.m + g] = r;
            phi[g * self.m + f] = r;
        }
        (lambda, theta, phi)
    }

    /// `Σ = ΛΦΛᵀ + Θ`.
    fn sigma(&self, x: &[f64]) -> Vec<f64> {
        let (lambda, theta, phi) = self.split(x);
        let p = self.p;
        let mut sigma = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..=i {
                let mut v =
                    lambda[i] * lambda[j] * phi[self.factor_of[i] * self.m + self.factor_of[j]];
                if i == j {
                    v += theta[i];
                }
                sigma[i * p + j] = v;
                sigma[j * p + i] = v;
            }
        }
        sigma
    }

    /// The vectors `u_a`, `v_a` with `∂Σ/∂x_a = u_a v_aᵀ + v_a u_aᵀ`, each
    /// `q × p` (parameter-major).
    fn derivative_vectors(&self, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (lambda, _, phi) = self.split(x);
        let (p, q) = (self.p, self.q());
        let mut u = vec![0.0; q * p];
        let mut v = vec![0.0; q * p];
        for i in 0..p {
            // λ_i: u = e_i, v = (ΛΦ)_{·f(i)}.
            u[i * p + i] = 1.0;
            let fi = self.factor_of[i];
            for k in 0..p {
                v[i * p + k] = lambda[k] * phi[self.factor_of[k] * self.m + fi];
            }
            // θ_i: u = e_i, v = e_i / 2.
            let a = p + i;
            u[a * p + i] = 1.0;
            v[a * p + i] = 0.5;
        }
        for (c, &(f, g)) in self.pairs.iter().enumerate() {
            let a = 2 * p + c;
            for k in 0..p {
                if self.factor_of[k] == f {
                    u[a * p + k] = lambda[k];
                }
                if self.factor_of[k] == g {
                    v[a * p + k] = lambda[k];
                }
            }
        }
        (u, v)
    }
}

/// F at `sigma`, with `Σ⁻¹`; `None` when Σ is not positive definite.
fn discrepancy(s: &[f64], log_det_s: f64, sigma: &[f64], p: usize) -> Option<(f64, Vec<f64>)> {
    let l = linalg::cholesky(sigma, p)?;
    let inv = linalg::inverse(&l, p);
    let trace: f64 = s.iter().zip(&inv).map(|(a, b)| a * b).sum();
    let f = linalg::log_det(&l, p) + trace - log_det_s - p as f64;
    f.is_finite().then_some((f, inv))
}

/// `A·B` for row-major `A` (`r × k`) and `B` (`k × c`).
fn multiply(a: &[f64], b: &[f64], r: usize, k: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; r * c];
    for i in 0..r {
        for t in 0..k {
            let ait = a[i * k + t];
            if ait == 0.0 {
                continue;
            }
            for (o, bt) in out[i * c..(i + 1) * c]
                .iter_mut()
                .zip(&b[t * c..(t + 1) * c])
            {
                *o += ait * bt;
            }
        }
    }
    out
}

/// `Xᵀ·Y` for parameter-major `X`, `Y` (`q × p` each): the `q × q` matrix of
/// the dot products of their rows.
fn grams(x: &[f64], y: &[f64], q: usize, p: usize) -> Vec<f64> {
    let mut out = vec![0.0; q * q];
    for a in 0..q {
        let xa = &x[a * p..(a + 1) * p];
        for b in 0..q {
            out[a * q + b] = xa
                .iter()
                .zip(&y[b * p..(b + 1) * p])
                .map(|(s, t)| s * t)
                .sum();
        }
    }
    out
}

/// Gradient and Fisher information of F at `x`.
fn gradient_and_information(
    layout: &Layout,
    x: &[f64],
    s: &[f64],
    sigma: &[f64],
    inv: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let (p, q) = (layout.p, layout.q());
    let (u, v) = layout.derivative_vectors(x);
    // E = M(Σ − S)M.
    let diff: Vec<f64> = sigma.iter().zip(s).map(|(a, b)| a - b).collect();
    let e = multiply(&multiply(inv, &diff, p, p, p), inv, p, p, p);
    // Rows of U·M and V·M (M symmetric): (Mu_a)ᵀ, (Mv_a)ᵀ.
    let mu = multiply(&u, inv, q, p, p);
    let mv = multiply(&v, inv, q, p, p);
    let ev = multiply(&v, &e, q, p, p);
    let gradient: Vec<f64> = (0..q)
        .map(|a| {
            2.0 * u[a * p..(a + 1) * p]
                .iter()
                .zip(&ev[a * p..(a + 1) * p])
                .map(|(s, t)| s * t)
                .sum::<f64>()
        })
        .collect();
    let umu = grams(&u, &mu, q, p);
    let vmv = grams(&v, &mv, q, p);
    let umv = grams(&u, &mv, q, p);
    let mut info = vec![0.0; q * q];
    for a in 0..q {
        for b in 0..q {
            info[a * q + b] =
                2.0 * (umu[a * q + b] * vmv[a * q + b] + umv[a * q + b] * umv[b * q + a]);
        }
    }
    (gradient, info)
}

/// Solves `H·δ = −g`, adding a growing multiple of diag(H) when H is not
/// numerically positive definite (a Levenberg–Marquardt safeguard for
/// near-unidentified models).
fn scoring_step(info: &[f64], gradient: &[f64], q: usize) -> Option<Vec<f64>> {
    let minus_g: Vec<f64> = gradient.iter().map(|g| -g).collect();
    let mut ridge = 0.0;
    for _ in 0..30 {
        let mut h = info.to_vec();
        for a in 0..q {
            h[a * q + a] *= 1.0 + ridge;
        }
        if let Some(l) = linalg::cholesky(&h, q) {
            return Some(linalg::solve(&l, q, &minus_g));
        }
        ridge = if ridge == 0.0 { 1e-8 } else { ridge * 10.0 };
    }
    None
}

/// Starting values (see the module documentation).
fn start(layout: &Layout, s: &[f64]) -> Vec<f64> {
    let p = layout.p;
    let mut x = vec![0.0; layout.q()];
    for i in 0..p {
        let half = s[i * p + i] / 2.0;
        let mates: f64 = (0..p)
            .filter(|&j| j != i && layout.factor_of[j] == layout.factor_of[i])
            .map(|j| s[i * p + j])
            .sum();
        x[i] = half.sqrt() * if mates < 0.0 { -1.0 } else { 1.0 };
        x[p + i] = half;
    }
    x
}

/// Fits `model` to `s` (the `p × p` covariances of the model's items, in
/// model order, with `log|S|` = `log_det_s`).
pub(crate) fn estimate(
    model: &CfaModel,
    s: &[f64],
    log_det_s: f64,
    max_iterations: usize,
    tolerance: f64,
) -> Option<Estimates> {
    let factor_of = model.factor_of_items();
    let m = model.factors().len();
    let layout = Layout {
        p: factor_of.len(),
        m,
        pairs: (0..m).flat_map(|f| (0..f).map(move |g| (f, g))).collect(),
        factor_of,
    };
    let (p, q) = (layout.p, layout.q());
    let mut x = start(&layout, s);
    let mut sigma = layout.sigma(&x);
    let (mut f, mut inv) = discrepancy(s, log_det_s, &sigma, p)?;
    let (mut iterations, mut converged) = (0, false);
    while iterations < max_iterations {
        iterations += 1;
        let (gradient, info) = gradient_and_information(&layout, &x, s, &sigma, &inv);
        let Some(delta) = scoring_step(&info, &gradient, q) else {
            break;
        };
        let decrement: f64 = -gradient.iter().zip(&delta).map(|(g, d)| g * d).sum::<f64>();
        if decrement.abs() < tolerance {
            converged = true;
            break;
        }
        let mut step = 1.0;
        let mut moved = false;
        for _ in 0..40 {
            let trial: Vec<f64> = x.iter().zip(&delta).map(|(a, d)| a + step * d).collect();
            let trial_sigma = layout.sigma(&trial);
            if let Some((trial_f, trial_inv)) = discrepancy(s, log_det_s, &trial_sigma, p)
                && trial_f <= f + 1e-14 * f.abs().max(1.0)
            {
                (x, sigma, f, inv) = (trial, trial_sigma, trial_f, trial_inv);
                moved = true;
                break;
            }
            step /= 2.0;
        }
        if !moved {
            // No step lowers F any further: the minimum at float precision,
            // when the decrement says so; otherwise a failed search.
            converged = decrement.abs() < tolerance.sqrt();
            break;
        }
    }
    let (lambda, theta, phi) = layout.split(&x);
    let (mut lambda, theta, mut phi) = (lambda.to_vec(), theta.to_vec(), phi);
    orient(&layout, &mut lambda, &mut phi);
    Some(Estimates {
        lambda,
        theta,
        phi,
        sigma,
        f,
        iterations,
        converged,
    })
}

/// A factor's sign is arbitrary (flipping its loadings and its correlations
/// leaves Σ unchanged): each factor is turned so its loadings sum to a
/// positive number, so a factor means "more of" what its items measure.
fn orient(layout: &Layout, lambda: &mut [f64], phi: &mut [f64]) {
    let m = layout.m;
    for f in 0..m {
        let sum: f64 = (0..layout.p)
            .filter(|&i| layout.factor_of[i] == f)
            .map(|i| lambda[i])
            .sum();
        if sum >= 0.0 {
            continue;
        }
        for i in (0..layout.p).filter(|&i| layout.factor_of[i] == f) {
            lambda[i] = -lambda[i];
        }
        for g in (0..m).filter(|&g| g != f) {
            phi[f * m + g] = -phi[f * m + g];
            phi[g * m + f] = -phi[g * m + f];
        }
    }
}
