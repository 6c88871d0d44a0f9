//! The least data each statistic needs, and why a statistic is not reported.
//!
//! A coefficient computed from four respondents, or from a pairwise
//! covariance matrix that no data set could have produced, is a number
//! without a meaning — α = 1.03, an item–total r of 1.34, an interval whose
//! lower end is above its upper one. Below these limits the statistics are
//! withheld with a [`Withheld`] reason that names the statistic and, where
//! one is to blame, the item; `docs/analysis.md` ("Small samples and
//! degenerate data") lists the rules.

/// Respondents who must have answered **both** items of every pair in a
/// scale for α, the item–rest correlations, α if deleted and ω: with two,
/// every correlation is ±1 by construction.
pub const MIN_PAIR_RESPONDENTS: usize = 3;

/// Respondents needed for an interval of α (Feldt's or the bootstrap). With
/// fewer the interval says little (α = 0.8 from 5 respondents and 10 items:
/// Feldt's 95 % interval is [0.37, 0.98]) and rests on a normality so few
/// cannot show; a bootstrap of fewer than 10 persons has few distinct
/// resamples.
pub const MIN_RESPONDENTS_INTERVAL: usize = 10;

/// Items a scale needs for α (one item has no inter-item covariance).
pub const MIN_ITEMS_ALPHA: usize = 2;

/// Items a scale needs for ω: a single factor is identified by three.
pub const MIN_ITEMS_OMEGA: usize = 3;

/// Relative tolerance of the positive-semidefiniteness check: an eigenvalue
/// down to `−1e-10 × the largest` is rounding, not indefiniteness.
pub const PSD_TOLERANCE: f64 = 1e-10;

/// A statistic that can be withheld.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Statistic {
    Alpha,
    StandardizedAlpha,
    AverageR,
    FeldtInterval,
    BootstrapInterval,
    Omega,
    /// An item's scale statistics: item–rest r, α if deleted, loading.
    ItemInScale,
    StratifiedAlpha,
}

impl Statistic {
    pub fn name(self) -> &'static str {
        match self {
            Statistic::Alpha => "alpha",
            Statistic::StandardizedAlpha => "standardized alpha",
            Statistic::AverageR => "mean inter-item r",
            Statistic::FeldtInterval => "Feldt interval of alpha",
            Statistic::BootstrapInterval => "bootstrap interval of alpha",
            Statistic::Omega => "omega",
            Statistic::ItemInScale => "item-rest r, alpha if deleted and loading",
            Statistic::StratifiedAlpha => "stratified alpha",
        }
    }
}

/// Why a statistic is not reported. Items are columns of the matrix analysed.
#[derive(Clone, Debug, PartialEq)]
pub enum Withheld {
    TooFewItems {
        have: usize,
        need: usize,
    },
    TooFewRespondents {
        have: usize,
        need: usize,
    },
    /// Two items answered together by too few respondents.
    TooFewPairs {
        items: (usize, usize),
        have: usize,
        need: usize,
    },
    /// The item has no variance (everyone gave the same score, or fewer than
    /// two answered) and is left out of the scale.
    NoVariance {
        item: usize,
    },
    /// The sum of the items has no variance.
    NoTotalVariance,
    /// The pairwise covariance (or correlation) matrix is indefinite: no
    /// complete data set has these covariances, and coefficients computed
    /// from it can leave their range (α above 1, |r| above 1). It happens
    /// when few respondents answered different subsets of the items.
    NotPositiveSemidefinite {
        smallest_eigenvalue: f64,
    },
}

impl std::fmt::Display for Withheld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Withheld::TooFewItems { have, need } => {
                write!(f, "{have} item(s) with variance; needs {need}")
            }
            Withheld::TooFewRespondents { have, need } => {
                write!(f, "{have} respondent(s); needs {need}")
            }
            Withheld::TooFewPairs {
                items: (a, b),
                have,
                need,
            } => write!(
                f,
                "items {a} and {b} were answered together by {have} respondent(s); needs {need}"
            ),
            Withheld::NoVariance { item } => {
                write!(f, "item {item} has no variance: left out of the scale")
            }
            Withheld::NoTotalVariance => write!(f, "the sum of the items has no variance"),
            Withheld::NotPositiveSemidefinite {
                smallest_eigenvalue,
            } => write!(
                f,
                "the pairwise covariances are inconsistent (not positive semidefinite, \
                 smallest eigenvalue {smallest_eigenvalue:.3e}): too few respondents \
                 answered the same items"
            ),
        }
    }
}

/// A withheld statistic: which, for which item (if any), and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    pub statistic: Statistic,
    /// The item (matrix column) the statistic belongs to, for item statistics.
    pub item: Option<usize>,
    pub reason: Withheld,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.item {
            Some(item) => write!(
                f,
                "{} of item {item}: {}",
                self.statistic.name(),
                self.reason
            ),
            None => write!(f, "{}: {}", self.statistic.name(), self.reason),
        }
    }
}
