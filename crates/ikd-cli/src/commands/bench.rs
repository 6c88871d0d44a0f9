//! `ikd bench grpc`: a load generator for the gRPC server, measured in one run.
//!
//! It starts a server in this process (on a loopback port, with a throw-away
//! token and data directory, on the database given), simulates respondents
//! of an instrument, and measures in turn:
//! 1. an empty RPC (health check) at `--concurrency` requests in flight;
//! 2. `Score` at the same concurrency;
//! 3. `ScoreStream`: respondents per second over `--streams` streams;
//! 4. sessions: `StartSession` + `SaveAnswers` × 2 + `SubmitSession`;
//! 5. the database's raw single-row insert rate, for comparison with 4.
//!
//! Figures go to stdout as JSON (and a table on stderr). This measures; it
//! asserts nothing.

use crate::common::{PluginArgs, instrument_path, load_instrument};
use anyhow::{Context, Result};
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_core::simulate::Simulation;
use ikd_proto::v1::{self as api, assessment_service_client::AssessmentServiceClient};
use ikd_server::config::TokenConfig;
use ikd_server::{Server, ServerConfig};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Load-test the gRPC server (in this process) and print throughput and latency.
    Grpc(GrpcArgs),
    /// Respondents taking the instrument in the web app of a separate `ikd serve`.
    Web(super::bench_web::Args),
}

#[derive(clap::Args)]
pub struct GrpcArgs {
    /// Instrument file or bundled instrument id.
    #[arg(long, default_value = "ikd-asn-2025", value_name = "PATH|ID")]
    instrument: String,
    /// Store for the session workload (default: SQLite in a temporary directory).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Requests in flight for the unary workloads.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds per unary workload.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Respondents sent through ScoreStream.
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

pub fn run(plugins: &PluginArgs, command: Command) -> Result<ExitCode> {
    let args = match command {
        Command::Grpc(args) => args,
        Command::Web(args) => return super::bench_web::run(plugins, args),
    };
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())?;
    let requests = Arc::new(simulated_requests(&scorer, 4096)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let data = tempfile::tempdir()?;
        let token = format!("bench-{}", std::process::id()).repeat(3);
        let mut config = ServerConfig {
            addr: "127.0.0.1:0".parse()?,
            data_dir: data.path().to_owned(),
            database_url: args.database_url.clone(),
            instruments: vec![instrument_path(&args.instrument)?],
            web_addr: None,
            tokens: vec![TokenConfig {
                name: "bench".into(),
                roles: vec!["admin".into()],
                org_prefix: String::new(),
                sha256: None,
                token: Some(token.clone()),
                expires_at: None,
            }],
            ..ServerConfig::default()
        };
        config.limits.max_concurrent_requests = 4096;
        config.limits.max_concurrent_per_connection = 4096;
        let database_url = config.database_url();
        let server = Server::start(config, host).await?;
        let url = format!("http://{}", server.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        let channel = Channel::from_shared(url)?.connect().await?;
        let client = AssessmentServiceClient::with_interceptor(channel.clone(), Bearer(token));
        let duration = Duration::from_secs_f64(args.seconds);

        let mut report = serde_json::Map::new();
        let health = tonic_health_client(channel.clone());
        let empty = unary(args.concurrency, duration, move |_| {
            let mut h = health.clone();
            async move {
                h.check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .map(|_| ())
            }
        })
        .await;
        report.insert("empty_rpc".into(), empty.json());

        let score = {
            let client = client.clone();
            let requests = requests.clone();
            unary(args.concurrency, duration, move |k| {
                let mut c = client.clone();
                let request = requests[k % requests.len()].clone();
                async move { c.score(request).await.map(|_| ()) }
            })
            .await
        };
        report.insert("score".into(), score.json());
        report.insert(
            "score_vs_empty".into(),
            serde_json::json!(score.rate() / empty.rate()),
        );

        let stream_rate =
            score_stream(&client, &requests, args.stream_respondents, args.streams).await?;
        report.insert(
            "score_stream_respondents_per_second".into(),
            serde_json::json!(stream_rate),
        );

        let sessions = sessions(&client, &requests, args.sessions, args.session_concurrency).await;
        let writes_per_session = 3.0; // SaveAnswers × 2 + SubmitSession
        report.insert("sessions".into(), sessions.json());
        report.insert(
            "session_write_rpcs_per_second".into(),
            serde_json::json!(sessions.rate() * writes_per_session),
        );
        let raw = ikd_store::bench::raw_insert_rate(
            &database_url,
            args.raw_inserts,
            args.session_concurrency,
        )
        .await
        .context("raw insert measurement")?;
        report.insert(
            "raw_single_row_inserts_per_second".into(),
            serde_json::json!(raw),
        );
        report.insert(
            "session_writes_vs_raw_inserts".into(),
            serde_json::json!(sessions.rate() * writes_per_session / raw),
        );
        report.insert(
            "database".into(),
            serde_json::json!(database_url.split(':').next()),
        );
        report.insert("concurrency".into(), serde_json::json!(args.concurrency));

        let _ = stop.send(());
        let _ = serving.await;
        println!("{}", serde_json::to_string_pretty(&report)?);
        Ok(ExitCode::SUCCESS)
    })
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

fn tonic_health_client(channel: Channel) -> tonic_health::pb::health_client::HealthClient<Channel> {
    tonic_health::pb::health_client::HealthClient::new(channel)
}

/// Simulated respondents as `Score` requests.
pub(crate) fn simulated_requests(scorer: &Scorer, n: u64) -> Result<Vec<api::ScoreRequest>> {
    let instrument = scorer.instrument().clone();
    let mut requests = Vec::new();
    Simulation::new(n, 7).run::<anyhow::Error>(scorer, 1024, |rows| {
        for r in 0..rows.len() {
            requests.push(api::ScoreRequest {
                instrument: Some(api::InstrumentRef {
                    id: instrument.id.clone(),
                    version: instrument.version.to_string(),
                }),
                respondent_id: rows.respondent_ids[r].clone(),
                org_unit: rows.org_units[r].clone(),
                answers: instrument
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| api::Answer {
                        item_id: item.id.clone(),
                        value: rows.cell(r, i).to_owned(),
                    })
                    .collect(),
                duration_seconds: rows.durations[r],
                ..Default::default()
            });
        }
        Ok(())
    })?;
    Ok(requests)
}

/// Latencies and errors of one workload.
struct Measured {
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: usize,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn quantile(&self, q: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted
            .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "completed": self.latencies.len(),
            "errors": self.errors,
            "per_second": self.rate(),
            "p50_ms": self.quantile(0.5),
            "p99_ms": self.quantile(0.99),
        })
    }
}

/// Runs `call` from `concurrency` tasks for `duration`.
async fn unary<F, Fut>(concurrency: usize, duration: Duration, call: F) -> Measured
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), tonic::Status>> + Send,
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
    let mut measured = Measured {
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        errors: 0,
    };
    for task in tasks {
        if let Ok((l, e)) = task.await {
            measured.latencies.extend(l);
            measured.errors += e;
        }
    }
    measured.elapsed = started.elapsed();
    measured
}

/// Respondents per second through `streams` concurrent ScoreStream calls.
async fn score_stream(
    client: &Client,
    requests: &Arc<Vec<api::ScoreRequest>>,
    respondents: usize,
    streams: usize,
) -> Result<f64> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..streams.max(1) {
        let mut client = client.clone();
        let requests = requests.clone();
        let share = respondents / streams.max(1);
        tasks.push(tokio::spawn(async move {
            let outbound = tokio_stream::iter((0..share).map(move |k| {
                let mut r = requests[(k + s) % requests.len()].clone();
                r.detail = api::ResultDetail::Scores as i32;
                r
            }));
            let mut inbound = client.score_stream(outbound).await?.into_inner();
            let mut received = 0usize;
            while inbound.message().await?.is_some() {
                received += 1;
            }
            Ok::<usize, tonic::Status>(received)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.context("stream task")??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Whole sessions (start, two saves, submit) with `concurrency` in flight.
async fn sessions(
    client: &Client,
    requests: &Arc<Vec<api::ScoreRequest>>,
    count: usize,
    concurrency: usize,
) -> Measured {
    let next = Arc::new(Mutex::new(0usize));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, requests, next) = (client.clone(), requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            loop {
                let k = {
                    let mut n = next.lock().await;
                    if *n >= count {
                        break;
                    }
                    *n += 1;
                    *n - 1
                };
                let at = Instant::now();
                match one_session(client.clone(), &requests[k % requests.len()], k).await {
                    Ok(()) => latencies.push(at.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut measured = Measured {
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        errors: 0,
    };
    for task in tasks {
        if let Ok((l, e)) = task.await {
            measured.latencies.extend(l);
            measured.errors += e;
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
            respondent_id: format!("bench-{k}"),
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
        })
        .await?;
    Ok(())
}
