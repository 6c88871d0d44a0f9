//! Standard errors of calibrated item parameters: the square roots of the
//! diagonal of the inverse of an information matrix of the marginal
//! log-likelihood, by one of two estimates ([`SeMethod`]).
//!
//! Both work from the same pieces, built once in [`Setup`]: the distinct
//! response patterns with their posteriors over the quadrature grid, and per
//! item, category and node the score `∂ log P_ik(θ_q)/∂(a, d)`.

mod crossprod;
mod observed;

use crate::IrtError;
use crate::data::{MISSING, ResponseMatrix};
use crate::estep::{Layout, Params, Patterns, chunk_size};
use crate::grid::Grid;
use crate::linalg;
use crate::model::{self, Model};
use crate::params::ItemBank;
use rayon::prelude::*;
use std::fmt;
use std::str::FromStr;

/// Standard errors of one item's parameters, in the order `a, d_1..`, and
/// for a 3PL item of `g`.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemErrors {
    pub a: f64,
    pub d: Vec<f64>,
    /// The SE of a 3PL item's lower asymptote, on the probability scale:
    /// `g(1 − g)·SE(logit g)` (the delta method; g is estimated as
    /// `logit g`). `None` for the other models.
    pub g: Option<f64>,
}

/// Which information matrix the standard errors come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SeMethod {
    /// The observed information, `−∂²ℓ/∂φ∂φᵀ` of the marginal
    /// log-likelihood ℓ, computed exactly (analytic second derivatives, no
    /// finite differences) through Louis's (1982) identity
    /// `−∂²ℓ = Σ_p n_p (E_post[−∂² log f_p] − Cov_post[∂ log f_p])`, `f_p`
    /// the complete-data likelihood of pattern p at θ. It is the matrix that
    /// Oakes's (1999) identity expresses through the EM's Q function, and
    /// that mirt's default `SE.type = 'Oakes'` approximates numerically.
    /// The default: it is the curvature of the likelihood that was
    /// maximised, valid in samples where the cross-product is still noisy.
    #[default]
    Observed,
    /// The cross-product of the per-pattern scores, `Σ_p n_p s_p s_pᵀ`
    /// (mirt's `SE.type = 'crossprod'`): the same matrix in expectation at
    /// the maximum, cheaper, but noisy unless the sample is much larger than
    /// the number of parameters.
    CrossProduct,
}

impl SeMethod {
    /// The name used in options and output: `observed` or `crossprod`.
    pub fn name(self) -> &'static str {
        match self {
            SeMethod::Observed => "observed",
            SeMethod::CrossProduct => "crossprod",
        }
    }
}

impl fmt::Display for SeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SeMethod {
    type Err = IrtError;
    /// `observed` (also `oakes`, mirt's name for the same matrix) or
    /// `crossprod`.
    fn from_str(s: &str) -> Result<Self, IrtError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "observed" | "oakes" => Ok(SeMethod::Observed),
            "crossprod" => Ok(SeMethod::CrossProduct),
            other => Err(IrtError::Options(format!(
                "unknown standard error method '{other}' (expected observed or crossprod)"
            ))),
        }
    }
}

/// Standard errors from the observed information ([`SeMethod::Observed`]);
/// see [`standard_errors_with`].
pub fn standard_errors(
    bank: &ItemBank,
    data: &ResponseMatrix,
    quadpts: usize,
) -> Result<Vec<ItemErrors>, IrtError> {
    standard_errors_with(bank, data, quadpts, SeMethod::Observed)
}

/// Standard errors of the item parameters of `bank` (normally the result of
/// calibrating on `data` with `quadpts` nodes): `SE = √diag(I⁻¹)` with `I`
/// the information matrix chosen by `method`, one entry per item in the
/// order of the bank. A shared Rasch slope is one parameter; its SE is
/// reported on every Rasch item. For a 3PL item the information is that of
/// the likelihood alone (the prior on g is left out), in `(a, d, logit g)`;
/// the SE of g is transformed to the probability scale ([`ItemErrors::g`]).
/// An information matrix that is not positive
/// definite (parameters not at a maximum, or too few persons to identify
/// them) is an error.
pub fn standard_errors_with(
    bank: &ItemBank,
    data: &ResponseMatrix,
    quadpts: usize,
    method: SeMethod,
) -> Result<Vec<ItemErrors>, IrtError> {
    let setup = Setup::new(bank, data, quadpts)?;
    let info = match method {
        SeMethod::Observed => observed::information(&setup),
        SeMethod::CrossProduct => crossprod::information(&setup),
    };
    let n = setup.index.len;
    let var = linalg::inverse_diagonal(&info, n).ok_or_else(|| {
        IrtError::Data(format!(
            "the {method} information matrix is not positive definite: the parameters are not \
             at a maximum of the likelihood (calibrate to convergence) or there are too few \
             persons for these items"
        ))
    })?;
    Ok(setup
        .index
        .items
        .iter()
        .zip(bank.items())
        .map(|(ix, item)| {
            let n_d = item.d().len();
            ItemErrors {
                a: var[ix[0]].sqrt(),
                d: ix[1..1 + n_d].iter().map(|&j| var[j].sqrt()).collect(),
                g: item.g().map(|g| g * (1.0 - g) * var[ix[1 + n_d]].sqrt()),
            }
        })
        .collect())
}

/// Where each item's `(a, d_1..)` (3PL: `(a, d, logit g)`) sit in the
/// vector of free parameters: a
/// shared Rasch slope is one entry, the rest are each item's own.
pub(crate) struct ParamIndex {
    /// `items[i][j]`: the free parameter of item i's local parameter j.
    pub items: Vec<Vec<usize>>,
    /// The number of free parameters.
    pub len: usize,
}

impl ParamIndex {
    pub fn of_bank(bank: &ItemBank) -> Self {
        let mut len = 0;
        let mut next = || {
            len += 1;
            len - 1
        };
        let mut shared = None;
        let items = bank
            .items()
            .iter()
            .map(|item| {
                let a = if item.model() == Model::Rasch {
                    *shared.get_or_insert_with(&mut next)
                } else {
                    next()
                };
                std::iter::once(a)
                    .chain(item.kernel_d().iter().map(|_| next()))
                    .collect()
            })
            .collect();
        ParamIndex { items, len }
    }
}

/// What both information matrices are computed from.
pub(crate) struct Setup<'a> {
    pub bank: &'a ItemBank,
    pub grid: Grid,
    pub patterns: Patterns,
    pub layout: Layout,
    pub index: ParamIndex,
    /// Per item: `scores[i][(k·Q + q)·P_i + j]` is
    /// `∂ log P_ik(θ_q)/∂φ_j`, `φ = (a, d_1..)` (3PL: `(a, d, logit g)`),
    /// `P_i` the item's number of parameters.
    pub scores: Vec<Vec<f64>>,
    /// Per pattern, the posterior over the Q nodes (summing to 1).
    pub posteriors: Vec<f64>,
}

impl<'a> Setup<'a> {
    fn new(bank: &'a ItemBank, data: &ResponseMatrix, quadpts: usize) -> Result<Self, IrtError> {
        crate::calibrate::check_same_items(bank, data)?;
        let grid = Grid::new(quadpts)?;
        let patterns = Patterns::collapse(data);
        patterns.check_categories(bank)?;
        let layout = Layout::of_bank(bank, &grid);
        let posteriors = posteriors(&patterns, &layout, bank, &grid);
        Ok(Setup {
            bank,
            index: ParamIndex::of_bank(bank),
            scores: score_tables(bank, &grid),
            grid,
            patterns,
            layout,
            posteriors,
        })
    }

    /// The Q nodes.
    pub fn q(&self) -> usize {
        self.grid.len()
    }

    /// `∂ log P_ik(θ_q)/∂(a, d..)` of item i: one value per parameter.
    pub fn score(&self, i: usize, k: usize, node: usize) -> &[f64] {
        let np = self.index.items[i].len();
        &self.scores[i][(k * self.q() + node) * np..][..np]
    }

    /// The answered items of pattern p with their categories.
    pub fn answers(&self, p: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let n = self.patterns.n_items;
        self.patterns.cells[p * n..(p + 1) * n]
            .iter()
            .enumerate()
            .filter(|(_, x)| **x != MISSING)
            .map(|(i, &x)| (i, x as usize))
    }

    /// The posterior of pattern p over the nodes.
    pub fn posterior(&self, p: usize) -> &[f64] {
        &self.posteriors[p * self.q()..(p + 1) * self.q()]
    }
}

/// Score tables: item i, category k, node q → `∂ log P_ik(θ_q)/∂(a, d)`.
fn score_tables(bank: &ItemBank, grid: &Grid) -> Vec<Vec<f64>> {
    let q = grid.len();
    bank.items()
        .iter()
        .map(|item| {
            let (kc, np) = (item.categories(), item.parameters());
            let mut out = vec![0.0; kc * q * np];
            let (mut log_gap, mut inv_gap) = (vec![0.0; kc], vec![0.0; kc]);
            model::graded_gaps(item.d(), &mut log_gap, &mut inv_gap);
            let (mut p, mut s) = (vec![0.0; kc], vec![0.0; kc * np]);
            for (node, &theta) in grid.nodes().iter().enumerate() {
                item.probs(theta, &mut p);
                model::param_scores_with(
                    item.model().kind(),
                    item.a(),
                    item.kernel_d(),
                    &inv_gap,
                    theta,
                    &p,
                    &mut s,
                );
                for k in 0..kc {
                    out[(k * q + node) * np..][..np].copy_from_slice(&s[k * np..(k + 1) * np]);
                }
            }
            out
        })
        .collect()
}

/// Per pattern the normalised posterior over the grid (log domain, then one
/// exponentiation relative to the maximum), in parallel over fixed chunks.
fn posteriors(patterns: &Patterns, layout: &Layout, bank: &ItemBank, grid: &Grid) -> Vec<f64> {
    let q = grid.len();
    let n = patterns.n_items;
    let table = layout.log_table(&Params::of_bank(bank), grid);
    let mut out = vec![0.0; patterns.counts.len() * q];
    let chunk = chunk_size(patterns.counts.len());
    out.par_chunks_mut(chunk * q)
        .zip(patterns.cells.par_chunks(chunk * n))
        .for_each(|(post, cells)| {
            for (post, pattern) in post.chunks_exact_mut(q).zip(cells.chunks_exact(n)) {
                post.copy_from_slice(grid.log_weights());
                for (i, &x) in pattern.iter().enumerate() {
                    if x != MISSING {
                        let row = &table[(layout.base[i] + x as usize) * layout.qp..][..q];
                        for (l, v) in post.iter_mut().zip(row) {
                            *l += v;
                        }
                    }
                }
                let m = post.iter().copied().fold(f64::MIN, f64::max);
                let mut total = 0.0;
                for l in post.iter_mut() {
                    *l = (*l - m).exp();
                    total += *l;
                }
                for l in post.iter_mut() {
                    *l /= total;
                }
            }
        });
    out
}
