//! `ikd bench`: the load generators run end to end with tiny workloads, so
//! their plumbing (a server in another process, `--target`, TLS, the request
//! file for h2load) cannot rot. The figures themselves are never asserted.

use ikd_proto::v1::{self as api, assessment_service_client::AssessmentServiceClient};
use ikd_tests::grpc::{Bearer, channel};
use ikd_tests::ikd_binary;
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use std::process::Command;

/// Workloads small enough for a test: every one still runs.
const TINY: [&str; 18] = [
    "--seconds",
    "0.3",
    "--sequential-calls",
    "5",
    "--connections",
    "2",
    "--concurrency",
    "4",
    "--stream-respondents",
    "200",
    "--streams",
    "1",
    "--sessions",
    "8",
    "--session-concurrency",
    "4",
    "--raw-inserts",
    "20",
];

/// Runs `ikd bench grpc` with `args` and returns its JSON report.
fn bench_grpc(args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let out = Command::new(ikd_binary())
        .args(["bench", "grpc"])
        .args(TINY)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("ikd runs");
    assert!(
        out.status.success(),
        "ikd bench grpc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stderr);
    assert!(table.contains("sequential Score p50"), "{table}");
    serde_json::from_slice(&out.stdout).expect("a JSON report on stdout")
}

/// Every workload completed calls and none failed; every target has a figure.
fn assert_complete(report: &serde_json::Value) {
    for workload in [
        "sequential_empty_rpc",
        "sequential_score",
        "empty_rpc",
        "score",
        "sessions",
    ] {
        let w = &report[workload];
        assert_eq!(w["errors"], 0, "{workload}: {w}");
        assert!(w["completed"].as_u64().unwrap() > 0, "{workload}: {w}");
        assert!(w["p50_ms"].as_f64().unwrap() > 0.0, "{workload}: {w}");
    }
    assert_eq!(report["sessions"]["completed"], 8);
    for stream in [
        "score_stream_respondents_per_second",
        "score_stream_packed_respondents_per_second",
    ] {
        assert!(report[stream].as_f64().unwrap() > 0.0, "{stream}");
    }
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 5);
    for t in targets {
        assert!(t["measured"].is_number(), "{t}");
        assert!(t["met"].is_boolean(), "{t}");
    }
}

#[test]
fn bench_grpc_measures_a_server_it_starts_over_tls() {
    let report = bench_grpc(&["--tls"], &[]);
    assert_complete(&report);
    assert_eq!(report["tls"], true);
    let server = report["server"].as_str().unwrap();
    assert!(server.starts_with("started: ikd serve (pid "), "{server}");
    assert!(server.contains("https://localhost:"), "{server}");
    assert_eq!(report["database"], "sqlite");
    assert!(report["session_writes_vs_raw_inserts"].as_f64().unwrap() > 0.0);
    // The server it started is gone once it has reported.
    let pid: i32 = server
        .trim_start_matches("started: ikd serve (pid ")
        .split(')')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(
        unsafe { libc::kill(pid, 0) },
        0,
        "ikd serve {pid} still runs"
    );
}

#[test]
fn bench_grpc_measures_a_running_target() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let database = format!("sqlite://{}", dir.path().join("ikd.sqlite3").display());
    let url = server.url();
    let report = bench_grpc(
        &["--target", &url, "--database-url", &database],
        &[("IKD_TOKEN", tokens::ADMIN)],
    );
    assert_complete(&report);
    assert_eq!(report["server"], format!("target: {url}"));
    assert_eq!(report["tls"], false);

    // Without a token, a target is refused before anything is measured.
    let out = Command::new(ikd_binary())
        .args(["bench", "grpc", "--target", &url])
        .env_remove("IKD_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--target needs --token"));
}

/// The body `ikd bench request` writes for h2load is one gRPC frame holding a
/// `Score` request that the server scores to a result with an index.
#[tokio::test(flavor = "multi_thread")]
async fn bench_request_writes_a_framed_score_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("score.bin");
    let run = || {
        Command::new(ikd_binary())
            .args(["bench", "request", "--out"])
            .arg(&path)
            .output()
            .unwrap()
    };
    assert!(run().status.success());
    let body = std::fs::read(&path).unwrap();
    assert_eq!(body[0], 0, "not compressed");
    let length = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
    assert_eq!(length, body.len() - 5);
    let request: api::ScoreRequest = prost::Message::decode(&body[5..]).unwrap();
    assert_eq!(request.instrument.as_ref().unwrap().id, "ikd-asn-2025");

    let server = TestServer::start(ServerOptions::new(&dir.path().join("data")));
    let mut client = AssessmentServiceClient::with_interceptor(
        channel(&server).await,
        Bearer::new(tokens::SERVICE),
    );
    let result = client
        .score(request)
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(result.index.is_some());

    // An existing file is never overwritten.
    let again = run();
    assert!(!again.status.success());
    assert_eq!(std::fs::read(&path).unwrap(), body);

    // A stream body: one frame per respondent, answers as a tab-joined line, scores only;
    // each scores to the same result as the same respondent's answers by item id.
    let lines = dir.path().join("stream.bin");
    let out = Command::new(ikd_binary())
        .args([
            "bench",
            "request",
            "--respondents",
            "3",
            "--answers",
            "line",
            "--out",
        ])
        .arg(&lines)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("ScoreStream"));
    let mut body = std::fs::read(&lines).unwrap();
    let mut requests = Vec::new();
    while !body.is_empty() {
        let length = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        let request: api::ScoreRequest = prost::Message::decode(&body[5..5 + length]).unwrap();
        body.drain(..5 + length);
        requests.push(request);
    }
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert!(request.answers.is_empty() && request.answer_values.is_empty());
        assert_eq!(request.answer_line.split('\t').count(), 60);
        assert_eq!(request.detail(), api::ResultDetail::Scores);
    }
    let mut stream = client
        .score_stream(tokio_stream::iter(requests.clone()))
        .await
        .unwrap()
        .into_inner();
    let items = instrument_items(&mut client).await;
    for request in requests {
        let response = stream.message().await.unwrap().unwrap();
        let Some(api::score_stream_response::Outcome::Result(lined)) = response.outcome else {
            panic!("{response:?}");
        };
        let named = api::ScoreRequest {
            answers: request
                .answer_line
                .split('\t')
                .zip(&items)
                .map(|(value, item_id)| api::Answer {
                    item_id: item_id.clone(),
                    value: value.to_owned(),
                })
                .collect(),
            answer_line: String::new(),
            ..request
        };
        let by_id = client.score(named).await.unwrap().into_inner().result;
        assert_eq!(Some(lined), by_id);
    }
}

/// The instrument's item ids in order.
async fn instrument_items(
    client: &mut AssessmentServiceClient<
        tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
    >,
) -> Vec<String> {
    let instrument = client
        .get_instrument(api::GetInstrumentRequest {
            instrument: ikd_tests::grpc::ikd_asn(),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    instrument.items.into_iter().map(|item| item.id).collect()
}

#[test]
fn the_adaptive_bench_takes_sessions_to_their_end_and_refuses_a_fixed_instrument() {
    let dir = tempfile::tempdir().unwrap();
    let file = ikd_tests::adaptive::adaptive_ikd_asn(
        dir.path(),
        "mfi",
        "se_target = 0.5\nmin_items_per_domain = 5",
    );
    let out = Command::new(ikd_binary())
        .args(["bench", "adaptive", "--sessions", "2", "--instrument"])
        .arg(&file)
        .output()
        .expect("ikd runs");
    assert!(
        out.status.success(),
        "ikd bench adaptive failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["sessions"], 2);
    assert_eq!(report["submit_session"]["count"], 2);
    let items = report["items_per_session_mean"].as_f64().unwrap();
    assert!((25.0..60.0).contains(&items), "{items}");
    // One NextItems per item given, and one more that says the test is over.
    assert_eq!(
        report["next_items"]["count"].as_f64().unwrap(),
        2.0 * (items + 1.0)
    );
    assert_eq!(report["next_items_first"]["count"], 2);

    let fixed = Command::new(ikd_binary())
        .args(["bench", "adaptive", "--instrument", "ikd-asn-2025"])
        .output()
        .expect("ikd runs");
    assert!(!fixed.status.success());
    assert!(
        String::from_utf8_lossy(&fixed.stderr).contains("is not adaptive"),
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
}
