//! `ExportResults`: a data steward's per-person pseudonymous rows, streamed
//! page by page. Every export is in the audit log — `export.started` before
//! the first row (no record, no export) and `export.finished` with the rows sent.

use crate::State;
use crate::auth::Caller;
use crate::catalog::Entry;
use crate::errors;
use crate::records::record_of;
use crate::render::{render, timestamp};
use ikd_core::lang::Lang;
use ikd_proto::v1 as api;
use ikd_store::ResultFilter;
use std::sync::Arc;
use tokio::sync::mpsc;
use tonic::Status;

/// Results per store page when reading many (exports, time-window cuts).
pub(crate) const EXPORT_PAGE: u32 = 500;

/// Records the start, then streams every result under `filter` from a task
/// of its own; the receiver is the response stream.
pub(crate) async fn start(
    state: Arc<State>,
    caller: &Caller,
    filter: ResultFilter,
    entry: Arc<Entry>,
    lang: Lang,
) -> Result<mpsc::Receiver<Result<api::ExportedResult, Status>>, Status> {
    let export = ExportAudit::new(caller, &filter);
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
        let complete = stream_export(&state, &filter, &entry, lang, &tx, &mut rows).await;
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

/// Sends every result under `filter`, page by page, counting the rows sent;
/// `true` when the stream ended because everything was sent.
async fn stream_export(
    state: &State,
    filter: &ResultFilter,
    entry: &Entry,
    lang: Lang,
    tx: &mpsc::Sender<Result<api::ExportedResult, Status>>,
    rows: &mut u64,
) -> bool {
    let mut after = None;
    loop {
        let page = match state
            .store
            .results_page(filter, after.take(), EXPORT_PAGE)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                let _ = tx.send(Err(errors::store(e))).await;
                return false;
            }
        };
        let Some(last) = page.last() else {
            return true;
        };
        after = Some((last.submitted_at, last.session_id.clone()));
        let full = page.len() as u32 == EXPORT_PAGE;
        for stored in page {
            let scorer = match state
                .catalog
                .find(&stored.instrument_id, &stored.instrument_version)
            {
                Ok(e) => e.scorer.clone(),
                Err(_) => entry.scorer.clone(),
            };
            let (record, provenance) = record_of(&stored, &scorer);
            let exported = api::ExportedResult {
                result: Some(render(&scorer, &record, provenance.as_ref(), lang, true)),
                session_id: stored.session_id,
                org_unit: stored.org_unit,
                respondent_pseudonym: stored.respondent_key,
                revision: stored.revision,
                submitted_at: Some(timestamp(stored.submitted_at)),
            };
            if tx.send(Ok(exported)).await.is_err() {
                return false; // the client went away
            }
            *rows += 1;
        }
        if !full {
            return true;
        }
    }
}
