//! The bank a simulation runs on: an instrument's items with the `irt`
//! model's calibrated parameters (the PARAMS.csv its settings name, checked
//! against their sha256 pin), or a simulated bank.

use anyhow::{Result, bail};
use ikd_cat::Bank;
use ikd_cat::simulation::SimulatedBank;
use ikd_core::adaptive::irt_bank;
use ikd_core::instrument::Instrument;
use ikd_irt::Model;
use serde_json::{Value, json};

/// Where the bank came from, for the report.
pub struct Source {
    pub bank: Bank,
    pub description: Value,
    /// The `irt` model's `quadpts`, when it sets one.
    pub quadpts: Option<usize>,
    /// The `irt` model's scoring method, when it is not EAP.
    pub method: Option<String>,
    /// The settings an adaptive instrument declares (`[delivery.settings]`).
    pub declared: Option<ikd_cat::Settings>,
}

#[derive(clap::Args)]
pub struct BankArgs {
    /// Instrument (file, directory or bundled id) whose `irt` model parameters form the bank.
    #[arg(long, value_name = "PATH|ID", conflicts_with = "simulated_bank")]
    instrument: Option<String>,
    /// A simulated bank of N items instead (parameters drawn as in docs/adaptive.md).
    #[arg(long, value_name = "N", required_unless_present = "instrument")]
    simulated_bank: Option<usize>,
    /// Simulated bank: domains (the items are shared equally).
    #[arg(long, value_name = "D", default_value_t = 5)]
    domains: usize,
    /// Simulated bank: indicators per domain.
    #[arg(long, value_name = "I", default_value_t = 3)]
    indicators: usize,
    /// Simulated bank: item model, grm, gpcm or 2pl.
    #[arg(long, value_name = "MODEL", default_value = "grm")]
    bank_model: Model,
    /// Simulated bank: categories per item (2 for 2pl).
    #[arg(long, value_name = "K", default_value_t = 5)]
    categories: usize,
    /// Simulated bank: seed of the item parameters (default: --seed).
    #[arg(long, value_name = "S")]
    bank_seed: Option<u64>,
}

impl BankArgs {
    pub fn load(&self, seed: u64) -> Result<Source> {
        match (&self.instrument, self.simulated_bank) {
            (Some(reference), _) => from_instrument(&*crate::common::load_instrument(reference)?),
            (None, Some(items)) => {
                let shape = SimulatedBank {
                    items,
                    domains: self.domains,
                    indicators_per_domain: self.indicators,
                    model: self.bank_model,
                    categories: if self.bank_model == Model::TwoPl {
                        2
                    } else {
                        self.categories
                    },
                };
                let seed = self.bank_seed.unwrap_or(seed);
                Ok(Source {
                    bank: shape.generate(seed)?,
                    description: json!({
                        "source": "simulated",
                        "items": shape.items,
                        "domains": shape.domains,
                        "indicators_per_domain": shape.indicators_per_domain,
                        "model": shape.model.name(),
                        "categories": shape.categories,
                        "seed": seed,
                    }),
                    quadpts: None,
                    method: None,
                    declared: None,
                })
            }
            (None, None) => bail!("give --instrument or --simulated-bank"),
        }
    }
}

/// The instrument's bank (`ikd_core::adaptive::irt_bank`), described for the report.
fn from_instrument(instrument: &Instrument) -> Result<Source> {
    let source = irt_bank(instrument)?;
    Ok(Source {
        bank: source.bank,
        description: json!({
            "source": "instrument",
            "instrument": instrument.id,
            "instrument_version": instrument.version.to_string(),
            "params": source.params,
            "params_sha256": source.sha256,
        }),
        quadpts: source.quadpts,
        method: source.method,
        declared: instrument
            .delivery
            .adaptive()
            .map(|delivery| delivery.settings.clone()),
    })
}
