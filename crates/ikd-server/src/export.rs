//! `ExportResults`: a data steward's per-person pseudonymous rows, streamed
//! as the store reads them ([`ikd_store::Store::stream_results`]). Every export is in the audit log — `export.started` before
//! the first row (no record, no export) and `export.finished` with the rows sent.

use crate::State;
use crate::auth::Caller;
use crate::catalog::Entry;
use crate::errors;
use crate::records::{provenance, take_record};
use crate::render::{render, timestamp};
use ikd_core::lang::Lang;
use ikd_core::pipeline::Scorer;
use ikd_core::results::Provenance;
use ikd_proto::v1 as api;
use ikd_store::{ResultFilter, StoredResult};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::sync::mpsc;
use tonic::Status;

/// Rows per message of the channel between the export's task and the response stream: the
/// task renders a chunk, the response takes its rows one by one (tonic encodes as many as
/// are ready into one write), so the handover costs once per chunk, not once per row.
const CHUNK: usize = 500;

/// Chunks the channel holds: what a slow client lets the server hold rendered, besides
/// the store's own batches ([`ikd_store::Store::stream_results`]).
const CHUNKS_AHEAD: usize = 4;

/// A chunk of rendered rows, or the failure that ended the export.
type Chunk = Result<Vec<api::ExportedResult>, Status>;

/// The response stream of an export (`ExportResults`): the rows of the chunks its task
/// sends, in order.
pub struct Rows {
    chunks: mpsc::Receiver<Chunk>,
    chunk: std::vec::IntoIter<api::ExportedResult>,
}

impl tokio_stream::Stream for Rows {
    type Item = Result<api::ExportedResult, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(row) = self.chunk.next() {
                return Poll::Ready(Some(Ok(row)));
            }
            match ready!(self.chunks.poll_recv(cx)) {
                Some(Ok(chunk)) => self.chunk = chunk.into_iter(),
                Some(Err(status)) => return Poll::Ready(Some(Err(status))),
                None => return Poll::Ready(None),
            }
        }
    }
}

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
) -> Result<Rows, Status> {
    let export = ExportAudit::new(caller, &what.filter);
    export
        .record(&state, "export.started", None)
        .await
        .map_err(|e| {
            tracing::error!("audit log: {e}");
            Status::unavailable("the export could not be recorded in the audit log")
        })?;
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
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
    Ok(Rows {
        chunks: rx,
        chunk: Vec::new().into_iter(),
    })
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
/// distinct provenance (the results of one scoring run share it) is parsed once, and the
/// scorer of the last instrument version seen is looked up once.
async fn stream_export(
    state: &Arc<State>,
    what: &Export,
    tx: &mpsc::Sender<Chunk>,
    rows: &mut u64,
) -> bool {
    let mut pages = state.store.stream_results(what.filter.clone());
    let mut provenances = ProvenanceCache::default();
    let mut scorers = ScorerCache::default();
    while let Some(page) = pages.recv().await {
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                let _ = tx.send(Err(errors::store(e))).await;
                return false;
            }
        };
        let mut page = page.into_iter().peekable();
        while page.peek().is_some() {
            let chunk: Vec<api::ExportedResult> = page
                .by_ref()
                .take(CHUNK)
                .map(|stored| exported(state, what, &mut scorers, &mut provenances, stored))
                .collect();
            let sent = chunk.len() as u64;
            if tx.send(Ok(chunk)).await.is_err() {
                return false; // the client went away (dropping `pages` ends the read)
            }
            *rows += sent;
        }
    }
    true
}

/// One stored result as an export row.
fn exported(
    state: &State,
    what: &Export,
    scorers: &mut ScorerCache,
    provenances: &mut ProvenanceCache,
    mut stored: StoredResult,
) -> api::ExportedResult {
    let scorer = scorers.get(state, what, &stored);
    // Feedback only where it is sent (`render` leaves it out of scores-only rows).
    let record = take_record(&mut stored, scorer, what.full);
    let provenance = if what.full {
        provenances.get(&stored.provenance_json)
    } else {
        None
    };
    api::ExportedResult {
        result: Some(render(scorer, record, provenance, what.lang, what.full)),
        session_id: stored.session_id,
        org_unit: stored.org_unit,
        respondent_pseudonym: stored.respondent_key,
        revision: stored.revision,
        submitted_at: Some(timestamp(stored.submitted_at)),
    }
}

/// The scorer of the last instrument id and version seen (an export's results are mostly of
/// one): the catalogue's, or the export's own instrument's when the catalogue has no longer
/// got that version.
#[derive(Default)]
struct ScorerCache {
    key: Option<(String, String)>,
    scorer: Option<Arc<Scorer>>,
}

impl ScorerCache {
    fn get(&mut self, state: &State, what: &Export, stored: &StoredResult) -> &Scorer {
        let same = self.key.as_ref().is_some_and(|(id, version)| {
            *id == stored.instrument_id && *version == stored.instrument_version
        });
        if !same || self.scorer.is_none() {
            let scorer = match state
                .catalog
                .find(&stored.instrument_id, &stored.instrument_version)
            {
                Ok(e) => e.scorer.clone(),
                Err(_) => what.entry.scorer.clone(),
            };
            self.key = Some((
                stored.instrument_id.clone(),
                stored.instrument_version.clone(),
            ));
            self.scorer = Some(scorer);
        }
        self.scorer.as_deref().expect("set above")
    }
}

/// The parsed provenance of the last distinct provenance JSON seen: an export's results come
/// in runs that share one (every result of a scoring run has the same, and the store hands
/// out one shared copy of it, so the usual check is a pointer comparison).
#[derive(Default)]
struct ProvenanceCache {
    json: Option<Arc<str>>,
    parsed: Option<Provenance>,
}

impl ProvenanceCache {
    fn get(&mut self, json: &Arc<str>) -> Option<&Provenance> {
        let same = self
            .json
            .as_ref()
            .is_some_and(|seen| Arc::ptr_eq(seen, json) || seen == json);
        if !same {
            self.parsed = provenance(json);
            self.json = Some(Arc::clone(json));
        }
        self.parsed.as_ref()
    }
}
