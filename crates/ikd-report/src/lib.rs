//! # ikd-report
//!
//! Reports people look at, as self-contained HTML pages (inline SVG and CSS,
//! no scripts, no network fetches; readable on a phone, printable on A4):
//!
//! * [`person_report`]: a respondent's index with its interval, a radar of
//!   the domains against their unit's mean, each domain's level, feedback
//!   and development actions;
//! * [`org_report`]: an organisation prefix's participation, index, domain
//!   radar against the parent unit and the whole data set, level
//!   distributions, sub-unit heatmap and weakest indicators, with a CSV of
//!   the same numbers; [`org_report_from_units`] makes it from each unit's
//!   sums ([`UnitSums`]) instead of the results;
//! * [`validation_report`]: an instrument's validation on its answers
//!   (reliability, dimensionality, DIF, item fit, information, items to
//!   review) from the model of `ikd_research::validation`.
//!
//! Inputs are neutral and in memory: the loaded [`Instrument`] and
//! [`ResultRecord`]s (read from `ikd score` output by [`read_results`], made
//! from scored results by [`ResultRecord::from_result`], or built from a store).
//! Groups below the minimum group size are suppressed as the server does,
//! and organisation prefixes follow the server's rule ([`org_unit`]).
//! Chart geometry is computed in [`chart`] and drawn by minijinja templates
//! compiled into the crate.
//!
//! [`Instrument`]: ikd_core::instrument::Instrument

pub mod chart;
mod data;
mod error;
mod indicator_scorer;
pub mod indicators;
mod lang;
mod org;
mod org_csv;
mod org_groups;
pub mod org_unit;
mod person;
mod render;
mod results;
pub mod stats;
mod unit_sums;
mod validation;
mod view;

#[cfg(test)]
mod testing;

pub use error::ReportError;
pub use indicator_scorer::IndicatorScorer;
pub use indicators::{IndicatorAccumulator, IndicatorMean, IndicatorMeans, IndicatorSumsByUnit};
pub use lang::Lang;
pub use org::{OrgReport, WEAKEST, org_report, org_report_from_units};
pub use org_groups::Disclosure;
pub use person::person_report;
pub use results::{
    DomainRecord, Feedback, ModelRef, ResultRecord, read_results, read_results_from,
};
pub use unit_sums::{IndicatorSums, ScoreSums, UnitSums};
pub use validation::validation_report;

/// The server's default minimum group size: smaller groups are not reported.
pub const DEFAULT_MIN_GROUP_SIZE: u32 = 5;
