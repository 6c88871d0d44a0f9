//! Concurrent one-respondent plugin work of one scorer, done in batches.
//!
//! Plugin calls run on tokio's blocking pool (a slow or hung plugin must not stall the
//! runtime, see [`crate::deadline`]). Handing one respondent over to that pool and back
//! costs two thread wake-ups, more than scoring the respondent; under load most of a
//! `Score` call was spent there. So calls for the same scorer queue up in a lane: a
//! runner on the blocking pool takes everything queued as one batch, answers each caller
//! through its own channel, and takes the next batch while any is queued. A runner starts
//! one scheduler turn after the call that asks for it, so the calls that become ready in
//! that turn (the requests of one read from a connection) join its first batch instead of
//! each waking a thread: a lone call waits one task poll, not a timer. Under load the
//! runners stay on their threads and the calls pay no hand-over at all.
//!
//! Batches give the same outcomes as single calls: respondents are scored independently,
//! and one whose answers a plugin refuses is set aside with its own violations
//! ([`Scorer::score_each`], [`Scorer::check_each`]). Used by `Score`, the answer check of
//! `SaveAnswers` and the scoring of `SubmitSession`.

use crate::records::{IndicatorScorer, indicator_scores};
use ikd_core::answers::AnswerRows;
use ikd_core::pipeline::{ScoreError, Scorer};
use ikd_core::results::RespondentResult;
use ikd_store::IndicatorScore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// Plugin work that takes many respondents at once: what a lane's batches run.
pub(crate) trait Job: Send + Sync + 'static {
    /// What does the work (a [`Scorer`]); one lane per instance.
    type Worker: Send + Sync + 'static;
    type Outcome: Send + 'static;
    /// One outcome per respondent of `rows`, in order.
    fn run(worker: &Self::Worker, rows: &AnswerRows) -> Vec<Self::Outcome>;
}

/// A full scoring ([`Scorer::score_each`]).
pub(crate) struct Scoring;

impl Job for Scoring {
    type Worker = Scorer;
    type Outcome = Result<RespondentResult, ScoreError>;

    fn run(scorer: &Scorer, rows: &AnswerRows) -> Vec<Self::Outcome> {
        scorer
            .score_each(rows)
            .unwrap_or_else(|e| (0..rows.len()).map(|_| Err(e.clone())).collect())
    }
}

/// A check of the answers by the domain plugins alone ([`Scorer::check_each`]).
pub(crate) struct Checking;

impl Job for Checking {
    type Worker = Scorer;
    type Outcome = Result<(), ScoreError>;

    fn run(scorer: &Scorer, rows: &AnswerRows) -> Vec<Self::Outcome> {
        scorer
            .check_each(rows)
            .unwrap_or_else(|e| (0..rows.len()).map(|_| Err(e.clone())).collect())
    }
}

/// A submit's scoring: the result and its indicator scores
/// ([`Scorer::score_with_item_scores`]).
pub(crate) struct Submitting;

impl Job for Submitting {
    type Worker = Scorer;
    type Outcome = Result<(RespondentResult, Vec<IndicatorScore>), ScoreError>;

    fn run(scorer: &Scorer, rows: &AnswerRows) -> Vec<Self::Outcome> {
        match scorer.score_with_item_scores(rows) {
            Ok((results, items)) => {
                let indicators = IndicatorScorer::new(scorer);
                results
                    .into_iter()
                    .enumerate()
                    .map(|(r, result)| Ok((result, indicator_scores(&indicators, &items, r))))
                    .collect()
            }
            Err(e) if rows.len() == 1 => vec![Err(e)],
            // Stored answers were checked when saved, so this is rare (an instrument whose
            // kinds changed): each respondent alone, for an outcome of its own.
            Err(_) => (0..rows.len())
                .flat_map(|r| {
                    let mut one = AnswerRows::new(rows.items());
                    one.push_row(rows, r);
                    Self::run(scorer, &one)
                })
                .collect(),
        }
    }
}

/// The lanes of one kind of job, one per worker (scorer) with calls queued or running.
pub(crate) struct Gather<J: Job> {
    lanes: Mutex<Lanes<J>>,
    /// Batches of one scorer that may run at once (one per core keeps every core busy).
    runners: usize,
}

/// The lanes by scorer address, and the number the next new lane gets.
struct Lanes<J: Job> {
    by_scorer: HashMap<usize, Lane<J>>,
    opened: u64,
}

/// The calls queued for one scorer, and how many runners are taking them.
struct Lane<J: Job> {
    /// Which lane of this scorer: a runner of a lane closed after a fault does not take
    /// the calls of the next one.
    number: u64,
    worker: Arc<J::Worker>,
    rows: AnswerRows,
    replies: Vec<oneshot::Sender<J::Outcome>>,
    runners: usize,
    /// A runner is about to start: calls queue for it instead of starting another.
    starting: bool,
}

impl<J: Job> Gather<J> {
    pub(crate) fn new(runners: usize) -> Arc<Self> {
        Arc::new(Gather {
            lanes: Mutex::new(Lanes {
                by_scorer: HashMap::new(),
                opened: 0,
            }),
            runners: runners.max(1),
        })
    }

    /// The outcome for the one respondent `push` adds to a batch of `worker`'s queued
    /// calls (rows of `items` cells); `None` when the batch's runner ended without one (it
    /// panicked: a bug).
    pub(crate) async fn one(
        self: &Arc<Self>,
        worker: &Arc<J::Worker>,
        items: usize,
        push: impl FnOnce(&mut AnswerRows),
    ) -> Option<J::Outcome> {
        let (reply, outcome) = oneshot::channel();
        // The lane holds its worker, so the address names one worker while the lane lives.
        let key = Arc::as_ptr(worker) as usize;
        let start_runner = {
            let mut lanes = self.lock();
            let Lanes { by_scorer, opened } = &mut *lanes;
            let lane = by_scorer.entry(key).or_insert_with(|| {
                *opened += 1;
                Lane {
                    number: *opened,
                    worker: Arc::clone(worker),
                    rows: AnswerRows::new(items),
                    replies: Vec::new(),
                    runners: 0,
                    starting: false,
                }
            });
            push(&mut lane.rows);
            lane.replies.push(reply);
            (lane.runners < self.runners && !lane.starting).then(|| {
                lane.runners += 1;
                lane.starting = true;
                lane.number
            })
        };
        if let Some(number) = start_runner {
            let gather = Arc::clone(self);
            // A task of its own, so that a caller that goes away cannot leave the lane
            // waiting for a runner that never starts.
            tokio::spawn(async move {
                // One turn of the scheduler first: the calls that become ready in it
                // (requests read together) join this batch instead of each waking a
                // runner of their own.
                tokio::task::yield_now().await;
                gather.started(key, number);
                tokio::task::spawn_blocking(move || gather.run(key, number));
            });
        }
        outcome.await.ok()
    }

    /// The runner about to start for lane `number` is on its way.
    fn started(&self, key: usize, number: u64) {
        if let Some(lane) = self.lock().by_scorer.get_mut(&key)
            && lane.number == number
        {
            lane.starting = false;
        }
    }

    /// A runner of lane `number`: batches of its queued calls until none is queued.
    fn run(&self, key: usize, number: u64) {
        let mut runner = Runner {
            gather: self,
            key,
            number,
            done: false,
            in_flight: Vec::new(),
        };
        loop {
            let (worker, rows) = {
                let mut lanes = self.lock();
                let lane = match lanes.by_scorer.get_mut(&key) {
                    Some(lane) if lane.number == number => lane,
                    // Closed after another runner's fault.
                    _ => {
                        runner.done = true;
                        return;
                    }
                };
                if lane.replies.is_empty() {
                    // Leaving under the same lock a caller queues under: a call queued
                    // after this check finds a free runner slot and starts a runner.
                    lane.runners -= 1;
                    if lane.runners == 0 {
                        lanes.by_scorer.remove(&key);
                    }
                    runner.done = true;
                    return;
                }
                let fresh = AnswerRows::new(lane.rows.items());
                runner.in_flight = std::mem::take(&mut lane.replies);
                (
                    Arc::clone(&lane.worker),
                    std::mem::replace(&mut lane.rows, fresh),
                )
            };
            let outcomes = J::run(&worker, &rows);
            for (reply, outcome) in runner.in_flight.drain(..).zip(outcomes) {
                // A caller past its deadline has gone: nobody to tell.
                let _ = reply.send(outcome);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lanes<J>> {
        self.lanes.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running runner; if it unwinds (a bug: plugin panics are caught at the ABI), its
/// lane is closed and its calls are failed (their senders dropped), so that no call waits
/// for a runner that is gone.
struct Runner<'a, J: Job> {
    gather: &'a Gather<J>,
    key: usize,
    number: u64,
    done: bool,
    /// The callers of the batch being run. Fields drop after `drop` has closed the
    /// lane, so a failed caller that calls again finds a new lane, not the dying one.
    in_flight: Vec<oneshot::Sender<J::Outcome>>,
}

impl<J: Job> Drop for Runner<'_, J> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut lanes = self.gather.lock();
        if lanes
            .by_scorer
            .get(&self.key)
            .is_some_and(|lane| lane.number == self.number)
        {
            lanes.by_scorer.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ikd_core::answers::Respondent;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Echoes each respondent's id and cell, counting batches; panics on a cell "boom".
    #[derive(Default)]
    struct Echo {
        batches: AtomicUsize,
        largest: AtomicUsize,
    }

    impl Job for Echo {
        type Worker = Echo;
        type Outcome = String;

        fn run(worker: &Echo, rows: &AnswerRows) -> Vec<String> {
            worker.batches.fetch_add(1, Ordering::SeqCst);
            worker.largest.fetch_max(rows.len(), Ordering::SeqCst);
            // Long enough for the other calls to queue behind this batch.
            std::thread::sleep(Duration::from_millis(5));
            (0..rows.len())
                .map(|r| {
                    assert_ne!(rows.cell(r, 0), "boom", "a bug in a batch");
                    format!("{}={}", rows.respondent_ids[r], rows.cell(r, 0))
                })
                .collect()
        }
    }

    fn push(id: &str, cell: &str) -> impl FnOnce(&mut AnswerRows) {
        let (id, cell) = (id.to_owned(), cell.to_owned());
        move |rows: &mut AnswerRows| {
            let who = Respondent {
                id: &id,
                org_unit: "",
                duration: None,
                origin: 0,
            };
            rows.push(who, [cell.as_str()]);
        }
    }

    /// Every caller gets its own respondent's outcome; concurrent calls share batches;
    /// the lane closes when the last call is answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_share_batches_and_each_gets_its_own_outcome() {
        let gather = Gather::<Echo>::new(2);
        let worker = Arc::new(Echo::default());
        let calls: Vec<_> = (0..200)
            .map(|k| {
                let (gather, worker) = (gather.clone(), worker.clone());
                tokio::spawn(async move {
                    let got = gather
                        .one(&worker, 1, push(&format!("r{k}"), &k.to_string()))
                        .await;
                    assert_eq!(got.as_deref(), Some(format!("r{k}={k}").as_str()));
                })
            })
            .collect();
        for call in calls {
            call.await.unwrap();
        }
        let batches = worker.batches.load(Ordering::SeqCst);
        assert!(
            batches < 200,
            "200 calls in flight ran as {batches} batches"
        );
        assert!(worker.largest.load(Ordering::SeqCst) > 1);
        assert!(gather.lock().by_scorer.is_empty(), "an idle lane is closed");
    }

    /// Calls that become ready in the same scheduler turn (the requests of one read)
    /// wait for one runner and are scored as one batch, not each with a wake-up.
    #[tokio::test(flavor = "current_thread")]
    async fn calls_ready_in_the_same_turn_share_one_batch() {
        let gather = Gather::<Echo>::new(2);
        let worker = Arc::new(Echo::default());
        let calls: Vec<_> = (0..10)
            .map(|k| {
                let (gather, worker) = (gather.clone(), worker.clone());
                tokio::spawn(async move {
                    let got = gather.one(&worker, 1, push("r", &k.to_string())).await;
                    assert_eq!(got, Some(format!("r={k}")));
                })
            })
            .collect();
        for call in calls {
            call.await.unwrap();
        }
        assert_eq!(worker.batches.load(Ordering::SeqCst), 1);
        assert_eq!(worker.largest.load(Ordering::SeqCst), 10);
    }

    /// A lone call is a batch of one, and a later call opens a new lane.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lone_call_is_a_batch_of_one() {
        let gather = Gather::<Echo>::new(2);
        let worker = Arc::new(Echo::default());
        for k in 0..3 {
            let got = gather.one(&worker, 1, push("r", &k.to_string())).await;
            assert_eq!(got, Some(format!("r={k}")));
        }
        assert_eq!(worker.batches.load(Ordering::SeqCst), 3);
        assert_eq!(worker.largest.load(Ordering::SeqCst), 1);
    }

    /// A runner that unwinds fails its batch's callers (`None`) instead of leaving them
    /// waiting, and the next call is served.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_runner_that_unwinds_fails_its_callers_and_the_lane_recovers() {
        let gather = Gather::<Echo>::new(1);
        let worker = Arc::new(Echo::default());
        let got = gather.one(&worker, 1, push("r", "boom")).await;
        assert_eq!(got, None);
        assert!(gather.lock().by_scorer.is_empty());
        let got = gather.one(&worker, 1, push("r", "fine")).await;
        assert_eq!(got.as_deref(), Some("r=fine"));
    }
}
