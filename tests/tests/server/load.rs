//! Load: 1,000 concurrent sessions, each saving 50 answers in five batches and
//! submitting, against a real `ikd serve` on SQLite and on PostgreSQL
//! (loopback only, bounded in count). Zero errors are allowed; the figures
//! (throughput, p50/p99 per call, peak server memory) are printed for the
//! record, never asserted. And overload: with every slot busy, further
//! requests are refused at once with RESOURCE_EXHAUSTED, not left to time out.

use ikd_proto::v1 as api;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::{built_plugin, fixture_instrument, workspace};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

const SESSIONS: usize = 1000;
const ANSWERS_PER_SESSION: usize = 50;
const BATCHES: usize = 5;
/// Client connections; sessions are spread over them (the server limits
/// requests per connection, as a gateway in front of it would).
const CONNECTIONS: usize = 8;

fn authorized<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.set_timeout(Duration::from_secs(180));
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", tokens::SERVICE).parse().unwrap(),
    );
    r
}

/// The bundled example respondents with enough answers: (org unit, answers).
fn examples() -> Vec<(String, Vec<api::Answer>)> {
    ikd_tests::example_respondents()
        .into_iter()
        .filter(|r| r.answers.len() >= ANSWERS_PER_SESSION)
        .map(|r| {
            let answers = r
                .answers
                .into_iter()
                .map(|(item_id, value)| api::Answer { item_id, value })
                .collect();
            (r.org_unit, answers)
        })
        .collect()
}

/// Latencies per call kind, and errors.
#[derive(Default)]
struct Record {
    start: Vec<Duration>,
    save: Vec<Duration>,
    submit: Vec<Duration>,
    errors: Vec<String>,
}

fn quantile(latencies: &mut [Duration], q: f64) -> f64 {
    latencies.sort();
    let k = ((latencies.len() as f64 - 1.0) * q).round() as usize;
    latencies
        .get(k)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

async fn one_session(
    mut client: AssessmentServiceClient<Channel>,
    k: usize,
    org_unit: String,
    answers: Vec<api::Answer>,
    record: Arc<Mutex<Record>>,
) -> Result<(), String> {
    let timed = Instant::now();
    let session = client
        .start_session(authorized(api::StartSessionRequest {
            instrument: Some(api::InstrumentRef {
                id: "ikd-asn-2025".into(),
                ..Default::default()
            }),
            respondent_id: format!("load-{k}"),
            org_unit,
        }))
        .await
        .map_err(|s| format!("start {k}: {s:?}"))?
        .into_inner()
        .session_id;
    record.lock().unwrap().start.push(timed.elapsed());
    let per_batch = ANSWERS_PER_SESSION / BATCHES;
    for (b, batch) in answers[..ANSWERS_PER_SESSION].chunks(per_batch).enumerate() {
        let timed = Instant::now();
        client
            .save_answers(authorized(api::SaveAnswersRequest {
                session_id: session.clone(),
                request_id: format!("{k}-{b}"),
                answers: batch.to_vec(),
            }))
            .await
            .map_err(|s| format!("save {k}/{b}: {s:?}"))?;
        record.lock().unwrap().save.push(timed.elapsed());
    }
    let timed = Instant::now();
    let submitted = client
        .submit_session(authorized(api::SubmitSessionRequest {
            session_id: session,
            language: String::new(),
            end_early: false,
        }))
        .await
        .map_err(|s| format!("submit {k}: {s:?}"))?
        .into_inner();
    record.lock().unwrap().submit.push(timed.elapsed());
    if submitted.result.is_none_or(|r| r.index.is_none()) {
        return Err(format!("submit {k}: no index"));
    }
    Ok(())
}

async fn thousand_sessions(backend: &str, database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.database_url = database_url;
    // Under a thousand sessions at once a debug build on two cores queues
    // requests for seconds; this test is about losing none, not about speed.
    options.env = vec![("IKD_REQUEST_TIMEOUT_SECONDS".into(), "150".into())];
    let server = TestServer::start(options);
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        let channel = Channel::from_shared(server.url())
            .unwrap()
            .connect()
            .await
            .unwrap();
        clients.push(AssessmentServiceClient::new(channel));
    }
    let examples = examples();
    assert!(!examples.is_empty());
    let record = Arc::new(Mutex::new(Record::default()));
    let started = Instant::now();
    let tasks: Vec<_> = (0..SESSIONS)
        .map(|k| {
            let (org_unit, answers) = examples[k % examples.len()].clone();
            let client = clients[k % CONNECTIONS].clone();
            let record = record.clone();
            tokio::spawn(async move {
                if let Err(e) = one_session(client, k, org_unit, answers, record.clone()).await {
                    record.lock().unwrap().errors.push(e);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak = server.peak_memory_kib();
    let mut r = Arc::try_unwrap(record).ok().unwrap().into_inner().unwrap();
    assert!(
        r.errors.is_empty(),
        "{backend}: {} of {SESSIONS} sessions failed; first: {:?}",
        r.errors.len(),
        &r.errors[..r.errors.len().min(5)]
    );
    assert_eq!(r.submit.len(), SESSIONS);
    let calls = r.start.len() + r.save.len() + r.submit.len();
    eprintln!(
        "load {backend}: {SESSIONS} concurrent sessions × ({BATCHES} saves of {} answers + submit) \
         in {elapsed:.1} s: {:.0} calls/s, {:.0} sessions/s; p50/p99 ms: start {:.1}/{:.1}, \
         save {:.1}/{:.1}, submit {:.1}/{:.1}; peak server memory {} MiB",
        ANSWERS_PER_SESSION / BATCHES,
        calls as f64 / elapsed,
        SESSIONS as f64 / elapsed,
        quantile(&mut r.start, 0.5),
        quantile(&mut r.start, 0.99),
        quantile(&mut r.save, 0.5),
        quantile(&mut r.save, 0.99),
        quantile(&mut r.submit, 0.5),
        quantile(&mut r.submit, 0.99),
        peak.map_or("?".into(), |kib| format!("{:.0}", kib as f64 / 1024.0)),
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_sessions_on_sqlite() {
    thousand_sessions("sqlite", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_sessions_on_postgresql() {
    let url = ikd_tests::postgres::server().new_database();
    thousand_sessions("postgresql", Some(url)).await;
}

/// Every request slot held by a slow plugin call: the others are refused at
/// once with RESOURCE_EXHAUSTED, and the held ones still complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_refused_at_once_not_left_to_time_out() {
    built_plugin("ikd-fixture-misbehaving");
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture_instrument("hand-computed.toml")).unwrap();
    let slow = dir.path().join("slow.toml");
    std::fs::write(
        &slow,
        text.replace("plugin = \"minimal-domain\"", "plugin = \"misbehaving\""),
    )
    .unwrap();
    let mut options = ServerOptions::new(&dir.path().join("data"));
    options.args = vec!["--instrument".into(), slow.display().to_string()];
    options.env = vec![
        (
            "IKD_PLUGIN_PATH".into(),
            workspace()
                .join("tests/fixtures/plugins/misbehaving")
                .display()
                .to_string(),
        ),
        ("IKD_MAX_CONCURRENT_REQUESTS".into(), "4".into()),
        ("IKD_REQUEST_TIMEOUT_SECONDS".into(), "20".into()),
    ];
    let server = TestServer::start(options);
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let client = AssessmentServiceClient::new(channel);
    let score = |a1: &str| {
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
        authorized(api::ScoreRequest {
            instrument: Some(api::InstrumentRef {
                id: "hand".into(),
                ..Default::default()
            }),
            respondent_id: "r".into(),
            org_unit: "36.72".into(),
            answers,
            ..Default::default()
        })
    };
    // Four slow calls (five seconds each in the plugin) take every slot.
    let held: Vec<_> = (0..4)
        .map(|_| {
            let mut client = client.clone();
            let request = score("slow");
            tokio::spawn(async move { client.score(request).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut refused = 0;
    let mut slowest = Duration::ZERO;
    let burst: Vec<_> = (0..40)
        .map(|_| {
            let mut client = client.clone();
            let request = score("5");
            tokio::spawn(async move {
                let at = Instant::now();
                (client.score(request).await, at.elapsed())
            })
        })
        .collect();
    for call in burst {
        let (outcome, took) = call.await.unwrap();
        slowest = slowest.max(took);
        match outcome {
            Ok(_) => {}
            Err(s) if s.code() == tonic::Code::ResourceExhausted => refused += 1,
            Err(s) => panic!("an overloaded call failed otherwise: {s:?}"),
        }
    }
    assert!(
        refused >= 30,
        "only {refused} of 40 refused while every slot was busy"
    );
    assert!(
        slowest < Duration::from_secs(4),
        "refusals must come at once, not after the held calls ({slowest:?})"
    );
    for call in held {
        // The slow answer "slow" is not a Likert value: refused by the plugin after its delay.
        let status = call.await.unwrap().expect_err("'slow' is no valid answer");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    }
    eprintln!("overload: {refused} of 40 refused at once (slowest {slowest:?}) with 4 slots held");
    server.stop();
}
