//! The set-based path of a batch of several session writes (see [`crate::group_commit`]):
//! a fixed number of statements per batch, whatever its size, instead of some ten per write.
//!
//! Why: with group commit the commit is shared, and what limits throughput is the CPU the
//! per-write statements cost the database and the store (each write of a batch ran about
//! ten statements in a savepoint of its own). Here the batch reads its sessions, locked, with
//! their latest answers in one statement, and the requests it retries, with their cells, in
//! one more; [`crate::batch_plan`] decides every write in Rust, in order; then each table
//! gets one statement for all the batch's rows (PostgreSQL: one array per column, so one
//! prepared statement per table; SQLite: a `VALUES` list in chunks of a power of two rows, each size prepared once), and the re-taking rule one
//! statement for all the batch's persons.
//!
//! Every caller gets the outcome the per-write path would have given. Where this path
//! cannot promise that, it writes nothing and the batch runs through the per-write path:
//! one person's sessions submitted twice in the batch (see [`crate::batch_plan::plan`]), or
//! any statement the database refuses (a value it cannot store, a constraint): there each
//! write's savepoint finds which write it was, and fails that one alone.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use sqlx::Database;

use crate::backend::{Backend, Column, Connection};
use crate::batch_plan::{Known, Person, Plan, plan};
use crate::group_commit::{Batches, Done, Write};
use crate::packed;
use crate::result_row::{domains_json, indicators_json, provenance_id};
use crate::results::flags_json;
use crate::sessions::{SESSION_COLUMNS, SessionRow, SessionWithAnswers, cells};
use crate::{NewResult, StoreError};

/// The outcome of each write of a batch.
pub(crate) type Outcomes = Vec<Result<Done, StoreError>>;

/// The batch's requests applied before it, with their packed cells, to tell a replay from
/// a conflict.
const READ_APPLIED: &str = "SELECT r.session_id, r.request_id, r.cells FROM save_requests r \
     WHERE r.session_id {keys} \
     AND (r.session_id, r.request_id) IN (SELECT session_id, request_id FROM {rows})";

/// The sessions saved or submitted, as the batch leaves them; `answers` NULL where no save
/// changed them.
const UPDATE_SESSIONS: &str = "UPDATE sessions SET state = v.state, \
     submitted_at = v.submitted_at, latest_revision = v.latest_revision, \
     answers_version = v.answers_version, answers = COALESCE(v.answers, sessions.answers) \
     FROM {rows} WHERE sessions.id = v.id AND sessions.id {keys}";

/// The re-taking rule (see `Results::count_latest_only`) for every person of the batch at
/// once: of each person's submitted sessions, the latest by `(submitted_at, id)` supersedes
/// every other still counting. Returns the sessions superseded, with their counting revision.
/// (`respondent_key {keys}`: the persons' sessions through their index, not every
/// submitted session tested against the list. The latest is ordered by all of
/// `sessions_respondent`'s columns, though the first three are fixed, so that the planner
/// reads that index backwards even with statistics of a table that was empty: otherwise it
/// may scan every session of the instrument, 13 ms per batch at 4,000 sessions.)
const SUPERSEDE_BY_LATEST: &str = "UPDATE sessions SET superseded_by = (SELECT l.id FROM \
     sessions l WHERE l.respondent_key = sessions.respondent_key \
     AND l.instrument_id = sessions.instrument_id \
     AND l.instrument_version = sessions.instrument_version AND l.state = 'submitted' \
     ORDER BY l.respondent_key DESC, l.instrument_id DESC, l.instrument_version DESC, \
     l.submitted_at DESC, l.id DESC LIMIT 1) \
     WHERE state = 'submitted' AND superseded_by IS NULL AND respondent_key {keys} \
     AND (respondent_key, instrument_id, instrument_version) IN \
     (SELECT respondent_key, instrument_id, instrument_version FROM {rows}) \
     AND id <> (SELECT l.id FROM sessions l WHERE l.respondent_key = sessions.respondent_key \
     AND l.instrument_id = sessions.instrument_id \
     AND l.instrument_version = sessions.instrument_version AND l.state = 'submitted' \
     ORDER BY l.respondent_key DESC, l.instrument_id DESC, l.instrument_version DESC, \
     l.submitted_at DESC, l.id DESC LIMIT 1) \
     RETURNING id, latest_revision";

/// The set-based writes of a batch. A type only so that the sqlx bounds (see
/// [`crate::backend`]) are written once.
pub(crate) struct SetBatch<B>(PhantomData<B>);

impl<B: Backend> SetBatch<B>
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
    /// Writes `batch` in one transaction, adding to statistics `shard`: `Some` outcomes
    /// once committed; `None` when nothing was written and the batch is for the per-write
    /// path; an error when the transaction failed (for every caller, or run again when
    /// [`Backend::is_transient`]).
    pub(crate) async fn try_batch(
        store: &B,
        batch: &[Write],
        shard: i64,
    ) -> Result<Option<Outcomes>, sqlx::Error> {
        let mut tx = store.write_tx().await?;
        match Self::write(&mut tx, batch, shard).await {
            Ok(Some(outcomes)) => {
                tx.commit().await?;
                Ok(Some(outcomes))
            }
            Ok(None) => {
                tx.rollback().await?;
                Ok(None)
            }
            Err(e) if B::is_transient(&e) => Err(e),
            Err(e) => {
                tracing::debug!(
                    writes = batch.len(),
                    "a batch of writes goes one by one after a refused statement: {e}"
                );
                tx.rollback().await?;
                Ok(None)
            }
        }
    }

    async fn write(
        conn: &mut Connection<B>,
        batch: &[Write],
        shard: i64,
    ) -> Result<Option<Outcomes>, sqlx::Error> {
        let known = Self::read(conn, batch).await?;
        let Some(plan) = plan(batch, known) else {
            return Ok(None);
        };
        Self::insert_starts(conn, &plan).await?;
        Self::insert_saves(conn, &plan).await?;
        Self::update_sessions(conn, &plan).await?;
        Self::insert_results(conn, &plan).await?;
        let stopped = Self::supersede(conn, &plan.persons).await?;
        let submitted: Vec<(&SessionRow, &NewResult)> = batch
            .iter()
            .zip(&plan.outcomes)
            .filter_map(|(write, outcome)| match (write, outcome) {
                (Write::Submit { result, .. }, Ok(Done::Submitted(row, _))) => {
                    Some((&**row, result))
                }
                _ => None,
            })
            .collect();
        Batches::<B>::count_in_stats(conn, &submitted, &stopped.iter().collect::<Vec<_>>(), shard)
            .await?;
        Ok(Some(plan.outcomes))
    }

    /// The batch's sessions, locked in id order (then its submits' persons, as
    /// [`Backend::lock_batch`] takes them), and what the checks of its saves need. Every
    /// read after the lock sees what the transactions it waited for committed (PostgreSQL
    /// runs write transactions at read committed: a new snapshot per statement).
    async fn read(conn: &mut Connection<B>, batch: &[Write]) -> Result<Known, sqlx::Error> {
        let mut ids: Vec<&str> = batch.iter().filter_map(Write::session).collect();
        let mut submitting = Vec::new();
        let mut requests = Vec::new();
        for write in batch {
            match write {
                Write::Save {
                    session_id,
                    request_id,
                    ..
                } => requests.push((session_id.as_str(), request_id.as_str())),
                Write::Submit { session_id, .. } => submitting.push(session_id.as_str()),
                Write::Start { .. } => {}
            }
        }
        for list in [&mut ids, &mut submitting] {
            list.sort_unstable();
            list.dedup();
        }
        requests.sort_unstable();
        requests.dedup();

        let read_sessions = format!(
            "SELECT {SESSION_COLUMNS}, s.answers FROM sessions s WHERE s.id {{keys}} \
             ORDER BY s.id{}",
            B::FOR_UPDATE
        );
        let rows: Vec<SessionWithAnswers> =
            B::with_rows(conn, &read_sessions, &[("id", Column::Text(ids))], false).await?;
        B::lock_persons(conn, &submitting).await?;
        let mut known = Known::default();
        for SessionWithAnswers { session, answers } in rows {
            if !answers.is_empty() {
                known.answers.insert(session.id.clone(), answers);
            }
            known.sessions.insert(session.id.clone(), session);
        }
        let applied: Vec<(String, String, String)> = B::with_rows(
            conn,
            READ_APPLIED,
            &[
                (
                    "session_id",
                    Column::Text(requests.iter().map(|r| r.0).collect()),
                ),
                (
                    "request_id",
                    Column::Text(requests.iter().map(|r| r.1).collect()),
                ),
            ],
            false,
        )
        .await?;
        known.applied = applied
            .into_iter()
            .map(|(session, request, cells)| ((session, request), cells))
            .collect();
        Ok(known)
    }

    async fn insert_starts(conn: &mut Connection<B>, plan: &Plan<'_>) -> Result<(), sqlx::Error> {
        let s = &plan.starts;
        let text = |f: fn(&crate::Session) -> &str| Column::Text(s.iter().map(|x| f(x)).collect());
        insert::<B>(
            conn,
            "sessions",
            &[
                ("id", text(|x| &x.id)),
                ("instrument_id", text(|x| &x.instrument_id)),
                ("instrument_version", text(|x| &x.instrument_version)),
                ("instrument_sha256", text(|x| &x.instrument_sha256)),
                ("respondent_key", text(|x| &x.respondent_key)),
                ("org_unit", text(|x| &x.org_unit)),
                ("state", Column::Text(vec!["open"; s.len()])),
                (
                    "created_at",
                    Column::Int(s.iter().map(|x| x.created_at).collect()),
                ),
            ],
            "",
        )
        .await
    }

    /// The applied saves' requests, with their cells packed (the sessions' latest answers
    /// go with their rows, see `update_sessions`).
    async fn insert_saves(conn: &mut Connection<B>, plan: &Plan<'_>) -> Result<(), sqlx::Error> {
        let saves = &plan.saves;
        let packed_cells: Vec<String> = saves
            .iter()
            .map(|s| packed::pack(cells(s.answers)))
            .collect();
        insert::<B>(
            conn,
            "save_requests",
            &[
                (
                    "session_id",
                    Column::Text(saves.iter().map(|s| s.session_id).collect()),
                ),
                (
                    "request_id",
                    Column::Text(saves.iter().map(|s| s.request_id).collect()),
                ),
                (
                    "saved_at",
                    Column::Int(saves.iter().map(|s| s.at).collect()),
                ),
                (
                    "answers",
                    Column::Int(saves.iter().map(|s| s.answers.len() as i64).collect()),
                ),
                (
                    "cells",
                    Column::Text(packed_cells.iter().map(String::as_str).collect()),
                ),
            ],
            "",
        )
        .await
    }

    async fn update_sessions(conn: &mut Connection<B>, plan: &Plan<'_>) -> Result<(), sqlx::Error> {
        let rows: Vec<&SessionRow> = plan.sessions.values().collect();
        // Only a session submitted in this batch is touched once submitted: its revision 1.
        let submitted = |r: &SessionRow| r.state == "submitted";
        let _: Vec<(i64,)> = B::with_rows(
            conn,
            UPDATE_SESSIONS,
            &[
                (
                    "id",
                    Column::Text(rows.iter().map(|r| r.id.as_str()).collect()),
                ),
                (
                    "state",
                    Column::Text(rows.iter().map(|r| r.state.as_str()).collect()),
                ),
                (
                    "submitted_at",
                    Column::OptInt(rows.iter().map(|r| r.submitted_at).collect()),
                ),
                (
                    "latest_revision",
                    Column::OptInt(rows.iter().map(|r| submitted(r).then_some(1)).collect()),
                ),
                (
                    "answers_version",
                    Column::Int(rows.iter().map(|r| r.answers_version).collect()),
                ),
                (
                    "answers",
                    Column::OptText(
                        rows.iter()
                            .map(|r| plan.answers.get(r.id.as_str()).map(String::as_str))
                            .collect(),
                    ),
                ),
            ],
            false,
        )
        .await?;
        Ok(())
    }

    /// Revision 1 of each submit's result (domains and indicators in its row), and the
    /// provenances not stored yet.
    async fn insert_results(conn: &mut Connection<B>, plan: &Plan<'_>) -> Result<(), sqlx::Error> {
        let subs = &plan.submits;
        let flags: Vec<String> = subs.iter().map(|s| flags_json(s.result)).collect();
        let domains: Vec<String> = subs
            .iter()
            .map(|s| domains_json(&s.result.domains))
            .collect();
        let indicators: Vec<String> = subs
            .iter()
            .map(|s| indicators_json(&s.result.indicators))
            .collect();
        let provenance_ids: Vec<String> = subs
            .iter()
            .map(|s| provenance_id(&s.result.provenance_json))
            .collect();
        // One row per distinct provenance (a batch's results usually share one).
        let provenances: BTreeMap<&str, &str> = provenance_ids
            .iter()
            .zip(subs)
            .map(|(id, s)| (id.as_str(), s.result.provenance_json.as_str()))
            .collect();
        insert::<B>(
            conn,
            "provenances",
            &[
                ("id", Column::Text(provenances.keys().copied().collect())),
                (
                    "json",
                    Column::Text(provenances.values().copied().collect()),
                ),
            ],
            " ON CONFLICT (id) DO NOTHING",
        )
        .await?;
        let text =
            |f: fn(&NewResult) -> &str| Column::Text(subs.iter().map(|s| f(s.result)).collect());
        fn strings(v: &[String]) -> Column<'_> {
            Column::Text(v.iter().map(String::as_str).collect())
        }
        insert::<B>(
            conn,
            "results",
            &[
                (
                    "session_id",
                    Column::Text(subs.iter().map(|s| s.session_id).collect()),
                ),
                ("revision", Column::Int(vec![1; subs.len()])),
                (
                    "created_at",
                    Column::Int(subs.iter().map(|s| s.at).collect()),
                ),
                // Revision 1 is made when the session is submitted.
                (
                    "submitted_at",
                    Column::Int(subs.iter().map(|s| s.at).collect()),
                ),
                ("model", text(|r| &r.model)),
                ("model_version", text(|r| &r.model_version)),
                (
                    "index_value",
                    Column::OptFloat(subs.iter().map(|s| s.result.index).collect()),
                ),
                (
                    "index_se",
                    Column::OptFloat(subs.iter().map(|s| s.result.index_se).collect()),
                ),
                (
                    "level",
                    Column::OptText(subs.iter().map(|s| s.result.level.as_deref()).collect()),
                ),
                ("flags", strings(&flags)),
                ("domains", strings(&domains)),
                ("indicators", strings(&indicators)),
                ("provenance_id", strings(&provenance_ids)),
            ],
            "",
        )
        .await
    }

    /// The re-taking rule for the batch's persons (each submitted once in it); the sessions
    /// that stopped counting, with their counting revision.
    async fn supersede(
        conn: &mut Connection<B>,
        persons: &std::collections::BTreeSet<Person>,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        B::with_rows(
            conn,
            SUPERSEDE_BY_LATEST,
            &[
                (
                    "respondent_key",
                    Column::Text(persons.iter().map(|p| p.0.as_str()).collect()),
                ),
                (
                    "instrument_id",
                    Column::Text(persons.iter().map(|p| p.1.as_str()).collect()),
                ),
                (
                    "instrument_version",
                    Column::Text(persons.iter().map(|p| p.2.as_str()).collect()),
                ),
            ],
            false,
        )
        .await
    }
}

/// `INSERT INTO table (columns) SELECT columns FROM {rows} WHERE true` and `tail` (an
/// `ON CONFLICT` clause, or nothing).
async fn insert<B: Backend>(
    conn: &mut Connection<B>,
    table: &str,
    columns: &[(&str, Column<'_>)],
    tail: &str,
) -> Result<(), sqlx::Error>
where
    (i64,): for<'r> sqlx::FromRow<'r, <B::Db as Database>::Row>,
{
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let names = names.join(", ");
    let statement =
        format!("INSERT INTO {table} ({names}) SELECT {names} FROM {{rows}} WHERE true{tail}");
    let _: Vec<(i64,)> = B::with_rows(conn, &statement, columns, true).await?;
    Ok(())
}
