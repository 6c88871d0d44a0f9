//! Limited-information global fit: M2 (Maydeu-Olivares & Joe 2005, 2006),
//! M2* (Cai & Hansen 2013) and C2 (Cai & Monroe 2014), as mirt's `M2()`
//! reports them.
//!
//! `M2 = rᵀ C r`, with r the residuals of the margins (observed − model),
//! scaled by the sample size, and `C = Ξ⁻¹ − Ξ⁻¹Δ(ΔᵀΞ⁻¹Δ)⁻¹ΔᵀΞ⁻¹` (Ξ the
//! per-person covariance of the margins, Δ their Jacobian with respect to
//! the free parameters), asymptotically χ² with (margins − parameters)
//! degrees of freedom when the parameters are ML estimates.

use crate::IrtError;
use crate::data::ResponseMatrix;
use crate::grid::{CALIBRATION_QUADPTS, Grid};
use crate::model::{Item, Kind, Model};
use crate::params::ItemBank;

use super::chisq::{p_value, rmsea, rmsea_interval};
use super::dense::quadratic_form;
use super::layout::FreeParams;
use super::moments::{Counts, MomentSet, model_moments, score_moments};

pub use super::moments::Moments;

/// Ξ is dense, margins × margins: more margins than this would need more
/// than ~300 MB. [`Moments::Collapsed`] keeps long polytomous tests below it.
pub const MAX_MARGINS: usize = 6000;

/// Settings of [`m2`]; the defaults are mirt's.
#[derive(Clone, Debug, PartialEq)]
pub struct M2Options {
    /// Which margins (default [`Moments::Collapsed`], mirt's `"M2*"`; for
    /// dichotomous items all choices give the same statistic).
    pub moments: Moments,
    /// Quadrature nodes on [−6, 6] (default 61, mirt's for one factor).
    pub quadpts: usize,
    /// Coverage of the RMSEA interval (default 0.9).
    pub ci: f64,
    /// Also fit the independence model, for CFI and TLI (default true).
    pub null_model: bool,
}

impl Default for M2Options {
    fn default() -> Self {
        M2Options {
            moments: Moments::Collapsed,
            quadpts: CALIBRATION_QUADPTS,
            ci: 0.9,
            null_model: true,
        }
    }
}

/// The result of [`m2`] (mirt's `M2()` columns).
#[derive(Clone, Debug, PartialEq)]
pub struct M2Fit {
    /// Which margins were used.
    pub moments: Moments,
    /// The statistic (M2, M2* or C2).
    pub statistic: f64,
    /// Margins − free parameters (more exactly, − the rank of Δ: the same
    /// unless the margins do not identify every parameter).
    pub df: usize,
    pub p_value: f64,
    /// `√((M2/df − 1)/(N − 1))`, 0 when M2 ≤ df.
    pub rmsea: f64,
    /// The RMSEA interval of coverage [`M2Options::ci`].
    pub rmsea_lower: f64,
    pub rmsea_upper: f64,
    /// Root mean square of the residual correlations of item scores.
    pub srmsr: f64,
    /// Tucker–Lewis index against the independence model (`None` if not
    /// asked for, or if that model fits no worse).
    pub tli: Option<f64>,
    /// Comparative fit index, clipped to [0, 1].
    pub cfi: Option<f64>,
    /// The statistic and degrees of freedom of the independence model. With
    /// collapsed margins (M2*, C2's bivariate part) its K − 1 intercepts per
    /// polytomous item move the margins only through the item mean, so its
    /// Δ has rank below its parameter count and df = margins − rank (mirt
    /// subtracts the parameter count and takes an arbitrary part of the
    /// complement; see docs/irt.md).
    pub null_statistic: Option<f64>,
    pub null_df: Option<usize>,
    /// Number of margins and of free parameters.
    pub margins: usize,
    pub parameters: usize,
    /// Persons with at least one answer (N).
    pub persons: usize,
}

/// Limited-information fit of `bank` to `data` (same items, same order).
///
/// **Missing answers** are handled as mirt does: each margin is observed on
/// the persons who answered its item(s), and its residual is weighted by
/// `N_margin/√N`; with complete data this is `√N·(p − π)`. RMSEA uses N, the
/// persons with at least one answer.
pub fn m2(bank: &ItemBank, data: &ResponseMatrix, options: &M2Options) -> Result<M2Fit, IrtError> {
    super::check_data(bank, data)?;
    if !(options.ci > 0.0 && options.ci < 1.0) {
        return Err(IrtError::Options(format!(
            "RMSEA interval coverage {} is not in (0, 1)",
            options.ci
        )));
    }
    let grid = Grid::new(options.quadpts)?;
    let categories: Vec<usize> = bank.items().iter().map(Item::categories).collect();
    let set = MomentSet::new(&categories, options.moments);
    if set.len() > MAX_MARGINS {
        return Err(IrtError::Options(format!(
            "{} uses {} margins here, more than {MAX_MARGINS}; use the collapsed margins (M2*)",
            options.moments.name(),
            set.len()
        )));
    }
    let counts = Counts::tally(data, &categories);
    if counts.persons == 0 {
        return Err(IrtError::Data("no answers to test fit on".into()));
    }
    let free = FreeParams::of_bank(bank);
    let (statistic, df) = compute(bank, &set, &counts, &grid, &free)?;
    let n = counts.persons;
    let (rmsea_lower, rmsea_upper) = rmsea_interval(statistic, df, n, options.ci);
    let mut fit = M2Fit {
        moments: options.moments,
        statistic,
        df,
        p_value: p_value(statistic, df),
        rmsea: rmsea(statistic, df, n),
        rmsea_lower,
        rmsea_upper,
        srmsr: srmsr(bank, &counts, &grid),
        tli: None,
        cfi: None,
        null_statistic: None,
        null_df: None,
        margins: set.len(),
        parameters: free.count,
        persons: n,
    };
    if options.null_model
        && let Some(null) = independence_model(bank, &counts)?
    {
        // Nothing depends on θ when every slope is 0: three nodes suffice.
        let tiny = Grid::new(3)?;
        let free = FreeParams::intercepts_only(&null);
        let (x0, df0) = compute(&null, &set, &counts, &tiny, &free)?;
        fit.null_statistic = Some(x0);
        fit.null_df = Some(df0);
        if x0 > statistic {
            let (per0, per) = (x0 / df0 as f64, statistic / df as f64);
            fit.tli = Some((per0 - per) / (per0 - 1.0));
            let cfi = 1.0 - (statistic - df as f64) / (x0 - df0 as f64);
            fit.cfi = Some(cfi.clamp(0.0, 1.0));
        }
    }
    Ok(fit)
}

/// The statistic and its degrees of freedom for one model.
fn compute(
    bank: &ItemBank,
    set: &MomentSet,
    counts: &Counts,
    grid: &Grid,
    free: &FreeParams,
) -> Result<(f64, usize), IrtError> {
    let s = set.len();
    if s <= free.count {
        return Err(IrtError::Options(format!(
            "{} margins for {} parameters: no degrees of freedom left (try other margins)",
            s, free.count
        )));
    }
    let (observed, sizes) = counts.observed(set);
    let model = model_moments(bank, set, grid, free);
    let root_n = (counts.persons as f64).sqrt();
    let r: Vec<f64> = observed
        .iter()
        .zip(&model.pi)
        .zip(&sizes)
        .map(|((p, pi), n_a)| n_a / root_n * (p - pi))
        .collect();
    let (value, rank) =
        quadratic_form(model.xi, &model.delta, &r, free.count).ok_or_else(|| {
            IrtError::Data(
                "the margins' covariance matrix is singular: the statistic cannot be formed".into(),
            )
        })?;
    Ok((value, s - rank))
}

/// Standardised root mean square residual (mirt's SRMSR): the correlations
/// of the item scores, observed (pairwise-available) minus model-implied,
/// squared and averaged over the pairs of items.
fn srmsr(bank: &ItemBank, counts: &Counts, grid: &Grid) -> f64 {
    use super::moments::Basis::Score;
    let n = bank.len();
    if n < 2 {
        return f64::NAN;
    }
    let (e1, e2) = score_moments(bank, grid);
    let moment = |(sum, count): (f64, f64)| if count > 0.0 { sum / count } else { f64::NAN };
    let mean: Vec<f64> = (0..n)
        .map(|i| moment(counts.univariate(i, Score)))
        .collect();
    let variance: Vec<f64> = (0..n)
        .map(|i| {
            let (k, c) = (&counts.marginal[i], counts.marginal[i].iter().sum::<f64>());
            k.iter()
                .enumerate()
                .map(|(x, m)| (x * x) as f64 * m)
                .sum::<f64>()
                / c
                - mean[i] * mean[i]
        })
        .collect();
    let model_var: Vec<f64> = (0..n).map(|i| e2[i * n + i] - e1[i] * e1[i]).collect();
    let mut total = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            let cross = moment(counts.bivariate(i, Score, j, Score));
            let observed = (cross - mean[i] * mean[j]) / (variance[i] * variance[j]).sqrt();
            let implied = (e2[i * n + j] - e1[i] * e1[j]) / (model_var[i] * model_var[j]).sqrt();
            total += (observed - implied).powi(2);
        }
    }
    (total / (n * (n - 1) / 2) as f64).sqrt()
}

/// The independence model: every slope 0, intercepts reproducing each
/// item's observed category proportions (its ML estimate, also with answers
/// missing at random). `None` when an item has an unobserved category (no
/// finite intercept).
fn independence_model(bank: &ItemBank, counts: &Counts) -> Result<Option<ItemBank>, IrtError> {
    let mut items = Vec::with_capacity(bank.len());
    for (item, observed) in bank.items().iter().zip(&counts.marginal) {
        if observed.iter().any(|&c| c <= 0.0) {
            return Ok(None);
        }
        let total: f64 = observed.iter().sum();
        let p: Vec<f64> = observed.iter().map(|c| c / total).collect();
        // A 3PL item with slope 0 has a constant P(1) in which g and d are
        // not separately identified: its independence model is the 2PL one.
        let model = match item.model() {
            Model::ThreePl => Model::TwoPl,
            other => other,
        };
        let d: Vec<f64> = match model.kind() {
            // P(X ≥ k) = σ(d_k)
            Kind::Cumulative => (1..p.len())
                .map(|k| {
                    let above: f64 = p[k..].iter().sum();
                    (above / (1.0 - above)).ln()
                })
                .collect(),
            // P(k) ∝ exp(d_k), d_0 = 0
            Kind::Adjacent | Kind::Guessing => p[1..].iter().map(|pk| (pk / p[0]).ln()).collect(),
        };
        items.push(Item::new(item.name(), model, 0.0, d)?);
    }
    ItemBank::new(items).map(Some)
}
