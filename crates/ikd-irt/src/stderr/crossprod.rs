//! The cross-product information (mirt's `SE.type = 'crossprod'`):
//! `Σ_p n_p s_p s_pᵀ`, `s_p = Σ_q post_p(θ_q)·∂ log P(pattern | θ_q)/∂φ`
//! the score of the marginal log-likelihood of pattern p.

use super::Setup;
use crate::estep::chunk_size;
use rayon::prelude::*;

/// The per-pattern scores `s_p` into `out` (one entry per free parameter).
pub(super) fn pattern_score(setup: &Setup<'_>, p: usize, out: &mut [f64]) {
    out.fill(0.0);
    let post = setup.posterior(p);
    for (i, x) in setup.answers(p) {
        let index = &setup.index.items[i];
        for (node, &w) in post.iter().enumerate() {
            for (&j, g) in index.iter().zip(setup.score(i, x, node)) {
                out[j] += w * g;
            }
        }
    }
}

/// `Σ_p n_p s_p s_pᵀ`, row-major, `len × len`.
pub(super) fn information(setup: &Setup<'_>) -> Vec<f64> {
    let n = setup.index.len;
    let patterns = setup.patterns.counts.len();
    let chunk = chunk_size(patterns);
    let parts: Vec<Vec<f64>> = (0..patterns.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let mut info = vec![0.0; n * n];
            let mut s = vec![0.0; n];
            for p in c * chunk..((c + 1) * chunk).min(patterns) {
                pattern_score(setup, p, &mut s);
                let count = setup.patterns.counts[p];
                for a in 0..n {
                    let sa = count * s[a];
                    for b in a..n {
                        info[a * n + b] += sa * s[b];
                    }
                }
            }
            info
        })
        .collect();
    let mut info = vec![0.0; n * n];
    for part in parts {
        for (acc, v) in info.iter_mut().zip(part) {
            *acc += v;
        }
    }
    for a in 0..n {
        for b in 0..a {
            info[a * n + b] = info[b * n + a];
        }
    }
    info
}
