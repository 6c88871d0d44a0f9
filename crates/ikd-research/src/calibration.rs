//! Item parameters for the `irt` scoring model, from the item scores of an
//! instrument's own domain plugins.
//!
//! Item scores become category codes with `ikd_irt::categories::category_of`,
//! the mapping the `irt` plugin applies when scoring; every domain is
//! calibrated on its own (one unidimensional trait per domain) and all
//! items go to one [`ItemBank`] in instrument order.
//!
//! * Answered and don't-know cells are data; skipped, invalid and
//!   not-applicable cells are missing ([`crate::answers::item_scores`]).
//!   Every answer counts, also of respondents whose domain has too few
//!   answers to be scored: missing answers are left out of the likelihood.
//! * An item with integer scores (its plugin reports `categories > 0`) is
//!   coded `round(score − min)`. Every score point from the lowest up to the
//!   highest observed must occur (else the error names the item and the
//!   score); top points nobody reached are left out of the item's row, and
//!   the plugin puts such scores in the item's top category.
//! * An item with continuous scores is cut into `continuous_categories` K
//!   equal-width bins; when some bin is empty (e.g. credits 0, ½, 1 leave the
//!   second of four bins empty) the largest K ≤ the requested one whose bins
//!   are all used is taken, and its row in PARAMS.csv records it.
//!
//! Standard errors of the item parameters are computed per domain, on the
//! domain's own response matrix and with the calibration's quadrature
//! ([`Options::standard_errors`]: the observed information by default). A
//! domain whose information matrix is not positive definite (not converged,
//! too few persons) keeps its parameters; its SEs are NaN in
//! [`Calibrated::errors`], and [`DomainFit::errors`] and a note say why.

use crate::answers::ItemScoreMatrix;
use ikd_core::pipeline::Scorer;
use ikd_irt::categories::category_of;
use ikd_irt::{
    CalibrationOptions, InformationCriteria, ItemBank, ItemErrors, MISSING, Model, ResponseMatrix,
    SeMethod,
};

/// How to calibrate.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// EM settings, the model of every item among them.
    pub irt: CalibrationOptions,
    /// Bins for items with continuous scores (2..=254); fewer when some bin stays empty.
    pub continuous_categories: usize,
    /// Which information matrix the standard errors come from; `None`: no
    /// standard errors.
    pub standard_errors: Option<SeMethod>,
}

impl Options {
    /// mirt's defaults for `model`, 4 bins for continuous scores, and
    /// standard errors from the observed information.
    pub fn new(model: Model) -> Self {
        Options {
            irt: CalibrationOptions::new(model),
            continuous_categories: 4,
            standard_errors: Some(SeMethod::Observed),
        }
    }
}

/// What calibration gives.
#[derive(Clone, Debug)]
pub struct Calibrated {
    /// Every item, in instrument order.
    pub bank: ItemBank,
    /// One per instrument domain, in order.
    pub domains: Vec<DomainFit>,
    /// Standard errors of every item's parameters, in instrument order, when
    /// [`Options::standard_errors`] asks for them (for
    /// [`ItemBank::write_csv_with_errors`]); NaN for the items of a domain
    /// whose standard errors could not be computed.
    pub errors: Option<Vec<ItemErrors>>,
    /// What a researcher should know about the coding (items with fewer
    /// categories than their scores allow) and about standard errors that
    /// could not be computed.
    pub notes: Vec<String>,
}

/// The fit of one domain.
#[derive(Clone, Debug)]
pub struct DomainFit {
    pub domain: String,
    pub items: usize,
    pub fit: ikd_irt::Calibration,
    /// Seconds of calibration (standard errors not included).
    pub seconds: f64,
    /// The standard errors of the domain's items, in the domain's item order
    /// (`None` when not asked for; `Err` with the reason they could not be
    /// computed).
    pub errors: Option<Result<Vec<ItemErrors>, String>>,
}

impl DomainFit {
    /// Log-likelihood, free parameters, AIC, BIC and SABIC of the domain's model.
    pub fn criteria(&self) -> InformationCriteria {
        self.fit.information_criteria()
    }
}

/// Why an instrument cannot be calibrated on the data.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("continuous categories must be from 2 to {max}, not {given}")]
    ContinuousCategories { given: usize, max: usize },
    #[error("the answers have no respondents")]
    NoRespondents,
    /// An item's answers do not allow a model (nobody answered, a gap in the
    /// score points, one category only): the message names the item.
    #[error("item '{item}': {why}")]
    Item { item: String, why: String },
    #[error("domain '{domain}': {source}")]
    Irt {
        domain: String,
        source: ikd_irt::IrtError,
    },
    /// The domains' banks cannot be one PARAMS.csv.
    #[error("{0}")]
    Bank(String),
}

/// Calibrates every domain of `scorer`'s instrument on `scores`.
pub fn calibrate(
    scorer: &Scorer,
    scores: &ItemScoreMatrix,
    options: &Options,
) -> Result<Calibrated, CalibrationError> {
    let max = usize::from(MISSING) - 1;
    if !(2..=max).contains(&options.continuous_categories) {
        return Err(CalibrationError::ContinuousCategories {
            given: options.continuous_categories,
            max,
        });
    }
    if scores.persons() == 0 {
        return Err(CalibrationError::NoRespondents);
    }
    let (categories, mut notes) = categories(scorer, scores, options.continuous_categories)?;
    let instrument = scorer.instrument();
    let model = options.irt.model;
    if matches!(model, Model::TwoPl | Model::ThreePl)
        && let Some(i) = categories.iter().position(|&k| k != 2)
    {
        return Err(CalibrationError::Item {
            item: instrument.items[i].id.clone(),
            why: format!(
                "{} categories, but {model} is for dichotomous items (keyed right/wrong){}; \
                 use grm or gpcm",
                categories[i],
                if model == Model::ThreePl {
                    ", such as multiple-choice items"
                } else {
                    ""
                }
            ),
        });
    }
    let layout = scorer.item_layout();
    let m = scores.items;
    let mut items = vec![None; m];
    let mut errors: Vec<Option<ItemErrors>> = vec![None; m];
    let mut domains = Vec::new();
    for (d, domain) in instrument.domains.iter().enumerate() {
        let columns: Vec<usize> = (0..m).filter(|&i| layout[i].domain as usize == d).collect();
        let mut cells = Vec::with_capacity(scores.persons() * columns.len());
        for row in scores.scores.chunks_exact(m) {
            cells.extend(columns.iter().map(|&i| {
                let it = &layout[i];
                category_of(
                    row[i],
                    it.score_min,
                    it.score_max,
                    it.categories,
                    categories[i],
                )
            }));
        }
        let names = columns
            .iter()
            .map(|&i| instrument.items[i].id.clone())
            .collect();
        let irt = |source| CalibrationError::Irt {
            domain: domain.code.clone(),
            source,
        };
        let data = ResponseMatrix::new(names, cells).map_err(irt)?;
        let started = std::time::Instant::now();
        let fit = ikd_irt::calibrate(&data, &options.irt).map_err(irt)?;
        let seconds = started.elapsed().as_secs_f64();
        for (&i, item) in columns.iter().zip(fit.bank.items()) {
            items[i] = Some(item.clone());
        }
        let domain_errors = options.standard_errors.map(|method| {
            ikd_irt::standard_errors_with(&fit.bank, &data, options.irt.quadpts, method)
                .map_err(|e| e.to_string())
        });
        match &domain_errors {
            Some(Ok(se)) => {
                for (&i, e) in columns.iter().zip(se) {
                    errors[i] = Some(e.clone());
                }
            }
            Some(Err(why)) => {
                notes.push(format!(
                    "domain '{}': no standard errors ({why}); their cells are NaN",
                    domain.code
                ));
                for (&i, item) in columns.iter().zip(fit.bank.items()) {
                    errors[i] = Some(ItemErrors {
                        a: f64::NAN,
                        d: vec![f64::NAN; item.d().len()],
                        g: item.g().map(|_| f64::NAN),
                    });
                }
            }
            None => {}
        }
        domains.push(DomainFit {
            domain: domain.code.clone(),
            items: columns.len(),
            fit,
            seconds,
            errors: domain_errors,
        });
    }
    let bank = ItemBank::new(
        items
            .into_iter()
            .map(|i| i.expect("every item is in a domain"))
            .collect(),
    )
    .map_err(|e| {
        CalibrationError::Bank(if options.irt.model == Model::Rasch && domains.len() > 1 {
            format!(
                "{e}: each domain has its own Rasch slope, but one PARAMS.csv holds a single \
                 Rasch slope; use the grm or gpcm model for an instrument of several domains"
            )
        } else {
            e.to_string()
        })
    })?;
    let errors = options.standard_errors.map(|_| {
        errors
            .into_iter()
            .map(|e| e.expect("every item is in a domain"))
            .collect()
    });
    Ok(Calibrated {
        bank,
        domains,
        errors,
        notes,
    })
}

/// The number of categories of every item: from the plugin's layout for
/// integer scores, or the bins a continuous item fills; and the notes.
fn categories(
    scorer: &Scorer,
    scores: &ItemScoreMatrix,
    continuous: usize,
) -> Result<(Vec<usize>, Vec<String>), CalibrationError> {
    let instrument = scorer.instrument();
    let m = scores.items;
    let mut k = vec![0usize; m];
    let mut notes = Vec::new();
    for (i, item) in scorer.item_layout().iter().enumerate() {
        let id = &instrument.items[i].id;
        let fail = |why: String| CalibrationError::Item {
            item: id.clone(),
            why,
        };
        let column = scores
            .scores
            .iter()
            .skip(i)
            .step_by(m)
            .copied()
            .filter(|x| !x.is_nan());
        let (min, max) = (item.score_min, item.score_max);
        if item.categories > 0 {
            let kk = item.categories as usize;
            let mut used = vec![false; kk];
            for x in column {
                used[usize::from(category_of(x, min, max, item.categories, kk))] = true;
            }
            let Some(top) = used.iter().rposition(|&u| u) else {
                return Err(fail("nobody answered it; it cannot be calibrated".into()));
            };
            if let Some(gap) = used[..top].iter().position(|&u| !u) {
                return Err(fail(format!(
                    "no answer has score {} (category {gap}), but higher scores occur; \
                     calibration needs every score point from {} to the highest observed ({}) — \
                     more (or real) answers are needed",
                    min + gap as f64,
                    min,
                    min + top as f64
                )));
            }
            if top + 1 < kk {
                notes.push(format!(
                    "item '{id}': scores above {} never occur; its row has {} categories and higher scores share the top one",
                    min + top as f64,
                    top + 1
                ));
            }
            k[i] = top + 1;
        } else {
            let values: Vec<f64> = column.collect();
            let fits = (2..=continuous).rev().find(|&kk| {
                let mut used = vec![false; kk];
                for &x in &values {
                    used[usize::from(category_of(x, min, max, 0, kk))] = true;
                }
                used.iter().all(|&u| u)
            });
            let Some(kk) = fits else {
                return Err(fail(format!(
                    "its {} answer(s) all fall in one bin of [{min}, {max}]; it cannot be calibrated",
                    values.len()
                )));
            };
            if kk < continuous {
                notes.push(format!(
                    "item '{id}': continuous scores in {kk} bins (with {continuous} bins some stay empty)"
                ));
            }
            k[i] = kk;
        }
        if k[i] < 2 {
            return Err(fail(
                "every answer has the lowest score; it cannot be calibrated".into(),
            ));
        }
    }
    Ok((k, notes))
}
