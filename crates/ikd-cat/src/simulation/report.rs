//! The report of a simulation study: what mirtCAT's and catsim's
//! simulation summaries give, per domain and for the whole test.

use super::persons::{PersonRecord, StudyOptions};
use super::stats::{bias, correlation, mean, median, rmse};
use crate::adaptive::AdaptiveTest;
use crate::settings::Settings;
use crate::stopping::DomainStatus;
use serde::Serialize;
use std::collections::BTreeMap;

/// Inner edges of the true-θ bins of the conditional rows; the outer bins
/// are open.
const THETA_EDGES: [f64; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];

/// The most exposed items listed in the report.
const MOST_EXPOSED: usize = 10;

/// A simulation study's results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudyReport {
    pub selector: String,
    pub persons: usize,
    pub seed: u64,
    pub settings: Settings,
    pub bank_items: usize,
    /// Items per person over the whole test.
    pub test_length: LengthSummary,
    /// Persons per [`crate::StopReason`] (`completed`, `max_items`).
    pub stop_reasons: BTreeMap<&'static str, usize>,
    pub domains: Vec<DomainReport>,
    /// By true θ, every domain of every person pooled.
    pub conditional: Vec<ConditionalRow>,
    pub exposure: ExposureSummary,
}

/// The distribution of a test length.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LengthSummary {
    pub mean: f64,
    pub median: f64,
    pub min: usize,
    pub max: usize,
    /// `mean` over the items available (the bank or the domain).
    pub share_of_bank: f64,
}

/// An estimator's accuracy against the true θ.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EstimateSummary {
    /// `mean(θ̂ − θ)`.
    pub bias: f64,
    /// `√mean((θ̂ − θ)²)`.
    pub rmse: f64,
    /// Mean of the reported SE (posterior SD).
    pub mean_se: f64,
}

/// One domain's results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainReport {
    pub domain: String,
    pub items: usize,
    pub se_target: f64,
    pub length: LengthSummary,
    /// The adaptive test's final EAP.
    pub adaptive: EstimateSummary,
    /// The EAP on all of the domain's items, same answers: the precision
    /// the adaptive test trades for length.
    pub full_bank: EstimateSummary,
    /// Pearson's r of the adaptive θ with the full-bank θ.
    pub correlation_with_full_bank: f64,
    pub correlation_with_truth: f64,
    /// Share of persons whose final SE is at most the target.
    pub se_target_reached: f64,
    /// Persons per final status: `se_target`, `max_items`, `bank_exhausted`,
    /// or `open` (the test's `max_items` ended it first).
    pub stops: BTreeMap<&'static str, usize>,
    pub conditional: Vec<ConditionalRow>,
}

/// Results of the persons whose true θ lies in `[theta_from, theta_to)`
/// (`null`: unbounded).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConditionalRow {
    pub theta_from: Option<f64>,
    pub theta_to: Option<f64>,
    pub persons: usize,
    pub mean_length: f64,
    /// Mean reported SE of the adaptive θ: the conditional SE.
    pub mean_se: f64,
    /// Empirical RMSE of the adaptive θ; close to `mean_se` when the SE is honest.
    pub rmse: f64,
    pub bias: f64,
    pub full_bank_rmse: f64,
}

/// How often items are given: rate = persons who got the item / persons.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExposureSummary {
    pub max_rate: f64,
    pub mean_rate: f64,
    /// Items no simulated person got.
    pub never_used: usize,
    pub never_used_share: f64,
    pub most_exposed: Vec<ItemExposure>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemExposure {
    pub item: String,
    pub rate: f64,
}

/// One (person, domain) outcome, for the pooled and per-domain rows.
struct Outcome {
    truth: f64,
    theta: f64,
    se: f64,
    full_theta: f64,
    length: usize,
}

impl StudyReport {
    pub(crate) fn new(
        test: &AdaptiveTest,
        selector: &str,
        options: &StudyOptions,
        records: &[PersonRecord],
    ) -> Self {
        let bank = test.bank();
        let lengths: Vec<usize> = records.iter().map(|r| r.items.len()).collect();
        let mut stop_reasons = BTreeMap::new();
        for record in records {
            *stop_reasons.entry(record.stop.name()).or_insert(0) += 1;
        }
        let domains: Vec<DomainReport> = (0..bank.domains().len())
            .map(|d| domain_report(test, d, records))
            .collect();
        let pooled: Vec<Outcome> = (0..bank.domains().len())
            .flat_map(|d| outcomes(records, d))
            .collect();
        StudyReport {
            selector: selector.to_owned(),
            persons: records.len(),
            seed: options.seed,
            settings: test.settings().clone(),
            bank_items: bank.len(),
            test_length: length_summary(&lengths, bank.len()),
            stop_reasons,
            domains,
            conditional: conditional(&pooled),
            exposure: exposure(test, records),
        }
    }
}

fn outcomes(records: &[PersonRecord], domain: usize) -> impl Iterator<Item = Outcome> + '_ {
    records.iter().map(move |r| Outcome {
        truth: r.truth[domain],
        theta: r.adaptive[domain].theta,
        se: r.adaptive[domain].se,
        full_theta: r.full[domain].theta,
        length: r.counts[domain],
    })
}

fn domain_report(test: &AdaptiveTest, domain: usize, records: &[PersonRecord]) -> DomainReport {
    let info = &test.bank().domains()[domain];
    let limits = &test.constraints().domains[domain];
    let rows: Vec<Outcome> = outcomes(records, domain).collect();
    let lengths: Vec<usize> = rows.iter().map(|o| o.length).collect();
    let adaptive: Vec<(f64, f64)> = rows.iter().map(|o| (o.theta, o.truth)).collect();
    let full: Vec<(f64, f64)> = rows.iter().map(|o| (o.full_theta, o.truth)).collect();
    let with_full: Vec<(f64, f64)> = rows.iter().map(|o| (o.theta, o.full_theta)).collect();
    let mut stops = BTreeMap::new();
    for record in records {
        let name = match record.statuses[domain] {
            DomainStatus::Done(stop) => stop.name(),
            DomainStatus::Open => "open",
        };
        *stops.entry(name).or_insert(0) += 1;
    }
    DomainReport {
        domain: info.code.clone(),
        items: info.items.len(),
        se_target: limits.se_target,
        length: length_summary(&lengths, info.items.len()),
        adaptive: EstimateSummary {
            bias: bias(&adaptive),
            rmse: rmse(&adaptive),
            mean_se: mean(rows.iter().map(|o| o.se)),
        },
        full_bank: EstimateSummary {
            bias: bias(&full),
            rmse: rmse(&full),
            mean_se: mean(records.iter().map(|r| r.full[domain].se)),
        },
        correlation_with_full_bank: correlation(&with_full),
        correlation_with_truth: correlation(&adaptive),
        se_target_reached: mean(
            rows.iter()
                .map(|o| f64::from(u8::from(o.se <= limits.se_target))),
        ),
        stops,
        conditional: conditional(&rows),
    }
}

fn length_summary(lengths: &[usize], available: usize) -> LengthSummary {
    let as_f64: Vec<f64> = lengths.iter().map(|&n| n as f64).collect();
    let mean = mean(as_f64.iter().copied());
    LengthSummary {
        mean,
        median: median(&as_f64),
        min: lengths.iter().copied().min().unwrap_or(0),
        max: lengths.iter().copied().max().unwrap_or(0),
        share_of_bank: mean / available as f64,
    }
}

fn conditional(rows: &[Outcome]) -> Vec<ConditionalRow> {
    let bins = THETA_EDGES.len() + 1;
    (0..bins)
        .map(|b| {
            let from = b.checked_sub(1).map(|i| THETA_EDGES[i]);
            let to = THETA_EDGES.get(b).copied();
            let inside: Vec<&Outcome> = rows
                .iter()
                .filter(|o| from.is_none_or(|f| o.truth >= f) && to.is_none_or(|t| o.truth < t))
                .collect();
            let adaptive: Vec<(f64, f64)> = inside.iter().map(|o| (o.theta, o.truth)).collect();
            let full: Vec<(f64, f64)> = inside.iter().map(|o| (o.full_theta, o.truth)).collect();
            ConditionalRow {
                theta_from: from,
                theta_to: to,
                persons: inside.len(),
                mean_length: mean(inside.iter().map(|o| o.length as f64)),
                mean_se: mean(inside.iter().map(|o| o.se)),
                rmse: rmse(&adaptive),
                bias: bias(&adaptive),
                full_bank_rmse: rmse(&full),
            }
        })
        .collect()
}

fn exposure(test: &AdaptiveTest, records: &[PersonRecord]) -> ExposureSummary {
    let bank = test.bank();
    let mut counts = vec![0usize; bank.len()];
    for record in records {
        for &item in &record.items {
            counts[item] += 1;
        }
    }
    let persons = records.len().max(1) as f64;
    let rates: Vec<f64> = counts.iter().map(|&c| c as f64 / persons).collect();
    let never_used = counts.iter().filter(|&&c| c == 0).count();
    let mut ranked: Vec<usize> = (0..bank.len()).collect();
    ranked.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
    ExposureSummary {
        max_rate: rates.iter().copied().fold(0.0, f64::max),
        mean_rate: mean(rates.iter().copied()),
        never_used,
        never_used_share: never_used as f64 / bank.len() as f64,
        most_exposed: ranked
            .into_iter()
            .take(MOST_EXPOSED)
            .map(|i| ItemExposure {
                item: bank.item(i).id.clone(),
                rate: rates[i],
            })
            .collect(),
    }
}
