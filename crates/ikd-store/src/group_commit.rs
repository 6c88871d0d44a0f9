//! Group commit of session writes: starts, saves and submits that arrive while a batch is
//! being written wait for it, then go together into the next one — one transaction, one
//! commit (one `fsync` on SQLite, one WAL flush on PostgreSQL) for all of them — and each
//! caller hears its own outcome only once that commit is done.
//!
//! Why: a durable commit costs far more than the few statements of a save, so writes
//! committed one by one reach a fraction of the database's insert rate; batched, the cost
//! of the commit is shared. Nothing waits on purpose: a write arriving when no batch is
//! running starts one at once (alone, exactly as it would run without batching), and
//! batches grow only when writes arrive faster than batches commit.
//!
//! * **Batches.** No task lives for the store's lifetime: the write that finds fewer than
//!   the most batch tasks running spawns one, which keeps taking what is
//!   waiting (at most [`MAX_BATCH`] writes at a time) until nothing is, then ends. SQLite
//!   has one writer, so one batch at a time; PostgreSQL runs a few at once, on connections
//!   of its own, so that one batch waiting for a lock (another server's transaction) does not
//!   stall every write of this server.
//! * **Set-based.** A batch of several is written with a fixed number of statements
//!   ([`crate::set_batch`]): per-write statements, not the commit, were what limited
//!   throughput once commits were shared.
//! * **One failure, one caller.** A write refused for its own reason (not found, submitted,
//!   a reused request id, changed answers) fails that caller only. Where the database
//!   refuses a statement of the set-based path (a value it cannot store), the batch runs
//!   again write by write, each in a savepoint: the refused write rolls back to its savepoint
//!   and fails alone. A failure of
//!   the transaction itself (the commit, a lost connection) fails every caller of the batch;
//!   none is told of a write that was not committed. A deadlock or serialisation failure
//!   (PostgreSQL, racing another server's batch) runs the whole batch again.
//! * **Locks in one order.** Before the writes of a batch of several run, the backend takes
//!   the locks they will need in an order every batch follows ([`Backend::lock_batch`]), so
//!   that two batches sharing sessions or persons cannot wait for each other.
//! * **A statistics shard per batch task.** Every batch of submits adds to the same statistics
//!   rows (its units', and above all the prefixes' up to the national `""`), and holds their
//!   row locks until it commits: batches running at once would take turns there. Each batch
//!   task adds to a shard of those rows no other task of this store is using
//!   ([`crate::stats::SHARDS`]), so they do not wait for each other.
//! * **Time.** Each write keeps the time it was asked for (`created_at`, `saved_at`,
//!   `submitted_at`), not the time its batch ran.
//! * **Closing.** [`GroupCommit::close`] refuses new writes and waits until every waiting
//!   write has been committed (or has failed) before the pools are closed.

use std::collections::{HashSet, VecDeque};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::Database;
use tokio::sync::{Notify, oneshot};

use crate::backend::{Backend, Connection};
use crate::error::db_err;
use crate::results::{Results, check_result, stored_result};
use crate::sessions::{SessionRow, Sessions, check_request_id};
use crate::set_batch::SetBatch;
use crate::stats::{BASE_SHARD, Counted, Place, SHARDS, StatsDelta, counted_revision};
use crate::{
    NewResult, NewSession, SaveOutcome, Session, SessionState, StoreError, StoredResult, now_ms,
};

/// Most writes in one batch: bounds how long one transaction holds its locks.
const MAX_BATCH: usize = 256;

/// Attempts of a batch that races another server's transaction into a deadlock.
const BATCH_TRIES: u32 = 3;

/// Where a write's outcome goes once its batch has committed (or failed).
type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A write waiting for, or in, a batch.
pub(crate) enum Write {
    /// A session to insert, already built (id, time) as it will be returned.
    Start {
        session: Session,
        reply: Reply<Session>,
    },
    Save {
        session_id: String,
        request_id: String,
        answers: Vec<(String, String)>,
        at: i64,
        reply: Reply<SaveOutcome>,
    },
    Submit {
        session_id: String,
        answers_version: i64,
        result: NewResult,
        at: i64,
        reply: Reply<StoredResult>,
    },
}

/// What a write did, kept until its batch commits.
pub(crate) enum Done {
    Started,
    Saved(SaveOutcome),
    /// The session, and the sessions that stopped counting (see `Results::submit_in`).
    Submitted(Box<SessionRow>, Vec<(String, i64)>),
}

impl Write {
    /// The session it writes, if it already exists.
    pub(crate) fn session(&self) -> Option<&str> {
        match self {
            Write::Start { .. } => None,
            Write::Save { session_id, .. } | Write::Submit { session_id, .. } => Some(session_id),
        }
    }

    /// What the write does, naming its session and request, for an error of its batch.
    fn describe(&self) -> String {
        match self {
            Write::Start { session, .. } => format!(
                "starting a session of instrument '{}' {}",
                session.instrument_id, session.instrument_version
            ),
            Write::Save {
                session_id,
                request_id,
                ..
            } => format!("saving answers of session '{session_id}' (request '{request_id}')"),
            Write::Submit { session_id, .. } => format!("submitting session '{session_id}'"),
        }
    }

    /// Tells the caller; a caller that has gone away (a cancelled request) is not asked.
    fn answer(self, outcome: Result<Done, StoreError>) {
        match self {
            Write::Start { session, reply } => {
                let _ = reply.send(outcome.map(|_| session));
            }
            Write::Save { reply, .. } => {
                let _ = reply.send(outcome.map(|done| match done {
                    Done::Saved(saved) => saved,
                    _ => unreachable!("a save is done as a save"),
                }));
            }
            Write::Submit {
                result, at, reply, ..
            } => {
                let _ = reply.send(outcome.map(|done| match done {
                    Done::Submitted(row, _) => stored_result(*row, 1, at, result),
                    _ => unreachable!("a submit is done as a submit"),
                }));
            }
        }
    }
}

/// The writes waiting for a batch, and the batch tasks running: one per store, shared by
/// its handles (see [`Backend::share`]).
pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
    /// Signalled when the last running batch task ends.
    idle: Notify,
    /// Batch tasks that may run at once (1 on SQLite: one writer).
    max_batches: usize,
    /// The statistics shard of this store's first batch task, the next task's is the next
    /// one (see [`Queue::take_shard`]). Drawn at random when batches run at once, so that two
    /// servers on one database mostly start on different shards; else [`BASE_SHARD`], so
    /// that a single writer keeps one row per key.
    first_shard: usize,
}

/// What [`GroupCommit::enqueue`] did with a write.
enum Enqueued {
    /// Queued; a running batch task will take it.
    Waiting,
    /// Queued, and a new batch task is counted, with its shard's offset (see
    /// [`Queue::take_shard`]): the caller spawns it.
    StartBatch(usize),
    /// The store is closed (boxed: the other variants are empty).
    Refused(Box<Write>),
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Write>,
    running: usize,
    /// Running batch tasks per statistics shard (offset by [`GroupCommit::first_shard`]).
    shard_tasks: [usize; SHARDS],
    closed: bool,
}

impl Queue {
    /// Counts a new batch task on the shard fewest tasks use (the earliest of those):
    /// returns the shard's offset from the first.
    fn take_shard(&mut self) -> usize {
        let offset = (0..SHARDS)
            .min_by_key(|&i| self.shard_tasks[i])
            .unwrap_or_default();
        self.running += 1;
        self.shard_tasks[offset] += 1;
        offset
    }

    /// A batch task leaves the count; says whether none is left running.
    fn leave(&mut self, offset: usize) -> bool {
        self.running -= 1;
        self.shard_tasks[offset] -= 1;
        self.running == 0
    }
}

impl GroupCommit {
    pub(crate) fn new(max_batches: usize) -> Arc<Self> {
        let first_shard = if max_batches > 1 {
            usize::from(uuid::Uuid::new_v4().as_bytes()[0]) % SHARDS
        } else {
            BASE_SHARD as usize
        };
        Arc::new(GroupCommit {
            queue: Mutex::new(Queue::default()),
            idle: Notify::new(),
            max_batches: max_batches.max(1),
            first_shard,
        })
    }

    /// The statistics shard at `offset` from the first.
    fn shard(&self, offset: usize) -> i64 {
        ((self.first_shard + offset) % SHARDS) as i64
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        // Nothing under the lock panics; a poisoned lock still holds a consistent queue.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `write`, unless the store is closed; says whether the caller must start a
    /// batch task (fewer than the most are running), counted already.
    fn enqueue(&self, write: Write) -> Enqueued {
        let mut queue = self.queue();
        if queue.closed {
            return Enqueued::Refused(Box::new(write));
        }
        queue.waiting.push_back(write);
        if queue.running < self.max_batches {
            Enqueued::StartBatch(queue.take_shard())
        } else {
            Enqueued::Waiting
        }
    }

    /// Refuses new writes and waits until every accepted one has been committed or failed.
    pub(crate) async fn close(&self) {
        loop {
            let idle = self.idle.notified();
            {
                let mut queue = self.queue();
                queue.closed = true;
                if queue.running == 0 {
                    return;
                }
            }
            idle.await;
        }
    }
}

/// A running batch task's place in the count. It leaves the count when the task finds
/// nothing left to write, or when the task is dropped otherwise (its runtime shutting down, a
/// panic): the count stays right either way, and writes left waiting with no task to take
/// them fail rather than wait forever.
struct Running {
    commits: Arc<GroupCommit>,
    counted: bool,
    /// Its statistics shard's offset from the store's first.
    shard_offset: usize,
}

impl Running {
    /// Up to [`MAX_BATCH`] waiting writes; `None` when there are none, and then this task
    /// leaves the count under the same lock, so a write queued after the check starts a
    /// task of its own.
    fn next_batch(&mut self) -> Option<Vec<Write>> {
        let mut queue = self.commits.queue();
        if queue.waiting.is_empty() {
            self.counted = false;
            if queue.leave(self.shard_offset) {
                self.commits.idle.notify_waiters();
            }
            return None;
        }
        let n = queue.waiting.len().min(MAX_BATCH);
        Some(queue.waiting.drain(..n).collect())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let orphans = {
            let mut queue = self.commits.queue();
            if queue.leave(self.shard_offset) {
                self.commits.idle.notify_waiters();
                std::mem::take(&mut queue.waiting)
            } else {
                VecDeque::new()
            }
        };
        // Dropping their reply channels tells their callers.
        drop(orphans);
    }
}

/// The session writes of [`crate::Store`], through batches. A type only so that the sqlx
/// bounds (see [`crate::backend`]) are written once for all of them.
pub(crate) struct Batches<B>(PhantomData<B>);

impl<B: Backend> Batches<B>
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
    /// [`crate::Store::start_session`]: the session is built now (id, time) and inserted by
    /// a batch.
    pub(crate) async fn start(store: &B, new: NewSession) -> Result<Session, StoreError> {
        let session = Session {
            id: uuid::Uuid::new_v4().to_string(),
            instrument_id: new.instrument_id,
            instrument_version: new.instrument_version,
            instrument_sha256: new.instrument_sha256,
            respondent_key: new.respondent_key,
            org_unit: new.org_unit,
            state: SessionState::Open,
            created_at: now_ms(),
            submitted_at: None,
            answers_version: 0,
            answers: Vec::new(),
        };
        Self::write(store, |reply| Write::Start { session, reply }).await
    }

    /// [`crate::Store::save_answers`]: the request id is checked now, the save applied by a
    /// batch.
    pub(crate) async fn save(
        store: &B,
        session_id: &str,
        request_id: &str,
        answers: &[(String, String)],
    ) -> Result<SaveOutcome, StoreError> {
        check_request_id(session_id, request_id)?;
        let at = now_ms();
        Self::write(store, |reply| Write::Save {
            session_id: session_id.to_owned(),
            request_id: request_id.to_owned(),
            answers: answers.to_vec(),
            at,
            reply,
        })
        .await
    }

    /// [`crate::Store::submit`]: the result is checked now, stored by a batch.
    pub(crate) async fn submit(
        store: &B,
        session_id: &str,
        answers_version: i64,
        result: NewResult,
    ) -> Result<StoredResult, StoreError> {
        check_result(session_id, &result)?;
        let at = now_ms();
        Self::write(store, |reply| Write::Submit {
            session_id: session_id.to_owned(),
            answers_version,
            result,
            at,
            reply,
        })
        .await
    }

    /// Queues the write `make` builds around its reply channel, starts a batch task if
    /// fewer than the most are running, and waits for the write's outcome.
    async fn write<T>(store: &B, make: impl FnOnce(Reply<T>) -> Write) -> Result<T, StoreError> {
        let (reply, outcome) = oneshot::channel();
        let commits = store.group_commit();
        let write = make(reply);
        match commits.enqueue(write) {
            Enqueued::Refused(write) => {
                let context = write.describe();
                write.answer(Err(db_err(B::NAME, context)(sqlx::Error::PoolClosed)));
            }
            Enqueued::StartBatch(shard_offset) => {
                let running = Running {
                    commits: Arc::clone(commits),
                    counted: true,
                    shard_offset,
                };
                tokio::spawn(Self::run_batches(store.share(), running));
            }
            Enqueued::Waiting => {}
        }
        outcome.await.unwrap_or_else(|_| {
            // The batch task ended without answering: its runtime shut down, or it
            // panicked. Whether the write was committed is unknown.
            Err(db_err(B::NAME, "waiting for a batch of writes")(
                sqlx::Error::WorkerCrashed,
            ))
        })
    }

    /// One batch task: takes what is waiting and writes it, until nothing is.
    async fn run_batches(store: B, mut running: Running) {
        let shard = running.commits.shard(running.shard_offset);
        while let Some(batch) = running.next_batch() {
            Self::run_batch(&store, batch, shard).await;
        }
    }

    /// Writes one batch (again after a deadlock, see [`Backend::is_transient`]), adding to
    /// statistics `shard`, and answers every caller.
    async fn run_batch(store: &B, batch: Vec<Write>, shard: i64) {
        let mut attempt = 1;
        let failure = loop {
            match Self::try_batch(store, &batch, shard).await {
                Ok(outcomes) => {
                    for (write, outcome) in batch.into_iter().zip(outcomes) {
                        write.answer(outcome);
                    }
                    return;
                }
                Err(e) if attempt < BATCH_TRIES && B::is_transient(&e) => {
                    tracing::debug!(
                        attempt,
                        writes = batch.len(),
                        "a batch of writes raced another: {e}"
                    );
                    attempt += 1;
                }
                Err(e) => break e,
            }
        };
        let batch = match <[Write; 1]>::try_from(batch) {
            Ok([write]) => {
                let context = write.describe();
                write.answer(Err(db_err(B::NAME, context)(failure)));
                return;
            }
            Err(batch) => batch,
        };
        // Every caller of the batch gets its error (an `sqlx::Error` cannot be cloned).
        let n = batch.len();
        tracing::warn!(writes = n, "a batch of writes failed: {failure}");
        let message = failure.to_string();
        for write in batch {
            let context = format!("{} (in a batch of {n} writes)", write.describe());
            write.answer(Err(db_err(B::NAME, context)(copy_error(
                &message, &failure,
            ))));
        }
    }

    /// One transaction for the whole batch: each write's outcome, or the error that undid
    /// the transaction (then nothing of the batch is committed). A batch of several goes
    /// the set-based way ([`SetBatch`]) unless that declines it.
    async fn try_batch(
        store: &B,
        batch: &[Write],
        shard: i64,
    ) -> Result<Vec<Result<Done, StoreError>>, sqlx::Error> {
        if let [write] = batch {
            // Alone: exactly as without batching (no savepoint, no lock taken ahead).
            let mut tx = store.write_tx().await?;
            return match Self::apply(&mut tx, write).await {
                Ok(done) => {
                    let outcomes = vec![Ok(done)];
                    Self::count_outcomes(&mut tx, batch, &outcomes, shard).await?;
                    tx.commit().await?;
                    Ok(outcomes)
                }
                Err(StoreError::Database { source, .. }) if B::is_transient(&source) => Err(source),
                // Dropping the transaction rolls it back.
                Err(refused) => Ok(vec![Err(refused)]),
            };
        }
        if let Some(outcomes) = SetBatch::try_batch(store, batch, shard).await? {
            return Ok(outcomes);
        }
        Self::try_one_by_one(store, batch, shard).await
    }

    /// The per-write path of a batch of several: each write in a savepoint of its own, so
    /// that a write the database refuses fails alone.
    async fn try_one_by_one(
        store: &B,
        batch: &[Write],
        shard: i64,
    ) -> Result<Vec<Result<Done, StoreError>>, sqlx::Error> {
        let mut tx = store.write_tx().await?;
        let mut sessions: Vec<&str> = batch.iter().filter_map(Write::session).collect();
        let mut submitting: Vec<&str> = batch
            .iter()
            .filter(|w| matches!(w, Write::Submit { .. }))
            .filter_map(Write::session)
            .collect();
        for ids in [&mut sessions, &mut submitting] {
            ids.sort_unstable();
            ids.dedup();
        }
        B::lock_batch(&mut tx, &sessions, &submitting).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for write in batch {
            let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
            match Self::apply(&mut savepoint, write).await {
                Ok(done) => {
                    savepoint.commit().await?;
                    outcomes.push(Ok(done));
                }
                Err(StoreError::Database { source, .. }) if B::is_transient(&source) => {
                    return Err(source);
                }
                Err(refused) => {
                    savepoint.rollback().await?;
                    outcomes.push(Err(refused));
                }
            }
        }
        Self::count_outcomes(&mut tx, batch, &outcomes, shard).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    /// [`Batches::count_in_stats`] for the outcomes of the per-write path.
    async fn count_outcomes(
        conn: &mut Connection<B>,
        batch: &[Write],
        outcomes: &[Result<Done, StoreError>],
        shard: i64,
    ) -> Result<(), sqlx::Error> {
        let mut submitted: Vec<(&SessionRow, &NewResult)> = Vec::new();
        let mut stopped: Vec<&(String, i64)> = Vec::new();
        for (write, outcome) in batch.iter().zip(outcomes) {
            if let (Write::Submit { result, .. }, Ok(Done::Submitted(row, superseded))) =
                (write, outcome)
            {
                submitted.push((row, result));
                stopped.extend(superseded);
            }
        }
        Self::count_in_stats(conn, &submitted, &stopped, shard).await
    }

    /// Brings the per-unit statistics up to date with a batch's submits, in its
    /// transaction: each `submitted` session that counts is added; each session that
    /// `stopped` counting (superseded by a re-take) is taken away — unless it was submitted
    /// in this very batch, and so never added. It adds to the rows of `shard`.
    pub(crate) async fn count_in_stats(
        conn: &mut Connection<B>,
        submitted: &[(&SessionRow, &NewResult)],
        stopped: &[&(String, i64)],
        shard: i64,
    ) -> Result<(), sqlx::Error> {
        if submitted.is_empty() {
            return Ok(());
        }
        let stopped_ids: HashSet<&str> = stopped.iter().map(|(id, _)| id.as_str()).collect();
        let submitted_ids: HashSet<&str> =
            submitted.iter().map(|(row, _)| row.id.as_str()).collect();
        let mut delta = StatsDelta::default();
        for (row, result) in submitted {
            if stopped_ids.contains(row.id.as_str()) {
                continue;
            }
            let place = Place {
                instrument_id: &row.instrument_id,
                instrument_version: &row.instrument_version,
                org_unit: &row.org_unit,
                submitted_at: row.submitted_at.unwrap_or_default(),
            };
            delta.add(&place, &Counted::of(result), 1);
        }
        for &(id, revision) in stopped {
            if submitted_ids.contains(id.as_str()) {
                continue;
            }
            if let Some(stored) = counted_revision::<B>(conn, id, *revision).await? {
                delta.add(&stored.place(), &stored.counted(), -1);
            }
        }
        delta.apply::<B>(conn, shard).await
    }

    /// Runs one write in the batch's transaction (or its savepoint).
    async fn apply(conn: &mut Connection<B>, write: &Write) -> Result<Done, StoreError> {
        match write {
            Write::Start { session, .. } => {
                Sessions::<B>::insert(conn, session).await?;
                Ok(Done::Started)
            }
            Write::Save {
                session_id,
                request_id,
                answers,
                at,
                ..
            } => Sessions::<B>::save_in(conn, session_id, request_id, answers, *at)
                .await
                .map(Done::Saved),
            Write::Submit {
                session_id,
                answers_version,
                result,
                at,
                ..
            } => Results::<B>::submit_in(conn, session_id, *answers_version, result, *at)
                .await
                .map(|(row, superseded)| Done::Submitted(Box::new(row), superseded)),
        }
    }
}

/// A copy of a batch's error for each of its callers, of the same kind where it can be
/// rebuilt: a pool or connection failure stays one.
fn copy_error(message: &str, original: &sqlx::Error) -> sqlx::Error {
    match original {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::WorkerCrashed => sqlx::Error::WorkerCrashed,
        sqlx::Error::Io(e) => sqlx::Error::Io(std::io::Error::new(e.kind(), message.to_owned())),
        _ => sqlx::Error::Io(std::io::Error::other(message.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_tasks_running_at_once_take_different_shards() {
        let mut queue = Queue::default();
        let taken: Vec<usize> = (0..3).map(|_| queue.take_shard()).collect();
        assert_eq!(taken, [0, 1, 2]);
        assert!(!queue.leave(1));
        assert_eq!(queue.take_shard(), 1, "a shard left is taken again first");
        for _ in 3..SHARDS {
            queue.take_shard();
        }
        // More tasks than shards: they share the least used.
        assert_eq!(queue.take_shard(), 0);
        assert_eq!(queue.running, SHARDS + 1);
    }

    #[test]
    fn a_single_writer_keeps_every_row_in_the_base_shard() {
        let commits = GroupCommit::new(1);
        assert_eq!(commits.shard(0), BASE_SHARD);
    }
}
