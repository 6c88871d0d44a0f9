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
//! * no session left open has a result, and no submitted session lacks one (half-written);
//! * result pages list each respondent's latest submitted session, and only those (each
//!   client is one respondent who takes session after session).
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

mod verify;
mod workload;

use verify::*;
use workload::*;

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

async fn start_server(options: &ServerOptions) -> TestServer {
    let options = options.clone();
    tokio::task::spawn_blocking(move || TestServer::start(options))
        .await
        .expect("starting ikd serve")
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
