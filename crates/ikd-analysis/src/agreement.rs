//! How far two scorings of the same respondents agree: Pearson and Spearman
//! correlations of their scores, Cohen's κ and the plain agreement of their
//! levels.
//!
//! Every statistic uses the pairs where **both** sides are present (a finite
//! number, or `Some` category); the others are left out, and `n` says how
//! many pairs remained.

use std::collections::BTreeMap;

/// A correlation and the number of pairs behind it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Correlation {
    pub n: usize,
    /// `None` with fewer than two pairs or when a side has no variance.
    pub r: Option<f64>,
}

/// Cohen's κ of two categorical ratings of the same subjects.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kappa {
    pub n: usize,
    /// Observed agreement p_o: the share of pairs in the same category.
    pub agreement: Option<f64>,
    /// Chance agreement p_e = Σ_c p_a(c)·p_b(c) from the two margins.
    pub expected: Option<f64>,
    /// κ = (p_o − p_e) / (1 − p_e); `None` when p_e = 1 (both sides put
    /// every subject in one and the same category).
    pub kappa: Option<f64>,
}

/// Pearson's product-moment correlation.
///
/// # Panics
/// When `x` and `y` differ in length.
pub fn pearson(x: &[f64], y: &[f64]) -> Correlation {
    let (x, y) = paired(x, y);
    Correlation {
        n: x.len(),
        r: product_moment(&x, &y),
    }
}

/// Spearman's rank correlation: Pearson's correlation of the ranks, tied
/// values sharing the mean of their ranks (R's `cor(method = "spearman")`).
///
/// # Panics
/// When `x` and `y` differ in length.
pub fn spearman(x: &[f64], y: &[f64]) -> Correlation {
    let (x, y) = paired(x, y);
    Correlation {
        n: x.len(),
        r: product_moment(&ranks(&x), &ranks(&y)),
    }
}

/// Ranks from 1, ties given the mean of the ranks they span
/// (`[10, 20, 20, 30]` → `[1, 2.5, 2.5, 4]`). Values must be comparable (no NaN).
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1 ..= end; their mean:
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}

/// Cohen's (1960) κ of two ratings, with the observed agreement.
///
/// # Panics
/// When `a` and `b` differ in length.
pub fn cohen_kappa<T: Ord>(a: &[Option<T>], b: &[Option<T>]) -> Kappa {
    assert_eq!(a.len(), b.len(), "two ratings of the same subjects");
    let mut margins: BTreeMap<&T, (usize, usize)> = BTreeMap::new();
    let (mut n, mut same) = (0usize, 0usize);
    for (x, y) in a.iter().zip(b) {
        let (Some(x), Some(y)) = (x, y) else {
            continue;
        };
        n += 1;
        same += usize::from(x == y);
        margins.entry(x).or_default().0 += 1;
        margins.entry(y).or_default().1 += 1;
    }
    if n == 0 {
        return Kappa {
            n,
            agreement: None,
            expected: None,
            kappa: None,
        };
    }
    let nf = n as f64;
    let observed = same as f64 / nf;
    let expected: f64 = margins
        .values()
        .map(|&(ca, cb)| (ca as f64 / nf) * (cb as f64 / nf))
        .sum();
    Kappa {
        n,
        agreement: Some(observed),
        expected: Some(expected),
        kappa: (expected < 1.0).then(|| (observed - expected) / (1.0 - expected)),
    }
}

fn paired(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(x.len(), y.len(), "two scores of the same subjects");
    x.iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(&a, &b)| (a, b))
        .unzip()
}

fn product_moment(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let denominator = (sxx * syy).sqrt();
    (denominator > 0.0).then(|| (sxy / denominator).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NA: f64 = f64::NAN;

    #[test]
    fn pearson_matches_a_hand_computation() {
        // x = 1, 2, 3, 4 (mean 2.5), y = 2, 1, 4, 3 (mean 2.5):
        // Σdxdy = (−1.5·−0.5) + (−0.5·−1.5) + (0.5·1.5) + (1.5·0.5) = 3; Σdx² = Σdy² = 5 → r = 0.6.
        let r = pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 4.0, 3.0]);
        assert_eq!(r.n, 4);
        assert!((r.r.unwrap() - 0.6).abs() < 1e-12);
    }

    #[test]
    fn spearman_gives_ties_their_mean_rank() {
        // x = 1, 2, 2, 3 → ranks 1, 2.5, 2.5, 4; y = 1, 3, 2, 4 → ranks 1, 3, 2, 4.
        // Deviations from 2.5: (−1.5, 0, 0, 1.5) and (−1.5, 0.5, −0.5, 1.5):
        // Σ = 4.5, SS = 4.5 and 5 → r = 4.5/√22.5 = 0.9486833 (R gives the same).
        assert_eq!(ranks(&[1.0, 2.0, 2.0, 3.0]), vec![1.0, 2.5, 2.5, 4.0]);
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]);
        assert!((r.r.unwrap() - 4.5 / 22.5f64.sqrt()).abs() < 1e-12);
        assert!((r.r.unwrap() - 0.948_683_3).abs() < 1e-7);
    }

    #[test]
    fn only_complete_pairs_count() {
        let x = [1.0, 2.0, NA, 4.0, 5.0];
        let y = [2.0, 4.0, 6.0, NA, 10.0];
        let r = pearson(&x, &y);
        assert_eq!(r.n, 3);
        assert!((r.r.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(spearman(&x, &y).r, Some(1.0));
        // A constant side has no correlation; neither has a single pair.
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[4.0, 4.0, 4.0]).r, None);
        assert_eq!(pearson(&[1.0, NA], &[1.0, 2.0]).r, None);
    }

    #[test]
    fn kappa_matches_a_two_by_two_table_worked_by_hand() {
        // 50 subjects: yes/yes 20, yes/no 5, no/yes 10, no/no 15.
        // p_o = 35/50 = 0.7; rater a says yes 25/50 = 0.5, rater b 30/50 = 0.6:
        // p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = (0.7 − 0.5)/(1 − 0.5) = 0.4.
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (x, y, count) in [(1, 1, 20), (1, 0, 5), (0, 1, 10), (0, 0, 15)] {
            a.extend(std::iter::repeat_n(Some(x), count));
            b.extend(std::iter::repeat_n(Some(y), count));
        }
        // Missing on either side: not paired.
        a.push(None);
        b.push(Some(1));
        let k = cohen_kappa(&a, &b);
        assert_eq!(k.n, 50);
        assert!((k.agreement.unwrap() - 0.7).abs() < 1e-12);
        assert!((k.expected.unwrap() - 0.5).abs() < 1e-12);
        assert!((k.kappa.unwrap() - 0.4).abs() < 1e-12);
    }

    #[test]
    fn kappa_of_identical_ratings_is_one_and_of_one_category_undefined() {
        let a = [Some("low"), Some("high"), Some("mid"), Some("high")];
        assert_eq!(cohen_kappa(&a, &a).kappa, Some(1.0));
        let one = [Some(2u32); 4];
        let k = cohen_kappa(&one, &one);
        assert_eq!((k.agreement, k.kappa), (Some(1.0), None));
        assert_eq!(cohen_kappa::<u32>(&[None], &[Some(1)]).n, 0);
    }
}
