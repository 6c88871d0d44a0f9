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

mod adaptive;
mod admin;
mod explanations;
mod export_table;
mod operations;
mod scoring;
mod sessions;

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

/// The CLI's code of an API reason (`too-few-answers`, …; empty for none).
fn missing_code(m: Option<&api::Missing>) -> &'static str {
    match m.map(|m| m.reason()) {
        None => "",
        Some(api::MissingReason::TooFewAnswers) => "too-few-answers",
        Some(api::MissingReason::NoApplicableItems) => "no-applicable-items",
        Some(api::MissingReason::TooFewDomains) => "too-few-domains",
        Some(api::MissingReason::Model) => "model",
        Some(api::MissingReason::Unspecified) => "unknown",
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
        // The reason `ikd score` writes, with the same counts.
        assert_eq!(
            missing_code(d.missing.as_ref()),
            row[&format!("{}.missing", d.code)],
            "{}",
            d.code
        );
        if let Some(m) = &d.missing {
            assert_eq!(m.count, d.answered);
            assert_eq!(m.needed.to_string(), row[&format!("{}.needed", d.code)]);
            assert!(!m.message.is_empty());
        }
    }
    assert_eq!(
        missing_code(result.index_missing.as_ref()),
        row["index_missing"]
    );
    let flags = result.flags.join("|");
    assert_eq!(flags, row["flags"].replace(';', "|"));
}
