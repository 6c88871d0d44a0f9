//! Ordinal logistic-regression DIF (Zumbo 1999; French & Miller 1996;
//! Swaminathan & Rogers 1990 for 0/1 items) on a proportional-odds model
//! fitted by Newton–Raphson.

use super::{
    DifClass, DifError, DifOptions, Groups, ItemTable, Skipped, benjamini_hochberg, chi_square_sf,
    prepare, solve_spd,
};
use crate::matrix::ItemMatrix;
use std::fmt;

/// A fitted proportional-odds (cumulative logit) model
/// `logit P(Y ≤ j | x) = ζ_j − xᵀβ`, `j = 1 … J − 1` — the parameterisation of
/// R's `MASS::polr` (and, for J = 2, `glm(binomial)` of `Y = 1` with
/// intercept −ζ₁).
#[derive(Clone, Debug, PartialEq)]
pub struct OrdinalFit {
    /// ζ₁ < … < ζ_{J−1}.
    pub thresholds: Vec<f64>,
    /// β, one per predictor column.
    pub coefficients: Vec<f64>,
    /// Σ w·ln P(Y = y | x) at the estimates.
    pub log_likelihood: f64,
    /// Newton steps taken.
    pub iterations: usize,
}

/// Why a proportional-odds model has no estimates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FitError {
    /// Fewer than two response categories, or a category without observations.
    EmptyCategory,
    /// Lengths of `y`, `x` and the weights disagree, or a value is not finite.
    BadInput,
    /// The information matrix is singular: a predictor is constant or
    /// collinear with others.
    Singular,
    /// No convergence within the iteration limit — typically (quasi-)complete
    /// separation, where some estimate runs off to infinity.
    NotConverged,
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FitError::EmptyCategory => "a response category has no observations",
            FitError::BadInput => "inputs of unequal length or not finite",
            FitError::Singular => "the model's information matrix is singular",
            FitError::NotConverged => "the model fit did not converge (separation?)",
        })
    }
}

impl std::error::Error for FitError {}

const MAX_ITERATIONS: usize = 100;

fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Per observation: ln p, and the derivative pieces u = f(a), v = f(b),
/// u' = f'(a), v' = f'(b) for the upper (a = ζ_y − η) and lower
/// (b = ζ_{y−1} − η) bounds of the category (zero at ±∞).
struct Piece {
    log_p: f64,
    p: f64,
    u: f64,
    v: f64,
    du: f64,
    dv: f64,
}

fn piece(theta: &[f64], y: usize, eta: f64) -> Option<Piece> {
    let last = theta.len(); // categories − 1
    let (fa, u, du) = if y < last {
        let f = logistic(theta[y] - eta);
        let u = f * (1.0 - f);
        (Some(f), u, u * (1.0 - 2.0 * f))
    } else {
        (None, 0.0, 0.0)
    };
    let (fb, v, dv) = if y > 0 {
        let f = logistic(theta[y - 1] - eta);
        let v = f * (1.0 - f);
        (Some(f), v, v * (1.0 - 2.0 * f))
    } else {
        (None, 0.0, 0.0)
    };
    let p = match (fa, fb) {
        (Some(fa), None) => fa,
        (None, Some(_)) => logistic(-(theta[y - 1] - eta)),
        // F(a) − F(b) = F(a)·F(−b)·(1 − e^{b−a}), without cancellation.
        (Some(fa), Some(_)) => {
            let (a, b) = (theta[y] - eta, theta[y - 1] - eta);
            fa * logistic(-b) * -(b - a).exp_m1()
        }
        (None, None) => 1.0,
    };
    if p.is_nan() || p <= 0.0 {
        return None;
    }
    Some(Piece {
        log_p: p.ln(),
        p,
        u,
        v,
        du,
        dv,
    })
}

/// Fits `logit P(Y ≤ j | x) = ζ_j − xᵀβ` by maximum likelihood.
///
/// `y[n]` is a category `0 … categories − 1`; `x` is row-major with `k`
/// predictors per observation (no intercept column: the thresholds are the
/// intercepts); `weights` (default 1) are frequency weights, so a table of
/// counts can be fitted cell by cell. Newton–Raphson with the analytic
/// gradient and Hessian, from the thresholds of the model without predictors
/// and β = 0, halving a step that does not raise the likelihood or disorders
/// the thresholds; it stops after a step that moves no parameter by more than
/// 10⁻¹⁰·(1 + |parameter|), and reports [`FitError::NotConverged`] after 100
/// steps (what separation produces: an estimate growing by a constant step
/// while the likelihood flattens). The log-likelihood is
/// concave in (ζ, β) (Pratt 1981), so the maximum found is the maximum.
pub fn proportional_odds(
    y: &[usize],
    x: &[f64],
    k: usize,
    weights: Option<&[f64]>,
    categories: usize,
) -> Result<OrdinalFit, FitError> {
    let n = y.len();
    if x.len() != n * k
        || weights.is_some_and(|w| w.len() != n)
        || x.iter().any(|v| !v.is_finite())
        || y.iter().any(|&c| c >= categories)
    {
        return Err(FitError::BadInput);
    }
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    if weights.is_some_and(|w| w.iter().any(|v| !(v.is_finite() && *v >= 0.0))) {
        return Err(FitError::BadInput);
    }
    // Start: the maximum-likelihood thresholds of the model without predictors.
    let mut per_category = vec![0.0; categories];
    for (i, &c) in y.iter().enumerate() {
        per_category[c] += w(i);
    }
    if categories < 2 || per_category.iter().any(|&c| c <= 0.0) {
        return Err(FitError::EmptyCategory);
    }
    let total: f64 = per_category.iter().sum();
    let t = categories - 1;
    let dim = t + k;
    let mut params = vec![0.0; dim];
    let mut cumulative = 0.0;
    for j in 0..t {
        cumulative += per_category[j];
        let q = cumulative / total;
        params[j] = (q / (1.0 - q)).ln();
    }
    let log_lik = |params: &[f64]| -> Option<f64> {
        let (theta, beta) = params.split_at(t);
        if theta.windows(2).any(|z| z[0] >= z[1]) {
            return None;
        }
        let mut ll = 0.0;
        for i in 0..n {
            let eta: f64 = x[i * k..(i + 1) * k]
                .iter()
                .zip(beta)
                .map(|(a, b)| a * b)
                .sum();
            ll += w(i) * piece(theta, y[i], eta)?.log_p;
        }
        Some(ll)
    };
    let mut ll = log_lik(&params).ok_or(FitError::BadInput)?;
    let mut grad = vec![0.0; dim];
    let mut info = vec![0.0; dim * dim];
    for iteration in 1..=MAX_ITERATIONS {
        grad.iter_mut().for_each(|g| *g = 0.0);
        info.iter_mut().for_each(|h| *h = 0.0);
        {
            let (theta, beta) = params.split_at(t);
            for i in 0..n {
                let wi = w(i);
                if wi == 0.0 {
                    continue;
                }
                let xi = &x[i * k..(i + 1) * k];
                let eta: f64 = xi.iter().zip(beta).map(|(a, b)| a * b).sum();
                let yi = y[i];
                let Piece {
                    p, u, v, du, dv, ..
                } = piece(theta, yi, eta).ok_or(FitError::BadInput)?;
                let p2 = p * p;
                // Second derivatives of ln p (H); info = −H.
                let d_eta = -(u - v) / p;
                let h_ee = (du - dv) / p - (u - v) * (u - v) / p2;
                if yi < t {
                    grad[yi] += wi * u / p;
                    info[yi * dim + yi] -= wi * (du / p - u * u / p2);
                    let h_ye = -du / p + u * (u - v) / p2;
                    for (j, xj) in xi.iter().enumerate() {
                        info[yi * dim + t + j] -= wi * h_ye * xj;
                    }
                }
                if yi > 0 {
                    let l = yi - 1;
                    grad[l] -= wi * v / p;
                    info[l * dim + l] -= wi * (-dv / p - v * v / p2);
                    let h_le = dv / p - v * (u - v) / p2;
                    for (j, xj) in xi.iter().enumerate() {
                        info[l * dim + t + j] -= wi * h_le * xj;
                    }
                    if yi < t {
                        info[l * dim + yi] -= wi * u * v / p2;
                    }
                }
                for (j, xj) in xi.iter().enumerate() {
                    grad[t + j] += wi * d_eta * xj;
                    for (l, xl) in xi.iter().enumerate().skip(j) {
                        info[(t + j) * dim + t + l] -= wi * h_ee * xj * xl;
                    }
                }
            }
        }
        // Fill the lower triangle from the upper one.
        for r in 0..dim {
            for c in 0..r {
                info[r * dim + c] = info[c * dim + r];
            }
        }
        // Singular at the start: a constant or collinear predictor; later: the
        // probabilities have saturated on the way to an infinite estimate.
        let step = solve_spd(&info, &grad).ok_or(if iteration == 1 {
            FitError::Singular
        } else {
            FitError::NotConverged
        })?;
        // The largest step relative to its parameter: the convergence measure.
        // (Not the likelihood's change: under separation the likelihood
        // flattens while an estimate keeps moving by a constant step.)
        let relative = step
            .iter()
            .zip(&params)
            .map(|(s, p)| s.abs() / (1.0 + p.abs()))
            .fold(0.0, f64::max);
        let mut scale = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let trial: Vec<f64> = params
                .iter()
                .zip(&step)
                .map(|(p, s)| p + scale * s)
                .collect();
            // Near the maximum the change of ln L is below its rounding, so a
            // small Newton step is taken whole (the quadratic model is exact
            // enough there); a larger one must raise the likelihood.
            if let Some(l) = log_lik(&trial)
                && (l >= ll || relative < 1e-6)
            {
                params = trial;
                ll = l;
                accepted = true;
                break;
            }
            scale /= 2.0;
        }
        if !accepted {
            return Err(FitError::NotConverged);
        }
        if relative < 1e-10 {
            let (theta, beta) = params.split_at(t);
            return Ok(OrdinalFit {
                thresholds: theta.to_vec(),
                coefficients: beta.to_vec(),
                log_likelihood: ll,
                iterations: iteration,
            });
        }
    }
    Err(FitError::NotConverged)
}

/// A likelihood-ratio test between two nested models.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrTest {
    /// `2·(ln L_larger − ln L_smaller)`.
    pub chi_square: f64,
    pub df: usize,
    pub p_value: f64,
    /// Benjamini–Hochberg adjusted p over the items (same test).
    pub p_adjusted: f64,
}

/// Logistic-regression DIF of one item.
#[derive(Clone, Debug, PartialEq)]
pub struct LrDif {
    /// Respondents analysed on the item.
    pub n: usize,
    /// The item's observed scores, ascending: category j of the models is `categories[j]`.
    pub categories: Vec<f64>,
    /// M1: item ~ criterion; M2: + group; M3: + group + criterion × group.
    /// Coefficients in the order criterion, one dummy per focal group (in
    /// [`LrReport::focal`] order), criterion × each dummy. A positive group
    /// coefficient: the focal group scores *higher* on the item than
    /// reference respondents with the same criterion.
    pub models: [OrdinalFit; 3],
    /// ln L of the model with thresholds only (`Σ n_c ln(n_c / n)`).
    pub null_log_likelihood: f64,
    /// Nagelkerke's R² of M1, M2, M3:
    /// `(1 − exp(2(ℓ₀ − ℓ)/n)) / (1 − exp(2ℓ₀/n))`.
    pub nagelkerke: [f64; 3],
    /// McFadden's R² of M1, M2, M3: `1 − ℓ/ℓ₀`.
    pub mcfadden: [f64; 3],
    /// M2 against M1: uniform DIF, `groups − 1` df.
    pub uniform: LrTest,
    /// M3 against M2: non-uniform DIF, `groups − 1` df.
    pub nonuniform: LrTest,
    /// M3 against M1: any DIF, `2(groups − 1)` df.
    pub both: LrTest,
    /// Nagelkerke R² of M2 minus that of M1.
    pub delta_r2_uniform: f64,
    /// Nagelkerke R² of M3 minus that of M1: the effect size of the class.
    pub delta_r2: f64,
    /// Jodoin & Gierl (2001): A (negligible) when `both` is not significant
    /// or `delta_r2 < 0.035`; C (large) when significant and `delta_r2 ≥ 0.070`;
    /// B (moderate) otherwise.
    pub class: DifClass,
}

/// One item's logistic-regression DIF, or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub struct LrItem {
    pub item: usize,
    pub result: Result<LrDif, Skipped>,
}

/// Logistic-regression DIF of every item of a matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct LrReport {
    /// The baseline of the group dummies.
    pub reference: String,
    /// The groups with a dummy, in coefficient order.
    pub focal: Vec<String>,
    /// Respondents with a group and a criterion value.
    pub persons_used: usize,
    pub items: Vec<LrItem>,
}

/// Logistic-regression DIF of every item of `items` (any ordered scores; NaN
/// missing), all groups in one model with `reference` as the baseline, matched
/// as `options.matching` says. The item's distinct observed scores are its
/// ordered categories (two for a 0/1 item: ordinary logistic regression).
///
/// An item is skipped when any group has fewer than `options.min_group`
/// respondents on it, when it has one score only, or when a model cannot be
/// fitted (e.g. separation).
pub fn logistic_dif(
    items: &ItemMatrix,
    groups: &Groups,
    reference: &str,
    options: &DifOptions,
) -> Result<LrReport, DifError> {
    let prep = prepare(items, groups, reference, &options.matching)?;
    let names = groups.names();
    let all: Vec<usize> = (0..names.len()).collect();
    let mut out: Vec<LrItem> = (0..items.items())
        .map(|i| {
            let result = prep.table(items, groups, i, None).and_then(|table| {
                prep.check_sizes(&table, groups, &all, options.min_group)?;
                if table.categories.len() < 2 {
                    return Err(Skipped::Constant);
                }
                item_dif(&table, &prep.focal, options.alpha).map_err(Skipped::Fit)
            });
            LrItem { item: i, result }
        })
        .collect();
    type Pick = fn(&mut LrDif) -> &mut LrTest;
    let picks: [Pick; 3] = [|d| &mut d.uniform, |d| &mut d.nonuniform, |d| &mut d.both];
    for pick in picks {
        let p: Vec<f64> = out
            .iter_mut()
            .map(|it| it.result.as_mut().map_or(f64::NAN, |d| pick(d).p_value))
            .collect();
        for (it, q) in out.iter_mut().zip(benjamini_hochberg(&p)) {
            if let Ok(d) = &mut it.result {
                pick(d).p_adjusted = q;
            }
        }
    }
    Ok(LrReport {
        reference: reference.to_string(),
        focal: prep.focal.iter().map(|&f| names[f].clone()).collect(),
        persons_used: prep.persons_used,
        items: out,
    })
}

/// The three models of one item, fitted on its table's non-empty cells.
fn item_dif(table: &ItemTable, focal: &[usize], alpha: f64) -> Result<LrDif, FitError> {
    let nc = table.categories.len();
    let h = focal.len();
    let k3 = 1 + 2 * h;
    let mut y = Vec::new();
    let mut x = Vec::new();
    let mut w = Vec::new();
    for (s, &level) in table.levels.iter().enumerate() {
        for g in 0..table.groups {
            let dummy = focal.iter().position(|&f| f == g);
            for c in 0..nc {
                let count = table.count(s, g, c);
                if count == 0.0 {
                    continue;
                }
                y.push(c);
                w.push(count);
                x.push(level);
                x.extend((0..h).map(|d| if dummy == Some(d) { 1.0 } else { 0.0 }));
                x.extend((0..h).map(|d| if dummy == Some(d) { level } else { 0.0 }));
            }
        }
    }
    let cells = y.len();
    let columns = |k: usize| -> Vec<f64> {
        (0..cells)
            .flat_map(|i| x[i * k3..i * k3 + k].iter().copied())
            .collect()
    };
    let m1 = proportional_odds(&y, &columns(1), 1, Some(&w), nc)?;
    let m2 = proportional_odds(&y, &columns(1 + h), 1 + h, Some(&w), nc)?;
    let m3 = proportional_odds(&y, &x, k3, Some(&w), nc)?;
    let n: f64 = w.iter().sum();
    let mut per_category = vec![0.0; nc];
    for (c, wi) in y.iter().zip(&w) {
        per_category[*c] += wi;
    }
    let l0: f64 = per_category.iter().map(|&m| m * (m / n).ln()).sum();
    let nagelkerke = |l: f64| (1.0 - (2.0 * (l0 - l) / n).exp()) / (1.0 - (2.0 * l0 / n).exp());
    let mcfadden = |l: f64| 1.0 - l / l0;
    let test = |small: &OrdinalFit, large: &OrdinalFit, df: usize| {
        let chi = (2.0 * (large.log_likelihood - small.log_likelihood)).max(0.0);
        LrTest {
            chi_square: chi,
            df,
            p_value: chi_square_sf(chi, df as f64),
            p_adjusted: f64::NAN,
        }
    };
    let uniform = test(&m1, &m2, h);
    let nonuniform = test(&m2, &m3, h);
    let both = test(&m1, &m3, 2 * h);
    let r2 = [
        nagelkerke(m1.log_likelihood),
        nagelkerke(m2.log_likelihood),
        nagelkerke(m3.log_likelihood),
    ];
    let delta_r2 = r2[2] - r2[0];
    let class = if both.p_value.is_nan() || both.p_value >= alpha || delta_r2 < 0.035 {
        DifClass::A
    } else if delta_r2 < 0.070 {
        DifClass::B
    } else {
        DifClass::C
    };
    Ok(LrDif {
        n: n as usize,
        categories: table.categories.clone(),
        null_log_likelihood: l0,
        nagelkerke: r2,
        mcfadden: [
            mcfadden(m1.log_likelihood),
            mcfadden(m2.log_likelihood),
            mcfadden(m3.log_likelihood),
        ],
        uniform,
        nonuniform,
        both,
        delta_r2_uniform: r2[1] - r2[0],
        delta_r2,
        class,
        models: [m1, m2, m3],
    })
}
