//! Bulk loading of already submitted, already scored sessions: the scale test bed
//! (`ikd store load-simulated`), not a path the server uses.
//!
//! Each [`BulkResult`] becomes exactly the rows a real session leaves after one save and its
//! submit: the session (submitted, revision 1, answers version 1, its answers packed), the
//! save request with its cells packed, result revision 1 (its domains and indicators in its
//! row) and its provenance unless stored already. Rows go
//! in with PostgreSQL's `COPY … FROM STDIN` (text format), or with large multi-row inserts on
//! SQLite, one transaction per [`BulkLoader::insert`] call.
//!
//! What a submit keeps incrementally is done once for the whole load by
//! [`BulkLoader::finish`]: the re-taking rule (a person with several submitted sessions of
//! one instrument version counts once, with their latest), and the per-unit statistics.
//! Each committed `insert` adds its results to a sum kept in memory, and `finish` writes it
//! in one transaction: a result touches some thirty statistics rows, and the same rows over
//! and over from one insert to the next (written per insert, 28 upserts per result made
//! the database the bottleneck). Only if the re-taking rule finds a re-take (a person loaded
//! twice, or already in the store) does `finish` rebuild the statistics from the rows
//! instead, since results summed then stop counting; a rebuild is linear in the results.
//! Until `finish` returns, aggregates do not see the loaded results; after a load that was
//! cut short, `ikd store rebuild-stats` counts what it committed.
//!
//! ```no_run
//! # async fn example(batch: Vec<ikd_store::bulk::BulkResult>) -> Result<(), ikd_store::StoreError> {
//! let loader = ikd_store::bulk::BulkLoader::open("postgres://ikd@db/ikd").await?;
//! loader.insert(&batch).await?; // as many batches as needed
//! let summary = loader.finish().await?;
//! println!("{} statistics rows", summary.stats_rows);
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};

use sqlx::{QueryBuilder, Sqlite};

use crate::backend::Backend;
use crate::error::db_err;
use crate::result_row::{domains_json, indicators_json, provenance_id};
use crate::results::{INSERT_PROVENANCE, check_result, flags_json};
use crate::sessions::cells;
use crate::stats::{BASE_SHARD, Counted, Place, StatsDelta, Table};
use crate::{NewResult, OpenOptions, PgStore, SqliteStore, StoreError, packed, stats};

/// The request id of the one save each loaded session had.
pub const LOAD_REQUEST_ID: &str = "bulk-load";

/// One submitted session to load, with its answers and its scored result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkResult {
    /// UUID v4, lower-case hyphenated (as [`crate::Store::start_session`] makes them).
    pub session_id: String,
    pub instrument_id: String,
    pub instrument_version: String,
    pub instrument_sha256: String,
    /// Already a pseudonym (see [`crate::NewSession::respondent_key`]).
    pub respondent_key: String,
    pub org_unit: String,
    /// When the session was started, Unix milliseconds.
    pub created_at: i64,
    /// When it was submitted (and its answers saved), Unix milliseconds; ≥ `created_at`.
    pub submitted_at: i64,
    /// Item id → raw cell, each item at most once: what the one save stored.
    pub answers: Vec<(String, String)>,
    /// Revision 1.
    pub result: NewResult,
}

/// What [`BulkLoader::finish`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BulkSummary {
    /// Sessions that stopped counting because their person has a later one.
    pub superseded: u64,
    /// Per-unit statistics rows kept after the load (all shards).
    pub stats_rows: u64,
}

/// Loads [`BulkResult`]s into a store (see the module docs).
pub struct BulkLoader {
    store: Loaded,
    /// What the committed inserts add to the statistics.
    counted: Mutex<StatsDelta>,
}

enum Loaded {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Marks, in one statement, every submitted session that is not its person's latest (by
/// `(submitted_at, id)`) as superseded by the latest: what submits do one at a time
/// (`Results::count_latest_only`), for a whole load. Sessions already superseded keep theirs.
/// One pass with a window function (as migration 0005 does), not a lookup per session: a
/// correlated subquery took minutes at 20,000 sessions on PostgreSQL.
const SUPERSEDE_ALL: &str = "UPDATE sessions SET superseded_by = ranked.latest_id FROM (\
     SELECT s.id AS session_id, FIRST_VALUE(s.id) OVER (\
     PARTITION BY s.respondent_key, s.instrument_id, s.instrument_version \
     ORDER BY s.submitted_at DESC, s.id DESC) AS latest_id \
     FROM sessions s WHERE s.state = 'submitted') AS ranked \
     WHERE sessions.id = ranked.session_id AND ranked.latest_id <> sessions.id \
     AND sessions.superseded_by IS NULL";

/// Statistics rows in the three tables, all shards.
const COUNT_STATS_ROWS: &str = "SELECT (SELECT COUNT(*) FROM unit_stats) \
     + (SELECT COUNT(*) FROM unit_day_stats) + (SELECT COUNT(*) FROM prefix_stats)";

impl BulkLoader {
    /// Opens (and migrates) the store at `url`, as [`crate::open`] does.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = OpenOptions::default();
        let store = match crate::url_scheme(url) {
            Some("sqlite") => Loaded::Sqlite(SqliteStore::open(url, &options).await?),
            Some("postgres" | "postgresql") => {
                Loaded::Postgres(PgStore::open(url, &options).await?)
            }
            _ => {
                return Err(StoreError::InvalidUrl(
                    "expected `sqlite://path` or `postgres://…`".to_owned(),
                ));
            }
        };
        Ok(BulkLoader {
            store,
            counted: Mutex::default(),
        })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match &self.store {
            Loaded::Sqlite(_) => SqliteStore::NAME,
            Loaded::Postgres(_) => PgStore::NAME,
        }
    }

    /// Stores `results`, all or none, in one transaction. [`StoreError::Invalid`] for a
    /// result the store refuses (as [`crate::Store::submit`] would), a submission before the
    /// start, or an item answered twice; a session id already stored fails the transaction.
    pub async fn insert(&self, results: &[BulkResult]) -> Result<(), StoreError> {
        for r in results {
            check(r)?;
        }
        match &self.store {
            Loaded::Sqlite(store) => insert_sqlite(store, results).await?,
            Loaded::Postgres(store) => copy_postgres(store, results).await?,
        }
        let mut counted = self.counted.lock().unwrap_or_else(PoisonError::into_inner);
        for r in results {
            let place = Place {
                instrument_id: &r.instrument_id,
                instrument_version: &r.instrument_version,
                org_unit: &r.org_unit,
                submitted_at: r.submitted_at,
            };
            counted.add(&place, &Counted::of(&r.result), 1);
        }
        Ok(())
    }

    /// Applies the re-taking rule to everything stored, then adds what the inserts counted
    /// to the per-unit statistics, or rebuilds them if the rule made a session stop counting.
    pub async fn finish(self) -> Result<BulkSummary, StoreError> {
        let context = "applying the re-taking rule to the loaded sessions";
        let BulkLoader { store, counted } = self;
        let counted = counted.into_inner().unwrap_or_else(PoisonError::into_inner);
        let (superseded, stats_rows) = match &store {
            Loaded::Sqlite(store) => {
                // The planner's statistics, for this statement and the reads to come.
                sqlx::query("ANALYZE")
                    .execute(store.write_pool())
                    .await
                    .map_err(db_err(SqliteStore::NAME, "analysing the loaded tables"))?;
                let done = sqlx::query(SUPERSEDE_ALL)
                    .execute(store.write_pool())
                    .await
                    .map_err(db_err(SqliteStore::NAME, context))?;
                let rows = if done.rows_affected() == 0 {
                    write_counted(store, counted).await?;
                    sqlx::query_scalar(COUNT_STATS_ROWS)
                        .fetch_one(store.read_pool())
                        .await
                        .map_err(db_err(SqliteStore::NAME, "counting the statistics rows"))?
                } else {
                    stats::rebuild(store).await?
                };
                // Analysed above while they were still empty (or smaller): at 1M results
                // the plans from those figures made aggregates take 20–24 ms, 15–18 after.
                sqlx::raw_sql("ANALYZE unit_stats; ANALYZE unit_day_stats; ANALYZE prefix_stats")
                    .execute(store.write_pool())
                    .await
                    .map_err(db_err(SqliteStore::NAME, "analysing the statistics tables"))?;
                (done.rows_affected(), rows)
            }
            Loaded::Postgres(store) => {
                sqlx::query("ANALYZE")
                    .execute(store.write_pool())
                    .await
                    .map_err(db_err(PgStore::NAME, "analysing the loaded tables"))?;
                let done = sqlx::query(SUPERSEDE_ALL)
                    .execute(store.write_pool())
                    .await
                    .map_err(db_err(PgStore::NAME, context))?;
                let rows = if done.rows_affected() == 0 {
                    copy_counted(store, counted).await?;
                    let rows: i64 = sqlx::query_scalar(COUNT_STATS_ROWS)
                        .fetch_one(store.read_pool())
                        .await
                        .map_err(db_err(PgStore::NAME, "counting the statistics rows"))?;
                    u64::try_from(rows).unwrap_or(0)
                } else {
                    stats::rebuild(store).await?
                };
                // A load into a store with statistics updates their rows: the dead versions
                // left made aggregates read 16 ms instead of 12 at 100,000 results. (VACUUM
                // runs outside a transaction: a lone statement on the pool.)
                sqlx::query("VACUUM ANALYZE unit_stats, unit_day_stats, prefix_stats")
                    .execute(store.write_pool())
                    .await
                    .map_err(db_err(PgStore::NAME, "vacuuming the statistics tables"))?;
                (done.rows_affected(), rows)
            }
        };
        let summary = BulkSummary {
            superseded,
            stats_rows,
        };
        match store {
            Loaded::Sqlite(store) => store.close_pools().await,
            Loaded::Postgres(store) => store.close_pools().await,
        }
        Ok(summary)
    }
}

/// Adds what the inserts counted to the statistics, in one transaction.
async fn write_counted<B: Backend>(store: &B, counted: StatsDelta) -> Result<(), StoreError> {
    let err = || db_err(B::NAME, "adding the loaded results to the statistics");
    let mut tx = store.write_tx().await.map_err(err())?;
    counted
        .apply::<B>(&mut tx, BASE_SHARD)
        .await
        .map_err(err())?;
    tx.commit().await.map_err(err())
}

/// Takes the statistics tables for the rest of the transaction: writers wait, readers
/// do not.
const LOCK_ALL_STATS: &str =
    "LOCK TABLE unit_stats, unit_day_stats, prefix_stats IN EXCLUSIVE MODE";

/// [`write_counted`] on PostgreSQL: a table without rows yet (a load into a new store) gets
/// the counted rows by `COPY`, the others by upserts. At 1M results (2M rows per day and
/// unit) the upserts took 32 s.
async fn copy_counted(store: &PgStore, counted: StatsDelta) -> Result<(), StoreError> {
    let err = || db_err(PgStore::NAME, "adding the loaded results to the statistics");
    let sorted = counted.sorted();
    let mut tx = store.write_tx().await.map_err(err())?;
    sqlx::query(LOCK_ALL_STATS)
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    for table in [Table::Total, Table::Prefix, Table::Daily] {
        let rows = sorted.rows(table);
        let empty: bool = sqlx::query_scalar(&format!(
            "SELECT NOT EXISTS (SELECT 1 FROM {})",
            table.name()
        ))
        .fetch_one(&mut *tx)
        .await
        .map_err(err())?;
        if !empty {
            PgStore::add_stats(&mut tx, table, BASE_SHARD, &rows)
                .await
                .map_err(err())?;
            continue;
        }
        let statement = format!(
            "COPY {} ({}, shard, n, missing, sum, sum_sq) FROM STDIN",
            table.name(),
            table.key_columns()
        );
        copy_rows(&mut tx, &statement, &rows, |(key, sums), buf| {
            buf.text(key.instrument_id).text(key.org_unit);
            if table == Table::Daily {
                buf.int(key.day);
            }
            buf.text(key.instrument_version)
                .text(key.kind.as_str())
                .text(key.domain)
                .text(key.indicator)
                .text(key.level)
                .int(BASE_SHARD)
                .int(sums.n)
                .int(sums.missing)
                .float(sums.sum)
                .float(sums.sum_sq)
                .end();
        })
        .await
        .map_err(err())?;
    }
    tx.commit().await.map_err(err())
}

fn check(r: &BulkResult) -> Result<(), StoreError> {
    check_result(&r.session_id, &r.result)?;
    if r.submitted_at < r.created_at {
        return Err(StoreError::Invalid(format!(
            "session '{}': submitted at {} before it was started at {}",
            r.session_id, r.submitted_at, r.created_at
        )));
    }
    let mut items: Vec<&str> = r.answers.iter().map(|(item, _)| item.as_str()).collect();
    items.sort_unstable();
    if let Some(w) = items.windows(2).find(|w| w[0] == w[1]) {
        return Err(StoreError::Invalid(format!(
            "session '{}': item '{}' answered twice",
            r.session_id, w[0]
        )));
    }
    Ok(())
}

/// The rows of one loaded session, in the columns the statements below list.
struct Rows<'a> {
    r: &'a BulkResult,
    flags: String,
    domains: String,
    indicators: String,
    provenance_id: String,
    /// The session's answers by item, packed (see [`crate::packed`]).
    answers: String,
    /// The save's cells in their order, packed.
    cells: String,
}

impl<'a> Rows<'a> {
    /// Each result's rows; `provenance_ids` keeps the key of every provenance seen, since
    /// the results of one scoring run share one.
    fn all(results: &'a [BulkResult]) -> Vec<Self> {
        let mut provenance_ids: HashMap<&str, String> = HashMap::new();
        results
            .iter()
            .map(|r| {
                let mut by_item: Vec<(&str, &str)> = cells(&r.answers).collect();
                by_item.sort_unstable();
                Rows {
                    r,
                    flags: flags_json(&r.result),
                    domains: domains_json(&r.result.domains),
                    indicators: indicators_json(&r.result.indicators),
                    provenance_id: provenance_ids
                        .entry(&r.result.provenance_json)
                        .or_insert_with(|| provenance_id(&r.result.provenance_json))
                        .clone(),
                    answers: packed::pack(by_item),
                    cells: packed::pack(cells(&r.answers)),
                }
            })
            .collect()
    }

    /// Each distinct provenance of `rows`, with its key.
    fn provenances<'r>(rows: &'r [Rows<'a>]) -> BTreeMap<&'r str, &'a str> {
        rows.iter()
            .map(|row| {
                (
                    row.provenance_id.as_str(),
                    row.r.result.provenance_json.as_str(),
                )
            })
            .collect()
    }
}

const SESSION_COLUMNS: &str = "sessions (id, instrument_id, instrument_version, \
     instrument_sha256, respondent_key, org_unit, state, created_at, submitted_at, \
     latest_revision, answers_version, answers)";
const SAVE_COLUMNS: &str = "save_requests (session_id, request_id, saved_at, answers, cells)";
const RESULT_COLUMNS: &str = "results (session_id, revision, created_at, model, \
     model_version, index_value, index_se, level, flags, domains, indicators, provenance_id, \
     submitted_at)";

// ---------------------------------------------------------------------------------------
// PostgreSQL: COPY, text format.

/// A COPY text-format row being written: fields tab-separated, `\N` for NULL, backslash,
/// tab, newline and carriage return escaped.
struct CopyBuf(Vec<u8>);

impl CopyBuf {
    fn text(&mut self, s: &str) -> &mut Self {
        // Runs without a special byte are copied whole: byte by byte, this was 7% of a load.
        let bytes = s.as_bytes();
        let mut run = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'\\' => b"\\\\",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                _ => continue,
            };
            self.0.extend_from_slice(&bytes[run..i]);
            self.0.extend_from_slice(escaped);
            run = i + 1;
        }
        self.0.extend_from_slice(&bytes[run..]);
        self.0.push(b'\t');
        self
    }

    fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    fn int(&mut self, v: i64) -> &mut Self {
        let _ = write!(Text(&mut self.0), "{v}\t");
        self
    }

    /// Rust prints the shortest decimal that reads back as the same `f64`, never with an
    /// exponent; PostgreSQL reads it back exactly.
    fn float(&mut self, v: f64) -> &mut Self {
        let _ = write!(Text(&mut self.0), "{v}\t");
        self
    }

    fn opt_float(&mut self, v: Option<f64>) -> &mut Self {
        match v {
            Some(v) => self.float(v),
            None => self.null(),
        }
    }

    fn null(&mut self) -> &mut Self {
        self.0.extend_from_slice(b"\\N\t");
        self
    }

    /// Ends the row (replaces the last field's tab).
    fn end(&mut self) {
        if let Some(last) = self.0.last_mut() {
            *last = b'\n';
        }
    }
}

/// `fmt::Write` into a byte buffer.
struct Text<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Buffer size at which a COPY's data is sent on.
const COPY_CHUNK: usize = 1 << 20;

/// Writes one loaded session's rows of one table.
type WriteRows = fn(&Rows, &mut CopyBuf);

async fn copy_postgres(store: &PgStore, results: &[BulkResult]) -> Result<(), StoreError> {
    let err = || {
        db_err(
            PgStore::NAME,
            format!("bulk loading {} results", results.len()),
        )
    };
    let rows = Rows::all(results);
    let mut tx = store.write_tx().await.map_err(err())?;
    for (id, json) in Rows::provenances(&rows) {
        sqlx::query(INSERT_PROVENANCE)
            .bind(id)
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(err())?;
    }
    // Table order follows the foreign keys.
    let tables: [(&str, WriteRows); 3] = [
        (SESSION_COLUMNS, copy_session),
        (SAVE_COLUMNS, copy_save),
        (RESULT_COLUMNS, copy_result),
    ];
    for (columns, write) in tables {
        copy_rows(&mut tx, &format!("COPY {columns} FROM STDIN"), &rows, write)
            .await
            .map_err(err())?;
    }
    tx.commit().await.map_err(err())
}

/// Runs `statement` (`COPY … FROM STDIN`) with a row written by `write` for each item, sent
/// on in chunks of [`COPY_CHUNK`] bytes.
async fn copy_rows<T>(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    items: &[T],
    write: impl Fn(&T, &mut CopyBuf),
) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let mut buf = CopyBuf(Vec::with_capacity(COPY_CHUNK + 64 * 1024));
    for item in items {
        write(item, &mut buf);
        if buf.0.len() >= COPY_CHUNK {
            copy.send(std::mem::take(&mut buf.0)).await?;
            buf.0.reserve(COPY_CHUNK + 64 * 1024);
        }
    }
    if !buf.0.is_empty() {
        copy.send(buf.0).await?;
    }
    copy.finish().await?;
    Ok(())
}

fn copy_session(row: &Rows, buf: &mut CopyBuf) {
    let r = row.r;
    buf.text(&r.session_id)
        .text(&r.instrument_id)
        .text(&r.instrument_version)
        .text(&r.instrument_sha256)
        .text(&r.respondent_key)
        .text(&r.org_unit)
        .text("submitted")
        .int(r.created_at)
        .int(r.submitted_at)
        .int(1)
        .int(1)
        .text(&row.answers)
        .end();
}

fn copy_save(row: &Rows, buf: &mut CopyBuf) {
    let r = row.r;
    buf.text(&r.session_id)
        .text(LOAD_REQUEST_ID)
        .int(r.submitted_at)
        .int(r.answers.len() as i64)
        .text(&row.cells)
        .end();
}

fn copy_result(row: &Rows, buf: &mut CopyBuf) {
    let (r, result) = (row.r, &row.r.result);
    buf.text(&r.session_id)
        .int(1)
        .int(r.submitted_at)
        .text(&result.model)
        .text(&result.model_version)
        .opt_float(result.index)
        .opt_float(result.index_se)
        .opt_text(result.level.as_deref())
        .text(&row.flags)
        .text(&row.domains)
        .text(&row.indicators)
        .text(&row.provenance_id)
        .int(r.submitted_at)
        .end();
}

// ---------------------------------------------------------------------------------------
// SQLite: multi-row inserts.

/// Bound values per statement: below SQLite's limit of 32766.
const SQLITE_BINDS: usize = 32_000;

async fn insert_sqlite(store: &SqliteStore, results: &[BulkResult]) -> Result<(), StoreError> {
    let err = || {
        db_err(
            SqliteStore::NAME,
            format!("bulk loading {} results", results.len()),
        )
    };
    let rows = Rows::all(results);
    let mut tx = store.write_tx().await.map_err(err())?;
    let conn = &mut *tx;
    for (id, json) in Rows::provenances(&rows) {
        sqlx::query(INSERT_PROVENANCE)
            .bind(id)
            .bind(json)
            .execute(&mut *conn)
            .await
            .map_err(err())?;
    }

    let sessions: Vec<&Rows> = rows.iter().collect();
    insert_values(conn, SESSION_COLUMNS, 12, &sessions, |mut b, row| {
        let r = row.r;
        b.push_bind(r.session_id.as_str())
            .push_bind(r.instrument_id.as_str())
            .push_bind(r.instrument_version.as_str())
            .push_bind(r.instrument_sha256.as_str())
            .push_bind(r.respondent_key.as_str())
            .push_bind(r.org_unit.as_str())
            .push_bind("submitted")
            .push_bind(r.created_at)
            .push_bind(r.submitted_at)
            .push_bind(1i64)
            .push_bind(1i64)
            .push_bind(row.answers.as_str());
    })
    .await
    .map_err(err())?;
    insert_values(conn, SAVE_COLUMNS, 5, &sessions, |mut b, row| {
        b.push_bind(row.r.session_id.as_str())
            .push_bind(LOAD_REQUEST_ID)
            .push_bind(row.r.submitted_at)
            .push_bind(row.r.answers.len() as i64)
            .push_bind(row.cells.as_str());
    })
    .await
    .map_err(err())?;
    insert_values(conn, RESULT_COLUMNS, 13, &sessions, |mut b, row| {
        let (r, result) = (row.r, &row.r.result);
        b.push_bind(r.session_id.as_str())
            .push_bind(1i64)
            .push_bind(r.submitted_at)
            .push_bind(result.model.as_str())
            .push_bind(result.model_version.as_str())
            .push_bind(result.index)
            .push_bind(result.index_se)
            .push_bind(result.level.as_deref())
            .push_bind(row.flags.as_str())
            .push_bind(row.domains.as_str())
            .push_bind(row.indicators.as_str())
            .push_bind(row.provenance_id.as_str())
            .push_bind(r.submitted_at);
    })
    .await
    .map_err(err())?;
    tx.commit().await.map_err(err())
}

/// `INSERT INTO <columns> VALUES …` of `items`, as many rows per statement as
/// [`SQLITE_BINDS`] allows at `binds` values a row.
async fn insert_values<'a, T>(
    conn: &mut sqlx::SqliteConnection,
    columns: &str,
    binds: usize,
    items: &'a [T],
    mut push: impl FnMut(sqlx::query_builder::Separated<'_, 'a, Sqlite, &'static str>, &'a T),
) -> Result<(), sqlx::Error> {
    for chunk in items.chunks(SQLITE_BINDS / binds) {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("INSERT INTO {columns} "));
        qb.push_values(chunk, &mut push);
        SqliteStore::execute(&mut *conn, qb).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_and_nulls() {
        let mut buf = CopyBuf(Vec::new());
        buf.text("a\tb\\c\nd\re")
            .opt_text(None)
            .int(-3)
            .opt_float(Some(0.1))
            .opt_float(Some(1e-7))
            .end();
        assert_eq!(
            String::from_utf8(buf.0).unwrap(),
            "a\\tb\\\\c\\nd\\re\t\\N\t-3\t0.1\t0.0000001\n"
        );
    }

    #[test]
    fn refuses_an_item_twice_and_a_submit_before_the_start() {
        let mut r = BulkResult {
            session_id: "s".into(),
            created_at: 10,
            submitted_at: 20,
            answers: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
            ..BulkResult::default()
        };
        assert!(
            check(&r)
                .unwrap_err()
                .to_string()
                .contains("'a' answered twice")
        );
        r.answers.pop();
        assert!(check(&r).is_ok());
        r.submitted_at = 5;
        assert!(check(&r).is_err());
    }
}
