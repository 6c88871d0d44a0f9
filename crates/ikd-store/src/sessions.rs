//! Sessions, their answers and the save requests that make saves idempotent.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use sqlx::{Database, QueryBuilder};

use crate::backend::{Backend, Connection};
use crate::error::{corrupt, db_err};
use crate::filter::page_limit;
use crate::{SaveOutcome, Session, SessionState, StoreError, packed};

/// Longest accepted request id (bytes).
const MAX_REQUEST_ID: usize = 256;

pub(crate) const SESSION_COLUMNS: &str = "s.id, s.instrument_id, s.instrument_version, \
     s.instrument_sha256, s.respondent_key, s.org_unit, s.state, s.created_at, s.submitted_at, \
     s.answers_version";

pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (id, instrument_id, \
     instrument_version, instrument_sha256, respondent_key, org_unit, state, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)";

/// A session and its latest answers, packed (see [`crate::packed`]).
const SELECT_SESSION_WITH_ANSWERS: &str = "SELECT s.id, s.instrument_id, \
     s.instrument_version, s.instrument_sha256, s.respondent_key, s.org_unit, s.state, \
     s.created_at, s.submitted_at, s.answers_version, s.answers FROM sessions s WHERE s.id = $1";

const SELECT_SAVE_REQUEST: &str =
    "SELECT answers FROM save_requests WHERE session_id = $1 AND request_id = $2";

/// The packed cells of an applied request, to tell a replay from a conflict.
const SELECT_SAVED_CELLS: &str =
    "SELECT cells FROM save_requests WHERE session_id = $1 AND request_id = $2";

/// The save's request, unless it is there already (a row returned only if inserted): on
/// PostgreSQL another server may have applied the same request after this save's first read
/// (see [`Backend::LOCK_SESSION_FOR_SAVE`]); the insert waits for it and inserts nothing.
const INSERT_SAVE_REQUEST: &str = "INSERT INTO save_requests \
     (session_id, request_id, saved_at, answers, cells) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (session_id, request_id) DO NOTHING RETURNING answers";

/// The latest answers of an applied save's session, and its answers version bumped in the
/// save's transaction (see [`crate::results`]'s submit); on PostgreSQL the session's row
/// lock is already held.
const UPDATE_ANSWERS: &str =
    "UPDATE sessions SET answers = $2, answers_version = answers_version + 1 WHERE id = $1";

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

/// A session's row with its latest answers, packed (see [`crate::packed`]).
#[derive(sqlx::FromRow)]
pub(crate) struct SessionWithAnswers {
    #[sqlx(flatten)]
    pub session: SessionRow,
    pub answers: String,
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

    /// The session with its answers: one row, one statement.
    pub(crate) async fn read(store: &B, id: &str) -> Result<Option<Session>, StoreError> {
        let err = || db_err(B::NAME, format!("reading session '{id}'"));
        let mut conn = store.read_pool().acquire().await.map_err(err())?;
        let row: Option<SessionWithAnswers> = sqlx::query_as(SELECT_SESSION_WITH_ANSWERS)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(err())?;
        row.map(SessionWithAnswers::into_session).transpose()
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

        let found: Option<(String, Option<i64>, String)> = sqlx::query_as(B::LOCK_SESSION_FOR_SAVE)
            .bind(session_id)
            .bind(request_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(err())?;
        let Some((state, applied, latest)) = found else {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_owned(),
            });
        };
        if applied.is_some() {
            return Self::replay(conn, session_id, request_id, answers, &latest).await;
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
                return Self::replay(conn, session_id, request_id, answers, &latest).await;
            }
            return Err(StoreError::Submitted {
                session: session_id.to_owned(),
            });
        }

        let mut merged = unpack_answers(session_id, &latest)?;
        merge_save(&mut merged, answers);
        let inserted: Option<i64> = sqlx::query_scalar(INSERT_SAVE_REQUEST)
            .bind(session_id)
            .bind(request_id)
            .bind(at)
            .bind(answers.len() as i64)
            .bind(packed::pack(cells(answers)))
            .fetch_optional(&mut *conn)
            .await
            .map_err(err())?;
        if inserted.is_none() {
            // Applied after the first read's look at the request.
            return Self::replay(conn, session_id, request_id, answers, &latest).await;
        }
        // In the save's transaction: a submit that scored the answers before this
        // save finds another version and scores again (see `Results::submit`).
        sqlx::query(UPDATE_ANSWERS)
            .bind(session_id)
            .bind(packed::pack(cells_of_map(&merged)))
            .execute(&mut *conn)
            .await
            .map_err(err())?;
        Ok(SaveOutcome {
            replayed: false,
            answers_stored: stored(merged.len()),
        })
    }

    /// A save whose request was already applied: the same answers are a replay (nothing
    /// changes), other answers a conflict. `latest`: the session's packed latest answers.
    async fn replay(
        conn: &mut Connection<B>,
        session_id: &str,
        request_id: &str,
        answers: &[(String, String)],
        latest: &str,
    ) -> Result<SaveOutcome, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!("saving answers of session '{session_id}' (request '{request_id}')"),
            )
        };
        let saved: String = sqlx::query_scalar(SELECT_SAVED_CELLS)
            .bind(session_id)
            .bind(request_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(err())?;
        if !same_cells(&saved, answers) {
            return Err(reused_request(session_id, request_id));
        }
        Ok(SaveOutcome {
            replayed: true,
            answers_stored: stored(packed::count(latest)),
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
        // One statement, one snapshot: no transaction needed.
        let mut conn = store.read_pool().acquire().await.map_err(err())?;
        let page = submitted_sessions_query(instrument_id, instrument_version, after, limit);
        let rows: Vec<SessionWithAnswers> =
            B::fetch_all(&mut *conn, page, true).await.map_err(err())?;
        rows.into_iter()
            .map(SessionWithAnswers::into_session)
            .collect()
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

/// A session's latest answers by item, from their packed text (see [`crate::packed`]).
pub(crate) fn unpack_answers(
    session_id: &str,
    packed: &str,
) -> Result<BTreeMap<String, String>, StoreError> {
    packed::unpack(packed)
        .map(|cells| cells.into_iter().collect())
        .map_err(|e| {
            corrupt(format!(
                "session '{session_id}': its answers cannot be read: {e}"
            ))
        })
}

/// Applies one save's cells to a session's latest answers: the last cell of an item wins.
pub(crate) fn merge_save(latest: &mut BTreeMap<String, String>, answers: &[(String, String)]) {
    for (item, value) in answers {
        latest.insert(item.clone(), value.clone());
    }
}

/// The cells of a save, as [`packed::pack`] takes them.
pub(crate) fn cells(answers: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    answers.iter().map(|(i, v)| (i.as_str(), v.as_str()))
}

/// The latest answers in item order, as [`packed::pack`] takes them.
pub(crate) fn cells_of_map(
    latest: &BTreeMap<String, String>,
) -> impl Iterator<Item = (&str, &str)> {
    latest.iter().map(|(i, v)| (i.as_str(), v.as_str()))
}

/// Whether a request's saved cells (packed) are `answers`, in order: the packing is
/// canonical, so equal lists have equal texts.
pub(crate) fn same_cells(saved: &str, answers: &[(String, String)]) -> bool {
    saved == packed::pack(cells(answers))
}

/// [`SaveOutcome::answers_stored`] from a count of items.
pub(crate) fn stored(items: usize) -> u32 {
    u32::try_from(items).unwrap_or(u32::MAX)
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

impl SessionWithAnswers {
    fn into_session(self) -> Result<Session, StoreError> {
        let id = &self.session.id;
        let mut answers: Vec<(String, String)> = packed::unpack(&self.answers)
            .map_err(|e| corrupt(format!("session '{id}': its answers cannot be read: {e}")))?;
        // Packed in item order already (see `crate::packed`); cheap on sorted input.
        answers.sort_unstable();
        self.session.into_session(answers)
    }
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
    qb.push(", s.answers FROM sessions s WHERE s.state = 'submitted' AND s.instrument_id = ")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_merges_into_the_latest_answers_its_last_cell_of_an_item_winning() {
        let mut latest = unpack_answers("s", "a\t0\nc\t5").expect("packed");
        let answers = vec![
            ("b".to_owned(), "1".to_owned()),
            ("a".to_owned(), "2".to_owned()),
            ("b".to_owned(), "3".to_owned()),
        ];
        merge_save(&mut latest, &answers);
        assert_eq!(packed::pack(cells_of_map(&latest)), "a\t2\nb\t3\nc\t5");
        let err = unpack_answers("s-1", "a").expect_err("malformed");
        assert!(err.to_string().contains("session 's-1'"), "{err}");
    }

    #[test]
    fn a_replay_is_the_same_cells_in_the_same_order() {
        let answers = vec![
            ("b".to_owned(), "1".to_owned()),
            ("a".to_owned(), "2".to_owned()),
        ];
        assert!(same_cells("b\t1\na\t2", &answers));
        assert!(!same_cells("a\t2\nb\t1", &answers));
        assert!(!same_cells("b\t1", &answers));
        assert!(same_cells("", &[]));
    }
}
