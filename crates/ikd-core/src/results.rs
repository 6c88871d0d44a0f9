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
                    feedback: outcome
                        .level
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
