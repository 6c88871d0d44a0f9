//! `ikd score`: answers CSV in, results out, streaming batch by batch.
//!
//! Reading, scoring and writing overlap (see [`Job`]); memory stays flat
//! because at most a few batches are in flight.
//!
//! `--item-scores FILE.csv` also writes the item-score matrix of the same
//! answers: `respondent_id,org_unit,<item id>...` in instrument order, each
//! cell the score the item's domain plugin gives (keys, option credits and
//! reverse keying applied; a "don't know" keeps the score its kind gives
//! it), empty for a skipped, not-applicable or invalid cell. Numbers are in
//! their shortest exact form. These are the scores `ikd analyze` and
//! `ikd calibrate` work on, so any analysis can be redone elsewhere (R,
//! Python). Like the results, the file is written only when every row
//! scored.

use crate::common::{Output, PluginArgs, load_instrument, progress, violation_line};
use anyhow::{Context, Result, bail};
use ikd_core::answers::{AnswerRows, AnswersError, AnswersReader};
use ikd_core::output::{OutputFormat, ResultFormatter, ResultWriter};
use ikd_core::pipeline::{ScoreError, Scorer, ScorerOptions, SettingsOrigin};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
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
    /// Also write the item scores (keys, credits and reverse keying applied):
    /// `respondent_id,org_unit,<item id>...`, an empty cell where unanswered.
    #[arg(long, value_name = "FILE.csv")]
    item_scores: Option<PathBuf>,
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
        // The operator's own command line: may name any file the operator can read.
        settings_origin: SettingsOrigin::Operator,
    };
    let scorer = Scorer::new(instrument.clone(), &host, &options)?;
    let reader = AnswersReader::open(&args.answers, &instrument)?;
    let size = std::fs::metadata(&args.answers).map(|m| m.len()).ok();
    let bar = progress(size, "scoring");
    let mut writer = ResultWriter::new(args.format, Output::create(args.out.as_deref())?, &scorer)?;
    let formatter = ResultFormatter::new(args.format, &scorer);
    let mut item_scores = match &args.item_scores {
        Some(path) => {
            let mut out = Output::create(Some(path))?;
            let mut header = csv::Writer::from_writer(&mut out);
            header.write_record(
                ["respondent_id", "org_unit"]
                    .into_iter()
                    .chain(instrument.items.iter().map(|i| i.id.as_str())),
            )?;
            header.flush()?;
            drop(header);
            Some(out)
        }
        None => None,
    };
    let mut invalid: Vec<String> = Vec::new();
    let mut invalid_count = 0usize;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let job = Job {
        scorer: &scorer,
        formatter: &formatter,
        file: &args.answers,
        items: instrument.items.len(),
        batch: args.batch.max(1),
        workers,
        item_scores: item_scores.is_some(),
    };
    job.run(reader, |outcome| {
        match outcome {
            Scored::Ok {
                bytes,
                count,
                item_bytes,
                position,
            } => {
                if invalid_count == 0 {
                    writer.write_formatted(&bytes, count)?;
                    if let Some(out) = item_scores.as_mut() {
                        out.write_all(&item_bytes)?;
                    }
                }
                bar.set_position(position);
            }
            Scored::Invalid(lines, position) => {
                invalid_count += lines.len();
                let room = args.max_errors.saturating_sub(invalid.len());
                invalid.extend(lines.into_iter().take(room));
                bar.set_position(position);
            }
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
    if let Some(out) = item_scores {
        out.commit()?;
    }
    eprintln!(
        "scored {written} respondent(s) in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// What a worker made of one batch.
enum Scored {
    /// Formatted results, their count, the item-score rows (CSV; empty
    /// unless asked for), and the input position reached.
    Ok {
        bytes: Vec<u8>,
        count: usize,
        item_bytes: Vec<u8>,
        position: u64,
    },
    /// One line per invalid answer (file, line, respondent, item, reason).
    Invalid(Vec<String>, u64),
}

/// The streaming pipeline: one thread reads and parses the CSV, `workers`
/// threads score and format batches, and the calling thread writes them in
/// input order. Channels are bounded, so at most a few batches are in
/// flight and memory does not grow with the input.
struct Job<'a> {
    scorer: &'a Scorer,
    formatter: &'a ResultFormatter,
    file: &'a Path,
    items: usize,
    batch: usize,
    workers: usize,
    /// Whether to format the item scores too.
    item_scores: bool,
}

impl Job<'_> {
    fn run(
        &self,
        mut reader: AnswersReader<std::fs::File>,
        mut write: impl FnMut(Scored) -> Result<()>,
    ) -> Result<()> {
        std::thread::scope(|scope| -> Result<()> {
            let (batch_tx, batch_rx) = sync_channel::<(u64, AnswerRows, u64)>(self.workers * 2);
            let (done_tx, done_rx) = sync_channel::<(u64, Result<Scored>)>(self.workers * 2);
            let (items, batch) = (self.items, self.batch);
            let read = scope.spawn(move || -> Result<(), AnswersError> {
                for seq in 0.. {
                    let mut rows = AnswerRows::new(items);
                    if reader.read_batch(&mut rows, batch)? == 0
                        || batch_tx.send((seq, rows, reader.byte_position())).is_err()
                    {
                        break;
                    }
                }
                Ok(())
            });
            let batch_rx = Arc::new(Mutex::new(batch_rx));
            for _ in 0..self.workers {
                let (batch_rx, done_tx) = (Arc::clone(&batch_rx), done_tx.clone());
                scope.spawn(move || {
                    loop {
                        let next = batch_rx
                            .lock()
                            .map_err(|_| ())
                            .and_then(|rx| rx.recv().map_err(|_| ()));
                        let Ok((seq, rows, position)) = next else {
                            break;
                        };
                        let outcome = self.score(seq, &rows, position);
                        if done_tx.send((seq, outcome)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            // Batches finish out of order; write them in input order.
            let mut pending = BTreeMap::new();
            let mut next = 0u64;
            for (seq, outcome) in done_rx {
                pending.insert(seq, outcome);
                while let Some(outcome) = pending.remove(&next) {
                    write(outcome?)?;
                    next += 1;
                }
            }
            read.join()
                .map_err(|_| anyhow::anyhow!("the CSV reader thread failed"))??;
            Ok(())
        })
    }

    fn score(&self, seq: u64, rows: &AnswerRows, position: u64) -> Result<Scored> {
        // The domain plugins run once: their item scores feed the model and,
        // with --item-scores, the item-score file.
        let scored = self.scorer.item_scores(rows).and_then(|items| {
            let cells = self
                .item_scores
                .then(|| items.observed().collect::<Vec<f64>>());
            Ok((self.scorer.score_item_scores(rows, items)?, cells))
        });
        match scored {
            Ok((results, cells)) => Ok(Scored::Ok {
                bytes: self.formatter.format(&results, seq == 0)?,
                count: results.len(),
                item_bytes: match cells {
                    Some(cells) => self.item_score_rows(rows, &cells)?,
                    None => Vec::new(),
                },
                position,
            }),
            Err(ScoreError::InvalidAnswers(violations)) => Ok(Scored::Invalid(
                violations
                    .into_iter()
                    .map(|v| violation_line(self.file, rows, &v))
                    .collect(),
                position,
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// The item-score rows of a batch as CSV: id, org unit, one cell per
    /// item (shortest exact form; empty when not answered).
    fn item_score_rows(&self, rows: &AnswerRows, cells: &[f64]) -> Result<Vec<u8>> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        for (r, scores) in cells.chunks_exact(self.items).enumerate() {
            csv.write_field(&rows.respondent_ids[r])?;
            csv.write_field(&rows.org_units[r])?;
            for x in scores {
                if x.is_nan() {
                    csv.write_field("")?;
                } else {
                    csv.write_field(x.to_string())?;
                }
            }
            csv.write_record(None::<&[u8]>)?;
        }
        Ok(csv.into_inner().map_err(|e| e.into_error())?)
    }
}
