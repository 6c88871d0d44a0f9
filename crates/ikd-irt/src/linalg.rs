//! The little dense linear algebra the M-step and the standard errors need:
//! Cholesky factorisation of small symmetric positive definite matrices.

/// Factors the n×n row-major SPD matrix `a` in place into its lower
/// Cholesky factor; `false` if `a` is not (numerically) positive definite.
pub(crate) fn cholesky(a: &mut [f64], n: usize) -> bool {
    for j in 0..n {
        let mut diag = a[j * n + j];
        for k in 0..j {
            diag -= a[j * n + k] * a[j * n + k];
        }
        if !(diag > 0.0 && diag.is_finite()) {
            return false;
        }
        let diag = diag.sqrt();
        a[j * n + j] = diag;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = v / diag;
        }
    }
    true
}

/// Solves `L Lᵀ x = b` in place, with `l` from [`cholesky`].
pub(crate) fn cholesky_solve(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut v = b[i];
        for k in 0..i {
            v -= l[i * n + k] * b[k];
        }
        b[i] = v / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut v = b[i];
        for k in i + 1..n {
            v -= l[k * n + i] * b[k];
        }
        b[i] = v / l[i * n + i];
    }
}

/// Cholesky factor of `a`, adding a growing ridge (a fraction of the mean
/// diagonal) until it factors: a Levenberg-style fallback for a nearly
/// singular information matrix. `None` if even that fails.
pub(crate) fn factor_with_ridge(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mean_diag = (0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n.max(1) as f64;
    let mut ridge = 0.0;
    for _ in 0..30 {
        let mut l = a.to_vec();
        for i in 0..n {
            l[i * n + i] += ridge;
        }
        if cholesky(&mut l, n) {
            return Some(l);
        }
        ridge = if ridge == 0.0 {
            1e-10 * mean_diag.max(1e-300)
        } else {
            ridge * 10.0
        };
    }
    None
}

/// The diagonal of `a⁻¹` for SPD `a`; `None` if `a` is singular.
pub(crate) fn inverse_diagonal(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = a.to_vec();
    if !cholesky(&mut l, n) {
        return None;
    }
    let mut e = vec![0.0; n];
    Some(
        (0..n)
            .map(|i| {
                e.fill(0.0);
                e[i] = 1.0;
                cholesky_solve(&l, n, &mut e);
                e[i]
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let mut l = a.to_vec();
        assert!(cholesky(&mut l, 3));
        let mut x = vec![1.0, 2.0, 3.0];
        cholesky_solve(&l, 3, &mut x);
        for i in 0..3 {
            let row: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
            assert!((row - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
        let inv = inverse_diagonal(&a, 3).unwrap();
        // (a⁻¹)₀₀ = (5·3 − 1)/det, det = 4·14 − 2·(6 − 0.6) + 0.6·(2 − 3)
        let det = 4.0 * 14.0 - 2.0 * (6.0 - 0.6) + 0.6 * (2.0 - 3.0);
        assert!((inv[0] - 14.0 / det).abs() < 1e-12);
        assert!(!cholesky(&mut [1.0, 2.0, 2.0, 1.0], 2));
        assert!(factor_with_ridge(&[1.0, 1.0, 1.0, 1.0], 2).is_some());
    }
}
