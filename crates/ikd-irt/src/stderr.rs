//! Standard errors of calibrated item parameters.

use crate::IrtError;
use crate::data::{MISSING, ResponseMatrix};
use crate::estep::{Layout, Params, Patterns, chunk_size};
use crate::grid::Grid;
use crate::linalg;
use crate::model::{self, Model};
use crate::params::ItemBank;
use rayon::prelude::*;

/// Standard errors of one item's parameters, in the order `a, d_1..`.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemErrors {
    pub a: f64,
    pub d: Vec<f64>,
}

/// Standard errors of the item parameters from the cross-product of the
/// per-pattern scores of the marginal log-likelihood (mirt's
/// `SE.type = 'crossprod'`): `I ≈ Σ_p n_p s_p s_pᵀ`, `SE = √diag(I⁻¹)`,
/// where `s_p = Σ_q post_p(θ_q)·∂ log P(pattern | θ_q)/∂(a, d)`. A shared
/// Rasch slope is one parameter; its SE is reported on every Rasch item.
/// Needs a sample much larger than the number of parameters.
pub fn standard_errors(
    bank: &ItemBank,
    data: &ResponseMatrix,
    quadpts: usize,
) -> Result<Vec<ItemErrors>, IrtError> {
    crate::calibrate::check_same_items(bank, data)?;
    let grid = Grid::new(quadpts)?;
    let q = grid.len();
    let patterns = Patterns::collapse(data);
    patterns.check_categories(bank)?;
    let layout = Layout::of_bank(bank, &grid);
    let table = layout.log_table(&Params::of_bank(bank), &grid);
    // Parameter positions: item i's (a, d_1..) go to index[i][..].
    let mut n_params = 0;
    let mut next = || {
        n_params += 1;
        n_params - 1
    };
    let mut shared = None;
    let index: Vec<Vec<usize>> = bank
        .items()
        .iter()
        .map(|item| {
            let a = if item.model() == Model::Rasch {
                *shared.get_or_insert_with(&mut next)
            } else {
                next()
            };
            std::iter::once(a)
                .chain(item.d().iter().map(|_| next()))
                .collect()
        })
        .collect();
    // Score table: item i, category k, node q → ∂ log P_ik(θ_q)/∂(a, d).
    let scores: Vec<Vec<f64>> = bank
        .items()
        .iter()
        .map(|item| {
            let kc = item.categories();
            let mut out = vec![0.0; kc * q * kc];
            let (mut log_gap, mut inv_gap) = (vec![0.0; kc], vec![0.0; kc]);
            model::graded_gaps(item.d(), &mut log_gap, &mut inv_gap);
            let (mut p, mut s) = (vec![0.0; kc], vec![0.0; kc * kc]);
            for (node, &theta) in grid.nodes().iter().enumerate() {
                item.probs(theta, &mut p);
                model::param_scores_with(
                    item.model().kind(),
                    item.a(),
                    item.d(),
                    &inv_gap,
                    theta,
                    &p,
                    &mut s,
                );
                for k in 0..kc {
                    out[(k * q + node) * kc..][..kc].copy_from_slice(&s[k * kc..(k + 1) * kc]);
                }
            }
            out
        })
        .collect();
    let n = patterns.n_items;
    let chunk = chunk_size(patterns.counts.len());
    let parts: Vec<Vec<f64>> = patterns
        .cells
        .par_chunks(chunk * n)
        .zip(patterns.counts.par_chunks(chunk))
        .map(|(cells, counts)| {
            let mut info = vec![0.0; n_params * n_params];
            let mut post = vec![0.0; q];
            let mut s = vec![0.0; n_params];
            for (pattern, &count) in cells.chunks_exact(n).zip(counts) {
                for (node, slot) in post.iter_mut().enumerate() {
                    *slot = grid.log_weights()[node]
                        + pattern
                            .iter()
                            .enumerate()
                            .filter(|(_, x)| **x != MISSING)
                            .map(|(i, &x)| table[(layout.base[i] + x as usize) * layout.qp + node])
                            .sum::<f64>();
                }
                let m = post.iter().copied().fold(f64::MIN, f64::max);
                let mut total = 0.0;
                for l in post.iter_mut() {
                    *l = (*l - m).exp();
                    total += *l;
                }
                s.fill(0.0);
                for (i, &x) in pattern.iter().enumerate() {
                    if x == MISSING {
                        continue;
                    }
                    let kc = layout.k[i];
                    for (node, w) in post.iter().enumerate() {
                        let g = &scores[i][(x as usize * q + node) * kc..][..kc];
                        for (j, gj) in g.iter().enumerate() {
                            s[index[i][j]] += w / total * gj;
                        }
                    }
                }
                for a in 0..n_params {
                    let sa = count * s[a];
                    for b in a..n_params {
                        info[a * n_params + b] += sa * s[b];
                    }
                }
            }
            info
        })
        .collect();
    let mut info = vec![0.0; n_params * n_params];
    for part in parts {
        for (acc, v) in info.iter_mut().zip(part) {
            *acc += v;
        }
    }
    for a in 0..n_params {
        for b in 0..a {
            info[a * n_params + b] = info[b * n_params + a];
        }
    }
    let var = linalg::inverse_diagonal(&info, n_params).ok_or_else(|| {
        IrtError::Data("the information matrix is singular: too few persons for these items".into())
    })?;
    Ok(index
        .iter()
        .map(|ix| ItemErrors {
            a: var[ix[0]].sqrt(),
            d: ix[1..].iter().map(|&j| var[j].sqrt()).collect(),
        })
        .collect())
}
