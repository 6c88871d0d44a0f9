//! Results: what scoring one respondent gives, and where it came from.

use crate::host::LoadedPlugin;
use crate::quality::QualityFlag;
use serde::Serialize;

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

/// Exactly what produced a result, so that it can be reproduced or re-scored.
#[derive(Clone, Debug, PartialEq, Serialize)]
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

#[derive(Clone, Debug, PartialEq, Serialize)]
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
