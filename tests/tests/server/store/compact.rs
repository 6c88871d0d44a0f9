//! Results stored before migration 0011 (a row per domain and per indicator, the provenance
//! JSON in every result, the archived `result_json`) read back exactly after it, where a
//! result is one row and a provenance is kept once.

use super::stats::query_i64;
use super::*;

const S1: &str = "00000000-0000-4000-8000-0000000000a1";
const S2: &str = "00000000-0000-4000-8000-0000000000a2";
const S3: &str = "00000000-0000-4000-8000-0000000000a3";

/// The provenance of S1 (both revisions) and S2: shared, so kept once after the upgrade.
const P1: &str = r#"{"engine":"0.1.0","plugins":[{"name":"lit","sha256":"aa"}]}"#;
/// S3's, with a quote and a non-ASCII character.
const P2: &str = r#"{"engine":"0.1.0","note":"kota \"Cilegon\" — é"}"#;

/// Three submitted sessions as a release at migration 0009 left them: S1 rescored once
/// (revision 2 counts), S2 with a domain stored before `needed` was kept, S3 with no domain.
/// Scores chosen so that a cell read back one bit off shows: 72.54166666666667,
/// 0.30000000000000004, 1/3, 2/3, 99.99999999999999. No statistics rows: opening rebuilds
/// them from the upgraded results.
fn rows_0009() -> String {
    format!(
        "
INSERT INTO sessions (id, instrument_id, instrument_version, instrument_sha256,
    respondent_key, org_unit, state, created_at, submitted_at, latest_revision) VALUES
 ('{S1}', 'ikd-asn', '1.0.0', 'ab', 'p', '72.01/a', 'submitted', 1000, 2000, 2),
 ('{S2}', 'ikd-asn', '1.0.0', 'ab', 'q', '72.01/b', 'submitted', 1000, 3000, 1),
 ('{S3}', 'ikd-asn', '1.0.0', 'ab', 'r', '72.02', 'submitted', 1000, 4000, 1);
INSERT INTO results (session_id, revision, created_at, model, model_version, index_value,
    index_se, level, flags, provenance_json, result_json) VALUES
 ('{S1}', 1, 2000, 'weighted-index', '1.2.0', 61.5, 2.5, 'sedang', '[\"fast\"]', '{P1}', '{{}}'),
 ('{S1}', 2, 2500, 'irt', '0.3.0', 40.25, NULL, NULL, '[]', '{P1}', '{{}}'),
 ('{S2}', 1, 3000, 'weighted-index', '1.2.0', 50.0, 2.5, 'sedang', '[]', '{P1}', '{{}}'),
 ('{S3}', 1, 4000, 'weighted-index', '1.2.0', NULL, NULL, NULL, '[]', '{P2}', '{{}}');
INSERT INTO result_domains (session_id, revision, position, code, score, se, level,
    answered, needed) VALUES
 ('{S1}', 1, 0, 'lit', 72.54166666666667, 0.3333333333333333, 'tinggi', 5, 4),
 ('{S1}', 1, 1, 'bud', NULL, NULL, NULL, 1, 3),
 ('{S1}', 2, 0, 'lit', 0.30000000000000004, NULL, 'rendah', 5, 4),
 ('{S1}', 2, 1, 'bud', 10.0, 1.5, 'rendah', 3, 3),
 ('{S2}', 1, 0, 'lit', 50.0, 2.0, 'sedang', 6, NULL);
INSERT INTO result_indicators (session_id, revision, domain, code, score) VALUES
 ('{S1}', 1, 'lit', 'lit.a', 0.3333333333333333),
 ('{S1}', 1, 'lit', 'lit.b', NULL),
 ('{S1}', 2, 'lit', 'lit.a', 0.6666666666666666),
 ('{S1}', 2, 'lit', 'lit.b', 99.99999999999999),
 ('{S2}', 1, 'lit', 'lit.a', 25.0);
"
    )
}

fn domain_of(
    code: &str,
    score: Option<f64>,
    se: Option<f64>,
    level: Option<&str>,
    answered: u32,
    needed: Option<u32>,
) -> DomainScore {
    DomainScore {
        code: code.into(),
        score,
        se,
        level: level.map(Into::into),
        answered,
        needed,
    }
}

pub async fn results_stored_before_0011_read_back_exactly(db: Db) {
    db.migrated_up_to("0009", &rows_0009()).await;
    let store = db.open().await;

    let revisions = store.result_revisions(S1).await.expect("revisions");
    assert_eq!(revisions.len(), 2);
    let (first, second) = (&revisions[0], &revisions[1]);
    assert_eq!(
        first.domains,
        vec![
            domain_of(
                "lit",
                Some(72.541_666_666_666_67),
                Some(1.0 / 3.0),
                Some("tinggi"),
                5,
                Some(4)
            ),
            domain_of("bud", None, None, None, 1, Some(3)),
        ]
    );
    assert_eq!(
        second.domains,
        vec![
            domain_of("lit", Some(0.1 + 0.2), None, Some("rendah"), 5, Some(4)),
            domain_of("bud", Some(10.0), Some(1.5), Some("rendah"), 3, Some(3)),
        ]
    );
    assert_eq!(
        (first.flags.clone(), second.flags.clone()),
        (vec!["fast".to_owned()], vec![])
    );
    assert_eq!(
        (first.model.as_str(), second.model.as_str()),
        ("weighted-index", "irt")
    );
    assert_eq!(
        (
            first.provenance_json.as_ref(),
            second.provenance_json.as_ref()
        ),
        (P1, P1)
    );
    assert_eq!(
        store.latest_result(S1).await.expect("latest"),
        Some(second.clone())
    );

    let s2 = store.latest_result(S2).await.expect("S2").expect("stored");
    assert_eq!(
        s2.domains,
        vec![domain_of(
            "lit",
            Some(50.0),
            Some(2.0),
            Some("sedang"),
            6,
            None
        )]
    );
    let s3 = store.latest_result(S3).await.expect("S3").expect("stored");
    assert_eq!(
        (s3.domains.len(), s3.index, s3.provenance_json.as_ref()),
        (0, None, P2)
    );
    assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM provenances").await, 2);

    // The statistics rebuilt at the opening come from the upgraded rows: revision 2 of S1
    // and S2 count, with every domain and indicator score.
    let units = store
        .unit_aggregates(&ResultFilter {
            org_prefix: "72.01".into(),
            ..ResultFilter::default()
        })
        .await
        .expect("unit aggregates");
    let a = &units
        .iter()
        .find(|(unit, _)| unit == "72.01/a")
        .expect("unit a")
        .1;
    assert_eq!(a.index_sum, 40.25);
    let lit = a.domains.iter().find(|d| d.code == "lit").expect("lit");
    assert_eq!(
        (lit.n, lit.sum, lit.levels.clone()),
        (1, 0.1 + 0.2, vec![("rendah".into(), 1)])
    );
    let indicators: Vec<(&str, u64, u64, f64)> = a
        .indicators
        .iter()
        .map(|i| (i.code.as_str(), i.n, i.missing, i.sum))
        .collect();
    assert_eq!(
        indicators,
        vec![
            ("lit.a", 1, 0, 2.0 / 3.0),
            ("lit.b", 1, 0, 99.999_999_999_999_99)
        ]
    );
    assert_stats_consistent(&*store).await;

    // Pages and the export's stream read the same upgraded rows.
    let paged = all_pages(&*store, &ResultFilter::default(), 2).await;
    assert_eq!(paged.len(), 3);
    assert_eq!(paged[0], *second);
    let mut streamed = Vec::new();
    let mut batches = store.stream_results(ResultFilter::default(), StreamDetail::Full);
    while let Some(batch) = batches.recv().await {
        streamed.extend(batch.expect("stream"));
    }
    assert_eq!(streamed, paged);

    // New results go on beside the old ones, sharing a provenance stored by this version.
    let mut shared = result(Some(70.0), Some("2"), vec![domain("lit", Some(70.0), None)]);
    shared.provenance_json = P1.into();
    for unit in ["72.01/a", "72.01/c"] {
        let s = store.start_session(session_in(unit)).await.expect("start");
        let stored = store
            .submit(&s.id, 0, shared.clone())
            .await
            .expect("submit");
        assert_eq!(
            store.latest_result(&s.id).await.expect("read"),
            Some(stored)
        );
    }
    // PostgreSQL keyed the old provenances by their SHA-256 already (as new ones are);
    // SQLite, which has no SHA-256 in SQL, gave them other keys: one more row there.
    let kept = if db.url.starts_with("sqlite") { 3 } else { 2 };
    assert_eq!(
        query_i64(&db, "SELECT COUNT(*) FROM provenances").await,
        kept
    );
    assert_stats_consistent(&*store).await;
}
