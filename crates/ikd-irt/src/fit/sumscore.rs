//! Model-implied category proportions within sum-score groups, the expected
//! side of S-X²: `P(X_i = k │ S = s)` for every item, category and sum score.
//!
//! By Lord & Wingersky's recursion, at each node, the distribution of the
//! sum of the *other* items (the rest score R) is built one item at a time:
//! `L'(r) = Σ_k L(r − k)·P_k`. Then
//! `P(X_i = k, S = s) = Σ_q w_q P_ik(θ_q) L_{−i}(s − k │ θ_q)`, and dividing
//! by its sum over k gives the proportion. (The scorer's own recursion in
//! `scoring.rs` keeps only the posterior of θ, not these joint terms.)
//! Each node's column is rescaled after every item, the scale kept in logs,
//! so long tests cannot underflow.

use crate::grid::Grid;

/// `P(X_item = k │ S = s)` as an `(S + 1) × K` table (`s·K + k`), where
/// `S = Σ_j (K_j − 1)`; rows of impossible sums are 0. `probs[j]` is item
/// j's `P_jk(θ_q)`, category-major (`k·Q + q`).
pub(crate) fn category_given_sum(
    probs: &[Vec<f64>],
    categories: &[usize],
    item: usize,
    grid: &Grid,
) -> Vec<f64> {
    let q = grid.len();
    let (rest, log_scale) = rest_score_distribution(probs, categories, item, q);
    let top_rest = rest.len() / q - 1;
    let kc = categories[item];
    let top = top_rest + kc - 1;
    // Node weights with the scales folded in, relative to the largest.
    let max_scale = log_scale.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let omega: Vec<f64> = grid
        .weights()
        .iter()
        .zip(&log_scale)
        .map(|(w, l)| w * (l - max_scale).exp())
        .collect();
    let p = &probs[item];
    let mut out = vec![0.0; (top + 1) * kc];
    for s in 0..=top {
        let row = &mut out[s * kc..(s + 1) * kc];
        for (k, cell) in row.iter_mut().enumerate() {
            if s < k || s - k > top_rest {
                continue;
            }
            let r = &rest[(s - k) * q..(s - k + 1) * q];
            *cell = (0..q)
                .map(|node| omega[node] * p[k * q + node] * r[node])
                .sum();
        }
        let total: f64 = row.iter().sum();
        if total > 0.0 {
            row.iter_mut().for_each(|v| *v /= total);
        }
    }
    out
}

/// The distribution of the sum of every item but `skip`, per node
/// (`r·Q + q`), each node's column scaled by `e^{−log_scale[q]}`.
fn rest_score_distribution(
    probs: &[Vec<f64>],
    categories: &[usize],
    skip: usize,
    q: usize,
) -> (Vec<f64>, Vec<f64>) {
    let max: usize = categories
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != skip)
        .map(|(_, k)| k - 1)
        .sum();
    let mut l = vec![0.0; (max + 1) * q];
    let mut next = vec![0.0; (max + 1) * q];
    l[..q].fill(1.0);
    let mut log_scale = vec![0.0; q];
    let mut top = 0;
    for (j, &kc) in categories.iter().enumerate() {
        if j == skip {
            continue;
        }
        next[..(top + kc) * q].fill(0.0);
        for s in 0..=top {
            let from = &l[s * q..(s + 1) * q];
            for k in 0..kc {
                let pk = &probs[j][k * q..(k + 1) * q];
                let to = &mut next[(s + k) * q..(s + k + 1) * q];
                for ((t, f), p) in to.iter_mut().zip(from).zip(pk) {
                    *t += f * p;
                }
            }
        }
        top += kc - 1;
        std::mem::swap(&mut l, &mut next);
        for node in 0..q {
            let m = (0..=top).map(|s| l[s * q + node]).fold(0.0, f64::max);
            if m > 0.0 {
                for s in 0..=top {
                    l[s * q + node] /= m;
                }
                log_scale[node] += m.ln();
            }
        }
    }
    l.truncate((top + 1) * q);
    (l, log_scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::moments::probability_table;
    use crate::model::{Item, Model};
    use crate::params::ItemBank;

    /// Three Rasch-like items on a 3-node grid, by brute force over all 8
    /// patterns: P(X_0 = 1 | S = s) = Σ_{patterns with sum s, x_0 = 1} P /
    /// Σ_{patterns with sum s} P.
    #[test]
    fn matches_enumeration_of_patterns() {
        let bank = ItemBank::new(vec![
            Item::new("a", Model::TwoPl, 1.2, vec![0.3]).unwrap(),
            Item::new("b", Model::TwoPl, 0.7, vec![-0.5]).unwrap(),
            Item::new("c", Model::Graded, 1.5, vec![1.0, -0.8]).unwrap(),
        ])
        .unwrap();
        let grid = Grid::with_range(5, -2.0, 2.0).unwrap();
        let probs = probability_table(&bank, &grid);
        let categories = [2, 2, 3];
        for item in 0..3 {
            let table = category_given_sum(&probs, &categories, item, &grid);
            let kc = categories[item];
            let mut joint = vec![0.0; 5 * kc];
            for x0 in 0..2 {
                for x1 in 0..2 {
                    for x2 in 0..3 {
                        let x = [x0, x1, x2];
                        let mut p = 0.0;
                        for (node, w) in grid.weights().iter().enumerate() {
                            let mut prod = *w;
                            for j in 0..3 {
                                prod *= probs[j][x[j] * 5 + node];
                            }
                            p += prod;
                        }
                        joint[(x0 + x1 + x2) * kc + x[item]] += p;
                    }
                }
            }
            for s in 0..5 {
                let total: f64 = joint[s * kc..(s + 1) * kc].iter().sum();
                for k in 0..kc {
                    let expected = joint[s * kc + k] / total;
                    assert!(
                        (table[s * kc + k] - expected).abs() < 1e-12,
                        "item {item} s {s} k {k}"
                    );
                }
            }
        }
    }
}
