//! Confirmatory factor analysis by maximum likelihood: does the instrument's
//! structure — each item measuring its own domain, the domains correlated —
//! reproduce the covariances of the answers?
//!
//! The estimates and fit measures are those of R's lavaan with its defaults
//! (`cfa(model, data, std.lv = TRUE)`: normal-theory ML, the covariance
//! matrix with denominator N, χ² = N·F_min, listwise deletion), checked
//! against lavaan 0.6 on Holzinger & Swineford's (1939) data and on a
//! simulated IKD-like sample (`tests/cfa_lavaan.rs`).
//!
//! **Parameterisation**: every factor has variance 1 and every loading is
//! free (lavaan's `std.lv = TRUE`), rather than the first loading fixed at 1.
//! The fit (χ², Σ) is the same either way; this way every loading has a
//! meaning of its own ("one SD of the factor moves the
//! item by λ score points") and the factor correlations are the estimates
//! themselves. Each factor is turned so its loadings sum to a positive number.
//!
//! **Heywood cases** (a negative residual variance, a factor correlation
//! beyond ±1) are not prevented — lavaan does not bound them either — but
//! listed in [`Cfa::heywood`], because a bound would hide the misfit they
//! signal.
//!
//! **Sample size**: a fit needs at least
//! [`CfaOptions::min_persons_per_parameter`] (5 by default, Bentler & Chou
//! 1987) respondents with complete answers per free parameter, and more
//! respondents than items; below that it is refused with
//! [`CfaError::TooFewRespondents`] rather than reported.

mod chi_square;
mod estimate;
mod fit_measures;
mod model;
mod sample;

pub use fit_measures::{CLOSE_FIT_RMSEA, FitMeasures, RMSEA_LEVEL};
pub use model::{CfaModel, Factor};
pub use sample::SampleCovariance;

use crate::linalg;

/// The smallest eigenvalue the items' correlation matrix may have: below it
/// the sample is singular to working precision and `log|S|` meaningless.
pub const MIN_SAMPLE_EIGENVALUE: f64 = 1e-10;

/// How the fit is searched for and when it is refused.
#[derive(Clone, Debug, PartialEq)]
pub struct CfaOptions {
    /// Fisher-scoring iterations before giving up (then `converged` is false).
    pub max_iterations: usize,
    /// Convergence: the squared Newton decrement `gᵀH⁻¹g`, about twice the
    /// distance of F from its minimum.
    pub tolerance: f64,
    /// Respondents needed per free parameter (Bentler & Chou's 1987 rule of
    /// thumb: 5); 0 turns the check off.
    pub min_persons_per_parameter: f64,
}

impl Default for CfaOptions {
    fn default() -> Self {
        CfaOptions {
            max_iterations: 500,
            tolerance: 1e-14,
            min_persons_per_parameter: 5.0,
        }
    }
}

/// Why a model was not fitted.
#[derive(Clone, Debug, PartialEq)]
pub enum CfaError {
    NoFactors,
    /// A factor has fewer items than identify it.
    FactorTooSmall {
        factor: String,
        items: usize,
        need: usize,
    },
    /// An item is named by two factors (or twice by one).
    ItemInTwoPlaces {
        item: usize,
    },
    /// An item the model names is not a column of the covariance matrix.
    UnknownItem {
        item: usize,
    },
    /// The covariance matrix is not square, symmetric and finite.
    InvalidCovariance,
    /// An item without variance in the sample.
    NoVariance {
        item: usize,
    },
    /// More parameters than distinct covariances.
    NotIdentified {
        df: i64,
    },
    TooFewRespondents {
        have: usize,
        need: usize,
    },
    /// The sample covariance matrix is singular or indefinite (e.g. an item
    /// is a sum of others, or fewer respondents than items): the smallest
    /// eigenvalue of the items' correlation matrix is below
    /// [`MIN_SAMPLE_EIGENVALUE`].
    SampleNotPositiveDefinite {
        smallest_eigenvalue: f64,
    },
    /// The search broke down before any estimate (no usable step).
    NoEstimate,
}

impl std::fmt::Display for CfaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CfaError::NoFactors => write!(f, "the model has no factors"),
            CfaError::FactorTooSmall {
                factor,
                items,
                need,
            } => write!(
                f,
                "factor {factor} has {items} item(s); it needs {need} to be identified"
            ),
            CfaError::ItemInTwoPlaces { item } => {
                write!(f, "item {item} is named more than once in the model")
            }
            CfaError::UnknownItem { item } => {
                write!(f, "item {item} is not a column of the covariance matrix")
            }
            CfaError::InvalidCovariance => {
                write!(
                    f,
                    "the covariance matrix is not square, symmetric and finite"
                )
            }
            CfaError::NoVariance { item } => write!(f, "item {item} has no variance"),
            CfaError::NotIdentified { df } => write!(
                f,
                "the model has more parameters than covariances (df = {df})"
            ),
            CfaError::TooFewRespondents { have, need } => write!(
                f,
                "{have} respondent(s) with complete answers; the model needs at least {need}"
            ),
            CfaError::SampleNotPositiveDefinite {
                smallest_eigenvalue,
            } => write!(
                f,
                "the sample covariance matrix is singular or indefinite \
                 (smallest eigenvalue of the correlations {smallest_eigenvalue:.3e})"
            ),
            CfaError::NoEstimate => write!(f, "the estimation found no admissible step"),
        }
    }
}

impl std::error::Error for CfaError {}

/// An estimate outside the admissible range, reported rather than bounded.
#[derive(Clone, Debug, PartialEq)]
pub enum Heywood {
    /// A residual variance θ below 0: the factor would explain more than all
    /// of the item's variance.
    NegativeResidualVariance { item: usize, value: f64 },
    /// A factor correlation beyond ±1.
    CorrelationBeyondOne { factors: (usize, usize), value: f64 },
}

/// A fitted factor model. Per-item vectors are in model order ([`CfaModel::items`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Cfa {
    /// The covariance-matrix column of each item, in model order.
    pub items: Vec<usize>,
    /// The factor (index into [`CfaModel::factors`]) of each item.
    pub factor_of: Vec<usize>,
    /// λ_i: the item's change, in its score units, per SD of its factor.
    pub loadings: Vec<f64>,
    /// θ_i: the item's variance the factor leaves unexplained.
    pub residual_variances: Vec<f64>,
    /// `λ_i / √(λ_i² + θ_i)`: the loading in SDs of the item as the model
    /// reproduces it (lavaan's `std.all`).
    pub standardized_loadings: Vec<f64>,
    /// The factors' correlation matrix Φ, `m × m` row-major, unit diagonal.
    pub factor_correlations: Vec<f64>,
    pub fit: FitMeasures,
    pub converged: bool,
    pub iterations: usize,
    /// Estimates outside the admissible range (empty for a proper solution).
    pub heywood: Vec<Heywood>,
}

impl Cfa {
    /// The number of factors.
    pub fn factors(&self) -> usize {
        (self.factor_correlations.len() as f64).sqrt().round() as usize
    }

    /// φ_fg.
    pub fn factor_correlation(&self, f: usize, g: usize) -> f64 {
        self.factor_correlations[f * self.factors() + g]
    }
}

/// Fits `model` to the sample covariances `s` by maximum likelihood.
///
/// # Errors
/// See [`CfaError`]: an unusable model or sample is refused before any
/// estimation, so that every returned fit has a meaning. A search that runs
/// out of iterations still returns its last estimates, with `converged` false.
pub fn fit_cfa(
    s: &SampleCovariance,
    model: &CfaModel,
    options: &CfaOptions,
) -> Result<Cfa, CfaError> {
    let items = model.items();
    if let Some(&item) = items.iter().find(|&&i| i >= s.p()) {
        return Err(CfaError::UnknownItem { item });
    }
    let df = model.degrees_of_freedom();
    if df < 0 {
        return Err(CfaError::NotIdentified { df });
    }
    let p = items.len();
    let need = ((options.min_persons_per_parameter * model.parameters() as f64).ceil() as usize)
        .max(p + 1);
    if s.n() < need {
        return Err(CfaError::TooFewRespondents { have: s.n(), need });
    }
    if let Some(&item) = items
        .iter()
        .find(|&&i| s.get(i, i).is_nan() || s.get(i, i) <= 0.0)
    {
        return Err(CfaError::NoVariance { item });
    }
    let sub = s.select(&items);
    // Singular to working precision (an item the sum of others): judged on
    // the correlation matrix, so the units of the items do not matter.
    let sd: Vec<f64> = (0..p).map(|i| sub[i * p + i].sqrt()).collect();
    let correlations: Vec<f64> = (0..p * p)
        .map(|ij| sub[ij] / (sd[ij / p] * sd[ij % p]))
        .collect();
    let smallest_eigenvalue = linalg::symmetric_eigenvalues(&correlations, p)[0];
    let cholesky = linalg::cholesky(&sub, p);
    let (Some(l), true) = (cholesky, smallest_eigenvalue > MIN_SAMPLE_EIGENVALUE) else {
        return Err(CfaError::SampleNotPositiveDefinite {
            smallest_eigenvalue,
        });
    };
    let log_det_s = linalg::log_det(&l, p);
    let est = estimate::estimate(
        model,
        &sub,
        log_det_s,
        options.max_iterations,
        options.tolerance,
    )
    .ok_or(CfaError::NoEstimate)?;

    let factor_of = model.factor_of_items();
    let m = model.factors().len();
    let mut heywood: Vec<Heywood> = est
        .theta
        .iter()
        .zip(&items)
        .filter(|(t, _)| **t < 0.0)
        .map(|(&value, &item)| Heywood::NegativeResidualVariance { item, value })
        .collect();
    for f in 0..m {
        for g in 0..f {
            let value = est.phi[f * m + g];
            if value.abs() > 1.0 {
                heywood.push(Heywood::CorrelationBeyondOne {
                    factors: (f, g),
                    value,
                });
            }
        }
    }
    let standardized_loadings = (0..p)
        .map(|i| est.lambda[i] / est.sigma[i * p + i].sqrt())
        .collect();
    let fit = fit_measures::fit_measures(&sub, &est.sigma, p, est.f, log_det_s, s.n(), df);
    Ok(Cfa {
        items,
        factor_of,
        loadings: est.lambda,
        residual_variances: est.theta,
        standardized_loadings,
        factor_correlations: est.phi,
        fit,
        converged: est.converged,
        iterations: est.iterations,
        heywood,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The covariance matrix a one-factor model with these loadings and
    /// residual variances implies.
    fn implied(lambda: &[f64], theta: &[f64]) -> Vec<f64> {
        let p = lambda.len();
        (0..p * p)
            .map(|ij| {
                let (i, j) = (ij / p, ij % p);
                lambda[i] * lambda[j] + if i == j { theta[i] } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn an_exact_one_factor_matrix_gives_back_its_parameters_and_a_perfect_fit() {
        let (lambda, theta) = ([0.8, 1.2, 0.5, 0.9], [0.36, 0.8, 0.75, 0.4]);
        let s = SampleCovariance::new(4, implied(&lambda, &theta), 200).unwrap();
        let model = CfaModel::one_factor("f", vec![0, 1, 2, 3]).unwrap();
        let fit = fit_cfa(&s, &model, &CfaOptions::default()).unwrap();
        assert!(fit.converged && fit.heywood.is_empty());
        for i in 0..4 {
            assert!(
                (fit.loadings[i] - lambda[i]).abs() < 1e-7,
                "{:?}",
                fit.loadings
            );
            assert!((fit.residual_variances[i] - theta[i]).abs() < 1e-7);
        }
        // 0.8/√(0.64 + 0.36) = 0.8.
        assert!((fit.standardized_loadings[0] - 0.8).abs() < 1e-7);
        let m = &fit.fit;
        assert_eq!((m.df, model.parameters()), (2, 8));
        assert!(m.chi_square.abs() < 1e-9 && m.srmr < 1e-7);
        assert_eq!((m.cfi, m.rmsea), (1.0, 0.0));
        let ci = m.rmsea_interval.unwrap();
        assert_eq!((ci.lower, ci.upper), (0.0, 0.0));
        assert!((m.p_value.unwrap() - 1.0).abs() < 1e-9);
    }

    /// Correlations 0.8, 0.8 (item 1 with 2 and 3) and 0.5 (2 with 3): the
    /// just-identified solution is λ₁² = 0.8·0.8/0.5 = 1.28, so θ₁ = 1 − 1.28
    /// = −0.28, λ₂ = λ₃ = 0.8/√1.28 = 0.7071, θ₂ = θ₃ = 0.5.
    #[test]
    fn a_negative_residual_variance_is_reported_not_hidden() {
        let s = SampleCovariance::new(3, vec![1.0, 0.8, 0.8, 0.8, 1.0, 0.5, 0.8, 0.5, 1.0], 100)
            .unwrap();
        let model = CfaModel::one_factor("f", vec![0, 1, 2]).unwrap();
        let fit = fit_cfa(&s, &model, &CfaOptions::default()).unwrap();
        assert!(fit.converged);
        assert!((fit.loadings[0] - 1.28f64.sqrt()).abs() < 1e-7);
        assert!((fit.loadings[1] - 0.5f64.sqrt()).abs() < 1e-7);
        assert_eq!(fit.heywood.len(), 1);
        let Heywood::NegativeResidualVariance { item, value } = fit.heywood[0] else {
            panic!("{:?}", fit.heywood);
        };
        assert_eq!(item, 0);
        assert!((value + 0.28).abs() < 1e-7);
        // Saturated: no test, no TLI.
        assert_eq!((fit.fit.df, fit.fit.p_value, fit.fit.tli), (0, None, None));
    }

    #[test]
    fn a_badly_specified_model_is_refused_before_estimation() {
        let twice = CfaModel::new(vec![
            Factor {
                name: "a".into(),
                items: vec![0, 1],
            },
            Factor {
                name: "b".into(),
                items: vec![1, 2],
            },
        ]);
        assert_eq!(twice.unwrap_err(), CfaError::ItemInTwoPlaces { item: 1 });
        let small = CfaModel::one_factor("g", vec![0, 1]).unwrap_err();
        assert!(
            small.to_string().contains("factor g has 2 item(s)"),
            "{small}"
        );
        let s = SampleCovariance::new(2, vec![1.0, 0.5, 0.5, 1.0], 100).unwrap();
        let model = CfaModel::one_factor("g", vec![0, 1, 5]).unwrap();
        assert_eq!(
            fit_cfa(&s, &model, &CfaOptions::default()).unwrap_err(),
            CfaError::UnknownItem { item: 5 }
        );
    }
}
