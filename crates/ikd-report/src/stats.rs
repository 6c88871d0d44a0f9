//! Means with 95% intervals: a group's mean with a Student t interval (a
//! person's score ± 1.96·SE is `ikd_core::localise::interval95`). The t quantile is the server's (`ikd-server`
//! `stats.rs`), copied so that a report and an aggregate of the server give
//! the same interval for the same results.

use serde::Serialize;

/// A group mean with its sample SD and 95% t interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub n: u64,
    pub mean: f64,
    pub sd: f64,
    /// Unbounded (±∞) for a single value: one value gives no interval.
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Running n, Σx and Σx² of one measure (what the server's store sums too).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Moments {
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    /// Adds the value when there is one (missing is never 0).
    pub fn add_opt(&mut self, x: Option<f64>) {
        if let Some(x) = x {
            self.add(x);
        }
    }

    /// Adds another group's moments: the moments of both groups together.
    pub fn merge(&mut self, other: &Moments) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// Mean, SD and 95% t interval; `None` when there is no value.
    pub fn estimate(&self) -> Option<Estimate> {
        let mean = self.mean()?;
        let nf = self.n as f64;
        if self.n == 1 {
            return Some(Estimate {
                n: 1,
                mean,
                sd: 0.0,
                ci_low: f64::NEG_INFINITY,
                ci_high: f64::INFINITY,
            });
        }
        // Σ(x − mean)² = Σx² − n·mean², clamped against rounding below zero.
        let variance = ((self.sum_sq - nf * mean * mean) / (nf - 1.0)).max(0.0);
        let sd = variance.sqrt();
        let half = t_975(self.n - 1) * sd / nf.sqrt();
        Some(Estimate {
            n: self.n,
            mean,
            sd,
            ci_low: mean - half,
            ci_high: mean + half,
        })
    }
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

    fn moments(xs: &[f64]) -> Moments {
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.add(x));
        m
    }

    #[test]
    fn t_quantiles_match_published_tables() {
        for (df, t) in [
            (4, 2.776),
            (30, 2.042),
            (40, 2.021),
            (60, 2.000),
            (120, 1.980),
        ] {
            assert!((t_975(df) - t).abs() < 6e-4, "df {df}: {}", t_975(df));
        }
        assert!(t_975(0).is_infinite());
    }

    #[test]
    fn merged_moments_are_those_of_both_groups() {
        let mut merged = moments(&[60.0, 70.0]);
        merged.merge(&moments(&[80.0]));
        assert_eq!(merged, moments(&[60.0, 70.0, 80.0]));
        assert_eq!((merged.n, merged.sum, merged.sum_sq), (3, 210.0, 14_900.0));
    }

    #[test]
    fn group_interval_by_hand() {
        // 60, 70, 80: mean 70, SD 10, half-width 4.303 · 10 / √3 = 24.8434.
        let e = moments(&[60.0, 70.0, 80.0]).estimate().unwrap();
        assert!((e.mean - 70.0).abs() < 1e-12);
        assert!((e.sd - 10.0).abs() < 1e-12);
        assert!((e.ci_low - (70.0 - 24.8434)).abs() < 1e-3, "{}", e.ci_low);
        assert!((e.ci_high - (70.0 + 24.8434)).abs() < 1e-3, "{}", e.ci_high);
        // 50, 52, 54, 56, 58: mean 54, SD √10 = 3.1623, half 2.776 · 3.1623 / √5 = 3.9259.
        let e = moments(&[50.0, 52.0, 54.0, 56.0, 58.0]).estimate().unwrap();
        assert!((e.ci_high - 57.9259).abs() < 1e-3, "{}", e.ci_high);
        assert!(Moments::default().estimate().is_none());
        let one = moments(&[42.0]).estimate().unwrap();
        assert_eq!((one.mean, one.sd), (42.0, 0.0));
        assert!(one.ci_low.is_infinite() && one.ci_high.is_infinite());
    }
}
