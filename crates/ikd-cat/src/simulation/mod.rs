//! Simulation studies of an adaptive test, in the manner of mirtCAT's and
//! catsim's: persons with known θ answer from the IRT model, the real
//! selector and stopping rule run, and the report compares the adaptive θ
//! with the truth and with the EAP on the whole bank.
//!
//! * [`SimulatedBank`] — a reproducible bank of any size (slopes and
//!   intercepts drawn as in mirt's simulation examples), for studies beyond
//!   a real instrument's bank.
//! * [`run_study`] — per person: true θ per domain ~ N(0, 1), the answers to
//!   *every* item drawn from the model (so the full-bank EAP is on the same
//!   answers the adaptive test sees), then the adaptive test. Persons run in
//!   parallel, each with its own random streams derived from the seed, so
//!   the report does not depend on the number of threads.
//! * [`StudyReport`] — test length, bias, RMSE, correlation with the
//!   full-bank θ, conditional SE and RMSE by true θ, stop reasons, item
//!   exposure; serialisable to JSON.

mod bank;
mod persons;
mod report;
mod stats;

pub use bank::{SimulatedBank, SimulatedBankError};
pub use persons::{StudyOptions, draw_category, run_study};
pub use report::{
    ConditionalRow, DomainReport, EstimateSummary, ExposureSummary, ItemExposure, LengthSummary,
    StudyReport,
};
