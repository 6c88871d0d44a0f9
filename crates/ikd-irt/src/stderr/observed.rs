//! The observed information `J = −∂²ℓ/∂φ∂φᵀ` of the marginal
//! log-likelihood `ℓ = Σ_p n_p log Σ_q w_q f_p(θ_q)`, `f_p` the product of the
//! pattern's item probabilities, computed exactly.
//!
//! Differentiating twice (Louis, 1982): with `s_pq = ∂ log f_p(θ_q)/∂φ`,
//! `H_pq = ∂² log f_p(θ_q)/∂φ∂φᵀ` and `π_pq` the posterior,
//!
//! `J = Σ_p n_p s̄_p s̄_pᵀ + Σ_p n_p Σ_q π_pq (−H_pq − s_pq s_pqᵀ)`,
//! `s̄_p = Σ_q π_pq s_pq`.
//!
//! The first term is the cross-product matrix. In the second, `s_pq` is the
//! sum of the answered items' scores and `H_pq` is block diagonal by item, so
//! it only needs, per node, the expected counts of single answers
//! (`r_ikq = Σ_p n_p π_pq [x_pi = k]`, for the item's own block
//! `Σ_q Σ_k r_ikq (−H_ikq − g_ikq g_ikqᵀ)`) and of pairs of answers
//! (`m_ikjlq = Σ_p n_p π_pq [x_pi = k][x_pj = l]`, for the block of items
//! i ≠ j: `−Σ_q Σ_k Σ_l m_ikjlq g_ikq g_jlqᵀ`). Accumulating pair counts
//! first costs (items)² per pattern and node instead of (parameters)².

use super::{Setup, crossprod};
use crate::model::{self, MAX_CATEGORIES};
use rayon::prelude::*;

/// `J`, row-major, `len × len`.
pub(super) fn information(setup: &Setup<'_>) -> Vec<f64> {
    let n = setup.index.len;
    let mut info = crossprod::information(setup);
    let items = setup.layout.k.len();
    let blocks: Vec<Vec<(usize, Vec<f64>)>> = (0..items)
        .into_par_iter()
        .map(|i| item_blocks(setup, i))
        .collect();
    for (i, row) in blocks.into_iter().enumerate() {
        let ix = &setup.index.items[i];
        for (j, block) in row {
            let jx = &setup.index.items[j];
            let kj = jx.len();
            for (x, &gx) in ix.iter().enumerate() {
                for (y, &gy) in jx.iter().enumerate() {
                    let v = block[x * kj + y];
                    info[gx * n + gy] += v;
                    if i != j {
                        info[gy * n + gx] += v;
                    }
                }
            }
        }
    }
    // The two triangles were summed in different orders: make them equal.
    for a in 0..n {
        for b in 0..a {
            let mean = 0.5 * (info[a * n + b] + info[b * n + a]);
            info[a * n + b] = mean;
            info[b * n + a] = mean;
        }
    }
    info
}

/// Item i's blocks of the second term: `(i, own block)` and `(j, block)` for
/// every later item j, each `P_i × P_j` row-major (`P` the number of an
/// item's parameters).
fn item_blocks(setup: &Setup<'_>, i: usize) -> Vec<(usize, Vec<f64>)> {
    let q = setup.q();
    let layout = &setup.layout;
    let ki = layout.k[i];
    // Rows of the later items' categories, from item i + 1 on.
    let first_later = layout.base[i] + ki;
    let later_rows = layout.rows - first_later;
    let mut single = vec![0.0; ki * q];
    let mut pairs = vec![0.0; ki * later_rows * q];
    for p in 0..setup.patterns.counts.len() {
        let mut answers = setup.answers(p).skip_while(|&(j, _)| j < i);
        let Some((j, k)) = answers.next() else {
            continue;
        };
        if j != i {
            continue;
        }
        let count = setup.patterns.counts[p];
        let post = setup.posterior(p);
        for (slot, &w) in single[k * q..(k + 1) * q].iter_mut().zip(post) {
            *slot += count * w;
        }
        for (j, l) in answers {
            let row = k * later_rows + layout.base[j] + l - first_later;
            for (slot, &w) in pairs[row * q..(row + 1) * q].iter_mut().zip(post) {
                *slot += count * w;
            }
        }
    }
    let mut blocks = vec![(i, own_block(setup, i, &single))];
    let pi = setup.index.items[i].len();
    for j in i + 1..layout.k.len() {
        let kj = layout.k[j];
        let pj = setup.index.items[j].len();
        let mut block = vec![0.0; pi * pj];
        for k in 0..ki {
            for l in 0..kj {
                let row = k * later_rows + layout.base[j] + l - first_later;
                for (node, &m) in pairs[row * q..(row + 1) * q].iter().enumerate() {
                    if m == 0.0 {
                        continue;
                    }
                    let (gi, gj) = (setup.score(i, k, node), setup.score(j, l, node));
                    for x in 0..pi {
                        for y in 0..pj {
                            block[x * pj + y] -= m * gi[x] * gj[y];
                        }
                    }
                }
            }
        }
        blocks.push((j, block));
    }
    blocks
}

/// `Σ_q Σ_k r_ikq (−H_ikq − g_ikq g_ikqᵀ)` from the expected counts
/// `single[k·Q + q]` of item i.
fn own_block(setup: &Setup<'_>, i: usize, single: &[f64]) -> Vec<f64> {
    let q = setup.q();
    let item = &setup.bank.items()[i];
    let (kc, np) = (item.categories(), item.parameters());
    let kind = item.model().kind();
    let mut log_gap = [0.0; MAX_CATEGORIES];
    let mut inv_gap = [0.0; MAX_CATEGORIES];
    model::graded_gaps(item.d(), &mut log_gap, &mut inv_gap);
    let mut probs = vec![0.0; kc];
    let mut scores = vec![0.0; kc * np];
    let mut hess = vec![0.0; kc * np * np];
    let mut block = vec![0.0; np * np];
    for (node, &theta) in setup.grid.nodes().iter().enumerate() {
        if (0..kc).all(|k| single[k * q + node] == 0.0) {
            continue;
        }
        item.probs(theta, &mut probs);
        model::param_scores_with(
            kind,
            item.a(),
            item.kernel_d(),
            &inv_gap,
            theta,
            &probs,
            &mut scores,
        );
        model::param_hessians_with(
            kind,
            item.a(),
            item.kernel_d(),
            &inv_gap,
            theta,
            &probs,
            &scores,
            &mut hess,
        );
        for k in 0..kc {
            let r = single[k * q + node];
            let g = &scores[k * np..(k + 1) * np];
            let h = &hess[k * np * np..(k + 1) * np * np];
            for x in 0..np {
                for y in 0..np {
                    block[x * np + y] -= r * (h[x * np + y] + g[x] * g[y]);
                }
            }
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::super::{ParamIndex, Setup};
    use crate::{Item, ItemBank, Model, ResponseMatrix, marginal_loglik};

    /// A mixed bank: two Rasch items sharing a slope (one dichotomous, one
    /// partial credit), a 2PL, a graded, a generalized partial credit and a
    /// 3PL item.
    fn bank(free: &[f64]) -> ItemBank {
        // Free parameters: a_rasch, d(r1), d1 d2 (r2), a d (t), a d1 d2 d3 (g),
        // a d1 d2 (p), a d logit(g) (c).
        let f = free;
        let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
        ItemBank::new(vec![
            Item::new("r1", Model::Rasch, f[0], vec![f[1]]).unwrap(),
            Item::new("r2", Model::Rasch, f[0], vec![f[2], f[3]]).unwrap(),
            Item::new("t", Model::TwoPl, f[4], vec![f[5]]).unwrap(),
            Item::new("g", Model::Graded, f[6], vec![f[7], f[8], f[9]]).unwrap(),
            Item::new("p", Model::PartialCredit, f[10], vec![f[11], f[12], f[13]]).unwrap(),
            Item::three_pl("c", f[14], f[15], logistic(f[16])).unwrap(),
        ])
        .unwrap()
    }

    const FREE: [f64; 17] = [
        1.1, 0.4, 0.9, 0.2, 0.7, -0.3, 1.4, 1.8, 0.1, -1.5, 0.8, 0.6, 0.9, -0.2, 1.3, -0.4, -1.2,
    ];

    /// Answers from a fixed rule (a linear congruential sequence), about one
    /// in nine missing; not from the model, which the identity does not need.
    fn data() -> ResponseMatrix {
        let k = [2u64, 3, 2, 4, 4, 2];
        let mut state = 12345u64;
        let mut rows = Vec::new();
        for _ in 0..400 {
            let row: Vec<Option<u8>> = k
                .iter()
                .map(|&kc| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let u = state >> 33;
                    (!u.is_multiple_of(9)).then_some(((u / 9) % kc) as u8)
                })
                .collect();
            rows.push(row);
        }
        let names = ["r1", "r2", "t", "g", "p", "c"].map(String::from).to_vec();
        ResponseMatrix::from_rows(names, rows).unwrap()
    }

    /// Every entry of the analytic observed information against central
    /// second differences of the marginal log-likelihood, at parameters that
    /// are not a maximum (Louis's identity holds everywhere).
    #[test]
    fn matches_second_differences_of_the_marginal_loglik() {
        let data = data();
        let quadpts = 31;
        let b = bank(&FREE);
        let setup = Setup::new(&b, &data, quadpts).unwrap();
        assert_eq!(setup.index.len, FREE.len());
        assert_eq!(ParamIndex::of_bank(&b).items[1], vec![0, 2, 3]);
        let info = super::information(&setup);
        let n = FREE.len();
        let loglik = |x: usize, hx: f64, y: usize, hy: f64| {
            let mut f = FREE;
            f[x] += hx;
            f[y] += hy;
            marginal_loglik(&bank(&f), &data, quadpts).unwrap()
        };
        let h = 2e-4;
        let scale = (0..n).map(|x| info[x * n + x].abs()).fold(0.0, f64::max);
        for x in 0..n {
            for y in x..n {
                let numeric = -(loglik(x, h, y, h) - loglik(x, h, y, -h) - loglik(x, -h, y, h)
                    + loglik(x, -h, y, -h))
                    / (4.0 * h * h);
                let analytic = info[x * n + y];
                assert!(
                    (numeric - analytic).abs() < 1e-6 * scale,
                    "({x}, {y}): analytic {analytic}, numeric {numeric} (scale {scale})"
                );
                assert_eq!(info[x * n + y], info[y * n + x]);
            }
        }
    }
}
