//! Integrity and confidentiality attacks on a real `ikd serve` (issue 12, defects 2 and 3):
//!
//! * `Rescore` settings that name a file outside the instrument's directory (an absolute
//!   path, `..`, `/proc/self/environ`, a symbolic link out) are refused with
//!   `INVALID_ARGUMENT` naming the setting; neither the status nor the audit log ever holds
//!   the file's content or the server's paths; a relative params file inside still works;
//! * `SaveAnswers` racing `SubmitSession`: every save acknowledged OK is in the stored
//!   result, every save that lost the race gets `FAILED_PRECONDITION`, on SQLite and on
//!   PostgreSQL.

use ikd_proto::v1 as api;
use ikd_proto::v1::admin_service_client::AdminServiceClient;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_tests::grpc::{Bearer, api_answers, channel, ikd_asn};
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::{example_respondents, workspace};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Assessment = AssessmentServiceClient<InterceptedService<Channel, Bearer>>;
type Admin = AdminServiceClient<InterceptedService<Channel, Bearer>>;

async fn assessment(server: &TestServer) -> Assessment {
    AssessmentServiceClient::with_interceptor(channel(server).await, Bearer::new(tokens::SERVICE))
}

async fn admin(server: &TestServer) -> Admin {
    AdminServiceClient::with_interceptor(channel(server).await, Bearer::new(tokens::ADMIN))
}

/// Starts, fills and submits one session of the first example respondent.
async fn submit_one(client: &mut Assessment) -> String {
    let respondent = &example_respondents()[0];
    let id = client
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: respondent.id.clone(),
            org_unit: respondent.org_unit.clone(),
        })
        .await
        .expect("start")
        .into_inner()
        .session_id;
    client
        .save_answers(api::SaveAnswersRequest {
            session_id: id.clone(),
            request_id: "all".into(),
            answers: api_answers(&respondent.answers),
        })
        .await
        .expect("save");
    client
        .submit_session(api::SubmitSessionRequest {
            session_id: id.clone(),
            language: String::new(),
            end_early: false,
        })
        .await
        .expect("submit");
    id
}

// ---------------------------------------------------------------------------------------
// Defect 2: Rescore settings naming files outside the instrument's directory.
// ---------------------------------------------------------------------------------------

/// A copy of the bundled IKD-ASN instrument (and its IRT parameters) in `root/instrument`,
/// so that a test may plant files and links beside it.
fn copy_instrument(root: &Path) -> PathBuf {
    let source = workspace().join("instruments/ikd-asn-2025");
    let dir = root.join("instruments/ikd-asn-2025");
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["instrument.toml", "irt-params.csv"] {
        std::fs::copy(source.join(file), dir.join(file)).unwrap();
    }
    dir
}

/// Every way a rendered text could give away `secret` or a server path.
fn assert_leaks_nothing(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{what} gives away {secret:?}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescore_settings_cannot_name_files_outside_the_instrument_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let data = root.join("data");
    let instrument_dir = copy_instrument(&root);
    let mut options = ServerOptions::new(&data);
    options.args = vec!["--instrument".into(), instrument_dir.display().to_string()];
    options
        .env
        .push(("RUST_LOG".into(), "warn,audit=info".into()));
    let server = TestServer::start(options);
    let mut client = assessment(&server).await;
    submit_one(&mut client).await;

    let key_path = data.join("pseudonym.key");
    let key = std::fs::read_to_string(&key_path).expect("the server wrote its pseudonym key");
    assert!(key.trim().len() >= 32, "a real key: {key:?}");
    // Planted inside the instrument's directory: a link to the key, a link to the data
    // directory, and a link to /proc/self (the server's environment holds every token).
    std::os::unix::fs::symlink(&key_path, instrument_dir.join("params-link.csv")).unwrap();
    std::os::unix::fs::symlink(&data, instrument_dir.join("data-link")).unwrap();
    std::os::unix::fs::symlink("/proc/self", instrument_dir.join("proc-link")).unwrap();

    let key_abs = key_path.display().to_string();
    let up = "../".repeat(instrument_dir.components().count());
    let attacks = [
        key_abs.clone(),
        "../../data/pseudonym.key".to_owned(),
        format!("{up}{}", key_abs.trim_start_matches('/')),
        "/proc/self/environ".to_owned(),
        "/etc/passwd".to_owned(),
        "params-link.csv".to_owned(),
        "./params-link.csv".to_owned(),
        "data-link/pseudonym.key".to_owned(),
        "proc-link/environ".to_owned(),
        "sub/../../../data/pseudonym.key".to_owned(),
    ];
    let root_text = root.display().to_string();
    let tmp_text = tmp.path().display().to_string();
    let secrets: Vec<&str> = vec![
        key.trim(),
        &key_abs,
        &root_text,
        &tmp_text,
        tokens::ADMIN,
        tokens::SERVICE,
        tokens::ANALYST,
        "root:x:0:0",
        "IKD_TOKENS",
    ];
    let mut admin = admin(&server).await;
    let mut refused = Vec::new();
    for params in &attacks {
        let settings = serde_json::json!({ "params": params }).to_string();
        let status = admin
            .rescore(api::RescoreRequest {
                instrument: ikd_asn(),
                model: "irt".into(),
                settings_json: settings,
            })
            .await
            .expect_err(&format!("params = {params:?} must be refused"));
        refused.push((params.clone(), status.code()));
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "params = {params:?}: {status:?}"
        );
        assert!(
            status.message().contains("settings_json.params"),
            "params = {params:?}: the message names the setting: {status:?}"
        );
        assert_leaks_nothing(
            &format!("the status of params = {params:?}"),
            &format!("{status:?}"),
            &secrets,
        );
    }
    // The same key nested deeper in the settings is refused too: the engine does not know
    // which settings a plugin reads as files, so it checks every string.
    let status = admin
        .rescore(api::RescoreRequest {
            instrument: ikd_asn(),
            model: "irt".into(),
            settings_json: serde_json::json!({
                "params": "irt-params.csv",
                "reporting": { "center": 50, "file": key_abs },
            })
            .to_string(),
        })
        .await
        .expect_err("a nested path is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("settings_json.reporting.file"),
        "{status:?}"
    );

    // A file inside the directory that is not a PARAMS.csv: refused without quoting it.
    let toml_first_line = std::fs::read_to_string(instrument_dir.join("instrument.toml"))
        .unwrap()
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap()
        .to_owned();
    let status = admin
        .rescore(api::RescoreRequest {
            instrument: ikd_asn(),
            model: "irt".into(),
            settings_json: r#"{"params": "instrument.toml"}"#.into(),
        })
        .await
        .expect_err("not a PARAMS.csv");
    assert!(
        status.message().contains("settings.params"),
        "names the setting: {status:?}"
    );
    let mut quoted = secrets.clone();
    quoted.push(&toml_first_line);
    assert_leaks_nothing("a PARAMS.csv parse error", &format!("{status:?}"), &quoted);

    // Legitimate: the instrument's own parameters, by a relative name.
    for params in ["irt-params.csv", "./irt-params.csv"] {
        let done = admin
            .rescore(api::RescoreRequest {
                instrument: ikd_asn(),
                model: "irt".into(),
                settings_json: serde_json::json!({ "params": params }).to_string(),
            })
            .await
            .unwrap_or_else(|e| panic!("params = {params:?}: {e:?}"))
            .into_inner();
        assert_eq!(
            (done.sessions, done.rescored, done.failed),
            (1, 1, 0),
            "{done:?}"
        );
    }

    // The audit log: structured fields only, never the file's content or a server path.
    let entries = admin
        .list_audit_log(api::ListAuditLogRequest {
            since: 0,
            limit: 1000,
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(
        entries.len(),
        2 * (attacks.len() + 4),
        "a started and a finished entry per rescore"
    );
    for e in &entries {
        assert_leaks_nothing(&format!("audit entry {}", e.id), &format!("{e:?}"), &quoted);
        let detail: serde_json::Value = serde_json::from_str(&e.detail_json).unwrap();
        assert_eq!(detail["model"], "irt", "{e:?}");
    }
    let refusals: Vec<serde_json::Value> = entries
        .iter()
        .filter(|e| e.action == "rescore.finished")
        .map(|e| serde_json::from_str(&e.detail_json).unwrap())
        .filter(|d: &serde_json::Value| d["error"]["category"] == "setting_outside_instrument_dir")
        .collect();
    assert_eq!(refusals.len(), attacks.len() + 1, "{entries:#?}");
    for d in &refusals {
        assert_eq!(d["error"]["code"], "InvalidArgument", "{d}");
        assert!(
            d["error"]["setting"]
                .as_str()
                .is_some_and(|s| s.starts_with("settings_json.")),
            "{d}"
        );
        assert!(d["error"].get("message").is_none(), "no free text: {d}");
    }
    drop(admin);
    drop(client);
    assert_leaks_nothing("the server's log", &server.stderr(), &quoted);
    println!("refused: {refused:?}");
    server.stop();
}

// ---------------------------------------------------------------------------------------
// Defect 3: a save racing the submit.
// ---------------------------------------------------------------------------------------

/// What a stored result says about the answers it was computed from.
#[derive(Debug, PartialEq)]
struct Fingerprint {
    index: Option<u64>,
    domains: Vec<(String, Option<u64>, u32)>,
}

fn fingerprint(result: &api::Result) -> Fingerprint {
    Fingerprint {
        index: result.index.map(f64::to_bits),
        domains: result
            .domains
            .iter()
            .map(|d| (d.code.clone(), d.score.map(f64::to_bits), d.answered))
            .collect(),
    }
}

/// The stateless score of `answers` (the same scorer a submit uses).
async fn score(client: &mut Assessment, answers: &[(String, String)]) -> Fingerprint {
    let result = client
        .score(api::ScoreRequest {
            instrument: ikd_asn(),
            respondent_id: "x".into(),
            org_unit: "36.72".into(),
            answers: api_answers(answers),
            ..Default::default()
        })
        .await
        .expect("score")
        .into_inner()
        .result
        .expect("a result");
    fingerprint(&result)
}

/// How the sessions of a race ended.
#[derive(Debug, Default)]
struct RaceOutcome {
    /// Saves acknowledged OK and present in the stored result.
    kept: usize,
    /// Saves acknowledged OK but missing from the stored result: the defect.
    lost: usize,
    /// Saves refused with FAILED_PRECONDITION (the submit came first).
    refused: usize,
}

/// Races one `SaveAnswers` (the held-out item) against `SubmitSession` in each of
/// `sessions` sessions, `parallel` sessions at a time, and compares every acknowledged save
/// with the stored result.
async fn race_saves_against_submits(
    server: &TestServer,
    sessions: usize,
    parallel: usize,
) -> RaceOutcome {
    let respondent = &example_respondents()[0];
    // Hold one item back: the racing save answers it, which changes its domain's answered
    // count (and score), so the stored result shows whether the save was scored.
    let mut first = respondent.answers.clone();
    let late = vec![first.remove(first.len() / 2)];
    let mut client = assessment(server).await;
    let without = score(&mut client, &first).await;
    let mut all = first.clone();
    all.extend(late.iter().cloned());
    let with = score(&mut client, &all).await;
    assert_ne!(with, without, "the held-out item must change the result");

    let mut outcome = RaceOutcome::default();
    for round in 0..sessions.div_ceil(parallel) {
        let mut tasks = Vec::new();
        for k in 0..parallel.min(sessions - round * parallel) {
            let mut client = client.clone();
            let (first, late) = (first.clone(), late.clone());
            let org_unit = respondent.org_unit.clone();
            tasks.push(tokio::spawn(async move {
                let id = client
                    .start_session(api::StartSessionRequest {
                        instrument: ikd_asn(),
                        respondent_id: format!("race-{round}-{k}"),
                        org_unit,
                    })
                    .await
                    .expect("start")
                    .into_inner()
                    .session_id;
                client
                    .save_answers(api::SaveAnswersRequest {
                        session_id: id.clone(),
                        request_id: "first".into(),
                        answers: api_answers(&first),
                    })
                    .await
                    .expect("first save");
                let mut saver = client.clone();
                let save_req = api::SaveAnswersRequest {
                    session_id: id.clone(),
                    request_id: "late".into(),
                    answers: api_answers(&late),
                };
                // Stagger the save by 0–1.5 ms so that it lands at every stage of the submit.
                let delay = Duration::from_micros(((round * parallel + k) % 4) as u64 * 500);
                let save = async move {
                    tokio::time::sleep(delay).await;
                    saver.save_answers(save_req).await
                };
                let mut submitter = client.clone();
                let submit = submitter.submit_session(api::SubmitSessionRequest {
                    session_id: id.clone(),
                    language: String::new(),
                    end_early: false,
                });
                let (saved, submitted) = tokio::join!(save, submit);
                let submitted = submitted.expect("the submit succeeds").into_inner();
                let stored = client
                    .get_result(api::GetResultRequest {
                        session_id: id.clone(),
                        language: String::new(),
                    })
                    .await
                    .expect("the stored result")
                    .into_inner();
                let stored = fingerprint(stored.result.as_ref().expect("a result"));
                assert_eq!(
                    fingerprint(submitted.result.as_ref().expect("a result")),
                    stored,
                    "session {id}: the submit answered what it stored"
                );
                (id, saved.map(|r| r.into_inner()), stored)
            }));
        }
        for task in tasks {
            let (id, saved, stored) = task.await.expect("a race task");
            match saved {
                Ok(r) => {
                    assert!(!r.replayed, "session {id}");
                    if stored == with {
                        outcome.kept += 1;
                    } else {
                        assert_eq!(stored, without, "session {id}: scored from other answers");
                        outcome.lost += 1;
                    }
                }
                Err(status) => {
                    assert_eq!(
                        status.code(),
                        Code::FailedPrecondition,
                        "session {id}: a save after the submit: {status:?}"
                    );
                    assert_eq!(stored, without, "session {id}: a refused save was scored");
                    outcome.refused += 1;
                }
            }
        }
    }
    outcome
}

fn check_race(backend: &str, outcome: &RaceOutcome, sessions: usize) {
    println!(
        "{backend}: {sessions} racing sessions: {} acknowledged saves kept, {} LOST, \
         {} refused after the submit",
        outcome.kept, outcome.lost, outcome.refused
    );
    assert_eq!(outcome.kept + outcome.lost + outcome.refused, sessions);
    assert_eq!(
        outcome.lost, 0,
        "{backend}: acknowledged saves left out of the submitted result: {outcome:?}"
    );
    assert!(
        outcome.kept > 0,
        "{backend}: no save won the race, so the test proved nothing: {outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_saves_are_in_the_submitted_result_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let sessions = 60;
    let outcome = race_saves_against_submits(&server, sessions, 6).await;
    check_race("sqlite", &outcome, sessions);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_saves_are_in_the_submitted_result_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.database_url = Some(ikd_tests::postgres::server().new_database());
    let server = TestServer::start(options);
    let sessions = 40;
    let outcome = race_saves_against_submits(&server, sessions, 4).await;
    check_race("postgres", &outcome, sessions);
    server.stop();
}
