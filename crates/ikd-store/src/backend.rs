//! What differs between the backends, and the [`Store`] implementation written once over it.
//!
//! The SQL is the same on both (`$n` placeholders; SQLite accepts them), so every operation
//! is a generic function over a [`Backend`]; the backend supplies only what really differs:
//! its name, how a write transaction locks a session, how transactions begin, its pools,
//! and the running of statements built with a `QueryBuilder` (see [`Backend::execute`]).
//!
//! Statements whose text varies with the data (multi-row inserts, `IN` lists) are not kept
//! in the per-connection statement cache (`persistent(false)`): they would only evict the
//! fixed ones.
//!
//! Each module's operations sit in one `impl` block whose `where` clause lists what sqlx needs
//! of the database: executors over a connection, and encoding and decoding of the column
//! types. Rust does not let a trait carry such bounds for its users (only bounds on `Self`
//! are implied), so each block repeats the part of the list it uses instead of naming one
//! trait; the compiler checks every block against both databases where [`Store`] is
//! implemented for [`SqliteStore`](crate::SqliteStore) and [`PgStore`](crate::PgStore).
//! No macro: every operation is ordinary code that readers and tools see once.

use std::future::Future;
use std::sync::Arc;

use sqlx::{Database, FromRow, Pool, QueryBuilder, Transaction};

use crate::aggregates::Aggregates;
use crate::audit::Audit;
use crate::group_commit::{Batches, GroupCommit};
use crate::invitations::Invitations;
use crate::results::Results;
use crate::sessions::Sessions;
use crate::stats::{Key, Sums, Table};
use crate::stream::Stream;
use crate::tokens::Tokens;
use crate::{
    Aggregate, AuditEntry, AuditQuery, ClaimedToken, Invitation, NewAuditEntry, NewInvitation,
    NewResult, NewSession, ResultFilter, Revocation, SaveOutcome, Session, StatsCheck, Store,
    StoreError, StoredResult, StreamDetail, stats,
};

/// Rows per multi-row INSERT: far below both backends' bind limits (SQLite 32766,
/// PostgreSQL 65535) at up to 8 binds a row.
pub(crate) const INSERT_CHUNK: usize = 1000;

/// One column of the rows a set-based statement reads them from (see
/// [`Backend::with_rows`]): a value per row.
pub(crate) enum Column<'a> {
    Text(Vec<&'a str>),
    OptText(Vec<Option<&'a str>>),
    Int(Vec<i64>),
    OptInt(Vec<Option<i64>>),
    OptFloat(Vec<Option<f64>>),
}

impl Column<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::OptText(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::OptInt(v) => v.len(),
            Column::OptFloat(v) => v.len(),
        }
    }
}

/// A database the store runs on: what differs between SQLite and PostgreSQL.
pub(crate) trait Backend: Send + Sync + Sized + 'static {
    type Db: Database;

    /// `"sqlite"` / `"postgres"`: [`Store::backend`], and the name in error messages.
    const NAME: &'static str;

    /// Reads a session's state inside a write transaction and keeps others from writing it
    /// until the transaction ends: PostgreSQL appends `FOR UPDATE`; SQLite needs nothing,
    /// `BEGIN IMMEDIATE` already holds the database's write lock.
    const LOCK_SESSION: &'static str;

    /// What a save reads first, in one statement: the session's state, locked as
    /// [`Backend::LOCK_SESSION`] locks it, the size of its request `$2` if that was already
    /// applied (else NULL), and its latest answers, packed (see [`crate::packed`]); no row
    /// without the session `$1`. On PostgreSQL, after
    /// waiting for the row lock, the request part may predate the transaction waited for:
    /// a save that finds no request (the insert of the request says, see `Sessions::save_in`).
    const LOCK_SESSION_FOR_SAVE: &'static str;

    /// Run inside a submit's transaction, before it looks for the person's latest session,
    /// with the person's respondent key, instrument id and instrument version as `$1`–`$3`:
    /// keeps two submits of one person's sessions from deciding at the same time which of
    /// them counts (see `Results::count_latest_only`). `None` where the write transaction
    /// already excludes every other writer (SQLite).
    const LOCK_RESPONDENT: Option<&'static str>;

    /// Run first when the statistics are rebuilt: keeps submits from adding to them until
    /// the rebuild commits. `None` where the write transaction already excludes every other
    /// writer (SQLite).
    const LOCK_STATS: Option<&'static str>;

    /// Whether the database has SQL cursors (`DECLARE … CURSOR`, `FETCH`): then an export
    /// reads everything in one snapshot instead of page by page (see `crate::stream`).
    const CURSORS: bool;

    /// Run first in an export's transaction, before its cursor is declared (PostgreSQL:
    /// no JIT compilation; see `crate::stream`).
    const EXPORT_SETUP: Option<&'static str>;

    /// Whether each row a query returns is costly to hand over (sqlx's SQLite driver copies
    /// every value on its own thread and sends rows one at a time): then reads of many small
    /// rows fetch them packed, one text per unit (see `crate::aggregates`).
    const COSTLY_ROWS: bool;

    /// A `FROM` item giving the elements of the JSON array in `column` as rows of `alias`,
    /// one column `value` (JSON; `value ->> n` reads its n-th cell as text or number).
    /// Joined with `,` after the table holding `column`.
    fn json_elements(column: &str, alias: &str) -> String;

    /// The texts of `line` (a text expression, one per row of a group) joined by
    /// `separator` (a text literal).
    fn group_lines(line: &str, separator: &str) -> String;

    /// `real` (an expression) as text that reads back to the same `f64`, bit for bit.
    fn exact_text(real: &str) -> String;

    /// A write transaction.
    fn write_tx(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, sqlx::Error>> + Send;

    /// A read-only transaction: all its reads see one snapshot.
    fn read_tx(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, sqlx::Error>> + Send;

    /// Where single-statement writes go.
    fn write_pool(&self) -> &Pool<Self::Db>;

    /// Where single-statement reads go (one statement sees one snapshot: no transaction).
    fn read_pool(&self) -> &Pool<Self::Db>;

    /// Closes the pools, waiting for calls in flight.
    fn close_pools(&self) -> impl Future<Output = ()> + Send;

    /// Another handle on the same pools and the same [`GroupCommit`]: what a batch task owns.
    fn share(&self) -> Self;

    /// Where session writes wait for a batch (see [`crate::group_commit`]).
    fn group_commit(&self) -> &Arc<GroupCommit>;

    /// Run first in the transaction of a batch of several writes: takes the locks its
    /// writes will take, in an order every batch follows, so that two batches sharing
    /// sessions or persons cannot each hold what the other waits for. `sessions`: the
    /// sessions saved or submitted; `submitting`: those submitted (their persons are locked
    /// as [`Backend::LOCK_RESPONDENT`] does); both sorted, without repeats. Nothing where the
    /// write transaction already excludes every other writer (SQLite).
    fn lock_batch(
        conn: &mut Connection<Self>,
        sessions: &[&str],
        submitting: &[&str],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Appended to the read of a batch's sessions (see [`crate::set_batch`]) to lock them as
    /// [`Backend::LOCK_SESSION`] does: ` FOR UPDATE` on PostgreSQL, nothing on SQLite.
    const FOR_UPDATE: &'static str;

    /// The advisory locks of the persons of the sessions a batch submits (sorted, without
    /// repeats), as [`Backend::lock_batch`] takes them after the sessions' rows.
    fn lock_persons(
        conn: &mut Connection<Self>,
        submitting: &[&str],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Runs `statement`, in which `{rows}` stands for the rows of `columns` as a relation
    /// `v` with the given column names (all columns of one length; nothing is run for no
    /// rows), and returns the rows it returns. PostgreSQL passes one array per column
    /// (`UNNEST($1::text[], …) AS v(…)`): one text, so one prepared statement, whatever the
    /// number of rows. SQLite binds the rows in a `WITH v(…) AS (VALUES …)` list, in chunks
    /// of a power of two rows, each size's text prepared once. A statement that needs a `WHERE` after `FROM {rows}`
    /// for SQLite to parse an `ON CONFLICT` writes `WHERE true`. `{keys}` stands for "is one
    /// of the values of the first column": PostgreSQL `= ANY($1)`, which it reads through an
    /// index whatever it believes of the table's size (a join with the unnested rows was
    /// planned as a scan of the whole table while it was young); SQLite `IN (SELECT … FROM v)`.
    ///
    /// `prepared`: keep the statement prepared (PostgreSQL). A statement whose plan
    /// depends on the size of the tables it joins (a read or an update by the rows' keys)
    /// passes `false`, and is planned at each run with its rows and the tables as they are:
    /// a prepared statement's generic plan, made while the tables were nearly empty (a new
    /// database), kept scanning them whole once they had grown.
    fn with_rows<T>(
        conn: &mut Connection<Self>,
        statement: &str,
        columns: &[(&str, Column<'_>)],
        prepared: bool,
    ) -> impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send
    where
        T: for<'r> FromRow<'r, <Self::Db as Database>::Row> + Send + Unpin;

    /// A failure that comes from racing another transaction (a deadlock the database broke),
    /// not from the batch's writes: the batch is run again.
    fn is_transient(error: &sqlx::Error) -> bool;

    // Statements built with a `QueryBuilder` run here rather than in the generic code: sqlx
    // borrows a builder for as long as its arguments live (SQLite's arguments may borrow the
    // bound values), and only with the concrete argument type can the compiler see that
    // dropping the builder afterwards is sound.

    /// Adds `rows` to their `shard` of statistics `table` (see [`crate::stats`]): a new key
    /// is inserted, an existing one incremented, in key order.
    fn add_stats(
        conn: &mut Connection<Self>,
        table: Table,
        shard: i64,
        rows: &[(Key<'_>, Sums)],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Runs a built statement once (not kept in the statement cache: see the module docs).
    fn execute(
        conn: &mut Connection<Self>,
        statement: QueryBuilder<'_, Self::Db>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// The rows of a built query; `persistent`: keep it in the statement cache.
    fn fetch_all<T>(
        conn: &mut Connection<Self>,
        query: QueryBuilder<'_, Self::Db>,
        persistent: bool,
    ) -> impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send
    where
        T: for<'r> FromRow<'r, <Self::Db as Database>::Row> + Send + Unpin;

    /// The one row of a built query (kept in the statement cache).
    fn fetch_one<T>(
        conn: &mut Connection<Self>,
        query: QueryBuilder<'_, Self::Db>,
    ) -> impl Future<Output = Result<T, sqlx::Error>> + Send
    where
        T: for<'r> FromRow<'r, <Self::Db as Database>::Row> + Send + Unpin;
}

/// The connection type of a backend's database.
pub(crate) type Connection<B> = <<B as Backend>::Db as Database>::Connection;

#[async_trait::async_trait]
impl<B: Backend> Store for B
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
    fn backend(&self) -> &'static str {
        B::NAME
    }

    async fn start_session(&self, new: NewSession) -> Result<Session, StoreError> {
        Batches::start(self, new).await
    }

    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Sessions::read(self, id).await
    }

    async fn save_answers(
        &self,
        session_id: &str,
        request_id: &str,
        answers: &[(String, String)],
    ) -> Result<SaveOutcome, StoreError> {
        Batches::save(self, session_id, request_id, answers).await
    }

    async fn submit(
        &self,
        session_id: &str,
        answers_version: i64,
        result: NewResult,
    ) -> Result<StoredResult, StoreError> {
        Batches::submit(self, session_id, answers_version, result).await
    }

    async fn add_revision(
        &self,
        session_id: &str,
        result: NewResult,
    ) -> Result<StoredResult, StoreError> {
        Results::add_revision(self, session_id, result).await
    }

    async fn latest_result(&self, session_id: &str) -> Result<Option<StoredResult>, StoreError> {
        Results::latest(self, session_id).await
    }

    async fn result_revisions(&self, session_id: &str) -> Result<Vec<StoredResult>, StoreError> {
        Results::revisions(self, session_id).await
    }

    async fn results_page(
        &self,
        filter: &ResultFilter,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<StoredResult>, StoreError> {
        Results::page(self, filter, after, limit).await
    }

    fn stream_results(
        &self,
        filter: ResultFilter,
        detail: StreamDetail,
    ) -> tokio::sync::mpsc::Receiver<Result<Vec<StoredResult>, StoreError>> {
        let (batches, receiver) = tokio::sync::mpsc::channel(2);
        tokio::spawn(Stream::<B>::run(self.share(), filter, detail, batches));
        receiver
    }

    async fn submitted_sessions(
        &self,
        instrument_id: &str,
        instrument_version: &str,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<Session>, StoreError> {
        Sessions::submitted_page(self, instrument_id, instrument_version, after, limit).await
    }

    async fn aggregate(&self, filter: &ResultFilter) -> Result<Aggregate, StoreError> {
        Aggregates::sums(self, filter).await
    }

    async fn unit_counts(&self, filter: &ResultFilter) -> Result<Vec<(String, u64)>, StoreError> {
        Aggregates::unit_counts(self, filter).await
    }

    async fn unit_aggregates(
        &self,
        filter: &ResultFilter,
    ) -> Result<Vec<(String, Aggregate)>, StoreError> {
        Aggregates::sums_by_unit(self, filter).await
    }

    async fn unit_day_counts(
        &self,
        filter: &ResultFilter,
    ) -> Result<Vec<(String, i64, u64)>, StoreError> {
        Aggregates::unit_day_counts(self, filter).await
    }

    async fn check_stats(&self) -> Result<StatsCheck, StoreError> {
        stats::check(self).await
    }

    async fn rebuild_stats(&self) -> Result<u64, StoreError> {
        stats::rebuild(self).await
    }

    async fn create_invitations(&self, new: &[NewInvitation]) -> Result<(), StoreError> {
        Invitations::create(self, new).await
    }

    async fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, StoreError> {
        Invitations::by_token(self, token_sha256).await
    }

    async fn invitation_session(
        &self,
        token_sha256: &str,
        new: NewSession,
    ) -> Result<String, StoreError> {
        Invitations::session(self, token_sha256, new).await
    }

    async fn revoke_invitations(&self, which: &Revocation) -> Result<u64, StoreError> {
        Invitations::revoke(self, which).await
    }

    async fn record_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        Audit::record(self, entry).await
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        Audit::log(self, query).await
    }

    async fn claim_server_token(
        &self,
        name: &str,
        sha256: &str,
    ) -> Result<ClaimedToken, StoreError> {
        Tokens::claim(self, name, sha256).await
    }

    /// Writes already handed to a batch are committed (or fail) first.
    async fn close(&self) {
        self.group_commit().close().await;
        self.close_pools().await;
    }
}
