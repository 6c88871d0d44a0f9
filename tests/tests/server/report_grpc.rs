//! `ikd.v1.ReportService` end to end: reports rendered by a real `ikd serve`
//! from the results it stores, within the caller's scope.

use ikd_proto::v1 as api;
use ikd_proto::v1::report_service_client::ReportServiceClient;
use ikd_tests::grpc::submit_session;
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use tonic::Code;
use tonic::transport::Channel;

fn req<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

fn ikd_asn() -> Option<api::InstrumentRef> {
    Some(api::InstrumentRef {
        id: "ikd-asn-2025".into(),
        version: String::new(),
    })
}

/// Answers of the bundled example respondents.
fn example_answers() -> Vec<Vec<api::Answer>> {
    ikd_tests::example_respondents()
        .into_iter()
        .map(|r| {
            r.answers
                .into_iter()
                .map(|(item_id, value)| api::Answer { item_id, value })
                .collect()
        })
        .collect()
}

async fn submit(channel: &Channel, k: usize, unit: &str, answers: &[api::Answer]) -> String {
    submit_session(channel, tokens::SERVICE, &format!("p{k}"), unit, answers)
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_served_within_the_callers_scope() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let answers = example_answers();
    let mut cilegon = Vec::new();
    for k in 0..6 {
        cilegon.push(submit(&channel, k, "36.72/diskominfo", &answers[k % answers.len()]).await);
    }
    for k in 6..12 {
        submit(&channel, k, "64.72/bkpsdm", &answers[k % answers.len()]).await;
    }
    // Two small units: hidden together (5 results), so no larger sibling needs
    // hiding for complementary suppression.
    submit(&channel, 99, "36.72/kecil", &answers[0]).await;
    for k in 100..104 {
        submit(&channel, k, "36.72/kecil-dua", &answers[k % answers.len()]).await;
    }
    let mut reports = ReportServiceClient::new(channel.clone());

    // The personal report of a session, in English: five radar axes, its unit's mean.
    let person = reports
        .person_report(req(
            tokens::SERVICE_CILEGON,
            api::PersonReportRequest {
                session_id: cilegon[0].clone(),
                language: "en".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        person.html.starts_with("<!DOCTYPE html>") || person.html.starts_with("<!doctype html>")
    );
    assert_eq!(
        person.html.matches("class=\"axis\"").count(),
        5,
        "five radar axes"
    );
    assert!(
        person.html.contains("Digital Literacy"),
        "English domain names"
    );
    assert_eq!(
        person.results, 6,
        "the session and the five others of its unit"
    );
    assert!(person.csv.is_empty());
    for fetch in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!person.html.contains(fetch), "a network fetch: {fetch}");
    }

    // The organisation report: inside the scope only, with its CSV.
    let org = reports
        .org_report(req(
            tokens::ANALYST_CILEGON,
            api::OrgReportRequest {
                instrument: ikd_asn(),
                org_prefix: "36.72".into(),
                language: "id".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(org.results, 11, "the caller's scope: 36.72 only");
    assert!(org.html.contains("diskominfo"));
    assert!(
        !org.html.contains("64.72") && !org.csv.contains("64.72"),
        "outside the scope"
    );
    let named: Vec<&str> = org
        .html
        .lines()
        .chain(org.csv.lines())
        .filter(|l| l.contains("kecil"))
        .collect();
    assert!(named.is_empty(), "small units are suppressed: {named:?}");
    assert!(org.csv.lines().count() > 5, "{}", org.csv);
    // The weakest indicators, from the indicator scores each submit keeps.
    assert!(
        org.html.contains("data-indicator=\""),
        "the weakest-indicators table is filled"
    );

    // Outside the prefix, a unit below the minimum, a service token: refused.
    let denied = reports
        .org_report(req(
            tokens::ANALYST_CILEGON,
            api::OrgReportRequest {
                instrument: ikd_asn(),
                org_prefix: "64.72".into(),
                language: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let small = reports
        .org_report(req(
            tokens::ANALYST,
            api::OrgReportRequest {
                instrument: ikd_asn(),
                org_prefix: "36.72/kecil".into(),
                language: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(small.code(), Code::FailedPrecondition, "{small:?}");
    assert!(
        !small.message().contains(" 1 "),
        "the n of a suppressed group is not told"
    );
    let role = reports
        .org_report(req(
            tokens::SERVICE,
            api::OrgReportRequest {
                instrument: ikd_asn(),
                org_prefix: "36.72".into(),
                language: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(role.code(), Code::PermissionDenied);
    server.stop();
}
