//! Sessions, their answers and the save requests that make saves idempotent.

use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;

use sqlx::{Database, QueryBuilder};

use crate::backend::{Backend, Connection, INSERT_CHUNK};
use crate::error::{corrupt, db_err};
use crate::filter::page_limit;
use crate::{SaveOutcome, Session, SessionState, StoreError};

/// Longest accepted request id (bytes).
const MAX_REQUEST_ID: usize = 256;

pub(crate) const SESSION_COLUMNS: &str = "s.id, s.instrument_id, s.instrument_version, \
     s.instrument_sha256, s.respondent_key, s.org_unit, s.state, s.created_at, s.submitted_at, \
     s.answers_version";

pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (id, instrument_id, \
     instrument_version, instrument_sha256, respondent_key, org_unit, state, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)";

/// A session and its answers: a row per answer (`item_id`, `value`), or one row with both
/// NULL when it has none.
const SELECT_SESSION_WITH_ANSWERS: &str = "SELECT s.id, s.instrument_id, \
     s.instrument_version, s.instrument_sha256, s.respondent_key, s.org_unit, s.state, \
     s.created_at, s.submitted_at, s.answers_version, a.item_id, a.value \
     FROM sessions s LEFT JOIN answers a ON a.session_id = s.id WHERE s.id = $1";

const COUNT_ANSWERS: &str = "SELECT COUNT(*) FROM answers WHERE session_id = $1";

const SELECT_SAVE_REQUEST: &str =
    "SELECT answers FROM save_requests WHERE session_id = $1 AND request_id = $2";

const SELECT_LOGGED_SAVE: &str = "SELECT item_id, value FROM answer_log \
     WHERE session_id = $1 AND request_id = $2 ORDER BY position";

/// The save's request, unless it is there already (a row returned only if inserted): on
/// PostgreSQL another server may have applied the same request after this save's first read
/// (see [`Backend::LOCK_SESSION_FOR_SAVE`]); the insert waits for it and inserts nothing.
const INSERT_SAVE_REQUEST: &str = "INSERT INTO save_requests \
     (session_id, request_id, saved_at, answers) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (session_id, request_id) DO NOTHING RETURNING answers";

/// Bumps the answers version in the transaction of an applied save (see
/// [`crate::results`]'s submit); on PostgreSQL the session's row lock is already held.
const BUMP_ANSWERS_VERSION: &str =
    "UPDATE sessions SET answers_version = answers_version + 1 WHERE id = $1";

#[derive(Clone, sqlx::FromRow)]
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
struct SessionAnswerRow {
    #[sqlx(flatten)]
    session: SessionRow,
    item_id: Option<String>,
    value: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AnswerRow {
    session_id: String,
    item_id: String,
    value: String,
}

/// The session operations of [`crate::Store`]. A type only so that the sqlx bounds (see
/// [`crate::backend`]) are written once for all of them.
pub(crate) struct Sessions<B>(PhantomData<B>);

impl<B: Backend> Sessions<B>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> &'q str: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> String: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> Option<i64>: sqlx::Encode<'q, B::Db>,
    for<'q> &'q str: sqlx::ColumnIndex<<B::Db as Database>::Row>,
    usize: sqlx::ColumnIndex<<B::Db as Database>::Row>,
{
    /// Inserts a new session (in a batch of writes).
    pub(crate) async fn insert(
        conn: &mut Connection<B>,
        session: &Session,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT_SESSION)
            .bind(&session.id)
            .bind(&session.instrument_id)
            .bind(&session.instrument_version)
            .bind(&session.instrument_sha256)
            .bind(&session.respondent_key)
            .bind(&session.org_unit)
            .bind(session.created_at)
            .execute(&mut *conn)
            .await
            .map_err(db_err(
                B::NAME,
                format!(
                    "starting a session of instrument '{}' {}",
                    session.instrument_id, session.instrument_version
                ),
            ))?;
        Ok(())
    }

    /// The session with its answers in one statement (one round trip, one snapshot: no
    /// transaction): a row per answer, or one row with no answer.
    pub(crate) async fn read(store: &B, id: &str) -> Result<Option<Session>, StoreError> {
        let err = || db_err(B::NAME, format!("reading session '{id}'"));
        let mut conn = store.read_pool().acquire().await.map_err(err())?;
        let rows: Vec<SessionAnswerRow> = sqlx::query_as(SELECT_SESSION_WITH_ANSWERS)
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .map_err(err())?;
        let mut answers = Vec::with_capacity(rows.len());
        let mut session = None;
        for row in rows {
            if let Some(answer) = row.item_id.zip(row.value) {
                answers.push(answer);
            }
            session.get_or_insert(row.session);
        }
        let Some(session) = session else {
            return Ok(None);
        };
        answers.sort_unstable();
        session.into_session(answers).map(Some)
    }

    /// Applies a save (in a batch of writes, at time `at`), or finds it already applied.
    pub(crate) async fn save_in(
        conn: &mut Connection<B>,
        session_id: &str,
        request_id: &str,
        answers: &[(String, String)],
        at: i64,
    ) -> Result<SaveOutcome, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!("saving answers of session '{session_id}' (request '{request_id}')"),
            )
        };

        let found: Option<(String, Option<i64>)> = sqlx::query_as(B::LOCK_SESSION_FOR_SAVE)
            .bind(session_id)
            .bind(request_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(err())?;
        let Some((state, applied)) = found else {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_owned(),
            });
        };
        if applied.is_some() {
            return Self::replay(conn, session_id, request_id, answers).await;
        }
        let state = parse_state(session_id, &state)?;
        if state == SessionState::Submitted {
            // Applied after the first read's look at the request (see
            // `LOCK_SESSION_FOR_SAVE`): still a replay, as before the submit.
            let applied: Option<i64> = sqlx::query_scalar(SELECT_SAVE_REQUEST)
                .bind(session_id)
                .bind(request_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(err())?;
            if applied.is_some() {
                return Self::replay(conn, session_id, request_id, answers).await;
            }
            return Err(StoreError::Submitted {
                session: session_id.to_owned(),
            });
        }

        let inserted: Option<i64> = sqlx::query_scalar(INSERT_SAVE_REQUEST)
            .bind(session_id)
            .bind(request_id)
            .bind(at)
            .bind(answers.len() as i64)
            .fetch_optional(&mut *conn)
            .await
            .map_err(err())?;
        if inserted.is_none() {
            // Applied after the first read's look at the request.
            return Self::replay(conn, session_id, request_id, answers).await;
        }
        // In the save's transaction: a submit that scored the answers before this
        // save finds another version and scores again (see `Results::submit`).
        sqlx::query(BUMP_ANSWERS_VERSION)
            .bind(session_id)
            .execute(&mut *conn)
            .await
            .map_err(err())?;
        for (chunk_no, chunk) in answers.chunks(INSERT_CHUNK).enumerate() {
            let first = chunk_no * INSERT_CHUNK;
            let mut qb = QueryBuilder::<B::Db>::new(
                "INSERT INTO answer_log (session_id, request_id, position, item_id, value) ",
            );
            qb.push_values(chunk.iter().enumerate(), |mut row, (i, (item, value))| {
                row.push_bind(session_id)
                    .push_bind(request_id)
                    .push_bind((first + i) as i64)
                    .push_bind(item.as_str())
                    .push_bind(value.as_str());
            });
            B::execute(&mut *conn, qb).await.map_err(err())?;
        }
        let latest = latest_per_item(answers);
        for chunk in latest.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::<B::Db>::new(
                "INSERT INTO answers (session_id, item_id, value, request_id, saved_at) ",
            );
            qb.push_values(chunk, |mut row, (item, value)| {
                row.push_bind(session_id)
                    .push_bind(*item)
                    .push_bind(*value)
                    .push_bind(request_id)
                    .push_bind(at);
            });
            qb.push(
                " ON CONFLICT (session_id, item_id) DO UPDATE SET value = excluded.value, \
                 request_id = excluded.request_id, saved_at = excluded.saved_at",
            );
            B::execute(&mut *conn, qb).await.map_err(err())?;
        }
        let stored: i64 = sqlx::query_scalar(COUNT_ANSWERS)
            .bind(session_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(err())?;
        Ok(SaveOutcome {
            replayed: false,
            answers_stored: u32::try_from(stored).unwrap_or(u32::MAX),
        })
    }

    /// A save whose request was already applied: the same answers are a replay (nothing
    /// changes), other answers a conflict.
    async fn replay(
        conn: &mut Connection<B>,
        session_id: &str,
        request_id: &str,
        answers: &[(String, String)],
    ) -> Result<SaveOutcome, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!("saving answers of session '{session_id}' (request '{request_id}')"),
            )
        };
        let logged: Vec<(String, String)> = sqlx::query_as(SELECT_LOGGED_SAVE)
            .bind(session_id)
            .bind(request_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(err())?;
        if logged.as_slice() != answers {
            return Err(reused_request(session_id, request_id));
        }
        let stored: i64 = sqlx::query_scalar(COUNT_ANSWERS)
            .bind(session_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(err())?;
        Ok(SaveOutcome {
            replayed: true,
            answers_stored: u32::try_from(stored).unwrap_or(u32::MAX),
        })
    }

    /// A page of [`crate::Store::submitted_sessions`], with their answers.
    pub(crate) async fn submitted_page(
        store: &B,
        instrument_id: &str,
        instrument_version: &str,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<Session>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let err = || {
            db_err(
                B::NAME,
                format!(
                    "reading submitted sessions of instrument '{instrument_id}' \
                     {instrument_version}"
                ),
            )
        };
        let mut tx = store.read_tx().await.map_err(err())?;
        let page = submitted_sessions_query(instrument_id, instrument_version, after, limit);
        let rows: Vec<SessionRow> = B::fetch_all(&mut *tx, page, true).await.map_err(err())?;
        let answers: Vec<AnswerRow> = if rows.is_empty() {
            Vec::new()
        } else {
            B::fetch_all(&mut *tx, answers_of_query(&rows), false)
                .await
                .map_err(err())?
        };
        tx.commit().await.map_err(err())?;
        assemble_sessions(rows, answers)
    }
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

/// A save whose request id was already applied with other answers.
pub(crate) fn reused_request(session_id: &str, request_id: &str) -> StoreError {
    StoreError::Conflict(format!(
        "request '{request_id}' of session '{session_id}' was already applied with \
         different answers; a new save needs a new request id"
    ))
}

/// The latest value per item of one save (the last occurrence wins), sorted by item id.
pub(crate) fn latest_per_item(answers: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut latest = BTreeMap::new();
    for (item, value) in answers {
        latest.insert(item.as_str(), value.as_str());
    }
    latest.into_iter().collect()
}

pub(crate) fn parse_state(id: &str, state: &str) -> Result<SessionState, StoreError> {
    match state {
        "open" => Ok(SessionState::Open),
        "submitted" => Ok(SessionState::Submitted),
        other => Err(corrupt(format!("session '{id}' has state '{other}'"))),
    }
}

impl SessionRow {
    /// The row of a session being started.
    pub(crate) fn of(session: &Session) -> SessionRow {
        SessionRow {
            id: session.id.clone(),
            instrument_id: session.instrument_id.clone(),
            instrument_version: session.instrument_version.clone(),
            instrument_sha256: session.instrument_sha256.clone(),
            respondent_key: session.respondent_key.clone(),
            org_unit: session.org_unit.clone(),
            state: "open".to_owned(),
            created_at: session.created_at,
            submitted_at: None,
            answers_version: 0,
        }
    }

    fn into_session(self, answers: Vec<(String, String)>) -> Result<Session, StoreError> {
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
fn assemble_sessions(
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

/// A page of [`crate::Store::submitted_sessions`].
fn submitted_sessions_query<'a, DB>(
    instrument_id: &str,
    instrument_version: &str,
    after: Option<String>,
    limit: u32,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
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

/// The current answers of the given sessions: `… WHERE session_id IN (a, b, c)`.
fn answers_of_query<'a, DB>(sessions: &[SessionRow]) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut qb =
        QueryBuilder::new("SELECT session_id, item_id, value FROM answers WHERE session_id IN");
    qb.push(" (");
    let mut list = qb.separated(", ");
    for s in sessions {
        list.push_bind(s.id.clone());
    }
    list.push_unseparated(")");
    qb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_value_of_an_item_wins_within_a_save() {
        let answers = vec![
            ("b".to_owned(), "1".to_owned()),
            ("a".to_owned(), "2".to_owned()),
            ("b".to_owned(), "3".to_owned()),
        ];
        assert_eq!(latest_per_item(&answers), vec![("a", "2"), ("b", "3")]);
    }
}
