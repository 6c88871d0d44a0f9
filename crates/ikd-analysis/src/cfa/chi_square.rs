//! The χ² distribution, central and noncentral, as far as the fit measures
//! need it: upper-tail p-values and the noncentrality parameters that bound
//! the RMSEA interval.
//!
//! `statrs` has the central distribution (through the regularised incomplete
//! gamma function) but not the noncentral one, so its CDF is summed here as
//! the Poisson mixture of central χ² CDFs (Johnson, Kotz & Balakrishnan,
//! *Continuous Univariate Distributions* vol. 2, 2nd ed., eq. 29.2):
//!
//! `P(χ²_df(λ) ≤ x) = Σ_j e^{−λ/2} (λ/2)^j / j! · P(χ²_{df+2j} ≤ x)`.
//!
//! The sum starts at the Poisson mode and walks outwards until the remaining
//! weights cannot change the result, so it costs O(√λ) terms even for the
//! large noncentralities of badly fitting models on many respondents.

use statrs::function::gamma::{gamma_lr, gamma_ur, ln_gamma};

/// `P(χ²_df(ncp) ≤ x)`.
pub(crate) fn cdf(x: f64, df: f64, ncp: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if ncp <= 0.0 {
        return gamma_lr(df / 2.0, x / 2.0);
    }
    let mu = ncp / 2.0;
    let weight = |j: f64| (-mu + j * mu.ln() - ln_gamma(j + 1.0)).exp();
    let term = |j: f64| weight(j) * gamma_lr(df / 2.0 + j, x / 2.0);
    let mode = mu.floor();
    let (mut sum, mut mass) = (term(mode), weight(mode));
    // Upwards: the central CDFs fall with j, the weights past the mode too.
    let mut j = mode + 1.0;
    loop {
        let w = weight(j);
        sum += w * gamma_lr(df / 2.0 + j, x / 2.0);
        mass += w;
        if w < 1e-17 * mass.max(1e-300) {
            break;
        }
        j += 1.0;
    }
    // Downwards to 0.
    let mut j = mode - 1.0;
    while j >= 0.0 {
        let w = weight(j);
        sum += w * gamma_lr(df / 2.0 + j, x / 2.0);
        mass += w;
        if w < 1e-17 * mass {
            break;
        }
        j -= 1.0;
    }
    sum.clamp(0.0, 1.0)
}

/// `P(χ²_df > x)`, central: the p-value of a χ² test.
pub(crate) fn upper_tail(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    gamma_ur(df / 2.0, x / 2.0)
}

/// The noncentrality λ ≥ 0 at which `P(χ²_df(λ) ≤ x) = p`, or `None` when
/// even λ = 0 gives less than `p` (the CDF only falls as λ grows).
///
/// Bisection on a bracket found by doubling: the CDF is monotone in λ, so
/// bisection cannot fail, and 200 halvings reach the float resolution.
pub(crate) fn noncentrality_for(x: f64, df: f64, p: f64) -> Option<f64> {
    if cdf(x, df, 0.0) < p {
        return None;
    }
    let mut hi = x.max(1.0);
    while cdf(x, df, hi) > p {
        hi *= 2.0;
        if !hi.is_finite() {
            return None;
        }
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if cdf(x, df, mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn central_values_match_the_tables() {
        // χ²_.95(1) = 3.841459, χ²_.95(10) = 18.307038.
        assert!((cdf(3.841_459, 1.0, 0.0) - 0.95).abs() < 1e-6);
        assert!((upper_tail(18.307_038, 10.0) - 0.05).abs() < 1e-7);
        // χ²(2) is exponential with mean 2: P(≤ x) = 1 − e^{−x/2}.
        assert!((cdf(3.0, 2.0, 0.0) - (1.0 - (-1.5f64).exp())).abs() < 1e-14);
    }

    #[test]
    fn noncentral_values_match_closed_forms() {
        // df = 1, λ: χ²_1(λ) = (Z + √λ)², so P(≤ x) = Φ(√x − √λ) − Φ(−√x − √λ).
        let phi = |z: f64| 0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2);
        for (x, ncp) in [(2.0, 1.0), (10.0, 4.0), (150.0, 120.0), (4000.0, 3900.0)] {
            let want = phi(f64::sqrt(x) - f64::sqrt(ncp)) - phi(-f64::sqrt(x) - f64::sqrt(ncp));
            assert!((cdf(x, 1.0, ncp) - want).abs() < 1e-10, "{x} {ncp}");
        }
        // R 4.2.2: print(pchisq(30, 20, ncp = 5), digits = 10) = 0.7600329202.
        assert!((cdf(30.0, 20.0, 5.0) - 0.760_032_920_2).abs() < 1e-9);
    }

    #[test]
    fn the_noncentrality_is_recovered_from_its_cdf() {
        let lambda = noncentrality_for(85.3, 24.0, 0.05).unwrap();
        assert!((cdf(85.3, 24.0, lambda) - 0.05).abs() < 1e-12);
        assert!(noncentrality_for(5.0, 24.0, 0.95).is_none());
    }
}
