//! The settings of an adaptive test, as an instrument will declare them
//! (`[delivery.settings]`): stopping rule, content constraints, exposure
//! control and the EAP grid. Unknown keys are refused, so a misspelt limit
//! cannot silently leave the test unconstrained.
//!
//! ```toml
//! se_target = 0.3                 # stop a domain once SE(θ) ≤ 0.3 …
//! min_items_per_domain = 3        # … but not before 3 of its items
//! max_items_per_domain = 12
//! max_items = 45                  # the whole test
//! min_items_per_indicator = 1
//! randomesque = 3                 # pick at random among the 3 best items
//!
//! [domains.literasi-digital]      # per-domain overrides
//! se_target = 0.35
//! indicators.komunikasi = { max_items = 2 }
//! ```
//!
//! [`Settings`] is only the parsed table; [`crate::Constraints::resolve`]
//! checks it against a bank and names every field at fault.

use ikd_irt::SCORING_QUADPTS;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Settings of an adaptive test. Every field has a default, so an empty
/// table is a valid (if unconstrained) test: stop each domain at SE ≤ 0.3,
/// at most the whole bank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// A domain is done once the posterior SD of its θ is at most this
    /// (and its minimums are met).
    pub se_target: f64,
    /// Items every domain gets at least.
    pub min_items_per_domain: usize,
    /// Items a domain gets at most; default: all of its items.
    pub max_items_per_domain: Option<usize>,
    /// Items of the whole test at most; default: the whole bank.
    pub max_items: Option<usize>,
    /// Items every indicator gets at least.
    pub min_items_per_indicator: usize,
    /// Items an indicator gets at most; default: all of its items.
    pub max_items_per_indicator: Option<usize>,
    /// Randomesque exposure control (Kingsbury & Zara, 1989): the next item
    /// is drawn at random among this many best candidates; 1 takes the best.
    pub randomesque: usize,
    /// Which domain the next item comes from.
    pub domain_order: DomainOrder,
    /// Kullback–Leibler selector: information is integrated over
    /// θ̂ ± `kl_radius`/√n, n the items the domain has had (at least 1);
    /// Chang & Ying (1996) use 3.
    pub kl_radius: f64,
    /// Quadrature nodes of the EAP grid on [−6, 6]; must equal the `irt`
    /// scoring model's `quadpts` so that θ and SE are the ones it reports.
    pub quadpts: usize,
    /// Overrides for single domains, by domain code.
    pub domains: BTreeMap<String, DomainSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            se_target: 0.3,
            min_items_per_domain: 1,
            max_items_per_domain: None,
            max_items: None,
            min_items_per_indicator: 0,
            max_items_per_indicator: None,
            randomesque: 1,
            domain_order: DomainOrder::Sequential,
            kl_radius: 3.0,
            quadpts: SCORING_QUADPTS,
            domains: BTreeMap::new(),
        }
    }
}

/// Overrides for one domain; absent fields take the test-wide value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DomainSettings {
    pub se_target: Option<f64>,
    pub min_items: Option<usize>,
    pub max_items: Option<usize>,
    /// Overrides for single indicators of the domain, by indicator code.
    pub indicators: BTreeMap<String, IndicatorSettings>,
}

/// Overrides for one indicator; absent fields take the test-wide value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndicatorSettings {
    pub min_items: Option<usize>,
    pub max_items: Option<usize>,
}

/// Which open domain the next item comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainOrder {
    /// Finish each domain before the next, in bank (instrument) order: the
    /// respondent stays on one topic, as on the instrument's domain pages.
    #[default]
    Sequential,
    /// Each next item from the open domain whose θ is least precise (largest
    /// SE; the first such domain on ties).
    Interleaved,
}

impl DomainOrder {
    pub fn name(self) -> &'static str {
        match self {
            DomainOrder::Sequential => "sequential",
            DomainOrder::Interleaved => "interleaved",
        }
    }
}

impl fmt::Display for DomainOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DomainOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sequential" => Ok(DomainOrder::Sequential),
            "interleaved" => Ok(DomainOrder::Interleaved),
            other => Err(format!(
                "unknown domain order '{other}' (expected sequential or interleaved)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_table_is_the_defaults() {
        let settings: Settings = toml::from_str("").unwrap();
        assert_eq!(settings, Settings::default());
    }

    #[test]
    fn reads_the_documented_toml() {
        let settings: Settings = toml::from_str(
            r#"
            se_target = 0.25
            max_items = 45
            randomesque = 3
            domain_order = "interleaved"
            [domains.literasi-digital]
            min_items = 4
            indicators.komunikasi = { max_items = 2 }
            "#,
        )
        .unwrap();
        assert_eq!(settings.se_target, 0.25);
        assert_eq!(settings.max_items, Some(45));
        assert_eq!(settings.domain_order, DomainOrder::Interleaved);
        let domain = &settings.domains["literasi-digital"];
        assert_eq!(domain.min_items, Some(4));
        assert_eq!(domain.indicators["komunikasi"].max_items, Some(2));
        // And back: the settings serialise to what they were read from.
        let again: Settings = toml::from_str(&toml::to_string(&settings).unwrap()).unwrap();
        assert_eq!(again, settings);
    }

    #[test]
    fn unknown_and_ill_typed_keys_are_refused_by_name() {
        let err = toml::from_str::<Settings>("se_targt = 0.3").unwrap_err();
        assert!(err.to_string().contains("se_targt"), "{err}");
        let err = toml::from_str::<Settings>("[domains.a]\nmax = 3").unwrap_err();
        assert!(err.to_string().contains("max"), "{err}");
        let err = toml::from_str::<Settings>("max_items = -1").unwrap_err();
        assert!(err.to_string().contains("max_items"), "{err}");
        let err = serde_json::from_str::<Settings>(r#"{"domain_order": "random"}"#).unwrap_err();
        assert!(err.to_string().contains("random"), "{err}");
    }
}
