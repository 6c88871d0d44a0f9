//! How well a fitted model reproduces the covariances, by lavaan's
//! definitions (lavaan 0.6, `fitMeasures`, single group, ML with
//! `likelihood = "normal"`; the reference numbers in `tests/reference/`
//! come from it).

use super::chi_square;
use crate::reliability::Interval;

/// The fit of a model against its sample.
#[derive(Clone, Debug, PartialEq)]
pub struct FitMeasures {
    /// Respondents behind the covariances.
    pub n: usize,
    /// The minimum of `F_ML = log|Σ| + tr(SΣ⁻¹) − log|S| − p` (lavaan's
    /// `fmin` is half of it).
    pub f_min: f64,
    /// `χ² = N·F_min`, lavaan's default test statistic (N, not N − 1, with
    /// the ML covariances of denominator N).
    pub chi_square: f64,
    pub df: i64,
    /// `P(χ²_df > χ²)`; `None` for a saturated model (df = 0).
    pub p_value: Option<f64>,
    /// χ² and df of the baseline model (uncorrelated items, Σ = diag S):
    /// `N·(Σ log s_ii − log|S|)` on `p(p − 1)/2` df.
    pub baseline_chi_square: f64,
    pub baseline_df: i64,
    /// Comparative fit index (Bentler 1990):
    /// `1 − max(χ² − df, 0) / max(χ² − df, χ²_0 − df_0, 0)`, 1 when both are 0.
    pub cfi: f64,
    /// Tucker–Lewis index: `(χ²_0/df_0 − χ²/df) / (χ²_0/df_0 − 1)`; `None` when df = 0.
    pub tli: Option<f64>,
    /// `√(max(χ²/df − 1, 0) / N)` (Steiger & Lind 1980); 0 when df = 0, as lavaan.
    pub rmsea: f64,
    /// The 90 % interval of the RMSEA: `√(λ/(N·df))` at the noncentralities λ
    /// where `P(χ²_df(λ) ≤ χ²)` is 0.95 (lower) and 0.05 (upper), a bound
    /// 0 when no λ ≥ 0 reaches it. `None` when df = 0.
    pub rmsea_interval: Option<Interval>,
    /// "p-close": `P(χ²_df(λ₀) > χ²)` with `λ₀ = N·df·0.05²`, the test of
    /// RMSEA ≤ 0.05 (Browne & Cudeck 1993). `None` when df = 0.
    pub rmsea_p_close: Option<f64>,
    /// Standardised root mean square residual (lavaan's `srmr`, Bentler's):
    /// `√(mean_{i≤j} ((s_ij − σ_ij)/√(s_ii·s_jj))²)` over the `p(p + 1)/2`
    /// distinct entries, diagonal included.
    pub srmr: f64,
}

/// The RMSEA interval level lavaan reports.
pub const RMSEA_LEVEL: f64 = 0.90;
/// The RMSEA of "close fit" in the p-close test.
pub const CLOSE_FIT_RMSEA: f64 = 0.05;

/// The fit measures of `sigma` against `s` (both `p × p`), F at the minimum
/// `f_min`, `log|S|` = `log_det_s`, `n` respondents, `df` degrees of freedom.
pub(crate) fn fit_measures(
    s: &[f64],
    sigma: &[f64],
    p: usize,
    f_min: f64,
    log_det_s: f64,
    n: usize,
    df: i64,
) -> FitMeasures {
    let nf = n as f64;
    let chi_square = nf * f_min;
    let dff = df as f64;
    let baseline_df = (p * (p - 1) / 2) as i64;
    let baseline_chi_square = nf * ((0..p).map(|i| s[i * p + i].ln()).sum::<f64>() - log_det_s);
    let b_df = baseline_df as f64;

    let t1 = (chi_square - dff).max(0.0);
    let t2 = (chi_square - dff).max(baseline_chi_square - b_df).max(0.0);
    let cfi = if t1 == 0.0 && t2 == 0.0 {
        1.0
    } else {
        1.0 - t1 / t2
    };
    let saturated = df <= 0;
    let tli = (!saturated).then(|| {
        let base = baseline_chi_square / b_df;
        (base - chi_square / dff) / (base - 1.0)
    });
    let rmsea = if saturated {
        0.0
    } else {
        ((chi_square / nf) / dff - 1.0 / nf).max(0.0).sqrt()
    };
    let to_rmsea = |lambda: f64| (lambda / (nf * dff)).sqrt();
    let tail = (1.0 - RMSEA_LEVEL) / 2.0;
    let rmsea_interval = (!saturated).then(|| Interval {
        level: RMSEA_LEVEL,
        lower: chi_square::noncentrality_for(chi_square, dff, 1.0 - tail).map_or(0.0, to_rmsea),
        upper: chi_square::noncentrality_for(chi_square, dff, tail).map_or(0.0, to_rmsea),
    });
    let rmsea_p_close = (!saturated).then(|| {
        let ncp = nf * dff * CLOSE_FIT_RMSEA * CLOSE_FIT_RMSEA;
        1.0 - chi_square::cdf(chi_square, dff, ncp)
    });

    let mut squares = 0.0;
    for i in 0..p {
        for j in 0..=i {
            let r = (s[i * p + j] - sigma[i * p + j]) / (s[i * p + i] * s[j * p + j]).sqrt();
            squares += r * r;
        }
    }
    let srmr = (squares / (p * (p + 1) / 2) as f64).sqrt();

    FitMeasures {
        n,
        f_min,
        chi_square,
        df,
        p_value: (!saturated).then(|| chi_square::upper_tail(chi_square, dff)),
        baseline_chi_square,
        baseline_df,
        cfi,
        tli,
        rmsea,
        rmsea_interval,
        rmsea_p_close,
        srmr,
    }
}
