//! The file as written: serde shapes of `instrument.toml`, before any checks.
//!
//! Values the validator reports on are [`Spanned`], so a diagnostic can point
//! at their line and column. Every fixed table denies unknown keys, so that a
//! typo fails loudly instead of silently falling back to a default; only items
//! keep unknown keys, as kind-specific parameters.

use serde::Deserialize;
use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an instrument document")]
pub(super) struct RawDocument {
    pub instrument: RawHeader,
    pub reporting: Option<RawReporting>,
    pub scoring: RawScoring,
    pub missing: Option<RawMissing>,
    pub quality: Option<RawQuality>,
    pub delivery: Option<RawDelivery>,
    #[serde(default)]
    pub scales: Vec<RawScale>,
    #[serde(default)]
    pub domains: Vec<RawDomain>,
    #[serde(default)]
    pub items: Vec<RawItem>,
    #[serde(default)]
    pub levels: Vec<RawLevel>,
}

/// A bilingual label. Both languages default to empty so that a missing one is
/// reported together with every other problem, not as a lone parse error.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a bilingual text { id = \"…\", en = \"…\" }"
)]
pub(super) struct RawText {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [instrument] table")]
pub(super) struct RawHeader {
    pub id: Spanned<String>,
    pub version: Spanned<String>,
    pub title: Spanned<RawText>,
    pub description: Option<Spanned<RawText>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [reporting] table")]
pub(super) struct RawReporting {
    pub min: Option<Spanned<f64>>,
    pub max: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [scoring] table")]
pub(super) struct RawScoring {
    pub model: Spanned<String>,
    pub model_version: Option<Spanned<String>>,
    pub weights_sum: Option<Spanned<f64>>,
    pub settings: Option<Spanned<toml::Table>>,
    /// Settings for other models this instrument may be scored with, by model name.
    #[serde(default)]
    pub alternatives: std::collections::BTreeMap<String, Spanned<toml::Table>>,
}

/// Counts are read as signed integers so that a negative one is reported as
/// out of range alongside every other problem.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [missing] table")]
pub(super) struct RawMissing {
    pub min_answered: Option<Spanned<i64>>,
    pub min_answered_fraction: Option<Spanned<f64>>,
    pub min_domains: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [delivery] table")]
pub(super) struct RawDelivery {
    pub mode: Spanned<String>,
    pub selector: Option<Spanned<String>>,
    pub selector_version: Option<Spanned<String>>,
    pub settings: Option<Spanned<toml::Table>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [quality] table")]
pub(super) struct RawQuality {
    pub straight_line_run: Option<Spanned<i64>>,
    pub straight_line_all_min: Option<Spanned<i64>>,
    pub min_duration_seconds: Option<Spanned<f64>>,
    pub straight_line_kinds: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[scales]] table")]
pub(super) struct RawScale {
    pub id: Spanned<String>,
    pub min: Spanned<i64>,
    pub max: Spanned<i64>,
    pub labels: Option<Spanned<Vec<Spanned<RawText>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[domains]] table")]
pub(super) struct RawDomain {
    pub code: Spanned<String>,
    pub name: Spanned<RawText>,
    pub plugin: Spanned<String>,
    pub plugin_version: Option<Spanned<String>>,
    pub weight: Spanned<f64>,
    pub min_answered: Option<Spanned<i64>>,
    pub min_answered_fraction: Option<Spanned<f64>>,
    pub settings: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub indicators: Vec<RawIndicator>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[domains.indicators]] table")]
pub(super) struct RawIndicator {
    pub code: Spanned<String>,
    pub name: Spanned<RawText>,
    pub weight: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an option table { code = \"…\", … }")]
pub(super) struct RawOption {
    pub code: Spanned<String>,
    pub label: Option<Spanned<RawText>>,
    pub credit: Option<Spanned<f64>>,
    #[serde(default)]
    pub dont_know: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[levels]] table")]
pub(super) struct RawLevel {
    pub code: Spanned<String>,
    pub name: Spanned<RawText>,
    pub min: Spanned<f64>,
    pub max: Spanned<f64>,
}

/// One `[[items]]` table: the common fields, plus every other key in `params`.
#[derive(Debug)]
pub(super) struct RawItem {
    pub id: Spanned<String>,
    pub domain: Spanned<String>,
    pub indicator: Spanned<String>,
    pub kind: Spanned<String>,
    pub text: Spanned<RawText>,
    pub weight: Option<Spanned<f64>>,
    pub reverse: bool,
    pub not_applicable: bool,
    pub scale: Option<Spanned<String>>,
    pub key: Option<Spanned<toml::Value>>,
    pub options: Vec<RawOption>,
    pub params: BTreeMap<String, Spanned<toml::Value>>,
}

/// Written by hand because `#[serde(flatten)]` would buffer the table and lose
/// the spans of the common fields.
impl<'de> Deserialize<'de> for RawItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RawItemVisitor)
    }
}

struct RawItemVisitor;

impl<'de> Visitor<'de> for RawItemVisitor {
    type Value = RawItem;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an [[items]] table")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawItem, A::Error> {
        let (mut id, mut domain, mut indicator, mut kind, mut text) =
            (None, None, None, None, None);
        let (mut weight, mut reverse, mut scale, mut key, mut options) =
            (None, None, None, None, None);
        let mut not_applicable = None;
        let mut params = BTreeMap::new();
        // TOML itself rejects duplicate keys, so each arm runs at most once.
        while let Some(name) = map.next_key::<String>()? {
            match name.as_str() {
                "id" => id = Some(map.next_value()?),
                "domain" => domain = Some(map.next_value()?),
                "indicator" => indicator = Some(map.next_value()?),
                "kind" => kind = Some(map.next_value()?),
                "text" => text = Some(map.next_value()?),
                "weight" => weight = Some(map.next_value()?),
                "reverse" => reverse = Some(map.next_value()?),
                "not_applicable" => not_applicable = Some(map.next_value()?),
                "scale" => scale = Some(map.next_value()?),
                "key" => key = Some(map.next_value()?),
                "options" => options = Some(map.next_value()?),
                _ => {
                    let value = map.next_value()?;
                    params.insert(name, value);
                }
            }
        }
        Ok(RawItem {
            id: id.ok_or_else(|| A::Error::missing_field("id"))?,
            domain: domain.ok_or_else(|| A::Error::missing_field("domain"))?,
            indicator: indicator.ok_or_else(|| A::Error::missing_field("indicator"))?,
            kind: kind.ok_or_else(|| A::Error::missing_field("kind"))?,
            text: text.ok_or_else(|| A::Error::missing_field("text"))?,
            weight,
            reverse: reverse.unwrap_or(false),
            not_applicable: not_applicable.unwrap_or(false),
            scale,
            key,
            options: options.unwrap_or_default(),
            params,
        })
    }
}
