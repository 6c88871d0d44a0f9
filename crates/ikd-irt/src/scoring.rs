//! Person scoring on a fixed item bank: EAP, MAP, ML and EAP by sum score.
//!
//! Missing answers are left out of the likelihood; a person with no answer
//! gets [`Score::MISSING`] (NaN θ and SE).

use crate::IrtError;
use crate::data::{MISSING, ResponseMatrix};
use crate::grid::{Grid, SCORING_QUADPTS, THETA_RANGE};
use crate::kernel::{self, EapTable};
use crate::model::{self, Item, MAX_CATEGORIES, Model};
use crate::params::ItemBank;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// How θ is estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Posterior mean over the grid with the N(0, 1) prior; SE = posterior SD.
    Eap,
    /// Posterior mode (Newton on the log posterior with the N(0, 1) prior);
    /// SE from the observed information including the prior's 1.
    Map,
    /// Maximum likelihood (Newton); SE = 1/√(test information at θ̂). A
    /// pattern with every answer in the top category (bottom, for a negative
    /// slope) has θ̂ = +∞, and in the bottom category −∞; both with SE = +∞.
    Ml,
    /// EAP given only the sum of the category codes (Lord–Wingersky
    /// recursion over the grid). With missing answers the table is computed
    /// for the items that person answered (once per distinct set in a batch).
    EapSum,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Eap => "eap",
            Method::Map => "map",
            Method::Ml => "ml",
            Method::EapSum => "eapsum",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = IrtError;
    fn from_str(s: &str) -> Result<Self, IrtError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "eap" => Ok(Method::Eap),
            "map" => Ok(Method::Map),
            "ml" => Ok(Method::Ml),
            "eapsum" => Ok(Method::EapSum),
            other => Err(IrtError::Options(format!(
                "unknown scoring method '{other}' (expected eap, map, ml or eapsum)"
            ))),
        }
    }
}

/// Scoring settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoringOptions {
    pub method: Method,
    /// Quadrature nodes for EAP and EAP-sum (mirt's `fscores` default for
    /// one dimension is 121).
    pub quadpts: usize,
    /// The grid's range (mirt's `theta_lim`, default [−6, 6]).
    pub range: (f64, f64),
}

impl Default for ScoringOptions {
    fn default() -> Self {
        ScoringOptions {
            method: Method::Eap,
            quadpts: SCORING_QUADPTS,
            range: THETA_RANGE,
        }
    }
}

/// A person's θ and its standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    pub theta: f64,
    pub se: f64,
}

impl Score {
    /// No answer, no score.
    pub const MISSING: Score = Score {
        theta: f64::NAN,
        se: f64::NAN,
    };

    pub fn is_missing(&self) -> bool {
        self.theta.is_nan()
    }
}

/// EAP θ and SE for each sum score (index), with the marginal probability of
/// each sum score under the model (`N·probability` = expected counts).
#[derive(Clone, Debug, PartialEq)]
pub struct SumScoreTable {
    pub theta: Vec<f64>,
    pub se: Vec<f64>,
    pub probability: Vec<f64>,
}

/// Scores persons on one item bank. Built once per bank (the EAP table of
/// log-probabilities is precomputed), then shared: `Scorer` is `Sync`.
#[derive(Clone, Debug)]
pub struct Scorer {
    bank: ItemBank,
    method: Method,
    grid: Grid,
    categories: Vec<u8>,
    eap: Option<EapTable>,
    full_sum_table: Option<SumScoreTable>,
}

impl Scorer {
    pub fn new(bank: ItemBank, options: &ScoringOptions) -> Result<Self, IrtError> {
        let grid = Grid::with_range(options.quadpts, options.range.0, options.range.1)?;
        let categories = bank.items().iter().map(|i| i.categories() as u8).collect();
        let eap = (options.method == Method::Eap).then(|| eap_table(&bank, &grid));
        let full_sum_table =
            (options.method == Method::EapSum).then(|| lord_wingersky(bank.items().iter(), &grid));
        Ok(Scorer {
            bank,
            method: options.method,
            grid,
            categories,
            eap,
            full_sum_table,
        })
    }

    pub fn bank(&self) -> &ItemBank {
        &self.bank
    }

    pub fn method(&self) -> Method {
        self.method
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Scores one person: one answer per item of the bank, in bank order,
    /// [`MISSING`] for no answer.
    pub fn score(&self, responses: &[u8]) -> Result<Score, IrtError> {
        let mut out = [Score::MISSING];
        self.score_batch(responses, &mut out)?;
        Ok(out[0])
    }

    /// Scores a person-major batch: `responses.len() == out.len() × items`.
    /// Every answer is checked against its item's categories first.
    pub fn score_batch(&self, responses: &[u8], out: &mut [Score]) -> Result<(), IrtError> {
        let n = self.bank.len();
        if responses.len() != out.len() * n {
            return Err(IrtError::Layout(format!(
                "{} answers for {} persons × {n} items",
                responses.len(),
                out.len()
            )));
        }
        let items = self.bank.items();
        if self.method != Method::Eap {
            self.check(responses)?;
        }
        match self.method {
            Method::Eap => {
                let table = self.eap.as_ref().expect("built for EAP");
                kernel::eap_batch(table, responses, n, &mut |p, post| {
                    out[p] = post.map_or(Score::MISSING, |(theta, se)| Score { theta, se });
                })
                .map_err(|(person, i)| self.bad_answer(person, i, responses[person * n + i]))?;
            }
            Method::Map => {
                for (slot, resp) in out.iter_mut().zip(responses.chunks_exact(n)) {
                    *slot = map_score(items, resp);
                }
            }
            Method::Ml => {
                for (slot, resp) in out.iter_mut().zip(responses.chunks_exact(n)) {
                    *slot = ml_score(items, resp);
                }
            }
            Method::EapSum => {
                let full = self.full_sum_table.as_ref().expect("built for EAP-sum");
                let mut partial: HashMap<Vec<bool>, SumScoreTable> = HashMap::new();
                for (slot, resp) in out.iter_mut().zip(responses.chunks_exact(n)) {
                    let sum: usize = resp
                        .iter()
                        .filter(|&&x| x != MISSING)
                        .map(|&x| x as usize)
                        .sum();
                    let answered = resp.iter().filter(|&&x| x != MISSING).count();
                    let table = if answered == n {
                        full
                    } else if answered == 0 {
                        *slot = Score::MISSING;
                        continue;
                    } else {
                        let mask: Vec<bool> = resp.iter().map(|&x| x != MISSING).collect();
                        partial
                            .entry(mask)
                            .or_insert_with_key(|mask| self.sum_score_table(mask))
                    };
                    *slot = Score {
                        theta: table.theta[sum],
                        se: table.se[sum],
                    };
                }
            }
        }
        Ok(())
    }

    /// Scores a matrix whose items are the bank's, in the bank's order (as
    /// [`ResponseMatrix::read_csv_for`] returns them).
    pub fn score_matrix(&self, data: &ResponseMatrix) -> Result<Vec<Score>, IrtError> {
        let same = data.items().len() == self.bank.len()
            && data
                .items()
                .iter()
                .zip(self.bank.items())
                .all(|(a, b)| a == b.name());
        if !same {
            return Err(IrtError::Layout(
                "the data's items are not the item bank's, in its order".into(),
            ));
        }
        let mut out = vec![Score::MISSING; data.persons()];
        self.score_batch(data.cells(), &mut out)?;
        Ok(out)
    }

    /// The EAP-sum table over the items marked `true` (one flag per bank
    /// item), on this scorer's grid.
    pub fn sum_score_table(&self, answered: &[bool]) -> SumScoreTable {
        let items = self
            .bank
            .items()
            .iter()
            .zip(answered)
            .filter(|(_, a)| **a)
            .map(|(i, _)| i);
        lord_wingersky(items, &self.grid)
    }

    fn check(&self, responses: &[u8]) -> Result<(), IrtError> {
        let n = self.bank.len();
        for (p, resp) in responses.chunks_exact(n).enumerate() {
            let bad = resp
                .iter()
                .zip(&self.categories)
                .any(|(&x, &k)| x >= k && x != MISSING);
            if bad {
                let (i, &x) = resp
                    .iter()
                    .enumerate()
                    .find(|&(i, &x)| x >= self.categories[i] && x != MISSING)
                    .expect("found above");
                return Err(self.bad_answer(p, i, x));
            }
        }
        Ok(())
    }

    fn bad_answer(&self, person: usize, item: usize, value: u8) -> IrtError {
        let item = &self.bank.items()[item];
        IrtError::Category {
            person,
            item: item.name().to_owned(),
            value,
            max: item.categories() - 1,
        }
    }
}

/// The f32 table `log P(X = k | θ_q)` behind the EAP kernel.
fn eap_table(bank: &ItemBank, grid: &Grid) -> EapTable {
    let mut base = Vec::with_capacity(bank.len());
    let mut values: Vec<f64> = Vec::new(); // row-major, grid.len() per row
    let mut lp = [0.0f64; MAX_CATEGORIES];
    let q = grid.len();
    for item in bank.items() {
        let k = item.categories();
        base.push(values.len() / q);
        let start = values.len();
        values.resize(start + k * q, 0.0);
        for (node, &theta) in grid.nodes().iter().enumerate() {
            item.log_probs(theta, &mut lp[..k]);
            for (cat, &l) in lp[..k].iter().enumerate() {
                values[start + cat * q + node] = l;
            }
        }
    }
    let categories = bank.items().iter().map(|i| i.categories() as u8).collect();
    EapTable::new(
        grid.nodes(),
        grid.log_weights(),
        base,
        categories,
        values.len() / q,
        |row, node| values[row * q + node],
    )
}

/// Log posterior (or log-likelihood) and its first two derivatives at θ.
fn log_density(items: &[Item], resp: &[u8], theta: f64, prior: bool) -> (f64, f64, f64) {
    let (mut l, mut g, mut h) = if prior {
        (-0.5 * theta * theta, -theta, -1.0)
    } else {
        (0.0, 0.0, 0.0)
    };
    for (item, &x) in items.iter().zip(resp) {
        if x == MISSING {
            continue;
        }
        let (li, gi, hi) = model::theta_terms(
            item.model().kind(),
            item.a(),
            item.kernel_d(),
            theta,
            x as usize,
        );
        l += li;
        g += gi;
        h += hi;
    }
    (l, g, h)
}

/// Newton's method with step halving on the log density: never accepts a
/// step that lowers it. Steps are at most `max_step` long, which keeps flat
/// regions from throwing θ far. Returns θ̂ and the second derivative there.
///
/// Every model but the 3PL is log-concave in θ, so the start (0) does not
/// matter. A 3PL likelihood need not be: when a 3PL item is answered, the
/// start is the best of a grid on [−6, 6] in steps of 0.25, so that Newton
/// climbs the highest mode there rather than the nearest one.
fn newton(items: &[Item], resp: &[u8], prior: bool, max_step: f64) -> (f64, f64) {
    let three_pl = items
        .iter()
        .zip(resp)
        .any(|(i, &x)| x != MISSING && i.model() == Model::ThreePl);
    let mut theta = if three_pl {
        (0..=48)
            .map(|j| -6.0 + 0.25 * j as f64)
            .map(|t| (t, log_density(items, resp, t, prior).0))
            .fold((0.0, f64::NEG_INFINITY), |best, v| {
                if v.1 > best.1 { v } else { best }
            })
            .0
    } else {
        0.0
    };
    let (mut l, mut g, mut h) = log_density(items, resp, theta, prior);
    for _ in 0..200 {
        let step = if h < 0.0 {
            -g / h
        } else {
            g.signum() * max_step
        };
        let step = step.clamp(-max_step, max_step);
        if step.abs() < 1e-10 {
            break;
        }
        let mut lambda = 1.0;
        let mut moved = false;
        while lambda > 1e-12 {
            let trial = theta + lambda * step;
            let (lt, gt, ht) = log_density(items, resp, trial, prior);
            if lt >= l {
                (theta, l, g, h) = (trial, lt, gt, ht);
                moved = true;
                break;
            }
            lambda *= 0.5;
        }
        if !moved || (lambda * step).abs() < 1e-10 || theta.abs() > 60.0 {
            break;
        }
    }
    (theta, h)
}

fn map_score(items: &[Item], resp: &[u8]) -> Score {
    if resp.iter().all(|&x| x == MISSING) {
        return Score::MISSING;
    }
    let (theta, h) = newton(items, resp, true, 2.0);
    Score {
        theta,
        se: (-h).sqrt().recip(),
    }
}

fn ml_score(items: &[Item], resp: &[u8]) -> Score {
    let (mut informative, mut all_top, mut all_bottom) = (false, true, true);
    for (item, &x) in items.iter().zip(resp) {
        if x == MISSING || item.a() == 0.0 {
            continue;
        }
        informative = true;
        let top = if item.a() > 0.0 {
            item.categories() - 1
        } else {
            0
        };
        let bottom = item.categories() - 1 - top;
        all_top &= x as usize == top;
        all_bottom &= x as usize == bottom;
    }
    if !informative {
        return Score::MISSING;
    }
    if all_top || all_bottom {
        let theta = if all_top {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
        return Score {
            theta,
            se: f64::INFINITY,
        };
    }
    let (theta, _) = newton(items, resp, false, 1.0);
    if theta.abs() > 60.0 {
        // Only a likelihood that keeps rising gets here: mixed-sign slopes,
        // or 3PL items, whose likelihood can be highest as θ → −∞ (right
        // answers keep probability g there).
        return Score {
            theta: theta.signum() * f64::INFINITY,
            se: f64::INFINITY,
        };
    }
    let info: f64 = items
        .iter()
        .zip(resp)
        .filter(|(_, x)| **x != MISSING)
        .map(|(item, _)| item.information(theta))
        .sum();
    Score {
        theta,
        se: info.sqrt().recip(),
    }
}

/// Lord–Wingersky: at every node, the distribution of the sum score over the
/// given items, built one item at a time (`L'(s) = Σ_k L(s − k)·P_k`); then
/// the posterior of θ for each sum score. Each node's column is rescaled
/// after every item (the scale kept in logs) so long tests cannot underflow.
fn lord_wingersky<'a>(items: impl Iterator<Item = &'a Item> + Clone, grid: &Grid) -> SumScoreTable {
    let q = grid.len();
    let max: usize = items.clone().map(|i| i.categories() - 1).sum();
    let mut l = vec![0.0f64; (max + 1) * q];
    let mut next = vec![0.0f64; (max + 1) * q];
    l[..q].fill(1.0);
    let mut log_scale = vec![0.0f64; q];
    let mut top = 0;
    let mut p = [0.0f64; MAX_CATEGORIES];
    for item in items {
        let kc = item.categories();
        next[..(top + kc) * q].fill(0.0);
        for (node, &theta) in grid.nodes().iter().enumerate() {
            item.probs(theta, &mut p[..kc]);
            for s in 0..=top {
                let v = l[s * q + node];
                if v == 0.0 {
                    continue;
                }
                for (k, pk) in p[..kc].iter().enumerate() {
                    next[(s + k) * q + node] += v * pk;
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
    let mut table = SumScoreTable {
        theta: Vec::with_capacity(top + 1),
        se: Vec::with_capacity(top + 1),
        probability: Vec::with_capacity(top + 1),
    };
    let mut log_post = vec![0.0f64; q];
    for s in 0..=top {
        for node in 0..q {
            log_post[node] = grid.log_weights()[node] + log_scale[node] + l[s * q + node].ln();
        }
        let m = log_post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = log_post.iter().map(|lp| (lp - m).exp()).collect();
        let total: f64 = w.iter().sum();
        let mean = w.iter().zip(grid.nodes()).map(|(w, t)| w * t).sum::<f64>() / total;
        let var = w
            .iter()
            .zip(grid.nodes())
            .map(|(w, t)| w * (t - mean) * (t - mean))
            .sum::<f64>()
            / total;
        table.theta.push(mean);
        table.se.push(var.sqrt());
        table.probability.push(m.exp() * total);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(items: Vec<Item>) -> ItemBank {
        ItemBank::new(items).unwrap()
    }

    fn scorer(bank: &ItemBank, method: Method, quadpts: usize) -> Scorer {
        Scorer::new(
            bank.clone(),
            &ScoringOptions {
                method,
                quadpts,
                range: THETA_RANGE,
            },
        )
        .unwrap()
    }

    /// EAP for one 2PL item (a = 1, d = 0) on the 3-node grid {−6, 0, 6}, by
    /// hand. Prior weights ∝ (e^−18, 1, e^−18); P(1 | θ) = σ(θ):
    /// σ(−6) = 0.0024726232, σ(0) = 0.5, σ(6) = 0.9975273768.
    /// Answer 1: posterior ∝ (e^−18·0.0024726, 0.5, e^−18·0.9975274)
    ///   = (3.7658e−11, 0.5, 1.5192e−8); mean = 6·(1.5192e−8 − 3.7658e−11)/0.5
    ///   ≈ 1.81848e−7.
    #[test]
    fn eap_one_item_three_nodes_by_hand() {
        let b = bank(vec![Item::new("x", Model::TwoPl, 1.0, vec![0.0]).unwrap()]);
        let s = scorer(&b, Method::Eap, 3);
        let e18 = (-18.0f64).exp();
        let (lo, mid, hi) = (e18 * 0.002_472_623_2, 0.5, e18 * 0.997_527_376_8);
        let total = lo + mid + hi;
        let mean = 6.0 * (hi - lo) / total;
        let var = (36.0 * (lo + hi)) / total - mean * mean;
        let got = s.score(&[1]).unwrap();
        assert!((got.theta - mean).abs() < 1e-12, "{} vs {mean}", got.theta);
        assert!(
            (got.se - var.sqrt()).abs() < 1e-6 * var.sqrt(),
            "{} vs {}",
            got.se,
            var.sqrt()
        );
        let got = s.score(&[0]).unwrap();
        assert!((got.theta + mean).abs() < 1e-12);
        assert!(s.score(&[MISSING]).unwrap().is_missing());
    }

    /// The f32 EAP kernel (coarse window, FMA) against a direct f64
    /// computation over the whole grid: long and short tests, grids of
    /// several sizes, extreme patterns, missing answers, a negative slope.
    #[test]
    fn eap_kernel_matches_direct_f64() {
        let mut items: Vec<Item> = (0..40)
            .map(|i| {
                let t = i as f64 / 40.0;
                let d = vec![2.0 - t, 0.5 - t, -1.0 - t, -2.5 + t * 0.5];
                Item::new(format!("g{i}"), Model::Graded, 0.8 + 2.0 * t, d).unwrap()
            })
            .collect();
        items.push(
            Item::new(
                "neg",
                Model::PartialCredit,
                -0.7,
                vec![0.3, 0.1, -0.2, -0.4],
            )
            .unwrap(),
        );
        let b = bank(items);
        let n = b.len();
        let mut patterns: Vec<Vec<u8>> = (0..30u32)
            .map(|seed| {
                (0..n as u32)
                    .map(|i| {
                        let v = (i * 7 + seed * 13 + (i * seed) % 5) % 6;
                        if v == 5 { MISSING } else { v as u8 }
                    })
                    .collect()
            })
            .collect();
        patterns.push(vec![0; n]);
        patterns.push(vec![4; n]);
        patterns.push((0..n).map(|i| if i < 3 { 4 } else { MISSING }).collect());
        patterns.push((0..n).map(|i| if i == 7 { 0 } else { MISSING }).collect());
        for quadpts in [3, 21, 61, 121, 241] {
            let s = scorer(&b, Method::Eap, quadpts);
            let grid = Grid::new(quadpts).unwrap();
            for resp in &patterns {
                let mut log_post: Vec<f64> = grid.log_weights().to_vec();
                let mut lp = [0.0; 5];
                for (item, &x) in b.items().iter().zip(resp) {
                    if x == MISSING {
                        continue;
                    }
                    for (node, &theta) in grid.nodes().iter().enumerate() {
                        item.log_probs(theta, &mut lp);
                        log_post[node] += lp[x as usize];
                    }
                }
                let m = log_post.iter().copied().fold(f64::MIN, f64::max);
                let w: Vec<f64> = log_post.iter().map(|l| (l - m).exp()).collect();
                let tot: f64 = w.iter().sum();
                let mean = w.iter().zip(grid.nodes()).map(|(w, t)| w * t).sum::<f64>() / tot;
                let sd = (w
                    .iter()
                    .zip(grid.nodes())
                    .map(|(w, t)| w * (t - mean).powi(2))
                    .sum::<f64>()
                    / tot)
                    .sqrt();
                let got = s.score(resp).unwrap();
                let tol = 2e-5 * (1.0 + mean.abs());
                assert!(
                    (got.theta - mean).abs() < tol,
                    "Q={quadpts}: {} vs {mean}",
                    got.theta
                );
                assert!(
                    (got.se - sd).abs() < tol,
                    "Q={quadpts}: SE {} vs {sd}",
                    got.se
                );
            }
        }
    }

    /// A 3PL bank is scored like any other: EAP against a direct f64
    /// computation, MAP and ML at a zero of the analytic gradient that is the
    /// maximum of a fine grid search, and EAP by sum score against the
    /// posterior of the sum score summed over every pattern.
    #[test]
    fn three_pl_items_score_with_every_method() {
        let items: Vec<Item> = (0..6)
            .map(|i| {
                let t = i as f64 / 5.0;
                Item::three_pl(format!("m{i}"), 0.8 + t, 1.0 - 2.5 * t, 0.15 + 0.1 * t).unwrap()
            })
            .collect();
        let b = bank(items);
        let grid = Grid::new(121).unwrap();
        let log_post = |resp: &[u8], theta: f64, prior: bool| -> f64 {
            let mut lp = [0.0; 2];
            let mut l = if prior { -0.5 * theta * theta } else { 0.0 };
            for (item, &x) in b.items().iter().zip(resp) {
                if x != MISSING {
                    item.log_probs(theta, &mut lp);
                    l += lp[x as usize];
                }
            }
            l
        };
        let patterns: Vec<Vec<u8>> = (0..64u8)
            .map(|bits| (0..6).map(|i| (bits >> i) & 1).collect())
            .collect();
        let eap = scorer(&b, Method::Eap, 121);
        let map = scorer(&b, Method::Map, 121);
        let ml = scorer(&b, Method::Ml, 121);
        for resp in &patterns {
            // EAP.
            let lw: Vec<f64> = grid
                .nodes()
                .iter()
                .zip(grid.log_weights())
                .map(|(&t, w)| w + log_post(resp, t, false))
                .collect();
            let m = lw.iter().copied().fold(f64::MIN, f64::max);
            let w: Vec<f64> = lw.iter().map(|l| (l - m).exp()).collect();
            let tot: f64 = w.iter().sum();
            let mean = w.iter().zip(grid.nodes()).map(|(w, t)| w * t).sum::<f64>() / tot;
            let got = eap.score(resp).unwrap();
            assert!(
                (got.theta - mean).abs() < 2e-5,
                "{resp:?}: {} vs {mean}",
                got.theta
            );
            // MAP and ML: the maximum of a grid search on [−8, 8] by 0.001.
            for (scorer, prior) in [(&map, true), (&ml, false)] {
                let got = scorer.score(resp).unwrap();
                let best = (0..=16_000)
                    .map(|j| -8.0 + j as f64 * 0.001)
                    .map(|t| (t, log_post(resp, t, prior)))
                    .fold((0.0, f64::MIN), |acc, v| if v.1 > acc.1 { v } else { acc });
                if !got.theta.is_finite() {
                    // Only ML, and only where the likelihood keeps rising:
                    // all wrong or all right, or (3PL) a pattern whose
                    // likelihood is highest as θ → −∞, where the right
                    // answers still have probability g.
                    assert!(!prior, "{resp:?}");
                    let far = got.theta.signum() * 30.0;
                    assert!(log_post(resp, far, false) >= best.1 - 1e-9, "{resp:?}");
                    continue;
                }
                assert!(
                    log_post(resp, got.theta, prior) >= best.1 - 1e-6,
                    "{resp:?} prior={prior}: θ̂ = {} but {} at {}",
                    got.theta,
                    best.1,
                    best.0
                );
                let (_, g, _) = log_density(b.items(), resp, got.theta, prior);
                assert!(g.abs() < 1e-6, "{resp:?}: gradient {g}");
            }
        }
        // EAP by sum score: the posterior mean given the sum, from the
        // patterns' marginal probabilities.
        let table = scorer(&b, Method::EapSum, 121).sum_score_table(&[true; 6]);
        for sum in 0..=6usize {
            let (mut num, mut den) = (0.0, 0.0);
            for resp in patterns
                .iter()
                .filter(|r| r.iter().map(|&x| x as usize).sum::<usize>() == sum)
            {
                for ((&t, lw), _) in grid.nodes().iter().zip(grid.log_weights()).zip(0..) {
                    let w = (lw + log_post(resp, t, false)).exp();
                    num += w * t;
                    den += w;
                }
            }
            assert!((table.probability[sum] - den).abs() < 1e-9, "sum {sum}");
            assert!((table.theta[sum] - num / den).abs() < 1e-9, "sum {sum}");
        }
    }

    /// ML for two 2PL items with a = 1, d = 0, answers (1, 0): the
    /// log-likelihood log σ(θ) + log σ(−θ) is symmetric, so θ̂ = 0, and the
    /// information is 2·σ(0)·σ(0) = 0.5, SE = √2. With d = (0.5, −0.5) the
    /// score equation σ(−θ−0.5) = σ(θ−0.5) gives θ̂ = 0 again, with
    /// information 2·σ(0.5)·σ(−0.5) and answers (1, 0).
    #[test]
    fn ml_two_items_by_hand() {
        let b = bank(vec![
            Item::new("x", Model::TwoPl, 1.0, vec![0.0]).unwrap(),
            Item::new("y", Model::TwoPl, 1.0, vec![0.0]).unwrap(),
        ]);
        let s = scorer(&b, Method::Ml, 61);
        let got = s.score(&[1, 0]).unwrap();
        assert!(got.theta.abs() < 1e-9, "{got:?}");
        assert!((got.se - 2f64.sqrt()).abs() < 1e-9, "{got:?}");
        let b = bank(vec![
            Item::new("x", Model::TwoPl, 1.0, vec![0.5]).unwrap(),
            Item::new("y", Model::TwoPl, 1.0, vec![-0.5]).unwrap(),
        ]);
        let s = scorer(&b, Method::Ml, 61);
        let got = s.score(&[1, 0]).unwrap();
        let p = model::sigmoid(0.5);
        assert!(got.theta.abs() < 1e-9, "{got:?}");
        assert!(
            (got.se - (2.0 * p * (1.0 - p)).sqrt().recip()).abs() < 1e-9,
            "{got:?}"
        );
        // Extreme patterns: ±∞ with infinite SE; one answer missing changes nothing.
        assert_eq!(
            s.score(&[1, 1]).unwrap(),
            Score {
                theta: f64::INFINITY,
                se: f64::INFINITY
            }
        );
        assert_eq!(s.score(&[0, MISSING]).unwrap().theta, f64::NEG_INFINITY);
        assert!(s.score(&[MISSING, MISSING]).unwrap().is_missing());
    }

    /// MAP for one item a = 1, d = 0, answer 1: maximise log σ(θ) − θ²/2,
    /// i.e. σ(−θ) = θ, θ̂ = 0.4010581; SE = 1/√(σ(θ̂)σ(−θ̂) + 1).
    #[test]
    fn map_one_item_by_hand() {
        let b = bank(vec![Item::new("x", Model::TwoPl, 1.0, vec![0.0]).unwrap()]);
        let got = scorer(&b, Method::Map, 61).score(&[1]).unwrap();
        assert!((got.theta - 0.401_058_1).abs() < 1e-7, "{got:?}");
        let p = model::sigmoid(got.theta);
        assert!((got.se - (p * (1.0 - p) + 1.0).sqrt().recip()).abs() < 1e-12);
    }

    /// Lord–Wingersky for two dichotomous items, by hand at each node:
    /// L(0) = q1·q2, L(1) = p1·q2 + q1·p2, L(2) = p1·p2 (p = P(1), q = 1 − p).
    #[test]
    fn lord_wingersky_two_items_by_hand() {
        let b = bank(vec![
            Item::new("x", Model::TwoPl, 1.2, vec![0.3]).unwrap(),
            Item::new("y", Model::TwoPl, 0.7, vec![-0.4]).unwrap(),
        ]);
        let grid = Grid::new(41).unwrap();
        let table = lord_wingersky(b.items().iter(), &grid);
        for s in 0..3 {
            let w: Vec<f64> = grid
                .nodes()
                .iter()
                .zip(grid.weights())
                .map(|(&t, &w)| {
                    let p1 = model::sigmoid(1.2 * t + 0.3);
                    let p2 = model::sigmoid(0.7 * t - 0.4);
                    w * [
                        (1.0 - p1) * (1.0 - p2),
                        p1 * (1.0 - p2) + (1.0 - p1) * p2,
                        p1 * p2,
                    ][s]
                })
                .collect();
            let total: f64 = w.iter().sum();
            let mean = w.iter().zip(grid.nodes()).map(|(w, t)| w * t).sum::<f64>() / total;
            assert!((table.theta[s] - mean).abs() < 1e-12);
            assert!((table.probability[s] - total).abs() < 1e-12);
        }
        assert!((table.probability.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Scoring by sum uses the table; a missing answer uses the other item's table.
        let s = scorer(&b, Method::EapSum, 41);
        assert_eq!(s.score(&[1, 0]).unwrap().theta, table.theta[1]);
        assert_eq!(s.score(&[0, 1]).unwrap().theta, table.theta[1]);
        let only_y = lord_wingersky(b.items()[1..].iter(), &grid);
        assert_eq!(s.score(&[MISSING, 1]).unwrap().theta, only_y.theta[1]);
    }

    #[test]
    fn polytomous_sum_scores_cover_every_total() {
        let b = bank(vec![
            Item::new("x", Model::Graded, 1.2, vec![1.0, -0.5]).unwrap(),
            Item::new("y", Model::PartialCredit, 0.9, vec![0.2, 0.1, -0.6]).unwrap(),
        ]);
        let s = scorer(&b, Method::EapSum, 121);
        let table = s.sum_score_table(&[true, true]);
        assert_eq!(table.theta.len(), 6);
        assert!(table.theta.windows(2).all(|w| w[0] < w[1]));
        assert!((table.probability.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn out_of_range_answers_are_refused() {
        let b = bank(vec![
            Item::new("x", Model::Graded, 1.0, vec![1.0, 0.0]).unwrap(),
        ]);
        for method in [Method::Eap, Method::Map, Method::Ml, Method::EapSum] {
            let err = scorer(&b, method, 21).score(&[3]).unwrap_err().to_string();
            assert!(
                err.contains("item 'x'") && err.contains("response 3"),
                "{err}"
            );
        }
    }

    #[test]
    fn map_and_eap_agree_in_direction() {
        let b = bank(vec![
            Item::new("x", Model::Graded, 1.5, vec![1.0, -0.5]).unwrap(),
            Item::new("y", Model::PartialCredit, 1.1, vec![0.4, -0.2]).unwrap(),
            Item::new("z", Model::TwoPl, 0.9, vec![0.1]).unwrap(),
        ]);
        let eap = scorer(&b, Method::Eap, 121);
        let map = scorer(&b, Method::Map, 121);
        let ml = scorer(&b, Method::Ml, 121);
        let low = [0, 0, 1];
        let high = [2, 2, 0];
        for s in [&eap, &map, &ml] {
            assert!(s.score(&low).unwrap().theta < s.score(&high).unwrap().theta);
        }
        // Shrinkage: |MAP| < |ML| for the same pattern.
        assert!(map.score(&high).unwrap().theta.abs() < ml.score(&high).unwrap().theta.abs());
    }
}
