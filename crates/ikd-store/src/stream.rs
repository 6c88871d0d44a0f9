//! Every result under a filter, read in one go for an export: [`crate::Store::stream_results`].
//!
//! Paging (`results_page`) asks the database for each page anew. Where the database has
//! cursors (PostgreSQL) an export instead declares one over the results (each row holds its
//! domains, see [`crate::result_row`]), read in submission order from the first row: the
//! database works at its own pace and the bounded channel holds it back when the client is
//! slower. Rows are decoded by column position; a provenance is read once per export, by its
//! key.
//! Elsewhere (SQLite, whose lookups are local) the export reads pages.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::sync::Arc;

use sqlx::{Database, QueryBuilder, Row};
use tokio::sync::mpsc;

use crate::backend::Backend;
use crate::error::{corrupt, db_err, to_u32};
use crate::filter::{Latest, push_latest_from};
use crate::result_row::parse_domains;
use crate::results::{Results, parse_flags};
use crate::{ResultFilter, StoreError, StoredResult, StreamDetail};

/// Results per batch sent (and per `FETCH` of results).
pub(crate) const STREAM_BATCH: u32 = 2000;

/// What the stream sends: a batch of results in `(submitted_at, session_id)` order, or the
/// failure that ended it.
pub(crate) type Batches = mpsc::Sender<Result<Vec<StoredResult>, StoreError>>;

/// The streaming read of [`crate::Store`]. A type only so that the sqlx bounds (see
/// [`crate::backend`]) are written once.
pub(crate) struct Stream<B>(PhantomData<B>);

impl<B: Backend> Stream<B>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> &'q str: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> String: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> Option<i64>: sqlx::Encode<'q, B::Db>,
    for<'q> f64: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> Option<f64>: sqlx::Encode<'q, B::Db>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, B::Db>,
    for<'q> &'q str: sqlx::ColumnIndex<<B::Db as Database>::Row>,
    usize: sqlx::ColumnIndex<<B::Db as Database>::Row>,
{
    /// Sends every result under `filter` to `out`, batch by batch, until the last (or a
    /// failure, sent as the last message, or `out` closing).
    pub(crate) async fn run(store: B, filter: ResultFilter, detail: StreamDetail, out: Batches) {
        let outcome = if B::CURSORS {
            Self::by_cursors(&store, &filter, detail, &out).await
        } else {
            Self::by_pages(&store, &filter, &out).await
        };
        if let Err(e) = outcome {
            let _ = out.send(Err(e)).await;
        }
    }

    async fn by_pages(store: &B, filter: &ResultFilter, out: &Batches) -> Result<(), StoreError> {
        let mut after = None;
        loop {
            let page = Results::page(store, filter, after.take(), STREAM_BATCH).await?;
            let full = page.len() == STREAM_BATCH as usize;
            after = page.last().map(StoredResult::cursor);
            if page.is_empty() || out.send(Ok(page)).await.is_err() || !full {
                return Ok(());
            }
        }
    }

    async fn by_cursors(
        store: &B,
        filter: &ResultFilter,
        detail: StreamDetail,
        out: &Batches,
    ) -> Result<(), StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!(
                    "exporting the results under org prefix '{}'",
                    filter.org_prefix
                ),
            )
        };
        let mut tx = store.read_tx().await.map_err(err())?;
        // A cursor's plan favours its first rows: for a whole export, the sessions in
        // submission order by their index, merged with the results read in the same order
        // by theirs (migration 0012; by key, each lookup cost half the database's work per
        // row), so rows flow from the first FETCH while the server and the client work on
        // them. Planned for
        // reading everything (hash join, then a sort) the database spends less per row but
        // sends nothing before it has sorted every row: 0.9 s at 200k results (where the
        // export is 15–20% slower for it), 33–39 s at 5M (where a scores-only export is
        // faster overall, 66k against 46k rows/s, and a full one the same). A proxy's read
        // timeout would cut a larger export before its first row (docs/server.md).
        // A whole export's estimated cost makes PostgreSQL compile the plan (JIT): 0.2–0.3 s
        // before the first row at 5M results, and no faster per row after.
        if let Some(setup) = B::EXPORT_SETUP {
            sqlx::query(setup).execute(&mut *tx).await.map_err(err())?;
        }
        let columns = match detail {
            StreamDetail::Full => STREAM_RESULT_COLUMNS,
            StreamDetail::Scores => STREAM_SCORE_COLUMNS,
        };
        let mut results = QueryBuilder::<B::Db>::new(format!(
            "DECLARE export_results NO SCROLL CURSOR FOR SELECT {columns}"
        ));
        push_latest_from(&mut results, Latest::InSubmissionOrder, filter);
        results.push(" ORDER BY s.submitted_at, s.id");
        B::execute(&mut tx, results).await.map_err(err())?;

        let fetch_results = format!("FETCH {STREAM_BATCH} FROM export_results");
        // Rows are turned into results by a task of their own, so that the database runs
        // the next FETCH meanwhile: done in turn, each waited for the other (a third of
        // the machine idle during a 1M export).
        let (fetched, to_decode) = mpsc::channel(1);
        tokio::spawn(decode::<B::Db>(to_decode, out.clone()));
        // Provenances by key: a scoring run's results share one, read once per export.
        let mut known: HashSet<String> = HashSet::new();
        loop {
            let rows: Vec<<B::Db as Database>::Row> = sqlx::query(&fetch_results)
                .fetch_all(&mut *tx)
                .await
                .map_err(err())?;
            if rows.is_empty() {
                break;
            }
            let full = rows.len() == STREAM_BATCH as usize;
            let mut provenances = Vec::new();
            for row in rows.iter().filter(|_| detail == StreamDetail::Full) {
                let id: String = row.try_get(PROVENANCE_COLUMN).map_err(err())?;
                if known.contains(&id) {
                    continue;
                }
                let json: Option<String> =
                    sqlx::query_scalar("SELECT json FROM provenances WHERE id = $1")
                        .bind(&id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err())?;
                let json = json.ok_or_else(|| {
                    let session: String = row.try_get(0).unwrap_or_default();
                    corrupt(format!(
                        "provenance '{id}' of session '{session}' is not stored"
                    ))
                })?;
                known.insert(id.clone());
                provenances.push((id, Arc::from(json)));
            }
            if fetched.send(Fetched { rows, provenances }).await.is_err() || !full {
                break;
            }
        }
        tx.commit().await.map_err(err())
    }
}

/// A FETCH's rows, with the provenances first referred to in them.
struct Fetched<R> {
    rows: Vec<R>,
    provenances: Vec<(String, Arc<str>)>,
}

/// Turns fetched rows into results and sends them on, until the fetching ends or `out`
/// closes; a row it cannot read ends the stream with that failure.
async fn decode<DB: Database>(mut fetched: mpsc::Receiver<Fetched<DB::Row>>, out: Batches)
where
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> i64: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> f64: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
{
    let mut provenances: HashMap<String, Arc<str>> = HashMap::new();
    while let Some(Fetched {
        rows,
        provenances: new,
    }) = fetched.recv().await
    {
        provenances.extend(new);
        let batch: Result<Vec<StoredResult>, StoreError> = rows
            .iter()
            .map(|row| {
                let (mut result, id) = stream_result(row)?;
                if id.is_empty() {
                    return Ok(result); // not read (`StreamDetail::Scores`)
                }
                result.provenance_json = provenances.get(&id).cloned().ok_or_else(|| {
                    corrupt(format!(
                        "provenance '{id}' of session '{}' is not stored",
                        result.session_id
                    ))
                })?;
                Ok(result)
            })
            .collect();
        drop(rows);
        let failed = batch.is_err();
        if out.send(batch).await.is_err() || failed {
            return;
        }
    }
}

/// The result columns of a stream, in the order [`stream_result`] reads them; the
/// provenance by its key (see [`Stream::by_cursors`]).
const STREAM_RESULT_COLUMNS: &str = "r.session_id, r.revision, s.instrument_id, \
     s.instrument_version, s.instrument_sha256, s.org_unit, s.respondent_key, s.submitted_at, \
     r.created_at, r.model, r.model_version, r.index_value, r.index_se, r.level, r.flags, \
     r.domains, r.provenance_id";

/// [`STREAM_RESULT_COLUMNS`] without what scores leave out (see [`StreamDetail::Scores`]):
/// typed empty values in their places, so that rows are read the same way. A third less
/// for the database to send per row, whose work bounds an export's rate.
const STREAM_SCORE_COLUMNS: &str = "r.session_id, r.revision, s.instrument_id, \
     s.instrument_version, CAST('' AS TEXT), s.org_unit, s.respondent_key, s.submitted_at, \
     CAST(0 AS BIGINT), r.model, r.model_version, r.index_value, r.index_se, r.level, r.flags, \
     r.domains, CAST('' AS TEXT)";

/// Where [`STREAM_RESULT_COLUMNS`] has the provenance key.
const PROVENANCE_COLUMN: usize = 16;

/// A result row of the stream's cursor (by column position: no lookup of the column names
/// for every row), with its provenance key and an empty provenance.
fn stream_result<R: Row>(row: &R) -> Result<(StoredResult, String), StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let db = |e| db_err(R::Database::NAME, "reading an exported result".to_owned())(e);
    let session_id: String = row.try_get(0).map_err(db)?;
    let revision: i64 = row.try_get(1).map_err(db)?;
    let flags: String = row.try_get(14).map_err(db)?;
    let flags = parse_flags(&flags, &session_id, revision)?;
    let domains: String = row.try_get(15).map_err(db)?;
    let domains = parse_domains(&domains, &session_id, revision)?;
    let result = StoredResult {
        revision: to_u32(revision, || format!("revision of session '{session_id}'"))?,
        instrument_id: row.try_get(2).map_err(db)?,
        instrument_version: row.try_get(3).map_err(db)?,
        instrument_sha256: row.try_get(4).map_err(db)?,
        org_unit: row.try_get(5).map_err(db)?,
        respondent_key: row.try_get(6).map_err(db)?,
        submitted_at: row.try_get(7).map_err(db)?,
        created_at: row.try_get(8).map_err(db)?,
        model: row.try_get(9).map_err(db)?,
        model_version: row.try_get(10).map_err(db)?,
        index: row.try_get(11).map_err(db)?,
        index_se: row.try_get(12).map_err(db)?,
        level: row.try_get(13).map_err(db)?,
        domains,
        flags,
        provenance_json: Arc::from(""),
        session_id,
    };
    Ok((result, row.try_get(PROVENANCE_COLUMN).map_err(db)?))
}
