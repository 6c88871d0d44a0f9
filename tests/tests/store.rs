//! The store test suite, written once and run against both backends: SQLite (a file in a
//! temporary directory) and PostgreSQL (a fresh database on a server the tests start, see
//! `ikd_tests::postgres`). A missing PostgreSQL fails the `postgres::` tests.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use ikd_store::{
    Aggregate, AuditQuery, DomainAggregate, DomainScore, NewAuditEntry, NewResult, NewSession,
    ResultFilter, SessionState, Store, StoreError, StoredResult,
};

/// A database a test may open several times: a restart, or several servers at once.
pub struct Db {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        // A directory that does not exist yet: the store creates it.
        let url = format!("sqlite://{}", dir.path().join("data/ikd.db").display());
        Db {
            url,
            _dir: Some(dir),
        }
    }

    fn postgres() -> Db {
        Db {
            url: ikd_tests::postgres::server().new_database(),
            _dir: None,
        }
    }

    async fn open(&self) -> Arc<dyn Store> {
        ikd_store::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", self.url))
    }
}

/// Instantiates every case of [`cases`] for one backend.
macro_rules! suite {
    ($backend:ident, $db:expr, [$($case:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::cases::$case($db).await;
                }
            )*
        }
    };
}

macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        suite!(sqlite, super::Db::sqlite(), [$($case),*]);
        suite!(postgres, super::Db::postgres(), [$($case),*]);
    };
}

both_backends![
    start_and_read_a_session,
    saves_are_idempotent_and_later_saves_overwrite,
    a_submitted_session_refuses_saves_and_submits,
    answers_version_counts_applied_saves,
    a_submit_of_outdated_answers_is_refused,
    racing_saves_and_submits_lose_no_save,
    unknown_sessions_are_not_found,
    racing_submits_from_one_server_one_wins,
    racing_submits_from_two_servers_one_wins,
    revisions_keep_earlier_ones,
    concurrent_rescores_get_distinct_revisions,
    results_page_paginates_with_prefix_and_time_filters,
    org_prefix_boundaries,
    aggregate_matches_hand_computed_sums,
    submitted_sessions_paginate_with_answers,
    data_survives_closing_and_reopening,
    fifty_concurrent_saves_are_all_stored,
    servers_starting_at_once_migrate_once,
    refused_values,
    malformed_urls_are_invalid,
    audit_entries_read_back_newest_first,
    audit_log_since_limit_and_refusals,
];

fn session_in(unit: &str) -> NewSession {
    NewSession {
        instrument_id: "ikd-asn".into(),
        instrument_version: "1.0.0".into(),
        instrument_sha256: "ab".repeat(32),
        respondent_key: format!("key-{unit}"),
        org_unit: unit.into(),
    }
}

fn domain(code: &str, score: Option<f64>, level: Option<&str>) -> DomainScore {
    DomainScore {
        code: code.into(),
        score,
        se: score.map(|s| s / 10.0),
        level: level.map(Into::into),
        answered: 7,
    }
}

fn result(index: Option<f64>, level: Option<&str>, domains: Vec<DomainScore>) -> NewResult {
    NewResult {
        model: "weighted-index".into(),
        model_version: "1.2.0".into(),
        index,
        index_se: index.map(|_| 2.5),
        level: level.map(Into::into),
        domains,
        flags: vec!["straight_lining".into(), "fast".into()],
        provenance_json: r#"{"engine":"0.1.0"}"#.into(),
        result_json: format!(r#"{{"index":{}}}"#, index.unwrap_or(-1.0)),
    }
}

fn answers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// A submitted session of `unit` with a one-domain result.
async fn submitted(store: &dyn Store, unit: &str, index: f64) -> StoredResult {
    let s = store.start_session(session_in(unit)).await.expect("start");
    store
        .save_answers(&s.id, "r1", &answers(&[("q1", "3")]))
        .await
        .expect("save");
    store
        .submit(
            &s.id,
            1,
            result(
                Some(index),
                Some("2"),
                vec![domain("lit", Some(index), None)],
            ),
        )
        .await
        .expect("submit")
}

/// Every page of `filter`, `page` results at a time.
async fn all_pages(store: &dyn Store, filter: &ResultFilter, page: u32) -> Vec<StoredResult> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let got = store
            .results_page(filter, after.clone(), page)
            .await
            .expect("page");
        assert!(got.len() <= page as usize, "page longer than its limit");
        let Some(last) = got.last() else {
            break;
        };
        after = Some(last.cursor());
        let short = got.len() < page as usize;
        all.extend(got);
        if short {
            break;
        }
    }
    all
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-9 * expected.abs().max(1.0),
        "{what}: {actual} != {expected}"
    );
}

mod cases {
    use super::*;

    pub async fn start_and_read_a_session(db: Db) {
        let store = db.open().await;
        let before = now_ms();
        let s = store
            .start_session(session_in("36.72/diskominfo"))
            .await
            .expect("start");
        assert_eq!(s.id.len(), 36, "{}", s.id);
        assert_eq!(&s.id[14..15], "4", "a UUID v4: {}", s.id);
        assert_eq!(s.state, SessionState::Open);
        assert!(s.created_at >= before && s.created_at <= now_ms() + 1);
        assert_eq!(s.submitted_at, None);
        assert!(s.answers.is_empty());
        let read = store.session(&s.id).await.expect("read").expect("found");
        assert_eq!(read, s);
        let other = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        assert_ne!(other.id, s.id);
        assert_eq!(
            store
                .session("00000000-0000-4000-8000-000000000000")
                .await
                .expect("read"),
            None
        );
        let expected = if db.url.starts_with("sqlite") {
            "sqlite"
        } else {
            "postgres"
        };
        assert_eq!(store.backend(), expected);
    }

    pub async fn saves_are_idempotent_and_later_saves_overwrite(db: Db) {
        let store = db.open().await;
        let s = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        let first = answers(&[("b", "2"), ("a", "1")]);
        let out = store
            .save_answers(&s.id, "req-1", &first)
            .await
            .expect("save");
        assert!(!out.replayed);
        assert_eq!(out.answers_stored, 2);

        let again = store
            .save_answers(&s.id, "req-1", &first)
            .await
            .expect("replay");
        assert!(again.replayed);
        assert_eq!(again.answers_stored, 2);

        let second = answers(&[("b", "3"), ("c", "4")]);
        let out = store
            .save_answers(&s.id, "req-2", &second)
            .await
            .expect("save");
        assert!(!out.replayed);
        assert_eq!(out.answers_stored, 3);
        let expected = answers(&[("a", "1"), ("b", "3"), ("c", "4")]);
        let read = store.session(&s.id).await.expect("read").expect("found");
        assert_eq!(
            read.answers, expected,
            "later save overwrites b; sorted by item"
        );

        // A late replay of the first request must not bring b = 2 back.
        let late = store
            .save_answers(&s.id, "req-1", &first)
            .await
            .expect("replay");
        assert!(late.replayed);
        assert_eq!(late.answers_stored, 3);
        let read = store.session(&s.id).await.expect("read").expect("found");
        assert_eq!(read.answers, expected);

        // The same request id with other answers is a client bug, not a replay.
        let err = store
            .save_answers(&s.id, "req-2", &answers(&[("b", "9")]))
            .await
            .expect_err("request id reused");
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert!(err.to_string().contains("req-2"), "{err}");
        assert!(err.to_string().contains(&s.id), "{err}");

        // Within one save the last value of an item wins; an empty save is fine.
        let out = store
            .save_answers(&s.id, "req-3", &answers(&[("d", "1"), ("d", "2")]))
            .await
            .expect("save");
        assert_eq!(out.answers_stored, 4);
        let out = store.save_answers(&s.id, "req-4", &[]).await.expect("save");
        assert_eq!((out.replayed, out.answers_stored), (false, 4));
        let read = store.session(&s.id).await.expect("read").expect("found");
        assert_eq!(
            read.answers,
            answers(&[("a", "1"), ("b", "3"), ("c", "4"), ("d", "2")])
        );

        // Request ids are per session.
        let t = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        let out = store
            .save_answers(&t.id, "req-1", &second)
            .await
            .expect("save");
        assert!(!out.replayed);
        assert_eq!(out.answers_stored, 2);
    }

    pub async fn a_submitted_session_refuses_saves_and_submits(db: Db) {
        let store = db.open().await;
        let s = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        let saved = answers(&[("q1", "4")]);
        store.save_answers(&s.id, "r1", &saved).await.expect("save");
        let stored = store
            .submit(&s.id, 1, result(Some(61.0), Some("3"), vec![]))
            .await
            .expect("submit");
        assert_eq!(stored.revision, 1);
        assert_eq!(stored.submitted_at, stored.created_at);

        let err = store
            .save_answers(&s.id, "r2", &answers(&[("q1", "5")]))
            .await
            .expect_err("frozen");
        assert!(
            matches!(&err, StoreError::Submitted { session } if session == &s.id),
            "{err}"
        );
        // A retried request that was applied before the submit is still a replay.
        let replay = store
            .save_answers(&s.id, "r1", &saved)
            .await
            .expect("replay");
        assert!(replay.replayed);

        let err = store
            .submit(&s.id, 1, result(Some(1.0), None, vec![]))
            .await
            .expect_err("submitted twice");
        assert!(
            matches!(&err, StoreError::Submitted { session } if session == &s.id),
            "{err}"
        );
        let read = store.session(&s.id).await.expect("read").expect("found");
        assert_eq!(read.state, SessionState::Submitted);
        assert_eq!(read.submitted_at, Some(stored.created_at));
        assert_eq!(read.answers, saved, "answers unchanged by the refused save");
        let revisions = store.result_revisions(&s.id).await.expect("revisions");
        assert_eq!(
            revisions,
            vec![stored.clone()],
            "the refused submit stored nothing"
        );
        assert_eq!(
            store.latest_result(&s.id).await.expect("latest"),
            Some(stored)
        );
    }

    pub async fn answers_version_counts_applied_saves(db: Db) {
        let store = db.open().await;
        let s = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        assert_eq!(s.answers_version, 0);
        let version = |store: Arc<dyn Store>, id: String| async move {
            store
                .session(&id)
                .await
                .expect("read")
                .expect("found")
                .answers_version
        };
        assert_eq!(version(store.clone(), s.id.clone()).await, 0);
        let first = answers(&[("q1", "1")]);
        store.save_answers(&s.id, "r1", &first).await.expect("save");
        assert_eq!(version(store.clone(), s.id.clone()).await, 1);
        // A replay changes nothing, a refused reuse of the request id neither.
        store
            .save_answers(&s.id, "r1", &first)
            .await
            .expect("replay");
        store
            .save_answers(&s.id, "r1", &answers(&[("q1", "2")]))
            .await
            .expect_err("conflict");
        assert_eq!(version(store.clone(), s.id.clone()).await, 1);
        // Every applied save counts, even one that changes no value.
        store.save_answers(&s.id, "r2", &first).await.expect("save");
        store
            .save_answers(&s.id, "r3", &answers(&[("q2", "5")]))
            .await
            .expect("save");
        assert_eq!(version(store.clone(), s.id.clone()).await, 3);
        let stored = store
            .submit(&s.id, 3, result(Some(1.0), None, vec![]))
            .await
            .expect("submit");
        assert_eq!(stored.revision, 1);
        let read = store.session(&s.id).await.expect("read").expect("found");
        assert_eq!(read.answers_version, 3);
        assert_eq!(read.state, SessionState::Submitted);
    }

    pub async fn a_submit_of_outdated_answers_is_refused(db: Db) {
        let store = db.open().await;
        let s = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        store
            .save_answers(&s.id, "r1", &answers(&[("q1", "1")]))
            .await
            .expect("save");
        // Scored at version 1; a save comes in before the submit.
        let read = store.session(&s.id).await.expect("read").expect("found");
        store
            .save_answers(&s.id, "r2", &answers(&[("q2", "2")]))
            .await
            .expect("save");
        let err = store
            .submit(&s.id, read.answers_version, result(Some(1.0), None, vec![]))
            .await
            .expect_err("outdated answers");
        assert!(
            matches!(
                &err,
                StoreError::AnswersChanged { session, expected: 1, actual: 2 } if session == &s.id
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(&s.id), "{err}");
        // Nothing was stored: the session is still open, without results.
        let again = store.session(&s.id).await.expect("read").expect("found");
        assert_eq!(again.state, SessionState::Open);
        assert!(
            store
                .result_revisions(&s.id)
                .await
                .expect("read")
                .is_empty()
        );
        // With the current version the submit goes through.
        store
            .submit(
                &s.id,
                again.answers_version,
                result(Some(2.0), None, vec![]),
            )
            .await
            .expect("submit");
        // A submitted session is `Submitted`, whatever version is given.
        for version in [1, 2, 3] {
            let err = store
                .submit(&s.id, version, result(None, None, vec![]))
                .await
                .expect_err("submitted");
            assert!(matches!(err, StoreError::Submitted { .. }), "{err:?}");
        }
    }

    /// The server's submit, on the store alone: read the answers, "score" them (the result
    /// records what was read), submit with their version, retry on `AnswersChanged`.
    async fn submit_like_the_server(store: &dyn Store, id: &str) -> (StoredResult, u32) {
        for attempt in 1..=50 {
            let session = store.session(id).await.expect("read").expect("found");
            let scored = serde_json::to_string(&session.answers).unwrap();
            let mut r = result(Some(1.0), None, vec![]);
            r.result_json = scored;
            match store.submit(id, session.answers_version, r).await {
                Ok(stored) => return (stored, attempt),
                Err(StoreError::AnswersChanged { .. }) => continue,
                Err(other) => panic!("session {id}: {other}"),
            }
        }
        panic!("session {id}: answers changed 50 times in a row");
    }

    /// Saves racing submits (two store handles, as two servers would be): every save that
    /// returned Ok is in the answers the stored result was computed from, every other one
    /// was refused as `Submitted`.
    pub async fn racing_saves_and_submits_lose_no_save(db: Db) {
        let stores = [db.open().await, db.open().await];
        let (mut kept, mut refused, mut retried) = (0, 0, 0);
        for round in 0..40 {
            let s = stores[0]
                .start_session(session_in("36.72"))
                .await
                .expect("start");
            stores[0]
                .save_answers(&s.id, "r0", &answers(&[("q0", "0")]))
                .await
                .expect("save");
            let barrier = Arc::new(tokio::sync::Barrier::new(4));
            let saves: Vec<_> = (1..=3)
                .map(|k| {
                    let store = stores[k % 2].clone();
                    let (id, barrier) = (s.id.clone(), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        let item = format!("q{k}");
                        let saved = answers(&[(item.as_str(), "1")]);
                        (
                            item,
                            store.save_answers(&id, &format!("r{k}"), &saved).await,
                        )
                    })
                })
                .collect();
            let submit = {
                let store = stores[round % 2].clone();
                let (id, barrier) = (s.id.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    submit_like_the_server(&*store, &id).await
                })
            };
            let (stored, attempts) = submit.await.expect("submit task");
            retried += attempts - 1;
            let scored: Vec<(String, String)> = serde_json::from_str(&stored.result_json).unwrap();
            let final_answers = stores[1]
                .session(&s.id)
                .await
                .expect("read")
                .expect("found")
                .answers;
            assert_eq!(
                scored, final_answers,
                "round {round}: the result is computed from the answers stored at the submit"
            );
            for save in saves {
                let (item, outcome) = save.await.expect("save task");
                match outcome {
                    Ok(_) => {
                        assert!(
                            scored.iter().any(|(i, _)| i == &item),
                            "round {round}: acknowledged save of {item} is not in the result"
                        );
                        kept += 1;
                    }
                    Err(StoreError::Submitted { .. }) => {
                        assert!(!scored.iter().any(|(i, _)| i == &item), "round {round}");
                        refused += 1;
                    }
                    Err(other) => panic!("round {round}: {other}"),
                }
            }
        }
        println!("{kept} saves kept, {refused} refused after the submit, {retried} retries");
        assert!(
            kept > 0,
            "no save came before the submit, so nothing was tested: {kept} / {refused}"
        );
    }

    pub async fn unknown_sessions_are_not_found(db: Db) {
        let store = db.open().await;
        let id = "00000000-0000-4000-8000-000000000000";
        let not_found = |err: StoreError| {
            assert!(
                matches!(&err, StoreError::NotFound { what: "session", id: got } if got == id),
                "{err}"
            );
            assert!(err.to_string().contains(id), "{err}");
        };
        not_found(
            store
                .save_answers(id, "r1", &answers(&[("q", "1")]))
                .await
                .expect_err("unknown"),
        );
        not_found(
            store
                .submit(id, 0, result(None, None, vec![]))
                .await
                .expect_err("unknown"),
        );
        not_found(
            store
                .add_revision(id, result(None, None, vec![]))
                .await
                .expect_err("unknown"),
        );
        assert_eq!(store.session(id).await.expect("read"), None);
        assert_eq!(store.latest_result(id).await.expect("read"), None);
        assert!(store.result_revisions(id).await.expect("read").is_empty());

        // An open session has no result yet, and cannot be rescored.
        let s = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        assert_eq!(store.latest_result(&s.id).await.expect("read"), None);
        let err = store
            .add_revision(&s.id, result(None, None, vec![]))
            .await
            .expect_err("not submitted");
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert!(err.to_string().contains(&s.id), "{err}");
    }

    /// `stores[i % stores.len()]` submits session `s` from 8 tasks at once, for 10 sessions.
    async fn race_submits(stores: &[Arc<dyn Store>]) {
        for round in 0..10 {
            let s = stores[0]
                .start_session(session_in("36.72"))
                .await
                .expect("start");
            let barrier = Arc::new(tokio::sync::Barrier::new(8));
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    let store = stores[i % stores.len()].clone();
                    let id = s.id.clone();
                    let barrier = barrier.clone();
                    tokio::spawn(async move {
                        barrier.wait().await;
                        store
                            .submit(
                                &id,
                                0,
                                result(Some(i as f64), None, vec![domain("lit", Some(1.0), None)]),
                            )
                            .await
                    })
                })
                .collect();
            let mut winners = Vec::new();
            for task in tasks {
                match task.await.expect("task") {
                    Ok(stored) => winners.push(stored),
                    Err(StoreError::Submitted { session }) => assert_eq!(session, s.id),
                    Err(other) => panic!("round {round}: unexpected error {other}"),
                }
            }
            assert_eq!(winners.len(), 1, "round {round}: exactly one submit wins");
            let revisions = stores[stores.len() - 1]
                .result_revisions(&s.id)
                .await
                .expect("revisions");
            assert_eq!(
                revisions, winners,
                "round {round}: only the winner is stored"
            );
        }
    }

    pub async fn racing_submits_from_one_server_one_wins(db: Db) {
        race_submits(&[db.open().await]).await;
    }

    pub async fn racing_submits_from_two_servers_one_wins(db: Db) {
        race_submits(&[db.open().await, db.open().await]).await;
    }

    pub async fn revisions_keep_earlier_ones(db: Db) {
        let store = db.open().await;
        let s = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        let first = store
            .submit(
                &s.id,
                0,
                result(
                    Some(50.0),
                    Some("2"),
                    vec![domain("lit", Some(40.0), Some("1"))],
                ),
            )
            .await
            .expect("submit");
        tokio::time::sleep(Duration::from_millis(3)).await;
        let rescore = NewResult {
            model_version: "1.3.0".into(),
            flags: vec![],
            ..result(
                Some(60.0),
                None,
                vec![
                    domain("kom", None, None),
                    domain("lit", Some(45.5), Some("2")),
                ],
            )
        };
        let second = store
            .add_revision(&s.id, rescore.clone())
            .await
            .expect("rescore");
        assert_eq!(second.revision, 2);
        assert_eq!(second.submitted_at, first.submitted_at);
        assert!(second.created_at > first.created_at);
        assert_eq!(second.model_version, "1.3.0");
        assert_eq!(second.domains, rescore.domains, "domain order kept");

        let revisions = store.result_revisions(&s.id).await.expect("revisions");
        assert_eq!(revisions, vec![first.clone(), second.clone()]);
        assert_eq!(
            store.latest_result(&s.id).await.expect("latest"),
            Some(second.clone())
        );
        // Every field round-trips.
        assert_eq!(first.flags, vec!["straight_lining", "fast"]);
        assert_eq!(first.instrument_sha256, "ab".repeat(32));
        assert_eq!(first.respondent_key, "key-36.72");
        assert_eq!(first.result_json, r#"{"index":50}"#);
        assert_eq!(first.domains[0].se, Some(4.0));
        assert_eq!(first.domains[0].answered, 7);

        let third = store
            .add_revision(&s.id, result(None, None, vec![]))
            .await
            .expect("rescore");
        assert_eq!(third.revision, 3);
        let page = store
            .results_page(&ResultFilter::default(), None, 10)
            .await
            .expect("page");
        assert_eq!(page, vec![third], "pages show the latest revision");
    }

    pub async fn concurrent_rescores_get_distinct_revisions(db: Db) {
        let stores = [db.open().await, db.open().await];
        let s = submitted(&*stores[0], "36.72", 10.0).await;
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = stores[i % 2].clone();
                let id = s.session_id.clone();
                tokio::spawn(async move {
                    store
                        .add_revision(&id, result(Some(i as f64), None, vec![]))
                        .await
                        .expect("rescore")
                        .revision
                })
            })
            .collect();
        let mut revisions = BTreeSet::new();
        for task in tasks {
            revisions.insert(task.await.expect("task"));
        }
        assert_eq!(revisions, (2..=11).collect::<BTreeSet<u32>>());
        let stored = stores[1]
            .result_revisions(&s.session_id)
            .await
            .expect("read");
        assert_eq!(
            stored.iter().map(|r| r.revision).collect::<Vec<_>>(),
            (1..=11).collect::<Vec<u32>>()
        );
    }

    pub async fn results_page_paginates_with_prefix_and_time_filters(db: Db) {
        let store = db.open().await;
        let units = [
            "36.72",
            "36.72.01",
            "36.72/diskominfo",
            "36.7",
            "36.720",
            "36.73",
        ];
        let mut all = Vec::new();
        let mut marks = Vec::new();
        for phase in 0..3 {
            for i in 0..14 {
                all.push(
                    submitted(&*store, units[i % units.len()], (phase * 100 + i) as f64).await,
                );
            }
            tokio::time::sleep(Duration::from_millis(3)).await;
            marks.push(now_ms());
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        // An open session never shows.
        store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        // A rescore moves neither the order nor the time window.
        let rescored = all[20].session_id.clone();
        store
            .add_revision(&rescored, result(Some(-5.0), None, vec![]))
            .await
            .expect("rescore");

        let (from, to) = (marks[0], marks[1]);
        let filter = ResultFilter {
            org_prefix: "36.72".into(),
            instrument_id: Some("ikd-asn".into()),
            from: Some(from),
            to: Some(to),
        };
        let in_family =
            |u: &str| u == "36.72" || u.starts_with("36.72.") || u.starts_with("36.72/");
        let mut expected: Vec<(i64, String)> = all
            .iter()
            .filter(|r| in_family(&r.org_unit) && r.submitted_at >= from && r.submitted_at < to)
            .map(|r| r.cursor())
            .collect();
        expected.sort();
        assert!(
            expected.len() > 5,
            "more than one page of 3: {}",
            expected.len()
        );

        for page in [1, 3, 5, 1000] {
            let got = all_pages(&*store, &filter, page).await;
            let keys: Vec<(i64, String)> = got.iter().map(|r| r.cursor()).collect();
            assert_eq!(
                keys, expected,
                "page size {page}: every result once, in order"
            );
            for r in &got {
                let want = if r.session_id == rescored { 2 } else { 1 };
                assert_eq!(r.revision, want, "latest revision of {}", r.session_id);
            }
        }
        assert!(
            store
                .results_page(&filter, None, 0)
                .await
                .expect("page")
                .is_empty(),
            "limit 0"
        );
        let last = expected.last().expect("results").clone();
        assert!(
            store
                .results_page(&filter, Some(last), 10)
                .await
                .expect("page")
                .is_empty(),
            "nothing after the last"
        );

        // No filter: everything submitted, in order.
        let everything = all_pages(&*store, &ResultFilter::default(), 7).await;
        let mut keys: Vec<(i64, String)> = all.iter().map(|r| r.cursor()).collect();
        keys.sort();
        assert_eq!(
            everything.iter().map(|r| r.cursor()).collect::<Vec<_>>(),
            keys
        );
        // Another instrument: nothing.
        let other = ResultFilter {
            instrument_id: Some("other".into()),
            ..ResultFilter::default()
        };
        assert!(
            store
                .results_page(&other, None, 10)
                .await
                .expect("page")
                .is_empty()
        );
        // Only `to`: the first phase.
        let first_phase = ResultFilter {
            to: Some(marks[0]),
            ..ResultFilter::default()
        };
        assert_eq!(all_pages(&*store, &first_phase, 4).await.len(), 14);
    }

    pub async fn org_prefix_boundaries(db: Db) {
        let store = db.open().await;
        let units = [
            "36",
            "36.7",
            "36.7.1",
            "36.7/x",
            "36.72",
            "36.72.01",
            "36.72/diskominfo",
            "36.7_1",
            "36.7_",
            "36.7_.1",
            "36.7%",
            "36.7%/a",
            "36.7\\",
            "36.7\\.b",
            "36.70",
            "36.7-1",
            "36.7A",
            "36.7a",
            "36.8",
            "37",
            "360.7",
        ];
        for (i, unit) in units.iter().enumerate() {
            submitted(&*store, unit, i as f64).await;
        }
        let cases: &[(&str, &[&str])] = &[
            ("36.7", &["36.7", "36.7.1", "36.7/x"]),
            ("36.72", &["36.72", "36.72.01", "36.72/diskominfo"]),
            ("36.7_", &["36.7_", "36.7_.1"]),
            ("36.7%", &["36.7%", "36.7%/a"]),
            ("36.7\\", &["36.7\\", "36.7\\.b"]),
            ("36.7A", &["36.7A"]),
            ("36.7a", &["36.7a"]),
            ("36.7.", &[]),
            ("36.", &[]),
            ("3", &[]),
            ("36.9", &[]),
            ("37", &["37"]),
            (
                "36",
                &[
                    "36",
                    "36.7",
                    "36.7.1",
                    "36.7/x",
                    "36.72",
                    "36.72.01",
                    "36.72/diskominfo",
                    "36.7_1",
                    "36.7_",
                    "36.7_.1",
                    "36.7%",
                    "36.7%/a",
                    "36.7\\",
                    "36.7\\.b",
                    "36.70",
                    "36.7-1",
                    "36.7A",
                    "36.7a",
                    "36.8",
                ],
            ),
            ("", &units),
        ];
        for (prefix, expected) in cases {
            let filter = ResultFilter {
                org_prefix: (*prefix).into(),
                ..ResultFilter::default()
            };
            let got: BTreeSet<String> = all_pages(&*store, &filter, 100)
                .await
                .into_iter()
                .map(|r| r.org_unit)
                .collect();
            let want: BTreeSet<String> = expected.iter().map(|u| (*u).to_owned()).collect();
            assert_eq!(got, want, "results_page, prefix {prefix:?}");
            let agg = store.aggregate(&filter).await.expect("aggregate");
            assert_eq!(agg.n, expected.len() as u64, "aggregate, prefix {prefix:?}");
        }
    }

    pub async fn aggregate_matches_hand_computed_sums(db: Db) {
        let store = db.open().await;
        let submit = |unit: &'static str, r: NewResult| {
            let store = store.clone();
            async move {
                let s = store.start_session(session_in(unit)).await.expect("start");
                store.submit(&s.id, 0, r).await.expect("submit")
            }
        };
        // A: everything present.
        submit(
            "32.01",
            result(
                Some(50.5),
                Some("2"),
                vec![
                    domain("lit", Some(40.0), Some("1")),
                    domain("kom", Some(60.0), Some("3")),
                ],
            ),
        )
        .await;
        // B: no index, no level; domain lit without a score.
        submit(
            "32.01.05",
            result(
                None,
                None,
                vec![
                    domain("lit", None, None),
                    domain("kom", Some(80.25), Some("4")),
                ],
            ),
        )
        .await;
        // C: rescored; only the latest revision counts.
        let c = submit(
            "32.01/bkd",
            result(
                Some(70.0),
                Some("3"),
                vec![
                    domain("lit", Some(20.0), Some("1")),
                    domain("kom", None, None),
                ],
            ),
        )
        .await;
        store
            .add_revision(
                &c.session_id,
                result(
                    Some(90.0),
                    Some("4"),
                    vec![
                        domain("lit", Some(30.0), Some("2")),
                        domain("kom", Some(10.0), Some("1")),
                    ],
                ),
            )
            .await
            .expect("rescore");
        // D: another unit; E: another instrument under the prefix; F: open, never counts.
        submit(
            "32.02",
            result(
                Some(100.0),
                Some("5"),
                vec![domain("lit", Some(99.0), None)],
            ),
        )
        .await;
        let e = store
            .start_session(NewSession {
                instrument_id: "other".into(),
                ..session_in("32.01")
            })
            .await
            .expect("start");
        store
            .submit(&e.id, 0, result(Some(1.0), Some("1"), vec![]))
            .await
            .expect("submit");
        store
            .start_session(session_in("32.01"))
            .await
            .expect("start");

        let filter = ResultFilter {
            org_prefix: "32.01".into(),
            instrument_id: Some("ikd-asn".into()),
            ..ResultFilter::default()
        };
        let agg = store.aggregate(&filter).await.expect("aggregate");
        let expected = Aggregate {
            n: 3,
            index_n: 2,
            index_sum: 50.5 + 90.0,
            index_sum_sq: 50.5 * 50.5 + 90.0 * 90.0,
            levels: vec![("2".into(), 1), ("4".into(), 1)],
            domains: vec![
                DomainAggregate {
                    code: "lit".into(),
                    n: 2,
                    missing: 1,
                    sum: 40.0 + 30.0,
                    sum_sq: 1600.0 + 900.0,
                    levels: vec![("1".into(), 1), ("2".into(), 1)],
                },
                DomainAggregate {
                    code: "kom".into(),
                    n: 3,
                    missing: 0,
                    sum: 60.0 + 80.25 + 10.0,
                    sum_sq: 3600.0 + 80.25 * 80.25 + 100.0,
                    levels: vec![("1".into(), 1), ("3".into(), 1), ("4".into(), 1)],
                },
            ],
        };
        assert_aggregate(&agg, &expected);
        let mean = agg.index_sum / agg.index_n as f64;
        assert_close(mean, 70.25, "mean index excludes the missing one");

        // Without the instrument filter, E joins: n 4, its index 1.0 and level "1".
        let agg = store
            .aggregate(&ResultFilter {
                org_prefix: "32.01".into(),
                ..ResultFilter::default()
            })
            .await
            .expect("aggregate");
        assert_eq!((agg.n, agg.index_n), (4, 3));
        assert_close(agg.index_sum, 141.5, "index sum with E");
        assert_eq!(
            agg.levels,
            vec![("1".into(), 1), ("2".into(), 1), ("4".into(), 1)]
        );

        // Everything: D adds 100 and a lit score without a level.
        let agg = store
            .aggregate(&ResultFilter::default())
            .await
            .expect("aggregate");
        assert_eq!((agg.n, agg.index_n), (5, 4));
        assert_close(agg.index_sum, 241.5, "index sum of all");
        assert_eq!(agg.domains[0].code, "lit");
        assert_eq!((agg.domains[0].n, agg.domains[0].missing), (3, 1));
        assert_close(agg.domains[0].sum, 169.0, "lit sum of all");
        assert_eq!(
            agg.domains[0].levels,
            vec![("1".into(), 1), ("2".into(), 1)]
        );

        // Nothing matches: zeros, not an error.
        let none = store
            .aggregate(&ResultFilter {
                org_prefix: "99".into(),
                ..ResultFilter::default()
            })
            .await
            .expect("aggregate");
        assert_eq!(none, Aggregate::default());
    }

    fn assert_aggregate(got: &Aggregate, want: &Aggregate) {
        assert_eq!((got.n, got.index_n), (want.n, want.index_n), "counts");
        assert_close(got.index_sum, want.index_sum, "index_sum");
        assert_close(got.index_sum_sq, want.index_sum_sq, "index_sum_sq");
        assert_eq!(got.levels, want.levels, "levels");
        assert_eq!(
            got.domains.iter().map(|d| &d.code).collect::<Vec<_>>(),
            want.domains.iter().map(|d| &d.code).collect::<Vec<_>>(),
            "domains, in result order"
        );
        for (g, w) in got.domains.iter().zip(&want.domains) {
            assert_eq!(
                (g.n, g.missing),
                (w.n, w.missing),
                "domain {} counts",
                w.code
            );
            assert_close(g.sum, w.sum, &format!("domain {} sum", w.code));
            assert_close(g.sum_sq, w.sum_sq, &format!("domain {} sum_sq", w.code));
            assert_eq!(g.levels, w.levels, "domain {} levels", w.code);
        }
    }

    pub async fn submitted_sessions_paginate_with_answers(db: Db) {
        let store = db.open().await;
        let mut expected = Vec::new();
        for i in 0..23 {
            let s = store
                .start_session(session_in("36.72"))
                .await
                .expect("start");
            let saved = answers(&[("q1", &i.to_string()), ("q2", "x")]);
            store.save_answers(&s.id, "r1", &saved).await.expect("save");
            if i % 8 == 7 {
                continue; // left open
            }
            store
                .submit(&s.id, 1, result(Some(1.0), None, vec![]))
                .await
                .expect("submit");
            expected.push((s.id, saved));
        }
        // Same instrument, another version.
        let v2 = store
            .start_session(NewSession {
                instrument_version: "2.0.0".into(),
                ..session_in("36.72")
            })
            .await
            .expect("start");
        store
            .submit(&v2.id, 0, result(None, None, vec![]))
            .await
            .expect("submit");
        expected.sort();
        assert_eq!(expected.len(), 21, "23 started, 2 left open");

        let mut got = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .submitted_sessions("ikd-asn", "1.0.0", after.clone(), 6)
                .await
                .expect("page");
            assert!(page.len() <= 6);
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for s in &page {
                assert_eq!(s.state, SessionState::Submitted);
                assert!(s.submitted_at.is_some());
            }
            got.extend(page.into_iter().map(|s| (s.id, s.answers)));
        }
        assert_eq!(
            got, expected,
            "every submitted 1.0.0 session once, by id, with answers"
        );
        let v2s = store
            .submitted_sessions("ikd-asn", "2.0.0", None, 6)
            .await
            .expect("page");
        assert_eq!(v2s.iter().map(|s| &s.id).collect::<Vec<_>>(), vec![&v2.id]);
        assert!(
            store
                .submitted_sessions("ikd-asn", "1.0.0", None, 0)
                .await
                .expect("page")
                .is_empty()
        );
    }

    pub async fn data_survives_closing_and_reopening(db: Db) {
        let (open_id, submitted_id, revisions) = {
            let store = db.open().await;
            let open = store
                .start_session(session_in("36.72"))
                .await
                .expect("start");
            store
                .save_answers(&open.id, "r1", &answers(&[("q1", "1"), ("q2", "2")]))
                .await
                .expect("save");
            let done = submitted(&*store, "36.72.01", 42.0).await;
            let rescore = store
                .add_revision(&done.session_id, result(Some(43.0), Some("3"), vec![]))
                .await
                .expect("rescore");
            store.close().await;
            (open.id, done.session_id.clone(), vec![done, rescore])
        };
        let store = db.open().await;
        let open = store.session(&open_id).await.expect("read").expect("kept");
        assert_eq!(open.state, SessionState::Open);
        assert_eq!(open.answers, answers(&[("q1", "1"), ("q2", "2")]));
        assert_eq!(open.answers_version, 1, "the answers version survives too");
        assert_eq!(
            store.result_revisions(&submitted_id).await.expect("read"),
            revisions
        );
        // Idempotency survives too, and the session goes on.
        let replay = store
            .save_answers(&open_id, "r1", &answers(&[("q1", "1"), ("q2", "2")]))
            .await
            .expect("replay");
        assert!(replay.replayed);
        store
            .save_answers(&open_id, "r2", &answers(&[("q3", "3")]))
            .await
            .expect("save");
        store
            .submit(&open_id, 2, result(Some(1.0), None, vec![]))
            .await
            .expect("submit");
        assert_eq!(
            store
                .aggregate(&ResultFilter::default())
                .await
                .expect("agg")
                .n,
            2
        );
    }

    pub async fn fifty_concurrent_saves_are_all_stored(db: Db) {
        let store = db.open().await;
        let shared = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let store = store.clone();
                let shared = shared.id.clone();
                tokio::spawn(async move {
                    let cells = answers(&[(&format!("q{i:02}"), &i.to_string())]);
                    let own = store
                        .start_session(session_in("36.72"))
                        .await
                        .expect("start");
                    store
                        .save_answers(&own.id, "r", &answers(&[("a", "1"), ("b", "2")]))
                        .await
                        .expect("save own");
                    let first = store
                        .save_answers(&shared, &format!("r{i}"), &cells)
                        .await
                        .expect("save shared");
                    assert!(!first.replayed);
                    let again = store
                        .save_answers(&shared, &format!("r{i}"), &cells)
                        .await
                        .expect("replay shared");
                    assert!(again.replayed);
                    own.id
                })
            })
            .collect();
        let mut own = Vec::new();
        for task in tasks {
            own.push(task.await.expect("task"));
        }
        let read = store
            .session(&shared.id)
            .await
            .expect("read")
            .expect("found");
        let want: Vec<(String, String)> = (0..50)
            .map(|i| (format!("q{i:02}"), i.to_string()))
            .collect();
        assert_eq!(read.answers, want);
        for id in own {
            let s = store.session(&id).await.expect("read").expect("found");
            assert_eq!(s.answers.len(), 2, "session {id}");
        }
    }

    pub async fn servers_starting_at_once_migrate_once(db: Db) {
        let url = Arc::new(db.url.clone());
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { ikd_store::open(&url).await })
            })
            .collect();
        let mut stores = Vec::new();
        for task in tasks {
            stores.push(task.await.expect("task").expect("open at once"));
        }
        let s = stores[0]
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        assert!(stores[3].session(&s.id).await.expect("read").is_some());
    }

    pub async fn refused_values(db: Db) {
        let store = db.open().await;
        let s = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        let err = store
            .save_answers(&s.id, "", &answers(&[("q", "1")]))
            .await
            .expect_err("empty request id");
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        let err = store
            .submit(&s.id, 0, result(Some(f64::NAN), None, vec![]))
            .await
            .expect_err("NaN");
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        let err = store
            .submit(
                &s.id,
                0,
                result(None, None, vec![domain("lit", Some(f64::INFINITY), None)]),
            )
            .await
            .expect_err("infinite");
        assert!(err.to_string().contains("'lit'"), "{err}");
        let err = store
            .submit(
                &s.id,
                0,
                result(
                    None,
                    None,
                    vec![domain("lit", None, None), domain("lit", None, None)],
                ),
            )
            .await
            .expect_err("duplicate domain");
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        // Nothing was stored by the refused calls.
        let read = store.session(&s.id).await.expect("read").expect("found");
        assert_eq!(read.state, SessionState::Open);
        assert!(read.answers.is_empty());
    }

    pub async fn malformed_urls_are_invalid(db: Db) {
        let bad = if db.url.starts_with("sqlite") {
            format!("{}?bogus=1", db.url)
        } else {
            db.url.replacen("127.0.0.1:", "127.0.0.1:notaport", 1)
        };
        let err = ikd_store::open(&bad).await.err().expect("refused");
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{err}");
        let scheme = bad.split(':').next().expect("scheme");
        assert!(err.to_string().contains(&format!("`{scheme}:`")), "{err}");
    }

    fn audit(action: &str, target: &str, detail: &str) -> NewAuditEntry {
        NewAuditEntry {
            actor: "admin".into(),
            action: action.into(),
            target: target.into(),
            detail_json: detail.into(),
        }
    }

    pub async fn audit_entries_read_back_newest_first(db: Db) {
        let before = now_ms();
        let recorded = {
            let store = db.open().await;
            let all = AuditQuery {
                since: None,
                limit: 100,
            };
            assert!(store.audit_log(&all).await.expect("read").is_empty());
            let mut recorded = Vec::new();
            for (k, action) in ["rescore.started", "rescore.finished", "rescore.started"]
                .into_iter()
                .enumerate()
            {
                let entry = audit(action, "ikd-asn@1.0.0", &format!(r#"{{"k":{k}}}"#));
                let stored = store.record_audit(&entry).await.expect("record");
                assert_eq!(
                    (
                        &stored.actor,
                        &stored.action,
                        &stored.target,
                        &stored.detail_json
                    ),
                    (
                        &entry.actor,
                        &entry.action,
                        &entry.target,
                        &entry.detail_json
                    )
                );
                assert!(stored.at >= before && stored.at <= now_ms(), "{stored:?}");
                recorded.push(stored);
            }
            assert!(
                recorded
                    .windows(2)
                    .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at)
            );
            let mut newest_first = recorded.clone();
            newest_first.reverse();
            assert_eq!(store.audit_log(&all).await.expect("read"), newest_first);
            store.close().await;
            newest_first
        };
        // The log survives closing and reopening; new entries follow the old ones.
        let store = db.open().await;
        let all = AuditQuery {
            since: None,
            limit: 100,
        };
        assert_eq!(store.audit_log(&all).await.expect("read"), recorded);
        let next = store
            .record_audit(&audit("rescore.finished", "x@1", "{}"))
            .await
            .expect("record");
        assert!(next.id > recorded[0].id);
        assert_eq!(store.audit_log(&all).await.expect("read")[0], next);
    }

    pub async fn audit_log_since_limit_and_refusals(db: Db) {
        let store = db.open().await;
        let mut ids = Vec::new();
        for k in 0..5 {
            let stored = store
                .record_audit(&audit("a", &format!("t{k}"), "{}"))
                .await
                .expect("record");
            ids.push(stored.id);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let later_from = now_ms();
        tokio::time::sleep(Duration::from_millis(5)).await;
        for k in 5..8 {
            let stored = store
                .record_audit(&audit("b", &format!("t{k}"), "[1,2]"))
                .await
                .expect("record");
            ids.push(stored.id);
        }
        let read = |since, limit| {
            let store = store.clone();
            async move {
                store
                    .audit_log(&AuditQuery { since, limit })
                    .await
                    .expect("read")
                    .into_iter()
                    .map(|e| e.target)
                    .collect::<Vec<_>>()
            }
        };
        // The limit keeps the newest.
        assert_eq!(read(None, 3).await, ["t7", "t6", "t5"]);
        assert_eq!(read(None, 0).await, Vec::<String>::new());
        assert_eq!(read(None, 100).await.len(), 8);
        // `since` keeps those recorded at or after it.
        assert_eq!(read(Some(later_from), 100).await, ["t7", "t6", "t5"]);
        assert_eq!(read(Some(later_from), 2).await, ["t7", "t6"]);
        assert_eq!(read(Some(now_ms() + 60_000), 100).await.len(), 0);
        // Refused entries store nothing.
        for bad in [
            audit("a", "t", "{not json"),
            audit("", "t", "{}"),
            NewAuditEntry {
                actor: String::new(),
                ..audit("a", "t", "{}")
            },
        ] {
            let err = store.record_audit(&bad).await.expect_err("refused");
            assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        }
        assert_eq!(read(None, 100).await.len(), 8);
    }
}

/// Backend-independent URL handling.
mod urls {
    use super::*;

    #[tokio::test]
    async fn unknown_schemes_are_invalid_and_named() {
        for (url, named) in [
            ("mysql://u:secret@h/db", "`mysql:`"),
            ("redis://h", "`redis:`"),
            ("ikd.db", "no URL scheme"),
            ("", "no URL scheme"),
        ] {
            let err = ikd_store::open(url).await.err().expect("refused");
            assert!(matches!(err, StoreError::InvalidUrl(_)), "{url}: {err}");
            assert!(err.to_string().contains(named), "{url}: {err}");
            assert!(!err.to_string().contains("secret"), "{url}: {err}");
        }
    }

    #[tokio::test]
    async fn in_memory_sqlite_works() {
        let store = ikd_store::open("sqlite::memory:").await.expect("open");
        assert_eq!(store.backend(), "sqlite");
        let stored = submitted(&*store, "36.72", 12.0).await;
        let agg = store
            .aggregate(&ResultFilter::default())
            .await
            .expect("agg");
        assert_eq!(agg.n, 1);
        assert_eq!(agg.domains[0].code, "lit");
        let read = store
            .session(&stored.session_id)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(read.answers, answers(&[("q1", "3")]));
        // Another in-memory store is another database.
        let other = ikd_store::open("sqlite::memory:").await.expect("open");
        assert_eq!(other.session(&stored.session_id).await.expect("read"), None);
    }
}

/// An SQLite database holds every answer: its files are the owner's only (0600), whatever
/// the umask would give (0644 under the usual 022).
#[cfg(unix)]
mod files {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_files_are_created_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data/ikd.db");
        let store = ikd_store::open(&format!("sqlite://{}", path.display()))
            .await
            .expect("open");
        // A write, so that the -wal and -shm files exist.
        submitted(&*store, "36.72", 1.0).await;
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", path.display());
            let mode = std::fs::metadata(&file)
                .unwrap_or_else(|e| panic!("{file}: {e}"))
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode & 0o077, 0, "{file} has mode {mode:o}");
        }
        store.close().await;
        // Reopened, the file keeps its mode.
        let store = ikd_store::open(&format!("sqlite://{}", path.display()))
            .await
            .expect("reopen");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        store.close().await;
    }
}
