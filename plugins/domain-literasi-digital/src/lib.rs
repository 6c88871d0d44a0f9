//! # Literasi Digital (Digital Literacy) — an IKD domain plugin
//!
//! Item kinds: the SDK's `likert` and `single-choice`, and this domain's own
//! [`multi-select`](MultiSelect) ("which of these statements are true?",
//! partial credit per correct choice minus wrong choices). Feedback and
//! development advice for the five IKD levels live in `feedback.rs`.

mod feedback;
pub mod multi_select;

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
        setup.expect_no_settings(Self::NAME)?;
        Ok(LiterasiDigital)
    }

    fn feedback(&self, level: &LevelRef) -> Feedback {
        feedback::feedback(level)
    }
}

export_domain_plugin!(LiterasiDigital);
