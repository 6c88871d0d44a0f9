//! Result revisions, one row each (domains, indicator scores and the provenance key in it:
//! see [`crate::result_row`]): the submit (revision 1), rescores (2, 3, …), and the reads of one
//! session's results or of a page of everyone's latest.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::LazyLock;

use sqlx::{Database, QueryBuilder};

use crate::backend::{Backend, Connection};
use crate::error::{corrupt, db_err, to_u32};
use crate::filter::{Latest, page_limit, push_latest_from};
use crate::result_row::{domains_json, indicators_json, parse_domains, provenance_id};
use crate::sessions::SessionRow;
use crate::stats::{BASE_SHARD, Counted, StatsDelta, counted_revision};
use crate::{NewResult, ResultFilter, StoreError, StoredResult, now_ms};

/// Result columns; the query joins `sessions s` and `results r`.
pub(crate) const RESULT_COLUMNS: &str = "r.session_id, r.revision, s.instrument_id, \
     s.instrument_version, s.instrument_sha256, s.org_unit, s.respondent_key, s.submitted_at, \
     r.created_at, r.model, r.model_version, r.index_value, r.index_se, r.level, r.flags, \
     r.domains, (SELECT p.json FROM provenances p WHERE p.id = r.provenance_id) AS provenance_json";

/// Open → submitted, only if no save was applied since the answers that were scored were
/// read (`$3`: their version). On PostgreSQL a concurrent save holds the row lock; the
/// update waits for it and then re-checks the version against the committed row.
const SUBMIT_SESSION: &str = "UPDATE sessions \
     SET state = 'submitted', submitted_at = $2, latest_revision = 1 \
     WHERE id = $1 AND state = 'open' AND answers_version = $3 \
     RETURNING id, instrument_id, instrument_version, instrument_sha256, respondent_key, \
     org_unit, state, created_at, submitted_at, answers_version";

/// Of a person's submitted sessions, the one that counts — their latest by `(submitted_at,
/// id)` — supersedes every other that still counts, in one statement. `$1`–`$3`: respondent
/// key, instrument id, instrument version (the `sessions_respondent` index, read backwards:
/// ordered by all its columns so that the planner does so whatever its statistics say).
/// Sessions already superseded keep the session that superseded them first. Returns the
/// sessions it superseded, with the revision they counted with.
const SUPERSEDE_BY_LATEST: &str = "WITH latest AS (SELECT id FROM sessions \
     WHERE respondent_key = $1 AND instrument_id = $2 AND instrument_version = $3 \
     AND state = 'submitted' ORDER BY respondent_key DESC, instrument_id DESC, \
     instrument_version DESC, submitted_at DESC, id DESC LIMIT 1) \
     UPDATE sessions SET superseded_by = (SELECT id FROM latest) \
     WHERE respondent_key = $1 AND instrument_id = $2 AND instrument_version = $3 \
     AND state = 'submitted' AND superseded_by IS NULL AND id <> (SELECT id FROM latest) \
     RETURNING id, latest_revision";

/// Why a submit updated nothing: the session's state and answers version (or no row).
const SESSION_STATE_VERSION: &str = "SELECT state, answers_version FROM sessions WHERE id = $1";

/// Takes the next revision number; on PostgreSQL the row lock it takes serialises concurrent
/// rescores of one session.
const NEXT_REVISION: &str = "UPDATE sessions \
     SET latest_revision = latest_revision + 1 \
     WHERE id = $1 AND state = 'submitted' \
     RETURNING id, instrument_id, instrument_version, instrument_sha256, respondent_key, \
     org_unit, state, created_at, submitted_at, answers_version, latest_revision";

/// `submitted_at`: the session's submission time, for exports (migration 0012).
const INSERT_RESULT: &str = "INSERT INTO results (session_id, revision, created_at, \
     model, model_version, index_value, index_se, level, flags, domains, indicators, \
     provenance_id, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
     $13)";

/// A provenance, unless a result stored it already (its key is the hash of its JSON).
pub(crate) const INSERT_PROVENANCE: &str =
    "INSERT INTO provenances (id, json) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";

static LATEST_RESULT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {RESULT_COLUMNS} FROM sessions s \
         JOIN results r ON r.session_id = s.id AND r.revision = s.latest_revision \
         WHERE s.id = $1"
    )
});

static RESULT_REVISIONS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {RESULT_COLUMNS} FROM sessions s JOIN results r ON r.session_id = s.id \
         WHERE s.id = $1 ORDER BY r.revision"
    )
});

#[derive(sqlx::FromRow)]
struct RevisionRow {
    #[sqlx(flatten)]
    session: SessionRow,
    latest_revision: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ResultRow {
    pub(crate) session_id: String,
    pub(crate) revision: i64,
    pub(crate) instrument_id: String,
    pub(crate) instrument_version: String,
    instrument_sha256: String,
    pub(crate) org_unit: String,
    pub(crate) respondent_key: String,
    pub(crate) submitted_at: i64,
    pub(crate) created_at: i64,
    pub(crate) model: String,
    pub(crate) model_version: String,
    pub(crate) index_value: Option<f64>,
    pub(crate) index_se: Option<f64>,
    pub(crate) level: Option<String>,
    pub(crate) flags: String,
    /// JSON (see [`crate::result_row`]).
    pub(crate) domains: String,
    pub(crate) provenance_json: String,
}

/// The result operations of [`crate::Store`]. A type only so that the sqlx bounds (see
/// [`crate::backend`]) are written once for all of them.
pub(crate) struct Results<B>(PhantomData<B>);

impl<B: Backend> Results<B>
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
    /// Open → submitted with revision 1 of `result`, submitted at `at` (in a batch of
    /// writes); the session as it now is, and the sessions (with their counting revision)
    /// that stopped counting: the person's previous one, or this one when it is not their
    /// latest. The caller counts them in the statistics ([`crate::stats`]).
    pub(crate) async fn submit_in(
        conn: &mut Connection<B>,
        session_id: &str,
        answers_version: i64,
        result: &NewResult,
        at: i64,
    ) -> Result<(SessionRow, Vec<(String, i64)>), StoreError> {
        let err = || db_err(B::NAME, format!("submitting session '{session_id}'"));
        // Race-safe: of two submits, the second finds state = 'submitted'; a save
        // applied since the answers were read has changed answers_version (on
        // PostgreSQL the update waits for a writer's row lock, then re-checks the WHERE).
        let row: Option<SessionRow> = sqlx::query_as(SUBMIT_SESSION)
            .bind(session_id)
            .bind(at)
            .bind(answers_version)
            .fetch_optional(&mut *conn)
            .await
            .map_err(err())?;
        let Some(row) = row else {
            let found: Option<(String, i64)> = sqlx::query_as(SESSION_STATE_VERSION)
                .bind(session_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(err())?;
            return Err(submit_refusal(session_id, answers_version, found));
        };
        Self::insert(&mut *conn, session_id, (1, at), at, result)
            .await
            .map_err(err())?;
        let superseded = Self::count_latest_only(&mut *conn, &row)
            .await
            .map_err(err())?;
        Ok((row, superseded))
    }

    /// The re-taking rule, in the transaction of the submit of `submitted`: of a person's
    /// submitted sessions of one instrument version, only the latest by `(submitted_at,
    /// id)` counts, so a person who re-takes an instrument weighs once in every figure.
    ///
    /// Whichever of the person's sessions is the latest afterwards supersedes the one that
    /// counted so far: usually `submitted` supersedes the previous one; but a session given
    /// an earlier time than one that already counts (a submit that waited for a lock after
    /// taking its time, or a server whose clock is behind) is itself superseded. Decided
    /// under [`Backend::LOCK_RESPONDENT`], so two submits of the same person see each
    /// other's outcome and exactly one session counts.
    async fn count_latest_only(
        conn: &mut Connection<B>,
        submitted: &SessionRow,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let person = [
            submitted.respondent_key.as_str(),
            submitted.instrument_id.as_str(),
            submitted.instrument_version.as_str(),
        ];
        if let Some(lock) = B::LOCK_RESPONDENT {
            let mut query = sqlx::query(lock);
            for value in person {
                query = query.bind(value);
            }
            query.execute(&mut *conn).await?;
        }
        // The latest is at least `submitted` itself: this transaction made it submitted.
        let mut supersede = sqlx::query_as(SUPERSEDE_BY_LATEST);
        for value in person {
            supersede = supersede.bind(value);
        }
        supersede.fetch_all(&mut *conn).await
    }

    pub(crate) async fn add_revision(
        store: &B,
        session_id: &str,
        result: NewResult,
    ) -> Result<StoredResult, StoreError> {
        check_result(session_id, &result)?;
        let err = || {
            db_err(
                B::NAME,
                format!("storing a new result revision of session '{session_id}'"),
            )
        };
        let mut tx = store.write_tx().await.map_err(err())?;
        let row: Option<RevisionRow> = sqlx::query_as(NEXT_REVISION)
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err())?;
        let Some(row) = row else {
            let state: Option<String> = sqlx::query_scalar(B::LOCK_SESSION)
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err())?;
            return Err(match state {
                None => StoreError::NotFound {
                    what: "session",
                    id: session_id.to_owned(),
                },
                Some(_) => StoreError::Conflict(format!(
                    "session '{session_id}' is not submitted: only a submitted session \
                     has results to revise"
                )),
            });
        };
        let revision = u32::try_from(row.latest_revision).map_err(|_| {
            corrupt(format!(
                "session '{session_id}' has too many result revisions ({})",
                row.latest_revision
            ))
        })?;
        let now = now_ms();
        let submitted_at = row.session.submitted_at.ok_or_else(|| {
            corrupt(format!(
                "submitted session '{session_id}' has no submission time"
            ))
        })?;
        Self::insert(
            &mut tx,
            session_id,
            (row.latest_revision, now),
            submitted_at,
            &result,
        )
        .await
        .map_err(err())?;
        Self::recount_revision(&mut tx, &row, &result).await?;
        tx.commit().await.map_err(err())?;
        Ok(stored_result(row.session, revision, now, result))
    }

    /// A rescore's statistics: when the session counts, the new revision replaces the
    /// previous one in them.
    async fn recount_revision(
        conn: &mut Connection<B>,
        row: &RevisionRow,
        result: &NewResult,
    ) -> Result<(), StoreError> {
        let session_id = row.session.id.as_str();
        let err = || {
            db_err(
                B::NAME,
                format!("counting the new revision of session '{session_id}'"),
            )
        };
        let counts: bool = sqlx::query_scalar::<_, i64>(
            "SELECT CAST(CASE WHEN superseded_by IS NULL THEN 1 ELSE 0 END AS BIGINT) \
             FROM sessions WHERE id = $1",
        )
        .bind(session_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(err())?
            == 1;
        if !counts {
            return Ok(());
        }
        let mut delta = StatsDelta::default();
        if let Some(old) = counted_revision::<B>(conn, session_id, row.latest_revision - 1)
            .await
            .map_err(err())?
        {
            delta.add(&old.place(), &old.counted(), -1);
            delta.add(&old.place(), &Counted::of(result), 1);
        }
        delta.apply::<B>(conn, BASE_SHARD).await.map_err(err())
    }

    /// Inserts a result revision (number, time), and its provenance unless stored already;
    /// `submitted_at` is the session's.
    async fn insert(
        conn: &mut Connection<B>,
        session_id: &str,
        (revision, created_at): (i64, i64),
        submitted_at: i64,
        result: &NewResult,
    ) -> Result<(), sqlx::Error> {
        let provenance_id = provenance_id(&result.provenance_json);
        sqlx::query(INSERT_PROVENANCE)
            .bind(&provenance_id)
            .bind(&result.provenance_json)
            .execute(&mut *conn)
            .await?;
        sqlx::query(INSERT_RESULT)
            .bind(session_id)
            .bind(revision)
            .bind(created_at)
            .bind(&result.model)
            .bind(&result.model_version)
            .bind(result.index)
            .bind(result.index_se)
            .bind(result.level.as_deref())
            .bind(flags_json(result))
            .bind(domains_json(&result.domains))
            .bind(indicators_json(&result.indicators))
            .bind(&provenance_id)
            .bind(submitted_at)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub(crate) async fn latest(
        store: &B,
        session_id: &str,
    ) -> Result<Option<StoredResult>, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!("reading the latest result of session '{session_id}'"),
            )
        };
        let mut tx = store.read_tx().await.map_err(err())?;
        let row: Option<ResultRow> = sqlx::query_as(&LATEST_RESULT)
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err())?;
        let Some(row) = row else {
            return Ok(None);
        };
        tx.commit().await.map_err(err())?;
        Ok(assemble_results(vec![row])?.pop())
    }

    pub(crate) async fn revisions(
        store: &B,
        session_id: &str,
    ) -> Result<Vec<StoredResult>, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!("reading the result revisions of session '{session_id}'"),
            )
        };
        let mut tx = store.read_tx().await.map_err(err())?;
        let rows: Vec<ResultRow> = sqlx::query_as(&RESULT_REVISIONS)
            .bind(session_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(err())?;
        tx.commit().await.map_err(err())?;
        assemble_results(rows)
    }

    /// A page of [`crate::Store::results_page`].
    pub(crate) async fn page(
        store: &B,
        filter: &ResultFilter,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<StoredResult>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let err = || {
            db_err(
                B::NAME,
                format!(
                    "reading a page of results under org prefix '{}'",
                    filter.org_prefix
                ),
            )
        };
        let mut tx = store.read_tx().await.map_err(err())?;
        let page = results_page_query(filter, after, limit);
        let rows: Vec<ResultRow> = B::fetch_all(&mut *tx, page, true).await.map_err(err())?;
        tx.commit().await.map_err(err())?;
        assemble_results(rows)
    }
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
    let mut seen = HashMap::new();
    for (position, indicator) in result.indicators.iter().enumerate() {
        let name = format!("indicator '{}/{}'", indicator.domain, indicator.code);
        if let Some(v) = indicator.score.filter(|v| !v.is_finite()) {
            return Err(bad(format!("{name} score"), v));
        }
        if let Some(first) = seen.insert((&indicator.domain, &indicator.code), position) {
            return Err(StoreError::Invalid(format!(
                "result of session '{session_id}': {name} appears twice (positions {first} \
                 and {position})"
            )));
        }
    }
    Ok(())
}

pub(crate) fn flags_json(result: &NewResult) -> String {
    serde_json::Value::from(result.flags.clone()).to_string()
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
        provenance_json: result.provenance_json.into(),
    }
}

/// Results in the order of `rows`, each with its domains.
pub(crate) fn assemble_results(rows: Vec<ResultRow>) -> Result<Vec<StoredResult>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let domains = parse_domains(&row.domains, &row.session_id, row.revision)?;
            let flags = parse_flags(&row.flags, &row.session_id, row.revision)?;
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
                provenance_json: row.provenance_json.into(),
            })
        })
        .collect()
}

/// A page of [`crate::Store::results_page`].
fn results_page_query<'a, DB>(
    filter: &ResultFilter,
    after: Option<(i64, String)>,
    limit: u32,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut qb = QueryBuilder::new("SELECT ");
    qb.push(RESULT_COLUMNS);
    push_latest_from(&mut qb, Latest::Results, filter);
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

/// A stored result's flags (a JSON array of codes); a corrupt value names the result.
pub(crate) fn parse_flags(
    json: &str,
    session_id: &str,
    revision: i64,
) -> Result<Vec<String>, StoreError> {
    if json == "[]" {
        return Ok(Vec::new());
    }
    serde_json::from_str(json).map_err(|e| {
        corrupt(format!(
            "flags of session '{session_id}' revision {revision}: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DomainScore;

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
