//! Access and privacy, end to end against a real `ikd serve`:
//! * every RPC refuses a missing, unknown or expired token (UNAUTHENTICATED)
//!   and a token without the role it needs (PERMISSION_DENIED);
//! * an organisation-limited token cannot read, write, export or aggregate
//!   outside its prefix, including by prefix tricks (`36.7`, `36.721`, `""`);
//! * respondent identifiers never appear in the clear: not in the database
//!   (SQLite file and WAL, PostgreSQL dump), not in the logs, not in exports.

use ikd_proto::v1 as api;
use ikd_proto::v1::admin_service_client::AdminServiceClient;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_proto::v1::report_service_client::ReportServiceClient;
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use tonic::Code;
use tonic::transport::Channel;

fn req<T>(token: Option<&str>, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    if let Some(token) = token {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    r
}

fn ikd_asn() -> Option<api::InstrumentRef> {
    Some(api::InstrumentRef {
        id: "ikd-asn-2025".into(),
        version: String::new(),
    })
}

/// The code an RPC answers with for `token` (OK when it succeeded).
async fn code_of(channel: &Channel, rpc: &str, token: Option<&str>) -> Code {
    let mut a = AssessmentServiceClient::new(channel.clone());
    let mut admin = AdminServiceClient::new(channel.clone());
    let mut reports = ReportServiceClient::new(channel.clone());
    let code = |r: Result<(), tonic::Status>| r.err().map_or(Code::Ok, |s| s.code());
    match rpc {
        "ListInstruments" => code(
            a.list_instruments(req(token, api::ListInstrumentsRequest {}))
                .await
                .map(drop),
        ),
        "GetInstrument" => code(
            a.get_instrument(req(
                token,
                api::GetInstrumentRequest {
                    instrument: ikd_asn(),
                    language: String::new(),
                },
            ))
            .await
            .map(drop),
        ),
        "Score" => code(
            a.score(req(
                token,
                api::ScoreRequest {
                    instrument: ikd_asn(),
                    respondent_id: "x".into(),
                    org_unit: "36.72".into(),
                    ..Default::default()
                },
            ))
            .await
            .map(drop),
        ),
        "ScoreStream" => {
            let one = api::ScoreRequest {
                instrument: ikd_asn(),
                respondent_id: "x".into(),
                org_unit: "36.72".into(),
                ..Default::default()
            };
            let stream = tokio_stream::iter(vec![one]);
            match a.score_stream(req(token, stream)).await {
                Err(s) => s.code(),
                Ok(mut responses) => match responses.get_mut().message().await {
                    Err(s) => s.code(),
                    Ok(_) => Code::Ok,
                },
            }
        }
        "StartSession" => code(
            a.start_session(req(
                token,
                api::StartSessionRequest {
                    instrument: ikd_asn(),
                    respondent_id: "x".into(),
                    org_unit: "36.72".into(),
                },
            ))
            .await
            .map(drop),
        ),
        "SaveAnswers" => code(
            a.save_answers(req(
                token,
                api::SaveAnswersRequest {
                    session_id: "00000000-0000-4000-8000-000000000000".into(),
                    request_id: "r".into(),
                    answers: Vec::new(),
                },
            ))
            .await
            .map(drop),
        ),
        "SubmitSession" => code(
            a.submit_session(req(
                token,
                api::SubmitSessionRequest {
                    session_id: "00000000-0000-4000-8000-000000000000".into(),
                    language: String::new(),
                    end_early: false,
                },
            ))
            .await
            .map(drop),
        ),
        "GetResult" => code(
            a.get_result(req(
                token,
                api::GetResultRequest {
                    session_id: "00000000-0000-4000-8000-000000000000".into(),
                    ..Default::default()
                },
            ))
            .await
            .map(drop),
        ),
        "GetAggregate" => code(
            a.get_aggregate(req(
                token,
                api::GetAggregateRequest {
                    instrument: ikd_asn(),
                    org_prefix: "36.72".into(),
                    ..Default::default()
                },
            ))
            .await
            .map(drop),
        ),
        "ExportResults" => match a
            .export_results(req(
                token,
                api::ExportResultsRequest {
                    instrument: ikd_asn(),
                    org_prefix: "36.72".into(),
                    ..Default::default()
                },
            ))
            .await
        {
            Err(s) => s.code(),
            Ok(mut rows) => match rows.get_mut().message().await {
                Err(s) => s.code(),
                Ok(_) => Code::Ok,
            },
        },
        "ExportTable" => match a
            .export_table(req(
                token,
                api::ExportResultsRequest {
                    instrument: ikd_asn(),
                    org_prefix: "36.72".into(),
                    ..Default::default()
                },
            ))
            .await
        {
            Err(s) => s.code(),
            Ok(mut rows) => match rows.get_mut().message().await {
                Err(s) => s.code(),
                Ok(_) => Code::Ok,
            },
        },
        "ListPlugins" => code(
            admin
                .list_plugins(req(token, api::ListPluginsRequest {}))
                .await
                .map(drop),
        ),
        "ListModels" => code(
            admin
                .list_models(req(token, api::ListModelsRequest {}))
                .await
                .map(drop),
        ),
        "Rescore" => code(
            admin
                .rescore(req(
                    token,
                    api::RescoreRequest {
                        instrument: Some(api::InstrumentRef {
                            id: "no-such-instrument".into(),
                            version: String::new(),
                        }),
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
        ),
        "ListAuditLog" => code(
            admin
                .list_audit_log(req(token, api::ListAuditLogRequest::default()))
                .await
                .map(drop),
        ),
        "CreateInvitations" => code(
            admin
                .create_invitations(req(
                    token,
                    api::CreateInvitationsRequest {
                        instrument: Some(api::InstrumentRef {
                            id: "no-such-instrument".into(),
                            version: String::new(),
                        }),
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
        ),
        "RevokeInvitations" => code(
            admin
                .revoke_invitations(req(
                    token,
                    api::RevokeInvitationsRequest {
                        invitation_ids: vec!["inv-0000000000000000".into()],
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
        ),
        "PersonReport" => code(
            reports
                .person_report(req(
                    token,
                    api::PersonReportRequest {
                        session_id: "00000000-0000-4000-8000-000000000000".into(),
                        language: String::new(),
                    },
                ))
                .await
                .map(drop),
        ),
        "OrgReport" => code(
            reports
                .org_report(req(
                    token,
                    api::OrgReportRequest {
                        instrument: ikd_asn(),
                        org_prefix: "36.72".into(),
                        language: String::new(),
                    },
                ))
                .await
                .map(drop),
        ),
        other => panic!("no call for {other}"),
    }
}

/// Every RPC with the roles that may call it (admin may call everything).
/// `analyst` reads suppressed aggregates and organisation reports only;
/// per-person data (results, personal reports, exports) is for the service
/// that ran the session and for a data `steward` (issue 12, defect 6).
const RPCS: [(&str, &[&str]); 19] = [
    ("ListInstruments", &["service", "analyst", "steward"]),
    ("GetInstrument", &["service", "analyst", "steward"]),
    ("Score", &["service"]),
    ("ScoreStream", &["service"]),
    ("StartSession", &["service"]),
    ("SaveAnswers", &["service"]),
    ("SubmitSession", &["service"]),
    ("GetResult", &["service", "steward"]),
    ("GetAggregate", &["analyst"]),
    ("ExportResults", &["steward"]),
    ("ExportTable", &["steward"]),
    ("ListPlugins", &[]),
    ("ListModels", &["analyst"]),
    ("Rescore", &[]),
    ("ListAuditLog", &[]),
    ("CreateInvitations", &["service"]),
    ("RevokeInvitations", &["service"]),
    ("PersonReport", &["service", "steward"]),
    ("OrgReport", &["analyst"]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_checks_the_token_and_the_role() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let roles = [
        ("service", tokens::SERVICE),
        ("analyst", tokens::ANALYST),
        ("steward", tokens::STEWARD),
        ("admin", tokens::ADMIN),
    ];
    let mut checked = 0;
    for (rpc, allowed) in RPCS {
        for bad in [
            None,
            Some("not-a-token-of-this-server-0000"),
            Some(tokens::EXPIRED),
        ] {
            let got = code_of(&channel, rpc, bad).await;
            assert_eq!(got, Code::Unauthenticated, "{rpc} with {bad:?}");
            checked += 1;
        }
        for (role, token) in roles {
            let got = code_of(&channel, rpc, Some(token)).await;
            if role == "admin" || allowed.contains(&role) {
                assert!(
                    !matches!(got, Code::Unauthenticated | Code::PermissionDenied),
                    "{rpc} refused role {role}: {got:?}"
                );
            } else {
                assert_eq!(got, Code::PermissionDenied, "{rpc} with role {role}");
            }
            checked += 1;
        }
    }
    eprintln!("access: {checked} (RPC, token) pairs checked");
    server.stop();
}

/// Starts and submits a session in `org_unit` as `respondent`; returns its id.
async fn submitted(channel: &Channel, respondent: &str, org_unit: &str) -> String {
    let mut a = AssessmentServiceClient::new(channel.clone());
    let session = a
        .start_session(req(
            Some(tokens::SERVICE),
            api::StartSessionRequest {
                instrument: ikd_asn(),
                respondent_id: respondent.into(),
                org_unit: org_unit.into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .session_id;
    let answers = [("LD01", "4"), ("LD02", "3"), ("BD01", "4"), ("PP01", "5")]
        .iter()
        .map(|(i, v)| api::Answer {
            item_id: i.to_string(),
            value: v.to_string(),
        })
        .collect();
    a.save_answers(req(
        Some(tokens::SERVICE),
        api::SaveAnswersRequest {
            session_id: session.clone(),
            request_id: "1".into(),
            answers,
        },
    ))
    .await
    .unwrap();
    a.submit_session(req(
        Some(tokens::SERVICE),
        api::SubmitSessionRequest {
            session_id: session.clone(),
            language: String::new(),
            end_early: false,
        },
    ))
    .await
    .unwrap();
    session
}

/// Respondent identifiers that must never appear in the clear.
fn nip(k: usize) -> String {
    format!("NIP-19800101200{k:05}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_limited_tokens_stay_inside_their_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut cilegon = Vec::new();
    for k in 0..6 {
        cilegon.push(submitted(&channel, &nip(k), "36.72/diskominfo").await);
    }
    let mut neighbours = Vec::new();
    // 36.721 is not inside 36.72 (a prefix stops at a separator); 64.72 is Samarinda.
    // 36.721 and 36.73 are small siblings of 36.72: hidden together (5 results),
    // they need no complementary suppression of 36.72.
    for (k, unit) in [
        "36.721/dinas",
        "36.73/dinas",
        "36.73/dinas",
        "36.73/dinas",
        "36.73/dinas",
        "64.72/bkpsdm",
        "64.72/bkpsdm",
        "64.72/bkpsdm",
        "64.72/bkpsdm",
        "64.72/bkpsdm",
    ]
    .iter()
    .enumerate()
    {
        neighbours.push(submitted(&channel, &nip(100 + k), unit).await);
    }
    let mut service = AssessmentServiceClient::new(channel.clone());
    let mut analyst = AssessmentServiceClient::new(channel.clone());
    let limited = Some(tokens::SERVICE_CILEGON);
    let analyst_limited = Some(tokens::ANALYST_CILEGON);
    let steward_limited = Some(tokens::STEWARD_CILEGON);

    // Reading inside works; reading a neighbour's result does not.
    let own = service
        .get_result(req(
            limited,
            api::GetResultRequest {
                session_id: cilegon[0].clone(),
                ..Default::default()
            },
        ))
        .await;
    assert!(own.is_ok(), "{own:?}");
    for session in &neighbours {
        let err = service
            .get_result(req(
                limited,
                api::GetResultRequest {
                    session_id: session.clone(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{session}: {err:?}");
    }
    // Writing into a neighbour's session, or starting one outside the prefix.
    let err = service
        .save_answers(req(
            limited,
            api::SaveAnswersRequest {
                session_id: neighbours[1].clone(),
                request_id: "x".into(),
                answers: Vec::new(),
            },
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.code(),
            Code::PermissionDenied | Code::FailedPrecondition
        ),
        "{err:?}"
    );
    for unit in ["36.7", "36.721", "36", "", "64.72/bkpsdm", "36.72x"] {
        // An empty unit is invalid for anyone; the others are outside the prefix.
        let err = service
            .start_session(req(
                limited,
                api::StartSessionRequest {
                    instrument: ikd_asn(),
                    respondent_id: "x".into(),
                    org_unit: unit.into(),
                },
            ))
            .await
            .unwrap_err();
        assert!(
            matches!(err.code(), Code::PermissionDenied | Code::InvalidArgument),
            "start in {unit:?}: {err:?}"
        );
    }
    // Aggregates and exports: only at or below 36.72.
    for prefix in ["36.7", "36.721", "36", "64.72"] {
        let err = analyst
            .get_aggregate(req(
                analyst_limited,
                api::GetAggregateRequest {
                    instrument: ikd_asn(),
                    org_prefix: prefix.into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Code::PermissionDenied,
            "aggregate {prefix:?}: {err:?}"
        );
        let err = analyst
            .export_results(req(
                steward_limited,
                api::ExportResultsRequest {
                    instrument: ikd_asn(),
                    org_prefix: prefix.into(),
                    ..Default::default()
                },
            ))
            .await
            .map(drop)
            .unwrap_err();
        assert_eq!(
            err.code(),
            Code::PermissionDenied,
            "export {prefix:?}: {err:?}"
        );
    }
    let aggregate = analyst
        .get_aggregate(req(
            analyst_limited,
            api::GetAggregateRequest {
                instrument: ikd_asn(),
                org_prefix: "36.72".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(aggregate.n, 6, "36.721 is not counted in 36.72");
    // No prefix means everything the caller may see: its own prefix, not the whole country.
    let scoped = analyst
        .get_aggregate(req(
            analyst_limited,
            api::GetAggregateRequest {
                instrument: ikd_asn(),
                org_prefix: String::new(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((scoped.org_prefix.as_str(), scoped.n), ("36.72", 6));
    let mut rows = analyst
        .export_results(req(
            steward_limited,
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
    assert_eq!(exported.len(), 6);
    assert!(exported.iter().all(|r| r.org_unit.starts_with("36.72/")));
    // Exports carry pseudonyms, never the identifiers; one person, one pseudonym.
    for row in &exported {
        assert!(
            !row.respondent_pseudonym.contains("NIP"),
            "{}",
            row.respondent_pseudonym
        );
        assert_eq!(row.respondent_pseudonym.len(), 64);
    }
    let mut pseudonyms: Vec<&str> = exported
        .iter()
        .map(|r| r.respondent_pseudonym.as_str())
        .collect();
    pseudonyms.sort();
    pseudonyms.dedup();
    assert_eq!(pseudonyms.len(), 6, "six people, six pseudonyms");
    server.stop();
}

/// Runs sessions with recognisable identifiers, then looks for them everywhere
/// the server writes: none may appear in the clear.
async fn identifiers_stay_pseudonymous(
    database_url: Option<String>,
) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.database_url = database_url;
    // The most talkative logs: debug for everything of ours.
    options.env = vec![(
        "RUST_LOG".into(),
        "debug,h2=info,tower=info,hyper=info,sqlx=debug".into(),
    )];
    let server = TestServer::start(options);
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    for k in 0..5 {
        submitted(&channel, &nip(k), "36.72/diskominfo").await;
    }
    // Scoring without a session carries an identifier too.
    let mut a = AssessmentServiceClient::new(channel.clone());
    a.score(req(
        Some(tokens::SERVICE),
        api::ScoreRequest {
            instrument: ikd_asn(),
            respondent_id: nip(99),
            org_unit: "36.72/diskominfo".into(),
            answers: vec![api::Answer {
                item_id: "LD01".into(),
                value: "4".into(),
            }],
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let mut rows = a
        .export_results(req(
            Some(tokens::STEWARD),
            api::ExportResultsRequest {
                instrument: ikd_asn(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut export = String::new();
    while let Some(row) = rows.message().await.unwrap() {
        export.push_str(&format!("{row:?}"));
    }
    assert!(export.contains("36.72/diskominfo"), "the export has rows");
    assert!(!export.contains("NIP-"), "an identifier in the export");
    let logs = server.stderr();
    assert!(logs.contains("DEBUG"), "debug logging was on");
    assert!(!logs.contains("NIP-"), "an identifier in the logs");
    (server, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_never_reach_sqlite_logs_or_exports() {
    let (server, dir) = identifiers_stay_pseudonymous(None).await;
    server.stop();
    let mut scanned = 0;
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        scanned += bytes.len();
        assert!(
            !bytes.windows(4).any(|w| w == b"NIP-"),
            "an identifier in the clear in {}",
            entry.display()
        );
    }
    assert!(
        scanned > 10_000,
        "the database files were scanned ({scanned} bytes)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_never_reach_postgresql_logs_or_exports() {
    let pg = ikd_tests::postgres::server();
    let url = pg.new_database();
    let (server, _dir) = identifiers_stay_pseudonymous(Some(url.clone())).await;
    server.stop();
    let name = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let dump = pg.dump(&name);
    assert!(
        dump.contains("36.72/diskominfo"),
        "the dump has the sessions"
    );
    assert!(
        !dump.contains("NIP-"),
        "an identifier in the clear in PostgreSQL"
    );
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
