//! `ExportResults`: a data steward's per-person pseudonymous rows, streamed
//! as the store reads them ([`ikd_store::Store::stream_results`]). Every export is in the audit log — `export.started` before
//! the first row (no record, no export) and `export.finished` with the rows sent.

use crate::State;
use crate::auth::Caller;
use crate::catalog::Entry;
use crate::errors;
use crate::records::{provenance, record};
use crate::render::{render, timestamp};
use ikd_core::lang::Lang;
use ikd_core::results::Provenance;
use ikd_proto::v1 as api;
use ikd_store::ResultFilter;
use std::sync::Arc;
use tokio::sync::mpsc;
use tonic::Status;

/// What an export sends: the results under `filter`, rendered in `lang`, with feedback and
/// provenance when `full`.
pub(crate) struct Export {
    pub filter: ResultFilter,
    pub entry: Arc<Entry>,
    pub lang: Lang,
    pub full: bool,
}

/// Records the start, then streams every result of `what` from a task of its own; the
/// receiver is the response stream.
pub(crate) async fn start(
    state: Arc<State>,
    caller: &Caller,
    what: Export,
) -> Result<mpsc::Receiver<Result<api::ExportedResult, Status>>, Status> {
    let export = ExportAudit::new(caller, &what.filter);
    export
        .record(&state, "export.started", None)
        .await
        .map_err(|e| {
            tracing::error!("audit log: {e}");
            Status::unavailable("the export could not be recorded in the audit log")
        })?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut rows = 0u64;
        let complete = stream_export(&state, &what, &tx, &mut rows).await;
        if let Err(e) = export
            .record(&state, "export.finished", Some((rows, complete)))
            .await
        {
            tracing::error!("audit log: {e}");
        }
    });
    Ok(rx)
}

/// An export as the audit log records it: who, which instrument and prefix,
/// which window; then how many rows went out.
struct ExportAudit {
    actor: String,
    instrument: String,
    prefix: String,
    from: Option<i64>,
    to: Option<i64>,
}

impl ExportAudit {
    fn new(caller: &Caller, filter: &ResultFilter) -> Self {
        ExportAudit {
            actor: caller.name.clone(),
            instrument: filter.instrument_id.clone().unwrap_or_default(),
            prefix: filter.org_prefix.clone(),
            from: filter.from,
            to: filter.to,
        }
    }

    /// Appends `action` with structured fields (never free text); `finished`
    /// is (rows sent, stream complete).
    async fn record(
        &self,
        state: &State,
        action: &str,
        finished: Option<(u64, bool)>,
    ) -> Result<(), ikd_store::StoreError> {
        let mut detail = serde_json::json!({
            "instrument": self.instrument,
            "prefix": self.prefix,
            "from": self.from,
            "to": self.to,
        });
        if let Some((rows, complete)) = finished {
            detail["rows"] = rows.into();
            detail["complete"] = complete.into();
        }
        state
            .audit(&self.actor, action, &self.instrument, detail)
            .await
    }
}

/// Sends every result under the export's filter, counting the rows sent; `true` when the
/// stream ended because everything was sent. The store reads them by a task of its own
/// ([`ikd_store::Store::stream_results`]) while the previous batch is rendered; each
/// distinct provenance (the results of one scoring run share it) is parsed once.
async fn stream_export(
    state: &Arc<State>,
    what: &Export,
    tx: &mpsc::Sender<Result<api::ExportedResult, Status>>,
    rows: &mut u64,
) -> bool {
    let mut pages = state.store.stream_results(what.filter.clone());
    let mut provenances = ProvenanceCache::default();
    let mut complete = true;
    while let Some(page) = pages.recv().await {
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                let _ = tx.send(Err(errors::store(e))).await;
                complete = false;
                break;
            }
        };
        for stored in page {
            let scorer = match state
                .catalog
                .find(&stored.instrument_id, &stored.instrument_version)
            {
                Ok(e) => e.scorer.clone(),
                Err(_) => what.entry.scorer.clone(),
            };
            let record = record(&stored, &scorer);
            let provenance = if what.full {
                provenances.get(&stored.provenance_json)
            } else {
                None
            };
            let exported = api::ExportedResult {
                result: Some(render(&scorer, &record, provenance, what.lang, what.full)),
                session_id: stored.session_id,
                org_unit: stored.org_unit,
                respondent_pseudonym: stored.respondent_key,
                revision: stored.revision,
                submitted_at: Some(timestamp(stored.submitted_at)),
            };
            if tx.send(Ok(exported)).await.is_err() {
                return false; // the client went away (dropping `pages` ends the read)
            }
            *rows += 1;
        }
    }
    complete
}

/// The parsed provenance of the last distinct provenance JSON seen: an export's results come
/// in runs that share one (every result of a scoring run has the same).
#[derive(Default)]
struct ProvenanceCache {
    json: String,
    parsed: Option<Provenance>,
}

impl ProvenanceCache {
    fn get(&mut self, json: &str) -> Option<&Provenance> {
        if self.json != json {
            self.parsed = provenance(json);
            json.clone_into(&mut self.json);
        }
        self.parsed.as_ref()
    }
}
