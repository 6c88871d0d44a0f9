//! # Budaya Kerja Berbasis Data (Data-Driven Work Culture) — an IKD domain plugin
//!
//! Item kinds: the SDK's `likert` and `single-choice`, and this domain's own
//! [`numeric-reading`](NumericReading) (read a number off a small table, scored right within a tolerance). Feedback and development advice for the five
//! IKD levels live in `feedback.rs`; the kind is described with a worked
//! example in the crate's README.

mod feedback;
pub mod numeric_reading;

pub use numeric_reading::NumericReading;

use ikd_plugin_sdk::prelude::*;

/// The Budaya Kerja Berbasis Data domain plugin.
pub struct BudayaData;

impl DomainPlugin for BudayaData {
    const NAME: &'static str = "budaya-data";
    const DESCRIPTION: &'static str = "Budaya Kerja Berbasis Data / Data-Driven Work Culture";

    fn item_kinds() -> Vec<Box<dyn ItemKind>> {
        vec![
            Box::new(Likert),
            Box::new(SingleChoice),
            Box::new(NumericReading),
        ]
    }

    /// The domain has no settings; a non-empty `settings` table is refused
    /// so that a misplaced setting does not go unnoticed.
    fn new(setup: &DomainSetup) -> Result<Self, PluginError> {
        setup.expect_no_settings(Self::NAME)?;
        Ok(BudayaData)
    }

    fn feedback(&self, level: &LevelRef) -> Feedback {
        feedback::feedback(level)
    }
}

export_domain_plugin!(BudayaData);
