//! The scale test bed end to end: `ikd store load-simulated` scores simulated respondents
//! with the real engine and loads them into each backend; what it loads is consistent
//! (`check_stats`, unit counts, one person one result) and `ikd store check-stats` says so;
//! it says so no more once a statistic is damaged, until `ikd store rebuild-stats`.

use ikd_store::ResultFilter;
use ikd_tests::ikd_binary;
use std::collections::BTreeSet;
use std::process::Command;

const RESULTS: u64 = 2000;

fn ikd(args: &[&str]) -> std::process::Output {
    Command::new(ikd_binary())
        .args(args)
        .env_remove("IKD_DATABASE_URL")
        .output()
        .expect("ikd runs")
}

async fn load_and_check(url: &str) {
    let n = RESULTS.to_string();
    let out = ikd(&[
        "store",
        "load-simulated",
        "--database-url",
        url,
        "-n",
        &n,
        "--units",
        "60",
        "--days",
        "5",
        "--batch",
        "700",
    ]);
    assert!(
        out.status.success(),
        "load-simulated failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["results"], RESULTS);
    assert_eq!(report["superseded"], 0);

    let store = ikd_store::open(url).await.expect("open");
    let check = store.check_stats().await.expect("check");
    assert!(check.problems.is_empty(), "{:#?}", check.problems);
    let counts = store
        .unit_counts(&ResultFilter::default())
        .await
        .expect("unit counts");
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), RESULTS);
    assert!(counts.len() > 50, "spread over the units: {counts:?}");
    assert!(counts.iter().any(|(u, _)| u == "64.72/diskominfo"));

    let mut read = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .results_page(&ResultFilter::default(), after.take(), 1000)
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        read.extend(page);
    }
    assert_eq!(read.len() as u64, RESULTS);
    let persons: BTreeSet<&str> = read.iter().map(|r| r.respondent_key.as_str()).collect();
    assert_eq!(persons.len() as u64, RESULTS, "one person, one result");
    let days: BTreeSet<i64> = read.iter().map(|r| r.submitted_at / 86_400_000).collect();
    assert!(
        (5..=6).contains(&days.len()),
        "spread over 5 days: {days:?}"
    );
    for r in &read {
        assert_eq!(r.revision, 1);
        assert_eq!(r.model, "weighted-index");
        assert_eq!(r.domains.len(), 5, "{r:?}");
        assert!(r.provenance_json.contains("\"instrument_sha256\""), "{r:?}");
    }
    // Scored as the server scores a submit: the index of a stored session's answers.
    let session = store
        .session(&read[0].session_id)
        .await
        .expect("read")
        .expect("stored");
    assert!(session.answers.len() > 40, "{:?}", session.answers);
    store.close().await;
    if url.starts_with("sqlite") {
        assert_stored_in_submission_order(url).await;
    }

    let check_stats = || ikd(&["store", "check-stats", "--database-url", url]);
    let out = check_stats();
    assert!(
        out.status.success(),
        "check-stats: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A statistic that no longer agrees with the rows is found, and a rebuild repairs it.
    damage_the_unit_counts(url).await;
    let out = check_stats();
    assert_eq!(out.status.code(), Some(1), "check-stats after the damage");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unit_stats:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ikd(&["store", "rebuild-stats", "--database-url", url]);
    assert!(
        out.status.success(),
        "rebuild-stats: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        check_stats().status.success(),
        "check-stats after the rebuild"
    );
}

/// Sessions lie in the table in the order they were submitted, as a server stores them (on
/// SQLite, whose one writer keeps the order of insertion in `rowid`; PostgreSQL's two
/// writers interleave two batches).
async fn assert_stored_in_submission_order(url: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
    let times: Vec<i64> = sqlx::query_scalar("SELECT submitted_at FROM sessions ORDER BY rowid")
        .fetch_all(&mut conn)
        .await
        .expect("submission times");
    conn.close().await.expect("close");
    assert_eq!(times.len() as u64, RESULTS);
    let back = times.windows(2).position(|w| w[1] < w[0]);
    assert_eq!(back, None, "a session stored after a later one");
}

/// Adds one to every unit's result count, past the store.
async fn damage_the_unit_counts(url: &str) {
    use sqlx::Connection;
    let sql = "UPDATE unit_stats SET n = n + 1 WHERE kind = 'index' AND level = ''";
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
        conn.close().await.expect("close");
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
        conn.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_simulated_into_sqlite_is_consistent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("ikd.db").display());
    load_and_check(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_simulated_into_postgres_is_consistent() {
    load_and_check(&ikd_tests::postgres::server().new_database()).await;
}
