//! Result revisions and how they are read: pages, prefixes, time windows.

use super::*;

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
                DomainScore {
                    needed: None,
                    ..domain("kom", None, None)
                },
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
    assert_eq!(first.respondent_key, s.respondent_key);
    assert!(first.respondent_key.starts_with("key-36.72-"));
    assert_eq!(&*first.provenance_json, r#"{"engine":"0.1.0"}"#);
    assert_eq!(first.domains[0].se, Some(4.0));
    assert_eq!(first.domains[0].answered, 7);
    assert_eq!(first.domains[0].needed, Some(8));
    // A domain without `needed` (as stored before it was kept) reads back without.
    assert_eq!(second.domains[0].needed, None);

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
    super::stats::assert_results_keep_submission_times(&db, 3).await;
}

/// A result the store cannot read ends an export's stream with a failure naming its
/// session, never a stream that quietly skips it, whatever the export reads of each row.
pub async fn a_corrupt_row_ends_an_export_naming_its_session(db: Db) {
    let store = db.open().await;
    let mut ids = Vec::new();
    for k in 0..5 {
        let s = store
            .start_session(session_in("36.72"))
            .await
            .expect("start");
        let scored = result(
            Some(50.0 + f64::from(k)),
            None,
            vec![domain("lit", Some(40.0), Some("1"))],
        );
        store.submit(&s.id, 0, scored).await.expect("submit");
        ids.push(s.id);
    }
    let damaged = &ids[2];
    super::stats::execute_raw(
        &db,
        &format!("UPDATE results SET domains = '[[1' WHERE session_id = '{damaged}'"),
    )
    .await;
    for detail in [StreamDetail::Full, StreamDetail::Scores] {
        let mut batches = store.stream_results(ResultFilter::default(), detail);
        let mut read = Vec::new();
        let failure = loop {
            match batches.recv().await {
                Some(Ok(batch)) => read.extend(batch),
                Some(Err(e)) => break e.to_string(),
                None => panic!("{detail:?}: the export ended without a failure"),
            }
        };
        assert!(
            failure.contains(&format!("session '{damaged}'")),
            "{detail:?}: {failure}"
        );
        assert!(read.iter().all(|r| r.session_id != *damaged));
        assert!(
            batches.recv().await.is_none(),
            "{detail:?}: nothing after the failure"
        );
    }
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
            all.push(submitted(&*store, units[i % units.len()], (phase * 100 + i) as f64).await);
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
    let in_family = |u: &str| u == "36.72" || u.starts_with("36.72.") || u.starts_with("36.72/");
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
