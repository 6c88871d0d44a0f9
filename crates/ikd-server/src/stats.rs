//! Means with 95% confidence intervals from the sums the store computes, and
//! the small-group suppression rule.

use ikd_proto::v1::Estimate;

/// Mean, sample SD and a 95% t interval from n, Σx and Σx². `None` for n = 0;
/// for n = 1 the SD is 0 and the interval unbounded: one value gives no interval.
pub fn estimate(n: u64, sum: f64, sum_sq: f64) -> Option<Estimate> {
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let mean = sum / nf;
    if n == 1 {
        return Some(Estimate {
            n,
            mean,
            sd: 0.0,
            ci_low: f64::NEG_INFINITY,
            ci_high: f64::INFINITY,
        });
    }
    // Σ(x − mean)² = Σx² − n·mean², clamped against rounding below zero.
    let variance = ((sum_sq - nf * mean * mean) / (nf - 1.0)).max(0.0);
    let sd = variance.sqrt();
    let half = t_975(n - 1) * sd / nf.sqrt();
    Some(Estimate {
        n,
        mean,
        sd,
        ci_low: mean - half,
        ci_high: mean + half,
    })
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom: exact table
/// values up to 30 (to 3 decimals, as printed in standard tables), then the
/// Cornish–Fisher expansion around the normal quantile, whose error there is
/// below 1e-5.
pub fn t_975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if df == 0 {
        return f64::INFINITY;
    }
    if let Some(&t) = TABLE.get(df as usize - 1) {
        return t;
    }
    let z: f64 = 1.959_963_984_540_054;
    let v = df as f64;
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * v.powi(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_published_tables() {
        // Printed t tables (two-sided 95%): df 40 → 2.021, 60 → 2.000, 120 → 1.980.
        for (df, t) in [
            (4, 2.776),
            (30, 2.042),
            (40, 2.021),
            (60, 2.000),
            (120, 1.980),
        ] {
            assert!((t_975(df) - t).abs() < 6e-4, "df {df}: {}", t_975(df));
        }
        assert!((t_975(1_000_000) - 1.95996).abs() < 1e-4);
    }

    #[test]
    fn estimate_by_hand() {
        // 60, 70, 80: mean 70, SD 10, half-width 4.303 · 10 / √3 = 24.843.
        let e = estimate(3, 210.0, 3600.0 + 4900.0 + 6400.0).unwrap();
        assert!((e.mean - 70.0).abs() < 1e-12);
        assert!((e.sd - 10.0).abs() < 1e-12);
        assert!((e.ci_high - 70.0 - 24.843).abs() < 1e-3, "{}", e.ci_high);
        assert!(estimate(0, 0.0, 0.0).is_none());
    }
}
