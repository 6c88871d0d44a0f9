//! # ikd-store
//!
//! Persistence of the IKD platform: assessment sessions, their answers and every revision of
//! their results, behind one object-safe [`Store`] trait with two implementations:
//!
//! * [`SqliteStore`]: the embedded default, one file (`sqlite://path`, created on first run;
//!   `sqlite::memory:` for tests), WAL journal, `synchronous=FULL`, foreign keys on, writes
//!   serialised through one connection inside `BEGIN IMMEDIATE` transactions;
//! * [`PgStore`]: PostgreSQL (`postgres://…` or `postgresql://…`) for many stateless server
//!   replicas sharing one database.
//!
//! Both run their embedded migrations at start-up ([`open`]); on PostgreSQL the migrator holds
//! an advisory lock, so several servers may start at once. On both, starts, saves and
//! submits that arrive together are group-committed: one transaction and one commit for all
//! of them, each caller answered after that commit, a refused write failing alone. The store knows nothing of plugins
//! or scoring: the caller scores and hands over the result to keep.
//!
//! What is kept: the raw answers of every save (its request's cells, append-only, besides the
//! session's latest value per item; both packed into one column, see `packed`), every result revision (submit = revision 1, each rescore adds one), the
//! instrument id, version and sha256 of the session, and the provenance of each result.
//! Nothing a later rescore needs is updated in place.
//!
//! **One person, one weight.** A person (one `respondent_key`) may submit several sessions of
//! the same instrument id and version — a re-take; only their latest submitted session (the
//! greatest `submitted_at`, ties broken by the greater session id) counts in
//! [`Store::results_page`], [`Store::aggregate`] and [`Store::unit_counts`], and so in exports
//! and reports. Otherwise whoever re-takes the instrument would weigh two or three times in
//! their unit's mean. The earlier sessions are kept and stay readable ([`Store::session`],
//! [`Store::latest_result`], [`Store::result_revisions`]), and [`Store::submitted_sessions`]
//! still lists them for rescoring. The submit that makes a session the latest records, in
//! its own transaction, that it supersedes the previous one (on PostgreSQL under a lock on
//! the person, so two racing submits leave exactly one counting).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ikd_store::StoreError> {
//! use ikd_store::{NewResult, NewSession, ResultFilter};
//!
//! // In production: "sqlite://data/ikd.db" or "postgres://ikd@db.example/ikd".
//! let store = ikd_store::open("sqlite::memory:").await?;
//! let session = store
//!     .start_session(NewSession {
//!         instrument_id: "ikd-asn".into(),
//!         instrument_version: "1.0.0".into(),
//!         instrument_sha256: "9f2c…".into(),
//!         respondent_key: "5e1a…".into(), // an HMAC pseudonym, never a name or NIP
//!         org_unit: "36.72/diskominfo".into(),
//!     })
//!     .await?;
//! // Saves are idempotent by request id: a retried request changes nothing.
//! let answers = vec![("lit01".to_owned(), "4".to_owned())];
//! store.save_answers(&session.id, "req-1", &answers).await?;
//! let outcome = store.save_answers(&session.id, "req-1", &answers).await?;
//! assert!(outcome.replayed);
//!
//! // The server scores the answers it read, then submits them with their version: exactly
//! // one submit wins, and only if no save came in between.
//! let result = NewResult {
//!     model: "weighted-index".into(),
//!     model_version: "1.0.0".into(),
//!     index: Some(71.5),
//!     level: Some("3".into()),
//!     provenance_json: "{}".into(),
//!     ..NewResult::default()
//! };
//! let session = store.session(&session.id).await?.expect("stored");
//! assert_eq!(session.answers_version, 1);
//! let stored = store.submit(&session.id, session.answers_version, result).await?;
//! assert_eq!(stored.revision, 1);
//!
//! // Aggregates are computed by the database over the latest revision of each result.
//! let filter = ResultFilter { org_prefix: "36.72".into(), ..ResultFilter::default() };
//! let totals = store.aggregate(&filter).await?;
//! assert_eq!(totals.n, 1);
//! # Ok(())
//! # }
//! ```
//!
//! ## Layout
//!
//! One module per thing stored, each with its SQL, row types, checks and operations:
//! `sessions` (sessions, answers, save requests; `packed` is the text their cells are kept
//! in), `results` (revisions, pages; `result_row` holds a revision's domains, indicator
//! scores and provenance key in its row), `aggregates` (sums, unit counts), `audit`;
//! `filter` is the [`ResultFilter`] rule
//! they share and `error` builds [`StoreError`]s; `group_commit` batches the session
//! writes. The operations are written once, generic over `backend::Backend`; `sqlite` and
//! `postgres` hold only what differs (opening, migrating, transactions, session and person
//! locks, the locks a batch takes ahead). The `bench` feature adds `bench`
//! (`ikd bench grpc`'s yardstick), which is not part of the store.
//!
//! ## Organisation-unit prefixes
//!
//! Units are hierarchical codes (`36.72`, `36.72.01`, `36.72/diskominfo`). A prefix `p`
//! matches a unit `u` iff `u == p` or `u` starts with `p` followed by `.` or `/`; the empty
//! prefix matches every unit. So `36.7` does not match `36.72`. Because `.`, `/` and `0` are
//! consecutive bytes (0x2E, 0x2F, 0x30), "starts with `p.` or `p/`" is the byte range
//! `[p + ".", p + "0")`. The store tests `u >= p AND u < p || '0' AND (u = p OR u >= p || '.')`
//! with binary collation (`COLLATE "C"` columns on PostgreSQL): one index range scan, no LIKE
//! escaping (`_`, `%` and `\` in a prefix are plain bytes), case-sensitive.

use std::sync::Arc;
use std::time::Duration;

mod aggregates;
mod audit;
mod backend;
mod batch_plan;
#[cfg(feature = "bench")]
pub mod bench;
pub mod bulk;
mod error;
mod filter;
mod group_commit;
mod invitations;
mod packed;
mod postgres;
mod result_row;
mod results;
mod sessions;
mod set_batch;
mod sqlite;
pub(crate) mod stats;
mod stream;
mod tokens;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Re-exported so that callers can implement [`Store`] (e.g. a test double) with the macro
/// the trait is declared with.
pub use async_trait::async_trait;

/// Opens (and migrates) the store at `url` with default [`OpenOptions`].
///
/// * `sqlite://path` or `sqlite:path` (relative to the working directory; `sqlite:///abs` for
///   an absolute path): the file and its parent directory are created if missing;
/// * `sqlite::memory:`: a private in-memory database (tests), lost when the store is dropped;
/// * `postgres://…` or `postgresql://…`: an existing database; the schema is created or
///   upgraded by the embedded migrations, under an advisory lock.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, &OpenOptions::default()).await
}

/// [`open`] with explicit pool settings.
pub async fn open_with(url: &str, options: &OpenOptions) -> Result<Arc<dyn Store>, StoreError> {
    match url_scheme(url) {
        Some("sqlite") => {
            let store = SqliteStore::open(url, options).await?;
            stats::rebuild_if_missing(&store).await?;
            Ok(Arc::new(store))
        }
        Some("postgres" | "postgresql") => {
            let store = PgStore::open(url, options).await?;
            stats::rebuild_if_missing(&store).await?;
            Ok(Arc::new(store))
        }
        Some(other) => Err(StoreError::InvalidUrl(format!(
            "unsupported URL scheme `{other}:`; expected `sqlite://path`, `sqlite::memory:` \
             or `postgres://…`"
        ))),
        None => Err(StoreError::InvalidUrl(
            "no URL scheme (expected `sqlite://path`, `sqlite::memory:` or `postgres://…`)"
                .to_owned(),
        )),
    }
}

/// The scheme of `url` (before the first `:`), if it looks like one. Never the rest of the
/// URL: it may hold a password.
fn url_scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let valid = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// Pool settings for [`open_with`].
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Largest number of pooled connections. PostgreSQL: the whole pool. SQLite: the readers;
    /// writes go through one more, dedicated connection (an in-memory database uses a single
    /// connection for everything).
    pub max_connections: u32,
    /// How long a call waits for a free connection before failing.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a write waits for another process holding the write lock.
    pub busy_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// A session to start.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewSession {
    pub instrument_id: String,
    pub instrument_version: String,
    /// The sha256 of the instrument file: its identity.
    pub instrument_sha256: String,
    /// Already a pseudonym (HMAC, hex): the store never sees who the respondent is.
    pub respondent_key: String,
    /// Hierarchical organisation unit (`36.72/diskominfo`), used for access control.
    pub org_unit: String,
}

/// An invitation to store: one link for one respondent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewInvitation {
    /// A non-secret handle (administrators revoke by it); unique.
    pub id: String,
    /// SHA-256 (hex) of the link's token; the token itself is never stored.
    pub token_sha256: String,
    pub instrument_id: String,
    pub instrument_version: String,
    /// Already a pseudonym, as [`NewSession::respondent_key`].
    pub respondent_key: String,
    pub org_unit: String,
    /// Unix milliseconds after which the link no longer opens.
    pub expires_at: i64,
}

/// A stored invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub token_sha256: String,
    pub instrument_id: String,
    pub instrument_version: String,
    pub respondent_key: String,
    pub org_unit: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The session started at the first visit.
    pub session_id: Option<String>,
}

/// Which invitations to revoke: those with one of `ids` or of one of
/// `respondent_keys`, of `instrument_id` (any when empty), under `org_prefix`.
#[derive(Debug, Clone, Default)]
pub struct Revocation {
    pub ids: Vec<String>,
    pub respondent_keys: Vec<String>,
    pub instrument_id: String,
    pub org_prefix: String,
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// Answers may be saved.
    Open,
    /// Submitted and scored: answers are frozen; only rescores add result revisions.
    Submitted,
}

impl SessionState {
    /// The code stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Open => "open",
            SessionState::Submitted => "submitted",
        }
    }
}

/// A stored session with its current answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// UUID v4, lower-case hyphenated.
    pub id: String,
    pub instrument_id: String,
    pub instrument_version: String,
    pub instrument_sha256: String,
    pub respondent_key: String,
    pub org_unit: String,
    pub state: SessionState,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; equal to the `created_at` of result revision 1.
    pub submitted_at: Option<i64>,
    /// How many saves have been applied (replays not counted), read in the same snapshot as
    /// `answers`: pass it to [`Store::submit`] so that the result is stored only if these
    /// are still the session's answers.
    pub answers_version: i64,
    /// Item id → raw cell, the latest value per item, sorted by item id (byte order).
    pub answers: Vec<(String, String)>,
}

/// What [`Store::save_answers`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveOutcome {
    /// The request id had already been applied: nothing changed.
    pub replayed: bool,
    /// Distinct items of the session with an answer now.
    pub answers_stored: u32,
}

/// A result to store (the caller scored it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewResult {
    pub model: String,
    pub model_version: String,
    pub index: Option<f64>,
    pub index_se: Option<f64>,
    /// Level code of the index.
    pub level: Option<String>,
    /// In instrument order; codes are unique.
    pub domains: Vec<DomainScore>,
    /// Quality flags.
    pub flags: Vec<String>,
    /// Each indicator's score (in instrument order; (domain, code) unique), for the
    /// organisation reports' weakest indicators. Empty when the caller keeps none.
    pub indicators: Vec<IndicatorScore>,
    /// Kept once per distinct JSON, however many results share it.
    pub provenance_json: String,
}

/// One indicator's score in a result: the respondent's answered items of the indicator, each
/// as a percentage of its score range, weighted (0–100).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndicatorScore {
    pub domain: String,
    pub code: String,
    /// `None`: no item of the indicator was answered.
    pub score: Option<f64>,
}

/// One domain of a result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainScore {
    pub code: String,
    /// `None`: too few answers to score the domain (missing is never 0).
    pub score: Option<f64>,
    pub se: Option<f64>,
    pub level: Option<String>,
    /// Items of the domain that were answered.
    pub answered: u32,
    /// Answers the missing-data rule needed for a score (0: no item applied);
    /// `None` for a result stored before this was kept.
    pub needed: Option<u32>,
}

/// A stored result revision.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResult {
    pub session_id: String,
    /// 1 for the submit, 2.. for rescores.
    pub revision: u32,
    pub instrument_id: String,
    pub instrument_version: String,
    pub instrument_sha256: String,
    pub org_unit: String,
    pub respondent_key: String,
    /// When the session was submitted (= `created_at` of revision 1): the first half of the
    /// [`Store::results_page`] cursor.
    pub submitted_at: i64,
    /// When this revision was stored (Unix milliseconds).
    pub created_at: i64,
    pub model: String,
    pub model_version: String,
    pub index: Option<f64>,
    pub index_se: Option<f64>,
    pub level: Option<String>,
    pub domains: Vec<DomainScore>,
    pub flags: Vec<String>,
    /// Shared by the results of one scoring run where they are read together (an export
    /// holds one copy per distinct provenance, not one per result).
    pub provenance_json: Arc<str>,
}

impl StoredResult {
    /// The [`Store::results_page`] cursor after this result.
    pub fn cursor(&self) -> (i64, String) {
        (self.submitted_at, self.session_id.clone())
    }
}

/// What [`Store::stream_results`] reads of each result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamDetail {
    /// Everything a [`StoredResult`] holds.
    Full,
    /// Scores, levels and flags: `provenance_json` and `instrument_sha256` may be left empty
    /// and `created_at` 0, which the database then neither reads out nor sends.
    Scores,
}

/// Which results [`Store::results_page`] and [`Store::aggregate`] consider, among those that
/// count (one per person: see the crate docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResultFilter {
    /// Organisation-unit prefix (see the crate docs); `""` matches all.
    pub org_prefix: String,
    pub instrument_id: Option<String>,
    /// Submission time (= `created_at` of revision 1, so a rescore does not move a result
    /// in time), `[from, to)`, Unix milliseconds. Applied after the re-taking rule: a person
    /// whose latest session falls outside the window is not in it, even with an earlier
    /// session inside.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Sums over the latest revision of each matching result; means and SDs follow from them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Aggregate {
    /// Results.
    pub n: u64,
    /// Results with an index (a missing index counts in `n` only).
    pub index_n: u64,
    pub index_sum: f64,
    pub index_sum_sq: f64,
    /// Results per index level code, sorted by code; results without a level are not counted.
    pub levels: Vec<(String, u64)>,
    /// Per domain code, sorted by code.
    pub domains: Vec<DomainAggregate>,
    /// Results with an answer-quality flag.
    pub flagged: u64,
    /// Per (domain, indicator), sorted; only results that kept indicator scores count. Only
    /// [`Store::unit_aggregates`] fills it (organisation reports); [`Store::aggregate`]
    /// leaves it empty.
    pub indicators: Vec<IndicatorAggregate>,
}

/// Sums of one indicator's scores over the latest revision of each matching result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndicatorAggregate {
    pub domain: String,
    pub code: String,
    /// Results with a score for this indicator.
    pub n: u64,
    /// Results with this indicator but no score (none of its items answered).
    pub missing: u64,
    pub sum: f64,
    pub sum_sq: f64,
}

/// What [`Store::check_stats`] found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsCheck {
    /// Statistics rows recomputed from the results and compared.
    pub rows_compared: u64,
    /// One line per difference, naming the table and row; empty when they agree.
    pub problems: Vec<String>,
}

/// Sums of one domain over the latest revision of each matching result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainAggregate {
    pub code: String,
    /// Results with a score for this domain (missing scores do not count).
    pub n: u64,
    /// Results listing this domain without a score (too few answers).
    pub missing: u64,
    pub sum: f64,
    pub sum_sq: f64,
    /// Results per level code of this domain, sorted by code; no level = not counted.
    pub levels: Vec<(String, u64)>,
}

/// An administrative action to record in the audit log ([`Store::record_audit`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewAuditEntry {
    /// Who: a token's name or an OS user, never a secret.
    pub actor: String,
    /// What: a dotted code such as `rescore.started`.
    pub action: String,
    /// On what, e.g. `ikd-asn-2025@1.0.0`.
    pub target: String,
    /// Particulars as JSON text (an object, usually).
    pub detail_json: String,
}

/// A recorded audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Increases with every entry recorded.
    pub id: i64,
    /// When it was recorded, Unix milliseconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail_json: String,
}

/// Which audit entries [`Store::audit_log`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// Only entries with `at >= since` (Unix milliseconds).
    pub since: Option<i64>,
    /// At most this many (clamped to [`MAX_PAGE`]), the newest.
    pub limit: u32,
}

/// What [`Store::claim_server_token`] found or kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedToken {
    /// The hash every server on the database accepts (hex SHA-256).
    pub sha256: String,
    /// `true`: the claim's own hash was kept (this caller generated the token in use);
    /// `false`: an earlier (or concurrent) claim's hash was already there.
    pub created: bool,
}

/// Largest page [`Store::results_page`] and [`Store::submitted_sessions`] return; a larger
/// `limit` is clamped to it.
pub const MAX_PAGE: u32 = 10_000;

/// A store failure. Messages name the session, request or URL at fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} '{id}' not found")]
    NotFound { what: &'static str, id: String },
    #[error("session '{session}' is already submitted")]
    Submitted { session: String },
    /// [`Store::submit`]: a save was applied after the answers that were scored were read;
    /// re-read the session, score again and retry.
    #[error(
        "session '{session}': answers changed while it was being submitted (version \
         {expected} was scored, {actual} is stored)"
    )]
    AnswersChanged {
        session: String,
        expected: i64,
        actual: i64,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("invalid store URL: {0}")]
    InvalidUrl(String),
    /// A value the store refuses (empty request id, non-finite score, duplicate domain).
    #[error("{0}")]
    Invalid(String),
    /// Stored rows the store cannot read back (an unknown state, malformed flags): a bug or
    /// a hand-edited database, never the caller's fault.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{backend} database: {context}: {source}")]
    Database {
        backend: &'static str,
        /// What was being done, naming the session or request.
        context: String,
        source: sqlx::Error,
    },
    #[error("{backend} database: applying the schema migrations failed: {source}")]
    Migration {
        backend: &'static str,
        source: sqlx::migrate::MigrateError,
    },
}

/// Persistence of sessions, answers and results. Object safe: servers hold an
/// `Arc<dyn Store>` from [`open`].
#[async_trait]
pub trait Store: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Starts a session (state [`SessionState::Open`], new UUID v4 id, no answers).
    async fn start_session(&self, new: NewSession) -> Result<Session, StoreError>;

    /// The session with its latest answers, or `None`.
    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError>;

    /// Saves answers, idempotent by `(session, request_id)`: a replay changes nothing and
    /// returns `replayed = true` (even after the submit); a request id reused with different
    /// answers is a [`StoreError::Conflict`]. A later save overwrites earlier answers of the
    /// same item (within one save, the last value of an item wins); every save's raw values
    /// are kept with its request. An applied save adds 1 to the session's
    /// [`Session::answers_version`] in its own transaction. [`StoreError::Submitted`] if the
    /// session is submitted, [`StoreError::NotFound`] if absent.
    async fn save_answers(
        &self,
        session_id: &str,
        request_id: &str,
        answers: &[(String, String)],
    ) -> Result<SaveOutcome, StoreError>;

    /// Atomically: session Open → Submitted and result revision 1 stored, provided the
    /// session's [`Session::answers_version`] is still `answers_version` (the version of the
    /// answers `result` was computed from). So the result always reflects exactly the answers
    /// stored when the session became submitted: a save that commits first makes the submit
    /// fail with [`StoreError::AnswersChanged`] (nothing stored; the caller re-reads the
    /// session, scores again and retries), a save that comes later gets
    /// [`StoreError::Submitted`]. [`StoreError::Submitted`] when already submitted (also when
    /// two servers race: exactly one submit wins), [`StoreError::NotFound`] if absent.
    ///
    /// In the same transaction the re-taking rule is applied (see the crate docs): if the
    /// person already has a submitted session of this instrument id and version, whichever
    /// of the two is later by `(submitted_at, id)` counts from now on and the other is
    /// superseded — normally the one submitted now, but never one given an earlier time
    /// than a session that already counts.
    async fn submit(
        &self,
        session_id: &str,
        answers_version: i64,
        result: NewResult,
    ) -> Result<StoredResult, StoreError>;

    /// Stores a new revision (a rescore) of a submitted session; earlier revisions stay.
    /// [`StoreError::Conflict`] if the session is not submitted.
    async fn add_revision(
        &self,
        session_id: &str,
        result: NewResult,
    ) -> Result<StoredResult, StoreError>;

    /// The latest revision, or `None` (unknown or not submitted session). Also for a session
    /// its person has re-taken since: superseded sessions stay readable.
    async fn latest_result(&self, session_id: &str) -> Result<Option<StoredResult>, StoreError>;

    /// Every revision, oldest first.
    async fn result_revisions(&self, session_id: &str) -> Result<Vec<StoredResult>, StoreError>;

    /// The latest revision of each submitted session matching `filter` that counts (the
    /// latest session of its person, see the crate docs), ordered by
    /// `(submitted_at, session_id)` and keyset-paginated: `after` is
    /// [`StoredResult::cursor`] of the last result of the previous page. At most
    /// `min(limit, MAX_PAGE)` results.
    async fn results_page(
        &self,
        filter: &ResultFilter,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<StoredResult>, StoreError>;

    /// Every result [`Store::results_page`] would give for `filter`, in the same order, sent
    /// batch by batch (the channel holds two: a slow reader holds the database back) by a
    /// task of its own; a failure is the last message. For exports: on PostgreSQL it reads
    /// one snapshot through a cursor, at the database's pace, instead of page after page.
    fn stream_results(
        &self,
        filter: ResultFilter,
        detail: StreamDetail,
    ) -> tokio::sync::mpsc::Receiver<Result<Vec<StoredResult>, StoreError>>;

    /// Submitted sessions (with their answers) of an instrument id and version, ordered by
    /// session id and keyset-paginated (`after`: the last id of the previous page), for
    /// rescoring. All of them, also those their person has re-taken since: a rescore keeps
    /// every stored result current.
    async fn submitted_sessions(
        &self,
        instrument_id: &str,
        instrument_version: &str,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<Session>, StoreError>;

    /// Sums over the latest revision of every submitted session matching `filter` that
    /// counts (the latest session of its person, see the crate docs), read from the per-unit
    /// statistics the writes keep (a window that is not whole UTC days is summed from the
    /// results themselves): the cost grows with the number of units, not of results.
    async fn aggregate(&self, filter: &ResultFilter) -> Result<Aggregate, StoreError>;

    /// [`Store::aggregate`] of each organisation unit matching `filter` (exact units, in
    /// unit order): what an organisation report rolls up by prefix. The window, if any,
    /// must be whole UTC days ([`StoreError::Invalid`] otherwise).
    async fn unit_aggregates(
        &self,
        filter: &ResultFilter,
    ) -> Result<Vec<(String, Aggregate)>, StoreError>;

    /// Results per unit and UTC day of submission (`submitted_at / 86_400_000`), in unit
    /// and day order, for disclosure control's time-window cuts. The window, if any, must
    /// be whole UTC days.
    async fn unit_day_counts(
        &self,
        filter: &ResultFilter,
    ) -> Result<Vec<(String, i64, u64)>, StoreError>;

    /// Recomputes every per-unit statistic from the stored results and compares it with
    /// the one kept (one snapshot).
    async fn check_stats(&self) -> Result<StatsCheck, StoreError>;

    /// Replaces the per-unit statistics with ones recomputed from the stored results (after
    /// a bulk load, or to repair what [`Store::check_stats`] found); the rows written.
    async fn rebuild_stats(&self) -> Result<u64, StoreError>;

    /// The number of results (latest revisions of submitted sessions that count, one per
    /// person as in [`Store::aggregate`]) of each organisation unit matching `filter`, by
    /// unit, in unit order. A person who moved unit between sessions counts in the unit of
    /// their latest session only.
    async fn unit_counts(&self, filter: &ResultFilter) -> Result<Vec<(String, u64)>, StoreError>;

    /// Appends an entry to the audit log (administrative actions: who, what, when), stamped
    /// with the current time; returns it with its id. The log is append-only: there is no
    /// update or delete, and the schema refuses both. [`StoreError::Invalid`] for an empty
    /// actor or action, or a `detail_json` that is not JSON.
    async fn record_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError>;

    /// Audit entries recorded at or after `query.since` (all when `None`), **newest first**
    /// (by recording order), at most `min(query.limit, MAX_PAGE)` of them.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// Stores invitations, all or none ([`StoreError::Invalid`] for a blank
    /// field or an id given twice).
    async fn create_invitations(&self, new: &[NewInvitation]) -> Result<(), StoreError>;

    /// The invitation whose token has this SHA-256, or `None`.
    async fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, StoreError>;

    /// The id of the invitation's session: the one bound at an earlier visit,
    /// or `new` started and bound now, in one transaction (two first visits
    /// at once end with one session). The caller checks expiry and revocation.
    async fn invitation_session(
        &self,
        token_sha256: &str,
        new: NewSession,
    ) -> Result<String, StoreError>;

    /// Revokes the matching invitations not yet revoked; returns how many.
    async fn revoke_invitations(&self, which: &Revocation) -> Result<u64, StoreError>;

    /// Keeps `sha256` (hex SHA-256 of a token a server generated, never the token) as the
    /// hash of the server token `name`, unless one is already kept; returns the kept hash and
    /// whether it is the one given. Atomic: of servers claiming the same name at once, on one
    /// database, exactly one keeps its hash and every other gets that one. Used for the
    /// first-run admin token on PostgreSQL, so that replicas share it.
    /// [`StoreError::Invalid`] for an empty name or a hash that is not 64 hex digits.
    async fn claim_server_token(
        &self,
        name: &str,
        sha256: &str,
    ) -> Result<ClaimedToken, StoreError>;

    /// Closes the connection pools, waiting for calls in flight. Later calls fail.
    async fn close(&self) {}
}

/// Unix milliseconds now.
pub(crate) fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(url_scheme("sqlite://a.db"), Some("sqlite"));
        assert_eq!(url_scheme("sqlite::memory:"), Some("sqlite"));
        assert_eq!(url_scheme("postgresql://u:p@h/db"), Some("postgresql"));
        assert_eq!(url_scheme("/var/lib/ikd.db"), None);
        assert_eq!(url_scheme("ikd.db"), None);
        assert_eq!(url_scheme("C:\\x"), Some("C"));
    }

    /// Servers spawn these futures on a multi-threaded runtime.
    #[test]
    fn futures_are_send() {
        fn send<T: Send>(_: T) {}
        send(open("sqlite::memory:"));
        send(SqliteStore::open(
            "sqlite::memory:",
            &OpenOptions::default(),
        ));
        send(PgStore::open("postgres://h/db", &OpenOptions::default()));
    }

    #[tokio::test]
    async fn unknown_scheme_names_the_scheme_not_the_password() {
        let err = open("mysql://user:secret@host/db")
            .await
            .err()
            .expect("refused");
        let msg = err.to_string();
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{msg}");
        assert!(msg.contains("`mysql:`"), "{msg}");
        assert!(!msg.contains("secret"), "{msg}");
        let err = open("ikd.db").await.err().expect("refused");
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{err}");
    }
}
