//! Model fit: how well a calibrated item bank describes response data.
//!
//! * [`s_x2`] — item fit by Orlando & Thissen's S-X²: observed against
//!   model-implied category proportions within sum-score groups.
//! * [`infit_outfit`] — Rasch-style infit and outfit mean squares per item,
//!   with their Wilson–Hilferty standardisations, at given θ.
//! * [`person_lz`] / [`lz`] — person fit by the standardised log-likelihood
//!   l_z of Drasgow, Levine & Williams, at given θ.
//! * [`m2`] — global fit by Maydeu-Olivares & Joe's limited-information M2
//!   (and Cai & Hansen's collapsed M2*, Cai & Monroe's C2), with RMSEA and
//!   its interval, SRMSR, and CFI/TLI against the independence model.
//!
//! Conventions follow R's mirt (`itemfit`, `personfit`, `M2`) so that
//! results can be checked against it; `docs/irt.md` lists the published
//! values the tests reproduce and where our choices differ.

mod chisq;
mod collapse;
mod dense;
mod layout;
mod m2;
mod moments;
mod person;
mod rasch;
mod sumscore;
mod sx2;

pub use m2::{M2Fit, M2Options, Moments, m2};
pub use person::{lz, person_lz};
pub use rasch::{InfitOutfit, infit_outfit};
pub use sx2::{ItemSX2, SumScoreFit, SumScoreFitOptions, s_x2};

use crate::IrtError;
use crate::data::{MISSING, ResponseMatrix};
use crate::params::ItemBank;

/// The data must hold the bank's items in the bank's order, and every answer
/// must be a category of its item.
fn check_data(bank: &ItemBank, data: &ResponseMatrix) -> Result<(), IrtError> {
    crate::calibrate::check_same_items(bank, data)?;
    let n = bank.len();
    for (p, row) in data.cells().chunks_exact(n).enumerate() {
        for (item, &x) in bank.items().iter().zip(row) {
            if x != MISSING && usize::from(x) >= item.categories() {
                return Err(IrtError::Category {
                    person: p,
                    item: item.name().to_owned(),
                    value: x,
                    max: item.categories() - 1,
                });
            }
        }
    }
    Ok(())
}

/// One θ per person, in the data's order.
fn check_thetas(data: &ResponseMatrix, thetas: &[f64]) -> Result<(), IrtError> {
    if thetas.len() == data.persons() {
        Ok(())
    } else {
        Err(IrtError::Layout(format!(
            "{} θ values for {} persons",
            thetas.len(),
            data.persons()
        )))
    }
}
