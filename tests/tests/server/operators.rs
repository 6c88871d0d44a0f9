//! What an operator runs besides the server: `ikd token new` (tokens the
//! server then accepts with their role and prefix), the log formats, and the
//! first-run admin token of replicas sharing PostgreSQL.

use ikd_proto::v1::admin_service_client::AdminServiceClient;
use ikd_proto::v1::{self as api, assessment_service_client::AssessmentServiceClient};
use ikd_tests::grpc::{Bearer, channel, ikd_asn};
use ikd_tests::ikd_binary;
use ikd_tests::server::{ServerOptions, TestServer};
use std::process::Command;
use std::time::Duration;
use tonic::Code;

/// `ikd token new ARGS`: the token (first line) and the configuration printed after it.
fn token_new(args: &[&str]) -> (String, String) {
    let out = Command::new(ikd_binary())
        .args(["token", "new"])
        .args(args)
        .output()
        .expect("ikd runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (token, config) = stdout.split_once('\n').expect("a token line");
    (token.to_owned(), config.to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn new_tokens_are_accepted_with_their_role_and_prefix() {
    let (portal, portal_json) = token_new(&[
        "--name",
        "portal",
        "--role",
        "service",
        "--org-prefix",
        "36.72",
        "--json",
    ]);
    let (analyst, analyst_json) = token_new(&["--name", "dinas", "--role", "analyst", "--json"]);
    assert!(portal.starts_with("ikd_") && portal.len() == 52, "{portal}");
    let portal_config: serde_json::Value = serde_json::from_str(&portal_json).unwrap();
    assert!(
        !portal_json.contains(&portal),
        "the configuration holds the hash, never the token"
    );
    assert_eq!(portal_config["org_prefix"], "36.72");

    // The TOML form describes the same token.
    let (_, toml_text) = token_new(&[
        "--name",
        "admin-2",
        "--role",
        "admin",
        "--expires-in-days",
        "30",
    ]);
    let parsed: toml::Table = toml::from_str(&toml_text).expect("TOML");
    let entry = &parsed["tokens"].as_array().unwrap()[0];
    assert_eq!(
        entry["roles"].as_array().unwrap()[0].as_str(),
        Some("admin")
    );
    assert_eq!(entry["sha256"].as_str().unwrap().len(), 64);
    assert!(entry["expires_at"].as_integer().unwrap() > 1_700_000_000);

    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.env.push((
        "IKD_TOKENS".into(),
        format!("[{},{}]", portal_json.trim(), analyst_json.trim()),
    ));
    let server = TestServer::start(options);
    let channel = channel(&server).await;
    let client = |token: &str| {
        AssessmentServiceClient::with_interceptor(channel.clone(), Bearer::new(token))
    };
    let start = |unit: &str| api::StartSessionRequest {
        instrument: ikd_asn(),
        respondent_id: "R-token-1".into(),
        org_unit: unit.into(),
    };
    let mut as_portal = client(&portal);
    as_portal
        .start_session(start("36.72/diskominfo"))
        .await
        .expect("a service token starts a session in its prefix");
    let outside = as_portal
        .start_session(start("64.72/dinas"))
        .await
        .unwrap_err();
    assert_eq!(outside.code(), Code::PermissionDenied, "{outside:?}");

    let mut as_analyst = client(&analyst);
    let refused = as_analyst
        .start_session(start("36.72/a"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    as_analyst
        .get_aggregate(api::GetAggregateRequest {
            instrument: ikd_asn(),
            ..Default::default()
        })
        .await
        .expect("an analyst reads aggregates");

    let unknown = client("ikd_000000000000000000000000000000000000000000000000")
        .list_instruments(api::ListInstrumentsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::Unauthenticated);
}

#[test]
fn a_token_with_an_unknown_role_is_refused_before_it_is_printed() {
    let out = Command::new(ikd_binary())
        .args(["token", "new", "--name", "x", "--role", "wizard"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no token printed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown role 'wizard'"), "{stderr}");
}

/// Waits until the server has logged its start-up line.
fn logs_after_start(server: &TestServer) -> String {
    for _ in 0..100 {
        let logs = server.stderr();
        if logs.contains("server ready") {
            return logs;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no start-up line in: {}", server.stderr());
}

#[test]
fn logs_are_json_lines_on_request_and_plain_text_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.env.push(("RUST_LOG".into(), "info".into()));
    options.env.push(("IKD_LOG_FORMAT".into(), "json".into()));
    let server = TestServer::start(options);
    let logs = logs_after_start(&server);
    let ready = logs
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON log line"))
        .find(|v| v["fields"]["message"] == "server ready")
        .unwrap_or_else(|| panic!("no JSON start-up line: {logs}"));
    let fields = &ready["fields"];
    assert_eq!(fields["store"], "sqlite");
    assert!(
        fields["instruments"]
            .as_str()
            .unwrap()
            .contains("ikd-asn-2025")
    );
    assert!(
        fields["plugins"]
            .as_str()
            .unwrap()
            .contains("weighted-index")
    );
    assert!(fields["addr"].as_str().is_some());
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.env.push(("RUST_LOG".into(), "info".into()));
    let server = TestServer::start(options);
    let logs = logs_after_start(&server);
    assert!(!logs.contains('\u{1b}'), "colour codes in a pipe: {logs:?}");
}

/// The admin token a server printed on stderr (`ikd_` and 48 hex digits), if any.
fn printed_token(stderr: &str) -> Option<String> {
    stderr
        .split_whitespace()
        .find(|w| w.starts_with("ikd_") && w.len() == 52)
        .map(str::to_owned)
}

/// Waits until the server has said what became of the first-run token.
fn first_run_said(server: &TestServer) -> String {
    for _ in 0..200 {
        let stderr = server.stderr();
        if stderr.contains("generated an admin token")
            || stderr.contains("already exists in the database")
        {
            return stderr;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "nothing said about the first-run token:\n{}",
        server.stderr()
    );
}

/// `ListPlugins` (admin only) on `server` with `token`.
async fn admin_call(server: &TestServer, token: &str) -> Result<(), tonic::Status> {
    AdminServiceClient::with_interceptor(channel(server).await, Bearer::new(token))
        .list_plugins(api::ListPluginsRequest {})
        .await
        .map(drop)
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_on_one_postgresql_share_one_first_run_admin_token() {
    let url = ikd_tests::postgres::server().new_database();
    // Each replica has a data directory of its own, as on two hosts.
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let options = |dir: &std::path::Path| {
        let mut options = ServerOptions::new(dir);
        options.database_url = Some(url.clone());
        options.env.push(("IKD_TOKENS".into(), "[]".into()));
        options
    };
    // Started at once.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| TestServer::start(options(dirs[0].path())));
        let b = s.spawn(|| TestServer::start(options(dirs[1].path())));
        (a.join().unwrap(), b.join().unwrap())
    });
    let said = [first_run_said(&a), first_run_said(&b)];
    let printed: Vec<String> = said.iter().filter_map(|s| printed_token(s)).collect();
    assert_eq!(
        printed.len(),
        1,
        "exactly one replica prints a token:\n--- a ---\n{}\n--- b ---\n{}",
        said[0],
        said[1]
    );
    let token = &printed[0];
    let quiet = said.iter().find(|s| printed_token(s).is_none()).unwrap();
    assert!(
        quiet.contains("a first-run admin token already exists in the database"),
        "{quiet}"
    );
    for server in [&a, &b] {
        admin_call(server, token)
            .await
            .expect("the printed token is an admin token on both replicas");
        let wrong = admin_call(
            server,
            "ikd_000000000000000000000000000000000000000000000000",
        )
        .await
        .unwrap_err();
        assert_eq!(wrong.code(), Code::Unauthenticated);
    }
    for dir in &dirs {
        assert!(
            !dir.path().join("admin-token.sha256").exists(),
            "on PostgreSQL the hash is kept in the database, not in the data directory"
        );
    }

    // A restart (or a third replica) prints none and accepts the same token.
    drop((a, b));
    let third = tempfile::tempdir().unwrap();
    let c = TestServer::start(options(third.path()));
    let said = first_run_said(&c);
    assert_eq!(
        printed_token(&said),
        None,
        "a second token was printed: {said}"
    );
    admin_call(&c, token)
        .await
        .expect("the token survives restarts");
}
