//! # Literasi Digital (Digital Literacy) — an IKD domain plugin
//!
//! Item kinds: the SDK's `likert` and `single-choice`, and this domain's own
//! [`multi-select`](MultiSelect) ("which of these statements are true?",
//! partial credit per correct choice minus wrong choices). Feedback and
//! development advice for the five IKD levels live in `feedback.rs`.

mod feedback;
pub mod multi_select;

pub use feedback::{LEVEL_CODES, level_position};
pub use multi_select::MultiSelect;

use ikd_plugin_sdk::prelude::*;

/// The Literasi Digital domain plugin.
pub struct LiterasiDigital;

impl DomainPlugin for LiterasiDigital {
    const NAME: &'static str = "literasi-digital";
    const DESCRIPTION: &'static str = "Literasi Digital / Digital Literacy";

    fn item_kinds() -> Vec<Box<dyn ItemKind>> {
        vec![
            Box::new(Likert),
            Box::new(SingleChoice),
            Box::new(MultiSelect),
        ]
    }

    /// The domain has no settings; a non-empty `settings` table is refused
    /// so that a misplaced setting does not go unnoticed.
    fn new(setup: &DomainSetup) -> Result<Self, PluginError> {
        let s = &setup.settings;
        if s.is_null() || s.as_object().is_some_and(|m| m.is_empty()) {
            return Ok(LiterasiDigital);
        }
        Err(PluginError::invalid(
            format!(
                "domain '{}': plugin '{}' takes no settings",
                setup.domain,
                Self::NAME
            ),
            vec![Violation::item(
                setup.domain,
                "settings",
                format!("unexpected settings {s}"),
            )],
        ))
    }

    fn feedback(&self, level: &LevelRef) -> Feedback {
        feedback::feedback(level)
    }
}

export_domain_plugin!(LiterasiDigital);
