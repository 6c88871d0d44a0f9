//! The sample covariance matrix a factor model is fitted to.

use super::CfaError;
use crate::matrix::ItemMatrix;

/// A sample covariance matrix with the **maximum-likelihood** denominator N
/// (not N − 1) and the N behind it, as lavaan's default `likelihood =
/// "normal"` uses: χ² = N·F_min follows from these two.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleCovariance {
    p: usize,
    values: Vec<f64>,
    n: usize,
}

impl SampleCovariance {
    /// A covariance matrix (row-major `p × p`, denominator N) of `n` respondents.
    ///
    /// # Errors
    /// When `values` is not `p × p`, not symmetric, or not finite.
    pub fn new(p: usize, values: Vec<f64>, n: usize) -> Result<Self, CfaError> {
        if values.len() != p * p || values.iter().any(|v| !v.is_finite()) {
            return Err(CfaError::InvalidCovariance);
        }
        for i in 0..p {
            for j in 0..i {
                let (a, b) = (values[i * p + j], values[j * p + i]);
                if (a - b).abs() > 1e-12 * (a.abs() + b.abs()).max(1.0) {
                    return Err(CfaError::InvalidCovariance);
                }
            }
        }
        Ok(SampleCovariance { p, values, n })
    }

    /// The covariances of the respondents who answered **every** item
    /// (listwise deletion, lavaan's default `missing = "listwise"`), with
    /// denominator N. Pairwise covariances would not be a valid input to the
    /// likelihood: they need not be positive definite, and no single N stands
    /// behind them.
    pub fn from_complete_cases(m: &ItemMatrix) -> Self {
        let p = m.items();
        let complete: Vec<usize> = (0..m.persons())
            .filter(|&r| m.row(r).iter().all(|x| x.is_finite()))
            .collect();
        let n = complete.len();
        let mut mean = vec![0.0; p];
        for &r in &complete {
            for (acc, x) in mean.iter_mut().zip(m.row(r)) {
                *acc += x;
            }
        }
        if n > 0 {
            mean.iter_mut().for_each(|x| *x /= n as f64);
        }
        // Two passes (means, then centred cross-products): no cancellation.
        let mut values = vec![0.0; p * p];
        let mut centred = vec![0.0; p];
        for &r in &complete {
            for ((c, x), mu) in centred.iter_mut().zip(m.row(r)).zip(&mean) {
                *c = x - mu;
            }
            for i in 0..p {
                let ci = centred[i];
                let row = &mut values[i * p..i * p + i + 1];
                for (v, cj) in row.iter_mut().zip(&centred[..=i]) {
                    *v += ci * cj;
                }
            }
        }
        for i in 0..p {
            for j in 0..=i {
                let v = if n > 0 {
                    values[i * p + j] / n as f64
                } else {
                    f64::NAN
                };
                values[i * p + j] = v;
                values[j * p + i] = v;
            }
        }
        SampleCovariance { p, values, n }
    }

    /// The number of items.
    pub fn p(&self) -> usize {
        self.p
    }

    /// The respondents behind the matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.values[i * self.p + j]
    }

    /// The sub-matrix of the items `keep`, in that order.
    pub(crate) fn select(&self, keep: &[usize]) -> Vec<f64> {
        keep.iter()
            .flat_map(|&i| keep.iter().map(move |&j| self.get(i, j)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_cases_with_denominator_n() {
        // Person 3 misses item 2: left out. Items over persons 1, 2, 4:
        // x = 1, 2, 3 (mean 2), y = 2, 2, 5 (mean 3): var x = 2/3, var y = 6/3, cov = 3/3.
        let m = ItemMatrix::from_rows(&[[1.0, 2.0], [2.0, 2.0], [9.0, f64::NAN], [3.0, 5.0]]);
        let s = SampleCovariance::from_complete_cases(&m);
        assert_eq!((s.n(), s.p()), (3, 2));
        assert!((s.get(0, 0) - 2.0 / 3.0).abs() < 1e-15);
        assert!((s.get(1, 1) - 2.0).abs() < 1e-15);
        assert!((s.get(0, 1) - 1.0).abs() < 1e-15 && s.get(1, 0) == s.get(0, 1));
    }

    #[test]
    fn an_asymmetric_matrix_is_refused() {
        assert!(SampleCovariance::new(2, vec![1.0, 0.5, 0.4, 1.0], 10).is_err());
        assert!(SampleCovariance::new(2, vec![1.0, 0.5, 0.5, 1.0], 10).is_ok());
    }
}
