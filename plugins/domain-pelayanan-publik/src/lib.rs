//! # Pelayanan Publik Digital (Digital Public Service) — an IKD domain plugin
//!
//! Item kinds: the SDK's `likert` and `single-choice`, and this domain's own
//! [`ranking`](Ranking) (put the steps of a service improvement in order, scored by displacement from the keyed order). Feedback and development advice for the five
//! IKD levels live in `feedback.rs`; the kind is described with a worked
//! example in the crate's README.

mod feedback;
pub mod ranking;

pub use ranking::Ranking;

use ikd_plugin_sdk::prelude::*;

/// The Pelayanan Publik Digital domain plugin.
pub struct PelayananPublik;

impl DomainPlugin for PelayananPublik {
    const NAME: &'static str = "pelayanan-publik";
    const DESCRIPTION: &'static str = "Pelayanan Publik Digital / Digital Public Service";

    fn item_kinds() -> Vec<Box<dyn ItemKind>> {
        vec![Box::new(Likert), Box::new(SingleChoice), Box::new(Ranking)]
    }

    /// The domain has no settings; a non-empty `settings` table is refused
    /// so that a misplaced setting does not go unnoticed.
    fn new(setup: &DomainSetup) -> Result<Self, PluginError> {
        setup.expect_no_settings(Self::NAME)?;
        Ok(PelayananPublik)
    }

    fn feedback(&self, level: &LevelRef) -> Feedback {
        feedback::feedback(level)
    }
}

export_domain_plugin!(PelayananPublik);
