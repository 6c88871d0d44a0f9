//! Instruments: the TOML model, its loader and its validator.
//!
//! [`load`] reads and validates a file on its own; [`check_plugins`] adds the
//! checks that need the loaded plugins (a domain's plugin and its version, the
//! kinds it owns, the scoring model). Both report every problem they find, each
//! naming the file, the line and column where known, and the item or field.

mod checks;
mod delivery;
mod domains;
mod findings;
mod items;
mod levels;
mod load;
mod locate;
mod model;
mod plugins;
mod raw;
mod scales;
mod sections;
mod spans;
mod subjects;
mod validate;
mod values;

#[cfg(test)]
mod tests;

pub use delivery::ADAPTIVE_MODEL;
pub use load::{load, load_str};
pub use model::*;
pub use plugins::{PluginFacts, PluginRole, check_plugins};

use std::fmt;
use std::path::{Path, PathBuf};

/// Longest item id: ids are CSV column names and gRPC field names, and a
/// server refuses longer ones in requests before looking them up or echoing
/// them (so no instrument may need one).
pub const MAX_ITEM_ID: usize = 64;

/// One problem found in an instrument.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub location: Option<Location>,
    /// What is at fault, e.g. `item 'LD03'`, `domain 'budaya-data'`, `levels[2]`.
    pub subject: String,
    /// The field at fault, e.g. `key`, `weight`; empty when the whole subject is at fault.
    pub field: String,
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic about `subject`'s `field` (either may be empty).
    pub fn new(
        file: &Path,
        location: Option<Location>,
        subject: &str,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_path_buf(),
            location,
            subject: subject.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(loc) = self.location {
            write!(f, ":{}:{}", loc.line, loc.column)?;
        }
        f.write_str(": ")?;
        if !self.subject.is_empty() {
            write!(f, "{}", self.subject)?;
            if !self.field.is_empty() {
                write!(f, ", field '{}'", self.field)?;
            }
            f.write_str(": ")?;
        } else if !self.field.is_empty() {
            write!(f, "field '{}': ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in one instrument file.
#[derive(Clone, Debug, thiserror::Error)]
pub struct InstrumentError {
    pub file: PathBuf,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} error(s) in the instrument",
            self.file.display(),
            self.diagnostics.len()
        )?;
        for d in &self.diagnostics {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}
