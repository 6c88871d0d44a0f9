//! The selector plugin boundary, on this crate's side (feature `plugin`):
//! the host turns a [`Bank`] and [`Settings`] into the `SelectorConfig` a
//! selector instance is created with ([`selector_config`]), and a plugin
//! serves one of this crate's [`Selector`]s behind the ABI with
//! [`HostedSelector`], so the bundled selector plugins are a few lines each.

use crate::bank::{Bank, BankItem};
use crate::select::{SelectionContext, Selector};
use crate::settings::Settings;
use ikd_irt::{Item, Model, Score};
use ikd_plugin_sdk::proto::{SelectRequest, SelectorConfig, SelectorItem};
use ikd_plugin_sdk::{PluginError, Violation};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// What a selector instance is created with: every item of `bank` in bank
/// order with its IRT parameters, and `settings` as JSON.
pub fn selector_config(bank: &Bank, settings: &Settings) -> SelectorConfig {
    SelectorConfig {
        items: bank.items().iter().map(to_wire).collect(),
        settings_json: serde_json::to_string(settings).expect("settings serialise"),
    }
}

fn to_wire(item: &BankItem) -> SelectorItem {
    SelectorItem {
        id: item.id.clone(),
        domain: item.domain.clone(),
        indicator: item.indicator.clone(),
        model: item.irt.model().name().to_owned(),
        a: item.irt.a(),
        d: item.irt.d().to_vec(),
        g: item.irt.g(),
    }
}

/// The bank a `SelectorConfig` describes; every bad item is a violation
/// naming it.
pub fn bank_from_config(config: &SelectorConfig) -> Result<Bank, PluginError> {
    let mut violations = Vec::new();
    let mut items = Vec::with_capacity(config.items.len());
    for wire in &config.items {
        match from_wire(wire) {
            Ok(irt) => items.push(BankItem {
                id: wire.id.clone(),
                domain: wire.domain.clone(),
                indicator: wire.indicator.clone(),
                irt,
            }),
            Err(message) => violations.push(Violation::item(&wire.id, "parameters", message)),
        }
    }
    if !violations.is_empty() {
        return Err(PluginError::invalid("invalid item bank", violations));
    }
    Bank::new(items).map_err(|e| PluginError::msg(format!("invalid item bank: {e}")))
}

fn from_wire(wire: &SelectorItem) -> Result<Item, String> {
    let model: Model = wire.model.parse().map_err(|e| format!("{e}"))?;
    let item = match (model, wire.g, wire.d.as_slice()) {
        (Model::ThreePl, Some(g), &[d]) => Item::three_pl(&wire.id, wire.a, d, g),
        (Model::ThreePl, _, _) => return Err("a 3pl item needs one intercept and g".into()),
        _ => Item::new(&wire.id, model, wire.a, wire.d.clone()),
    };
    item.map_err(|e| e.to_string())
}

/// One of this crate's selectors behind the plugin ABI: the bank is built
/// once from the configuration, and each request becomes a
/// [`SelectionContext`] and a generator seeded from the request's seed.
#[derive(Debug)]
pub struct HostedSelector<S> {
    bank: Bank,
    selector: S,
}

impl<S: Selector> HostedSelector<S> {
    /// Builds the bank and the selector from the configuration's settings.
    pub fn new(
        config: &SelectorConfig,
        build: impl FnOnce(&Settings) -> S,
    ) -> Result<Self, PluginError> {
        let settings: Settings = config.settings()?;
        let bank = bank_from_config(config)?;
        Ok(HostedSelector {
            bank,
            selector: build(&settings),
        })
    }

    pub fn bank(&self) -> &Bank {
        &self.bank
    }

    /// The selector's choice for one request (a bank index).
    pub fn select(&self, request: &SelectRequest) -> Result<u32, PluginError> {
        let indices = |field: &str, values: &[u32]| -> Result<Vec<usize>, PluginError> {
            match values.iter().find(|&&i| i as usize >= self.bank.len()) {
                Some(bad) => Err(PluginError::msg(format!(
                    "{field}: item {bad} is not in the bank of {} items",
                    self.bank.len()
                ))),
                None => Ok(values.iter().map(|&i| i as usize).collect()),
            }
        };
        let candidates = indices("candidates", &request.candidates)?;
        let administered = indices("administered", &request.administered)?;
        let domain = request.domain as usize;
        if candidates.is_empty() || domain >= self.bank.domains().len() {
            return Err(PluginError::msg(format!(
                "a request needs candidates and a domain of the bank (domain {domain}, {} candidates)",
                candidates.len()
            )));
        }
        let context = SelectionContext {
            bank: &self.bank,
            domain,
            candidates: &candidates,
            estimate: Score {
                theta: request.theta,
                se: request.se,
            },
            answered: request.answered as usize,
            administered: &administered,
        };
        let mut rng = StdRng::seed_from_u64(request.seed);
        let item = self
            .selector
            .select(&context, &mut rng)
            .map_err(|fault| PluginError::msg(fault.0))?;
        Ok(u32::try_from(item).expect("bank indices fit u32 (checked above)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MaxInformation;

    fn bank() -> Bank {
        let item = |i: usize, model: Model| {
            let id = format!("q{i}");
            let irt = match model {
                Model::ThreePl => Item::three_pl(&id, 1.2, 0.3, 0.2).unwrap(),
                Model::Graded => Item::new(&id, model, 1.1, vec![1.0, 0.0, -1.0]).unwrap(),
                _ => {
                    Item::new(&id, model, 0.8 + 0.1 * i as f64, vec![0.5 - 0.3 * i as f64]).unwrap()
                }
            };
            BankItem {
                id,
                domain: format!("d{}", i % 2),
                indicator: "i".into(),
                irt,
            }
        };
        let models = [Model::TwoPl, Model::ThreePl, Model::Graded, Model::TwoPl];
        Bank::new(
            models
                .iter()
                .enumerate()
                .map(|(i, &m)| item(i, m))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn the_bank_survives_the_wire() {
        let bank = bank();
        let config = selector_config(&bank, &Settings::default());
        let back = bank_from_config(&config).expect("valid");
        assert_eq!(back.items(), bank.items());
    }

    #[test]
    fn a_hosted_selector_chooses_as_the_selector_does_and_refuses_indices_outside_the_bank() {
        let config = selector_config(&bank(), &Settings::default());
        let hosted = HostedSelector::new(&config, |s| MaxInformation::new(s.randomesque)).unwrap();
        let request = SelectRequest {
            domain: 0,
            candidates: vec![0, 2],
            theta: 0.4,
            se: 0.8,
            answered: 0,
            administered: Vec::new(),
            seed: 9,
        };
        let bank = hosted.bank();
        let best = [0usize, 2]
            .into_iter()
            .max_by(|&a, &b| {
                let info = |i: usize| bank.item(i).irt.information(0.4);
                info(a).total_cmp(&info(b))
            })
            .unwrap();
        assert_eq!(hosted.select(&request).unwrap() as usize, best);
        let outside = SelectRequest {
            candidates: vec![0, 4],
            ..request
        };
        let err = hosted
            .select(&outside)
            .expect_err("item 4 is not in the bank");
        assert!(err.message.contains("item 4"), "{}", err.message);
    }

    #[test]
    fn a_bad_item_is_named() {
        let mut config = selector_config(&bank(), &Settings::default());
        config.items[2].model = "4pl".into();
        let err = bank_from_config(&config).expect_err("unknown model");
        assert_eq!(err.violations[0].item, "q2");
    }
}
