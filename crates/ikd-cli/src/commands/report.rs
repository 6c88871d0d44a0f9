//! `ikd report`: HTML reports from scored results (`ikd-report`, docs/reports.md).
//!
//! `person` needs only the results (JSON, for feedback); `org` reads JSON or
//! CSV results and, with `--answers`, scores the raw answers item by item for
//! the weakest indicators (the only step that loads plugins), and reports
//! both summed per unit (`UnitSums`), the form a store can keep.

use crate::commands::analyze::read_all;
use crate::common::{Output, PluginArgs, load_instrument};
use anyhow::{Context, Result};
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_report::{
    IndicatorScorer, IndicatorSums, IndicatorSumsByUnit, Lang, ModelRef, UnitSums,
    org_report_from_units, person_report, read_results,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// A respondent's report: index and level, domain radar against the unit mean, feedback and actions.
    Person(PersonArgs),
    /// An organisation prefix's report: participation, index, comparisons, levels, sub-units,
    /// weakest indicators; and a CSV of its numbers.
    Org(OrgArgs),
}

/// What both reports take.
#[derive(clap::Args)]
pub struct Common {
    /// Instrument file or bundled instrument id.
    #[arg(long, value_name = "PATH|ID")]
    instrument: String,
    /// Results of `ikd score`: JSON (`--format json` or `jsonl`) or CSV (org report only).
    #[arg(long, value_name = "RESULTS")]
    results: PathBuf,
    /// Language of the report: id (Bahasa Indonesia) or en.
    #[arg(long, default_value = "id")]
    lang: Lang,
    /// Groups (and domains) with fewer results than this are not reported.
    #[arg(long, default_value_t = ikd_report::DEFAULT_MIN_GROUP_SIZE, value_name = "N")]
    min_group_size: u32,
    /// The HTML page to write (written only when complete).
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct PersonArgs {
    #[command(flatten)]
    common: Common,
    /// The respondent's id.
    #[arg(long, value_name = "ID")]
    respondent: String,
}

#[derive(clap::Args)]
pub struct OrgArgs {
    #[command(flatten)]
    common: Common,
    /// Organisation prefix: `36.72` covers `36.72`, `36.72.01` and `36.72/dinkes`, never `36.721`.
    #[arg(long, value_name = "PREFIX")]
    org: String,
    /// Raw answers of the same respondents, for the weakest indicators.
    #[arg(long, value_name = "ANSWERS.csv")]
    answers: Option<PathBuf>,
    /// The CSV of the report's numbers (default: the HTML path with `.csv`).
    #[arg(long, value_name = "FILE.csv")]
    csv: Option<PathBuf>,
    /// Respondents per plugin call when scoring `--answers`.
    #[arg(long, default_value_t = 4096)]
    batch: usize,
}

pub fn run(plugins: &PluginArgs, command: Command) -> Result<ExitCode> {
    match command {
        Command::Person(args) => person(args),
        Command::Org(args) => org(plugins, args),
    }
}

fn person(args: PersonArgs) -> Result<ExitCode> {
    let c = &args.common;
    let instrument = load_instrument(&c.instrument)?;
    let rows = read_results(&c.results)?;
    let html = person_report(
        &instrument,
        &rows,
        &args.respondent,
        c.lang,
        c.min_group_size,
        None, // the file is the whole data set: disclosure decided on it
    )
    .with_context(|| format!("{}", c.results.display()))?;
    write_file(&c.out, &html)?;
    eprintln!("wrote {}", c.out.display());
    Ok(ExitCode::SUCCESS)
}

fn org(plugins: &PluginArgs, args: OrgArgs) -> Result<ExitCode> {
    let c = &args.common;
    let instrument = load_instrument(&c.instrument)?;
    let rows = read_results(&c.results)?;
    let mut models: Vec<ModelRef> = Vec::new();
    for model in rows.iter().filter_map(|r| r.model.as_ref()) {
        if !models.contains(model) {
            models.push(model.clone());
        }
    }
    let mut units = UnitSums::of_results(&instrument, &rows)
        .with_context(|| format!("{}", c.results.display()))?;
    drop(rows);
    if let Some(path) = &args.answers {
        let by_unit = indicator_sums(plugins, &instrument, path, args.batch)?;
        UnitSums::join_indicators(&mut units, by_unit);
    }
    let report = org_report_from_units(
        &instrument,
        &units,
        &models,
        &args.org,
        c.lang,
        c.min_group_size,
        None, // the file is the whole data set: disclosure decided on it
    )
    .with_context(|| format!("{}", c.results.display()))?;
    let csv_path = args
        .csv
        .clone()
        .unwrap_or_else(|| c.out.with_extension("csv"));
    write_file(&c.out, &report.html)?;
    write_file(&csv_path, &report.csv)?;
    eprintln!("wrote {} and {}", c.out.display(), csv_path.display());
    Ok(ExitCode::SUCCESS)
}

/// Each unit's indicator sums from an answers CSV.
fn indicator_sums(
    plugins: &PluginArgs,
    instrument: &std::sync::Arc<ikd_core::instrument::Instrument>,
    path: &Path,
    batch: usize,
) -> Result<BTreeMap<String, IndicatorSums>> {
    let host = plugins.host()?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())?;
    let mut sums = IndicatorSumsByUnit::new(IndicatorScorer::new(&scorer));
    read_all(path, instrument, batch, 50, "reading answers", |rows| {
        let scores = scorer.item_scores(rows)?;
        sums.add(&rows.org_units, &scores);
        Ok(())
    })?;
    Ok(sums.finish())
}

/// Writes a whole file, which appears only once complete.
fn write_file(path: &Path, text: &str) -> Result<()> {
    let mut out = Output::create(Some(path))?;
    out.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    out.commit()
}
