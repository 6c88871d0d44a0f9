//! The store's life: reopening, concurrent writers, migrations, refused values and URLs.

use super::*;

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
