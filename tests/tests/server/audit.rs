//! The audit log of administrative actions, end to end:
//! * a `Rescore` on a real `ikd serve` is recorded before it starts (`rescore.started`) and
//!   when it ends (`rescore.finished`, with the counts or the error), under the token's name,
//!   never the token; `ListAuditLog` shows them to admins only; they survive a restart;
//! * `ikd plugins lock --out FILE` appends one line per run to `FILE.audit.jsonl`, naming
//!   the plugins whose hash changed since the previous lock.

use ikd_proto::v1 as api;
use ikd_proto::v1::admin_service_client::AdminServiceClient;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::{built_plugin, fixture_dir, ikd_binary, install_plugin, workspace};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
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

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A server on `dir` that also logs the `audit` target on stderr.
fn start(dir: &Path) -> TestServer {
    let mut options = ServerOptions::new(dir);
    options
        .env
        .push(("RUST_LOG".into(), "warn,audit=info".into()));
    TestServer::start(options)
}

async fn channel(server: &TestServer) -> Channel {
    Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .expect("connect to ikd serve")
}

/// Submits the first respondent of the instrument's example answers.
async fn submit_one(channel: &Channel) {
    let path = workspace().join("instruments/ikd-asn-2025/examples/answers.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(Into::into).collect();
    let row = reader.records().next().unwrap().unwrap();
    let answers = header
        .iter()
        .zip(row.iter())
        .skip(2)
        .filter(|(name, _)| *name != "duration_seconds")
        .map(|(name, value)| api::Answer {
            item_id: name.clone(),
            value: value.to_owned(),
        })
        .collect();
    let mut client = AssessmentServiceClient::new(channel.clone());
    let session = client
        .start_session(req(
            Some(tokens::SERVICE),
            api::StartSessionRequest {
                instrument: ikd_asn(),
                respondent_id: row[0].to_owned(),
                org_unit: row[1].to_owned(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .session_id;
    client
        .save_answers(req(
            Some(tokens::SERVICE),
            api::SaveAnswersRequest {
                session_id: session.clone(),
                request_id: "all".into(),
                answers,
            },
        ))
        .await
        .unwrap();
    client
        .submit_session(req(
            Some(tokens::SERVICE),
            api::SubmitSessionRequest {
                session_id: session,
                language: String::new(),
                end_early: false,
            },
        ))
        .await
        .unwrap();
}

async fn audit_log(channel: &Channel, token: &str) -> Result<Vec<api::AuditEntry>, tonic::Status> {
    AdminServiceClient::new(channel.clone())
        .list_audit_log(req(
            Some(token),
            api::ListAuditLogRequest { since: 0, limit: 0 },
        ))
        .await
        .map(|r| r.into_inner().entries)
}

fn detail(entry: &api::AuditEntry) -> Value {
    serde_json::from_str(&entry.detail_json)
        .unwrap_or_else(|e| panic!("detail of {entry:?} is not JSON: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescores_are_audited_for_admins_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let ch = channel(&server).await;
    submit_one(&ch).await;
    let version = AssessmentServiceClient::new(ch.clone())
        .get_instrument(req(
            Some(tokens::SERVICE),
            api::GetInstrumentRequest {
                instrument: ikd_asn(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .version;
    let target = format!("ikd-asn-2025@{version}");
    assert!(audit_log(&ch, tokens::ADMIN).await.unwrap().is_empty());

    let mut admin = AdminServiceClient::new(ch.clone());
    let from = now_ms();
    let rescored = admin
        .rescore(req(
            Some(tokens::ADMIN),
            api::RescoreRequest {
                instrument: ikd_asn(),
                model: "weighted-index".into(),
                settings_json: "{}".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (rescored.sessions, rescored.rescored, rescored.failed),
        (1, 1, 0)
    );
    let to = now_ms();

    let entries = audit_log(&ch, tokens::ADMIN).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["rescore.finished", "rescore.started"],
        "newest first"
    );
    let (finished, started) = (&entries[0], &entries[1]);
    for e in &entries {
        assert_eq!(e.actor, "admin", "{e:?}");
        assert_eq!(e.target, target, "{e:?}");
        assert!(from <= e.at && e.at <= to, "{e:?} outside [{from}, {to}]");
        assert!(!e.detail_json.contains(tokens::ADMIN), "{e:?}");
    }
    assert!(started.id < finished.id && started.at <= finished.at);
    assert_eq!(detail(started)["model"], "weighted-index");
    // The settings by their sha256 (`{}` here), never their text.
    let settings_sha256 = detail(started)["settings_sha256"].clone();
    assert_eq!(
        settings_sha256,
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(detail(finished)["settings_sha256"], settings_sha256);
    let counts = detail(finished);
    assert_eq!(
        (&counts["sessions"], &counts["rescored"], &counts["failed"]),
        (&Value::from(1), &Value::from(1), &Value::from(0)),
        "{counts}"
    );

    // A rescore that fails is audited with its error's code and category, not its text.
    let bad = admin
        .rescore(req(
            Some(tokens::ADMIN),
            api::RescoreRequest {
                instrument: ikd_asn(),
                model: String::new(),
                settings_json: "{not json".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let entries = audit_log(&ch, tokens::ADMIN).await.unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0].action, "rescore.finished");
    let error = &detail(&entries[0])["error"];
    assert_eq!(error["code"], "InvalidArgument", "{error}");
    assert_eq!(error["category"], "settings_not_json", "{error}");
    assert_eq!(error["setting"], "settings_json", "{error}");
    assert!(error.get("message").is_none(), "{error}");
    assert_ne!(detail(&entries[1])["settings_sha256"], settings_sha256);
    assert!(
        !entries[1].detail_json.contains("not json"),
        "{:?}",
        entries[1]
    );

    // `since` and `limit`.
    let newest = AdminServiceClient::new(ch.clone())
        .list_audit_log(req(
            Some(tokens::ADMIN),
            api::ListAuditLogRequest { since: 0, limit: 1 },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(newest, entries[..1]);
    let later = AdminServiceClient::new(ch.clone())
        .list_audit_log(req(
            Some(tokens::ADMIN),
            api::ListAuditLogRequest {
                since: entries[1].at,
                limit: 0,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(later.len() >= 2 && later.iter().all(|e| e.at >= entries[1].at));

    // Admins only.
    for token in [tokens::SERVICE, tokens::ANALYST, tokens::SERVICE_CILEGON] {
        let err = audit_log(&ch, token).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{token}: {err:?}");
    }
    let err = AdminServiceClient::new(ch.clone())
        .list_audit_log(req(None, api::ListAuditLogRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    // Logged under the `audit` target too, without the token.
    drop(admin);
    drop(ch);
    let log = server.stderr();
    assert!(
        log.contains("rescore.started") && log.contains("rescore.finished"),
        "{log}"
    );
    assert!(!log.contains(tokens::ADMIN), "{log}");
    server.stop();

    // The entries survive a restart.
    let server = start(dir.path());
    let ch = channel(&server).await;
    assert_eq!(audit_log(&ch, tokens::ADMIN).await.unwrap(), entries);
    drop(ch);
    server.stop();
}

fn lock(plugin_dir: &Path, out: &Path) -> std::process::Output {
    Command::new(ikd_binary())
        .arg("--plugin-dir")
        .arg(plugin_dir)
        .args(["plugins", "lock", "--out"])
        .arg(out)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .env("USER", "lock-auditor")
        .output()
        .expect("ikd runs")
}

fn audit_lines(lock_file: &Path) -> Vec<Value> {
    let path = lock_file.with_file_name(format!(
        "{}.audit.jsonl",
        lock_file.file_name().unwrap().to_str().unwrap()
    ));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn plugins_lock_appends_what_changed_to_an_audit_file() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let library = built_plugin("ikd-fixture-minimal-domain");
    let installed = install_plugin(&plugins, &fixture_dir("minimal-domain"), &library);
    let lock_file = dir.path().join("ikd-plugins.lock");

    let first = lock(&plugins, &lock_file);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let lines = audit_lines(&lock_file);
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["action"], "plugins.lock");
    assert_eq!(line["actor"], "lock-auditor");
    assert_eq!(line["previous_lock"], false);
    let at = line["at"].as_str().unwrap();
    assert!(
        at.len() == 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
        "{at}"
    );
    let added: Vec<&str> = line["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        added.contains(&"minimal-domain") && added.contains(&"weighted-index"),
        "{line}"
    );
    let old_hash = line["added"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "minimal-domain")
        .unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();

    // Change the library's bytes (trailing bytes: it still loads), lock again.
    let copied = installed.join(library.file_name().unwrap());
    let mut bytes = std::fs::read(&copied).unwrap();
    bytes.extend_from_slice(b"\0changed");
    std::fs::write(&copied, bytes).unwrap();
    let second = lock(&plugins, &lock_file);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let lines = audit_lines(&lock_file);
    assert_eq!(lines.len(), 2, "one line per run");
    let line = &lines[1];
    assert_eq!(line["previous_lock"], true);
    assert_eq!(line["added"], Value::Array(vec![]), "{line}");
    assert_eq!(line["removed"], Value::Array(vec![]), "{line}");
    let changed = line["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{line}");
    assert_eq!(changed[0]["name"], "minimal-domain");
    assert_eq!(changed[0]["old_sha256"], old_hash.as_str());
    let new_hash = changed[0]["new_sha256"].as_str().unwrap();
    assert!(new_hash.len() == 64 && new_hash != old_hash, "{line}");
    assert!(
        std::fs::read_to_string(&lock_file)
            .unwrap()
            .contains(new_hash)
    );
}
