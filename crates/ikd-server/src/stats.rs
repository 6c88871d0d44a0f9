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

/// The 0.975 quantile of Student's t (printed table to df 30, Cornish–Fisher
/// beyond): one implementation, shared with the reports.
pub use ikd_report::stats::t_975;

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
