//! The bank a simulation runs on: an instrument's items with the `irt`
//! model's calibrated parameters (the PARAMS.csv its settings name, checked
//! against their sha256 pin), or a simulated bank.

use anyhow::{Context, Result, bail};
use ikd_cat::Bank;
use ikd_cat::simulation::SimulatedBank;
use ikd_core::instrument::Instrument;
use ikd_irt::{ItemBank, Model};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Where the bank came from, for the report.
pub struct Source {
    pub bank: Bank,
    pub description: Value,
    /// The `irt` model's `quadpts`, when it sets one.
    pub quadpts: Option<usize>,
    /// The `irt` model's scoring method, when it is not EAP.
    pub method: Option<String>,
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
                })
            }
            (None, None) => bail!("give --instrument or --simulated-bank"),
        }
    }
}

/// The instrument's items in instrument order with the `irt` model's
/// parameters: the model's own settings when it is the instrument's model,
/// else `[scoring.alternatives.irt]`.
fn from_instrument(instrument: &Instrument) -> Result<Source> {
    let settings = if instrument.scoring.model == "irt" {
        &instrument.scoring.settings
    } else {
        instrument
            .scoring
            .alternatives
            .get("irt")
            .unwrap_or(&Value::Null)
    };
    let Some(params) = settings.get("params").and_then(Value::as_str) else {
        bail!(
            "instrument '{}' has no IRT item parameters: an adaptive test needs the `irt` \
             model's PARAMS.csv ([scoring.alternatives.irt] params = \"…\", from `ikd calibrate`)",
            instrument.id
        );
    };
    let dir = instrument.source.parent().unwrap_or(Path::new("."));
    let path = dir.join(params);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if let Some(pinned) = settings.get("params_sha256").and_then(Value::as_str)
        && !pinned.eq_ignore_ascii_case(&sha256)
    {
        bail!(
            "{} has sha256 {sha256}, but the instrument pins {pinned}",
            path.display()
        );
    }
    let parameters = ItemBank::read_csv(bytes.as_slice())
        .with_context(|| format!("reading {}", path.display()))?;
    let layout = instrument
        .items
        .iter()
        .map(|i| (i.id.as_str(), i.domain.as_str(), i.indicator.as_str()));
    let bank = Bank::from_parameters(layout, &parameters)
        .with_context(|| format!("instrument '{}' with {}", instrument.id, path.display()))?;
    Ok(Source {
        bank,
        description: json!({
            "source": "instrument",
            "instrument": instrument.id,
            "instrument_version": instrument.version.to_string(),
            "params": params,
            "params_sha256": sha256,
        }),
        quadpts: settings
            .get("quadpts")
            .and_then(Value::as_u64)
            .map(|q| q as usize),
        method: settings
            .get("method")
            .and_then(Value::as_str)
            .filter(|m| !m.eq_ignore_ascii_case("eap"))
            .map(str::to_owned),
    })
}
