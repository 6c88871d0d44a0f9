//! The researcher's tools over an instrument, shared by the `ikd` commands
//! (`analyze`, `compare`, `calibrate`, `report`) and open to any other
//! front end: no printing, no command-line parsing here.
//!
//! * [`answers`] reads an answers file batch by batch and collects every
//!   invalid answer of the whole file, located by line, respondent and item.
//! * [`calibration`] turns the item scores of an instrument's domain plugins
//!   into IRT category codes and calibrates one item bank per domain: the
//!   PARAMS.csv of the `irt` scoring model.
//! * [`validation`] computes the validation report of an instrument on an
//!   answers file (sample, reliability, dimensionality, DIF, item fit,
//!   information, items to review) as one language-free model.
//!
//! ```no_run
//! use ikd_core::pipeline::{Scorer, ScorerOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (instrument, host): (std::sync::Arc<ikd_core::instrument::Instrument>, ikd_core::host::PluginHost) = todo!();
//! let scorer = Scorer::new(instrument, &host, &ScorerOptions::default())?;
//! let scores = ikd_research::answers::item_scores("answers.csv".as_ref(), &scorer, 50)?;
//! let options = ikd_research::calibration::Options::new(ikd_irt::Model::Graded);
//! let fitted = ikd_research::calibration::calibrate(&scorer, &scores, &options)?;
//! println!("{} items calibrated", fitted.bank.len());
//! # Ok(()) }
//! ```

pub mod answers;
pub mod calibration;
pub mod validation;
