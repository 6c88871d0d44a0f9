//! Disclosure attacks of issue 12 (defects 4, 5, 6 and the person report's
//! unit n), each replayed black box against a real `ikd serve`: a test passes
//! only when the attack no longer recovers a group smaller than the minimum
//! group size (5).

use ikd_proto::v1 as api;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_proto::v1::report_service_client::ReportServiceClient;
use ikd_tests::grpc::{authorized as req, example_answers, ikd_asn, submit_session};
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use tonic::Code;
use tonic::transport::Channel;

const MIN: u64 = 5;

/// A submitted session: its id, index and submission time (Unix ms).
struct Submitted {
    id: String,
    index: f64,
    at_ms: i64,
}

/// Starts, fills and submits a session in `unit` (service token).
async fn submit(channel: &Channel, k: usize, unit: &str) -> Submitted {
    let answers = example_answers();
    let (id, result) = submit_session(
        channel,
        tokens::SERVICE,
        &format!("person-{k}"),
        unit,
        &answers[k % answers.len()],
    )
    .await;
    let mut a = AssessmentServiceClient::new(channel.clone());
    let stored = a
        .get_result(req(
            tokens::SERVICE,
            api::GetResultRequest {
                session_id: id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let at = stored.submitted_at.unwrap();
    Submitted {
        id,
        index: result.result.unwrap().index.expect("an index"),
        at_ms: at.seconds * 1000 + i64::from(at.nanos) / 1_000_000,
    }
}

async fn connect(server: &TestServer) -> Channel {
    Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// `GetAggregate` of `prefix` (optionally in a window) as `token`.
async fn aggregate(
    channel: &Channel,
    token: &str,
    prefix: &str,
    window: (Option<i64>, Option<i64>),
) -> api::Aggregate {
    let ts = |ms: i64| prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    };
    AssessmentServiceClient::new(channel.clone())
        .get_aggregate(req(
            token,
            api::GetAggregateRequest {
                instrument: ikd_asn(),
                org_prefix: prefix.into(),
                from: window.0.map(ts),
                to: window.1.map(ts),
                language: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

/// A published figure: (n, index mean); `None` when suppressed.
fn published(a: &api::Aggregate) -> Option<(u64, f64)> {
    (!a.suppressed).then(|| (a.n, a.index.as_ref().unwrap().mean))
}

/// What `whole − parts` gives away: the count and mean index of the results
/// in the whole that are in none of the parts (every figure published).
fn difference(whole: (u64, f64), parts: &[(u64, f64)]) -> (u64, f64) {
    let n = whole.0 - parts.iter().map(|p| p.0).sum::<u64>();
    let sum = whole.0 as f64 * whole.1 - parts.iter().map(|p| p.0 as f64 * p.1).sum::<f64>();
    (n, if n > 0 { sum / n as f64 } else { f64::NAN })
}

async fn org_report(
    channel: &Channel,
    token: &str,
    prefix: &str,
) -> Result<api::Report, tonic::Status> {
    ReportServiceClient::new(channel.clone())
        .org_report(req(
            token,
            api::OrgReportRequest {
                instrument: ikd_asn(),
                org_prefix: prefix.into(),
                language: "en".into(),
            },
        ))
        .await
        .map(|r| r.into_inner())
}

/// The `(n, index mean)` of a scope in an organisation report's CSV, if printed.
fn csv_figure(csv: &str, scope: &str, unit: &str) -> Option<(u64, f64)> {
    let value = |measure: &str, domain: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{scope},{unit},{domain},,,{measure},")))
            .map(|l| l.rsplit(',').next().unwrap().to_owned())
    };
    let n = value("n", "")?.parse().ok()?;
    let mean = value("mean", "index")?.parse().ok()?;
    Some((n, mean))
}

/// Defect 4: `36.72/b` (1 result) is hidden and `36.72/a` hidden as its
/// complement, but `36.72/a/x` — all of `36.72/a` — must not be published,
/// nor printed by a report as a parent: `36.72 − 36.72/c − 36.72/a/x = b`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_units_cannot_undo_suppression() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = connect(&server).await;
    for k in 0..5 {
        submit(&channel, k, "36.72/a/x").await;
    }
    let target = submit(&channel, 5, "36.72/b").await;
    for k in 6..12 {
        submit(&channel, k, "36.72/c").await;
    }
    let get = |p: &'static str| aggregate(&channel, tokens::ANALYST, p, (None, None));
    let whole = published(&get("36.72").await);
    let c = published(&get("36.72/c").await);
    let x = published(&get("36.72/a/x").await);
    assert!(published(&get("36.72/b").await).is_none(), "b is small");
    // The fix: a/x goes with a; 36.72 and c stay published.
    assert!(x.is_none(), "36.72/a/x is all of hidden 36.72/a: {x:?}");
    assert!(whole.is_some() && c.is_some(), "{whole:?} {c:?}");
    if let (Some(whole), Some(c), Some(x)) = (whole, c, x) {
        let (n, mean) = difference(whole, &[c, x]);
        assert!(
            n == 0 || n >= MIN,
            "36.72 − c − a/x isolates {n} result(s), mean {mean:.4} (target {:.4})",
            target.index
        );
    }
    // The report of 36.72/a/x prints its parent 36.72/a only if 36.72/a is published.
    let a_published = published(&get("36.72/a").await);
    if let Ok(report) = org_report(&channel, tokens::ANALYST, "36.72/a/x").await {
        let parent = csv_figure(&report.csv, "parent", "36.72/a");
        assert!(
            a_published.is_some() || parent.is_none(),
            "the report prints hidden 36.72/a as a parent: {parent:?}"
        );
        if let (Some(whole), Some(c), Some(parent)) = (whole, c, parent) {
            let (n, _) = difference(whole, &[c, parent]);
            assert!(n == 0 || n >= MIN, "36.72 − c − parent isolates {n}");
        }
    }
    server.stop();
}

/// Defect 5 (the issue's 37.01/37.02, as 36.72/36.73: the test tokens are
/// limited to 36.72): an analyst limited to `36.72` must see `36.72` hidden in its
/// organisation report exactly when `GetAggregate` hides it; otherwise
/// `36 − 36.74 − 36.72` gives `36.73`'s single person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_report_suppression_does_not_depend_on_the_caller() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = connect(&server).await;
    for k in 0..5 {
        submit(&channel, k, "36.72/dinas").await;
    }
    let target = submit(&channel, 5, "36.73/dinas").await;
    for k in 6..16 {
        submit(&channel, k, "36.74/dinas").await;
    }
    let everyone = aggregate(&channel, tokens::ANALYST, "36.72", (None, None)).await;
    let limited = aggregate(&channel, tokens::ANALYST_CILEGON, "36.72", (None, None)).await;
    assert_eq!(everyone.suppressed, limited.suppressed, "aggregates agree");
    let report = org_report(&channel, tokens::ANALYST_CILEGON, "36.72").await;
    let reported = report
        .as_ref()
        .ok()
        .and_then(|r| csv_figure(&r.csv, "unit", "36.72"));
    assert!(
        everyone.suppressed,
        "36.72 is the complement of 36.73's one result"
    );
    assert_eq!(
        everyone.suppressed,
        reported.is_none(),
        "GetAggregate and the scoped OrgReport disagree on 36.72: {:?}",
        report.as_ref().map(|r| &r.csv)
    );
    if let Err(status) = &report {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    }
    let province = published(&aggregate(&channel, tokens::ANALYST, "36", (None, None)).await);
    let big = published(&aggregate(&channel, tokens::ANALYST, "36.74", (None, None)).await);
    if let (Some(province), Some(big), Some(unit)) = (province, big, reported) {
        let (n, mean) = difference(province, &[big, unit]);
        assert!(
            n == 0 || n >= MIN,
            "36 − 36.74 − 36.72 isolates {n}: mean {mean:.4}, target {:.4}",
            target.index
        );
    }
    server.stop();
}

/// Defect 6: the aggregate reader (`analyst`) gets no per-person rows and no
/// individual results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_get_no_individual_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = connect(&server).await;
    let one = submit(&channel, 0, "36.72/sendiri").await;
    let mut a = AssessmentServiceClient::new(channel.clone());
    let export = async {
        let mut rows = a
            .export_results(req(
                tokens::ANALYST,
                api::ExportResultsRequest {
                    instrument: ikd_asn(),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        let mut n = 0;
        while rows.message().await?.is_some() {
            n += 1;
        }
        Ok::<usize, tonic::Status>(n)
    }
    .await;
    assert_eq!(
        export.as_ref().map_err(|s| s.code()),
        Err(Code::PermissionDenied),
        "an analyst exported per-person rows: {export:?}"
    );
    let result = AssessmentServiceClient::new(channel.clone())
        .get_result(req(
            tokens::ANALYST,
            api::GetResultRequest {
                session_id: one.id.clone(),
                ..Default::default()
            },
        ))
        .await;
    assert_eq!(
        result.as_ref().map(drop).map_err(|s| s.code()),
        Err(Code::PermissionDenied),
        "an analyst read one person's result"
    );
    let report = ReportServiceClient::new(channel.clone())
        .person_report(req(
            tokens::ANALYST,
            api::PersonReportRequest {
                session_id: one.id.clone(),
                language: String::new(),
            },
        ))
        .await;
    assert_eq!(
        report.as_ref().map(drop).map_err(|s| s.code()),
        Err(Code::PermissionDenied),
        "an analyst read one person's report"
    );
    server.stop();
}

/// Defect 6: two aggregates whose windows differ by a millisecond around the
/// newest submission must not give that person's index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_time_windows_cannot_isolate_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = connect(&server).await;
    for k in 0..6 {
        submit(&channel, k, "36.72/dinas").await;
    }
    let newest = submit(&channel, 6, "36.72/dinas").await;
    let mut isolated = Vec::new();
    for (from, before, after) in [
        (None, newest.at_ms, newest.at_ms + 1),
        (None, newest.at_ms - 1, newest.at_ms + 1),
        (Some(0), newest.at_ms, newest.at_ms + 1000),
    ] {
        let a = aggregate(&channel, tokens::ANALYST, "36.72", (from, Some(before))).await;
        let b = aggregate(&channel, tokens::ANALYST, "36.72", (from, Some(after))).await;
        // Either window against the unwindowed figure, and the two against each other.
        let all = aggregate(&channel, tokens::ANALYST, "36.72", (None, None)).await;
        // Not by hiding everything: one day's results are one period, which
        // both windows cover whole.
        assert_eq!(
            (published(&a).map(|p| p.0), published(&b).map(|p| p.0)),
            (Some(7), Some(7))
        );
        for (small, large) in [(&a, &b), (&a, &all), (&b, &all)] {
            if let (Some(s), Some(l)) = (published(small), published(large))
                && l.0 > s.0
            {
                let (n, mean) = difference(l, &[s]);
                if n < MIN {
                    isolated.push(format!(
                        "windows to {before}/{after}: {n} result(s), mean {mean:.4}"
                    ));
                }
            }
        }
    }
    assert!(
        isolated.is_empty(),
        "the newest person's index is {:.4}; windows isolated: {isolated:?}",
        newest.index
    );
    server.stop();
}

/// Low: a person report in a unit below the minimum group size tells neither
/// the unit's n nor its mean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn person_report_hides_a_small_units_n() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = connect(&server).await;
    let mut small = Vec::new();
    for k in 0..3 {
        small.push(submit(&channel, k, "36.72/kecil").await);
    }
    let report = ReportServiceClient::new(channel.clone())
        .person_report(req(
            tokens::SERVICE,
            api::PersonReportRequest {
                session_id: small[0].id.clone(),
                language: "en".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !report.html.contains(r#"data-series="unit""#),
        "a unit mean"
    );
    assert!(
        !report.html.contains("computed from 3 results"),
        "the unit's n in the page"
    );
    assert!(
        report.results <= 1,
        "the response counts the unit's results: {}",
        report.results
    );
    server.stop();
}

/// Defect 6, the other half: a data steward may export per-person rows and
/// read a person's result and report — and every export is in the audit
/// log, with the token's name and structured fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stewards_export_and_every_export_is_audited() {
    use ikd_proto::v1::admin_service_client::AdminServiceClient;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = connect(&server).await;
    let first = submit(&channel, 0, "36.72/sendiri").await;
    submit(&channel, 1, "64.72/lain").await;
    let mut a = AssessmentServiceClient::new(channel.clone());
    let mut rows = a
        .export_results(req(
            tokens::STEWARD,
            api::ExportResultsRequest {
                instrument: ikd_asn(),
                org_prefix: "36.72".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut exported = Vec::new();
    while let Some(row) = rows.message().await.unwrap() {
        exported.push(row);
    }
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].session_id, first.id);
    assert_eq!(exported[0].respondent_pseudonym.len(), 64);
    for rpc in ["GetResult", "PersonReport"] {
        let ok = match rpc {
            "GetResult" => a
                .get_result(req(
                    tokens::STEWARD,
                    api::GetResultRequest {
                        session_id: first.id.clone(),
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
            _ => ReportServiceClient::new(channel.clone())
                .person_report(req(
                    tokens::STEWARD,
                    api::PersonReportRequest {
                        session_id: first.id.clone(),
                        language: String::new(),
                    },
                ))
                .await
                .map(drop),
        };
        assert!(ok.is_ok(), "{rpc}: {ok:?}");
    }
    // A steward limited to 36.72 exports nothing outside it.
    let denied = a
        .export_results(req(
            tokens::STEWARD_CILEGON,
            api::ExportResultsRequest {
                instrument: ikd_asn(),
                org_prefix: "64.72".into(),
                ..Default::default()
            },
        ))
        .await
        .map(drop)
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // Stewards read persons, not aggregates: the roles are separate.
    let aggregate = a
        .get_aggregate(req(
            tokens::STEWARD,
            api::GetAggregateRequest {
                instrument: ikd_asn(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(aggregate.code(), Code::PermissionDenied);

    // The audit log: the export started and finished, with its rows.
    let entries = AdminServiceClient::new(channel.clone())
        .list_audit_log(req(tokens::ADMIN, api::ListAuditLogRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let finished = entries
        .iter()
        .find(|e| e.action == "export.finished")
        .unwrap_or_else(|| panic!("no export.finished in {entries:?}"));
    assert!(
        entries
            .iter()
            .any(|e| e.action == "export.started" && e.actor == "steward")
    );
    assert_eq!(finished.actor, "steward");
    assert_eq!(finished.target, "ikd-asn-2025");
    let detail: serde_json::Value = serde_json::from_str(&finished.detail_json).unwrap();
    assert_eq!(detail["prefix"], "36.72");
    assert_eq!(detail["instrument"], "ikd-asn-2025");
    assert_eq!(detail["rows"], 1);
    assert_eq!(detail["complete"], true);
    assert!(
        !finished.detail_json.contains(tokens::STEWARD),
        "no token in the log"
    );
    server.stop();
}

/// Found while fixing defect 5: an organisation report's `results` counted
/// the caller's whole scope, so an analyst limited to a hidden `36.72` learnt
/// its n from the report of a published sub-unit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_report_results_do_not_count_a_hidden_scope() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = connect(&server).await;
    for k in 0..5 {
        submit(&channel, k, "36.72/dinas").await;
        submit(&channel, 10 + k, "36.72/lain").await;
    }
    submit(&channel, 20, "36.73/dinas").await;
    for k in 30..40 {
        submit(&channel, k, "36.74/dinas").await;
    }
    let scope = aggregate(&channel, tokens::ANALYST_CILEGON, "36.72", (None, None)).await;
    assert!(scope.suppressed, "36.72 is hidden with 36.73's one result");
    let mut told = Vec::new();
    for unit in ["36.72/dinas", "36.72/lain"] {
        let shown =
            published(&aggregate(&channel, tokens::ANALYST_CILEGON, unit, (None, None)).await);
        if let Ok(report) = org_report(&channel, tokens::ANALYST_CILEGON, unit).await {
            assert!(
                shown.is_some(),
                "{unit}: reported but hidden in GetAggregate"
            );
            if report.results != shown.unwrap().0 {
                told.push(format!("{unit}: results {}", report.results));
            }
        }
    }
    assert!(
        told.is_empty(),
        "a report counts more than its unit: {told:?}"
    );
    server.stop();
}
