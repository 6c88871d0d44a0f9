//! Scoring models: item scores → domain scores, standard errors, composite index, levels.

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
    fn score(&self, request: &ScoreRequest) -> Result<ScoreResponse, PluginError>;
}
