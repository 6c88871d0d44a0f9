//! The validation report of an instrument on an answers file: one model,
//! language-free and serialisable, with every number a psychometric review
//! needs — the sample, reliability per domain and of the index, the
//! dimensionality (the instrument's own factor structure against one
//! factor), differential item functioning between groups, item fit and
//! global fit of a per-domain IRT calibration, information and conditional
//! SE per domain, and a closing list of items to review with the reasons.
//!
//! Every part that the data cannot support is *withheld* with a [`Reason`]
//! (a code, the numbers behind it and an English detail) instead of a number
//! without meaning; a page (`ikd_report::validation_report`) puts the
//! reasons into words in either language.
//!
//! The statistics are those of `ikd-analysis` and `ikd-irt`
//! (`docs/analysis.md`, `docs/irt.md`); what is computed on which
//! respondents, and the review rules ([`ReviewRules`]), are in
//! `docs/analysis.md`, section "Validation report".

use crate::answers::ItemScoreMatrix;
use crate::calibration::{self, Calibrated};
use ikd_analysis::cfa::{CfaModel, CfaOptions, Factor, Heywood, SampleCovariance, fit_cfa};
use ikd_analysis::composite::{factor_omega, stratified_alpha};
use ikd_analysis::dif::{
    DifClass, DifOptions, Groups, Matching, Skipped, benjamini_hochberg, logistic_dif,
    mantel_haenszel,
};
use ikd_analysis::limits::{Note, Statistic, Withheld};
use ikd_analysis::{Covariance, ItemMatrix, ReliabilityOptions, reliability};
use ikd_core::pipeline::Scorer;
use ikd_irt::categories::category_of;
use ikd_irt::{M2Options, Model, ResponseMatrix, SumScoreFitOptions};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Respondents with an answer in a domain below which no IRT calibration is
/// attempted (our choice: a graded model of a dozen 5-point items has about
/// 60 parameters, and fewer than 200 respondents leave its thresholds and
/// the fit statistics built on them unstable).
pub const MIN_CALIBRATION_RESPONDENTS: usize = 200;

/// The θ range of the information curves and of the precise ranges.
pub const THETA_RANGE: (f64, f64) = (-4.0, 4.0);

/// Points of the information curves over [`THETA_RANGE`] (steps of 0.1).
pub const CURVE_POINTS: usize = 81;

/// How respondents are put into groups for DIF.
#[derive(Clone, Debug, PartialEq)]
pub enum Grouping {
    /// No groups: DIF is withheld.
    None,
    /// The first N segments of the org unit (`36.72/dinkes` with N = 2: `36.72`).
    OrgPrefix(usize),
    /// A label per respondent id, read from a column of a CSV
    /// ([`read_group_column`]); `source` names it (`regions.csv:region`).
    Labels {
        source: String,
        labels: HashMap<String, String>,
    },
}

/// When an item goes on the review list. The defaults are the rules
/// `docs/analysis.md` documents.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReviewRules {
    /// Misfit: S-X² with a Benjamini–Hochberg adjusted p (over every item of
    /// the instrument) below this …
    pub misfit_p: f64,
    /// … and an RMSEA of S-X² above this: with thousands of respondents a
    /// negligible misfit is "significant", so the size must matter too.
    pub misfit_rmsea: f64,
    /// DIF: a BH-adjusted p (over every DIF test of the report) below this,
    /// with ETS class B or C (Mantel–Haenszel) or Jodoin–Gierl class B or C
    /// (logistic regression).
    pub dif_p: f64,
    /// Item–rest correlation below this.
    pub min_item_rest: f64,
    /// Standardized loading on its own domain (the instrument's structure) below this.
    pub min_loading: f64,
    /// Share of respondents without an answer to the item above this.
    pub max_missing: f64,
}

impl Default for ReviewRules {
    fn default() -> Self {
        ReviewRules {
            misfit_p: 0.01,
            misfit_rmsea: 0.05,
            dif_p: 0.05,
            min_item_rest: 0.2,
            min_loading: 0.3,
            max_missing: 0.1,
        }
    }
}

/// What to compute.
#[derive(Clone, Debug)]
pub struct Options {
    pub grouping: Grouping,
    /// The DIF reference group; `None`: the largest group (the first by name on a tie).
    pub reference: Option<String>,
    /// The conditional SE below which θ counts as precisely measured.
    pub se_bound: f64,
    /// Respondents a group needs on an item to take part in its DIF analysis.
    pub min_group: usize,
    /// Confidence level of α's interval.
    pub level: f64,
    pub rules: ReviewRules,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            grouping: Grouping::None,
            reference: None,
            se_bound: 0.4,
            min_group: DifOptions::default().min_group,
            level: 0.95,
            rules: ReviewRules::default(),
        }
    }
}

/// Why a statistic or a part is not reported: a stable code, the numbers
/// behind it, and an English detail for logs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// `too_few_respondents`, `too_few_items`, `too_few_pairs`, `no_variance`,
    /// `no_total_variance`, `not_positive_semidefinite`, `no_groups`,
    /// `one_group`, `unknown_reference`, `group_too_small`, `constant`,
    /// `no_information`, `undefined_odds_ratio`, `not_dichotomous`,
    /// `model_failed`, `calibration_failed`, `no_complete_patterns`.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub have: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub need: Option<usize>,
    /// The item (id) at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The group at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub detail: String,
}

impl Reason {
    fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Reason {
            code,
            have: None,
            need: None,
            item: None,
            group: None,
            detail: detail.into(),
        }
    }

    fn counts(mut self, have: usize, need: usize) -> Self {
        self.have = Some(have);
        self.need = Some(need);
        self
    }

    /// A reason of `ikd-analysis`, its item indices mapped to item ids by `ids`.
    fn withheld(reason: &Withheld, ids: &[String]) -> Self {
        let detail = reason.to_string();
        match reason {
            Withheld::TooFewItems { have, need } => {
                Reason::new("too_few_items", detail).counts(*have, *need)
            }
            Withheld::TooFewRespondents { have, need } => {
                Reason::new("too_few_respondents", detail).counts(*have, *need)
            }
            Withheld::TooFewPairs { items, have, need } => Reason {
                item: Some(format!("{} & {}", ids[items.0], ids[items.1])),
                ..Reason::new("too_few_pairs", detail).counts(*have, *need)
            },
            Withheld::NoVariance { item } => Reason {
                item: Some(ids[*item].clone()),
                ..Reason::new("no_variance", detail)
            },
            Withheld::NoTotalVariance => Reason::new("no_total_variance", detail),
            Withheld::NotPositiveSemidefinite { .. } => {
                Reason::new("not_positive_semidefinite", detail)
            }
        }
    }

    fn skipped(skipped: &Skipped) -> Self {
        let detail = skipped.to_string();
        match skipped {
            Skipped::NotDichotomous { .. } => Reason::new("not_dichotomous", detail),
            Skipped::Constant => Reason::new("constant", detail),
            Skipped::TooSmall { group, n, min } => Reason {
                group: Some(group.clone()),
                ..Reason::new("group_too_small", detail).counts(*n, *min)
            },
            Skipped::NoInformation => Reason::new("no_information", detail),
            Skipped::UndefinedOddsRatio => Reason::new("undefined_odds_ratio", detail),
            Skipped::Fit(_) => Reason::new("model_failed", detail),
        }
    }

    fn cfa(error: &ikd_analysis::cfa::CfaError, ids: &[String]) -> Self {
        use ikd_analysis::cfa::CfaError as E;
        let detail = error.to_string();
        match error {
            E::TooFewRespondents { have, need } => {
                Reason::new("too_few_respondents", detail).counts(*have, *need)
            }
            E::NoVariance { item } => Reason {
                item: ids.get(*item).cloned(),
                ..Reason::new("no_variance", detail)
            },
            E::SampleNotPositiveDefinite { .. } => Reason::new("not_positive_semidefinite", detail),
            E::FactorTooSmall { items, need, .. } => {
                Reason::new("too_few_items", detail).counts(*items, *need)
            }
            _ => Reason::new("model_failed", detail),
        }
    }
}

/// A part of the report: computed, or withheld with the reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part<T> {
    Computed(T),
    Withheld(Reason),
}

impl<T> Part<T> {
    pub fn computed(&self) -> Option<&T> {
        match self {
            Part::Computed(t) => Some(t),
            Part::Withheld(_) => None,
        }
    }
}

/// An interval with its level.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub level: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct ValidationReport {
    pub instrument: InstrumentInfo,
    pub se_bound: f64,
    pub rules: ReviewRules,
    pub sample: Sample,
    pub reliability: ReliabilitySection,
    pub dimensionality: Dimensionality,
    pub dif: Part<DifSection>,
    pub item_fit: Part<ItemFitSection>,
    pub review: Vec<ReviewItem>,
}

#[derive(Clone, Debug, Serialize)]
pub struct InstrumentInfo {
    pub id: String,
    pub version: String,
    pub sha256: String,
    pub domains: Vec<DomainInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DomainInfo {
    pub code: String,
    /// Item ids of the domain, in instrument order.
    pub items: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    pub respondents: usize,
    /// Respondents who answered every item of the instrument.
    pub complete_cases: usize,
    /// How groups were formed (`org_unit prefix:2`, `regions.csv:region`); `None` without groups.
    pub grouping: Option<String>,
    /// Respondents per group, by name.
    pub groups: Vec<GroupCount>,
    /// Respondents in no group (an org unit with fewer segments, an id the file lacks).
    pub ungrouped: usize,
    pub items: Vec<ItemSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupCount {
    pub name: String,
    pub respondents: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemSummary {
    pub id: String,
    pub domain: String,
    pub kind: String,
    pub answered: usize,
    /// `1 − answered / respondents`.
    pub missing_rate: f64,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    /// Every observed score is 0 or 1 (DIF by Mantel–Haenszel).
    pub dichotomous: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReliabilitySection {
    pub domains: Vec<DomainReliability>,
    /// Stratified α over the domains (pairwise covariances of all items).
    pub stratified_alpha: Part<f64>,
    /// ω total of the index from the CFA of the instrument's structure.
    pub omega_total: Part<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DomainReliability {
    pub domain: String,
    /// Respondents with at least one answer in the domain.
    pub respondents: usize,
    pub complete_cases: usize,
    pub alpha: Option<f64>,
    /// Feldt's interval of α.
    pub alpha_interval: Option<Interval>,
    /// McDonald's ω total (one factor, minimum residual).
    pub omega: Option<f64>,
    pub items: Vec<ItemReliability>,
    /// Statistics not reported and why.
    pub withheld: Vec<WithheldStatistic>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemReliability {
    pub item: String,
    pub item_rest: Option<f64>,
    pub alpha_if_deleted: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WithheldStatistic {
    /// `alpha`, `alpha_interval`, `omega`, `item_in_scale`, …
    pub statistic: &'static str,
    pub item: Option<String>,
    pub reason: Reason,
}

#[derive(Clone, Debug, Serialize)]
pub struct Dimensionality {
    /// Respondents with every item answered: the CFA's sample (listwise).
    pub complete_cases: usize,
    /// Items on their own domains, the domains correlated.
    pub structure: Part<CfaFit>,
    /// Every item on one factor.
    pub one_factor: Part<CfaFit>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CfaFit {
    pub factors: Vec<String>,
    pub n: usize,
    pub parameters: usize,
    pub chi_square: f64,
    pub df: i64,
    pub p_value: Option<f64>,
    pub cfi: f64,
    pub tli: Option<f64>,
    pub rmsea: f64,
    pub rmsea_interval: Option<Interval>,
    pub srmr: f64,
    pub converged: bool,
    pub loadings: Vec<Loading>,
    /// Row-major, factors × factors, unit diagonal.
    pub factor_correlations: Vec<Vec<f64>>,
    /// Estimates outside the admissible range.
    pub heywood: Vec<HeywoodCase>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Loading {
    pub item: String,
    pub factor: String,
    pub standardized: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct HeywoodCase {
    /// `negative_residual_variance` or `correlation_beyond_one`.
    pub kind: &'static str,
    pub at: String,
    pub value: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct DifSection {
    pub grouping: String,
    pub reference: String,
    pub focal: Vec<String>,
    pub min_group: usize,
    pub domains: Vec<DomainDif>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DomainDif {
    pub domain: String,
    /// Respondents with a group and every item of the domain answered
    /// (matched on the domain's total score).
    pub persons_used: usize,
    pub items: Vec<ItemDif>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemDif {
    pub item: String,
    /// `mantel_haenszel` (0/1 items) or `logistic` (ordinal logistic regression).
    pub method: &'static str,
    /// Mantel–Haenszel: one per focal group.
    pub comparisons: Vec<MhView>,
    /// Logistic regression: the item's three nested models.
    pub logistic: Option<Part<LrView>>,
    /// Flagged by the review rule.
    pub flagged: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct MhView {
    pub focal: String,
    pub result: Part<MhResult>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MhResult {
    pub reference_n: usize,
    pub focal_n: usize,
    pub odds_ratio: f64,
    /// Δ_MH = −2.35 ln α_MH (negative: harder for the focal group).
    pub delta: f64,
    pub delta_se: f64,
    pub chi_square: f64,
    pub p_value: f64,
    /// Benjamini–Hochberg over every DIF test of the report.
    pub p_adjusted: f64,
    /// ETS class A, B or C.
    pub class: char,
}

#[derive(Clone, Debug, Serialize)]
pub struct LrView {
    pub n: usize,
    /// M2 against M1 (uniform DIF).
    pub uniform: LrTestView,
    /// M3 against M2 (non-uniform DIF).
    pub nonuniform: LrTestView,
    /// M3 against M1 (any DIF): the test of the flag.
    pub both: LrTestView,
    /// Nagelkerke R² of M3 minus M1.
    pub delta_r2: f64,
    /// Jodoin & Gierl class A, B or C.
    pub class: char,
    /// Benjamini–Hochberg p of `both` over every DIF test of the report.
    pub p_adjusted: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LrTestView {
    pub chi_square: f64,
    pub df: usize,
    pub p_value: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemFitSection {
    /// `grm`: every item graded (dichotomous items as two categories).
    pub model: &'static str,
    pub domains: Vec<DomainItemFit>,
    /// Coding notes of the calibration (English).
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DomainItemFit {
    pub domain: String,
    pub persons: usize,
    pub converged: bool,
    pub cycles: usize,
    pub loglik: f64,
    /// S-X² per item (respondents who answered every item of the domain).
    pub items: Part<Vec<ItemSx2>>,
    /// M2* of the domain's model.
    pub m2: Part<M2View>,
    pub information: Information,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemSx2 {
    pub item: String,
    pub categories: usize,
    /// `None` when pooling left no degrees of freedom.
    pub s_x2: Option<f64>,
    pub df: usize,
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg over every item of the instrument.
    pub p_adjusted: Option<f64>,
    pub rmsea: f64,
    pub flagged: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct M2View {
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
    pub rmsea: f64,
    pub rmsea_lower: f64,
    pub rmsea_upper: f64,
    pub srmsr: f64,
    pub cfi: Option<f64>,
    pub tli: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Information {
    pub theta: Vec<f64>,
    pub test: Vec<f64>,
    /// `1/√I(θ)`: the standard error of an ML estimate of θ.
    pub se: Vec<f64>,
    /// The θ ranges in [`THETA_RANGE`] where the SE is at most the bound.
    pub precise: Vec<(f64, f64)>,
    pub max_information: f64,
    pub theta_at_max: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReviewItem {
    pub item: String,
    pub domain: String,
    pub reasons: Vec<ReviewReason>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReviewReason {
    /// `misfit`, `dif_mh`, `dif_logistic`, `low_item_rest`, `low_loading`, `high_missing`.
    pub code: &'static str,
    /// The number that triggered it (adjusted p, Δ_MH, ΔR², r, loading, missing rate).
    pub value: f64,
    /// The focal group, for DIF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The DIF class, for DIF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<char>,
}

/// Why a group column could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GroupFileError {
    #[error("{file}: {source}")]
    Csv { file: String, source: csv::Error },
    #[error("{file}: no column 'respondent_id'")]
    NoIdColumn { file: String },
    #[error("{file}: no column '{column}' (columns: {columns})")]
    NoColumn {
        file: String,
        column: String,
        columns: String,
    },
    #[error("{file}:{line}: respondent '{id}' appears twice")]
    Duplicate { file: String, line: u64, id: String },
}

/// The labels of `column` of a CSV with a `respondent_id` column; an empty
/// cell leaves the respondent in no group.
pub fn read_group_column(
    path: &Path,
    column: &str,
) -> Result<HashMap<String, String>, GroupFileError> {
    let file = path.display().to_string();
    let csv_error = |source| GroupFileError::Csv {
        file: file.clone(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(csv_error)?;
    let headers = reader.headers().map_err(csv_error)?.clone();
    let find = |name: &str| headers.iter().position(|h| h.trim() == name);
    let id =
        find("respondent_id").ok_or_else(|| GroupFileError::NoIdColumn { file: file.clone() })?;
    let at = find(column).ok_or_else(|| GroupFileError::NoColumn {
        file: file.clone(),
        column: column.to_owned(),
        columns: headers.iter().collect::<Vec<_>>().join(", "),
    })?;
    let mut labels = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let (Some(r), Some(label)) = (record.get(id), record.get(at)) else {
            continue;
        };
        let label = label.trim();
        if label.is_empty() {
            continue;
        }
        if labels
            .insert(r.trim().to_owned(), label.to_owned())
            .is_some()
        {
            return Err(GroupFileError::Duplicate {
                file: file.clone(),
                line: record.position().map_or(0, |p| p.line()),
                id: r.to_owned(),
            });
        }
    }
    Ok(labels)
}

/// The first `n` segments of an org unit (segments joined by `.` or `/`);
/// `None` when it has fewer.
pub fn org_prefix(unit: &str, n: usize) -> Option<&str> {
    if n == 0 {
        return None;
    }
    let mut seen = 0;
    for (at, b) in unit.bytes().enumerate() {
        if b == b'.' || b == b'/' {
            seen += 1;
            if seen == n {
                return Some(&unit[..at]);
            }
        }
    }
    (seen + 1 == n && !unit.is_empty()).then_some(unit)
}

/// Why the report cannot be made at all.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    #[error("the answers have no respondents")]
    NoRespondents,
    #[error("the SE bound must be a positive number, not {0}")]
    SeBound(f64),
    #[error("reference group '{reference}' has no respondents (groups: {groups})")]
    UnknownReference { reference: String, groups: String },
}

/// The validation report of `scorer`'s instrument on `scores`.
///
/// # Errors
/// Only for an unusable request (no respondents, a bad SE bound, a
/// reference group nobody is in); whatever the data cannot support is
/// withheld inside the report.
pub fn validate(
    scorer: &Scorer,
    scores: &ItemScoreMatrix,
    options: &Options,
) -> Result<ValidationReport, ValidationError> {
    if scores.persons() == 0 {
        return Err(ValidationError::NoRespondents);
    }
    if !(options.se_bound > 0.0 && options.se_bound.is_finite()) {
        return Err(ValidationError::SeBound(options.se_bound));
    }
    let instrument = scorer.instrument();
    let layout = scorer.item_layout();
    let m = scores.items;
    let ids: Vec<String> = instrument.items.iter().map(|i| i.id.clone()).collect();
    let domain_items: Vec<Vec<usize>> = (0..instrument.domains.len())
        .map(|d| (0..m).filter(|&i| layout[i].domain as usize == d).collect())
        .collect();
    let all = ItemMatrix::new(scores.persons(), m, scores.scores.clone());

    let labels = group_labels(scores, &options.grouping);
    let sample = sample(scorer, &all, &labels, &options.grouping);
    let reference = match &options.reference {
        Some(r) => {
            if !sample.groups.iter().any(|g| &g.name == r) {
                return Err(ValidationError::UnknownReference {
                    reference: r.clone(),
                    groups: sample
                        .groups
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            Some(r.clone())
        }
        None => sample
            .groups
            .iter()
            .max_by(|a, b| a.respondents.cmp(&b.respondents).then(b.name.cmp(&a.name)))
            .map(|g| g.name.clone()),
    };

    // The parts are independent: run the slow ones side by side.
    let (dimensionality, (domains, dif, item_fit)) = std::thread::scope(|s| {
        let cfa = s.spawn(|| dimensionality(instrument, &all, &domain_items, &ids));
        let fit = s.spawn(|| item_fit(scorer, scores, &domain_items, &ids, options));
        let domains = domain_reliability(instrument, &all, &domain_items, &ids, options);
        let dif = dif(
            instrument,
            &all,
            &domain_items,
            &ids,
            &labels,
            reference.as_deref(),
            &sample,
            options,
        );
        (
            cfa.join().expect("the CFA does not panic"),
            (domains, dif, fit.join().expect("item fit does not panic")),
        )
    });
    let (dimensionality, omega_total) = dimensionality;
    let strata: Vec<Vec<usize>> = domain_items.clone();
    let stratified = stratified_alpha(&Covariance::pairwise(&all), &strata)
        .map(|s| s.alpha)
        .map_err(|note: Note| reason_of_note(&note, &ids));
    let reliability = ReliabilitySection {
        domains,
        stratified_alpha: match stratified {
            Ok(a) => Part::Computed(a),
            Err(r) => Part::Withheld(r),
        },
        omega_total,
    };
    let mut report = ValidationReport {
        instrument: InstrumentInfo {
            id: instrument.id.clone(),
            version: instrument.version.to_string(),
            sha256: instrument.sha256.clone(),
            domains: instrument
                .domains
                .iter()
                .zip(&domain_items)
                .map(|(d, items)| DomainInfo {
                    code: d.code.clone(),
                    items: items.iter().map(|&i| ids[i].clone()).collect(),
                })
                .collect(),
        },
        se_bound: options.se_bound,
        rules: options.rules.clone(),
        sample,
        reliability,
        dimensionality,
        dif,
        item_fit,
        review: Vec::new(),
    };
    report.review = review(&report, &options.rules);
    Ok(report)
}

fn reason_of_note(note: &Note, ids: &[String]) -> Reason {
    Reason::withheld(&note.reason, ids)
}

/// Each respondent's group, or `None`.
fn group_labels(scores: &ItemScoreMatrix, grouping: &Grouping) -> Vec<Option<String>> {
    match grouping {
        Grouping::None => vec![None; scores.persons()],
        Grouping::OrgPrefix(n) => scores
            .org_units
            .iter()
            .map(|u| org_prefix(u, *n).map(str::to_owned))
            .collect(),
        Grouping::Labels { labels, .. } => scores
            .respondent_ids
            .iter()
            .map(|r| labels.get(r).cloned())
            .collect(),
    }
}

fn grouping_name(grouping: &Grouping) -> Option<String> {
    match grouping {
        Grouping::None => None,
        Grouping::OrgPrefix(n) => Some(format!("org_unit prefix:{n}")),
        Grouping::Labels { source, .. } => Some(source.clone()),
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn sample(
    scorer: &Scorer,
    all: &ItemMatrix,
    labels: &[Option<String>],
    grouping: &Grouping,
) -> Sample {
    let instrument = scorer.instrument();
    let n = all.persons();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in labels.iter().flatten() {
        *counts.entry(l).or_default() += 1;
    }
    let items = instrument
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (mut k, mut sum, mut squares, mut binary) = (0usize, 0.0, 0.0, true);
            for x in all.column(i).filter(|x| x.is_finite()) {
                k += 1;
                sum += x;
                squares += x * x;
                binary &= x == 0.0 || x == 1.0;
            }
            let mean = (k > 0).then(|| sum / k as f64);
            let sd = (k > 1).then(|| {
                let mu = sum / k as f64;
                ((squares - k as f64 * mu * mu).max(0.0) / (k as f64 - 1.0)).sqrt()
            });
            ItemSummary {
                id: item.id.clone(),
                domain: item.domain.clone(),
                kind: item.kind.clone(),
                answered: k,
                missing_rate: 1.0 - k as f64 / n as f64,
                mean,
                sd,
                dichotomous: binary && k > 0,
            }
        })
        .collect();
    Sample {
        respondents: n,
        complete_cases: (0..n)
            .filter(|&p| all.row(p).iter().all(|x| x.is_finite()))
            .count(),
        grouping: grouping_name(grouping),
        groups: counts
            .into_iter()
            .map(|(name, respondents)| GroupCount {
                name: name.to_owned(),
                respondents,
            })
            .collect(),
        ungrouped: labels.iter().filter(|l| l.is_none()).count(),
        items,
    }
}

fn statistic_code(s: Statistic) -> &'static str {
    match s {
        Statistic::Alpha => "alpha",
        Statistic::StandardizedAlpha => "standardized_alpha",
        Statistic::AverageR => "average_r",
        Statistic::FeldtInterval => "alpha_interval",
        Statistic::BootstrapInterval => "bootstrap_interval",
        Statistic::Omega => "omega",
        Statistic::ItemInScale => "item_in_scale",
        Statistic::StratifiedAlpha => "stratified_alpha",
    }
}

fn domain_reliability(
    instrument: &ikd_core::instrument::Instrument,
    all: &ItemMatrix,
    domain_items: &[Vec<usize>],
    ids: &[String],
    options: &Options,
) -> Vec<DomainReliability> {
    let settings = ReliabilityOptions {
        level: options.level,
        bootstrap: 0,
        ..Default::default()
    };
    instrument
        .domains
        .iter()
        .zip(domain_items)
        .map(|(domain, items)| {
            let r = reliability(&all.select_items(items), &settings);
            let local: Vec<String> = items.iter().map(|&i| ids[i].clone()).collect();
            let withheld = r
                .notes
                .iter()
                .filter(|n| {
                    !matches!(
                        n.statistic,
                        Statistic::StandardizedAlpha
                            | Statistic::AverageR
                            | Statistic::BootstrapInterval
                    )
                })
                .map(|n| WithheldStatistic {
                    statistic: statistic_code(n.statistic),
                    item: n.item.map(|i| local[i].clone()),
                    reason: Reason::withheld(&n.reason, &local),
                })
                .collect();
            DomainReliability {
                domain: domain.code.clone(),
                respondents: r.respondents,
                complete_cases: r.complete_cases,
                alpha: r.alpha,
                alpha_interval: r.feldt.map(|f| Interval {
                    level: f.level,
                    lower: f.lower,
                    upper: f.upper,
                }),
                omega: r.omega.as_ref().map(|o| o.total),
                items: local
                    .iter()
                    .zip(&r.items)
                    .map(|(id, s)| ItemReliability {
                        item: id.clone(),
                        item_rest: s.item_rest,
                        alpha_if_deleted: s.alpha_if_deleted,
                    })
                    .collect(),
                withheld,
            }
        })
        .collect()
}

/// The CFA of the instrument's structure and of one factor, and ω total of
/// the index from the first.
fn dimensionality(
    instrument: &ikd_core::instrument::Instrument,
    all: &ItemMatrix,
    domain_items: &[Vec<usize>],
    ids: &[String],
) -> (Dimensionality, Part<f64>) {
    let s = SampleCovariance::from_complete_cases(all);
    let options = CfaOptions::default();
    let names: Vec<String> = instrument.domains.iter().map(|d| d.code.clone()).collect();
    let structure = CfaModel::new(
        names
            .iter()
            .zip(domain_items)
            .map(|(name, items)| Factor {
                name: name.clone(),
                items: items.clone(),
            })
            .collect(),
    );
    let fit = |model: Result<CfaModel, _>| -> (Part<CfaFit>, Option<f64>) {
        let model = match model {
            Ok(m) => m,
            Err(e) => return (Part::Withheld(Reason::cfa(&e, ids)), None),
        };
        match fit_cfa(&s, &model, &options) {
            Ok(cfa) => {
                let factors: Vec<String> = model.factors().iter().map(|f| f.name.clone()).collect();
                let k = factors.len();
                let omega = factor_omega(&cfa, &s).total;
                let view = CfaFit {
                    n: cfa.fit.n,
                    parameters: model.parameters(),
                    chi_square: cfa.fit.chi_square,
                    df: cfa.fit.df,
                    p_value: cfa.fit.p_value,
                    cfi: cfa.fit.cfi,
                    tli: cfa.fit.tli,
                    rmsea: cfa.fit.rmsea,
                    rmsea_interval: cfa.fit.rmsea_interval.map(|i| Interval {
                        level: i.level,
                        lower: i.lower,
                        upper: i.upper,
                    }),
                    srmr: cfa.fit.srmr,
                    converged: cfa.converged,
                    loadings: cfa
                        .items
                        .iter()
                        .zip(&cfa.factor_of)
                        .zip(&cfa.standardized_loadings)
                        .map(|((&i, &f), &l)| Loading {
                            item: ids[i].clone(),
                            factor: factors[f].clone(),
                            standardized: l,
                        })
                        .collect(),
                    factor_correlations: (0..k)
                        .map(|f| (0..k).map(|g| cfa.factor_correlation(f, g)).collect())
                        .collect(),
                    heywood: cfa
                        .heywood
                        .iter()
                        .map(|h| match h {
                            Heywood::NegativeResidualVariance { item, value } => HeywoodCase {
                                kind: "negative_residual_variance",
                                at: ids[*item].clone(),
                                value: *value,
                            },
                            Heywood::CorrelationBeyondOne {
                                factors: (f, g),
                                value,
                            } => HeywoodCase {
                                kind: "correlation_beyond_one",
                                at: format!("{} & {}", factors[*f], factors[*g]),
                                value: *value,
                            },
                        })
                        .collect(),
                    factors,
                };
                (Part::Computed(view), Some(omega))
            }
            Err(e) => (Part::Withheld(Reason::cfa(&e, ids)), None),
        }
    };
    let (structure, omega) = fit(structure);
    let (one_factor, _) = fit(CfaModel::one_factor(
        "general",
        domain_items.iter().flatten().copied().collect(),
    ));
    let omega_total = match (&structure, omega) {
        (_, Some(o)) => Part::Computed(o),
        (Part::Withheld(r), None) => Part::Withheld(r.clone()),
        (Part::Computed(_), None) => Part::Withheld(Reason::new("model_failed", "no ω")),
    };
    (
        Dimensionality {
            complete_cases: s.n(),
            structure,
            one_factor,
        },
        omega_total,
    )
}

fn class_letter(c: DifClass) -> char {
    match c {
        DifClass::A => 'A',
        DifClass::B => 'B',
        DifClass::C => 'C',
    }
}

#[allow(clippy::too_many_arguments)]
fn dif(
    instrument: &ikd_core::instrument::Instrument,
    all: &ItemMatrix,
    domain_items: &[Vec<usize>],
    ids: &[String],
    labels: &[Option<String>],
    reference: Option<&str>,
    sample: &Sample,
    options: &Options,
) -> Part<DifSection> {
    let Some(grouping) = &sample.grouping else {
        return Part::Withheld(Reason::new("no_groups", "no groups were given (--groups)"));
    };
    let Some(reference) = reference else {
        return Part::Withheld(Reason::new(
            "no_groups",
            format!("no respondent has a group by {grouping}"),
        ));
    };
    if sample.groups.len() < 2 {
        return Part::Withheld(
            Reason::new(
                "one_group",
                format!("only one group ({reference}) by {grouping}"),
            )
            .counts(1, 2),
        );
    }
    let groups = Groups::new(labels);
    let mut domains = Vec::new();
    let mut focal = Vec::new();
    for (domain, items) in instrument.domains.iter().zip(domain_items) {
        let m = all.select_items(items);
        // Matched on the domain's total score, respondents with every item answered.
        let criterion: Vec<f64> = (0..m.persons())
            .map(|p| {
                let row = m.row(p);
                if row.iter().all(|x| x.is_finite()) {
                    row.iter().sum()
                } else {
                    f64::NAN
                }
            })
            .collect();
        let used = (0..m.persons())
            .filter(|&p| criterion[p].is_finite() && groups.of(p).is_some())
            .count();
        let dif_options = DifOptions {
            matching: Matching::Criterion(criterion),
            min_group: options.min_group,
            ..Default::default()
        };
        let binary: Vec<usize> = (0..items.len())
            .filter(|&j| sample.items[items[j]].dichotomous)
            .collect();
        let ordinal: Vec<usize> = (0..items.len()).filter(|j| !binary.contains(j)).collect();
        let mut rows: Vec<Option<ItemDif>> = vec![None; items.len()];
        if !binary.is_empty() {
            match mantel_haenszel(&m.select_items(&binary), &groups, reference, &dif_options) {
                Ok(report) => {
                    focal.clone_from(&report.focal);
                    for (it, &j) in report.items.iter().zip(&binary) {
                        rows[j] = Some(ItemDif {
                            item: ids[items[j]].clone(),
                            method: "mantel_haenszel",
                            comparisons: report
                                .focal
                                .iter()
                                .zip(&it.comparisons)
                                .map(|(f, c)| MhView {
                                    focal: f.clone(),
                                    result: match c {
                                        Ok(c) => Part::Computed(MhResult {
                                            reference_n: c.reference_n,
                                            focal_n: c.focal_n,
                                            odds_ratio: c.odds_ratio,
                                            delta: c.delta,
                                            delta_se: c.delta_se,
                                            chi_square: c.chi_square,
                                            p_value: c.p_value,
                                            p_adjusted: f64::NAN,
                                            class: class_letter(c.class),
                                        }),
                                        Err(e) => Part::Withheld(Reason::skipped(e)),
                                    },
                                })
                                .collect(),
                            logistic: None,
                            flagged: false,
                        });
                    }
                }
                Err(e) => return Part::Withheld(Reason::new("model_failed", e.to_string())),
            }
        }
        if !ordinal.is_empty() {
            match logistic_dif(&m.select_items(&ordinal), &groups, reference, &dif_options) {
                Ok(report) => {
                    focal.clone_from(&report.focal);
                    for (it, &j) in report.items.iter().zip(&ordinal) {
                        let result = match &it.result {
                            Ok(d) => Part::Computed(LrView {
                                n: d.n,
                                uniform: test_view(&d.uniform),
                                nonuniform: test_view(&d.nonuniform),
                                both: test_view(&d.both),
                                delta_r2: d.delta_r2,
                                class: class_letter(d.class),
                                p_adjusted: f64::NAN,
                            }),
                            Err(e) => Part::Withheld(Reason::skipped(e)),
                        };
                        rows[j] = Some(ItemDif {
                            item: ids[items[j]].clone(),
                            method: "logistic",
                            comparisons: Vec::new(),
                            logistic: Some(result),
                            flagged: false,
                        });
                    }
                }
                Err(e) => return Part::Withheld(Reason::new("model_failed", e.to_string())),
            }
        }
        domains.push(DomainDif {
            domain: domain.code.clone(),
            persons_used: used,
            items: rows.into_iter().flatten().collect(),
        });
    }
    // One Benjamini–Hochberg family: every test of the report.
    let mut p = Vec::new();
    for it in domains.iter().flat_map(|d| &d.items) {
        for c in &it.comparisons {
            p.push(c.result.computed().map_or(f64::NAN, |r| r.p_value));
        }
        if let Some(l) = &it.logistic {
            p.push(l.computed().map_or(f64::NAN, |r| r.both.p_value));
        }
    }
    let mut q = benjamini_hochberg(&p).into_iter();
    let bound = options.rules.dif_p;
    for it in domains.iter_mut().flat_map(|d| &mut d.items) {
        let mut flagged = false;
        for c in &mut it.comparisons {
            let adjusted = q.next().expect("one q per p");
            if let Part::Computed(r) = &mut c.result {
                r.p_adjusted = adjusted;
                flagged |= r.class != 'A' && adjusted < bound;
            }
        }
        if let Some(l) = &mut it.logistic {
            let adjusted = q.next().expect("one q per p");
            if let Part::Computed(r) = l {
                r.p_adjusted = adjusted;
                flagged |= r.class != 'A' && adjusted < bound;
            }
        }
        it.flagged = flagged;
    }
    Part::Computed(DifSection {
        grouping: grouping.clone(),
        reference: reference.to_owned(),
        focal,
        min_group: options.min_group,
        domains,
    })
}

fn test_view(t: &ikd_analysis::dif::LrTest) -> LrTestView {
    LrTestView {
        chi_square: t.chi_square,
        df: t.df,
        p_value: t.p_value,
    }
}

/// Per-domain GRM calibration, S-X², M2* and the information curves.
fn item_fit(
    scorer: &Scorer,
    scores: &ItemScoreMatrix,
    domain_items: &[Vec<usize>],
    ids: &[String],
    options: &Options,
) -> Part<ItemFitSection> {
    let instrument = scorer.instrument();
    for (domain, items) in instrument.domains.iter().zip(domain_items) {
        let answered = scores
            .scores
            .chunks_exact(scores.items)
            .filter(|row| items.iter().any(|&i| row[i].is_finite()))
            .count();
        if answered < MIN_CALIBRATION_RESPONDENTS {
            return Part::Withheld(Reason {
                item: None,
                group: None,
                ..Reason::new(
                    "too_few_respondents",
                    format!(
                        "domain '{}': {answered} respondent(s) with an answer; an IRT calibration needs {MIN_CALIBRATION_RESPONDENTS}",
                        domain.code
                    ),
                )
                .counts(answered, MIN_CALIBRATION_RESPONDENTS)
            });
        }
    }
    let calibrated: Calibrated =
        match calibration::calibrate(scorer, scores, &calibration::Options::new(Model::Graded)) {
            Ok(c) => c,
            Err(e) => {
                let item = match &e {
                    calibration::CalibrationError::Item { item, .. } => Some(item.clone()),
                    _ => None,
                };
                return Part::Withheld(Reason {
                    item,
                    ..Reason::new("calibration_failed", e.to_string())
                });
            }
        };
    let layout = scorer.item_layout();
    let theta: Vec<f64> = (0..CURVE_POINTS)
        .map(|t| {
            THETA_RANGE.0 + (THETA_RANGE.1 - THETA_RANGE.0) * t as f64 / (CURVE_POINTS - 1) as f64
        })
        .collect();
    let mut domains = Vec::new();
    for ((fit, items), _) in calibrated.domains.iter().zip(domain_items).zip(0..) {
        let bank = &fit.fit.bank;
        let cells: Vec<u8> = scores
            .scores
            .chunks_exact(scores.items)
            .flat_map(|row| {
                items.iter().zip(bank.items()).map(|(&i, item)| {
                    let l = &layout[i];
                    category_of(
                        row[i],
                        l.score_min,
                        l.score_max,
                        l.categories,
                        item.categories(),
                    )
                })
            })
            .collect();
        let names: Vec<String> = items.iter().map(|&i| ids[i].clone()).collect();
        let data = ResponseMatrix::new(names.clone(), cells);
        let (sx2, m2) = match data {
            Ok(data) => {
                let sx2 = match ikd_irt::s_x2(bank, &data, &SumScoreFitOptions::default()) {
                    Ok(f) => Part::Computed(
                        names
                            .iter()
                            .zip(bank.items())
                            .zip(&f.items)
                            .map(|((id, item), s)| ItemSx2 {
                                item: id.clone(),
                                categories: item.categories(),
                                s_x2: finite(s.statistic),
                                df: s.df,
                                p_value: finite(s.p_value),
                                p_adjusted: None,
                                rmsea: s.rmsea,
                                flagged: false,
                            })
                            .collect(),
                    ),
                    Err(e) => Part::Withheld(Reason::new("no_complete_patterns", e.to_string())),
                };
                let m2 = match ikd_irt::m2(bank, &data, &M2Options::default()) {
                    Ok(f) => Part::Computed(M2View {
                        statistic: f.statistic,
                        df: f.df,
                        p_value: f.p_value,
                        rmsea: f.rmsea,
                        rmsea_lower: f.rmsea_lower,
                        rmsea_upper: f.rmsea_upper,
                        srmsr: f.srmsr,
                        cfi: f.cfi,
                        tli: f.tli,
                    }),
                    Err(e) => Part::Withheld(Reason::new("model_failed", e.to_string())),
                };
                (sx2, m2)
            }
            Err(e) => (
                Part::Withheld(Reason::new("model_failed", e.to_string())),
                Part::Withheld(Reason::new("model_failed", e.to_string())),
            ),
        };
        let curve = bank.information_curve(&theta, 0.0);
        let (at, max) =
            curve
                .test
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (t, &i)| {
                    if i > best.1 { (t, i) } else { best }
                });
        domains.push(DomainItemFit {
            domain: fit.domain.clone(),
            persons: fit.fit.persons,
            converged: fit.fit.converged,
            cycles: fit.fit.cycles,
            loglik: fit.fit.loglik,
            items: sx2,
            m2,
            information: Information {
                precise: bank.precise_ranges(options.se_bound, 0.0, THETA_RANGE),
                theta: curve.theta,
                test: curve.test,
                se: curve.se,
                max_information: max,
                theta_at_max: theta[at],
            },
        });
    }
    // Benjamini–Hochberg over every item of the instrument.
    let p: Vec<f64> = domains
        .iter()
        .flat_map(|d| d.items.computed().into_iter().flatten())
        .map(|s| s.p_value.unwrap_or(f64::NAN))
        .collect();
    let mut q = benjamini_hochberg(&p).into_iter();
    for d in &mut domains {
        if let Part::Computed(items) = &mut d.items {
            for s in items {
                let adjusted = q.next().expect("one q per p");
                s.p_adjusted = finite(adjusted);
                s.flagged = s.p_adjusted.is_some_and(|q| q < options.rules.misfit_p)
                    && s.rmsea > options.rules.misfit_rmsea;
            }
        }
    }
    Part::Computed(ItemFitSection {
        model: "grm",
        domains,
        notes: calibrated.notes,
    })
}

/// The items to review, in instrument order, with every reason found.
fn review(report: &ValidationReport, rules: &ReviewRules) -> Vec<ReviewItem> {
    let mut reasons: BTreeMap<&str, Vec<ReviewReason>> = BTreeMap::new();
    let reason = |code, value| ReviewReason {
        code,
        value,
        group: None,
        class: None,
    };
    for item in &report.sample.items {
        if item.missing_rate > rules.max_missing {
            reasons
                .entry(&item.id)
                .or_default()
                .push(reason("high_missing", item.missing_rate));
        }
    }
    for d in &report.reliability.domains {
        for it in &d.items {
            if let Some(r) = it.item_rest.filter(|&r| r < rules.min_item_rest) {
                reasons
                    .entry(&it.item)
                    .or_default()
                    .push(reason("low_item_rest", r));
            }
        }
    }
    if let Some(cfa) = report.dimensionality.structure.computed() {
        for l in &cfa.loadings {
            if l.standardized < rules.min_loading {
                reasons
                    .entry(&l.item)
                    .or_default()
                    .push(reason("low_loading", l.standardized));
            }
        }
    }
    if let Some(dif) = report.dif.computed() {
        for it in dif.domains.iter().flat_map(|d| &d.items) {
            for c in &it.comparisons {
                if let Some(r) = c.result.computed()
                    && r.class != 'A'
                    && r.p_adjusted < rules.dif_p
                {
                    reasons.entry(&it.item).or_default().push(ReviewReason {
                        group: Some(c.focal.clone()),
                        class: Some(r.class),
                        ..reason("dif_mh", r.delta)
                    });
                }
            }
            if let Some(Part::Computed(r)) = &it.logistic
                && r.class != 'A'
                && r.p_adjusted < rules.dif_p
            {
                reasons.entry(&it.item).or_default().push(ReviewReason {
                    class: Some(r.class),
                    ..reason("dif_logistic", r.delta_r2)
                });
            }
        }
    }
    if let Some(fit) = report.item_fit.computed() {
        for s in fit
            .domains
            .iter()
            .filter_map(|d| d.items.computed())
            .flatten()
        {
            if s.flagged {
                reasons
                    .entry(&s.item)
                    .or_default()
                    .push(reason("misfit", s.p_adjusted.unwrap_or(f64::NAN)));
            }
        }
    }
    report
        .sample
        .items
        .iter()
        .filter_map(|item| {
            reasons.remove(item.id.as_str()).map(|reasons| ReviewItem {
                item: item.id.clone(),
                domain: item.domain.clone(),
                reasons,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_prefixes_take_whole_segments() {
        assert_eq!(org_prefix("36.72/dinkes", 1), Some("36"));
        assert_eq!(org_prefix("36.72/dinkes", 2), Some("36.72"));
        assert_eq!(org_prefix("36.72/dinkes", 3), Some("36.72/dinkes"));
        assert_eq!(org_prefix("36.72/dinkes", 4), None);
        assert_eq!(org_prefix("36", 1), Some("36"));
        assert_eq!(org_prefix("", 1), None);
        assert_eq!(org_prefix("36.72", 0), None);
    }

    #[test]
    fn group_columns_are_read_by_respondent() {
        let dir = std::env::temp_dir().join(format!("ikd-groups-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("groups.csv");
        std::fs::write(
            &path,
            "respondent_id,region,sex\nr1,Banten,f\nr2,,m\nr3,DIY,f\n",
        )
        .unwrap();
        let labels = read_group_column(&path, "region").unwrap();
        assert_eq!(labels.len(), 2);
        assert_eq!(labels["r1"], "Banten");
        let err = read_group_column(&path, "age").unwrap_err().to_string();
        assert!(
            err.contains("no column 'age'") && err.contains("region"),
            "{err}"
        );
        std::fs::write(&path, "respondent_id,region\nr1,a\nr1,b\n").unwrap();
        let err = read_group_column(&path, "region").unwrap_err().to_string();
        assert!(err.contains("'r1' appears twice"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reasons_name_the_item() {
        let ids = vec!["a".to_owned(), "b".to_owned()];
        let r = Reason::withheld(
            &Withheld::TooFewPairs {
                items: (0, 1),
                have: 2,
                need: 3,
            },
            &ids,
        );
        assert_eq!(r.code, "too_few_pairs");
        assert_eq!(r.item.as_deref(), Some("a & b"));
        assert_eq!((r.have, r.need), (Some(2), Some(3)));
    }
}
