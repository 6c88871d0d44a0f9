//! `ikd bench grpc`: the gRPC service as a client in another process sees it.
//!
//! It starts `ikd serve` in a child process (loopback port, throw-away token
//! and data directory, the database given, TLS with `--tls`), or measures a
//! running server with `--target`. In turn:
//! 1. one call at a time: the empty RPC (health check) and `Score`;
//! 2. `--concurrency` calls in flight over `--connections` connections: the
//!    empty RPC and `Score`;
//! 3. `ScoreStream`, respondents per second, with answers by item id, with the
//!    cells in instrument order (`answer_values`) and with those cells in one
//!    string (`answer_line`), from a lean client (`stream`);
//! 4. sessions: `StartSession` + `SaveAnswers` × 2 + `SubmitSession`;
//! 5. the database's own single-row insert rate at the same concurrency.
//!
//! Every figure is also given as a ratio to the empty RPC or the raw insert of
//! the same run, and checked against the targets of the production server.
//! JSON goes to stdout, a table to stderr. It measures; it asserts nothing.

use super::served::{self, ServeOptions, Served};
use super::stats::Measured;
use super::stream::{self, Encoded};
use super::{Answers, simulated_requests};
use crate::common::{PluginArgs, load_instrument};
use anyhow::{Context, Result, bail};
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_proto::v1::{self as api, assessment_service_client::AssessmentServiceClient};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_health::pb::health_client::HealthClient;

#[derive(clap::Args)]
pub struct Args {
    /// Instrument file or bundled instrument id (a `--target` must serve it).
    #[arg(long, default_value = "ikd-asn-2025", value_name = "PATH|ID")]
    instrument: String,
    /// Measure this running server (http://HOST:PORT or https://…) instead of starting one.
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Bearer token for `--target` (an admin or a service token with an empty org prefix).
    #[arg(long, env = "IKD_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Serve over TLS, with a throw-away certificate for localhost (started server only).
    #[arg(long, conflicts_with = "target")]
    tls: bool,
    /// CA certificate (PEM) to trust for an https `--target`.
    #[arg(long, value_name = "FILE", requires = "target")]
    tls_ca: Option<PathBuf>,
    /// Name the target's certificate is checked against (default: the URL's host).
    #[arg(long, value_name = "NAME", requires = "tls_ca")]
    tls_domain: Option<String>,
    /// Store of the started server; with `--target`, the target's store, for the raw
    /// insert comparison (left out without it; it writes and drops a scratch table there).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// HTTP/2 connections the concurrent calls are spread over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Calls in flight for the concurrent unary workloads.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds per concurrent unary workload.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Calls per sequential workload (one at a time).
    #[arg(long, default_value_t = 2000)]
    sequential_calls: usize,
    /// Respondents sent through ScoreStream, per encoding.
    #[arg(long, default_value_t = 200_000)]
    stream_respondents: usize,
    /// Concurrent ScoreStream calls.
    #[arg(long, default_value_t = 2)]
    streams: usize,
    /// Sessions for the session workload.
    #[arg(long, default_value_t = 2000)]
    sessions: usize,
    /// Sessions in flight.
    #[arg(long, default_value_t = 64)]
    session_concurrency: usize,
    /// Rows for the raw insert comparison.
    #[arg(long, default_value_t = 4000)]
    raw_inserts: usize,
}

/// Durable writes of one session that the raw insert rate is compared with:
/// `SaveAnswers` × 2 + `SubmitSession` (`StartSession` comes free).
const WRITES_PER_SESSION: f64 = 3.0;

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument, &host, &ScorerOptions::default())?;
    let requests = Arc::new(simulated_requests(&scorer, 4096)?);
    let encoded = |answers: Answers| {
        let encode = |r: &api::ScoreRequest| Encoded::score_request(&answers.encode(r.clone()));
        Arc::new(requests.iter().map(encode).collect::<Vec<_>>())
    };
    // Unary `Score` as a service sends it: answers by item id, the full result back.
    let unary = Arc::new(requests.iter().map(Encoded::message).collect::<Vec<_>>());
    let (named, packed, lines) = (
        encoded(Answers::Ids),
        encoded(Answers::Values),
        encoded(Answers::Line),
    );
    let data = tempfile::tempdir()?;
    let server = Server::new(&args, data.path())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let channels = server.connect(args.connections.max(1)).await?;
        let clients: Vec<Client> = channels
            .iter()
            .map(|c| AssessmentServiceClient::with_interceptor(c.clone(), server.bearer.clone()))
            .collect();
        let health: Vec<_> = channels.iter().cloned().map(HealthClient::new).collect();
        let duration = Duration::from_secs_f64(args.seconds);
        let mut report = Report::default();
        report.set("server", server.describe());
        report.set("tls", server.trust.is_some());

        let empty_call = {
            let health = health.clone();
            move |k: usize| {
                let mut h = health[k % health.len()].clone();
                async move {
                    h.check(tonic_health::pb::HealthCheckRequest::default())
                        .await
                        .map(drop)
                }
            }
        };
        let services: Vec<_> = channels
            .iter()
            .map(|c| InterceptedService::new(c.clone(), server.bearer.clone()))
            .collect();
        let score_call = {
            let services = services.clone();
            move |k: usize| {
                let service = services[k % services.len()].clone();
                let request = unary[k % unary.len()].clone();
                stream::score(service, request)
            }
        };

        let seq_empty = sequential(args.sequential_calls, &empty_call).await;
        let seq_score = sequential(args.sequential_calls, &score_call).await;
        report.measured("sequential_empty_rpc", &seq_empty);
        report.measured("sequential_score", &seq_score);
        report.set(
            "sequential_score_p50_vs_empty",
            seq_score.quantile_ms(0.5) / seq_empty.quantile_ms(0.5),
        );

        let empty = concurrent(args.concurrency, duration, empty_call).await;
        let score = concurrent(args.concurrency, duration, score_call).await;
        report.measured("empty_rpc", &empty);
        report.measured("score", &score);
        report.set("score_vs_empty", score.rate() / empty.rate());

        let (n, streams) = (args.stream_respondents, args.streams);
        let named = stream::respondents_per_second(&services, &named, n, streams)
            .await
            .context("ScoreStream with answers by item id")?;
        let packed = stream::respondents_per_second(&services, &packed, n, streams)
            .await
            .context("ScoreStream with packed answers")?;
        let line = stream::respondents_per_second(&services, &lines, n, streams)
            .await
            .context("ScoreStream with answer lines")?;
        report.set("score_stream_respondents_per_second", named);
        report.set("score_stream_packed_respondents_per_second", packed);
        report.set("score_stream_line_respondents_per_second", line);

        let sessions = sessions(&clients, &requests, args.sessions, args.session_concurrency).await;
        let writes = sessions.rate() * WRITES_PER_SESSION;
        report.measured("sessions", &sessions);
        report.set("session_writes_per_second", writes);
        if let Some(url) = &server.database_url {
            let raw =
                ikd_store::bench::raw_insert_rate(url, args.raw_inserts, args.session_concurrency)
                    .await
                    .context("raw insert measurement")?;
            report.set("raw_single_row_inserts_per_second", raw);
            report.set("session_writes_vs_raw_inserts", writes / raw);
            report.set("database", url.split(':').next().unwrap_or_default());
        }
        report.set("connections", args.connections);
        report.set("concurrency", args.concurrency);
        drop(server);
        report.print()?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The server under measurement: one started here, or `--target`.
struct Server {
    url: String,
    bearer: Bearer,
    /// CA certificate and name to check the server's certificate against.
    trust: Option<(Certificate, String)>,
    database_url: Option<String>,
    /// The child process, when started here (stopped when dropped).
    started: Option<Served>,
}

impl Server {
    fn new(args: &Args, data: &std::path::Path) -> Result<Server> {
        if let Some(url) = &args.target {
            let token = args
                .token
                .clone()
                .context("--target needs --token (or IKD_TOKEN)")?;
            let trust = match &args.tls_ca {
                Some(ca) => {
                    let pem = std::fs::read(ca)
                        .with_context(|| format!("reading the CA certificate {}", ca.display()))?;
                    let host = url
                        .parse::<tonic::transport::Uri>()
                        .with_context(|| format!("--target {url} is not a URL"))?
                        .host()
                        .unwrap_or_default()
                        .to_owned();
                    Some((
                        Certificate::from_pem(pem),
                        args.tls_domain.clone().unwrap_or(host),
                    ))
                }
                None if url.starts_with("https:") => bail!("an https --target needs --tls-ca"),
                None => None,
            };
            return Ok(Server {
                url: url.clone(),
                bearer: Bearer(token),
                trust,
                database_url: args.database_url.clone(),
                started: None,
            });
        }
        let token = served::throwaway_token();
        let (tls, trust) = if args.tls {
            let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
            let (cert, key) = (data.join("server.pem"), data.join("server.key"));
            std::fs::write(&cert, certified.cert.pem())?;
            std::fs::write(&key, certified.signing_key.serialize_pem())?;
            (
                Some((cert, key)),
                Some((
                    Certificate::from_pem(certified.cert.pem()),
                    "localhost".to_owned(),
                )),
            )
        } else {
            (None, None)
        };
        let server_data = data.join("server");
        std::fs::create_dir(&server_data)?;
        let started = served::start(&ServeOptions {
            instrument: &args.instrument,
            database_url: args.database_url.as_deref(),
            data_dir: &server_data,
            token: &token,
            web: false,
            tls,
        })?;
        let port = started.grpc.port();
        Ok(Server {
            url: match trust {
                Some(_) => format!("https://localhost:{port}"),
                None => format!("http://{}", started.grpc),
            },
            bearer: Bearer(token),
            trust,
            database_url: Some(
                args.database_url
                    .clone()
                    .unwrap_or_else(|| served::default_database_url(&server_data)),
            ),
            started: Some(started),
        })
    }

    /// `n` HTTP/2 connections, each its own channel.
    async fn connect(&self, n: usize) -> Result<Vec<Channel>> {
        let mut endpoint = Endpoint::from_shared(self.url.clone())?.tcp_nodelay(true);
        if let Some((ca, domain)) = &self.trust {
            endpoint = endpoint.tls_config(
                ClientTlsConfig::new()
                    .ca_certificate(ca.clone())
                    .domain_name(domain.clone()),
            )?;
        }
        let mut channels = Vec::with_capacity(n);
        for _ in 0..n {
            let channel = endpoint
                .connect()
                .await
                .with_context(|| format!("connecting to {}", self.url))?;
            channels.push(channel);
        }
        Ok(channels)
    }

    fn describe(&self) -> String {
        match &self.started {
            Some(s) => format!("started: ikd serve (pid {}) at {}", s.child.id(), self.url),
            None => format!("target: {}", self.url),
        }
    }
}

/// Adds the bench token to every request.
#[derive(Clone)]
struct Bearer(String);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let value = format!("Bearer {}", self.0)
            .parse()
            .map_err(|_| tonic::Status::internal("token is not ASCII"))?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}

type Client = AssessmentServiceClient<InterceptedService<Channel, Bearer>>;

/// `calls` calls of `call`, one at a time: latency without queueing.
async fn sequential<F, Fut>(calls: usize, call: &F) -> Measured
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), tonic::Status>>,
{
    let started = Instant::now();
    let mut measured = Measured::default();
    for k in 0..calls {
        let at = Instant::now();
        match call(k).await {
            Ok(()) => measured.latencies.push(at.elapsed()),
            Err(_) => measured.errors += 1,
        }
    }
    measured.elapsed = started.elapsed();
    measured
}

/// `call` from `concurrency` tasks for `duration`.
async fn concurrent<F, Fut>(concurrency: usize, duration: Duration, call: F) -> Measured
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors, mut k) = (Vec::new(), 0, t);
            while started.elapsed() < duration {
                let at = Instant::now();
                match call(k).await {
                    Ok(()) => latencies.push(at.elapsed()),
                    Err(_) => errors += 1,
                }
                k += concurrency;
            }
            (latencies, errors)
        }));
    }
    let mut measured = Measured::default();
    for task in tasks {
        if let Ok(worker) = task.await {
            measured.absorb(worker);
        }
    }
    measured.elapsed = started.elapsed();
    measured
}

/// Whole sessions (start, two saves, submit) with `concurrency` in flight.
async fn sessions(
    clients: &[Client],
    requests: &Arc<Vec<api::ScoreRequest>>,
    count: usize,
    concurrency: usize,
) -> Measured {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency.max(1) {
        let client = clients[t % clients.len()].clone();
        let (requests, next) = (requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= count {
                    break;
                }
                let at = Instant::now();
                match one_session(client.clone(), &requests[k % requests.len()], k).await {
                    Ok(()) => latencies.push(at.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut measured = Measured::default();
    for task in tasks {
        if let Ok(worker) = task.await {
            measured.absorb(worker);
        }
    }
    measured.elapsed = started.elapsed();
    measured
}

async fn one_session(
    mut client: Client,
    r: &api::ScoreRequest,
    k: usize,
) -> Result<(), tonic::Status> {
    let session = client
        .start_session(api::StartSessionRequest {
            instrument: r.instrument.clone(),
            respondent_id: format!("bench-{}-{k}", std::process::id()),
            org_unit: r.org_unit.clone(),
        })
        .await?
        .into_inner()
        .session_id;
    let half = r.answers.len() / 2;
    for (part, answers) in [&r.answers[..half], &r.answers[half..]]
        .into_iter()
        .enumerate()
    {
        client
            .save_answers(api::SaveAnswersRequest {
                session_id: session.clone(),
                request_id: format!("{k}-{part}"),
                answers: answers.to_vec(),
            })
            .await?;
    }
    client
        .submit_session(api::SubmitSessionRequest {
            session_id: session,
            language: String::new(),
            end_early: false,
        })
        .await?;
    Ok(())
}

/// The figures of one run: JSON on stdout, and a table with the targets on stderr.
#[derive(Default)]
struct Report(serde_json::Map<String, serde_json::Value>);

/// The production server's targets (issue 17): figure, comparison, bound, what it says.
const TARGETS: [(&str, Bound, f64, &str); 5] = [
    (
        "sequential_score.p50_ms",
        Bound::AtMost,
        1.0,
        "sequential Score p50 ≤ 1 ms",
    ),
    (
        "score_vs_empty",
        Bound::AtLeast,
        0.6,
        "concurrent Score ≥ 60% of the empty RPC's rate",
    ),
    (
        "score.p99_ms",
        Bound::AtMost,
        10.0,
        "concurrent Score p99 ≤ 10 ms",
    ),
    (
        "score_stream_line_respondents_per_second",
        Bound::AtLeast,
        150_000.0,
        "ScoreStream (answer_line) ≥ 150k respondents/s",
    ),
    (
        "session_writes_vs_raw_inserts",
        Bound::AtLeast,
        0.8,
        "session writes ≥ 80% of raw inserts",
    ),
];

#[derive(Clone, Copy)]
enum Bound {
    AtMost,
    AtLeast,
}

impl Report {
    fn set(&mut self, name: &str, value: impl Into<serde_json::Value>) {
        self.0.insert(name.to_owned(), value.into());
    }

    fn measured(&mut self, name: &str, measured: &Measured) {
        self.set(name, measured.json());
    }

    /// A figure by `name` or `workload.field`.
    fn figure(&self, path: &str) -> Option<f64> {
        let mut parts = path.split('.');
        let mut value = self.0.get(parts.next()?)?;
        for part in parts {
            value = value.get(part)?;
        }
        value.as_f64()
    }

    fn print(mut self) -> Result<()> {
        let mut targets = Vec::new();
        eprintln!("{:<46} {:>12}  met", "target", "measured");
        for (path, bound, limit, label) in TARGETS {
            let measured = self.figure(path);
            let met = measured.map(|m| match bound {
                Bound::AtMost => m <= limit,
                Bound::AtLeast => m >= limit,
            });
            eprintln!(
                "{label:<46} {:>12}  {}",
                measured.map_or("—".into(), |m| format!("{m:.3}")),
                met.map_or("not measured", |m| if m { "yes" } else { "no" })
            );
            targets.push(serde_json::json!({
                "target": label, "figure": path, "measured": measured, "met": met,
            }));
        }
        self.set("targets", targets);
        println!("{}", serde_json::to_string_pretty(&self.0)?);
        Ok(())
    }
}
