//! The few statistics a simulation report needs. Empty input gives NaN
//! (serialised as `null`).

pub fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// The median (the mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        0.5 * (sorted[mid - 1] + sorted[mid])
    }
}

/// `mean(estimate − truth)`.
pub fn bias(pairs: &[(f64, f64)]) -> f64 {
    mean(pairs.iter().map(|(e, t)| e - t))
}

/// `√mean((estimate − truth)²)`.
pub fn rmse(pairs: &[(f64, f64)]) -> f64 {
    mean(pairs.iter().map(|(e, t)| (e - t).powi(2))).sqrt()
}

/// Pearson's correlation; NaN when either variable is constant.
pub fn correlation(pairs: &[(f64, f64)]) -> f64 {
    let mx = mean(pairs.iter().map(|p| p.0));
    let my = mean(pairs.iter().map(|p| p.1));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    sxy / (sxx * syy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        assert_eq!(mean([1.0, 2.0, 6.0]), 3.0);
        assert!(mean([]).is_nan());
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        let pairs = [(1.0, 0.0), (2.0, 2.0), (4.0, 3.0)];
        assert!((bias(&pairs) - 2.0 / 3.0).abs() < 1e-15);
        assert!((rmse(&pairs) - (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
        // x = 1, 2, 4; y = 0, 2, 3: sxy = 13/3, sxx = syy = 14/3.
        assert!((correlation(&pairs) - 13.0 / 14.0).abs() < 1e-15);
        assert!(correlation(&[(1.0, 1.0), (2.0, 1.0)]).is_nan());
    }
}
