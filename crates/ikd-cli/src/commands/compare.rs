//! `ikd compare`: the same answers scored by two models, and how far the two
//! agree — per domain and for the composite index.
//!
//! Scores are compared by Pearson's and Spearman's correlations, levels by
//! their plain agreement and Cohen's κ (`ikd-analysis`, `docs/analysis.md`).
//! A respondent scored under one model only is counted, never paired.

use super::analyze::{InstrumentJson, ReportFormat, cell, finite, print_json, read_all};
use crate::common::{PluginArgs, load_instrument};
use anyhow::{Context, Result, bail};
use ikd_analysis::agreement::{Correlation, Kappa, cohen_kappa, pearson, spearman};
use ikd_core::instrument::Instrument;
use ikd_core::pipeline::{Scorer, ScorerOptions, SettingsOrigin};
use ikd_core::results::RespondentResult;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Instrument file or bundled instrument id.
    #[arg(long, value_name = "PATH|ID")]
    instrument: String,
    /// The two scoring models to compare, `A,B` (the same name twice checks the plumbing).
    #[arg(long, value_delimiter = ',', required = true, value_name = "A,B")]
    models: Vec<String>,
    /// Settings of a model as a JSON object, `MODEL=JSON`; repeatable. Without
    /// it the instrument's settings go to its own model and none to another.
    /// When A and B are the same model, its settings go to both.
    #[arg(long = "settings", value_name = "MODEL=JSON")]
    settings: Vec<String>,
    /// text (tables) or json (one object on stdout).
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// How many respondents whose composite level changes most to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
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
    let [model_a, model_b] = <[String; 2]>::try_from(args.models.clone())
        .map_err(|m| anyhow::anyhow!("--models takes exactly two models (A,B), got {}", m.len()))?;
    let settings = parse_settings(&args.settings, &[&model_a, &model_b])?;
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = |name: &str| -> Result<Scorer> {
        let options = ScorerOptions {
            model: Some(name.to_owned()),
            model_settings: settings.get(name).cloned(),
            // The operator's own command line: may name any file the operator can read.
            settings_origin: SettingsOrigin::Operator,
        };
        Scorer::new(instrument.clone(), &host, &options)
            .with_context(|| format!("cannot score with model '{name}'"))
    };
    let (scorer_a, scorer_b) = (scorer(&model_a)?, scorer(&model_b)?);

    let d = instrument.domains.len();
    let mut sides = [Side::new(d), Side::new(d)];
    let mut who: Vec<(String, String)> = Vec::new();
    read_all(
        &args.answers,
        &instrument,
        args.batch,
        args.max_errors,
        "scoring",
        |rows| {
            let a = scorer_a.score(rows)?;
            let b = scorer_b.score(rows)?;
            sides[0].extend(&a);
            sides[1].extend(&b);
            who.extend(a.into_iter().map(|r| (r.respondent_id, r.org_unit)));
            Ok(())
        },
    )?;

    let mut targets = vec![Target::compare(
        "index",
        "composite index",
        &sides[0].index,
        &sides[1].index,
        &sides[0].level,
        &sides[1].level,
    )];
    for (j, domain) in instrument.domains.iter().enumerate() {
        targets.push(Target::compare(
            &domain.code,
            domain.name.get(ikd_core::lang::Lang::En),
            &sides[0].domain_score[j],
            &sides[1].domain_score[j],
            &sides[0].domain_level[j],
            &sides[1].domain_level[j],
        ));
    }
    let top = top_changes(&sides, args.top);
    let report = Report {
        instrument: &instrument,
        models: [&scorer_a, &scorer_b],
        respondents: who.len(),
        targets: &targets,
        top: &top,
        who: &who,
        sides: &sides,
    };
    match args.format {
        ReportFormat::Json => print_json(&report.json())?,
        ReportFormat::Text => std::io::stdout()
            .lock()
            .write_all(report.text().as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `MODEL=JSON` pairs; a model must be one of those compared.
fn parse_settings(pairs: &[String], models: &[&str]) -> Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let Some((name, text)) = pair.split_once('=') else {
            bail!("--settings '{pair}': expected MODEL=JSON");
        };
        let name = name.trim();
        if !models.contains(&name) {
            bail!(
                "--settings names model '{name}', which is not compared (--models {})",
                models.join(",")
            );
        }
        let value: Value = serde_json::from_str(text)
            .with_context(|| format!("--settings {name}: not valid JSON"))?;
        if out.insert(name.to_owned(), value).is_some() {
            bail!("--settings given twice for model '{name}'");
        }
    }
    Ok(out)
}

/// One model's results, column by column (NaN and `None` when missing).
struct Side {
    index: Vec<f64>,
    level: Vec<Option<u32>>,
    domain_score: Vec<Vec<f64>>,
    domain_level: Vec<Vec<Option<u32>>>,
}

impl Side {
    fn new(domains: usize) -> Self {
        Side {
            index: Vec::new(),
            level: Vec::new(),
            domain_score: vec![Vec::new(); domains],
            domain_level: vec![Vec::new(); domains],
        }
    }

    fn extend(&mut self, results: &[RespondentResult]) {
        for r in results {
            self.index.push(r.index.unwrap_or(f64::NAN));
            self.level.push(r.level);
            for (j, outcome) in r.domains.iter().enumerate() {
                self.domain_score[j].push(outcome.score.unwrap_or(f64::NAN));
                self.domain_level[j].push(outcome.level);
            }
        }
    }
}

/// The agreement of the two models on one score (a domain or the index).
struct Target {
    code: String,
    name: String,
    /// Respondents scored by both, by A only, by B only, by neither.
    both: usize,
    only_a: usize,
    only_b: usize,
    neither: usize,
    pearson: Correlation,
    spearman: Correlation,
    /// Mean of B − A over the pairs.
    mean_difference: Option<f64>,
    kappa: Kappa,
    /// Pairs whose level differs.
    changed: usize,
}

impl Target {
    fn compare(
        code: &str,
        name: &str,
        a: &[f64],
        b: &[f64],
        level_a: &[Option<u32>],
        level_b: &[Option<u32>],
    ) -> Self {
        let (mut both, mut only_a, mut only_b, mut neither) = (0, 0, 0, 0);
        let mut difference = 0.0;
        for (x, y) in a.iter().zip(b) {
            match (x.is_finite(), y.is_finite()) {
                (true, true) => {
                    both += 1;
                    difference += y - x;
                }
                (true, false) => only_a += 1,
                (false, true) => only_b += 1,
                (false, false) => neither += 1,
            }
        }
        let changed = level_a
            .iter()
            .zip(level_b)
            .filter(|(x, y)| x.is_some() && y.is_some() && x != y)
            .count();
        Target {
            code: code.to_owned(),
            name: name.to_owned(),
            both,
            only_a,
            only_b,
            neither,
            pearson: pearson(a, b),
            spearman: spearman(a, b),
            mean_difference: (both > 0).then(|| difference / both as f64),
            kappa: cohen_kappa(level_a, level_b),
            changed,
        }
    }
}

/// Respondents (by position) whose composite level differs between the two
/// models, most changed first: by |level difference|, then |score difference|,
/// then input order.
fn top_changes(sides: &[Side; 2], n: usize) -> Vec<usize> {
    let [a, b] = sides;
    let mut changed: Vec<(u32, f64, usize)> = (0..a.level.len())
        .filter_map(|r| {
            let (x, y) = (a.level[r]?, b.level[r]?);
            (x != y).then(|| (x.abs_diff(y), (b.index[r] - a.index[r]).abs(), r))
        })
        .collect();
    changed.sort_by(|p, q| q.0.cmp(&p.0).then(q.1.total_cmp(&p.1)).then(p.2.cmp(&q.2)));
    changed.into_iter().take(n).map(|(_, _, r)| r).collect()
}

struct Report<'a> {
    instrument: &'a Instrument,
    models: [&'a Scorer; 2],
    respondents: usize,
    targets: &'a [Target],
    top: &'a [usize],
    who: &'a [(String, String)],
    sides: &'a [Side; 2],
}

impl Report<'_> {
    fn level_code(&self, level: Option<u32>) -> Option<&str> {
        level
            .and_then(|l| self.instrument.levels.get(l as usize))
            .map(|l| l.code.as_str())
    }

    fn model_label(&self, side: usize) -> String {
        let m = &self.models[side].provenance().model;
        format!("{} {}", m.name, m.version)
    }

    fn json(&self) -> ComparisonJson<'_> {
        let [a, b] = self.sides;
        ComparisonJson {
            instrument: InstrumentJson::of(self.instrument),
            models: self
                .models
                .iter()
                .map(|s| {
                    let p = s.provenance();
                    ModelJson {
                        name: &p.model.name,
                        version: &p.model.version,
                        sha256: &p.model.sha256,
                        settings: &p.model_settings,
                    }
                })
                .collect(),
            respondents: self.respondents,
            definitions: Definitions::default(),
            comparisons: self
                .targets
                .iter()
                .map(|t| TargetJson {
                    code: &t.code,
                    name: &t.name,
                    pairs: t.both,
                    only_a: t.only_a,
                    only_b: t.only_b,
                    neither: t.neither,
                    pearson: finite(t.pearson.r),
                    spearman: finite(t.spearman.r),
                    mean_difference: finite(t.mean_difference),
                    level_pairs: t.kappa.n,
                    level_agreement: finite(t.kappa.agreement),
                    kappa: finite(t.kappa.kappa),
                    level_changes: t.changed,
                })
                .collect(),
            top_changes: self
                .top
                .iter()
                .map(|&r| ChangeJson {
                    respondent_id: &self.who[r].0,
                    org_unit: &self.who[r].1,
                    index_a: finite(Some(a.index[r])),
                    index_b: finite(Some(b.index[r])),
                    level_a: self.level_code(a.level[r]),
                    level_b: self.level_code(b.level[r]),
                    level_change: i64::from(b.level[r].unwrap_or(0))
                        - i64::from(a.level[r].unwrap_or(0)),
                })
                .collect(),
        }
    }

    fn text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {}: A = {}, B = {}; {} respondent(s)",
            self.instrument.id,
            self.instrument.version,
            self.model_label(0),
            self.model_label(1),
            self.respondents
        );
        let _ = writeln!(
            out,
            "\n{:<24} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7}",
            "",
            "pairs",
            "A only",
            "B only",
            "Pearson",
            "Spearman",
            "B − A",
            "agree%",
            "kappa",
            "changed"
        );
        for t in self.targets {
            let _ = writeln!(
                out,
                "{:<24} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7}",
                t.code,
                t.both,
                t.only_a,
                t.only_b,
                cell(t.pearson.r, 3),
                cell(t.spearman.r, 3),
                cell(t.mean_difference, 2),
                cell(t.kappa.agreement.map(|a| a * 100.0), 1),
                cell(t.kappa.kappa, 3),
                t.changed
            );
        }
        let index = &self.targets[0];
        if self.top.is_empty() {
            let _ = writeln!(out, "\nNo respondent changes composite level.");
        } else {
            let _ = writeln!(
                out,
                "\nComposite level changes: {} respondent(s); the {} largest:",
                index.changed,
                self.top.len()
            );
            let _ = writeln!(
                out,
                "  {:<16} {:<20} {:>8} {:>8}  level A → level B",
                "respondent", "org unit", "index A", "index B"
            );
            let [a, b] = self.sides;
            for &r in self.top {
                let _ = writeln!(
                    out,
                    "  {:<16} {:<20} {:>8} {:>8}  {} → {}",
                    self.who[r].0,
                    self.who[r].1,
                    cell(Some(a.index[r]), 1),
                    cell(Some(b.index[r]), 1),
                    self.level_code(a.level[r]).unwrap_or("-"),
                    self.level_code(b.level[r]).unwrap_or("-"),
                );
            }
        }
        out
    }
}

// The JSON report, field by field in reading order.

#[derive(Serialize)]
struct ComparisonJson<'a> {
    instrument: InstrumentJson<'a>,
    /// A, then B.
    models: Vec<ModelJson<'a>>,
    respondents: usize,
    definitions: Definitions,
    /// The composite index first, then the domains in instrument order.
    comparisons: Vec<TargetJson<'a>>,
    top_changes: Vec<ChangeJson<'a>>,
}

#[derive(Serialize)]
struct ModelJson<'a> {
    name: &'a str,
    version: &'a str,
    sha256: &'a str,
    settings: &'a Value,
}

/// What each number means, in the report itself.
#[derive(Serialize)]
struct Definitions {
    pairs: &'static str,
    spearman: &'static str,
    level_agreement: &'static str,
    kappa: &'static str,
    mean_difference: &'static str,
    top_changes: &'static str,
}

impl Default for Definitions {
    fn default() -> Self {
        Definitions {
            pairs: "respondents scored by both models; the others are counted (only_a, \
                    only_b, neither), not paired",
            spearman: "Pearson's correlation of the ranks, ties given their mean rank",
            level_agreement: "share of the respondents with a level under both models whose \
                              levels are equal",
            kappa: "Cohen's kappa on the level codes: (p_o − p_e) / (1 − p_e)",
            mean_difference: "mean of B − A over the pairs",
            top_changes: "respondents whose composite level differs, by |level difference|, \
                          then |index difference|",
        }
    }
}

#[derive(Serialize)]
struct TargetJson<'a> {
    code: &'a str,
    name: &'a str,
    pairs: usize,
    only_a: usize,
    only_b: usize,
    neither: usize,
    pearson: Option<f64>,
    spearman: Option<f64>,
    mean_difference: Option<f64>,
    level_pairs: usize,
    level_agreement: Option<f64>,
    kappa: Option<f64>,
    level_changes: usize,
}

#[derive(Serialize)]
struct ChangeJson<'a> {
    respondent_id: &'a str,
    org_unit: &'a str,
    index_a: Option<f64>,
    index_b: Option<f64>,
    level_a: Option<&'a str>,
    level_b: Option<&'a str>,
    /// Level position under B minus under A.
    level_change: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(index: &[f64], level: &[Option<u32>]) -> Side {
        Side {
            index: index.to_vec(),
            level: level.to_vec(),
            domain_score: Vec::new(),
            domain_level: Vec::new(),
        }
    }

    #[test]
    fn the_largest_level_changes_come_first_then_the_largest_score_changes() {
        let a = side(
            &[10.0, 40.0, 45.0, 70.0, f64::NAN, 50.0],
            &[Some(0), Some(1), Some(1), Some(2), None, Some(1)],
        );
        let b = side(
            &[60.0, 30.0, 90.0, 72.0, 50.0, 52.0],
            &[Some(1), Some(0), Some(2), Some(2), Some(1), Some(1)],
        );
        // Respondent 0: one level, 50 points; 1: one level, 10 points; 2: one
        // level, 45 points; 3 and 5 keep their level; 4 has no level under A.
        assert_eq!(top_changes(&[a, b], 10), vec![0, 2, 1]);
        let a = side(&[10.0, 90.0], &[Some(0), Some(2)]);
        let b = side(&[95.0, 20.0], &[Some(2), Some(0)]);
        assert_eq!(top_changes(&[a, b], 1), vec![0]);
    }

    #[test]
    fn respondents_missing_under_a_model_are_counted_not_paired() {
        let nan = f64::NAN;
        let t = Target::compare(
            "index",
            "composite index",
            &[1.0, 2.0, nan, 4.0, nan],
            &[1.5, 2.5, 3.0, nan, nan],
            &[Some(0), Some(1), None, Some(1), None],
            &[Some(0), Some(0), Some(1), None, None],
        );
        assert_eq!((t.both, t.only_a, t.only_b, t.neither), (2, 1, 1, 1));
        assert_eq!(t.pearson.n, 2);
        assert_eq!(t.mean_difference, Some(0.5));
        assert_eq!((t.kappa.n, t.changed), (2, 1));
    }

    #[test]
    fn settings_name_a_compared_model_once() {
        let models = ["weighted-index", "irt"];
        let parsed = parse_settings(&["irt={\"a\": 1}".to_owned()], &models).unwrap();
        assert_eq!(parsed["irt"], serde_json::json!({"a": 1}));
        assert!(parse_settings(&["other={}".to_owned()], &models).is_err());
        assert!(parse_settings(&["irt".to_owned()], &models).is_err());
        let twice = ["irt={}".to_owned(), "irt={}".to_owned()];
        assert!(parse_settings(&twice, &models).is_err());
    }
}
