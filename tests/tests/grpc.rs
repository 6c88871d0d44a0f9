//! The gRPC service end to end: a real `ikd serve` process on a loopback port,
//! called through tonic clients generated from `proto/ikd/v1`.

use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_proto::v1::{self as api, admin_service_client::AdminServiceClient};
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::workspace;
use std::collections::HashMap;
use tonic::Code;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// Adds `authorization: Bearer <token>` (or nothing).
#[derive(Clone)]
struct Bearer(Option<String>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        Ok(request)
    }
}

type Assessment = AssessmentServiceClient<InterceptedService<Channel, Bearer>>;
type Admin = AdminServiceClient<InterceptedService<Channel, Bearer>>;

async fn channel(server: &TestServer) -> Channel {
    Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .expect("connect to ikd serve")
}

async fn assessment(server: &TestServer, token: Option<&str>) -> Assessment {
    AssessmentServiceClient::with_interceptor(
        channel(server).await,
        Bearer(token.map(str::to_owned)),
    )
}

async fn admin(server: &TestServer, token: Option<&str>) -> Admin {
    AdminServiceClient::with_interceptor(channel(server).await, Bearer(token.map(str::to_owned)))
}

fn start(dir: &tempfile::TempDir) -> TestServer {
    TestServer::start(ServerOptions::new(dir.path()))
}

fn ikd_asn() -> Option<api::InstrumentRef> {
    Some(api::InstrumentRef {
        id: "ikd-asn-2025".into(),
        version: String::new(),
    })
}

/// One respondent of the instrument's example answers.
#[derive(Clone, Debug)]
struct Example {
    id: String,
    org_unit: String,
    answers: Vec<api::Answer>,
    duration: Option<f64>,
}

fn examples() -> Vec<Example> {
    let path = workspace().join("instruments/ikd-asn-2025/examples/answers.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let mut e = Example {
                id: r[0].to_owned(),
                org_unit: r[1].to_owned(),
                answers: Vec::new(),
                duration: None,
            };
            for (name, value) in header.iter().zip(r.iter()).skip(2) {
                if name == "duration_seconds" {
                    e.duration = value.parse().ok();
                } else {
                    e.answers.push(api::Answer {
                        item_id: name.clone(),
                        value: value.to_owned(),
                    });
                }
            }
            e
        })
        .collect()
}

/// The committed expected results: respondent → column → value.
fn expected() -> HashMap<String, HashMap<String, String>> {
    let path = workspace().join("instruments/ikd-asn-2025/examples/expected-results.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let row = header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect();
            (r[0].to_owned(), row)
        })
        .collect()
}

fn score_request(e: &Example) -> api::ScoreRequest {
    api::ScoreRequest {
        instrument: ikd_asn(),
        respondent_id: e.id.clone(),
        org_unit: e.org_unit.clone(),
        answers: e.answers.clone(),
        duration_seconds: e.duration,
        ..Default::default()
    }
}

/// The result agrees with the committed expected row (4 decimals).
fn assert_matches_expected(result: &api::Result, row: &HashMap<String, String>) {
    let close = |got: Option<f64>, want: &str, what: &str| match (got, want) {
        (None, "") => {}
        (Some(g), w) if !w.is_empty() => {
            let w: f64 = w.parse().unwrap();
            assert!((g - w).abs() < 6e-4, "{what}: got {g}, expected {w}");
        }
        (g, w) => panic!("{what}: got {g:?}, expected '{w}'"),
    };
    close(result.index, &row["index"], "index");
    assert_eq!(
        result.level.as_ref().map(|l| l.code.as_str()).unwrap_or(""),
        row["level"]
    );
    for d in &result.domains {
        close(d.score, &row[&format!("{}.score", d.code)], &d.code);
        assert_eq!(
            d.level.as_ref().map(|l| l.code.as_str()).unwrap_or(""),
            row[&format!("{}.level", d.code)]
        );
        assert_eq!(d.answered.to_string(), row[&format!("{}.answered", d.code)]);
    }
    let flags = result.flags.join("|");
    assert_eq!(flags, row["flags"].replace(';', "|"));
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_reflection_are_open_and_list_every_service() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel(&server).await);
    for service in [
        "",
        "ikd.v1.AssessmentService",
        "ikd.v1.AdminService",
        "ikd.v1.ReportService",
    ] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service}"
        );
    }

    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut reflection = ServerReflectionClient::new(channel(&server).await);
    let ask = |m: MessageRequest| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(m),
    };
    let requests = vec![
        ask(MessageRequest::ListServices(String::new())),
        ask(MessageRequest::FileContainingSymbol(
            "ikd.v1.AssessmentService".into(),
        )),
        ask(MessageRequest::FileContainingSymbol(
            "google.rpc.BadRequest".into(),
        )),
    ];
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.message().await.unwrap().unwrap().message_response
    else {
        panic!("no service list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for wanted in [
        "ikd.v1.AssessmentService",
        "ikd.v1.AdminService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} not in {names:?}"
        );
    }
    for _ in 0..2 {
        let response = responses.message().await.unwrap().unwrap().message_response;
        assert!(
            matches!(response, Some(MessageResponse::FileDescriptorResponse(ref f)) if !f.file_descriptor_proto.is_empty()),
            "{response:?}"
        );
    }

    // The older v1alpha protocol, used by many tools, answers too.
    use tonic_reflection::pb::v1alpha as alpha;
    let mut old =
        alpha::server_reflection_client::ServerReflectionClient::new(channel(&server).await);
    let mut replies = old
        .server_reflection_info(tokio_stream::iter(vec![alpha::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(
                alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
            ),
        }]))
        .await
        .unwrap()
        .into_inner();
    assert!(replies.message().await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn instruments_in_both_languages_and_tokens_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let list = client
        .list_instruments(api::ListInstrumentsRequest {})
        .await
        .unwrap()
        .into_inner();
    let ikd = list
        .instruments
        .iter()
        .find(|i| i.id == "ikd-asn-2025")
        .unwrap();
    assert_eq!((ikd.domains, ikd.items), (5, 60));
    assert_eq!(ikd.sha256.len(), 64);

    let get = |lang: &str| api::GetInstrumentRequest {
        instrument: ikd_asn(),
        language: lang.into(),
    };
    let id = client.get_instrument(get("id")).await.unwrap().into_inner();
    let en = client.get_instrument(get("en")).await.unwrap().into_inner();
    assert_eq!(id.items.len(), 60);
    assert_eq!(id.domains[0].name, "Literasi Digital");
    assert_ne!(
        id.items[0].text, en.items[0].text,
        "item text is translated"
    );
    assert_ne!(id.domains[0].name, en.domains[0].name);
    assert_eq!(
        client.get_instrument(get("fr")).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let unknown = client
        .get_instrument(api::GetInstrumentRequest {
            instrument: Some(api::InstrumentRef {
                id: "no-such-instrument".into(),
                version: String::new(),
            }),
            language: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().contains("no-such-instrument"));

    for token in [
        None,
        Some("not-a-known-token-at-all"),
        Some(tokens::EXPIRED),
    ] {
        let mut client = assessment(&server, token).await;
        let err = client
            .list_instruments(api::ListInstrumentsRequest {})
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{token:?}: {err:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn score_agrees_with_the_committed_expected_results() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let expected = expected();
    let examples = examples();
    for e in &examples {
        let result = client
            .score(score_request(e))
            .await
            .unwrap()
            .into_inner()
            .result
            .unwrap();
        assert_matches_expected(&result, &expected[&e.id]);
    }
    // Feedback and provenance come with a full result.
    let result = client
        .score(score_request(&examples[0]))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    let feedback = result.domains[0].feedback.as_ref().unwrap();
    assert!(!feedback.summary.is_empty() && !feedback.advice.is_empty());
    let provenance = result.provenance.unwrap();
    assert_eq!(provenance.instrument_id, "ikd-asn-2025");
    assert_eq!(provenance.model.unwrap().name, "weighted-index");
    assert_eq!(provenance.plugins.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_answers_come_back_as_field_violations() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let mut request = score_request(&examples()[0]);
    // An out-of-range Likert answer, an unknown option and an unknown item.
    request.answers[0].value = "9".into();
    let ld04 = request
        .answers
        .iter_mut()
        .find(|a| a.item_id == "LD04")
        .unwrap();
    ld04.value = "zz".into();
    let status = client.score(request.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("a BadRequest detail")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["answers[LD01]", "answers[LD04]"]);

    request.answers.push(api::Answer {
        item_id: "NOPE01".into(),
        value: "1".into(),
    });
    let status = client.score(request).await.unwrap_err();
    let violations = status.get_details_bad_request().unwrap().field_violations;
    assert_eq!(violations[0].field, "answers[NOPE01]");
    assert!(violations[0].description.contains("no such item"));
}

#[tokio::test(flavor = "multi_thread")]
async fn score_stream_answers_in_order_and_isolates_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let expected = expected();
    let examples = examples();
    // Every example ten times over, with one broken request in the middle.
    let mut requests: Vec<api::ScoreRequest> = (0..10)
        .flat_map(|_| examples.iter().map(score_request))
        .collect();
    let broken = 100;
    requests[broken].answers[0].value = "not-a-number".into();
    let n = requests.len();
    let mut stream = client
        .score_stream(tokio_stream::iter(requests.clone()))
        .await
        .unwrap()
        .into_inner();
    let mut seen = 0;
    while let Some(response) = stream.message().await.unwrap() {
        assert_eq!(response.sequence, seen as u64);
        assert_eq!(response.respondent_id, requests[seen].respondent_id);
        match response.outcome.unwrap() {
            api::score_stream_response::Outcome::Result(r) => {
                assert_ne!(seen, broken);
                assert_matches_expected(&r, &expected[&response.respondent_id]);
            }
            api::score_stream_response::Outcome::Problem(p) => {
                assert_eq!(seen, broken);
                assert_eq!(p.code, Code::InvalidArgument as i32);
                assert_eq!(p.violations[0].field, "answers[LD01]");
            }
        }
        seen += 1;
    }
    assert_eq!(seen, n);
}

/// Starts a session for an example, saves its answers in two batches, submits.
async fn run_session(client: &mut Assessment, e: &Example) -> (String, api::Result) {
    let session = client
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: e.id.clone(),
            org_unit: e.org_unit.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .session_id;
    let half = e.answers.len() / 2;
    for (k, part) in [&e.answers[..half], &e.answers[half..]]
        .into_iter()
        .enumerate()
    {
        client
            .save_answers(api::SaveAnswersRequest {
                session_id: session.clone(),
                request_id: format!("{session}-{k}"),
                answers: part.to_vec(),
            })
            .await
            .unwrap();
    }
    let submitted = client
        .submit_session(api::SubmitSessionRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(submitted.revision, 1);
    (session, submitted.result.unwrap())
}

/// The session life cycle and its error codes, on the store at `database_url`.
async fn sessions_work(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.database_url = database_url;
    let server = TestServer::start(options);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let examples = examples();
    let expected = expected();
    let e = &examples[0];

    let session = client
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: e.id.clone(),
            org_unit: e.org_unit.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .session_id;
    let save = |request_id: &str, answers: &[api::Answer]| api::SaveAnswersRequest {
        session_id: session.clone(),
        request_id: request_id.into(),
        answers: answers.to_vec(),
    };
    let first = client
        .save_answers(save("r1", &e.answers[..30]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((first.replayed, first.answers_stored), (false, 30));
    // A retry of the same request changes nothing.
    let again = client
        .save_answers(save("r1", &e.answers[..30]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.replayed, again.answers_stored), (true, 30));
    // An invalid answer is refused with its field, and nothing of the request is stored.
    let mut bad = e.answers[30..].to_vec();
    bad[0].value = "77".into();
    let status = client.save_answers(save("r2", &bad)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.get_details_bad_request().unwrap().field_violations[0].field,
        format!("answers[{}]", bad[0].item_id)
    );
    let rest = client
        .save_answers(save("r3", &e.answers[30..]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.answers_stored, 60);

    // Not yet submitted: no result.
    let pending = client
        .get_result(api::GetResultRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(pending.code(), Code::FailedPrecondition);

    let submitted = client
        .submit_session(api::SubmitSessionRequest {
            session_id: session.clone(),
            language: "en".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let result = submitted.result.unwrap();
    assert_eq!(result.index.map(|x| (x * 1e4).round()), Some(713880.0));
    assert_eq!(expected[&e.id]["index"], "71.388");
    let twice = client
        .submit_session(api::SubmitSessionRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    let late = client
        .save_answers(save("r4", &e.answers[..1]))
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);

    let stored = client
        .get_result(api::GetResultRequest {
            session_id: session.clone(),
            language: "id".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.result.as_ref().unwrap().index, result.index);
    // Names follow the requested language; the numbers do not change.
    assert_ne!(
        stored.result.as_ref().unwrap().domains[0].name,
        result.domains[0].name
    );

    // Unknown sessions and another organisation's sessions.
    let missing = client
        .get_result(api::GetResultRequest {
            session_id: "00000000-0000-4000-8000-000000000000".into(),
            language: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let mut samarinda = assessment(&server, Some(tokens::SERVICE_CILEGON)).await;
    let other = examples
        .iter()
        .find(|x| x.org_unit.starts_with("64.72"))
        .unwrap();
    let (foreign, _) = run_session(&mut client, other).await;
    let denied = samarinda
        .get_result(api::GetResultRequest {
            session_id: foreign,
            language: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = samarinda
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: "x".into(),
            org_unit: "36.7".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let invalid = client
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: String::new(),
            org_unit: "36..72".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        invalid
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .len(),
        2
    );

    // Wrong role: a service token cannot aggregate; an analyst cannot submit.
    let status = client
        .get_aggregate(api::GetAggregateRequest {
            instrument: ikd_asn(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let mut analyst = assessment(&server, Some(tokens::ANALYST)).await;
    let status = analyst
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: "x".into(),
            org_unit: "36.72".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_on_sqlite() {
    sessions_work(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_on_postgres() {
    sessions_work(Some(ikd_tests::postgres::server().new_database())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregates_roll_up_by_prefix_and_suppress_small_groups() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let examples = examples();
    let mut cilegon = Vec::new();
    for e in &examples {
        let (_, result) = run_session(&mut client, e).await;
        if e.org_unit == "36.72"
            || e.org_unit.starts_with("36.72/")
            || e.org_unit.starts_with("36.72.")
        {
            cilegon.push(result);
        }
    }
    assert!(
        cilegon.len() >= 5,
        "the examples need five Cilegon respondents"
    );
    let mut analyst = assessment(&server, Some(tokens::ANALYST)).await;
    let aggregate = |prefix: &str| api::GetAggregateRequest {
        instrument: ikd_asn(),
        org_prefix: prefix.into(),
        ..Default::default()
    };
    let got = analyst
        .get_aggregate(aggregate("36.72"))
        .await
        .unwrap()
        .into_inner();
    assert!(!got.suppressed);
    assert_eq!(got.n, cilegon.len() as u64);
    let indices: Vec<f64> = cilegon.iter().filter_map(|r| r.index).collect();
    let mean = indices.iter().sum::<f64>() / indices.len() as f64;
    let index = got.index.unwrap();
    assert!((index.mean - mean).abs() < 1e-9);
    assert!(index.ci_low < mean && mean < index.ci_high);
    assert_eq!(
        got.levels.iter().map(|l| l.count).sum::<u64>(),
        indices.len() as u64
    );
    assert_eq!(got.domains.len(), 5);

    // `36.7` is another unit, not a prefix of `36.72`: nothing there, suppressed.
    let none = analyst
        .get_aggregate(aggregate("36.7"))
        .await
        .unwrap()
        .into_inner();
    assert!(none.suppressed);
    assert_eq!(none.n, 0);
    assert!(none.index.is_none());
    // A group below the minimum size (5) is suppressed without its n.
    for e in examples.iter().take(3) {
        let mut moved = e.clone();
        moved.org_unit = "36.73/dukcapil".into();
        run_session(&mut client, &moved).await;
    }
    let small = analyst
        .get_aggregate(aggregate("36.73"))
        .await
        .unwrap()
        .into_inner();
    assert!(small.suppressed && small.n == 0 && small.index.is_none());
    // Complementary suppression: with 36 published, 36.72 would give away its
    // small sibling 36.73 (= 36 − 36.72), so 36.72 is hidden as well.
    let province = analyst
        .get_aggregate(aggregate("36"))
        .await
        .unwrap()
        .into_inner();
    assert!(!province.suppressed);
    assert_eq!(province.n, got.n + 3);
    let hidden = analyst
        .get_aggregate(aggregate("36.72"))
        .await
        .unwrap()
        .into_inner();
    assert!(hidden.suppressed && hidden.n == 0 && hidden.index.is_none());

    // An analyst limited to Cilegon: own scope by default (hidden now, as
    // for everyone), nothing outside it.
    let mut limited = assessment(&server, Some(tokens::ANALYST_CILEGON)).await;
    // Per-person exports are a data steward's (issue 12, defect 6).
    let mut steward = assessment(&server, Some(tokens::STEWARD_CILEGON)).await;
    let own = limited
        .get_aggregate(aggregate(""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.org_prefix.as_str(), "36.72");
    assert!(own.suppressed && own.n == 0);
    for outside in ["64.72", "36.7", "36"] {
        let denied = limited.get_aggregate(aggregate(outside)).await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{outside}");
        let denied = steward
            .export_results(api::ExportResultsRequest {
                instrument: ikd_asn(),
                org_prefix: outside.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{outside}");
    }

    // Export: every Cilegon result, pseudonymised.
    let mut stream = steward
        .export_results(api::ExportResultsRequest {
            instrument: ikd_asn(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut exported = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        exported.push(r);
    }
    assert_eq!(exported.len(), cilegon.len());
    // A time window after every submit holds nothing.
    let later = prost_types::Timestamp {
        seconds: exported
            .iter()
            .map(|r| r.submitted_at.unwrap().seconds)
            .max()
            .unwrap()
            + 1,
        nanos: 0,
    };
    let mut empty = steward
        .export_results(api::ExportResultsRequest {
            instrument: ikd_asn(),
            from: Some(later),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(empty.message().await.unwrap().is_none());
    for r in &exported {
        assert!(r.org_unit.starts_with("36.72"));
        assert_eq!(r.respondent_pseudonym.len(), 64);
        assert!(examples.iter().all(|e| e.id != r.respondent_pseudonym));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_lists_plugins_and_rescore_keeps_the_old_revision() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let e = &examples()[0];
    let (session, first) = run_session(&mut client, e).await;

    let mut denied = admin(&server, Some(tokens::SERVICE)).await;
    assert_eq!(
        denied
            .list_plugins(api::ListPluginsRequest {})
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let mut admin = admin(&server, Some(tokens::ADMIN)).await;
    let plugins = admin
        .list_plugins(api::ListPluginsRequest {})
        .await
        .unwrap()
        .into_inner();
    let loaded: Vec<&str> = plugins
        .plugins
        .iter()
        .filter(|p| p.status == "loaded")
        .map(|p| p.name.as_str())
        .collect();
    assert!(
        loaded.contains(&"weighted-index") && loaded.contains(&"literasi-digital"),
        "{loaded:?}"
    );
    assert!(
        plugins
            .plugins
            .iter()
            .all(|p| p.sha256.len() == 64 || p.status != "loaded")
    );
    let models = admin
        .list_models(api::ListModelsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(models.models.iter().any(|m| m.name == "weighted-index"));

    let bad = admin
        .rescore(api::RescoreRequest {
            instrument: ikd_asn(),
            model: String::new(),
            settings_json: "{not json".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let rescored = admin
        .rescore(api::RescoreRequest {
            instrument: ikd_asn(),
            model: "weighted-index".into(),
            settings_json: "{}".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (rescored.sessions, rescored.rescored, rescored.failed),
        (1, 1, 0)
    );
    let latest = client
        .get_result(api::GetResultRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.revision, 2);
    let latest = latest.result.unwrap();
    assert_eq!(latest.index, first.index);
    // Submitted within seconds of the start (the instrument's minimum is 300 s):
    // revision 1 is flagged too fast, and a rescore keeps the flag.
    assert!(
        first.flags.iter().any(|f| f == "too-fast"),
        "{:?}",
        first.flags
    );
    assert_eq!(
        latest.flags, first.flags,
        "a rescore keeps the quality flags"
    );
    // The new revision records the settings it was scored with.
    assert_eq!(latest.provenance.unwrap().model_settings_json, "{}");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options
        .env
        .push(("IKD_MAX_REQUEST_BYTES".into(), "4096".into()));
    let server = TestServer::start(options);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let mut request = score_request(&examples()[0]);
    request.respondent_id = "x".repeat(8192);
    let status = client.score(request).await.unwrap_err();
    // tonic answers a message over the limit with OUT_OF_RANGE.
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    // The server is still there.
    client
        .list_instruments(api::ListInstrumentsRequest {})
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_keeps_every_submitted_result() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let mut sessions = Vec::new();
    for e in examples().iter().take(6) {
        sessions.push(run_session(&mut client, e).await);
    }
    drop(client);
    server.stop();

    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    for (session, result) in &sessions {
        let stored = client
            .get_result(api::GetResultRequest {
                session_id: session.clone(),
                language: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(stored.result.unwrap().index, result.index);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_share_one_postgres() {
    let url = ikd_tests::postgres::server().new_database();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    // Servers sharing a database share the pseudonym key.
    let key = dirs[0].path().join("shared.key");
    std::fs::write(&key, "k".repeat(64)).unwrap();
    let servers: Vec<TestServer> = dirs
        .iter()
        .map(|d| {
            let mut options = ServerOptions::new(d.path());
            options.database_url = Some(url.clone());
            options
                .env
                .push(("IKD_PSEUDONYM_KEY_FILE".into(), key.display().to_string()));
            TestServer::start(options)
        })
        .collect();
    let mut a = assessment(&servers[0], Some(tokens::SERVICE)).await;
    let mut b = assessment(&servers[1], Some(tokens::SERVICE)).await;
    let e = &examples()[0];
    let session = a
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: e.id.clone(),
            org_unit: e.org_unit.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .session_id;
    b.save_answers(api::SaveAnswersRequest {
        session_id: session.clone(),
        request_id: "b-1".into(),
        answers: e.answers.clone(),
    })
    .await
    .unwrap();
    let submitted = a
        .submit_session(api::SubmitSessionRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let twice = b
        .submit_session(api::SubmitSessionRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    let read = b
        .get_result(api::GetResultRequest {
            session_id: session,
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.result.unwrap().index, submitted.result.unwrap().index);
    assert_matches_expected(
        &a.score(score_request(e))
            .await
            .unwrap()
            .into_inner()
            .result
            .unwrap(),
        &expected()[&e.id],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_serves_trusting_clients_and_refuses_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let mut options = ServerOptions::new(&dir.path().join("data"));
    options
        .env
        .push(("IKD_TLS_CERT".into(), cert.display().to_string()));
    options
        .env
        .push(("IKD_TLS_KEY".into(), key.display().to_string()));
    let server = TestServer::start(options);

    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(
            certified.cert.pem(),
        ))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://localhost:{}", server.addr.port()))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("a TLS client that trusts the certificate connects");
    let mut client =
        AssessmentServiceClient::with_interceptor(channel, Bearer(Some(tokens::SERVICE.into())));
    let list = client
        .list_instruments(api::ListInstrumentsRequest {})
        .await
        .unwrap();
    assert!(!list.into_inner().instruments.is_empty());

    // A plaintext client gets no answer from a TLS port.
    let plaintext = Channel::from_shared(server.url()).unwrap().connect().await;
    let refused = match plaintext {
        Err(_) => true,
        Ok(channel) => {
            let mut client = AssessmentServiceClient::with_interceptor(
                channel,
                Bearer(Some(tokens::SERVICE.into())),
            );
            client
                .list_instruments(api::ListInstrumentsRequest {})
                .await
                .is_err()
        }
    };
    assert!(refused, "a plaintext call to a TLS server succeeded");
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_without_tokens_prints_an_admin_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let no_tokens = || {
        let mut options = ServerOptions::new(dir.path());
        options.env.push(("IKD_TOKENS".into(), "[]".into()));
        options
    };
    let server = TestServer::start(no_tokens());
    let token = {
        let mut waited = 0;
        loop {
            let stderr = server.stderr();
            if let Some(t) = stderr.split_whitespace().find(|w| w.starts_with("ikd_")) {
                break t.to_owned();
            }
            assert!(waited < 100, "no token printed:\n{stderr}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            waited += 1;
        }
    };
    let mut admin_client = admin(&server, Some(&token)).await;
    admin_client
        .list_plugins(api::ListPluginsRequest {})
        .await
        .unwrap();
    // Only the hash is kept.
    let kept = std::fs::read_to_string(dir.path().join("admin-token.sha256")).unwrap();
    assert!(!kept.contains(&token) && kept.trim().len() == 64);
    drop(admin_client);
    server.stop();

    let server = TestServer::start(no_tokens());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !server.stderr().contains("ikd_"),
        "a second token was printed"
    );
    let mut admin_client = admin(&server, Some(&token)).await;
    admin_client
        .list_plugins(api::ListPluginsRequest {})
        .await
        .unwrap();
}

#[test]
fn a_busy_port_leaves_no_token_and_no_directory() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = std::process::Command::new(ikd_tests::ikd_binary())
        .args(["serve", "--addr", &addr.to_string(), "--data-dir"])
        .arg(&data)
        .env("IKD_TOKENS", "[]")
        .env_remove("IKD_CONFIG")
        .output()
        .expect("ikd serve runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("in use").count(),
        1,
        "the OS reason, once: {stderr}"
    );
    assert!(!stderr.contains("ikd_"), "a token was generated: {stderr}");
    assert!(!data.exists(), "the data directory was created");
    drop(busy);
}
