//! Dense linear algebra for the small symmetric matrices of this crate
//! (covariance matrices of at most a few hundred items, information matrices
//! of a few hundred parameters): Cholesky factor, log-determinant, inverse,
//! solve, and the eigenvalues a positive-semidefiniteness check needs.
//!
//! Written out rather than taken from a linear-algebra crate because these
//! five routines are all the crate needs, the matrices are small (a 60 × 60
//! Cholesky is 72 000 flops), and every one of them is textbook (Golub & Van
//! Loan, *Matrix Computations*, 4th ed., §4.2 and §8.5). Matrices are
//! row-major `n × n` slices.

/// The lower-triangular Cholesky factor `L` (`A = L·Lᵀ`) of a symmetric
/// matrix, or `None` when `A` is not (numerically) positive definite.
pub(crate) fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    debug_assert_eq!(a.len(), n * n);
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        l[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = s / d;
        }
    }
    Some(l)
}

/// `log |A|` from the Cholesky factor of `A`: `2 Σ log L_jj`.
pub(crate) fn log_det(l: &[f64], n: usize) -> f64 {
    2.0 * (0..n).map(|j| l[j * n + j].ln()).sum::<f64>()
}

/// Solves `A·x = b` given the Cholesky factor `L` of `A`.
pub(crate) fn solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= l[i * n + k] * y[k];
        }
        y[i] /= l[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= l[k * n + i] * y[k];
        }
        y[i] /= l[i * n + i];
    }
    y
}

/// `A⁻¹` given the Cholesky factor `L` of `A`, as `(L⁻¹)ᵀ·L⁻¹`.
pub(crate) fn inverse(l: &[f64], n: usize) -> Vec<f64> {
    // W = L⁻¹, lower triangular, by forward substitution column by column.
    let mut w = vec![0.0; n * n];
    for j in 0..n {
        w[j * n + j] = 1.0 / l[j * n + j];
        for i in j + 1..n {
            let s: f64 = (j..i).map(|k| l[i * n + k] * w[k * n + j]).sum();
            w[i * n + j] = -s / l[i * n + i];
        }
    }
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (i..n).map(|k| w[k * n + i] * w[k * n + j]).sum();
            inv[i * n + j] = s;
            inv[j * n + i] = s;
        }
    }
    inv
}

/// The eigenvalues of a symmetric matrix, ascending, by cyclic Jacobi
/// rotations: slow for large matrices but accurate to working precision for
/// the small ones checked here, and free of any tuning.
pub(crate) fn symmetric_eigenvalues(a: &[f64], n: usize) -> Vec<f64> {
    let mut m = a.to_vec();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        let scale: f64 = (0..n).map(|i| m[i * n + i] * m[i * n + i]).sum();
        if off <= 1e-30 * scale.max(f64::MIN_POSITIVE) || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
            }
        }
    }
    let mut values: Vec<f64> = (0..n).map(|i| m[i * n + i]).collect();
    values.sort_by(f64::total_cmp);
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A = [[4, 2, 0], [2, 5, 3], [0, 3, 6]]: L = [[2, 0, 0], [1, 2, 0], [0, 1.5, √3.75]],
    /// |A| = 4·(30 − 9) − 2·12 = 60.
    const A: [f64; 9] = [4.0, 2.0, 0.0, 2.0, 5.0, 3.0, 0.0, 3.0, 6.0];

    #[test]
    fn cholesky_log_det_solve_and_inverse_match_the_hand_values() {
        let l = cholesky(&A, 3).unwrap();
        assert!((l[3] - 1.0).abs() < 1e-15 && (l[4] - 2.0).abs() < 1e-15);
        assert!((l[7] - 1.5).abs() < 1e-15 && (l[8] - 3.75f64.sqrt()).abs() < 1e-15);
        assert!((log_det(&l, 3) - 60f64.ln()).abs() < 1e-13);
        // A·(1, 1, 1) = (6, 10, 9).
        let x = solve(&l, 3, &[6.0, 10.0, 9.0]);
        assert!(x.iter().all(|v| (v - 1.0).abs() < 1e-13), "{x:?}");
        let inv = inverse(&l, 3);
        for i in 0..3 {
            for j in 0..3 {
                let product: f64 = (0..3).map(|k| A[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((product - f64::from(u8::from(i == j))).abs() < 1e-13);
            }
        }
        // The adjugate's (0, 0) entry is 30 − 9 = 21: (A⁻¹)₀₀ = 21/60.
        assert!((inv[0] - 21.0 / 60.0).abs() < 1e-15);
    }

    #[test]
    fn an_indefinite_matrix_has_no_cholesky_factor_and_a_negative_eigenvalue() {
        // [[1, 2], [2, 1]]: eigenvalues −1 and 3.
        let m = [1.0, 2.0, 2.0, 1.0];
        assert!(cholesky(&m, 2).is_none());
        let e = symmetric_eigenvalues(&m, 2);
        assert!((e[0] + 1.0).abs() < 1e-14 && (e[1] - 3.0).abs() < 1e-14);
        // A's eigenvalues sum to its trace (15) and multiply to |A| (60).
        let e = symmetric_eigenvalues(&A, 3);
        assert!((e.iter().sum::<f64>() - 15.0).abs() < 1e-12);
        assert!((e.iter().product::<f64>() - 60.0).abs() < 1e-10);
        assert!(e[0] > 0.0);
    }
}
