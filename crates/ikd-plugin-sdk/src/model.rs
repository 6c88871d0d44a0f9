//! Scoring models: item scores → domain scores, standard errors, composite index, levels.

use crate::dense::{decode, encode};
use crate::proto::{ModelConfig, PluginError, ScoreRequest, ScoreResponse};

/// A scoring model plugin (e.g. the classical weighted index, or IRT).
///
/// One instance serves one instrument: [`ScoringModel::new`] receives the
/// instrument's layout (domains, indicators, items with their score ranges,
/// level bands) and the model's settings, checks them once, and then scores
/// any number of batches.
pub trait ScoringModel: Send + Sync + Sized + 'static {
    /// The model name instruments and `--model` refer to.
    const NAME: &'static str;
    /// One line describing the model.
    const DESCRIPTION: &'static str;

    /// Prepares the model for one instrument; report bad settings with the field at fault.
    fn new(config: &ModelConfig) -> Result<Self, PluginError>;

    /// Scores a batch of respondents.
    fn score(&self, input: &ScoreInput) -> Result<ScoreOutput, PluginError>;
}

/// The item scores of a batch: respondents × items, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreInput {
    pub respondents: u32,
    /// NaN where the cell is not scored.
    pub item_scores: Vec<f64>,
    /// `AnswerStatus` values.
    pub item_status: Vec<u8>,
}

/// What a model gives for a batch. Per-domain arrays are respondents × domains, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreOutput {
    pub respondents: u32,
    pub domains: u32,
    /// NaN where missing.
    pub domain_scores: Vec<f64>,
    /// NaN where the model gives no standard error.
    pub domain_se: Vec<f64>,
    pub domain_answered: Vec<u32>,
    /// Band index, −1 where missing.
    pub domain_levels: Vec<i32>,
    pub index: Vec<f64>,
    pub index_se: Vec<f64>,
    pub index_levels: Vec<i32>,
}

impl ScoreInput {
    pub fn to_wire(&self) -> ScoreRequest {
        ScoreRequest {
            respondents: self.respondents,
            item_scores: encode(&self.item_scores).into(),
            item_status: encode(&self.item_status).into(),
        }
    }

    /// Reads a request; the number of items comes from the model's configuration.
    pub fn from_wire(wire: &ScoreRequest, items: usize) -> Result<Self, PluginError> {
        let cells = wire.respondents as usize * items;
        Ok(ScoreInput {
            respondents: wire.respondents,
            item_scores: decode(&wire.item_scores, cells, "item_scores")?,
            item_status: decode(&wire.item_status, cells, "item_status")?,
        })
    }
}

impl ScoreOutput {
    pub fn to_wire(&self) -> ScoreResponse {
        ScoreResponse {
            respondents: self.respondents,
            domains: self.domains,
            domain_scores: encode(&self.domain_scores).into(),
            domain_se: encode(&self.domain_se).into(),
            domain_answered: encode(&self.domain_answered).into(),
            domain_levels: encode(&self.domain_levels).into(),
            index: encode(&self.index).into(),
            index_se: encode(&self.index_se).into(),
            index_levels: encode(&self.index_levels).into(),
        }
    }

    /// Reads a response, checking every array against `respondents` × `domains`.
    pub fn from_wire(wire: &ScoreResponse) -> Result<Self, PluginError> {
        let n = wire.respondents as usize;
        let cells = n * wire.domains as usize;
        Ok(ScoreOutput {
            respondents: wire.respondents,
            domains: wire.domains,
            domain_scores: decode(&wire.domain_scores, cells, "domain_scores")?,
            domain_se: decode(&wire.domain_se, cells, "domain_se")?,
            domain_answered: decode(&wire.domain_answered, cells, "domain_answered")?,
            domain_levels: decode(&wire.domain_levels, cells, "domain_levels")?,
            index: decode(&wire.index, n, "index")?,
            index_se: decode(&wire.index_se, n, "index_se")?,
            index_levels: decode(&wire.index_levels, n, "index_levels")?,
        })
    }
}
