//! Sessions: start, save (idempotent, versioned), submit, and the races between them.

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
        // The store keeps the provenance as given: it carries what was scored here.
        r.provenance_json = scored;
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
        let scored: Vec<(String, String)> = serde_json::from_str(&stored.provenance_json).unwrap();
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
