//! The re-taking rule: of one person's submitted sessions of an instrument version, only the
//! latest counts in aggregates, unit counts and result pages; the others stay readable.

use super::*;

/// Submits a new session of `person` in `unit` with index (and domain `lit` score) `index`,
/// a millisecond or more after every earlier call, so that it is the person's latest.
async fn retake(store: &dyn Store, person: &str, unit: &str, index: f64) -> StoredResult {
    tokio::time::sleep(Duration::from_millis(3)).await;
    let s = store
        .start_session(session_of(person, unit))
        .await
        .expect("start");
    store
        .submit(
            &s.id,
            0,
            result(
                Some(index),
                Some("2"),
                vec![domain("lit", Some(index), None)],
            ),
        )
        .await
        .expect("submit")
}

fn under(prefix: &str) -> ResultFilter {
    ResultFilter {
        org_prefix: prefix.into(),
        ..ResultFilter::default()
    }
}

/// The session ids of every result page under `filter`.
async fn page_ids(store: &dyn Store, filter: &ResultFilter) -> Vec<String> {
    all_pages(store, filter, 100)
        .await
        .into_iter()
        .map(|r| r.session_id)
        .collect()
}

/// Every submitted session id of the instrument version, by id.
async fn submitted_ids(store: &dyn Store, version: &str) -> Vec<String> {
    store
        .submitted_sessions("ikd-asn", version, None, 1000)
        .await
        .expect("submitted sessions")
        .into_iter()
        .map(|s| s.id)
        .collect()
}

pub async fn a_retake_counts_once_and_the_earlier_session_stays_readable(db: Db) {
    let store = db.open().await;
    let first = retake(&*store, "p", "36.72/a", 40.0).await;
    let other = retake(&*store, "q", "36.72/b", 10.0).await;
    let second = retake(&*store, "p", "36.72/a", 70.0).await;

    let unit = store.aggregate(&under("36.72/a")).await.expect("aggregate");
    assert_eq!((unit.n, unit.index_n), (1, 1), "one person, one result");
    assert_close(
        unit.index_sum,
        70.0,
        "the mean is the later session's index",
    );
    assert_eq!(unit.levels, vec![("2".into(), 1)]);
    assert_eq!((unit.domains[0].n, unit.domains[0].missing), (1, 0));
    assert_close(unit.domains[0].sum, 70.0, "domain sum of the later session");
    let all = store.aggregate(&under("36.72")).await.expect("aggregate");
    assert_eq!(all.n, 2);
    assert_close(all.index_sum, 80.0, "p's later session and q");
    assert_eq!(
        store.unit_counts(&under("36.72")).await.expect("counts"),
        vec![("36.72/a".into(), 1), ("36.72/b".into(), 1)]
    );
    assert_eq!(
        page_ids(&*store, &under("36.72")).await,
        vec![other.session_id.clone(), second.session_id.clone()],
        "pages (and so exports and reports) hold the later session only"
    );

    // The earlier session is kept: readable, and listed for rescoring.
    assert_eq!(
        store
            .latest_result(&first.session_id)
            .await
            .expect("read")
            .as_ref(),
        Some(&first)
    );
    assert_eq!(
        store
            .result_revisions(&first.session_id)
            .await
            .expect("read"),
        vec![first.clone()]
    );
    let read = store
        .session(&first.session_id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(read.state, SessionState::Submitted);
    let mut ids = vec![
        first.session_id.clone(),
        other.session_id.clone(),
        second.session_id.clone(),
    ];
    ids.sort();
    assert_eq!(submitted_ids(&*store, "1.0.0").await, ids);

    // A rescore of the earlier session does not make it count again.
    let rescored = store
        .add_revision(&first.session_id, result(Some(99.0), None, vec![]))
        .await
        .expect("rescore");
    assert_eq!(rescored.revision, 2);
    let unit = store.aggregate(&under("36.72/a")).await.expect("aggregate");
    assert_eq!(unit.n, 1);
    assert_close(unit.index_sum, 70.0, "still the later session");

    // A third take replaces the second.
    let third = retake(&*store, "p", "36.72/a", 55.0).await;
    let unit = store.aggregate(&under("36.72/a")).await.expect("aggregate");
    assert_eq!(unit.n, 1);
    assert_close(unit.index_sum, 55.0, "the third take");
    assert_eq!(
        page_ids(&*store, &under("36.72/a")).await,
        vec![third.session_id.clone()]
    );

    // Another version of the instrument is another test: it supersedes nothing.
    tokio::time::sleep(Duration::from_millis(3)).await;
    let v2 = store
        .start_session(NewSession {
            instrument_version: "2.0.0".into(),
            ..session_of("p", "36.72/a")
        })
        .await
        .expect("start");
    store
        .submit(&v2.id, 0, result(Some(1.0), None, vec![]))
        .await
        .expect("submit");
    assert_eq!(
        page_ids(&*store, &under("36.72/a")).await,
        vec![third.session_id.clone(), v2.id.clone()]
    );
    assert_eq!(submitted_ids(&*store, "1.0.0").await.len(), 4);
    // Nor does an open take of the same person, nor another person in the same unit.
    store
        .start_session(session_of("p", "36.72/a"))
        .await
        .expect("start");
    let r = retake(&*store, "r", "36.72/a", 5.0).await;
    assert_eq!(
        page_ids(&*store, &under("36.72/a")).await,
        vec![third.session_id, v2.id, r.session_id]
    );
    assert_stats_consistent(&*store).await;
}

pub async fn a_person_who_moved_unit_counts_in_the_new_unit_only(db: Db) {
    let store = db.open().await;
    let before = retake(&*store, "p", "32.01", 30.0).await;
    let stays = retake(&*store, "q", "32.01", 60.0).await;
    let after = retake(&*store, "p", "32.02/x", 90.0).await;

    assert_eq!(
        store.unit_counts(&under("32")).await.expect("counts"),
        vec![("32.01".into(), 1), ("32.02/x".into(), 1)]
    );
    let old = store.aggregate(&under("32.01")).await.expect("aggregate");
    assert_eq!(old.n, 1, "only q is left in the old unit");
    assert_close(old.index_sum, 60.0, "q's index");
    let new = store.aggregate(&under("32.02")).await.expect("aggregate");
    assert_eq!(new.n, 1);
    assert_close(new.index_sum, 90.0, "p's index in the new unit");
    assert_eq!(
        page_ids(&*store, &under("32.01")).await,
        vec![stays.session_id.clone()]
    );
    assert_eq!(
        page_ids(&*store, &under("32")).await,
        vec![stays.session_id, after.session_id]
    );
    // The old unit still holds the session, for whoever reads it by id.
    let read = store
        .latest_result(&before.session_id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(read.org_unit, "32.01");
    assert_stats_consistent(&*store).await;
}

/// One person's sessions submitted at once, from two store handles (two servers): whatever
/// the order of their commits, exactly one counts, and it is the latest by
/// `(submitted_at, id)`.
pub async fn racing_retakes_leave_exactly_one_counting(db: Db) {
    let stores = [db.open().await, db.open().await];
    for round in 0..10 {
        let person = format!("racer-{round}");
        let unit = format!("40.{round}");
        let mut ids = Vec::new();
        for k in 0..3 {
            // Each take in a unit of its own: the unit counts show which one counts.
            let s = stores[0]
                .start_session(session_of(&person, &format!("{unit}/{k}")))
                .await
                .expect("start");
            ids.push(s.id);
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(ids.len()));
        let tasks: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| {
                let store = stores[k % 2].clone();
                let (id, barrier) = (id.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .submit(&id, 0, result(Some(k as f64), None, vec![]))
                        .await
                        .expect("submit")
                })
            })
            .collect();
        let mut stored = Vec::new();
        for task in tasks {
            stored.push(task.await.expect("submit task"));
        }
        let latest = stored
            .iter()
            .map(StoredResult::cursor)
            .max()
            .expect("three takes");
        let filter = under(&unit);
        assert_eq!(
            page_ids(&*stores[1], &filter).await,
            vec![latest.1.clone()],
            "round {round}: only the latest take counts"
        );
        let counts = stores[1].unit_counts(&filter).await.expect("counts");
        assert_eq!(counts.len(), 1, "round {round}: {counts:?}");
        assert_eq!(stores[0].aggregate(&filter).await.expect("agg").n, 1);
    }
    assert_stats_consistent(&*stores[0]).await;
}

/// A submit that took its time before waiting for a lock, while a later take of the same
/// person was submitted: the later take keeps counting, whatever the order of the commits.
/// PostgreSQL only: on SQLite a submit takes its time once it holds the write lock, so
/// commits follow time there.
pub async fn an_earlier_take_committed_last_does_not_supersede_a_later_one(db: Db) {
    use sqlx::Connection;
    let store = db.open().await;
    let early = store
        .start_session(session_of("p", "50.01"))
        .await
        .expect("start");
    let late = store
        .start_session(session_of("p", "50.02"))
        .await
        .expect("start");
    // Hold the early session's row, so that its submit waits after taking its time.
    let mut holder = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let mut held = holder.begin().await.expect("begin");
    sqlx::query("SELECT id FROM sessions WHERE id = $1 FOR UPDATE")
        .bind(&early.id)
        .execute(&mut *held)
        .await
        .expect("lock the row");
    let waiting = {
        let (store, id) = (store.clone(), early.id.clone());
        tokio::spawn(async move {
            store
                .submit(&id, 0, result(Some(1.0), None, vec![]))
                .await
                .expect("submit early")
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "the early submit waits for the row");
    let late = store
        .submit(&late.id, 0, result(Some(2.0), None, vec![]))
        .await
        .expect("submit late");
    held.commit().await.expect("release the row");
    let early = waiting.await.expect("early submit task");
    assert!(
        early.submitted_at < late.submitted_at,
        "{} !< {}",
        early.submitted_at,
        late.submitted_at
    );
    assert_eq!(
        page_ids(&*store, &under("50")).await,
        vec![late.session_id.clone()],
        "the later take counts although it committed first"
    );
    assert_eq!(
        store.unit_counts(&under("50")).await.expect("counts"),
        vec![("50.02".into(), 1)]
    );
    assert!(
        store
            .latest_result(&early.session_id)
            .await
            .expect("read")
            .is_some()
    );
    assert_stats_consistent(&*store).await;
}

/// Rows of a database from before the rule (migrations up to 0003), with times given by
/// hand: person `p` took version 1.0.0 three times (the last two in the same millisecond:
/// the greater id wins) and has a fourth take open, `q` once; `p` took 2.0.0 once.
const OLD_ROWS: &str = "
INSERT INTO sessions (id, instrument_id, instrument_version, instrument_sha256,
    respondent_key, org_unit, state, created_at, submitted_at, latest_revision) VALUES
 ('00000000-0000-4000-8000-000000000001', 'ikd-asn', '1.0.0', 'ab', 'p', '36.72/a',
  'submitted', 1000, 2000, 1),
 ('00000000-0000-4000-8000-000000000002', 'ikd-asn', '1.0.0', 'ab', 'p', '36.72/a',
  'submitted', 1000, 3000, 1),
 ('00000000-0000-4000-8000-000000000003', 'ikd-asn', '1.0.0', 'ab', 'p', '36.72/b',
  'submitted', 1000, 3000, 1),
 ('00000000-0000-4000-8000-000000000004', 'ikd-asn', '1.0.0', 'ab', 'p', '36.72/a',
  'open', 1000, NULL, NULL),
 ('00000000-0000-4000-8000-000000000005', 'ikd-asn', '1.0.0', 'ab', 'q', '36.72/a',
  'submitted', 1000, 2500, 1),
 ('00000000-0000-4000-8000-000000000006', 'ikd-asn', '2.0.0', 'ab', 'p', '36.72/a',
  'submitted', 500, 1000, 1);
INSERT INTO results (session_id, revision, created_at, model, model_version, index_value,
    index_se, level, flags, provenance_json, result_json) VALUES
 ('00000000-0000-4000-8000-000000000001', 1, 2000, 'm', '1', 10.0, NULL, NULL, '[]', '{}', '{}'),
 ('00000000-0000-4000-8000-000000000002', 1, 3000, 'm', '1', 20.0, NULL, NULL, '[]', '{}', '{}'),
 ('00000000-0000-4000-8000-000000000003', 1, 3000, 'm', '1', 30.0, NULL, NULL, '[]', '{}', '{}'),
 ('00000000-0000-4000-8000-000000000005', 1, 2500, 'm', '1', 50.0, NULL, NULL, '[]', '{}', '{}'),
 ('00000000-0000-4000-8000-000000000006', 1, 1000, 'm', '1', 5.0, NULL, NULL, '[]', '{}', '{}');
";

/// Session `n` of [`OLD_ROWS`].
fn old_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A database from before the rule: opening it migrates, and the sessions already stored
/// that are not their person's latest stop counting.
pub async fn migrating_supersedes_the_retakes_already_stored(db: Db) {
    // Migrations 0001 to 0003 only: before the re-taking rule.
    db.migrated_up_to("0003", OLD_ROWS).await;
    let store = db.open().await;
    let instrument = |prefix: &str| ResultFilter {
        instrument_id: Some("ikd-asn".into()),
        ..under(prefix)
    };
    // p's 1.0.0 takes 1 and 2 no longer count (3 won the tie with 2); q and p's 2.0.0 do.
    assert_eq!(
        page_ids(&*store, &instrument("")).await,
        vec![old_id(6), old_id(5), old_id(3)]
    );
    assert_eq!(
        store.unit_counts(&instrument("")).await.expect("counts"),
        vec![("36.72/a".into(), 2), ("36.72/b".into(), 1)]
    );
    let agg = store.aggregate(&instrument("")).await.expect("aggregate");
    assert_eq!(agg.n, 3);
    assert_close(
        agg.index_sum,
        30.0 + 50.0 + 5.0,
        "index sum after migrating",
    );
    // Nothing was lost.
    assert_eq!(
        submitted_ids(&*store, "1.0.0").await,
        vec![old_id(1), old_id(2), old_id(3), old_id(5)]
    );
    let first = store
        .latest_result(&old_id(1))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(first.index, Some(10.0));

    // New submits go on from there: p's open fourth take now counts instead of the third.
    let open = store
        .session(&old_id(4))
        .await
        .expect("read")
        .expect("kept");
    store
        .submit(
            &open.id,
            open.answers_version,
            result(Some(70.0), None, vec![]),
        )
        .await
        .expect("submit");
    assert_eq!(
        store.unit_counts(&instrument("")).await.expect("counts"),
        vec![("36.72/a".into(), 3)]
    );
    let agg = store.aggregate(&instrument("")).await.expect("aggregate");
    assert_eq!(agg.n, 3);
    assert_close(
        agg.index_sum,
        70.0 + 50.0 + 5.0,
        "index sum after a new take",
    );
    assert_stats_consistent(&*store).await;
}
