//! Reliability and agreement statistics for researchers: how consistently the
//! items of a domain measure one thing, and how far two scorings of the same
//! answers agree.
//!
//! ```
//! use ikd_analysis::{ItemMatrix, ReliabilityOptions, reliability};
//! use ikd_analysis::agreement::{cohen_kappa, pearson, spearman};
//!
//! // Ten respondents × three items; NaN is an item not answered.
//! let items = ItemMatrix::from_rows(&[
//!     [1.0, 2.0, 1.0],
//!     [2.0, 2.0, 3.0],
//!     [3.0, 4.0, 3.0],
//!     [4.0, f64::NAN, 5.0],
//!     [2.0, 3.0, 2.0],
//!     [5.0, 4.0, 4.0],
//!     [3.0, 3.0, 4.0],
//!     [4.0, 5.0, 4.0],
//!     [1.0, 1.0, 2.0],
//!     [5.0, 5.0, 5.0],
//! ]);
//! let report = reliability(&items, &ReliabilityOptions { bootstrap: 200, ..Default::default() });
//! let alpha = report.alpha.unwrap();
//! assert!(alpha > 0.8 && alpha < 1.0);
//! let feldt = report.feldt.unwrap(); // 95 % by default
//! assert!(feldt.lower < alpha && alpha < feldt.upper);
//! assert_eq!(report.items[1].answered, 9);
//!
//! // Two scorings of the same people: pairs with a missing side are left out.
//! let a = [10.0, 20.0, 30.0, f64::NAN];
//! let b = [11.0, 19.0, 35.0, 40.0];
//! assert_eq!(pearson(&a, &b).n, 3);
//! assert_eq!(spearman(&a, &b).r, Some(1.0));
//! let kappa = cohen_kappa(&[Some(0), Some(1), Some(1)], &[Some(0), Some(1), Some(1)]);
//! assert_eq!(kappa.kappa, Some(1.0));
//! ```
//!
//! * [`matrix`]: the persons × items matrix and its pairwise covariances and
//!   correlations (each entry from the respondents who answered both items);
//! * [`reliability`](mod@reliability): Cronbach's α with Feldt and bootstrap
//!   intervals, McDonald's ω, item statistics;
//! * [`factor`]: the one-factor model behind ω (minimum residual);
//! * [`agreement`]: Pearson, Spearman (average ranks for ties), Cohen's κ;
//! * [`cfa`]: confirmatory factor analysis by maximum likelihood (lavaan's
//!   defaults) with χ², CFI, TLI, RMSEA and SRMR;
//! * [`composite`]: stratified α and ω of the composite index;
//! * [`limits`]: the least data each statistic needs, and the reasons
//!   a statistic is withheld.
//!
//! Definitions, missing-data handling and how the results compare with R's
//! `psych` package: `docs/analysis.md`. Nothing here reads files or plugins:
//! the `ikd analyze` and `ikd compare` commands feed it.

pub mod agreement;
pub mod cfa;
pub mod composite;
pub mod dif;
pub mod factor;
pub mod limits;
mod linalg;
pub mod matrix;
pub mod reliability;
mod rng;

pub use matrix::{Covariance, ItemMatrix};
pub use reliability::{
    Bootstrap, Interval, ItemStats, Omega, Reliability, ReliabilityOptions, bootstrap_alpha,
    cronbach_alpha, feldt_interval, omega_total, reliability,
};
