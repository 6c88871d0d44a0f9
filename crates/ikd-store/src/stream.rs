//! Every result under a filter, read in one go for an export: [`crate::Store::stream_results`].
//!
//! Paging (`results_page`) asks the database for each page anew, and each page finds its
//! results and their domains by key, one lookup at a time. Where the database has cursors
//! (PostgreSQL) an export instead declares two — the results, and their domains in the same
//! order on a second connection that imports the first one's snapshot — with plans made for
//! reading everything, and fetches from both at once (the domains by a task of their own,
//! decoded while the results are): the database works at its own pace and the bounded
//! channels hold it back when the client is slower. Rows are decoded by column position and
//! each result takes its domains as they come (both cursors are in the same order).
//! Elsewhere (SQLite, whose lookups are local) the export reads pages.

use std::cmp::Ordering;
use std::marker::PhantomData;

use sqlx::{Database, QueryBuilder, Row};
use tokio::sync::mpsc;

use crate::backend::Backend;
use crate::error::{corrupt, db_err, to_u32};
use crate::filter::{Latest, push_latest_from};
use crate::results::{Results, domain_counts, parse_flags};
use crate::{DomainScore, ResultFilter, StoreError, StoredResult};

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
        // The domains are read on a connection of their own, in this snapshot: the
        // database works on both cursors at once, and the domains are decoded meanwhile.
        let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await
            .map_err(err())?;
        let (domains_out, mut domain_batches) = mpsc::channel(2);
        tokio::spawn(Self::domains(
            store.share(),
            filter.clone(),
            snapshot,
            domains_out,
        ));
        // Plans for reading everything, not for the first rows.
        sqlx::query("SET LOCAL cursor_tuple_fraction = 1.0")
            .execute(&mut *tx)
            .await
            .map_err(err())?;
        let mut results = QueryBuilder::<B::Db>::new(format!(
            "DECLARE export_results NO SCROLL CURSOR FOR SELECT {STREAM_RESULT_COLUMNS}"
        ));
        push_latest_from(&mut results, Latest::Results, filter);
        results.push(" ORDER BY s.submitted_at, s.id");
        B::execute(&mut tx, results).await.map_err(err())?;

        let fetch_results = format!("FETCH {STREAM_BATCH} FROM export_results");
        // The domains received and not yet given to their result, and where the next is.
        let mut pending: Vec<StreamedDomain> = Vec::new();
        let mut next = 0;
        let mut domains_left = true;
        loop {
            let rows: Vec<<B::Db as Database>::Row> = sqlx::query(&fetch_results)
                .fetch_all(&mut *tx)
                .await
                .map_err(err())?;
            if rows.is_empty() {
                break;
            }
            let full = rows.len() == STREAM_BATCH as usize;
            let mut batch = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut result = stream_result(row)?;
                // Its domains: both cursors run in the same order, so they are the next
                // domains with its key (any before it belong to no result: skipped, as
                // `assemble_results` leaves them).
                loop {
                    if next == pending.len() {
                        if !domains_left {
                            break;
                        }
                        match domain_batches.recv().await {
                            Some(more) => pending = more?,
                            None => {
                                pending.clear();
                                domains_left = false;
                            }
                        }
                        next = 0;
                        continue;
                    }
                    let domain = &mut pending[next];
                    match (domain.submitted_at, domain.session_id.as_str())
                        .cmp(&(result.submitted_at, result.session_id.as_str()))
                    {
                        Ordering::Less => next += 1,
                        Ordering::Greater => break,
                        Ordering::Equal => {
                            if domain.revision == i64::from(result.revision) {
                                result.domains.push(std::mem::take(&mut domain.domain));
                            }
                            next += 1;
                        }
                    }
                }
                batch.push(result);
            }
            drop(rows);
            if out.send(Ok(batch)).await.is_err() || !full {
                break;
            }
        }
        tx.commit().await.map_err(err())
    }

    /// Sends the domains of the results under `filter`, in the results' order, read in
    /// `snapshot` (the results' transaction's), batch by batch to `out` until the last (or
    /// a failure, or `out` closing).
    async fn domains(
        store: B,
        filter: ResultFilter,
        snapshot: String,
        out: mpsc::Sender<Result<Vec<StreamedDomain>, StoreError>>,
    ) {
        if let Err(e) = Self::read_domains(&store, &filter, &snapshot, &out).await {
            let _ = out.send(Err(e)).await;
        }
    }

    async fn read_domains(
        store: &B,
        filter: &ResultFilter,
        snapshot: &str,
        out: &mpsc::Sender<Result<Vec<StreamedDomain>, StoreError>>,
    ) -> Result<(), StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!(
                    "exporting the domains of the results under org prefix '{}'",
                    filter.org_prefix
                ),
            )
        };
        // A snapshot id is hex digits and dashes; anything else is not quoted in.
        if !snapshot.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return Err(corrupt(format!("unexpected snapshot id '{snapshot}'")));
        }
        let mut tx = store
            .read_pool()
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(err())?;
        sqlx::query(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'"))
            .execute(&mut *tx)
            .await
            .map_err(err())?;
        sqlx::query("SET LOCAL cursor_tuple_fraction = 1.0")
            .execute(&mut *tx)
            .await
            .map_err(err())?;
        let mut domains = QueryBuilder::<B::Db>::new(format!(
            "DECLARE export_domains NO SCROLL CURSOR FOR SELECT {STREAM_DOMAIN_COLUMNS}"
        ));
        push_latest_from(&mut domains, Latest::Domains, filter);
        domains.push(" ORDER BY s.submitted_at, s.id, d.position");
        B::execute(&mut tx, domains).await.map_err(err())?;
        let fetch_domains = format!("FETCH {} FROM export_domains", STREAM_BATCH * 4);
        loop {
            let rows: Vec<<B::Db as Database>::Row> = sqlx::query(&fetch_domains)
                .fetch_all(&mut *tx)
                .await
                .map_err(err())?;
            if rows.is_empty() {
                break;
            }
            let full = rows.len() == STREAM_BATCH as usize * 4;
            let batch = rows
                .iter()
                .map(stream_domain)
                .collect::<Result<Vec<_>, StoreError>>()?;
            drop(rows);
            if out.send(Ok(batch)).await.is_err() || !full {
                break;
            }
        }
        tx.commit().await.map_err(err())
    }
}

/// A domain as the domains' cursor gives it, with its result's key.
pub(crate) struct StreamedDomain {
    submitted_at: i64,
    session_id: String,
    revision: i64,
    domain: DomainScore,
}

/// The result columns of a stream, in the order [`stream_result`] reads them (the archived
/// JSON stays behind: an export renders the result from its columns).
const STREAM_RESULT_COLUMNS: &str = "r.session_id, r.revision, s.instrument_id, \
     s.instrument_version, s.instrument_sha256, s.org_unit, s.respondent_key, s.submitted_at, \
     r.created_at, r.model, r.model_version, r.index_value, r.index_se, r.level, r.flags, \
     r.provenance_json";

/// The domain columns of a stream, in the order [`stream_domain`] and the merge read them.
const STREAM_DOMAIN_COLUMNS: &str = "s.submitted_at, d.session_id, d.revision, d.code, d.score, \
     d.se, d.level, d.answered, d.needed";

/// A result row of the stream's cursor (by column position: no lookup of the column names
/// for every row), without its domains.
fn stream_result<R: Row>(row: &R) -> Result<StoredResult, StoreError>
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
    Ok(StoredResult {
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
        domains: Vec::new(),
        flags,
        provenance_json: row.try_get(15).map_err(db)?,
        result_json: String::new(),
        session_id,
    })
}

/// A domain row of the stream's cursor (see [`STREAM_DOMAIN_COLUMNS`]).
fn stream_domain<R: Row>(row: &R) -> Result<StreamedDomain, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let db = |e| db_err(R::Database::NAME, "reading an exported result".to_owned())(e);
    let session_id: String = row.try_get(1).map_err(db)?;
    let code: String = row.try_get(3).map_err(db)?;
    let answered: i64 = row.try_get(7).map_err(db)?;
    let needed: Option<i64> = row.try_get(8).map_err(db)?;
    let (answered, needed) = domain_counts(&session_id, &code, answered, needed)?;
    let domain = DomainScore {
        answered,
        needed,
        score: row.try_get(4).map_err(db)?,
        se: row.try_get(5).map_err(db)?,
        level: row.try_get(6).map_err(db)?,
        code,
    };
    Ok(StreamedDomain {
        submitted_at: row.try_get(0).map_err(db)?,
        revision: row.try_get(2).map_err(db)?,
        session_id,
        domain,
    })
}
