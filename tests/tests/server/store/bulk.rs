//! The scale test bed's bulk loader (`ikd_store::bulk`): what it stores reads back as what
//! was loaded, the re-taking rule holds, and the per-unit statistics it rebuilds agree with
//! the rows. Through the real engine and the CLI: `scale.rs`.

use ikd_store::bulk::{BulkLoader, BulkResult};

use super::*;

/// Results loaded per case: two batches and a part.
/// More than two of the export stream's batches (2,000 results, 4,000 domain rows).
const LOADED: usize = 4500;

/// `LOADED` results over 20 units in two provinces and 9 days; the last one is a re-take
/// (a later session) of the first one's person.
fn loaded() -> Vec<BulkResult> {
    let day = 86_400_000;
    let mut all: Vec<BulkResult> = (0..LOADED)
        .map(|k| {
            let unit = format!("{}.{:02}/unit{}", 60 + k % 2, 70 + k % 5, k % 4);
            let index = (k % 7 != 3).then_some(30.0 + (k % 61) as f64 + 0.125);
            let score = (k % 5 != 1).then_some(20.0 + (k % 73) as f64);
            let submitted_at = 1_750_000_000_000 + (k as i64 % 9) * day + k as i64;
            BulkResult {
                session_id: format!("00000000-0000-4000-8000-{k:012}"),
                instrument_id: "ikd-asn".into(),
                instrument_version: "1.0.0".into(),
                instrument_sha256: "ab".repeat(32),
                respondent_key: format!("person-{k}"),
                org_unit: unit,
                created_at: submitted_at - 900_000,
                submitted_at,
                answers: vec![
                    ("a1".into(), (k % 5).to_string()),
                    ("b\t2".into(), "tab\tand \\ and\nnewline".into()),
                ],
                result: NewResult {
                    flags: if k % 11 == 0 {
                        vec!["fast".into()]
                    } else {
                        Vec::new()
                    },
                    ..result(
                        index,
                        index.map(|i| if i > 60.0 { "3" } else { "2" }),
                        vec![
                            domain("lit", score, score.map(|_| "2")),
                            domain("data", Some(50.0), None),
                        ],
                    )
                },
            }
        })
        .collect();
    let last = all.last_mut().expect("results");
    last.respondent_key = "person-0".into();
    all
}

pub async fn a_bulk_load_reads_back_and_its_statistics_agree(db: Db) {
    let loader = BulkLoader::open(&db.url).await.expect("open loader");
    let all = loaded();
    for batch in all.chunks(900) {
        loader.insert(batch).await.expect("bulk insert");
    }
    let summary = loader.finish().await.expect("finish");
    assert_eq!(
        summary.superseded, 1,
        "person-0 re-took it: the first counts no more"
    );
    assert!(summary.stats_rows > 0);

    let store = db.open().await;
    assert_stats_consistent(&*store).await;
    super::stats::assert_results_keep_submission_times(&db, all.len() as i64).await;
    let counts = store
        .unit_counts(&ResultFilter::default())
        .await
        .expect("unit counts");
    assert_eq!(counts.len(), 20);
    let counted: u64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(counted, LOADED as u64 - 1);

    // Every counting result reads back as it was loaded, in (submitted_at, id) order.
    let mut read = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .results_page(&ResultFilter::default(), after.take(), 700)
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        read.extend(page);
    }
    let mut want: Vec<&BulkResult> = all[1..].iter().collect();
    want.sort_by(|a, b| (a.submitted_at, &a.session_id).cmp(&(b.submitted_at, &b.session_id)));
    assert_eq!(read.len(), want.len());
    for (got, want) in read.iter().zip(want) {
        let expected = StoredResult {
            session_id: want.session_id.clone(),
            revision: 1,
            instrument_id: want.instrument_id.clone(),
            instrument_version: want.instrument_version.clone(),
            instrument_sha256: want.instrument_sha256.clone(),
            org_unit: want.org_unit.clone(),
            respondent_key: want.respondent_key.clone(),
            submitted_at: want.submitted_at,
            created_at: want.submitted_at,
            model: want.result.model.clone(),
            model_version: want.result.model_version.clone(),
            index: want.result.index,
            index_se: want.result.index_se,
            level: want.result.level.clone(),
            domains: want.result.domains.clone(),
            flags: want.result.flags.clone(),
            provenance_json: want.result.provenance_json.as_str().into(),
        };
        assert_eq!(*got, expected);
    }

    // The export's stream gives the same results, in the same order; under a prefix too.
    for prefix in ["", "61", "60.72/unit2"] {
        let filter = ResultFilter {
            org_prefix: prefix.into(),
            ..ResultFilter::default()
        };
        let streamed = stream_all(&*store, &filter, StreamDetail::Full).await;
        let paged: Vec<StoredResult> = read
            .iter()
            .filter(|r| {
                prefix.is_empty()
                    || r.org_unit == prefix
                    || r.org_unit.starts_with(&format!("{prefix}."))
                    || r.org_unit.starts_with(&format!("{prefix}/"))
            })
            .cloned()
            .collect();
        assert!(!paged.is_empty(), "prefix {prefix:?}");
        assert_eq!(streamed.len(), paged.len(), "prefix {prefix:?}");
        assert!(
            streamed == paged,
            "prefix {prefix:?}: streamed results differ"
        );
        // Scores only: the same results, with at most the provenance, the instrument's
        // hash and the revision's time left out.
        let scores = stream_all(&*store, &filter, StreamDetail::Scores).await;
        assert_eq!(scores.len(), paged.len(), "prefix {prefix:?}");
        for (lean, full) in scores.iter().zip(&paged) {
            let mut expected = full.clone();
            if lean.provenance_json.is_empty() {
                expected.provenance_json = "".into();
                expected.instrument_sha256 = String::new();
                expected.created_at = 0;
            }
            assert_eq!(*lean, expected, "prefix {prefix:?}");
        }
        if db.url.starts_with("postgres") {
            assert!(scores.iter().all(|r| r.provenance_json.is_empty()));
        }
    }

    // A loaded session is what one save and a submit leave: its answers (escapes intact),
    // version 1, and the save is a replay if sent again.
    let first = &all[0];
    let session = store
        .session(&first.session_id)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(session.state, SessionState::Submitted);
    assert_eq!(session.answers_version, 1);
    assert_eq!(session.submitted_at, Some(first.submitted_at));
    let mut answers = first.answers.clone();
    answers.sort();
    assert_eq!(session.answers, answers);
    let replay = store
        .save_answers(
            &first.session_id,
            ikd_store::bulk::LOAD_REQUEST_ID,
            &first.answers,
        )
        .await
        .expect("replay");
    assert!(replay.replayed);
    // The superseded first take stays readable.
    let kept = store
        .latest_result(&first.session_id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(kept.index, first.result.index);
}

pub async fn a_bulk_load_refuses_a_session_twice_and_keeps_nothing_of_it(db: Db) {
    let loader = BulkLoader::open(&db.url).await.expect("open loader");
    let all = loaded();
    loader.insert(&all[..10]).await.expect("first batch");
    let err = loader
        .insert(&all[5..20])
        .await
        .expect_err("session ids 5..10 are stored already");
    assert!(matches!(err, StoreError::Database { .. }), "{err}");
    loader.finish().await.expect("finish");
    let store = db.open().await;
    let counted = results_counted(&*store).await;
    assert_eq!(counted, 10, "the refused batch left nothing");
    assert_stats_consistent(&*store).await;
}

/// A load of persons not seen before is counted in the statistics by `finish` from what
/// its inserts summed (no rebuild: there is no re-take): they agree with the rows after a
/// first load into an empty store and after a second one beside results submitted the usual
/// way. Before `finish`, the loaded results are not counted yet.
pub async fn a_bulk_load_of_new_persons_is_counted_without_a_rebuild(db: Db) {
    let all = loaded();
    let fresh = &all[..LOADED - 1];
    let (first, second) = fresh.split_at(3000);
    let loader = BulkLoader::open(&db.url).await.expect("open loader");
    let store = db.open().await;
    for batch in first.chunks(700) {
        loader.insert(batch).await.expect("bulk insert");
    }
    let before = store
        .aggregate(&ResultFilter::default())
        .await
        .expect("aggregate");
    assert_eq!(before.n, 0, "counted by finish");
    let summary = loader.finish().await.expect("finish");
    assert_eq!(summary.superseded, 0);
    assert_stats_consistent(&*store).await;

    submitted(&*store, "60.70/unit0", 55.0).await;
    let loader = BulkLoader::open(&db.url).await.expect("open loader again");
    for batch in second.chunks(700) {
        loader.insert(batch).await.expect("bulk insert");
    }
    let summary = loader.finish().await.expect("finish");
    assert_eq!(summary.superseded, 0);
    assert_stats_consistent(&*store).await;
    let counted = results_counted(&*store).await;
    assert_eq!(counted, fresh.len() as u64 + 1);
}

/// Results that count, over every unit.
async fn results_counted(store: &dyn Store) -> u64 {
    store
        .unit_counts(&ResultFilter::default())
        .await
        .expect("counts")
        .iter()
        .map(|(_, n)| n)
        .sum()
}

/// Every result of `store.stream_results`.
async fn stream_all(
    store: &dyn Store,
    filter: &ResultFilter,
    detail: StreamDetail,
) -> Vec<StoredResult> {
    let mut streamed = Vec::new();
    let mut batches = store.stream_results(filter.clone(), detail);
    while let Some(batch) = batches.recv().await {
        streamed.extend(batch.expect("stream"));
    }
    streamed
}
