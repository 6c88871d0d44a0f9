//! The store boundary: a [`ResultRecord`] becomes the store's row and a
//! stored row becomes a record again. The store keeps codes and numbers (no
//! language, no feedback); provenance travels as the JSON of
//! [`Provenance`] and is read back into that type, never by key.

use ikd_core::pipeline::{ItemScores, Scorer};
use ikd_core::results::{DomainRecord, ModelRef, Provenance, RespondentResult, ResultRecord};
pub use ikd_report::IndicatorScorer;
use ikd_store::{DomainScore, IndicatorScore, NewResult, StoredResult};

/// What the store keeps of a freshly scored result: the record's codes and
/// numbers, and the scorer's provenance.
pub fn new_result(scorer: &Scorer, result: &RespondentResult) -> NewResult {
    let record = ResultRecord::from_result(result, scorer);
    let model = record.model.clone().unwrap_or_default();
    NewResult {
        model: model.name,
        model_version: model.version,
        index: record.index,
        index_se: record.index_se,
        level: record.level,
        domains: record
            .domains
            .into_iter()
            .map(|d| DomainScore {
                code: d.code,
                score: d.score,
                se: d.se,
                level: d.level,
                answered: d.answered,
                needed: d.needed,
            })
            .collect(),
        flags: record.flags,
        indicators: Vec::new(),
        provenance_json: serde_json::to_string(scorer.provenance().as_ref()).unwrap_or_default(),
    }
}

/// The indicator scores of respondent `r` of a scored batch, as the store keeps them (for
/// the organisation reports' weakest indicators); `indicators` is the scorer's
/// (`IndicatorScorer::new`).
pub fn indicator_scores(
    indicators: &IndicatorScorer,
    items: &ItemScores,
    r: usize,
) -> Vec<IndicatorScore> {
    indicators
        .indicators()
        .iter()
        .zip(indicators.scores(items, r))
        .map(|((domain, code), score)| IndicatorScore {
            domain: domain.clone(),
            code: code.clone(),
            score,
        })
        .collect()
}

/// A stored revision as a record (the session id stands for the respondent:
/// the store keeps no identifier in the clear), with the scorer's feedback,
/// and the provenance it was stored with (`None` if that cannot be read).
pub fn record_of(stored: &StoredResult, scorer: &Scorer) -> (ResultRecord, Option<Provenance>) {
    (record(stored, scorer), provenance(&stored.provenance_json))
}

/// The provenance a result was stored with (`None` if it cannot be read).
pub fn provenance(json: &str) -> Option<Provenance> {
    serde_json::from_str(json).ok()
}

/// [`record_of`] without the provenance.
pub fn record(stored: &StoredResult, scorer: &Scorer) -> ResultRecord {
    let mut record = ResultRecord {
        respondent_id: stored.session_id.clone(),
        org_unit: stored.org_unit.clone(),
        instrument_id: Some(stored.instrument_id.clone()),
        model: Some(ModelRef {
            name: stored.model.clone(),
            version: stored.model_version.clone(),
        }),
        index: stored.index,
        index_se: stored.index_se,
        level: stored.level.clone(),
        domains: stored
            .domains
            .iter()
            .map(|d| DomainRecord {
                code: d.code.clone(),
                score: d.score,
                se: d.se,
                level: d.level.clone(),
                answered: d.answered,
                needed: d.needed,
                feedback: None,
            })
            .collect(),
        flags: stored.flags.clone(),
    };
    record.attach_feedback(scorer);
    record
}

/// What [`render`](crate::render::render) reads of a stored result, moved out of it (an
/// export sends the rest as it is): [`record`] without the copies, and with the feedback
/// only when `feedback` (a scores-only row has none). The respondent and unit are left
/// empty: the export sends them beside the result.
pub(crate) fn take_record(
    stored: &mut StoredResult,
    scorer: &Scorer,
    feedback: bool,
) -> ResultRecord {
    let mut record = ResultRecord {
        respondent_id: String::new(),
        org_unit: String::new(),
        instrument_id: None,
        model: Some(ModelRef {
            name: std::mem::take(&mut stored.model),
            version: std::mem::take(&mut stored.model_version),
        }),
        index: stored.index,
        index_se: stored.index_se,
        level: stored.level.take(),
        domains: std::mem::take(&mut stored.domains)
            .into_iter()
            .map(|d| DomainRecord {
                code: d.code,
                score: d.score,
                se: d.se,
                level: d.level,
                answered: d.answered,
                needed: d.needed,
                feedback: None,
            })
            .collect(),
        flags: std::mem::take(&mut stored.flags),
    };
    if feedback {
        record.attach_feedback(scorer);
    }
    record
}
