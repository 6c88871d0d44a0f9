//! Item response theory for IKD: unidimensional Rasch, 2PL, 3PL, graded
//! response (GRM) and generalized partial credit (GPCM) models in mirt's
//! slope-intercept form; calibration by marginal maximum likelihood (EM);
//! person scores by EAP, MAP, ML or EAP by sum score.
//!
//! ```
//! use ikd_irt::{calibrate, CalibrationOptions, Method, Model, ResponseMatrix, Scorer, ScoringOptions};
//!
//! // Five persons, three items; `None` is a missing answer.
//! let data = ResponseMatrix::from_rows(
//!     vec!["q1".into(), "q2".into(), "q3".into()],
//!     [
//!         [Some(0), Some(0), Some(1)],
//!         [Some(1), Some(0), Some(0)],
//!         [Some(1), Some(1), None],
//!         [Some(1), Some(1), Some(1)],
//!         [Some(0), Some(1), Some(0)],
//!     ],
//! )?;
//! // Calibrate (a Rasch model: one slope for all items) ...
//! let fit = calibrate(&data, &CalibrationOptions::new(Model::Rasch))?;
//! assert_eq!(fit.bank.len(), 3);
//!
//! // ... and score: EAP with 121 nodes on [−6, 6] by default.
//! let scorer = Scorer::new(fit.bank.clone(), &ScoringOptions::default())?;
//! let scores = scorer.score_matrix(&data)?;
//! assert!(scores[3].theta > scores[0].theta);
//!
//! // A scoring-model plugin scores dense batches: person-major category
//! // codes, `ikd_irt::MISSING` for no answer.
//! let map = Scorer::new(fit.bank, &ScoringOptions { method: Method::Map, ..Default::default() })?;
//! let mut out = vec![ikd_irt::Score::MISSING; 2];
//! map.score_batch(&[1, 1, 1, ikd_irt::MISSING, 0, ikd_irt::MISSING], &mut out)?;
//! assert!(out[0].theta > out[1].theta);
//! # Ok::<(), ikd_irt::IrtError>(())
//! ```
//!
//! Item parameters travel as PARAMS.csv ([`ItemBank::read_csv`],
//! [`ItemBank::write_csv`]); one [`ItemBank`] per domain. An instrument's
//! item scores become category codes with [`categories::category_of`], the
//! same mapping for calibration data and for scoring. Parameterisations,
//! defaults and how results compare with R's mirt: `docs/irt.md`.

mod calibrate;
pub mod categories;
mod criteria;
mod data;
mod error;
mod estep;
mod fit;
mod grid;
mod information;
mod kernel;
mod linalg;
mod model;
mod mstep;
mod params;
mod scoring;
mod stderr;

pub use calibrate::{
    Acceleration, Calibration, CalibrationOptions, DEFAULT_MAX_CYCLES, DEFAULT_TOL, GuessingPrior,
    calibrate, marginal_loglik,
};
pub use criteria::InformationCriteria;
pub use data::{MISSING, ResponseMatrix};
pub use error::IrtError;
pub use fit::{
    InfitOutfit, ItemSX2, M2Fit, M2Options, Moments, SumScoreFit, SumScoreFitOptions, infit_outfit,
    lz, m2, person_lz, s_x2,
};
pub use grid::{CALIBRATION_QUADPTS, Grid, SCORING_QUADPTS, THETA_RANGE};
pub use information::InformationCurve;
pub use model::{Item, MAX_CATEGORIES, Model};
pub use params::ItemBank;
pub use scoring::{Method, Score, Scorer, ScoringOptions, SumScoreTable};
pub use stderr::{ItemErrors, SeMethod, standard_errors, standard_errors_with};
