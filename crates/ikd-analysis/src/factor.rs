//! The one-factor model behind McDonald's ω, fitted by minimum residual.
//!
//! Minimum residual (unweighted least squares on the off-diagonal entries) is
//! R `psych::fa`'s default `fm = "minres"`, which `psych::omega` uses: it needs
//! no normality and behaves with the coarse item scores of short scales.
//!
//! For one factor the fit minimises `Σ_{j<l} (r_jl − λ_j·λ_l)²`. Holding the
//! other loadings fixed, the best `λ_j` is `Σ_{l≠j} r_jl·λ_l / Σ_{l≠j} λ_l²`;
//! cycling through the items (coordinate descent) decreases the residual at
//! every step and stops at its minimum. As in `psych::fa`, uniquenesses are
//! kept at or above 0.005 (`λ_j² ≤ 0.995`); a loading held there is a
//! Heywood case and is reported.

use crate::matrix::Covariance;

/// The smallest uniqueness allowed (psych's lower bound in `fa`).
pub const MIN_UNIQUENESS: f64 = 0.005;

/// A fitted one-factor model of a correlation matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct OneFactor {
    /// λ_j, signed so that their sum is not negative.
    pub loadings: Vec<f64>,
    /// ψ_j = 1 − λ_j².
    pub uniquenesses: Vec<f64>,
    /// Σ_{j<l} (r_jl − λ_j·λ_l)²: what the model leaves unexplained.
    pub residual: f64,
    pub iterations: usize,
    pub converged: bool,
    /// Some loading was held at the bound λ² = 1 − [`MIN_UNIQUENESS`].
    pub heywood: bool,
}

/// Fits one factor to a correlation matrix by minimum residual.
///
/// `None` with fewer than three items (one factor is not identified by a
/// single correlation) or with a missing entry.
pub fn one_factor(r: &Covariance) -> Option<OneFactor> {
    let k = r.k();
    if k < 3 || !r.is_finite() {
        return None;
    }
    let bound = (1.0 - MIN_UNIQUENESS).sqrt();
    let mut lambda = first_component(r);
    let (mut iterations, mut converged) = (0, false);
    while iterations < 10_000 {
        iterations += 1;
        let mut change = 0.0f64;
        for j in 0..k {
            let (mut num, mut den) = (0.0, 0.0);
            for l in (0..k).filter(|&l| l != j) {
                num += r.get(j, l) * lambda[l];
                den += lambda[l] * lambda[l];
            }
            if den <= 0.0 {
                continue;
            }
            let next = (num / den).clamp(-bound, bound);
            change = change.max((next - lambda[j]).abs());
            lambda[j] = next;
        }
        if change < 1e-12 {
            converged = true;
            break;
        }
    }
    if lambda.iter().sum::<f64>() < 0.0 {
        lambda.iter_mut().for_each(|x| *x = -*x);
    }
    let heywood = lambda.iter().any(|x| x.abs() >= bound - 1e-9);
    let mut residual = 0.0;
    for j in 0..k {
        for l in j + 1..k {
            residual += (r.get(j, l) - lambda[j] * lambda[l]).powi(2);
        }
    }
    Some(OneFactor {
        uniquenesses: lambda.iter().map(|x| 1.0 - x * x).collect(),
        loadings: lambda,
        residual,
        iterations,
        converged,
        heywood,
    })
}

/// Starting loadings: the first principal component (power iteration), scaled
/// by the square root of its eigenvalue.
fn first_component(r: &Covariance) -> Vec<f64> {
    let k = r.k();
    let mut v = vec![1.0 / (k as f64).sqrt(); k];
    let mut eigenvalue = 1.0;
    for _ in 0..200 {
        let w: Vec<f64> = (0..k)
            .map(|j| (0..k).map(|l| r.get(j, l) * v[l]).sum())
            .collect();
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            break;
        }
        eigenvalue = norm;
        v = w.into_iter().map(|x| x / norm).collect();
    }
    v.into_iter().map(|x| x * eigenvalue.sqrt()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(lambda: &[f64]) -> Covariance {
        let k = lambda.len();
        let mut values = vec![0.0; k * k];
        for j in 0..k {
            for l in 0..k {
                values[j * k + l] = if j == l { 1.0 } else { lambda[j] * lambda[l] };
            }
        }
        Covariance::from_values(k, values)
    }

    #[test]
    fn an_exact_one_factor_matrix_gives_back_its_loadings() {
        let truth = [0.8, 0.7, 0.6, 0.5];
        let fit = one_factor(&exact(&truth)).unwrap();
        assert!(fit.converged && !fit.heywood);
        for (got, want) in fit.loadings.iter().zip(truth) {
            assert!((got - want).abs() < 1e-8, "{:?}", fit.loadings);
        }
        assert!(fit.residual < 1e-14);
        assert!((fit.uniquenesses[0] - 0.36).abs() < 1e-8);
    }

    #[test]
    fn loadings_are_signed_to_a_positive_sum() {
        // Item 3 reversed: its correlations change sign, its loading too.
        let fit = one_factor(&exact(&[0.8, 0.7, -0.6, 0.5])).unwrap();
        assert!(fit.loadings[0] > 0.0 && fit.loadings[2] < 0.0);
        assert!((fit.loadings[2] + 0.6).abs() < 1e-8);
    }

    #[test]
    fn a_loading_beyond_one_is_held_at_the_bound() {
        // r_12·r_13 / r_23 = 0.9·0.9 / 0.5 = 1.62 > 1: λ_1 cannot be fitted inside.
        let r = Covariance::from_values(3, vec![1.0, 0.9, 0.9, 0.9, 1.0, 0.5, 0.9, 0.5, 1.0]);
        let fit = one_factor(&r).unwrap();
        assert!(fit.heywood);
        assert!((fit.uniquenesses[0] - MIN_UNIQUENESS).abs() < 1e-9);
    }

    #[test]
    fn two_items_do_not_identify_a_factor() {
        assert!(one_factor(&exact(&[0.8, 0.7])).is_none());
    }
}
