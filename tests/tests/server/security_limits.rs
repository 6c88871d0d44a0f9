//! Size limits on what the server echoes back (issue 12, defect 9): a request
//! under the size limit must not produce an error larger than a gRPC client
//! accepts. grpc C-core clients (Python, C++) refuse response metadata over
//! 16 KiB by default and answer `RESOURCE_EXHAUSTED` instead of the server's
//! status, so every status here must stay well under 8 KiB on the wire.
//!
//! Checked twice: from the status a tonic client decodes (the wire size of
//! `grpc-status-details-bin` + `grpc-message` recomputed from it), and by an
//! independent grpc C-core client (Python `grpcio`, which `scripts/test` installs) told
//! to refuse metadata over 8 KiB.

use ikd_proto::v1 as api;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_tests::grpc::{authorized, channel, ikd_asn};
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use prost::Message;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// What the encoded status may take on the wire, in the worst case.
const WIRE_BUDGET: usize = 8 * 1024;
/// The server's default request size limit (`limits.max_request_bytes`).
const REQUEST_LIMIT: usize = 1 << 20;

fn req<T>(message: T) -> tonic::Request<T> {
    authorized(tokens::SERVICE, message)
}

async fn client(server: &TestServer) -> AssessmentServiceClient<Channel> {
    AssessmentServiceClient::new(channel(server).await)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20)
}

fn answer(item: &str, value: &str) -> api::Answer {
    api::Answer {
        item_id: item.into(),
        value: value.into(),
    }
}

fn score_request(answers: Vec<api::Answer>) -> api::ScoreRequest {
    api::ScoreRequest {
        instrument: ikd_asn(),
        respondent_id: "r".into(),
        org_unit: "36.72".into(),
        answers,
        ..Default::default()
    }
}

/// Bytes `grpc-status-details-bin` and `grpc-message` take on the wire:
/// the details base64-encoded, the message percent-encoded (every byte
/// outside printable ASCII, and `%`, as three bytes).
fn wire_size(status: &Status) -> usize {
    let details = status.details().len().div_ceil(3) * 4;
    let message: usize = status
        .message()
        .bytes()
        .map(|b| {
            if (b' '..=b'~').contains(&b) && b != b'%' {
                1
            } else {
                3
            }
        })
        .sum();
    details + message
}

/// The attacks: each a request under the size limit with as many or as
/// long violations as fit.
async fn attacks(
    client: &mut AssessmentServiceClient<Channel>,
) -> Vec<(&'static str, api::ScoreRequest)> {
    let instrument = client
        .get_instrument(req(api::GetInstrumentRequest {
            instrument: ikd_asn(),
            language: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    let items: Vec<String> = instrument.items.iter().map(|i| i.id.clone()).collect();
    vec![
        (
            "100,000 answers to one item",
            score_request((0..100_000).map(|_| answer("LD01", "")).collect()),
        ),
        (
            "100,000 unknown items",
            score_request((0..100_000).map(|k| answer(&format!("Z{k}"), "")).collect()),
        ),
        (
            "unknown item ids of 64 bytes",
            score_request(
                (0..10_000)
                    .map(|k| answer(&format!("{k:0>64}"), ""))
                    .collect(),
            ),
        ),
        (
            "unknown item ids of 4 KiB",
            score_request(
                (0..250)
                    .map(|k| answer(&format!("{k:é>2048}"), ""))
                    .collect(),
            ),
        ),
        (
            "every item with a 4 KiB invalid answer",
            score_request(items.iter().map(|i| answer(i, &"9".repeat(4096))).collect()),
        ),
    ]
}

/// Many violations come back as `INVALID_ARGUMENT` with at most the first
/// few listed, each cut short, and the rest counted; the whole status stays
/// under 8 KiB on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_or_long_violations_give_a_small_status_that_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let mut client = client(&server).await;
    for (name, request) in attacks(&mut client).await {
        let size = request.encoded_len();
        assert!(
            size < REQUEST_LIMIT,
            "{name}: {size} bytes is under the limit"
        );
        let status = client.score(req(request)).await.unwrap_err();
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{name}: {}",
            status.message()
        );
        let wire = wire_size(&status);
        assert!(wire < WIRE_BUDGET, "{name}: {wire} bytes on the wire");
        let violations = status
            .get_details_bad_request()
            .map(|b| b.field_violations)
            .unwrap_or_default();
        eprintln!(
            "{name}: {size} request bytes → {wire} status bytes on the wire, {} violations listed",
            violations.len()
        );
        assert!(
            !violations.is_empty() && violations.len() <= 21,
            "{name}: {} violations",
            violations.len()
        );
        for v in &violations {
            assert!(
                v.field.len() <= 128,
                "{name}: field of {} bytes",
                v.field.len()
            );
            assert!(
                v.description.len() <= 320,
                "{name}: description of {} bytes",
                v.description.len()
            );
        }
        // The first answer to an item is valid; the other 99,999 are not.
        let counted = match name {
            "100,000 answers to one item" => Some("99,999 invalid fields"),
            "100,000 unknown items" => Some("100,000 invalid fields"),
            _ => None,
        };
        if let Some(counted) = counted {
            assert!(
                status.message().ends_with(counted),
                "{name}: the message counts every violation: {}",
                status.message()
            );
            let last = violations.last().unwrap();
            assert!(
                last.description.contains("more"),
                "{name}: the last violation says how many more: {last:?}"
            );
        }
    }
    // ScoreStream answers a bad request with a Problem under the same caps.
    let stream = tokio_stream::iter(vec![score_request(
        (0..100_000).map(|_| answer("LD01", "")).collect(),
    )]);
    let mut responses = client.score_stream(req(stream)).await.unwrap().into_inner();
    let response = responses.message().await.unwrap().expect("one response");
    let Some(api::score_stream_response::Outcome::Problem(problem)) = response.outcome else {
        panic!("a problem: {response:?}");
    };
    assert_eq!(problem.code, Code::InvalidArgument as i32, "{problem:?}");
    assert!(
        problem.message.ends_with("99,999 invalid fields"),
        "{}",
        problem.message
    );
    assert_eq!(problem.violations.len(), 21, "{problem:?}");
    // The same caps hold on the session path (SaveAnswers).
    let session = client
        .start_session(req(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: "p1".into(),
            org_unit: "36.72".into(),
        }))
        .await
        .unwrap()
        .into_inner()
        .session_id;
    let status = client
        .save_answers(req(api::SaveAnswersRequest {
            session_id: session,
            request_id: "q1".into(),
            answers: (0..100_000).map(|_| answer("LD01", "")).collect(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
    assert!(wire_size(&status) < WIRE_BUDGET, "{}", wire_size(&status));
    server.stop();
}

/// Names a request gives (item id, model, language, instrument, ids, org
/// unit) are length-checked before they are used or echoed: a 100 KB name
/// is refused naming the field, and the status stays small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_names_are_refused_without_being_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let mut client = client(&server).await;
    let long = "m".repeat(100_000);
    let mut cases: Vec<(&str, api::ScoreRequest)> = Vec::new();
    cases.push(("answers", score_request(vec![answer(&long, "1")])));
    let mut r = score_request(vec![answer("LD01", "4")]);
    r.model = long.clone();
    cases.push(("model", r));
    let mut r = score_request(vec![answer("LD01", "4")]);
    r.language = long.clone();
    cases.push(("language", r));
    let mut r = score_request(vec![answer("LD01", "4")]);
    r.instrument.as_mut().unwrap().id = long.clone();
    cases.push(("instrument", r));
    let mut r = score_request(vec![answer("LD01", "4")]);
    r.instrument.as_mut().unwrap().version = long.clone();
    cases.push(("instrument", r));
    let mut r = score_request(vec![answer("LD01", "4")]);
    r.respondent_id = long.clone();
    cases.push(("respondent_id", r));
    let mut r = score_request(vec![answer("LD01", "4")]);
    r.org_unit = long.clone();
    cases.push(("org_unit", r));
    for (field, request) in cases {
        let status = client.score(req(request)).await.unwrap_err();
        // An instrument id of any length is looked up (NOT_FOUND); the rest are invalid.
        assert!(
            matches!(status.code(), Code::InvalidArgument | Code::NotFound),
            "{field}: {status:?}"
        );
        assert!(
            status.message().contains(field),
            "{field}: the message names the field: {}",
            status.message()
        );
        assert!(
            wire_size(&status) < 1024,
            "{field}: {} bytes echoed",
            wire_size(&status)
        );
    }
    // An item id longer than any instrument allows is refused as such,
    // even when it is well under the request limit.
    let status = client
        .score(req(score_request(vec![answer(&"a".repeat(65), "1")])))
        .await
        .unwrap_err();
    let violations = status.get_details_bad_request().unwrap().field_violations;
    assert!(
        violations[0].description.contains("longer than 64"),
        "{violations:?}"
    );
    // Session and request ids on the session path.
    let status = client
        .save_answers(req(api::SaveAnswersRequest {
            session_id: long.clone(),
            request_id: "q".into(),
            answers: vec![],
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(wire_size(&status) < 1024, "{}", wire_size(&status));
    let status = client
        .start_session(req(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: long.clone(),
            org_unit: long.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(wire_size(&status) < 1024, "{}", wire_size(&status));
    server.stop();
}

/// An independent client: Python's grpcio (grpc C-core) with its metadata
/// limit set to 8 KiB sends the attacks as raw bytes and must see the
/// server's `INVALID_ARGUMENT`, not `RESOURCE_EXHAUSTED` for metadata it
/// refused. Needs `grpcio` for `python3` (`scripts/test` installs it); without
/// it the test fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_core_client_with_an_8_kib_metadata_limit_sees_invalid_argument() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let mut client = client(&server).await;
    const CLIENT: &str = r#"
import json, sys
import grpc
target, token, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = [
    ("grpc.max_metadata_size", limit),
    ("grpc.absolute_max_metadata_size", limit),
    ("grpc.max_send_message_length", 8 << 20),
]
channel = grpc.insecure_channel(target, options=options)
score = channel.unary_unary("/ikd.v1.AssessmentService/Score")
for path in sys.argv[4:]:
    try:
        score(open(path, "rb").read(), metadata=[("authorization", "Bearer " + token)], timeout=60)
        print(json.dumps({"code": "OK"}))
    except grpc.RpcError as e:
        trailers = dict(e.trailing_metadata() or ())
        print(json.dumps({
            "code": e.code().name,
            "details": len(trailers.get("grpc-status-details-bin", b"")),
            "message": (e.details() or "")[:200],
        }))
"#;
    let mut files = Vec::new();
    let mut names = Vec::new();
    for (k, (name, request)) in attacks(&mut client).await.into_iter().enumerate() {
        let path = dir.path().join(format!("attack-{k}.bin"));
        std::fs::write(&path, request.encode_to_vec()).unwrap();
        files.push(path);
        names.push(name);
    }
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(CLIENT)
        .arg(server.addr.to_string())
        .arg(tokens::SERVICE)
        .arg(WIRE_BUDGET.to_string())
        .args(&files)
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the grpcio client failed (is grpcio installed? python3 -m pip install grpcio):\n{stderr}"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), names.len(), "{stderr}");
    for (name, line) in names.iter().zip(&lines) {
        assert_eq!(line["code"], "INVALID_ARGUMENT", "{name}: {line}");
    }
    server.stop();
}
