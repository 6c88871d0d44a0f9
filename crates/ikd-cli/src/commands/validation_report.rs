//! `ikd validation-report`: one command, one report — the psychometric
//! validation of an instrument on an answers CSV as a self-contained HTML
//! page (`ikd_report::validation_report`) and, with `--json`, the model with
//! every number (`ikd_research::validation`; rules in docs/analysis.md,
//! section "Validation report").

use crate::common::{Output, PluginArgs, load_instrument, report_read_error};
use anyhow::{Context, Result, bail};
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_report::Lang;
use ikd_research::validation::{self, Grouping, Options};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Instrument file or bundled instrument id.
    #[arg(long, value_name = "PATH|ID")]
    instrument: String,
    /// Answers CSV: `respondent_id,org_unit,<item id>...[,duration_seconds]`.
    #[arg(value_name = "ANSWERS.csv")]
    answers: PathBuf,
    /// Groups for DIF: `prefix:N` (the org unit's first N segments, `36.72/dinkes` with 2 →
    /// `36.72`) or `FILE.csv:COLUMN` (a column of a CSV keyed by `respondent_id`).
    #[arg(long, value_name = "prefix:N|FILE.csv:COLUMN")]
    groups: Option<String>,
    /// The DIF reference group (default: the largest group).
    #[arg(long, value_name = "GROUP")]
    reference: Option<String>,
    /// The HTML page to write (written only when complete).
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
    /// Also write the report's model, every number, as JSON.
    #[arg(long, value_name = "FILE.json")]
    json: Option<PathBuf>,
    /// Language of the page: id (Bahasa Indonesia) or en.
    #[arg(long, default_value = "id")]
    lang: Lang,
    /// θ counts as precisely measured where its conditional SE is at most this.
    #[arg(long, default_value_t = 0.4, value_name = "SE")]
    se_bound: f64,
    /// Respondents a group needs on an item to take part in its DIF analysis.
    #[arg(long, default_value_t = 100, value_name = "N")]
    min_group: usize,
}

/// `prefix:N` or `FILE:COLUMN` (split at the last colon).
fn grouping(spec: Option<&str>) -> Result<Grouping> {
    let Some(spec) = spec else {
        return Ok(Grouping::None);
    };
    if let Some(n) = spec.strip_prefix("prefix:") {
        let n: usize = n
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .with_context(|| format!("--groups {spec}: N must be a positive whole number"))?;
        return Ok(Grouping::OrgPrefix(n));
    }
    let Some((file, column)) = spec.rsplit_once(':') else {
        bail!("--groups {spec}: expected prefix:N or FILE.csv:COLUMN");
    };
    if file.is_empty() || column.is_empty() {
        bail!("--groups {spec}: expected prefix:N or FILE.csv:COLUMN");
    }
    let labels = validation::read_group_column(file.as_ref(), column)?;
    Ok(Grouping::Labels {
        source: spec.to_owned(),
        labels,
    })
}

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let options = Options {
        grouping: grouping(args.groups.as_deref())?,
        reference: args.reference.clone(),
        se_bound: args.se_bound,
        min_group: args.min_group,
        ..Options::default()
    };
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())
        .context("the instrument's plugins are needed to score the items")?;
    let scores = ikd_research::answers::item_scores(&args.answers, &scorer, 50)
        .map_err(|e| report_read_error(e, "no report written"))?;
    let report = validation::validate(&scorer, &scores, &options)?;
    let html = ikd_report::validation_report(&instrument, &report, args.lang)?;
    if let Some(path) = &args.json {
        let mut out = Output::create(Some(path))?;
        serde_json::to_writer_pretty(&mut out, &report)?;
        out.write_all(b"\n")?;
        out.commit()?;
    }
    let mut out = Output::create(Some(&args.out))?;
    out.write_all(html.as_bytes())?;
    out.commit()?;
    eprintln!(
        "{} respondents; {} item(s) to review; wrote {}",
        report.sample.respondents,
        report.review.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
