//! SQLite: the embedded default.

use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, FromRow, QueryBuilder, Sqlite, Transaction};

use crate::backend::{Backend, Column};
use crate::error::db_err;
use crate::group_commit::GroupCommit;
use crate::stats::{self, Key, Sums, Table};
use crate::{OpenOptions, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// Values bound in one statement, under SQLite's limit (32766).
const MAX_BINDS: usize = 32_000;

/// Most rows in one statement of [`Backend::with_rows`] (a power of two).
const MAX_CHUNK: usize = 64;

/// The SQLite store: one file in WAL mode with `synchronous=FULL` (an acknowledged write has
/// reached the disk), foreign keys on. Writes go through one dedicated connection, each in a
/// `BEGIN IMMEDIATE` transaction (so concurrent writers queue instead of failing with
/// `SQLITE_BUSY`; another process on the same file waits up to the busy timeout); reads use a
/// pool of reader connections that WAL lets run beside the writer. Starts, saves and submits
/// that arrive together share one transaction and one commit (see `group_commit`).
pub struct SqliteStore {
    writer: SqlitePool,
    /// The writer itself for an in-memory database (one connection holds it).
    reader: SqlitePool,
    /// One batch at a time: there is one writer.
    commits: Arc<GroupCommit>,
}

impl SqliteStore {
    /// Opens `url` (`sqlite://path`, `sqlite:path` or `sqlite::memory:`), creating the file
    /// and its directory if missing, and applies the migrations.
    pub async fn open(url: &str, options: &OpenOptions) -> Result<Self, StoreError> {
        let memory = is_memory(url);
        let mut connect = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(format!("`sqlite:` URL '{url}': {e}")))?
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            .synchronous(SqliteSynchronous::Full);
        let location = if memory {
            "an in-memory database".to_owned()
        } else {
            connect = connect
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            let file = connect.get_filename().to_owned();
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Database {
                    backend: Self::NAME,
                    context: format!("creating the directory '{}'", dir.display()),
                    source: sqlx::Error::Io(e),
                })?;
            }
            create_private(&file).map_err(|e| StoreError::Database {
                backend: Self::NAME,
                context: format!("creating the database file '{}'", file.display()),
                source: sqlx::Error::Io(e),
            })?;
            format!("'{}'", file.display())
        };

        let mut writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout);
        if memory {
            // The database lives as long as its one connection.
            writer = writer
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let writer = while_busy(options.busy_timeout, || {
            writer.clone().connect_with(connect.clone())
        })
        .await
        .map_err(db_err(Self::NAME, format!("opening {location}")))?;
        Self::migrate(&writer, &location).await?;
        let reader = if memory {
            writer.clone()
        } else {
            let readers = SqlitePoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.acquire_timeout);
            while_busy(options.busy_timeout, || {
                readers.clone().connect_with(connect.clone())
            })
            .await
            .map_err(db_err(
                Self::NAME,
                format!("opening {location} for reading"),
            ))?
        };
        tracing::debug!(database = %location, "sqlite store open");
        Ok(SqliteStore {
            writer,
            reader,
            commits: GroupCommit::new(1),
        })
    }

    /// All migrations in one `BEGIN IMMEDIATE` transaction: a second process opening the
    /// same new file waits, then finds them applied.
    async fn migrate(writer: &SqlitePool, location: &str) -> Result<(), StoreError> {
        let err = || db_err(Self::NAME, format!("migrating {location}"));
        let mut conn = writer.acquire().await.map_err(err())?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(err())?;
        // `run_direct` rather than `run`: the latter's `Acquire` bound makes the future of
        // `open` not `Send` (a compiler limitation sqlx documents at `run_direct`).
        MIGRATOR
            .run_direct(&mut *tx)
            .await
            .map_err(|source| StoreError::Migration {
                backend: Self::NAME,
                source,
            })?;
        tx.commit().await.map_err(err())
    }
}

impl Backend for SqliteStore {
    type Db = Sqlite;
    const NAME: &'static str = "sqlite";
    const LOCK_SESSION: &'static str = "SELECT state FROM sessions WHERE id = $1";
    const LOCK_SESSION_FOR_SAVE: &'static str = "SELECT s.state, r.answers, s.answers FROM sessions s \
         LEFT JOIN save_requests r ON r.session_id = s.id AND r.request_id = $2 \
         WHERE s.id = $1";
    /// `BEGIN IMMEDIATE` already makes every write transaction the only one.
    const LOCK_RESPONDENT: Option<&'static str> = None;
    const LOCK_STATS: Option<&'static str> = None;
    const CURSORS: bool = false;
    const EXPORT_SETUP: Option<&'static str> = None;
    const COSTLY_ROWS: bool = true;

    fn json_elements(column: &str, alias: &str) -> String {
        format!("json_each({column}) AS {alias}")
    }

    fn group_lines(line: &str, separator: &str) -> String {
        format!("group_concat({line}, {separator})")
    }

    fn exact_text(real: &str) -> String {
        // SQLite prints 15 significant digits unless told (`!`: all 17 a double needs).
        format!("printf('%!.17g', {real})")
    }

    /// `BEGIN IMMEDIATE` on the one writer connection: writers queue for the write lock at
    /// the start instead of failing with `SQLITE_BUSY` when a read turns into a write.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// A deferred transaction: in WAL mode its reads share one snapshot.
    async fn read_tx(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.reader.begin().await
    }

    fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// The readers (the writer itself for an in-memory database).
    fn read_pool(&self) -> &SqlitePool {
        &self.reader
    }

    async fn close_pools(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    fn share(&self) -> Self {
        SqliteStore {
            writer: self.writer.clone(),
            reader: self.reader.clone(),
            commits: Arc::clone(&self.commits),
        }
    }

    fn group_commit(&self) -> &Arc<GroupCommit> {
        &self.commits
    }

    /// Nothing to take: `BEGIN IMMEDIATE` holds the database's write lock.
    async fn lock_batch(
        _conn: &mut SqliteConnection,
        _sessions: &[&str],
        _submitting: &[&str],
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    const FOR_UPDATE: &'static str = "";

    /// Nothing to take: `BEGIN IMMEDIATE` holds the database's write lock.
    async fn lock_persons(
        _conn: &mut SqliteConnection,
        _submitting: &[&str],
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// The rows bound in a `VALUES` list, in chunks of a power of two rows (largest first,
    /// at most [`MAX_CHUNK`]): few distinct texts, each prepared once and kept in the
    /// connection's statement cache, where a list of every row would be parsed and planned
    /// again at each batch (its text changes with the number of rows).
    async fn with_rows<T>(
        conn: &mut SqliteConnection,
        statement: &str,
        columns: &[(&str, Column<'_>)],
        _prepared: bool,
    ) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    {
        let rows = columns.first().map_or(0, |(_, c)| c.len());
        if rows == 0 {
            return Ok(Vec::new());
        }
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let head = format!("WITH v({}) AS (", names.join(", "));
        let keys = format!("IN (SELECT {} FROM v)", names[0]);
        let tail = format!(
            ") {}",
            statement.replace("{rows}", "v").replace("{keys}", &keys)
        );
        let most = (MAX_BINDS / columns.len()).clamp(1, MAX_CHUNK);
        let mut out = Vec::new();
        let mut first = 0;
        while first < rows {
            let left = (rows - first).min(most);
            // The largest power of two not above what is left.
            let chunk = 1 << (usize::BITS - 1 - left.leading_zeros());
            let mut qb = QueryBuilder::<Sqlite>::new(&head);
            qb.push_values(first..first + chunk, |mut row, i| {
                for (_, column) in columns {
                    match column {
                        Column::Text(v) => row.push_bind(v[i]),
                        Column::OptText(v) => row.push_bind(v[i]),
                        Column::Int(v) => row.push_bind(v[i]),
                        Column::OptInt(v) => row.push_bind(v[i]),
                        Column::OptFloat(v) => row.push_bind(v[i]),
                    };
                }
            });
            qb.push(&tail);
            out.extend(qb.build_query_as::<T>().fetch_all(&mut *conn).await?);
            first += chunk;
        }
        Ok(out)
    }

    /// One writer: no transaction of this store races another into a deadlock.
    fn is_transient(_error: &sqlx::Error) -> bool {
        false
    }

    /// One multi-row `INSERT … ON CONFLICT` per chunk of rows.
    async fn add_stats(
        conn: &mut SqliteConnection,
        table: Table,
        shard: i64,
        rows: &[(Key<'_>, Sums)],
    ) -> Result<(), sqlx::Error> {
        stats::upsert_values::<Self>(conn, table, shard, rows).await
    }

    async fn execute(
        conn: &mut SqliteConnection,
        mut statement: QueryBuilder<'_, Sqlite>,
    ) -> Result<(), sqlx::Error> {
        statement.build().persistent(false).execute(conn).await?;
        Ok(())
    }

    async fn fetch_all<T>(
        conn: &mut SqliteConnection,
        mut query: QueryBuilder<'_, Sqlite>,
        persistent: bool,
    ) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    {
        query
            .build_query_as()
            .persistent(persistent)
            .fetch_all(conn)
            .await
    }

    async fn fetch_one<T>(
        conn: &mut SqliteConnection,
        mut query: QueryBuilder<'_, Sqlite>,
    ) -> Result<T, sqlx::Error>
    where
        T: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    {
        query.build_query_as().fetch_one(conn).await
    }
}

/// Retries `connect` while SQLite answers `SQLITE_BUSY` at once, up to `patience`.
///
/// The busy timeout covers ordinary locks, but a connection that switches a new file to WAL
/// (or finds another one doing so, or recovering the WAL index) gets `SQLITE_BUSY` without the
/// busy handler being called — seen when several servers start on one new file together.
async fn while_busy<F, Fut>(patience: Duration, mut connect: F) -> Result<SqlitePool, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<SqlitePool, sqlx::Error>>,
{
    let deadline = Instant::now() + patience;
    let mut pause = Duration::from_millis(5);
    loop {
        match connect().await {
            Err(e) if is_busy(&e) && Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// `SQLITE_BUSY` or one of its extended codes (`SQLITE_BUSY_RECOVERY`, `_SNAPSHOT`, `_TIMEOUT`).
fn is_busy(e: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i64 = 5;
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|code| code.parse::<i64>().ok())
        .is_some_and(|code| code & 0xff == SQLITE_BUSY)
}

/// Creates the database file, empty, readable and writable by its owner only (0600), unless
/// it exists. Left to SQLite, it would get the umask's mode (usually 0644: every local user
/// could read every answer); the `-wal` and `-shm` files SQLite creates beside it take the
/// database file's mode. An existing file keeps its mode (the operator's choice), with a
/// warning when others may read it.
fn create_private(file: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The umask can only take bits away from 0600.
        options.mode(0o600);
    }
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_readable_by_others(file);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Warns about an existing database file that group or others may read.
fn warn_if_readable_by_others(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(file) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    database = %file.display(),
                    mode = format_args!("{mode:o}"),
                    "the database file is readable by other users; `chmod 600` it \
                     (and its -wal and -shm files)"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = file;
}

/// `sqlite::memory:` or a URL asking for `mode=memory`.
fn is_memory(url: &str) -> bool {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory")
}

#[cfg(test)]
mod tests {
    use super::is_memory;

    #[test]
    fn memory_urls() {
        assert!(is_memory("sqlite::memory:"));
        assert!(is_memory("sqlite://:memory:"));
        assert!(is_memory("sqlite://x.db?mode=memory"));
        assert!(!is_memory("sqlite://x.db"));
        assert!(!is_memory("sqlite:///var/lib/ikd/ikd.db?mode=rwc"));
    }
}
