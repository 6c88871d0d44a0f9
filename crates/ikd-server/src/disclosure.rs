//! What may be published, decided once for every caller: the units whose
//! figures are hidden and the instants a time window may start or end at, from
//! the results of the whole instrument — never from the caller's scope, or
//! figures from outside it could undo the decision (`ikd_core::disclosure`).
//! Aggregates and reports apply the same decision.

use crate::State;
use crate::access::instrument_results;
use crate::catalog::Entry;
use crate::errors;
use ikd_core::disclosure::{self, Hidden};
use tonic::Status;

impl State {
    /// The units whose figures must not be published, decided on the result
    /// counts of every unit of the instrument — the whole data set, whoever
    /// asks and whatever part of it they may see.
    pub(crate) async fn hidden_units(&self, entry: &Entry) -> Result<Hidden, Status> {
        let counts = self
            .store
            .unit_counts(&instrument_results(entry, String::new()))
            .await
            .map_err(errors::store)?;
        Ok(disclosure::hidden_units(
            counts.iter().map(|(u, n)| (u.as_str(), *n)),
            u64::from(self.min_group_size),
        ))
    }

    /// The instants an aggregate's time window may start or end at
    /// ([`Hidden::window_cuts`]), from the result counts per unit and day of
    /// the whole instrument (the store's per-day statistics: no result is read).
    pub(crate) async fn window_cuts(
        &self,
        entry: &Entry,
        hidden: &Hidden,
    ) -> Result<Vec<i64>, Status> {
        let counts = self
            .store
            .unit_day_counts(&instrument_results(entry, String::new()))
            .await
            .map_err(errors::store)?;
        Ok(hidden.window_cuts_by_day(counts.iter().map(|(u, day, n)| (u.as_str(), *day, *n))))
    }
}
