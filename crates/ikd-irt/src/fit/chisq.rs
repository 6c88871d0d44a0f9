//! Chi-square tail probabilities, and the RMSEA with its confidence interval
//! from the noncentral chi-square (mirt's `rmsea` and `RMSEA.CI`).

use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::gamma::{gamma_lr, ln_gamma};

/// `P(χ²_df > x)`; NaN when there are no degrees of freedom or `x` is NaN.
pub(crate) fn p_value(x: f64, df: usize) -> f64 {
    if df == 0 || x.is_nan() {
        return f64::NAN;
    }
    ChiSquared::new(df as f64).map_or(f64::NAN, |d| d.sf(x.max(0.0)))
}

/// `P(χ²_df(λ) ≤ x)`: the noncentral chi-square is a Poisson(λ/2) mixture of
/// central chi-squares with `df + 2j` degrees of freedom. Only the terms
/// within 12 Poisson standard deviations (plus 12) of the mode are summed;
/// the mass left out is below 1e−25.
pub(crate) fn noncentral_cdf(x: f64, df: f64, lambda: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if lambda <= 0.0 {
        return gamma_lr(df / 2.0, x / 2.0);
    }
    let m = lambda / 2.0;
    let spread = 12.0 * m.sqrt() + 12.0;
    let lo = (m - spread).max(0.0).floor() as u64;
    let hi = (m + spread).ceil() as u64;
    let ln_m = m.ln();
    (lo..=hi)
        .map(|j| {
            let j = j as f64;
            let weight = (-m + j * ln_m - ln_gamma(j + 1.0)).exp();
            weight * gamma_lr(df / 2.0 + j, x / 2.0)
        })
        .sum::<f64>()
        .min(1.0)
}

/// mirt's RMSEA: `√((X²/df − 1)/(N − 1))`, 0 when `X² ≤ df`, NaN without
/// degrees of freedom.
pub(crate) fn rmsea(x2: f64, df: usize, n: usize) -> f64 {
    if df == 0 || x2.is_nan() {
        return f64::NAN;
    }
    let excess = x2 / df as f64 - 1.0;
    if excess > 0.0 && n > 1 {
        (excess / (n - 1) as f64).sqrt()
    } else {
        0.0
    }
}

/// The `ci` interval of the RMSEA (mirt's `RMSEA.CI`): the noncentrality
/// λ at which the observed `x2` is the `(1 + ci)/2` quantile (lower bound)
/// and the `(1 − ci)/2` quantile (upper bound), searched on `[0, x2]` and
/// `[0, max(N, 5·x2)]`, reported as `√(λ/(N·df))`; a bound with no root in
/// its range is 0.
pub(crate) fn rmsea_interval(x2: f64, df: usize, n: usize, ci: f64) -> (f64, f64) {
    if df == 0 || !x2.is_finite() || n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let dff = df as f64;
    let scale = |lambda: f64| (lambda / (n as f64 * dff)).sqrt();
    let lower = noncentrality(x2, dff, (1.0 + ci) / 2.0, x2);
    let upper = noncentrality(x2, dff, (1.0 - ci) / 2.0, (n as f64).max(5.0 * x2));
    (scale(lower), scale(upper))
}

/// The λ in `[0, hi]` with `P(χ²_df(λ) ≤ x2) = target` (the CDF falls as λ
/// grows), by bisection; 0 when there is no root in the range.
fn noncentrality(x2: f64, df: f64, target: f64, hi: f64) -> f64 {
    let f = |lambda: f64| noncentral_cdf(x2, df, lambda) - target;
    if hi <= 0.0 || f(0.0) < 0.0 || f(hi) > 0.0 {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0, hi);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R: `pchisq(3, 2, lower.tail = FALSE)` = e^{−1.5} (closed form for 2 df).
    #[test]
    fn central_tail_in_closed_form() {
        assert!((p_value(3.0, 2) - (-1.5f64).exp()).abs() < 1e-12);
        assert!(p_value(1.0, 0).is_nan());
    }

    /// With 2 degrees of freedom and λ: the CDF at x is
    /// `1 − Q_1(√λ, √x)` (Marcum Q); numerically integrated here instead from
    /// the density `½ e^{−(x+λ)/2} I_0(√(λx))`.
    #[test]
    fn noncentral_cdf_matches_integrated_density() {
        let (x, lambda) = (7.5, 3.2);
        let bessel_i0 = |z: f64| {
            // Σ (z²/4)^k / (k!)²
            let mut term = 1.0;
            let mut sum = 1.0;
            for k in 1..200 {
                term *= z * z / 4.0 / (k as f64 * k as f64);
                sum += term;
            }
            sum
        };
        let density = |t: f64| 0.5 * (-(t + lambda) / 2.0).exp() * bessel_i0((lambda * t).sqrt());
        let steps = 200_000;
        let h = x / steps as f64;
        let integral: f64 = (0..steps).map(|i| density((i as f64 + 0.5) * h) * h).sum();
        assert!((noncentral_cdf(x, 2.0, lambda) - integral).abs() < 1e-8);
        // R: pchisq(7.5, 2, ncp = 3.2) and pchisq(40, 7, ncp = 25.5).
        assert!((noncentral_cdf(x, 2.0, lambda) - 0.763_425_256_828).abs() < 1e-10);
        assert!((noncentral_cdf(40.0, 7.0, 25.5) - 0.771_241_126_4).abs() < 1e-9);
    }

    #[test]
    fn rmsea_is_zero_below_the_degrees_of_freedom() {
        assert_eq!(rmsea(3.0, 5, 1000), 0.0);
        assert!((rmsea(15.0, 5, 1001) - (2.0f64 / 1000.0).sqrt()).abs() < 1e-15);
    }
}
