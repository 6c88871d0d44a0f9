//! `ikd demo`: the bundled instrument end to end, with a readable summary.

use crate::common::{PluginArgs, instrument_path, load_instrument};
use anyhow::Result;
use ikd_core::answers::{AnswerRows, AnswersReader};
use ikd_core::instrument::Instrument;
use ikd_core::lang::Lang;
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_core::results::RespondentResult;
use ikd_core::simulate::Simulation;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Instrument file or bundled instrument id.
    #[arg(long, default_value = "ikd-asn-2025", value_name = "PATH|ID")]
    instrument: String,
    /// Answers to score; default: the instrument's `examples/answers.csv`, or a simulated sample.
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Respondents to simulate when there are no example answers.
    #[arg(short = 'n', default_value_t = 60)]
    respondents: u64,
    /// Respondents to show one by one.
    #[arg(long, default_value_t = 8)]
    show: usize,
    /// Language of labels: id or en.
    #[arg(long, default_value = "id")]
    lang: Lang,
}

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())?;
    println!(
        "{} {} — {} ({} domains, {} items; model {} {})",
        instrument.id,
        instrument.version,
        instrument.title.get(args.lang),
        instrument.domains.len(),
        instrument.items.len(),
        scorer.provenance().model.name,
        scorer.provenance().model.version,
    );
    let example = instrument_path(&args.instrument)?
        .parent()
        .map(|d| d.join("examples/answers.csv"))
        .filter(|p| p.is_file());
    let mut results = Vec::new();
    match args.answers.or(example) {
        Some(path) => {
            println!("answers: {}", path.display());
            let mut reader = AnswersReader::open(&path, &instrument)?;
            let mut rows = AnswerRows::new(instrument.items.len());
            while reader.read_batch(&mut rows, 1024)? > 0 {
                results.extend(
                    scorer
                        .score(&rows)
                        .map_err(|e| anyhow::anyhow!("{}: {e:?}", path.display()))?,
                );
            }
        }
        None => {
            println!("answers: {} simulated respondents", args.respondents);
            Simulation::new(args.respondents, 7).run::<anyhow::Error>(&scorer, 1024, |rows| {
                results.extend(scorer.score(rows)?);
                Ok(())
            })?;
        }
    }
    print_people(&instrument, &results, args.show, args.lang);
    print_units(&instrument, &results, args.lang);
    Ok(ExitCode::SUCCESS)
}

fn level_name(instrument: &Instrument, level: Option<u32>, lang: Lang) -> &str {
    level
        .and_then(|l| instrument.levels.get(l as usize))
        .map(|l| l.name.get(lang))
        .unwrap_or("-")
}

fn score(x: Option<f64>) -> String {
    x.map(|v| format!("{v:5.1}"))
        .unwrap_or_else(|| "    -".into())
}

fn print_people(instrument: &Instrument, results: &[RespondentResult], show: usize, lang: Lang) {
    println!();
    let domains: Vec<&str> = instrument.domains.iter().map(|d| d.code.as_str()).collect();
    println!(
        "{:<10} {:<18} {:>5} {:<14} {}",
        "respondent",
        "org unit",
        "index",
        "level",
        domains.join(" | ")
    );
    for r in results.iter().take(show) {
        let per_domain: Vec<String> = r.domains.iter().map(|d| score(d.score)).collect();
        let flags = if r.flags.is_empty() {
            String::new()
        } else {
            format!(
                "  [{}]",
                r.flags
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        println!(
            "{:<12} {:<18} {} {:<14} {}{}",
            r.respondent_id,
            r.org_unit,
            score(r.index),
            level_name(instrument, r.level, lang),
            per_domain.join(" | "),
            flags
        );
    }
}

fn print_units(instrument: &Instrument, results: &[RespondentResult], lang: Lang) {
    let mut units: BTreeMap<&str, Vec<&RespondentResult>> = BTreeMap::new();
    for r in results {
        let region = r.org_unit.split('/').next().unwrap_or("");
        units.entry(region).or_default().push(r);
    }
    println!();
    println!("{:<8} {:>4} {:>10}  levels", "region", "n", "mean index");
    for (unit, members) in units {
        let scored: Vec<f64> = members.iter().filter_map(|r| r.index).collect();
        let mean = scored.iter().sum::<f64>() / scored.len().max(1) as f64;
        let mut counts = vec![0usize; instrument.levels.len()];
        for l in members.iter().filter_map(|r| r.level) {
            counts[l as usize] += 1;
        }
        let levels: Vec<String> = instrument
            .levels
            .iter()
            .zip(&counts)
            .map(|(l, c)| format!("{} {c}", l.name.get(lang)))
            .collect();
        println!(
            "{unit:<8} {:>4} {mean:>10.1}  {}",
            members.len(),
            levels.join(", ")
        );
    }
}
