//! Group commit: session writes that arrive together share one transaction. Each caller
//! still gets its own outcome, a refused write fails alone, and nothing is acknowledged
//! before it is committed.
//!
//! A [`Gate`] makes batches deterministic: it holds the store's writes back behind a lock
//! held by another connection, the writes of the test queue up meanwhile, and opening the
//! gate lets them through as one batch.

use super::*;
use ikd_store::{OpenOptions, SaveOutcome};
use tokio::task::JoinHandle;

/// The store of `db` writing one batch at a time (PostgreSQL writes up to half its pool's
/// connections at once; SQLite always one).
async fn one_batch_at_a_time(db: &Db) -> Arc<dyn Store> {
    let options = OpenOptions {
        max_connections: 2,
        ..OpenOptions::default()
    };
    ikd_store::open_with(&db.url, &options)
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", db.url))
}

/// Another connection holding what the stores' next writes need; see the module docs.
enum Holder {
    /// `BEGIN IMMEDIATE`: the database's write lock.
    Sqlite(sqlx::SqliteConnection),
    /// The rows of the gate's sessions (`FOR UPDATE`).
    Postgres(sqlx::PgConnection),
}

/// Holds back every write of stores that write one batch at a time: a save of a session of
/// the gate's own, one per store, waits for the [`Holder`], and the writes asked for
/// meanwhile queue behind it.
struct Gate {
    holder: Holder,
    blocked: Vec<JoinHandle<Result<SaveOutcome, StoreError>>>,
}

impl Gate {
    async fn close(db: &Db, stores: &[&Arc<dyn Store>]) -> Gate {
        use sqlx::Connection;
        let mut blockers = Vec::new();
        for store in stores {
            let s = store
                .start_session(session_in("99.gate"))
                .await
                .expect("start the gate's session");
            blockers.push(s.id);
        }
        let holder = if db.url.starts_with("sqlite") {
            let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().expect("sqlite URL");
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .expect("connect");
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .expect("take the write lock");
            Holder::Sqlite(conn)
        } else {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            sqlx::raw_sql("BEGIN")
                .execute(&mut conn)
                .await
                .expect("begin");
            for id in &blockers {
                sqlx::query("SELECT id FROM sessions WHERE id = $1 FOR UPDATE")
                    .bind(id)
                    .execute(&mut conn)
                    .await
                    .expect("lock the gate's session");
            }
            Holder::Postgres(conn)
        };
        let blocked = stores
            .iter()
            .zip(blockers)
            .map(|(store, id)| {
                spawn(store, |store| async move {
                    store
                        .save_answers(&id, "gate", &answers(&[("q", "1")]))
                        .await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let gate = Gate { holder, blocked };
        gate.assert_holding();
        gate
    }

    fn assert_holding(&self) {
        assert!(
            self.blocked.iter().all(|b| !b.is_finished()),
            "the gate holds the stores' writes"
        );
    }

    /// Lets the writes through, once the ones asked for have had the time to queue up.
    async fn open(self) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.assert_holding();
        match self.holder {
            Holder::Sqlite(mut conn) => sqlx::raw_sql("COMMIT").execute(&mut conn).await.map(drop),
            Holder::Postgres(mut conn) => {
                sqlx::raw_sql("COMMIT").execute(&mut conn).await.map(drop)
            }
        }
        .expect("release the lock");
        for blocked in self.blocked {
            blocked
                .await
                .expect("gate task")
                .expect("the gate's own save");
        }
    }
}

/// Spawns `write` on a store, to run behind a closed [`Gate`].
fn spawn<T, F>(store: &Arc<dyn Store>, write: impl FnOnce(Arc<dyn Store>) -> F) -> JoinHandle<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(write(store.clone()))
}

/// Many sessions started, saved twice and submitted at once, on two store handles (two
/// servers): every write is acknowledged, and everything acknowledged reads back.
pub async fn concurrent_writes_of_many_sessions_all_land(db: Db) {
    const SESSIONS: usize = 120;
    let stores = [db.open().await, db.open().await];
    let barrier = Arc::new(tokio::sync::Barrier::new(SESSIONS));
    let tasks: Vec<_> = (0..SESSIONS)
        .map(|k| {
            let store = stores[k % 2].clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let s = store
                    .start_session(session_in("61.01"))
                    .await
                    .expect("start");
                let first = answers(&[("q1", &k.to_string()), ("q2", "a")]);
                let saved = store.save_answers(&s.id, "r1", &first).await.expect("save");
                assert_eq!((saved.replayed, saved.answers_stored), (false, 2));
                let second = answers(&[("q2", "b"), ("q3", &format!("{k}-3"))]);
                let saved = store
                    .save_answers(&s.id, "r2", &second)
                    .await
                    .expect("save");
                assert_eq!((saved.replayed, saved.answers_stored), (false, 3));
                let stored = store
                    .submit(&s.id, 2, result(Some(k as f64), Some("1"), vec![]))
                    .await
                    .expect("submit");
                (k, s, stored)
            })
        })
        .collect();
    let mut done = Vec::new();
    for task in tasks {
        done.push(task.await.expect("session task"));
    }
    let reader = db.open().await;
    for (k, started, stored) in &done {
        let read = reader
            .session(&started.id)
            .await
            .expect("read")
            .expect("an acknowledged start is stored");
        assert_eq!(read.created_at, started.created_at);
        assert_eq!(read.state, SessionState::Submitted);
        assert_eq!(read.answers_version, 2);
        assert_eq!(read.submitted_at, Some(stored.submitted_at));
        assert_eq!(
            read.answers,
            answers(&[
                ("q1", &k.to_string()),
                ("q2", "b"),
                ("q3", &format!("{k}-3"))
            ])
        );
        assert_eq!(
            reader
                .latest_result(&started.id)
                .await
                .expect("read")
                .as_ref(),
            Some(stored),
            "session {k}: the acknowledged result"
        );
    }
    let all = reader
        .aggregate(&ResultFilter {
            org_prefix: "61.01".into(),
            ..ResultFilter::default()
        })
        .await
        .expect("aggregate");
    assert_eq!(all.n, SESSIONS as u64);
    let expected: f64 = (0..SESSIONS).map(|k| k as f64).sum();
    assert_close(all.index_sum, expected, "every submitted index once");
    assert_stats_consistent(&*stores[0]).await;
    super::stats::assert_results_keep_submission_times(&db, SESSIONS as i64).await;
}

/// One batch holding good writes and writes each refused for its own reason: only the
/// refused ones fail, each with its own error, and leave nothing behind.
pub async fn a_refused_write_fails_alone_in_its_batch(db: Db) {
    let store = one_batch_at_a_time(&db).await;
    let good: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(
                store
                    .start_session(session_in("62.01"))
                    .await
                    .expect("start"),
            );
        }
        v
    };
    let submitted = submitted(&*store, "62.02", 1.0).await.session_id;
    let outdated = store
        .start_session(session_in("62.03"))
        .await
        .expect("start");
    store
        .save_answers(&outdated.id, "r1", &answers(&[("q1", "1")]))
        .await
        .expect("save");
    let reused = store
        .start_session(session_in("62.04"))
        .await
        .expect("start");
    store
        .save_answers(&reused.id, "r1", &answers(&[("q1", "1")]))
        .await
        .expect("save");
    let refused_value = store
        .start_session(session_in("62.05"))
        .await
        .expect("start");
    let unknown = "00000000-0000-4000-8000-000000000000".to_owned();

    let gate = Gate::close(&db, &[&store]).await;
    let ok_saves: Vec<_> = good
        .iter()
        .map(|s| {
            let id = s.id.clone();
            spawn(&store, |store| async move {
                store
                    .save_answers(&id, "r1", &answers(&[("q1", "5")]))
                    .await
            })
        })
        .collect();
    let not_found = spawn(&store, |store| {
        let id = unknown.clone();
        async move { store.save_answers(&id, "r1", &answers(&[("q", "1")])).await }
    });
    let after_submit = spawn(&store, |store| {
        let id = submitted.clone();
        async move {
            store
                .save_answers(&id, "late", &answers(&[("q", "1")]))
                .await
        }
    });
    let changed = spawn(&store, |store| {
        let id = outdated.id.clone();
        async move { store.submit(&id, 0, result(Some(3.0), None, vec![])).await }
    });
    let conflict = spawn(&store, |store| {
        let id = reused.id.clone();
        async move {
            store
                .save_answers(&id, "r1", &answers(&[("q1", "2")]))
                .await
        }
    });
    // PostgreSQL refuses a NUL character in text, after the save has written its first rows.
    let nul = spawn(&store, |store| {
        let id = refused_value.id.clone();
        async move {
            store
                .save_answers(&id, "r1", &answers(&[("q1", "a\0b")]))
                .await
        }
    });
    let ok_submit = spawn(&store, |store| {
        let id = good[0].id.clone();
        async move {
            // Queued after the save of the same session, in the same batch.
            tokio::time::sleep(Duration::from_millis(20)).await;
            store.submit(&id, 1, result(Some(7.0), None, vec![])).await
        }
    });
    gate.open().await;

    for save in ok_saves {
        let saved = save.await.expect("task").expect("a good save of the batch");
        assert_eq!((saved.replayed, saved.answers_stored), (false, 1));
    }
    let stored = ok_submit.await.expect("task").expect("a good submit");
    assert_eq!(stored.revision, 1);
    let err = not_found.await.expect("task").expect_err("unknown session");
    assert!(
        matches!(&err, StoreError::NotFound { id, .. } if *id == unknown),
        "{err}"
    );
    let err = after_submit.await.expect("task").expect_err("submitted");
    assert!(
        matches!(&err, StoreError::Submitted { session } if *session == submitted),
        "{err}"
    );
    let err = changed.await.expect("task").expect_err("answers changed");
    assert!(
        matches!(
            &err,
            StoreError::AnswersChanged {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = conflict
        .await
        .expect("task")
        .expect_err("reused request id");
    assert!(matches!(&err, StoreError::Conflict(_)), "{err}");
    let nul = nul.await.expect("task");
    let postgres = db.url.starts_with("postgres");
    if postgres {
        let err = nul.expect_err("PostgreSQL refuses NUL in text");
        assert!(matches!(&err, StoreError::Database { .. }), "{err}");
        assert!(err.to_string().contains(&refused_value.id), "{err}");
    } else {
        nul.expect("SQLite keeps NUL in text");
    }

    // What was acknowledged is stored; what was refused left nothing.
    for s in &good {
        let read = store.session(&s.id).await.expect("read").expect("found");
        assert_eq!(read.answers, answers(&[("q1", "5")]));
        assert_eq!(read.answers_version, 1);
    }
    assert_eq!(
        store.latest_result(&good[0].id).await.expect("read"),
        Some(stored)
    );
    let read = store
        .session(&outdated.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!((read.state, read.answers_version), (SessionState::Open, 1));
    let read = store
        .session(&reused.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.answers, answers(&[("q1", "1")]));
    assert_eq!(read.answers_version, 1);
    let read = store
        .session(&refused_value.id)
        .await
        .expect("read")
        .expect("found");
    if postgres {
        assert_eq!(read.answers_version, 0, "the refused save left nothing");
        assert!(read.answers.is_empty());
    }
    let read = store
        .session(&submitted)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.answers, answers(&[("q1", "3")]));
    assert_stats_consistent(&*store).await;
}

/// Saves of one session in one batch: a request id already applied — before the batch or
/// earlier in the same batch — is a replay, with different answers a conflict; every
/// applied save (and only those) counts in the answers version.
pub async fn a_replay_in_a_batch_is_still_a_replay(db: Db) {
    let store = one_batch_at_a_time(&db).await;
    let s = store
        .start_session(session_in("63.01"))
        .await
        .expect("start");
    store
        .save_answers(&s.id, "before", &answers(&[("q1", "1")]))
        .await
        .expect("save");
    let gate = Gate::close(&db, &[&store]).await;
    // In this order, one after another into the queue.
    let writes = [
        ("before", answers(&[("q1", "1")])), // replay of a save before the batch
        ("in", answers(&[("q2", "2")])),     // applied
        ("in", answers(&[("q2", "2")])),     // replay of the one just above
        ("in", answers(&[("q2", "9")])),     // conflict
        ("next", answers(&[("q1", "3")])),   // applied
    ];
    let mut tasks = Vec::new();
    for (request, saved) in writes {
        let id = s.id.clone();
        tasks.push(spawn(&store, |store| async move {
            store.save_answers(&id, request, &saved).await
        }));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    gate.open().await;
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    let replayed = |k: usize| match &outcomes[k] {
        Ok(o) => o.replayed,
        Err(e) => panic!("save {k}: {e}"),
    };
    assert!(replayed(0), "a save applied before the batch");
    assert!(!replayed(1));
    assert!(replayed(2), "a save applied earlier in the batch");
    assert!(
        matches!(&outcomes[3], Err(StoreError::Conflict(_))),
        "{:?}",
        outcomes[3]
    );
    assert!(!replayed(4));
    let read = store.session(&s.id).await.expect("read").expect("found");
    assert_eq!(read.answers, answers(&[("q1", "3"), ("q2", "2")]));
    assert_eq!(read.answers_version, 3, "three applied saves");
}

/// Submits of one person's sessions in one batch, and in the batches of a second store at
/// the same time (each person's sessions asked for in another order on each store, so that
/// two batches would deadlock if they locked in the order asked): all succeed, and exactly
/// one session per person counts — the latest by `(submitted_at, id)`.
pub async fn retakes_in_batches_leave_exactly_one_counting(db: Db) {
    const PERSONS: usize = 6;
    const TAKES: usize = 4;
    let stores = [
        one_batch_at_a_time(&db).await,
        one_batch_at_a_time(&db).await,
    ];
    let mut sessions = Vec::new();
    for p in 0..PERSONS {
        for t in 0..TAKES {
            let s = stores[0]
                .start_session(session_of(&format!("batch-{p}"), &format!("64.{p}/{t}")))
                .await
                .expect("start");
            sessions.push(s.id);
        }
    }
    let gate = Gate::close(&db, &[&stores[0], &stores[1]]).await;
    let mut tasks = Vec::new();
    for (k, id) in sessions.iter().enumerate() {
        // Store 0 asks in one order, store 1 in the reverse one.
        let (store, id) = if k % 2 == 0 {
            (&stores[0], id.clone())
        } else {
            (&stores[1], sessions[sessions.len() - k].clone())
        };
        tasks.push(spawn(store, |store| async move {
            store.submit(&id, 0, result(Some(1.0), None, vec![])).await
        }));
    }
    gate.open().await;
    let mut stored = Vec::new();
    for task in tasks {
        stored.push(task.await.expect("task").expect("submit"));
    }
    assert_eq!(stored.len(), PERSONS * TAKES);
    for p in 0..PERSONS {
        let prefix = format!("64.{p}");
        let latest = stored
            .iter()
            .filter(|r| r.org_unit.starts_with(&format!("{prefix}/")))
            .map(StoredResult::cursor)
            .max()
            .expect("takes");
        let filter = ResultFilter {
            org_prefix: prefix,
            ..ResultFilter::default()
        };
        assert_eq!(
            all_pages(&*stores[0], &filter, 100)
                .await
                .into_iter()
                .map(|r| r.session_id)
                .collect::<Vec<_>>(),
            vec![latest.1],
            "person {p}: only the latest take counts"
        );
        assert_eq!(stores[1].aggregate(&filter).await.expect("agg").n, 1);
    }
    assert_stats_consistent(&*stores[0]).await;
}

/// Closing the store while writes wait for a batch: each of them is committed before the
/// pools close and acknowledged, and a write after the close is refused.
pub async fn closing_commits_the_writes_waiting(db: Db) {
    let store = one_batch_at_a_time(&db).await;
    let sessions: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..10 {
            v.push(
                store
                    .start_session(session_in("65.01"))
                    .await
                    .expect("start"),
            );
        }
        v
    };
    let gate = Gate::close(&db, &[&store]).await;
    let saves: Vec<_> = sessions
        .iter()
        .map(|s| {
            let id = s.id.clone();
            spawn(&store, |store| async move {
                store
                    .save_answers(&id, "r1", &answers(&[("q1", "1")]))
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let closing = spawn(&store, |store| async move { store.close().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = store
        .save_answers(&sessions[0].id, "r2", &answers(&[("q1", "2")]))
        .await
        .expect_err("a write after the close");
    assert!(matches!(err, StoreError::Database { .. }), "{err}");
    assert!(!closing.is_finished(), "the close waits for the writes");
    gate.open().await;
    closing.await.expect("close");
    for save in saves {
        save.await
            .expect("task")
            .expect("a save queued before the close");
    }
    let reopened = db.open().await;
    for s in &sessions {
        let read = reopened.session(&s.id).await.expect("read").expect("found");
        assert_eq!(read.answers, answers(&[("q1", "1")]));
    }
}

/// Writes of one session in one batch see each other as they would one after another:
/// two saves, a replay of the first, a submit of the answers before the second save
/// (refused), a submit of the answers after it, a save after the submit (refused) and a
/// replay after it; beside them a start, a submit of another person, and a re-take that
/// supersedes a session submitted before the batch.
pub async fn writes_of_one_session_in_one_batch_see_each_other(db: Db) {
    one_session_in_one_batch(db, false).await;
}

/// The same batch with a save PostgreSQL refuses (a NUL character) among its writes: the
/// batch is then decided write by write, and every other write has the same outcome.
pub async fn a_batch_with_a_refused_value_keeps_every_other_outcome(db: Db) {
    one_session_in_one_batch(db, true).await;
}

async fn one_session_in_one_batch(db: Db, with_nul: bool) {
    let store = one_batch_at_a_time(&db).await;
    let unit = if with_nul { "66.02" } else { "66.01" };
    let a = store.start_session(session_in(unit)).await.expect("start");
    store
        .save_answers(&a.id, "r0", &answers(&[("q1", "1")]))
        .await
        .expect("save");
    let b = store.start_session(session_in(unit)).await.expect("start");
    let person = format!("retake-{unit}");
    let earlier = store
        .start_session(session_of(&person, unit))
        .await
        .expect("start");
    store
        .submit(&earlier.id, 0, result(Some(10.0), Some("1"), vec![]))
        .await
        .expect("submit the earlier take");
    let retake = store
        .start_session(session_of(&person, unit))
        .await
        .expect("start");
    let refused = store.start_session(session_in(unit)).await.expect("start");

    let gate = Gate::close(&db, &[&store]).await;
    let first = answers(&[("q2", "2"), ("q3", "3")]);
    let second = answers(&[("q3", "4"), ("q4", "5")]);
    type Task = JoinHandle<Result<String, StoreError>>;
    let mut tasks: Vec<Task> = Vec::new();
    let save = |id: &str, request: &'static str, saved: Vec<(String, String)>| {
        let id = id.to_owned();
        spawn(&store, |store| async move {
            store
                .save_answers(&id, request, &saved)
                .await
                .map(|o| format!("saved replayed={} stored={}", o.replayed, o.answers_stored))
        })
    };
    let submit = |id: &str, version: i64, index: f64| {
        let id = id.to_owned();
        spawn(&store, move |store| async move {
            store
                .submit(&id, version, result(Some(index), Some("2"), vec![]))
                .await
                .map(|r| format!("submitted revision={}", r.revision))
        })
    };
    let queue: Vec<Box<dyn Fn() -> Task>> = vec![
        Box::new(|| save(&a.id, "r1", first.clone())),
        Box::new(|| save(&a.id, "r2", second.clone())),
        Box::new(|| save(&a.id, "r1", first.clone())),
        Box::new(|| submit(&a.id, 2, 20.0)),
        Box::new(|| submit(&a.id, 3, 30.0)),
        Box::new(|| save(&a.id, "r3", answers(&[("q5", "1")]))),
        Box::new(|| save(&a.id, "r2", second.clone())),
        Box::new(|| submit(&b.id, 0, 40.0)),
        Box::new(|| submit(&retake.id, 0, 50.0)),
        Box::new(|| {
            spawn(&store, |store| async move {
                store
                    .start_session(session_in("66.09"))
                    .await
                    .map(|_| "started".to_owned())
            })
        }),
    ];
    for (k, write) in queue.iter().enumerate() {
        if with_nul && k == 5 {
            tasks.push(save(&refused.id, "r1", answers(&[("q1", "a\0b")])));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tasks.push(write());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    gate.open().await;
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(match task.await.expect("task") {
            Ok(done) => done,
            Err(StoreError::AnswersChanged {
                expected, actual, ..
            }) => format!("answers changed {expected} -> {actual}"),
            Err(StoreError::Submitted { .. }) => "submitted already".to_owned(),
            Err(StoreError::Database { .. }) => "refused by the database".to_owned(),
            Err(e) => panic!("unexpected: {e}"),
        });
    }
    let mut expected = vec![
        "saved replayed=false stored=3",
        "saved replayed=false stored=4",
        "saved replayed=true stored=4",
        "answers changed 2 -> 3",
        "submitted revision=1",
        "submitted already",
        "saved replayed=true stored=4",
        "submitted revision=1",
        "submitted revision=1",
        "started",
    ];
    let postgres = db.url.starts_with("postgres");
    if with_nul {
        let nul = if postgres {
            "refused by the database"
        } else {
            "saved replayed=false stored=1"
        };
        expected.insert(5, nul);
    }
    assert_eq!(outcomes, expected);

    let read = store.session(&a.id).await.expect("read").expect("found");
    assert_eq!(
        read.answers,
        answers(&[("q1", "1"), ("q2", "2"), ("q3", "4"), ("q4", "5")])
    );
    assert_eq!(
        (read.state, read.answers_version),
        (SessionState::Submitted, 3)
    );
    let stored = store
        .latest_result(&a.id)
        .await
        .expect("read")
        .expect("a result");
    assert_eq!(stored.index, Some(30.0), "the submit of the latest answers");
    let read = store
        .session(&refused.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.answers_version, i64::from(with_nul && !postgres));
    // The re-take counts, the earlier take no longer: a, b and the re-take.
    let counted: BTreeSet<String> = all_pages(
        &*store,
        &ResultFilter {
            org_prefix: unit.into(),
            ..ResultFilter::default()
        },
        100,
    )
    .await
    .into_iter()
    .map(|r| r.session_id)
    .collect();
    assert_eq!(
        counted,
        BTreeSet::from([a.id.clone(), b.id.clone(), retake.id.clone()])
    );
    assert_stats_consistent(&*store).await;
}
