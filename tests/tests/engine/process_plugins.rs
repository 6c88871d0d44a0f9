//! Process plugins: a scoring model written in Python (`python/examples/py-mean`)
//! run by the engine as a child process — through the library, `ikd score` and
//! the gRPC `Score` — and a misbehaving one (`tests/fixtures/process-plugins/faulty`)
//! whose crashes, hangs and exceptions stay in the child.
//!
//! Needs `python3` with the `protobuf` package (`scripts/test` provides it in a virtual environment).

use ikd_core::answers::{AnswerRows, Respondent};
use ikd_core::host::{PluginCallError, PluginHost, PluginSearch, Transport};
use ikd_core::instrument;
use ikd_core::pipeline::{ScoreError, Scorer, ScorerOptions};
use ikd_proto::v1 as api;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::{
    built_plugin, fixture_dir, fixture_instrument, ikd_binary, install_plugin, workspace,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn py_mean_dir() -> PathBuf {
    workspace().join("python/examples/py-mean")
}

fn faulty_dir() -> PathBuf {
    workspace().join("tests/fixtures/process-plugins/faulty")
}

/// The minimal domain fixture and the weighted index (native) beside the two process plugins.
fn host() -> PluginHost {
    let root = tempfile::tempdir().unwrap().keep();
    install_plugin(
        &root,
        &fixture_dir("minimal-domain"),
        &built_plugin("ikd-fixture-minimal-domain"),
    );
    install_plugin(
        &root,
        &workspace().join("plugins/scoring-weighted-index"),
        &built_plugin("ikd-scoring-weighted-index"),
    );
    PluginHost::discover(&PluginSearch {
        dirs: vec![root, py_mean_dir(), faulty_dir()],
        ..Default::default()
    })
}

/// The hand-computed instrument (two domains, weights 0.75 / 0.25), with the
/// faulty model's control file set in its alternative settings.
fn instrument_with_fault_file(dir: &Path, fault_file: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture_instrument("hand-computed.toml")).unwrap();
    let text = text.replace(
        "[missing]",
        &format!(
            "[scoring.alternatives.faulty-process]\nfault_file = {:?}\n\n[missing]",
            fault_file.display().to_string()
        ),
    );
    let path = dir.join("hand.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn scorer(host: &PluginHost, path: &Path, model: &str) -> Scorer {
    let instrument = Arc::new(instrument::load(path).expect("instrument loads"));
    let options = ScorerOptions {
        model: Some(model.to_owned()),
        ..ScorerOptions::default()
    };
    Scorer::new(instrument, host, &options).expect("scorer")
}

/// Rows of (id, [A1, A2, A3, B1, B2]).
fn rows(data: &[(&str, [&str; 5])]) -> AnswerRows {
    let mut rows = AnswerRows::new(5);
    for (line, (id, cells)) in data.iter().enumerate() {
        let who = Respondent {
            id,
            org_unit: "36.72/diskominfo",
            duration: Some(900.0),
            origin: line as u64 + 2,
        };
        rows.push(who, cells.iter().copied());
    }
    rows
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn the_python_helper_carries_the_current_plugin_messages() {
    let committed = workspace().join("python/ikd_plugin/ikd_plugin_v1.binpb");
    let current = ikd_plugin_sdk::proto::FILE_DESCRIPTOR_SET;
    if std::env::var_os("IKD_BLESS").is_some() {
        std::fs::write(&committed, current).unwrap();
    }
    let on_disk = std::fs::read(&committed).unwrap_or_default();
    assert!(
        on_disk == current,
        "{} is not the descriptor set of proto/ikd/plugin/v1; refresh it with \
         `IKD_BLESS=1 cargo test -p ikd-tests --test engine process_plugins::the_python_helper`",
        committed.display()
    );
}

#[test]
fn the_python_model_is_a_process_plugin_and_scores_hand_computed_answers() {
    let host = host();
    let plugin = host.get("py-mean").expect("py-mean loaded");
    assert_eq!(plugin.transport(), Transport::Process);
    assert_eq!(plugin.info.kind, 2, "a scoring model");
    let dir = tempfile::tempdir().unwrap();
    let path = instrument_with_fault_file(dir.path(), &dir.path().join("unused"));
    let s = scorer(&host, &path, "py-mean");
    let results = s
        .score(&rows(&[
            // alpha: A1 5 → 1; A2 2 reversed → 4 → 0.75; A3 keyed → 1: mean 0.9167 → 91.6667.
            // beta: B1 3 → 0.5; B2 credit 0.5: mean 0.5 → 50.
            // index = 0.75·91.6667 + 0.25·50 = 81.25 ("tinggi": the cut point belongs to it).
            ("r1", ["5", "2", "b", "3", "b"]),
            // alpha: A1 4 → 0.75; A2 1 reversed → 5 → 1; A3 wrong → 0: 58.3333.
            // beta: B1 5 → 1; B2 credit 1 → 1: 100. index = 43.75 + 25 = 68.75 ("sedang").
            ("r3", ["4", "1", "c", "5", "a"]),
            // beta unanswered: missing (not 0); index = alpha alone.
            ("r4", ["3", "3", "b", "", ""]),
        ]))
        .expect("scored");
    let (r1, r3, r4) = (&results[0], &results[1], &results[2]);
    assert!(close(r1.domains[0].score, 100.0 * (1.0 + 0.75 + 1.0) / 3.0));
    assert!(close(r1.domains[1].score, 50.0));
    assert!(close(r1.index, 81.25), "{:?}", r1.index);
    assert_eq!(r1.level, Some(2));
    assert!(close(r3.domains[0].score, 100.0 * 1.75 / 3.0));
    assert!(close(r3.domains[1].score, 100.0));
    assert!(close(r3.index, 68.75));
    assert_eq!(r3.level, Some(1));
    // alpha: 0.5, 0.5, 1 → 66.6667.
    assert!(close(r4.domains[0].score, 200.0 / 3.0));
    assert_eq!(r4.domains[1].score, None);
    assert_eq!(r4.domains[1].answered, 0);
    assert!(close(r4.index, 200.0 / 3.0));
    assert_eq!(r1.domains[0].se, None, "py-mean gives no standard errors");
}

#[test]
fn ikd_score_runs_the_python_model_on_the_ikd_instrument() {
    let out = Command::new(ikd_binary())
        .arg("--plugin-dir")
        .arg(py_mean_dir())
        .args([
            "score",
            "--instrument",
            "ikd-asn-2025",
            "--model",
            "py-mean",
        ])
        .args(["--format", "json"])
        .arg(workspace().join("instruments/ikd-asn-2025/examples/answers.csv"))
        .env_remove("IKD_PLUGIN_PATH")
        .output()
        .expect("ikd runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert!(results.len() >= 10, "{} results", results.len());
    for r in &results {
        assert_eq!(r["provenance"]["model"]["name"], "py-mean");
        let scores: Vec<f64> = r["domains"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["score"].as_f64())
            .collect();
        assert!(scores.iter().all(|s| (0.0..=100.0).contains(s)), "{r}");
        // Equal domain weights (0.2 each): the index is the plain mean of the scored domains.
        if let Some(index) = r["index"].as_f64() {
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            assert!((index - mean).abs() < 1e-9, "{index} vs {mean}");
        }
    }

    let listed = Command::new(ikd_binary())
        .arg("--plugin-dir")
        .arg(py_mean_dir())
        .args(["plugins", "list", "--json"])
        .env_remove("IKD_PLUGIN_PATH")
        .output()
        .expect("ikd runs");
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).expect("json");
    let row = rows
        .iter()
        .find(|r| r["name"] == "py-mean")
        .expect("listed");
    assert_eq!(row["transport"], "process");
    assert_eq!(row["status"], "loaded");
}

/// Crash, hang, exception and garbage: each fails its own call with a clear
/// error, and the next call gets a fresh child and scores normally.
#[test]
fn a_crashing_or_hanging_child_fails_one_call_and_is_restarted() {
    let host = host();
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("fault");
    let path = instrument_with_fault_file(dir.path(), &control);
    let s = scorer(&host, &path, "faulty-process");
    let plugin = host.get("faulty-process").unwrap().clone();
    let batch = rows(&[("r1", ["5", "2", "b", "3", "b"])]);
    let fault = |mode: &str| std::fs::write(&control, mode).unwrap();

    fault("ok");
    assert!(close(s.score(&batch).expect("scores")[0].index, 81.25));

    fault("crash");
    match s.score(&batch) {
        Err(ScoreError::Plugin(PluginCallError::Crashed { plugin, detail })) => {
            assert_eq!(plugin, "faulty-process");
            assert!(detail.contains("exit"), "{detail}");
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    fault("ok");
    assert!(close(s.score(&batch).expect("restarted")[0].index, 81.25));
    assert_eq!(plugin.restarts(), 1);

    fault("hang");
    let started = Instant::now();
    match s.score(&batch) {
        Err(ScoreError::Plugin(PluginCallError::TimedOut { after, .. })) => {
            assert_eq!(
                after,
                Duration::from_secs(2),
                "the manifest's call_timeout_seconds"
            )
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the hung child was not waited for"
    );
    fault("raise");
    match s.score(&batch) {
        Err(ScoreError::Plugin(PluginCallError::Panicked { message, .. })) => {
            assert!(message.contains("asked to fail"), "{message}")
        }
        other => panic!("expected the exception as a panic, got {other:?}"),
    }
    fault("garbage");
    assert!(matches!(
        s.score(&batch),
        Err(ScoreError::Plugin(PluginCallError::Crashed { .. }))
    ));
    fault("ok");
    assert!(close(s.score(&batch).expect("restarted")[0].index, 81.25));
    assert!(!plugin.is_poisoned(), "failures were not all in a row");
    assert_eq!(
        plugin.restarts(),
        3,
        "after the crash, the hang and the garbage"
    );
}

#[test]
fn a_child_that_keeps_failing_is_disabled() {
    let host = host();
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("fault");
    let path = instrument_with_fault_file(dir.path(), &control);
    let s = scorer(&host, &path, "faulty-process");
    let batch = rows(&[("r1", ["5", "2", "b", "3", "b"])]);
    std::fs::write(&control, "crash").unwrap();
    for _ in 0..ikd_core::host::MAX_CONSECUTIVE_FAILURES {
        assert!(s.score(&batch).is_err());
    }
    assert!(host.get("faulty-process").unwrap().is_poisoned());
    std::fs::write(&control, "ok").unwrap();
    assert!(matches!(
        s.score(&batch),
        Err(ScoreError::Plugin(PluginCallError::Poisoned { .. }))
    ));
}

#[test]
fn a_manifest_without_a_command_or_with_a_missing_program_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let write = |name: &str, manifest: &str| {
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    };
    let head = "kind = \"scoring-model\"\nversion = \"0.1.0\"\nabi_major = 1\nengine = \"^0.1\"\ntransport = \"process\"\n";
    write("no-command", &format!("name = \"no-command\"\n{head}"));
    write(
        "missing",
        &format!("name = \"missing\"\n{head}command = [\"./no-such-program\"]\n"),
    );
    write(
        "silent",
        &format!("name = \"silent\"\n{head}command = [\"true\"]\n"),
    );
    let host = PluginHost::discover(&PluginSearch {
        dirs: vec![root.path().to_owned()],
        ..Default::default()
    });
    let why = |name: &str| {
        let entry = host
            .entries()
            .iter()
            .find(|e| e.manifest_path.parent().unwrap().ends_with(name))
            .expect("found");
        match &entry.status {
            ikd_core::host::PluginStatus::Refused(why) => why.clone(),
            ikd_core::host::PluginStatus::Loaded(_) => panic!("{name} was loaded"),
        }
    };
    assert!(
        why("no-command").contains("needs field 'command'"),
        "{}",
        why("no-command")
    );
    assert!(
        why("missing").contains("cannot start"),
        "{}",
        why("missing")
    );
    assert!(
        why("silent").contains("stopped answering"),
        "{}",
        why("silent")
    );
}

/// The gRPC server scores with the Python model, and a hanging process plugin
/// fails its request with DEADLINE_EXCEEDED while the server keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_scores_with_a_process_plugin_and_survives_a_hanging_one() {
    built_plugin("ikd-fixture-minimal-domain");
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("fault");
    std::fs::write(&control, "ok").unwrap();
    let instrument = instrument_with_fault_file(dir.path(), &control);
    let plugin_path = std::env::join_paths([
        py_mean_dir(),
        faulty_dir(),
        workspace().join("tests/fixtures/plugins/minimal-domain"),
    ])
    .unwrap();
    let mut options = ServerOptions::new(&dir.path().join("data"));
    options.args = vec!["--instrument".into(), instrument.display().to_string()];
    options.env = vec![(
        "IKD_PLUGIN_PATH".into(),
        plugin_path.to_string_lossy().into_owned(),
    )];
    let server = TestServer::start(options);
    let channel = tonic::transport::Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let client = AssessmentServiceClient::new(channel);
    let request = |model: &str| {
        let answers = [
            ("A1", "5"),
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
                id: "hand".into(),
                ..Default::default()
            }),
            respondent_id: "r1".into(),
            org_unit: "36.72/diskominfo".into(),
            answers,
            model: model.into(),
            ..Default::default()
        });
        r.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", tokens::SERVICE).parse().unwrap(),
        );
        r
    };
    let scored = client
        .clone()
        .score(request("py-mean"))
        .await
        .expect("py-mean over gRPC")
        .into_inner();
    let result = scored.result.expect("a result");
    assert!(
        (result.index.unwrap() - 81.25).abs() < 1e-9,
        "{:?}",
        result.index
    );

    std::fs::write(&control, "hang").unwrap();
    let hanging = tokio::spawn({
        let mut client = client.clone();
        let request = request("faulty-process");
        async move {
            let started = Instant::now();
            (client.score(request).await, started.elapsed())
        }
    });
    // While the child hangs, other requests are answered at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    client
        .clone()
        .score(request("weighted-index"))
        .await
        .expect("the server keeps serving");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let (outcome, took) = hanging.await.unwrap();
    let status = outcome.expect_err("the hanging call fails");
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(20),
        "{took:?}"
    );

    std::fs::write(&control, "ok").unwrap();
    client
        .clone()
        .score(request("faulty-process"))
        .await
        .expect("a new child serves the next request");
    server.stop();
}
