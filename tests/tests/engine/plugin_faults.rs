//! Native plugins that misbehave without panicking: undecodable responses,
//! unknown statuses, undecodable errors, and slowness. Each fails its own call
//! with a clear error; the host and the server keep working.

use ikd_core::host::{DomainHandle, PluginCallError, PluginHost, PluginSearch};
use ikd_plugin_sdk::domain::answer_batch;
use ikd_plugin_sdk::proto::{DomainConfig, ItemSpec};
use ikd_proto::v1 as api;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::{built_plugin, fixture_dir, fixture_instrument, install_plugin, workspace};
use std::time::{Duration, Instant};

fn host() -> PluginHost {
    let root = tempfile::tempdir().unwrap().keep();
    install_plugin(
        &root,
        &fixture_dir("misbehaving"),
        &built_plugin("ikd-fixture-misbehaving"),
    );
    PluginHost::discover(&PluginSearch {
        dirs: vec![root],
        ..Default::default()
    })
}

fn handle(host: &PluginHost) -> DomainHandle {
    let item = ItemSpec {
        id: "L1".into(),
        kind: "likert".into(),
        scale_min: Some(1),
        scale_max: Some(5),
        weight: 1.0,
        ..Default::default()
    };
    DomainHandle::create(
        host.get("misbehaving").expect("loaded").clone(),
        &DomainConfig {
            domain: "d".into(),
            items: vec![item],
            settings_json: String::new(),
        },
    )
    .expect("instance")
}

#[test]
fn garbage_and_unknown_statuses_fail_the_call_and_nothing_else() {
    let host = host();
    let h = handle(&host);
    match h.score_items(&answer_batch([["garbage"]])) {
        Err(PluginCallError::Protocol { plugin, detail }) => {
            assert_eq!(plugin, "misbehaving");
            assert!(!detail.is_empty());
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    match h.score_items(&answer_batch([["status"]])) {
        Err(PluginCallError::Protocol { detail, .. }) => {
            assert!(detail.contains("status 77"), "{detail}")
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    match h.score_items(&answer_batch([["refuse"]])) {
        Err(PluginCallError::Refused { error, .. }) => {
            assert!(
                error.message.contains("undecodable error"),
                "{}",
                error.message
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // None of that disabled the plugin: it was not a panic.
    assert!(!host.get("misbehaving").unwrap().is_poisoned());
    assert_eq!(h.score_items(&answer_batch([["3"]])).unwrap().scores, [3.0]);
}

/// A plugin call slower than the server's deadline fails its request with
/// DEADLINE_EXCEEDED; meanwhile the server answers other requests at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_native_plugin_gets_deadline_exceeded_and_the_server_stays_responsive() {
    built_plugin("ikd-fixture-misbehaving");
    built_plugin("ikd-fixture-minimal-domain");
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture_instrument("hand-computed.toml")).unwrap();
    let slow = dir.path().join("slow.toml");
    std::fs::write(
        &slow,
        text.replace("id = \"hand\"", "id = \"slow\"")
            .replace("plugin = \"minimal-domain\"", "plugin = \"misbehaving\""),
    )
    .unwrap();
    let plugin_path = std::env::join_paths([
        workspace().join("tests/fixtures/plugins/misbehaving"),
        workspace().join("tests/fixtures/plugins/minimal-domain"),
    ])
    .unwrap();
    let mut options = ServerOptions::new(&dir.path().join("data"));
    options.args = vec![
        "--instrument".into(),
        slow.display().to_string(),
        "--instrument".into(),
        fixture_instrument("hand-computed.toml")
            .display()
            .to_string(),
    ];
    options.env = vec![
        (
            "IKD_PLUGIN_PATH".into(),
            plugin_path.to_string_lossy().into_owned(),
        ),
        ("IKD_REQUEST_TIMEOUT_SECONDS".into(), "2".into()),
    ];
    let server = TestServer::start(options);
    let channel = tonic::transport::Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let client = AssessmentServiceClient::new(channel);
    let request = |instrument: &str, a1: &str| {
        let answers = [
            ("A1", a1),
            ("A2", "2"),
            ("A3", "b"),
            ("B1", "3"),
            ("B2", "b"),
        ]
        .iter()
        .map(|(item, value)| api::Answer {
            item_id: item.to_string(),
            value: value.to_string(),
        })
        .collect();
        let mut r = tonic::Request::new(api::ScoreRequest {
            instrument: Some(api::InstrumentRef {
                id: instrument.into(),
                ..Default::default()
            }),
            respondent_id: "r1".into(),
            org_unit: "36.72/diskominfo".into(),
            answers,
            ..Default::default()
        });
        r.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", tokens::SERVICE).parse().unwrap(),
        );
        r
    };
    let slow_call = tokio::spawn({
        let mut client = client.clone();
        let request = request("slow", "slow");
        async move {
            let started = Instant::now();
            (client.score(request).await, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let fast = client
        .clone()
        .score(request("hand", "5"))
        .await
        .expect("other requests are served");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!((fast.into_inner().result.unwrap().index.unwrap() - 81.25).abs() < 1e-9);
    let (outcome, took) = slow_call.await.unwrap();
    let status = outcome.expect_err("the slow call fails");
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        status.message().contains("misbehaving"),
        "{}",
        status.message()
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
    // The same instrument still serves well-behaved answers.
    client
        .clone()
        .score(request("slow", "5"))
        .await
        .expect("the plugin still works");
    server.stop();
}
