//! The dense linear algebra of M2: `M2 = rᵀ C r` with
//! `C = Ξ⁻¹ − Ξ⁻¹Δ(ΔᵀΞ⁻¹Δ)⁻¹ΔᵀΞ⁻¹`.
//!
//! mirt forms C from an orthogonal complement Δc of Δ
//! (`C = Δc(ΔcᵀΞΔc)⁻¹Δcᵀ`); for a positive definite Ξ the two are the same
//! matrix, and this form needs one Cholesky factorisation of Ξ (s³/3
//! multiply-adds) and a forward substitution of the t + 1 columns `[Δ | r]`:
//! with `L Lᵀ = Ξ`, `Y = L⁻¹Δ`, `z = L⁻¹r`,
//! `M2 = zᵀz − (Yᵀz)ᵀ(YᵀY)⁻¹(Yᵀz)`, the last term through an orthonormal
//! basis of Y's columns.
//! Ξ has thousands of rows on long tests, so the factorisation is blocked
//! (rows of a block stay in cache while earlier rows stream past) and runs
//! on all cores.

use super::moments::dot;
use rayon::prelude::*;

/// Rows factored together; their columns left of the block come from the
/// finished rows.
const BLOCK: usize = 64;
/// Rows per parallel task within a block.
const PANEL: usize = 16;
/// Relative norm below which a column of `L⁻¹Δ` is dependent on the earlier
/// ones. Exact dependencies (the intercepts of a polytomous item under the
/// independence model with collapsed margins) leave ~1e−15; the weakest
/// genuine direction seen (M2* for 10 graded items) was 3e−8, which R's
/// `qr()` tolerance of 1e−7 would wrongly drop.
const DEPENDENT: f64 = 1e-10;
/// Right-hand sides solved together (each row of L is read once per group).
const GROUP: usize = 8;

/// The quadratic form above and the rank of Δ; `None` if Ξ is not
/// numerically positive definite (linearly dependent margins). When the
/// margins do not identify every parameter (Δ of lower rank than its
/// columns, as for the collapsed margins of a polytomous independence
/// model), `(ΔᵀΞ⁻¹Δ)⁻¹` is a generalised inverse: the form is the residual
/// of r's projection on the space the parameters can move the margins in.
pub(crate) fn quadratic_form(
    mut xi: Vec<f64>,
    delta: &[f64],
    r: &[f64],
    t: usize,
) -> Option<(f64, usize)> {
    let s = r.len();
    if !cholesky(&mut xi, s) {
        return None;
    }
    // Right-hand sides, one per row: the t columns of Δ, then r.
    let m = t + 1;
    let mut rhs = vec![0.0; m * s];
    for a in 0..s {
        for j in 0..t {
            rhs[j * s + a] = delta[a * t + j];
        }
        rhs[t * s + a] = r[a];
    }
    forward_substitute(&xi, s, &mut rhs);
    let (columns, z) = rhs.split_at_mut(t * s);
    let rank = orthonormalise(columns, s);
    let projection: f64 = columns
        .chunks_exact(s)
        .take(rank)
        .map(|u| dot(u, z).powi(2))
        .sum();
    Some(((dot(z, z) - projection).abs(), rank))
}

/// Modified Gram–Schmidt, twice over for accuracy, on the columns (each
/// `s` long, one after another): the first `rank` columns become an
/// orthonormal basis of their span, whose dimension is returned. A column
/// whose norm falls below [`DEPENDENT`] of its original norm is taken as
/// dependent on the earlier ones and dropped.
fn orthonormalise(columns: &mut [f64], s: usize) -> usize {
    let t = columns.len() / s;
    let mut rank = 0;
    for j in 0..t {
        let (basis, rest) = columns.split_at_mut(rank * s);
        let column = &mut rest[(j - rank) * s..(j - rank + 1) * s];
        let original = dot(column, column).sqrt();
        for _ in 0..2 {
            for u in basis.chunks_exact(s) {
                let c = dot(u, column);
                for (x, y) in column.iter_mut().zip(u) {
                    *x -= c * y;
                }
            }
        }
        let norm = dot(column, column).sqrt();
        if original > 0.0 && norm > DEPENDENT * original {
            for x in column.iter_mut() {
                *x /= norm;
            }
            let column = column.to_vec();
            columns[rank * s..(rank + 1) * s].copy_from_slice(&column);
            rank += 1;
        }
    }
    rank
}

/// Lower Cholesky factor of the n×n row-major SPD matrix `a`, in place (the
/// upper triangle is left as it was); `false` if `a` is not numerically
/// positive definite.
pub(crate) fn cholesky(a: &mut [f64], n: usize) -> bool {
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK).min(n);
        let (done, rest) = a.split_at_mut(start * n);
        let done = &*done;
        let block = &mut rest[..(end - start) * n];
        // Columns 0..start of the block's rows.
        block.par_chunks_mut(PANEL * n).for_each(|rows| {
            for j in 0..start {
                let lj = &done[j * n..j * n + j];
                let diag = done[j * n + j];
                for row in rows.chunks_exact_mut(n) {
                    row[j] = (row[j] - dot(&row[..j], lj)) / diag;
                }
            }
        });
        // The diagonal block, column by column.
        for j in start..end {
            let (_, from_j) = block.split_at_mut((j - start) * n);
            let (row_j, below) = from_j.split_at_mut(n);
            let d = row_j[j] - dot(&row_j[..j], &row_j[..j]);
            if !(d > 0.0 && d.is_finite()) {
                return false;
            }
            let d = d.sqrt();
            row_j[j] = d;
            for row in below.chunks_exact_mut(n) {
                row[j] = (row[j] - dot(&row[..j], &row_j[..j])) / d;
            }
        }
        start = end;
    }
    true
}

/// Solves `L y = b` in place for every right-hand side: `rhs` holds them one
/// after another, n values each.
pub(crate) fn forward_substitute(l: &[f64], n: usize, rhs: &mut [f64]) {
    rhs.par_chunks_mut(GROUP * n).for_each(|group| {
        for i in 0..n {
            let row = &l[i * n..i * n + i];
            let diag = l[i * n + i];
            for y in group.chunks_exact_mut(n) {
                y[i] = (y[i] - dot(row, &y[..i])) / diag;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random SPD matrix `A = B Bᵀ + n·I`, larger than one block.
    fn spd(n: usize) -> Vec<f64> {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let b: Vec<f64> = (0..n * n).map(|_| next()).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = dot(&b[i * n..(i + 1) * n], &b[j * n..(j + 1) * n]);
            }
            a[i * n + i] += n as f64;
        }
        a
    }

    #[test]
    fn cholesky_reproduces_the_matrix() {
        let n = 150;
        let a = spd(n);
        let mut l = a.clone();
        assert!(cholesky(&mut l, n));
        for i in 0..n {
            for j in 0..=i {
                let v: f64 = (0..=j).map(|k| l[i * n + k] * l[j * n + k]).sum();
                assert!((v - a[i * n + j]).abs() < 1e-9 * n as f64, "{i},{j}");
            }
        }
        let mut not_pd = a.clone();
        not_pd[7 * n + 7] = -1.0;
        assert!(!cholesky(&mut not_pd, n));
    }

    /// The quadratic form against the explicit `C = Ξ⁻¹ − Ξ⁻¹Δ(ΔᵀΞ⁻¹Δ)⁻¹ΔᵀΞ⁻¹`
    /// on a small case: with Ξ = I and Δ = e_1 the form drops r's first
    /// coordinate.
    #[test]
    fn projection_removes_the_parameter_directions() {
        let s = 4;
        let mut xi = vec![0.0; s * s];
        for i in 0..s {
            xi[i * s + i] = 1.0;
        }
        let delta = vec![1.0, 0.0, 0.0, 0.0];
        let r = [3.0, 1.0, 2.0, -1.0];
        let (form, rank) = quadratic_form(xi, &delta, &r, 1).unwrap();
        assert_eq!(rank, 1);
        assert!((form - 6.0).abs() < 1e-12);
        // Ξ = diag(1, 2, 4, 8), Δ = (1, 1, 0, 0)ᵀ: by hand,
        // rᵀΞ⁻¹r = 9 + 1/2 + 1 + 1/8 = 10.625, ΔᵀΞ⁻¹r = 3 + 1/2 = 3.5,
        // ΔᵀΞ⁻¹Δ = 1.5, so the form is 10.625 − 3.5²/1.5.
        let mut xi = vec![0.0; s * s];
        for (i, v) in [1.0, 2.0, 4.0, 8.0].iter().enumerate() {
            xi[i * s + i] = *v;
        }
        let delta = vec![1.0, 1.0, 0.0, 0.0];
        let (form, rank) = quadratic_form(xi, &delta, &r, 1).unwrap();
        assert_eq!(rank, 1);
        assert!((form - (10.625 - 3.5 * 3.5 / 1.5)).abs() < 1e-12);
    }
}
