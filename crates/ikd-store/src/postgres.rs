//! PostgreSQL: many stateless server replicas on one database.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, FromRow, Postgres, QueryBuilder, Transaction};

use crate::backend::{Backend, Column};
use crate::error::db_err;
use crate::group_commit::GroupCommit;
use crate::stats::{self, Key, Sums, Table};
use crate::{OpenOptions, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The PostgreSQL store. Commits use the server's durability settings (default
/// `synchronous_commit = on`). Writers of one session are serialised by its row lock
/// (`SELECT … FOR UPDATE`, or the `UPDATE` of a submit), so two servers racing to submit one
/// session see exactly one win; submits of one person's sessions are serialised by an
/// advisory lock on the person, so that exactly one of them counts (see
/// [`Store::submit`](crate::Store::submit)). Starts, saves and submits that arrive together
/// share one transaction and one commit (see `group_commit`); up to half the pool's
/// connections write batches at once, so a batch waiting for a lock held elsewhere does not
/// stall every write, and reads always find a connection.
pub struct PgStore {
    pool: PgPool,
    commits: Arc<GroupCommit>,
}

/// The rows of a batch's sessions (`$1`), locked in id order: the `ORDER BY` is applied
/// before the rows are locked.
const LOCK_SESSIONS: &str = "SELECT id FROM sessions WHERE id = ANY($1) ORDER BY id FOR UPDATE";

/// The persons of the sessions a batch submits (`$1`), locked as
/// [`Backend::LOCK_RESPONDENT`] locks one (the same two keys), in key order.
const LOCK_PERSONS: &str = "SELECT pg_advisory_xact_lock(1229669458, person) FROM \
     (SELECT DISTINCT hashtext(concat_ws(chr(31), respondent_key, instrument_id, \
     instrument_version)) AS person FROM sessions WHERE id = ANY($1) ORDER BY person) \
     AS persons";

impl PgStore {
    /// Connects to `url` (`postgres://…` or `postgresql://…`) and applies the migrations under
    /// sqlx's advisory lock, so servers starting at once apply them exactly once.
    pub async fn open(url: &str, options: &OpenOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(format!("`postgres:` URL: {e}")))?
            .application_name("ikd-store");
        // Never the URL itself: it may hold a password.
        let location = format!(
            "'{}' on {}:{}",
            connect.get_database().unwrap_or("(default database)"),
            connect.get_host(),
            connect.get_port()
        );
        Self::migrate(&connect, &location).await?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(db_err(Self::NAME, format!("connecting to {location}")))?;
        tracing::debug!(database = %location, "postgres store open");
        let batches = (options.max_connections as usize / 2).max(1);
        Ok(PgStore {
            pool,
            commits: GroupCommit::new(batches),
        })
    }

    /// On a connection of its own: if a migration fails, closing the connection releases the
    /// advisory lock (a pooled connection would keep holding it).
    async fn migrate(connect: &PgConnectOptions, location: &str) -> Result<(), StoreError> {
        let mut conn: PgConnection = connect
            .connect()
            .await
            .map_err(db_err(Self::NAME, format!("connecting to {location}")))?;
        // `run_direct` rather than `run`: the latter's `Acquire` bound makes the future of
        // `open` not `Send` (a compiler limitation sqlx documents at `run_direct`).
        MIGRATOR
            .run_direct(&mut conn)
            .await
            .map_err(|source| StoreError::Migration {
                backend: Self::NAME,
                source,
            })?;
        conn.close()
            .await
            .map_err(db_err(Self::NAME, format!("migrating {location}")))
    }
}

impl Backend for PgStore {
    type Db = Postgres;
    const NAME: &'static str = "postgres";
    /// The row lock serialises writers of one session across servers.
    const LOCK_SESSION: &'static str = "SELECT state FROM sessions WHERE id = $1 FOR UPDATE";
    /// Locks the session's row only (`OF s`), as [`Backend::LOCK_SESSION`] does.
    const LOCK_SESSION_FOR_SAVE: &'static str = "SELECT s.state, r.answers, s.answers FROM sessions s \
         LEFT JOIN save_requests r ON r.session_id = s.id AND r.request_id = $2 \
         WHERE s.id = $1 FOR UPDATE OF s";
    /// A transaction-scoped advisory lock on the person: two keys, the class 1229669458
    /// (`b"IKDR"` read as a big-endian `i32`, to stay apart from other advisory locks on the
    /// database; sqlx's migration lock uses the one-key space) and a hash of the respondent
    /// key, instrument id and instrument version. Not row locks: each of two racing submits
    /// already holds its own session's row, so each would wait for the other's row — a
    /// deadlock. A hash collision only makes two persons' submits wait for each other.
    const CURSORS: bool = true;
    const EXPORT_SETUP: Option<&'static str> = Some("SET LOCAL jit = off");
    const COSTLY_ROWS: bool = false;

    fn json_elements(column: &str, alias: &str) -> String {
        format!("jsonb_array_elements(CAST({column} AS jsonb)) AS {alias}(value)")
    }

    fn group_lines(line: &str, separator: &str) -> String {
        format!("string_agg({line}, {separator})")
    }

    fn exact_text(real: &str) -> String {
        // float8 prints its shortest exact form (extra_float_digits ≥ 1, the default).
        format!("CAST({real} AS text)")
    }
    const LOCK_STATS: Option<&'static str> =
        Some("LOCK TABLE unit_stats, unit_day_stats IN EXCLUSIVE MODE");
    const LOCK_RESPONDENT: Option<&'static str> = Some(
        "SELECT pg_advisory_xact_lock(1229669458, \
         hashtext(concat_ws(chr(31), $1::text, $2::text, $3::text)))",
    );

    /// Read committed, whatever the database's default: a statement run after waiting for
    /// a lock must see what the transaction it waited for committed (the submit's re-check
    /// of the answers version, and its look for the person's latest session).
    async fn write_tx(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool
            .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
    }

    /// One snapshot for all the reads of a call.
    async fn read_tx(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
    }

    fn write_pool(&self) -> &PgPool {
        &self.pool
    }

    fn read_pool(&self) -> &PgPool {
        &self.pool
    }

    async fn close_pools(&self) {
        self.pool.close().await;
    }

    fn share(&self) -> Self {
        PgStore {
            pool: self.pool.clone(),
            commits: Arc::clone(&self.commits),
        }
    }

    fn group_commit(&self) -> &Arc<GroupCommit> {
        &self.commits
    }

    /// The batch's session rows in id order, then its persons' advisory locks in key order.
    /// Rows before persons, as a lone submit takes them: a transaction waiting for a row
    /// holds no person's lock, and one waiting for a person holds every row it needs.
    async fn lock_batch(
        conn: &mut PgConnection,
        sessions: &[&str],
        submitting: &[&str],
    ) -> Result<(), sqlx::Error> {
        if !sessions.is_empty() {
            sqlx::query(LOCK_SESSIONS)
                .bind(sessions)
                .execute(&mut *conn)
                .await?;
        }
        Self::lock_persons(conn, submitting).await
    }

    const FOR_UPDATE: &'static str = " FOR UPDATE";

    async fn lock_persons(conn: &mut PgConnection, submitting: &[&str]) -> Result<(), sqlx::Error> {
        if !submitting.is_empty() {
            sqlx::query(LOCK_PERSONS)
                .bind(submitting)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// One array per column, unnested in row order: the statement's text depends on the
    /// columns only, so it is prepared once per connection (as [`stats::upsert_arrays`]).
    async fn with_rows<T>(
        conn: &mut PgConnection,
        statement: &str,
        columns: &[(&str, Column<'_>)],
        prepared: bool,
    ) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        if columns.first().is_none_or(|(_, c)| c.len() == 0) {
            return Ok(Vec::new());
        }
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let arrays: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, column))| {
                let kind = match column {
                    Column::Text(_) | Column::OptText(_) => "text",
                    Column::Int(_) | Column::OptInt(_) => "int8",
                    Column::OptFloat(_) => "float8",
                };
                format!("${}::{kind}[]", i + 1)
            })
            .collect();
        let rows = format!("UNNEST({}) AS v({})", arrays.join(", "), names.join(", "));
        let sql = statement
            .replace("{rows}", &rows)
            .replace("{keys}", "= ANY($1)");
        let mut query = sqlx::query_as::<_, T>(&sql).persistent(prepared);
        for (_, column) in columns {
            query = match column {
                Column::Text(v) => query.bind(v.as_slice()),
                Column::OptText(v) => query.bind(v.as_slice()),
                Column::Int(v) => query.bind(v.as_slice()),
                Column::OptInt(v) => query.bind(v.as_slice()),
                Column::OptFloat(v) => query.bind(v.as_slice()),
            };
        }
        query.fetch_all(conn).await
    }

    /// `deadlock_detected` (40P01) and `serialization_failure` (40001).
    fn is_transient(error: &sqlx::Error) -> bool {
        error
            .as_database_error()
            .and_then(|e| e.code())
            .is_some_and(|code| code == "40P01" || code == "40001")
    }

    /// One statement whose rows come in arrays: the same text for any number of rows, so
    /// prepared once per connection. A multi-row `VALUES` was parsed and planned again at
    /// every batch (its text changes with the number of rows).
    async fn add_stats(
        conn: &mut PgConnection,
        table: Table,
        shard: i64,
        rows: &[(Key<'_>, Sums)],
    ) -> Result<(), sqlx::Error> {
        stats::upsert_arrays(conn, table, shard, rows).await
    }

    async fn execute(
        conn: &mut PgConnection,
        mut statement: QueryBuilder<'_, Postgres>,
    ) -> Result<(), sqlx::Error> {
        statement.build().persistent(false).execute(conn).await?;
        Ok(())
    }

    async fn fetch_all<T>(
        conn: &mut PgConnection,
        mut query: QueryBuilder<'_, Postgres>,
        persistent: bool,
    ) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        query
            .build_query_as()
            .persistent(persistent)
            .fetch_all(conn)
            .await
    }

    async fn fetch_one<T>(
        conn: &mut PgConnection,
        mut query: QueryBuilder<'_, Postgres>,
    ) -> Result<T, sqlx::Error>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        query.build_query_as().fetch_one(conn).await
    }
}
