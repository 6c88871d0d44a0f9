//! `ikd bench`: load generators that measure a server the way its users see
//! it, from a client in another process: `grpc` (service calls) and `web`
//! (respondents in browsers), `scale` (national-scale reads of a loaded store), `adaptive`
//! (adaptive sessions item by item). They measure and report; they assert nothing.
//! `request` writes a request body for independent tools (h2load, ghz).

mod adaptive;
mod grpc;
mod scale;
mod served;
mod stats;
mod stream;
mod web;

use crate::common::{PluginArgs, load_instrument};
use anyhow::{Context, Result};
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_core::simulate::Simulation;
use ikd_proto::v1 as api;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Load-test the gRPC service of a separate `ikd serve` (started here, or `--target`).
    Grpc(grpc::Args),
    /// National-scale reads (aggregates, organisation reports, the export) against a store
    /// loaded with `ikd store load-simulated`, from a separate `ikd serve` started here.
    Scale(scale::Args),
    /// Respondents taking the instrument in the web app of a separate `ikd serve`.
    Web(web::Args),
    /// Adaptive sessions item by item (`NextItems`, `SaveAnswers`, submit), one after
    /// another, against a separate `ikd serve` started here with an adaptive instrument.
    Adaptive(adaptive::Args),
    /// Write one simulated respondent's `Score` request as a gRPC message body, for
    /// independent load tools (`h2load -d FILE`, ghz); with `--respondents N`, a
    /// `ScoreStream` body of N requests.
    Request(RequestArgs),
}

#[derive(clap::Args)]
pub struct RequestArgs {
    /// Instrument file or bundled instrument id.
    #[arg(long, default_value = "ikd-asn-2025", value_name = "PATH|ID")]
    instrument: String,
    /// Where to write the body (a new file).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Respondents in the body: more than one makes a `ScoreStream` body, each asking
    /// for scores only (`RESULT_DETAIL_SCORES`), as bulk scoring does.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    respondents: u64,
    /// How the answers are sent.
    #[arg(long, value_enum, default_value_t = Answers::Ids)]
    answers: Answers,
}

/// The encodings of a request's answers.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Answers {
    /// `answers`: item id and value pairs.
    Ids,
    /// `answer_values`: the values in instrument order.
    Values,
    /// `answer_line`: the values in instrument order, joined by tabs.
    Line,
}

impl Answers {
    fn encode(self, request: api::ScoreRequest) -> api::ScoreRequest {
        let values = || request.answers.iter().map(|a| a.value.clone());
        match self {
            Answers::Ids => request,
            Answers::Values => api::ScoreRequest {
                answer_values: values().collect(),
                answers: Vec::new(),
                ..request
            },
            Answers::Line => api::ScoreRequest {
                answer_line: values().collect::<Vec<_>>().join("\t"),
                answers: Vec::new(),
                ..request
            },
        }
    }
}

pub fn run(plugins: &PluginArgs, command: Command) -> Result<ExitCode> {
    match command {
        Command::Grpc(args) => grpc::run(plugins, args),
        Command::Web(args) => web::run(plugins, args),
        Command::Scale(args) => scale::run(args),
        Command::Adaptive(args) => adaptive::run(plugins, args),
        Command::Request(args) => write_request(plugins, args),
    }
}

/// Writes `Score` requests framed as gRPC sends them over HTTP/2: for each, a byte
/// saying "not compressed", the length as 4 bytes big-endian, the protobuf message.
fn write_request(plugins: &PluginArgs, args: RequestArgs) -> Result<ExitCode> {
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument, &host, &ScorerOptions::default())?;
    let stream = args.respondents > 1;
    let mut body = Vec::new();
    for request in simulated_requests(&scorer, args.respondents)? {
        let mut request = args.answers.encode(request);
        if stream {
            request.detail = api::ResultDetail::Scores.into();
        }
        let message = prost::Message::encode_to_vec(&request);
        body.push(0);
        body.extend_from_slice(&u32::try_from(message.len())?.to_be_bytes());
        body.extend_from_slice(&message);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.out)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &body))
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} ({} bytes): POST it to /ikd.v1.AssessmentService/{}",
        args.out.display(),
        body.len(),
        if stream { "ScoreStream" } else { "Score" }
    );
    Ok(ExitCode::SUCCESS)
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
