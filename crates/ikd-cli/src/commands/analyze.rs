//! `ikd analyze`: how reliably each domain's items measure it, on an answers CSV.
//!
//! The statistics are computed on the *item scores* the domain plugins give
//! (keys, credits and reverse keying applied), before any scoring model, by
//! `ikd-analysis` (definitions: `docs/analysis.md`). A "don't know" counts as
//! answered with the score the kind gives it; skipped, not-applicable and
//! invalid cells are missing. The item scores of the whole file are held in
//! memory (one `f64` per cell) because the analyses need every pair of items.
//!
//! A statistic the data cannot support (too few respondents, a pairwise
//! covariance matrix no data set could have) is not printed: its cell shows
//! `-` (JSON `null`) and the domain's `withheld` list names it, the item if
//! one is to blame, and why (`ikd_analysis::limits`).

use crate::common::{PluginArgs, load_instrument, progress, report_read_error};
use anyhow::Result;
use ikd_analysis::limits::{Note, Withheld};
use ikd_analysis::{ItemMatrix, Reliability, ReliabilityOptions, reliability};
use ikd_core::answers::AnswerRows;
use ikd_core::instrument::Instrument;
use ikd_core::pipeline::{ScoreError, Scorer, ScorerOptions};
use ikd_core::quality::{QualityCheck, QualityFlag};
use ikd_plugin_sdk::status::{ANSWERED, DONT_KNOW, NOT_APPLICABLE, SKIPPED};
use ikd_research::answers::for_each_batch;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How a report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Tables for a terminal.
    Text,
    /// One JSON object, for programs.
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Instrument file or bundled instrument id.
    #[arg(long, value_name = "PATH|ID")]
    instrument: String,
    /// text (tables) or json (one object on stdout).
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Bootstrap replicates for a percentile interval of alpha (0: Feldt's interval only).
    #[arg(long, default_value_t = 0, value_name = "N")]
    bootstrap: usize,
    /// Seed of the bootstrap; the same seed gives the same interval.
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,
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

/// The quality flags, in report order.
const FLAGS: [QualityFlag; 3] = [
    QualityFlag::StraightLineRun,
    QualityFlag::StraightLineAll,
    QualityFlag::TooFast,
];

const OMEGA_DEFINITION: &str = "omega total = (Σλ)² / ((Σλ)² + Σψ): one factor fitted by minimum \
     residual to the pairwise item correlations (ψ = 1 − λ²)";

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())?;
    let quality = QualityCheck::new(&instrument);
    let m = instrument.items.len();
    let mut scores: Vec<f64> = Vec::new();
    let mut counts = vec![StatusCounts::default(); m];
    let mut flags = [0usize; FLAGS.len()];
    let mut flagged = 0usize;
    let persons = read_all(
        &args.answers,
        &instrument,
        args.batch,
        args.max_errors,
        "analysing",
        |rows| {
            let items = scorer.item_scores(rows)?;
            for (cell, &status) in items.status.iter().enumerate() {
                counts[cell % m].add(status);
            }
            scores.extend(items.observed());
            for r in 0..rows.len() {
                let found = quality.flags(rows, r);
                flagged += usize::from(!found.is_empty());
                for (slot, flag) in FLAGS.iter().enumerate() {
                    flags[slot] += usize::from(found.contains(flag));
                }
            }
            Ok(())
        },
    )?;

    let all = ItemMatrix::new(persons, m, scores);
    let options = ReliabilityOptions {
        bootstrap: args.bootstrap,
        seed: args.seed,
        ..Default::default()
    };
    let layout = scorer.item_layout();
    let domains: Vec<DomainReport> = (0..instrument.domains.len())
        .map(|d| {
            let items: Vec<usize> = (0..m).filter(|&i| layout[i].domain as usize == d).collect();
            let stats = reliability(&all.select_items(&items), &options);
            DomainReport {
                index: d,
                items,
                stats,
            }
        })
        .collect();
    let report = Report {
        instrument: &instrument,
        scorer: &scorer,
        answers: &args.answers,
        persons,
        options: &options,
        counts: &counts,
        flags,
        flagged,
        domains: &domains,
    };
    match args.format {
        ReportFormat::Json => print_json(&report.json())?,
        ReportFormat::Text => std::io::stdout()
            .lock()
            .write_all(report.text().as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads every batch of an answers file and hands it to `each`, with a
/// progress bar (`ikd_research::answers::for_each_batch`); invalid answers of
/// the whole file are listed on stderr and then nothing is analysed.
/// Returns the number of respondents read.
pub(crate) fn read_all(
    path: &Path,
    instrument: &Instrument,
    batch: usize,
    max_errors: usize,
    what: &str,
    each: impl FnMut(&AnswerRows) -> Result<(), ScoreError>,
) -> Result<usize> {
    let bar = progress(std::fs::metadata(path).map(|m| m.len()).ok(), what);
    let read = for_each_batch(
        path,
        instrument,
        batch,
        max_errors,
        |at| bar.set_position(at),
        each,
    );
    bar.finish_and_clear();
    read.map_err(|e| report_read_error(e, "nothing analysed"))
}

/// Writes `value` as pretty JSON on stdout.
pub(crate) fn print_json(value: &impl Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// How the cells of one item were answered.
#[derive(Clone, Copy, Debug, Default)]
struct StatusCounts {
    answered: usize,
    dont_know: usize,
    skipped: usize,
    not_applicable: usize,
}

impl StatusCounts {
    fn add(&mut self, status: u8) {
        match status {
            ANSWERED => self.answered += 1,
            DONT_KNOW => self.dont_know += 1,
            SKIPPED => self.skipped += 1,
            NOT_APPLICABLE => self.not_applicable += 1,
            // Invalid cells stop the run before any report.
            _ => {}
        }
    }
}

struct DomainReport {
    index: usize,
    /// Instrument item indices of the domain, in order.
    items: Vec<usize>,
    stats: Reliability,
}

struct Report<'a> {
    instrument: &'a Instrument,
    scorer: &'a Scorer,
    answers: &'a Path,
    persons: usize,
    options: &'a ReliabilityOptions,
    counts: &'a [StatusCounts],
    flags: [usize; FLAGS.len()],
    flagged: usize,
    domains: &'a [DomainReport],
}

/// A finite number, or nothing (JSON null).
pub(crate) fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// A number for a table, `-` when there is none.
pub(crate) fn cell(x: Option<f64>, decimals: usize) -> String {
    x.filter(|v| v.is_finite())
        .map(|v| format!("{v:.decimals$}"))
        .unwrap_or_else(|| "-".to_owned())
}

impl Report<'_> {
    fn json(&self) -> AnalysisJson<'_> {
        AnalysisJson {
            instrument: InstrumentJson::of(self.instrument),
            answers: self.answers.display().to_string(),
            respondents: self.persons,
            level: self.options.level,
            bootstrap: (self.options.bootstrap > 0).then_some(BootstrapSettings {
                replicates: self.options.bootstrap,
                seed: self.options.seed,
            }),
            definitions: Definitions::default(),
            quality_flags: QualityJson {
                straight_line_run: self.flags[0],
                straight_line_all: self.flags[1],
                too_fast: self.flags[2],
                flagged: self.flagged,
            },
            domains: self.domains.iter().map(|d| self.domain_json(d)).collect(),
        }
    }

    fn domain_json(&self, d: &DomainReport) -> DomainJson<'_> {
        let domain = &self.instrument.domains[d.index];
        let s = &d.stats;
        let layout = self.scorer.item_layout();
        DomainJson {
            code: &domain.code,
            name: domain.name.get(ikd_core::lang::Lang::En),
            respondents: s.respondents,
            complete_cases: s.complete_cases,
            items: d.items.len(),
            scale_items: s.scale.len(),
            alpha: finite(s.alpha),
            alpha_ci: s.feldt.map(|f| IntervalJson {
                method: "feldt",
                level: f.level,
                lower: f.lower,
                upper: f.upper,
            }),
            alpha_bootstrap: s.bootstrap.map(|b| BootstrapJson {
                level: b.interval.level,
                lower: b.interval.lower,
                upper: b.interval.upper,
                replicates: b.replicates,
                used: b.used,
                seed: b.seed,
            }),
            standardized_alpha: finite(s.standardized_alpha),
            average_r: finite(s.average_r),
            withheld: s
                .notes
                .iter()
                .map(|n| WithheldJson {
                    statistic: n.statistic.name(),
                    item: n
                        .item
                        .map(|j| self.instrument.items[d.items[j]].id.as_str()),
                    code: reason_code(&n.reason),
                    reason: self.reason_text(d, &n.reason),
                })
                .collect(),
            omega: s.omega.as_ref().map(|o| OmegaJson {
                total: finite(Some(o.total)),
                total_observed: finite(Some(o.total_observed)),
                method: "one factor, minimum residual, pairwise correlations",
                converged: o.model.converged,
                heywood: o.model.heywood,
            }),
            item_stats: d
                .items
                .iter()
                .zip(&s.items)
                .map(|(&i, st)| {
                    let item = &self.instrument.items[i];
                    let c = self.counts[i];
                    ItemJson {
                        id: &item.id,
                        kind: &item.kind,
                        indicator: &item.indicator,
                        score_min: finite(Some(layout[i].score_min)),
                        score_max: finite(Some(layout[i].score_max)),
                        answered: st.answered,
                        dont_know: c.dont_know,
                        skipped: c.skipped,
                        not_applicable: c.not_applicable,
                        missing_rate: st.missing_rate,
                        mean: finite(st.mean),
                        sd: finite(st.sd),
                        in_scale: st.in_scale,
                        item_rest_r: finite(st.item_rest),
                        alpha_if_deleted: finite(st.alpha_if_deleted),
                        loading: finite(st.loading),
                    }
                })
                .collect(),
        }
    }

    /// A reason, with the domain's items named by their ids.
    fn reason_text(&self, d: &DomainReport, reason: &Withheld) -> String {
        let id = |j: usize| ikd_core::quote::quote(&self.instrument.items[d.items[j]].id);
        match reason {
            Withheld::TooFewPairs {
                items: (a, b),
                have,
                need,
            } => format!(
                "items {} and {} were answered together by {have} respondent(s); needs {need}",
                id(*a),
                id(*b)
            ),
            Withheld::NoVariance { item } => {
                format!("item {} has no variance: left out of the scale", id(*item))
            }
            other => other.to_string(),
        }
    }

    /// The withheld statistics of a domain for the text report: notes with
    /// the same item and reason share a line; an item without variance is
    /// already marked in its row.
    fn withheld_lines(&self, d: &DomainReport) -> Vec<String> {
        let mut lines: Vec<(Option<usize>, String, Vec<&'static str>)> = Vec::new();
        for Note {
            statistic,
            item,
            reason,
        } in &d.stats.notes
        {
            if matches!(reason, Withheld::NoVariance { .. }) {
                continue;
            }
            let reason = self.reason_text(d, reason);
            match lines.iter_mut().find(|(i, r, _)| i == item && *r == reason) {
                Some((_, _, statistics)) => statistics.push(statistic.name()),
                None => lines.push((*item, reason, vec![statistic.name()])),
            }
        }
        lines
            .into_iter()
            .map(|(item, reason, statistics)| match item {
                Some(j) => format!(
                    "{} of item {}: {reason}",
                    statistics.join(", "),
                    self.instrument.items[d.items[j]].id
                ),
                None => format!("{}: {reason}", statistics.join(", ")),
            })
            .collect()
    }

    fn text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let level = self.options.level * 100.0;
        let _ = writeln!(
            out,
            "{} {}: {} respondent(s) in {}",
            self.instrument.id,
            self.instrument.version,
            self.persons,
            self.answers.display()
        );
        out.push_str(
            "Item scores from the domain plugins (keys, credits, reverse keying applied); \
             \"don't know\" counts as answered\nwith its score; covariances and correlations \
             pairwise (docs/analysis.md).\n",
        );
        for d in self.domains {
            let domain = &self.instrument.domains[d.index];
            let s = &d.stats;
            let _ = writeln!(
                out,
                "\n{} — {}: {} item(s), {} respondent(s) with answers ({} complete)",
                domain.code,
                domain.name.get(ikd_core::lang::Lang::En),
                d.items.len(),
                s.respondents,
                s.complete_cases
            );
            let mut line = format!("  alpha {}", cell(s.alpha, 3));
            if let Some(f) = s.feldt {
                let _ = write!(
                    line,
                    "  {level:.0}% CI [{:.3}, {:.3}] Feldt",
                    f.lower, f.upper
                );
            }
            if let Some(b) = s.bootstrap {
                let _ = write!(
                    line,
                    "  [{:.3}, {:.3}] bootstrap ({} of {})",
                    b.interval.lower, b.interval.upper, b.used, b.replicates
                );
            }
            let _ = writeln!(out, "{line}");
            let _ = writeln!(
                out,
                "  standardized alpha {}  mean inter-item r {}  omega total {}{}",
                cell(s.standardized_alpha, 3),
                cell(s.average_r, 3),
                cell(s.omega.as_ref().map(|o| o.total), 3),
                match &s.omega {
                    Some(o) if o.model.heywood => " (Heywood case)",
                    Some(o) if !o.model.converged => " (not converged)",
                    _ => "",
                }
            );
            let _ = writeln!(
                out,
                "  {:<10} {:<16} {:>6} {:>6} {:>8} {:>9} {:>9} {:>7}",
                "item", "kind", "mean", "sd", "missing", "item-rest", "alpha-del", "loading"
            );
            for (&i, st) in d.items.iter().zip(&s.items) {
                let item = &self.instrument.items[i];
                let _ = write!(
                    out,
                    "  {:<10} {:<16} {:>6} {:>6} {:>7.1}%",
                    item.id,
                    item.kind,
                    cell(st.mean, 2),
                    cell(st.sd, 2),
                    st.missing_rate * 100.0
                );
                if st.in_scale {
                    let _ = writeln!(
                        out,
                        " {:>9} {:>9} {:>7}",
                        cell(st.item_rest, 3),
                        cell(st.alpha_if_deleted, 3),
                        cell(st.loading, 3)
                    );
                } else {
                    out.push_str("   no variance: left out of the scale\n");
                }
            }
            let withheld = self.withheld_lines(d);
            if !withheld.is_empty() {
                out.push_str("  withheld (shown as -):\n");
                for line in withheld {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        let flags: Vec<String> = FLAGS
            .iter()
            .zip(self.flags)
            .map(|(f, c)| format!("{} {c}", f.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "\nquality flags: {} respondent(s) flagged of {} ({})",
            self.flagged,
            self.persons,
            flags.join(", ")
        );
        let _ = writeln!(out, "{OMEGA_DEFINITION}.");
        out
    }
}

// The JSON report, field by field in reading order.

/// Which instrument, exactly.
#[derive(Serialize)]
pub(crate) struct InstrumentJson<'a> {
    id: &'a str,
    version: String,
    sha256: &'a str,
}

impl<'a> InstrumentJson<'a> {
    pub(crate) fn of(instrument: &'a Instrument) -> Self {
        InstrumentJson {
            id: &instrument.id,
            version: instrument.version.to_string(),
            sha256: &instrument.sha256,
        }
    }
}

#[derive(Serialize)]
struct AnalysisJson<'a> {
    instrument: InstrumentJson<'a>,
    answers: String,
    respondents: usize,
    level: f64,
    bootstrap: Option<BootstrapSettings>,
    definitions: Definitions,
    quality_flags: QualityJson,
    domains: Vec<DomainJson<'a>>,
}

#[derive(Serialize)]
struct BootstrapSettings {
    replicates: usize,
    seed: u64,
}

/// What each number means, in the report itself.
#[derive(Serialize)]
struct Definitions {
    scores: &'static str,
    missing: &'static str,
    alpha: &'static str,
    alpha_ci: &'static str,
    alpha_bootstrap: &'static str,
    omega_total: &'static str,
    omega_total_observed: &'static str,
    item_rest_r: &'static str,
}

impl Default for Definitions {
    fn default() -> Self {
        Definitions {
            scores: "item scores from the domain plugins (keys, credits and reverse keying \
                     applied); a don't-know answer counts as answered with its score; skipped, \
                     not-applicable and invalid cells are missing",
            missing: "pairwise: each covariance and correlation from the respondents who \
                      answered both items",
            alpha: "Cronbach's alpha on the pairwise covariances (psych::alpha raw_alpha); \
                    items without variance are left out of the scale",
            alpha_ci: "Feldt: 1 − (1 − alpha)·F quantiles of F(n − 1, (n − 1)(k − 1)), \
                       n = respondents with at least one answer on the scale",
            alpha_bootstrap: "percentile interval of alpha over respondents resampled with \
                              replacement",
            omega_total: OMEGA_DEFINITION,
            omega_total_observed: "(1ᵀR1 − Σψ) / 1ᵀR1 with the observed correlations R \
                                   (psych::omega omega.tot)",
            item_rest_r: "correlation of the item with the sum of the other items of the \
                          scale (psych r.drop)",
        }
    }
}

#[derive(Serialize)]
struct QualityJson {
    #[serde(rename = "straight-line-run")]
    straight_line_run: usize,
    #[serde(rename = "straight-line-all")]
    straight_line_all: usize,
    #[serde(rename = "too-fast")]
    too_fast: usize,
    /// Respondents with at least one flag.
    flagged: usize,
}

#[derive(Serialize)]
struct DomainJson<'a> {
    code: &'a str,
    name: &'a str,
    respondents: usize,
    complete_cases: usize,
    items: usize,
    scale_items: usize,
    alpha: Option<f64>,
    alpha_ci: Option<IntervalJson>,
    alpha_bootstrap: Option<BootstrapJson>,
    standardized_alpha: Option<f64>,
    average_r: Option<f64>,
    omega: Option<OmegaJson>,
    item_stats: Vec<ItemJson<'a>>,
    /// Every statistic not reported (null above), with its reason.
    withheld: Vec<WithheldJson<'a>>,
}

/// A statistic withheld: which, of which item (null: of the domain), and why.
#[derive(Serialize)]
struct WithheldJson<'a> {
    statistic: &'static str,
    item: Option<&'a str>,
    /// `too-few-items`, `too-few-respondents`, `too-few-pairs`, `no-variance`,
    /// `no-total-variance` or `not-positive-semidefinite`.
    code: &'static str,
    reason: String,
}

/// A short, stable name of a reason, for programs.
fn reason_code(reason: &Withheld) -> &'static str {
    match reason {
        Withheld::TooFewItems { .. } => "too-few-items",
        Withheld::TooFewRespondents { .. } => "too-few-respondents",
        Withheld::TooFewPairs { .. } => "too-few-pairs",
        Withheld::NoVariance { .. } => "no-variance",
        Withheld::NoTotalVariance => "no-total-variance",
        Withheld::NotPositiveSemidefinite { .. } => "not-positive-semidefinite",
    }
}

#[derive(Serialize)]
struct IntervalJson {
    method: &'static str,
    level: f64,
    lower: f64,
    upper: f64,
}

#[derive(Serialize)]
struct BootstrapJson {
    level: f64,
    lower: f64,
    upper: f64,
    replicates: usize,
    used: usize,
    seed: u64,
}

#[derive(Serialize)]
struct OmegaJson {
    total: Option<f64>,
    total_observed: Option<f64>,
    method: &'static str,
    converged: bool,
    heywood: bool,
}

#[derive(Serialize)]
struct ItemJson<'a> {
    id: &'a str,
    kind: &'a str,
    indicator: &'a str,
    score_min: Option<f64>,
    score_max: Option<f64>,
    answered: usize,
    dont_know: usize,
    skipped: usize,
    not_applicable: usize,
    missing_rate: f64,
    mean: Option<f64>,
    sd: Option<f64>,
    in_scale: bool,
    item_rest_r: Option<f64>,
    alpha_if_deleted: Option<f64>,
    loading: Option<f64>,
}
