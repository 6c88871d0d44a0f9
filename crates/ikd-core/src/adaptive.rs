//! An instrument as an adaptive test: its items with the `irt` model's calibrated
//! parameters (the PARAMS.csv its settings name, checked against their sha256 pin) form the
//! bank, and `[delivery.settings]` the stopping rule and content limits. `ikd cat simulate`
//! and the server's adaptive sessions build their tests here, so both run the test the
//! instrument declares.

use crate::instrument::{ADAPTIVE_MODEL, AdaptiveDelivery, Instrument};
use ikd_cat::{AdaptiveTest, Bank};
use ikd_irt::ItemBank;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Why an instrument cannot be run as an adaptive test; names the instrument and file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AdaptiveSetupError(String);

/// The `irt` model's item parameters for an instrument, as a bank.
#[derive(Debug)]
pub struct IrtBank {
    pub bank: Bank,
    /// The PARAMS.csv as the settings name it, and where it was read.
    pub params: String,
    pub path: PathBuf,
    pub sha256: String,
    /// The model's `quadpts`, when it sets one.
    pub quadpts: Option<usize>,
    /// The model's scoring method, when it is not EAP.
    pub method: Option<String>,
}

/// The instrument's items in instrument order with the `irt` model's parameters: the
/// model's own settings when it is the instrument's model, else
/// `[scoring.alternatives.irt]`.
pub fn irt_bank(instrument: &Instrument) -> Result<IrtBank, AdaptiveSetupError> {
    let settings = if instrument.scoring.model == ADAPTIVE_MODEL {
        &instrument.scoring.settings
    } else {
        instrument
            .scoring
            .alternatives
            .get(ADAPTIVE_MODEL)
            .unwrap_or(&Value::Null)
    };
    let Some(params) = settings.get("params").and_then(Value::as_str) else {
        return Err(AdaptiveSetupError(format!(
            "instrument '{}' has no IRT item parameters: an adaptive test needs the `irt` \
             model's PARAMS.csv (params = \"…\" in its settings, from `ikd calibrate`)",
            instrument.id
        )));
    };
    let dir = instrument.source.parent().unwrap_or(Path::new("."));
    let path = dir.join(params);
    let fail = |message: String| AdaptiveSetupError(format!("{}: {message}", path.display()));
    let bytes = std::fs::read(&path).map_err(|e| fail(e.to_string()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if let Some(pinned) = settings.get("params_sha256").and_then(Value::as_str)
        && !pinned.eq_ignore_ascii_case(&sha256)
    {
        return Err(fail(format!(
            "has sha256 {sha256}, but the instrument pins {pinned}"
        )));
    }
    let parameters = ItemBank::read_csv(bytes.as_slice()).map_err(|e| fail(e.to_string()))?;
    let layout = instrument
        .items
        .iter()
        .map(|i| (i.id.as_str(), i.domain.as_str(), i.indicator.as_str()));
    let bank = Bank::from_parameters(layout, &parameters)
        .map_err(|e| fail(format!("instrument '{}': {e}", instrument.id)))?;
    Ok(IrtBank {
        bank,
        params: params.to_owned(),
        sha256,
        quadpts: settings
            .get("quadpts")
            .and_then(Value::as_u64)
            .map(|q| q as usize),
        method: settings
            .get("method")
            .and_then(Value::as_str)
            .filter(|m| !m.eq_ignore_ascii_case("eap"))
            .map(str::to_owned),
        path,
    })
}

/// The adaptive test `delivery` declares for `instrument`. The θ and SE that steer and
/// stop it must be the ones the `irt` model reports, so the model must score by EAP on the
/// test's grid.
pub fn adaptive_test(
    instrument: &Instrument,
    delivery: &AdaptiveDelivery,
) -> Result<AdaptiveTest, AdaptiveSetupError> {
    let source = irt_bank(instrument)?;
    if let Some(method) = &source.method {
        return Err(AdaptiveSetupError(format!(
            "instrument '{}': the `irt` model scores by '{method}', but an adaptive test \
             steers and stops by EAP: set method = \"eap\"",
            instrument.id
        )));
    }
    let quadpts = delivery.settings.quadpts;
    if let Some(model) = source.quadpts
        && model != quadpts
    {
        return Err(AdaptiveSetupError(format!(
            "instrument '{}': [delivery.settings] quadpts = {quadpts}, but the `irt` model \
             uses {model}: θ and SE during the test would differ from the reported ones",
            instrument.id
        )));
    }
    AdaptiveTest::new(source.bank, delivery.settings.clone()).map_err(|e| {
        AdaptiveSetupError(format!(
            "{}: [delivery.settings] do not fit the item bank: {e}",
            instrument.source.display()
        ))
    })
}
