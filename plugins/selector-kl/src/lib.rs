//! The `kl` selector plugin: Kullback–Leibler interval information around
//! the domain's EAP θ (Chang & Ying, 1996; `ikd_cat::KullbackLeibler`),
//! which looks past a still imprecise θ early in the test; randomesque among
//! the best. It shows the selector slot is real: a second rule behind the
//! same ABI, chosen by name.

use ikd_cat::KullbackLeibler;
use ikd_cat::plugin::HostedSelector;
use ikd_plugin_sdk::prelude::*;

pub struct KullbackLeiblerPlugin(HostedSelector<KullbackLeibler>);

impl SelectorPlugin for KullbackLeiblerPlugin {
    const NAME: &'static str = "kl";
    const DESCRIPTION: &'static str =
        "Kullback–Leibler interval information around the EAP θ, randomesque among the best";

    fn new(config: &SelectorConfig) -> Result<Self, PluginError> {
        HostedSelector::new(config, |settings| {
            KullbackLeibler::new(settings.randomesque, settings.kl_radius)
        })
        .map(Self)
    }

    fn select(&self, request: &SelectRequest) -> Result<u32, PluginError> {
        self.0.select(request)
    }
}

export_selector!(KullbackLeiblerPlugin);
