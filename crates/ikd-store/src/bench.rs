//! The raw single-row insert rate of a database, measured with the same
//! durability settings the store uses, as the yardstick for session writes
//! (`ikd bench grpc`). A scratch table is created and dropped again.
//!
//! Behind the `bench` feature (which `ikd-cli` turns on): a yardstick, not part of the store.

use crate::StoreError;
use sqlx::{Database, Encode, Executor, IntoArguments, Pool, Type};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TABLE: &str = "ikd_probe_raw_inserts";

/// Inserts `rows` single rows, one autocommitted statement each, from
/// `concurrency` concurrent callers; returns rows per second.
pub async fn raw_insert_rate(
    url: &str,
    rows: usize,
    concurrency: usize,
) -> Result<f64, StoreError> {
    if url.starts_with("sqlite:") {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .map_err(fail("sqlite"))?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        // One writer connection, as the store writes through one.
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(fail("sqlite"))?;
        measure(pool, "sqlite", "INTEGER", "(?, ?)", rows, concurrency).await
    } else {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(concurrency.clamp(1, 32) as u32)
            .connect(url)
            .await
            .map_err(fail("postgres"))?;
        measure(pool, "postgres", "BIGSERIAL", "($1, $2)", rows, concurrency).await
    }
}

/// Creates the scratch table on `pool`, inserts into it, drops it; rows per second.
/// `id_type`: an auto-incrementing key; `placeholders`: the backend's for two values.
async fn measure<DB: Database>(
    pool: Pool<DB>,
    backend: &'static str,
    id_type: &str,
    placeholders: &str,
    rows: usize,
    concurrency: usize,
) -> Result<f64, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    let ddl = format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} \
         (id {id_type} PRIMARY KEY, session TEXT NOT NULL, payload TEXT NOT NULL)"
    );
    pool.execute(ddl.as_str()).await.map_err(fail(backend))?;
    let insert = format!("INSERT INTO {TABLE} (session, payload) VALUES {placeholders}");
    let p = pool.clone();
    let rate = run(rows, concurrency, move |k| {
        let (pool, insert) = (p.clone(), insert.clone());
        async move {
            sqlx::query(&insert)
                .bind(format!("s{k}"))
                .bind("x".repeat(64))
                .execute(&pool)
                .await
                .map(|_| ())
        }
    })
    .await
    .map_err(fail(backend))?;
    pool.execute(format!("DROP TABLE {TABLE}").as_str())
        .await
        .map_err(fail(backend))?;
    Ok(rate)
}

fn fail(backend: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    crate::error::db_err(backend, "raw insert probe")
}

/// Runs `insert(k)` for k in 0..rows from `concurrency` concurrent loops; rows per second.
async fn run<F, Fut>(rows: usize, concurrency: usize, insert: F) -> Result<f64, sqlx::Error>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), sqlx::Error>> + Send,
{
    let insert = Arc::new(insert);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (insert, next) = (insert.clone(), next.clone());
        tasks.push(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= rows {
                    return Ok::<(), sqlx::Error>(());
                }
                insert(k).await?;
            }
        });
    }
    futures_util::future::try_join_all(tasks).await?;
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}
