//! # Kepemimpinan Digital (Digital Leadership) — an IKD domain plugin
//!
//! Item kinds: the SDK's `likert` and `single-choice`, and this domain's own
//! [`sjt-rating`](SjtRating) (a situational judgement item: rate each response, scored by distance from the expert ratings). Feedback and development advice for the five
//! IKD levels live in `feedback.rs`; the kind is described with a worked
//! example in the crate's README.

mod feedback;
pub mod sjt_rating;

pub use sjt_rating::SjtRating;

use ikd_plugin_sdk::prelude::*;

/// The Kepemimpinan Digital domain plugin.
pub struct KepemimpinanDigital;

impl DomainPlugin for KepemimpinanDigital {
    const NAME: &'static str = "kepemimpinan-digital";
    const DESCRIPTION: &'static str = "Kepemimpinan Digital / Digital Leadership";

    fn item_kinds() -> Vec<Box<dyn ItemKind>> {
        vec![
            Box::new(Likert),
            Box::new(SingleChoice),
            Box::new(SjtRating),
        ]
    }

    /// The domain has no settings; a non-empty `settings` table is refused
    /// so that a misplaced setting does not go unnoticed.
    fn new(setup: &DomainSetup) -> Result<Self, PluginError> {
        setup.expect_no_settings(Self::NAME)?;
        Ok(KepemimpinanDigital)
    }

    fn feedback(&self, level: &LevelRef) -> Feedback {
        feedback::feedback(level)
    }
}

export_domain_plugin!(KepemimpinanDigital);
