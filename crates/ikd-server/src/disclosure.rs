//! What may be published, decided once for every caller: the units whose
//! figures are hidden and the instants a time window may start or end at, from
//! the results of the whole instrument — never from the caller's scope, or
//! figures from outside it could undo the decision (`ikd_core::disclosure`).
//! Aggregates and reports apply the same decision.

use crate::State;
use crate::access::instrument_results;
use crate::catalog::Entry;
use crate::errors;
use crate::export::EXPORT_PAGE;
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
    /// ([`Hidden::window_cuts`]), from the submission time of every result of
    /// the instrument. Reads every result: only windowed aggregates pay for it.
    pub(crate) async fn window_cuts(
        &self,
        entry: &Entry,
        hidden: &Hidden,
    ) -> Result<Vec<i64>, Status> {
        let filter = instrument_results(entry, String::new());
        let mut results: Vec<(String, i64)> = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .results_page(&filter, after.take(), EXPORT_PAGE)
                .await
                .map_err(errors::store)?;
            let full = page.len() as u32 == EXPORT_PAGE;
            if let Some(last) = page.last() {
                after = Some((last.submitted_at, last.session_id.clone()));
            }
            results.extend(page.into_iter().map(|r| (r.org_unit, r.submitted_at)));
            if !full {
                break;
            }
        }
        Ok(hidden.window_cuts(results.iter().map(|(u, at)| (u.as_str(), *at))))
    }
}
