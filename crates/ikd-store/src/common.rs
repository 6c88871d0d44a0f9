//! What both backends share: SQL text (written with `$n` placeholders, which SQLite accepts
//! too), row types, validation and the assembly of rows into the public types.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::{
    Aggregate, DomainAggregate, DomainScore, NewResult, ResultFilter, Session, SessionState,
    StoreError, StoredResult,
};

/// Longest accepted request id (bytes).
pub(crate) const MAX_REQUEST_ID: usize = 256;

/// Rows per multi-row INSERT: far below both backends' bind limits (SQLite 32766,
/// PostgreSQL 65535) at up to 8 binds a row.
pub(crate) const INSERT_CHUNK: usize = 1000;

pub(crate) const SESSION_COLUMNS: &str = "s.id, s.instrument_id, s.instrument_version, \
     s.instrument_sha256, s.respondent_key, s.org_unit, s.state, s.created_at, s.submitted_at, \
     s.answers_version";

/// Result columns; the query joins `sessions s` and `results r`.
pub(crate) const RESULT_COLUMNS: &str = "r.session_id, r.revision, s.instrument_id, \
     s.instrument_version, s.instrument_sha256, s.org_unit, s.respondent_key, s.submitted_at, \
     r.created_at, r.model, r.model_version, r.index_value, r.index_se, r.level, r.flags, \
     r.provenance_json, r.result_json";

pub(crate) const DOMAIN_COLUMNS: &str =
    "d.session_id, d.revision, d.position, d.code, d.score, d.se, d.level, d.answered";

pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (id, instrument_id, \
     instrument_version, instrument_sha256, respondent_key, org_unit, state, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)";

pub(crate) const SELECT_SESSION: &str = "SELECT s.id, s.instrument_id, s.instrument_version, \
     s.instrument_sha256, s.respondent_key, s.org_unit, s.state, s.created_at, s.submitted_at, \
     s.answers_version FROM sessions s WHERE s.id = $1";

pub(crate) const SELECT_ANSWERS: &str =
    "SELECT session_id, item_id, value FROM answers WHERE session_id = $1";

pub(crate) const COUNT_ANSWERS: &str = "SELECT COUNT(*) FROM answers WHERE session_id = $1";

pub(crate) const SELECT_SAVE_REQUEST: &str =
    "SELECT answers FROM save_requests WHERE session_id = $1 AND request_id = $2";

pub(crate) const SELECT_LOGGED_SAVE: &str = "SELECT item_id, value FROM answer_log \
     WHERE session_id = $1 AND request_id = $2 ORDER BY position";

pub(crate) const INSERT_SAVE_REQUEST: &str = "INSERT INTO save_requests \
     (session_id, request_id, saved_at, answers) VALUES ($1, $2, $3, $4)";

/// Bumps the answers version in the transaction of an applied save (see
/// [`SUBMIT_SESSION`]); on PostgreSQL the session's row lock is already held.
pub(crate) const BUMP_ANSWERS_VERSION: &str =
    "UPDATE sessions SET answers_version = answers_version + 1 WHERE id = $1";

/// Open → submitted, only if no save was applied since the answers that were scored were
/// read (`$3`: their version). On PostgreSQL a concurrent save holds the row lock; the
/// update waits for it and then re-checks the version against the committed row.
pub(crate) const SUBMIT_SESSION: &str = "UPDATE sessions \
     SET state = 'submitted', submitted_at = $2, latest_revision = 1 \
     WHERE id = $1 AND state = 'open' AND answers_version = $3 \
     RETURNING id, instrument_id, instrument_version, instrument_sha256, respondent_key, \
     org_unit, state, created_at, submitted_at, answers_version";

/// Why a submit updated nothing: the session's state and answers version (or no row).
pub(crate) const SESSION_STATE_VERSION: &str =
    "SELECT state, answers_version FROM sessions WHERE id = $1";

/// Takes the next revision number; on PostgreSQL the row lock it takes serialises concurrent
/// rescores of one session.
pub(crate) const NEXT_REVISION: &str = "UPDATE sessions \
     SET latest_revision = latest_revision + 1 \
     WHERE id = $1 AND state = 'submitted' \
     RETURNING id, instrument_id, instrument_version, instrument_sha256, respondent_key, \
     org_unit, state, created_at, submitted_at, answers_version, latest_revision";

pub(crate) const INSERT_RESULT: &str = "INSERT INTO results (session_id, revision, created_at, \
     model, model_version, index_value, index_se, level, flags, provenance_json, result_json) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

pub(crate) static LATEST_RESULT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {RESULT_COLUMNS} FROM sessions s \
         JOIN results r ON r.session_id = s.id AND r.revision = s.latest_revision \
         WHERE s.id = $1"
    )
});

pub(crate) static RESULT_REVISIONS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {RESULT_COLUMNS} FROM sessions s JOIN results r ON r.session_id = s.id \
         WHERE s.id = $1 ORDER BY r.revision"
    )
});

/// Domains of every revision of a session.
pub(crate) static SESSION_DOMAINS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {DOMAIN_COLUMNS} FROM result_domains d WHERE d.session_id = $1")
});

/// Domains of one revision of a session.
pub(crate) static REVISION_DOMAINS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {DOMAIN_COLUMNS} FROM result_domains d \
         WHERE d.session_id = $1 AND d.revision = $2"
    )
});

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id: String,
    pub instrument_id: String,
    pub instrument_version: String,
    pub instrument_sha256: String,
    pub respondent_key: String,
    pub org_unit: String,
    pub state: String,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub answers_version: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RevisionRow {
    #[sqlx(flatten)]
    pub session: SessionRow,
    pub latest_revision: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AnswerRow {
    pub session_id: String,
    pub item_id: String,
    pub value: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ResultRow {
    pub session_id: String,
    pub revision: i64,
    pub instrument_id: String,
    pub instrument_version: String,
    pub instrument_sha256: String,
    pub org_unit: String,
    pub respondent_key: String,
    pub submitted_at: i64,
    pub created_at: i64,
    pub model: String,
    pub model_version: String,
    pub index_value: Option<f64>,
    pub index_se: Option<f64>,
    pub level: Option<String>,
    pub flags: String,
    pub provenance_json: String,
    pub result_json: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct DomainRow {
    pub session_id: String,
    pub revision: i64,
    pub position: i64,
    pub code: String,
    pub score: Option<f64>,
    pub se: Option<f64>,
    pub level: Option<String>,
    pub answered: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct TotalsRow {
    pub n: i64,
    pub index_n: i64,
    pub index_sum: f64,
    pub index_sum_sq: f64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct LevelRow {
    pub level: String,
    pub n: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct DomainTotalsRow {
    pub code: String,
    pub n: i64,
    pub missing: i64,
    pub sum: f64,
    pub sum_sq: f64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct DomainLevelRow {
    pub code: String,
    pub level: String,
    pub n: i64,
}

/// Maps a database error, naming what was being done.
pub(crate) fn db_err(
    backend: &'static str,
    context: impl Into<String>,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Database {
        backend,
        context,
        source,
    }
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

fn to_u32(value: i64, what: impl FnOnce() -> String) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(format!("{} = {value} is out of range", what())))
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(crate) fn check_request_id(session_id: &str, request_id: &str) -> Result<(), StoreError> {
    if request_id.is_empty() {
        return Err(StoreError::Invalid(format!(
            "saving answers of session '{session_id}': the request id is empty"
        )));
    }
    if request_id.len() > MAX_REQUEST_ID {
        return Err(StoreError::Invalid(format!(
            "saving answers of session '{session_id}': the request id is longer than \
             {MAX_REQUEST_ID} bytes"
        )));
    }
    Ok(())
}

/// Refuses what the database could not keep faithfully (NaN and infinities: SQLite stores
/// NaN as NULL) or what would make aggregates ambiguous (a domain code twice).
pub(crate) fn check_result(session_id: &str, result: &NewResult) -> Result<(), StoreError> {
    let bad = |field: String, value: f64| {
        StoreError::Invalid(format!(
            "result of session '{session_id}': {field} is {value}, not a finite number"
        ))
    };
    for (field, value) in [("index", result.index), ("index_se", result.index_se)] {
        if let Some(v) = value.filter(|v| !v.is_finite()) {
            return Err(bad(field.to_owned(), v));
        }
    }
    let mut seen = HashMap::new();
    for (position, domain) in result.domains.iter().enumerate() {
        for (field, value) in [("score", domain.score), ("se", domain.se)] {
            if let Some(v) = value.filter(|v| !v.is_finite()) {
                return Err(bad(format!("domain '{}' {field}", domain.code), v));
            }
        }
        if let Some(first) = seen.insert(domain.code.as_str(), position) {
            return Err(StoreError::Invalid(format!(
                "result of session '{session_id}': domain '{}' appears twice (positions {first} \
                 and {position})",
                domain.code
            )));
        }
    }
    Ok(())
}

pub(crate) fn flags_json(result: &NewResult) -> String {
    serde_json::Value::from(result.flags.clone()).to_string()
}

/// The latest value per item of one save (the last occurrence wins), sorted by item id.
pub(crate) fn latest_per_item(answers: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut latest = BTreeMap::new();
    for (item, value) in answers {
        latest.insert(item.as_str(), value.as_str());
    }
    latest.into_iter().collect()
}

/// Why a submit of `session_id` at `expected` answers version updated no row, from the
/// session's state and version as stored (`None`: no such session).
pub(crate) fn submit_refusal(
    session_id: &str,
    expected: i64,
    found: Option<(String, i64)>,
) -> StoreError {
    match found {
        None => StoreError::NotFound {
            what: "session",
            id: session_id.to_owned(),
        },
        // Open, so the version was not the expected one (versions only grow).
        Some((state, actual)) if state == "open" => StoreError::AnswersChanged {
            session: session_id.to_owned(),
            expected,
            actual,
        },
        Some(_) => StoreError::Submitted {
            session: session_id.to_owned(),
        },
    }
}

pub(crate) fn parse_state(id: &str, state: &str) -> Result<SessionState, StoreError> {
    match state {
        "open" => Ok(SessionState::Open),
        "submitted" => Ok(SessionState::Submitted),
        other => Err(corrupt(format!("session '{id}' has state '{other}'"))),
    }
}

impl SessionRow {
    pub(crate) fn into_session(
        self,
        answers: Vec<(String, String)>,
    ) -> Result<Session, StoreError> {
        let state = parse_state(&self.id, &self.state)?;
        Ok(Session {
            state,
            id: self.id,
            instrument_id: self.instrument_id,
            instrument_version: self.instrument_version,
            instrument_sha256: self.instrument_sha256,
            respondent_key: self.respondent_key,
            org_unit: self.org_unit,
            created_at: self.created_at,
            submitted_at: self.submitted_at,
            answers_version: self.answers_version,
            answers,
        })
    }
}

/// Sessions with their answers (rows of any of them, any order), in the order of `rows`.
pub(crate) fn assemble_sessions(
    rows: Vec<SessionRow>,
    answers: Vec<AnswerRow>,
) -> Result<Vec<Session>, StoreError> {
    let mut by_session: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for a in answers {
        by_session
            .entry(a.session_id)
            .or_default()
            .push((a.item_id, a.value));
    }
    rows.into_iter()
        .map(|row| {
            let mut answers = by_session.remove(&row.id).unwrap_or_default();
            answers.sort_unstable();
            row.into_session(answers)
        })
        .collect()
}

/// A just-stored revision, built from what was written (no re-read).
pub(crate) fn stored_result(
    session: SessionRow,
    revision: u32,
    created_at: i64,
    result: NewResult,
) -> StoredResult {
    StoredResult {
        session_id: session.id,
        revision,
        instrument_id: session.instrument_id,
        instrument_version: session.instrument_version,
        instrument_sha256: session.instrument_sha256,
        org_unit: session.org_unit,
        respondent_key: session.respondent_key,
        submitted_at: session.submitted_at.unwrap_or(created_at),
        created_at,
        model: result.model,
        model_version: result.model_version,
        index: result.index,
        index_se: result.index_se,
        level: result.level,
        domains: result.domains,
        flags: result.flags,
        provenance_json: result.provenance_json,
        result_json: result.result_json,
    }
}

/// Results in the order of `rows`, each with its domains (rows of other revisions ignored).
pub(crate) fn assemble_results(
    rows: Vec<ResultRow>,
    domains: Vec<DomainRow>,
) -> Result<Vec<StoredResult>, StoreError> {
    let mut by_result: HashMap<(String, i64), Vec<DomainRow>> = HashMap::new();
    for d in domains {
        by_result
            .entry((d.session_id.clone(), d.revision))
            .or_default()
            .push(d);
    }
    rows.into_iter()
        .map(|row| {
            let mut rows = by_result
                .remove(&(row.session_id.clone(), row.revision))
                .unwrap_or_default();
            rows.sort_unstable_by_key(|d| d.position);
            let domains = rows
                .into_iter()
                .map(|d| {
                    Ok(DomainScore {
                        answered: to_u32(d.answered, || {
                            format!(
                                "answered of domain '{}' of session '{}'",
                                d.code, d.session_id
                            )
                        })?,
                        code: d.code,
                        score: d.score,
                        se: d.se,
                        level: d.level,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let flags: Vec<String> = serde_json::from_str(&row.flags).map_err(|e| {
                corrupt(format!(
                    "flags of session '{}' revision {}: {e}",
                    row.session_id, row.revision
                ))
            })?;
            Ok(StoredResult {
                revision: to_u32(row.revision, || {
                    format!("revision of session '{}'", row.session_id)
                })?,
                session_id: row.session_id,
                instrument_id: row.instrument_id,
                instrument_version: row.instrument_version,
                instrument_sha256: row.instrument_sha256,
                org_unit: row.org_unit,
                respondent_key: row.respondent_key,
                submitted_at: row.submitted_at,
                created_at: row.created_at,
                model: row.model,
                model_version: row.model_version,
                index: row.index_value,
                index_se: row.index_se,
                level: row.level,
                domains,
                flags,
                provenance_json: row.provenance_json,
                result_json: row.result_json,
            })
        })
        .collect()
}

pub(crate) fn assemble_aggregate(
    totals: TotalsRow,
    levels: Vec<LevelRow>,
    domains: Vec<DomainTotalsRow>,
    domain_levels: Vec<DomainLevelRow>,
) -> Aggregate {
    let mut by_domain: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    for row in domain_levels {
        by_domain
            .entry(row.code)
            .or_default()
            .push((row.level, to_u64(row.n)));
    }
    Aggregate {
        n: to_u64(totals.n),
        index_n: to_u64(totals.index_n),
        index_sum: totals.index_sum,
        index_sum_sq: totals.index_sum_sq,
        levels: levels.into_iter().map(|l| (l.level, to_u64(l.n))).collect(),
        domains: domains
            .into_iter()
            .map(|d| DomainAggregate {
                levels: by_domain.remove(&d.code).unwrap_or_default(),
                code: d.code,
                n: to_u64(d.n),
                missing: to_u64(d.missing),
                sum: d.sum,
                sum_sq: d.sum_sq,
            })
            .collect(),
    }
}

/// `FROM` clause of the latest revision of each submitted session, with the filter; the
/// caller appends more conditions with `AND`.
pub(crate) fn push_latest_from<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    join_domains: bool,
    filter: &ResultFilter,
) where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    if join_domains {
        qb.push(
            " FROM sessions s JOIN result_domains d \
             ON d.session_id = s.id AND d.revision = s.latest_revision",
        );
    } else {
        qb.push(
            " FROM sessions s JOIN results r \
             ON r.session_id = s.id AND r.revision = s.latest_revision",
        );
    }
    // A literal, not a bind: the partial indexes are declared `WHERE state = 'submitted'`.
    qb.push(" WHERE s.state = 'submitted'");
    if !filter.org_prefix.is_empty() {
        // One range both planners turn into an index range scan ([p, p0)), then the units
        // in it that are not p itself nor below it (p-1, p%, …: bytes between p and p.).
        let (lower, upper) = prefix_range(&filter.org_prefix);
        qb.push(" AND s.org_unit >= ")
            .push_bind(filter.org_prefix.clone())
            .push(" AND s.org_unit < ")
            .push_bind(upper)
            .push(" AND (s.org_unit = ")
            .push_bind(filter.org_prefix.clone())
            .push(" OR s.org_unit >= ")
            .push_bind(lower)
            .push(")");
    }
    if let Some(instrument) = &filter.instrument_id {
        qb.push(" AND s.instrument_id = ")
            .push_bind(instrument.clone());
    }
    if let Some(from) = filter.from {
        qb.push(" AND s.submitted_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        qb.push(" AND s.submitted_at < ").push_bind(to);
    }
}

/// Units strictly below `prefix` are exactly the strings in `[prefix + ".", prefix + "0")`
/// in byte order: `.` (0x2E), `/` (0x2F) and `0` (0x30) are consecutive.
pub(crate) fn prefix_range(prefix: &str) -> (String, String) {
    (format!("{prefix}."), format!("{prefix}0"))
}

/// ` (a, b, c)` with each value bound.
pub(crate) fn push_in_list<'a, DB>(qb: &mut QueryBuilder<'a, DB>, values: &[String])
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    qb.push(" (");
    let mut list = qb.separated(", ");
    for v in values {
        list.push_bind(v.clone());
    }
    list.push_unseparated(")");
}

/// ` ((s1, r1), (s2, r2))` for a `(session_id, revision) IN` test.
pub(crate) fn push_revision_list<'a, DB>(qb: &mut QueryBuilder<'a, DB>, results: &[ResultRow])
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    qb.push(" (VALUES ");
    let mut list = qb.separated(", ");
    for r in results {
        list.push("(")
            .push_bind_unseparated(r.session_id.clone())
            .push_unseparated(", ")
            .push_bind_unseparated(r.revision)
            .push_unseparated(")");
    }
    list.push_unseparated(")");
}

pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(limit.min(crate::MAX_PAGE))
}

/// A page of [`crate::Store::results_page`].
pub(crate) fn results_page_query<'a, DB>(
    filter: &ResultFilter,
    after: Option<(i64, String)>,
    limit: u32,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("SELECT ");
    qb.push(RESULT_COLUMNS);
    push_latest_from(&mut qb, false, filter);
    if let Some((submitted_at, session_id)) = after {
        // The first condition is implied by the second; it lets the planner range-scan
        // the (submitted_at, id) index.
        qb.push(" AND s.submitted_at >= ")
            .push_bind(submitted_at)
            .push(" AND (s.submitted_at > ")
            .push_bind(submitted_at)
            .push(" OR (s.submitted_at = ")
            .push_bind(submitted_at)
            .push(" AND s.id > ")
            .push_bind(session_id)
            .push("))");
    }
    qb.push(" ORDER BY s.submitted_at, s.id LIMIT ")
        .push_bind(page_limit(limit));
    qb
}

/// The domains of the given result revisions.
pub(crate) fn domains_of_query<'a, DB>(results: &[ResultRow]) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("SELECT ");
    qb.push(DOMAIN_COLUMNS);
    qb.push(" FROM result_domains d WHERE (d.session_id, d.revision) IN");
    push_revision_list(&mut qb, results);
    qb
}

/// A page of [`crate::Store::submitted_sessions`].
pub(crate) fn submitted_sessions_query<'a, DB>(
    instrument_id: &str,
    instrument_version: &str,
    after: Option<String>,
    limit: u32,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("SELECT ");
    qb.push(SESSION_COLUMNS);
    qb.push(" FROM sessions s WHERE s.state = 'submitted' AND s.instrument_id = ")
        .push_bind(instrument_id.to_owned())
        .push(" AND s.instrument_version = ")
        .push_bind(instrument_version.to_owned());
    if let Some(after) = after {
        qb.push(" AND s.id > ").push_bind(after);
    }
    qb.push(" ORDER BY s.id LIMIT ")
        .push_bind(page_limit(limit));
    qb
}

/// The current answers of the given sessions.
pub(crate) fn answers_of_query<'a, DB>(sessions: &[SessionRow]) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    let ids: Vec<String> = sessions.iter().map(|s| s.id.clone()).collect();
    let mut qb =
        QueryBuilder::new("SELECT session_id, item_id, value FROM answers WHERE session_id IN");
    push_in_list(&mut qb, &ids);
    qb
}

/// The four queries of [`crate::Store::aggregate`]: totals, index levels, domain totals,
/// domain levels.
pub(crate) fn aggregate_queries<'a, DB>(filter: &ResultFilter) -> [QueryBuilder<'a, DB>; 4]
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut totals = QueryBuilder::new(
        "SELECT COUNT(*) AS n, COUNT(r.index_value) AS index_n, \
         COALESCE(SUM(r.index_value), 0.0) AS index_sum, \
         COALESCE(SUM(r.index_value * r.index_value), 0.0) AS index_sum_sq",
    );
    push_latest_from(&mut totals, false, filter);

    let mut levels = QueryBuilder::new("SELECT r.level AS level, COUNT(*) AS n");
    push_latest_from(&mut levels, false, filter);
    levels.push(" AND r.level IS NOT NULL GROUP BY r.level ORDER BY r.level");

    let mut domains = QueryBuilder::new(
        "SELECT d.code AS code, COUNT(d.score) AS n, COUNT(*) - COUNT(d.score) AS missing, \
         COALESCE(SUM(d.score), 0.0) AS sum, COALESCE(SUM(d.score * d.score), 0.0) AS sum_sq",
    );
    push_latest_from(&mut domains, true, filter);
    domains.push(" GROUP BY d.code ORDER BY MIN(d.position), d.code");

    let mut domain_levels =
        QueryBuilder::new("SELECT d.code AS code, d.level AS level, COUNT(*) AS n");
    push_latest_from(&mut domain_levels, true, filter);
    domain_levels
        .push(" AND d.level IS NOT NULL GROUP BY d.code, d.level ORDER BY d.code, d.level");

    [totals, levels, domains, domain_levels]
}

/// Latest results per exact organisation unit under `filter`, for
/// complementary suppression (a parent's children and their sizes).
pub(crate) fn unit_counts_query<'a, DB>(filter: &ResultFilter) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("SELECT s.org_unit AS unit, COUNT(*) AS n");
    push_latest_from(&mut qb, false, filter);
    qb.push(" GROUP BY s.org_unit ORDER BY s.org_unit");
    qb
}

pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, actor, action, target, detail) \
     VALUES ($1, $2, $3, $4, $5) RETURNING id";

/// Newest first; `$1`: the earliest `at` (or NULL: all), `$2`: the limit.
pub(crate) const SELECT_AUDIT: &str = "SELECT id, at, actor, action, target, detail \
     FROM audit_log WHERE ($1 IS NULL OR at >= $1) ORDER BY id DESC LIMIT $2";

/// Refuses an audit entry without an actor or action, or with a detail that is not JSON.
pub(crate) fn check_audit(entry: &crate::NewAuditEntry) -> Result<(), StoreError> {
    if entry.actor.is_empty() || entry.action.is_empty() {
        return Err(StoreError::Invalid(
            "an audit entry needs an actor and an action".to_owned(),
        ));
    }
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&entry.detail_json) {
        return Err(StoreError::Invalid(format!(
            "audit entry '{}': detail is not JSON: {e}",
            entry.action
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-range rule equals the textual rule on tricky units.
    #[test]
    fn prefix_range_is_the_prefix_rule() {
        let units = [
            "36",
            "36.7",
            "36.72",
            "36.72.01",
            "36.72/diskominfo",
            "36.7/x",
            "36.7.1",
            "36.70",
            "36.7-1",
            "36.7_1",
            "36.7%",
            "36.7.",
            "36.7/",
            "36.70.1",
            "36.7\u{e9}",
            "36.6.9",
        ];
        for prefix in ["36.7", "36", "36.7_", "36.7%", "36.72"] {
            let (lower, upper) = prefix_range(prefix);
            for unit in units {
                let textual = unit == prefix
                    || unit
                        .strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with(['.', '/']));
                let ranged = unit == prefix || (unit >= lower.as_str() && unit < upper.as_str());
                assert_eq!(textual, ranged, "prefix {prefix:?}, unit {unit:?}");
                // The form the SQL uses: one index range, then a filter.
                let sql = unit >= prefix
                    && unit < upper.as_str()
                    && (unit == prefix || unit >= lower.as_str());
                assert_eq!(textual, sql, "SQL form, prefix {prefix:?}, unit {unit:?}");
            }
        }
    }

    #[test]
    fn latest_value_of_an_item_wins_within_a_save() {
        let answers = vec![
            ("b".to_owned(), "1".to_owned()),
            ("a".to_owned(), "2".to_owned()),
            ("b".to_owned(), "3".to_owned()),
        ];
        assert_eq!(latest_per_item(&answers), vec![("a", "2"), ("b", "3")]);
    }

    #[test]
    fn results_refuse_nan_and_duplicate_domains() {
        let mut result = NewResult {
            index: Some(f64::NAN),
            ..NewResult::default()
        };
        assert!(check_result("s", &result).is_err());
        result.index = Some(1.0);
        let domain = DomainScore {
            code: "lit".into(),
            ..DomainScore::default()
        };
        result.domains = vec![domain.clone(), domain];
        let err = check_result("s", &result).unwrap_err().to_string();
        assert!(err.contains("'lit' appears twice"), "{err}");
    }
}
