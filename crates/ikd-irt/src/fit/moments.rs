//! The first- and second-order margins that limited-information statistics
//! compare: which ones ([`MomentSet`]), their observed values ([`Counts`])
//! and, under the model, their values π, their covariance matrix Ξ (per
//! person) and their Jacobian Δ with respect to the free parameters
//! ([`model_moments`]).
//!
//! Every margin is the expectation of a product of at most two functions of
//! single items (a [`Unit`]): the indicator of a category (`1{X_i = k}`) or
//! the item score `X_i` itself. Under the model, with θ on the grid,
//! `E[Π f(X_i)] = Σ_q w_q Π E[f(X_i) │ θ_q]` because answers are independent
//! given θ; products of two margins that share an item need the item's
//! `E[f(X_i)·g(X_i) │ θ]`, which is how Ξ is formed.

use crate::data::{MISSING, ResponseMatrix};
use crate::grid::Grid;
use crate::model;
use crate::params::ItemBank;
use rayon::prelude::*;

use super::layout::FreeParams;

/// Which margins a limited-information statistic uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moments {
    /// Maydeu-Olivares & Joe's M2: every univariate margin `P(X_i = k)` and
    /// every bivariate margin `P(X_i = k, X_j = l)`, `k, l ≥ 1`. For
    /// dichotomous items all three sets coincide.
    Full,
    /// Cai & Hansen's M2*: the item means `E[X_i]` and the cross products
    /// `E[X_i X_j]` (mirt's default, `type = "M2*"`). Few margins: usable on
    /// long polytomous tests, but needs at least as many margins as
    /// parameters.
    Collapsed,
    /// Cai & Monroe's C2: univariate margins `P(X_i = k)`, bivariate cross
    /// products `E[X_i X_j]` (mirt's `type = "C2"`), for polytomous models
    /// that have too few degrees of freedom for M2*.
    Hybrid,
}

impl Moments {
    /// mirt's name of the statistic.
    pub fn name(self) -> &'static str {
        match self {
            Moments::Full => "M2",
            Moments::Collapsed => "M2*",
            Moments::Hybrid => "C2",
        }
    }
}

/// A function of one item's category.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Basis {
    /// `1{X = k}`.
    Indicator(usize),
    /// `X` itself.
    Score,
}

impl Basis {
    fn at(self, k: usize) -> f64 {
        match self {
            Basis::Indicator(c) => f64::from(u8::from(c == k)),
            Basis::Score => k as f64,
        }
    }
}

/// A function of one item: a factor of a margin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Unit {
    pub item: usize,
    pub basis: Basis,
}

/// The margins: univariate ones `(u, None)` first, then bivariate ones
/// `(u, Some(v))` with `u`'s item before `v`'s, pairs in order.
#[derive(Clone, Debug)]
pub(crate) struct MomentSet {
    pub units: Vec<Unit>,
    pub moments: Vec<(usize, Option<usize>)>,
}

impl MomentSet {
    pub fn new(categories: &[usize], kind: Moments) -> Self {
        let mut units: Vec<Unit> = Vec::new();
        let mut add = |item, basis| {
            units.push(Unit { item, basis });
            units.len() - 1
        };
        // Per item, the units of its univariate and of its bivariate margins.
        let mut first: Vec<Vec<usize>> = Vec::new();
        let mut second: Vec<Vec<usize>> = Vec::new();
        for (i, &k) in categories.iter().enumerate() {
            match kind {
                Moments::Full => {
                    let indicators: Vec<usize> =
                        (1..k).map(|c| add(i, Basis::Indicator(c))).collect();
                    first.push(indicators.clone());
                    second.push(indicators);
                }
                Moments::Collapsed => {
                    let score = add(i, Basis::Score);
                    first.push(vec![score]);
                    second.push(vec![score]);
                }
                Moments::Hybrid => {
                    first.push((1..k).map(|c| add(i, Basis::Indicator(c))).collect());
                    second.push(vec![add(i, Basis::Score)]);
                }
            }
        }
        let mut moments: Vec<(usize, Option<usize>)> =
            first.iter().flatten().map(|&u| (u, None)).collect();
        for i in 0..categories.len() {
            for j in i + 1..categories.len() {
                for &u in &second[i] {
                    for &v in &second[j] {
                        moments.push((u, Some(v)));
                    }
                }
            }
        }
        MomentSet { units, moments }
    }

    pub fn len(&self) -> usize {
        self.moments.len()
    }
}

/// Observed category counts per item and per pair of items, over the
/// persons who answered them (mirt's pairwise-available margins).
#[derive(Clone, Debug)]
pub(crate) struct Counts {
    pub categories: Vec<usize>,
    /// Item → count of each category.
    pub marginal: Vec<Vec<f64>>,
    /// Pair `(i, j)`, `i < j` → offset of its `K_i × K_j` table in `pair`.
    pair_offset: Vec<usize>,
    pair: Vec<f64>,
    /// Persons with at least one answer.
    pub persons: usize,
}

/// Persons per parallel task of the tally.
const TALLY_ROWS: usize = 4096;

impl Counts {
    pub fn tally(data: &ResponseMatrix, categories: &[usize]) -> Self {
        let n = categories.len();
        let mut pair_offset = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        let mut size = 0;
        for i in 0..n {
            for j in i + 1..n {
                pair_offset.push(size);
                size += categories[i] * categories[j];
            }
        }
        let empty = || Counts {
            categories: categories.to_vec(),
            marginal: categories.iter().map(|&k| vec![0.0; k]).collect(),
            pair_offset: pair_offset.clone(),
            pair: vec![0.0; size],
            persons: 0,
        };
        data.cells()
            .par_chunks(n * TALLY_ROWS)
            .map(|rows| {
                let mut c = empty();
                let mut answered: Vec<(usize, usize)> = Vec::with_capacity(n);
                for row in rows.chunks_exact(n) {
                    answered.clear();
                    answered.extend(
                        row.iter()
                            .enumerate()
                            .filter(|(_, x)| **x != MISSING)
                            .map(|(i, &x)| (i, usize::from(x))),
                    );
                    if answered.is_empty() {
                        continue;
                    }
                    c.persons += 1;
                    for (a, &(i, x)) in answered.iter().enumerate() {
                        c.marginal[i][x] += 1.0;
                        let base = c.pair_index(i, i + 1);
                        for &(j, y) in &answered[a + 1..] {
                            let offset = c.pair_offset[base + (j - i - 1)];
                            c.pair[offset + x * categories[j] + y] += 1.0;
                        }
                    }
                }
                c
            })
            .reduce(empty, |mut a, b| {
                a.persons += b.persons;
                for (x, y) in a
                    .marginal
                    .iter_mut()
                    .flatten()
                    .zip(b.marginal.iter().flatten())
                {
                    *x += y;
                }
                for (x, y) in a.pair.iter_mut().zip(&b.pair) {
                    *x += y;
                }
                a
            })
    }

    /// Index of pair `(i, j)`, `i < j` (valid also for `j = i + 1 = n`, as
    /// the start of an empty row).
    fn pair_index(&self, i: usize, j: usize) -> usize {
        let n = self.categories.len();
        i * (2 * n - i - 1) / 2 + (j - i - 1)
    }

    /// `(Σ f(x_i), persons who answered i)`.
    pub fn univariate(&self, i: usize, f: Basis) -> (f64, f64) {
        let counts = &self.marginal[i];
        let sum = counts.iter().enumerate().map(|(k, c)| f.at(k) * c).sum();
        (sum, counts.iter().sum())
    }

    /// `(Σ f(x_i)·g(x_j), persons who answered both)`, `i < j`.
    pub fn bivariate(&self, i: usize, f: Basis, j: usize, g: Basis) -> (f64, f64) {
        let (ki, kj) = (self.categories[i], self.categories[j]);
        let offset = self.pair_offset[self.pair_index(i, j)];
        let table = &self.pair[offset..offset + ki * kj];
        let mut sum = 0.0;
        for k in 0..ki {
            for l in 0..kj {
                sum += f.at(k) * g.at(l) * table[k * kj + l];
            }
        }
        (sum, table.iter().sum())
    }

    /// Observed value and sample size of every margin of `set`.
    pub fn observed(&self, set: &MomentSet) -> (Vec<f64>, Vec<f64>) {
        set.moments
            .iter()
            .map(|&(u, v)| {
                let a = set.units[u];
                let (sum, n) = match v {
                    None => self.univariate(a.item, a.basis),
                    Some(v) => {
                        let b = set.units[v];
                        self.bivariate(a.item, a.basis, b.item, b.basis)
                    }
                };
                (if n > 0.0 { sum / n } else { 0.0 }, n)
            })
            .unzip()
    }
}

/// `P_ik(θ_q)` per item, category-major (`k·Q + q`).
pub(crate) fn probability_table(bank: &ItemBank, grid: &Grid) -> Vec<Vec<f64>> {
    let q = grid.len();
    bank.items()
        .iter()
        .map(|item| {
            let kc = item.categories();
            let mut table = vec![0.0; kc * q];
            let mut p = vec![0.0; kc];
            for (node, &theta) in grid.nodes().iter().enumerate() {
                item.probs(theta, &mut p);
                for (k, &pk) in p.iter().enumerate() {
                    table[k * q + node] = pk;
                }
            }
            table
        })
        .collect()
}

/// The margins under the model: values π, covariance Ξ (s×s, row-major, of
/// one person's margin indicators) and Jacobian Δ (s×t, row-major).
pub(crate) struct ModelMoments {
    pub pi: Vec<f64>,
    pub xi: Vec<f64>,
    pub delta: Vec<f64>,
}

pub(crate) fn model_moments(
    bank: &ItemBank,
    set: &MomentSet,
    grid: &Grid,
    free: &FreeParams,
) -> ModelMoments {
    let q = grid.len();
    let w = grid.weights();
    let probs = probability_table(bank, grid);
    // Per unit: E[f(X_i) | θ_q], and its derivatives with respect to the
    // item's parameters (a, d_1..), node-major (q·n_i + j).
    let (values, derivs): (Vec<Vec<f64>>, Vec<Vec<f64>>) = set
        .units
        .iter()
        .map(|unit| unit_tables(bank, &probs[unit.item], unit, grid))
        .unzip();
    let s = set.len();
    let t = free.count;
    // Node vectors of the margins: v_a(q) = Π E[f | θ_q].
    let mut v = vec![0.0; s * q];
    for (a, &(u, other)) in set.moments.iter().enumerate() {
        let row = &mut v[a * q..(a + 1) * q];
        row.copy_from_slice(&values[u]);
        if let Some(o) = other {
            for (x, y) in row.iter_mut().zip(&values[o]) {
                *x *= y;
            }
        }
    }
    let pi: Vec<f64> = v
        .chunks_exact(q)
        .map(|row| row.iter().zip(w).map(|(x, w)| x * w).sum())
        .collect();
    let wv: Vec<f64> = v
        .chunks_exact(q)
        .flat_map(|row| row.iter().zip(w).map(|(x, w)| x * w))
        .collect();
    // Δ: the derivative of each factor times the other factor.
    let mut delta = vec![0.0; s * t];
    for (a, &(u, other)) in set.moments.iter().enumerate() {
        let row = &mut delta[a * t..(a + 1) * t];
        let mut add = |this: usize, partner: Option<&[f64]>| {
            let item = set.units[this].item;
            let n_i = free.column[item].len();
            for (j, column) in free.column[item].iter().enumerate() {
                if let Some(column) = *column {
                    row[column] += (0..q)
                        .map(|node| {
                            let rest = partner.map_or(1.0, |p| p[node]);
                            w[node] * derivs[this][node * n_i + j] * rest
                        })
                        .sum::<f64>();
                }
            }
        };
        add(u, other.map(|o| &values[o][..]));
        if let Some(o) = other {
            add(o, Some(&values[u][..]));
        }
    }
    // Ξ = E[m_a m_b] − π_a π_b, upper triangle by rows, then mirrored.
    let mut xi = vec![0.0; s * s];
    xi.par_chunks_mut(s).enumerate().for_each(|(a, row)| {
        let (ua, oa) = set.moments[a];
        let items_a = [
            set.units[ua].item,
            oa.map_or(usize::MAX, |o| set.units[o].item),
        ];
        for b in a..s {
            let (ub, ob) = set.moments[b];
            let items_b = [
                set.units[ub].item,
                ob.map_or(usize::MAX, |o| set.units[o].item),
            ];
            let shared = items_a
                .iter()
                .any(|&i| i != usize::MAX && items_b.contains(&i));
            let product = if shared {
                let units_a = [Some(ua), oa];
                let units_b = [Some(ub), ob];
                (0..q)
                    .map(|node| {
                        w[node] * joint_at(set, &values, &probs, &units_a, &units_b, q, node)
                    })
                    .sum()
            } else {
                dot(&wv[a * q..(a + 1) * q], &v[b * q..(b + 1) * q])
            };
            row[b] = product - pi[a] * pi[b];
        }
    });
    for a in 0..s {
        for b in a + 1..s {
            xi[b * s + a] = xi[a * s + b];
        }
    }
    ModelMoments { pi, xi, delta }
}

/// `E[f(X_i) | θ_q]` per node, and its parameter derivatives
/// `Σ_k f(k) P_k ∂log P_k/∂(a, d)` (node-major).
fn unit_tables(bank: &ItemBank, probs: &[f64], unit: &Unit, grid: &Grid) -> (Vec<f64>, Vec<f64>) {
    let item = &bank.items()[unit.item];
    let (kc, np) = (item.categories(), item.parameters());
    let q = grid.len();
    let mut value = vec![0.0; q];
    let mut deriv = vec![0.0; q * np];
    let (mut log_gap, mut inv_gap) = (vec![0.0; kc], vec![0.0; kc]);
    model::graded_gaps(item.d(), &mut log_gap, &mut inv_gap);
    let mut p = vec![0.0; kc];
    let mut scores = vec![0.0; kc * np];
    for (node, &theta) in grid.nodes().iter().enumerate() {
        for (k, pk) in p.iter_mut().enumerate() {
            *pk = probs[k * q + node];
        }
        model::param_scores_with(
            item.model().kind(),
            item.a(),
            item.kernel_d(),
            &inv_gap,
            theta,
            &p,
            &mut scores,
        );
        for k in 0..kc {
            let f = unit.basis.at(k);
            if f == 0.0 {
                continue;
            }
            value[node] += f * p[k];
            for j in 0..np {
                deriv[node * np + j] += f * p[k] * scores[k * np + j];
            }
        }
    }
    (value, deriv)
}

/// `E[m_a m_b | θ_q]` for two margins that share an item: per distinct item,
/// `E[f·g | θ]` where both margins involve it, `E[f | θ]` otherwise.
fn joint_at(
    set: &MomentSet,
    values: &[Vec<f64>],
    probs: &[Vec<f64>],
    units_a: &[Option<usize>; 2],
    units_b: &[Option<usize>; 2],
    q: usize,
    node: usize,
) -> f64 {
    let mut product = 1.0;
    for &ua in units_a.iter().flatten() {
        let unit = set.units[ua];
        let partner = units_b
            .iter()
            .flatten()
            .find(|&&ub| set.units[ub].item == unit.item);
        product *= match partner {
            Some(&ub) => {
                let g = set.units[ub].basis;
                let p = &probs[unit.item];
                (0..p.len() / q)
                    .map(|k| unit.basis.at(k) * g.at(k) * p[k * q + node])
                    .sum()
            }
            None => values[ua][node],
        };
    }
    for &ub in units_b.iter().flatten() {
        let item = set.units[ub].item;
        if !units_a
            .iter()
            .flatten()
            .any(|&ua| set.units[ua].item == item)
        {
            product *= values[ub][node];
        }
    }
    product
}

/// Dot product with four independent sums, which the compiler vectorises.
pub(crate) fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in xc.zip(yc) {
        for k in 0..4 {
            acc[k] += a[k] * b[k];
        }
    }
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

/// Item-score moments under the model, for the SRMSR: `E[X_i]`,
/// `E[X_i²]` and `E[X_i X_j]` (n×n, diagonal `E[X_i²]`).
pub(crate) fn score_moments(bank: &ItemBank, grid: &Grid) -> (Vec<f64>, Vec<f64>) {
    let q = grid.len();
    let w = grid.weights();
    let probs = probability_table(bank, grid);
    let n = bank.len();
    let conditional = |power: i32| -> Vec<Vec<f64>> {
        probs
            .iter()
            .map(|p| {
                (0..q)
                    .map(|node| {
                        (0..p.len() / q)
                            .map(|k| (k as f64).powi(power) * p[k * q + node])
                            .sum()
                    })
                    .collect()
            })
            .collect()
    };
    let (mean, square) = (conditional(1), conditional(2));
    let e1: Vec<f64> = mean.iter().map(|m| dot(m, w)).collect();
    let mut e2 = vec![0.0; n * n];
    for i in 0..n {
        e2[i * n + i] = dot(&square[i], w);
        for j in i + 1..n {
            let v: f64 = (0..q)
                .map(|node| w[node] * mean[i][node] * mean[j][node])
                .sum();
            e2[i * n + j] = v;
            e2[j * n + i] = v;
        }
    }
    (e1, e2)
}
