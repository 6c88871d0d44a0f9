//! Every result under a filter, read in one go for an export: [`crate::Store::stream_results`].
//!
//! Paging (`results_page`) asks the database for each page anew, and each page finds its
//! results and their domains by key, one lookup at a time. Where the database has cursors
//! (PostgreSQL) an export instead declares two — the results, and their domains in the same
//! order — in one read-only snapshot, with plans made for reading everything (hash joins
//! and one sort rather than index lookups), and fetches from both in step: the database
//! works at its own pace and the bounded channel holds it back when the client is slower.
//! Elsewhere (SQLite, whose lookups are local) the export reads pages.

use std::collections::VecDeque;
use std::marker::PhantomData;

use sqlx::{Database, QueryBuilder};
use tokio::sync::mpsc;

use crate::backend::Backend;
use crate::error::db_err;
use crate::filter::{Latest, push_latest_from};
use crate::results::{
    DOMAIN_COLUMNS, DomainRow, RESULT_COLUMNS, ResultRow, Results, assemble_results,
};
use crate::{ResultFilter, StoreError, StoredResult};

/// Results per batch sent (and per `FETCH` of results).
pub(crate) const STREAM_BATCH: u32 = 2000;

/// What the stream sends: a batch of results in `(submitted_at, session_id)` order, or the
/// failure that ended it.
pub(crate) type Batches = mpsc::Sender<Result<Vec<StoredResult>, StoreError>>;

#[derive(sqlx::FromRow)]
struct StreamedDomain {
    #[sqlx(flatten)]
    domain: DomainRow,
    submitted_at: i64,
}

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
    pub(crate) async fn run(store: B, filter: ResultFilter, out: Batches) {
        let outcome = if B::CURSORS {
            Self::by_cursors(&store, &filter, &out).await
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
            let mut page = Results::page(store, filter, after.take(), STREAM_BATCH).await?;
            let full = page.len() == STREAM_BATCH as usize;
            after = page.last().map(StoredResult::cursor);
            // As from the cursors: the archived JSON is not part of the stream.
            page.iter_mut().for_each(|r| r.result_json.clear());
            if page.is_empty() || out.send(Ok(page)).await.is_err() || !full {
                return Ok(());
            }
        }
    }

    async fn by_cursors(store: &B, filter: &ResultFilter, out: &Batches) -> Result<(), StoreError> {
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
        // Plans for reading everything, not for the first rows.
        sqlx::query("SET LOCAL cursor_tuple_fraction = 1.0")
            .execute(&mut *tx)
            .await
            .map_err(err())?;
        let mut results =
            QueryBuilder::<B::Db>::new("DECLARE export_results NO SCROLL CURSOR FOR SELECT ");
        // The archived JSON stays behind: an export renders the result from its columns.
        results.push(RESULT_COLUMNS.replace("r.result_json", "'' AS result_json"));
        push_latest_from(&mut results, Latest::Results, filter);
        results.push(" ORDER BY s.submitted_at, s.id");
        B::execute(&mut tx, results).await.map_err(err())?;
        let mut domains = QueryBuilder::<B::Db>::new(format!(
            "DECLARE export_domains NO SCROLL CURSOR FOR SELECT {DOMAIN_COLUMNS}, \
             s.submitted_at AS submitted_at"
        ));
        push_latest_from(&mut domains, Latest::Domains, filter);
        domains.push(" ORDER BY s.submitted_at, s.id, d.position");
        B::execute(&mut tx, domains).await.map_err(err())?;

        let fetch_results = format!("FETCH {STREAM_BATCH} FROM export_results");
        let fetch_domains = format!("FETCH {} FROM export_domains", STREAM_BATCH * 2);
        let mut pending: VecDeque<StreamedDomain> = VecDeque::new();
        let mut domains_left = true;
        loop {
            let rows: Vec<ResultRow> = sqlx::query_as(&fetch_results)
                .fetch_all(&mut *tx)
                .await
                .map_err(err())?;
            let Some(last) = rows.last() else { break };
            let last = (last.submitted_at, last.session_id.clone());
            // The domains of this batch: every pending one up to the batch's last result
            // (both cursors run in the same order).
            let mut batch_domains = Vec::new();
            loop {
                while let Some(d) = pending.front() {
                    if (d.submitted_at, &d.domain.session_id) > (last.0, &last.1) {
                        break;
                    }
                    batch_domains.extend(pending.pop_front().map(|d| d.domain));
                }
                if !pending.is_empty() || !domains_left {
                    break;
                }
                let more: Vec<StreamedDomain> = sqlx::query_as(&fetch_domains)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err())?;
                domains_left = !more.is_empty();
                pending.extend(more);
            }
            let full = rows.len() == STREAM_BATCH as usize;
            let batch = assemble_results(rows, batch_domains)?;
            if out.send(Ok(batch)).await.is_err() || !full {
                break;
            }
        }
        tx.commit().await.map_err(err())
    }
}
