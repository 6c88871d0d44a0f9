//! `ikd simulate`: synthetic answers from a latent-trait model.

use crate::common::{Output, PluginArgs, load_instrument, progress};
use anyhow::Result;
use ikd_core::answers::AnswersWriter;
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_core::simulate::Simulation;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Instrument file or bundled instrument id.
    #[arg(long, value_name = "PATH|ID")]
    instrument: String,
    /// Number of respondents.
    #[arg(short = 'n', long = "respondents", value_name = "N")]
    respondents: u64,
    /// Random seed; the same seed gives the same answers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Answers CSV to write (default: stdout).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Respondents per plugin call.
    #[arg(long, default_value_t = 4096)]
    batch: usize,
}

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())?;
    let output = Output::create(args.out.as_deref())?;
    let mut writer = AnswersWriter::new(output, &instrument)?;
    let bar = progress(Some(args.respondents), "simulating");
    Simulation::new(args.respondents, args.seed).run::<anyhow::Error>(
        &scorer,
        args.batch.max(1),
        |rows| {
            writer.write(rows)?;
            bar.inc(rows.len() as u64);
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    writer.finish()?.commit()?;
    Ok(ExitCode::SUCCESS)
}
