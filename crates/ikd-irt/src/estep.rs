//! What the EM's E-step works on — distinct response patterns with counts,
//! the per-item per-category per-node table layout, the parameter vector —
//! and the E-step itself over all patterns.

use crate::IrtError;
use crate::data::{MISSING, ResponseMatrix};
use crate::grid::Grid;
use crate::kernel::{self, BLOCK_F64, LogTable};
use crate::model::{self, Item, Kind, MAX_CATEGORIES};
use crate::params::ItemBank;
use rayon::prelude::*;
use std::collections::HashMap;

/// Distinct response patterns (rows with no answer dropped) and their counts.
pub(crate) struct Patterns {
    pub n_items: usize,
    pub cells: Vec<u8>,
    pub counts: Vec<f64>,
    pub persons: usize,
}

impl Patterns {
    pub fn collapse(data: &ResponseMatrix) -> Self {
        let n = data.n_items();
        let mut seen: HashMap<&[u8], usize> = HashMap::new();
        let (mut cells, mut counts, mut persons) = (Vec::new(), Vec::new(), 0);
        for row in data.cells().chunks_exact(n) {
            if row.iter().all(|&x| x == MISSING) {
                continue;
            }
            persons += 1;
            match seen.get(row) {
                Some(&at) => counts[at] += 1.0,
                None => {
                    seen.insert(row, counts.len());
                    cells.extend_from_slice(row);
                    counts.push(1.0);
                }
            }
        }
        Patterns {
            n_items: n,
            cells,
            counts,
            persons,
        }
    }

    /// Persons per item per category (weighted by pattern counts).
    pub fn category_counts(&self) -> Vec<Vec<f64>> {
        let n = self.n_items;
        let mut counts = vec![Vec::<f64>::new(); n];
        for (pattern, &c) in self.cells.chunks_exact(n).zip(&self.counts) {
            for (slot, &x) in counts.iter_mut().zip(pattern) {
                if x == MISSING {
                    continue;
                }
                if slot.len() <= x as usize {
                    slot.resize(x as usize + 1, 0.0);
                }
                slot[x as usize] += c;
            }
        }
        counts
    }

    /// Every answer is a category of its item in `bank`.
    pub fn check_categories(&self, bank: &ItemBank) -> Result<(), IrtError> {
        for (p, pattern) in self.cells.chunks_exact(self.n_items).enumerate() {
            for (item, &x) in bank.items().iter().zip(pattern) {
                if x != MISSING && x as usize >= item.categories() {
                    return Err(IrtError::Category {
                        person: p,
                        item: item.name().to_owned(),
                        value: x,
                        max: item.categories() - 1,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Slope and intercepts per item (for a 3PL item `(d, logit g)`): the EM's
/// state.
#[derive(Clone, Debug)]
pub(crate) struct Params {
    pub a: Vec<f64>,
    pub d: Vec<Vec<f64>>,
}

impl Params {
    pub fn of_bank(bank: &ItemBank) -> Self {
        Params {
            a: bank.items().iter().map(Item::a).collect(),
            d: bank.items().iter().map(|i| i.kernel_d().to_vec()).collect(),
        }
    }

    pub fn max_abs_difference(&self, other: &Params) -> f64 {
        self.flat()
            .iter()
            .zip(other.flat())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// All parameters in one vector: the slopes, then each item's intercepts.
    pub fn flat(&self) -> Vec<f64> {
        let mut v = self.a.clone();
        for d in &self.d {
            v.extend_from_slice(d);
        }
        v
    }

    /// The inverse of [`flat`](Self::flat), shaped like `self`.
    pub fn with_flat(&self, v: &[f64]) -> Params {
        let n = self.a.len();
        let mut at = n;
        let d = self
            .d
            .iter()
            .map(|d| {
                let x = v[at..at + d.len()].to_vec();
                at += d.len();
                x
            })
            .collect();
        Params {
            a: v[..n].to_vec(),
            d,
        }
    }

    /// Finite, and graded intercepts strictly decreasing.
    pub fn is_valid(&self, kinds: &[Kind]) -> bool {
        self.a.iter().all(|a| a.is_finite())
            && self.d.iter().zip(kinds).all(|(d, kind)| {
                d.iter().all(|v| v.is_finite())
                    && (*kind != Kind::Cumulative || d.windows(2).all(|w| w[1] < w[0]))
            })
    }
}

/// Where each item's categories sit in the per-category tables: one row of
/// `qp` values (the grid's nodes, then padding to [`BLOCK_F64`]) per item and
/// category.
pub(crate) struct Layout {
    pub k: Vec<usize>,
    pub kinds: Vec<Kind>,
    /// First row of item i: rows `base[i]..base[i] + k[i]`.
    pub base: Vec<usize>,
    pub rows: usize,
    pub qp: usize,
    /// Log prior weights, padded with −1e300 (weight 0).
    pub log_w: Vec<f64>,
}

impl Layout {
    pub fn new(k: Vec<usize>, kinds: Vec<Kind>, grid: &Grid) -> Self {
        let mut base = Vec::with_capacity(k.len());
        let mut rows = 0;
        for &kc in &k {
            base.push(rows);
            rows += kc;
        }
        let q = grid.len();
        let qp = q.div_ceil(BLOCK_F64) * BLOCK_F64;
        let mut log_w = vec![-1e300; qp];
        log_w[..q].copy_from_slice(grid.log_weights());
        Layout {
            k,
            kinds,
            base,
            rows,
            qp,
            log_w,
        }
    }

    pub fn of_bank(bank: &ItemBank, grid: &Grid) -> Self {
        Layout::new(
            bank.items().iter().map(Item::categories).collect(),
            bank.items().iter().map(|i| i.model().kind()).collect(),
            grid,
        )
    }

    /// `log P_ik(θ_q)`, row `base[i] + k`, one value per node (0 in padding).
    pub fn log_table(&self, params: &Params, grid: &Grid) -> Vec<f64> {
        let q = self.qp;
        let mut table = vec![0.0; self.rows * q];
        let mut lp = [0.0; MAX_CATEGORIES];
        for i in 0..self.k.len() {
            let kc = self.k[i];
            for (node, &theta) in grid.nodes().iter().enumerate() {
                model::log_probs(
                    self.kinds[i],
                    params.a[i],
                    &params.d[i],
                    theta,
                    &mut lp[..kc],
                );
                for (k, &l) in lp[..kc].iter().enumerate() {
                    table[(self.base[i] + k) * q + node] = l;
                }
            }
        }
        table
    }

    /// Item i's rows of a table laid out like [`log_table`](Self::log_table).
    pub fn item_rows<'r>(&self, r: &'r [f64], i: usize) -> &'r [f64] {
        &r[self.base[i] * self.qp..(self.base[i] + self.k[i]) * self.qp]
    }
}

/// Patterns per chunk of the parallel E-step: a function of the number of
/// patterns only, so sums are added in the same order on any machine. At
/// most 16 chunks: each has its own expected-count table to zero and add up.
pub(crate) fn chunk_size(patterns: usize) -> usize {
    patterns.div_ceil(16).max(512)
}

/// Marginal log-likelihood at `params` and, when asked, the expected counts
/// `r[i][k][q]` (laid out like the table).
pub(crate) fn e_step(
    patterns: &Patterns,
    layout: &Layout,
    params: &Params,
    grid: &Grid,
    want_counts: bool,
) -> (f64, Option<Vec<f64>>) {
    let table = layout.log_table(params, grid);
    let t = LogTable {
        qp: layout.qp,
        rows: &table,
        base: &layout.base,
        log_w: &layout.log_w,
    };
    let n = patterns.n_items;
    let chunk = chunk_size(patterns.counts.len());
    let work = |(cells, counts): (&[u8], &[f64])| {
        let mut r = want_counts.then(|| vec![0.0; layout.rows * layout.qp]);
        let loglik = kernel::e_step(&t, cells, counts, n, r.as_deref_mut());
        (loglik, r)
    };
    let chunks: Vec<(&[u8], &[f64])> = patterns
        .cells
        .chunks(chunk * n)
        .zip(patterns.counts.chunks(chunk))
        .collect();
    let parts: Vec<(f64, Option<Vec<f64>>)> = if chunks.len() > 1 {
        chunks.into_par_iter().map(work).collect()
    } else {
        chunks.into_iter().map(work).collect()
    };
    let mut loglik = 0.0;
    let mut r: Option<Vec<f64>> = None;
    for (l, part) in parts {
        loglik += l;
        match (&mut r, part) {
            (Some(acc), Some(part)) => {
                for (x, y) in acc.iter_mut().zip(part) {
                    *x += y;
                }
            }
            (None, part) => r = part,
            _ => {}
        }
    }
    (loglik, r)
}
