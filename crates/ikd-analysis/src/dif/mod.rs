//! Differential item functioning (DIF): does an item behave differently in
//! one group (a region, a sex, an age band) than in another for respondents
//! who stand at the same level of what the scale measures?
//!
//! Respondents are **matched** on a criterion — by default the total score of
//! the items of the matrix, the studied item included (ETS practice; under the
//! Rasch model it is the matching that makes the Mantel–Haenszel test exact) —
//! and within each level of the criterion the groups' answers to the item are
//! compared:
//!
//! * [`mantel_haenszel`]: dichotomous (0/1) items. Per focal group against the
//!   reference group, the MH common odds ratio α_MH, the ETS delta
//!   Δ_MH = −2.35 ln α_MH with its standard error, the MH χ² with continuity
//!   correction (R's `mantelhaen.test`) and the ETS A/B/C class; with more than
//!   two groups also the generalized (Somes 1986) MH test of all groups at once.
//! * [`logistic_dif`]: ordinal (polytomous or dichotomous) items. Nested
//!   proportional-odds models item ~ criterion (+ group) (+ criterion × group)
//!   compared by likelihood ratio (Zumbo 1999; French & Miller 1996), with the
//!   change of Nagelkerke's R² classified after Jodoin & Gierl (2001).
//! * [`benjamini_hochberg`]: false-discovery-rate adjusted p-values, applied
//!   across items.
//!
//! ```
//! use ikd_analysis::ItemMatrix;
//! use ikd_analysis::dif::{DifOptions, Groups, mantel_haenszel};
//!
//! // Six respondents × three 0/1 items, two regions.
//! let items = ItemMatrix::from_rows(&[
//!     [1.0, 1.0, 0.0],
//!     [1.0, 0.0, 0.0],
//!     [0.0, 1.0, 1.0],
//!     [1.0, 1.0, 0.0],
//!     [0.0, 1.0, 0.0],
//!     [1.0, 0.0, 1.0],
//! ]);
//! let groups = Groups::from_labels(&["Cilegon", "Cilegon", "Cilegon", "Samarinda", "Samarinda", "Samarinda"]);
//! let options = DifOptions { min_group: 2, ..Default::default() };
//! let report = mantel_haenszel(&items, &groups, "Cilegon", &options).unwrap();
//! assert_eq!(report.focal, ["Samarinda"]);
//! // Three items, one comparison each (Samarinda against Cilegon).
//! assert_eq!(report.items.len(), 3);
//! assert!(report.items[0].comparisons[0].is_ok());
//! ```
//!
//! Definitions, minimum sizes, missing answers and how the numbers were checked
//! against R: `docs/analysis.md`, section "Differential item functioning".

mod logistic;
mod mantel_haenszel;
mod multiple;

pub use logistic::{
    FitError, LrDif, LrItem, LrReport, LrTest, OrdinalFit, logistic_dif, proportional_odds,
};
pub use mantel_haenszel::{
    GeneralizedMh, MhComparison, MhItem, MhReport, MhTable, ets_class, mantel_haenszel,
    mh_generalized, mh_two_by_two,
};
pub use multiple::benjamini_hochberg;

use crate::matrix::ItemMatrix;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The group of every respondent (e.g. the region), by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Groups {
    /// Distinct names, sorted.
    names: Vec<String>,
    /// Index into `names` per person; `None` for a person in no group (left out).
    of_person: Vec<Option<usize>>,
}

impl Groups {
    /// Groups from one optional label per respondent; a respondent without a
    /// label takes part in no DIF analysis.
    pub fn new<S: AsRef<str>>(labels: &[Option<S>]) -> Self {
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for l in labels.iter().flatten() {
            index.insert(l.as_ref(), 0);
        }
        let names: Vec<String> = index.keys().map(|s| s.to_string()).collect();
        for (i, v) in index.values_mut().enumerate() {
            *v = i;
        }
        let of_person = labels
            .iter()
            .map(|l| l.as_ref().map(|s| index[s.as_ref()]))
            .collect();
        Groups { names, of_person }
    }

    /// Groups from one label per respondent.
    pub fn from_labels<S: AsRef<str>>(labels: &[S]) -> Self {
        let labels: Vec<Option<&str>> = labels.iter().map(|s| Some(s.as_ref())).collect();
        Groups::new(&labels)
    }

    /// The distinct group names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of respondents (labelled or not).
    pub fn persons(&self) -> usize {
        self.of_person.len()
    }

    /// The group index (into [`Groups::names`]) of person `p`.
    pub fn of(&self, p: usize) -> Option<usize> {
        self.of_person[p]
    }

    /// The index of a group name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// What respondents are matched on.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Matching {
    /// The sum of all items of the matrix, the studied item included (ETS
    /// practice). Only respondents who answered every item are analysed.
    #[default]
    Total,
    /// The sum of the *other* items (total minus the studied item). Only
    /// respondents who answered every item are analysed.
    Rest,
    /// A criterion supplied by the caller (one value per respondent, NaN when
    /// unknown), e.g. a score from another instrument or a score prorated over
    /// answered items. Each item is analysed on the respondents with a finite
    /// criterion and an answer to it (listwise per item).
    Criterion(Vec<f64>),
}

/// Settings shared by the DIF procedures.
#[derive(Clone, Debug, PartialEq)]
pub struct DifOptions {
    pub matching: Matching,
    /// Significance level of the tests behind the classes (0.05).
    pub alpha: f64,
    /// Smallest number of respondents a group needs, on an item, to take part
    /// in its analysis (100).
    pub min_group: usize,
    /// Continuity correction of the MH χ² (true, as `mantelhaen.test`).
    pub continuity_correction: bool,
    /// Confidence level of the interval of the MH odds ratio (0.95).
    pub level: f64,
}

impl Default for DifOptions {
    fn default() -> Self {
        DifOptions {
            matching: Matching::Total,
            alpha: 0.05,
            min_group: 100,
            continuity_correction: true,
            level: 0.95,
        }
    }
}

/// Why a DIF analysis cannot start at all.
#[derive(Clone, Debug, PartialEq)]
pub enum DifError {
    /// The groups, or the external criterion, do not have one entry per row of the matrix.
    LengthMismatch { persons: usize, labels: usize },
    /// The reference group is not among the group names.
    UnknownReference(String),
    /// Only the reference group is present.
    NoFocalGroup,
}

impl fmt::Display for DifError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DifError::LengthMismatch { persons, labels } => write!(
                f,
                "{labels} group labels or criterion values for {persons} respondents"
            ),
            DifError::UnknownReference(r) => write!(f, "no respondent is in reference group {r:?}"),
            DifError::NoFocalGroup => write!(f, "only the reference group has respondents"),
        }
    }
}

impl std::error::Error for DifError {}

/// Why one item (or one comparison of an item) has no result.
#[derive(Clone, Debug, PartialEq)]
pub enum Skipped {
    /// A Mantel–Haenszel item scored other than 0 or 1.
    NotDichotomous { value: f64 },
    /// The item has one score only among the analysed respondents.
    Constant,
    /// A group has fewer respondents on the item than [`DifOptions::min_group`].
    TooSmall { group: String, n: usize, min: usize },
    /// No stratum holds both groups and both answers: the data say nothing
    /// about DIF (e.g. the focal group only at criterion levels the reference
    /// group never reaches).
    NoInformation,
    /// The MH odds ratio is 0 or infinite (one of Σ AD/N and Σ BC/N is zero).
    UndefinedOddsRatio,
    /// A proportional-odds model could not be fitted.
    Fit(FitError),
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skipped::NotDichotomous { value } => write!(f, "score {value} is not 0 or 1"),
            Skipped::Constant => write!(f, "every analysed respondent has the same score"),
            Skipped::TooSmall { group, n, min } => {
                write!(
                    f,
                    "group {group:?} has {n} respondents on the item, fewer than {min}"
                )
            }
            Skipped::NoInformation => {
                write!(f, "no criterion level holds both groups and both answers")
            }
            Skipped::UndefinedOddsRatio => write!(f, "the common odds ratio is 0 or infinite"),
            Skipped::Fit(e) => write!(f, "{e}"),
        }
    }
}

/// The ETS size classes (Zwick 2012) for MH; for logistic regression the
/// same letters stand for Jodoin & Gierl's (2001) negligible, moderate and
/// large DIF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DifClass {
    /// Negligible.
    A,
    /// Moderate.
    B,
    /// Large.
    C,
}

/// The respondents of one item as a contingency table: counts per
/// (criterion level, group, score category).
#[derive(Clone, Debug)]
pub(crate) struct ItemTable {
    /// Criterion value of each stratum (in order of first appearance).
    pub(crate) levels: Vec<f64>,
    /// The distinct item scores, ascending.
    pub(crate) categories: Vec<f64>,
    pub(crate) groups: usize,
    /// `counts[(s * groups + g) * categories + c]`.
    pub(crate) counts: Vec<f64>,
    /// Respondents per group.
    pub(crate) group_n: Vec<usize>,
}

impl ItemTable {
    pub(crate) fn count(&self, s: usize, g: usize, c: usize) -> f64 {
        self.counts[(s * self.groups + g) * self.categories.len() + c]
    }
}

/// The checked inputs of a DIF run: reference and focal groups, and each
/// person's criterion (NaN when the person is not analysed).
pub(crate) struct Prepared {
    pub(crate) reference: usize,
    /// Focal group indices in name order.
    pub(crate) focal: Vec<usize>,
    /// Per person: the full criterion (Total) or the external one.
    criterion: Vec<f64>,
    rest: bool,
    /// Respondents with a group and a criterion.
    pub(crate) persons_used: usize,
}

pub(crate) fn prepare(
    items: &ItemMatrix,
    groups: &Groups,
    reference: &str,
    matching: &Matching,
) -> Result<Prepared, DifError> {
    let persons = items.persons();
    if groups.persons() != persons {
        return Err(DifError::LengthMismatch {
            persons,
            labels: groups.persons(),
        });
    }
    let reference_index = groups
        .index(reference)
        .ok_or_else(|| DifError::UnknownReference(reference.to_string()))?;
    let focal: Vec<usize> = (0..groups.names().len())
        .filter(|&g| g != reference_index)
        .collect();
    if focal.is_empty() {
        return Err(DifError::NoFocalGroup);
    }
    let (criterion, rest) = match matching {
        Matching::Total | Matching::Rest => {
            let c = (0..persons)
                .map(|p| {
                    let row = items.row(p);
                    if row.iter().all(|x| x.is_finite()) {
                        row.iter().sum()
                    } else {
                        f64::NAN
                    }
                })
                .collect();
            (c, matches!(matching, Matching::Rest))
        }
        Matching::Criterion(c) => {
            if c.len() != persons {
                return Err(DifError::LengthMismatch {
                    persons,
                    labels: c.len(),
                });
            }
            (c.clone(), false)
        }
    };
    let persons_used = (0..persons)
        .filter(|&p| groups.of(p).is_some() && criterion[p].is_finite())
        .count();
    Ok(Prepared {
        reference: reference_index,
        focal,
        criterion,
        rest,
        persons_used,
    })
}

impl Prepared {
    /// The contingency table of item `i`. Returns the first score outside
    /// `allowed` when there is one.
    pub(crate) fn table(
        &self,
        items: &ItemMatrix,
        groups: &Groups,
        i: usize,
        allowed: Option<&[f64]>,
    ) -> Result<ItemTable, Skipped> {
        let n_groups = groups.names().len();
        // (stratum, group, score) of each analysed person.
        let mut level_index: HashMap<u64, usize> = HashMap::new();
        let mut levels = Vec::new();
        let mut rows: Vec<(usize, usize, f64)> = Vec::new();
        let mut group_n = vec![0usize; n_groups];
        for p in 0..items.persons() {
            let (Some(g), c) = (groups.of(p), self.criterion[p]) else {
                continue;
            };
            let x = items.get(p, i);
            if !c.is_finite() || !x.is_finite() {
                continue;
            }
            if let Some(allowed) = allowed
                && !allowed.contains(&x)
            {
                return Err(Skipped::NotDichotomous { value: x });
            }
            let c = if self.rest { c - x } else { c } + 0.0; // −0 → 0
            let s = *level_index.entry(c.to_bits()).or_insert_with(|| {
                levels.push(c);
                levels.len() - 1
            });
            group_n[g] += 1;
            rows.push((s, g, x));
        }
        let mut categories: Vec<f64> = Vec::new();
        for &(_, _, x) in &rows {
            if !categories.contains(&x) {
                categories.push(x);
            }
        }
        categories.sort_by(f64::total_cmp);
        let nc = categories.len();
        let mut counts = vec![0.0; levels.len() * n_groups * nc];
        for &(s, g, x) in &rows {
            let c = categories.iter().position(|&v| v == x).unwrap_or(0);
            counts[(s * n_groups + g) * nc + c] += 1.0;
        }
        Ok(ItemTable {
            levels,
            categories,
            groups: n_groups,
            counts,
            group_n,
        })
    }

    /// `Err(TooSmall)` for the first of `which` groups below the minimum.
    pub(crate) fn check_sizes(
        &self,
        table: &ItemTable,
        groups: &Groups,
        which: &[usize],
        min: usize,
    ) -> Result<(), Skipped> {
        for &g in which {
            if table.group_n[g] < min {
                return Err(Skipped::TooSmall {
                    group: groups.names()[g].clone(),
                    n: table.group_n[g],
                    min,
                });
            }
        }
        Ok(())
    }
}

/// Solves `A x = b` for a symmetric positive definite `A` (row-major, `k × k`)
/// by Cholesky decomposition; `None` when `A` is not positive definite.
pub(crate) fn solve_spd(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let k = b.len();
    let mut l = vec![0.0; k * k];
    for j in 0..k {
        let mut d = a[j * k + j];
        for m in 0..j {
            d -= l[j * k + m] * l[j * k + m];
        }
        if d.partial_cmp(&(1e-13 * a[j * k + j].abs())) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let d = d.sqrt();
        l[j * k + j] = d;
        for i in j + 1..k {
            let mut s = a[i * k + j];
            for m in 0..j {
                s -= l[i * k + m] * l[j * k + m];
            }
            l[i * k + j] = s / d;
        }
    }
    let mut y = b.to_vec();
    for i in 0..k {
        for m in 0..i {
            y[i] -= l[i * k + m] * y[m];
        }
        y[i] /= l[i * k + i];
    }
    for i in (0..k).rev() {
        for m in i + 1..k {
            y[i] -= l[m * k + i] * y[m];
        }
        y[i] /= l[i * k + i];
    }
    Some(y)
}

/// The upper tail of χ² with `df` degrees of freedom.
pub(crate) fn chi_square_sf(x: f64, df: f64) -> f64 {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    match ChiSquared::new(df) {
        Ok(d) if x.is_finite() => d.sf(x.max(0.0)),
        _ => f64::NAN,
    }
}

/// The standard normal quantile.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(p)
}
