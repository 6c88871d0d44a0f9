//! The instrument model: what `instrument.toml` holds once loaded and validated.
//!
//! Raw answers are never changed by anything here: keys, credits and reverse
//! flags are applied when scoring, so every stored answer can be re-scored.

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A label a person reads, in Bahasa Indonesia and English.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Text {
    pub id: String,
    pub en: String,
}

impl Text {
    /// The label in `lang`, falling back to Bahasa Indonesia.
    pub fn get(&self, lang: crate::lang::Lang) -> &str {
        lang.pick(&self.id, &self.en)
    }
}

/// Where something stands in the instrument file (1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// A loaded, validated instrument.
#[derive(Clone, Debug)]
pub struct Instrument {
    pub id: String,
    pub version: Version,
    pub title: Text,
    pub description: Option<Text>,
    /// Response scales items refer to by id.
    pub scales: Vec<Scale>,
    pub domains: Vec<Domain>,
    /// Items in instrument order.
    pub items: Vec<Item>,
    pub missing: MissingPolicy,
    /// Level bands on the reporting scale, ascending and contiguous.
    pub levels: Vec<Level>,
    pub scoring: ScoringSpec,
    pub quality: QualityRules,
    /// How respondents are given the items (`[delivery]`).
    pub delivery: Delivery,
    /// The reporting scale (`[reporting] min/max`), 0–100 unless declared otherwise.
    pub reporting: ReportingScale,
    /// Hex sha256 of the file's bytes: part of the instrument's identity.
    pub sha256: String,
    /// The file it was loaded from.
    pub source: PathBuf,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scale {
    pub id: String,
    /// Inclusive integer range of answers.
    pub min: i32,
    pub max: i32,
    /// One anchor label per point, lowest first (may be empty).
    pub labels: Vec<Text>,
}

#[derive(Clone, Debug)]
pub struct Domain {
    pub code: String,
    pub name: Text,
    /// Name of the domain plugin that owns this domain's item kinds.
    pub plugin: String,
    /// Versions of that plugin the instrument accepts.
    pub plugin_version: VersionReq,
    pub weight: f64,
    pub indicators: Vec<Indicator>,
    /// Overrides the instrument's missing-data policy for this domain.
    pub min_answered: Option<u32>,
    pub min_answered_fraction: Option<f64>,
    /// The domain's `settings` table, passed to its plugin as JSON (`Null` when absent).
    pub settings: serde_json::Value,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Indicator {
    pub code: String,
    pub name: Text,
    pub weight: f64,
}

#[derive(Clone, Debug)]
pub struct Item {
    pub id: String,
    /// Domain code.
    pub domain: String,
    /// Indicator code within the domain.
    pub indicator: String,
    /// Item kind, owned by the domain's plugin (`likert`, `single-choice`, ...).
    pub kind: String,
    pub text: Text,
    pub weight: f64,
    pub reverse: bool,
    /// "Not applicable" (the cell `NA`) is offered to respondents.
    pub not_applicable: bool,
    /// Id of the response scale, when the item uses one.
    pub scale: Option<String>,
    pub options: Vec<ItemOption>,
    /// Keyed option code(s) (or keyed values) for performance items.
    pub key: Vec<String>,
    /// Every other field of the item, for kinds that need more than the common fields.
    pub params: serde_json::Map<String, serde_json::Value>,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ItemOption {
    pub code: String,
    pub label: Text,
    pub credit: Option<f64>,
    pub dont_know: bool,
}

/// When a domain has enough answers to be scored, and when the composite does.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingPolicy {
    /// Minimum answered items per domain (applicable items only).
    pub min_answered: u32,
    /// Minimum fraction of a domain's applicable items answered (0–1).
    pub min_answered_fraction: f64,
    /// Minimum number of scored domains for a composite index; defaults to all domains.
    pub min_domains: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Level {
    pub code: String,
    pub name: Text,
    /// Inclusive lower bound; the band is `[min, max)` except the last, which includes `max`.
    pub min: f64,
    pub max: f64,
}

#[derive(Clone, Debug)]
pub struct ScoringSpec {
    /// Name of the scoring-model plugin (e.g. `weighted-index`).
    pub model: String,
    pub model_version: VersionReq,
    /// The model's settings table, as JSON (`Null` when absent).
    pub settings: serde_json::Value,
    /// `[scoring.alternatives.<model>]`: settings for other models the
    /// instrument may be scored with (e.g. the item parameter file and the
    /// reporting transform of `irt`), used when that model is chosen.
    pub alternatives: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QualityRules {
    /// Flag when this many consecutive Likert answers are identical (0 = off).
    pub straight_line_run: u32,
    /// Flag when every Likert answer is identical (needs at least this many answered; 0 = off).
    pub straight_line_all_min: u32,
    /// Flag completion faster than this many seconds, when a duration is given (0 = off).
    pub min_duration_seconds: f64,
    /// Item kinds whose answers are single points on a rating scale, the only
    /// ones straight-lining is judged on (default `["likert"]`).
    pub straight_line_kinds: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReportingScale {
    pub min: f64,
    pub max: f64,
}

/// How respondents are given the items.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Delivery {
    /// Every item, a page per domain.
    #[default]
    Fixed,
    /// The items a selector picks for each person (docs/adaptive.md).
    Adaptive(AdaptiveDelivery),
}

impl Delivery {
    pub fn adaptive(&self) -> Option<&AdaptiveDelivery> {
        match self {
            Delivery::Adaptive(adaptive) => Some(adaptive),
            Delivery::Fixed => None,
        }
    }

    pub fn mode(&self) -> &'static str {
        match self {
            Delivery::Fixed => "fixed",
            Delivery::Adaptive(_) => "adaptive",
        }
    }
}

/// `[delivery] mode = "adaptive"`: the selector plugin and the test's settings, whose
/// item parameters are the `irt` scoring model's (pinned by its `params_sha256`).
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveDelivery {
    /// Name of the selector plugin (e.g. `mfi`).
    pub selector: String,
    pub selector_version: VersionReq,
    /// Stopping rule, content limits, exposure control (`[delivery.settings]`).
    pub settings: ikd_cat::Settings,
}
