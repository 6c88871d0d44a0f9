//! `ikd bench adaptive`: adaptive sessions as a respondent's app runs them, against a
//! separate `ikd serve`: start, then `NextItems` and `SaveAnswers` one item at a time until
//! the test stops, then submit — one session after another, each call timed. The answers are
//! simulated respondents' (the instrument's own simulation). Every `NextItems` replays the
//! session from its saved answers, so its latency is reported by how many items were given
//! before it. It measures and reports; it asserts nothing.

use super::served::{self, ServeOptions};
use super::simulated_requests;
use super::stats::summary;
use crate::common::{PluginArgs, load_instrument};
use anyhow::{Context, Result, bail};
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_proto::v1::{self as api, assessment_service_client::AssessmentServiceClient};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tonic::transport::Endpoint;

#[derive(clap::Args)]
pub struct Args {
    /// An adaptive instrument (file or directory; `[delivery] mode = "adaptive"`).
    #[arg(long, value_name = "PATH")]
    instrument: String,
    /// Sessions, one after another.
    #[arg(long, default_value_t = 50)]
    sessions: u64,
    /// Store (default: SQLite in a temporary directory).
    #[arg(
        long,
        env = "IKD_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database_url: Option<String>,
}

/// Items given before a `NextItems` call, in bands, for the latency by test progress.
const BANDS: [(usize, usize); 4] = [(0, 0), (1, 9), (10, 29), (30, usize::MAX)];

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let instrument = load_instrument(&args.instrument)?;
    if instrument.delivery.adaptive().is_none() {
        bail!(
            "instrument '{}' is not adaptive (its [delivery] mode is '{}')",
            instrument.id,
            instrument.delivery.mode()
        );
    }
    let host = plugins.host()?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())?;
    let people = simulated_requests(&scorer, args.sessions.max(1))?;
    let spare = spare_answers(&people);
    let data = tempfile::tempdir()?;
    let token = served::throwaway_token();
    let server = served::start(&ServeOptions {
        instrument: &args.instrument,
        database_url: args.database_url.as_deref(),
        data_dir: data.path(),
        token: &token,
        web: false,
        tls: None,
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let addr = server.grpc.to_string();
    let report = runtime.block_on(measure(&addr, &token, &people, &spare))?;
    drop(server);
    eprintln!(
        "{:<34} {:>8} {:>9} {:>9}",
        "call", "count", "p50 ms", "p99 ms"
    );
    for (name, figures) in &report {
        if let Some(count) = figures.get("count") {
            eprintln!(
                "{name:<34} {count:>8} {:>9.3} {:>9.3}",
                figures["p50_ms"].as_f64().unwrap_or(f64::NAN),
                figures["p99_ms"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// A usable answer per item (the first simulated person who answered it), for the items
/// a person's own simulated answers skip: an adaptive test needs an answer to each item.
fn spare_answers(people: &[api::ScoreRequest]) -> HashMap<String, String> {
    let mut spare = HashMap::new();
    for answer in people.iter().flat_map(|p| &p.answers) {
        if usable(&answer.value) {
            spare
                .entry(answer.item_id.clone())
                .or_insert_with(|| answer.value.clone());
        }
    }
    spare
}

fn usable(value: &str) -> bool {
    !value.is_empty() && value != "NA"
}

async fn measure(
    addr: &str,
    token: &str,
    people: &[api::ScoreRequest],
    spare: &HashMap<String, String>,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let channel = Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut client =
        AssessmentServiceClient::with_interceptor(channel, move |mut r: tonic::Request<()>| {
            r.metadata_mut().insert("authorization", bearer.clone());
            Ok(r)
        });
    let mut next_by_band: Vec<Vec<Duration>> = vec![Vec::new(); BANDS.len()];
    let (mut next_all, mut saves, mut submits, mut sessions) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut lengths = Vec::new();
    let started = Instant::now();
    for person in people {
        let session_started = Instant::now();
        let session = client
            .start_session(api::StartSessionRequest {
                instrument: person.instrument.clone(),
                respondent_id: person.respondent_id.clone(),
                org_unit: person.org_unit.clone(),
            })
            .await?
            .into_inner()
            .session_id;
        let mut given = 0usize;
        loop {
            let at = Instant::now();
            let next = client
                .next_items(api::NextItemsRequest {
                    session_id: session.clone(),
                })
                .await?
                .into_inner();
            let took = at.elapsed();
            next_all.push(took);
            let band = BANDS
                .iter()
                .position(|&(lo, hi)| (lo..=hi).contains(&given))
                .expect("the bands cover every count");
            next_by_band[band].push(took);
            let Some(item) = next.item_ids.first() else {
                break;
            };
            let value = person
                .answers
                .iter()
                .find(|a| &a.item_id == item && usable(&a.value))
                .map(|a| a.value.clone())
                .or_else(|| spare.get(item).cloned())
                .with_context(|| format!("no simulated answer to item {item}"))?;
            let at = Instant::now();
            client
                .save_answers(api::SaveAnswersRequest {
                    session_id: session.clone(),
                    request_id: format!("{session}-{given}"),
                    answers: vec![api::Answer {
                        item_id: item.clone(),
                        value,
                    }],
                })
                .await?;
            saves.push(at.elapsed());
            given += 1;
        }
        let at = Instant::now();
        client
            .submit_session(api::SubmitSessionRequest {
                session_id: session,
                language: String::new(),
                end_early: false,
            })
            .await?;
        submits.push(at.elapsed());
        sessions.push(session_started.elapsed());
        lengths.push(given as f64);
    }
    let mut report = serde_json::Map::new();
    report.insert("sessions".into(), people.len().into());
    report.insert(
        "items_per_session_mean".into(),
        (lengths.iter().sum::<f64>() / lengths.len().max(1) as f64).into(),
    );
    report.insert("seconds".into(), started.elapsed().as_secs_f64().into());
    report.insert("next_items".into(), summary(&next_all));
    for (&(lo, hi), latencies) in BANDS.iter().zip(&next_by_band) {
        let name = match (lo, hi) {
            (0, 0) => "next_items_first".to_owned(),
            (lo, usize::MAX) => format!("next_items_after_{lo}_or_more"),
            (lo, hi) => format!("next_items_after_{lo}_to_{hi}"),
        };
        report.insert(name, summary(latencies));
    }
    report.insert("save_answers".into(), summary(&saves));
    report.insert("submit_session".into(), summary(&submits));
    report.insert("whole_session".into(), summary(&sessions));
    Ok(report)
}
