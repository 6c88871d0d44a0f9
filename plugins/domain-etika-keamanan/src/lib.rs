//! # Etika dan Keamanan Digital (Digital Ethics and Security) — an IKD domain plugin
//!
//! Item kinds: the SDK's `likert` and `single-choice`, and this domain's own
//! [`phishing-spot`](PhishingSpot) (mark the suspicious messages, scored as hit rate minus false-alarm rate). Feedback and development advice for the five
//! IKD levels live in `feedback.rs`; the kind is described with a worked
//! example in the crate's README.

mod feedback;
pub mod phishing_spot;

pub use phishing_spot::PhishingSpot;

use ikd_plugin_sdk::prelude::*;

/// The Etika dan Keamanan Digital domain plugin.
pub struct EtikaKeamanan;

impl DomainPlugin for EtikaKeamanan {
    const NAME: &'static str = "etika-keamanan";
    const DESCRIPTION: &'static str = "Etika dan Keamanan Digital / Digital Ethics and Security";

    fn item_kinds() -> Vec<Box<dyn ItemKind>> {
        vec![
            Box::new(Likert),
            Box::new(SingleChoice),
            Box::new(PhishingSpot),
        ]
    }

    /// The domain has no settings; a non-empty `settings` table is refused
    /// so that a misplaced setting does not go unnoticed.
    fn new(setup: &DomainSetup) -> Result<Self, PluginError> {
        setup.expect_no_settings(Self::NAME)?;
        Ok(EtikaKeamanan)
    }

    fn feedback(&self, level: &LevelRef) -> Feedback {
        feedback::feedback(level)
    }
}

export_domain_plugin!(EtikaKeamanan);
