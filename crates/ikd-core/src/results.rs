//! Results: what scoring one respondent gives ([`RespondentResult`], level
//! *positions*, for the pipeline and the output writers), the one record
//! every consumer shares ([`ResultRecord`], level *codes*, language-free),
//! and where a result came from ([`Provenance`]).
//!
//! A result travels as a [`ResultRecord`] between the pipeline and
//! everything that keeps or shows it: the server's store boundary, the gRPC
//! API, the reports. Texts in a record (feedback) carry both languages;
//! choosing one is [`crate::localise`]'s job alone.

use crate::host::LoadedPlugin;
use crate::instrument::{Instrument, Text};
use crate::pipeline::Scorer;
use crate::quality::QualityFlag;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The result of one respondent. Missing values are `None`, never 0.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RespondentResult {
    pub respondent_id: String,
    pub org_unit: String,
    /// Composite index on the reporting scale.
    pub index: Option<f64>,
    pub index_se: Option<f64>,
    /// Position of the index's level among the instrument's levels.
    pub level: Option<u32>,
    /// One per instrument domain, in instrument order.
    pub domains: Vec<DomainOutcome>,
    pub flags: Vec<QualityFlag>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainOutcome {
    pub score: Option<f64>,
    pub se: Option<f64>,
    pub level: Option<u32>,
    /// Items answered (including "don't know").
    pub answered: u32,
    /// Answers the missing-data rule needs for a score, given the items that
    /// apply; 0 when none applies ([`Missing::of_domain`]).
    pub needed: u32,
}

/// One respondent's result as it is kept, exported and shown: domain and
/// level *codes* (stable across instrument versions and readable in a file or
/// a database), numbers, flags, no language. Missing is `None`, never 0.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultRecord {
    pub respondent_id: String,
    pub org_unit: String,
    /// The instrument the result was scored with, when known.
    pub instrument_id: Option<String>,
    /// The scoring model, when known.
    pub model: Option<ModelRef>,
    /// Composite index on the reporting scale.
    pub index: Option<f64>,
    /// Standard error of the index, when the model gives one.
    pub index_se: Option<f64>,
    /// Level code of the index.
    pub level: Option<String>,
    /// Domains by code (in instrument order when made here; any order when read).
    pub domains: Vec<DomainRecord>,
    /// Quality flags (`too-fast`, `straight-line-run`, ...).
    pub flags: Vec<String>,
}

/// One domain of a [`ResultRecord`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DomainRecord {
    pub code: String,
    /// `None`: too few answers to score the domain.
    pub score: Option<f64>,
    pub se: Option<f64>,
    /// Level code.
    pub level: Option<String>,
    /// Items of the domain answered (including "don't know").
    pub answered: u32,
    /// Answers the missing-data rule needs for a score (0: no item applies);
    /// `None` for a result kept before this was recorded.
    pub needed: Option<u32>,
    /// What the domain plugin says about the level, in both languages;
    /// shared between records with the same domain and level.
    pub feedback: Option<Arc<Feedback>>,
}

/// A scoring model by name and version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelRef {
    pub name: String,
    pub version: String,
}

impl std::fmt::Display for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

/// What a domain plugin says about a level: a summary and development
/// actions, each in both languages.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Feedback {
    pub summary: Text,
    pub advice: Text,
}

impl From<ikd_plugin_sdk::Feedback> for Feedback {
    fn from(f: ikd_plugin_sdk::Feedback) -> Self {
        let text = |t: Option<ikd_plugin_sdk::Text>| {
            t.map(|t| Text { id: t.id, en: t.en }).unwrap_or_default()
        };
        Feedback {
            summary: text(f.summary),
            advice: text(f.advice),
        }
    }
}

impl ResultRecord {
    /// The record of a freshly scored result, with the scorer's feedback for
    /// each domain's level.
    pub fn from_result(result: &RespondentResult, scorer: &Scorer) -> Self {
        Self::of(result, scorer, true)
    }

    /// [`Self::from_result`] without feedback: for callers that send scores only (a
    /// stream of many respondents), so no feedback text is copied only to be dropped.
    pub fn scores_from_result(result: &RespondentResult, scorer: &Scorer) -> Self {
        Self::of(result, scorer, false)
    }

    fn of(result: &RespondentResult, scorer: &Scorer, feedback: bool) -> Self {
        let instrument = scorer.instrument();
        let model = &scorer.provenance().model;
        ResultRecord {
            respondent_id: result.respondent_id.clone(),
            org_unit: result.org_unit.clone(),
            instrument_id: Some(instrument.id.clone()),
            model: Some(ModelRef {
                name: model.name.clone(),
                version: model.version.clone(),
            }),
            index: result.index,
            index_se: result.index_se,
            level: level_code(instrument, result.level),
            domains: result
                .domains
                .iter()
                .zip(&instrument.domains)
                .enumerate()
                .map(|(d, (outcome, domain))| DomainRecord {
                    code: domain.code.clone(),
                    score: outcome.score,
                    se: outcome.se,
                    level: level_code(instrument, outcome.level),
                    answered: outcome.answered,
                    needed: Some(outcome.needed),
                    feedback: outcome
                        .level
                        .filter(|_| feedback)
                        .and_then(|l| scorer.feedback(d, l as usize).cloned()),
                })
                .collect(),
            flags: result.flags.iter().map(|f| f.as_str().to_owned()).collect(),
        }
    }

    /// Attaches the scorer's feedback to every domain with a level it knows
    /// (records read back from a store or a CSV file carry none).
    pub fn attach_feedback(&mut self, scorer: &Scorer) {
        let instrument = scorer.instrument();
        for domain in &mut self.domains {
            let d = instrument
                .domains
                .iter()
                .position(|x| x.code == domain.code);
            let l = domain
                .level
                .as_deref()
                .and_then(|c| level_position(instrument, c));
            domain.feedback = d.zip(l).and_then(|(d, l)| scorer.feedback(d, l).cloned());
        }
    }
}

impl DomainRecord {
    /// Why the domain has no score; `None` when it has one.
    pub fn missing(&self) -> Option<Missing> {
        Missing::of_domain(self.score, self.answered, self.needed)
    }
}

impl ResultRecord {
    /// Why the index is absent; `None` when there is one. `min_domains` is
    /// the instrument's (`[missing] min_domains`).
    pub fn index_missing(&self, min_domains: u32) -> Option<Missing> {
        let scored = self.domains.iter().filter(|d| d.score.is_some()).count() as u32;
        Missing::of_index(self.index, scored, min_domains)
    }
}

/// Why a domain score or the index is absent: the rule that was not met and
/// its counts, language-free, so that every output (CLI files, the API, the
/// reports) says the same thing and clients can word it themselves. The
/// texts are [`crate::localise::missing_text`]'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub reason: MissingReason,
    /// What there was: items answered ("don't know" included) of a domain,
    /// domains scored of the index.
    pub count: u32,
    /// What the rule needs (0 when not known or when no item applies).
    pub needed: u32,
}

/// The rule behind a [`Missing`]. Codes (kebab-case) are the CLI files'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingReason {
    /// Fewer answers than the instrument's missing-data rule needs
    /// (`min_answered`, `min_answered_fraction` of the applicable items).
    TooFewAnswers,
    /// Every item of the domain was answered "not applicable".
    NoApplicableItems,
    /// Fewer domains scored than the instrument's `min_domains` (at least 1).
    TooFewDomains,
    /// The instrument's rule was met, yet the scoring model gave no value:
    /// a model may have rules of its own.
    Model,
    /// Not known: the result was kept before reasons were recorded.
    Unknown,
}

impl MissingReason {
    /// The code in CLI files (`too-few-answers`, …).
    pub fn code(self) -> &'static str {
        match self {
            MissingReason::TooFewAnswers => "too-few-answers",
            MissingReason::NoApplicableItems => "no-applicable-items",
            MissingReason::TooFewDomains => "too-few-domains",
            MissingReason::Model => "model",
            MissingReason::Unknown => "unknown",
        }
    }
}

impl Missing {
    /// Why a domain with `score` has none, from its answers and the answers
    /// the rule needs (`needed`, as [`DomainOutcome::needed`]). The engine,
    /// not the model, says why: the rule is the platform's
    /// (`ikd_plugin_sdk::layout::answers_needed`, which every model applies),
    /// so the reason holds whichever model scored, and one the rule does not
    /// explain is the model's own ([`MissingReason::Model`]).
    pub fn of_domain(score: Option<f64>, answered: u32, needed: Option<u32>) -> Option<Missing> {
        if score.is_some() {
            return None;
        }
        let reason = match needed {
            None => MissingReason::Unknown,
            Some(0) => MissingReason::NoApplicableItems,
            Some(n) if answered < n => MissingReason::TooFewAnswers,
            Some(_) => MissingReason::Model,
        };
        Some(Missing {
            reason,
            count: answered,
            needed: needed.unwrap_or(0),
        })
    }

    /// Why an absent index is absent, from the domains scored and the
    /// instrument's `min_domains` (0 behaves as 1: no composite of nothing).
    pub fn of_index(index: Option<f64>, scored: u32, min_domains: u32) -> Option<Missing> {
        if index.is_some() {
            return None;
        }
        let needed = min_domains.max(1);
        Some(Missing {
            reason: if scored < needed {
                MissingReason::TooFewDomains
            } else {
                MissingReason::Model
            },
            count: scored,
            needed,
        })
    }
}

/// The code of the level at `position`.
fn level_code(instrument: &Instrument, position: Option<u32>) -> Option<String> {
    position
        .and_then(|p| instrument.levels.get(p as usize))
        .map(|l| l.code.clone())
}

/// Where the level with `code` stands among the instrument's levels.
pub fn level_position(instrument: &Instrument, code: &str) -> Option<usize> {
    instrument.levels.iter().position(|l| l.code == code)
}

/// Exactly what produced a result, so that it can be reproduced or re-scored.
/// Kept with every stored result as its JSON form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub instrument_id: String,
    pub instrument_version: String,
    pub instrument_sha256: String,
    pub engine_version: String,
    pub model: PluginProvenance,
    pub model_settings: serde_json::Value,
    /// Domain plugins.
    pub plugins: Vec<PluginProvenance>,
    /// Adaptive instruments: how the items were chosen and given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<Administration>,
}

/// How an adaptive test was administered: the selector, the items in order with the
/// domain's θ and SE after each, and why it stopped. Kept with the result so that an
/// auditor can replay the test and a researcher can study test lengths and paths.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Administration {
    pub selector: PluginProvenance,
    /// `completed`, `max_items`, or `end_early` (the respondent stopped first).
    pub stop_reason: String,
    pub steps: Vec<AdministeredItem>,
}

/// One item of an adaptive test: θ (logit scale, EAP) and its posterior SD after the answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AdministeredItem {
    pub item: String,
    pub domain: String,
    /// The answer's IRT category code.
    pub category: u8,
    pub theta: f64,
    pub se: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginProvenance {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

impl PluginProvenance {
    pub fn of(plugin: &LoadedPlugin) -> Self {
        PluginProvenance {
            name: plugin.name().to_owned(),
            version: plugin.manifest.version.to_string(),
            sha256: plugin.sha256.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;
    use crate::localise::missing_text;

    fn missing(reason: MissingReason, count: u32, needed: u32) -> Option<Missing> {
        Some(Missing {
            reason,
            count,
            needed,
        })
    }

    #[test]
    fn a_domain_without_a_score_says_why() {
        use MissingReason::*;
        // A score: nothing to explain, whatever the counts.
        assert_eq!(Missing::of_domain(Some(50.0), 1, Some(3)), None);
        // 2 of 3 answers needed.
        assert_eq!(
            Missing::of_domain(None, 2, Some(3)),
            missing(TooFewAnswers, 2, 3)
        );
        // Nothing applies: needed 0.
        assert_eq!(
            Missing::of_domain(None, 0, Some(0)),
            missing(NoApplicableItems, 0, 0)
        );
        // The rule was met: the model's own reason.
        assert_eq!(Missing::of_domain(None, 3, Some(3)), missing(Model, 3, 3));
        // A stored result from before `needed` was kept.
        assert_eq!(Missing::of_domain(None, 1, None), missing(Unknown, 1, 0));
    }

    #[test]
    fn an_absent_index_says_why() {
        use MissingReason::*;
        assert_eq!(Missing::of_index(Some(60.0), 0, 3), None);
        assert_eq!(Missing::of_index(None, 1, 2), missing(TooFewDomains, 1, 2));
        // min_domains 0 behaves as 1 (the models' rule).
        assert_eq!(Missing::of_index(None, 0, 0), missing(TooFewDomains, 0, 1));
        assert_eq!(Missing::of_index(None, 2, 2), missing(Model, 2, 2));
        let record = ResultRecord {
            domains: vec![
                DomainRecord {
                    code: "a".into(),
                    score: Some(70.0),
                    ..Default::default()
                },
                DomainRecord {
                    code: "b".into(),
                    answered: 1,
                    needed: Some(2),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(record.index_missing(2), missing(TooFewDomains, 1, 2));
        assert_eq!(record.domains[1].missing(), missing(TooFewAnswers, 1, 2));
    }

    #[test]
    fn the_messages_carry_the_counts_in_both_languages() {
        let text = missing_text(&missing(MissingReason::TooFewAnswers, 2, 3).unwrap());
        assert_eq!(
            text.get(Lang::En),
            "Not scored: 2 of the 3 answers needed were given."
        );
        assert_eq!(
            text.get(Lang::Id),
            "Tidak dinilai: 2 dari 3 butir yang diperlukan dijawab."
        );
        let text = missing_text(&missing(MissingReason::TooFewDomains, 1, 2).unwrap());
        assert!(text.en.contains("1 of the 2") && text.id.contains("1 dari 2"));
    }
}
