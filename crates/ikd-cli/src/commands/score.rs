//! `ikd score`: answers CSV in, results out, streaming batch by batch.
//!
//! Reading and parsing the CSV runs on its own thread while the main thread
//! scores and writes, so the two overlap on a two-core machine. Memory stays
//! flat: at most a few batches are in flight.

use crate::common::{Output, PluginArgs, load_instrument, progress};
use anyhow::{Context, Result, bail};
use ikd_core::answers::{AnswerRows, AnswersError, AnswersReader};
use ikd_core::output::{OutputFormat, ResultWriter};
use ikd_core::pipeline::{ScoreError, Scorer, ScorerOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Instrument file or bundled instrument id.
    #[arg(long, value_name = "PATH|ID")]
    instrument: String,
    /// Scoring model plugin to use instead of the instrument's own.
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// Settings for the model, as a JSON object.
    #[arg(long, value_name = "JSON")]
    model_settings: Option<String>,
    /// csv, json (one array) or jsonl (one object per line).
    #[arg(long, default_value = "csv")]
    format: OutputFormat,
    /// Results file (default: stdout). Written only when every row scored.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Respondents per plugin call.
    #[arg(long, default_value_t = 4096)]
    batch: usize,
    /// At most this many invalid answers are listed.
    #[arg(long, default_value_t = 50)]
    max_errors: usize,
    /// Answers CSV: `respondent_id,org_unit,<item id>...[,duration_seconds]`.
    #[arg(value_name = "ANSWERS.csv")]
    answers: PathBuf,
}

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let started = Instant::now();
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let model_settings = args
        .model_settings
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .context("--model-settings is not valid JSON")?;
    let options = ScorerOptions {
        model: args.model.clone(),
        model_settings,
    };
    let scorer = Scorer::new(instrument.clone(), &host, &options)?;
    let mut reader = AnswersReader::open(&args.answers, &instrument)?;
    let size = std::fs::metadata(&args.answers).map(|m| m.len()).ok();
    let bar = progress(size, "scoring");
    let mut writer = ResultWriter::new(args.format, Output::create(args.out.as_deref())?, &scorer)?;

    let items = instrument.items.len();
    let batch = args.batch.max(1);
    let mut invalid: Vec<String> = Vec::new();
    let mut invalid_count = 0usize;
    let mut scored = 0u64;
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = sync_channel::<Result<(AnswerRows, u64), AnswersError>>(2);
        scope.spawn(move || {
            loop {
                let mut rows = AnswerRows::new(items);
                match reader.read_batch(&mut rows, batch) {
                    Ok(0) => break,
                    Ok(_) => {
                        if tx.send(Ok((rows, reader.byte_position()))).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        for message in rx {
            let (rows, position) = message?;
            match scorer.score(&rows) {
                Ok(results) if invalid_count == 0 => writer.write(&results)?,
                Ok(_) => {}
                Err(ScoreError::InvalidAnswers(violations)) => {
                    invalid_count += violations.len();
                    for v in violations {
                        if invalid.len() < args.max_errors {
                            invalid.push(format!(
                                "{}:{}: respondent '{}', item '{}': {}",
                                args.answers.display(),
                                rows.origins[v.respondent],
                                rows.respondent_ids[v.respondent],
                                v.item,
                                v.message
                            ));
                        }
                    }
                }
                Err(other) => return Err(other.into()),
            }
            scored += rows.len() as u64;
            bar.set_position(position);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    if invalid_count > 0 {
        for line in &invalid {
            eprintln!("{line}");
        }
        if invalid_count > invalid.len() {
            eprintln!("... and {} more", invalid_count - invalid.len());
        }
        bail!(
            "{invalid_count} invalid answer(s) in {}; no results written",
            args.answers.display()
        );
    }
    let written = writer.written();
    writer.finish()?.commit()?;
    tracing::info!(respondents = scored, "scored");
    eprintln!(
        "scored {written} respondent(s) in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
