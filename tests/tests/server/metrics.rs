//! The Prometheus metrics listener of `ikd serve`: scraped without a token,
//! parsed as OpenMetrics text (`ikd_tests::metrics`, a strict parser), and
//! the numbers compared with the calls the test made; off when configured off.

use ikd_proto::v1::{self as api, assessment_service_client::AssessmentServiceClient};
use ikd_tests::grpc::{Bearer, channel, example_answers, ikd_asn, submit_session};
use ikd_tests::metrics::{Exposition, parse};
use ikd_tests::server::{ServerOptions, TestServer, serve_fails_before_creating_anything, tokens};
use std::net::SocketAddr;
use tonic::Code;

const SCORE: &str = "ikd.v1.AssessmentService/Score";
const LIST: &str = "ikd.v1.AssessmentService/ListInstruments";

/// `GET /metrics` (no token), checked as OpenMetrics and parsed.
fn scrape(addr: SocketAddr) -> Exposition {
    let response = ikd_tests::http::get(addr, "/metrics");
    assert_eq!(response.status, 200, "{}", response.body);
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/openmetrics-text; version=1.0.0"),
        "{content_type}"
    );
    parse(&response.body).unwrap_or_else(|e| panic!("{e}\n{}", response.body))
}

fn score_request(answers: Vec<api::Answer>) -> api::ScoreRequest {
    api::ScoreRequest {
        instrument: ikd_asn(),
        respondent_id: "R-metrics".into(),
        org_unit: "36.72/diskominfo".into(),
        answers,
        ..Default::default()
    }
}

/// `_count` of a histogram series.
fn count(e: &Exposition, histogram: &str, labels: &[(&str, &str)]) -> Option<f64> {
    e.value(&format!("{histogram}_count"), labels)
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_and_histograms_match_the_calls_made() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let metrics = server.metrics_addr();
    assert!(server.listening_ports().contains(&metrics.port()));

    // Before any call: nothing counted (a family shows once it has a series).
    let before = scrape(metrics);
    assert!(before.samples("ikd_grpc_requests_total").is_empty());
    assert_eq!(before.value("ikd_sessions_started_total", &[]), Some(0.0));
    assert_eq!(before.value("ikd_sessions_submitted_total", &[]), Some(0.0));
    assert_eq!(before.family("ikd_build").unwrap().kind, "info");

    let channel = channel(&server).await;
    let mut client =
        AssessmentServiceClient::with_interceptor(channel.clone(), Bearer::new(tokens::SERVICE));
    let answers = example_answers();
    for respondent in answers.iter().take(3) {
        client
            .score(score_request(respondent.clone()))
            .await
            .expect("a valid Score");
    }
    // One failing Score: an answer its kind refuses (after the plugins looked).
    let mut bad = answers[0].clone();
    bad[0].value = "9".into();
    let refused = client.score(score_request(bad)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    // One call without a token: refused by the gate, counted all the same.
    let unauthenticated = AssessmentServiceClient::new(channel.clone())
        .list_instruments(api::ListInstrumentsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    // A session: started, one save, submitted.
    submit_session(
        &channel,
        tokens::SERVICE,
        "R-metrics-session",
        "36.72/diskominfo",
        &answers[1],
    )
    .await;
    // The web app: an unknown link.
    assert_eq!(
        ikd_tests::http::get(server.web_addr(), "/take/not-a-token").status,
        404
    );

    let e = scrape(metrics);
    for (family, kind) in [
        ("ikd_grpc_requests", "counter"),
        ("ikd_grpc_request_duration_seconds", "histogram"),
        ("ikd_store_write_duration_seconds", "histogram"),
        ("ikd_plugin_call_duration_seconds", "histogram"),
        ("ikd_sessions_started", "counter"),
        ("ikd_sessions_submitted", "counter"),
        ("ikd_web_requests", "counter"),
        ("ikd_web_request_duration_seconds", "histogram"),
    ] {
        let declared = e
            .family(family)
            .unwrap_or_else(|| panic!("no family {family}"));
        assert_eq!(declared.kind, kind, "{family}");
        assert!(declared.help.is_some(), "{family} has no HELP");
        if kind == "histogram" {
            assert_eq!(declared.unit.as_deref(), Some("seconds"), "{family}");
        }
    }
    let requests =
        |rpc: &str, code: &str| e.value("ikd_grpc_requests_total", &[("rpc", rpc), ("code", code)]);
    assert_eq!(requests(SCORE, "OK"), Some(3.0));
    assert_eq!(requests(SCORE, "INVALID_ARGUMENT"), Some(1.0));
    assert_eq!(requests(LIST, "UNAUTHENTICATED"), Some(1.0));
    for rpc in ["StartSession", "SaveAnswers", "SubmitSession"] {
        let rpc = format!("ikd.v1.AssessmentService/{rpc}");
        assert_eq!(requests(&rpc, "OK"), Some(1.0), "{rpc}");
    }
    // Nothing else was called (by code or method).
    let total: f64 = e
        .samples("ikd_grpc_requests_total")
        .iter()
        .map(|s| s.value)
        .sum();
    assert_eq!(total, 8.0, "{:?}", e.samples("ikd_grpc_requests_total"));

    let latency = "ikd_grpc_request_duration_seconds";
    assert_eq!(count(&e, latency, &[("rpc", SCORE)]), Some(4.0));
    assert_eq!(count(&e, latency, &[("rpc", LIST)]), Some(1.0));
    let score_sum = e
        .value(&format!("{latency}_sum"), &[("rpc", SCORE)])
        .unwrap();
    assert!(score_sum > 0.0 && score_sum < 60.0, "{score_sum}");
    let bucket_bounds = e
        .samples(&format!("{latency}_bucket"))
        .iter()
        .filter(|s| s.labels["rpc"] == SCORE)
        .count();
    assert!(bucket_bounds > 5, "{bucket_bounds} buckets");

    assert_eq!(e.value("ikd_sessions_started_total", &[]), Some(1.0));
    assert_eq!(e.value("ikd_sessions_submitted_total", &[]), Some(1.0));
    let store = "ikd_store_write_duration_seconds";
    for operation in ["start_session", "save_answers", "submit"] {
        assert_eq!(
            count(&e, store, &[("operation", operation)]),
            Some(1.0),
            "{operation}"
        );
    }
    let plugins = "ikd_plugin_call_duration_seconds";
    // Four Score calls and the submit score; the save checks the answers.
    assert_eq!(
        count(
            &e,
            plugins,
            &[("instrument", "ikd-asn-2025"), ("call", "score")]
        ),
        Some(5.0)
    );
    assert_eq!(
        count(
            &e,
            plugins,
            &[("instrument", "ikd-asn-2025"), ("call", "check_answers")]
        ),
        Some(1.0)
    );
    assert_eq!(
        e.value(
            "ikd_web_requests_total",
            &[("route", "/take/{token}"), ("status", "404")]
        ),
        Some(1.0)
    );
    assert_eq!(e.samples("ikd_build_info").len(), 1);

    // Counters only grow, by exactly what was done since.
    client
        .score(score_request(answers[3].clone()))
        .await
        .expect("a valid Score");
    let after = scrape(metrics);
    assert_eq!(
        after.value("ikd_grpc_requests_total", &[("rpc", SCORE), ("code", "OK")]),
        Some(4.0)
    );
    assert_eq!(count(&after, latency, &[("rpc", SCORE)]), Some(5.0));

    // Only /metrics is served there.
    assert_eq!(ikd_tests::http::get(metrics, "/").status, 404);
    assert_eq!(ikd_tests::http::get(metrics, "/metrics/x").status, 404);
}

#[test]
fn the_metrics_listener_is_off_when_configured_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.env.push(("IKD_METRICS_ADDR".into(), "off".into()));
    let server = TestServer::start(options);
    let expected = [server.addr.port(), server.web_addr().port()];
    assert_eq!(
        server.listening_ports(),
        expected.into_iter().collect(),
        "the server listens on its gRPC and web ports only"
    );

    // The same server with metrics on listens on one port more.
    drop(server);
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let expected = [
        server.addr.port(),
        server.web_addr().port(),
        server.metrics_addr().port(),
    ];
    assert_eq!(server.listening_ports(), expected.into_iter().collect());
}

#[test]
fn a_busy_metrics_port_leaves_no_token_and_no_directory() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let stderr = serve_fails_before_creating_anything(&[
        "--addr",
        "127.0.0.1:0",
        "--web-addr",
        "off",
        "--metrics-addr",
        &addr,
    ]);
    assert!(
        stderr.contains(&format!("cannot listen on {addr} (metrics)")),
        "{stderr}"
    );
    drop(busy);
}
