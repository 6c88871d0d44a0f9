//! Item calibration: marginal maximum likelihood by EM (Bock & Aitkin, 1981)
//! on a fixed grid with a N(0, 1) latent density.
//!
//! * Identical response patterns are collapsed and carry counts.
//! * E-step ([`crate::estep`]): per pattern, the posterior over the grid in
//!   the log domain (log-sum-exp), giving the marginal log-likelihood and the
//!   expected counts `r[i][k][q]`.
//! * M-step ([`crate::mstep`]): per item, Fisher scoring with step halving on
//!   the expected complete-data log-likelihood; a step that does not raise it
//!   is never taken, so graded intercepts stay ordered and the marginal
//!   likelihood never falls. Each M-step stops once its Newton step is below
//!   1% of the previous cycle's parameter change (at most 1e−3): precise
//!   where it matters, near convergence, and cheap early on.
//! * Convergence: the largest absolute change of any parameter in one EM
//!   step is below `tol`, as in mirt.
//! * Acceleration ([`Acceleration::Squarem`], the default): after two EM
//!   steps, an extrapolation along them (Varadhan & Roland's SQUAREM, step
//!   length S3) is kept only if its log-likelihood is not below the second
//!   step's; otherwise EM goes on from the second step. Every kept point is
//!   at least as likely as the one before, and convergence is still judged
//!   on plain EM steps, so the fixed point is EM's.
//!
//! Both cores are used: the E-step over chunks of patterns (a fixed chunking,
//! so results do not depend on the number of threads) and the M-step over
//! items.

use crate::IrtError;
use crate::data::ResponseMatrix;
use crate::estep::{Layout, Params, Patterns, e_step};
use crate::grid::{CALIBRATION_QUADPTS, Grid};
use crate::model::{Item, Kind, Model};
use crate::mstep::{m_step, m_step_common};
use crate::params::ItemBank;
use std::fmt;
use std::str::FromStr;

/// mirt's default EM convergence threshold (`TOL`).
pub const DEFAULT_TOL: f64 = 1e-4;
/// mirt's default limit on EM cycles (`NCYCLES`).
pub const DEFAULT_MAX_CYCLES: usize = 500;

/// How EM is sped up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acceleration {
    /// Plain EM: every cycle is one E-step and one M-step.
    None,
    /// SQUAREM extrapolation, kept only when it does not lower the
    /// log-likelihood (see the module documentation).
    Squarem,
}

impl Acceleration {
    pub fn name(self) -> &'static str {
        match self {
            Acceleration::None => "none",
            Acceleration::Squarem => "squarem",
        }
    }
}

impl fmt::Display for Acceleration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Acceleration {
    type Err = IrtError;
    fn from_str(s: &str) -> Result<Self, IrtError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Acceleration::None),
            "squarem" => Ok(Acceleration::Squarem),
            other => Err(IrtError::Options(format!(
                "unknown acceleration '{other}' (expected none or squarem)"
            ))),
        }
    }
}

/// The prior on the lower asymptote g of 3PL items: `g ~ Beta(α, β)`.
///
/// [`GuessingPrior::for_options`] gives the convention of BILOG-MG
/// (Zimowski, Muraki, Mislevy & Bock, 2003): for items with m response
/// options, `α = 20/m + 1` and `β = 20·(1 − 1/m) + 1`, a prior worth about
/// 20 observations whose mode is `1/m`, the chance of a blind guess.
/// The default is 4 options: Beta(6, 16), mode 0.25, mean 0.273.
///
/// The M-step maximises the expected complete-data log-likelihood plus
/// `(α − 1)·log g + (β − 1)·log(1 − g)` (the log density up to its
/// constant), so g is a posterior mode (MAP) while `a` and `d` are
/// maximum likelihood. It is estimated as `γ = logit(g)`, which keeps it in
/// (0, 1); the prior is on g itself (no Jacobian), so the mode is the mode
/// of g's posterior.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GuessingPrior {
    alpha: f64,
    beta: f64,
}

impl GuessingPrior {
    /// Beta(α, β) with `α, β ≥ 1` (finite): a log-concave prior with a mode
    /// in [0, 1], so the M-step's objective stays concave in γ where the
    /// likelihood is.
    pub fn beta(alpha: f64, beta: f64) -> Result<Self, IrtError> {
        if !(alpha.is_finite() && beta.is_finite() && alpha >= 1.0 && beta >= 1.0) {
            return Err(IrtError::Options(format!(
                "the guessing prior Beta({alpha}, {beta}) needs finite α ≥ 1 and β ≥ 1"
            )));
        }
        Ok(GuessingPrior { alpha, beta })
    }

    /// BILOG-MG's prior for items with `options` response options (at least
    /// 2): Beta(20/m + 1, 20(1 − 1/m) + 1), mode `1/m`.
    pub fn for_options(options: usize) -> Result<Self, IrtError> {
        if options < 2 {
            return Err(IrtError::Options(format!(
                "a multiple-choice item has at least 2 options, not {options}"
            )));
        }
        let c = 1.0 / options as f64;
        Self::beta(20.0 * c + 1.0, 20.0 * (1.0 - c) + 1.0)
    }

    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    pub fn beta_parameter(&self) -> f64 {
        self.beta
    }

    /// `(α − 1)·log g + (β − 1)·log(1 − g)`: the log density without its
    /// normalising constant.
    pub fn log_density(&self, g: f64) -> f64 {
        self.logit_terms(crate::model::logit(g)).0
    }

    /// The log density at `g = logistic(γ)` and its first two derivatives
    /// in γ: `(α − 1)(1 − g) − (β − 1)g` and `−(α + β − 2)·g(1 − g)`.
    pub(crate) fn logit_terms(&self, gamma: f64) -> (f64, f64, f64) {
        let (am, bm) = (self.alpha - 1.0, self.beta - 1.0);
        let (log_g, log_1mg) = (
            crate::model::log_sigmoid(gamma),
            crate::model::log_sigmoid(-gamma),
        );
        let g = crate::model::sigmoid(gamma);
        let value =
            if am == 0.0 { 0.0 } else { am * log_g } + if bm == 0.0 { 0.0 } else { bm * log_1mg };
        (value, am * (1.0 - g) - bm * g, -(am + bm) * g * (1.0 - g))
    }

    /// The sum of the log prior densities of the 3PL items of `params`.
    pub(crate) fn of_params(&self, params: &Params, kinds: &[Kind]) -> f64 {
        params
            .d
            .iter()
            .zip(kinds)
            .filter(|(_, k)| **k == Kind::Guessing)
            .map(|(d, _)| self.logit_terms(d[1]).0)
            .sum()
    }
}

impl Default for GuessingPrior {
    fn default() -> Self {
        Self::for_options(4).expect("4 options")
    }
}

/// Calibration settings; [`CalibrationOptions::new`] gives mirt's defaults
/// (with SQUAREM where mirt uses Ramsay acceleration).
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationOptions {
    /// The model of every item. `TwoPl` and `ThreePl` need dichotomous items; `Rasch` on
    /// polytomous items is the partial credit model with a common slope.
    pub model: Model,
    /// Grid nodes on [−6, 6] (default 61, mirt's `quadpts` for one factor).
    pub quadpts: usize,
    /// Stop when no parameter changes by `tol` or more in an EM step.
    pub tol: f64,
    /// Stop after this many EM cycles (M-steps), converged or not.
    pub max_cycles: usize,
    pub acceleration: Acceleration,
    /// The prior on the lower asymptotes of 3PL items (unused otherwise).
    pub guessing_prior: GuessingPrior,
}

impl CalibrationOptions {
    pub fn new(model: Model) -> Self {
        CalibrationOptions {
            model,
            quadpts: CALIBRATION_QUADPTS,
            tol: DEFAULT_TOL,
            max_cycles: DEFAULT_MAX_CYCLES,
            acceleration: Acceleration::Squarem,
            guessing_prior: GuessingPrior::default(),
        }
    }
}

/// The result of [`calibrate`].
#[derive(Clone, Debug)]
pub struct Calibration {
    /// The estimated items, named and ordered as the data's columns.
    pub bank: ItemBank,
    /// Marginal log-likelihood at the final parameters (on the grid).
    pub loglik: f64,
    /// The log prior density of the 3PL items' lower asymptotes at the final
    /// parameters ([`GuessingPrior::log_density`] summed); 0 for the other
    /// models. EM maximises `loglik + log_prior`.
    pub log_prior: f64,
    /// EM cycles run (M-steps taken).
    pub cycles: usize,
    pub converged: bool,
    /// The largest absolute parameter change in the last EM step.
    pub max_change: f64,
    /// The objective, `loglik + log_prior` (the marginal log-likelihood for
    /// every model but the 3PL), at the starting values and at every point
    /// kept after it (each EM step; with SQUAREM also each kept
    /// extrapolation); the last entry is `loglik + log_prior`. Never
    /// decreasing.
    pub trace: Vec<f64>,
    /// Persons with at least one answer (rows with none are left out).
    pub persons: usize,
    /// Distinct response patterns among them.
    pub patterns: usize,
}

/// Fits `options.model` to every item of `data` (K per item = the largest
/// observed category + 1; every category below it must be observed).
pub fn calibrate(
    data: &ResponseMatrix,
    options: &CalibrationOptions,
) -> Result<Calibration, IrtError> {
    if options.tol.is_nan() || options.tol <= 0.0 {
        return Err(IrtError::Options(format!(
            "tol must be positive, not {}",
            options.tol
        )));
    }
    if options.max_cycles == 0 {
        return Err(IrtError::Options("max_cycles must be at least 1".into()));
    }
    let grid = Grid::new(options.quadpts)?;
    let patterns = Patterns::collapse(data);
    let counts = patterns.category_counts();
    check_calibratable(data, &counts, options.model)?;
    let layout = Layout::new(
        counts.iter().map(|c| c.len()).collect(),
        vec![options.model.kind(); data.n_items()],
        &grid,
    );
    let em = Em {
        patterns: &patterns,
        layout: &layout,
        grid: &grid,
        common: options.model == Model::Rasch,
        prior: &options.guessing_prior,
    };
    let run = em.run(
        start_values(&counts, options.model, &options.guessing_prior),
        options,
    );
    let items = data
        .items()
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (a, d) = (run.params.a[i], &run.params.d[i]);
            if options.model == Model::ThreePl {
                Item::three_pl(name.clone(), a, d[0], crate::model::sigmoid(d[1]))
            } else {
                Item::new(name.clone(), options.model, a, d.clone())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Calibration {
        bank: ItemBank::new(items)?,
        loglik: run.loglik,
        log_prior: run.log_prior,
        cycles: run.cycles,
        converged: run.converged,
        max_change: run.max_change,
        trace: run.trace,
        persons: patterns.persons,
        patterns: patterns.counts.len(),
    })
}

/// The marginal log-likelihood of `data` under `bank` on a `quadpts`-node
/// grid (the quantity calibration maximises).
pub fn marginal_loglik(
    bank: &ItemBank,
    data: &ResponseMatrix,
    quadpts: usize,
) -> Result<f64, IrtError> {
    check_same_items(bank, data)?;
    let grid = Grid::new(quadpts)?;
    let patterns = Patterns::collapse(data);
    patterns.check_categories(bank)?;
    let layout = Layout::of_bank(bank, &grid);
    Ok(e_step(&patterns, &layout, &Params::of_bank(bank), &grid, false).0)
}

pub(crate) fn check_same_items(bank: &ItemBank, data: &ResponseMatrix) -> Result<(), IrtError> {
    let same = bank.len() == data.n_items()
        && bank
            .items()
            .iter()
            .zip(data.items())
            .all(|(i, n)| i.name() == n);
    if same {
        Ok(())
    } else {
        Err(IrtError::Layout(
            "the data's items are not the item bank's, in its order".into(),
        ))
    }
}

fn check_calibratable(
    data: &ResponseMatrix,
    counts: &[Vec<f64>],
    model: Model,
) -> Result<(), IrtError> {
    if data.persons() == 0 || counts.iter().all(Vec::is_empty) {
        return Err(IrtError::Data("no answers to calibrate on".into()));
    }
    for (name, c) in data.items().iter().zip(counts) {
        if c.is_empty() {
            return Err(IrtError::Data(format!("item '{name}' has no answers")));
        }
        if c.len() < 2 {
            return Err(IrtError::Data(format!(
                "item '{name}': every answer is 0; an item needs at least two observed categories"
            )));
        }
        if let Some(k) = c.iter().position(|&v| v == 0.0) {
            return Err(IrtError::Data(format!(
                "item '{name}': category {k} is never observed (categories 0..={} are assumed); \
                 recode the answers to consecutive categories",
                c.len() - 1
            )));
        }
        if matches!(model, Model::TwoPl | Model::ThreePl) && c.len() > 2 {
            return Err(IrtError::Data(format!(
                "item '{name}' has {} categories; {model} needs dichotomous items (use grm or gpcm)",
                c.len()
            )));
        }
    }
    Ok(())
}

/// Starting values from the marginal proportions, with slope 1: intercepts
/// are the logits scaled by √(1 + π/8), which undoes the attenuation of
/// averaging a logistic over N(0, 1) (probit approximation). A 3PL item
/// starts at the prior's mode of g, with the intercept of the proportion
/// left after guessing, `(p − g)/(1 − g)` (at least 0.05).
fn start_values(counts: &[Vec<f64>], model: Model, prior: &GuessingPrior) -> Params {
    let a0 = 1.0;
    let scale = (1.0 + std::f64::consts::PI * a0 * a0 / 8.0).sqrt();
    let d = counts
        .iter()
        .map(|c| {
            let total: f64 = c.iter().sum();
            match model.kind() {
                Kind::Guessing => {
                    let (am, bm) = (prior.alpha - 1.0, prior.beta - 1.0);
                    let g = if am + bm > 0.0 { am / (am + bm) } else { 0.2 };
                    let g = g.clamp(0.01, 0.5);
                    let p = ((c[1] / total - g) / (1.0 - g)).clamp(0.05, 0.99);
                    vec![scale * (p / (1.0 - p)).ln(), crate::model::logit(g)]
                }
                Kind::Cumulative => (1..c.len())
                    .map(|k| {
                        let above: f64 = c[k..].iter().sum::<f64>() / total;
                        scale * (above / (1.0 - above)).ln()
                    })
                    .collect(),
                Kind::Adjacent => {
                    let mut acc = 0.0;
                    (1..c.len())
                        .map(|k| {
                            acc += scale * (c[k] / c[k - 1]).ln();
                            acc
                        })
                        .collect()
                }
            }
        })
        .collect();
    Params {
        a: vec![a0; counts.len()],
        d,
    }
}

/// One EM run's outcome.
struct Run {
    params: Params,
    loglik: f64,
    log_prior: f64,
    trace: Vec<f64>,
    cycles: usize,
    converged: bool,
    max_change: f64,
}

/// A parameter point with its E-step: log-likelihood and expected counts.
struct Point {
    params: Params,
    loglik: f64,
    /// The log prior of the 3PL lower asymptotes (0 without 3PL items).
    log_prior: f64,
    r: Vec<f64>,
}

impl Point {
    /// What EM maximises: the log-likelihood plus the log prior.
    fn objective(&self) -> f64 {
        self.loglik + self.log_prior
    }
}

struct Em<'a> {
    patterns: &'a Patterns,
    layout: &'a Layout,
    grid: &'a Grid,
    common: bool,
    prior: &'a GuessingPrior,
}

impl Em<'_> {
    fn evaluate(&self, params: Params) -> Point {
        let (loglik, r) = e_step(self.patterns, self.layout, &params, self.grid, true);
        Point {
            log_prior: self.prior.of_params(&params, &self.layout.kinds),
            params,
            loglik,
            r: r.expect("counts requested"),
        }
    }

    /// One EM step from `point`: the M-step, then the E-step at its result.
    /// Returns the new point and the largest parameter change.
    fn step(&self, point: &Point, previous_change: f64) -> (Point, f64) {
        let tol = (0.01 * previous_change).clamp(1e-10, 1e-3);
        let nodes = self.grid.nodes();
        let next = if self.common {
            m_step_common(&point.params, &point.r, self.layout, nodes, tol)
        } else {
            m_step(&point.params, &point.r, self.layout, nodes, tol, self.prior)
        };
        let change = point.params.max_abs_difference(&next);
        (self.evaluate(next), change)
    }

    fn run(&self, start: Params, options: &CalibrationOptions) -> Run {
        let mut point = self.evaluate(start);
        let mut trace = vec![point.objective()];
        let (mut cycles, mut change) = (0, f64::INFINITY);
        let done = |point: Point, trace: Vec<f64>, cycles, change: f64| Run {
            loglik: point.loglik,
            log_prior: point.log_prior,
            params: point.params,
            trace,
            cycles,
            converged: change < options.tol,
            max_change: change,
        };
        loop {
            if cycles >= options.max_cycles {
                return done(point, trace, cycles, change);
            }
            let (first, c1) = self.step(&point, change);
            (cycles, change) = (cycles + 1, c1);
            trace.push(first.objective());
            if change < options.tol
                || options.acceleration == Acceleration::None
                || cycles >= options.max_cycles
            {
                point = first;
                if change < options.tol {
                    return done(point, trace, cycles, change);
                }
                continue;
            }
            let (second, c2) = self.step(&first, change);
            (cycles, change) = (cycles + 1, c2);
            trace.push(second.objective());
            if change < options.tol {
                return done(second, trace, cycles, change);
            }
            point = match self.extrapolate(&point, &first, &second) {
                Some(jump) if jump.objective() >= second.objective() => {
                    trace.push(jump.objective());
                    jump
                }
                _ => second,
            };
        }
    }

    /// SQUAREM (S3): `r = x1 − x0`, `v = x2 − x1 − r`, `α = −‖r‖/‖v‖` (at
    /// most −1), `x' = x0 − 2αr + α²v`; `None` when `α = −1` (that is `x2`)
    /// or `x'` is not a valid parameter point.
    fn extrapolate(&self, x0: &Point, x1: &Point, x2: &Point) -> Option<Point> {
        let (f0, f1, f2) = (x0.params.flat(), x1.params.flat(), x2.params.flat());
        let r: Vec<f64> = f1.iter().zip(&f0).map(|(a, b)| a - b).collect();
        let v: Vec<f64> = f2
            .iter()
            .zip(&f1)
            .zip(&r)
            .map(|((a, b), r)| a - b - r)
            .collect();
        let norm = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>().sqrt();
        let (nr, nv) = (norm(&r), norm(&v));
        if nv.is_nan() || nv <= 0.0 {
            return None;
        }
        let alpha = (-nr / nv).min(-1.0);
        if alpha == -1.0 || !alpha.is_finite() {
            return None;
        }
        let jump: Vec<f64> = f0
            .iter()
            .zip(&r)
            .zip(&v)
            .map(|((x, r), v)| x - 2.0 * alpha * r + alpha * alpha * v)
            .collect();
        let params = x0.params.with_flat(&jump);
        params
            .is_valid(&self.layout.kinds)
            .then(|| self.evaluate(params))
    }
}
