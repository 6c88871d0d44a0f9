//! The `mfi` selector plugin: maximum Fisher information at the domain's
//! EAP θ (`ikd_cat::MaxInformation`), randomesque among the `randomesque`
//! most informative candidates. Content balancing across domains and
//! indicators and the stopping rule are the host's (`ikd_cat::AdaptiveTest`):
//! it offers only admissible candidates and checks the reply.

use ikd_cat::MaxInformation;
use ikd_cat::plugin::HostedSelector;
use ikd_plugin_sdk::prelude::*;

pub struct MaxInformationPlugin(HostedSelector<MaxInformation>);

impl SelectorPlugin for MaxInformationPlugin {
    const NAME: &'static str = "mfi";
    const DESCRIPTION: &'static str =
        "Maximum Fisher information at the EAP θ, randomesque among the best";

    fn new(config: &SelectorConfig) -> Result<Self, PluginError> {
        HostedSelector::new(config, |settings| MaxInformation::new(settings.randomesque)).map(Self)
    }

    fn select(&self, request: &SelectRequest) -> Result<u32, PluginError> {
        self.0.select(request)
    }
}

export_selector!(MaxInformationPlugin);
