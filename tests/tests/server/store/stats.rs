//! The per-unit statistics the writes keep (migration 0008): they follow every way a result
//! starts or stops counting, a check finds what differs from the results, a rebuild repairs
//! it, and time windows of whole days read the daily ones.

use super::*;

/// Runs `sql` on the database itself, past the store (to damage what it keeps).
pub(super) async fn execute_raw(db: &Db, sql: &str) {
    use sqlx::Connection;
    if db.url.starts_with("sqlite") {
        let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().expect("sqlite URL");
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .expect("connect");
        sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
        conn.close().await.expect("close");
    } else {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
        sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
        conn.close().await.expect("close");
    }
}

/// A number read from the database itself, past the store.
/// Every result revision keeps its session's submission time (exports join on it:
/// migration 0012), and there are `revisions` of them.
pub(super) async fn assert_results_keep_submission_times(db: &Db, revisions: i64) {
    let kept = query_i64(
        db,
        "SELECT COUNT(*) FROM results r JOIN sessions s ON s.id = r.session_id \
         WHERE r.submitted_at = s.submitted_at",
    )
    .await;
    let all = query_i64(db, "SELECT COUNT(*) FROM results").await;
    assert_eq!((kept, all), (revisions, revisions));
}

pub(super) async fn query_i64(db: &Db, sql: &str) -> i64 {
    use sqlx::Connection;
    if db.url.starts_with("sqlite") {
        let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().expect("sqlite URL");
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .expect("connect");
        let n = sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql);
        conn.close().await.expect("close");
        n
    } else {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
        let n = sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql);
        conn.close().await.expect("close");
        n
    }
}

/// The filter of every result under `prefix`.
fn under(prefix: &str) -> ResultFilter {
    ResultFilter {
        org_prefix: prefix.into(),
        ..ResultFilter::default()
    }
}

async fn submit_as(store: &dyn Store, person: &str, unit: &str, r: NewResult) -> StoredResult {
    let s = store
        .start_session(session_of(person, unit))
        .await
        .expect("start");
    store.submit(&s.id, 0, r).await.expect("submit")
}

pub async fn statistics_follow_retakes_rescores_and_moves(db: Db) {
    let store = db.open().await;
    let lit = |score: Option<f64>| vec![domain("lit", score, score.map(|_| "2"))];
    // p takes it in unit a, re-takes it in unit b (moved), and is rescored there.
    submit_as(
        &*store,
        "p",
        "50.01/a",
        result(Some(40.0), Some("2"), lit(Some(30.0))),
    )
    .await;
    let second = submit_as(
        &*store,
        "p",
        "50.01/b",
        result(Some(60.0), Some("3"), lit(Some(50.0))),
    )
    .await;
    store
        .add_revision(&second.session_id, result(Some(65.0), Some("3"), lit(None)))
        .await
        .expect("rescore");
    // q and r stay in unit a; r's first take is rescored after r re-took it (the rescore
    // of a session that no longer counts changes nothing).
    submit_as(&*store, "q", "50.01/a", result(None, None, lit(Some(10.0)))).await;
    let r1 = submit_as(
        &*store,
        "r",
        "50.01/a",
        result(Some(20.0), Some("1"), lit(None)),
    )
    .await;
    submit_as(
        &*store,
        "r",
        "50.01/a",
        result(Some(25.0), Some("1"), lit(Some(5.0))),
    )
    .await;
    store
        .add_revision(
            &r1.session_id,
            result(Some(99.0), Some("5"), lit(Some(99.0))),
        )
        .await
        .expect("rescore a superseded take");

    assert_eq!(
        store
            .unit_counts(&ResultFilter::default())
            .await
            .expect("counts"),
        vec![("50.01/a".into(), 2), ("50.01/b".into(), 1)]
    );
    let mut a = store
        .aggregate(&ResultFilter {
            org_prefix: "50.01/a".into(),
            ..ResultFilter::default()
        })
        .await
        .expect("aggregate");
    assert!(
        a.indicators.is_empty(),
        "indicator sums are kept per unit only"
    );
    let per_unit_a = store
        .unit_aggregates(&ResultFilter {
            org_prefix: "50.01/a".into(),
            ..ResultFilter::default()
        })
        .await
        .expect("per unit");
    a.indicators = per_unit_a[0].1.indicators.clone();
    // q (no index, lit 10) and r's second take (25, lit 5).
    assert_eq!((a.n, a.index_n, a.flagged), (2, 1, 2));
    assert_close(a.index_sum, 25.0, "unit a index");
    assert_eq!(a.levels, vec![("1".into(), 1)]);
    assert_eq!(
        a.indicators,
        vec![IndicatorAggregate {
            domain: "lit".into(),
            code: "lit.1".into(),
            n: 2,
            missing: 0,
            sum: 7.5,
            sum_sq: 25.0 + 6.25,
        }]
    );
    let b = store
        .aggregate(&ResultFilter {
            org_prefix: "50.01/b".into(),
            ..ResultFilter::default()
        })
        .await
        .expect("aggregate");
    // p's rescored second take: 65, lit missing.
    assert_eq!((b.n, b.index_n), (1, 1));
    assert_close(b.index_sum, 65.0, "unit b index");
    assert_eq!((b.domains[0].n, b.domains[0].missing), (0, 1));
    assert_stats_consistent(&*store).await;

    let per_unit = store
        .unit_aggregates(&ResultFilter {
            org_prefix: "50.01".into(),
            ..ResultFilter::default()
        })
        .await
        .expect("per unit");
    let units: Vec<&str> = per_unit.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(units, ["50.01/a", "50.01/b"]);
    assert_aggregate_eq(&per_unit[0].1, &a, "50.01/a, per unit");
    let b = Aggregate {
        indicators: per_unit[1].1.indicators.clone(),
        ..b
    };
    assert_eq!(
        b.indicators[0].missing, 1,
        "p's rescored take: lit has no score"
    );
    assert_aggregate_eq(&per_unit[1].1, &b, "50.01/b, per unit");
}

pub async fn statistics_are_checked_and_rebuilt(db: Db) {
    let store = db.open().await;
    for (unit, index) in [("60.01", 10.0), ("60.01", 20.0), ("60.02", 30.0)] {
        submitted(&*store, unit, index).await;
    }
    assert_stats_consistent(&*store).await;
    store.close().await;
    drop(store);

    // A count changed behind the store's back, and a unit's row lost.
    execute_raw(
        &db,
        "UPDATE unit_stats SET n = n + 5 WHERE org_unit = '60.01' AND kind = 'index' \
         AND level = ''; DELETE FROM unit_stats WHERE org_unit = '60.02' AND kind = 'domain'",
    )
    .await;
    let store = db.open().await;
    let check = store.check_stats().await.expect("check");
    assert!(check.rows_compared > 0);
    assert_eq!(check.problems.len(), 2, "{:#?}", check.problems);
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("unit_stats") && p.contains("unit '60.01'") && p.contains("n=")),
        "{:#?}",
        check.problems
    );
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("missing row") && p.contains("unit '60.02'")),
        "{:#?}",
        check.problems
    );
    assert!(store.rebuild_stats().await.expect("rebuild") > 0);
    assert_stats_consistent(&*store).await;
    store.close().await;
    drop(store);

    // A database whose results have no statistics (as after upgrading to migration 0008)
    // gets them when it is opened.
    execute_raw(&db, "DELETE FROM unit_stats; DELETE FROM unit_day_stats").await;
    let store = db.open().await;
    assert_eq!(
        store
            .unit_counts(&ResultFilter::default())
            .await
            .expect("counts"),
        vec![("60.01".into(), 2), ("60.02".into(), 1)]
    );
    assert_stats_consistent(&*store).await;
}

pub async fn windows_of_whole_days_read_the_daily_statistics(db: Db) {
    let store = db.open().await;
    for (unit, index) in [("70.01", 10.0), ("70.01", 20.0), ("70.02", 30.0)] {
        submitted(&*store, unit, index).await;
    }
    let day = now_ms().div_euclid(86_400_000);
    let window = |from: i64, to: i64| ResultFilter {
        from: Some(from * 86_400_000),
        to: Some(to * 86_400_000),
        ..ResultFilter::default()
    };
    let today = store.aggregate(&window(day, day + 1)).await.expect("today");
    assert_eq!(today.n, 3);
    assert_close(today.index_sum, 60.0, "today's index sum");
    let tomorrow = store
        .aggregate(&window(day + 1, day + 2))
        .await
        .expect("tomorrow");
    assert_eq!(tomorrow, Aggregate::default());
    assert_eq!(
        store
            .unit_day_counts(&ResultFilter::default())
            .await
            .expect("per day"),
        vec![("70.01".into(), day, 2), ("70.02".into(), day, 1)]
    );
    assert!(
        store
            .unit_day_counts(&window(day + 1, day + 2))
            .await
            .expect("per day")
            .is_empty()
    );
    // Per-unit sums have whole days as their finest time: another window is refused.
    let err = store
        .unit_aggregates(&ResultFilter {
            from: Some(day * 86_400_000 + 1),
            ..ResultFilter::default()
        })
        .await
        .expect_err("not whole days");
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("midnight UTC"), "{err}");
}

/// Rows of a database left by migration 0008 (statistics kept, not yet in shards): two
/// results in unit 70.01/a, on day 0, and the statistics rows they give.
const ROWS_0008: &str = "
INSERT INTO sessions (id, instrument_id, instrument_version, instrument_sha256,
    respondent_key, org_unit, state, created_at, submitted_at, latest_revision) VALUES
 ('00000000-0000-4000-8000-000000000001', 'ikd-asn', '1.0.0', 'ab', 'p', '70.01/a',
  'submitted', 1000, 2000, 1),
 ('00000000-0000-4000-8000-000000000002', 'ikd-asn', '1.0.0', 'ab', 'q', '70.01/a',
  'submitted', 1000, 3000, 1);
INSERT INTO results (session_id, revision, created_at, model, model_version, index_value,
    index_se, level, flags, provenance_json, result_json) VALUES
 ('00000000-0000-4000-8000-000000000001', 1, 2000, 'm', '1', 40.0, NULL, NULL, '[]', '{}', '{}'),
 ('00000000-0000-4000-8000-000000000002', 1, 3000, 'm', '1', 60.0, NULL, NULL, '[]', '{}', '{}');
INSERT INTO unit_stats (instrument_id, org_unit, instrument_version, kind, domain, indicator,
    level, n, missing, sum, sum_sq) VALUES
 ('ikd-asn', '70.01/a', '1.0.0', 'index', '', '', '', 2, 0, 100.0, 5200.0);
INSERT INTO unit_day_stats (instrument_id, org_unit, day, instrument_version, kind, domain,
    indicator, level, n, missing, sum, sum_sq) VALUES
 ('ikd-asn', '70.01/a', 0, '1.0.0', 'index', '', '', '', 2, 0, 100.0, 5200.0);
INSERT INTO prefix_stats (instrument_id, org_prefix, instrument_version, kind, domain,
    indicator, level, n, missing, sum, sum_sq) VALUES
 ('ikd-asn', '', '1.0.0', 'index', '', '', '', 2, 0, 100.0, 5200.0),
 ('ikd-asn', '70', '1.0.0', 'index', '', '', '', 2, 0, 100.0, 5200.0),
 ('ikd-asn', '70.01', '1.0.0', 'index', '', '', '', 2, 0, 100.0, 5200.0),
 ('ikd-asn', '70.01/a', '1.0.0', 'index', '', '', '', 2, 0, 100.0, 5200.0);
";

/// A database whose statistics predate the shards (migration 0008): opening it moves every
/// row into shard 0, where they read as before and submits add to them.
pub async fn statistics_kept_before_shards_upgrade_into_shard_0(db: Db) {
    db.migrated_up_to("0008", ROWS_0008).await;
    let store = db.open().await;
    for (table, rows) in [
        ("unit_stats", 1),
        ("unit_day_stats", 1),
        ("prefix_stats", 4),
    ] {
        let in_0 = format!("SELECT COUNT(*) FROM {table} WHERE shard = 0");
        assert_eq!(query_i64(&db, &in_0).await, rows, "{table}");
    }
    let all = store.aggregate(&under("70")).await.expect("aggregate");
    assert_eq!((all.n, all.index_n), (2, 2));
    assert_close(all.index_sum, 100.0, "index sum after the upgrade");
    assert_stats_consistent(&*store).await;
    submitted(&*store, "70.01/a", 80.0).await;
    submitted(&*store, "70.01/b", 20.0).await;
    let all = store.aggregate(&under("70")).await.expect("aggregate");
    assert_eq!((all.n, all.index_n), (4, 4));
    assert_close(all.index_sum, 200.0, "index sum after more submits");
    assert_stats_consistent(&*store).await;
}

/// Rows split over shards, as batches written at once leave them, read as one: aggregates,
/// unit counts and the check sum over the shards.
pub async fn statistics_split_over_shards_read_as_one(db: Db) {
    let store = db.open().await;
    for (unit, index) in [("71.01/a", 10.0), ("71.01/b", 20.0), ("71.02", 30.0)] {
        submitted(&*store, unit, index).await;
    }
    store.close().await;
    drop(store);
    // Rows moved past the shards the store writes (0 to 7), as another store might leave them.
    execute_raw(
        &db,
        "UPDATE unit_stats SET shard = shard + 8 WHERE org_unit = '71.01/a'; \
         UPDATE unit_day_stats SET shard = shard + 8 WHERE org_unit = '71.01/a'; \
         UPDATE prefix_stats SET shard = shard + 8 WHERE org_prefix IN ('', '71.01')",
    )
    .await;
    let store = db.open().await;
    for (unit, index) in [("71.01/a", 40.0), ("71.02", 50.0)] {
        submitted(&*store, unit, index).await;
    }
    if db.url.starts_with("sqlite") {
        // One writer: its batches add to shard 0 only, beside the rows moved away.
        let national = "SELECT COUNT(DISTINCT shard) FROM prefix_stats WHERE org_prefix = ''";
        assert_eq!(query_i64(&db, national).await, 2);
    }
    assert_eq!(
        store.unit_counts(&under("71")).await.expect("counts"),
        vec![
            ("71.01/a".into(), 2),
            ("71.01/b".into(), 1),
            ("71.02".into(), 2)
        ]
    );
    let all = store.aggregate(&under("")).await.expect("aggregate");
    assert_eq!((all.n, all.index_n), (5, 5));
    assert_close(all.index_sum, 150.0, "national index sum");
    let a = store.aggregate(&under("71.01")).await.expect("aggregate");
    assert_close(a.index_sum, 70.0, "71.01 index sum");
    assert_stats_consistent(&*store).await;
}

/// Batches written at once by two servers, every one adding to the national rows and most
/// to the same units': the statistics stay exact.
pub async fn concurrent_batches_keep_the_statistics_exact(db: Db) {
    const SUBMITS: usize = 160;
    let units = ["72.01/a", "72.01/b", "72.02", "73"];
    let stores = [db.open().await, db.open().await];
    let barrier = Arc::new(tokio::sync::Barrier::new(SUBMITS));
    let tasks: Vec<_> = (0..SUBMITS)
        .map(|k| {
            let store = stores[k % 2].clone();
            let barrier = barrier.clone();
            let unit = units[k % units.len()];
            tokio::spawn(async move {
                let s = store.start_session(session_in(unit)).await.expect("start");
                barrier.wait().await;
                let index = k as f64;
                let lit = vec![domain("lit", Some(index / 2.0), Some("1"))];
                store
                    .submit(&s.id, 0, result(Some(index), Some("2"), lit))
                    .await
                    .expect("submit");
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("submit task");
    }
    let all = stores[0].aggregate(&under("")).await.expect("aggregate");
    assert_eq!((all.n, all.index_n), (SUBMITS as u64, SUBMITS as u64));
    let sum: f64 = (0..SUBMITS).map(|k| k as f64).sum();
    assert_close(all.index_sum, sum, "national index sum");
    assert_stats_consistent(&*stores[1]).await;
}
