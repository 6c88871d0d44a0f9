//! Durability: nothing acknowledged is lost (issue 6).
//!
//! A real `ikd serve` runs under a write load of `StartSession` / `SaveAnswers` /
//! `SubmitSession` from [`CLIENTS`] concurrent clients and is killed with SIGKILL at random
//! moments ([`KILLS`] times, after a random 150–600 ms of load each), then restarted on the
//! same data directory and database (same SQLite file or PostgreSQL database, same pseudonym
//! key, same tokens). Clients write down every acknowledged (`Ok`) response in a ledger; a call
//! that fails because the server died is not acknowledged and is retried on the restarted
//! server with the same request (the same request id for a save), as a real client would.
//!
//! After the last restart, every acknowledged write is checked against what is stored (through
//! `GetResult`, then directly in the store with the server stopped):
//! * every acknowledged session exists, with its organisation unit, instrument and one
//!   pseudonym per respondent;
//! * every acknowledged answer is stored with the last acknowledged value of its item, and
//!   nothing else is stored;
//! * every acknowledged save's request id is still known: replaying it is a no-op;
//! * every acknowledged submit has exactly one result, revision 1, complete (index, level,
//!   every domain, flags, parseable provenance and archive JSON) and equal to what the
//!   client was told, and its session is submitted; a submit whose acknowledgement was lost
//!   (the retry finds the session submitted) has a complete result too;
//! * no session left open has a result, and no submitted session lacks one (half-written).
//!
//! The seed of the random kill moments is printed; `IKD_DURABILITY_SEED=<n>` repeats it (the
//! moments, not the thread interleaving).

use ikd_proto::v1 as api;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_store::{ResultFilter, SessionState, Store, StoredResult};
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::workspace;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::Code;
use tonic::transport::Channel;

/// Concurrent clients, each running one session after another.
const CLIENTS: usize = 16;
/// SIGKILLs per backend, each under load.
const KILLS: u64 = 8;
/// Milliseconds of load before each kill (inclusive range).
const LOAD_MS: (u64, u64) = (150, 600);
/// Deadline of one RPC (set on the request; the client gives up a little later).
const RPC_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one step may keep failing on dead servers before the test gives up.
const ACK_PATIENCE: Duration = Duration::from_secs(90);
/// Answers every session saves (the example respondents that have at least this many).
const MIN_ANSWERS: usize = 50;
const INSTRUMENT: &str = "ikd-asn-2025";
/// The load goes on after the last restart until at least this many saves and submits are
/// acknowledged in all, so the checks are never vacuous.
const MIN_SAVES: u64 = 150;
const MIN_SUBMITS: u64 = 30;

type Assessment = AssessmentServiceClient<Channel>;
/// Example respondents: (org unit, answers as (item, value) in instrument order).
type Examples = Vec<(String, Vec<(String, String)>)>;

/// SplitMix64: small, seeded, good enough to pick moments and batch sizes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn seed() -> u64 {
    match std::env::var("IKD_DURABILITY_SEED") {
        Ok(s) => s.trim().parse().expect("IKD_DURABILITY_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

fn authorized<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.set_timeout(RPC_TIMEOUT);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", tokens::SERVICE).parse().unwrap(),
    );
    r
}

/// The example respondents with at least [`MIN_ANSWERS`] non-empty answers: (org unit,
/// answers in instrument order). Their values are valid for their items.
fn examples() -> Examples {
    let path = workspace().join("instruments/ikd-asn-2025/examples/answers.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let examples: Vec<_> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let answers: Vec<(String, String)> = header
                .iter()
                .zip(r.iter())
                .skip(2)
                .filter(|(name, value)| *name != "duration_seconds" && !value.is_empty())
                .map(|(name, value)| (name.clone(), value.to_owned()))
                .collect();
            (r[1].to_owned(), answers)
        })
        .filter(|(_, answers)| answers.len() >= MIN_ANSWERS)
        .collect();
    assert!(examples.len() >= 2, "too few complete example respondents");
    examples
}

/// What the clients and the killer share.
struct Shared {
    /// The live server `(epoch, url)`; `None` from just before a kill until the restarted
    /// server listens. Epoch `n` is the server started after the `n`-th kill.
    endpoint: Mutex<Option<(u64, String)>>,
    /// Clients finish their current step and stop.
    stop: AtomicBool,
    /// Write RPCs sent and not yet answered.
    in_flight: AtomicUsize,
    /// Acknowledged writes so far: all, saves, submits.
    acks: AtomicU64,
    saves: AtomicU64,
    submits: AtomicU64,
}

impl Shared {
    fn epoch(&self) -> Option<u64> {
        self.endpoint.lock().unwrap().as_ref().map(|(e, _)| *e)
    }

    fn set(&self, endpoint: Option<(u64, String)>) {
        *self.endpoint.lock().unwrap() = endpoint;
    }

    /// Waits until `n` more writes are acknowledged: the load is running.
    async fn wait_for_load(&self, n: u64, what: &str) {
        let from = self.acks.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.acks.load(Ordering::SeqCst) < from + n {
            assert!(
                Instant::now() < deadline,
                "{what}: no write load for 60 s (only {} acknowledged writes)",
                self.acks.load(Ordering::SeqCst) - from
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A client's connection to whichever server is live.
struct Client {
    shared: Arc<Shared>,
    conn: Option<(u64, Assessment)>,
}

/// A call's outcome with the number of attempts that failed because the server died.
type Called<T> = Result<(T, u32), (tonic::Status, u32)>;

impl Client {
    fn new(shared: Arc<Shared>) -> Client {
        Client { shared, conn: None }
    }

    /// The live server's epoch and a client on a channel to it (new after each restart).
    async fn live(&mut self) -> (u64, Assessment) {
        loop {
            let endpoint = self.shared.endpoint.lock().unwrap().clone();
            if let Some((epoch, url)) = endpoint {
                if self.conn.as_ref().map(|c| c.0) != Some(epoch) {
                    let channel = Channel::from_shared(url)
                        .unwrap()
                        .connect_timeout(Duration::from_secs(5))
                        .connect_lazy();
                    self.conn = Some((epoch, AssessmentServiceClient::new(channel)));
                }
                let (epoch, client) = self.conn.as_ref().unwrap();
                return (*epoch, client.clone());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Calls `f` until a live server answers. A failure of a call whose server was killed
    /// meanwhile (the epoch moved on) is not an answer: the same request is sent again to
    /// the restarted server. Any answer of a server that is still live, error or not, is
    /// returned.
    async fn call<T, F, Fut>(&mut self, what: &str, mut f: F) -> Called<T>
    where
        F: FnMut(Assessment) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let patience = Instant::now() + ACK_PATIENCE;
        let mut failed = 0;
        loop {
            let (epoch, client) = self.live().await;
            self.shared.in_flight.fetch_add(1, Ordering::SeqCst);
            let outcome =
                tokio::time::timeout(RPC_TIMEOUT + Duration::from_secs(5), f(client)).await;
            self.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
            let status = match outcome {
                Ok(Ok(response)) => return Ok((response.into_inner(), failed)),
                Ok(Err(status)) => status,
                Err(_) => tonic::Status::deadline_exceeded(format!(
                    "{what}: no answer within {RPC_TIMEOUT:?} + 5 s"
                )),
            };
            if self.shared.epoch() == Some(epoch) {
                return Err((status, failed));
            }
            failed += 1;
            assert!(
                Instant::now() < patience,
                "{what}: not acknowledged after {failed} attempts in {ACK_PATIENCE:?}; \
                 last: {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// One acknowledged save.
#[derive(Debug, Clone)]
struct Save {
    request_id: String,
    answers: Vec<(String, String)>,
}

#[derive(Debug)]
enum Submit {
    /// Never asked (the load stopped first).
    No,
    /// Acknowledged with this result.
    Acked(Box<api::Result>),
    /// The call failed as the server died, and its retry found the session submitted: the
    /// first attempt was committed, its acknowledgement lost.
    AckLost,
}

/// Everything acknowledged about one session.
#[derive(Debug)]
struct Ledger {
    client: usize,
    session_id: String,
    org_unit: String,
    instrument_version: String,
    saves: Vec<Save>,
    /// Item → the value of its last acknowledged save.
    answers: BTreeMap<String, String>,
    submit: Submit,
}

/// Counts of what happened to the calls of one client.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    starts_retried: u64,
    saves_retried: u64,
    /// Retried saves answered `replayed`: committed before the kill, acknowledgement lost.
    saves_replayed: u64,
    submits_retried: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.starts_retried += o.starts_retried;
        self.saves_retried += o.saves_retried;
        self.saves_replayed += o.saves_replayed;
        self.submits_retried += o.submits_retried;
    }
}

/// One client: sessions one after another, each saving every answer of an example in 3–5
/// batches (each batch after the first also overwrites 1–3 earlier items with another valid
/// value), then submitting. Stops at a step boundary once `stop` is set, so every step it
/// began is acknowledged (possibly after retries) and sessions may be left open.
async fn client_loop(
    backend: &'static str,
    k: usize,
    seed: u64,
    shared: Arc<Shared>,
    examples: Arc<Examples>,
) -> (Vec<Ledger>, Counts) {
    let mut rng = Rng(seed ^ (k as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    // Every value an item takes in the examples, for the overwrites.
    let mut values: HashMap<&str, Vec<&str>> = HashMap::new();
    for (_, answers) in examples.iter() {
        for (item, value) in answers {
            let v = values.entry(item).or_default();
            if !v.contains(&value.as_str()) {
                v.push(value);
            }
        }
    }
    let mut client = Client::new(shared.clone());
    let mut ledgers = Vec::new();
    let mut counts = Counts::default();
    let respondent = format!("durability-{k}");
    let mut n = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        let (org_unit, answers) = &examples[(k + n * CLIENTS) % examples.len()];
        let start = api::StartSessionRequest {
            instrument: Some(api::InstrumentRef {
                id: INSTRUMENT.into(),
                version: String::new(),
            }),
            respondent_id: respondent.clone(),
            org_unit: org_unit.clone(),
        };
        let what = format!("{backend}: client {k} session {n}: StartSession");
        let (started, failed) = match client
            .call(&what, |mut c| {
                let r = authorized(start.clone());
                async move { c.start_session(r).await }
            })
            .await
        {
            Ok(ok) => ok,
            Err((status, _)) => panic!("{what} refused by a live server: {status:?}"),
        };
        shared.acks.fetch_add(1, Ordering::SeqCst);
        counts.starts_retried += u64::from(failed > 0);
        let mut ledger = Ledger {
            client: k,
            session_id: started.session_id,
            org_unit: org_unit.clone(),
            instrument_version: started.instrument.map(|i| i.version).unwrap_or_default(),
            saves: Vec::new(),
            answers: BTreeMap::new(),
            submit: Submit::No,
        };

        let batches = rng.range(3, 5) as usize;
        let mut stopped = false;
        for b in 0..batches {
            if shared.stop.load(Ordering::SeqCst) {
                stopped = true;
                break;
            }
            let (from, to) = (
                b * answers.len() / batches,
                (b + 1) * answers.len() / batches,
            );
            let mut batch: Vec<(String, String)> = answers[from..to].to_vec();
            if b > 0 {
                // Overwrite a few earlier items with another valid value.
                let mut chosen = BTreeSet::new();
                for _ in 0..rng.range(1, 3) {
                    chosen.insert(rng.range(0, from as u64 - 1) as usize);
                }
                for i in chosen {
                    let item = &answers[i].0;
                    let current = &ledger.answers[item];
                    let options = &values[item.as_str()];
                    let pick = options[rng.range(0, options.len() as u64 - 1) as usize];
                    let value = if pick != current.as_str() {
                        pick
                    } else {
                        options
                            .iter()
                            .copied()
                            .find(|v| *v != current.as_str())
                            .unwrap_or(pick)
                    };
                    batch.push((item.clone(), value.to_owned()));
                }
            }
            let request = api::SaveAnswersRequest {
                session_id: ledger.session_id.clone(),
                request_id: format!("c{k}-s{n}-b{b}"),
                answers: batch
                    .iter()
                    .map(|(item_id, value)| api::Answer {
                        item_id: item_id.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            };
            let what = format!(
                "{backend}: client {k}: SaveAnswers '{}' of session {}",
                request.request_id, ledger.session_id
            );
            let (saved, failed) = match client
                .call(&what, |mut c| {
                    let r = authorized(request.clone());
                    async move { c.save_answers(r).await }
                })
                .await
            {
                Ok(ok) => ok,
                Err((status, failed)) => panic!(
                    "{what} refused by a live server (after {failed} attempts lost to kills): \
                     {status:?}"
                ),
            };
            shared.acks.fetch_add(1, Ordering::SeqCst);
            shared.saves.fetch_add(1, Ordering::SeqCst);
            assert!(
                !saved.replayed || failed > 0,
                "{what}: a new request id was answered `replayed` at its first attempt"
            );
            counts.saves_retried += u64::from(failed > 0);
            counts.saves_replayed += u64::from(saved.replayed);
            for (item, value) in &batch {
                ledger.answers.insert(item.clone(), value.clone());
            }
            assert_eq!(
                saved.answers_stored as usize,
                ledger.answers.len(),
                "{what}: the server counts another number of stored answers than were \
                 acknowledged (replayed: {}, attempts lost: {failed})",
                saved.replayed
            );
            ledger.saves.push(Save {
                request_id: request.request_id,
                answers: batch,
            });
        }

        if !stopped && !shared.stop.load(Ordering::SeqCst) {
            let request = api::SubmitSessionRequest {
                session_id: ledger.session_id.clone(),
                language: "en".into(),
            };
            let what = format!(
                "{backend}: client {k}: SubmitSession of session {}",
                ledger.session_id
            );
            match client
                .call(&what, |mut c| {
                    let r = authorized(request.clone());
                    async move { c.submit_session(r).await }
                })
                .await
            {
                Ok((submitted, failed)) => {
                    counts.submits_retried += u64::from(failed > 0);
                    assert_eq!(submitted.revision, 1, "{what}");
                    let result = submitted
                        .result
                        .unwrap_or_else(|| panic!("{what}: acknowledged without a result"));
                    assert!(result.index.is_some(), "{what}: no index: {result:?}");
                    shared.submits.fetch_add(1, Ordering::SeqCst);
                    ledger.submit = Submit::Acked(Box::new(result));
                }
                Err((status, failed))
                    if failed > 0 && status.code() == Code::FailedPrecondition =>
                {
                    counts.submits_retried += 1;
                    ledger.submit = Submit::AckLost;
                }
                Err((status, failed)) => panic!(
                    "{what} refused by a live server (after {failed} attempts lost to kills): \
                     {status:?}"
                ),
            }
            shared.acks.fetch_add(1, Ordering::SeqCst);
        }
        ledgers.push(ledger);
        n += 1;
    }
    (ledgers, counts)
}

async fn start_server(options: &ServerOptions) -> TestServer {
    let options = options.clone();
    tokio::task::spawn_blocking(move || TestServer::start(options))
        .await
        .expect("starting ikd serve")
}

/// What a stored result lacks to be complete, or how it differs from the acknowledged one.
fn result_problems(
    stored: &StoredResult,
    acked: Option<&api::Result>,
    domain_codes: &[String],
    sha256: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |p: String| problems.push(p);
    if stored.revision != 1 {
        problem(format!("revision {} instead of 1", stored.revision));
    }
    match stored.index {
        Some(i) if i.is_finite() && (0.0..=100.0).contains(&i) => {}
        other => problem(format!("index {other:?}")),
    }
    if stored.level.as_deref().is_none_or(str::is_empty) {
        problem("no level".into());
    }
    if stored.model.is_empty() || stored.model_version.is_empty() {
        problem("no model or model version".into());
    }
    let codes: Vec<String> = stored.domains.iter().map(|d| d.code.clone()).collect();
    if codes != domain_codes {
        problem(format!("domains {codes:?}, expected {domain_codes:?}"));
    }
    for d in &stored.domains {
        if d.answered == 0 || d.score.is_some_and(|s| !(0.0..=100.0).contains(&s)) {
            problem(format!("domain {d:?}"));
        }
    }
    match serde_json::from_str::<serde_json::Value>(&stored.provenance_json) {
        Ok(p) if p.is_object() && stored.provenance_json.contains(sha256) => {}
        _ => problem(format!(
            "provenance is not a JSON object naming the instrument's sha256: {:?}",
            stored.provenance_json
        )),
    }
    match serde_json::from_str::<serde_json::Value>(&stored.result_json) {
        Ok(archive) => {
            // serde_json (without `float_roundtrip`) may read a float back 1 ulp off.
            let near = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                _ => false,
            };
            let same = near(archive["index"].as_f64(), stored.index)
                && archive["level"].as_str() == stored.level.as_deref()
                && archive["domains"].as_array().map(Vec::len) == Some(stored.domains.len())
                && archive["flags"].as_array().map(Vec::len) == Some(stored.flags.len());
            if !same {
                problem(format!(
                    "the archived JSON disagrees with the stored columns: {}",
                    stored.result_json
                ));
            }
        }
        Err(e) => problem(format!(
            "archived JSON does not parse ({e}): {:?}",
            stored.result_json
        )),
    }
    if let Some(acked) = acked {
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
            _ => false,
        };
        if !close(stored.index, acked.index) || !close(stored.index_se, acked.index_se) {
            problem(format!(
                "index {:?} ± {:?}, acknowledged {:?} ± {:?}",
                stored.index, stored.index_se, acked.index, acked.index_se
            ));
        }
        let acked_level = acked.level.as_ref().map(|l| l.code.as_str());
        if stored.level.as_deref() != acked_level {
            problem(format!(
                "level {:?}, acknowledged {acked_level:?}",
                stored.level
            ));
        }
        if stored.flags != acked.flags {
            problem(format!(
                "flags {:?}, acknowledged {:?}",
                stored.flags, acked.flags
            ));
        }
        let same_domains = stored.domains.len() == acked.domains.len()
            && stored.domains.iter().zip(&acked.domains).all(|(s, a)| {
                s.code == a.code
                    && close(s.score, a.score)
                    && close(s.se, a.se)
                    && s.level.as_deref() == a.level.as_ref().map(|l| l.code.as_str())
                    && s.answered == a.answered
            });
        if !same_domains {
            problem(format!(
                "domains {:?}, acknowledged {:?}",
                stored.domains, acked.domains
            ));
        }
    }
    problems
}

/// Checks every acknowledged write directly in the store (the server stopped). Returns the
/// number of checks made; every failed check is pushed to `problems`.
async fn verify_store(
    backend: &str,
    store: &Arc<dyn Store>,
    ledgers: &[Ledger],
    domain_codes: &[String],
    problems: &mut Vec<String>,
) -> u64 {
    let mut checks = 0u64;
    let mut check = |ok: bool, problem: &dyn Fn() -> String, problems: &mut Vec<String>| {
        checks += 1;
        if !ok {
            problems.push(format!("{backend}: {}", problem()));
        }
    };
    let mut pseudonyms: HashMap<usize, String> = HashMap::new();
    let mut submitted_ids = BTreeSet::new();
    let mut version = String::new();
    for l in ledgers {
        let id = &l.session_id;
        version.clone_from(&l.instrument_version);
        let session = store.session(id).await.expect("reading a session");
        check(
            session.is_some(),
            &|| format!("acknowledged session {id} (client {}) is missing", l.client),
            problems,
        );
        let Some(session) = session else { continue };
        check(
            session.instrument_id == INSTRUMENT
                && session.instrument_version == l.instrument_version
                && session.org_unit == l.org_unit,
            &|| format!("session {id}: instrument or org unit differ: {session:?}"),
            problems,
        );
        let key = pseudonyms
            .entry(l.client)
            .or_insert_with(|| session.respondent_key.clone());
        check(
            *key == session.respondent_key && !key.is_empty(),
            &|| {
                format!(
                    "session {id}: respondent key {} differs from the same respondent's {key} \
                     (the pseudonym key changed across restarts?)",
                    session.respondent_key
                )
            },
            problems,
        );
        let stored: BTreeMap<String, String> = session.answers.iter().cloned().collect();
        for (item, value) in &l.answers {
            check(
                stored.get(item) == Some(value),
                &|| {
                    let save = l
                        .saves
                        .iter()
                        .rev()
                        .find(|s| s.answers.iter().any(|(i, _)| i == item))
                        .map(|s| s.request_id.as_str())
                        .unwrap_or("?");
                    format!(
                        "session {id}: item {item} acknowledged as {value:?} (save '{save}'), \
                         stored {:?}",
                        stored.get(item)
                    )
                },
                problems,
            );
        }
        check(
            stored.len() == l.answers.len(),
            &|| {
                let extra: Vec<_> = stored
                    .keys()
                    .filter(|k| !l.answers.contains_key(*k))
                    .collect();
                format!("session {id}: stored answers never acknowledged: {extra:?}")
            },
            problems,
        );
        let revisions = store
            .result_revisions(id)
            .await
            .expect("reading result revisions");
        let latest = store.latest_result(id).await.expect("reading a result");
        match &l.submit {
            Submit::No => {
                check(
                    session.state == SessionState::Open && session.submitted_at.is_none(),
                    &|| {
                        format!(
                            "session {id} was never submitted but is {:?}",
                            session.state
                        )
                    },
                    problems,
                );
                check(
                    revisions.is_empty() && latest.is_none(),
                    &|| {
                        format!(
                            "open session {id} has {} result revisions (half-written submit)",
                            revisions.len()
                        )
                    },
                    problems,
                );
            }
            Submit::Acked(_) | Submit::AckLost => {
                submitted_ids.insert(id.clone());
                let acked = match &l.submit {
                    Submit::Acked(r) => Some(r.as_ref()),
                    _ => None,
                };
                check(
                    session.state == SessionState::Submitted && session.submitted_at.is_some(),
                    &|| {
                        format!(
                            "session {id}: submit {} but the session is {:?}",
                            if acked.is_some() {
                                "acknowledged"
                            } else {
                                "committed"
                            },
                            session.state
                        )
                    },
                    problems,
                );
                check(
                    revisions.len() == 1,
                    &|| {
                        format!(
                            "submitted session {id} has {} result revisions",
                            revisions.len()
                        )
                    },
                    problems,
                );
                check(
                    latest.is_some(),
                    &|| format!("submitted session {id} has no latest result"),
                    problems,
                );
                for r in revisions.iter().chain(latest.as_ref()) {
                    let found = result_problems(r, acked, domain_codes, &session.instrument_sha256);
                    check(
                        found.is_empty() && r.session_id == *id && r.org_unit == l.org_unit,
                        &|| format!("session {id}: result revision {}: {found:?}", r.revision),
                        problems,
                    );
                }
                if let (Some(r), Some(at)) = (&latest, session.submitted_at) {
                    check(
                        r.submitted_at == at,
                        &|| {
                            format!(
                                "session {id}: submitted_at {at} vs result {}",
                                r.submitted_at
                            )
                        },
                        problems,
                    );
                }
            }
        }
    }

    // The other way round: everything submitted in the store is a submit of the ledger.
    let mut after = None;
    let mut in_store = BTreeSet::new();
    loop {
        let page = store
            .submitted_sessions(INSTRUMENT, &version, after.clone(), 1000)
            .await
            .expect("listing submitted sessions");
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        in_store.extend(page.into_iter().map(|s| s.id));
    }
    check(
        in_store == submitted_ids,
        &|| {
            format!(
                "submitted sessions in the store but not submitted by a client: {:?}; \
                 submitted by a client but not in the store: {:?}",
                in_store.difference(&submitted_ids).collect::<Vec<_>>(),
                submitted_ids.difference(&in_store).collect::<Vec<_>>()
            )
        },
        problems,
    );
    let mut after = None;
    let mut with_result = BTreeSet::new();
    loop {
        let page = store
            .results_page(&ResultFilter::default(), after.clone(), 1000)
            .await
            .expect("listing results");
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        with_result.extend(page.into_iter().map(|r| r.session_id));
    }
    check(
        with_result == submitted_ids,
        &|| {
            format!(
                "sessions with a result but no submit: {:?}; submits without a result: {:?}",
                with_result.difference(&submitted_ids).collect::<Vec<_>>(),
                submitted_ids.difference(&with_result).collect::<Vec<_>>()
            )
        },
        problems,
    );

    // Every acknowledged save's request id is still known: its replay changes nothing.
    for l in ledgers {
        for save in &l.saves {
            let outcome = store
                .save_answers(&l.session_id, &save.request_id, &save.answers)
                .await;
            check(
                matches!(outcome, Ok(o) if o.replayed),
                &|| {
                    format!(
                        "session {}: replaying acknowledged save '{}' was not a no-op: {outcome:?}",
                        l.session_id, save.request_id
                    )
                },
                problems,
            );
        }
        let after = store
            .session(&l.session_id)
            .await
            .expect("reading a session");
        let answers: Option<BTreeMap<String, String>> =
            after.map(|s| s.answers.into_iter().collect());
        check(
            answers.as_ref() == Some(&l.answers),
            &|| format!("session {}: answers changed by replays", l.session_id),
            problems,
        );
    }
    checks
}

/// Checks the results through the restarted server: `GetResult` of every submitted session
/// equals the acknowledged result; an open session has none.
async fn verify_grpc(
    backend: &str,
    shared: Arc<Shared>,
    ledgers: &[Ledger],
    problems: &mut Vec<String>,
) -> u64 {
    let mut client = Client::new(shared);
    let mut checks = 0;
    for l in ledgers {
        let request = api::GetResultRequest {
            session_id: l.session_id.clone(),
            language: "en".into(),
        };
        let got = client
            .call("GetResult", |mut c| {
                let r = authorized(request.clone());
                async move { c.get_result(r).await }
            })
            .await;
        checks += 1;
        let problem = match (&l.submit, got) {
            (Submit::No, Err((s, _))) if s.code() == Code::FailedPrecondition => None,
            (Submit::No, other) => Some(format!("open session: GetResult answered {other:?}")),
            (Submit::Acked(acked), Ok((r, _))) => {
                let same = r.revision == 1
                    && r.org_unit == l.org_unit
                    && r.result.as_ref().is_some_and(|got| {
                        got.index == acked.index
                            && got.level == acked.level
                            && got.flags == acked.flags
                            && got.domains.len() == acked.domains.len()
                            && got.domains.iter().zip(&acked.domains).all(|(g, a)| {
                                g.code == a.code
                                    && g.score == a.score
                                    && g.level == a.level
                                    && g.answered == a.answered
                            })
                    });
                (!same).then(|| format!("GetResult {r:?} differs from the acknowledged {acked:?}"))
            }
            (Submit::AckLost, Ok((r, _))) => (r.revision != 1
                || r.result.as_ref().is_none_or(|r| r.index.is_none()))
            .then(|| format!("GetResult of a committed submit: {r:?}")),
            (_, Err((s, _))) => Some(format!("submitted session: GetResult failed: {s:?}")),
        };
        if let Some(p) = problem {
            problems.push(format!("{backend}: session {}: {p}", l.session_id));
        }
    }
    checks
}

async fn kill_under_load(backend: &'static str, database_url: Option<String>) {
    let seed = seed();
    let mut rng = Rng(seed);
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut options = ServerOptions::new(&data_dir);
    options.database_url = database_url.clone();
    let sqlite_file = data_dir.join("ikd.sqlite3");
    let store_url = database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", sqlite_file.display()));

    let mut server = start_server(&options).await;
    // The first start includes building `ikd` and the plugins (cargo, once per process).
    let first_start = began.elapsed();
    let load_began = Instant::now();
    let key_file = data_dir.join("pseudonym.key");
    let key = std::fs::read(&key_file).expect("the pseudonym key is created at the first start");
    let shared = Arc::new(Shared {
        endpoint: Mutex::new(Some((0, server.url()))),
        stop: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        acks: AtomicU64::new(0),
        saves: AtomicU64::new(0),
        submits: AtomicU64::new(0),
    });
    let examples = Arc::new(examples());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|k| {
            tokio::spawn(client_loop(
                backend,
                k,
                seed,
                shared.clone(),
                examples.clone(),
            ))
        })
        .collect();

    let mut in_flight_at_kill = Vec::new();
    let mut restart_time = Duration::ZERO;
    for kill in 1..=KILLS {
        let what = format!("{backend} (seed {seed}), before kill {kill}");
        shared.wait_for_load(CLIENTS as u64, &what).await;
        let load = rng.range(LOAD_MS.0, LOAD_MS.1);
        tokio::time::sleep(Duration::from_millis(load)).await;
        shared.set(None);
        in_flight_at_kill.push(shared.in_flight.load(Ordering::SeqCst));
        let pid = server.pid();
        let status = server.kill_hard();
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "{what}: ikd serve (pid {pid}) ended with {status} instead of dying of SIGKILL; \
             stderr:\n{}",
            server.stderr()
        );
        assert_eq!(
            std::fs::read(&key_file).ok().as_ref(),
            Some(&key),
            "{what}: the pseudonym key file changed"
        );
        let restarting = Instant::now();
        server = start_server(&options).await;
        restart_time += restarting.elapsed();
        shared.set(Some((kill, server.url())));
    }
    // Load on the last server too, until the ledger is large enough for the test to mean
    // something even on a slow machine; then every client finishes the step it is in.
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.saves.load(Ordering::SeqCst) < MIN_SAVES
        || shared.submits.load(Ordering::SeqCst) < MIN_SUBMITS
    {
        assert!(
            Instant::now() < deadline,
            "{backend}: the load stalled after the last restart"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shared
        .wait_for_load(
            CLIENTS as u64,
            &format!("{backend} (seed {seed}), after the last restart"),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(rng.range(LOAD_MS.0, LOAD_MS.1))).await;
    shared.stop.store(true, Ordering::SeqCst);
    let mut ledgers = Vec::new();
    let mut counts = Counts::default();
    for client in clients {
        let (l, c) = tokio::time::timeout(Duration::from_secs(120), client)
            .await
            .expect("clients stop within 2 minutes")
            .expect("a client failed (see its panic above)");
        ledgers.extend(l);
        counts.add(c);
    }
    let load_time = load_began.elapsed();
    let verify_began = Instant::now();

    // The reference domain codes: those of the acknowledged results (all alike).
    let domain_codes: Vec<String> = ledgers
        .iter()
        .find_map(|l| match &l.submit {
            Submit::Acked(r) => Some(r.domains.iter().map(|d| d.code.clone()).collect()),
            _ => None,
        })
        .expect("at least one acknowledged submit");
    assert_eq!(domain_codes.len(), 5, "{domain_codes:?}");

    let mut problems = Vec::new();
    let grpc_checks = verify_grpc(backend, shared.clone(), &ledgers, &mut problems).await;
    server.stop();
    assert_eq!(
        std::fs::read(&key_file).ok().as_ref(),
        Some(&key),
        "the pseudonym key file changed"
    );
    if database_url.is_none() {
        assert!(
            sqlite_file.is_file(),
            "the SQLite database {} is missing",
            sqlite_file.display()
        );
    }
    let store = ikd_store::open(&store_url)
        .await
        .expect("opening the store");
    let store_checks = verify_store(backend, &store, &ledgers, &domain_codes, &mut problems).await;
    store.close().await;

    let sessions = ledgers.len();
    let saves: usize = ledgers.iter().map(|l| l.saves.len()).sum();
    let answers: usize = ledgers.iter().map(|l| l.answers.len()).sum();
    let acked_submits = ledgers
        .iter()
        .filter(|l| matches!(l.submit, Submit::Acked(_)))
        .count();
    let ack_lost = ledgers
        .iter()
        .filter(|l| matches!(l.submit, Submit::AckLost))
        .count();
    let open = ledgers
        .iter()
        .filter(|l| matches!(l.submit, Submit::No))
        .count();
    eprintln!(
        "durability {backend}: seed {seed}; {KILLS} SIGKILLs under load of {CLIENTS} clients \
         (write calls in flight at each kill: {in_flight_at_kill:?}; restarts took {:.1} s in \
         all); acknowledged: {sessions} sessions, {saves} saves ({} answer values), \
         {acked_submits} submits; {} starts, {} saves and {} submits hit a kill and were \
         retried ({} saves and {ack_lost} submits had been committed with the acknowledgement \
         lost); {open} sessions left open; {} checks ({grpc_checks} over gRPC, {store_checks} in \
         the store), {} problems; first start (with cargo build) {:.1} s, load and kills \
         {:.1} s, verification {:.1} s",
        restart_time.as_secs_f64(),
        answers,
        counts.starts_retried,
        counts.saves_retried,
        counts.submits_retried,
        counts.saves_replayed,
        grpc_checks + store_checks,
        problems.len(),
        first_start.as_secs_f64(),
        load_time.as_secs_f64(),
        verify_began.elapsed().as_secs_f64(),
    );
    assert!(
        problems.is_empty(),
        "{backend} (seed {seed}): {} acknowledged writes are not as acknowledged:\n{}",
        problems.len(),
        problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Not vacuous: real load, kills that hit calls in flight.
    assert!(
        saves as u64 >= MIN_SAVES,
        "{backend}: only {saves} acknowledged saves"
    );
    assert!(
        acked_submits as u64 >= MIN_SUBMITS,
        "{backend}: only {acked_submits} acknowledged submits"
    );
    assert!(
        counts.saves_retried + counts.submits_retried + counts.starts_retried > 0,
        "{backend}: no kill hit a call in flight"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_sqlite() {
    kill_under_load("sqlite", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_postgresql() {
    let url = ikd_tests::postgres::server().new_database();
    kill_under_load("postgresql", Some(url)).await;
}
