//! Item fit by S-X² (Orlando & Thissen 2000; for polytomous items, Orlando &
//! Thissen 2003, Kang & Chen 2008): for each item, persons are grouped by
//! their sum score s, and the observed count of each category k in each
//! group is compared with the expected count `N_s·P(X_i = k │ S = s)`
//! ([`super::sumscore`]). Groups are formed on the observed sum score, which
//! does not depend on the parameters; that is what makes S-X² close to χ²
//! where fit statistics that group on estimated θ are not.
//!
//! As in mirt's `itemfit`: the lowest and highest sum scores are left out
//! (their proportions are fixed), sparse cells are pooled
//! ([`super::collapse`]), and `df = Σ_groups (cells − 1) − (item
//! parameters)`, counting a Rasch item's share of the common slope as one
//! parameter, as mirt counts its latent variance.

use crate::IrtError;
use crate::data::{MISSING, ResponseMatrix};
use crate::grid::{CALIBRATION_QUADPTS, Grid};
use crate::model::Item;
use crate::params::ItemBank;
use rayon::prelude::*;

use super::chisq::{p_value, rmsea};
use super::collapse::{ScoreGroup, pool};
use super::moments::probability_table;
use super::sumscore::category_given_sum;

/// Settings of [`s_x2`]; the defaults are mirt's.
#[derive(Clone, Debug, PartialEq)]
pub struct SumScoreFitOptions {
    /// Quadrature nodes on [−6, 6] for the expected proportions (default 61).
    pub quadpts: usize,
    /// Cells are pooled until every expected count is at least this
    /// (default 1, mirt's `mincell`).
    pub min_expected: f64,
}

impl Default for SumScoreFitOptions {
    fn default() -> Self {
        SumScoreFitOptions {
            quadpts: CALIBRATION_QUADPTS,
            min_expected: 1.0,
        }
    }
}

/// S-X² of one item.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemSX2 {
    /// The statistic (NaN when no degrees of freedom are left).
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
    /// `√((S-X²/df − 1)/(N − 1))`, 0 below df (mirt's `RMSEA.S_X2`).
    pub rmsea: f64,
    /// Sum-score groups left after pooling.
    pub groups: usize,
}

/// S-X² for every item of the bank, in its order.
#[derive(Clone, Debug, PartialEq)]
pub struct SumScoreFit {
    pub items: Vec<ItemSX2>,
    /// Persons used: those who answered every item.
    pub persons: usize,
    /// Persons left out because an answer was missing (a sum score over
    /// fewer items is not comparable; mirt requires complete data or
    /// `na.rm = TRUE`, which does the same).
    pub left_out: usize,
}

/// S-X² item fit of `bank` on `data` (same items, same order).
pub fn s_x2(
    bank: &ItemBank,
    data: &ResponseMatrix,
    options: &SumScoreFitOptions,
) -> Result<SumScoreFit, IrtError> {
    super::check_data(bank, data)?;
    if !(options.min_expected >= 0.0 && options.min_expected.is_finite()) {
        return Err(IrtError::Options(format!(
            "minimum expected count {} is not a non-negative number",
            options.min_expected
        )));
    }
    let categories: Vec<usize> = bank.items().iter().map(Item::categories).collect();
    let top: usize = categories.iter().map(|k| k - 1).sum();
    let n = bank.len();
    // observed[i][s·K_i + k]: persons with sum s and X_i = k.
    let mut observed: Vec<Vec<f64>> = categories
        .iter()
        .map(|&k| vec![0.0; (top + 1) * k])
        .collect();
    let mut at_sum = vec![0.0; top + 1];
    let (mut persons, mut left_out) = (0, 0);
    for row in data.cells().chunks_exact(n) {
        if row.contains(&MISSING) {
            left_out += 1;
            continue;
        }
        persons += 1;
        let s: usize = row.iter().map(|&x| usize::from(x)).sum();
        at_sum[s] += 1.0;
        for ((table, &k), &x) in observed.iter_mut().zip(&categories).zip(row) {
            table[s * k + usize::from(x)] += 1.0;
        }
    }
    if persons == 0 {
        return Err(IrtError::Data(
            "no person answered every item: S-X² needs complete response patterns".into(),
        ));
    }
    let grid = Grid::new(options.quadpts)?;
    let probs = probability_table(bank, &grid);
    let items = (0..n)
        .into_par_iter()
        .map(|i| {
            let kc = categories[i];
            let rest_top = top - (kc - 1);
            let proportion = category_given_sum(&probs, &categories, i, &grid);
            let groups: Vec<ScoreGroup> = (1..top)
                .map(|s| ScoreGroup {
                    observed: observed[i][s * kc..(s + 1) * kc].to_vec(),
                    expected: proportion[s * kc..(s + 1) * kc]
                        .iter()
                        .map(|p| at_sum[s] * p)
                        .collect(),
                    possible: (0..kc).map(|k| k <= s && s - k <= rest_top).collect(),
                })
                .collect();
            let pooled = pool(groups, options.min_expected);
            // Slope + K − 1 intercepts (+ g for a 3PL item).
            let df = pooled
                .free_cells
                .saturating_sub(bank.items()[i].parameters());
            let statistic = if df > 0 { pooled.statistic } else { f64::NAN };
            ItemSX2 {
                statistic,
                df,
                p_value: p_value(statistic, df),
                rmsea: rmsea(statistic, df, persons),
                groups: pooled.groups,
            }
        })
        .collect();
    Ok(SumScoreFit {
        items,
        persons,
        left_out,
    })
}
