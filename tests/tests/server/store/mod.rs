//! The store test suite, written once and run against both backends: SQLite (a file in a
//! temporary directory) and PostgreSQL (a fresh database on a server the tests start, see
//! `ikd_tests::postgres`). A missing PostgreSQL fails the `postgres::` tests.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ikd_store::{
    Aggregate, AuditQuery, DomainAggregate, DomainScore, IndicatorAggregate, IndicatorScore,
    NewAuditEntry, NewResult, NewSession, ResultFilter, SessionState, Store, StoreError,
    StoredResult, StreamDetail,
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

    /// Brings the database to the schema of the migrations up to `last` (a number, e.g.
    /// `"0003"`) only, as an older release left it, and runs `rows` there.
    async fn migrated_up_to(&self, last: &str, rows: &str) {
        use sqlx::Connection;
        let sqlite = self.url.starts_with("sqlite");
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/ikd-store/migrations")
            .join(if sqlite { "sqlite" } else { "postgres" });
        let before = tempfile::tempdir().expect("temp dir");
        for entry in std::fs::read_dir(&source).expect("migrations") {
            let name = entry.expect("migration").file_name();
            let name = name.to_str().expect("a UTF-8 name");
            if name.get(..last.len()).is_some_and(|number| number <= last) {
                std::fs::copy(source.join(name), before.path().join(name))
                    .unwrap_or_else(|e| panic!("copy {name}: {e}"));
            }
        }
        let migrator = sqlx::migrate::Migrator::new(before.path())
            .await
            .expect("the older migrations");
        if sqlite {
            let options: sqlx::sqlite::SqliteConnectOptions = self.url.parse().expect("sqlite URL");
            let options = options.create_if_missing(true);
            std::fs::create_dir_all(options.get_filename().parent().expect("a directory"))
                .expect("create the directory");
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .expect("connect");
            migrator.run(&mut conn).await.expect("older migrations");
            sqlx::raw_sql(rows)
                .execute(&mut conn)
                .await
                .expect("old rows");
            conn.close().await.expect("close");
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            migrator.run(&mut conn).await.expect("older migrations");
            sqlx::raw_sql(rows)
                .execute(&mut conn)
                .await
                .expect("old rows");
            conn.close().await.expect("close");
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
    a_corrupt_row_ends_an_export_naming_its_session,
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
    a_retake_counts_once_and_the_earlier_session_stays_readable,
    a_person_who_moved_unit_counts_in_the_new_unit_only,
    racing_retakes_leave_exactly_one_counting,
    migrating_supersedes_the_retakes_already_stored,
    concurrent_writes_of_many_sessions_all_land,
    a_refused_write_fails_alone_in_its_batch,
    a_replay_in_a_batch_is_still_a_replay,
    retakes_in_batches_leave_exactly_one_counting,
    writes_of_one_session_in_one_batch_see_each_other,
    a_batch_with_a_refused_value_keeps_every_other_outcome,
    closing_commits_the_writes_waiting,
    racing_token_claims_keep_exactly_one,
    statistics_follow_retakes_rescores_and_moves,
    statistics_are_checked_and_rebuilt,
    windows_of_whole_days_read_the_daily_statistics,
    statistics_kept_before_shards_upgrade_into_shard_0,
    answers_kept_per_item_upgrade_into_packed_columns,
    statistics_split_over_shards_read_as_one,
    concurrent_batches_keep_the_statistics_exact,
    a_bulk_load_reads_back_and_its_statistics_agree,
    a_bulk_load_refuses_a_session_twice_and_keeps_nothing_of_it,
    a_bulk_load_of_new_persons_is_counted_without_a_rebuild,
    results_stored_before_0011_read_back_exactly,
];

/// Cases that need what only PostgreSQL has (see each case).
mod postgres_only {
    use super::{Db, cases};
    suite!(
        postgres,
        super::Db::postgres(),
        [an_earlier_take_committed_last_does_not_supersede_a_later_one]
    );
}

/// A session of a person of its own in `unit`: every call is another person, so that no
/// session supersedes another (see [`session_of`] for re-takes).
fn session_in(unit: &str) -> NewSession {
    static PERSONS: AtomicU64 = AtomicU64::new(0);
    let person = PERSONS.fetch_add(1, Ordering::Relaxed);
    session_of(&format!("key-{unit}-{person}"), unit)
}

/// A session of the person with pseudonym `respondent_key`, in `unit`.
fn session_of(respondent_key: &str, unit: &str) -> NewSession {
    NewSession {
        instrument_id: "ikd-asn".into(),
        instrument_version: "1.0.0".into(),
        instrument_sha256: "ab".repeat(32),
        respondent_key: respondent_key.into(),
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
        needed: Some(8),
    }
}

/// A result with these domains, and one indicator per domain scoring half its domain.
fn result(index: Option<f64>, level: Option<&str>, domains: Vec<DomainScore>) -> NewResult {
    let indicators = domains
        .iter()
        .map(|d| IndicatorScore {
            domain: d.code.clone(),
            code: format!("{}.1", d.code),
            score: d.score.map(|s| s / 2.0),
        })
        .collect();
    NewResult {
        model: "weighted-index".into(),
        model_version: "1.2.0".into(),
        index,
        index_se: index.map(|_| 2.5),
        level: level.map(Into::into),
        domains,
        flags: vec!["straight_lining".into(), "fast".into()],
        indicators,
        provenance_json: r#"{"engine":"0.1.0"}"#.into(),
    }
}

/// The per-unit statistics the writes kept agree with the stored results: recomputed from
/// the rows by the store's check, and every aggregate read from them equals the one summed
/// from the results (a window of `from: 1 ms` is not whole days, so it is summed from the
/// results).
async fn assert_stats_consistent(store: &dyn Store) {
    let check = store.check_stats().await.expect("check statistics");
    assert!(check.problems.is_empty(), "{:#?}", check.problems);
    let counts = store
        .unit_counts(&ResultFilter::default())
        .await
        .expect("unit counts");
    let mut prefixes: BTreeSet<String> = counts.iter().map(|(u, _)| u.clone()).collect();
    prefixes.insert(String::new());
    for prefix in prefixes {
        let from_stats = ResultFilter {
            org_prefix: prefix.clone(),
            ..ResultFilter::default()
        };
        let from_rows = ResultFilter {
            from: Some(1),
            ..from_stats.clone()
        };
        let kept = store.aggregate(&from_stats).await.expect("aggregate");
        let summed = store
            .aggregate(&from_rows)
            .await
            .expect("aggregate by scan");
        assert_aggregate_eq(&kept, &summed, &prefix);
        assert_eq!(
            store.unit_counts(&from_stats).await.expect("counts"),
            store.unit_counts(&from_rows).await.expect("counts by scan"),
            "unit counts under '{prefix}'"
        );
    }
}

/// Equal aggregates, sums to rounding.
fn assert_aggregate_eq(got: &Aggregate, want: &Aggregate, what: &str) {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let same = got.n == want.n
        && got.index_n == want.index_n
        && got.flagged == want.flagged
        && close(got.index_sum, want.index_sum)
        && close(got.index_sum_sq, want.index_sum_sq)
        && got.levels == want.levels
        && got.domains.len() == want.domains.len()
        && got.domains.iter().zip(&want.domains).all(|(g, w)| {
            (&g.code, g.n, g.missing, &g.levels) == (&w.code, w.n, w.missing, &w.levels)
                && close(g.sum, w.sum)
                && close(g.sum_sq, w.sum_sq)
        })
        && got.indicators.len() == want.indicators.len()
        && got.indicators.iter().zip(&want.indicators).all(|(g, w)| {
            (&g.domain, &g.code, g.n, g.missing) == (&w.domain, &w.code, w.n, w.missing)
                && close(g.sum, w.sum)
                && close(g.sum_sq, w.sum_sq)
        });
    assert!(same, "aggregate under '{what}':\n{got:#?}\nvs\n{want:#?}");
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

/// The cases `both_backends!` instantiates, by what they exercise.
mod cases {
    pub use super::aggregates::*;
    pub use super::audit::*;
    pub use super::batches::*;
    pub use super::bulk::*;
    pub use super::compact::*;
    pub use super::lifecycle::*;
    pub use super::packed_answers::*;
    pub use super::results::*;
    pub use super::retakes::*;
    pub use super::sessions::*;
    pub use super::stats::*;
    pub use super::tokens::*;
}

mod aggregates;
mod audit;
mod batches;
mod bulk;
mod compact;
mod lifecycle;
mod packed_answers;
mod results;
mod retakes;
mod sessions;
mod stats;
mod tokens;

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
