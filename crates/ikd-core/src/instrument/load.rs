//! Reading `instrument.toml`: parse, then validate, reporting every problem.

use super::findings::Findings;
use super::raw::RawDocument;
use super::validate::validate;
use super::{Diagnostic, Instrument, InstrumentError};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Reads and validates an instrument file.
pub fn load(path: &Path) -> Result<Instrument, InstrumentError> {
    let text = std::fs::read_to_string(path).map_err(|error| InstrumentError {
        file: path.to_path_buf(),
        diagnostics: vec![Diagnostic::new(
            path,
            None,
            "",
            "",
            format!("cannot read the instrument file: {error}"),
        )],
    })?;
    load_str(&text, path)
}

/// Parses and validates instrument text; `source` names the file in errors.
///
/// The sha256 is taken over the exact bytes, so it identifies the instrument
/// in every result's provenance.
pub fn load_str(text: &str, source: &Path) -> Result<Instrument, InstrumentError> {
    let mut findings = Findings::new(text, source);
    let raw: RawDocument = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            findings.report_toml_error(&error);
            return Err(findings.into_error());
        }
    };
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let instrument = validate(&mut findings, &raw, sha256, source);
    findings.into_result(instrument)
}
