//! `ExportResults` and `ExportTable`: a data steward's per-person pseudonymous rows, streamed
//! as the store reads them ([`ikd_store::Store::stream_results`]), as nested messages or as
//! CSV lines ([`crate::table`]). Every export is in the audit log — `export.started` before
//! the first row (no record, no export) and `export.finished` with the rows sent.

use crate::State;
use crate::auth::Caller;
use crate::catalog::Entry;
use crate::errors;
use crate::records::{provenance, take_record};
use crate::render::{render, timestamp};
use crate::table::Table;
use ikd_core::lang::Lang;
use ikd_core::pipeline::Scorer;
use ikd_core::results::Provenance;
use ikd_proto::v1 as api;
use ikd_store::{ResultFilter, StoredResult, StreamDetail};
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
type Sent<C> = Result<C, Status>;

/// How an export turns stored results into what it sends.
pub(crate) trait Render: Send + 'static {
    /// What one message of the channel holds.
    type Chunk: Send + 'static;
    /// What goes before the first row (a table's header), if anything.
    fn opening(&mut self) -> Result<Option<Self::Chunk>, Status> {
        Ok(None)
    }
    /// What it needs the store to read of each result.
    fn detail(&self) -> StreamDetail;
    /// `rows` (at most [`CHUNK`]) as one chunk.
    fn chunk(
        &mut self,
        state: &State,
        rows: impl Iterator<Item = StoredResult>,
    ) -> Result<Self::Chunk, Status>;
}

/// The response stream of `ExportResults`: the rows of the chunks its task sends, in order.
pub struct Rows {
    chunks: mpsc::Receiver<Sent<Vec<api::ExportedResult>>>,
    chunk: std::vec::IntoIter<api::ExportedResult>,
}

impl Rows {
    pub(crate) fn new(chunks: mpsc::Receiver<Sent<Vec<api::ExportedResult>>>) -> Self {
        Rows {
            chunks,
            chunk: Vec::new().into_iter(),
        }
    }
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

/// The response stream of `ExportTable`: the CSV chunks as its task writes them.
pub type TableChunks = tokio_stream::wrappers::ReceiverStream<Sent<api::TableChunk>>;

/// `ExportResults`' rendering: each result as `GetResult` renders it, in `lang`, with
/// feedback and provenance when `full`.
pub(crate) struct Export {
    pub entry: Arc<Entry>,
    pub lang: Lang,
    pub full: bool,
    scorers: ScorerCache,
    provenances: ProvenanceCache,
}

impl Export {
    pub(crate) fn new(entry: Arc<Entry>, lang: Lang, full: bool) -> Self {
        Export {
            entry,
            lang,
            full,
            scorers: ScorerCache::default(),
            provenances: ProvenanceCache::default(),
        }
    }
}

impl Render for Export {
    type Chunk = Vec<api::ExportedResult>;

    fn detail(&self) -> StreamDetail {
        if self.full {
            StreamDetail::Full
        } else {
            StreamDetail::Scores
        }
    }

    fn chunk(
        &mut self,
        state: &State,
        rows: impl Iterator<Item = StoredResult>,
    ) -> Result<Self::Chunk, Status> {
        Ok(rows.map(|stored| self.exported(state, stored)).collect())
    }
}

/// `ExportTable`'s rendering: CSV lines, the header first.
pub(crate) struct TableExport {
    table: Table,
}

impl TableExport {
    pub(crate) fn new(state: &State, entry: &Entry) -> Self {
        TableExport {
            table: Table::new(&state.catalog, entry),
        }
    }
}

impl Render for TableExport {
    type Chunk = api::TableChunk;

    fn detail(&self) -> StreamDetail {
        StreamDetail::Scores
    }

    fn opening(&mut self) -> Result<Option<Self::Chunk>, Status> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        self.table.header(&mut csv)?;
        Ok(Some(api::TableChunk {
            csv: finished(csv)?,
            rows: 0,
        }))
    }

    fn chunk(
        &mut self,
        _: &State,
        rows: impl Iterator<Item = StoredResult>,
    ) -> Result<Self::Chunk, Status> {
        let mut csv = csv::Writer::from_writer(Vec::with_capacity(CHUNK * 256));
        let mut n = 0;
        for row in rows {
            self.table.row(&row, &mut csv)?;
            n += 1;
        }
        Ok(api::TableChunk {
            csv: finished(csv)?,
            rows: n,
        })
    }
}

/// The bytes a CSV writer holds.
fn finished(csv: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, Status> {
    csv.into_inner()
        .map_err(|e| Status::internal(format!("writing CSV lines: {e}")))
}

/// Records the start, then streams every result under `filter` from a task of its own,
/// rendered by `render`; the receiver is the response stream's.
pub(crate) async fn start<R: Render>(
    state: Arc<State>,
    caller: &Caller,
    filter: ResultFilter,
    format: &'static str,
    mut render: R,
) -> Result<mpsc::Receiver<Sent<R::Chunk>>, Status> {
    let export = ExportAudit::new(caller, &filter, format);
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
        let complete = stream_export(&state, filter, &mut render, &tx, &mut rows).await;
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
    /// `rows` (`ExportResults`) or `csv` (`ExportTable`).
    format: &'static str,
}

impl ExportAudit {
    fn new(caller: &Caller, filter: &ResultFilter, format: &'static str) -> Self {
        ExportAudit {
            format,
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
            "format": self.format,
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

/// Sends every result under `filter`, counting the rows sent; `true` when the stream ended
/// because everything was sent. The store reads them by a task of its own
/// ([`ikd_store::Store::stream_results`]) while the previous batch is rendered.
async fn stream_export<R: Render>(
    state: &Arc<State>,
    filter: ResultFilter,
    render: &mut R,
    tx: &mpsc::Sender<Sent<R::Chunk>>,
    rows: &mut u64,
) -> bool {
    match render.opening() {
        Ok(Some(opening)) => {
            if tx.send(Ok(opening)).await.is_err() {
                return false;
            }
        }
        Ok(None) => {}
        Err(e) => return refuse(tx, e).await,
    }
    let mut pages = state.store.stream_results(filter, render.detail());
    while let Some(page) = pages.recv().await {
        let page = match page {
            Ok(page) => page,
            Err(e) => return refuse(tx, errors::store(e)).await,
        };
        let mut page = page.into_iter().peekable();
        while page.peek().is_some() {
            let before = page.len();
            let chunk = match render.chunk(state, page.by_ref().take(CHUNK)) {
                Ok(chunk) => chunk,
                Err(e) => return refuse(tx, e).await,
            };
            if tx.send(Ok(chunk)).await.is_err() {
                return false; // the client went away (dropping `pages` ends the read)
            }
            *rows += (before - page.len()) as u64;
        }
    }
    true
}

/// Ends the stream with `status`; the export is not complete.
async fn refuse<C>(tx: &mpsc::Sender<Sent<C>>, status: Status) -> bool {
    let _ = tx.send(Err(status)).await;
    false
}

impl Export {
    /// One stored result as an export row; each distinct provenance (the results of one
    /// scoring run share it) is parsed once, and the scorer of the last instrument version
    /// seen is looked up once.
    fn exported(&mut self, state: &State, mut stored: StoredResult) -> api::ExportedResult {
        let scorer = self.scorers.get(state, &self.entry, &stored);
        // Feedback only where it is sent (`render` leaves it out of scores-only rows).
        let record = take_record(&mut stored, scorer, self.full);
        let provenance = if self.full {
            self.provenances.get(&stored.provenance_json)
        } else {
            None
        };
        api::ExportedResult {
            result: Some(render(scorer, record, provenance, self.lang, self.full)),
            session_id: stored.session_id,
            org_unit: stored.org_unit,
            respondent_pseudonym: stored.respondent_key,
            revision: stored.revision,
            submitted_at: Some(timestamp(stored.submitted_at)),
        }
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
    fn get(&mut self, state: &State, export: &Entry, stored: &StoredResult) -> &Scorer {
        let same = self.key.as_ref().is_some_and(|(id, version)| {
            *id == stored.instrument_id && *version == stored.instrument_version
        });
        if !same || self.scorer.is_none() {
            let scorer = match state
                .catalog
                .find(&stored.instrument_id, &stored.instrument_version)
            {
                Ok(e) => e.scorer.clone(),
                Err(_) => export.scorer.clone(),
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
