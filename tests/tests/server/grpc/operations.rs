//! Running the server: health and reflection, instruments and tokens, limits, restarts, replicas, TLS, first start.

use super::sessions::run_session;
use super::*;

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
    // Every item comes with its plugin's presentation, in the language asked
    // for, and nothing that could give its answer away travels with it.
    for (item_id, item_en) in id.items.iter().zip(&en.items) {
        let shown = item_en.presentation.as_ref().expect("a presentation");
        assert_ne!(shown.widget(), api::Widget::Unspecified, "{}", item_en.id);
        assert!(item_id.presentation.is_some(), "{}", item_id.id);
    }
    let bd06 = en.items.iter().find(|i| i.id == "BD06").unwrap();
    let shown = bd06.presentation.as_ref().unwrap();
    assert_eq!(shown.unit, "percent");
    assert!(matches!(
        shown.stimulus[0].block,
        Some(api::stimulus::Block::Table(_))
    ));
    let encoded = prost::Message::encode_to_vec(&en);
    for secret in [&b"33.3"[..], b"tolerance", b"expert", b"credit"] {
        assert!(
            !encoded.windows(secret.len()).any(|w| w == secret),
            "{} travels to the client",
            String::from_utf8_lossy(secret)
        );
    }
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
            end_early: false,
        })
        .await
        .unwrap()
        .into_inner();
    let twice = b
        .submit_session(api::SubmitSessionRequest {
            session_id: session.clone(),
            language: String::new(),
            end_early: false,
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
    let addr = busy.local_addr().unwrap().to_string();
    let stderr = ikd_tests::server::serve_fails_before_creating_anything(&[
        "--web-addr",
        "off",
        "--addr",
        &addr,
    ]);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("in use").count(),
        1,
        "the OS reason, once: {stderr}"
    );
    drop(busy);
}
