//! The persons × items matrix the analyses read, and its pairwise covariances
//! and correlations.
//!
//! Missing scores are NaN. Every covariance and correlation is computed, as
//! R's `cov(x, use = "pairwise")` and `cor(x, use = "pairwise")` do, from the
//! respondents who answered *both* items: with skipped items, complete cases
//! alone would throw away most respondents.

use crate::limits::{PSD_TOLERANCE, Withheld};
use crate::linalg;

/// Item scores of `persons` respondents on `items` items, person-major
/// (`values[p * items + i]`). NaN (or any non-finite value) is a missing score.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemMatrix {
    persons: usize,
    items: usize,
    values: Vec<f64>,
}

impl ItemMatrix {
    /// # Panics
    /// When `values.len() != persons * items`.
    pub fn new(persons: usize, items: usize, values: Vec<f64>) -> Self {
        assert_eq!(
            values.len(),
            persons * items,
            "an item matrix of {persons} × {items} needs {} values",
            persons * items
        );
        ItemMatrix {
            persons,
            items,
            values,
        }
    }

    /// A matrix from rows of equal length (one row per respondent).
    ///
    /// # Panics
    /// When the rows differ in length.
    pub fn from_rows<R: AsRef<[f64]>>(rows: &[R]) -> Self {
        let items = rows.first().map(|r| r.as_ref().len()).unwrap_or(0);
        let mut values = Vec::with_capacity(rows.len() * items);
        for row in rows {
            assert_eq!(row.as_ref().len(), items, "rows of unequal length");
            values.extend_from_slice(row.as_ref());
        }
        ItemMatrix::new(rows.len(), items, values)
    }

    pub fn persons(&self) -> usize {
        self.persons
    }

    pub fn items(&self) -> usize {
        self.items
    }

    /// The score of person `p` on item `i` (NaN when missing).
    pub fn get(&self, p: usize, i: usize) -> f64 {
        self.values[p * self.items + i]
    }

    /// The scores of person `p`.
    pub fn row(&self, p: usize) -> &[f64] {
        &self.values[p * self.items..(p + 1) * self.items]
    }

    /// The present scores of item `i`.
    pub fn column(&self, i: usize) -> impl Iterator<Item = f64> + '_ {
        (0..self.persons)
            .map(move |p| self.get(p, i))
            .filter(|x| x.is_finite())
    }

    /// The matrix of the items `keep`, in that order.
    pub fn select_items(&self, keep: &[usize]) -> ItemMatrix {
        let mut values = Vec::with_capacity(self.persons * keep.len());
        for p in 0..self.persons {
            let row = self.row(p);
            values.extend(keep.iter().map(|&i| row[i]));
        }
        ItemMatrix::new(self.persons, keep.len(), values)
    }
}

/// A symmetric `k × k` matrix of pairwise covariances (or correlations), with
/// the number of respondents behind each entry. An entry with fewer than two
/// respondents is NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct Covariance {
    k: usize,
    values: Vec<f64>,
    pairs: Vec<usize>,
}

impl Covariance {
    /// Pairwise covariances (denominator n − 1), as R's `cov(x, use = "pairwise")`.
    pub fn pairwise(m: &ItemMatrix) -> Self {
        Moments::of_rows(m, 0..m.persons()).covariance()
    }

    /// Pairwise correlations, as R's `cor(x, use = "pairwise")`: each one
    /// standardised by the standard deviations of the respondents of that pair.
    pub fn pairwise_correlation(m: &ItemMatrix) -> Self {
        Moments::of_rows(m, 0..m.persons()).correlation()
    }

    /// A matrix from its entries (row-major, `k × k`), e.g. a known correlation matrix.
    ///
    /// # Panics
    /// When `values.len() != k * k`.
    pub fn from_values(k: usize, values: Vec<f64>) -> Self {
        assert_eq!(
            values.len(),
            k * k,
            "a {k} × {k} matrix needs {} values",
            k * k
        );
        Covariance {
            k,
            values,
            pairs: vec![0; k * k],
        }
    }

    /// The number of items.
    pub fn k(&self) -> usize {
        self.k
    }

    pub fn get(&self, j: usize, l: usize) -> f64 {
        self.values[j * self.k + l]
    }

    /// Respondents who answered both `j` and `l` (0 for a matrix made with [`Covariance::from_values`]).
    pub fn pairs(&self, j: usize, l: usize) -> usize {
        self.pairs[j * self.k + l]
    }

    /// Whether every entry is a number.
    pub fn is_finite(&self) -> bool {
        self.values.iter().all(|x| x.is_finite())
    }

    /// The sum of the diagonal.
    pub fn trace(&self) -> f64 {
        (0..self.k).map(|j| self.get(j, j)).sum()
    }

    /// The sum of all entries: the variance of the unit-weighted sum of the items.
    pub fn total(&self) -> f64 {
        self.values.iter().sum()
    }

    /// The sub-matrix of the items `keep`, in that order.
    pub fn select(&self, keep: &[usize]) -> Covariance {
        let mut values = Vec::with_capacity(keep.len() * keep.len());
        let mut pairs = Vec::with_capacity(keep.len() * keep.len());
        for &j in keep {
            for &l in keep {
                values.push(self.get(j, l));
                pairs.push(self.pairs(j, l));
            }
        }
        Covariance {
            k: keep.len(),
            values,
            pairs,
        }
    }

    /// The pair of items answered together by the fewest respondents, with
    /// their number (`None` for fewer than two items).
    pub fn fewest_pairs(&self) -> Option<((usize, usize), usize)> {
        (0..self.k)
            .flat_map(|j| (0..j).map(move |l| (l, j)))
            .map(|(l, j)| ((l, j), self.pairs(l, j)))
            .min_by_key(|&(_, n)| n)
    }

    /// The smallest eigenvalue (NaN when an entry is missing).
    pub fn smallest_eigenvalue(&self) -> f64 {
        if self.k == 0 || !self.is_finite() {
            return f64::NAN;
        }
        linalg::symmetric_eigenvalues(&self.values, self.k)[0]
    }

    /// Whether the matrix could be the covariance matrix of some complete
    /// data set: no eigenvalue below `−PSD_TOLERANCE ×` the largest
    /// ([`PSD_TOLERANCE`] absorbs rounding).
    /// A pairwise matrix can fail this when few respondents answered
    /// different subsets of the items; then coefficients computed from it
    /// can leave their range (α above 1, a correlation above 1).
    ///
    /// # Errors
    /// [`Withheld::NotPositiveSemidefinite`] with the smallest eigenvalue.
    pub fn check_positive_semidefinite(&self) -> Result<(), Withheld> {
        if self.k == 0 {
            return Ok(());
        }
        let eigenvalues = linalg::symmetric_eigenvalues(&self.values, self.k);
        let (smallest, largest) = (eigenvalues[0], eigenvalues[self.k - 1]);
        if smallest >= -PSD_TOLERANCE * largest.abs().max(f64::MIN_POSITIVE) {
            Ok(())
        } else {
            Err(Withheld::NotPositiveSemidefinite {
                smallest_eigenvalue: smallest,
            })
        }
    }

    /// Correlations from these covariances, `C_jl / √(C_jj·C_ll)` (R's `cov2cor`).
    ///
    /// Entries stay within ±1 only when the matrix is positive semidefinite
    /// ([`Covariance::check_positive_semidefinite`]); pairwise covariances
    /// of few respondents need not be.
    pub fn standardized(&self) -> Covariance {
        let sd: Vec<f64> = (0..self.k).map(|j| self.get(j, j).sqrt()).collect();
        let mut out = self.clone();
        for j in 0..self.k {
            for l in 0..self.k {
                out.values[j * self.k + l] = if j == l {
                    1.0
                } else {
                    self.get(j, l) / (sd[j] * sd[l])
                };
            }
        }
        out
    }
}

/// Sums over the respondents of each pair of items, from which pairwise
/// covariances and correlations follow. Scores are shifted by each item's
/// mean first, so that the one-pass sums lose no precision.
pub(crate) struct Moments {
    k: usize,
    /// Respondents who answered both items (symmetric).
    n: Vec<usize>,
    /// `s1[j·k + l]`: Σ x_j over the respondents of the pair (j, l).
    s1: Vec<f64>,
    /// `s2[j·k + l]`: Σ x_j² over the respondents of the pair (j, l).
    s2: Vec<f64>,
    /// `sp[j·k + l]`: Σ x_j·x_l (symmetric).
    sp: Vec<f64>,
}

impl Moments {
    /// The moments of the persons `rows` of `m`.
    pub(crate) fn of_rows(m: &ItemMatrix, rows: impl IntoIterator<Item = usize>) -> Self {
        Self::of_weighted_rows(m, rows.into_iter().map(|p| (p, 1)))
    }

    /// The moments of the persons of `m`, person `p` counted `w` times for
    /// each `(p, w)` (a bootstrap sample draws some persons more than once).
    pub(crate) fn of_weighted_rows(
        m: &ItemMatrix,
        rows: impl IntoIterator<Item = (usize, u32)>,
    ) -> Self {
        let k = m.items();
        let shift: Vec<f64> = (0..k)
            .map(|i| {
                let (sum, n) = m.column(i).fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
                if n > 0 { sum / n as f64 } else { 0.0 }
            })
            .collect();
        let mut out = Moments {
            k,
            n: vec![0; k * k],
            s1: vec![0.0; k * k],
            s2: vec![0.0; k * k],
            sp: vec![0.0; k * k],
        };
        let mut present: Vec<(usize, f64)> = Vec::with_capacity(k);
        for (p, w) in rows {
            if w == 0 {
                continue;
            }
            present.clear();
            present.extend(
                m.row(p)
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.is_finite())
                    .map(|(i, &x)| (i, x - shift[i])),
            );
            let wf = f64::from(w);
            // Each pair once (l ≥ j); `finish` mirrors the symmetric sums.
            for (a, &(j, xj)) in present.iter().enumerate() {
                let (wxj, wxj2) = (wf * xj, wf * xj * xj);
                for &(l, xl) in &present[a..] {
                    let (jl, lj) = (j * k + l, l * k + j);
                    out.n[jl] += w as usize;
                    out.sp[jl] += wxj * xl;
                    out.s1[jl] += wxj;
                    out.s2[jl] += wxj2;
                    if l != j {
                        out.s1[lj] += wf * xl;
                        out.s2[lj] += wf * xl * xl;
                    }
                }
            }
        }
        for j in 0..k {
            for l in 0..j {
                out.n[j * k + l] = out.n[l * k + j];
                out.sp[j * k + l] = out.sp[l * k + j];
            }
        }
        out
    }

    /// The centred cross-product and the two centred sums of squares of the pair (j, l).
    fn centred(&self, j: usize, l: usize) -> (usize, f64, f64, f64) {
        let (a, b) = (j * self.k + l, l * self.k + j);
        let n = self.n[a];
        if n == 0 {
            return (0, f64::NAN, f64::NAN, f64::NAN);
        }
        let nf = n as f64;
        let cross = self.sp[a] - self.s1[a] * self.s1[b] / nf;
        let ssj = self.s2[a] - self.s1[a] * self.s1[a] / nf;
        let ssl = self.s2[b] - self.s1[b] * self.s1[b] / nf;
        (n, cross, ssj.max(0.0), ssl.max(0.0))
    }

    pub(crate) fn covariance(&self) -> Covariance {
        self.matrix(|n, cross, _, _| {
            if n < 2 {
                f64::NAN
            } else {
                cross / (n - 1) as f64
            }
        })
    }

    pub(crate) fn correlation(&self) -> Covariance {
        let mut c = self.matrix(|n, cross, ssj, ssl| {
            if n < 2 || ssj * ssl <= 0.0 || (ssj * ssl).is_nan() {
                f64::NAN
            } else {
                // Within ±1 by Cauchy–Schwarz (both sums over the same
                // respondents); the clamp removes rounding beyond it.
                (cross / (ssj * ssl).sqrt()).clamp(-1.0, 1.0)
            }
        });
        for j in 0..self.k {
            let v = &mut c.values[j * self.k + j];
            if v.is_finite() {
                *v = 1.0;
            }
        }
        c
    }

    fn matrix(&self, entry: impl Fn(usize, f64, f64, f64) -> f64) -> Covariance {
        let k = self.k;
        let mut values = vec![f64::NAN; k * k];
        for j in 0..k {
            for l in j..k {
                let (n, cross, ssj, ssl) = self.centred(j, l);
                let v = entry(n, cross, ssj, ssl);
                values[j * k + l] = v;
                values[l * k + j] = v;
            }
        }
        Covariance {
            k,
            values,
            pairs: self.n.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NA: f64 = f64::NAN;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn pairwise_covariance_uses_the_respondents_of_each_pair() {
        // x = (1, 2, 3, NA), y = (2, 4, NA, 8), z = (1, 1, 2, 2).
        // (x, y): persons 1–2: x 1, 2; y 2, 4 → cov = (−0.5·−1 + 0.5·1)/1 = 1.
        // (x, z): persons 1–3: x 1, 2, 3 (mean 2); z 1, 1, 2 (mean 4/3)
        //         → (−1·−1/3 + 0 + 1·2/3)/2 = 0.5.
        // var(x) over its 3 answers = 1; var(y) over 3 answers (2, 4, 8) = 28/3.
        let m = ItemMatrix::from_rows(&[
            [1.0, 2.0, 1.0],
            [2.0, 4.0, 1.0],
            [3.0, NA, 2.0],
            [NA, 8.0, 2.0],
        ]);
        let c = Covariance::pairwise(&m);
        assert!(close(c.get(0, 1), 1.0) && close(c.get(1, 0), 1.0));
        assert!(close(c.get(0, 2), 0.5));
        assert!(close(c.get(0, 0), 1.0));
        assert!(close(c.get(1, 1), 28.0 / 3.0));
        assert_eq!((c.pairs(0, 1), c.pairs(0, 2), c.pairs(2, 2)), (2, 3, 4));
        // cor(x, y) over persons 1–2 is exactly 1 (a perfect line), though
        // cov2cor of the pairwise covariances is not: 1/√(1·28/3).
        let r = Covariance::pairwise_correlation(&m);
        assert!(close(r.get(0, 1), 1.0));
        assert!(close(
            c.standardized().get(0, 1),
            1.0 / (28.0f64 / 3.0).sqrt()
        ));
        assert!(close(r.get(2, 2), 1.0));
    }

    #[test]
    fn a_pair_answered_by_fewer_than_two_is_missing() {
        let m = ItemMatrix::from_rows(&[[1.0, NA], [2.0, NA], [NA, 3.0]]);
        let c = Covariance::pairwise(&m);
        assert!(c.get(0, 1).is_nan() && c.get(1, 1).is_nan());
        assert!(!c.is_finite());
        assert!(close(c.get(0, 0), 0.5));
    }
}
